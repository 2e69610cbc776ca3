"""Add a repo entry to the manifest's text, every other byte kept. Pure: text in, text out.

The new item is spliced after the last item of the ``repos:`` block list, with the
dash and keys in the columns the existing items use, the file's own line endings,
and a blank line before it if the items are separated by one. ``like`` copies
another entry: each of its keys is copied as text (comments on those lines
included), except ``name``, ``path`` and ``url``, which belong to that repo. The
result is verified by parsing: it must load to the old data plus exactly the new entry.
"""

from __future__ import annotations

import copy
from typing import Any

from juniper_rollout.edits.blocks import newline_of
from juniper_rollout.edits.splice import after_line, dash_column
from juniper_rollout.edits.yamltree import Node, parse_tree
from juniper_rollout.errors import RolloutError
from juniper_rollout.yamlio import YamlSyntaxError, dump_block, load_plain

OWN_KEYS = ("name", "path", "url")  # what identifies a repo: never copied by `like`


class ManifestEditError(RolloutError):
    pass


def add_entry(
    text: str,
    *,
    name: str,
    path: str | None = None,
    url: str | None = None,
    like: str | None = None,
    file: str = "manifest",
) -> str:
    """``text`` with a ``repos:`` item for ``name`` appended; ManifestEditError if that cannot be
    done safely."""
    try:
        root = parse_tree(text)
        old = load_plain(text)
    except YamlSyntaxError as err:
        raise ManifestEditError(
            f"{file}:{err.line or 1}: invalid YAML: {err} (fix it first)"
        ) from None
    repos = root.get("repos") if root is not None and root.kind == "map" else None
    if (
        root is None
        or repos is None
        or repos.kind != "seq"
        or not isinstance(old.get("repos"), list)
    ):
        raise ManifestEditError(f"{file}: no `repos:` list to add to (add `repos: []`)")
    if repos.flow and repos.items:
        raise ManifestEditError(
            f"{file}:{repos.line}: `repos:` is a flow list [...]; write it as a block list "
            "(one `- name: ...` item per repo) to add entries"
        )
    own = {
        "name": name,
        **({"path": path} if path is not None else {}),
        **({"url": url} if url is not None else {}),
    }
    template = _find(repos, old["repos"], like, file) if like else None
    nl = newline_of(text)
    if repos.flow:  # `repos: []`
        dash = _column_of_key(text, root, "repos") + 2
        item = _item(text, own, template, dash, dash + 2, nl)
        new = text[: repos.start].rstrip(" ") + nl + item.rstrip("\r\n") + text[repos.end :]
    else:
        dash = dash_column(text, repos.items[0])
        first = repos.items[0]
        key = first.column if first.kind == "map" and not first.flow else dash + 2
        item = _item(text, own, template, dash, key, nl)
        at = after_line(text, repos.items[-1].end)
        prefix = nl if at == len(text) and text and not text.endswith("\n") else ""
        if _blank_between(text, repos):
            prefix += nl
        new = text[:at] + prefix + item + text[at:]
    _verify(old, new, own, template, file)
    return new


def _find(repos: Node, data: list[Any], like: str, file: str) -> tuple[Node, dict[str, Any]]:
    for node, entry in zip(repos.items, data, strict=False):  # the same list, read twice
        if isinstance(entry, dict) and entry.get("name") == like:
            return node, entry
    raise ManifestEditError(
        f"{file}: no repo named {like!r} to copy (--like takes a name from the manifest)"
    )


def _item(
    text: str, own: dict[str, str], template: tuple[Node, dict] | None, dash: int, key: int, nl: str
) -> str:
    """The new item's lines: ``own`` keys first, then the template's other keys, copied as text."""
    pairs: list[tuple[list[str], bool]] = [
        (_line(k, v), False) for k, v in own.items()
    ]  # (lines, absolute?)
    if template is not None:
        node, data = template
        if node.kind == "map" and not node.flow:
            key = (
                node.column
            )  # copied continuation lines keep their columns: keep the template's key column
            pairs += [
                (text[k.start : after_line(text, v.end)].rstrip("\r\n").split("\n"), True)
                for k, v in node.pairs
                if k.value not in OWN_KEYS
            ]
        else:
            pairs += [(_line(k, v), False) for k, v in data.items() if k not in OWN_KEYS]
    out: list[str] = []
    for lines, absolute in pairs:
        lead = " " * dash + "-" + " " * max(key - dash - 1, 1) if not out else " " * key
        out.append(lead + lines[0].rstrip("\r"))
        out += [
            line.rstrip("\r") if absolute or not line else " " * key + line for line in lines[1:]
        ]
    return nl.join(out) + nl


def _line(key: str, value: Any) -> list[str]:
    """``key: value`` as new YAML lines (quoted where YAML needs it; nested values in block
    style)."""
    return dump_block({key: value}).rstrip("\n").split("\n")


def _verify(
    old: dict, new_text: str, own: dict, template: tuple[Node, dict] | None, file: str
) -> None:
    expected = copy.deepcopy(old)
    entry = {k: v for k, v in (template[1] if template else {}).items() if k not in OWN_KEYS}
    expected["repos"].append({**own, **copy.deepcopy(entry)})
    try:
        got = load_plain(new_text)
    except YamlSyntaxError as err:
        got = err
    if got != expected:
        raise ManifestEditError(
            f"{file}: could not add the entry without changing other lines "
            "(add it by hand, then run `rollout plan`)"
        )


def _column_of_key(text: str, root: Node, key: str) -> int:
    for k, _ in root.pairs:
        if k.kind == "scalar" and k.value == key:
            return k.column
    return 0


def _blank_between(text: str, repos: Node) -> bool:
    """Whether the last two items are separated by a blank line."""
    if len(repos.items) < 2:
        return False
    gap = text[after_line(text, repos.items[-2].end) : repos.items[-1].start]
    return any(not line.strip() for line in gap.replace("\r\n", "\n").split("\n")[:-1])
