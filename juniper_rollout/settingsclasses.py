"""Environment names pydantic(-settings) classes read: prefixes, aliases, ``AliasChoices``, nested
models with ``env_nested_delimiter``, ``model_config`` (``SettingsConfigDict(...)``, a dict, a shared
constant) or ``class Config``, defaults folded across the repository. Pure: parsed modules in, names out."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from juniper_rollout import pyast
from juniper_rollout.fold import ClassRef, Repo, Unresolved

_CONFIG_KEYS = ("env_prefix", "env_nested_delimiter", "case_sensitive")


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
            parsed = pyast.parse(ann.value, mode="eval")
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


class SettingsClasses:
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
                        key = pyast.folded(self.repo, cpath, k, (c,)) if k is not None else "**"
                        if isinstance(key, str):
                            items.append((key, cpath, v, (c,)))
                else:  # model_config = COMMON_CONFIG (a constant, maybe from another module)
                    items.append(("**", cpath, value, (c,)))
        out: dict[str, Any] = {}
        for key, cpath, node, scopes in items:
            if key == "alias_generator" and not (
                isinstance(node, ast.Constant) and node.value is None
            ):  # its aliases are the names, without the prefix: a function's output (pass 8)
                self.unresolved.append((cpath, node.lineno))
                return None
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
        value = None if secret or required else pyast.folded(self.repo, dpath, default_node, scopes)
        default = pyast.env_value(value, structured=_last(core) in _STRUCTURED)
        desc_node = kw.get("description")
        desc = pyast.folded(self.repo, path, desc_node, (cls,)) if desc_node is not None else None
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
            if isinstance(part, ast.Starred):  # AliasChoices(*NAMES): the list NAMES folds to
                part = part.value
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
