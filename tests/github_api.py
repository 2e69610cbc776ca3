"""GitHub's REST API operations, as GitHub's official OpenAPI description defines them.

The description (github/rest-api-description) is shipped on PyPI by ``githubkit-schemas``: one
Python method per operation, generated from the description, holding the operation's method,
path template, query parameters, request-body model and response models (pydantic models of the
description's schemas). This module reads those generated operations with ``ast`` -- only the
modules the fake GitHub serves, once per test session -- and validates requests and responses
against the models. Nothing here is written by hand: a path, parameter or field the description
does not have fails the test.
"""

from __future__ import annotations

import ast
import datetime as _dt
import importlib
import importlib.util
import json
import re
import threading
import types
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import TypeAdapter, ValidationError

VERSION = "v2026_03_10"  # the REST API version githubkit uses by default (X-GitHub-Api-Version 2026-03-10)
MODULES = ("pulls", "issues", "repos", "checks")  # the operation groups the tool calls


@dataclass(frozen=True)
class Operation:
    name: str  # e.g. pulls/create
    method: str
    template: str  # /repos/{owner}/{repo}/pulls
    pattern: re.Pattern
    params: frozenset[str]
    body: str | None  # model name of the JSON request body
    response: str | None  # expression of the 2xx response model, e.g. list[PullRequestSimple]
    errors: dict[str, str] = field(default_factory=dict)


def _extract(module: str) -> list[Operation]:
    spec = importlib.util.find_spec(f"githubkit_schemas.{VERSION}.rest.{module}")
    assert spec and spec.origin, f"githubkit-schemas {VERSION} is not installed"
    tree = ast.parse(open(spec.origin, encoding="utf-8").read())
    out = []
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
        for fn in cls.body:
            if not isinstance(fn, ast.FunctionDef) or any(
                isinstance(d, ast.Name) and d.id == "overload" for d in fn.decorator_list
            ):
                continue
            op = _operation(fn)
            if op is not None:
                out.append(op)
    return out


def _operation(fn: ast.FunctionDef) -> Operation | None:
    doc = ast.get_docstring(fn) or ""
    name = doc.splitlines()[0].strip() if doc else fn.name
    template = body = response = None
    params: set[str] = set()
    errors: dict[str, str] = {}
    method = None
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            target = node.targets[0].id
            if target == "url" and isinstance(node.value, ast.JoinedStr):
                template = "".join(
                    v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                    for v in node.value.values
                )
            elif target == "url" and isinstance(node.value, ast.Constant):
                template = node.value.value
            elif target == "params" and isinstance(node.value, ast.Dict):
                params = {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "type_validate_python"
        ):
            body = ast.unparse(node.args[0])
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "request"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            method = node.args[0].value
            for kw in node.keywords:
                if kw.arg == "response_model":
                    response = ast.unparse(kw.value)
                elif kw.arg == "error_models" and isinstance(kw.value, ast.Dict):
                    errors = {
                        k.value: ast.unparse(v)
                        for k, v in zip(kw.value.keys, kw.value.values, strict=False)
                    }
    if template is None or method is None:
        return None
    regex = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$"
    return Operation(
        name, method, template, re.compile(regex), frozenset(params), body, response, errors
    )


_LOCK = threading.Lock()  # ast.parse is not thread-safe, and the fake serves requests from threads


@lru_cache(maxsize=1)
def _operations() -> tuple[Operation, ...]:
    return tuple(op for module in MODULES for op in _extract(module))


def operations() -> tuple[Operation, ...]:
    with _LOCK:
        return _operations()


def find(method: str, path: str) -> Operation | None:
    """The operation for ``method path``; the most literal template wins (``/pulls/{n}`` over ``/{a}/{b}``)."""
    hits = [op for op in operations() if op.method == method and op.pattern.match(path)]
    hits.sort(key=lambda op: -len(re.sub(r"\{[^}]+\}", "", op.template)))
    return hits[0] if hits else None


def _adapter(expr: str) -> TypeAdapter:
    with _LOCK:
        return _make_adapter(expr)


@cache
def _make_adapter(expr: str) -> TypeAdapter:
    models = importlib.import_module(f"githubkit_schemas.{VERSION}.models")
    names: dict[str, Any] = {
        "list": list,
        "dict": dict,
        "Any": Any,
        "Union": Union,
        "str": str,
        "int": int,
        "bool": bool,
        "float": float,
        "None": None,
    }
    for word in set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expr)) - set(names):
        names[word] = getattr(models, word)
    return TypeAdapter(eval(expr, {}, names))  # noqa: S307 - expressions from the generated code only


def problems(expr: str, value: Any) -> str | None:
    """None when ``value`` fits the description's schema ``expr``; else the validation errors."""
    try:
        _adapter(expr).validate_python(value)
    except ValidationError as err:
        return str(err)
    return None


def filled(name: str, given: dict) -> dict:
    """``given`` plus a schema-typed placeholder for each required field of model ``name`` it lacks.

    The fake sets every field the tool reads; the description requires many more (a pull request
    holds a whole repository object), and those are filled from the schema's own types.
    """
    return _fill(model(name), given)


@cache
def _default_json(cls) -> str:
    return json.dumps(_fill(cls, {}))


def _fill(cls, given: dict) -> dict:
    out = dict(given)
    for fname, info in cls.model_fields.items():
        key = info.alias or fname
        if key in out or not info.is_required():
            if key in out and isinstance(out[key], dict):
                sub = _model_of(info.annotation)
                if sub is not None:
                    out[key] = _fill(sub, out[key])
            continue
        out[key] = _placeholder(info.annotation)
    return out


def _model_of(annotation):
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arm in get_args(annotation):
        found = _model_of(arm)
        if found is not None:
            return found
    return None


def _placeholder(annotation):
    if annotation is None or annotation is type(None):
        return None
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        arms = get_args(annotation)
        if type(None) in arms:
            return None
        return _placeholder(arms[0])
    if origin is Literal:
        return get_args(annotation)[0]
    if origin in (list, tuple, set):
        return []
    if origin is dict:
        return {}
    if annotation is bool:
        return False
    if annotation is int:
        return 1
    if annotation is float:
        return 1.0
    if annotation is str:
        return "x"
    if annotation is _dt.datetime:
        return "2026-01-01T00:00:00Z"
    if annotation is _dt.date:
        return "2026-01-01"
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return json.loads(_default_json(annotation))  # a fresh copy of the model's placeholder
    if get_origin(annotation) is not None and hasattr(get_origin(annotation), "__metadata__"):
        return _placeholder(get_args(annotation)[0])
    if hasattr(annotation, "__origin__") and hasattr(annotation, "__metadata__"):  # Annotated[...]
        return _placeholder(annotation.__origin__)
    return "x"


def model(name: str):
    return getattr(importlib.import_module(f"githubkit_schemas.{VERSION}.models"), name)
