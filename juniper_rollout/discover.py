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
import copy
import json
import re
import threading
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, TypeGuard

from juniper_rollout.fold import ClassRef, Repo, Unresolved
from juniper_rollout.secretshape import carries_credential, looks_secret


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
_COMPOSE = re.compile(r"(?:docker-)?compose[^/]*\.ya?ml")
_N = r"[A-Za-z_][A-Za-z0-9_]*"
# $$ (an escaped dollar) | ${NAME[op word]} with one level of nesting in the word | $NAME
_INTERP = re.compile(
    rf"\$(?:\$|\{{({_N})(?:(:?[-?+])((?:[^${{}}]|\$\$|\$\{{[^{{}}]*\}}|\${_N})*))?\}}|({_N}))"
)
_CONFIG_KEYS = ("env_prefix", "env_nested_delimiter", "case_sensitive")

# CPython 3.11 keeps the AST converter's recursion counter per interpreter, not per thread: two threads
# inside ast.parse at once (one of them paused by a finalizer that releases the GIL) raise
# "SystemError: AST constructor recursion depth mismatch". plan and drift discover in threads, so
# every parse goes through this lock (the conversion holds the GIL anyway: nothing is lost).
_PARSE_LOCK = threading.Lock()


def parse(text: str, mode: str = "exec") -> ast.AST:
    """ast.parse, one thread at a time (see _PARSE_LOCK), without the SyntaxWarning/DeprecationWarning
    lines CPython prints for the analysed code's own quirks (invalid escapes, `is` with a literal)."""
    with _PARSE_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, mode=mode)


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
    env_reads = _Reads(repo, nodes)
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
    found += _Classes(repo, nodes, unresolved).settings_vars()
    found.sort(key=lambda f: f[0])  # stable: ties keep discovery order
    seen: set[str] = set()
    out = []
    for _, path, line, name, default, desc, group, optional in found:
        if name in seen or not _ENV_NAME.fullmatch(name):
            continue
        seen.add(name)
        if looks_secret(name) or (
            default is not None
            and ("\n" in default or "\r" in default or carries_credential(default))
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


# --- os.getenv / os.environ -------------------------------------------------------------------

_SCOPES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _scoped(tree: ast.Module) -> Iterator[tuple[ast.AST, tuple[ast.AST, ...]]]:
    """Every node with the function/class bodies around it (outermost first); iterative, any depth."""
    stack: list[tuple[ast.AST, tuple[ast.AST, ...]]] = [(tree, ())]
    while stack:
        node, scopes = stack.pop()
        yield node, scopes
        inner = scopes + (node,) if isinstance(node, _SCOPES) else scopes
        stack.extend((child, inner) for child in reversed(list(ast.iter_child_nodes(node))))


@dataclass(frozen=True)
class _Key:
    """One name a wrapper reads, spelled from its parameters: ``name``, ``f"{name}_FILE"``,
    ``prefix + name``. ``fallback``: read only in place of the wrapper's main name (a deprecated
    alias passed as a second parameter, a ``_FILE`` indirection): never stale, never added."""

    expr: ast.expr
    fallback: bool


@dataclass(frozen=True)
class _Wrapper:
    """A function that reads the variables its caller names: ``def env(name, default=None): return
    os.getenv(name, default)``, or ``def resolve(env, new, legacy, default=None)`` reading
    ``f"{new}_FILE"``, ``new``, ``f"{legacy}_FILE"``, ``legacy`` through ``actual = env or os.environ``.
    ``keys``: the names it reads, the main one first; ``default``: (position, parameter name) of the
    argument that carries the main name's default; ``own_default``: the main read's own default when
    no parameter carries one."""

    path: str
    node: ast.FunctionDef | ast.AsyncFunctionDef
    keys: tuple[_Key, ...]
    default: tuple[int | None, str] | None  # a parameter of this function
    own_default: (
        tuple[str, ast.expr, tuple] | None
    )  # (module path, expression, scopes it is seen from)


def _params(
    func: ast.FunctionDef | ast.AsyncFunctionDef,
) -> dict[str, tuple[int | None, ast.expr | None]]:
    """parameter name -> (position or None for keyword-only, its default expression)."""
    a = func.args
    positional = [*a.posonlyargs, *a.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(a.defaults)) + list(
        a.defaults
    )
    out: dict[str, tuple[int | None, ast.expr | None]] = {
        arg.arg: (i, d) for i, (arg, d) in enumerate(zip(positional, defaults, strict=False))
    }
    out.update({arg.arg: (None, d) for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=False)})
    return out


