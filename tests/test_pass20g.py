"""Issue 13, pass 20g: a third look at items 5-8 (main f48f3db: the lead's forge token rule).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import os

import pytest

from tests.helpers import rollout

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

# --- the GitHub token never travels in clear to a host that only looks local -----------------------


@pytest.mark.parametrize(
    "url",
    ["http://127.evil.example/api/v3", "http://127.0.0.1.evil.example:8080/api/v3"],
    ids=["127-label", "127-0-0-1-label"],
)
def test_a_plain_http_api_url_whose_host_only_starts_like_loopback_is_refused(tmp_path, url):
    """`is_loopback` took any host starting `127.` for this machine, so `forge: {api_url:
    http://127.evil.example/…}` passed the plain-http refusal and the token (GH_ENTERPRISE_TOKEN
    since f48f3db, or $GITHUB_TOKEN with $GITHUB_API_URL) went in clear to whatever address that
    name's owner gives it (pass 20g)."""
    from tests.test_hostile import KEY

    path = tmp_path / "repos.yaml"
    path.write_text(
        f"version: 1\nworkspace: ws\nforge:\n  api_url: {url}\ndefaults:\n"
        f"  age_recipients: [{KEY}]\nrepos: []\n"
    )
    result = rollout("plan", "--manifest", path)
    assert result.code == 1, result.stdout + result.stderr
    assert f"{path}:4: forge.api_url '{url}' is plain http" in result.stderr


def test_the_environments_plain_http_api_url_whose_host_only_starts_like_loopback_is_refused(
    monkeypatch,
):
    from juniper_rollout.errors import RolloutError
    from juniper_rollout.forge import connect
    from juniper_rollout.urls import is_loopback

    monkeypatch.setenv("GITHUB_API_URL", "http://127.evil.example/api/v3")
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_NOTVALIDnotvalid")
    with pytest.raises(RolloutError, match="is not https"):
        connect(None)
    for url in (
        "http://127.0.0.1:8080/x",
        "http://127.3.4.5/x",
        "http://[::1]:9/x",
        "http://localhost/x",
    ):
        assert is_loopback(url), url


# --- gh, asked for a host only the manifest names, never answers with github.com's token -------------

# gh's own rule (go-gh, auth.tokenForHost) for a host it counts as an enterprise one:
# GH_ENTERPRISE_TOKEN, else GITHUB_ENTERPRISE_TOKEN, else, in a Codespace, $GITHUB_TOKEN
GH = """#!/bin/sh
test -n "$GH_ENTERPRISE_TOKEN" && { printf '%s\\n' "$GH_ENTERPRISE_TOKEN"; exit 0; }
test -n "$GITHUB_ENTERPRISE_TOKEN" && { printf '%s\\n' "$GITHUB_ENTERPRISE_TOKEN"; exit 0; }
test "$CODESPACES" = true && test -n "$GITHUB_TOKEN" && { printf '%s\\n' "$GITHUB_TOKEN"; exit 0; }
test -f "$GH_CONFIG_DIR/$4" && { cat "$GH_CONFIG_DIR/$4"; exit 0; }  # a host's stored login
echo "no oauth token found for $4" >&2
exit 1
"""


def test_gh_in_a_codespace_never_hands_githubs_token_to_the_manifests_host(
    loop, github, monkeypatch, tmp_path
):
    """f48f3db sent $GITHUB_TOKEN to github.com only, then asked gh for a token of the manifest's host;
    in a Codespace (CODESPACES=true, GITHUB_TOKEN set, gh installed, as GitHub sets them) gh answers
    that with $GITHUB_TOKEN for any host, so github.com's token went to `forge.api_url`'s host after
    all (pass 20g)."""
    api = os.environ["GITHUB_API_URL"]
    monkeypatch.delenv("GITHUB_API_URL")
    for name in ("GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(GH)
    (bin_dir / "gh").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("CODESPACES", "true")
    loop.manifest.write_text(
        loop.manifest.read_text().replace(
            "defaults:\n", f"forge: {{api_url: '{api}'}}\ndefaults:\n", 1
        )
    )
    result = rollout("status", "-m", loop.manifest)
    assert github.requests == [], result.stdout + result.stderr  # nothing sent, so no token
    assert result.code == 1
    assert "no token for 127.0.0.1 (the manifest's forge.api_url)" in result.stderr
    assert github.token not in result.stdout + result.stderr
    logins = tmp_path / "gh-config"  # gh still gives the token stored for that host
    logins.mkdir()
    (logins / "127.0.0.1").write_text(github.token + "\n")
    monkeypatch.setenv("GH_CONFIG_DIR", str(logins))
    assert rollout("status", "-m", loop.manifest).code == 0
    assert github.requests
