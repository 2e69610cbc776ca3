"""Every ref the tool deletes or writes besides the branch itself is taken as the ref, never what it
may point at (`update-ref --no-deref`; pass 17's note after its alias finding, issue 13 items 1 and 3):
a push record made a symbolic ref to another branch had cleanup delete that branch."""

from __future__ import annotations

from tests.demofleet import make_repo
from tests.helpers import git


def test_cleanup_deletes_the_push_record_never_the_branch_it_names(tmp_path):
    from juniper_rollout import remote

    repo = make_repo(tmp_path / "r", {"README.md": "x\n"})
    git(repo, "branch", "develop")
    git(repo, "branch", "chore/x")
    git(repo, "symbolic-ref", "refs/juniper-rollout/pushed/chore/x", "refs/heads/develop")
    remote.delete_local(repo, "chore/x", git(repo, "rev-parse", "chore/x").strip())
    assert git(repo, "branch", "--list", "develop").strip() == "develop"
    assert git(repo, "branch", "--list", "chore/x").strip() == ""
    assert git(repo, "for-each-ref", "refs/juniper-rollout/") == ""
