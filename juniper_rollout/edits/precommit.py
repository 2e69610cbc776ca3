"""Add the tool's hooks to a ``.pre-commit-config.yaml`` without re-emitting the file.

The new lines are spliced into the text in the file's own indentation and line
endings (pre-commit's ``autoupdate`` edits ``rev:`` the same way); every other
byte is kept. The result is then verified: loaded by pre-commit's own YAML
loader it must equal the original data plus the hooks, and pass pre-commit's
own config schema.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Sequence
from typing import Any

import cfgv
import yaml as pyyaml  # pre-commit loads its config with PyYAML
from pre_commit.clientlib import CONFIG_SCHEMA
from pre_commit.yaml import yaml_load

from juniper_rollout.edits.blocks import newline_of
from juniper_rollout.edits.splice import after_line, dash_column, line_start
from juniper_rollout.edits.yamltree import Node, parse_tree
from juniper_rollout.errors import RolloutError
from juniper_rollout.paths import PRECOMMIT
from juniper_rollout.yamlio import (
    YamlSyntaxError,
    check_aliases,
    check_depth,
    dump_block,
    dump_flow,
    load_roundtrip,
)

PATH = PRECOMMIT


class PrecommitEditError(RolloutError):
    pass


def _fail(line: int | None, message: str) -> PrecommitEditError:
    where = f"{PATH}:{line}" if line else PATH
    return PrecommitEditError(f"{where}: {message}")


def load_data(text: str) -> Any:
    """The config as pre-commit itself loads it."""
    try:
        # pass 24f: lists nested 600 deep (libyaml stops at 1,000), flow or block, reached the
        # tool's own tree of the config: plan and drift were "unexpected RecursionError … git fsck"
        check_depth(text, block_too=True)
        check_aliases(text)  # pass 19b: a YAML bomb, before pre-commit's loader shares it out
    except YamlSyntaxError as err:
        raise _fail(err.line, f"invalid YAML: {err}") from None
    try:
        return yaml_load(text)
    except (
        pyyaml.YAMLError,
        ValueError,
        RecursionError,
    ) as err:  # ValueError: a bad !!timestamp/!!int; marks on YAMLErrors
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise _fail(
            mark.line + 1 if mark else None, f"invalid YAML: {problem} (fix it, then plan again)"
        ) from None


def new_config(header: str, hooks: list[dict[str, Any]]) -> str:
    """A whole new config for a repo that had none: ``header`` (comments), then the local hooks."""
    text = header + dump_block({"repos": [{"repo": "local", "hooks": hooks}]})
    validate(load_data(text))
    return text


def validate(data: Any) -> None:
    """pre-commit's own schema check, as `pre-commit validate-config` runs it."""
    try:
        cfgv.validate(data, CONFIG_SCHEMA)
    except cfgv.ValidationError as err:
        message = " ".join(str(err).split())
        raise _fail(None, f"pre-commit rejects the config: {message}") from None


# pre-commit's warnings while it checks a config (mutable revs, unknown keys) quote the config's text,
# which a template fills, and are not ours to print: its logger ends at a handler that drops them.
# Set once, not per call (pass 23b's note: setting the level around each check raced across threads).
_QUIET = logging.getLogger("pre_commit")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def add_hooks(
    text: str, hooks: list[dict[str, Any]], *, adopt: tuple[tuple[int, int], ...] = ()
) -> str:
    """``text`` with each hook present (added or brought up to date) in a ``repo: local`` entry.

    ``adopt``: (index in ``repos:``, index in its ``hooks:``) of hand-written hooks doing the
    first hook's job (``juniper_rollout.adopt``). The first of them, in file order, is replaced
    by the first hook, in its place; the others are removed (their entry too, when they were
    its only hook). The other hooks follow the first one. Every other line is kept.
    """
    original = load_data(text)
    if not isinstance(original, dict):
        raise _fail(1, "is not a mapping of `repos:` (fix the file or set precommit_hook: skip)")
    if "repos" not in original:
        raise _fail(1, "has no `repos:` list (add `repos: []` or set precommit_hook: skip)")
    new, got = text, original
    if adopt:
        new = _adopt(text, original, hooks[0], sorted(adopt))
        got = load_data(new)
    previous = None
    for hook in hooks:
        spliced = _put_hook(new, got, hook, previous)
        if spliced != new:
            new, got = spliced, load_data(spliced)
        previous = hook["id"]
    expected = _expected(original, hooks, sorted(adopt))
    if got != expected:
        raise _repeated_key(text) or _fail(
            None,
            "could not add the hooks without changing other entries (add them by hand, then plan again)",
        )
    validate(got)
    return new


