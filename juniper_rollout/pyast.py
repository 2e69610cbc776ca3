"""AST helpers the discovery readers share: a thread-safe parse, and folded values as env values."""

from __future__ import annotations

import ast
import json
import threading
import warnings
from typing import Any

from juniper_rollout.fold import Repo, Unresolved

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


def folded(repo: Repo, path: str, node: ast.expr | None, scopes: tuple[ast.AST, ...] = ()) -> Any:
    """The folded value of a default, or None (no default, or one the source alone does not tell)."""
    if node is None:
        return None
    try:
        return repo.value(path, node, scopes)
    except Unresolved:
        return None


def env_value(value: Any, structured: bool = False) -> str | None:
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
