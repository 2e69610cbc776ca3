"""Which of a few file names at the top of a repo each ``.gitignore`` line matches. Pure.

git's own rules (``dir.c``: comments, trailing spaces, ``!``, a trailing ``/``, a ``/``
anchoring the pattern, its literal start compared before wildmatch sees the rest, so a ``**``
right after it is at wildmatch's start; ``wildmatch.c``: ``\\`` escapes, ``?``, ``*``, ``**/``,
``[...]`` classes with ``!``/``^``, ranges and ``[:alpha:]`` names, an unterminated class
matching nothing), for names that hold no ``/``, on bytes as git compares them. No regular
expression is compiled: each line is read once and matched against every name at once (one bit
per position of each name, shifted along the pattern), so a 200,000-line file whose every line
could match costs one short pass per line, whatever its lines are.

It only *selects* lines: :mod:`juniper_rollout.edits.gitignore` lets pathspec decide over
the lines selected here (the last one matching each name). ``tests/test_gitignore.py``
checks it against ``git check-ignore``, line by line, on generated patterns.
"""

from __future__ import annotations

from collections.abc import Sequence

_POSIX = {
    b"alnum": lambda c: chr(c).isascii() and chr(c).isalnum(),
    b"alpha": lambda c: chr(c).isascii() and chr(c).isalpha(),
    b"blank": lambda c: c in (0x20, 0x09),
    b"cntrl": lambda c: c < 0x20 or c == 0x7F,
    b"digit": lambda c: 0x30 <= c <= 0x39,
    b"graph": lambda c: 0x21 <= c <= 0x7E,
    b"lower": lambda c: 0x61 <= c <= 0x7A,
    b"print": lambda c: 0x20 <= c <= 0x7E,
    b"punct": lambda c: 0x21 <= c <= 0x7E and not chr(c).isalnum(),
    b"space": lambda c: c in (0x20, 0x09, 0x0A, 0x0D),
    b"upper": lambda c: 0x41 <= c <= 0x5A,
    b"xdigit": lambda c: chr(c) in "0123456789abcdefABCDEF",
}
_MEMO_LINES = 1 << 20
_DEAD = -1  # a token that can never match (a '/', which none of the names holds; a malformed class)
_STAR = -2


class Names:
    """A fixed set of names (no ``/``), and the bit masks the matcher shifts along them.

    ``fold``: match as git does with ``core.ignoreCase`` (the default of a clone on macOS and
    Windows): ``dir.c`` compares literal parts ignoring ASCII case, and ``wildmatch.c`` with
    WM_CASEFOLD lowers the name's byte and the pattern's byte, except a byte after ``\\`` and a class
    member, which it compares as written (``\\E`` and ``[E]`` match no name then); a range also takes
    a lower-case letter's upper case, and ``[:upper:]`` takes a lower-case letter."""

    def __init__(self, names: Sequence[str], *, fold: bool = False) -> None:
        self.fold = fold
        self.names = tuple(names)
        encoded = [n.encode("utf-8") for n in self.names]
        if any(b"/" in n or not n for n in encoded):
            raise ValueError("names must be non-empty and hold no '/'")
        self.start = 0
        self.ends: list[int] = []
        self.char: dict[int, int] = {}
        within: dict[int, int] = {}
        offset = 0
        for name in encoded:
            self.start |= 1 << offset
            for i, byte in enumerate(name):
                bit = 1 << (offset + i + 1)
                self.char[byte] = self.char.get(byte, 0) | bit
                for step in range(1, i + 2):
                    within[step] = within.get(step, 0) | bit
            self.ends.append(1 << (offset + len(name)))
            offset += len(name) + 1
        self.any = 0
        for mask in self.char.values():
            self.any |= mask
        self.all_ends = sum(self.ends)
        self._index = {name: i for i, name in enumerate(self.names)}
        self._memo: dict[str, int] = {}
        self.evaluated = 0  # lines matched (not remembered): the work, for tests to count
        self._steps: list[tuple[int, int]] = []
        step = 1
        while step <= max(len(n) for n in encoded):
            self._steps.append((step, within[step]))
            step *= 2

    def literal(self, byte: int) -> int:
        """The positions holding ``byte`` (either case of an ASCII letter under :attr:`fold`)."""
        if not self.fold or not (0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A):
            return self.char.get(byte, 0)
        return self.char.get(byte | 0x20, 0) | self.char.get(byte & ~0x20, 0)

    def escaped(self, byte: int) -> int:
        """The positions a ``\\`` + ``byte`` steps into: under :attr:`fold`, the name's byte is
        lowered and ``byte`` is not, so an upper-case letter there matches nothing."""
        if not self.fold or not (0x41 <= byte <= 0x5A or 0x61 <= byte <= 0x7A):
            return self.char.get(byte, 0)
        return self.literal(byte) if byte >= 0x61 else 0

    def star(self, state: int) -> int:
        """Every position at or after a set one, in the same name."""
        for step, mask in self._steps:
            state |= (state << step) & mask
        return state

    def mask(self, names: Sequence[str]) -> int:
        """The end bits of ``names`` (each one of :attr:`names`)."""
        out = 0
        for name in names:
            out |= self.ends[self._index[name]]
        return out

    def matched(self, line: str) -> int:
        """The end bits (:meth:`mask`) of the names ``line`` matches, its sign not looked at;
        remembered (up to a million lines), so reading the same lines again (the file with the
        tool's block in it, drift's second question) is a lookup per line."""
        hit = self._memo.get(line)
        if hit is None:
            if len(self._memo) >= _MEMO_LINES:
                self._memo.clear()
            hit = self._memo[line] = self._match(line)
        return hit

    def _match(self, line: str) -> int:
        self.evaluated += 1
        tokens = _tokens(line, self)
        if tokens is None:
            return 0
        state = self.start
        for token in tokens:
            if token == _STAR:
                state = self.star(state)
            elif token == _DEAD:
                return 0
            else:
                state = (state << 1) & token
                if not state:
                    return 0
        return state & self.all_ends