def _repeated_key(text: str) -> PrecommitEditError | None:
    """The config's first key repeated in one mapping, said with its line; None when none is. Pass
    29c's note: a second `repos:` was told "could not add the hooks … add them by hand", and hooks
    added by hand under the first one never run: pre-commit reads only the last of a repeated key."""
    try:
        load_roundtrip(text)
    except YamlSyntaxError as err:
        key = re.match(r'found duplicate key "(.{1,60}?)"', str(err))
        if key is not None:
            return _fail(
                err.line,
                f"the key {key.group(1)!r} is repeated in its mapping, and pre-commit reads only "
                "the last one (what the first holds never runs): merge them into one, then plan again",
            )
    return None


def _local_hooks(data: Any) -> list[tuple[int, int, dict]]:
    """(repos index, hooks index, hook) of every hook of every ``repo: local`` entry."""
    out = []
    for i, entry in enumerate((data or {}).get("repos", []) or []):
        if (
            isinstance(entry, dict)
            and entry.get("repo") == "local"
            and isinstance(entry.get("hooks"), list)
        ):
            out += [(i, j, h) for j, h in enumerate(entry["hooks"]) if isinstance(h, dict)]
    return out


def _locate(data: Any, hook_id: Any) -> tuple[int, int] | None:
    return next(((i, j) for i, j, h in _local_hooks(data) if h.get("id") == hook_id), None)


def _adopt(text: str, data: Any, hook: dict[str, Any], places: list[tuple[int, int]]) -> str:
    """Hand-written hooks at ``places`` out; ``hook`` in the first one's place (unless it is already there)."""
    keep_first = _locate(data, hook["id"]) is None
    first, rest = (places[0], places[1:]) if keep_first else (None, places)
    for r, h in reversed(rest):  # from the end: earlier places keep their indexes
        text = _remove_hook(text, r, h)
    if first is not None:
        root = _tree(text)
        repos = _guard(root.get("repos"), "repos")
        entry = _guard(repos.items[first[0]], "a `repo: local` entry")
        seq = _guard(entry.get("hooks"), "hooks of `repo: local`")
        text = _replace_item(
            text, seq, seq.items[first[1]], hook, newline_of(text), keep_comments=True
        )
    return text


def _tree(text: str) -> Node:
    try:
        root = parse_tree(text)
    except YamlSyntaxError as err:
        raise _fail(err.line, f"invalid YAML: {err}") from None
    assert root is not None and root.kind == "map"  # load_data checked it
    return root


def _remove_hook(text: str, r: int, h: int) -> str:
    repos = _guard(_tree(text).get("repos"), "repos")
    entry = _guard(repos.items[r], "a `repo: local` entry")
    seq = _guard(entry.get("hooks"), "hooks of `repo: local`")
    seq, item = (repos, entry) if len(seq.items) == 1 else (seq, seq.items[h])
    if seq.flow or item.flow:
        raise _fail(
            item.line,
            "a hand-written .env hook in a flow list (write it as a block list, or remove it by hand)",
        )
    start = min(line_start(text, item.start), line_start(text, text.rfind("-", 0, item.start)))
    return text[:start] + text[after_line(text, item.end) :]


