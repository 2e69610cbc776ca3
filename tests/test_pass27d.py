"""Issue 13, pass 27d: the second verification round over items 1-4 and the smaller list's first four
bullets, on the merged code (pass 27a's fixes, lead 31's drop of names `.env` cannot hold). Each test
fails on the main before its fix."""

from __future__ import annotations

import pytest

from tests.fleet import BRANCH
from tests.helpers import CANARY, encrypted_by_hand, git, rollout
from tests.pasting import git_commands, paste
from tests.test_adversary import apply

CASCOR = "juniper-cascor"


def _names_on_branch(repo) -> list[str]:
    held = git(repo, "show", f"{BRANCH}:.env.enc").splitlines()
    return [line.split("=", 1)[0] for line in held if "=" in line and not line.startswith("sops_")]


@pytest.mark.parametrize("name", ["stripe-webhook-secret", "app.db.password"])
def test_a_teammates_value_under_a_name_env_cannot_hold_is_never_dropped(fleet, name):
    """ON-LIST (13.1: a value dropped on re-apply). A teammate's `sops set` adds a value to main's
    `.env.enc` under a name node's dotenv (or a YAML file) reads as a variable, `stripe-webhook-secret`;
    the clone's `.env` lacks it (its parser takes identifiers only). Lead 31's drop of names `.env`
    cannot hold took it for a pasted token: plan said "drops 1 name shaped like a credential … rotate
    that credential", apply said "created", and the branch's `.env.enc` (main's once merged) lost the
    value. Now the repo is refused (the name not shown); its command, pasted from another folder,
    prints the committed values; with the value added to `.env` under a variable name the branch
    carries it."""
    repo = fleet.repo(CASCOR)
    env = (repo / ".env").read_text()
    value = f"whsec_{CANARY}-worded"
    encrypted_by_hand(fleet, repo, (env + f"{name}={value}\n").encode())
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((plan.stdout + plan.stderr).split())
    assert plan.code == 1 and "holds 1 name that .env cannot hold" in said, said
    assert name not in said and CANARY not in said, said
    assert apply(fleet, CASCOR).code == 1 and not git(repo, "branch", "--list", BRANCH).strip()
    [command] = git_commands(said)
    printed = paste(command, fleet.root.parent)
    assert printed.returncode == 0 and f"{name}={value}" in printed.stdout, printed.stderr
    (repo / ".env").write_text(env + f"STRIPE_SECRET={value}\n")  # kept under a variable name
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    assert plan.code == 0 and name not in plan.stdout + plan.stderr, plan.stdout
    assert apply(fleet, CASCOR).code == 0
    names = _names_on_branch(repo)
    assert "STRIPE_SECRET" in names and name not in names, names


def test_a_token_of_pieces_with_no_value_is_still_dropped(fleet):
    """Control: lead 31's drop stands for what is no name: a token of short pieces (`sk-aB-3dE5-fG7h`,
    mixed-case pieces, not words) and an empty worded name (no value to lose)."""
    repo = fleet.repo(CASCOR)
    env = (repo / ".env").read_text()
    encrypted_by_hand(
        fleet, repo, (env + f"sk-aB-3dE5-fG7h={CANARY}-pieces\ncorrect-horse-battery=\n").encode()
    )
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join(plan.stdout.split())
    assert plan.code == 0 and "drops 2 names shaped like a credential" in said, said
    assert "sk-aB" not in said and "correct-horse" not in said and CANARY not in said, said


def test_a_value_the_same_by_chance_under_a_name_both_hold_is_no_carry(fleet):
    """`feature.flag=true` added on main beside `EXISTING_FLAG=true`, which `.env` holds too: the
    value is in `.env`, but under a name the committed file holds already, so it was not carried over;
    the repo stops (no `.env` name holds it anew)."""
    repo = fleet.repo(CASCOR)
    env = (repo / ".env").read_text() + "EXISTING_FLAG=true\n"
    encrypted_by_hand(fleet, repo, (env + "feature.flag=true\n").encode())
    (repo / ".env").write_text(env)
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join(plan.stdout.split())
    assert plan.code == 1 and "holds 1 name that .env cannot hold" in said, said
