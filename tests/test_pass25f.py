"""Pass 25f (issue 13 items 9-12 and the bad-input items, a fifth-round pass over pass 25c's new
code): what still broke. Each test here fails without its fix."""

from __future__ import annotations

import json

import pytest

from tests.helpers import git, rollout
from tests.test_drift_messages import _victim
from tests.test_pass25c import _drift as drift_of_victim

_PLAIN = "DB_PASSWORD=Zq25fPlainValue-47\n"


def _drift(manifest) -> tuple[int, list[tuple[str, str]], str]:
    return drift_of_victim(manifest, "Zq25fPlainValue")


@pytest.mark.parametrize(
    "blob",
    [
        (_PLAIN + "\0").encode(),  # a byte-wide .env ending in a NUL
        ("APP_ENV=production\n\0\n" + _PLAIN).encode(),
        (_PLAIN + "\0").encode("utf-16-le"),  # a wide .env holding a U+0000
        (_PLAIN + "\0").encode("utf-16-be") + b"\n",
    ],
    ids=["utf8-nul-end", "utf8-nul-line", "utf16le-u0000", "utf16be-u0000-note-byte"],
)
@pytest.mark.parametrize("how", ["note", "replace", "tag"])
def test_an_env_text_holding_a_nul_is_found_as_a_note_or_outside_blob(tmp_path, blob, how):
    """ON-LIST 13.9, a regression of pass 25c's wide-text reading: a `.env` text with one NUL byte
    in it (a byte-wide `.env` padded by a crash or a `printf '\\0'`, a UTF-16 `.env` holding a
    U+0000) kept as a git note, behind a `git replace`, or under a tag of a blob, was "0 findings":
    any NUL made the shape check read the blob as UTF-16/UTF-32, and a reading holding a NUL was
    dropped, so the byte-wide text was read as CJK garbage (before 25c, the byte-wide one was
    found). Now the reading that is most ASCII text wins, the byte-wide one among them."""
    manifest, repo = _victim(tmp_path)
    saved = tmp_path / "env-as-saved"
    saved.write_bytes(blob)
    sha = git(repo, "hash-object", "-w", str(saved)).strip()
    if how == "note":
        git(repo, "notes", "add", "-C", sha, "HEAD")
        ref = "refs/notes/commits"
    elif how == "replace":
        old = git(repo, "rev-parse", "HEAD:README.md").strip()
        git(repo, "replace", "-f", old, sha)
        ref = f"refs/replace/{old}"
    else:
        git(repo, "tag", "deploy-env", sha)
        ref = "refs/tags/deploy-env"
    code, hazards, _ = _drift(manifest)
    assert ("plaintext-env-in-history", ref) in hazards, hazards
    assert code != 0


def _sops_for_another_owner(tmp_path, fmt: str, text: str) -> bytes:
    """``text`` encrypted by sops for a key that is not the fleet's (a vendored file, its owner's)."""
    import subprocess

    from juniper_rollout import keys

    key = tmp_path / "vendor-key.txt"
    recipient = (
        keys.generate_key_file(key)
        if not key.exists()
        else key.read_text().split("public key: ")[1].split()[0]
    )
    plain = tmp_path / f"vendor-plain.{fmt}"
    plain.write_text(text)
    return subprocess.run(
        [".venv/bin/sops", "encrypt", "--age", recipient, "--input-type", fmt]
        + ["--output-type", fmt, str(plain)],
        check=True,
        capture_output=True,
    ).stdout


def test_verify_leaves_a_vendored_sops_file_to_its_owner(tmp_path):
    """NEW (13.9's `*.enc` reading, widened by pass 25c to any letter case): verify demanded of every
    committed `*.enc` what the tool writes for an env file: a `.sops.yaml` creation rule matching
    it, dotenv format and the manifest's recipients. A vendored file sops-encrypted by its owner
    (`vendor/creds.yaml.enc`, `vendor/x.ENC`) failed verify for ever after apply, whose fix line,
    "run rollout apply … (re-encrypts it as dotenv)" / "use path_regex …", did nothing when pasted:
    apply writes neither. Now a `*.enc` that is no env file's encrypted form is checked for what
    leaks (sops metadata, no value sops did not encrypt), and left to its owner for the rest."""
    manifest, repo = _victim(tmp_path)
    (repo / "vendor").mkdir()
    (repo / "vendor" / "creds.yaml.enc").write_bytes(
        _sops_for_another_owner(tmp_path, "yaml", "svc:\n  token: abc\n")
    )
    (repo / "vendor" / "x.ENC").write_bytes(_sops_for_another_owner(tmp_path, "dotenv", "X=1\n"))
    git(repo, "add", "vendor")
    git(repo, "commit", "-qm", "vendor")
    assert rollout("apply", "--manifest", manifest, "--repo", "victim", "--yes").code == 0
    result = rollout(
        "verify",
        "--manifest",
        manifest,
        "--repo",
        "victim",
        "--ref",
        "chore/sops-age-rollout",
        "--json",
    )
    checks = {c["name"]: c for c in json.loads(result.stdout)["repos"][0]["checks"]}
    assert checks["sops-rules"]["ok"], checks["sops-rules"]
    assert checks["encrypted-files"]["ok"], checks["encrypted-files"]
    # what leaks is still checked: a plaintext line added to the vendored file fails
    with (repo / "vendor" / "x.ENC").open("a") as out:
        out.write(_PLAIN)
    git(repo, "add", "vendor")
    git(repo, "commit", "-qm", "oops")
    result = rollout("verify", "--manifest", manifest, "--repo", "victim", "--json")
    checks = {c["name"]: c for c in json.loads(result.stdout)["repos"][0]["checks"]}
    assert not checks["encrypted-files"]["ok"], checks["encrypted-files"]
    assert "vendor/x.ENC" in checks["encrypted-files"]["detail"]


