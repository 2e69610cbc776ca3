"""``rollout verify``: the plan's verification list per repo, on a ref. Read-only and offline."""

from __future__ import annotations

import json
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from juniper_rollout import report
from juniper_rollout.manifest import SOPS_ROLLOUT, load_manifest
from juniper_rollout.rolloutcheck import verify_artifacts
from juniper_rollout.urls import refuse_credential
from juniper_rollout.verify import CHECKS, RepoReport, verify_fleet
from juniper_rollout.wording import count

# short enough that seven checks and a long repo name fit 80 columns, whole
HEADERS = {
    "plaintext-env": "plain",
    "sops-config": "config",
    "sops-rules": "rules",
    "encrypted-files": "enc",
    "gitignore": "ignore",
    "precommit-hook": "hook",
    "age-key": "key",
}
LEGEND = (
    "plain: no plaintext env file tracked   config: .sops.yaml   enc: the *.enc files\n"
    "rules: sops's rules match .env and .env.enc   ignore: git ignores .env\n"
    "hook: the managed pre-commit hooks   key: your age key"
)


def verify(
    *,
    manifest: Path,
    workspace: Path | None = None,
    repos: list[str] | None = None,
    ref: str | None = None,
    as_json: bool = False,
    rollout: str | None = None,
) -> int:
    refuse_credential("--ref", ref)
    loaded = load_manifest(manifest, workspace=workspace, rollout=rollout)
    if loaded.rollout != SOPS_ROLLOUT:
        reports = verify_artifacts(loaded, loaded.select(repos), ref=ref)
    else:
        reports = verify_fleet(loaded, loaded.select(repos), ref=ref)
    if as_json:
        data = {
            "repos": [{"name": r.name, "checks": [c.as_json() for c in r.checks]} for r in reports]
        }
        print(json.dumps(data, indent=2))
    else:
        print_reports(reports, ref or "each repo's base branch")
    return 0 if all(r.ok for r in reports) else 1


def print_reports(reports: list[RepoReport], where: str) -> None:
    out = report.console()
    if any(c.name not in CHECKS for r in reports for c in r.checks if c.name != "repo"):
        return _print_artifact_reports(out, reports, where)
    out.print(f"rollout verify on {escape(where)}")
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold")
    table.add_column("repo", no_wrap=True)
    for name in CHECKS:
        table.add_column(HEADERS[name], justify="center", no_wrap=True)
    for r in reports:
        by_name = {c.name: c for c in r.checks}
        cells = []
        for name in CHECKS:
            check = by_name.get(name)
            if check is None:
                cells.append("[red]✗[/red]" if not r.ok else "")
            elif not check.ok:
                cells.append("[red]✗[/red]")
            else:
                cells.append("[green]✓[/green]" if check.applies else "[dim]n/a[/dim]")
        table.add_row(escape(r.name), *cells)
    out.print(table)
    out.print(LEGEND, style="dim")
    failures = [(r, c) for r in reports for c in r.checks if not c.ok]
    for r, c in failures:
        out.print(f"[red]✗[/red] {escape(r.name)} {report.cell(c.name)}: {report.cell(c.detail)}")
        if c.fix:
            out.print(f"    fix: {report.cell(c.fix)}")
    bad = sum(not r.ok for r in reports)
    if bad:
        out.print(
            f"{count(len(reports), 'repo')}: {bad} failed ({count(len(failures), 'check')}), "
            f"{len(reports) - bad} passed"
        )
    else:
        out.print(f"{count(len(reports), 'repo')}: all {len(CHECKS)} checks passed")


def _print_artifact_reports(out, reports: list[RepoReport], where: str) -> None:
    """One line per repo and artifact (another rollout's artifacts are paths, not the fixed SOPS checks)."""
    out.print(f"rollout verify on {escape(where)}")
    for r in reports:
        for c in r.checks:
            mark = "[green]✓[/green]" if c.ok else "[red]✗[/red]"
            out.print(
                f"{mark} {escape(r.name)} {report.cell(c.name)}"
                + ("" if c.ok else f": {report.cell(c.detail)}")
            )
            if not c.ok and c.fix:
                out.print(f"    fix: {report.cell(c.fix)}")
    bad = sum(not r.ok for r in reports)
    checks = sum(len(r.checks) for r in reports)
    out.print(
        f"{count(len(reports), 'repo')}: {bad} failed, {len(reports) - bad} passed "
        f"({count(checks, 'artifact check')})"
    )
