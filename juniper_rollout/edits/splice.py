"""Offsets in a text for splicing edits into YAML a person wrote (the shared helpers of
edits/manifest_entry.py, edits/precommit.py, edits/recipients.py and edits/data_key.py). Pure."""

from __future__ import annotations

from juniper_rollout.edits.yamltree import Node


def line_start(text: str, index: int) -> int:
    """Offset of the start of the line that holds ``index``."""
    return text.rfind("\n", 0, index) + 1


def line_end(text: str, index: int) -> int:
    """Offset just after the newline ending the line that holds ``index``."""
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1


def after_line(text: str, index: int) -> int:
    """Offset of the start of the line after the one holding ``index - 1`` (a node's end offset)."""
    if index > 0 and text[index - 1] == "\n":
        return index
    return line_end(text, index)


def dash_column(text: str, item: Node) -> int:
    """Column of the ``-`` that introduces a block sequence item."""
    j = item.start - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    if j >= 0 and text[j] == "-":
        return j - line_start(text, j)
    return max(item.column - 2, 0)
