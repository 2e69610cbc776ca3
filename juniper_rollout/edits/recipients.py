"""Change ``defaults.age_recipients`` in the manifest by splicing its text. Pure: no I/O.

Only the list's items are touched: every other byte (comments, indentation, quoting,
line endings) stays as it was. A round-trip dump would re-indent the file. The
result is verified by parsing: it must load to the old data with only the list changed.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from juniper_rollout.agekey import (
    SMALL_ORDER,
    is_placeholder,
    is_small_order_recipient,
    is_valid_recipient,
    short,
)
from juniper_rollout.edits.blocks import newline_of
from juniper_rollout.edits.splice import line_end, line_start
from juniper_rollout.edits.yamltree import Node, parse_tree
from juniper_rollout.errors import RolloutError
from juniper_rollout.yamlio import YamlSyntaxError, load_plain

WHERE = "defaults.age_recipients"


class RecipientsEditError(RolloutError):
    pass


@dataclass(frozen=True)
class RecipientsEdit:
    text: str
    before: tuple[str, ...]
    after: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    placeholders: tuple[str, ...]  # replaced or dropped by an --add


def edit(
    text: str, *, add: Sequence[str], remove: Sequence[str], path: str = "manifest"
) -> RecipientsEdit:
    """``text`` with ``add`` appended to (or replacing a placeholder in) the list and ``remove`` taken out."""
    add, remove = list(add), list(remove)
    _check_arguments(add, remove)
    seq = _locate(text, path)
    old = [_value(item, path) for item in seq.items]
    for key in remove:
        if key not in old:
            listed = ", ".join(short(k) for k in old) or "none"
            raise RecipientsEditError(
                f"{short(key)} is not in {WHERE} (listed: {listed}); nothing changed"
            )
    for key in add:
        if key in old:
            raise RecipientsEditError(f"{short(key)} is already in {WHERE}; nothing changed")
    pending = list(add)
    new: list[str | None] = []  # per old item: its new value, None to drop it
    placeholders: list[str] = []
    for value in old:
        if value in remove:
            new.append(None)
        elif add and is_placeholder(value):
            placeholders.append(value)
            new.append(pending.pop(0) if pending else None)
        else:
            new.append(value)
    after = [v for v in new if v is not None] + pending
    _check_result(after, seq, old, new, path)
    spliced = _splice(text, seq, new, pending)
    _verify(text, spliced, after, path)
    removed = tuple(k for k in old if k in remove)
    return RecipientsEdit(
        spliced, tuple(old), tuple(after), tuple(add), removed, tuple(placeholders)
    )


def current(text: str, *, path: str = "manifest") -> tuple[str, ...]:
    """The real (non-placeholder) recipients listed in the manifest text."""
    return tuple(
        v
        for v in (_value(item, path) for item in _locate(text, path).items)
        if not is_placeholder(v)
    )


def _check_arguments(add: list[str], remove: list[str]) -> None:
    if not add and not remove:
        raise RecipientsEditError("nothing to change: pass --add age1… and/or --remove age1…")
    for key in add + remove:
        if key.upper().startswith("AGE-SECRET-KEY-"):
            raise RecipientsEditError(
                "that is a private key (AGE-SECRET-KEY-1…): pass its public key (age1…) "
                "and keep the private key secret"
            )
    for key in add:
        if is_small_order_recipient(key):
            raise RecipientsEditError(f"--add {short(key)!r} {SMALL_ORDER}")
        if not is_valid_recipient(key):
            raise RecipientsEditError(
                f"--add {short(key)!r} is not a valid age public key "
                "(age1…, as printed by `rollout keygen`)"
            )
    for flag, given in (("--add", add), ("--remove", remove)):
        twice = sorted({k for k in given if given.count(k) > 1})
        if twice:
            raise RecipientsEditError(f"{short(twice[0])} is given twice to {flag}")
    both = [k for k in add if k in remove]
    if both:
        raise RecipientsEditError(f"{short(both[0])} is given to both --add and --remove")


def _check_result(
    after: list[str], seq: Node, old: list[str], new: list[str | None], path: str
) -> None:
    if not any(not is_placeholder(k) for k in after):
        raise RecipientsEditError(
            f"refusing to remove the last recipient from {WHERE}: add the new key first "
            "(`rollout rotate --add age1NEW…`, plan, apply), then remove the old one"
        )
    for item, _value, kept in zip(seq.items, old, new, strict=False):
        if kept is not None and not is_placeholder(kept) and not is_valid_recipient(kept):
            raise RecipientsEditError(
                f"{path}:{item.line}: {short(kept)!r} in {WHERE} is not a valid age public "
                f"key: remove it too (--remove {kept})"
            )


def _locate(text: str, path: str) -> Node:
    try:
        root = parse_tree(text)
    except YamlSyntaxError as err:
        where = f"{path}:{err.line}" if err.line else path
        raise RecipientsEditError(f"{where}: invalid YAML: {err} (fix it first)") from None
    defaults = root.get("defaults") if root is not None and root.kind == "map" else None
    seq = (
        defaults.get("age_recipients") if defaults is not None and defaults.kind == "map" else None
    )
    if seq is None:
        raise RecipientsEditError(
            f"{path}: no {WHERE} list (add `age_recipients: [age1…]` under `defaults:`)"
        )
    assert defaults is not None  # seq was found in it
    for node in (defaults, seq, *seq.items):
        if node.kind == "alias" or node.anchor:
            raise RecipientsEditError(
                f"{path}:{node.line}: {WHERE} uses a YAML anchor or alias "
                "(write the list out, then rotate again)"
            )
    if seq.kind != "seq":
        raise RecipientsEditError(
            f"{path}:{seq.line}: {WHERE} is not a list (write `age_recipients: [age1…]`)"
        )
    return seq


def _value(item: Node, path: str) -> str:
    if item.kind != "scalar" or not isinstance(item.value, str):
        raise RecipientsEditError(
            f"{path}:{item.line}: an item of {WHERE} is not a plain string (fix it by hand)"
        )
    return item.value


# --- splicing --------------------------------------------------------------------------


def _quote(text: str, item: Node) -> str:
    return text[item.start] if text[item.start] in "'\"" else ""


def _splice(text: str, seq: Node, new: list[str | None], appended: list[str]) -> str:
    if seq.flow:
        return _splice_flow(text, seq, new, appended)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in the old text
    for item, value in zip(seq.items, new, strict=False):
        q = _quote(text, item)
        if value is None:
            edits.append(_drop_line(text, item))
        elif value != item.value:
            edits.append((item.start, item.end, f"{q}{value}{q}"))
    if appended:
        first, last = seq.items[0], seq.items[-1]
        dash = text.rfind("-", 0, first.start)
        indent, gap, q = (
            text[line_start(text, dash) : dash],
            text[dash + 1 : first.start],
            _quote(text, last),
        )
        nl = newline_of(text)
        at = line_end(text, last.end)
        lines = "".join(f"{indent}-{gap}{q}{key}{q}{nl}" for key in appended)
        edits.append((at, at, lines if text[at - 1] == "\n" else nl + lines))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _drop_line(text: str, item: Node) -> tuple[int, int, str]:
    """The whole ``- value  # comment`` line of a block item, refused if it holds anything else."""
    dash = text.rfind("-", 0, item.start)
    start = line_start(text, dash)
    end = line_end(text, item.end)
    rest = text[item.end : end].strip()
    if (
        text[start:dash].strip()
        or text[dash + 1 : item.start].strip()
        or (rest and not rest.startswith("#"))
    ):
        raise RecipientsEditError(
            f"line {item.line}: the recipient shares its line with other YAML "
            "(put it on a line of its own, then rotate again)"
        )
    return start, end, ""


