"""Pass 10a of the outside adversary (issue 13, items 1-4 and 10-12): each test failed on main before its fix.

The attempts, held and broken, are logged in the pass-10a log; SECURITY.md lists each guarantee.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from juniper_rollout.sops import sops_path
from tests.demofleet import CANARY
from tests.helpers import git, next_second, rollout
from tests.test_pass3 import BRANCH, main_moves_to

ML, CASCOR = "juniper-ml", "juniper-cascor"


def _apply(fleet, name: str):
    return rollout("apply", "--manifest", fleet.manifest, "--repo", name, "--yes")


def _decrypted(repo: Path, ref: str, tmp: Path) -> str:
    blob = tmp / "branch.env.enc"
    blob.write_bytes(
        subprocess.run(
            ["git", "-C", str(repo), "show", f"{ref}:.env.enc"], check=True, capture_output=True
        ).stdout
    )
    try:
        return subprocess.run(
            [
                sops_path(),
                "decrypt",
                "--input-type",
                "dotenv",
                "--output-type",
                "dotenv",
                str(blob),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        blob.unlink()


# --- item 11: a saved plan or a path nothing can hold is one line, never a traceback --------------


def test_a_lone_surrogate_in_a_saved_plan_is_one_line_not_a_crash_log(fleet, tmp_path):
    """JSON may spell ``\\ud800``: in a file's path or reason it reached git as "unexpected
    UnicodeEncodeError … a damaged repository? run git fsck" with a crash log."""
    saved = tmp_path / "plan.json"
    assert rollout("plan", "-m", fleet.manifest, "--repo", ML, "--out", saved).code in (0, 2)
    data = json.loads(saved.read_text())
    for key, value in (("path", "notes/\ud800.md"), ("reason", "x\udfff")):
        edited = json.loads(json.dumps(data))
        edited["repos"][0]["files"][1][key] = value
        bad = tmp_path / f"bad-{key}.json"
        bad.write_text(json.dumps(edited))
        result = rollout("apply", "--manifest", fleet.manifest, str(bad), "--yes")
        assert result.code == 1, result.stdout + result.stderr
        assert "damaged plan file" in result.stderr and "surrogate" in result.stderr
        assert "crash" not in result.stdout + result.stderr
        assert not git(fleet.repo(ML), "branch", "--list", BRANCH).strip()


def test_a_path_no_file_can_have_is_one_line(fleet, tmp_path):
    """A 300-byte folder name (or a 5,000-byte path) as --workspace, workspace: or --key-file:
    Python's exists() raised ENAMETOOLONG, a traceback in plan, apply and keygen."""
    long_name = tmp_path / ("a" * 300)
    long_path = tmp_path.joinpath(*["b" * 200] * 25)
    for where in (long_name, long_path):
        for args in (
            ("plan", "-m", fleet.manifest, "--workspace", where),
            ("apply", "-m", fleet.manifest, "--workspace", where, "--yes"),
            ("keygen", "--key-file", where / "keys.txt"),
        ):
            result = rollout(*args)
            assert result.code == 1, result.stdout + result.stderr
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
            assert "no path can be longer" in lines[0] or "no file or folder name" in lines[0]
    text = fleet.manifest.read_text()
    manifest = fleet.manifest.with_name("long.yaml")
    manifest.write_text(
        "\n".join(
            f"workspace: {long_name}" if line.startswith("workspace:") else line
            for line in text.splitlines()
        )
        + "\n"
    )
    result = rollout("plan", "-m", manifest)
    assert result.code == 1 and "long.yaml:" in result.stderr and "255" in result.stderr


