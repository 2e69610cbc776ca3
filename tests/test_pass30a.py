"""Pass 30a: items 3 and 11 and the smaller list's damaged-ref bullet, over sessions 33 and 34's
gitrepo code (`checked_out_in`'s HEAD check, `_index_holds`, `_commit_at`). Each test fails on 54bf0f6."""

from __future__ import annotations

import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.pasting import paste
from tests.test_hostile import KEY
from tests.test_lead33 import _quoted, _said, head_refused_then_written_back, one_repo


def _objects(repo) -> set[str]:
    return {str(p) for p in (repo / ".git" / "objects").rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    "spelling",
    [
        "refs/heads//{b}",
        "refs/heads/{b}/",
        "refs/heads/{b}.lock",
        "refs//heads/{b}",
        "refs/heads/{b}\n\0\0",
    ],
)
def test_a_head_naming_the_checked_out_branch_in_a_spelling_git_refuses_stops_apply(
    tmp_path, spelling
):
    """Item 3 in a damaged spelling: the rollout branch checked out, the clone's HEAD then naming it
    as git never writes a ref name (`ref: refs/heads//chore/…`, a trailing `/`, `.lock`). git reads
    no branch there and moves none ("Failed to resolve HEAD as a valid ref"); apply read the HEAD
    as another ref and "updated" the branch under the checked-out files. Nothing moves now; the
    way out, pasted with the branch's name, gets the branch refused as checked out."""
    manifest, repo = one_repo(tmp_path)
    assert rollout("apply", "-m", manifest, "--yes").code == 0
    git(repo, "switch", "-q", BRANCH)
    tip = git(repo, "rev-parse", BRANCH).strip()
    head = repo / ".git" / "HEAD"
    head.write_text(f"ref: {spelling.format(b=BRANCH)}\n")
    head_refused_then_written_back(tmp_path, manifest, repo, tip)


def test_a_head_naming_the_branch_before_nuls_is_read_as_git_reads_it(tmp_path):
    """Item 3 in a power loss's spelling: `ref: refs/heads/BRANCH` then NUL bytes (a block padded
    with zeros). git reads up to the NUL, the branch checked out; apply read the NULs as part of the
    name and "updated" the branch under the checked-out files. Now it is refused as checked out,
    and the way out, pasted, detaches that clone."""
    import pyrage

    manifest, repo = one_repo(tmp_path)
    assert rollout("apply", "-m", manifest, "--yes").code == 0
    git(repo, "switch", "-q", BRANCH)
    tip = git(repo, "rev-parse", BRANCH).strip()
    (repo / ".git" / "HEAD").write_bytes(f"ref: refs/heads/{BRANCH}".encode() + b"\0" * 8 + b"\n")
    other = str(pyrage.x25519.Identity.generate().to_public())
    manifest.write_text(manifest.read_text().replace(f"[{KEY}]", f"[{KEY}, {other}]"))
    said = " ".join(rollout("apply", "-m", manifest, "--yes").stdout.split())
    assert "blocked" in said and git(repo, "rev-parse", BRANCH).strip() == tip, said
    pasted = paste(_quoted(said, "git -C "), tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert rollout("apply", "-m", manifest, "--yes").code == 0


def test_a_head_git_reads_that_names_another_branch_does_not_stop_apply(tmp_path):
    """The other side: a linked worktree's HEAD written `ref:<TAB>refs/heads/feat` (git reads it)
    and the clone on main are no reason to stop; apply updates the rollout branch."""
    import pyrage

    manifest, repo = one_repo(tmp_path)
    assert rollout("apply", "-m", manifest, "--yes").code == 0
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "feat")
    (repo / ".git" / "worktrees" / "wt" / "HEAD").write_text("ref:\trefs/heads/feat\n")
    other = str(pyrage.x25519.Identity.generate().to_public())
    manifest.write_text(manifest.read_text().replace(f"[{KEY}]", f"[{KEY}, {other}]"))
    result = rollout("apply", "-m", manifest, "--yes")
    assert result.code == 0 and "updated" in result.stdout, result.stdout


def test_an_empty_heads_index_check_writes_no_object_into_a_sparse_index_clone(tmp_path):
    """Lead 34's `_index_holds` says nothing of the clone is written; with a sparse index
    (`git sparse-checkout set --sparse-index`) and a change staged, git built the trees for the
    diff and wrote them into the clone's objects. The clone's objects are now only read (an
    alternate of the throwaway repository's own), and the line is the same."""
    manifest, repo = one_repo(tmp_path)
    for name in ("d/f", "other/g"):
        (repo / name).parent.mkdir()
        (repo / name).write_text(name + "\n")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=Dev", "-c", "user.email=dev@x.invalid", "commit", "-qm", "two")
    git(repo, "sparse-checkout", "init", "--cone", "--sparse-index")
    git(repo, "sparse-checkout", "set", "other")
    (repo / "other" / "g").write_text("changed\n")
    git(repo, "add", "other/g")
    before = _objects(repo)
    (repo / ".git" / "HEAD").write_bytes(b"")
    said = _said("plan", "-m", manifest)
    assert "BRANCH that branch's name" in said and "its reflog last shows main" in said, said
    assert _objects(repo) == before


