"""A URL with no `@` whose "port" is a token: pass 14b stripped `https://x-access-token:TOKEN` but
left two shapes it noted open (issue 13, item 7): a token after a dotted user name
(`https://jane.doe:TOKEN`, read as host and port) was printed whole, and a password holding `/`
(`https://u:abc/def`) kept the part after the `/` in every line."""

from __future__ import annotations

import pytest

from tests.helpers import git, rollout

DOTTED = "https://jane.doe:ghp_Zq15DottedUser8aB3dE5fG7hJ9kL1mN3pQ5"
SLASHED = "https://deploy:Zq15Slash/Zq15AfterTheSlash"


@pytest.mark.parametrize("url", [DOTTED, SLASHED], ids=["dotted-user", "slash-in-password"])
def test_a_token_read_as_a_port_is_never_printed(fleet, monkeypatch, url):
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https")
    secret = url.split(":", 2)[2]
    pieces = [p for p in secret.split("/") if p]
    dry = rollout("bootstrap", "newone", "--manifest", fleet.manifest, "--url", url, "--dry-run")
    git(fleet.repo("juniper-ml"), "remote", "add", "origin", url)
    synced = rollout("sync", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    for result in (dry, synced):
        shown = result.stdout + result.stderr
        assert shown.strip(), "nothing said"
        assert not [p for p in pieces if p in shown], shown


def test_a_malformed_url_with_a_dotted_host_and_a_word_is_left_as_written():
    from juniper_rollout.urls import redact, strip_userinfo

    for url in ("https://github.com:org/r.git", "https://git.example.org:team/repo.git"):
        assert strip_userinfo(url) == url
        assert redact(f"cannot reach {url}", url) == f"cannot reach {url}"


@pytest.mark.parametrize("prefix", ["", "https::", "git::https::", "a::b::https::"])
def test_git_transport_prefixes_nested_or_not_hide_no_token(prefix):
    """git's `<transport>::<address>` may nest; every reader takes all of it off before reading the
    address (the redaction stripped two, the user-info reader one: `https::ssh::u:TOKEN@…` gave
    `ssh::u:TOKEN` as the user-info)."""
    from juniper_rollout.urls import redact, strip_userinfo, userinfo

    token = "ghp_Zq15NestedTransport8aB3dE5fG7hJ9kL1mN"
    url = f"{prefix}https://x-access-token:{token}@github.com/o/r.git"
    assert strip_userinfo(url) == f"{prefix}https://github.com/o/r.git"
    assert userinfo(url) == f"x-access-token:{token}"
    assert token not in redact(f"git clone {url} failed: could not read {token}", url)
