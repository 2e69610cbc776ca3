"""A marked block inside a text file humans own (``.gitignore``, ``AGENTS.md``).

The tool owns the lines from BEGIN to END; every other byte stays identical.
Broken markers are refused, never guessed at. Appending a block to a file and
removing it again restores the file byte for byte (including a missing final
newline, which the appended block then also lacks).
"""

from __future__ import annotations

from dataclasses import dataclass

from juniper_rollout.errors import RolloutError


class BrokenMarkers(RolloutError):
    pass


@dataclass(frozen=True)
class Markers:
    begin: str
    end: str


GITIGNORE = Markers("# >>> juniper-rollout >>>", "# <<< juniper-rollout <<<")
MARKDOWN = Markers("<!-- >>> juniper-rollout >>> -->", "<!-- <<< juniper-rollout <<< -->")


def newline_of(text: str) -> str:
    """The file's own line ending: CRLF when most lines use it."""
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


@dataclass(frozen=True)
class Split:
    """A file cut around its block: ``before + block + after == text``."""

    before: str
    block: str | None
    after: str


def _in_code_fences(lines: list[str]) -> set[int]:
    """Indexes of the lines of a Markdown text inside fenced code blocks (```/~~~, fences included):
    markers quoted there are a person's example, never the tool's block (pass 6)."""
    inside: set[int] = set()
    fence, opened = "", 0
    for i, line in enumerate(lines):
        stripped = line.lstrip(" ")
        if len(line) - len(stripped) <= 3 and stripped[:3] in ("```", "~~~"):
            run = len(stripped) - len(stripped.lstrip(stripped[0]))
            mark = stripped[0] * run
            if not fence:
                fence, opened = mark, i
                inside.add(i)
                continue
            if stripped.rstrip() == stripped[0] * len(stripped.rstrip()) and mark.startswith(fence):
                fence = ""
                inside.add(i)
                continue
        if fence:
            inside.add(i)
    if fence:  # a fence left open to the end: not an example (the block appended there stays found)
        inside -= set(range(opened, len(lines)))
    return inside


def split(text: str, markers: Markers, *, path: str) -> Split:
    lines = text.splitlines(keepends=True)
    quoted = _in_code_fences(lines) if markers == MARKDOWN else set()
    begins = [
        i for i, line in enumerate(lines) if line.strip() == markers.begin and i not in quoted
    ]
    ends = [i for i, line in enumerate(lines) if line.strip() == markers.end and i not in quoted]
    if not begins and not ends:
        return Split(text, None, "")
    fix = (
        f"(fix the {markers.begin!r} / {markers.end!r} lines by hand, "
        "or delete both to let the tool re-add its block)"
    )
    if len(begins) > 1 or len(ends) > 1:
        raise BrokenMarkers(
            f"{path}:{(begins + ends)[1] + 1}: more than one juniper-rollout block {fix}"
        )
    if not ends:
        raise BrokenMarkers(
            f"{path}:{begins[0] + 1}: juniper-rollout block has no end marker {fix}"
        )
    if not begins:
        raise BrokenMarkers(
            f"{path}:{ends[0] + 1}: juniper-rollout end marker without a begin marker {fix}"
        )
    b, e = begins[0], ends[0]
    if e < b:
        raise BrokenMarkers(
            f"{path}:{e + 1}: juniper-rollout end marker comes before its begin marker {fix}"
        )
    return Split("".join(lines[:b]), "".join(lines[b : e + 1]), "".join(lines[e + 1 :]))


def remove(text: str, markers: Markers, *, path: str) -> str:
    """The file without its block, exactly as it was before the block was added."""
    part = split(text, markers, path=path)
    if part.block is None:
        return text
    before = part.before
    if not part.after and not part.block.endswith("\n") and before.endswith("\n"):
        # an appended block to a file with no final newline: drop the newline we added
        before = before[:-2] if before.endswith("\r\n") else before[:-1]
    return before + part.after


def body_lines(block: str | None, markers: Markers) -> list[str]:
    if block is None:
        return []
    inner = block.splitlines()[1:-1]
    return [line for line in inner if line.strip() != markers.begin]


def wrap(body: str, markers: Markers, newline: str) -> str:
    """BEGIN, the body's lines, END, each ending in ``newline``."""
    lines = [markers.begin, *body.splitlines(), markers.end]
    return newline.join(lines) + newline


def put(text: str, body: str | None, markers: Markers, *, path: str) -> str:
    """Set the block's body (None removes the block). The block keeps its place, or is appended."""
    part = split(text, markers, path=path)
    if body is None:
        return remove(text, markers, path=path)
    nl = newline_of(text) if text else "\n"
    block = wrap(body, markers, nl)
    if part.block is not None:
        if not part.after and not part.block.endswith("\n"):
            block = block[: -len(nl)]
        return part.before + block + part.after
    if not text:
        return block
    if text.endswith("\n"):
        return text + block
    return text + nl + block[: -len(nl)]
