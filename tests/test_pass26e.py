"""Issue 13, pass 26e: a verification pass over items 5-8 (the leaks), session 30, after pass 26b.

Each finding's test fails on the main this pass started from (1c7fb6d, checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import rollout
from tests.leakshapes import template_and_message_refused, token_name_refused
from tests.test_pass24b import objects

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

# text real templates hold, each refused as "holds a credential" before the fix
_PUBLIC_TEMPLATES = {
    # Hugging Face's own install line for its fast-download extra (`hf_` and 8 letters)
    "hf_transfer": 'RUN pip install "huggingface_hub[hf_transfer]"\n',
    # a locale list: Slovak is `sk-SK` (`sk-` and 2 characters after a blank)
    "Slovak locale": "locales: [en-US, de-DE, cs-CZ, sk-SK]\n",
    # npm's own script variable (`npm_` and 8 letters)
    "npm_lifecycle_event": 'echo "running $npm_lifecycle_event"\n',
    # a word joined by `_` (Resend's `re_`, 8, `_`, 20 read inside it)
    "joined words": "store_settings_internationalization: true\n",
    # a public CA certificate rolled out fleet-wide (`-----BEGIN` alone was a "token shape")
    "CA certificate": "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUYk\n-----END CERTIFICATE-----\n",
    "words like prefixes": "panels: [highs_and_lows, whsec_rotation, xoxa-legacy, AIzaGuidelines]\n",
}


@pytest.mark.parametrize("case", list(_PUBLIC_TEMPLATES))
def test_templates_naming_public_words_like_token_prefixes_still_render(tmp_path, case):
    """NEW (a false refusal, 13.6): a template holding a public word that starts like a token
    (`hf_transfer`, the locale `sk-SK`, `$npm_lifecycle_event`) was refused as holding a
    credential: the token shapes' template form asked for the prefix and 8 characters (2 for
    `sk-`), where every issuer's token is 30 or more. Now the issued length is asked, and the plan
    renders them."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", _PUBLIC_TEMPLATES[case])
    result = rollout("plan", "--manifest", manifest)
    out = result.stdout + result.stderr
    assert result.code == 0 and "holds a credential" not in out, out


def test_a_ref_named_like_a_token_prefix_is_still_verified(tmp_path):
    """NEW (a false refusal, 13.5's `--ref`): `rollout verify --ref feat/hf_transfer` said "--ref
    holds a URL with a password or a token; nothing read": a token's prefix and 8 characters was
    enough. Now a token at its issued length is (a pasted token is whole)."""
    from tests.helpers import git
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "notes\n")
    git(tmp_path / "ws" / "victim", "branch", "feat/hf_transfer")
    result = rollout("verify", "--manifest", manifest, "--ref", "feat/hf_transfer")
    out = result.stdout + result.stderr
    assert "holds a URL with a password or a token" not in out, out


# random, in each issuer's documented shape (gitleaks' rules; Telegram's BotFather docs)
_ISSUED = {
    "Atlassian": "ATATT3xFfGF0zA3hq9fv2F0zdCsqB9XUFddLpfa7OO23zhGzX2thmjqfg0BVlPn0f16jfTmEkrJS3S8Xef"
    "tbo8exec2gL2uiLvmiec2cJ_PYdmoA4ENDsXZOkitfdsYFPizJP38B-EamncBBmsrevvhgX_o1ARvDhbMH1y4-PGJL8gHZ"
    "hgNxLDCG1d=A6E93030",
    "Telegram bot": "7862868271:AAhjrWkTp9Y-y1GHm_iV7CIsnMCSr-g7n59",
    "Airtable": "pattoS1CVCEnkfreM.761387e35bded68634c9f2e194bfbb0ad00b5bb741bd2407ff543cc819d9fc61",
    "Azure AD client secret": "Crk8Q~FttVdT~nuUTQX_JK2O1~KNJXJ8_TKhTZHx",
    "Discord bot": "M3QpMnERmefMx4j546mEv0d9TS.-GEM2v.eWzfhRRyUX0LgkkPTj7aIdHpG7UM4M4QMHuNI-",
    "LangSmith": "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",
    "Pinecone": "pcsk_leQG4h_RQhAKa9dUBwlqLY0sa9zLsjBNwI8awduEBCtinXhPq4XELKxpPaiidMRNGexLBH",
}


@pytest.mark.parametrize("issuer", list(_ISSUED))
def test_a_template_or_commit_message_holding_these_issuers_tokens_is_refused(tmp_path, issuer):
    """ON-LIST 13.6 (pass 26b's F4, more issuers): a template holding an Atlassian, Telegram bot,
    Airtable, Azure AD client secret, Discord bot, LangSmith or Pinecone token was rendered: `rollout
    plan` showed it in the diff and apply committed it; the manifest's commit message holding one
    was committed. Now both are refused in one line, never echoed."""
    token = _ISSUED[issuer]
    template_and_message_refused(tmp_path, token, "chore: bot {token}", secret=token[12:24])


_KEYS = {
    "PGP private key block": "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    "PuTTY key file": "PuTTY-User-Key-File-3: ssh-ed25519",
}


