"""``rollout drift``: where each repo differs from the manifest, and its secret hazards. Read-only.

Reads git objects only (the ref's tree, history names, sops metadata): no checkout,
no index, no decryption. A repo that cannot be read is reported and the others go on.
Exit 0 all in sync, 2 drift or findings, 1 a repo could not be read.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table

from juniper_rollout import audit, planner, report, sarif
from juniper_rollout.audit import EXTRA, IN_SYNC, MISSING, MODIFIED, RepoAudit
from juniper_rollout.changes import unified_diff
from juniper_rollout.errors import RolloutError
from juniper_rollout.fleet import audit_fleet
from juniper_rollout.manifest import Manifest, load_manifest
from juniper_rollout.urls import refuse_credential
from juniper_rollout.wording import count

FORMATS = ("table", "json", "sarif")
MARKS = {
    IN_SYNC: ("✓", "green"),
    MISSING: ("✗", "red"),
    MODIFIED: ("~", "yellow"),
    EXTRA: ("+", "magenta"),
}
NOT_MANAGED, UNREADABLE = "·", "!"
STATUS_STYLE = {"in-sync": "green", "drift": "yellow", "error": "red"}


def drift(
    *,
    manifest: Path,
    workspace: Path | None,
    repos: list[str] | None,
    ref: str | None,
    fmt: str,
    show_diff: bool,
    rollout: str | None = None,
) -> int:
    if fmt not in FORMATS:
        raise RolloutError(f"unknown --format {fmt!r} (use one of: {', '.join(FORMATS)})")
    refuse_credential("--ref", ref)
    loaded = load_manifest(manifest, workspace=workspace, rollout=rollout)
    selected = loaded.select(repos)
    audits = [_said(loaded, a) for a in audit_fleet(loaded, selected, ref)]
    if fmt == "json":
        print(json.dumps(audit.to_json(audits), indent=2))
    elif fmt == "sarif":
        print(json.dumps(sarif.to_sarif(audits, {r.name: r.path for r in selected}), indent=2))
    else:
        print_table(report.console(), audits)
    if show_diff:
        print_diffs(report.console(stderr=fmt != "table"), audits)
    return audit.exit_code(audits)


def _said(loaded: Manifest, found: RepoAudit) -> RepoAudit:
    """``found`` with each `rollout …` its lines name as ``loaded.command`` says it (pass 24d: after
    `drift -m M`, "`rollout apply` replaces it in place" pasted read the default manifest)."""
    return dataclasses.replace(
        found,
        findings=tuple(
            dataclasses.replace(f, message=loaded.commands_said(f.message, found.name))
            for f in found.findings
        ),
        error=loaded.commands_said(found.error, found.name) if found.error else found.error,
    )


def print_table(out: Console, audits: list[RepoAudit]) -> None:
    """One row per repo, one narrow column per artifact (numbered; the legend names them), if that fits
    the console's width; else one line per repo and artifact. Repo names and paths are never cut."""
    columns = _columns(audits)
    table = _grid(audits, columns)
    if Measurement.get(out, out.options.update(max_width=10_000), table).maximum <= out.width:
        out.print(table)
        out.print(
            "\n".join(
                report.wrapped(
                    [f"{n} {report.cell(path)}" for n, path in _numbered(columns)],
                    out.width,
                    sep="   ",
                )
            ),
            style="dim",
        )
    else:
        _print_list(out, audits, columns)
    legend = [f"{mark} {state}" for state, (mark, _) in MARKS.items()]
    out.print(
        "\n".join(
            report.wrapped(
                legend + [f"{NOT_MANAGED} not managed", f"{UNREADABLE} cannot read"], out.width
            )
        ),
        style="dim",
    )
    problems = [(a.name, f"[red]error[/red]  {report.cell(a.error)}") for a in audits if a.error]
    problems += [
        (a.name, f"[bold]{f.id}[/bold]  {report.cell(f.message)}")  # messages start with the path
        for a in audits
        for f in a.findings
    ]
    if problems:
        out.print()
        out.print("[bold]Findings[/bold]")
        for name, text in problems:
            out.print(f"  {report.cell(name)}  {text}")
    out.print()
    out.print(summary(audits))


def _numbered(columns: list[str]) -> list[tuple[str, str]]:
    return [(str(i), path) for i, path in enumerate(columns, 1)]


def _grid(audits: list[RepoAudit], columns: list[str]) -> Table:
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold")
    table.add_column("repo", no_wrap=True)
    for number, _ in _numbered(columns):
        table.add_column(number, justify="center", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for item in audits:
        states = {a.path: a.state for a in item.artifacts}
        cells = [_cell(states.get(path), item.error is not None) for path in columns]
        style = STATUS_STYLE[item.status]
        table.add_row(escape(item.name), *cells, f"[{style}]{item.status}[/{style}]")
    return table


def _print_list(out: Console, audits: list[RepoAudit], columns: list[str]) -> None:
    """The narrow form: each repo and its status, then a line per artifact it has or should have."""
    for item in audits:
        style = STATUS_STYLE[item.status]
        out.print(f"[bold]{escape(item.name)}[/bold]  [{style}]{item.status}[/{style}]")
        states = {a.path: a.state for a in item.artifacts}
        for path in columns:
            if path in states or item.error is not None:
                out.print(
                    f"  {_cell(states.get(path), item.error is not None)} {report.cell(path)}"
                )


def _columns(audits: list[RepoAudit]) -> list[str]:
    """Every artifact path once: whole files, then the partly managed files, then encrypted files."""
    seen: list[str] = []
    for item in audits:
        seen += [a.path for a in item.artifacts if a.path not in seen]
    partial = (planner.GITIGNORE, planner.PRECOMMIT, planner.AGENTS)

    def rank(path: str) -> tuple[int, int]:
        kind = partial.index(path) + 1 if path in partial else 4 if path.endswith(".enc") else 0
        return kind, seen.index(path)

    return sorted(seen, key=rank)


def _cell(state: str | None, error: bool) -> str:
    if error:
        return f"[red]{UNREADABLE}[/red]"
    if state is None:
        return f"[dim]{NOT_MANAGED}[/dim]"
    mark, style = MARKS[state]
    return f"[{style}]{mark}[/{style}]"


def print_diffs(out: Console, audits: list[RepoAudit]) -> None:
    for item in audits:
        for artifact in item.artifacts:
            diff = (
                unified_diff(artifact.change)
                if artifact.state == MODIFIED and artifact.change
                else ""
            )
            if diff:
                out.print(
                    f"[bold]{escape(item.name)}[/bold]: {escape(artifact.path)} (what apply would change)"
                )
                report.print_diff(out, diff)


def summary(audits: list[RepoAudit]) -> str:
    counts = {
        status: sum(1 for a in audits if a.status == status)
        for status in ("in-sync", "drift", "error")
    }
    found = sum(len(a.findings) for a in audits)
    return (
        f"{count(len(audits), 'repo')}: {counts['in-sync']} in sync, {counts['drift']} drifted, "
        f"{counts['error']} with errors; {count(found, 'finding')}"
    )
