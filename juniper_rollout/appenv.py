"""How the app reads a `.env`: python-dotenv's bindings (what `load_dotenv`, `dotenv_values` and
pydantic-settings give the app), read without running python-dotenv. The leak guard checks every value
the app would see; the secrets plan asks which values the app would see as empty."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

MAX_EXPANDED = 1 << 16  # a value grown by `${…}` past this is not expanded (`B=${A}${A}…` doubles)
# and a file's values grown by `${…}` all together (pass 16a: 200,000 lines `Bn=${A}` under a 60 KB A,
# 2.5 MB of `.env.local`, grew plan to a MemoryError traceback: 12 GB, each value within the cap above)
MAX_EXPANDED_TOTAL = 1 << 24

# A binding as python-dotenv (what the app, pydantic-settings included, loads) reads it: a quoted value
# ends at its closing quote, across lines, escapes decoded; an unquoted one ends before ` #` (an inline
# comment). The raw line alone missed `TOKEN=value # staging`, `TOKEN="value"  # note` and the lines
# of a multi-line value: a template carrying the value itself was rendered and committed (pass 10b).
# python-dotenv's quoted value, `'((?:\\'|[^'])*)'`, keeps one backtracking point per byte in Python's
# `re` (pass 20c: a 15 MB `.env` holding one quoted value of 7.5 million lines took 3 GB to read, a
# MemoryError in plan and drift). The same matches, in bounded memory: the scan without backtracking
# points (possessive `*+`), and where it finds no closing quote before the end of the file, what
# backtracking then finds: the last escaped quote of the rest of the file, read as the closing one.
# Read as text, as python-dotenv reads it (pass 20f: its `\s` is any Unicode space, so the U+2028,
# NEL, no-break or ideographic space after `NAME=` is not part of the value, and a `"…"` after one is
# quoted; read as bytes, the guard's value began with that space and a template holding the value
# itself was rendered and committed).
# A name as python-dotenv reads it: `'quoted'` (any character but `'`, `=` and line ends included) when
# it starts with `'`, else a run of anything but `=`, `#` and spaces. A wider name read another file
# than the app's (the oracle test, tests/test_dotenv_oracle.py: a name read across a lone CR hid the
# binding after it; `'a=b'=value` was read as the name `'a`, the value `b'=value`; `A #=x'…` opened a
# quoted value where the app reads a comment).
_BINDING = re.compile(
    r"(?:^|(?<=\r))[^\S\r\n]*(?>(?:export[^\S\r\n]+)?)"
    r"(?:'(?P<quoted_name>[^']++)'|(?P<name>[^=#\s'][^=#\s]*+))[^\S\r\n]*=[^\S\r\n]*"
    r"(?:'(?P<single>(?:\\'|[^'])*+)'|'(?P<single_cut>[\s\S]*\\)'"
    r"|\"(?P<double>(?:\\\"|[^\"])*+)\"|\"(?P<double_cut>[\s\S]*\\)\"|(?P<plain>[^\r\n]*))",
    re.MULTILINE,
)
_INLINE_COMMENT = re.compile(r"\s+#.*")
# a name on a line of its own (`API_KEY`, `export API_KEY  # set in CI`): python-dotenv binds it to
# nothing, and a later `${API_KEY:-default}` is then '' to the app, not the default
_BARE = re.compile(
    r"(?:^|(?<=\r))[^\S\r\n]*(?>(?:export[^\S\r\n]+)?)(?:'(?P<quoted_name>[^']++)'|(?P<name>[^=#\s'][^=#\s]*+))"
    r"[^\S\r\n]*+(?:#[^\r\n]*+)?(?=\r|\n|\Z)",
    re.MULTILINE,
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


def _either(found: re.Match[str], quoted: str) -> bytes | None:
    """The quoted value of ``found`` (``single`` or ``double``), closed where the scan found its quote
    or, cut, at the last escaped quote (see ``_BINDING``), as the file's bytes."""
    value = found.group(quoted)
    value = value if value is not None else found.group(f"{quoted}_cut")
    return None if value is None else _bytes(value)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def app_values(data: bytes) -> dict[str, bytes]:
    """NAME -> the value python-dotenv gives the app (quotes, escapes and inline comments read,
    ``${…}`` expanded from earlier bindings, an unset one empty as in a fresh shell), except a bare
    placeholder comment, which is empty here. Round four: a copy of `.env.example` written
    `NAME=${OTHER_UNSET}` (empty to the app) or `NAME=  # your token here` was encrypted over committed
    values. The second is no value but a placeholder: python-dotenv gives the app the comment's text,
    `# your token here` (measured on 0.19.2, 1.0.1, 1.2.1 (the fleet's pin) and 1.2.2), a secret in no
    version, so the secrets plan counts it as empty."""
    return {name.decode("utf-8", "replace"): values[-1] for _, name, values in bindings(data)}