def _names_in(expr: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)}


def _spelled_from(expr: ast.expr, params: Mapping[str, object]) -> bool:
    """Whether ``expr`` spells a name from parameters and text alone: ``name``, ``f"{name}_FILE"``,
    ``prefix + name``, ``name.upper()``."""

    def text(e: ast.expr) -> bool:
        if isinstance(e, ast.Name):
            return e.id in params
        if isinstance(e, ast.Constant):
            return isinstance(e.value, str)
        if isinstance(e, ast.JoinedStr):
            return all(
                isinstance(v, ast.Constant)
                or (isinstance(v, ast.FormattedValue) and v.format_spec is None and text(v.value))
                for v in e.values
            )
        if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
            return text(e.left) and text(e.right)
        return (
            isinstance(e, ast.Call)
            and isinstance(e.func, ast.Attribute)
            and e.func.attr in ("upper", "lower", "strip")
            and not e.args
            and not e.keywords
            and text(e.func.value)
        )

    return bool(_names_in(expr)) and text(expr)


def _is_none(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and e.value is None


class _Bind(ast.NodeTransformer):
    """A wrapper's key expression with its parameters replaced by a call's arguments."""

    def __init__(self, args: Mapping[str, ast.expr]):
        self.args = args

    def visit_Name(self, node: ast.Name) -> ast.expr:
        return self.args.get(node.id, node)


def _own_default(wrapper: _Wrapper) -> tuple[str, ast.expr, tuple] | None:
    """The default a wrapper applies when its caller passes none: its parameter's default, else the
    default its own read spells."""
    if wrapper.default is not None:
        param = _params(wrapper.node).get(wrapper.default[1], (None, None))[1]
        return (wrapper.path, param, ()) if param is not None else None
    return wrapper.own_default


def _environ_alias(value: ast.expr, names: _OsNames, scopes: tuple[ast.AST, ...]) -> bool:
    """``os.environ``, ``os.environ if env is None else env``, ``env or os.environ``."""
    if isinstance(value, ast.IfExp):
        return names.is_environ(value.body, scopes) or names.is_environ(value.orelse, scopes)
    if isinstance(value, ast.BoolOp):
        return any(names.is_environ(v, scopes) for v in value.values)
    return names.is_environ(value, scopes)


@dataclass
class _OsNames:
    """What a module calls os, os.getenv and os.environ (imports, aliases, ``ENV = os.environ``,
    and inside a function ``actual = os.environ if env is None else env``)."""

    mods: set[str]
    getenvs: set[str]
    environs: set[str]
    local: dict[int, set[str]] = field(default_factory=dict)  # id(function) -> its local aliases

    def is_environ(self, e: ast.expr, scopes: tuple[ast.AST, ...] = ()) -> bool:
        return (
            (
                isinstance(e, ast.Attribute)
                and e.attr == "environ"
                and isinstance(e.value, ast.Name)
                and e.value.id in self.mods
            )
            or (isinstance(e, ast.Name) and e.id in self.environs)
            or (
                isinstance(e, ast.Name)
                and bool(scopes)
                and e.id in self.local.get(id(scopes[-1]), ())
            )
        )

    def is_getter(self, f: ast.expr, scopes: tuple[ast.AST, ...] = ()) -> bool:
        """``os.getenv``, ``getenv`` imported from os, ``os.environ.get`` / ``.setdefault``."""
        return (
            (
                isinstance(f, ast.Attribute)
                and f.attr == "getenv"
                and isinstance(f.value, ast.Name)
                and f.value.id in self.mods
            )
            or (isinstance(f, ast.Name) and f.id in self.getenvs)
            or (
                isinstance(f, ast.Attribute)
                and f.attr in ("get", "setdefault")
                and self.is_environ(f.value, scopes)
            )
        )

    def note_alias(self, node: ast.AST, scopes: tuple[ast.AST, ...]) -> None:
        """Remember ``name = <os.environ, maybe>`` assigned in a function body (seen before its uses)."""
        if not scopes or not isinstance(scopes[-1], _FUNCS):
            return
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            return
        if isinstance(target, ast.Name) and _environ_alias(value, self, scopes):
            self.local.setdefault(id(scopes[-1]), set()).add(target.id)


def _callee_name(f: ast.expr) -> str | None:
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


_Site = tuple[ast.AST, tuple, ast.expr, "ast.expr | None", "_Wrapper | None", bool]


class _Reads:
    """Every env read of a module: os.getenv/os.environ (also through an alias of os.environ), and
    calls of the repository's wrapper functions around them."""

    def __init__(self, repo: Repo, nodes: Mapping[str, list[ast.AST]]):
        self.repo, self.nodes = repo, nodes
        self.wrappers: dict[int, _Wrapper] = {}
        self.wrapper_names: set[str] = set()
        for _ in range(3):  # a wrapper of a wrapper of a read, at most
            found = {id(w.node): w for path in repo.trees for w in self._wrappers_in(path)}
            if found.keys() <= self.wrappers.keys():
                break
            self.wrappers.update((k, v) for k, v in found.items() if k not in self.wrappers)
            self.wrapper_names = {w.node.name for w in self.wrappers.values()}

    def _os_names(self, path: str) -> _OsNames:
        names = _OsNames({"os"}, set(), set())
        for node in self.nodes[path]:
            if isinstance(node, ast.Import):
                names.mods.update(a.asname for a in node.names if a.name == "os" and a.asname)
            elif isinstance(node, ast.ImportFrom) and node.module == "os" and not node.level:
                names.getenvs.update(a.asname or a.name for a in node.names if a.name == "getenv")
                names.environs.update(a.asname or a.name for a in node.names if a.name == "environ")
        for stmt in self.repo.trees[path].body:  # ENV = os.environ
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Attribute)
                and stmt.value.attr == "environ"
                and isinstance(stmt.value.value, ast.Name)
                and stmt.value.value.id in names.mods
            ):
                names.environs.add(stmt.targets[0].id)
        return names

    def _may_read(self, path: str, names: _OsNames) -> bool:
        """Whether ``path`` mentions anything that reads the environment (most modules do not: skipped)."""
        return bool(
            names.getenvs
            or names.environs
            or any(
                isinstance(n, ast.Name)
                and (n.id in names.mods or n.id in self.wrapper_names)
                or isinstance(n, ast.Attribute)
                and n.attr in self.wrapper_names
                for n in self.nodes[path]
            )
        )

    def sites(self, path: str) -> Iterator[_Site]:
        """(node, scopes, key expression, default expression, wrapper called or None, fallback)."""
        names = self._os_names(path)
        if not self._may_read(path, names):
            return
        for node, scopes in _scoped(self.repo.trees[path]):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                names.note_alias(node, scopes)
            elif isinstance(node, ast.Call) and names.is_getter(node.func, scopes):
                key = _arg(node, 0, "key")
                if key is not None:
                    yield node, scopes, key, _arg(node, 1, "default"), None, False
            elif isinstance(node, ast.Call) and _callee_name(node.func) in self.wrapper_names:
                yield from self._wrapper_call(path, node, scopes)
            elif (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Load)
                and names.is_environ(node.value, scopes)
            ):
                yield node, scopes, node.slice, None, None, False
            elif (
                isinstance(node, ast.Compare)
                and len(node.ops) == 1
                and isinstance(node.ops[0], (ast.In, ast.NotIn))
                and names.is_environ(node.comparators[0], scopes)
            ):
                yield node, scopes, node.left, None, None, False

    def _wrapper_call(self, path: str, node: ast.Call, scopes: tuple) -> Iterator[_Site]:
        """A call of one of the repository's wrappers: one read site per name it reads, each key
        spelled with the call's arguments (a name passed as ``None`` is not read)."""
        try:
            ref = self.repo.value(path, node.func, scopes)
        except (Unresolved, RecursionError):
            return
        wrapper = self.wrappers.get(id(getattr(ref, "node", None)))
        if wrapper is None:
            return
        args: dict[str, ast.expr] = {}
        for name, (pos, param_default) in _params(wrapper.node).items():
            arg = _arg(node, pos, name) if pos is not None else _keyword(node, name)
            if arg is None and isinstance(param_default, ast.Constant):  # e.g. legacy=None
                arg = param_default
            if arg is not None:
                args[name] = arg
        default = args.get(wrapper.default[1]) if wrapper.default is not None else None
        for key in wrapper.keys:
            used = _names_in(key.expr)
            if not used <= args.keys() or any(_is_none(args[n]) for n in used):
                continue
            spelled = _Bind(args).visit(copy.deepcopy(key.expr))
            if spelled not in args.values():  # a new expression: it stands where the call is
                ast.copy_location(spelled, node)
            yield node, scopes, spelled, None if key.fallback else default, wrapper, key.fallback

    def _wrappers_in(self, path: str) -> Iterator[_Wrapper]:
        sites: dict[int, list[_Site]] = {}
        for site in self.sites(path):
            scopes, key = site[1], site[2]
            func = scopes[-1] if scopes else None
            if (
                isinstance(func, _FUNCS)
                and len(scopes) <= 2
                and id(func) not in self.wrappers
                and _spelled_from(key, _params(func))
            ):
                sites.setdefault(id(func), []).append(site)
        for found in sites.values():
            yield self._wrapper(path, found)

    @staticmethod
    def _wrapper(path: str, sites: list[_Site]) -> _Wrapper:
        """The wrapper a function is, from its reads of names its parameters spell. Its main name:
        not an inner wrapper's fallback, a bare parameter, the first such parameter."""
        func = sites[0][1][-1]
        params = _params(func)

        def rank(site: _Site) -> tuple[bool, bool, int]:
            key, fallback = site[2], site[5]
            pos = params[key.id][0] if isinstance(key, ast.Name) else None
            return (fallback, not isinstance(key, ast.Name), 1 << 30 if pos is None else pos)

        main = min(sites, key=rank)  # ties: the first in the source
        _node, scopes, key, default, via, _ = main
        given: tuple[int | None, str] | None = None
        own = (path, default, scopes) if default is not None else None
        if isinstance(default, ast.Name) and default.id in params:
            given, own = (params[default.id][0], default.id), None
        elif (
            via is not None and default is None
        ):  # passes no default: the inner wrapper's own applies
            own = _own_default(via)
        if given is None and own is None:  # `return default` when nothing was read
            keyed = set().union(*(_names_in(s[2]) for s in sites))
            returned = [
                n.value.id
                for n in ast.walk(func)
                if isinstance(n, ast.Return)
                and isinstance(n.value, ast.Name)
                and n.value.id in params.keys() - keyed
            ]
            if len(set(returned)) == 1:
                given = (params[returned[0]][0], returned[0])
        keys = [_Key(key, False)]
        seen = {ast.dump(key)}
        for site in sites:
            if ast.dump(site[2]) not in seen:
                seen.add(ast.dump(site[2]))
                keys.append(_Key(site[2], True))
        return _Wrapper(path, func, tuple(keys), given, own)

    def reads(
        self, path: str, unresolved: list[tuple[str, int]]
    ) -> Iterator[tuple[int, str, str | None, bool, bool]]:
        """(line, name, default as an env value, has a default, fallback) of every read in ``path`` that
        is not the inside of a wrapper (the wrapper's callers are the reads)."""
        for _node, scopes, key, default, wrapper, fallback in self.sites(path):
            if (
                scopes
                and id(scopes[-1]) in self.wrappers
                and _spelled_from(key, _params(scopes[-1]))
            ):
                continue
            try:
                name = self.repo.value(path, key, scopes)
            except Unresolved:
                name = None
            if not isinstance(name, str):
                unresolved.append((path, key.lineno))
                continue
            dpath, dscopes = path, scopes
            if (
                default is None and wrapper is not None and not fallback
            ):  # the wrapper's own default
                dpath, default, dscopes = _own_default(wrapper) or (path, None, scopes)
            has_default = default is not None and not (
                isinstance(default, ast.Constant) and default.value is None
            )
            value = _folded(self.repo, dpath, default, dscopes)
            # a bool default is not what the code sees when the variable is set to "false"
            yield (
                key.lineno,
                name,
                None if isinstance(value, bool) else _env_value(value),
                has_default,
                fallback,
            )


