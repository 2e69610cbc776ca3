"""Pass 25c (issue 13 items 9-12 and the bad-input items, a fourth-round pass over passes 24c, 24f
and 24i): what still broke. Each test here fails without its fix."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.helpers import git, rollout
from tests.test_drift_messages import _victim

_PLAIN = "DB_PASSWORD=Zq25cPlainValue-31\n"


def _drift(manifest, marker: str = "Zq25cPlainValue") -> tuple[int, list[tuple[str, str]], str]:
    """drift of the repo `victim` as JSON: its exit code, its hazards (id, path) and the output, which
    never holds ``marker`` (the plaintext value the repo's env files hold)."""
    result = rollout("drift", "--manifest", manifest, "--repo", "victim", "--format", "json")
    assert marker not in result.stdout + result.stderr
    [victim] = json.loads(result.stdout)["repos"]
    hazards = [
        (f["id"], f["path"])
        for f in victim["findings"]
        if f["id"] not in ("missing", "modified", "extra", "not-managed")
    ]
    return result.code, hazards, result.stdout


@pytest.mark.parametrize("name", ["secrets.ENC", "config/prod.env.Enc"])
@pytest.mark.parametrize("where", ["at the ref", "in history"])
def test_a_plaintext_file_named_enc_in_another_letter_case_is_found(tmp_path, name, where):
    """ON-LIST 13.9 ("an `.enc` blob ever committed without sops metadata", any spelling): drift
    flagged a plaintext `secrets.ENC` kept by a tag of a tree (its check there reads the suffix in
    any letter case), but the same file committed on a branch, at the audited ref or in its history,
    was "0 findings": the ref's files and the history scan matched `*.enc` by case only. Now each is
    an `enc-without-sops` finding, wherever it is kept."""
    manifest, repo = _victim(tmp_path)
    (repo / name).parent.mkdir(exist_ok=True)
    (repo / name).write_text(_PLAIN)
    git(repo, "add", "-f", name)
    git(repo, "commit", "-qm", "an encrypted file, they said")
    if where == "in history":
        git(repo, "rm", "-q", "--cached", name)
        git(repo, "commit", "-qm", "gone")
    code, hazards, _ = _drift(manifest)
    assert ("enc-without-sops", name) in hazards, hazards
    assert code != 0


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("how", ["note", "replace"])
def test_a_utf16_env_kept_as_a_note_or_a_replaced_blob_is_found(tmp_path, codec, how):
    """ON-LIST 13.9 ("any way of hiding a blob: notes, replace refs, odd encodings"): `git notes add
    -F .env` of a `.env` that PowerShell saved (`Out-File`: UTF-16 with a byte order mark), or the
    same text put behind a `git replace` of a committed blob, was "0 findings": the shape check read
    only byte-wide text (its ASCII form was found). Now a UTF-16 or UTF-32 text, with or without a
    byte order mark, is read as the text it is."""
    manifest, repo = _victim(tmp_path)
    text = "APP_ENV=production\r\n" + _PLAIN.replace("\n", "\r\n")
    blob = tmp_path / "env-as-saved"
    blob.write_bytes(text.encode(codec))
    if how == "note":
        git(repo, "notes", "add", "-F", str(blob), "HEAD")
        ref = "refs/notes/commits"
    else:
        sha = git(repo, "hash-object", "-w", str(blob)).strip()
        old = git(repo, "rev-parse", "HEAD:README.md").strip()
        git(repo, "replace", "-f", old, sha)
        ref = f"refs/replace/{old}"
    code, hazards, _ = _drift(manifest)
    assert ("plaintext-env-in-history", ref) in hazards, hazards
    assert code != 0


_WAITS = "/proc/kmsg"  # says it is a regular file; a read waits for the kernel's next message


@pytest.mark.skipif(not os.access(_WAITS, os.R_OK), reason="reading /proc/kmsg needs root")
@pytest.mark.parametrize(
    "command", ["plan -m", "apply", "keygen --key-file", "SOPS_AGE_KEY_FILE", "sops"]
)
def test_a_kernel_file_that_waits_for_data_is_refused_in_one_line(tmp_path, monkeypatch, command):
    """NEW 13.11 (a FIFO or /dev file hangs or tracebacks, in another spelling): `/proc/kmsg`, which
    the kernel calls a regular file but whose read waits for its next message, as the manifest or a
    saved plan was "unexpected TypeError … please report this" (the buffered read of a file opened
    without blocking returned None), and as `keygen --key-file` or `$SOPS_AGE_KEY_FILE` (opened to
    read whether it holds a key) hung for ever, and handed to sops (for a repo that encrypts), held
    each repo a minute until sops' time limit. Now one line, exit 1, at once; sops is not handed it."""
    from tests.test_adversary import run_cli

    manifest, _ = _victim(tmp_path)
    if command == "sops":
        manifest.write_text(
            manifest.read_text() + "    encrypt:\n      - {source: .env, target: .env.enc}\n"
        )
    args = {
        "plan -m": ["plan", "-m", _WAITS],
        "apply": ["apply", _WAITS, "-m", manifest],
        "keygen --key-file": ["keygen", "--key-file", _WAITS],
        "SOPS_AGE_KEY_FILE": ["verify", "-m", manifest],
        "sops": ["plan", "-m", manifest, "--repo", "victim"],
    }[command]
    if command in ("SOPS_AGE_KEY_FILE", "sops"):
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", _WAITS)
    result = run_cli(*args, timeout=30)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    if command == "sops":
        assert "no age private key found" in result.stdout, result.stdout
    elif command != "SOPS_AGE_KEY_FILE":  # verify reports the key file among its checks
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_drift_json_over_a_path_no_utf8_decodes_is_valid_unicode(tmp_path):
    """Pass 24i's noted limit, fixed (ON-LIST 13.9/13.11): `drift --format json` over a history path
    git stores with a byte no UTF-8 decodes (`x\\xffy/.env.prod`) kept it as a lone surrogate
    (`\\udcff`) in the finding's path and message, which strict JSON readers (serde_json, Go, a strict
    UTF-8 encoder) refuse: the whole report unreadable. Now the byte is shown `\\xff`, as the table
    and SARIF show it; the pasted command still names the file (`$'x\\xffy/.env.prod'`)."""
    manifest, repo = _victim(tmp_path)
    folder = os.fsdecode(b"x\xffy")
    (repo / folder).mkdir()
    (repo / folder / ".env.prod").write_text(_PLAIN)
    git(repo, "add", "-f", folder)
    git(repo, "commit", "-qm", "a")
    git(repo, "rm", "-rq", "--cached", folder)
    git(repo, "commit", "-qm", "b")
    result = rollout("drift", "--manifest", manifest, "--repo", "victim", "--format", "json")
    data = json.loads(result.stdout)
    json.dumps(data, ensure_ascii=False).encode("utf-8")  # strict: no lone surrogate anywhere
    [found] = [f for f in data["repos"][0]["findings"] if f["id"] == "plaintext-env-in-history"]
    assert found["path"] == "x\\xffy/.env.prod", found
    assert found["message"].startswith("x\\xffy/.env.prod was committed"), found
    assert "$'x\\xffy/.env.prod'" in found["message"], found


def test_verify_json_over_a_tracked_path_no_utf8_decodes_is_valid_unicode(tmp_path):
    """NEW beside the drift JSON fix above: `verify --json` over a ref tracking `x\\xffy/.env.prod`
    put `\\udcff` in the check's detail, refused by strict JSON readers. Now `\\xff`."""
    manifest, repo = _victim(tmp_path)
    folder = os.fsdecode(b"x\xffy")
    (repo / folder).mkdir()
    (repo / folder / ".env.prod").write_text(_PLAIN)
    git(repo, "add", "-f", folder)
    git(repo, "commit", "-qm", "a")
    result = rollout("verify", "--manifest", manifest, "--repo", "victim", "--json")
    data = json.loads(result.stdout)
    json.dumps(data, ensure_ascii=False).encode("utf-8")  # strict: no lone surrogate anywhere
    details = [
        c["detail"] for c in data["repos"][0]["checks"] if "x\\xffy/.env.prod" in c["detail"]
    ]
    assert details, data


def test_a_partial_clone_whose_remote_is_gone_still_names_the_env_files_of_its_history(tmp_path):
    """ON-LIST 13.9 ("partial clones", beside passes 24c/24f's hazards behind an error line): in a
    partial clone (`git clone --filter=blob:none`) whose remote no longer answers, the old `*.enc`
    versions drift reads could not be fetched, and the repo was that error line alone, "0 findings"
    beside a `.env.prod` its history holds, which is named by its path and needs no blob. Now the
    error line (exit 1) and the findings that need no missing blob."""
    from tests.demofleet import make_repo
    from tests.test_hostile import manifest_for

    source = make_repo(tmp_path / "src", {"README.md": "x\n", ".gitignore": ".env\n"})
    (source / ".env.prod").write_text(_PLAIN)
    git(source, "add", "-f", ".env.prod")
    git(source, "commit", "-qm", "add")
    git(source, "rm", "-q", ".env.prod")
    (source / "s.enc").write_text("not sops\n")
    git(source, "add", "s.enc")
    git(source, "commit", "-qm", "enc")
    git(source, "rm", "-q", "s.enc")
    git(source, "commit", "-qm", "gone")
    git(source, "config", "uploadpack.allowFilter", "true")
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    clone = tmp_path / "ws" / "victim"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", f"file://{source}", str(clone)], check=True
    )
    source.rename(tmp_path / "src.gone")
    result = rollout("drift", "--manifest", manifest, "--repo", "victim", "--format", "json")
    assert result.code == 1, result.stdout + result.stderr
    [victim] = json.loads(result.stdout)["repos"]
    assert "partial clone" in victim["error"], victim
    assert ("plaintext-env-in-history", ".env.prod") in [
        (f["id"], f["path"]) for f in victim["findings"]
    ], victim


