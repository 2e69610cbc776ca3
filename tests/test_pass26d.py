"""Issue 13, pass 26d: a verification pass over items 1-4 and the smaller list after pass 26a (its
new worktree advice attacked first), and two of 26a's notes: N1 (a merged branch pushed again) and
N3 (a renamed `encrypt:` target refused twice). Each test fails on the main this pass started from
(checked by undoing its fix)."""

from __future__ import annotations

import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import git
from tests.test_adversary import apply

CASCOR = "juniper-cascor"


def with_origin(fleet, tmp_path):
    """The cascor clone with a bare origin holding its main, and a reviewer's clone of that origin."""
    repo = fleet.repo(CASCOR)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    first = apply(fleet, CASCOR, push=True)
    assert first.code == 0 and "pushed to origin" in first.stdout, first.stdout
    review = tmp_path / "review"
    subprocess.run(["git", "clone", "-q", str(origin), str(review)], check=True)
    return repo, origin, review


def merge_on_origin(review, how: str) -> None:
    """The reviewer merges the pull request (``how``: git's way of it) and deletes its branch."""
    if how == "merge":
        git(review, "merge", "-q", "--no-ff", f"origin/{BRANCH}", "-m", "Merge the pull request")
    elif how == "squash":
        git(review, "merge", "-q", "--squash", f"origin/{BRANCH}")
        git(review, "commit", "-qm", "the pull request, squashed")
    else:
        git(review, "merge", "-q", "--ff-only", f"origin/{BRANCH}")
    git(review, "push", "-q", "origin", "main")
    git(review, "push", "-q", "origin", "--delete", BRANCH)


def on_origin(origin) -> str:
    return git(origin, "branch", "--list", BRANCH).strip()


@pytest.mark.parametrize("how", ["merge", "squash", "fast-forward"])
def test_a_merged_branch_deleted_on_origin_is_not_pushed_again(fleet, tmp_path, how):
    """26a's note N1 (the smaller list's deleted remote branch, the other side): the pull request
    merged (or squash-merged, or fast-forwarded) and its branch deleted on origin; the user fetches;
    `apply --push` has nothing to change and said "already up to date  nothing to change on main;
    pushed to origin": the old branch was back on origin, the reviewer's deletion undone. A branch
    with nothing beyond its base is not pushed now, and the line says so."""
    repo, origin, review = with_origin(fleet, tmp_path)
    merge_on_origin(review, how)
    git(repo, "fetch", "-q", "--prune", "origin")
    again = apply(fleet, CASCOR, push=True)
    said = " ".join(again.stdout.split())
    assert again.code == 0 and f"{CASCOR}: already up to date" in said, said
    assert "pushed to origin" not in said and "not pushed: main already holds" in said, said
    assert not on_origin(origin)


def test_a_deleted_remote_branch_with_new_work_is_still_pushed(fleet, tmp_path):
    """The smaller list's item itself, kept: merged and deleted on origin, then a value changes in
    `.env`: the rebuilt branch has new work, and `apply --push` pushes it."""
    repo, origin, review = with_origin(fleet, tmp_path)
    merge_on_origin(review, "merge")
    git(repo, "fetch", "-q", "--prune", "origin")
    env = repo / ".env"
    env.write_text(env.read_text().replace("=", "=rotated-", 1))
    again = apply(fleet, CASCOR, push=True)
    assert again.code == 0 and "pushed to origin" in again.stdout, again.stdout
    assert git(origin, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)


def test_a_branch_applied_without_push_is_pushed_by_the_next_apply_push(fleet, tmp_path):
    """Not a merged branch: applied without `--push`, then `apply --push` with nothing to change
    pushes it (the tip has the tool's commit beyond main)."""
    repo = fleet.repo(CASCOR)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    assert apply(fleet, CASCOR).code == 0
    again = apply(fleet, CASCOR, push=True)
    assert again.code == 0 and "pushed to origin" in again.stdout, again.stdout
    assert git(origin, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)
