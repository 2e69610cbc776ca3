"""Environment reads in Python code: ``os.getenv``, ``os.environ`` (also through an alias, module-level
or local to a function), and calls of the repository's own wrappers and resolvers around them,
followed to their callers. Pure: takes parsed modules, never imports or runs them."""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from juniper_rollout.fold import Repo, Unresolved
from juniper_rollout.pyast import env_value, folded

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


def scoped(tree: ast.Module) -> Iterator[tuple[ast.AST, tuple[ast.AST, ...]]]:
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
    params: Mapping[str, tuple[int | None, ast.expr | None]]  # as its callers pass them


def _call_params(
    func: ast.FunctionDef | ast.AsyncFunctionDef, scopes: tuple[ast.AST, ...]
) -> dict[str, tuple[int | None, ast.expr | None]]:
    """:func:`_params` as a caller passes them: a method's ``self``/``cls`` is bound, not passed
    (``Config.env("HOST")`` gives ``name`` the first argument), unless it is a staticmethod."""
    params = _params(func)
    method = len(scopes) >= 2 and isinstance(scopes[-2], ast.ClassDef)
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in func.decorator_list)
    if not method or static:
        return params
    first = [*func.args.posonlyargs, *func.args.args][:1]
    return {
        name: (None if pos is None else pos - 1, default)
        for name, (pos, default) in params.items()
        if not (first and name == first[0].arg)
    }


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
        param = wrapper.params.get(wrapper.default[1], (None, None))[1]
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


class EnvReads:
    """Every env read of a module: os.getenv/os.environ (also through an alias of os.environ), and
    calls of the repository's wrapper functions around them."""

    def __init__(self, repo: Repo, nodes: Mapping[str, list[ast.AST]]):
        self.repo, self.nodes = repo, nodes
        self.wrappers: dict[int, _Wrapper] = {}
        self.wrapper_names: set[str] = set()
        for _ in range(3):  # a wrapper of a wrapper of a read, at most
            found: dict[int, _Wrapper] = {}
            for path in repo.trees:
                try:
                    found.update((id(w.node), w) for w in self._wrappers_in(path))
                except RecursionError:  # pathological nesting: no wrapper from this file
                    continue
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
        for node, scopes in scoped(self.repo.trees[path]):
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
        for name, (pos, param_default) in wrapper.params.items():
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
        params = _call_params(func, sites[0][1])

        def rank(site: _Site) -> tuple[bool, bool, int]:
            key, fallback = site[2], site[5]
            pos = params.get(key.id, (None, None))[0] if isinstance(key, ast.Name) else None
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
        return _Wrapper(path, func, tuple(keys), given, own, params)

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
            value = folded(self.repo, dpath, default, dscopes)
            # a bool default is not what the code sees when the variable is set to "false"
            yield (
                key.lineno,
                name,
                None if isinstance(value, bool) else env_value(value),
                has_default,
                fallback,
            )


def _arg(call: ast.Call, pos: int, kw: str) -> ast.expr | None:
    if len(call.args) > pos:
        return call.args[pos]
    return next((k.value for k in call.keywords if k.arg == kw), None)
