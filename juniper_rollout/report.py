"""Terminal output: plans as coloured diffs and summary lines, outcome summaries, progress.

Colour only on a terminal, never with NO_COLOR (rich honours both). Machine output
(--json) goes to stdout alone; everything human goes to stderr in that mode.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.control import strip_control_codes
from rich.markup import escape
from rich.text import Text

from juniper_rollout.changes import (
    FILE_KEPT,
    FILE_REPLACED,
    HOOK_REPLACED,
    NAME_ADDED,
    NAME_STALE,
    RepoPlan,
    unified_diff,
)
from juniper_rollout.wording import count, inert, one_line

ACTION_STYLE = {
    "create": "green",
    "update": "yellow",
    "delete": "red",
    "unchanged": "dim",
    "skip": "dim",
}


class _InertConsole(Console):
    """A console that never sends a terminal control character it was given as text (pass 6)."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(inert(text), **kwargs)


def cell(text: str) -> str:
    """``text`` (a path, a finding, a reason: one printed line each) as rich markup that stays on its
    line: a line break in a path git stores (`a\\nb/.env.prod`) as ``\\x0a``, a byte no UTF-8
    decodes as ``\\xff``, as the commit message names them (pass 24f: one finding spanned two
    lines); any other text as it was."""
    return escape(one_line(text))


def console(stderr: bool = False) -> Console:
    return _InertConsole(
        stderr=stderr,
        highlight=False,
        soft_wrap=True,
        no_color=bool(os.environ.get("NO_COLOR")) or None,
    )


def print_plan(
    out: Console,
    plans: list[RepoPlan],
    *,
    diffs: bool = True,
    said: Callable[[str, str], str] = lambda text, _repo: text,
) -> None:
    """Each repo's plan; ``said(text, repo)`` puts the running command's options into each `rollout …`
    a line names (pass 25a: `plan -m M` said "a removed key … still decrypts it: `rollout rotate
    --data-key`", and pasted it wrote the request into the default manifest, another fleet's)."""
    for plan in plans:
        how = {
            "on top": "; compared with the branch: a change is a new commit on top",
            "rebuild": "; base moved: the branch is rebuilt on it (pushed with lease)",
        }.get(plan.onto or "", "")
        out.print(
            f"[bold]{escape(plan.name)}[/bold]  ({escape(plan.base_ref or plan.base)} → {escape(plan.branch)}"
            f"{how})"
        )
        if plan.error:
            out.print(f"  [red]error[/red]  {cell(said(plan.error, plan.name))}")
            continue
        width = max((len(one_line(f.path)) for f in plan.files), default=0)
        for f in plan.files:
            why = said(f.detail or f.reason or "", plan.name)
            style = ACTION_STYLE.get(f.action, "")
            out.print(
                f"  {cell(one_line(f.path).ljust(width))}  [{style}]{f.action:<9}[/{style}]"
                + (f"  ({cell(why)})" if why else "")
            )
            for item in f.adoptions:
                if item.kind != NAME_ADDED:  # added names are in the diff and the reason
                    out.print(f"    {cell(item.line())}")
        shown = {f.detail for f in plan.files}
        for note in plan.notes:
            if note not in shown:
                out.print(f"  [yellow]note[/yellow]   {cell(said(note, plan.name))}")
        if diffs:
            for f in plan.files:
                print_diff(out, unified_diff(f))
        out.print()


def print_diff(out: Console, diff: str) -> None:
    """One diff, indented and coloured, printed as one rich Text (a print per line costs 10x)."""
    lines = diff.splitlines()
    if not lines:
        return
    if _plain(out):
        out.file.write("".join(_plain_line("    " + inert(line), out.tab_size) for line in lines))
        return
    text = Text()
    for line in lines:
        style = (
            "bold"
            if line.startswith(("+++", "---"))
            else "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else "cyan"
            if line.startswith("@@")
            else ""
        )
        text.append("    ")
        text.append(inert(line), style=style)
        text.append("\n")
    text.right_crop(
        1
    )  # the last newline: print adds it back (rstrip would eat a trailing blank line)
    out.print(text)


def _plain(out: Console) -> bool:
    """Nothing to colour (no terminal, or NO_COLOR) and nothing rich would hold back: the diff goes
    out as plain lines, byte for byte what rich writes, without its rendering of each line (which
    took most of a human `plan`'s time)."""
    return (
        out.color_system is None
        and not (out.quiet or out.record or out.is_jupyter)
        and getattr(out, "_buffer_index", 1) == 0  # not inside `with console:` (it would buffer)
    )


