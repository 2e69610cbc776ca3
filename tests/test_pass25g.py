"""Issue 13, pass 25g: a verification pass over items 1-4 and the smaller branch items, and over the
guards pass 25d put on pasted deletes, moves and restores. Each test fails on the main this pass
started from (checked by undoing its fix)."""

from __future__ import annotations

import shutil

from tests.fleet import BRANCH
from tests.helpers import git
from tests.pasting import git_commands, paste, said_by, tip
from tests.test_adversary import apply

CASCOR = "juniper-cascor"
RECORD = f"refs/juniper-rollout/pushed/{BRANCH}"
SHELLS = ("bash", "sh", *(["zsh"] if shutil.which("zsh") else []))


def test_a_pasted_branch_delete_that_its_guard_stops_says_it_did_nothing(fleet, tmp_path):
    """NEW (pass 25d's guard, 13.1/13.4): "delete the rollout branch (`git -C C rev-parse … | grep -qx
    TIP && git -C C branch -D BRANCH`)" pasted after a reviewer's commit landed on the branch did
    nothing, as meant, but said nothing either (exit 1, no output): the user took the branch for
    deleted. Stopped, it now says so on stderr, in bash and in sh; at the printed tip it deletes."""
    assert apply(fleet, CASCOR).code == 0
    repo = fleet.repo(CASCOR)
    env = repo / ".env"
    lines = env.read_text().splitlines()
    lines[0] = lines[0].split("=", 1)[0] + "="
    env.write_text("\n".join(lines) + "\n")
    commands = [
        c
        for c in git_commands(said_by("plan", "-m", fleet.manifest, "--repo", CASCOR))
        if " branch -D " in c
    ]
    assert commands
    printed = tip(repo, BRANCH)
    tree = git(repo, "rev-parse", f"{BRANCH}^{{tree}}").strip()
    reviewer = git(repo, "commit-tree", "-p", BRANCH, "-m", "review: fix wording", tree).strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", reviewer)
    for shell in SHELLS:
        for command in commands:
            pasted = paste(command, tmp_path, shell)
            assert pasted.returncode != 0, command
            assert "nothing done" in pasted.stderr, f"{shell}: stopped silently: {pasted!r}"
    assert tip(repo, BRANCH) == reviewer
    git(repo, "update-ref", f"refs/heads/{BRANCH}", printed)
    for command in commands:
        pasted = paste(command, tmp_path, SHELLS[-1])
        assert pasted.returncode == 0, pasted
        assert "nothing done" not in pasted.stderr
    assert not tip(repo, BRANCH)


def test_a_pasted_restore_that_its_guard_stops_says_it_did_nothing(fleet, tmp_path):
    """NEW (pass 25d's `test ! -e` guard, 13.1): "bring the values back (`git -C C show RECORD:.env.enc
    | (umask 077 && test ! -e C/.env && … sops decrypt … --output=C/.env /dev/stdin)`)" pasted after a
    newer `.env` was written kept that file, as meant, but said nothing (exit 1): the user took the
    branch's values for restored. Stopped, it now says so; with no `.env` it restores them."""
    assert apply(fleet, CASCOR).code == 0
    repo = fleet.repo(CASCOR)
    git(repo, "update-ref", RECORD, BRANCH)
    git(repo, "branch", "-f", BRANCH, "main")
    (repo / ".env").rename(tmp_path / "moved-away.env")
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    commands = [c for c in git_commands(said) if " show " in c and "--output=" in c]
    assert commands, said
    newer = "HF_TOKEN=rotated-since-then-of-pass-25g\n"
    (repo / ".env").write_text(newer)
    for shell in SHELLS:
        for command in commands:
            pasted = paste(command, tmp_path, shell)
            assert pasted.returncode != 0, command
            assert "nothing done" in pasted.stderr, f"{shell}: stopped silently: {pasted!r}"
    assert (repo / ".env").read_text() == newer
    (repo / ".env").unlink()
    for command in commands:
        pasted = paste(command, tmp_path, SHELLS[-1])
        assert pasted.returncode == 0, pasted
        assert "nothing done" not in pasted.stderr
    assert (repo / ".env").read_text() == (tmp_path / "moved-away.env").read_text()