def _arg(call: ast.Call, pos: int, kw: str) -> ast.expr | None:
    if len(call.args) > pos:
        return call.args[pos]
    return next((k.value for k in call.keywords if k.arg == kw), None)


def _folded(repo: Repo, path: str, node: ast.expr | None, scopes: tuple[ast.AST, ...] = ()) -> Any:
    """The folded value of a default, or None (no default, or one the source alone does not tell)."""
    if node is None:
        return None
    try:
        return repo.value(path, node, scopes)
    except Unresolved:
        return None


def _env_value(value: Any, structured: bool = False) -> str | None:
    """A folded value as an env value: strings as-is, bools "true"/"false", numbers str(); lists and
    dicts of scalars as JSON when ``structured`` (what pydantic-settings parses); else None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if (
        isinstance(value, int) and value.bit_length() > 4096
    ):  # str() would refuse it (int_max_str_digits)
        return None
    if isinstance(value, (str, int, float)):
        return str(value)
    if structured and isinstance(value, (list, dict)) and _plain_json(value):
        return json.dumps(value)
    return None


def _plain_json(value: Any, depth: int = 0) -> bool:
    if depth > 8:
        return False
    if isinstance(value, list):
        return all(_plain_json(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_plain_json(v, depth + 1) for v in value.values())
    return (
        value is None
        or isinstance(value, (str, float, bool))
        or (isinstance(value, int) and value.bit_length() < 64)
    )


# --- pydantic settings ------------------------------------------------------------------------


def _last(node: ast.expr | None) -> str | None:
    """The name a type expression ends with: Name, a.b.Name, Name[...], "Name"."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return _last(node.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.match(r"[\w.]*", node.value).group().rsplit(".", 1)[-1]  # type: ignore[union-attr]  # matches every string
    return None


