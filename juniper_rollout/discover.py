"""Discover environment variable names from a repository's source text.

Pure: takes path -> text, never reads files and never imports the analysed code.
Three sources are read: pydantic(-settings) ``BaseSettings`` classes, ``os.getenv`` /
``os.environ`` reads with a string-literal name, and ``${VAR}`` interpolation in
docker-compose files. Defaults are reported only when the code spells a scalar
literal, and never for a name that looks secret.
"""
from __future__ import annotations

import ast
import re
import threading
from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping


@dataclass(frozen=True)
class EnvVar:
    name: str
    default: str | None  # the code's default as a string, if a literal; None otherwise
    description: str | None  # Field(description=...) or the field's docstring
    source: str  # "path/to/settings.py:12" (repo-relative path:line)


_SECRET = re.compile(
    r"(?:^|_)(?:KEYS?|TOKENS?|PASSWORD|PASSWD|PASS|PASSPHRASE|SECRETS?|DSN|CREDENTIALS?|PYPI)$"
    r"|AUTHKEY|API_?KEY|PRIVATE_?KEY"
)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "build", "dist", "site-packages",
              "tests", "test", "__pycache__", ".tox", ".nox", ".eggs"}
_COMPOSE = re.compile(r"(?:docker-)?compose[^/]*\.ya?ml")
_N = r"[A-Za-z_][A-Za-z0-9_]*"
# $$ (an escaped dollar) | ${NAME[op word]} with one level of nesting in the word | $NAME
_INTERP = re.compile(rf"\$(?:\$|\{{({_N})(?:(:?[-?+])((?:[^${{}}]|\$\$|\$\{{[^{{}}]*\}}|\${_N})*))?\}}|({_N}))")
_CONFIG_KEYS = ("env_prefix", "env_nested_delimiter", "case_sensitive")


# CPython 3.11 keeps the AST converter's recursion counter per interpreter, not per thread: two threads
# inside ast.parse at once (one of them paused by a finalizer that releases the GIL) raise
# "SystemError: AST constructor recursion depth mismatch". plan and drift discover in threads, so
# every parse goes through this lock (the conversion holds the GIL anyway: nothing is lost).
_PARSE_LOCK = threading.Lock()


def parse(text: str, mode: str = "exec") -> ast.AST:
    """ast.parse, one thread at a time (see _PARSE_LOCK)."""
    with _PARSE_LOCK:
        return ast.parse(text, mode=mode)


def looks_secret(name: str) -> bool:
    """True for names like *_KEY, *_TOKEN, *_PASSWORD, *_SECRET, *_DSN, *API_KEY*, *_PYPI (case-insensitive)."""
    return bool(_SECRET.search(re.sub(r"[^A-Z0-9]", "_", name.upper())))


def candidate_paths(paths: Iterable[str]) -> list[str]:
    """The paths discover() reads: *.py and compose files, outside vendored, build and test folders."""
    out = set()
    for path in paths:
        *dirs, base = path.split("/")
        if any(d in _SKIP_DIRS or d.endswith(".egg-info") for d in dirs):
            continue
        if base.endswith(".py"):
            if not (base == "conftest.py" or base.startswith("test_") or base.endswith("_test.py")):
                out.add(path)
        elif _COMPOSE.fullmatch(base):
            out.add(path)
    return sorted(out)


def discover(files: Mapping[str, str]) -> list[EnvVar]:
    """One EnvVar per name (its first occurrence by path, then line), sorted by (path, line).

    Only files candidate_paths() keeps are looked at; a .py file that does not parse is skipped.
    """
    found: list[tuple[str, int, str, str | None, str | None]] = []
    trees: dict[str, list[ast.AST]] = {}  # path -> every node of the module (walked once)
    for path in candidate_paths(files):
        text = files[path].removeprefix("\ufeff")
        if not path.endswith(".py"):
            found += [(path, line, name, default, None) for line, name, default in _compose(text)]
            continue
        try:
            trees[path] = list(ast.walk(parse(text)))
        except (SyntaxError, ValueError, RecursionError):
            continue
        found += [(path, line, name, default, None) for line, name, default in _os_reads(trees[path])]
    found += _Classes(trees).settings_vars()
    found.sort(key=lambda f: (f[0], f[1]))  # stable: ties keep discovery order
    seen: set[str] = set()
    out = []
    for path, line, name, default, desc in found:
        if name in seen or not _ENV_NAME.fullmatch(name):
            continue
        seen.add(name)
        if looks_secret(name) or (default is not None and ("\n" in default or "\r" in default)):
            default = None
        out.append(EnvVar(name, default, desc, f"{path}:{line}"))
    return out


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

