"""Issue 13, pass 30b: session 34's look at session 33's worded names, token shapes, LFS ways out
and wording (`git diff cc9defb`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import CANARY, encrypted_by_hand, rollout
from tests.test_pass28a import worded_value_kept

CASCOR = "juniper-cascor"
# GitLab's personal access token (`glpat-` and 20 of `[0-9A-Za-z_-]`, GitLab's token page), Google's
# OAuth client secret (`GOCSPX-` and 28), a Vault service token (`hvs.` and 24) and a Modal key
# (`ak-` and 22): one of each in 10-50 read as words joined by '.' or '-'
TOKENS = (
    "glpat-nuYV_d8fNYvvDbzDZST6",
    "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",
    "hvs.ytponbfIGj5Gnjhp9YsBsxXu",
    "ak-bH64SknddeygSLbHLGDGAm",
)


@pytest.mark.parametrize("token", TOKENS)
def test_a_real_token_pasted_as_a_name_is_told_to_be_rotated_not_kept_as_words(fleet, token):
    """ON-LIST 13.8 (a bare token line becomes a name; pass 27d's worded names): a `.env.enc`
    committed by plain sops holding a real token as a name (GitLab's `glpat-` and 20, Google's
    `GOCSPX-` and 28, Vault's `hvs.` and 24, Modal's `ak-` and 22; no identifiers, so their shapes
    were only searched in values and prose) was read as words joined by '.' or '-' one time in
    10-70: plan stopped with "add its value to .env under a variable name" and verify "put its
    value in .env under a variable name", never "rotate that credential", though sops keeps it in
    clear in git's history; drift said nothing of it (1 in 1). Now it is a credential: dropped,
    drift's finding, rotation asked; never shown."""
    token_name_told_to_rotate(fleet, token)


@pytest.mark.parametrize(
    "name",
    [
        "aws.awsEC2InstanceId",
        "auth.jwtHS256Secret",
        "db.mySQL8Password",
        "server.useHTTP2Server",
        "crypto.hmacSHA256Key",
        "Neo4j.Password",
        "app.K8sToken",
    ],
)
def test_a_teammates_camel_case_name_with_an_acronym_and_digits_inside_is_never_dropped(
    fleet, name
):
    """ON-LIST (13.1: a value dropped on re-apply; spellings passes 29a's and 29e's `_WORD` missed).
    A teammate's value under a dotted name whose camel case holds an acronym of two or more capitals
    and digits before another word (`EC2Instance`, `HS256Secret`, `SQL8Password`), or a capitalised
    word with digits inside (`Neo4j`, `K8s`: ASP.NET's sections are capitalised) was no word: plan
    exited 0 with "drops 1 name shaped like a credential … rotate that credential", and apply wrote
    the branch without the value. Now it stops the repo as other worded names do, until `.env` holds
    the value; carried under a variable, it reaches the branch."""
    worded_value_kept(fleet, name, f"{CANARY}-acronym", "KEPT_VALUE")


@pytest.mark.parametrize(
    "name",
    ["slack.xoxb-token-for-workspace-bot", "stripe.sk-secret-key-for-production-environment"],
)
def test_lower_case_words_after_a_token_prefix_stay_a_teammates_worded_name(name):
    """Control for the first test: a dotted name whose words follow a token's prefix, with no digit
    nor capital after it, is a worded name (its value kept), not a credential."""
    from juniper_rollout import dotenv

    assert dotenv.worded(name) and not dotenv.is_credential_name(name)


def token_name_told_to_rotate(fleet, token: str) -> Path:
    """``token`` committed by plain sops as a name in main's `.env.enc` (its value the canary): plan
    asks for rotation, never for a variable name; verify says rotate; drift finds it; never shown."""
    repo = fleet.repo(CASCOR)
    clean = (repo / ".env").read_text()
    encrypted_by_hand(fleet, repo, (clean + f"{token}={CANARY}-tok\n").encode())
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((plan.stdout + plan.stderr).split())
    assert "rotate that credential" in said and "under a variable name" not in said, said
    assert token not in said
    verify = rollout("verify", "--manifest", fleet.manifest, "--repo", CASCOR, "--ref", "main")
    said = " ".join((verify.stdout + verify.stderr).split())
    assert "rotate" in said and "words joined" not in said and token not in said, said
    drift = rollout("drift", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((drift.stdout + drift.stderr).split())
    assert ".env.enc:16 holds a name shaped like a credential" in said and token not in said, said
    assert CANARY not in said
    return repo
