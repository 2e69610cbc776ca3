"""Which of the tool's own commits on origin `apply --push` may push over (issue 13 items 4 and 10).

Pass 14a let a push go on when origin holds a commit the tool set its branch to (its reflog) but did
not record as pushed: a push cut short after origin took it. Pass 15 found the rule took ANY such
commit: origin moved back by a reviewer to an older push of the tool's was pushed over. Now only a
commit the tool set after its last recorded push is its own unrecorded push; an older one is said to
be a reset."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers import git, rollout
from tests.test_pass3 import BRANCH


def _main_moves(repo, name: str) -> None:
    (repo / "CHANGELOG.md").write_text(f"{name}\n")
    git(repo, "add", "CHANGELOG.md")
    git(repo, "commit", "-q", "-m", name)


def _apply(fleet, *push: str):
    return rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes", *push)


def _fleet_with_origin(fleet, tmp_path):
    repo = fleet.repo("juniper-ml")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    first = _apply(fleet, "--push")
    assert first.code == 0 and "pushed to origin" in first.stdout, first.stdout
    return repo, origin


@pytest.mark.parametrize("reflog", ["true", "false"])
def test_the_tools_commit_pushed_by_hand_after_its_last_push_is_pushed_over(
    fleet, tmp_path, reflog
):
    """Its own commit newer than the record (here the user pushed the rebuilt branch with plain git,
    as a push cut short after origin took it leaves it too): pushed on, the record moves. The tool
    logs its branch moves even where `core.logAllRefUpdates` is off (pass 14a's open item)."""
    git(fleet.repo("juniper-ml"), "config", "core.logAllRefUpdates", reflog)
    repo, origin = _fleet_with_origin(fleet, tmp_path)
    _main_moves(repo, "main moves once")
    assert _apply(fleet).code == 0
    git(repo, "push", "-q", "--force", "origin", BRANCH)  # a rebuild; the tool did not record it
    _main_moves(repo, "main moves twice")
    again = _apply(fleet, "--push")
    assert again.code == 0 and "pushed to origin" in again.stdout, again.stdout
    assert git(origin, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)


def test_origin_moved_back_to_an_older_push_of_the_tools_is_not_pushed_over(fleet, tmp_path):
    repo, origin = _fleet_with_origin(fleet, tmp_path)
    older = git(repo, "rev-parse", BRANCH).strip()
    _main_moves(repo, "main moves once")
    second = _apply(fleet, "--push")
    assert second.code == 0 and "pushed to origin" in second.stdout, second.stdout
    # a reviewer rejects the tool's latest push: origin's branch back to the first one
    git(origin, "update-ref", f"refs/heads/{BRANCH}", older)
    _main_moves(repo, "main moves twice")
    third = _apply(fleet, "--push")
    assert third.code == 1, third.stdout
    assert (
        f"origin/{BRANCH} was moved back to {older[:12]}, a commit the tool pushed before its last "
        "push (a reviewer's reset?)"
    ) in third.stdout, third.stdout
    assert git(origin, "rev-parse", BRANCH).strip() == older
    # the printed way on: delete the remote branch, and the push goes through
    git(origin, "update-ref", "-d", f"refs/heads/{BRANCH}")
    fourth = _apply(fleet, "--push")
    assert fourth.code == 0 and "pushed to origin" in fourth.stdout, fourth.stdout
    assert git(origin, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)
