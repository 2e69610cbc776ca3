"""``rollout apply``: one reviewable commit on the rollout branch of each repo.

Each repo ends with a named outcome; one failing does not stop the others;
the exit code is 1 if any failed. Ctrl-C stops between repos with a summary.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from rich.markup import escape

from juniper_rollout import planfile, report, sopsmeta
from juniper_rollout.agekey import short
from juniper_rollout.branches import (
    BLOCKED,
    CREATED,
    FAILED,
    OK,
    STALE,
    UP_TO_DATE,
    UPDATED,
    Outcome,
    apply_plans,
    summary,
)
from juniper_rollout.changes import DELETE, RepoPlan
from juniper_rollout.errors import RepoError, RolloutError
from juniper_rollout.manifest import Manifest, RepoSpec, load_manifest, plaintext_env_path
from juniper_rollout.paths import SOPS_CONFIG
from juniper_rollout.wording import count

STYLE = {
    CREATED: "green",
    UPDATED: "green",
    UP_TO_DATE: "dim",
    BLOCKED: "red",
    STALE: "yellow",
    FAILED: "red",
}


def apply(
    *,
    manifest: Path,
    plan_file: Path | str | None = None,
    workspace: Path | None = None,
    repos: list[str] | None = None,
    yes: bool = False,
    push: bool = False,
    jobs: int | None = None,
    confirm: Callable[[str], bool] | None = None,
    rollout: str | None = None,
    on_loaded: Callable[[Manifest], None] = lambda loaded: None,
) -> int:
    if isinstance(plan_file, str):
        plan_file = planfile.given(plan_file)
    stamp = _stamp(manifest)  # before it is read: a change while apply runs is seen
    loaded = load_manifest(manifest, workspace=workspace, rollout=rollout)
    on_loaded(
        loaded
    )  # `apply --pr` opens the pull requests with it, not reading the manifest again
    selected = loaded.select(repos)
    if plan_file is not None:
        try:
            plans = _saved_plans(loaded, manifest, plan_file, selected)
        except RolloutError as err:
            # pass 24d: "run `rollout plan --out PLAN` again", pasted after `apply FILE -m M`, read
            # the default manifest: each `rollout …` with the options apply was given
            said = loaded.commands_said(str(err))
            raise RolloutError(_value_free(loaded, selected, said)) from None
    else:
        from juniper_rollout.fleet import plan_fleet  # not for a saved plan: ~75 ms of imports

        with report.progress_bar(len(selected), enabled=True) as tick:
            plans = plan_fleet(loaded, selected, jobs=jobs, progress=tick)
    out = report.console()
    if not yes:
        if confirm is None or not sys.stdin.isatty():
            raise RolloutError("apply needs confirmation: run it from a terminal, or pass --yes")
        report.print_plan(out, plans, said=loaded.commands_said)
        changed = sum(p.status == "changes" for p in plans)
        if not confirm(f"Write the rollout branch in {count(changed, 'repo')}?"):
            out.print("nothing written")
            return 0
    if _stamp(manifest) != stamp:
        # pass 20a: a `rollout rotate --remove KEY` while apply waited for its answer; the plan,
        # made before, still encrypted to the removed key, and was written (and pushed) so
        raise RolloutError(
            f"{manifest} changed while apply ran (a `rollout rotate`, or an editor?): nothing "
            "written, as the plan is of the manifest before the change; run apply again"
        )
    outcomes = apply_plans(
        loaded,
        plans,
        saved=plan_file is not None,
        push=push,
        jobs=jobs,
        on_outcome=lambda o: _print(out, o),
    )
    done = {o.name for o in outcomes}
    interrupted = [p.name for p in plans if p.name not in done]
    out.print(
        summary(outcomes)
        + (
            f"; interrupted before {len(interrupted)}: {', '.join(interrupted)}"
            if interrupted
            else ""
        )
    )
    if interrupted:
        return 130
    return 0 if all(o.result in OK for o in outcomes) else 1


def _value_free(loaded: Manifest, selected: tuple[RepoSpec, ...], line: str) -> str:
    """``line``, a saved plan's refusal, unless it quotes a plaintext value of the fleet: then the leak
    guard's verdict. Pass 25b (13.6): a damaged plan's refusal quotes what the plan holds (a path, an
    action, a repo's name), so a hand-edited plan's text holding a `.env` value was printed."""
    from juniper_rollout import leakguard, printedlines

    if not selected:
        return line
    checked = printedlines.value_free(loaded, selected[0], leakguard.fleet_values(loaded), line)
    return line if checked == line else f"{checked} (was the plan file edited? plan again)"


def _saved_plans(
    loaded: Manifest, manifest: Path, plan_file: Path, selected: tuple[RepoSpec, ...]
) -> list[RepoPlan]:
    """The saved plan's repos among ``selected``, checked against the manifest."""
    wanted = {r.name: r for r in selected}
    plans = [p for p in planfile.load(plan_file) if p.name in wanted]
    if not plans:
        raise RolloutError(
            f"{plan_file} holds none of the repos selected in {manifest} (a plan made for "
            f"another manifest or --repo?); {planfile.plan_again(plan_file)}"
        )
    stale = _stale_recipients(plans, loaded.recipients)
    if stale is not None:  # e.g. `rotate --remove` a leaked key after the plan was saved
        raise RolloutError(
            f"{plan_file} is stale: {stale}, but {manifest} names "
            f"{count(len(loaded.recipients), 'recipient')} without it; "
            f"{planfile.plan_again(plan_file)}"
        )
    for plan in plans:  # a hand-edited path: checked like the manifest's (pass 6)
        # a file it writes, not the tracked plaintext env file it deletes (pass 24c: every saved
        # plan of a repo with a committed `.env.prod` was "damaged … name it like
        # .env.prod.example", so `plan --out - | apply -` refused the whole fleet)
        why = next(
            (
                w
                for f in plan.writes
                if f.action != DELETE and (w := plaintext_env_path(loaded.env_files, f.path))
            ),
            None,
        )
        if why:
            raise RolloutError(f"{plan_file}: damaged plan file (repo {plan.name}: {why})")
    from juniper_rollout.planner import for_the_manifests_recipients

    for plan in plans:  # pass 24e: a hand-edited `.sops.yaml` (`.sops.yml`, a folder's, a pgp key)
        try:
            for_the_manifests_recipients(loaded, plan.files)
        except RepoError as err:
            raise RolloutError(
                f"{plan_file}: damaged plan file (repo {plan.name}: {err}); "
                f"{planfile.plan_again(plan_file)}"
            ) from None
    other = next((p for p in plans if p.branch != wanted[p.name].branch), None)
    if other is not None:  # a plan of one rollout must never land on another rollout's branch
        try:
            named = other.branch in loaded.path.read_text("utf-8", "replace")
        except OSError:
            named = False
        # pass 25b (13.6): the plan's branch is quoted only when the manifest names it (a hand-edited
        # plan's branch holding a `.env` value was printed as written)
        shown = (
            f"branch {other.branch}"
            if named or other.branch == "chore/sops-age-rollout"
            else "a branch the manifest does not name"
        )
        raise RolloutError(
            f"{plan_file}: the plan for {other.name} is for {shown}, but rollout "
            f"{loaded.rollout!r} writes {wanted[other.name].branch} (pass the --rollout the plan "
            "was made with)"
        )
    return plans


def _stamp(path: Path) -> tuple[int, int, int, int] | None:
    """What tells one version of the manifest file from the next: a rename over it (rotate,
    bootstrap, most editors) is a new inode, a write in place a new size or time."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _print(out, outcome: Outcome) -> None:
    style = STYLE[outcome.result]
    out.print(
        f"{escape(outcome.name)}: [{style}]{outcome.result}[/{style}]"
        + (f"  {escape(outcome.message)}" if outcome.message else "")
    )


def _stale_recipients(plans, recipients: tuple[str, ...]) -> str | None:
    """What a saved plan encrypts to that the manifest no longer names (a key removed since the plan
    was saved): its ``.sops.yaml`` rules or an encrypted file's recipients; None when nothing."""
    if not recipients:  # a rollout without secrets: no recipients to compare
        return None
    want = set(recipients)
    for plan in plans:
        for change in plan.files:
            if change.after is None or not change.writes:
                continue
            if change.secret:
                meta = sopsmeta.read_metadata(change.after)
                found = list(meta.recipients) if meta is not None else []
            elif change.path == SOPS_CONFIG:
                try:
                    found = sopsmeta.config_recipients(change.after.decode("utf-8")) or []
                except (UnicodeDecodeError, ValueError):
                    found = []
            else:
                continue
            gone = [key for key in found if key not in want]
            if gone:
                how = "is encrypted to" if change.secret else "names"
                return f"its {change.path} for {plan.name} {how} {short(gone[0])}"
    return None