def _os_reads(nodes: list[ast.AST]) -> Iterator[tuple[int, str, str | None]]:
    mods, getenvs, environs = {"os"}, set(), set()
    for node in nodes:
        if isinstance(node, ast.Import):
            mods.update(a.asname for a in node.names if a.name == "os" and a.asname)
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and not node.level:
            getenvs.update(a.asname or a.name for a in node.names if a.name == "getenv")
            environs.update(a.asname or a.name for a in node.names if a.name == "environ")

    def is_environ(e: ast.expr) -> bool:
        return (isinstance(e, ast.Attribute) and e.attr == "environ" and isinstance(e.value, ast.Name)
                and e.value.id in mods) or (isinstance(e, ast.Name) and e.id in environs)

    for node in nodes:
        key = default = None
        if isinstance(node, ast.Call):
            f = node.func
            if ((isinstance(f, ast.Attribute) and f.attr == "getenv" and isinstance(f.value, ast.Name)
                 and f.value.id in mods) or (isinstance(f, ast.Name) and f.id in getenvs)
                    or (isinstance(f, ast.Attribute) and f.attr in ("get", "setdefault") and is_environ(f.value))):
                key, default = _arg(node, 0, "key"), _arg(node, 1, "default")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and is_environ(node.value):
            key = node.slice
        elif (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn))
              and is_environ(node.comparators[0])):
            key = node.left
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            # a bool default is not what the code sees when the variable is set to "false"
            value = getattr(default, "value", None)
            yield key.lineno, key.value, None if isinstance(value, bool) else _literal(default)


def _arg(call: ast.Call, pos: int, kw: str) -> ast.expr | None:
    if len(call.args) > pos:
        return call.args[pos]
    return next((k.value for k in call.keywords if k.arg == kw), None)


def _literal(node: ast.expr | None) -> str | None:
    """A scalar literal as an env value: strings as-is, bools "true"/"false", numbers str(); else None."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        inner = _literal(node.operand)
        return "-" + inner if inner and type(node.operand.value) in (int, float) else None
    value = node.value if isinstance(node, ast.Constant) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 4096:  # str() would refuse it (int_max_str_digits)
        return None
    return str(value) if isinstance(value, (str, int, float)) else None


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
        return re.match(r"[\w.]*", node.value).group().rsplit(".", 1)[-1]
    return None


def _unwrap(ann: ast.expr | None) -> ast.expr | None:
    """The core type of Optional[X], X | None, Union[X, None], Annotated[X, ...], "X"."""
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):
        try:
            return _unwrap(parse(ann.value, mode="eval").body)
        except (SyntaxError, ValueError, RecursionError):
            return None
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        args = [ann.left, ann.right]
    elif isinstance(ann, ast.Subscript) and _last(ann.value) in ("Optional", "Union", "Annotated"):
        args = ann.slice.elts if isinstance(ann.slice, ast.Tuple) else [ann.slice]
        args = args[:1] if _last(ann.value) == "Annotated" else args
    else:
        return ann
    args = [a for a in args if not (isinstance(a, ast.Constant) and a.value is None)]
    return _unwrap(args[0]) if len(args) == 1 else ann


def _is_field(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Call) and _last(node.func) == "Field"


def _strings(node: ast.expr | None) -> list[str]:
    """"A", AliasChoices("A", "B"), ["A", "B"] -> the string names (AliasPath and the like are skipped)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Call) and _last(node.func) == "AliasChoices":
        return [s for a in node.args for s in _strings(a) if not isinstance(a, ast.Call)]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [s for e in node.elts for s in _strings(e)]
    return []


def _field(stmt: ast.AnnAssign, doc: str | None) -> tuple[list[str], str | None, str | None]:
    """(explicit env names, default, description) of one annotated field."""
    ann = stmt.annotation
    calls = [m for m in (ann.slice.elts[1:] if isinstance(ann, ast.Subscript) and _last(ann.value) == "Annotated"
                         and isinstance(ann.slice, ast.Tuple) else []) if _is_field(m)]
    default_node = stmt.value
    if _is_field(stmt.value):
        calls.append(stmt.value)
        default_node = stmt.value.args[0] if stmt.value.args else None
    kw = {k.arg: k.value for c in calls for k in c.keywords if k.arg}
    if default_node is None:
        default_node = kw.get("default")
    names = _strings(kw.get("validation_alias")) or _strings(kw.get("alias")) or _strings(kw.get("env"))
    default = None if _last(_unwrap(ann)) in ("SecretStr", "SecretBytes") else _literal(default_node)
    desc = kw.get("description")
    desc = desc.value if isinstance(desc, ast.Constant) and isinstance(desc.value, str) else doc
    return names, default, " ".join(desc.split()) if desc else None