def _unwrap(ann: ast.expr | None, depth: int = 0) -> ast.expr | None:
    """The core type of Optional[X], X | None, Union[X, None], Annotated[X, ...], "X"."""
    if depth > 32:
        return None
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        try:
            parsed = parse(ann.value, mode="eval")
            return _unwrap(parsed.body if isinstance(parsed, ast.Expression) else None, depth + 1)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        args = [ann.left, ann.right]
    elif isinstance(ann, ast.Subscript) and _last(ann.value) in ("Optional", "Union", "Annotated"):
        args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        args = args[:1] if _last(ann.value) == "Annotated" else args
    else:
        return ann
    args = [a for a in args if not (isinstance(a, ast.Constant) and a.value is None)]
    return _unwrap(args[0], depth + 1) if len(args) == 1 else ann


_STRUCTURED = {
    "list",
    "List",
    "dict",
    "Dict",
    "set",
    "Set",
    "tuple",
    "Tuple",
    "frozenset",
    "FrozenSet",
    "Sequence",
    "Mapping",
}


def _is_field(node: ast.expr | None) -> TypeGuard[ast.Call]:
    return isinstance(node, ast.Call) and _last(node.func) == "Field"


@dataclass(frozen=True)
class _Field:
    names: list[str] | None  # explicit env names (aliases); None: an alias the source does not tell
    default: str | None
    optional: bool
    description: str | None
    default_node: ast.expr | None