@pytest.mark.parametrize(
    "body",
    [
        "{{ ('a' * 1000000)|wordwrap(1) }}",
        "{{ ('a' * 2000000)|wordwrap(width=2, break_on_hyphens=False) }}",
        "{{ ('ab' * 1000000).split('x')|join|wordwrap(3, True) }}",
    ],
)
def test_a_wordwrap_of_one_long_word_is_refused_before_it_runs(tmp_path, body):
    """NEW 13.11 (templates in bounded time, beside `range(10**9)` and `'x'*10**10`): Python's
    textwrap, under Jinja's `wordwrap`, copies a word longer than the width once per line it
    makes, so `('a' * 1000000)|wordwrap(1)` (2 MB of output, under the output bound) ran 34 s in
    one call, past the 30 s a rendering is given, which is checked only between steps; two
    million characters took minutes. Now refused in one line before it runs."""
    import time

    from tests.test_adversary import hostile_template, one_line_error, run_cli

    manifest = hostile_template(tmp_path, body)
    started = time.monotonic()
    result = run_cli("plan", "--manifest", manifest, timeout=60)
    one_line_error(result, "a wordwrap of a word of")
    assert time.monotonic() - started < 20


_HAN = "".join(chr(0x4E00 + i) for i in range(20_000))  # 20,000 different characters


