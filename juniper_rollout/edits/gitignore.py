"""Which ``.gitignore`` lines a repo needs, judged with git's own matching rules.

pathspec's ``GitIgnoreSpec`` reproduces git's wildmatch and last-match-wins
semantics in-process (the tests cross-check it against ``git check-ignore``).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import pathspec
from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

from juniper_rollout.edits import blocks
from juniper_rollout.envfiles import DEFAULT, EnvFiles

# Sample names for the default definition of a plaintext env file (juniper_rollout.envfiles).
MUST_IGNORE, MUST_TRACK = DEFAULT.samples()


def _spec(lines: list[str]) -> pathspec.GitIgnoreSpec:
    """git's rules for ``lines``; a line git would ignore as invalid (a lone ``!``) is skipped, as git does."""
    return pathspec.GitIgnoreSpec([p for p in map(_pattern, lines) if p is not None])


@lru_cache(maxsize=4096)
def _pattern(line: str) -> GitIgnoreSpecPattern | None:
    """One line, compiled once per run: the same lines recur in every repo and in every spec."""
    try:
        return GitIgnoreSpecPattern(line)
    except ValueError:  # pathspec: an invalid pattern, or one that normalizes to nothing
        return None


def ignored(text: str, path: str) -> bool:
    return _spec(text.splitlines()).match_file(path)


def problems(text: str, env: EnvFiles = DEFAULT) -> list[str]:
    """What is wrong with these ignore rules, as sentences (empty: all good)."""
    spec = _spec(text.splitlines())
    must_ignore, must_track = env.samples()
    out = [f"{p} is not ignored" for p in must_ignore if not spec.match_file(p)]
    out += [f"{p} is ignored" for p in must_track if spec.match_file(p)]
    return out


@dataclass(frozen=True)
class GitignoreEdit:
    text: str
    patterns: tuple[str, ...]  # what the block holds (empty: no block)


def needed_patterns(outside: str, env: EnvFiles = DEFAULT) -> tuple[str, ...]:
    """The fewest lines that, appended after ``outside``, give the rules we need."""
    spec = _spec(outside.splitlines())
    must_ignore, _ = env.samples()
    adds = [glob for glob, sample in zip(env.gitignore_ignores(), must_ignore) if not spec.match_file(sample)]
    exceptions = [line for line in env.gitignore_exceptions()
                  if spec.match_file(_sample(line)) or _ignored_after(outside, adds, _sample(line))]
    return (*adds, *exceptions)  # exceptions last: the last matching pattern wins


def _sample(line: str) -> str:
    """A name an ignore line matches: ``!.env.*.example`` -> ``.env.local.example``."""
    return line.lstrip("!").replace("*", "local")


def _ignored_after(outside: str, adds: list[str], path: str) -> bool:
    if not adds:
        return False
    return _spec([*outside.splitlines(), *adds]).match_file(path)


def edit(text: str, render_block: Callable[[tuple[str, ...]], str], *, path: str = ".gitignore",
         env: EnvFiles = DEFAULT) -> GitignoreEdit:
    """The new ``.gitignore``: the tool's block holds exactly what the rest of the file lacks."""
    outside = blocks.remove(text, blocks.GITIGNORE, path=path)
    patterns = needed_patterns(outside, env)
    if not patterns:
        return GitignoreEdit(outside, ())
    new = blocks.put(text, render_block(patterns), blocks.GITIGNORE, path=path)
    if problems(new, env):  # a block in the middle can be overridden by later lines: move it last
        new = blocks.put(outside, render_block(patterns), blocks.GITIGNORE, path=path)
    return GitignoreEdit(new, patterns)
