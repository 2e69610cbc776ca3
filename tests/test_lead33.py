"""Lead 33: a ref whose file is damaged (pass 28c's noted power-loss shapes, item 11).

A zero-byte loose ref, what a power loss mid-write leaves, was "unexpected AssertionError … run git
fsck" with a crash log in drift, and "an error message the leak guard could not check" in plan and
verify: no way out. git itself cannot read or update such a ref ("reference broken"), so the line
names the ref's file and the reflog line that puts it back, a command that works when pasted.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.demofleet import make_repo
from tests.fleet import BRANCH
from tests.helpers import encrypted_by_hand, git, rollout
from tests.pasting import paste
from tests.pasting import quoted as _quoted
from tests.test_hostile import KEY


def one_repo(tmp_path: Path) -> tuple[Path, Path]:
    """(manifest, clone): one repo `app` of one commit, in a workspace of its own."""
    repo = make_repo(tmp_path / "ws" / "app", {"README.md": "app\n"})
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n  - name: app\n"
    )
    return manifest, repo


def _said(*args: str | Path) -> str:
    result = rollout(*args)
    assert "unexpected" not in result.stdout + result.stderr, result.stdout
    assert "could not check" not in result.stdout + result.stderr, result.stdout
    return " ".join(result.stdout.split())


@pytest.mark.parametrize("command", ["plan", "drift", "verify"])
def test_an_empty_loose_base_ref_is_named_with_a_way_out_that_mends_it(tmp_path, command):
    manifest, repo = one_repo(tmp_path)
    tip = git(repo, "rev-parse", "main").strip()
    (repo / ".git" / "refs" / "heads" / "main").write_bytes(b"")  # a power loss mid-write
    said = _said(command, "-m", manifest)
    assert "the ref refs/heads/main cannot be read" in said, said
    assert "empty or damaged" in said
    mend = _quoted(said, "tail -n 1 ")
    pasted = paste(mend, tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert git(repo, "rev-parse", "main").strip() == tip  # git reads it again
    assert "cannot be read" not in " ".join(rollout("plan", "-m", manifest).stdout.split())


def test_an_empty_loose_ref_with_no_reflog_is_told_to_be_moved_away(tmp_path):
    manifest, repo = one_repo(tmp_path)
    git(repo, "pack-refs", "--all")  # main packed: moving the empty loose file away shows it again
    (repo / ".git" / "logs" / "refs" / "heads" / "main").unlink()
    (repo / ".git" / "refs" / "heads" / "main").write_bytes(b"")
    said = _said("plan", "-m", manifest)
    assert "no reflog to restore it from" in said, said
    assert "tail -n 1" not in said
    (repo / ".git" / "refs" / "heads" / "main").rename(tmp_path / "main.damaged")
    assert "cannot be read" not in " ".join(rollout("plan", "-m", manifest).stdout.split())


def test_a_damaged_packed_ref_names_its_line_in_packed_refs(tmp_path):
    manifest, repo = one_repo(tmp_path)
    git(repo, "pack-refs", "--all")
    packed = repo / ".git" / "packed-refs"
    tip = git(repo, "rev-parse", "main").strip()
    packed.write_text(packed.read_text().replace(tip, tip[:19]))  # a line cut short
    said = _said("plan", "-m", manifest)
    assert "line 2 of" in said and "packed-refs is damaged" in said, said
    found = paste(_quoted(said, "sed -n 2p "), tmp_path)  # pass 29d: the line by its number
    assert found.returncode == 0, found.stderr
    assert found.stdout == f"{tip[:19]} refs/heads/main\n", found.stdout


def test_a_damaged_rollout_branch_ref_stops_apply_for_that_repo_and_writes_nothing(tmp_path):
    manifest, repo = one_repo(tmp_path)
    branch = repo / ".git" / "refs" / "heads" / "chore" / "sops-age-rollout"
    branch.parent.mkdir(parents=True)
    branch.write_bytes(b"")
    result = rollout("apply", "-m", manifest, "--yes")
    said = " ".join(result.stdout.split())
    assert result.code == 1, said
    assert "the ref refs/heads/chore/sops-age-rollout cannot be read" in said, said
    assert branch.read_bytes() == b""  # not rewritten under git's feet


@pytest.mark.parametrize("moved", [False, True])
def test_an_empty_head_is_told_to_be_written_back_not_the_clone_moved_away(tmp_path, moved):
    """Pass 28c's note: a zero-byte `.git/HEAD` was "not a git repository (move it away, then clone
    the repo at its path …)", advice a clone holding uncommitted work should never follow."""
    manifest, repo = one_repo(tmp_path)
    if moved:  # HEAD last on another branch: that one is written back, as the reflog says
        git(repo, "branch", "feature")
        git(repo, "switch", "-q", "feature")
    head = repo / ".git" / "HEAD"
    before = head.read_bytes()
    (repo / "work.txt").write_text("uncommitted\n")
    head.write_bytes(b"")
    said = _said("plan", "-m", manifest)
    assert ".git/HEAD is empty or damaged" in said, said
    assert "move it away" not in said and "clone the repo" not in said
    pasted = paste(_quoted(said, "printf "), tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert head.read_bytes() == before
    assert (repo / "work.txt").read_text() == "uncommitted\n"
    assert "empty or damaged" not in " ".join(rollout("plan", "-m", manifest).stdout.split())


def test_an_empty_head_among_branches_it_never_left_by_checkout_says_which_to_write(tmp_path):
    manifest, repo = one_repo(tmp_path)
    git(repo, "branch", "other")
    (repo / ".git" / "logs" / "HEAD").unlink()
    (repo / ".git" / "HEAD").write_bytes(b"")
    said = _said("drift", "-m", manifest)
    assert "BRANCH that branch's name" in said, said


def _pointer(size: int) -> str:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{'b' * 64}\nsize {size}\n"


@pytest.mark.parametrize("command", ["verify", "drift"])
def test_verify_and_drift_say_an_lfs_pointer_on_origins_base_must_be_pushed_mended(
    fleet, tmp_path, command
):
    """Pass 28a's note: plan's LFS line said "commit the file itself on main and push it to origin",
    verify's and drift's "commit the file itself" alone. They read origin's main when the clone has
    it, so the file committed on main alone was still origin's pointer to them: followed, the same
    line again. Each now says where the file must go, and followed as written, the line is gone."""
    repo = fleet.repo("juniper-cascor")
    assert (
        rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes").code
        == 0
    )
    ciphertext = git(repo, "show", f"{BRANCH}:.env.enc")
    config = git(repo, "show", f"{BRANCH}:.sops.yaml")
    (repo / ".env.enc").write_text(_pointer(len(ciphertext)))
    (repo / ".sops.yaml").write_text(_pointer(len(config)))
    (repo / ".gitattributes").write_text(".env.enc filter=lfs\n.sops.yaml filter=lfs\n")
    git(repo, "add", "-f", ".env.enc", ".sops.yaml", ".gitattributes")
    git(repo, "commit", "-qm", "the encrypted file in LFS")
    git(repo, "init", "-q", "--bare", str(tmp_path / "origin.git"))
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(repo, "push", "-q", "origin", "main")
    git(repo, "fetch", "-q", "origin")
    run = (command, "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    said = " ".join(rollout(*run).stdout.split())
    assert ".env.enc" in said and "is a Git LFS pointer" in said, said
    assert "itself on main and push it to origin" in said, said
    (repo / ".gitattributes").write_text("")  # stop tracking them with LFS
    (repo / ".env.enc").write_text(ciphertext)  # the files themselves
    (repo / ".sops.yaml").write_text(config)
    git(repo, "commit", "-qam", "out of LFS")
    assert "is a Git LFS pointer" in " ".join(rollout(*run).stdout.split())  # main alone: not yet
    git(repo, "push", "-q", "origin", "main")
    again = " ".join(rollout(*run).stdout.split())
    assert "is a Git LFS pointer" not in again, again


@pytest.mark.parametrize(
    ("spelling", "said"),
    [
        ("refs/heads/main", "is a full ref name: name the branch itself ('main')"),
        ("Refs/heads/release/1.0", "is a full ref name: name the branch itself ('release/1.0')"),
        ("refs/tags/v1.0", "is a ref that is no branch: base names the branch"),
    ],
)
def test_a_base_spelled_as_a_full_ref_is_refused_at_its_manifest_line(fleet, spelling, said):
    """Pass 28a's note: `base: refs/heads/main` was read as the branch `refs/heads/refs/heads/main`,
    and every repo said "base branch … not found", the manifest's line never named."""
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(text.replace("  base: main\n", f"  base: {spelling}\n", 1))
    line = fleet.manifest.read_text().splitlines().index(f"  base: {spelling}") + 1
    before = git(fleet.repo("juniper-cascor"), "for-each-ref")
    result = rollout("apply", "--yes", "-m", fleet.manifest)
    assert result.code == 1
    assert f":{line}: defaults.base '{spelling}' {said}" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert git(fleet.repo("juniper-cascor"), "for-each-ref") == before


@pytest.mark.parametrize("command", ["drift", "verify"])
def test_sops_edit_of_a_file_named_with_a_leading_dash_works_pasted(fleet, tmp_path, command):
    """Note 31 (27b's): drift's and verify's `sops edit PATH` for a committed sops file whose name
    starts with `-` was read by sops as an option ("flag provided but not defined: -svc.env.enc"),
    as filter-repo's `--path` was before pass 28c. The path is `./-svc.env.enc` now; pasted in the
    clone, with an editor that removes the line, the line is gone."""
    import os
    import sys

    import pyrage

    repo = fleet.repo("juniper-cascor")
    assert rollout("apply", "-m", fleet.manifest, "--repo", "juniper-cascor", "--yes").code == 0
    fleet.merge_all()
    token = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    secret = next(
        line for line in fleet.key_file.read_text().splitlines() if line.startswith("AGE-SECRET")
    )
    public = pyrage.x25519.Identity.from_str(secret).to_public()
    sops = str(Path(sys.executable).parent / "sops")
    encrypt = [sops, "encrypt", "--age", str(public), "--input-type", "dotenv", "--output-type"]
    ciphertext = subprocess.run(
        [*encrypt, "dotenv", "--filename-override", "x.env.enc"],
        input=f"{token}=1\nKEPT=2\n".encode(),
        capture_output=True,
        check=True,
    ).stdout
    (repo / "-svc.env.enc").write_bytes(ciphertext)
    git(repo, "add", "-f", "--", "-svc.env.enc")
    git(repo, "commit", "-qm", "svc secrets")
    run = (command, "-m", fleet.manifest, "--repo", "juniper-cascor")
    said = " ".join(rollout(*run).stdout.split())
    assert token not in said
    edit = _quoted(said, "sops edit ")
    assert edit.endswith(" ./-svc.env.enc"), edit
    editor = tmp_path / "drop-token.sh"
    editor.write_text('#!/bin/sh\nsed -i "/^ghp_/d" "$1"\n')
    editor.chmod(0o755)
    env = {**os.environ, "EDITOR": str(editor), "PATH": f"{Path(sops).parent}:{os.environ['PATH']}"}
    pasted = subprocess.run(["bash", "-c", edit], cwd=repo, env=env, capture_output=True)
    assert pasted.returncode == 0, pasted.stderr
    git(repo, "commit", "-qam", "the token line removed")
    assert "sops edit" not in " ".join(rollout(*run).stdout.split())


def test_a_committed_name_of_a_long_run_of_capitals_is_read_in_linear_time(fleet):
    """Pass 29a's note: the reading of a worded name (`dotenv._WORD`) took time growing with the
    square of a part's run of capitals when the part ended in another character (5 s for 5,000), so a
    committed `.env.enc` whose name held a few hundred thousand held verify for an hour. A word is at
    most 64 letters and digits now, checked before the expression; the name is refused, never shown.
    The time limit is a hang guard only."""
    from tests.test_adversary import run_cli

    repo = fleet.repo("juniper-cascor")
    name = "x." + "A" * 300_000 + "!"
    encrypted_by_hand(fleet, repo, f"{name}=1\nKEPT=2\n".encode())
    result = run_cli("verify", "-m", fleet.manifest, "--repo", "juniper-cascor", timeout=300)
    assert result.returncode == 1, result.stdout
    assert "A" * 100 not in result.stdout + result.stderr
    said = " ".join(result.stdout.split())
    assert ".env.enc holds 1 name that is no variable name or shaped like a credential" in said


def test_a_pre_commit_config_repeating_repos_is_told_to_merge_them(fleet, tmp_path):
    """Pass 29c's note: a committed `.pre-commit-config.yaml` with a second `repos:` was told "could
    not add the hooks without changing other entries (add them by hand, then plan again)"; pre-commit
    reads only the last of a repeated key, so hooks added by hand under the first never ran, and
    plan said the same again. The line names the repeated key and its line; merged, plan adds them."""
    from tests.test_pass3 import main_moves_to

    repo = fleet.repo("juniper-data")
    hook = (
        "  - repo: local\n    hooks:\n      - id: {0}\n        name: {0}\n"
        '        entry: "true"\n        language: system\n'
    )
    config = ".pre-commit-config.yaml"
    main_moves_to(
        repo, {config: "repos:\n" + hook.format("a") + "repos:\n" + hook.format("b")}, tmp_path
    )
    plan = ("plan", "-m", fleet.manifest, "--repo", "juniper-data")
    said = " ".join(rollout(*plan).stdout.split())
    assert ".pre-commit-config.yaml:8: the key 'repos' is repeated in its mapping" in said, said
    assert "merge them into one" in said and "add them by hand" not in said
    main_moves_to(repo, {config: "repos:\n" + hook.format("a") + hook.format("b")}, tmp_path)
    again = rollout(*plan)
    assert again.code == 0, again.stdout
    assert "local hooks forbid-plaintext-env" in " ".join(again.stdout.split()), again.stdout


@pytest.mark.parametrize(
    ("top", "said"),
    [
        ("version: 2\n", ":1: version must be 1 (make that line `version: 1`)"),
        ("", ":1: version must be 1 (add `version: 1` at the top)"),
    ],
)
def test_a_wrong_version_is_told_to_be_mended_not_added_again(tmp_path, top, said):
    """Pass 29f's note: `version: 2` was told "add `version: 1` at the top", a line it already had."""
    manifest, _ = one_repo(tmp_path)
    manifest.write_text(top + manifest.read_text().removeprefix("version: 1\n"))
    result = rollout("plan", "-m", manifest)
    assert result.code == 1 and said in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_linked_worktree_whose_head_is_empty_stops_apply_moving_its_branch(tmp_path):
    """Pass 29h's F3 (13.3 in a damaged spelling): a linked worktree with the rollout branch checked
    out, its `.git/worktrees/X/HEAD` emptied by a power loss, was read as holding no branch, and apply
    moved the branch under it ("updated"); once HEAD was written back, the worktree showed the tool's
    commit undone and staged. Nothing is done now; the line names the HEAD file, and its way out,
    pasted with the branch's name, lets apply refuse the checked-out branch as ever."""
    manifest, repo = one_repo(tmp_path)
    assert rollout("apply", "-m", manifest, "--yes").code == 0
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), BRANCH)
    tip = git(repo, "rev-parse", BRANCH).strip()
    head = repo / ".git" / "worktrees" / "wt" / "HEAD"
    head.write_bytes(b"")
    head_refused_then_written_back(tmp_path, manifest, repo, tip)