class Budget:
    """Bytes ``${…}`` may still grow values by, shared by every file read under it (pass 18a: the
    cap was per file, and the leak guard reads up to 1,000 env files of a clone, each value scanned
    for its pieces: 40 folders' `.env` of 75 KB each, 3 MB in all, held `rollout plan` 8 minutes
    at 1.3 GB)."""

    def __init__(self, left: int | None = None) -> None:
        self.left = MAX_EXPANDED_TOTAL if left is None else left


def bindings(data: bytes, budget: Budget | None = None) -> Iterator[tuple[int, bytes, list[bytes]]]:
    """(line, name, forms) for each binding as python-dotenv reads it: the value as written (quotes
    and escapes read), each ``${…:-default}`` default on its own, and last the value the app gets.
    ``budget``: the growth allowed, shared with other files (by default, this file's own)."""
    budget = Budget() if budget is None else budget
    number, counted = 1, 0
    expanded: dict[bytes, bytes] = {}
    # as text, bytes python-dotenv cannot decode kept as they are
    text = data.decode("utf-8", "surrogateescape")
    bare, read_to = _BARE.finditer(text), 0
    unbound = next(bare, None)
    for found in _BINDING.finditer(text):
        while unbound is not None and unbound.start() < found.start():
            if unbound.start() >= read_to:  # not a line of the value read before
                expanded[_bytes(_name(unbound))] = b""
            unbound = next(bare, None)
        read_to = found.end()
        # linear: counted once, in order; a line ends at \n, \r\n or a lone \r (as python-dotenv and
        # bytes.splitlines read it: pass 11b, a file with CR line ends)
        between = (counted, found.start())
        number += (
            text.count("\n", *between) + text.count("\r", *between) - text.count("\r\n", *between)
        )
        counted = found.start()
        name = _bytes(_name(found))
        single = _either(found, "single")
        double = _either(found, "double")
        if single is not None:
            values = [_SINGLE_ESCAPES.sub(lambda e: e.group(0)[1:], q) for q in _read(single)]
        elif double is not None:
            values = [_DOUBLE_ESCAPES.sub(_unescape, q) for q in _read(double)]
        else:
            values = [_bytes(_INLINE_COMMENT.sub("", found.group("plain")).rstrip())]
        value = values[-1]
        # `NAME=  # your token here`: python-dotenv (0.19.2 to 1.2.2, measured) gives the app the text
        # `# your token here`, `${…}` expanded (pass 20i: `NAME= # ${UNSET:-X}` gave the app `# X`,
        # which no form held, and a template holding it was printed); to the secrets plan it is a
        # placeholder, no value. Both are forms; the empty one stays last, the one the plan asks about.
        commented = (
            value.startswith(b"#")
            and text[found.start("plain") - 1 : found.start("plain")].isspace()
        )
        if b"${" in value:  # as the app reads it, and each default on its own
            found_vars = list(_variables(value))
            parts = [expanded.get(name, default or b"") for _, _, name, default in found_vars]
            values += [default for *_, default in found_vars if default]
            size = sum(map(len, parts)) + len(value)
            if size <= MAX_EXPANDED and size <= budget.left:  # `B=${A}${A}…`: bounded
                budget.left -= size
                cuts = [0, *(i for v in found_vars for i in v[:2]), len(value)]
                literal = [value[a:b] for a, b in zip(cuts[::2], cuts[1::2], strict=True)]
                value = b"".join(
                    x for pair in zip(literal, [*parts, b""], strict=True) for x in pair
                )
                values.append(value)
        if commented:
            value = b""
            values.append(value)
        expanded[name] = value
        yield number, name, values


def _name(found: re.Match[str]) -> str:
    quoted = found.group("quoted_name")
    return quoted if quoted is not None else found.group("name")


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