def test_an_orphans_empty_head_is_not_told_main_with_git_default_hash_exported(
    tmp_path, monkeypatch
):
    """Pass 29h's F1 again: with `GIT_DEFAULT_HASH=sha256` exported (a user trying SHA-256
    repositories), the throwaway repository that reads the index was made SHA-256, git failed, and
    after `git switch --orphan fresh` the line said to write back `main` once more."""
    manifest, repo = one_repo(tmp_path)
    git(repo, "switch", "-q", "--orphan", "fresh")
    (repo / "new.txt").write_text("new\n")
    git(repo, "add", "new.txt")
    (repo / ".git" / "HEAD").write_bytes(b"")
    monkeypatch.setenv("GIT_DEFAULT_HASH", "sha256")
    said = _said("plan", "-m", manifest)
    assert "BRANCH that branch's name" in said, said
    assert "refs/heads/%s\\n' main" not in said, said


def test_an_empty_heads_index_check_reads_a_clone_at_a_path_holding_a_colon(tmp_path):
    """The clone's objects are named to git in a list split at `:`: a workspace `w:s` still gets
    its index read (the orphan's staged files are not main's)."""
    manifest, repo = one_repo(tmp_path)
    (tmp_path / "ws").rename(tmp_path / "w:s")
    manifest.write_text(manifest.read_text().replace("workspace: ws", 'workspace: "w:s"'))
    repo = tmp_path / "w:s" / "app"
    git(repo, "switch", "-q", "--orphan", "fresh")
    (repo / "new.txt").write_text("new\n")
    git(repo, "add", "new.txt")
    (repo / ".git" / "HEAD").write_bytes(b"")
    said = _said("plan", "-m", manifest)
    assert "BRANCH that branch's name" in said, said


@pytest.mark.parametrize("damage", ["emptied", "missing"])
@pytest.mark.parametrize("command", ["plan", "drift", "verify"])
def test_a_base_whose_commit_object_is_damaged_is_named_as_that_not_as_its_ref(
    tmp_path, damage, command
):
    """Item 11 / the damaged-ref bullet: a power loss can leave the object file of the commit a
    branch was just moved to empty ("error: object file … is empty", git's most asked-about
    damage), the ref file itself fine. The line said the ref's file was empty or damaged and
    offered to write it back from its reflog: the same id, so pasted, nothing changed and the line
    came back (or `move … away`, the branch's ref gone). A missing object was "base branch 'main'
    not found (create it …)", a branch that exists. Now the object is named, and `git fsck`."""
    manifest, repo = one_repo(tmp_path)
    (repo / "README.md").write_text("two\n")
    git(repo, "-c", "user.name=Dev", "-c", "user.email=dev@x.invalid", "commit", "-qam", "two")
    tip = git(repo, "rev-parse", "main").strip()
    git(repo, "switch", "-q", "-c", "other", "HEAD~1")
    loose = repo / ".git" / "objects" / tip[:2] / tip[2:]
    loose.chmod(0o644)
    if damage == "emptied":
        loose.write_bytes(b"")
    else:
        loose.unlink()
    said = _said(command, "-m", manifest)
    assert "tail -n 1" not in said and "not found" not in said, said
    if command == "drift" and damage == "emptied":  # its history scan meets the object first
        assert f"object file .git/objects/{tip[:2]}/{tip[2:]} is empty" in said, said
        return
    assert f"the commit refs/heads/main points at, {tip}, cannot be read" in said, said
    assert ("is empty or damaged" in said) is (damage == "emptied"), said
    fsck = _quoted(said, "git -C ")
    assert fsck.endswith(" fsck")
    assert paste(fsck, tmp_path).returncode != 0  # git's own check names the damage too
    assert git(repo, "rev-parse", "main").strip() == tip


def test_a_ref_at_a_readable_non_commit_is_still_not_called_damaged(tmp_path):
    """The other side: a remote-tracking ref at a blob git reads is no base commit, "not found",
    never a damaged object (on 54bf0f6 it was "the ref … cannot be read", its file fine)."""
    manifest, repo = one_repo(tmp_path)
    blob = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-w", "--stdin"],
        input="x\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(repo, "update-ref", "refs/remotes/origin/side", blob)
    manifest.write_text(manifest.read_text().replace("repos:", "  base: side\nrepos:"))
    said = _said("plan", "-m", manifest)
    assert "cannot be read" not in said and "base branch 'side' not found" in said, said
