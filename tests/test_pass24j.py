"""Issue 13, pass 24j: a fourth adversarial pass over items 5-8 (the leaks), session 28, attacking
what pass 24g added (`secretshape.decoded_runs`, the unwrapping under more comment leaders).

Each finding's test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import base64
import time

import pytest

from tests.helpers import git, rollout
from tests.test_pass24b import SECRET, _template_beside_a_dotenv, objects

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


_RAW = SECRET.encode()
_BLOB = base64.b64encode(b"x" * 72 + _RAW + b"y" * 50).decode()


def _wrapped(lead: str, close: str = "") -> str:
    """Base64 of a text holding the value across a line break, wrapped at 64, each line between
    ``lead`` and ``close``."""
    return "".join(f"{lead}{_BLOB[i : i + 64]}{close}\n" for i in range(0, len(_BLOB), 64))


# (template, what must not be printed): each spelling passed pass 24g's checks
_SPELLED = {
    "a C array (xxd -i)": (
        "unsigned char k[] = {" + ", ".join(f"0x{c:02x}" for c in _RAW) + "};\n",
        ", ".join(f"0x{c:02x}" for c in _RAW)[:60],
    ),
    "a Go []byte": (
        "var k = []byte{" + ",".join(f"0x{c:02X}" for c in _RAW) + "}\n",
        ",".join(f"0x{c:02X}" for c in _RAW)[:60],
    ),
    "a Rust [u8]": (
        "let k = [" + ", ".join(f"0x{c:02x}u8" for c in _RAW) + "];\n",
        ", ".join(f"0x{c:02x}u8" for c in _RAW)[:60],
    ),
    "base64 wrapped in REM lines (a batch file)": (
        "@echo off\n" + _wrapped("REM "),
        _wrapped("REM ").splitlines()[1][4:],
    ),
    "base64 wrapped in ' lines (VB)": (_wrapped("' "), _wrapped("' ").splitlines()[1][2:]),
    "base64 wrapped in <!-- --> lines": (
        _wrapped("<!-- ", " -->"),
        _wrapped("<!-- ", " -->").splitlines()[1][5:-4],
    ),
    "base64 in adjacent string literals": (
        "k = (\n" + _wrapped('    "', '"') + ")\n",
        _wrapped('    "', '"').splitlines()[1][5:-1],
    ),
}


@pytest.mark.parametrize("case", list(_SPELLED))
def test_a_value_in_a_byte_array_or_under_more_comment_leaders_is_refused(tmp_path, case):
    """ON-LIST 13.6 (pass 24g's hole, new spellings). A template holding a `.env` value as a byte
    array (`xxd -i`'s C array, Go's `[]byte{0x41, …}`, Rust's `0x41u8`), or base64 wrapped under
    `REM `, `' `, `<!-- … -->` or as adjacent string literals (a value running from one line into
    the next) was shown in the plan's diff and committed: a hex dump's groups were read without
    their `0x`, and the unwrapping took neither these leaders nor a closer before the break."""
    template, shown = _SPELLED[case]
    manifest = _template_beside_a_dotenv(
        tmp_path, f"API_TOKEN={SECRET}\n", "ops/run.yaml", "{% raw %}" + template + "{% endraw %}"
    )
    for args in (("plan",), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.code == 1, said
        assert shown not in said, said
        assert "ops/run.yaml would contain" in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()
    assert shown.encode() not in objects(repo)


def test_a_template_with_a_long_run_of_blanks_is_planned_in_seconds(tmp_path):
    """NEW (pass 24g's unwrapping). Pass 24g took a line's trailing blanks before a break
    (`[ \\t]*\\r?\\n`): every blank of a long blank run not ending in a break started a match that ran
    to the run's end, so 80,000 blanks took 43 s to read and 200,000 blanks minutes (a padded
    fixed-width file, a template's generated blank line): the plan hung. The blanks are matched from
    a run's first blank only."""
    template = "a: 1" + " " * 200_000 + "x\nb: 2\n"
    manifest = _template_beside_a_dotenv(tmp_path, f"API_TOKEN={SECRET}\n", "pad.txt", template)
    started = time.monotonic()
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr
    assert time.monotonic() - started < 30


def test_byte_arrays_and_blank_padded_files_without_a_value_are_still_written(tmp_path):
    """Control: a C array of other bytes, a batch file's REM lines, an HTML comment, adjacent
    string literals and CSS colours decode to no value: the plan writes them."""
    template = (
        "{% raw %}"
        + "unsigned char logo[] = {"
        + ", ".join(f"0x{c:02x}" for c in b"\x89PNG\r\n\x1a\n not secret at all")
        + "};\n"
        + "REM build the thing\nREM then test it\n<!-- a note -->\n"
        + 'msg = ("hello "\n       "world")\ncolor: #ff00aa; background: #0f0;\n'
        + "{% endraw %}"
    )
    manifest = _template_beside_a_dotenv(tmp_path, f"API_TOKEN={SECRET}\n", "src/logo.c", template)
    result = rollout("apply", "--yes", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "show", "chore/sops-age-rollout:src/logo.c").startswith("unsigned char")
