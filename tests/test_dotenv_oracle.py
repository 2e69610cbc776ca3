"""appenv reads a `.env` the way python-dotenv gives it to the app, without running python-dotenv (whose
own expressions take gigabytes on a large quoted value, pass 20c). Here python-dotenv itself, the
version the fleet pins, is the oracle: every value it gives the app is one the leak guard checks, and
the secrets plan's reading of each name is the app's (a bare `# …` placeholder aside)."""

from __future__ import annotations

import logging
import re
import tempfile
from pathlib import Path

import dotenv
from hypothesis import example, given
from hypothesis import strategies as st

from juniper_rollout.appenv import app_values, bindings

# the pieces python-dotenv's grammar turns on: quotes, escapes, line ends of each kind, Unicode spaces,
# comments, `export`, `${…}` with and without defaults, and names bound with no `=`
PIECES = [
    "A", "B", "v9", "export ", "=", "==", "x", " ", "\t", "\x0b", "\u00a0", "\u2028", "é", "#",
    " #", "'", '"', "\\", "\\n", "\n", "\r\n", "\r", "${A}", "${B:-d}", "${", "}", ":-", "$", ";",
]  # fmt: skip
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _oracle(text: str) -> dict[str, str | None]:
    """What the app gets: python-dotenv reading the file (as text: each CR or CRLF a line feed)."""
    logging.disable(logging.WARNING)  # "python-dotenv could not parse statement …", once a line
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, ".env")
        path.write_bytes(text.encode())
        try:
            return dotenv.dotenv_values(path)
        finally:
            logging.disable(logging.NOTSET)


def _forms(text: str) -> set[bytes]:
    return {form for _, _, forms in bindings(text.encode()) for form in forms}


pieces_texts = st.lists(st.sampled_from(PIECES), min_size=1, max_size=14).map("".join)
# and files of lines shaped as bindings, so that later lines refer to earlier ones
lines = st.tuples(
    st.sampled_from(["", "export ", " ", "'"]),
    st.sampled_from(["A", "B", "v9", "A'", "A B", ""]),
    st.sampled_from(["=", " = ", "", "  #"]),
    st.lists(st.sampled_from(PIECES), max_size=5).map("".join),
).map("".join)
line_texts = st.tuples(
    st.lists(lines, min_size=1, max_size=5), st.sampled_from(["\n", "\r\n", "\r"])
).map(lambda parts: parts[1].join(parts[0]))
env_texts = st.one_of(pieces_texts, line_texts)


@given(env_texts)
@example("export \\\rA=xx$ # #x==#")  # a name read across a lone CR hid the binding after it
@example("v9 \xa0${\rx==\r${\n\r")
@example("API_KEY\nTOKEN=part${API_KEY:-fallback}")  # a name bound with no `=` expands to ''
@example("export B # set later\nA=x${B:-d}")
@example("'a=b'=value")  # a quoted name holds `=`
@example("'na\nme'=value")  # and line ends
@example("export ='a\nB=value\n'")  # `export ` then no name: an error line, then B
@example("A #=x'\nB=value\n'")  # a comment, not a name with ` #` in it
@example("A= #x\nB=v9${A}\n")  # a placeholder's text is what `${A}` gives
def test_every_value_python_dotenv_gives_the_app_is_one_the_guard_checks(text):
    forms = _forms(text)
    for name, value in _oracle(text).items():
        if value:
            assert value.encode("utf-8", "surrogateescape") in forms, (name, value, forms)


@given(env_texts)
@example("API_KEY\nTOKEN=part${API_KEY:-fallback}")
@example("A= # your token here\nB=\t# set me")
@example("A=x\nA\n")  # a later name alone: no value to the app (it kept `x`, pass 21f's note)
def test_the_secrets_plan_reads_each_name_as_the_app_does(text):
    """A bare `# …` placeholder (python-dotenv gives the app the comment's text) counts as empty, and
    so does a name bound to nothing (python-dotenv's None)."""
    read = app_values(text.encode())
    for name, value in _oracle(text).items():
        if not IDENTIFIER.fullmatch(name):
            continue
        ours = read.get(name)
        if value is None:
            assert ours == b"", (name, ours)
            continue
        placeholder = value.startswith("#") and ours == b""
        assert ours == value.encode("utf-8", "surrogateescape") or placeholder, (name, value, ours)


def test_python_dotenv_gives_a_placeholder_comment_to_the_app():
    """What the docstrings of appenv and secrets_plan say python-dotenv does, measured."""
    assert _oracle('A= # your token here\nB=\t# set me\nC=""  # c\n') == {
        "A": "# your token here",
        "B": "# set me",
        "C": "",
    }
    assert app_values(b'A= # your token here\nB=\t# set me\nC=""  # c\n') == {
        "A": b"",
        "B": b"",
        "C": b"",
    }
