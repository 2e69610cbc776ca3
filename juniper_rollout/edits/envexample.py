"""A hand-written ``.env.example`` kept byte for byte, with the names it lacks added in a marked block.

A person's file lists names as ``NAME=value``, ``export NAME=value`` or, for optional
settings, commented out (``# NAME=value``): each counts as listed. The tool owns only
the lines between its markers; removing the block restores the file exactly. Names the
file lists but nothing reads any more are reported (``stale``), never deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from juniper_rollout.edits import blocks
from juniper_rollout.fleetspec import EnvGroup, EnvVarSpec

MARKERS = blocks.GITIGNORE  # "# >>> juniper-rollout >>>": a comment in dotenv files too
_ASSIGNMENT = re.compile(r"^[ \t]*(#[ \t]*)?(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=")
HEADER = (
    "# Added by juniper-rollout: names this file did not list, grouped by where they are read.\n"
    "# Every line outside this block is yours and stays as you wrote it."
)
OPTIONAL = "# Commented-out names are optional: the code falls back to the value shown."


@dataclass(frozen=True)
class Merged:
    text: str
    added: tuple[EnvVarSpec, ...]
    stale: tuple[str, ...]


def listed_names(text: str, *, commented: bool = True) -> list[str]:
    """Names the file lists, in order, once each; ``commented``: also ``# NAME=…`` lines."""
    out: dict[str, None] = {}
    for line in text.splitlines():
        match = _ASSIGNMENT.match(line)
        if match and (commented or not match.group(1)):
            out.setdefault(match.group(2))
    return list(out)


def merge(
    text: str, groups: tuple[EnvGroup, ...], *, path: str, read: set[str] | None = None
) -> Merged:
    """``text`` with every name of ``groups`` it lacks in the tool's block (the block goes when none lacks).

    The block is laid out as a person would write it: one comment per group (where the names
    are read), a description as a comment, optional names commented out with their default.
    ``read``: the names something still reads or holds (None: unknown, so nothing is called stale).
    """
    own = blocks.remove(text, MARKERS, path=path)  # the person's lines only
    listed = set(listed_names(own))
    seen: set[str] = set()
    kept: list[EnvGroup] = []
    for group in groups:
        lacking = tuple(v for v in group.vars if v.name not in listed and v.name not in seen)
        seen.update(v.name for v in lacking)
        if lacking:
            kept.append(EnvGroup(group.title, lacking))
    added = tuple(v for g in kept for v in g.vars)
    body = None
    if added:
        lines = [HEADER] + ([OPTIONAL] if any(v.optional for v in added) else [])
        for group in kept:
            lines.append(f"# {group.title}" if group.title else "#")
            for var in group.vars:
                if var.description and not set(var.description) & {"\n", "\r"}:
                    lines.append(f"#   {var.description}")
                default = (
                    var.default
                    if var.default is not None and not set(var.default) & {"\n", "\r"}
                    else ""
                )
                lines.append(f"{'# ' if var.optional else ''}{var.name}={default}")
        body = "\n".join(lines)
    stale = () if read is None else tuple(n for n in listed_names(own) if n not in read)
    return Merged(blocks.put(text, body, MARKERS, path=path), added, stale)
