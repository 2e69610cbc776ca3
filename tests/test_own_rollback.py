"""Your own rollback of your own rotation is no stale copy (issue 13 item 1; pass 15's open item a).

Pass 14c refuses a `.env` value that an earlier commit of the base's `.env.enc` held and a later one
replaced, when no fork is known (the branch merged, then deleted): that is how a teammate's rotation
would be put back. It also refused the user rolling back their own rotation (merged, branch cleaned
up, the new token broke something). A later version written by you through the tool (a commit
exactly as the tool writes it, under this clone's identity) is now your own change; a commit of
anyone else's that changed the value still refuses."""

from __future__ import annotations

import pytest

from tests.demofleet import CANARY
from tests.helpers import git
from tests.test_pass3 import BRANCH
from tests.test_pass10a import _apply, _decrypted
from tests.test_reverted_values import CASCOR, _teammate_sets_on_main

FIRST = f"first-{CANARY}-aa11"
ROTATED = f"rotated-{CANARY}-bb22"


def _set_in_env(repo, name: str, value: str) -> None:
    env = repo / ".env"
    lines = [
        f"{name}={value}" if line.startswith(f"{name}=") else line
        for line in env.read_text().splitlines()
    ]
    env.write_text("\n".join(lines) + "\n")


def _merge_and_clean_up(repo, how: str) -> None:
    git(repo, "merge", "-q", how, "-m", "merge the rollout", BRANCH)
    git(repo, "branch", "-q", "-D", BRANCH)


@pytest.mark.parametrize("how", ["--ff-only", "--no-ff"])
def test_rolling_back_your_own_merged_rotation_is_planned(fleet, tmp_path, how):
    repo = fleet.repo(CASCOR)
    _set_in_env(repo, "HF_TOKEN", FIRST)
    assert _apply(fleet, CASCOR).code == 0
    _merge_and_clean_up(repo, how)
    _set_in_env(repo, "HF_TOKEN", ROTATED)  # your rotation, through the tool
    assert _apply(fleet, CASCOR).code == 0
    _merge_and_clean_up(repo, how)
    _set_in_env(repo, "HF_TOKEN", FIRST)  # the new token broke something: back to the first
    result = _apply(fleet, CASCOR)
    assert result.code == 0 and "created" in result.stdout, result.stdout
    assert f"HF_TOKEN={FIRST}" in _decrypted(repo, BRANCH, tmp_path)


def test_a_teammates_rotation_in_between_still_refuses_the_rollback(fleet, tmp_path):
    """Your rotation, then a teammate's `sops edit` of the same value on main: `.env` holding your
    first value again would put back more than your own change."""
    repo = fleet.repo(CASCOR)
    _set_in_env(repo, "HF_TOKEN", FIRST)
    assert _apply(fleet, CASCOR).code == 0
    _merge_and_clean_up(repo, "--ff-only")
    _teammate_sets_on_main(repo, tmp_path, "HF_TOKEN", ROTATED)
    _set_in_env(repo, "HF_TOKEN", FIRST)
    (repo / ".env").write_text((repo / ".env").read_text() + "NEW_SETTING=on\n")  # the later file
    result = _apply(fleet, CASCOR)
    assert result.code == 1, result.stdout
    assert "(HF_TOKEN), the value an earlier commit" in result.stdout
    assert git(repo, "branch", "--list", BRANCH).strip() == ""


def test_a_rotation_made_with_the_tool_under_another_identity_is_not_yours(
    fleet, tmp_path, monkeypatch
):
    """A teammate who rotates with juniper-rollout too writes the tool's commits, under their name:
    rolling theirs back is refused as a `sops edit` would be."""
    repo = fleet.repo(CASCOR)
    _set_in_env(repo, "HF_TOKEN", FIRST)
    assert _apply(fleet, CASCOR).code == 0
    _merge_and_clean_up(repo, "--ff-only")
    with monkeypatch.context() as teammate:
        teammate.setenv("GIT_COMMITTER_NAME", "Tea Mate")
        teammate.setenv("GIT_COMMITTER_EMAIL", "teammate@example.invalid")
        _set_in_env(repo, "HF_TOKEN", ROTATED)
        assert _apply(fleet, CASCOR).code == 0
        _merge_and_clean_up(repo, "--ff-only")
    _set_in_env(repo, "HF_TOKEN", FIRST)
    result = _apply(fleet, CASCOR)
    assert result.code == 1, result.stdout
    assert "(HF_TOKEN), the value an earlier commit" in result.stdout
