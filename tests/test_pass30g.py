"""Pass 30g: a verification pass over passes 30d's and 30e's gitrepo fixes (`_damaged_packed`'s ways
out, `open_clone`'s config and `core.worktree` stops, `_symref_chain` in a worktree's own refs)."""

from __future__ import annotations

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.pasting import paste
from tests.test_lead33 import _quoted, _said, one_repo
from tests.test_pass30e import blocked_then_freed


@pytest.mark.parametrize("where", ["config.worktree", "twice"])
def test_a_core_worktree_set_in_config_worktree_or_twice_gets_a_way_out_that_pastes(
    tmp_path, where
):
    """Item 11 over pass 30e's `core.worktree` stop: its way out named `.git/config` with `--unset`.
    Pasted, it failed (rc 5) where `core.worktree` is in `.git/config.worktree`
    (`extensions.worktreeConfig`, where git's worktree docs move it) or set twice ("has multiple
    values"), and the clone stayed unread. Now each file setting it, `--unset-all`."""
    manifest, repo = one_repo(tmp_path)
    if where == "config.worktree":
        git(repo, "config", "extensions.worktreeConfig", "true")
        git(repo, "config", "--worktree", "core.worktree", str(tmp_path / "gone" / "app"))
    else:
        with (repo / ".git" / "config").open("a") as config:
            config.write(f"[core]\n\tworktree = {tmp_path / 'a' / 'app'}\n")
            config.write(f"[core]\n\tworktree = {tmp_path / 'b' / 'app'}\n")
    said = _said("plan", "-m", manifest)
    assert "git cannot read" in said and "core.worktree" in said, said
    pasted = paste(_quoted(said, "git config --file "), tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert "git cannot read" not in _said("plan", "-m", manifest)


@pytest.mark.parametrize("extensions", [["frobnicate"], ["frobnicate", "relativeworktrees"], []])
@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_clone_in_a_format_this_git_does_not_know_is_named_not_its_head(
    tmp_path, extensions, command
):
    """Item 11 over pass 30e's `_git_unread_head` stop: a clone whose config asks for a repository
    extension this git does not know (a newer git's: `extensions.relativeworktrees`, git 2.48) or a
    format version 2 was "its HEAD file … is empty or damaged" (apply) with a printf that, pasted,
    wrote back the same HEAD and changed nothing. Now git's own line (each extension named)."""
    manifest, repo = one_repo(tmp_path)
    config = str(repo / ".git" / "config")
    version = "1" if extensions else "2"
    git(repo, "config", "--file", config, "core.repositoryformatversion", version)
    for name in extensions:
        git(repo, "config", "--file", config, f"extensions.{name}", "true")
    head = (repo / ".git" / "HEAD").read_bytes()
    said = _said(command, "-m", manifest, *(["--yes"] if command == "apply" else []))
    assert "git cannot read" in said and "repository format" in said, said
    assert "HEAD file" not in said and "printf" not in said, said
    assert all(name in said for name in extensions), said
    assert (repo / ".git" / "HEAD").read_bytes() == head
    assert not (repo / ".git" / "refs" / "heads" / "chore").exists()  # no branch written


def test_a_worktree_on_the_branch_through_a_main_worktree_alias_stops_apply(tmp_path):
    """Item 3 over pass 30e's `_symref_chain`: a linked worktree whose HEAD is its own alias
    `refs/worktree/a` naming `main-worktree/refs/bisect/m`, the clone's alias of the rollout branch
    (git: "## chore/…", and `git branch -f` refuses it as checked out there). git reads
    `main-worktree/X` as the clone's X; the tool read a file of that name, found none, and apply
    moved the branch under that worktree's files. Now blocked; the way out, pasted, frees it."""
    manifest, repo = one_repo(tmp_path)
    assert rollout("apply", "-m", manifest, "--yes").code == 0
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "--detach", str(wt))
    git(repo, "symbolic-ref", "refs/bisect/m", f"refs/heads/{BRANCH}")
    git(wt, "symbolic-ref", "refs/worktree/a", "main-worktree/refs/bisect/m")
    git(wt, "symbolic-ref", "HEAD", "refs/worktree/a")
    blocked_then_freed(tmp_path, manifest, repo)


def test_a_rollout_branch_named_packed_refs_beside_a_clash_gets_the_rename(tmp_path):
    """Item 11 over pass 30d's `_ref_failure`: any update-ref failure whose words held "packed-refs"
    was called a damaged packed-refs, so the branch `sec/packed-refs` beside a branch `sec` ("'refs/
    heads/sec' exists; cannot create …") was told "git cannot read …/packed-refs either; mend it"
    (there is none). Now the clash and its rename, which works pasted."""
    manifest, repo = one_repo(tmp_path)
    manifest.write_text(
        manifest.read_text().replace("defaults:\n", "defaults:\n  branch: sec/packed-refs\n")
    )
    git(repo, "branch", "sec")
    said = _said("apply", "-m", manifest, "--yes")
    assert "cannot be created" in said and "mend it" not in said, said
    pasted = paste(_quoted(said, "git -C "), tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert rollout("apply", "-m", manifest, "--yes").code == 0
    assert git(repo, "rev-parse", "--verify", "-q", "refs/heads/sec/packed-refs").strip()


def test_sync_beside_origins_branch_named_packed_refs_says_gits_words_not_a_damaged_file(tmp_path):
    """Item 11 over pass 30d's `remote.fetch`: any fetch failure whose words held "packed-refs" was
    called a damaged packed-refs. origin's new branch `sec/packed-refs` beside a stale
    `origin/sec` (git: "cannot lock ref … exists; cannot create") was told "git cannot read
    …/packed-refs either; mend it", a file the clone did not have. Now git's own words."""
    manifest, repo = one_repo(tmp_path)
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    git(origin, "branch", "sec")
    git(repo, "fetch", "-q", "origin")
    git(origin, "branch", "-D", "sec")
    git(origin, "branch", "sec/packed-refs")
    said = _said("sync", "-m", manifest)
    assert "cannot lock ref" in said and "mend it" not in said, said