def hooks_state(text: str, hooks: list[dict[str, Any]], *, data: Any = None) -> dict[str, str]:
    """For each hook id: "in-sync", "modified" (same id, other content) or "missing".
    ``data``: the text as load_data reads it, when the caller has it already."""
    data = load_data(text) if data is None else data
    local = [
        h
        for r in (data or {}).get("repos", []) or []
        if isinstance(r, dict) and r.get("repo") == "local"
        for h in r.get("hooks", []) or []
        if isinstance(h, dict)
    ]
    by_id = {h.get("id"): h for h in local}
    return {
        h["id"]: "missing"
        if h["id"] not in by_id
        else ("in-sync" if by_id[h["id"]] == h else "modified")
        for h in hooks
    }


def _expected(
    original: Any, hooks: list[dict[str, Any]], adopt: Sequence[tuple[int, int]] = ()
) -> Any:
    """What pre-commit must load after the edit: the original data with the hooks put in."""
    data = copy.deepcopy(original)
    repos = data["repos"]
    if adopt:
        keep_first = _locate(data, hooks[0]["id"]) is None
        first, rest = (adopt[0], adopt[1:]) if keep_first else (None, adopt)
        for r, h in reversed(rest):
            if len(repos[r]["hooks"]) == 1:
                del repos[r]
            else:
                del repos[r]["hooks"][h]
        if first is not None:
            repos[first[0]]["hooks"][first[1]] = hooks[0]
    previous = None
    for hook in hooks:
        at, after = _locate(data, hook["id"]), _locate(data, previous) if previous else None
        if at is not None:
            repos[at[0]]["hooks"][at[1]] = hook
        elif after is not None:
            repos[after[0]]["hooks"].insert(after[1] + 1, hook)
        else:
            local = next(
                (r for r in repos if isinstance(r, dict) and r.get("repo") == "local"), None
            )
            if local is None:
                local = {"repo": "local", "hooks": []}
                repos.append(local)
            local["hooks"].append(hook)
        previous = hook["id"]
    return data


def _put_hook(text: str, data: Any, hook: dict[str, Any], after: str | None = None) -> str:
    """``text`` (which load_data reads as ``data``) with ``hook`` added or brought up to date:
    where a hook of its id is, else right after the hook ``after``, else last in the first local entry."""
    root = _tree(text)
    repos = _guard(root.get("repos"), "repos")
    if repos.kind != "seq":
        raise _fail(repos.line, "`repos:` is not a list (fix the file or set precommit_hook: skip)")
    entries = data["repos"]  # resolved data: a local entry may hide behind an alias
    nl = newline_of(text)
    at = _locate(data, hook["id"])
    anchor = _locate(data, after) if after is not None and at is None else None
    index = next(
        (i for i, r in enumerate(entries) if isinstance(r, dict) and r.get("repo") == "local"), None
    )
    index = at[0] if at else anchor[0] if anchor else index
    local = repos.items[index] if index is not None else None
    if local is None:
        return _insert_item(
            text, repos, {"repo": "local", "hooks": [hook]}, nl, template=_first_map(repos)
        )
    _guard(local, "the `repo: local` entry")
    hooks = _guard(local.get("hooks"), "hooks of `repo: local`")
    if hooks.kind != "seq":
        raise _fail(hooks.line, "`hooks:` of `repo: local` is not a list (fix the file)")
    if at is not None:
        current = hooks_state(text, [hook], data=data)[hook["id"]]
        item = hooks.items[at[1]]
        return text if current == "in-sync" else _replace_item(text, hooks, item, hook, nl)
    after_item = hooks.items[anchor[1]] if anchor else None
    return _insert_item(text, hooks, hook, nl, template=_first_map(hooks), after=after_item)


def _guard(node: Node | None, what: str) -> Node:
    if node is None:
        raise _fail(None, f"{what} is missing (fix the file)")
    if node.kind == "alias" or node.anchor or (node.kind == "map" and node.has_merge_key()):
        raise _fail(
            node.line,
            f"{what} uses a YAML anchor, alias or merge key; editing it would change other "
            "entries too (write it out, or add the hooks by hand)",
        )
    return node


