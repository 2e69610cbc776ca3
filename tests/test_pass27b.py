"""Issue 13, pass 27b: a verification pass over items 5-8 (the leaks), session 31, after passes 26b-26i.

Each finding's test fails on the main this pass started from (c50c1dd, checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.leakshapes import template_and_message_refused, token_name_refused

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

# random, in each issuer's documented shape; each one passed as a name before the fix (measured, 1,000
# random each: Mollie 8%, Checkout.com 8-10%)
_NAMED_TOKENS = {
    "Mollie live": "live_adLXOYgEbn9PAwjZvqEejoeIVvBZ0p",  # live_ and 30 (Mollie's SDK)
    "Mollie test": "test_RUE0WRGHTMDG4iStljitnCqxzZvOkw",  # test_ and 30
    "Checkout.com": "sk_wu5cyqeaqdyenyqp3nkiyplfvqm",  # sk_ and 27 of [a-z2-7] (its SDK)
    "Checkout.com sandbox": "sk_sbox_gxbkrcwtmfvfyzflboli6roinma",  # sk_sbox_ and 27
}


@pytest.mark.parametrize("issuer", list(_NAMED_TOKENS))
def test_a_mollie_or_checkout_key_before_an_equals_sign_is_refused_never_echoed(
    tmp_path, monkeypatch, issuer
):
    """ON-LIST 13.8: a Mollie API key (`live_`/`test_` and 30) or a Checkout.com secret key (`sk_`,
    `sk_sbox_` and 27 of base32's lower case) on a `.env` line before an `=` passed as a variable
    name about one time in ten: `rollout plan` counted it among the names, `apply --yes` committed
    it as a plaintext key of `.env.enc`, and the next apply printed it as a name `.env` lacked.
    Refused now with the line number, never echoed, nothing committed."""
    token = _NAMED_TOKENS[issuer]
    token_name_refused(tmp_path, monkeypatch, token, token[-20:-5])


# in each issuer's documented shape: CircleCI's changelog (`CCIPAT_`/`CCIPRJ_`, a base58 UUID, `_`,
# 40 hex), Buildkite's token security page (`bkua_`, `bkaa_`, `bkaj_`), Notion's legacy integration
# token (`secret_` and 43, beside today's `ntn_`)
_ISSUED = {
    "CircleCI personal": "CCIPAT_ULUhR6rJLxYbyzyrP19iMZ_8fb1e3510325f7f09361de22b9420346c53ca2cb",
    "CircleCI project": "CCIPRJ_Kq7wYbZ3xNmPdR2tVcHsFg_3c5d7e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "Buildkite": "bkua_3f9a1c2e4b5d6a7f8091a2b3c4d5e6f708192a3b",
    "Notion legacy": "secret_Vq3Wex9s87FnkNXk2Yibko91hhLuMQIEzSoeBBoriUz",  # secret_ and 43
}


@pytest.mark.parametrize("issuer", list(_ISSUED))
def test_a_template_or_commit_message_holding_a_ci_token_is_refused(tmp_path, issuer):
    """ON-LIST 13.6: a template holding a CircleCI personal or project API token, a Buildkite API
    access token or a Notion legacy integration token was rendered: `rollout plan` showed it in the
    diff and apply committed it; the manifest's commit message holding one was committed. Both are
    refused now in one line, never echoed."""
    template_and_message_refused(tmp_path, _ISSUED[issuer], "ci: rotate to {token}")


def test_words_and_names_like_these_shapes_are_still_no_tokens():
    """Control: names, test names and prose like the new shapes are no tokens."""
    from juniper_rollout.dotenv import is_credential_name
    from juniper_rollout.secretshape import holds_full_token, template_credential

    for name in (
        "MOLLIE_API_KEY",
        "live_reload_enabled",
        "test_database_url",
        "test_returnsEmptyListWhenNoItemsGiven",
        "sk_learn_version",
        "CHECKOUT_SECRET_KEY",
        "CIRCLE_TOKEN",
        "BUILDKITE_AGENT_TOKEN",
        "bkua_prefix",
        "secret_key_base",
        "NOTION_SECRET",
    ):
        assert not is_credential_name(name), name
    for text in (
        "fix test_shouldReturnEmptyListWhenNoItemsArePresent2 and test_parsesIso8601DatesInUtcZone",
        "Mollie keys start live_ or test_; Checkout.com's sk_sbox_ ones are sandbox keys",
        "CircleCI tokens now start CCIPAT_ or CCIPRJ_; Buildkite's bkua_, bkaa_ and bkaj_",
        "Notion's legacy tokens start secret_, today's ntn_; rails' secret_key_base",
        "pytest -k test_abcdefghijklmnopqrstuvwxyzABCD",  # no digit: a test's name
    ):
        assert not holds_full_token(text) and not template_credential(text), text
