"""How other programs read a `.env`: docker compose and systemd, for the leak guard.

python-dotenv is the app's reader (:mod:`juniper_rollout.appenv`); the fleet hands the same files to
two more (pass 22b, 13.6), and each gives its program other values from the same lines:

- docker compose reads the project's `.env` (and every `env_file:`) with compose-go's parser; the
  fleet's compose files interpolate `${JUNIPER_DATA_API_KEYS}` from it. A `$NAME` without braces is
  expanded (`API_TOKEN=$P1$P2`), so are `${NAME-default}`, `${NAME:+alternative}`,
  `${NAME+alternative}` and `${NAME?message}`; a double-quoted value reads octal escapes (`"\\0103"`
  is `C`) and `\\$`; a name may end at `:` (`API_TOKEN: value`, YAML-style) and a value after a
  closing quote starts a statement of its own. Read as compose-go v2 reads (``dotenv/parser.go``,
  ``template/template.go``); growth by ``$…`` counts against the caller's
  :class:`~juniper_rollout.appenv.Budget`, nesting stops at ``MAX_NESTING``.
- systemd reads a unit's `EnvironmentFile=` (juniper-cascor-worker's service names its `.env`) with
  its own state machine (``src/basic/env-file.c``): a backslash escapes the next character of an
  unquoted value (`CANARY-\\7f…` is `CANARY-7f…`), a backslash before a line end joins two lines,
  quoted pieces and plain text next to each other are one value (`"CANARY-"7f…`), `;` starts a
  comment line.

A template holding the value compose or systemd gives the program (two pieces under 8 bytes joined)
was shown in the plan's diff and committed. Where compose refuses the file, the rest of that line is
skipped and reading goes on: the guard's forms are a superset, more forms only check more.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

from juniper_rollout import yamlio
from juniper_rollout.appenv import MAX_EXPANDED, Budget

MAX_NESTING = 16  # `${A:-${B:-…}}` levels read; deeper, the value is left as written
_GO_BLANKS = re.compile("[\t\v\f\r \x85\xa0]*+")  # compose's isSpace: any blank but a line feed
_SKIP = re.compile(r"(?:\s++|#[^\n]*+)*+")
_EXPORT = re.compile(r"export\s")
# a name's characters (letters and digits of any script, `_ . - [ ]`) and compose's blanks, then
# `=`, `:` (YAML-style) or the line feed of a name alone
_KEY = re.compile("(?P<key>[\\w.\\-\\[\\]\t\v\f\r \x85\xa0]*+)(?P<end>[=:\n])?")
_ESCAPE = re.compile(r"\\(?:[abcfnrtv$\"\\]|0[0-9]{0,3})")
_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    '"': '"',
    "\\": "\\",
}
_NAME = re.compile(r"[_A-Za-z][_A-Za-z0-9]*")
_OPERATORS = (":?", "?", ":-", "-", ":+", "+")


def compose_bindings(
    data: bytes, budget: Budget | None = None
) -> Iterator[tuple[int, bytes, list[bytes]]]:
    """(line, name, forms) for each binding as compose reads ``data``: the value as written (quotes
    and escapes read), each ``${…}`` default or alternative on its own (the shell's environment may
    choose it), and last the value with earlier bindings expanded (an unset one empty)."""
    budget = Budget() if budget is None else budget
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    known: dict[str, str] = {}
    at, size = 0, len(text)
    number, counted = 1, 0
    while True:
        at = _statement_start(text, at)
        if at >= size:
            return
        number += _lines(text, counted, at)
        counted = at
        key, at = _key(text, at)
        if key is None:  # compose refuses the file here: the rest of the line is skipped
            at = _next_line(text, at)
            continue
        if at >= size or text[at - 1] == "\n":  # `NAME` alone: the shell's value, not the file's
            continue
        at = _end(_GO_BLANKS, text, at)
        written, quote, at = _value(text, at)
        if written is None:  # an unterminated quote: compose refuses the file
            at = _next_line(text, at)
            continue
        forms = [written]
        if quote == "'":
            known[key] = written
        else:
            if quote == '"':
                written = _ESCAPE.sub(_unescape, written)
                forms.append(written)
            words: list[str] = []
            expanded = _substitute(written, known, words, budget, 0)
            forms += words
            if expanded is not None:
                forms.append(expanded)
            known[key] = expanded if expanded is not None else written
        yield number, _bytes(key), [_bytes(form) for form in dict.fromkeys(forms)]


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _lines(text: str, start: int, end: int) -> int:
    """Line ends between ``start`` and ``end``, counted as the guard's other reader counts them
    (`\\n`, `\\r\\n`, a lone `\\r`): once each, in order (linear)."""
    return (
        text.count("\n", start, end) + text.count("\r", start, end) - text.count("\r\n", start, end)
    )


def _statement_start(text: str, at: int) -> int:
    """Past blanks and comment lines (compose's getStatementStart)."""
    return _end(_SKIP, text, at)


def _end(expression: re.Pattern[str], text: str, at: int) -> int:
    """Where ``expression`` (one that matches an empty string too) ends, matched at ``at``."""
    found = expression.match(text, at)
    assert found is not None, "the expression matches an empty string"
    return found.end()


def _next_line(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end == -1 else end + 1


def _key(text: str, at: int) -> tuple[str | None, int]:
    """(the name, where its value starts: past `=`, `:` or the line feed of a name alone), or (None,
    where reading stopped) where compose refuses the name (a character it takes for none of a name's,
    a space inside, no `=`/`:` before the end of the file)."""
    export = _EXPORT.match(text, at)
    if export is not None:
        at = _end(_GO_BLANKS, text, at + len("export"))
    found = _KEY.match(text, at)
    assert found is not None, "the expression matches an empty string"
    if found["end"] is None:
        return None, found.end()
    key = found["key"].rstrip()
    return (None if " " in key or not key else key), found.end()


def _value(text: str, at: int) -> tuple[str | None, str, int]:
    """(the value as written, its quote or '', where the next statement may start)."""
    quote = text[at : at + 1]
    if quote not in ("'", '"'):
        end = text.find("\n", at)
        end = len(text) if end == -1 else end
        value = text[at:end].split(" #", 1)[0].rstrip()
        return value, "", end
    chars: list[str] = []
    escaped = False
    for index in range(at + 1, len(text)):
        char = text[index]
        if char != quote:
            if not escaped and char == "\\":
                escaped = True
                continue
            if escaped:
                escaped = False
                chars.append("\\")
            chars.append(char)
            continue
        if escaped:  # `\"` inside `"…"`, `\'` inside `'…'`: the quote itself
            escaped = False
            chars.append(char)
            continue
        return "".join(chars), quote, index + 1
    return None, quote, at


def _unescape(match: re.Match[str]) -> str:
    """A double-quoted value's escape as compose reads it (`\\$` kept for the expansion as `$$`; an
    octal `\\0ooo` is the byte ooo when it is three octal digits of at most 0377)."""
    escape = match.group(0)
    if escape == "\\$":
        return "$$"
    if escape.startswith("\\0"):
        digits = escape[2:]
        if len(digits) == 3 and set(digits) <= set("01234567") and int(digits, 8) < 256:
            return chr(int(digits, 8))
        return escape
    return _ESCAPES[escape[1]]


_BRACE = re.compile(r"[{}]")


def _closing_brace(value: str, at: int, budget: Budget) -> int:
    """The `}` closing the `${` at ``at``, braces counted as compose counts them (a `{` and the
    character after it), or -1. The characters scanned count against ``budget`` (nested `${…:-${…`
    rescan their words: bounded as growth is)."""
    depth, index = 0, at
    while True:
        found = _BRACE.search(value, index)
        if found is None:
            budget.left = max(0, budget.left - (len(value) - at))
            return -1
        index = found.start()
        if value[index] == "}":
            depth -= 1
            if depth == 0:
                budget.left = max(0, budget.left - (index - at))
                return index
            index += 1
        else:
            depth += 1
            index += 2


def _substitute(
    value: str, known: dict[str, str], words: list[str], budget: Budget, depth: int
) -> str | None:
    """``value`` with `$$`, `$NAME` and `${…}` read as compose reads them (``known``: earlier
    bindings; unset is empty); each default or alternative, itself read so, joins ``words``. None
    when compose refuses it, it nests deeper than ``MAX_NESTING`` or it grows past the budget."""
    if depth > MAX_NESTING:
        return None
    out: list[str] = []
    grown, at = 0, 0
    while True:
        dollar = value.find("$", at)
        if dollar == -1:
            out.append(value[at:])
            break
        out.append(value[at:dollar])
        after = value[dollar + 1 : dollar + 2]
        if after == "$":
            out.append("$")
            at = dollar + 2
            continue
        bare = _NAME.match(value, dollar + 1)
        if bare is not None:
            piece: str | None = known.get(bare[0], "")
            at = bare.end()
        elif after == "{":
            name = _NAME.match(value, dollar + 2)
            close = _closing_brace(value, dollar, budget) if name is not None else -1
            if name is None or close == -1 or not budget.left:
                return None  # compose: "Invalid template"
            piece = _braced(name[0], value[name.end() : close], known, words, budget, depth)
            at = close + 1
        else:
            out.append("$")  # a `$` before anything else stays
            at = dollar + 1
            continue
        if piece is None:
            return None
        grown += len(piece)
        if grown > MAX_EXPANDED or grown > budget.left:
            return None
        out.append(piece)
    budget.left -= grown
    return "".join(out)


def _braced(
    name: str, rest: str, known: dict[str, str], words: list[str], budget: Budget, depth: int
) -> str | None:
    """The value of `${NAME<rest>}`: `rest` empty, or an operator and its word."""
    value = known.get(name)
    if not rest:
        return value or ""
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        return None
    word = _substitute(rest[len(operator) :], known, words, budget, depth + 1)
    if word is None:
        return None
    if "?" in operator:  # required: the value, or compose stops with the word as its message
        return value or ""
    words.append(word)
    if operator == ":-":
        return word if not value else value
    if operator == "-":
        return word if value is None else value
    if operator == ":+":
        return word if value else ""
    return word if value is not None else ""  # `+`


# --- systemd's EnvironmentFile= -------------------------------------------------------------------

_SD_SKIP = re.compile(
    r"(?:[ \t\n\r]++|[#;][^\n\r]*+)*+"
)  # blanks, line ends, `#`/`;` comment lines
_SD_KEY = re.compile(r"[^=\n\r]*+")
_SD_BLANKS = re.compile(r"[ \t]*+")
_SD_SINGLE = re.compile(r"'([^']*+)'?")
_SD_DOUBLE = re.compile(r'"((?:\\[\s\S]|[^"\\])*+)"?')
_SD_DOUBLE_ESCAPE = re.compile(r"\\([\s\S])")
_SD_PLAIN = re.compile(r"(?:\\[\s\S]|[^\\\n\r])*+\\?")
_SD_PLAIN_ESCAPE = re.compile(r"\\([\s\S]?)")
_SHELL_NEED_ESCAPE = '"\\`$'


def systemd_bindings(data: bytes) -> Iterator[tuple[int, bytes, list[bytes]]]:
    """(line, name, [value]) for each assignment as systemd reads ``data`` as an `EnvironmentFile=`
    (``parse_env_file_internal``: no expansion, so no budget; linear, one expression per piece)."""
    text = data.decode("utf-8", "surrogateescape")
    at, size = 0, len(text)
    number, counted = 1, 0
    while True:
        at = _end(_SD_SKIP, text, at)
        if at >= size:
            return
        number += _lines(text, counted, at)
        counted = at
        key_end = _end(_SD_KEY, text, at)
        key = text[at:key_end].rstrip(" \t")
        if key_end >= size or text[key_end] != "=":  # a line without `=`: no assignment
            at = key_end
            continue
        value, at = _systemd_value(text, key_end + 1)
        yield number, _bytes(key), [_bytes(value)]


def _systemd_value(text: str, at: int) -> tuple[str, int]:
    """The value from ``at`` (after `=`) to the line end that ends it, and where that is."""
    pieces: list[str] = []
    size = len(text)
    while True:
        at = _end(_SD_BLANKS, text, at)
        if at >= size or text[at] in "\n\r":
            return "".join(pieces), at
        if text[at] == "'":
            found = _SD_SINGLE.match(text, at)
            assert found is not None
            pieces.append(found[1])
            at = found.end()
        elif text[at] == '"':
            found = _SD_DOUBLE.match(text, at)
            assert found is not None
            pieces.append(_SD_DOUBLE_ESCAPE.sub(_systemd_double_escape, found[1]))
            at = found.end()
        else:  # plain to the line's end (quotes are plain characters here); trailing blanks dropped
            end = _end(_SD_PLAIN, text, at)
            plain = text[at:end]
            body = plain.rstrip(" \t")
            kept = plain[len(body) :] if body.endswith("\\") and not body.endswith("\\\\") else ""
            pieces.append(_SD_PLAIN_ESCAPE.sub(_systemd_plain_escape, body + kept[:1]))
            return "".join(pieces), end


def _systemd_double_escape(match: re.Match[str]) -> str:
    char = match.group(1)
    if char in _SHELL_NEED_ESCAPE:
        return char
    return "" if char == "\n" else "\\" + char


def _systemd_plain_escape(match: re.Match[str]) -> str:
    char = match.group(1)
    return "" if char in ("\n", "\r") else char


# --- the files a compose file names under `env_file:` --------------------------------------------

_LISTED = 1000  # items of one `env_file:` list read
COMPOSE_FILES = [":(glob,icase)**/docker-compose*.y*ml", ":(glob,icase)**/compose*.y*ml"]
MAX_COMPOSE_BYTES = 1 << 20  # a compose file longer than this is not looked into for `env_file:`
# `env_file: x.env`, `env_file: [a, "b"]`, and the list under it: `- x.env` or `- path: x.env`
_ENV_FILE_KEY = re.compile(rb"([ \t]*)(?:-[ \t]+)?[\"']?env_file[\"']?[ \t]*:[ \t]*([^\r\n]*)")
_LIST_ITEM = re.compile(rb"[ \t]*-?[ \t]*(?:[\"']?path[\"']?[ \t]*:[ \t]*)?([^\r\n#]*)")


COMPOSE_FOLLOWED = (
    50  # compose files read in all, the named ones and those they `include:`/`extends:`
)


def compose_env_files(composes: list[str], read: Callable[[str], bytes | None]) -> list[str]:
    """The files the compose files ``composes`` (paths of a clone; ``read`` gives their bytes, or
    None) name under `env_file:`, relative to each compose file's folder, inside the clone. Read line
    by line (any spelling is a candidate, and more files only check more) and, pass 22e, as YAML too:
    a flow mapping (`worker: {env_file: x}`, `env_file: {path: x, required: false}`), an anchor or
    alias, a block scalar, a tag (`!override`), a `${X:-x}` default, and the compose files an
    `include:` or `extends: {file: …}` names (any name; at most ``COMPOSE_FOLLOWED`` files read)."""
    queue = list(composes)
    found: list[str] = []
    done: set[str] = set()
    while queue and len(done) < COMPOSE_FOLLOWED:
        compose = queue.pop(0)
        if compose in done:
            continue
        done.add(compose)
        data = read(compose)
        if not data or len(data) > MAX_COMPOSE_BYTES:
            continue
        folder = os.path.dirname(compose)
        names, others = _env_file_names(data), []
        try:
            documents = yamlio.load_all_any_tags(data.decode("utf-8", "replace"))
        except yamlio.YamlSyntaxError:
            documents = []
        for document in documents:
            named, followed = _compose_names(document)
            names += [n.encode("utf-8", "surrogateescape") for n in named]
            others += followed
        for name in names:
            for text in _defaults_of(name.decode("utf-8", "replace")):
                path = _inside(folder, text)
                if path is not None:
                    found.append(path)
        queue += [p for o in others for t in _defaults_of(o) if (p := _inside(folder, t))]
    return list(dict.fromkeys(found))


def _inside(folder: str, name: str) -> str | None:
    """``name`` (relative to ``folder``) as a path of the clone, or None when it leaves it."""
    path = os.path.normpath(os.path.join(folder, name))
    if os.path.isabs(path) or path == "." or path.startswith(".." + os.sep) or path == "..":
        return None
    return path.replace(os.sep, "/")


_INTERPOLATED = re.compile(r"\$\{[^{}:?+-]*(?::?-([^{}]*))?[^{}]*\}")


def _defaults_of(name: str) -> list[str]:
    """``name`` and, when it interpolates (`${APP_ENV:-config/app.conf}`), the name compose reads
    when the variable is unset: each `${X:-d}` or `${X-d}` as its default, any other as nothing."""
    if "${" not in name:
        return [name]
    return [name, _INTERPOLATED.sub(lambda m: m[1] or "", name)]


def _compose_names(document: object) -> tuple[list[str], list[str]]:
    """(the names every `env_file:` of ``document`` gives, the compose files its `include:` and
    `extends: {file: …}` name), wherever they sit; each node walked once (aliases are shared)."""
    names: list[str] = []
    others: list[str] = []
    stack, seen = [document], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, list):
            stack += node
            continue
        if not isinstance(node, dict):
            continue
        for key, value in node.items():
            if key == "env_file":
                names += _paths_of(value)
            elif key == "include":
                others += _paths_of(value)
            elif key == "extends" and isinstance(value, dict):
                others += _paths_of(value.get("file"))
            stack.append(value)
    return names, others


def _paths_of(value: object, depth: int = 3) -> list[str]:
    """The paths of an `env_file:` or `include:` value: a string, `{path: …}`, or a list of them
    (``depth`` levels: an alias can make a list hold itself)."""
    if isinstance(value, str):
        return [value]
    if depth == 0:
        return []
    if isinstance(value, dict):
        return [p for k in ("path", "env_file") for p in _paths_of(value.get(k), depth - 1)]
    if isinstance(value, list):
        return [p for item in value[:_LISTED] for p in _paths_of(item, depth - 1)]
    return []


def _env_file_names(data: bytes) -> list[bytes]:
    """Each name an `env_file:` of ``data`` (a compose file) gives, whatever its spelling."""
    names: list[bytes] = []
    lines = data.splitlines()
    for index, line in enumerate(lines):
        match = _ENV_FILE_KEY.match(line)
        if match is None:
            continue
        value = match[2].split(b" #", 1)[0].strip()
        if value.startswith(b"["):
            names += [w.strip(b" \t\"'") for w in value.strip(b"[]").split(b",")]
        elif value:
            names.append(value.strip(b"\"'"))
            continue
        indent = len(match[1])  # a list under the key: `- …` items at its indent or deeper
        for item in lines[index + 1 : index + 101]:
            if not item.strip() or item.lstrip().startswith(b"#"):
                continue
            depth = len(item) - len(item.lstrip())
            if depth < indent or (depth == indent and not item.lstrip().startswith(b"-")):
                break
            got = _LIST_ITEM.match(item)
            if got is not None and got[1].strip():
                names.append(got[1].strip().strip(b"\"'"))
    return [n for n in names if n and b"\0" not in n and b": " not in n]


# --- what compose makes of a compose file's own `${…}` ------------------------------------------------

# a run of a YAML line holding a `$`: plain characters, `$`, and `${…}` (one level nested inside)
_RUN = re.compile(r"(?:[^\s\"',\[\]{}$]|\$\{(?:[^{}\s]|\{[^{}\s]*\})*\}|\$)+")


def compose_interpolations(
    data: bytes, known: dict[str, str], budget: Budget
) -> Iterator[tuple[int, list[bytes]]]:
    """(line, forms) for each run of a compose file's line that interpolates (`API_TOKEN=${P1}7f…`,
    `--token=$P1$P2`) naming a name ``known`` binds (the project's env file bindings), as compose
    expands it: what follows its first `=` or `:`, else the whole run. Pass 22e (13.6): compose interpolates the compose
    file itself from `.env`, so a container's value may be built there from pieces no env file holds
    whole. Linear per line; growth counts against ``budget``."""
    text = data.decode("utf-8", "surrogateescape")
    for number, line in enumerate(text.splitlines(), start=1):
        if "$" not in line or line.lstrip().startswith("#"):
            continue
        for run in _RUN.findall(line):
            if not any(name in known for name in _REFERENCED.findall(run)):
                continue  # only the compose file's own text (a default like `latest`): public
            expanded = _substitute(run, known, [], budget, 0)
            if expanded is None or expanded == run:
                continue
            # what follows `API_TOKEN=` or `image:` is the value; the name before it is public
            # (a URL's `:` is no such mark: `postgres://app:${P1}${P2}@db` is one value)
            if "=" in expanded:
                expanded = expanded.partition("=")[2]
            elif ":" in expanded and "://" not in expanded:
                expanded = expanded.partition(":")[2]
            yield number, [_bytes(expanded)]


_REFERENCED = re.compile(r"\$\{?([_A-Za-z][_A-Za-z0-9]*)")
