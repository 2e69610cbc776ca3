"""Issue 13, pass 26g: a verification pass over items 1-4 aimed at passes 26a/26d's fixes
(branches._merged, secrets_plan._carried_over, gitrepo.worktree_advice)."""

from __future__ import annotations

import shutil
import subprocess

from tests.fleet import BRANCH
from tests.helpers import git
from tests.pasting import paste, paste_each, rotate_first_value
from tests.test_adversary import apply
from tests.test_pass26a import blocked_by_a_worktree_of_a_moved_clone
from tests.test_pass26d import CASCOR


def test_the_repair_line_for_a_moved_clone_does_no_harm_once_the_path_is_used_again(
    fleet, tmp_path
):
    """ON-LIST 13.3 (26a's way out for a moved clone, pasted after the state changed): the clone
    moved after a reviewer's worktree was made; apply is blocked and offers `git -C CLONE worktree
    repair` first. Before that line is pasted the worktree folder is deleted by hand and the path
    taken by another clone's worktree (26d's F1 situation): pasted, the repair re-pointed that
    other clone's worktree at this clone (its `git status` then showed this clone's index). The
    line now runs the repair only while the worktree's `.git` still names the clone's old folder."""
    review, moved, said = blocked_by_a_worktree_of_a_moved_clone(fleet)
    assert f"{CASCOR}: blocked" in said and "worktree repair" in said, said
    shutil.rmtree(review)
    other = tmp_path / "other"
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    git(other, "commit", "-q", "--allow-empty", "-m", "other work")
    git(other, "worktree", "add", "-q", str(review), "-b", "theirs")
    before = (review / ".git").read_text()
    for command in [c for c in said.split("`") if c.startswith(("git ", "grep "))]:
        paste(command, fleet.root)
    assert (review / ".git").read_text() == before


def test_the_way_to_free_a_branch_in_a_worktree_of_a_moved_and_recloned_clone_keeps_its_work(
    fleet, tmp_path
):
    """ON-LIST 13.3 (26d's reused-path advice, a neighbouring situation): a reviewer's worktree on the
    rollout branch holds staged work; the clone is moved (`mv`, `path:` follows) and cloned again at
    its old path, and that new clone makes a worktree of the same name elsewhere: the reviewer's
    `.git` file now names the new clone's admin folder. apply called the path "used again" and
    offered prune with the folder moved aside: pasted, the reviewer's record (index, HEAD) was
    dropped and the folder left on the other clone's admin (its staged work gone from `git status`).
    The link is stale, not the path reused: the guarded repair, then switch --detach, keep the work."""
    repo = fleet.repo(CASCOR)
    assert apply(fleet, CASCOR).code == 0
    review = fleet.root / "review"
    git(repo, "worktree", "add", "-q", str(review), BRANCH)
    (review / "staged.txt").write_text("the reviewer's staged work\n")
    git(review, "add", "staged.txt")
    moved = fleet.move(CASCOR, fleet.root / "moved-cascor")
    subprocess.run(["git", "clone", "-q", str(moved), str(repo)], check=True)
    theirs = tmp_path / "elsewhere" / "review"
    theirs.parent.mkdir()
    git(repo, "worktree", "add", "-q", str(theirs), "-b", "theirs")
    their_link = (theirs / ".git").read_text()
    rotate_first_value(moved)
    said = " ".join(apply(fleet, CASCOR).stdout.split())
    assert f"{CASCOR}: blocked" in said, said
    paste_each([c for c in said.split("`") if c.startswith(("git ", "grep ", "test "))], fleet.root)
    assert git(review, "status", "--short").split() == ["A", "staged.txt"]
    assert (theirs / ".git").read_text() == their_link
    written = apply(fleet, CASCOR)
    assert f"{CASCOR}: updated" in written.stdout, written.stdout