def test_an_empty_head_beside_a_fifo_for_its_reflog_does_not_hang(tmp_path):
    """Pass 29h's F4 (13.11): `.git/logs/HEAD` a FIFO and `.git/HEAD` empty held plan for ever (the
    reflog opened to find the branch to write back). A FIFO is no reflog. The time limit is a hang
    guard only."""
    import os

    from tests.test_adversary import run_cli

    manifest, repo = one_repo(tmp_path)
    (repo / ".git" / "logs" / "HEAD").unlink()
    os.mkfifo(repo / ".git" / "logs" / "HEAD")
    (repo / ".git" / "HEAD").write_bytes(b"")
    result = run_cli("plan", "-m", manifest, timeout=60)
    assert result.returncode == 1 and ".git/HEAD is empty or damaged" in result.stdout, (
        result.stdout
    )


def head_refused_then_written_back(tmp_path: Path, manifest: Path, repo: Path, tip: str) -> None:
    """With the manifest changed, apply stops at a HEAD file that is empty or damaged, the rollout
    branch still at ``tip``; its `printf` way out, pasted with the branch's name, writes HEAD back,
    and apply then refuses the checked-out branch ("blocked"), the branch still at ``tip``."""
    import pyrage

    other = str(pyrage.x25519.Identity.generate().to_public())
    manifest.write_text(manifest.read_text().replace(f"[{KEY}]", f"[{KEY}, {other}]"))
    result = rollout("apply", "-m", manifest, "--yes")
    said = " ".join(result.stdout.split())
    assert result.code == 1 and "HEAD file" in said and "is empty or damaged" in said, said
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    pasted = paste(_quoted(said, "printf ").replace("BRANCH", BRANCH), tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    again = " ".join(rollout("apply", "-m", manifest, "--yes").stdout.split())
    assert "blocked" in again and git(repo, "rev-parse", BRANCH).strip() == tip, again