def _assigned(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value
    return None, None


class _Classes:
    """Every class in the parsed files, by name; which are pydantic models or settings."""

    def __init__(self, trees: Mapping[str, list[ast.AST]]):
        self.trees = trees
        self.by_name: dict[str, list[tuple[str, ast.ClassDef]]] = {}
        self.roots: dict[str, dict[str, str]] = {}  # path -> local name -> BaseSettings | BaseModel
        self.kinds: dict[int, str | None] = {}
        for path, nodes in trees.items():
            roots = self.roots[path] = {"BaseSettings": "BaseSettings", "BaseModel": "BaseModel"}
            for node in nodes:
                if isinstance(node, ast.ClassDef):
                    self.by_name.setdefault(node.name, []).append((path, node))
                elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("pydantic", "pydantic_settings"):
                    roots.update((a.asname, a.name) for a in node.names if a.asname and a.name in ("BaseSettings", "BaseModel"))

    def resolve(self, path: str, node: ast.expr) -> tuple[str, ast.ClassDef] | None:
        found = self.by_name.get(_last(node) or "", [])
        return next((c for c in found if c[0] == path), found[0] if found else None)

    def kind(self, path: str, cls: ast.ClassDef) -> str | None:
        """"settings" (a BaseSettings subclass), "model" (another BaseModel) or None."""
        if id(cls) not in self.kinds:
            self.kinds[id(cls)] = result = None
            for base in cls.bases:
                root = self.roots[path].get(base.id) if isinstance(base, ast.Name) else _last(base)
                if root in ("BaseSettings", "BaseModel"):
                    kind = "settings" if root == "BaseSettings" else "model"
                else:
                    found = self.resolve(path, base)
                    kind = self.kind(*found) if found and found[1] is not cls else None
                if kind == "settings" or (kind and not result):
                    result = kind
            self.kinds[id(cls)] = result
        return self.kinds[id(cls)]

    def lineage(self, path: str, cls: ast.ClassDef, seen: frozenset = frozenset()) -> list[tuple[str, ast.ClassDef]]:
        """The pydantic classes cls inherits from, most basic first, then cls (reversed MRO, roughly)."""
        out: list[tuple[str, ast.ClassDef]] = []
        for base in reversed(cls.bases):
            found = self.resolve(path, base)
            if found and id(found[1]) not in seen | {id(cls)} and self.kind(*found):
                out += [c for c in self.lineage(*found, seen | {id(cls)}) if c not in out]
        return out + [(path, cls)]

    def config(self, path: str, cls: ast.ClassDef) -> dict:
        items: list[tuple[str, ast.expr]] = []
        for _, c in self.lineage(path, cls):
            items += [(k.arg, k.value) for k in c.keywords if k.arg]
            for stmt in c.body:
                target, value = _assigned(stmt)
                if target == "model_config" and isinstance(value, ast.Call):
                    items += [(k.arg, k.value) for k in value.keywords if k.arg]
                elif target == "model_config" and isinstance(value, ast.Dict):
                    items += [(k.value, v) for k, v in zip(value.keys, value.values) if isinstance(k, ast.Constant)]
                elif isinstance(stmt, ast.ClassDef) and stmt.name == "Config":
                    items += [a for a in map(_assigned, stmt.body) if a[0]]
        return {k: v.value for k, v in items if k in _CONFIG_KEYS and isinstance(v, ast.Constant)}

    def fields(self, path: str, cls: ast.ClassDef) -> dict[str, tuple[str, ast.AnnAssign, str | None]]:
        out: dict[str, tuple[str, ast.AnnAssign, str | None]] = {}
        for fpath, c in self.lineage(path, cls):
            for i, stmt in enumerate(c.body):
                if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                    continue
                name = stmt.target.id
                if name.startswith("_") or name == "model_config" or _last(stmt.annotation) == "ClassVar":
                    continue
                nxt = c.body[i + 1] if i + 1 < len(c.body) else None
                doc = nxt.value.value if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant) \
                    and isinstance(nxt.value.value, str) else None
                out[name] = (fpath, stmt, doc)
        return out

    def settings_vars(self) -> list[tuple[str, int, str, str | None, str | None]]:
        out = []
        for path, nodes in self.trees.items():
            for cls in (n for n in nodes if isinstance(n, ast.ClassDef)):
                if self.kind(path, cls) != "settings":
                    continue
                cfg = self.config(path, cls)
                prefix = cfg.get("env_prefix") if isinstance(cfg.get("env_prefix"), str) else ""
                delim = cfg.get("env_nested_delimiter") if isinstance(cfg.get("env_nested_delimiter"), str) else ""
                upper = cfg.get("case_sensitive") is not True
                for name, (fpath, stmt, doc) in self.fields(path, cls).items():
                    aliases = _field(stmt, doc)[0]
                    names = aliases or [(prefix + name).upper() if upper else prefix + name]
                    out += self._leaves(names, fpath, stmt, doc, delim, upper, frozenset({id(cls)}))
        return out

    def _leaves(self, names, path, stmt, doc, delim, upper, seen) -> list:
        """names for one field; with a nested delimiter, a model-typed field expands into its sub-fields."""
        core = _unwrap(stmt.annotation)
        sub = self.resolve(path, core) if delim and isinstance(core, (ast.Name, ast.Attribute)) else None
        if sub and self.kind(*sub) and id(sub[1]) not in seen:
            out = []
            for name, (spath, sstmt, sdoc) in self.fields(*sub).items():  # a sub-field's alias counts here
                parts = [p.upper() if upper else p for p in _field(sstmt, sdoc)[0] or [name]]
                deeper = [n + delim + p for n in names for p in parts]
                out += self._leaves(deeper, spath, sstmt, sdoc, delim, upper, seen | {id(sub[1])})
            return out
        _, default, desc = _field(stmt, doc)
        return [(path, stmt.lineno, n, default, desc) for n in names]
