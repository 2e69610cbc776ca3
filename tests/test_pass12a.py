"""Pass 12a of the outside adversary (issue 13, items 1-4 and 10-12, over pass 11a's new code): each test
failed on main (3da00d8) before its fix.

The attempts, held and broken, are logged in the pass-12a log; SECURITY.md lists each guarantee.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import git as gitpython
import pytest

from juniper_rollout.sops import sops_path
from tests.helpers import git, rollout
from tests.test_pass3 import BRANCH
from tests.test_pass10a import _apply
from tests.test_pass11a import _merge_branch_into_main, _stalling_server

ML, CASCOR = "juniper-ml", "juniper-cascor"


def _ssh_left(port: int) -> list[str]:
    return subprocess.run(
        ["pgrep", "-f", f"ssh.* -p {port} "], capture_output=True, text=True
    ).stdout.split()


def _kill_left(port: int) -> None:
    for pid in _ssh_left(port):
        os.kill(int(pid), signal.SIGKILL)


# --- item 10/11: git's children end with it ------------------------------------------------------


def test_a_push_over_ssh_that_never_answers_leaves_no_ssh_behind(fleet, monkeypatch):
    """`apply --push` to an ssh:// remote that accepts and never answers: pass 11a's time limit ended
    the push with one line, but killed git alone: its ssh child, waiting on the silent remote, ran on
    for ever (reparented to PID 1)."""
    from juniper_rollout import errors, gitrepo

    repo = fleet.repo(ML)
    assert _apply(fleet, ML).code == 0
    server = _stalling_server()
    port = server.getsockname()[1]
    git(repo, "remote", "add", "origin", f"ssh://git@127.0.0.1:{port}/x.git")
    monkeypatch.setattr(gitrepo, "PUSH_TIMEOUT", 3.0)
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:ssh")
    try:
        with pytest.raises(errors.RolloutError, match="git push to origin did not finish in 3 s"):
            gitrepo.push(gitpython.Repo(repo), BRANCH)
        time.sleep(0.5)
        left = _ssh_left(port)
    finally:
        _kill_left(port)
        server.close()
    assert not left, "ssh left running after the push's time limit"


def test_sync_over_ssh_that_never_answers_leaves_no_ssh_behind(fleet, monkeypatch):
    """The same for sync's fetch (remote.py's time limit killed git, not its ssh)."""
    from juniper_rollout import remote

    monkeypatch.setattr(remote, "NETWORK_TIMEOUT", 3.0)
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:ssh")
    server = _stalling_server()
    port = server.getsockname()[1]
    git(fleet.repo(ML), "remote", "add", "origin", f"ssh://git@127.0.0.1:{port}/x.git")
    try:
        result = rollout("sync", "-m", fleet.manifest, "--repo", ML)
        time.sleep(0.5)
        left = _ssh_left(port)
    finally:
        _kill_left(port)
        server.close()
    assert "did not finish in 3 s" in result.stdout, result.stdout + result.stderr
    assert not left, "ssh left running after sync's time limit"


# --- item 1: a copy of .env.example never blanks the committed values, in any sops format ----------


def test_an_env_copied_from_env_example_never_blanks_a_json_env_enc(fleet, tmp_path):
    """Pass 11a's refusal counted the committed values as dotenv lines (`NAME=ENC[…]`): a `.env.enc`
    in sops' JSON format (the tool re-encrypts it as dotenv: "was sops json format") counted 0, and a
    `.env` copied from `.env.example` encrypted 15 empty strings over its 15 values."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    _merge_branch_into_main(repo)
    git(repo, "branch", "-D", BRANCH)
    work = tmp_path / "json"
    work.mkdir()
    (work / ".sops.yaml").write_text(git(repo, "show", "main:.sops.yaml"))
    (work / "old.enc").write_text(git(repo, "show", "main:.env.enc"))
    sops = [sops_path(), "decrypt", "--input-type", "dotenv", "--output-type", "dotenv", "old.enc"]
    plain = subprocess.run(sops, cwd=work, check=True, capture_output=True).stdout
    (work / "x.env").write_bytes(plain)
    encrypt = [sops_path(), "encrypt", "--filename-override", ".env.enc", "--input-type", "dotenv"]
    encrypt += ["--output-type", "json", "x.env"]
    json_enc = subprocess.run(encrypt, cwd=work, check=True, capture_output=True).stdout
    assert json_enc.lstrip().startswith(b"{")
    git(repo, "checkout", "-q", "main", "--", ".")
    (repo / ".env.enc").write_bytes(json_enc)
    git(repo, "commit", "-qm", "a teammate's JSON .env.enc", "--", ".env.enc")
    (repo / ".env").write_text(git(repo, "show", "main:.env.example"))
    result = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert "holds no values" in result.stdout and "holds 15 values" in result.stdout, result.stdout
    assert "encrypt .env" not in result.stdout
    assert _apply(fleet, CASCOR).code == 1
    assert not git(repo, "branch", "--list", BRANCH).strip()
    # the command the line gives works when pasted (the file is JSON: `--input-type json`)
    command = result.stdout.split("(`", 1)[1].split("`", 1)[0]
    assert "--input-type json" in command, command
    shown = subprocess.run(
        command.replace("sops ", f"{sops_path()} ", 1), shell=True, cwd=repo, capture_output=True
    )
    assert shown.returncode == 0 and b"HF_TOKEN=demo" in shown.stdout, shown.stderr


