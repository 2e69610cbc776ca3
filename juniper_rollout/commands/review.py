"""``rollout sync``, ``pr``, ``status``, ``cleanup``: the review loop after ``apply --push``.

Every repo gets a named outcome line; the exit code is 1 if any failed.
"""

from __future__ import annotations

import json
from pathlib import Path

from rich.markup import escape

from juniper_rollout import report, review
from juniper_rollout.manifest import Manifest, load_manifest

STYLE = {
    review.OPENED: "green",
    review.UPDATED: "green",
    review.UNCHANGED: "dim",
    review.MERGED: "green",
    review.CLOSED: "yellow",
    review.NOT_PUSHED: "yellow",
    review.FAILED: "red",
    review.CLONED: "green",
    review.FETCHED: "green",
    review.UP_TO_DATE: "dim",
    review.DELETED: "green",
    review.KEPT: "yellow",
    review.NOTHING: "dim",
}


def _printer(out):
    def show(outcome: review.Outcome) -> None:
        style = STYLE.get(outcome.result, "")
        head, _, rest = outcome.line().partition(": ")
        out.print(
            f"{escape(head)}: [{style}]{escape(rest)}[/{style}]"
            if style
            else escape(outcome.line())
        )

    return show


def _finish(out, outcomes: list[review.Outcome]) -> int:
    out.print(review.summary(outcomes))
    return 1 if any(o.failed for o in outcomes) else 0


def sync(
    *,
    manifest: Path,
    workspace: Path | None = None,
    repos: list[str] | None = None,
    jobs: int | None = None,
) -> int:
    loaded = load_manifest(manifest, workspace=workspace, require_recipients=False, templates=False)
    out = report.console()
    return _finish(out, review.sync(loaded, loaded.select(repos), jobs, _printer(out)))


def pr(
    *,
    manifest: Path,
    workspace: Path | None = None,
    repos: list[str] | None = None,
    draft: bool = False,
    reopen: bool = False,
    jobs: int | None = None,
    rollout: str | None = None,
    loaded: Manifest | None = None,
) -> int:
    """``loaded``: the manifest ``apply --pr`` already read (same file, workspace and rollout)."""
    if loaded is None:
        loaded = load_manifest(
            manifest,
            workspace=workspace,
            require_recipients=False,
            templates=False,
            rollout=rollout,
        )
    forge = review.check_forge(loaded)
    out = report.console()
    outcomes = review.open_pulls(
        loaded,
        loaded.select(repos),
        review.PrOptions(draft, reopen),
        forge=forge,
        jobs=jobs,
        on_result=_printer(out),
    )
    return _finish(out, outcomes)


def status(
    *,
    manifest: Path,
    workspace: Path | None = None,
    repos: list[str] | None = None,
    as_json: bool = False,
    jobs: int | None = None,
    rollout: str | None = None,
) -> int:
    loaded = load_manifest(
        manifest, workspace=workspace, require_recipients=False, templates=False, rollout=rollout
    )
    forge = review.check_forge(loaded)
    rows = review.status(loaded, loaded.select(repos), forge=forge, jobs=jobs)
    if as_json:
        merged = sum(r.pr_state == "merged" for r in rows)
        print(
            json.dumps(
                {"repos": [r.to_json() for r in rows], "merged": merged, "total": len(rows)},
                indent=2,
            )
        )
    else:
        from rich.table import Table

        out = report.console()
        table = Table(box=None, pad_edge=False)
        for column in ("repo", "branch", "PR", "review", "checks"):
            table.add_column(column)
        # folded, never cut short with "…": a command in it is pasted (pass 24d)
        table.add_column("next step", overflow="fold")
        for r in rows:
            pr_cell = f"#{r.pr} {r.pr_state}" if r.pr else "-"
            table.add_row(
                escape(r.name),
                r.branch,
                pr_cell,
                r.review or "-",
                r.checks or "-",
                escape(r.error) if r.error else escape(r.next),
            )
        out.print(table)
        out.print(review.fleet_line(rows))
    return 1 if any(r.error for r in rows) else 0


def cleanup(
    *,
    manifest: Path,
    workspace: Path | None = None,
    repos: list[str] | None = None,
    force: bool = False,
    jobs: int | None = None,
    rollout: str | None = None,
) -> int:
    loaded = load_manifest(
        manifest, workspace=workspace, require_recipients=False, templates=False, rollout=rollout
    )
    forge = review.check_forge(loaded)
    out = report.console()
    return _finish(
        out,
        review.cleanup(
            loaded,
            loaded.select(repos),
            forge=forge,
            force=force,
            jobs=jobs,
            on_result=_printer(out),
        ),
    )
