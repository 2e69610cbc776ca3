"""How the app reads a `.env`: python-dotenv's bindings (what `load_dotenv`, `dotenv_values` and
pydantic-settings give the app), read without running python-dotenv. The leak guard checks every value
the app would see; the secrets plan asks which values the app would see as empty."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping

MAX_EXPANDED = 1 << 16  # a value grown by `${…}` past this is not expanded (`B=${A}${A}…` doubles)
# and a file's values grown by `${…}` all together (pass 16a: 200,000 lines `Bn=${A}` under a 60 KB A,
# 2.5 MB of `.env.local`, grew plan to a MemoryError traceback: 12 GB, each value within the cap above)
MAX_EXPANDED_TOTAL = 1 << 24

# A `.env` read statement by statement as python-dotenv's parser reads it (`dotenv.parser.parse_binding`:
# leading whitespace, `export `, a name, `=`, a value, a comment, the line's end; on an error, the rest of
# the line where it stopped is skipped and nothing is bound). The raw line alone missed
# `TOKEN=value # staging`, `TOKEN="value"  # note` and the lines of a multi-line value: a template
# carrying the value itself was rendered and committed (pass 10b). One expression per step, as the
# parser's, never one for the whole statement: a wider reading of a name or a value read another file
# than the app's (the oracle test, tests/test_dotenv_oracle.py, stop 25: a name read across a lone CR
# hid the binding after it; `'a=b'=value` was read as the name `'a`; `A #=x'…` opened a quoted value
# where the app reads a comment; a quoted name over two lines, and a binding the app drops for an error
# after its value, were read as other bindings). Read as text, as python-dotenv reads it (pass 20f: its
# `\s` is any Unicode space, so the U+2028, NEL, no-break or ideographic space after `NAME=` is not part
# of the value).
_LEADING = re.compile(r"\s*+")
_EXPORT = re.compile(
    r"(?:export[^\S\r\n]+)?"
)  # read once, never given back (`export =x` is an error)
_QUOTED_NAME = re.compile(r"'([^']++)'")  # any character but `'`, line ends included
_NAME = re.compile(r"[^=#\s]++")
_SPACES = re.compile(r"[^\S\r\n]*+")
# python-dotenv's quoted value, `'((?:\\'|[^'])*)'`, keeps one backtracking point per byte in Python's
# `re` (pass 20c: a 15 MB `.env` holding one quoted value of 7.5 million lines took 3 GB to read, a
# MemoryError in plan and drift). The same matches, in bounded memory: the scan without backtracking
# points (possessive `*+`), and where it finds no closing quote before the end of the file, what
# backtracking then finds: the last escaped quote of the rest of the file, read as the closing one.
QUOTED_VALUE = {
    "'": re.compile(r"'(?:(?P<value>(?:\\'|[^'])*+)'|(?P<cut>[\s\S]*\\)')"),
    '"': re.compile(r'"(?:(?P<value>(?:\\"|[^"])*+)"|(?P<cut>[\s\S]*\\)")'),
}
_PLAIN = re.compile(r"[^\r\n]*+")
_END = re.compile(r"(?:[^\S\r\n]*+#[^\r\n]*+)?[^\S\r\n]*+(?:\r\n|\n|\r|\Z)")
_REST_OF_LINE = re.compile(r"[^\r\n]*+(?:\r|\n)?")
# python-dotenv cuts an unquoted value at its first `#` after whitespace (`re.sub(r"\s+#.*", "", …)`); that
# expression, run by `re`, rescans a run of spaces from each of them (quadratic: pass 21f, a value of a
# million spaces in a committed `tools/ci.env` held `rollout plan` for half an hour): the same cut, found
# by its first `\s#`, in one pass
_INLINE_COMMENT = re.compile(r"\s#")
# the same steps in one expression for the statements most lines are: a comment, or a name with no
# `=` or an unquoted value (a 15 MB file of such lines took 6 s step by step); anything else (a quoted
# name or value, an error) is read step by step
_SIMPLE = re.compile(
    r"\s*+(?:#[^\r\n]*+|(?:export[^\S\r\n]+)?+(?P<name>[^=#\s'][^=#\s]*+)[^\S\r\n]*+"
    r"(?:=(?P<spaces>[^\S\r\n]*+)(?P<plain>(?!['\"])[^\r\n]*+)|(?:#[^\r\n]*+)?+))"
    r"[^\S\r\n]*+(?:\r\n|\n|\r|\Z)"
)
# (pass 12b: python-dotenv's spaces are any whitespace but a line end, `[^\S\r\n]`: a binding after a
# form feed or vertical tab was read by the app and never by the guard)
_SINGLE_ESCAPES = re.compile(rb"\\[\\']")
# python-dotenv's expansion (on by default in load_dotenv/dotenv_values): `${NAME}` is the value of an
# earlier binding (or the environment's), `${NAME:-default}` the default when NAME is unset (pass 11b:
# `TOKEN=${UNSET:-value}` and `TOKEN=${PART}rest` were never values to the guard)
# python-dotenv's expression is `\$\{(?P<name>[^}:]*)(?::-(?P<default>[^}]*))?\}`: a name may hold `$`
# and `{` (pass 20i: `TOKEN=abc${$}def` and `abc${x${UNSET}def` gave the app `abcdef`; the tool's name
# held no `$`, so it read another variable, and a template holding the app's value was printed). That
# expression, run by `re`, rescans to the next `:` from every `${` (quadratic); :func:`_variables`
# finds the same matches in one pass.
_DOUBLE_ESCAPES = re.compile(rb"\\[\\'\"abfnrtv]")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def app_values(data: bytes) -> dict[str, bytes]:
    """NAME -> the value python-dotenv gives the app (quotes, escapes and inline comments read,
    ``${…}`` expanded from earlier bindings, an unset one empty as in a fresh shell), except a bare
    placeholder comment, which is empty here. Round four: a copy of `.env.example` written
    `NAME=${OTHER_UNSET}` (empty to the app) or `NAME=  # your token here` was encrypted over committed
    values. The second is no value but a placeholder: python-dotenv gives the app the comment's text,
    `# your token here` (measured on 0.19.2, 1.0.1, 1.2.1 (the fleet's pin) and 1.2.2), a secret in no
    version, so the secrets plan counts it as empty. A name alone on a later line (`A=x` then `A`) is
    bound to nothing (python-dotenv's None: the app gets no value), empty here (pass 21f's note: it
    kept `x`)."""
    return {
        name.decode("utf-8", "replace"): values[-1] for _, name, values in bindings(data, bare=True)
    }


class Budget:
    """Bytes ``${…}`` may still grow values by, shared by every file read under it (pass 18a: the
    cap was per file, and the leak guard reads up to 1,000 env files of a clone, each value scanned
    for its pieces: 40 folders' `.env` of 75 KB each, 3 MB in all, held `rollout plan` 8 minutes
    at 1.3 GB)."""

    def __init__(self, left: int | None = None) -> None:
        self.left = MAX_EXPANDED_TOTAL if left is None else left


def bindings(
    data: bytes,
    budget: Budget | None = None,
    outer: Mapping[bytes, bytes] | None = None,
    unbound: set[bytes] | None = None,
    *,
    bare: bool = False,
) -> Iterator[tuple[int, bytes, list[bytes]]]:
    """(line, name, forms) for each binding as python-dotenv reads it: the value as written (quotes
    and escapes read), each ``${…:-default}`` default on its own, and last the value the app gets.
    ``budget``: the growth allowed, shared with other files (by default, this file's own). ``bare``:
    a name alone (no ``=``) too, with the one form ``b""``.
    ``outer``: names bound by the clone's other env files, which an app loading them first finds in
    its environment (`load_dotenv(".env.local"); load_dotenv(".env")`: python-dotenv expands
    `${NAME}` from `os.environ`, ahead of the file's own bindings unless `override`): the value so
    expanded is one more form, before the last. ``unbound``: gets each `${NAME}` this file reads
    before binding it (pass 22b)."""
    budget = Budget() if budget is None else budget
    number, counted = 1, 0
    expanded: dict[bytes, bytes] = {}
    # as text, bytes python-dotenv cannot decode kept as they are
    text = data.decode("utf-8", "surrogateescape")
    for at, name, raw in _statements(text):
        # linear: counted once, in order; a line ends at \n, \r\n or a lone \r (as python-dotenv and
        # bytes.splitlines read it: pass 11b, a file with CR line ends)
        number += text.count("\n", counted, at) + text.count("\r", counted, at)
        number -= text.count("\r\n", counted, at)
        counted = at
        # a quoted name as the app reads it: its `\r\n` and lone `\r` are `\n` (pass 21f: `'P1\r'=x`
        # is `P1\n` to python-dotenv, which `"${P1\n}"` expands; kept as written, it was unset here)
        key = _bytes(_as_text_reads(name))
        if raw is None:  # `NAME` alone: bound to nothing, so `${NAME:-default}` is '' to the app
            expanded[key] = b""
            if bare:
                yield number, key, [b""]
            continue
        quote, written = raw
        if quote == "'":
            values = [
                _SINGLE_ESCAPES.sub(lambda e: e.group(0)[1:], q) for q in _read(_bytes(written))
            ]
        elif quote == '"':
            values = [_DOUBLE_ESCAPES.sub(_unescape, q) for q in _read(_bytes(written))]
        else:
            values = [_bytes(_unquoted(written))]
        value = values[-1]
        if b"${" in value:  # as the app reads it, and each default on its own
            found_vars = list(_variables(value))
            if unbound is not None:
                unbound.update(var for _, _, var, _ in found_vars if var not in expanded)
            values += [default for *_, default in found_vars if default]
            own = [expanded.get(var, default or b"") for _, _, var, default in found_vars]
            if outer:  # as found in the environment another file's loading set
                environ = [outer.get(v[2], part) for v, part in zip(found_vars, own, strict=True)]
                grown = _expand(value, found_vars, environ, budget) if environ != own else None
                values += [grown] if grown is not None else []
            grown = _expand(value, found_vars, own, budget)
            if grown is not None:
                value = grown
                values.append(value)
        expanded[key] = value  # a placeholder's text too: `B=x${NAME}` is `x# your token here`
        # `NAME=  # your token here`: python-dotenv (0.19.2 to 1.2.4, measured) gives the app the text
        # `# your token here`, `${…}` expanded (pass 20i: `NAME= # ${UNSET:-X}` gave the app `# X`,
        # which no form held, and a template holding it was printed); to the secrets plan it is a
        # placeholder, no value. Both are forms; the empty one stays last, the one the plan asks about.
        if quote == "#":
            values.append(b"")
        yield number, key, values


def _expand(
    value: bytes,
    found_vars: list[tuple[int, int, bytes, bytes | None]],
    parts: list[bytes],
    budget: Budget,
) -> bytes | None:
    """``value`` with each ``${…}`` of ``found_vars`` replaced by its part, or None past the budget
    (`B=${A}${A}…`: bounded)."""
    size = sum(map(len, parts)) + len(value)
    if size > MAX_EXPANDED or size > budget.left:
        return None
    budget.left -= size
    cuts = [0, *(i for v in found_vars for i in v[:2]), len(value)]
    literal = [value[a:b] for a, b in zip(cuts[::2], cuts[1::2], strict=True)]
    return b"".join(x for pair in zip(literal, [*parts, b""], strict=True) for x in pair)


def _statements(text: str) -> Iterator[tuple[int, str, tuple[str, str] | None]]:
    """(where the statement starts, the name, (quote, the value as written) or None for a name with no
    ``=``) for each binding python-dotenv's parser makes of ``text``, in order. The quote is ``'`` or
    ``"``; for an unquoted value, ``#`` where it is a comment after a space (a placeholder), else ''."""
    at, size = 0, len(text)
    while True:
        simple = _SIMPLE.match(text, at)
        if simple is not None and simple.end() > at:
            at, name = simple.end(), simple["name"]
            if name is None:
                continue  # a comment line
            plain = simple["plain"]
            if plain is None:
                yield simple.start("name"), name, None
            else:
                placeholder = plain.startswith("#") and bool(simple["spaces"])
                yield simple.start("name"), name, ("#" if placeholder else "", plain)
            continue
        at = _match(_LEADING, text, at)
        if at >= size:
            return
        start = at
        at = _match(_EXPORT, text, at)
        name = None  # `#`: a comment, which the end of the line reads
        if not text.startswith("#", at):
            found = (_QUOTED_NAME if text.startswith("'", at) else _NAME).match(text, at)
            if found is None:
                at = _match(_REST_OF_LINE, text, at)
                continue
            name, at = found[found.lastindex or 0], found.end()
        at = _match(_SPACES, text, at)
        raw: tuple[str, str] | None = None
        if text.startswith("=", at):
            at = _match(_SPACES, text, at + 1)
            quote = text[at : at + 1]
            if quote in QUOTED_VALUE:
                found = QUOTED_VALUE[quote].match(text, at)
                if found is None:
                    at = _match(_REST_OF_LINE, text, at)
                    continue
                written = found["value"] if found["value"] is not None else found["cut"]
                raw, at = (quote, written), found.end()
            else:
                plain = _match(_PLAIN, text, at)
                placeholder = text.startswith("#", at) and text[at - 1 : at].isspace()
                raw, at = ("#" if placeholder else "", text[at:plain]), plain
        end = _END.match(text, at)
        if end is None:  # the app binds nothing here
            at = _match(_REST_OF_LINE, text, at)
            continue
        at = end.end()
        if name is not None:
            yield start, name, raw


def _match(expression: re.Pattern[str], text: str, at: int) -> int:
    """Where ``expression`` (one that matches an empty string too) ends, matched at ``at``."""
    found = expression.match(text, at)
    assert found is not None, "the expression matches an empty string"
    return found.end()


def _unquoted(written: str) -> str:
    """An unquoted value as python-dotenv reads it: up to its first `#` after whitespace, stripped."""
    comment = _INLINE_COMMENT.search(written)
    return (written if comment is None else written[: comment.start()]).rstrip()


def _as_text_reads(text: str) -> str:
    """``text`` as a file opened as text reads it (universal newlines): each `\r\n` and lone `\r` a `\n`."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read(quoted: bytes) -> list[bytes]:
    """A quoted value as written, and (when it holds a carriage return) as python-dotenv reads it:
    it opens the file as text, so each `\r\n` and lone `\r` is `\n` before the escapes are read
    (pass 20i: `A="p9-Q!\r\nz3-x"` gave the app `p9-Q!\nz3-x`, which no form held, and a template
    holding it was printed)."""
    if b"\r" not in quoted:
        return [quoted]
    return [quoted, quoted.replace(b"\r\n", b"\n").replace(b"\r", b"\n")]


def _variables(value: bytes) -> Iterator[tuple[int, int, bytes, bytes | None]]:
    """(start, end, name, default) of each ``${NAME}`` / ``${NAME:-default}`` python-dotenv's
    expression finds in ``value``, in one pass: from a ``${``, the name runs to the first ``}`` or
    ``:`` (a ``:`` not before ``-`` is no match there; the search goes on at the next ``${``)."""
    size = len(value)
    brace = colon = -1  # the next `}` and `:` at or after the name's start (`size`: none)
    at = value.find(b"${")
    while at != -1:
        start = at + 2
        if brace < start:
            brace = value.find(b"}", start) % (size + 1)  # -1 -> size
        if colon < start:
            colon = value.find(b":", start) % (size + 1)
        if brace == size:
            return
        if colon < brace:
            if value[colon + 1 : colon + 2] != b"-":
                at = value.find(b"${", at + 1)
                continue
            yield at, brace + 1, value[start:colon], value[colon + 2 : brace]
        else:
            yield at, brace + 1, value[start:brace], None
        at = value.find(b"${", brace + 1)


def _unescape(escape: re.Match[bytes]) -> bytes:
    return codecs.decode(escape.group(0), "unicode-escape").encode("utf-8")
