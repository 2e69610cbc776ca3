"""Pass 14c (helper M): adversarial variants against the lead's round-four code (issue 13, item 1)."""

from __future__ import annotations

from tests.demofleet import CANARY
from tests.helpers import git, rollout
from tests.test_pass3 import BRANCH
from tests.test_pass10a import _apply, _decrypted
from tests.test_reverted_values import CASCOR, _teammate_sets_on_main


def _later_env_edit(repo) -> None:
    env = repo / ".env"
    env.write_text(env.read_text() + "NEW_SETTING=on\n")  # another name: .env is the later file


def test_a_teammates_value_is_kept_when_the_merged_branch_was_deleted(fleet, tmp_path):
    """The rollout branch merged, then deleted (what `rollout cleanup` does): no fork is known, and
    the later `.env` put the teammate's rotated value on main back to the old one."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "merge", "-q", "--ff-only", BRANCH)
    git(repo, "branch", "-q", "-D", BRANCH)
    _teammate_sets_on_main(repo, tmp_path, "HF_TOKEN", f"teammate-{CANARY}")
    _later_env_edit(repo)
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    assert "(HF_TOKEN), the value an earlier commit" in planned.stdout
    assert _apply(fleet, CASCOR).code == 1
    assert git(repo, "branch", "--list", BRANCH).strip() == ""
    # the user's own rotation of another name is no revert
    env = repo / ".env"
    shown = _decrypted(repo, "main", tmp_path)
    env.write_text(
        shown.replace("SCOUT_TOKEN=", f"SCOUT_TOKEN=rotated-{CANARY}-", 1) + "NEW_SETTING=on\n"
    )
    result = _apply(fleet, CASCOR)
    assert result.code == 0, result.stdout
    after = _decrypted(repo, BRANCH, tmp_path)
    assert f"HF_TOKEN=teammate-{CANARY}" in after and f"SCOUT_TOKEN=rotated-{CANARY}-" in after


def test_a_teammates_value_is_kept_after_a_squash_merge(fleet, tmp_path):
    """Squash-merged (the branch kept): its fork is the commit before `.env.enc` existed, so the
    three-way check had nothing to compare with and the teammate's value was put back."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "merge", "-q", "--squash", BRANCH)
    git(repo, "commit", "-qm", "squash the rollout")
    _teammate_sets_on_main(repo, tmp_path, "HF_TOKEN", f"teammate-{CANARY}")
    _later_env_edit(repo)
    tip = git(repo, "rev-parse", BRANCH).strip()
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    assert "(HF_TOKEN), the value an earlier commit" in planned.stdout
    assert _apply(fleet, CASCOR).code == 1
    assert git(repo, "rev-parse", BRANCH).strip() == tip
