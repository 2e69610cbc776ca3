"""Issue 13, pass 25j: a second verification pass over items 5-8 (the leaks), session 29, after pass 25h.

Each finding's test fails on the main this pass started from (b75f46a, checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import rollout
from tests.test_pass24b import objects

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

# random, in each issuer's documented shape; each one of those that passed as a name before the fix
_TOKENS = {
    "Render": "rnd_cob8CAI4BEHLLfvFBKrCvVsroyQb",  # rnd_ and 28 of [A-Za-z0-9]
    "Netlify": "nfp_db8SjbPYgsUEzfWdQXjSROvQSVj9DdEyAWWQ",  # nfp_ and 36-40 of [A-Za-z0-9]
    "Resend": "re_fbezzOaG_F7XnxtmlyQdhdPCm5jEnofWM",  # re_, 8, _, 24 of [A-Za-z0-9]
}


@pytest.mark.parametrize("issuer", list(_TOKENS))
@pytest.mark.parametrize("form", ["{T}=", "{T}=1", "export {T}="])
def test_a_render_netlify_or_resend_key_before_an_equals_sign_is_refused_never_echoed(
    tmp_path, monkeypatch, issuer, form
):
    """ON-LIST 13.8 (pass 25h's Docker Hub finding, for three more issued prefixes): a Render API
    key (`rnd_` + 28), a Netlify personal access token (`nfp_` + 36-40) or a Resend API key (`re_` +
    8 + `_` + 24) on a `.env` line before an `=` passed as a variable name (measured, 400 random
    each: 6.5%, 6.8%, 4.5%; the Known limit's figure for a random key of 32 characters is 1%):
    `apply --yes` stored it as a plaintext key in the committed `.env.enc` (and `.env.example`
    with `from: dotenv`). They join the known token shapes: refused with the line number, never
    echoed, nothing committed."""
    from tests.helpers import git
    from tests.test_pass25e import _one_repo

    token = _TOKENS[issuer]
    line = form.format(T=token)
    manifest = _one_repo(
        tmp_path, monkeypatch, {"README.md": "x\n"}, f"APP_ENV=dev\nAPI_TOKEN=Zq25jValue9\n{line}\n"
    )
    for command in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*command, "--manifest", manifest)
        out = result.stdout + result.stderr
        assert result.code == 1 and ".env:3:" in out, out
        assert token[4:14] not in out and "Zq25jValue9" not in out, out
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "branch", "--list").strip() == "* main"
    assert token[4:14].encode() not in objects(repo)


def test_names_with_render_netlify_resend_words_are_still_names():
    """Control: variable names about these services (and `re_`/`rnd_` words) are no tokens."""
    from juniper_rollout.dotenv import is_credential_name

    for name in (
        "RENDER_API_KEY",
        "rnd_seed",
        "rnd_SEED_FOR_TESTS",
        "NETLIFY_AUTH_TOKEN",
        "nfp_token",
        "RESEND_API_KEY",
        "re_enable_feature",
        "re_try_count_max",
        "re_ENABLED_FEATURES_FOR_USERS",
    ):
        assert not is_credential_name(name), name