def _first_map(seq: Node) -> Node | None:
    return next((i for i in seq.items if i.kind == "map" and not i.flow), None)


# --- emitting new entries in the file's own style ---------------------------------------------


def _block_item(data: Any, dash: int, key: int, template: Node | None, text: str, nl: str) -> str:
    """``data`` as one block sequence item with its dash at ``dash`` and its keys at ``key``."""
    body = dump_block(data).rstrip("\n").split("\n")
    if template is not None and isinstance(data, dict) and "hooks" in data:
        hooks = template.get("hooks")
        if hooks is not None and hooks.kind == "seq" and not hooks.flow and hooks.items:
            body = _reindent_hooks(data, hooks, text, template)
    lines = [" " * dash + "-" + " " * max(key - dash - 1, 1) + body[0]]
    lines += [(" " * key + line) if line else line for line in body[1:]]
    return nl.join(lines) + nl


def _reindent_hooks(data: dict, hooks: Node, text: str, entry: Node) -> list[str]:
    """A new ``repo: local`` entry whose hooks list copies a sibling entry's indentation."""
    first = hooks.items[0]
    dash = dash_column(text, first) - entry.column
    key = first.column - entry.column
    out = [
        line
        for line in dump_block({k: v for k, v in data.items() if k != "hooks"})
        .rstrip("\n")
        .split("\n")
    ]
    out.append("hooks:")
    for hook in data["hooks"]:
        rows = dump_block(hook).rstrip("\n").split("\n")
        out.append(" " * dash + "-" + " " * max(key - dash - 1, 1) + rows[0])
        out += [" " * key + r for r in rows[1:]]
    return out


def _insert_item(
    text: str, seq: Node, data: Any, nl: str, template: Node | None, after: Node | None = None
) -> str:
    """``data`` as a new item of ``seq``: after the item ``after``, else last."""
    if seq.flow:
        close = text.rfind("]", 0, seq.end)
        if not seq.items:
            return text[:close] + dump_flow(data) + text[close:]
        at = (after or seq.items[-1]).end
        return text[:at] + ", " + dump_flow(data) + text[at:]
    if not seq.items:
        raise _fail(seq.line, "empty block list (write `[]` or add an entry)")
    last = after or seq.items[-1]
    dash = dash_column(text, seq.items[0])
    key = seq.items[0].column if seq.items[0].kind == "map" and not seq.items[0].flow else dash + 2
    at = after_line(text, last.end)
    prefix = "" if at == 0 or text[at - 1] == "\n" else nl
    if at == len(text) and text and not text.endswith("\n"):
        prefix = nl
    return text[:at] + prefix + _block_item(data, dash, key, template, text, nl) + text[at:]


def _replace_item(
    text: str,
    seq: Node,
    item: Node,
    data: Any,
    nl: str,
    *,
    keep_comments: bool = False,
    line_end_comments: tuple[str, ...] = (),
) -> str:
    """``item`` rewritten as ``data``; ``keep_comments``: whole-line comments inside it stay, above it,
    and so do ``line_end_comments`` (comments that ended its lines), on lines of their own."""
    if seq.flow or item.flow:
        return text[: item.start] + dump_flow(data) + text[item.end :]
    dash = dash_column(text, item)
    start = line_start(text, item.start)
    dash_line = line_start(text, text.rfind("-", 0, item.start))
    start = min(start, dash_line)
    end = after_line(text, item.end)
    new = _block_item(data, dash, item.column, None, text, nl)
    if end == len(text) and not text.endswith("\n"):
        new = new[: -len(nl)]
    if keep_comments:
        inside = text[start:end].splitlines(keepends=True)[1:]
        kept = "".join(
            line if line.endswith("\n") else line + nl
            for line in inside
            if line.lstrip().startswith("#")
        )
        kept += "".join(" " * dash + comment + nl for comment in line_end_comments)
        new = kept + new
    return text[:start] + new + text[end:]