def _splice_flow(text: str, seq: Node, new: list[str | None], appended: list[str]) -> str:
    body = text[seq.start : seq.end]
    if "#" in body:
        raise RecipientsEditError(
            f"line {seq.line}: {WHERE} is a flow list with comments inside "
            "(write it as a block list, then rotate again)"
        )
    quotes = [_quote(text, item) for item in seq.items]
    q = next((c for c in quotes if c), "")
    values = [f"{qi}{v}{qi}" for qi, v in zip(quotes, new, strict=False) if v is not None]
    values += [f"{q}{key}{q}" for key in appended]
    return text[: seq.start] + "[" + ", ".join(values) + "]" + text[seq.end :]


def loaded(text: str, path: str) -> Any:
    """The manifest ``text`` as the loader reads it, its refusal in one line as `_locate`'s. Pass
    29c (13.11): a manifest the tree parser takes but the loader refuses (a second document after
    a `---`, a duplicate key) made `rollout rotate` "unexpected YamlSyntaxError … please report
    this", where plan says the line."""
    try:
        return load_plain(text)
    except YamlSyntaxError as err:
        where = f"{path}:{err.line}" if err.line else path
        raise RecipientsEditError(f"{where}: invalid YAML: {err} (fix it first)") from None


def _verify(old_text: str, new_text: str, after: list[str], path: str) -> None:
    """The new text must load to the old data with only the recipients changed."""
    expected: Any = copy.deepcopy(loaded(old_text, path))
    expected["defaults"]["age_recipients"] = after
    try:
        got = load_plain(new_text)
    except YamlSyntaxError:
        got = None
    if got != expected:
        raise RecipientsEditError(
            f"{path}: could not change {WHERE} without changing other lines (edit the list by hand)"
        )