@pytest.mark.parametrize(
    "body",
    [
        "{{ ('b' * 1000000).encode('ascii').decode('punycode')|length }}",
        "{{ ('9' * 1000000).encode().decode(encoding='PUNYCODE')|length }}",
        "{{ ('xn--' ~ '9' * 1000000).encode('ascii').decode('idna')|length }}",
    ],
    ids=["punycode", "punycode-one-number", "idna"],
)
def test_a_punycode_decoding_of_a_long_text_is_refused_before_it_runs(tmp_path, body):
    """NEW 13.11 (templates in bounded time), the sibling of pass 25c's punycode encoding: Python's
    punycode decoder is quadratic too (it inserts each character into a list, and reads a number
    of all-`9` digits as one growing integer), and pass 25c bounded `str.encode` only:
    `('b' * 1000000).encode('ascii').decode('punycode')` ran past 200 s in one call, `'9' * 400000`
    16 s (a million: minutes), past the 30 s a rendering is given, which is checked between steps.
    Now refused in one line before it runs."""
    import time

    from tests.test_adversary import hostile_template, one_line_error, run_cli

    manifest = hostile_template(tmp_path, body)
    started = time.monotonic()
    result = run_cli("plan", "--manifest", manifest, timeout=60)
    one_line_error(result, "decoding of 1,000,0")
    assert time.monotonic() - started < 20


@pytest.mark.parametrize(
    "body",
    [
        "{{ ('a' * 1600000).rfind('a' * 400000 ~ 'b' ~ 'a' * 400000) }}",
        "{{ ('a' * 1600000).rsplit(sep='a' * 400000 ~ 'b' ~ 'a' * 400000)|length }}",
        "{{ ('a' * 1600000).encode().rpartition(('a' * 400000 ~ 'b' ~ 'a' * 400000).encode()) }}",
        "{{ ('a' * 2400000).strip('b' * 2400000 ~ 'a')|length }}",
        "{{ ('a' * 2400000)|trim('b' * 2400000 ~ 'a')|length }}",
    ],
    ids=["rfind", "rsplit", "bytes-rpartition", "strip", "trim"],
)
def test_a_reverse_search_or_strip_of_a_long_text_is_refused_before_it_runs(tmp_path, body):
    """NEW 13.11 (templates in bounded time), siblings of pass 25c's wordwrap and punycode: Python
    searches a text backwards (`rfind`, `rindex`, `rsplit`, `rpartition`) by trying the whole
    needle at each place, and strips (`strip(chars)`, Jinja's `trim(chars)`) by scanning the set
    of characters for each character stripped: time grows with text x needle. `('a' *
    1600000).rfind('a' * 400000 ~ 'b' ~ 'a' * 400000)` (4 MB, under the output bound) ran past
    150 s in one call; `strip` of 2.4 M characters by a set of as many 117 s, past the 30 s a
    rendering is given, which is checked between steps. Now refused in one line before it runs."""
    import time

    from tests.test_adversary import hostile_template, one_line_error, run_cli

    manifest = hostile_template(tmp_path, body)
    started = time.monotonic()
    result = run_cli("plan", "--manifest", manifest, timeout=60)
    one_line_error(result, "characters by")
    assert time.monotonic() - started < 20


def test_plan_json_over_a_path_no_utf8_decodes_is_valid_unicode(tmp_path):
    """NEW beside pass 25c's drift and verify JSON fixes (its noted "plan --json keeps `\\udcXX`: it
    is the saved plan's format", which it is not: `--json` carries no file contents, and apply reads
    only what `--out` saves): `plan --json` over a clone tracking `x\\xffy/.env.prod` (which apply
    untracks) printed the path as a lone surrogate (`\\udcff`), which serde_json, Go and a strict
    UTF-8 encoder refuse: the whole report unreadable. Now shown `\\xff` as drift and verify show
    it; the saved plan (`--out`) keeps `\\udcff`, which apply reads back into git's bytes."""
    import os

    manifest, repo = _victim(tmp_path)
    folder = os.fsdecode(b"x\xffy")
    (repo / folder).mkdir()
    (repo / folder / ".env.prod").write_text(_PLAIN)
    git(repo, "add", "-f", folder)
    git(repo, "commit", "-qm", "a")
    result = rollout("plan", "--manifest", manifest, "--repo", "victim", "--json")
    data = json.loads(result.stdout)
    json.dumps(data, ensure_ascii=False).encode("utf-8")  # strict: no lone surrogate anywhere
    paths = [f["path"] for f in data["repos"][0]["files"]]
    assert "x\\xffy/.env.prod" in paths, paths
    saved = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", manifest, "--repo", "victim", "--out", saved).code == 0
    assert "x\\udcffy/.env.prod" in saved.read_text(), "the saved plan keeps git's bytes"