# --- item 11: a saved plan's text goes into the commit: text only --------------------------------


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\u009b2J", "\n\nRollout-Tool: x"])
def test_a_saved_plans_reason_holding_a_control_character_is_refused(fleet, tmp_path, bad):
    """Pass 10a/11a refused control characters in the manifest's `commit_message`, but a hand-edited
    plan file's `reason` is written into the commit message too (`- .sops.yaml: create (REASON)`): a
    NUL was committed (git fsck: nulInCommit), an ESC or C1 CSI reached the terminal in `git log`."""
    import json

    plan = tmp_path / "p.json"
    assert rollout("plan", "-m", fleet.manifest, "--repo", ML, "--out", plan).code == 0
    data = json.loads(plan.read_text())
    data["repos"][0]["files"][0]["reason"] = f"ok {bad} more"
    plan.write_text(json.dumps(data))
    result = rollout("apply", plan, "-m", fleet.manifest, "--yes")
    assert result.code == 1, result.stdout + result.stderr
    assert "damaged plan file" in result.stderr and "not one line of text" in result.stderr
    assert not git(fleet.repo(ML), "branch", "--list", BRANCH).strip()


def test_a_managed_path_holding_a_c1_control_is_escaped_in_the_commit_message(fleet):
    """Pass 11a refused C1 controls in `commit_message`, but each managed path is written into the
    message too (`- PATH: create …`): a `files:` path holding U+009B (CSI to a terminal reading UTF-8)
    reached `git log` raw. The file keeps its name; the message shows the control as an escape."""
    text = fleet.manifest.read_text()
    assert "- path: .github/CODEOWNERS " in text
    fleet.manifest.write_text(
        text.replace("- path: .github/CODEOWNERS ", '- path: "docs/a\\u009b2Jb.md" ', 1)
    )
    result = rollout(
        "apply", "-m", fleet.manifest, "--rollout", "repo-hygiene", "--repo", ML, "--yes"
    )
    assert result.code == 0, result.stdout + result.stderr
    repo = fleet.repo(ML)
    body = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "commit", "chore/repo-hygiene"],
        capture_output=True,
        check=True,
    ).stdout
    assert "\u009b".encode() not in body
    assert b"- docs/a\\x9b2Jb.md: create" in body, body
    names = git(repo, "ls-tree", "-r", "-z", "--name-only", "chore/repo-hygiene").split("\0")
    assert "docs/a\u009b2Jb.md" in names


# --- item 10/11: what origin says is a message, never a crash --------------------------------------


def _origin_with_hook(tmp_path, repo, exit_code: int):
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    hook = origin / "hooks" / "pre-receive"
    hook.write_text(f'#!/bin/sh\nprintf "caf\\351 refus\\351\\n" >&2\nexit {exit_code}\n')
    hook.chmod(0o755)
    git(repo, "remote", "add", "origin", str(origin))
    return origin


def test_a_remote_hook_printing_latin1_is_a_message_not_a_crash(fleet, tmp_path):
    """Pass 11a's push subprocess decoded git's output as strict UTF-8: origin's pre-receive hook
    printing `caf\\xe9` made a pushed branch "failed  unexpected UnicodeDecodeError … a damaged
    repository? run git fsck" with a crash log."""
    repo = fleet.repo(ML)
    origin = _origin_with_hook(tmp_path, repo, 0)
    result = rollout("apply", "-m", fleet.manifest, "--repo", ML, "--yes", "--push")
    assert result.code == 0, result.stdout + result.stderr
    assert "pushed to origin" in result.stdout and "unexpected" not in result.stdout
    tip = git(repo, "rev-parse", BRANCH).strip()
    assert git(origin, "rev-parse", BRANCH).strip() == tip


