"""Issue 13, pass 30f: session 34's round over today's reading of committed names (`dotenv.worded`,
`_words`, `_WORD`, `is_credential_name`, `secretshape.issued_tokens`), items 1, 8 and 9."""

from __future__ import annotations

import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import CANARY, git, rollout
from tests.test_adversary import apply
from tests.test_pass27d import _names_on_branch

CASCOR = "juniper-cascor"
# Real issuers' tokens, each of a documented shape, that lead 34's reading of a name's parts took
# for words joined by '.' or '-' (about 1 in 25-50 Discord bot tokens of a bot id starting 8 or 9, 1
# in 50 Contentful personal access tokens, 1 in 150-200 Plaid access tokens and Amazon MWS tokens)
TOKENS = (
    "ODU4ODQzNzk3MTE1MzU2NjQ0.bn2fZT.9zGEVr-nOIOkkCwNxNtx_mW2Zvo",  # Discord bot, `O…`
    "OTI4MTM4MjM1MjU0NjMzMzYz.z9hnXR.eeLqPdyaC1ONxJIgWruEIrhBpm0",
    "CFPAT-cJuuccUZwh_LKqC9FiLi7PCmPBMQFD-dr-YhkIZSiQ9",  # Contentful
    "access-production-c3926ff8-dfa8-420c-b6f6-a95cc3597786",  # Plaid
)


@pytest.mark.parametrize("token", TOKENS)
def test_an_issued_token_committed_as_a_name_is_never_read_as_a_teammates_words(fleet, token):
    """ON-LIST 13.8 (a bare token line becomes a name). Lead 34 read a committed name as words when
    each of its parts is one, however random the whole: a real token committed by plain sops as a
    `.env.enc` name, of an issuer whose shape the list lacked (Discord's bot token of an id starting
    8 or 9, `O…`; Contentful's `CFPAT-`; Plaid's `access-production-`), was then a teammate's worded
    name: plan stopped with "add its value to .env under a variable name" and verify "put its value
    in .env", never "rotate that credential", though sops keeps it in clear in git's history. Now
    it is a credential: plan drops it and asks for rotation, apply's branch holds neither it nor
    its value, verify says rotate, drift finds it; never shown."""
    from tests.test_pass30b import token_name_told_to_rotate

    repo = token_name_told_to_rotate(fleet, token)
    done = apply(fleet, CASCOR)
    said = " ".join((done.stdout + done.stderr).split())
    assert done.code == 0 and token not in said and CANARY not in said, said
    assert token not in _names_on_branch(repo)
    assert token not in git(repo, "show", f"{BRANCH}:.env.example")
    log = git(repo, "log", "--format=%B", f"main..{BRANCH}")
    assert token not in log and CANARY not in log


def test_a_long_hostile_worded_name_is_read_in_linear_time():
    """Item 11's neighbour: `_WORD` grew two alternatives (pass 30b) and a name's parts are read
    as words before its whole (lead 34): a committed name of a megabyte made of 64-character parts
    that almost match, and one of a single part, are judged in a fresh interpreter under a bound far
    above their linear cost (no timing assertion: a timeout of the run)."""
    code = (
        "from juniper_rollout import dotenv\n"
        "for name in ('AB1a' * 16 + '-') * 15000, 'x.' + 'A' * 1_000_000, ('a.' * 500_000), "
        "('EC2' * 21 + 'a.') * 15000:\n"
        "    dotenv.worded(name), dotenv.is_credential_name(name)\n"
    )
    import sys

    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_drift_names_a_plaintext_env_file_of_history_and_a_token_named_in_a_commit_message(fleet):
    """Item 9, held: a `.env.production` committed then deleted, its one line an issued token as a
    name (as a bare paste becomes one), and a commit message naming tokens of the shapes above:
    drift names the file of history and the message's credential, shows neither token."""
    repo = fleet.repo(CASCOR)
    (repo / ".env.production").write_text(f"{TOKENS[2]}=committed-in-history\n")
    git(repo, "add", "-f", ".env.production")
    git(repo, "commit", "-q", "-m", "add prod env")
    git(repo, "rm", "-q", ".env.production")
    git(repo, "commit", "-q", "-m", f"rotate {TOKENS[0]} and {TOKENS[3]}")
    drift = rollout("drift", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((drift.stdout + drift.stderr).split())
    assert ".env.production was committed in the past" in said, said
    assert "secret-in-message the message of commit" in said, said
    assert not any(token in said for token in TOKENS) and CANARY not in said


@pytest.mark.parametrize(
    "text",
    [
        "CONTENTFUL_TOKEN=CFPAT-" + "X" * 43,
        "CFPAT-YOUR_CONTENTFUL_PERSONAL_ACCESS_TOKEN_HERE_",
        "PLAID_ACCESS_TOKEN=access-sandbox-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    ],
)
def test_an_issuers_placeholder_in_a_template_or_message_is_no_token(text):
    """Control for the first test (a false refusal): a placeholder of the new shapes, as a README's
    or a template's example writes it, is no credential; teammates' names that merely name those
    issuers (`plaid.access-sandbox-token`, `contentful.cfpat-token`) stay worded names."""
    from juniper_rollout import dotenv
    from juniper_rollout.secretshape import holds_full_token, rendered_credentials

    assert not holds_full_token(text) and not list(rendered_credentials(text))
    for name in ("plaid.access-sandbox-token", "contentful.cfpat-token", "amzn.mws.auth-token"):
        assert dotenv.worded(name) and not dotenv.is_credential_name(name)
