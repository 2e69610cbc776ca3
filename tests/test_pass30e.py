"""Pass 30e: a verification pass over pass 30a's gitrepo fixes (`checked_out_in`'s HEAD check through
git, `_commit_of`, `_index_holds`, `_ref_file_text`). Each test fails on 1b79d9b."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.pasting import paste
from tests.test_hostile import KEY
from tests.test_lead33 import _quoted, _said, one_repo


def _second_recipient(manifest) -> None:
    import pyrage

    other = str(pyrage.x25519.Identity.generate().to_public())
    manifest.write_text(manifest.read_text().replace(f"[{KEY}]", f"[{KEY}, {other}]"))


@pytest.mark.parametrize("config", ["[core\nbad", "[core]\n\tbare = maybe\n"])
def test_a_linked_worktrees_config_git_refuses_is_named_not_its_head(tmp_path, config):
    """Item 11 over pass 30a's HEAD check: a linked worktree whose `config.worktree` git cannot read
    (cut short by a power loss) was "its HEAD file … is empty or damaged", its HEAD fine; the way
    out wrote the same HEAD back and changed nothing. Now git's own line names the config file;
    nothing moves, and once it is mended apply runs."""
    manifest, repo = one_repo(tmp_path)
    assert rollout("apply", "-m", manifest, "--yes").code == 0
    git(repo, "config", "extensions.worktreeConfig", "true")
    git(repo, "worktree", "add", "-q", "-b", "feat", str(tmp_path / "wt"))
    admin = repo / ".git" / "worktrees" / "wt"
    (admin / "config.worktree").write_text(config)
    tip = git(repo, "rev-parse", BRANCH).strip()
    _second_recipient(manifest)
    said = _said("apply", "-m", manifest, "--yes")
    assert "git cannot read the linked worktree" in said and "config" in said, said
    assert "HEAD file" not in said and "printf" not in said, said
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    (admin / "config.worktree").unlink()
    assert rollout("apply", "-m", manifest, "--yes").code == 0


@pytest.mark.parametrize("command", ["plan", "drift", "verify", "apply"])
def test_a_clones_config_cut_short_is_one_line_naming_it(tmp_path, command):
    """Item 11: a clone whose `.git/config` git cannot read (a section header cut short) was
    "unexpected GitCommandError … please report this" and a crash log. Now: git's line, naming the
    file and its line, and nothing written."""
    manifest, repo = one_repo(tmp_path)
    config = repo / ".git" / "config"
    config.write_text(config.read_text() + "[core\n")
    args = ["-m", manifest] + (["--yes"] if command == "apply" else [])
    said = _said(command, *args)
    assert "git cannot read" in said and "bad config line" in said and str(config) in said, said
    assert "unexpected" not in said and "crash-" not in said
    assert not (repo / ".git" / "refs" / "heads" / BRANCH).exists()


@pytest.mark.parametrize("command", ["plan", "verify"])
def test_a_base_commit_object_of_other_bytes_is_named_damaged(tmp_path, command):
    """Pass 30a's damaged-commit line, for an object file holding bytes that are not zlib (a disk
    fault, not an emptied file): it was "unexpected error … please report this", a crash log."""
    manifest, repo = one_repo(tmp_path)
    tip = git(repo, "rev-parse", "main").strip()
    loose = repo / ".git" / "objects" / tip[:2] / tip[2:]
    loose.chmod(0o644)
    loose.write_bytes(b"not a zlib stream")
    said = _said(command, "-m", manifest)
    assert f"the commit refs/heads/main points at, {tip}, cannot be read" in said, said
    assert "is empty or damaged" in said and "fsck" in said


def test_a_worktree_on_the_branch_through_its_own_alias_ref_stops_apply(tmp_path):
    """Item 3 through a worktree's own ref: a linked worktree whose HEAD is `refs/worktree/alias`,
    a symbolic ref to the rollout branch (git: "On branch …", and `git branch -f` refuses it as
    checked out). The alias was looked for in the clone's folder, not the worktree's, and apply
    "updated" the branch under that worktree's files. Now blocked; the way out, pasted, frees it."""
    manifest, repo = one_repo(tmp_path)
    assert rollout("apply", "-m", manifest, "--yes").code == 0
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "--detach", str(wt))
    git(wt, "symbolic-ref", "refs/worktree/alias", f"refs/heads/{BRANCH}")
    git(wt, "symbolic-ref", "HEAD", "refs/worktree/alias")
    blocked_then_freed(tmp_path, manifest, repo)


@pytest.mark.parametrize("command", ["plan", "drift", "verify"])
def test_a_clones_core_worktree_at_a_missing_folder_is_one_line_whose_way_out_pastes(
    tmp_path, command
):
    """Item 11: a clone whose `core.worktree` names a folder not there (git: "Invalid path") was
    "unexpected GitCommandError … please report this" and a crash log. Now one line with git's
    words and a way out that, pasted, lets the next run read the clone."""
    manifest, repo = one_repo(tmp_path)
    git(repo, "config", "core.worktree", str(tmp_path / "gone" / "app"))
    said = _said(command, "-m", manifest)
    assert "git cannot read" in said and "core.worktree" in said, said
    pasted = paste(_quoted(said, "git config --file "), tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert "git cannot read" not in _said(command, "-m", manifest)


def blocked_then_freed(tmp_path: Path, manifest: Path, repo: Path) -> None:
    """With the manifest changed, apply is blocked and moves nothing (the rollout branch is checked
    out somewhere); its `git -C …` way out, pasted, frees the branch, and apply then runs."""
    tip = git(repo, "rev-parse", BRANCH).strip()
    _second_recipient(manifest)
    said = _said("apply", "-m", manifest, "--yes")
    assert "blocked" in said and git(repo, "rev-parse", BRANCH).strip() == tip, said
    pasted = paste(_quoted(said, "git -C "), tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert rollout("apply", "-m", manifest, "--yes").code == 0
