"""A YAML document as nodes with text positions, built from parser events.

Used to *locate* places in files humans own; the text is edited by splicing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from juniper_rollout.yamlio import parse_events


@dataclass
class Node:
    kind: str  # "map" | "seq" | "scalar" | "alias"
    start: int  # character offset where the node starts
    end: int  # character offset just after its last character (block nodes: their last child's)
    line: int  # 1-based line of the start
    column: int
    flow: bool = False
    anchor: str | None = None
    value: Any = None
    items: list[Node] = field(default_factory=list)  # seq items
    pairs: list[tuple[Node, Node]] = field(default_factory=list)  # map entries

    def get(self, key: str) -> Node | None:
        for k, v in self.pairs:
            if k.kind == "scalar" and k.value == key:
                return v
        return None

    def has_merge_key(self) -> bool:
        return any(k.kind == "scalar" and k.value == "<<" for k, _ in self.pairs)


_NODE_STARTS = {"MappingStartEvent", "SequenceStartEvent", "ScalarEvent", "AliasEvent"}


def parse_tree(text: str, *, pure: bool = False) -> Node | None:
    """The document's root node (None for an empty document).

    ``pure``: PyYAML's pure-Python parser."""
    events = iter(parse_events(text, pure=pure))
    for event in events:
        if type(event).__name__ in _NODE_STARTS:
            return _node(event, events)
    return None


def _node(event: Any, events: Iterator[Any]) -> Node:
    mark = event.start_mark
    kind = type(event).__name__
    base = dict(
        start=mark.index,
        line=mark.line + 1,
        column=mark.column,
        anchor=getattr(event, "anchor", None),
    )
    if kind == "AliasEvent":
        return Node("alias", end=event.end_mark.index, **base)
    if kind == "ScalarEvent":
        return Node("scalar", end=event.end_mark.index, value=event.value, **base)
    flow = bool(event.flow_style)
    if kind == "SequenceStartEvent":
        node = Node("seq", end=event.end_mark.index, flow=flow, **base)
        for child in events:
            if type(child).__name__ == "SequenceEndEvent":
                node.end = (
                    child.end_mark.index
                    if flow
                    else (node.items[-1].end if node.items else node.end)
                )
                return node
            node.items.append(_node(child, events))
    node = Node("map", end=event.end_mark.index, flow=flow, **base)
    for child in events:
        if type(child).__name__ == "MappingEndEvent":
            node.end = (
                child.end_mark.index
                if flow
                else (node.pairs[-1][1].end if node.pairs else node.end)
            )
            return node
        key = _node(child, events)
        node.pairs.append((key, _node(next(events), events)))
    raise AssertionError("unbalanced YAML events")
