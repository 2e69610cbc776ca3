"""Words for counts in messages: ``1 repo``, ``2 repos``.

Pure; used by every layer that prints a count."""

from __future__ import annotations


def count(n: int, noun: str) -> str:
    """``1 repo``, ``0 repos``, ``2 repos`` (nouns with a plain -s plural only)."""
    return f"{n} {noun}" + ("" if n == 1 else "s")
