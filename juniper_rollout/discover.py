"""Discover environment variable names from a repository's source text.

Pure: takes path -> text, never reads files and never imports or runs the analysed code.
Three sources are read: pydantic(-settings) ``BaseSettings`` classes, ``os.getenv`` /
``os.environ`` reads, and ``${VAR}`` interpolation in docker-compose files. Names, prefixes,
aliases and defaults are folded statically across the repository (:mod:`juniper_rollout.fold`):
module constants, imports, concatenation, f-strings, ``.format``. What cannot be folded is
reported as "not resolved: path:line", never guessed.

Defaults are reported only when they fold to a scalar (or, for settings fields, a JSON list/dict
of scalars), never for a name that looks secret, and never for a value that carries a credential
(URL user-info, known token prefixes, long high-entropy strings), whatever the name.
Only application code is read by default: tests, conftest.py, docs, CI folders and vendored or
built trees are left out (``include``/``exclude`` globs adjust that).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from juniper_rollout.envreads import EnvReads
from juniper_rollout.fold import Repo
from juniper_rollout.pyast import parse
from juniper_rollout.secretshape import carries_credential, looks_secret
from juniper_rollout.settingsclasses import SettingsClasses


@dataclass(frozen=True)
class EnvVar:
    """One environment variable the code reads.

    ``group`` says where it is read, as a person would title it: "pkg/settings.py: Settings
    (prefix APP_)" for a settings class, the file's path for os.getenv/os.environ and compose.
    ``optional``: the code has a default (the app runs without the variable); ``default`` is that
    default as an env value when it is safe to show (a literal, not secret-looking, no credential).
    """

    name: str
    default: str | None
    description: str | None  # Field(description=...) or the field's docstring
    source: str  # "path/to/settings.py:12" (repo-relative path:line)
    group: str = ""
    optional: bool = False


@dataclass(frozen=True)
class Discovery:
    vars: tuple[EnvVar, ...]
    unresolved: tuple[str, ...]  # "path:line" of each env read whose name could not be folded
    # names read only in place of another (a deprecated alias, a NAME_FILE indirection): a file
    # that lists them is not stale, and they are not added
    also_read: tuple[str, ...] = ()


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "node_modules",
    "build",
    "dist",
    "site-packages",
    "tests",
    "test",
    "__pycache__",
    ".tox",
    ".nox",
    ".eggs",
    "docs",
    "doc",
    ".github",
    ".gitlab",
    ".circleci",
}
# a default longer than this is not shown in `.env.example` (nor searched for a credential's shape: pass
# 20c, a 15 MB default in a committed compose file held plan 130 s in the ~300 token-shape searches)
MAX_SHOWN_DEFAULT = 1 << 16
_COMPOSE = re.compile(r"(?:docker-)?compose[^/]*\.ya?ml")
_N = r"[A-Za-z_][A-Za-z0-9_]*"
# $$ (an escaped dollar) | ${NAME[op word]} with one level of nesting in the word | $NAME
# (possessive `*+`: the word's pieces start with different characters, so nothing is given back;
# pass 20c: a repeat kept one backtracking point per byte, a 15 MB default in a committed compose file
# took plan to 2.9 GB)
_INTERP = re.compile(
    rf"\$(?:\$|\{{({_N})(?:(:?[-?+])((?:[^${{}}]|\$\$|\$\{{[^{{}}]*\}}|\${_N})*+))?\}}|({_N}))"
)


def candidate_paths(
    paths: Iterable[str], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[str]:
    """The paths discover() reads: *.py and compose files of the application, not tests, conftest.py,
    docs, CI folders or vendored and built trees. ``exclude`` globs drop more paths, ``include`` globs
    add paths back (fnmatch on the repo path: ``*`` also matches ``/``)."""
    out = set()
    for path in paths:
        *dirs, base = path.split("/")
        if not (base.endswith(".py") or _COMPOSE.fullmatch(base)):
            continue
        if any(fnmatchcase(path, glob) for glob in include):
            out.add(path)
            continue
        if any(fnmatchcase(path, glob) for glob in exclude):
            continue
        if any(d in _SKIP_DIRS or d.endswith(".egg-info") for d in dirs):
            continue
        if base.endswith(".py") and (
            base == "conftest.py" or base.startswith("test_") or base.endswith("_test.py")
        ):
            continue
        out.add(path)
    return sorted(out)


def discover(
    files: Mapping[str, str], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[EnvVar]:
    """The names of :func:`discover_all`."""
    return list(discover_all(files, include, exclude).vars)


def discover_all(
    files: Mapping[str, str], include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> Discovery:
    """One EnvVar per name (its first occurrence), grouped by where it is read: groups in path order
    (settings classes by line), names in the order the code reads them.

    Only files candidate_paths() keeps are looked at; a .py file that does not parse is skipped.
    """
    found: list[tuple[tuple, str, int, str, str | None, str | None, str, bool]] = []
    trees: dict[str, ast.Module] = {}
    nodes: dict[str, list[ast.AST]] = {}
    for path in candidate_paths(files, include, exclude):
        text = files[path].removeprefix("\ufeff")
        if not path.endswith(".py"):
            found += [
                ((path, 0, line), path, line, name, default, None, path, default is not None)
                for line, name, default in _compose(text)
            ]
            continue
        try:
            tree = parse(text)
            assert isinstance(tree, ast.Module)
            nodes[path] = list(ast.walk(tree))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        trees[path] = tree
    repo = Repo(trees)
    unresolved: list[tuple[str, int]] = []
    fallbacks: list[str] = []  # read only in place of another name: a legacy alias, NAME_FILE
    env_reads = EnvReads(repo, nodes)
    for path in trees:
        try:
            reads = list(env_reads.reads(path, unresolved))
        except RecursionError:  # pathological nesting: this file tells nothing
            unresolved.append((path, 1))
            continue
        found += [
            ((path, 0, line), path, line, name, default, None, path, optional)
            for line, name, default, optional, fallback in reads
            if not fallback
        ]
        fallbacks += [name for _, name, _, _, fallback in reads if fallback]
    found += SettingsClasses(repo, nodes, unresolved).settings_vars()
    found.sort(key=lambda f: f[0])  # stable: ties keep discovery order
    seen: set[str] = set()
    out = []
    for _, path, line, name, default, desc, group, optional in found:
        if name in seen or not _ENV_NAME.fullmatch(name):
            continue
        seen.add(name)
        if looks_secret(name) or (
            default is not None
            and (
                len(default) > MAX_SHOWN_DEFAULT
                or "\n" in default
                or "\r" in default
                or carries_credential(default)
            )
        ):
            default = None
        out.append(EnvVar(name, default, desc, f"{path}:{line}", group, optional))
    where = sorted(set(unresolved), key=lambda u: (u[0], u[1]))
    also = tuple(dict.fromkeys(n for n in fallbacks if n not in seen and _ENV_NAME.fullmatch(n)))
    return Discovery(tuple(out), tuple(f"{p}:{n}" for p, n in where), also)


# --- docker-compose ---------------------------------------------------------------------------


def _compose(text: str) -> Iterator[tuple[int, str, str | None]]:
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.lstrip().startswith("#"):
            yield from ((lineno, name, default) for name, default in _interpolations(line))


def _interpolations(text: str) -> Iterator[tuple[str, str | None]]:
    for m in _INTERP.finditer(text):
        name, op, word = m.group(1) or m.group(4), m.group(2), m.group(3) or ""
        if not name:
            continue  # $$
        yield name, (word if op in ("-", ":-") and "$" not in word else None)
        if "$" in word:
            yield from _interpolations(word)
