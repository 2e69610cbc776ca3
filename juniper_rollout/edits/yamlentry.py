"""One entry of a list in a YAML file people own (e.g. one ``updates:`` entry of dependabot.yml).

The entry is found by its ``match`` fields (e.g. ``package-ecosystem`` and ``directory``), then spliced into
the text in the file's own indentation: appended to the list where it is absent (the list is
added at the end of the file if the key is absent). What the template renders is what must
hold, not all there may be: an entry a person wrote that already holds every rendered key and
value is left byte for byte, whatever else it has (labels, groups, a day and a time); one that
differs gets the rendered values set and keeps every key of its own. Every other byte is kept,
and the result is verified: it must load to the original data with exactly that entry
changed, or nothing is written.
"""

from __future__ import annotations

import copy
from typing import Any

from juniper_rollout.changes import IN_SYNC, MISSING, MODIFIED
from juniper_rollout.edits.blocks import newline_of
from juniper_rollout.edits.precommit import _first_map, _insert_item, _replace_item
from juniper_rollout.edits.yamltree import parse_tree
from juniper_rollout.errors import RepoError
from juniper_rollout.yamlio import YamlSyntaxError, dump_block, load_plain


def _load(text: str, path: str) -> Any:
    try:
        return load_plain(text)
    except YamlSyntaxError as err:
        raise RepoError(
            f"{path}{f':{err.line}' if err.line else ''}: invalid YAML: {err} (fix it, then plan again)"
        ) from None


Match = tuple[str, ...]


def name_of(entry: dict, match: Match) -> str:
    return ", ".join(f"{field}: {entry[field]}" for field in match)


def _index(items: Any, match: Match, entry: dict) -> int | None:
    if not isinstance(items, list):
        return None
    return next(
        (
            i
            for i, item in enumerate(items)
            if isinstance(item, dict)
            and all(field in item and item[field] == entry[field] for field in match)
        ),
        None,
    )


def covers(have: Any, want: Any) -> bool:
    """Whether ``have`` holds everything ``want`` says: each of its keys with a value that covers
    (a person's extra keys are theirs); lists and scalars compare whole."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(
            k in have and covers(have[k], v) for k, v in want.items()
        )
    return have == want


def merged(have: Any, want: Any) -> Any:
    """``have`` with every value of ``want`` set, its other keys kept, in their order."""
    if not (isinstance(have, dict) and isinstance(want, dict)):
        return copy.deepcopy(want)
    out = dict(have)
    for k, v in want.items():
        out[k] = merged(have.get(k), v)
    return out


def state(text: str, key: str, match: Match, entry: dict) -> str:
    """in-sync: the entry holds what is rendered (by data: quoting, order, comments and a person's
    extra keys are theirs)."""
    try:
        data = load_plain(text)
    except YamlSyntaxError:
        return MODIFIED
    items = data.get(key) if isinstance(data, dict) else None
    at = _index(items, match, entry)
    if at is None or not isinstance(items, list):
        return MISSING
    return IN_SYNC if covers(items[at], entry) else MODIFIED


def _line_end_comments(text: str, key: str, at: int, item: Any) -> tuple[str, ...]:
    """The comments that end lines of the ``at``-th entry of ``key`` (``schedule: …  # see ADR-7``):
    re-writing the entry would drop them (pass 7), so they are kept above it, on lines of their own."""
    from juniper_rollout.yamlio import load_roundtrip

    try:
        entry = load_roundtrip(text)[key][at]
    except Exception:  # the caller's own load already read it; any doubt: nothing extra kept
        return ()
    lines = text.split("\n")
    first, last = item.line - 1, text.count("\n", 0, item.end)
    found: list[str] = []

    def walk(node: Any) -> None:
        ca = getattr(node, "ca", None)
        tokens = list((ca.items if ca is not None else {}).values())
        for token in [
            t
            for group in tokens
            for t in (group or [])
            for t in (t if isinstance(t, list) else [t])
        ]:
            mark = getattr(token, "start_mark", None)
            if mark is None or not first <= mark.line <= last:
                continue
            comment = str(token.value).split("\n", 1)[0].strip()
            line = lines[mark.line] if mark.line < len(lines) else ""
            if comment.startswith("#") and line.strip() != comment and comment not in found:
                found.append(comment)
        for child in (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        ):
            walk(child)

    walk(entry)
    return tuple(found)


def set_entry(text: str, key: str, match: Match, entry: dict, *, path: str) -> str:
    """``text`` with the list at ``key`` holding ``entry`` (found by its ``match`` fields)."""
    data = _load(text, path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RepoError(
            f"{path}:1: is not a YAML mapping; cannot set {key} (fix the file, or set the entry by hand)"
        )
    items = data.get(key)
    at = _index(items, match, entry)
    if at is not None and isinstance(items, list):
        if covers(items[at], entry):
            return text
        entry = merged(items[at], entry)
    expected = copy.deepcopy(data)
    nl = newline_of(text) if text else "\n"
    if key not in data:
        body = dump_block({key: [entry]}).replace("\n", nl)
        new = text + ("" if not text or text.endswith("\n") else nl) + body
        expected[key] = [entry]
    else:
        node = parse_tree(text).get(key)  # type: ignore[union-attr]
        if (
            node is None
            or node.kind != "seq"
            or node.anchor
            or not isinstance(items, list)
            or (not node.flow and not node.items)
        ):
            line = node.line if node is not None else 1
            raise RepoError(
                f"{path}:{line}: {key} is not a plain list; cannot set its {name_of(entry, match)} "
                "entry (write it as a list, or set the entry by hand)"
            )
        if at is not None:
            item = node.items[at]
            new = _replace_item(
                text,
                node,
                item,
                entry,
                nl,
                keep_comments=True,
                line_end_comments=_line_end_comments(text, key, at, item),
            )
            expected[key][at] = entry
        else:
            new = _insert_item(text, node, entry, nl, template=_first_map(node))
            expected[key].append(entry)
    if (
        _load(new, path) != expected
    ):  # splice-and-verify: exactly one entry changed, or nothing is written
        raise RepoError(
            f"{path}: setting the {name_of(entry, match)} entry of {key} would change more than "
            "that entry (set it by hand)"
        )
    return new
