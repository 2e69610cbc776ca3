"""``rollout plan``: what would change in each repo, as diffs and summary lines. Read-only."""

from __future__ import annotations

import json
from pathlib import Path

from rich.markup import escape

from juniper_rollout import planfile, report
from juniper_rollout.errors import RolloutError
from juniper_rollout.fleet import plan_fleet
from juniper_rollout.manifest import load_manifest
from juniper_rollout.wording import path_word, rollout_command


def plan(
    *,
    manifest: Path,
    workspace: Path | None = None,
    repos: list[str] | None = None,
    out: Path | str | None = None,
    as_json: bool = False,
    detailed_exitcode: bool = False,
    jobs: int | None = None,
    rollout: str | None = None,
) -> int:
    if isinstance(out, str):
        if out.endswith("/"):  # Path("nodir/") is Path("nodir"): a file would be written there
            raise RolloutError(
                f"--out {out} names a folder; give a file path (like {out}plan.json), "
                "or `--out -` for standard output"
            )
        out = planfile.given(out)
    to_stdout = out == planfile.STDOUT
    if to_stdout and as_json:
        raise RolloutError("--out - and --json both print to standard output; pick one")
    if out is not None:
        planfile.check_destination(out)
    loaded = load_manifest(manifest, workspace=workspace, rollout=rollout)
    if out is not None and out != planfile.STDOUT:
        planfile.check_not_input(out, loaded)
    selected = loaded.select(repos)
    with report.progress_bar(len(selected), enabled=not (as_json or to_stdout)) as tick:
        plans = plan_fleet(loaded, selected, jobs=jobs, progress=tick)
    if out is not None:
        planfile.save(plans, out)
    if as_json:
        print(json.dumps(planfile.to_json(plans), indent=2))
    else:
        human = report.console(stderr=to_stdout)  # with `--out -` stdout holds the saved plan alone
        report.print_plan(human, plans, said=loaded.commands_said)
        for line in report.adoption_summary(plans):
            human.print(escape(line))
        human.print(report.plan_summary(plans))
        if out is not None and not to_stdout:
            again = _apply_command(out, manifest, workspace, rollout)
            human.print(escape(f"plan saved to {out}; apply it with `{again}`"))
    if any(p.status == "error" for p in plans):
        return 1
    if detailed_exitcode and any(p.status == "changes" for p in plans):
        return 2
    return 0


def _apply_command(out: Path, manifest: Path, workspace: Path | None, rollout: str | None) -> str:
    """The `rollout apply` that applies the saved plan, with the options it was planned with."""
    return rollout_command(
        "apply", path_word(out), manifest=manifest, workspace=workspace, rollout=rollout
    )
