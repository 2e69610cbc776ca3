"""Which ``.gitignore`` lines a repo needs, judged with git's own matching rules.

For names at the top of the repo (every name the tool asks about) :mod:`ignorematch` finds
the last line matching each, in-process, checked against ``git check-ignore`` line by line in
the tests; pathspec's ``GitIgnoreSpec`` answers for paths in folders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import pathspec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from juniper_rollout.edits import blocks, ignorematch
from juniper_rollout.envfiles import DEFAULT, EnvFiles
from juniper_rollout.paths import GITIGNORE

# Sample names for the default definition of a plaintext env file (juniper_rollout.envfiles).
MUST_IGNORE, MUST_TRACK = DEFAULT.samples()


def _spec(lines: list[str], paths: tuple[str, ...]) -> pathspec.GitIgnoreSpec | _TopLevel:
    """git's rules for ``lines`` as far as ``paths`` go; a line git would ignore as invalid (a lone ``!``)
    is skipped, as git does. Names at the top of the repo are decided by :mod:`ignorematch` (the
    last line matching each, its sign), which is checked against ``git check-ignore`` line by line:
    pathspec differs from git where a ``**`` follows a pattern's literal start (``prod.env.**/**``
    ignores ``prod.env.example`` in git, not in pathspec 1.1). Paths in folders go to pathspec, only
    the lines that decide for ``paths`` compiled (see :func:`_relevant`), so a 200,000-line file
    costs one pass over its lines, not 200,000 regular expressions."""
    if not any("/" in p for p in paths):
        return _TopLevel(lines, paths)
    return pathspec.GitIgnoreSpec(
        [p for p in map(_pattern, _relevant(lines, paths)) if p is not None]
    )


class _TopLevel:
    """Which of ``paths`` (no ``/``) the lines ignore: the last line matching each decides, ignored
    unless it starts with ``!``; read last to first, stopping when every path has its line. Read
    twice: as git reads them with ``core.ignoreCase`` false (Linux) and true (a clone on macOS or
    Windows, where `!.ENV` un-ignores `.env`: pass 19d)."""

    def __init__(self, lines: list[str], paths: tuple[str, ...]) -> None:
        self._names = _names_for(paths)
        self._ignored = [self._read(lines, paths, fold) for fold in (False, True)]

    @staticmethod
    def _read(lines: list[str], paths: tuple[str, ...], fold: bool) -> int:
        names = _names_for(paths, fold)
        wanted = names.mask(paths)
        decided = ignored = 0
        for line in reversed(lines):
            hits = names.matched(line) & wanted & ~decided
            if hits:
                decided |= hits
                if not line.startswith("!"):
                    ignored |= hits
                if decided == wanted:
                    break
        return ignored

    def match_file(self, path: str) -> bool:
        """Ignored whatever the clone's ``core.ignoreCase``."""
        mask = self._names.mask([path])
        return all(ignored & mask for ignored in self._ignored)

    def maybe_ignored(self, path: str) -> bool:
        """Ignored with one ``core.ignoreCase`` or the other."""
        mask = self._names.mask([path])
        return any(ignored & mask for ignored in self._ignored)


def _maybe_ignored(spec: pathspec.GitIgnoreSpec | _TopLevel, path: str) -> bool:
    if isinstance(spec, _TopLevel):
        return spec.maybe_ignored(path)
    return spec.match_file(path)


def _relevant(lines: list[str], paths: tuple[str, ...]) -> list[str]:
    """The lines that decide whether ``paths`` are ignored, in order: for each path, the last line
    matching it (the last matching pattern wins; for paths at the top of the repo no parent
    directory can be excluded). Lines are read last to first, each matched against all the paths
    at once without compiling anything (:mod:`ignorematch`, which remembers each line's answer for
    the next reading), and the reading stops when every path has its line: whatever the lines are,
    the work is one short pass per line, and pathspec compiles at most one line per path."""
    if any("/" in p for p in paths):
        return lines
    # the deciding lines with core.ignoreCase false and true (see _TopLevel): both are kept
    both = [_names_for(paths, fold) for fold in (False, True)]
    wanted = both[0].mask(paths)
    decided = [0, 0]
    kept: list[str] = []
    for line in reversed(lines):
        hits = [
            names.matched(line) & wanted & ~done for names, done in zip(both, decided, strict=True)
        ]
        if hits[0] or hits[1]:
            kept.append(line)
            decided = [done | hit for done, hit in zip(decided, hits, strict=True)]
            if decided[0] == decided[1] == wanted:
                break
    kept.reverse()
    return kept


