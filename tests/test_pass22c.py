"""Pass 22c (issue 13 items 9-12 and the smaller ones, another adversarial pass): what still broke.
Each test here fails without its fix, but those marked as the guard of a fix."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import git, rollout
from tests.test_adversary import run_cli
from tests.test_drift_messages import TOKEN, _findings, _victim


def object_of(repo: Path, kind: str, text: bytes) -> str:
    """An object written as given (`git hash-object -t KIND`), git's own checks on."""
    return (
        subprocess.run(
            ["git", "-C", str(repo), "hash-object", "-t", kind, "-w", "--stdin"],
            input=text,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )


def test_a_token_in_a_message_after_a_record_separator_byte_is_found(tmp_path):
    """Item 9's history scan (its message part): drift framed `git log`'s records with the byte
    0x1e, which a message may hold: the text after it was taken for the next record's commit id,
    and a token there was "0 findings"."""
    manifest, repo = _victim(tmp_path)
    git(
        repo,
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        f"docs: tidy\n\nnothing here\x1e deployed with {TOKEN}",
    )
    short = git(repo, "rev-parse", "--short", "HEAD").strip()
    found = _findings(manifest)
    assert [f["message"].split(" holds ")[0] for f in found] == [f"the message of commit {short}"]


def test_a_token_under_an_encoding_header_git_cannot_render_is_found(tmp_path):
    """A commit whose `encoding` header names one git re-codes the message from (EBCDIC: `encoding
    IBM037`) is shown by `git log` as an empty message; the bytes, a token in ASCII among them, are
    in the object for anyone to read (`git cat-file -p`): drift said "0 findings"."""
    manifest, repo = _victim(tmp_path)
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    commit = object_of(
        repo,
        "commit",
        f"tree {tree}\nparent {parent}\nauthor a <a@example.com> 1700000000 +0000\n"
        f"committer a <a@example.com> 1700000000 +0000\nencoding IBM037\n\nnotes\n\n"
        f"deployed with {TOKEN}\n".encode(),
    )
    git(repo, "branch", "encoded", commit)
    found = _findings(manifest)
    assert [f["message"].split(" holds ")[0] for f in found] == [
        f"the message of commit {commit[:7]}"
    ]


def test_a_token_in_the_message_of_a_tag_a_tag_points_at_is_found(tmp_path):
    """`git tag -a outer inner` then `git tag -d inner`: the inner tag object stays in the chain
    `outer` names (pushed with it, printed by `git cat-file -p`); drift read only the outer tag's
    message: "0 findings"."""
    manifest, repo = _victim(tmp_path)
    git(repo, "tag", "-a", "inner", "-m", f"release\n\ndeployed with {TOKEN}")
    inner = git(repo, "rev-parse", "--short", "inner").strip()
    git(repo, "-c", "advice.nestedTag=false", "tag", "-a", "outer", "inner", "-m", "ok")
    git(repo, "tag", "-d", "inner")
    found = _findings(manifest)
    assert [f["message"].split(" holds ")[0] for f in found] == [
        f"the message of annotated tag {inner}"
    ]


def test_a_token_after_a_line_shaped_like_a_signature_in_a_tags_message_is_found(tmp_path):
    """A tag's message was read as git's `%(contents:body)`, which stops at the last line starting
    `-----BEGIN PGP SIGNATURE-----`: a token after such a line (no signature at all) was not read."""
    manifest, repo = _victim(tmp_path)
    message = f"release\n\n-----BEGIN PGP SIGNATURE-----\n\ndeployed with {TOKEN}\n"
    git(repo, "tag", "-a", "v9", "-m", message + "-----END PGP SIGNATURE-----")
    tag = git(repo, "rev-parse", "--short", "v9").strip()
    found = _findings(manifest)
    assert [f["message"].split(" holds ")[0] for f in found] == [
        f"the message of annotated tag {tag}"
    ]


def env_prod_in_history(repo: Path, text: str, subject: str) -> None:
    """A `.env.prod` holding ``text`` committed (subject ``subject``), then untracked: a plaintext
    env file in the history only."""
    (repo / ".env.prod").write_text(text)
    git(repo, "add", "-f", ".env.prod")
    git(repo, "commit", "-qm", subject)
    git(repo, "rm", "-q", "--cached", ".env.prod")
    git(repo, "commit", "-qm", "untrack")


def test_a_subject_holding_a_record_separator_never_names_another_commit(tmp_path):
    """The history of plaintext env files was framed the same way: a subject holding 0x1e and
    0x1f (`x\\x1edeadbee\\x1fdocs`) made drift name the commit that added `.env.prod` as
    `deadbee "docs"`, text of the committer's choosing."""
    manifest, repo = _victim(tmp_path)
    env_prod_in_history(repo, "MODE=local\n", "x\x1edeadbee\x1fdocs")
    short = git(repo, "rev-parse", "--short", "HEAD~1").strip()
    result = rollout("drift", "--manifest", manifest, "--format", "json")
    victim = next(r for r in json.loads(result.stdout)["repos"] if r["name"] == "victim")
    found = [f["message"] for f in victim["findings"] if f["path"] == ".env.prod"]
    assert len(found) == 1 and f"(commit {short} " in found[0], found
    assert "commit deadbee" not in found[0]


def test_rotate_with_a_key_that_is_not_utf8_is_one_line(fleet):
    """Item 11 (every command, hostile input): `rollout rotate --add $'\\xff\\xfe'` (bytes no UTF-8
    decodes: Python hands them on as lone surrogates) reached pyrage's parser, whose
    UnicodeEncodeError was "unexpected … please report this" and a crash log."""
    before = fleet.manifest.read_bytes()
    for key in (b"\xff\xfe", b"age1\xff" + b"q" * 58):
        for flag in (b"--add", b"--remove"):
            result = subprocess.run(
                [sys.executable, "-c", "from juniper_rollout.cli import main; main()", b"rotate",
                 b"-m", bytes(fleet.manifest), flag, key],
                capture_output=True,
                timeout=120,
            )  # fmt: skip
            err = result.stderr.decode("utf-8", "replace")
            assert result.returncode == 1 and len(err.strip().splitlines()) == 1, err
            assert "unexpected" not in err and "Traceback" not in err
    assert fleet.manifest.read_bytes() == before


def test_verify_with_a_key_variable_that_is_not_utf8_is_the_checks_line(fleet):
    """The same bytes in `$SOPS_AGE_KEY` (a key pasted through a terminal in another encoding):
    `rollout verify` crashed with "unexpected UnicodeEncodeError"; it is the age-key check's line."""
    result = subprocess.run(
        [sys.executable, "-c", "from juniper_rollout.cli import main; main()", "verify", "-m",
         str(fleet.manifest), "--repo", "juniper-ml"],
        capture_output=True,
        timeout=120,
        env={
            **{k: v for k, v in os.environ.items() if k != "SOPS_AGE_KEY_FILE"},
            "SOPS_AGE_KEY": os.fsdecode(b"AGE-SECRET-KEY-1\xff"),
        },
    )  # fmt: skip
    out = (result.stdout + result.stderr).decode("utf-8", "replace")
    assert "unexpected" not in out and "Traceback" not in out, out
    assert "$SOPS_AGE_KEY: line 1 is not an age identity" in out


def test_keygen_prints_its_paths_inert_and_as_one_shell_word(tmp_path):
    """Item 11/12's hostile paths: `rollout keygen --key-file` printed the path as given, a terminal
    control sequence in it sent to the terminal, and the `export SOPS_AGE_KEY_FILE=…` line to paste
    unquoted: a folder named `$(id)` ran `id` when pasted (or was split at a space)."""
    folder = tmp_path / "a\x1b[31m $(id)"
    folder.mkdir()
    result = rollout("keygen", "--key-file", folder / "k.txt")
    assert result.code == 0, result.stderr
    assert "\x1b" not in result.stdout
    export = next(line for line in result.stdout.splitlines() if "export" in line)
    word = export.partition("export SOPS_AGE_KEY_FILE=")[2].partition(", or append")[0]
    said = subprocess.run(
        ["bash", "-c", f"printf %s {word}"], capture_output=True, check=True
    ).stdout
    assert said == os.fsencode(folder / "k.txt")


def test_a_saved_plan_with_a_repo_that_failed_to_plan_applies_the_others(fleet, tmp_path):
    """Item 12's saved plan: a repo that failed to plan before its base was read (its clone gone)
    is saved with `"base_commit": null`, which the loader's type check refused: `rollout apply
    plan.json` said "damaged plan file (repo juniper-data: "base_commit" must be a string); run plan
    again", and so again after every plan: the other repos' plan could never be applied."""
    shutil.rmtree(fleet.repo("juniper-data"))
    saved = tmp_path / "plan.json"
    rollout("plan", "--manifest", fleet.manifest, "--out", saved)
    repos = {r["name"]: r for r in json.loads(saved.read_text())["repos"]}
    assert repos["juniper-data"]["base_commit"] is None and repos["juniper-data"]["error"]
    result = rollout("apply", saved, "--manifest", fleet.manifest, "--yes")
    assert "damaged plan file" not in result.stderr, result.stderr
    assert "juniper-ml: created" in result.stdout and result.code == 1
    assert git(fleet.repo("juniper-ml"), "branch", "--list", "chore/sops-age-rollout").strip()


def test_a_saved_plan_without_a_base_commit_and_no_error_is_still_refused(fleet, tmp_path):
    """The guard of the fix above: `"base_commit": null` is what a failed repo is saved with; on a
    repo that planned it is damage, refused as before."""
    saved = tmp_path / "plan.json"
    rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--out", saved)
    data = json.loads(saved.read_text())
    data["repos"][0]["base_commit"] = None
    saved.write_text(json.dumps(data))
    result = rollout("apply", saved, "--manifest", fleet.manifest, "--yes")
    assert result.code == 1 and "damaged plan file" in result.stderr, result.stderr
    assert not git(fleet.repo("juniper-ml"), "branch", "--list", "chore/sops-age-rollout").strip()


def test_a_message_under_an_encoding_python_decodes_slowly_is_read_in_bounded_time(fleet):
    """The guard of reading messages as their `encoding` header says (above), item 11's bound:
    Python decodes punycode (and idna) in time quadratic in the length, so a 3 MB message under
    `encoding punycode` (a few KB in a pack) held drift for many minutes. Those are read as bytes only."""
    repo = fleet.repo("juniper-ml")
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    head = (
        f"tree {tree}\nparent {parent}\nauthor a <a@example.com> 1700000000 +0000\n"
        f"committer a <a@example.com> 1700000000 +0000\nencoding punycode\n\n"
    ).encode()
    commit = object_of(repo, "commit", head + b"-" + b"9" * 1_500_000 + b"\n")
    git(repo, "branch", "slow-to-decode", commit)
    result = run_cli(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--format", "json"
    )  # run_cli's 120 s: minutes without the fix
    assert json.loads(result.stdout)["repos"][0].get("error") is None, result.stdout[-2000:]


def test_drift_over_a_commit_message_of_a_million_letters_is_bounded(fleet):
    """Item 11's bound on item 9's scan of messages: the URL-with-a-password shape tried its scheme
    from every letter of a run to the run's end, in time quadratic in the run: a 100 KB message of
    letters took drift 18 s, a 1 MB one (a few KB in a pack, from anyone who can push a branch)
    half an hour, 3 MB hours. It now starts only where a run starts."""
    repo = fleet.repo("juniper-ml")
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    parent = git(repo, "rev-parse", "HEAD").strip()
    message = b"notes\n\n" + b"a" * 1_000_000 + b"\n"
    commit = (
        subprocess.run(
            ["git", "-C", str(repo), "commit-tree", tree, "-p", parent, "-F", "-"],
            input=message,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    git(repo, "branch", "long-message", commit)
    result = run_cli(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--format", "json"
    )  # run_cli's 120 s: half an hour without the fix
    assert json.loads(result.stdout)["repos"][0].get("error") is None, result.stdout[-2000:]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("a" * 1_000_000, id="letters"),
        pytest.param("_eyJ" * 250_000, id="jwt-prefixes"),
    ],
)
def test_drift_over_a_tagged_value_of_a_million_characters_is_bounded(fleet, value):
    """The same quadratic shapes in the check of a value for a credential (URL user-info, a JWT's
    `eyJ…` prefix), which drift runs on each `NAME=value` line of a tagged blob, a note or a file of
    history: a tag of a 1 MB blob `notes\\nAPI=aaaa…` (anyone who can push a tag) held drift for
    many minutes. Both now start only where a run starts."""
    repo = fleet.repo("juniper-ml")
    blob = object_of(repo, "blob", f"deployed with:\nAPI={value}\n".encode())
    git(repo, "tag", "long-value", blob)
    result = run_cli(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--format", "json"
    )  # run_cli's 120 s: many minutes without the fix
    assert json.loads(result.stdout)["repos"][0].get("error") is None, result.stdout[-2000:]
