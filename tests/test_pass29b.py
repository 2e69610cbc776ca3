"""Issue 13, pass 29b: session 33's verification round over items 5-8, session 32's code for them
first. Each test fails on the main before its fix."""

from __future__ import annotations

import pytest

from tests.helpers import CANARY, encrypted_by_hand, rollout
from tests.pasting import git_commands, paste
from tests.test_adversary import apply
from tests.test_pass27d import _names_on_branch

CASCOR = "juniper-cascor"


@pytest.mark.parametrize(
    "name", ["log4j.rootLogger", "i18n.defaultLocale", "k8s.namespace", "2fa-secret", "e2e.baseUrl"]
)
def test_a_teammates_name_with_a_numeronym_is_never_dropped_with_its_value(fleet, name):
    """ON-LIST (13.1/13.8: pass 28a's camelCase spellings, with a word holding digits inside). A
    teammate's value under a dotted or dashed name with a part like `log4j`, `i18n`, `k8s`, `2fa` or
    `e2e` (log4j's own `log4j.rootLogger`) was taken for a token of pieces: plan said "drops 1 name
    shaped like a credential … rotate that credential", and apply wrote the branch without the
    value. Now it stops the repo as the other worded names do, until `.env` holds the value."""
    repo = fleet.repo(CASCOR)
    env = (repo / ".env").read_text()
    value = f"v-{CANARY}-numeronym"
    encrypted_by_hand(fleet, repo, (env + f"{name}={value}\n").encode())
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((plan.stdout + plan.stderr).split())
    assert plan.code == 1 and "holds 1 name that .env cannot hold" in said, said
    assert name not in said and CANARY not in said, said
    [command] = git_commands(said)
    printed = paste(command, fleet.root.parent)
    assert printed.returncode == 0 and f"{name}={value}" in printed.stdout, printed.stderr
    (repo / ".env").write_text(env + f"APP_SETTING={value}\n")
    assert apply(fleet, CASCOR).code == 0
    names = _names_on_branch(repo)
    assert "APP_SETTING" in names and name not in names, names
