"""Plan against what exists: the rollout branch when it sits on the current base (a change is a new
commit on top), the base when it moved (the branch is rebuilt, pushed with lease); a saved plan
applied twice is already up to date."""

from __future__ import annotations

import subprocess

import pyrage

from tests.fleet import BRANCH
from tests.helpers import git, rollout


def _origin(fleet, name: str):
    bare = fleet.root / "remotes" / f"{name}.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(fleet.repo(name)), str(bare)], check=True)
    git(fleet.repo(name), "remote", "add", "origin", str(bare))
    git(fleet.repo(name), "fetch", "-q", "origin")
    return bare


def test_after_apply_plan_is_clean_and_says_it_compared_with_the_branch(fleet):
    assert rollout("apply", "-m", fleet.manifest, "--yes").code == 0
    result = rollout("plan", "-m", fleet.manifest, "--detailed-exitcode")
    assert result.code == 0, result.stdout
    assert "7 repos: 0 with changes, 7 unchanged" in result.stdout
    assert result.stdout.count("compared with the branch: a change is a new commit on top") == 7


def test_a_rotation_is_one_commit_on_top_that_a_reviewer_can_pull(fleet, tmp_path):
    name = "juniper-cascor"
    repo = fleet.repo(name)
    bare = _origin(fleet, name)
    assert rollout("apply", "-m", fleet.manifest, "--yes", "--push", "--repo", name).code == 0
    first = git(repo, "rev-parse", BRANCH).strip()
    reviewer = tmp_path / "reviewer"
    subprocess.run(["git", "clone", "-q", "-b", BRANCH, str(bare), str(reviewer)], check=True)

    new_key = str(pyrage.x25519.Identity.generate().to_public())
    assert rollout("rotate", "-m", fleet.manifest, "--add", new_key).code == 0
    plan = rollout("plan", "-m", fleet.manifest, "--repo", name, "--detailed-exitcode")
    assert plan.code == 2
    lines = [
        ln.split()
        for ln in plan.stdout.splitlines()
        if ln.startswith("  ")
        and len(ln.split()) >= 2
        and ln.split()[1] in ("create", "update", "delete", "unchanged", "skip")
    ]
    changed = {words[0]: words[1] for words in lines if words[1] in ("create", "update", "delete")}
    assert changed == {".sops.yaml": "update", ".env.enc": "update"}, plan.stdout
    assert "re-key" in plan.stdout and f"(+{new_key[:12]}…)" in plan.stdout

    applied = rollout("apply", "-m", fleet.manifest, "--yes", "--push", "--repo", name)
    assert applied.code == 0 and "a new commit on top" in applied.stdout, applied.stdout
    second = git(repo, "rev-parse", BRANCH).strip()
    assert git(repo, "rev-parse", f"{BRANCH}^").strip() == first
    assert git(repo, "diff", "--name-only", first, second).split() == [".env.enc", ".sops.yaml"]
    subprocess.run(
        ["git", "-C", str(reviewer), "pull", "-q", "--ff-only"], check=True
    )  # a plain pull works
    assert git(reviewer, "rev-parse", "HEAD").strip() == second


def test_when_the_base_moved_the_branch_is_rebuilt_on_it_and_pushed_with_lease(fleet):
    name = "juniper-ml"
    repo = fleet.repo(name)
    bare = _origin(fleet, name)
    assert rollout("apply", "-m", fleet.manifest, "--yes", "--push", "--repo", name).code == 0
    moved = git(repo, "commit-tree", "-p", "main", "-m", "upstream work", "main^{tree}").strip()
    git(repo, "push", "-q", "origin", f"{moved}:refs/heads/main")
    plan = rollout("plan", "-m", fleet.manifest, "--repo", name)
    assert (
        "(origin/main; local main is 1 behind → chore/sops-age-rollout; base moved: the branch is rebuilt"
        in plan.stdout
    )
    applied = rollout("apply", "-m", fleet.manifest, "--yes", "--push", "--repo", name)
    assert applied.code == 0 and "rebuilt on main (it moved)" in applied.stdout, applied.stdout
    assert git(repo, "rev-parse", f"{BRANCH}^").strip() == moved
    remote_tip = subprocess.run(
        ["git", "--git-dir", str(bare), "rev-parse", BRANCH],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert remote_tip == git(repo, "rev-parse", BRANCH).strip()
    assert rollout("plan", "-m", fleet.manifest, "--repo", name, "--detailed-exitcode").code == 0


def test_a_saved_plan_applied_twice_is_already_up_to_date(fleet, tmp_path):
    assert rollout("apply", "-m", fleet.manifest, "--yes", "--repo", "juniper-ml").code == 0
    new_key = str(pyrage.x25519.Identity.generate().to_public())
    assert rollout("rotate", "-m", fleet.manifest, "--add", new_key).code == 0
    plan_file = tmp_path / "plan.json"
    assert (
        rollout("plan", "-m", fleet.manifest, "--repo", "juniper-ml", "--out", plan_file).code == 0
    )
    first = rollout("apply", plan_file, "-m", fleet.manifest, "--yes", "--repo", "juniper-ml")
    assert first.code == 0 and "juniper-ml: updated" in first.stdout, first.stdout
    tip = git(fleet.repo("juniper-ml"), "rev-parse", BRANCH)
    again = rollout("apply", plan_file, "-m", fleet.manifest, "--yes", "--repo", "juniper-ml")
    assert again.code == 0, again.stdout
    assert "juniper-ml: already up to date" in again.stdout and "stale" not in again.stdout
    assert git(fleet.repo("juniper-ml"), "rev-parse", BRANCH) == tip


def test_a_saved_plan_whose_branch_someone_else_moved_is_still_stale(fleet, tmp_path):
    assert rollout("apply", "-m", fleet.manifest, "--yes", "--repo", "juniper-ml").code == 0
    plan_file = tmp_path / "plan.json"
    new_key = str(pyrage.x25519.Identity.generate().to_public())
    assert rollout("rotate", "-m", fleet.manifest, "--add", new_key).code == 0
    assert (
        rollout("plan", "-m", fleet.manifest, "--repo", "juniper-ml", "--out", plan_file).code == 0
    )
    repo = fleet.repo("juniper-ml")
    other = git(repo, "commit-tree", "-p", BRANCH, "-m", "someone's", f"{BRANCH}^{{tree}}").strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", other)
    result = rollout("apply", plan_file, "-m", fleet.manifest, "--yes", "--repo", "juniper-ml")
    assert result.code == 1 and "stale plan for juniper-ml" in result.stdout
