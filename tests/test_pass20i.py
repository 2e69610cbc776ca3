"""Pass 20i (issue 13 items 6 and 8, confirmation pass on the `.env` reader after 20c and 20f): the
leak guard against the values python-dotenv 1.2.2 gives the app. Each test here fails without its fix."""

from __future__ import annotations

import random
import re

import pytest

from juniper_rollout import appenv
from tests.demofleet import CANARY
from tests.helpers import rollout
from tests.test_pass11b import _one_repo_with_a_template


@pytest.mark.parametrize(
    ("line", "app_reads"),
    [
        # python-dotenv 1.2.2 reads `NAME= # …` as the text `# …`, `${…}` expanded: the default
        (f"API_TOKEN= # ${{UNSET_IN_TESTS:-{CANARY}}}", f"# {CANARY}"),
        # an unset variable between two pieces of the secret (each under 8 bytes, none a run of 8)
        (f"API_TOKEN=  #{CANARY[:6]}${{UNSET_IN_TESTS}}{CANARY[6:]}", f"#{CANARY}"),
    ],
    ids=["default", "unset-between"],
)
def test_a_value_python_dotenv_reads_after_name_space_hash_is_expanded_for_the_guard(
    tmp_path, line, app_reads
):
    """`NAME= # ${UNSET:-X}`: the tool took the `# …` for a comment (the value empty, as some
    python-dotenv versions read it) and kept the text as written; python-dotenv 1.2.2 gives the app
    `# X`, which none of the guard's forms held, so a template holding it was rendered and shown by
    `rollout plan` (pass 20i). The CANARY alone has no run of 8 letters, so only the whole value guards it."""
    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"token: {app_reads}\n")
    result = rollout("plan", "--manifest", manifest)  # the helper fails on the canary in the output
    assert result.code == 1, result.stdout
    assert "of the plaintext .env" in result.stdout, result.stdout


@pytest.mark.parametrize(
    "line",
    [
        f"API_TOKEN={CANARY[:6]}${{$}}{CANARY[6:]}",  # a name `$`: unset, empty to the app
        f"API_TOKEN={CANARY[:6]}${{$${{UNSET_IN_TESTS:-{CANARY[6:]}}}",  # name `$${UNSET_IN_TESTS`
        f"API_TOKEN={CANARY[:4]}${{x${{UNSET_IN_TESTS}}{CANARY[4:]}",  # name `x${UNSET_IN_TESTS`
    ],
    ids=["dollar", "dollar-default", "brace-in-name"],
)
def test_a_variable_whose_name_holds_a_dollar_is_expanded_as_python_dotenv_does(tmp_path, line):
    """python-dotenv's `${NAME}` takes any text but `}` and `:` for the name, `$` and `{` too; the
    tool's name held no `$` (pass 20f kept it so, for linear time), so `A=abc${$}def` was `abc${$}def`
    to the guard and `abcdef` to the app: a template holding the app's value was shown by
    `rollout plan` (pass 20i)."""
    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"token: {CANARY}\n")
    result = rollout("plan", "--manifest", manifest)  # the helper fails on the canary in the output
    assert result.code == 1, result.stdout
    assert "of the plaintext .env" in result.stdout, result.stdout


def test_the_one_pass_variable_scan_finds_what_python_dotenvs_expression_finds():
    """python-dotenv 1.2.2's `_posix_variable`, on random values of its own special characters."""
    dotenv_expression = re.compile(rb"\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}")
    pieces = [b"$", b"{", b"}", b":", b"-", b"${", b":-", b"a", b"\\"]
    rng = random.Random(20)
    for _ in range(20_000):
        value = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        want = [
            (m.start(), m.end(), m["name"], m["default"]) for m in dotenv_expression.finditer(value)
        ]
        assert list(appenv._variables(value)) == want, value


@pytest.mark.parametrize("line_end", [b"\r\n", b"\r"], ids=["crlf", "lone-cr"])
@pytest.mark.parametrize("quote", [b'"', b"'"], ids=["double", "single"])
def test_a_quoted_value_with_carriage_returns_is_held_as_the_app_reads_it(
    tmp_path, line_end, quote
):
    """python-dotenv opens a `.env` as text, so a quoted value's `\\r\\n` or lone `\\r` is `\\n` to the
    app; the guard read bytes and held `A\\r\\nB` (and each line, here under 8 bytes), so a template
    holding `A\\nB` was rendered and shown by `rollout plan` (pass 20i)."""
    first, rest = CANARY[:6].encode(), CANARY[6:].encode()  # each line under 8 bytes
    dotenv = b"API_TOKEN=" + quote + first + line_end + rest + quote + b"\n"
    manifest = _one_repo_with_a_template(
        tmp_path, dotenv, f"token: |\n  {CANARY[:6]}\n{CANARY[6:]}\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "of the plaintext .env" in result.stdout, result.stdout


PASTED = f"{CANARY[:2]}-{CANARY[2:6]}.{CANARY[7:]}"  # no run of 8 letters and digits


@pytest.mark.parametrize(
    "dotenv",
    [
        f"API_URL=https://api.example\n{PASTED}\n",
        f"export {PASTED}\n",
        f"'{PASTED}'\n",
        f"  {PASTED} # the old one\n",
        f"{PASTED}=\n",
        f"A=x\r{PASTED}\rB=y\r",
        f"\0{PASTED}\n",
    ],
    ids=["bare", "export", "quoted", "comment-after", "padded", "lone-cr", "nul"],
)
def test_a_pasted_token_of_short_pieces_on_a_line_of_its_own_is_held_whole(tmp_path, dotenv):
    """Item 8's bare token line: only its runs of 8 letters and digits were checked, so a token of
    shorter pieces (`sk-aB-3dE5-fG7h`) on a line of its own was printed by `rollout plan` from a
    template holding it (pass 20i)."""
    manifest = _one_repo_with_a_template(tmp_path, dotenv.encode(), f"token: {PASTED}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "of the plaintext .env" in result.stdout, result.stdout