def _trim(line: bytes) -> bytes:
    """git's trim_trailing_spaces: trailing blanks go, unless the first is escaped."""
    last_space = None
    i = 0
    while i < len(line):
        c = line[i]
        if c == 0x20:
            if last_space is None:
                last_space = i
        elif c == 0x5C:
            i += 1
            if i >= len(line):
                return line
            last_space = None
        else:
            last_space = None
        i += 1
    return line if last_space is None else line[:last_space]


def _tokens(line: str, names: Names) -> list[int] | None:
    """The pattern as masks (a literal, ``?`` or class: the positions it lets a name step into),
    ``_STAR`` and ``_DEAD``; None for a line that matches none of the names whatever they are."""
    raw = line.encode("utf-8", "surrogateescape")
    if not raw or raw.startswith(b"#"):
        return None
    pattern = _trim(raw) if raw.endswith(b" ") else raw
    if pattern.startswith(b"!"):
        pattern = pattern[1:]
    if not pattern or pattern.endswith(b"/"):  # empty, or a directory only: never a file
        return None
    pathname = b"/" in pattern
    if pattern.startswith(b"/"):
        pattern = pattern[1:]
    # dir.c's match_pathname compares the literal part before the first '*', '?', '[' or '\'
    # itself and hands wildmatch only the rest, so a '**' right after that part starts
    # wildmatch's pattern: '.**/**' is '.' then '**/**', and matches '.env' (git 2.39, measured)
    literal = next((i for i, c in enumerate(pattern) if c in b"*?[\\"), len(pattern))
    out: list[int] = []
    p, n = 0, len(pattern)
    while p < n:
        c = pattern[p]
        if c == 0x5C:  # '\': the next byte is literal ('\' at the end matches nothing)
            if p + 1 >= n:
                return [_DEAD]
            out.append(names.escaped(pattern[p + 1]) if pattern[p + 1] != 0x2F else _DEAD)
            p += 2
        elif c == 0x3F:  # '?'
            out.append(names.any)
            p += 1
        elif c == 0x2A:  # '*' or a run of them
            q = p
            while q < n and pattern[q] == 0x2A:
                q += 1
            double = q - p >= 2
            if pathname and double and (p == literal or pattern[p - 1] == 0x2F) and q < n:
                if pattern[q] == 0x2F:  # '**/' matches no directory at all (a name holds no '/')
                    p = q + 1
                    continue
            out.append(_STAR)
            p = q
        elif c == 0x5B:  # '['
            mask, p = _class(pattern, p, names)
            out.append(mask)
        elif c == 0x2F:  # '/': a name holds none
            return [_DEAD]
        else:
            out.append(names.literal(c))
            p += 1
    return out


def _class(pattern: bytes, p: int, names: Names) -> tuple[int, int]:
    """wildmatch's bracket expression at ``pattern[p] == '['``: (mask of the name positions it
    lets a name step into, index after it); ``_DEAD`` for one git aborts on (unterminated, bad name)."""
    n = len(pattern)
    p += 1
    if p < n and pattern[p] in (0x21, 0x5E):  # '!' or '^'
        negated = True
        p += 1
    else:
        negated = False
    singles: set[int] = set()
    members: list[tuple[int, int]] = []  # byte ranges
    posix: list[bytes] = []
    prev = 0
    first = True
    close = -1  # the first ']' at or after the last '[:' looked at: found once, not per '[:'
    while True:
        if p >= n:
            return _DEAD, n
        c = pattern[p]
        if not first and c == 0x5D:  # ']'
            p += 1
            break
        first = False
        if c == 0x5C:
            p += 1
            if p >= n:
                return _DEAD, n
            c = pattern[p]
            singles.add(c)
        elif c == 0x2D and prev and p + 1 < n and pattern[p + 1] != 0x5D:  # a range prev-next
            p += 1
            hi = pattern[p]
            if hi == 0x5C:
                p += 1
                if p >= n:
                    return _DEAD, n
                hi = pattern[p]
            members.append((prev, hi))
            c = 0
        elif c == 0x5B and p + 1 < n and pattern[p + 1] == 0x3A:  # '[:'
            s = p + 2
            if close < s:  # (pass 19d: scanning for it at every '[:' took 30 s for a 60 KB line)
                close = pattern.find(b"]", s)
            if close < 0:
                return _DEAD, n
            q = close
            if q - s - 1 < 0 or pattern[q - 1] != 0x3A:  # no ':]': the '[' is an ordinary member
                singles.add(0x5B)
                c = 0x5B
            else:
                name = pattern[s : q - 1]
                if name not in _POSIX:
                    return _DEAD, n
                posix.append(name)
                p = q
                c = 0
        else:
            singles.add(c)
        prev = c
        p += 1
    mask = 0
    for byte, bits in names.char.items():
        if names.fold and 0x41 <= byte <= 0x5A:  # wildmatch lowers the name's byte, not the class's
            byte |= 0x20
        lower = names.fold and 0x61 <= byte <= 0x7A
        hit = (
            byte in singles
            or (bool(members) and any(lo <= byte <= hi for lo, hi in members))
            or (lower and any(lo <= byte - 0x20 <= hi for lo, hi in members))
            or (bool(posix) and any(_POSIX[k](byte) for k in posix))
            or (lower and b"upper" in posix)
        )
        if hit != negated:
            mask |= bits
    return mask, p
