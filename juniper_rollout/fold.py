"""Static constant folding across a repository's Python modules. Pure: never imports or runs the code.

``Repo(trees).value(path, expr, scope)`` is the value a Python expression has when the module is
loaded, as far as the source alone tells: string/number/bool/None literals, module-level (and
annotated, ``Final``) assignments, ``from x import NAME`` / ``import x as y`` / ``x.NAME`` resolved
within the repository (absolute and relative imports, ``src/`` layouts), class attributes
(``Env.HOST``), function-local single assignments, ``+`` of strings or numbers, f-strings,
``"…".format(…)``, ``str(…)``, ``.upper()/.lower()/.strip()``, and lists/tuples/dicts of those.
Anything else raises :class:`Unresolved` with the line it could not see through: callers report it,
they never guess.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 48  # links followed for one value (a chain of constants, imports, operands)
MAX_LEN = (
    4096  # longest string folded (a doubling chain A = B + B could otherwise grow without end)
)
_AMBIGUOUS = object()  # a name bound more than once, or to something that is not a constant


class Unresolved(Exception):
    """The expression at ``path:line`` has no value the source alone tells."""

    def __init__(self, path: str, line: int):
        super().__init__(f"{path}:{line}")
        self.path, self.line = path, line


@dataclass(frozen=True)
class ModuleRef:
    name: str  # dotted


@dataclass(frozen=True)
class ClassRef:
    path: str
    node: ast.ClassDef


@dataclass(frozen=True)
class FuncRef:
    path: str
    node: ast.FunctionDef | ast.AsyncFunctionDef


def module_names(path: str) -> list[str]:
    """Dotted names a file may be imported as: "src/pkg/a.py" -> ["src.pkg.a", "pkg.a", "a"]."""
    parts = path[:-3].split("/") if path.endswith(".py") else path.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return [
        ".".join(parts[i:]) for i in range(len(parts)) if all(p.isidentifier() for p in parts[i:])
    ]


class Repo:
    def __init__(self, trees: Mapping[str, ast.Module]):
        self.trees = trees
        self.modules: dict[str, str | None] = {}  # dotted -> path (None: two files claim it)
        for path in sorted(trees, key=lambda p: (p.count("/"), p)):
            for i, dotted in enumerate(module_names(path)):
                if dotted not in self.modules:
                    self.modules[dotted] = path
                elif self.modules[dotted] != path and i:  # a full path always wins over a suffix
                    self.modules[dotted] = None
        self._scopes: dict[int, dict[str, Any]] = {}
        self._memo: dict[tuple[str, int], Any] = {}

    # --- bindings -----------------------------------------------------------------------------

    def scope(self, path: str, node: ast.AST) -> dict[str, Any]:
        """name -> what it is bound to in a module, class or function body (cached)."""
        if id(node) not in self._scopes:
            self._scopes[id(node)] = self._bindings(path, node)
        return self._scopes[id(node)]

    def _bindings(self, path: str, owner: ast.AST) -> dict[str, Any]:
        out: dict[str, Any] = {}

        def bind(name: str, value: Any) -> None:
            out[name] = _AMBIGUOUS if name in out else value

        if isinstance(owner, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            for gen in owner.generators:  # comprehension variables: never constants
                for n in ast.walk(gen.target):
                    if isinstance(n, ast.Name):
                        bind(n.id, _AMBIGUOUS)
            return out
        if isinstance(owner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = owner.args
            for arg in (*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg):
                if arg is not None:
                    bind(arg.arg, _AMBIGUOUS)
        stack = (
            list(reversed(getattr(owner, "body", []))) if not isinstance(owner, ast.Lambda) else []
        )
        while stack:
            stmt = stack.pop()
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        bind(target.id, (path, stmt.value))
                    elif isinstance(target, (ast.Tuple, ast.List)):
                        values = (
                            stmt.value.elts
                            if isinstance(stmt.value, (ast.Tuple, ast.List))
                            and len(stmt.value.elts) == len(target.elts)
                            else [None] * len(target.elts)
                        )
                        for t, v in zip(target.elts, values, strict=False):
                            for n in ast.walk(t):
                                if isinstance(n, ast.Name):
                                    bind(
                                        n.id, (path, v) if v is not None and n is t else _AMBIGUOUS
                                    )
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                if stmt.value is not None:
                    bind(stmt.target.id, (path, stmt.value))
            elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                bind(stmt.target.id, _AMBIGUOUS)
            elif isinstance(stmt, ast.ImportFrom):
                base = self._absolute(path, stmt.module, stmt.level)
                for alias in stmt.names:
                    if alias.name != "*" and base is not None:
                        bind(alias.asname or alias.name, ("from", base, alias.name))
            elif isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        bind(alias.asname, ModuleRef(alias.name))
                    else:
                        bind(alias.name.split(".")[0], ModuleRef(alias.name.split(".")[0]))
            elif isinstance(stmt, ast.ClassDef):
                bind(stmt.name, ClassRef(path, stmt))
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                bind(stmt.name, FuncRef(path, stmt))
            elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
                for n in ast.walk(
                    stmt.target
                    if isinstance(stmt, (ast.For, ast.AsyncFor))
                    else ast.Tuple(
                        [i.optional_vars for i in stmt.items if i.optional_vars], ast.Load()
                    )
                ):
                    if isinstance(n, ast.Name):
                        bind(n.id, _AMBIGUOUS)
            if (
                isinstance(
                    stmt,
                    (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try),
                )
                or type(stmt).__name__ == "TryStar"
            ):
                for field in ("body", "orelse", "finalbody"):
                    stack.extend(reversed(getattr(stmt, field, [])))
                for handler in getattr(stmt, "handlers", []):
                    stack.extend(reversed(handler.body))
            elif isinstance(stmt, ast.Match):
                for case in stmt.cases:
                    stack.extend(reversed(case.body))
        if not isinstance(
            owner, ast.Module
        ):  # walrus and comprehension targets: never constants here
            for n in ast.walk(owner) if not isinstance(owner, ast.ClassDef) else ():
                if isinstance(n, ast.NamedExpr) and isinstance(n.target, ast.Name):
                    bind(n.target.id, _AMBIGUOUS)
        return out

    def _absolute(self, path: str, module: str | None, level: int) -> str | None:
        if not level:
            return module
        names = module_names(path)
        if not names:
            return None
        package = names[0].split(".")
        if not path.endswith("__init__.py"):
            package = package[:-1]
        if level - 1 > len(package):
            return None
        package = package[: len(package) - (level - 1)]
        return ".".join(package + ([module] if module else [])) or None

    def module_path(self, dotted: str) -> str | None:
        return self.modules.get(dotted)

    # --- values -------------------------------------------------------------------------------

    def value(
        self, path: str, node: ast.expr | None, scopes: tuple[ast.AST, ...] = (), depth: int = 0
    ) -> Any:
        """The folded value of ``node`` (in module ``path``, looked up through ``scopes``, innermost last)."""
        if node is None:
            raise Unresolved(path, 0)
        if depth > MAX_DEPTH:
            raise Unresolved(path, getattr(node, "lineno", 0))
        out = self._value(path, node, scopes, depth + 1)
        if isinstance(out, str) and len(out) > MAX_LEN:
            raise Unresolved(path, node.lineno)
        return out

    def _value(self, path: str, node: ast.expr, scopes: tuple[ast.AST, ...], depth: int) -> Any:
        fail = Unresolved(path, getattr(node, "lineno", 0))
        if isinstance(node, ast.Constant):
            if isinstance(node.value, (str, int, float, bool)) or node.value is None:
                return node.value
            raise fail
        if isinstance(node, ast.Name):
            return self.name(path, node.id, scopes, depth, fail)
        if isinstance(node, ast.Attribute):
            owner = self.value(path, node.value, scopes, depth)
            return self.attribute(owner, node.attr, depth, fail)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = (
                self.value(path, node.left, scopes, depth),
                self.value(path, node.right, scopes, depth),
            )
            if isinstance(left, str) and isinstance(right, str):
                return left + right
            if _number(left) and _number(right):
                return left + right
            if isinstance(left, list) and isinstance(right, list):
                return left + right
            raise fail
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):  # "%s_HOST" % PREFIX
            template = self.value(path, node.left, scopes, depth)
            if not isinstance(template, str):
                raise fail
            return _percent_format(template, self.value(path, node.right, scopes, depth), fail)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            operand = self.value(path, node.operand, scopes, depth)
            if _number(operand):
                return -operand
            raise fail
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.Constant):
                    parts.append(str(part.value))
                elif (
                    isinstance(part, ast.FormattedValue)
                    and part.format_spec is None
                    and part.conversion in (-1, 115)
                ):
                    inner = self.value(path, part.value, scopes, depth)
                    if not _scalar(inner):
                        raise fail
                    parts.append(str(inner))
                else:
                    raise fail
            return "".join(parts)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.value(path, e, scopes, depth) for e in node.elts]
        if isinstance(node, ast.Dict):
            out = {}
            for k, v in zip(node.keys, node.values, strict=False):
                value = self.value(path, v, scopes, depth)
                if k is None:  # {**BASE}
                    if not isinstance(value, dict):
                        raise fail
                    out.update(value)
                    continue
                key = self.value(path, k, scopes, depth)
                if not isinstance(key, str):
                    raise fail
                out[key] = value
            return out
        if isinstance(node, ast.Call):
            return self._call(path, node, scopes, depth, fail)
        raise fail

    def _call(self, path: str, node: ast.Call, scopes, depth: int, fail: Unresolved) -> Any:
        func = node.func
        if (
            isinstance(func, ast.Name)
            and func.id == "str"
            and len(node.args) == 1
            and not node.keywords
        ):
            inner = self.value(path, node.args[0], scopes, depth)
            if _scalar(inner):
                return str(inner)
            raise fail
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("upper", "lower", "strip")
            and not node.args
            and not node.keywords
        ):
            inner = self.value(path, func.value, scopes, depth)
            if isinstance(inner, str):
                return getattr(inner, func.attr)()
            raise fail
        if (
            isinstance(func, (ast.Name, ast.Attribute))
            and not node.args
            and (func.id if isinstance(func, ast.Name) else func.attr)
            in ("dict", "SettingsConfigDict", "ConfigDict")
        ):
            out: dict[str, Any] = {}
            for k in node.keywords:  # dict(a=1, **BASE): a mapping whose every value folds
                value = self.value(path, k.value, scopes, depth)
                if k.arg is None and not isinstance(value, dict):
                    raise fail
                out.update(value if k.arg is None else {k.arg: value})
            return out
        if isinstance(func, ast.Attribute) and func.attr == "format":
            template = self.value(path, func.value, scopes, depth)
            if (
                not isinstance(template, str)
                or any(isinstance(a, ast.Starred) for a in node.args)
                or any(k.arg is None for k in node.keywords)
            ):
                raise fail
            args = [self.value(path, a, scopes, depth) for a in node.args]
            kwargs = {k.arg: self.value(path, k.value, scopes, depth) for k in node.keywords}
            return _safe_format(template, args, kwargs, fail)
        raise fail

    def name(
        self, path: str, name: str, scopes: tuple[ast.AST, ...], depth: int, fail: Unresolved
    ) -> Any:
        """What ``name`` means in module ``path`` seen from ``scopes`` (innermost last; class scopes are
        skipped from inside functions, as Python does)."""
        inner = True
        for owner in reversed(scopes):
            if isinstance(owner, ast.ClassDef) and not inner:
                continue
            bound = self.scope(path, owner).get(name)
            if bound is not None:
                return self._bound(bound, name, depth, fail)
            inner = False
        bound = self.scope(path, self.trees[path]).get(name) if path in self.trees else None
        if bound is None:
            raise fail
        return self._bound(bound, name, depth, fail)

    def _bound(self, bound: Any, name: str, depth: int, fail: Unresolved) -> Any:
        if bound is _AMBIGUOUS:
            raise fail
        if isinstance(bound, (ModuleRef, ClassRef, FuncRef)):
            return bound
        if bound[0] == "from":
            _, module, attr = bound
            target = self.module_path(module + "." + attr)
            if target:
                return ModuleRef(module + "." + attr)
            return self.attribute(ModuleRef(module), attr, depth, fail)
        vpath, expr = bound
        key = (vpath, id(expr))
        if key not in self._memo:
            self._memo[key] = _AMBIGUOUS  # a cycle resolves to nothing
            try:
                self._memo[key] = ("ok", self.value(vpath, expr, (), depth))
            except Unresolved as err:
                self._memo[key] = ("no", err)
        memo = self._memo[key]
        if memo is _AMBIGUOUS or memo[0] == "no":
            raise fail
        return memo[1]

    def attribute(self, owner: Any, attr: str, depth: int, fail: Unresolved) -> Any:
        if isinstance(owner, ModuleRef):
            sub = owner.name + "." + attr
            if self.module_path(sub):
                return ModuleRef(sub)
            path = self.module_path(owner.name)
            if not path:
                raise fail
            bound = self.scope(path, self.trees[path]).get(attr)
            if bound is None:
                raise fail
            return self._bound(bound, attr, depth + 1, fail)
        if isinstance(owner, ClassRef):
            bound = self.scope(owner.path, owner.node).get(attr)
            if bound is None:
                raise fail
            return self._bound(bound, attr, depth + 1, fail)
        raise fail


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool)) and not (
        isinstance(v, int) and v.bit_length() > 4096
    )


# %s, %d, %i, %(name)s and %%: no flags, width or precision (a width could ask for gigabytes)
_PERCENT = re.compile(r"(?:[^%]|%%|%(?:\([A-Za-z_]\w*\))?[sdi])*", re.DOTALL)


def _percent_format(template: str, values: Any, fail: Unresolved) -> str:
    """printf-style ``template % values`` with plain conversions only, on scalars."""
    if not _PERCENT.fullmatch(template):
        raise fail
    if isinstance(values, list):
        values = tuple(values)
    items = (
        values.values()
        if isinstance(values, dict)
        else (values if isinstance(values, tuple) else (values,))
    )
    if not all(_scalar(v) for v in items):
        raise fail
    try:
        return template % values
    except (TypeError, ValueError, KeyError):
        raise fail from None


def _safe_format(template: str, args: list, kwargs: dict, fail: Unresolved) -> str:
    """str.format with plain fields only ({}, {0}, {name}): no attribute/index access, conversion or spec."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        raise fail from None
    for _, field, spec, conversion in fields:
        if field is None:
            continue
        if spec or conversion or not (field == "" or field.isdigit() or field.isidentifier()):
            raise fail
    if not all(_scalar(v) for v in [*args, *kwargs.values()]):
        raise fail
    try:
        return template.format(*args, **kwargs)
    except (IndexError, KeyError, ValueError):
        raise fail from None
