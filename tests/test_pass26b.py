"""Issue 13, pass 26b: a verification pass over items 5-8 (the leaks), session 30, after pass 25j.

Each finding's test fails on the main this pass started from (d10b97b, checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import rollout
from tests.test_pass24b import objects

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

# random, in each issuer's documented shape; each one passed as a name before the fix
_TOKENS = {
    "Replicate": "r8_tTHHzVJNplmPCPkP1lWJgprteVXKSNGF7Ehkv",  # r8_ and 37 of [A-Za-z0-9]
    "Adafruit IO": "aio_cpdPDyCLUrzKeesb1YmCg8NvdAQu",  # aio_ and 28
    "Supabase": "sb_secret_UjPfSOwNsEB2gkGrNCEYOY_ABxSKgUt",  # sb_secret_ and base64url
    "Alibaba Cloud": "LTAIBAFeWtfMMZVToRbEWJPz",  # LTAI and 12 or 20
    "Prefect": "pnu_bJKDXRycDi4fcnRBElqedHGzWhyrpPAIR4WN",  # pnu_ and 36
    "Databricks": "dapi333c31af43ca13198e36cffda51dfbaa",  # dapi and 32 hex
    "Tencent Cloud": "AKIDOofdRDKJcmcpMmdFD1QOiWbRYPmSi6Dm",  # AKID and 32
    "crates.io": "cio6ODeegYPftgDFCCWoOPrO0OObujWaxLh",  # cio and 32
}


@pytest.mark.parametrize("issuer", list(_TOKENS))
def test_an_issued_token_before_an_equals_sign_is_refused_never_echoed(
    tmp_path, monkeypatch, issuer
):
    """ON-LIST 13.8 (pass 25h's and 25j's finding, for more issued prefixes): a token of a real
    issuer's documented shape on a `.env` line before an `=` passed as a variable name (measured,
    300 random each: Alibaba 36%, Supabase 9%, Adafruit 7%, Replicate 2%, Prefect 1.7%, Tencent,
    crates.io and Databricks 1%): plan printed it among the names and `apply --yes` stored it as a
    plaintext key in the committed `.env.enc` and in `.env.example`. They join the known token
    shapes: refused with the line number, never echoed, nothing committed."""
    from tests.helpers import git
    from tests.test_pass25e import _one_repo

    token = _TOKENS[issuer]
    manifest = _one_repo(
        tmp_path,
        monkeypatch,
        {"README.md": "x\n"},
        f"APP_ENV=dev\nAPI_TOKEN=Zq26bValue9\n{token}=\n",
    )
    for command in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*command, "--manifest", manifest)
        out = result.stdout + result.stderr
        assert result.code == 1 and ".env:3:" in out, out
        assert token[5:15] not in out and "Zq26bValue9" not in out, out
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "branch", "--list").strip() == "* main"
    assert token[5:15].encode() not in objects(repo)


def test_names_with_these_issuers_words_are_still_names():
    """Control: variable names about these services, and their prefixes as words, are no tokens."""
    from juniper_rollout.dotenv import is_credential_name
    from juniper_rollout.secretshape import holds_full_token, names_credential

    names = (
        "REPLICATE_API_TOKEN",
        "r8_enabled",
        "ADAFRUIT_IO_KEY",
        "aio_sessions",
        "aio_MAX_CONNECTIONS_PER_HOST",
        "SUPABASE_SECRET_KEY",
        "sb_secret_key_for_the_local_stack",
        "sb_secret_service_role_key_local",
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "LTAIMPORTANT",
        "PREFECT_API_KEY",
        "pnu_retries",
        "DATABRICKS_TOKEN",
        "dapi_host",
        "dapiClientConnectionTimeoutMillis",
        "TENCENTCLOUD_SECRET_ID",
        "AKID_ROTATION_DAYS",
        "CARGO_REGISTRY_TOKEN",
        "cioConnectionPoolMaxIdleTimeoutMs",
        "HF_TOKEN_PATH",
        "SK_LEARN_SEED",
        "GHP_MODE",
    )
    for name in names:
        assert not is_credential_name(name), name
    prose = "pin aio_sessions, precociousnessAndMoreWordsInCamelCaseHere, dapi_host and r8_enabled"
    assert not holds_full_token(prose) and not names_credential(prose)