def test_a_deleted_current_folder_is_one_line(fleet, tmp_path):
    """`plan --out p.json` and `keygen --key-file k.txt` in a folder deleted under the shell were a
    traceback (os.path.abspath: FileNotFoundError)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for args in (
        ["plan", "-m", str(fleet.manifest), "--repo", ML, "--out", "p.json"],
        ["keygen", "--key-file", "k.txt"],
    ):
        gone = tmp_path / "gone"
        gone.mkdir()
        script = (
            f"import os, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); "
            f"sys.argv = ['rollout', *{args!r}]; from juniper_rollout.cli import main; main()"
        )
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
        )
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert done.stderr.strip() == (
            "error: the current folder no longer exists (deleted or moved away); nothing written: "
            "`cd` to a folder that exists, then run the command again"
        )


# --- item 3: a HEAD written as a symlink still holds the branch ---------------------------------


def test_a_head_written_as_a_symlink_to_the_rollout_branch_blocks_apply(fleet, tmp_path):
    """`git -c core.preferSymlinkRefs=true checkout BRANCH` writes HEAD as a symlink; read through the
    link it is a commit id, so apply moved the checked-out branch (staged changes nobody made)."""
    repo = fleet.repo(ML)
    assert _apply(fleet, ML).code == 0
    git(repo, "-c", "core.preferSymlinkRefs=true", "checkout", "-q", BRANCH)
    assert (repo / ".git" / "HEAD").is_symlink()
    before = git(repo, "rev-parse", BRANCH)
    main_moves_to(repo, {"NEWFILE": "hello\n"}, tmp_path)
    planned = rollout("plan", "-m", fleet.manifest, "--repo", ML)
    assert "apply will refuse it" in planned.stdout
    result = _apply(fleet, ML)
    assert "blocked" in result.stdout and f"is checked out in {repo}" in result.stdout
    assert git(repo, "rev-parse", BRANCH) == before
    assert git(repo, "status", "--porcelain") == ""


# --- item 1: the branch's later ciphertext is never dropped for the base's older one -------------


def test_a_rebuild_keeps_the_branchs_later_ciphertext_over_the_bases_older_one(fleet, tmp_path):
    """The first rollout merged; a value rotated in .env and applied; .env moved away; main moved:
    the rebuilt branch took main's OLDER .env.enc "as is", the rotated value gone."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "update-ref", "refs/heads/main", BRANCH)  # the first pull request merged
    if git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main":
        git(repo, "reset", "-q", "--keep", "main")
    git(repo, "branch", "-D", "-q", BRANCH)
    next_second()  # sops stamps lastmodified in seconds
    env = repo / ".env"
    env.write_text(
        "".join(
            f"HF_TOKEN=rotated-{CANARY}-v2\n" if line.startswith("HF_TOKEN=") else line + "\n"
            for line in env.read_text().splitlines()
        )
    )
    assert _apply(fleet, CASCOR).code == 0  # a commit on top of main: the rotated value
    assert f"rotated-{CANARY}-v2" in _decrypted(repo, BRANCH, tmp_path)
    env.rename(tmp_path / "moved-away.env")
    main_moves_to(repo, {"OTHER.md": "main moves on\n"}, tmp_path)
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert ".env.enc kept from chore/sops-age-rollout" in planned.stdout
    result = _apply(fleet, CASCOR)
    assert "rebuilt on main" in result.stdout
    assert f"rotated-{CANARY}-v2" in _decrypted(repo, BRANCH, tmp_path)