@pytest.mark.parametrize("codec", ["punycode", "idna", "PUNYCODE", "IDNA"])
def test_a_punycode_encoding_of_a_long_text_is_refused_before_it_runs(tmp_path, codec):
    """NEW 13.11 (templates in bounded time): Python's punycode encoder takes time growing with the
    square of the text, and the idna codec runs it before it checks a label's length: a template
    `{{ "…20,000 different CJK characters…".encode("punycode") }}` (60 KB) ran 74 s in one call
    (10,000: 22 s), past the 30 s a rendering is given, which is checked between steps. Now
    refused in one line before it runs."""
    import time

    from tests.test_adversary import hostile_template, one_line_error, run_cli

    manifest = hostile_template(tmp_path, '{{ "' + _HAN + '".encode("' + codec + '")|length }}')
    started = time.monotonic()
    result = run_cli("plan", "--manifest", manifest, timeout=60)
    one_line_error(result, "encoding of 20,000 characters")
    assert time.monotonic() - started < 20


def test_verify_checks_a_file_named_enc_in_another_letter_case(tmp_path):
    """NEW beside the drift fix above (same hole, verify's reading): a plaintext `secrets.ENC`
    tracked at the ref passed verify's encrypted-files check as "no *.enc files committed". Now it is
    checked as drift reads it, and fails as not sops-encrypted."""
    manifest, repo = _victim(tmp_path)
    (repo / "secrets.ENC").write_text(_PLAIN)
    git(repo, "add", "-f", "secrets.ENC")
    git(repo, "commit", "-qm", "an encrypted file, they said")
    result = rollout("verify", "--manifest", manifest, "--repo", "victim", "--json")
    [check] = [
        c for c in json.loads(result.stdout)["repos"][0]["checks"] if c["name"] == "encrypted-files"
    ]
    assert not check["ok"] and "secrets.ENC" in check["detail"], check