@pytest.mark.parametrize("kind", list(_KEYS))
def test_a_commit_message_holding_a_private_key_header_is_refused(tmp_path, kind):
    """ON-LIST 13.6: the manifest's commit message holding a PGP private key block or a PuTTY key
    file was committed (prose asked for `PRIVATE KEY-----`, which neither ends its header with)."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "notes\n")
    header = _KEYS[kind]
    manifest.write_text(
        manifest.read_text().replace(
            "defaults:\n", f'defaults:\n  commit_message: "chore: key {header} lQdGBF"\n'
        )
    )
    result = rollout("plan", "--manifest", manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and "repos.yaml:" in out, out


def test_a_commit_message_naming_a_cache_key_by_its_md5_is_committed(tmp_path):
    """NEW (a false refusal of pass 26b's Mailgun shape, 13.6): a commit message `ci: bump cache
    key-<md5>` was refused as holding a credential. A legacy Mailgun key is `key-` and 32 hex digits,
    which names a cache or an object too: now only where Mailgun is named before it."""
    from juniper_rollout.secretshape import holds_full_token
    from tests.test_pass11b import _one_repo_with_a_template

    md5 = "5d41402abc4b2a76b9719d911017c592"
    assert holds_full_token(f"MAILGUN_API_KEY=key-{md5}")
    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "notes\n")
    manifest.write_text(
        manifest.read_text().replace(
            "defaults:\n", f'defaults:\n  commit_message: "ci: bump cache key-{md5}"\n'
        )
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr


_NAMED = {
    "MaxMind": "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",
    "SettleMint": "sm_pat_v6iYyEUGGxeR2zrG",
    "Hugging Face organization": "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",
}


@pytest.mark.parametrize("issuer", list(_NAMED))
def test_these_issuers_tokens_before_an_equals_sign_are_refused(tmp_path, monkeypatch, issuer):
    """ON-LIST 13.8: a MaxMind license key (5% of them), a SettleMint token (all) or a Hugging Face
    organization token (1%) on a `.env` line before an `=` passed as a variable name: plan printed it
    and apply committed it in `.env.example`. Now refused with the line number, never echoed."""
    token = _NAMED[issuer]
    token_name_refused(tmp_path, monkeypatch, token, token[7:17])


def test_names_like_these_issuers_prefixes_are_still_names():
    """Control: variable names and words like the new shapes are no tokens."""
    from juniper_rollout.dotenv import is_credential_name
    from juniper_rollout.secretshape import holds_full_token, template_credential

    for name in (
        "sm_pat_expiry_days",
        "api_org_name",
        "YC_REGION",
        "YC_SERVICE_ACCOUNT_KEY_FILE_FOR_PROD_APP",
        "AQVN_HOST",
        "GEOIP_mmk",
    ):
        assert not is_credential_name(name), name
    for text in (
        "see API-REFERENCE-GUIDE and pat.settings.value, sha256~sum, ico-file",
        "12345678:AA is the bot id; sl.example.com; v1.0-beta",
        "ak-47 and as-is",
        "MessageBrokerConfiguration.config.connectionPoolMaximumIdleTimeout",
        "YC_SERVICE_ACCOUNT_KEY_FILE_FOR_PROD_APP",
    ):
        assert not holds_full_token(text) and not template_credential(text), text


def test_a_manifest_example_default_like_a_token_prefix_still_loads(tmp_path):
    """NEW (a false refusal, 13.6's "whatever the manifest says"): an `env_example` group's default
    `DEFAULT_LOCALE: sk-SK` (or `hf_transfer`, `highs_and_lows`) was refused at load, "carries a
    credential": the example's defaults were asked for a token's prefix. Now for a token at its
    issued length, as templates are; one still refused, never echoed."""
    from tests.demofleet import make_repo
    from tests.test_hostile import KEY
    from tests.test_pass3 import BARE

    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    manifest = tmp_path / "repos.yaml"
    text = (
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"repos:\n  - name: victim\n{BARE}"
    )
    groups = "[{DEFAULT_LOCALE: sk-SK}, {HF_EXTRA: hf_transfer}, {PANELS: highs_and_lows}]"
    manifest.write_text(
        text + f"    env_example: {{groups: [{{title: Locale, vars: {groups}}}]}}\n"
    )
    result = rollout("plan", "--manifest", manifest)
    out = result.stdout + result.stderr
    assert result.code == 0 and "sk-SK" in out, out
    token = _ISSUED["Telegram bot"]
    manifest.write_text(text + f"    env_example: {{groups: [{{vars: [{{BOT: '{token}'}}]}}]}}\n")
    result = rollout("plan", "--manifest", manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and "repos.yaml:" in out and token[12:24] not in out, out


_PIECES = {
    "concatenated": '{{ "gh" ~ "p_Zq26eTokenAbcdefghijklmnopqrstuvwx12" }}',
    "joined": '{{ ["ghp_Zq26eTok", "enAbcdefghijklmnopqrstuvwx12"]|join }}',
    "replaced": '{{ "ghX_Zq26eTokenAbcdefghijklmnopqrstuvwx12"|replace("X", "p") }}',
    "reversed": '{{ "21xwvutsrqponmlkjihgfedcbAnekoTe62qZ_phg"|reverse }}',
    "Telegram, concatenated": '{{ "786286" ~ "8271:AAhjrWkTp9Y-y1GHm_iV7CIsnMCSr-g7n59" }}',
}


@pytest.mark.parametrize("case", list(_PIECES))
def test_a_token_a_template_renders_from_pieces_is_refused_never_shown(tmp_path, case):
    """ON-LIST 13.6 ("a rendered file carries …": a templates folder never holds a credential): a
    template holding a token in pieces (concatenated, joined, replaced, reversed) passed the check of
    its text, and `rollout plan` showed the token whole in the diff. What a template renders is
    checked for a token at its issued length too; never echoed."""
    from tests.helpers import git
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", f"token: {_PIECES[case]}\n")
    for command in (("plan",), ("apply", "--yes")):
        result = rollout(*command, "--manifest", manifest)
        out = result.stdout + result.stderr
        assert result.code == 1 and "renders a token" in out, out
        assert "Zq26eTokenAbcdef" not in out and "AAhjrWkTp9Y" not in out, out
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "branch", "--list").strip() == "* main"
    assert b"Zq26eTokenAbcdef" not in objects(repo)