def _names_for(paths: tuple[str, ...], fold: bool = False) -> ignorematch.Names:
    return _names(tuple(sorted({*paths, *_UNIVERSE})), fold)


@lru_cache(maxsize=16)
def _names(paths: tuple[str, ...], fold: bool = False) -> ignorematch.Names:
    return ignorematch.Names(paths, fold=fold)


@lru_cache(maxsize=4096)
def _pattern(line: str) -> GitIgnoreSpecPattern | None:
    """One line, compiled once per run: the same lines recur in every repo and in every spec."""
    try:
        return GitIgnoreSpecPattern(line)
    except ValueError:  # pathspec: an invalid pattern, or one that normalizes to nothing
        return None


def lines(text: str) -> list[str]:
    """The lines git reads from a ``.gitignore`` (``dir.c``: add_patterns_from_buffer): a UTF-8
    byte order mark at the start skipped, split at ``\\n`` only (``str.splitlines`` also splits at
    a lone ``\\r``, ``\\f``, ``\\v``, U+0085, U+2028...: a file with CR-only line ends is ONE line to
    git, which then ignores nothing), one ``\\r`` before the ``\\n`` dropped, each pattern ending at
    a NUL (git reads it as a C string)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    out = text.split("\n")
    if out and not out[-1]:
        out.pop()
    return [(line[:-1] if line.endswith("\r") else line).split("\0", 1)[0] for line in out]


def ignored(text: str, path: str) -> bool:
    return _spec(lines(text), (path,)).match_file(path)


def problems(text: str, env: EnvFiles = DEFAULT) -> list[str]:
    """What is wrong with these ignore rules, as sentences (empty: all good)."""
    must_ignore, must_track = env.samples()
    spec = _spec(lines(text), (*must_ignore, *must_track))
    out = [f"{p} is not ignored" for p in must_ignore if not spec.match_file(p)]
    out += [f"{p} is ignored" for p in must_track if _maybe_ignored(spec, p)]
    return out


@dataclass(frozen=True)
class GitignoreEdit:
    text: str
    patterns: tuple[str, ...]  # what the block holds (empty: no block)


def needed_patterns(outside: str, env: EnvFiles = DEFAULT) -> tuple[str, ...]:
    """The fewest lines that, appended after ``outside``, give the rules we need."""
    must_ignore, _ = env.samples()
    # the lines that decide for every name asked about below, found in one reading of ``outside``
    kept = _relevant(
        lines(outside),
        (*must_ignore, *(_sample(line) for line in env.gitignore_exceptions())),
    )
    spec = _spec(kept, must_ignore)
    adds = [
        glob
        for glob, sample in zip(env.gitignore_ignores(), must_ignore, strict=False)
        if not spec.match_file(sample)
    ]
    exceptions = [
        line
        for line in env.gitignore_exceptions()
        if _maybe_ignored(_spec(kept, (_sample(line),)), _sample(line))
        or _ignored_after(kept, adds, _sample(line))
    ]
    return (*adds, *exceptions)  # exceptions last: the last matching pattern wins


def _sample(line: str) -> str:
    """A name an ignore line matches: ``!.env.*.example`` -> ``.env.local.example``."""
    return line.lstrip("!").replace("*", "local")


# the names the default definition asks about: one Names (and its memory of lines) serves every question
_UNIVERSE = (*MUST_IGNORE, *MUST_TRACK, *map(_sample, DEFAULT.gitignore_exceptions()))


def _ignored_after(kept: list[str], adds: list[str], path: str) -> bool:
    """Whether ``path`` is ignored once ``adds`` follow the lines ``kept`` decide by."""
    if not adds:
        return False
    return _maybe_ignored(_spec([*kept, *adds], (path,)), path)


def edit(
    text: str,
    render_block: Callable[[tuple[str, ...]], str],
    *,
    path: str = GITIGNORE,
    env: EnvFiles = DEFAULT,
) -> GitignoreEdit:
    """The new ``.gitignore``: the tool's block holds exactly what the rest of the file lacks."""
    outside = blocks.remove(text, blocks.GITIGNORE, path=path)
    patterns = needed_patterns(outside, env)
    if not patterns:
        return GitignoreEdit(outside, ())
    new = blocks.put(text, render_block(patterns), blocks.GITIGNORE, path=path)
    if problems(new, env):  # a block in the middle can be overridden by later lines: move it last
        new = blocks.put(outside, render_block(patterns), blocks.GITIGNORE, path=path)
    return GitignoreEdit(new, patterns)