def test_a_rebuild_refuses_when_the_bases_later_ciphertext_lacks_names_the_branchs_holds(
    fleet, tmp_path
):
    """A teammate's own .env.enc (2 names) merged on main after the tool's branch (15 names) was
    written; no .env at hand: the rebuilt branch took the teammate's, 13 names dropped silently."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    (repo / ".env").rename(tmp_path / "moved-away.env")
    next_second()
    team = tmp_path / "team"
    team.mkdir()
    (team / ".sops.yaml").write_text(git(repo, "show", f"{BRANCH}:.sops.yaml"))
    (team / ".env").write_text(f"TEAM_ONLY=t-{CANARY}\nHF_TOKEN=team-{CANARY}\n")
    theirs = subprocess.run(
        [sops_path(), "encrypt", "--input-type", "dotenv", "--output-type", "dotenv"]
        + ["--filename-override", ".env.enc", ".env"],
        cwd=team,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (team / ".env").unlink()
    sops_yaml = (team / ".sops.yaml").read_text()
    main_moves_to(repo, {".env.enc": theirs, ".sops.yaml": sops_yaml}, tmp_path)
    tip = git(repo, "rev-parse", BRANCH)
    result = _apply(fleet, CASCOR)
    assert "failed" in result.stdout
    assert "holds 14 names that .env.enc on main lacks" in result.stdout
    assert git(repo, "rev-parse", BRANCH) == tip


def test_a_plaintext_env_holding_sops_ciphertext_values_is_refused(fleet, tmp_path):
    """The committed .env.enc copied to .env without its sops_ lines: every value ENC[AES256_GCM,…]
    was encrypted again, and the real values lost with the old file's data key."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    tip = git(repo, "rev-parse", BRANCH)
    ciphertext = git(repo, "show", f"{BRANCH}:.env.enc")
    (repo / ".env").write_text(
        "".join(line + "\n" for line in ciphertext.splitlines() if not line.startswith("sops_"))
    )
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1
    assert ".env:1: the value is sops ciphertext" in planned.stdout
    assert _apply(fleet, CASCOR).code == 1
    assert git(repo, "rev-parse", BRANCH) == tip


# --- item 2: what git cannot check out, or a damaged tree, is never written --------------------


def test_a_managed_path_with_a_name_over_255_bytes_is_refused(fleet):
    """A 300-byte file name in `files:` was committed; the branch (and main once merged) could be
    checked out on no file system ("File name too long")."""
    text = fleet.manifest.read_text()
    long = "notes/" + "n" * 300 + ".md"
    edited = text.replace(
        "      - path: notes/SOPS_USAGE_GUIDE.md\n",
        "      - path: notes/SOPS_USAGE_GUIDE.md\n        template: SOPS_USAGE_GUIDE.md.j2\n"
        f"      - path: {long}\n",
        1,
    )
    assert edited != text
    fleet.manifest.write_text(edited)
    result = rollout("plan", "-m", fleet.manifest, "--repo", ML)
    assert result.code == 1
    assert "has a name of 303 bytes" in result.stderr
    assert not git(fleet.repo(ML), "branch", "--list", BRANCH).strip()


