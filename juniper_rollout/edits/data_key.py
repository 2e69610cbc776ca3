"""Set ``defaults.data_key_rotated`` in the manifest by splicing its text. Pure: no I/O.

``rollout rotate --data-key`` records the moment of the request; the next plan gives every committed
``.enc`` file whose sops ``lastmodified`` is older a new data key (``sops rotate``). Every other byte of
the manifest stays; the result is verified by parsing.
"""

from __future__ import annotations

import copy
from typing import Any

from juniper_rollout.edits.blocks import newline_of
from juniper_rollout.edits.recipients import RecipientsEditError, loaded
from juniper_rollout.edits.splice import line_end, line_start
from juniper_rollout.edits.yamltree import parse_tree
from juniper_rollout.yamlio import YamlSyntaxError, load_plain

KEY = "data_key_rotated"
WHERE = f"defaults.{KEY}"


def edit(text: str, stamp: str, *, path: str = "manifest") -> str:
    try:
        root = parse_tree(text)
    except YamlSyntaxError as err:
        raise RecipientsEditError(
            f"{path}{f':{err.line}' if err.line else ''}: invalid YAML: {err} (fix it first)"
        ) from None
    defaults = root.get("defaults") if root is not None and root.kind == "map" else None
    if defaults is None or defaults.kind != "map" or defaults.flow or not defaults.pairs:
        raise RecipientsEditError(
            f"{path}: no block `defaults:` mapping to record {WHERE} in (add it by hand: "
            f'`{KEY}: "{stamp}"` under defaults)'
        )
    value = defaults.get(KEY)
    if value is not None:
        if value.kind != "scalar":
            raise RecipientsEditError(
                f"{path}:{value.line}: {WHERE} is not a plain string (fix it by hand)"
            )
        new = text[: value.start] + f'"{stamp}"' + text[value.end :]
    else:
        first_key = defaults.pairs[0][0]
        indent = text[line_start(text, first_key.start) : first_key.start]
        at = line_end(text, defaults.pairs[-1][1].end)
        nl = newline_of(text)
        line = f'{indent}{KEY}: "{stamp}"{nl}'
        new = text[:at] + (line if text[at - 1 : at] == "\n" else nl + line) + text[at:]
    expected: Any = copy.deepcopy(loaded(text, path))
    expected["defaults"][KEY] = stamp
    try:
        got = load_plain(new)
    except YamlSyntaxError:
        got = None
    if got != expected:
        raise RecipientsEditError(
            f"{path}: could not set {WHERE} without changing other lines "
            f'(add `{KEY}: "{stamp}"` under defaults by hand)'
        )
    return new