def test_a_push_origins_hook_declines_is_named_as_such(fleet, tmp_path):
    """Origin's own hook declining the push (`[remote rejected]`) was reported as "origin/BRANCH has
    commits the tool did not push (a reviewer's?) … delete or merge the remote branch", for a branch
    origin does not hold (and, with a Latin-1 message, as an UnicodeDecodeError crash)."""
    repo = fleet.repo(ML)
    _origin_with_hook(tmp_path, repo, 1)
    result = rollout("apply", "-m", fleet.manifest, "--repo", ML, "--yes", "--push")
    assert result.code == 1, result.stdout + result.stderr
    assert "push to origin failed" in result.stdout, result.stdout
    assert "[remote rejected]" in result.stdout
    assert "did not push" not in result.stdout and "unexpected" not in result.stdout


def test_sync_from_an_origin_whose_url_is_not_utf8_is_one_line(fleet, tmp_path):
    """An origin URL holding a Latin-1 byte (a folder `caf\\xe9.git`): sync's failed fetch was
    "unexpected UnicodeDecodeError; please report this" and a crash log (git's stderr and the
    redaction's `git config` read as strict UTF-8)."""
    repo = fleet.repo(ML)
    url = os.fsencode(str(tmp_path)) + b"/caf\xe9.git"
    subprocess.run(
        [b"git", b"-C", os.fsencode(repo), b"remote", b"add", b"origin", url], check=True
    )
    result = rollout("sync", "-m", fleet.manifest, "--repo", ML)
    assert result.code == 1, result.stdout + result.stderr
    assert "git fetch failed" in result.stdout, result.stdout
    assert "unexpected" not in result.stdout + result.stderr


# --- item 1 (generated text): the commands a refusal prints work when pasted ------------------------


def test_the_printed_git_show_works_for_a_branch_named_with_shell_characters(fleet):
    """git allows `;`, `$` in a branch name; the refusals printed `git show BRANCH:.env.enc | sops …`
    unquoted: pasted, `chore/x;echo$IFS$9PWNED` ran `echo` and never printed the committed values."""
    branch = "chore/x;echo$IFS$9PWNED"
    text = fleet.manifest.read_text()
    assert "  branch: chore/sops-age-rollout\n" in text
    fleet.manifest.write_text(
        text.replace("  branch: chore/sops-age-rollout\n", f'  branch: "{branch}"\n', 1)
    )
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    (repo / ".env").write_text(git(repo, "show", f"{branch}:.env.example"))
    result = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert "holds no values" in result.stdout, result.stdout
    command = result.stdout.split("(`", 1)[1].split("`", 1)[0]
    shown = subprocess.run(
        ["bash", "-c", command],
        cwd=repo,
        capture_output=True,
        env={**os.environ, "PATH": f"{os.path.dirname(sops_path())}:{os.environ['PATH']}"},
    )
    assert b"PWNED" not in shown.stdout + shown.stderr, command
    assert shown.returncode == 0 and b"HF_TOKEN=demo" in shown.stdout, shown.stderr


def test_an_env_copied_from_a_commented_env_example_never_blanks_the_committed_values(fleet):
    """A hand-written `.env.example` (kept by the tool, lesson 7) documents each name as
    `NAME=""  # your token here`; copied to `.env`, every value is empty to the app (python-dotenv),
    but pass 11a's refusal read `""  # …` as a value, and 15 of them were encrypted over the values."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    tip = git(repo, "rev-parse", BRANCH).strip()
    example = git(repo, "show", f"{BRANCH}:.env.example")
    lines = [
        f'{line}""  # your {line[:-1]} here' if line.endswith("=") else line
        for line in example.splitlines()
    ]
    assert sum(line.endswith(" here") for line in lines) == 15
    (repo / ".env").write_text("\n".join(lines) + "\n")
    result = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert "holds no values" in result.stdout and "holds 15 values" in result.stdout, result.stdout
    assert _apply(fleet, CASCOR).code == 1
    assert git(repo, "rev-parse", BRANCH).strip() == tip