def test_a_tree_with_two_entries_of_one_name_is_never_rewritten(fleet, tmp_path):
    """A damaged tree (git fsck: duplicateEntries) with a file `zzz` beside a folder `zzz/`: the
    rewritten top tree kept only one of them, the person's file dropped without a word."""
    repo = fleet.repo(ML)
    blob = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-w", "--stdin"],
        input="a person's file\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    sub = subprocess.run(
        ["git", "-C", str(repo), "mktree"],
        input=f"100644 blob {blob}\tinner.md\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    listing = git(repo, "ls-tree", "main") + f"100644 blob {blob}\tzzz\n040000 tree {sub}\tzzz\n"
    tree = subprocess.run(
        ["git", "-C", str(repo), "mktree"],
        input=listing,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(
        repo,
        "update-ref",
        "refs/heads/main",
        git(repo, "commit-tree", "-p", "main", "-m", "d", tree).strip(),
    )
    result = _apply(fleet, ML)
    assert "failed" in result.stdout and "two entries named zzz" in result.stdout
    assert not git(repo, "branch", "--list", BRANCH).strip()


# --- item 12: the command plan --out prints works when pasted -----------------------------------


def test_the_apply_command_plan_out_prints_works_when_pasted(fleet, tmp_path):
    """ "apply it with `rollout apply PLAN`" lacked the --manifest (and --rollout) the plan was made
    with: pasted, it said "manifests/repos.yaml: manifest not found"."""
    for extra, saved in (
        ((), tmp_path / "a plan.json"),
        (("--rollout", "repo-hygiene"), tmp_path / "h.json"),
    ):
        result = rollout("plan", "-m", fleet.manifest, "--repo", ML, *extra, "--out", saved)
        said = [line for line in result.stdout.splitlines() if "apply it with" in line]
        assert len(said) == 1, result.stdout
        command = said[0].split("`")[1]
        done = subprocess.run(
            f"{command} --yes",
            shell=True,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "1 created" in done.stdout


# --- item 10: a Ctrl-C that reaches the tool's git child after the ref moved -------------------


def test_a_branch_git_wrote_before_a_ctrl_c_killed_it_is_reported_as_written(fleet):
    """Ctrl-C in a terminal reaches the whole process group, the tool's `git update-ref` too: when it
    died after moving the ref, apply said "failed  could not update branch … exit code(-2)" for a
    branch that was written. Real git, interrupted deterministically: its reference-transaction hook
    sends SIGINT to git once the update is committed."""
    repo = fleet.repo(ML)
    hook = repo / ".git" / "hooks" / "reference-transaction"
    hook.write_text('#!/bin/sh\n[ "$1" = committed ] && kill -INT $PPID\nexit 0\n')
    hook.chmod(0o755)
    result = _apply(fleet, ML)
    tip = git(repo, "rev-parse", "--verify", "-q", BRANCH).strip()
    assert tip, "git wrote the branch before it was interrupted"
    assert f"{ML}: created  {BRANCH} at {tip[:7]}" in result.stdout, result.stdout
    assert "failed" not in result.stdout


# --- item 11: the machine's open-file limit is named as such, not as a damaged repository ---------


def test_too_many_open_files_is_named_with_what_to_do_not_as_a_damaged_repository(fleet, tmp_path):
    """Under a low `ulimit -n` (macOS starts at 256) a repo failed with "unexpected OSError while
    planning (a damaged repository? run `git fsck` …)" and a crash log. The open that fails is real:
    this process's limit is lowered until opening one more file fails."""
    import resource

    from juniper_rollout import refreader
    from juniper_rollout.manifest import load_manifest

    spec = load_manifest(fleet.manifest).select([ML])[0]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    held = []
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
        while True:  # fill the table up to the limit: the job's own open is the one that fails
            try:
                held.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                break
        said = refreader.guarded(spec, "planning", lambda: open(tmp_path / "x", "w"), str)
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert said.startswith("too many open files while planning"), said
    assert "ulimit -n" in said and "damaged" not in said and "crash" not in said


def test_a_home_of_a_user_who_does_not_exist_is_one_line(fleet, monkeypatch):
    """`~jdoe/fleet` for a user without a home (a typo) in $JUNIPER_WORKSPACE, a repo's `path:` or
    `keygen --key-file` was a traceback ("RuntimeError: Could not determine home directory")."""
    result = rollout("keygen", "--key-file", "~no-such-user-p10a/keys.txt")
    assert result.code == 1
    assert result.stderr.strip() == (
        "error: --key-file ~no-such-user-p10a/keys.txt: user 'no-such-user-p10a' has no home "
        "folder here (check the name after ~)"
    )
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(
        text.replace(
            "  - name: juniper-ml ",
            "  - name: juniper-ml\n    path: ~no-such-user-p10a/ml\n   #",
            1,
        )
    )
    result = rollout("plan", "-m", fleet.manifest)
    assert result.code == 1 and "has no home folder here" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and f"{fleet.manifest}:" in result.stderr
    fleet.manifest.write_text(text)
    monkeypatch.setenv("JUNIPER_WORKSPACE", "~no-such-user-p10a/fleet")
    result = rollout("plan", "-m", fleet.manifest)
    assert result.code == 1 and "$JUNIPER_WORKSPACE ~no-such-user-p10a/fleet: user" in result.stderr


def test_a_commit_message_holding_a_control_character_is_refused_with_its_line(fleet):
    """`commit_message: "chore\\0 x"` was written into the commit as a NUL byte (git fsck:
    nulInCommit; an ESC reached every `git log`)."""
    text = fleet.manifest.read_text()
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  commit_message:"))
    lines[at] = '  commit_message: "chore: secrets\\0 and \\x1b[2J"'
    fleet.manifest.write_text("\n".join(lines) + "\n")
    result = rollout("plan", "-m", fleet.manifest, "--repo", ML)
    assert result.code == 1
    assert result.stderr.strip() == (
        f"error: {fleet.manifest}:{at + 1}: defaults.commit_message holds the control character "
        "'\\x00': a commit message is text (only line breaks and tabs)"
    )
    assert _apply(fleet, ML).code == 1
    assert not git(fleet.repo(ML), "branch", "--list", BRANCH).strip()


def test_apply_and_bootstrap_with_standard_input_closed_are_one_line(fleet):
    """`rollout apply <&-` (standard input closed, as some job runners start a command) was a
    traceback: "'NoneType' object has no attribute 'isatty'" (`apply -`: "… 'buffer'")."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    cases = {
        f"apply -m {fleet.manifest} --repo {ML}": "error: apply needs confirmation: run it from a "
        "terminal, or pass --yes",
        f"apply - -m {fleet.manifest}": "error: -: not a plan file",
        f"bootstrap -m {fleet.manifest} newrepo": "error: bootstrap needs confirmation",
    }
    for args, said in cases.items():
        done = subprocess.run(
            ["bash", "-c", f"exec {sys.executable} -m juniper_rollout.cli {args} <&-"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith(said) and "Traceback" not in done.stderr, done.stderr
    assert not git(fleet.repo(ML), "branch", "--list", BRANCH).strip()


def test_a_saved_plan_creating_a_file_the_base_holds_never_replaces_it(fleet, tmp_path):
    """A hand-edited plan entry `{"path": "notes/SECRETS_MANAGEMENT_ANALYSIS.md", "action": "create"}`
    replaced the person's file on the branch: "create" over a file the plan never saw."""
    import base64

    repo = fleet.repo(ML)
    person = "notes/SECRETS_MANAGEMENT_ANALYSIS.md"
    assert git(repo, "cat-file", "-t", f"main:{person}").strip() == "blob"
    saved = tmp_path / "plan.json"
    assert rollout("plan", "-m", fleet.manifest, "--repo", ML, "--out", saved).code in (0, 2)
    data = json.loads(saved.read_text())
    data["repos"][0]["files"].append(
        {
            "path": person,
            "action": "create",
            "reason": "x",
            "content": base64.b64encode(b"replaced by an edited plan\n").decode(),
            "secret": False,
        }
    )
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(data))
    result = rollout("apply", "--manifest", fleet.manifest, edited, "--yes")
    assert f"the plan creates {person}, which main already holds" in result.stdout
    assert not git(repo, "branch", "--list", BRANCH).strip()
    assert (
        rollout("apply", "--manifest", fleet.manifest, saved, "--yes").code == 0
    )  # as planned: fine


# --- item 3: a worktree moved by hand is not called gone without the way to keep it -------------


def test_a_worktree_moved_by_hand_gets_advice_that_keeps_it(fleet, tmp_path):
    """A linked worktree moved with `mv` (not `git worktree move`) still works where it is, but apply
    said only "that worktree is gone: run `git worktree prune`", which cuts it off from the clone."""
    repo = fleet.repo(ML)
    assert _apply(fleet, ML).code == 0
    old, moved = tmp_path / "wt", tmp_path / "wt-moved"
    git(repo, "worktree", "add", "-q", str(old), BRANCH)
    old.rename(moved)
    assert "On branch" in git(moved, "status")  # it still works where it is now
    main_moves_to(repo, {"NEW.md": "x\n"}, tmp_path)
    result = _apply(fleet, ML)
    assert (
        "blocked" in result.stdout
        and "run `git worktree repair` in its new folder" in result.stdout
    )
    subprocess.run(["git", "worktree", "repair"], cwd=moved, check=True, capture_output=True)
    result = _apply(fleet, ML)
    assert f"is checked out in {moved}; switch that worktree" in result.stdout
    assert "On branch" in git(moved, "status")


# --- item 11: a remote that accepts and never answers ends the push, not the run -----------------


def test_a_stalled_remote_ends_push_and_sync_with_one_line(fleet):
    """An http remote that accepts the connection and never answers made `apply --push` and `sync`
    wait for ever (git has no transfer timeout by default). Now git gets a low-speed limit (1 byte/s);
    the time is the user's here (GIT_HTTP_LOW_SPEED_TIME=1, the tool's default is 60 s), so without the
    tool's limit git never gives up and this test's own timeout fails it."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list = []

    def accept_and_stall() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept_and_stall, daemon=True).start()
    repo = fleet.repo(ML)
    git(repo, "remote", "add", "origin", f"http://127.0.0.1:{server.getsockname()[1]}/o/r.git")
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        "GIT_HTTP_LOW_SPEED_TIME": "1",
        "GIT_ALLOW_PROTOCOL": "file:http",
    }
    env.pop("GIT_HTTP_LOW_SPEED_LIMIT", None)
    try:
        for args, said in (
            (
                ["apply", "-m", str(fleet.manifest), "--repo", ML, "--yes", "--push"],
                "push to origin failed",
            ),
            (["sync", "-m", str(fleet.manifest), "--repo", ML], "git fetch failed"),
        ):
            done = subprocess.run(
                [sys.executable, "-m", "juniper_rollout.cli", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=90,
            )
            assert done.returncode == 1, done.stdout + done.stderr
            assert f"{ML}: failed  " in done.stdout and said in done.stdout, done.stdout
            assert "too slow" in done.stdout
    finally:
        server.close()
        for conn in held:
            conn.close()


def _sops_edit_on_main(repo: Path, tmp: Path, line: str) -> None:
    """What `sops edit` on main does: main's .env.enc decrypted, ``line`` added, encrypted again."""
    work = tmp / "edit"
    work.mkdir(exist_ok=True)
    (work / ".sops.yaml").write_text(git(repo, "show", "main:.sops.yaml"))
    (work / "old.enc").write_text(git(repo, "show", "main:.env.enc"))
    plain = subprocess.run(
        [sops_path(), "decrypt", "--input-type", "dotenv", "--output-type", "dotenv", "old.enc"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (work / "plain").write_text(plain + line + "\n")
    new = subprocess.run(
        [sops_path(), "encrypt", "--input-type", "dotenv", "--output-type", "dotenv"]
        + ["--filename-override", ".env.enc", "plain"],
        cwd=work,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for name in ("plain", "old.enc"):
        (work / name).unlink()
    main_moves_to(repo, {".env.enc": new}, tmp)


def test_a_rebuild_refuses_when_base_and_branch_each_changed_the_ciphertext(fleet, tmp_path):
    """The branch holds a rotated value (the .env then moved away); later a `sops edit` on main adds a
    name: each ciphertext holds a change the other lacks. The base's was kept "as is", the rotated
    value dropped. After a squash merge (the branch's file in main's history) main's is simply kept."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "update-ref", "refs/heads/main", BRANCH)
    if git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main":
        git(repo, "reset", "-q", "--keep", "main")
    git(repo, "branch", "-D", "-q", BRANCH)
    next_second()
    env = repo / ".env"
    env.write_text(env.read_text().replace("HF_TOKEN=", f"HF_TOKEN=rotated-{CANARY}-", 1))
    assert _apply(fleet, CASCOR).code == 0
    env.rename(tmp_path / "moved-away.env")
    next_second()
    _sops_edit_on_main(repo, tmp_path, f"NEW_X=x-{CANARY}")
    tip = git(repo, "rev-parse", BRANCH)
    result = _apply(fleet, CASCOR)
    assert "failed" in result.stdout and ".env.enc on chore/sops-age-rollout was never on main" in (
        result.stdout
    )
    assert git(repo, "rev-parse", BRANCH) == tip
    # a squash merge brings the branch's file into main's history: main's later one is kept
    squash = git(repo, "commit-tree", "-p", "main", "-m", "squash", f"{BRANCH}^{{tree}}").strip()
    git(repo, "update-ref", "refs/heads/main", squash)
    next_second()
    _sops_edit_on_main(repo, tmp_path, f"NEW_Y=y-{CANARY}")
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code in (0, 2) and ".env.enc kept as is" in planned.stdout
