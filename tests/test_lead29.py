"""Issue 13, the lead's findings of session 29 (from the passes' notes). Each test fails on the main
it was written against (checked by undoing its fix)."""

from __future__ import annotations

import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_adversary import apply, tree_with

RECORD = f"refs/juniper-rollout/pushed/{BRANCH}"


@pytest.mark.usefixtures("loopback_only")
def test_forgetting_the_pushed_copy_keeps_the_record_when_origins_delete_is_refused(loop, tmp_path):
    """ON-LIST 13.1 (pass 25g's note): apply --push; the local rollout branch deleted; `.env` leaves a
    committed value empty. The way to empty it on purpose, "forget the rollout branch's last pushed
    copy (`git -C CLONE update-ref -d RECORD OLD && git -C CLONE push --force-with-lease=… origin
    --delete -- BRANCH`)", deleted the push record first: pasted after a reviewer pushed onto origin's
    branch, git refused the delete ("stale info") but the record, the tool's memory of what it pushed
    (which keeps the next apply from pushing over origin's copy), was gone already. Origin's leased
    delete now comes first; the record goes only once it succeeded."""
    repo = loop.repo("juniper-cascor")
    assert apply(loop, "juniper-cascor", push=True).code == 0
    pushed = git(repo, "rev-parse", RECORD).strip()
    git(repo, "branch", "-D", BRANCH)
    env = repo / ".env"
    lines = env.read_text().splitlines()
    lines[0] = lines[0].split("=", 1)[0] + "="
    env.write_text("\n".join(lines) + "\n")
    said = " ".join(rollout("plan", "-m", loop.manifest, "--repo", "juniper-cascor").stdout.split())
    forget = [c for c in said.split("`") if c.startswith("git ") and " --delete " in c]
    assert forget and " update-ref -d " in forget[0], said
    # a reviewer pushes onto origin's branch after the line was printed (not fetched here)
    tree = tree_with(repo, pushed, {"REVIEW.md": "a reviewer's notes\n"}, tmp_path)
    reviewers = git(repo, "commit-tree", "-p", pushed, "-m", "review", tree).strip()
    git(repo, "push", "-q", "origin", f"{reviewers}:refs/heads/{BRANCH}")
    done = subprocess.run(["bash", "-c", forget[0]], cwd=repo, capture_output=True, text=True)
    assert done.returncode != 0, done.stderr
    assert git(repo, "ls-remote", "origin", BRANCH).split()[:1] == [reviewers]
    kept = git(repo, "for-each-ref", "--format=%(objectname)", RECORD).strip()
    assert kept == pushed, "the push record went, origin's copy stayed"
    # as printed for (origin back at the tool's commit), the same line forgets both copies
    git(repo, "push", "-q", "--force", "origin", f"{pushed}:refs/heads/{BRANCH}")
    done = subprocess.run(["bash", "-c", forget[0]], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not git(repo, "ls-remote", "origin", BRANCH).strip()
    assert not git(repo, "for-each-ref", RECORD).strip()