def _plain_line(line: str, tab_size: int) -> str:
    """One line as rich prints it with no colours: control codes it strips stripped, tabs expanded
    to the next stop counted in terminal cells (a wide character is two)."""
    line = strip_control_codes(line)
    if "\t" in line:
        parts, column, done = line.split("\t"), 0, []
        for part in parts[:-1]:
            part += " "
            column += cell_len(part)
            pad = -column % tab_size
            done.append(part + " " * pad)
            column += pad
        line = "".join(done) + parts[-1]
    return line + "\n"


def wrapped(items: list[str], width: int, sep: str = "  ") -> list[str]:
    """``items`` joined by ``sep`` into lines of at most ``width`` characters; an item is never split."""
    lines: list[str] = []
    for item in items:
        if lines and len(lines[-1]) + len(sep) + len(item) <= width:
            lines[-1] += sep + item
        else:
            lines.append(item)
    return lines


def plan_summary(plans: list[RepoPlan]) -> str:
    changes = sum(1 for p in plans if p.status == "changes")
    errors = sum(1 for p in plans if p.status == "error")
    same = len(plans) - changes - errors
    return f"{count(len(plans), 'repo')}: {changes} with changes, {same} unchanged, {errors} with errors"


def adoption_summary(plans: list[RepoPlan]) -> list[str]:
    """What adopting a hand-rolled-out fleet converges, before → after, in a few lines ([] if nothing)."""
    found = [(p.name, f.path, a) for p in plans for f in p.files for a in f.adoptions]
    if not found:
        return []

    def of(kind: str) -> list[tuple[str, str, Any]]:
        return [item for item in found if item[2].kind == kind]

    def repos(items: list) -> str:
        names = list(dict.fromkeys(name for name, _, _ in items))
        return f"{len(names)} repo{'s' if len(names) != 1 else ''}"

    def listed(items: list, limit: int = 6) -> str:
        shown = [f"{name}: {a.subject}" for name, _, a in items[:limit]]
        return ", ".join(shown) + (f", … ({len(items) - limit} more)" if len(items) > limit else "")

    lines = ["Adopting what was rolled out by hand (before → after apply):"]
    hooks = of(HOOK_REPLACED)
    if hooks:
        ids = sorted({a.subject for _, _, a in hooks})
        spellings = len({a.spelling for _, _, a in hooks})
        lines.append(
            f"  hooks replaced: {len(hooks)} hand-written .env blocker{'s' if len(hooks) != 1 else ''} "
            f"({', '.join(ids)}) in {repos(hooks)} → the managed hooks, each in the hand-written one's place"
        )
        lines.append(
            f"  spellings unified: {spellings} hand-written spelling{'s' if spellings != 1 else ''} → 1"
        )
    kept = of(FILE_KEPT)
    if kept:
        paths = sorted({path for _, path, _ in kept})
        lines.append(
            f"  files kept: {len(kept)} hand-written {', '.join(paths)} in {repos(kept)}, every line as written"
        )
    added = of(NAME_ADDED)
    lines.append(f"  names added: {len(added)}" + (f" ({listed(added)})" if added else ""))
    stale = of(NAME_STALE)
    if stale:
        lines.append(
            f"  names the code no longer reads: {len(stale)}, kept and reported ({listed(stale)})"
        )
    replaced = of(FILE_REPLACED)
    if replaced:
        lines.append(
            f"  files replaced: {listed(replaced)} (see each repo's reason: what changes, what is dropped)"
        )
    lost = "the hand-written hooks and files listed as replaced" if hooks or replaced else "nothing"
    lines.append(
        f"  nothing else of yours outside the tool's marked blocks is removed; replaced: {lost}"
    )
    return lines


PROGRESS_DELAY = 1.0  # seconds: a run that ends sooner never shows the bar


@contextmanager
def progress_bar(total: int, *, enabled: bool) -> Iterator[Callable[[str], None]]:
    """Repos done / total and the latest repo, on stderr, once a run has lasted PROGRESS_DELAY.

    Only when stdout and stderr are both terminals (never in piped, redirected or --json
    output: the caller passes ``enabled=False`` for that); a no-op otherwise. The callback
    may be called from worker threads.
    """
    if not enabled or total < 2 or not (sys.stdout.isatty() and sys.stderr.isatty()):
        yield lambda name: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console(stderr=True),
        transient=True,
    )
    task = bar.add_task("planning", total=total)
    started = time.monotonic()
    lock = threading.Lock()
    shown = False

    def tick(name: str) -> None:
        nonlocal shown
        with lock:
            bar.update(task, advance=1, description=name)
            if not shown and time.monotonic() - started >= PROGRESS_DELAY:
                bar.start()
                shown = True

    try:
        yield tick
    finally:
        with lock:
            if shown:
                bar.stop()
