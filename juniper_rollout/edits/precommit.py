"""Add the tool's hooks to a ``.pre-commit-config.yaml`` without re-emitting the file.

The new lines are spliced into the text in the file's own indentation and line
endings (pre-commit's ``autoupdate`` edits ``rev:`` the same way); every other
byte is kept. The result is then verified: loaded by pre-commit's own YAML
loader it must equal the original data plus the hooks, and pass pre-commit's
own config schema.
"""
from __future__ import annotations

import copy
import io
import logging
from typing import Any

import cfgv
from pre_commit.clientlib import CONFIG_SCHEMA
from pre_commit.yaml import yaml_load
from ruamel.yaml import YAML

from juniper_rollout.edits.blocks import newline_of
from juniper_rollout.edits.yamltree import Node, parse_tree
from juniper_rollout.errors import RolloutError
from juniper_rollout.yamlio import YamlSyntaxError, dump_block

PATH = ".pre-commit-config.yaml"


class PrecommitEditError(RolloutError):
    pass


def _fail(line: int | None, message: str) -> PrecommitEditError:
    where = f"{PATH}:{line}" if line else PATH
    return PrecommitEditError(f"{where}: {message}")


def load_data(text: str) -> Any:
    """The config as pre-commit itself loads it."""
    try:
        return yaml_load(text)
    except Exception as err:  # PyYAML's errors carry a mark
        mark = getattr(err, "problem_mark", None)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise _fail(mark.line + 1 if mark else None, f"invalid YAML: {problem} (fix it, then plan again)") from None


def new_config(header: str, hooks: list[dict[str, Any]]) -> str:
    """A whole new config for a repo that had none: ``header`` (comments), then the local hooks."""
    text = header + dump_block({"repos": [{"repo": "local", "hooks": hooks}]})
    validate(load_data(text))
    return text


def validate(data: Any) -> None:
    """pre-commit's own schema check, as `pre-commit validate-config` runs it."""
    quiet = logging.getLogger("pre_commit")
    level, quiet.level = quiet.level, logging.ERROR  # its warnings (e.g. mutable revs) are not ours to print
    try:
        cfgv.validate(data, CONFIG_SCHEMA)
    except cfgv.ValidationError as err:
        message = " ".join(str(err).split())
        raise _fail(None, f"pre-commit rejects the config: {message}") from None
    finally:
        quiet.level = level


def add_hooks(text: str, hooks: list[dict[str, Any]]) -> str:
    """``text`` with each hook present (added or brought up to date) in a ``repo: local`` entry."""
    original = load_data(text)
    if not isinstance(original, dict):
        raise _fail(1, "is not a mapping of `repos:` (fix the file or set precommit_hook: skip)")
    if "repos" not in original:
        raise _fail(1, "has no `repos:` list (add `repos: []` or set precommit_hook: skip)")
    new, got = text, original
    for hook in hooks:
        spliced = _put_hook(new, got, hook)
        if spliced != new:
            new, got = spliced, load_data(spliced)
    expected = _expected(original, hooks)
    if got != expected:
        raise _fail(None, "could not add the hooks without changing other entries (add them by hand, then plan again)")
    validate(got)
    return new


def hooks_state(text: str, hooks: list[dict[str, Any]], *, data: Any = None) -> dict[str, str]:
    """For each hook id: "in-sync", "modified" (same id, other content) or "missing".
    ``data``: the text as load_data reads it, when the caller has it already."""
    data = load_data(text) if data is None else data
    local = [h for r in (data or {}).get("repos", []) or [] if isinstance(r, dict) and r.get("repo") == "local"
             for h in r.get("hooks", []) or [] if isinstance(h, dict)]
    by_id = {h.get("id"): h for h in local}
    return {
        h["id"]: "missing" if h["id"] not in by_id else ("in-sync" if by_id[h["id"]] == h else "modified")
        for h in hooks
    }


def _expected(original: Any, hooks: list[dict[str, Any]]) -> Any:
    data = copy.deepcopy(original)
    repos = data["repos"]
    local = next((r for r in repos if isinstance(r, dict) and r.get("repo") == "local"), None)
    if local is None:
        local = {"repo": "local", "hooks": []}
        repos.append(local)
    for hook in hooks:
        ids = [h.get("id") if isinstance(h, dict) else None for h in local["hooks"]]
        if hook["id"] in ids:
            local["hooks"][ids.index(hook["id"])] = hook
        else:
            local["hooks"].append(hook)
    return data