class _Classes:
    """Every class in the parsed files, by name; which are pydantic models or settings."""

    def __init__(
        self, repo: Repo, nodes: Mapping[str, list[ast.AST]], unresolved: list[tuple[str, int]]
    ):
        self.repo, self.nodes, self.unresolved = repo, nodes, unresolved
        self.by_name: dict[str, list[tuple[str, ast.ClassDef]]] = {}
        self.roots: dict[str, dict[str, str]] = {}  # path -> local name -> BaseSettings | BaseModel
        self.kinds: dict[int, str | None] = {}
        for path, walked in nodes.items():
            roots = self.roots[path] = {"BaseSettings": "BaseSettings", "BaseModel": "BaseModel"}
            for node in walked:
                if isinstance(node, ast.ClassDef):
                    self.by_name.setdefault(node.name, []).append((path, node))
                elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in (
                    "pydantic",
                    "pydantic_settings",
                ):
                    roots.update(
                        (a.asname, a.name)
                        for a in node.names
                        if a.asname and a.name in ("BaseSettings", "BaseModel")
                    )

    def resolve(self, path: str, node: ast.expr | None) -> tuple[str, ast.ClassDef] | None:
        """The class a base or annotation names: through the module's imports when they lead to one,
        else the class of that name in the same file, else the first of that name in the repository."""
        if isinstance(node, (ast.Name, ast.Attribute)):
            try:
                ref = self.repo.value(path, node)
                if isinstance(ref, ClassRef):
                    return ref.path, ref.node
            except (Unresolved, RecursionError):
                pass
        found = self.by_name.get(_last(node) or "", [])
        return next((c for c in found if c[0] == path), found[0] if found else None)

    def kind(self, path: str, cls: ast.ClassDef) -> str | None:
        """ "settings" (a BaseSettings subclass), "model" (another BaseModel) or None."""
        if id(cls) not in self.kinds:
            self.kinds[id(cls)] = result = None
            for base in cls.bases:
                root = self.roots[path].get(base.id) if isinstance(base, ast.Name) else _last(base)
                kind: str | None
                if root in ("BaseSettings", "BaseModel"):
                    kind = "settings" if root == "BaseSettings" else "model"
                else:
                    found = self.resolve(path, base)
                    kind = self.kind(*found) if found and found[1] is not cls else None
                if kind == "settings" or (kind and not result):
                    result = kind
            self.kinds[id(cls)] = result
        return self.kinds[id(cls)]

    def lineage(
        self, path: str, cls: ast.ClassDef, seen: frozenset = frozenset()
    ) -> list[tuple[str, ast.ClassDef]]:
        """The pydantic classes cls inherits from, most basic first, then cls (reversed MRO, roughly)."""
        out: list[tuple[str, ast.ClassDef]] = []
        for base in reversed(cls.bases):
            found = self.resolve(path, base)
            if (
                found
                and id(found[1]) not in seen | {id(cls)}
                and self.kind(*found)
                and len(seen) < 32
            ):
                out += [c for c in self.lineage(*found, seen | {id(cls)}) if c not in out]
        return out + [(path, cls)]

    def config(self, path: str, cls: ast.ClassDef) -> dict[str, Any] | None:
        """env_prefix, env_nested_delimiter, case_sensitive, folded; None if one does not fold (reported)."""
        items: list[tuple[str, str, ast.expr, tuple]] = []  # (key, path, value, scopes)
        _UNFOLDED = object()
        for cpath, c in self.lineage(path, cls):
            items += [(k.arg, cpath, k.value, ()) for k in c.keywords if k.arg]
            for stmt in c.body:
                target, value = _assigned(stmt)
                if isinstance(stmt, ast.ClassDef) and stmt.name == "Config":
                    items += [
                        (t, cpath, v, (c, stmt))
                        for t, v in map(_assigned, stmt.body)
                        if t and v is not None
                    ]
                elif target != "model_config" or value is None:
                    pass
                elif isinstance(value, ast.Call) and not value.args:
                    for kw in value.keywords:  # **BASE_CONFIG: every key it holds
                        items.append((kw.arg or "**", cpath, kw.value, (c,)))
                elif isinstance(value, ast.Dict):
                    for k, v in zip(value.keys, value.values, strict=False):
                        key = _folded(self.repo, cpath, k, (c,)) if k is not None else "**"
                        if isinstance(key, str):
                            items.append((key, cpath, v, (c,)))
                else:  # model_config = COMMON_CONFIG (a constant, maybe from another module)
                    items.append(("**", cpath, value, (c,)))
        out: dict[str, Any] = {}
        for key, cpath, node, scopes in items:
            if key not in _CONFIG_KEYS and key != "**":
                continue
            try:
                folded = self.repo.value(cpath, node, scopes)
            except Unresolved:
                folded = _UNFOLDED
            if key == "**" and isinstance(folded, dict):
                out.update((k, v) for k, v in folded.items() if k in _CONFIG_KEYS)
            elif key != "**" and folded is not _UNFOLDED:
                out[key] = folded
            else:
                self.unresolved.append((cpath, node.lineno))
                return None
        return out

    def fields(
        self, path: str, cls: ast.ClassDef
    ) -> dict[str, tuple[str, ast.ClassDef, ast.AnnAssign, str | None]]:
        out: dict[str, tuple[str, ast.ClassDef, ast.AnnAssign, str | None]] = {}
        for fpath, c in self.lineage(path, cls):
            for i, stmt in enumerate(c.body):
                if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                    continue
                name = stmt.target.id
                if (
                    name.startswith("_")
                    or name == "model_config"
                    or _last(stmt.annotation) == "ClassVar"
                ):
                    continue
                nxt = c.body[i + 1] if i + 1 < len(c.body) else None
                doc = (
                    nxt.value.value
                    if isinstance(nxt, ast.Expr)
                    and isinstance(nxt.value, ast.Constant)
                    and isinstance(nxt.value.value, str)
                    else None
                )
                out[name] = (fpath, c, stmt, doc)
        return out

    def field(
        self,
        path: str,
        cls: ast.ClassDef,
        stmt: ast.AnnAssign,
        doc: str | None,
        override: tuple[str, ast.expr, tuple] | None = None,
    ) -> _Field:
        """Explicit env names, default, description of one annotated field. ``override``: the default
        a parent's default instance gives it (``db: Db = Db(port=5433)``)."""
        ann, scopes = stmt.annotation, (cls,)
        calls = [
            m
            for m in (
                ann.slice.elts[1:]
                if isinstance(ann, ast.Subscript)
                and _last(ann.value) == "Annotated"
                and isinstance(ann.slice, ast.Tuple)
                else []
            )
            if _is_field(m)
        ]
        default_node = stmt.value
        if _is_field(stmt.value):
            calls.append(stmt.value)
            default_node = stmt.value.args[0] if stmt.value.args else None
        kw = {k.arg: k.value for c in calls for k in c.keywords if k.arg}
        if default_node is None:
            default_node = kw.get("default")
        required = (
            default_node is None
            and "default_factory" not in kw
            or (isinstance(default_node, ast.Constant) and default_node.value is Ellipsis)
        )
        dpath = path
        if override is not None:
            dpath, default_node, scopes = override
            required = False
        names: list[str] | None = []
        for key in ("validation_alias", "alias", "env"):
            if key in kw:
                names = self._names(path, kw[key], (cls,))
                if names is None or names:
                    break
        core = _unwrap(ann)
        secret = _last(core) in ("SecretStr", "SecretBytes")
        value = None if secret or required else _folded(self.repo, dpath, default_node, scopes)
        default = _env_value(value, structured=_last(core) in _STRUCTURED)
        desc_node = kw.get("description")
        desc = _folded(self.repo, path, desc_node, (cls,)) if desc_node is not None else None
        desc = desc if isinstance(desc, str) else doc
        return _Field(
            names, default, not required, " ".join(desc.split()) if desc else None, default_node
        )

    def _names(self, path: str, node: ast.expr, scopes: tuple) -> list[str] | None:
        """ "A", AliasChoices("A", B), ["A", "B"] -> the string names (AliasPath and the like are skipped);
        None when one of them does not fold (reported)."""
        parts = (
            node.args
            if isinstance(node, ast.Call) and _last(node.func) == "AliasChoices"
            else node.elts
            if isinstance(node, (ast.List, ast.Tuple))
            else [node]
        )
        out = []
        for part in parts:
            if isinstance(part, ast.Call) and _last(part.func) in ("AliasPath", "AliasChoices"):
                if _last(part.func) == "AliasChoices":
                    more = self._names(path, part, scopes)
                    if more is None:
                        return None
                    out += more
                continue
            try:
                value = self.repo.value(path, part, scopes)
            except Unresolved:
                self.unresolved.append((path, part.lineno))
                return None
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, list) and all(isinstance(v, str) for v in value):
                out += value
        return out

    def settings_vars(self) -> list[tuple[tuple, str, int, str, str | None, str | None, str, bool]]:
        out = []
        for path, walked in self.nodes.items():
            for cls in (n for n in walked if isinstance(n, ast.ClassDef)):
                try:
                    out += self._class_vars(path, cls)
                except RecursionError:
                    self.unresolved.append((path, cls.lineno))
        return out

    def _class_vars(self, path: str, cls: ast.ClassDef) -> list:
        if self.kind(path, cls) != "settings":
            return []
        cfg = self.config(path, cls)
        if cfg is None:
            return []
        prefix: str = cfg["env_prefix"] if isinstance(cfg.get("env_prefix"), str) else ""
        delim: str = (
            cfg["env_nested_delimiter"] if isinstance(cfg.get("env_nested_delimiter"), str) else ""
        )
        upper = cfg.get("case_sensitive") is not True
        group = f"{path}: {cls.name}" + (
            f" (prefix {prefix.upper() if upper else prefix})" if prefix else ""
        )
        out: list[tuple] = []
        for name, (fpath, fcls, stmt, doc) in self.fields(path, cls).items():
            info = self.field(fpath, fcls, stmt, doc)
            if info.names is None:
                continue
            names = info.names or [(prefix + name).upper() if upper else prefix + name]
            for leaf in self._leaves(
                names, fpath, fcls, stmt, doc, info, delim, upper, frozenset({id(cls)})
            ):
                out.append(((path, cls.lineno, len(out)), *leaf[:5], group, leaf[5]))
        return out

    def _leaves(self, names, path, cls, stmt, doc, info: _Field, delim, upper, seen) -> list:
        """(path, line, name, default, description, optional) for one field; with a nested delimiter, a
        model-typed field expands into its sub-fields (defaults from the parent's default instance)."""
        core = _unwrap(stmt.annotation)
        sub = (
            self.resolve(path, core)
            if delim and isinstance(core, (ast.Name, ast.Attribute))
            else None
        )
        if sub and self.kind(*sub) and id(sub[1]) not in seen and len(seen) < 16:
            given = {}
            node = info.default_node
            if isinstance(node, ast.Call) and self.resolve(path, node.func) == sub:
                given = {k.arg: k.value for k in node.keywords if k.arg}
            out = []
            for name, (spath, scls, sstmt, sdoc) in self.fields(
                *sub
            ).items():  # a sub-field's alias counts here
                override = (path, given[name], (cls,)) if name in given else None
                sinfo = self.field(spath, scls, sstmt, sdoc, override)
                if sinfo.names is None:
                    continue
                parts = [p.upper() if upper else p for p in sinfo.names or [name]]
                deeper = [n + delim + p for n in names for p in parts]
                out += self._leaves(
                    deeper, spath, scls, sstmt, sdoc, sinfo, delim, upper, seen | {id(sub[1])}
                )
            return out
        return [
            (path, stmt.lineno, n, info.default, info.description, info.optional) for n in names
        ]


def _assigned(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
    ):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value
    return None, None
