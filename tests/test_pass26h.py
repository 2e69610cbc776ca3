"""Issue 13, pass 26h: a short verification pass over items 5-8, aimed at passes 26b/26e/26f's code.

Each finding's test fails on the main this pass started from (266f6e8, checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import rollout
from tests.test_pass24b import objects

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

_BODY = "Zq26hTokenAbcdefghijklmnopqrstuvwx12"
# a token a template renders from pieces *and* escaped, as the rendered file's reader decodes it
# (a YAML/JSON string's `\x5f`/`\u005f`, a URL's `%5F`, an HTML reference, base64): the check of
# what a template renders read it only as written
_ESCAPED_PIECES = {
    "backslash escape": '"{{ "ghp" ~ "\\\\x5f" ~ "' + _BODY + '" }}"',
    "percent escape": "{{ 'ghp' ~ '%' ~ '5F' ~ '" + _BODY + "' }}",
    "html reference": "{{ 'ghp' ~ '&#' ~ '95;' ~ '" + _BODY + "' }}",
    "base64": "{{ 'Z2hwX1pxMjZo' ~ 'VG9rZW5BYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3gxMg==' }}",
    "private key header": '{{ "-----BEGIN OPENSSH " ~ "PRIVATE KEY-----" }}\nb3BlbnNzaC1rZXktdjEAAAAA\n',
}


@pytest.mark.parametrize("case", list(_ESCAPED_PIECES))
def test_a_token_a_template_renders_escaped_from_pieces_is_refused_never_shown(tmp_path, case):
    from tests.helpers import git
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(
        tmp_path, b"APP_ENV=dev\n", f"token: {_ESCAPED_PIECES[case]}\n"
    )
    for command in (("plan",), ("apply", "--yes")):
        result = rollout(*command, "--manifest", manifest)
        out = result.stdout + result.stderr
        assert result.code == 1, out
        assert _BODY not in out and "PRIVATE KEY" not in out, out
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "branch", "--list").strip() == "* main"
    assert _BODY.encode() not in objects(repo)