def _put_hook(text: str, data: Any, hook: dict[str, Any]) -> str:
    """``text`` (which load_data reads as ``data``) with ``hook`` added or brought up to date."""
    try:
        root = parse_tree(text)
    except YamlSyntaxError as err:
        raise _fail(err.line, f"invalid YAML: {err}") from None
    assert root is not None and root.kind == "map"  # load_data checked it
    repos = _guard(root.get("repos"), "repos")
    if repos.kind != "seq":
        raise _fail(repos.line, "`repos:` is not a list (fix the file or set precommit_hook: skip)")
    entries = data["repos"]  # resolved data: a local entry may hide behind an alias
    index = next((i for i, r in enumerate(entries) if isinstance(r, dict) and r.get("repo") == "local"), None)
    local = repos.items[index] if index is not None else None
    nl = newline_of(text)
    if local is None:
        return _insert_item(text, repos, {"repo": "local", "hooks": [hook]}, nl, template=_first_map(repos))
    _guard(local, "the `repo: local` entry")
    hooks = _guard(local.get("hooks"), "hooks of `repo: local`")
    if hooks.kind != "seq":
        raise _fail(hooks.line, "`hooks:` of `repo: local` is not a list (fix the file)")
    current = hooks_state(text, [hook], data=data)[hook["id"]]
    for item in hooks.items:
        if item.kind == "map" and _scalar(item.get("id")) == hook["id"]:
            return text if current == "in-sync" else _replace_item(text, hooks, item, hook, nl)
    return _insert_item(text, hooks, hook, nl, template=_first_map(hooks))


def _guard(node: Node | None, what: str) -> Node:
    if node is None:
        raise _fail(None, f"{what} is missing (fix the file)")
    if node.kind == "alias" or node.anchor or (node.kind == "map" and node.has_merge_key()):
        raise _fail(node.line, f"{what} uses a YAML anchor, alias or merge key; editing it would change other "
                               "entries too (write it out, or add the hooks by hand)")
    return node


def _scalar(node: Node | None) -> Any:
    return node.value if node is not None and node.kind == "scalar" else None


def _first_map(seq: Node) -> Node | None:
    return next((i for i in seq.items if i.kind == "map" and not i.flow), None)


# --- emitting new entries in the file's own style ---------------------------------------------


def _flow(data: Any) -> str:
    yaml = YAML(typ="rt")
    yaml.default_flow_style = True
    yaml.width = 1 << 20
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue().strip()


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _dash_column(text: str, item: Node) -> int:
    """Column of the ``-`` that introduces a block sequence item."""
    j = item.start - 1
    while j >= 0 and text[j] in " \t\r\n":
        j -= 1
    if j >= 0 and text[j] == "-":
        return j - _line_start(text, j)
    return max(item.column - 2, 0)


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
    dash = _dash_column(text, first) - entry.column
    key = first.column - entry.column
    out = [line for line in dump_block({k: v for k, v in data.items() if k != "hooks"}).rstrip("\n").split("\n")]
    out.append("hooks:")
    for hook in data["hooks"]:
        rows = dump_block(hook).rstrip("\n").split("\n")
        out.append(" " * dash + "-" + " " * max(key - dash - 1, 1) + rows[0])
        out += [" " * key + r for r in rows[1:]]
    return out


def _insert_item(text: str, seq: Node, data: Any, nl: str, template: Node | None) -> str:
    if seq.flow:
        close = text.rfind("]", 0, seq.end)
        if not seq.items:
            return text[:close] + _flow(data) + text[close:]
        at = seq.items[-1].end
        return text[:at] + ", " + _flow(data) + text[at:]
    if not seq.items:
        raise _fail(seq.line, "empty block list (write `[]` or add an entry)")
    last = seq.items[-1]
    dash = _dash_column(text, seq.items[0])
    key = seq.items[0].column if seq.items[0].kind == "map" and not seq.items[0].flow else dash + 2
    at = _after_line(text, last.end)
    prefix = "" if at == 0 or text[at - 1] == "\n" else nl
    if at == len(text) and text and not text.endswith("\n"):
        prefix = nl
    return text[:at] + prefix + _block_item(data, dash, key, template, text, nl) + text[at:]


def _replace_item(text: str, seq: Node, item: Node, data: Any, nl: str) -> str:
    if seq.flow or item.flow:
        return text[: item.start] + _flow(data) + text[item.end :]
    dash = _dash_column(text, item)
    start = _line_start(text, item.start)
    dash_line = _line_start(text, text.rfind("-", 0, item.start))
    start = min(start, dash_line)
    end = _after_line(text, item.end)
    new = _block_item(data, dash, item.column, None, text, nl)
    if end == len(text) and not text.endswith("\n"):
        new = new[: -len(nl)]
    return text[:start] + new + text[end:]


def _after_line(text: str, index: int) -> int:
    """Offset of the start of the line after the one holding ``index - 1``."""
    if index > 0 and text[index - 1] == "\n":
        return index
    newline = text.find("\n", index)
    return len(text) if newline < 0 else newline + 1
