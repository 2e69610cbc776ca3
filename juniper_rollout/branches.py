"""Write plans as rollout branches: one commit per repo, each ending with a named outcome.

Used by ``rollout apply`` and ``rollout bootstrap``. One repo failing never stops
the others; Ctrl-C stops cleanly between repos.
"""

from __future__ import annotations

import errno
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from juniper_rollout import gitrepo, interrupts, leakguard, printedlines, secrets_plan, sopsmeta
from juniper_rollout.changes import CREATE, ON_TOP, REBUILD, RepoPlan
from juniper_rollout.errors import RepoError, RolloutError
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.pool import Interrupted, run_in_order
from juniper_rollout.refreader import too_many_open_files
from juniper_rollout.wording import count, one_line

CREATED, UPDATED, UP_TO_DATE, BLOCKED, STALE, FAILED = (
    "created",
    "updated",
    "already up to date",
    "blocked",
    "stale",
    "failed",
)
OK = (CREATED, UPDATED, UP_TO_DATE)


@dataclass(frozen=True)
class Outcome:
    name: str
    result: str
    message: str = ""
    commit: str | None = None


def apply_plans(
    manifest: Manifest,
    plans: list[RepoPlan],
    *,
    saved: bool,
    push: bool,
    jobs: int | None = None,
    on_outcome: Callable[[Outcome], None] = lambda o: None,
) -> list[Outcome]:
    """Apply each plan; outcomes come in plan order. A large fleet is written by worker processes.

    Ctrl-C or SIGTERM stops cleanly between repos (a second one stops at once): no repo is started any
    more, the ones under way finish, and the outcomes of all finished repos are returned.
    """
    specs = {r.name: r for r in manifest.repos}
    # a saved plan's bytes are checked again for the fleet's plaintext values (read once, before
    # the workers fork): a plan file is a file anyone may have edited
    fleet = leakguard.fleet_values(manifest) if saved else None
    with _stop_between_repos() as stopped:
        return run_in_order(
            partial(_apply_named, specs, saved=saved, push=push, manifest=manifest, fleet=fleet),
            plans,
            jobs=jobs,
            threads=False,
            on_result=on_outcome,
            stop=stopped,
            network=push,  # pushes in flight at once: a bounded pool, not one per CPU
        )


def _apply_named(
    specs: dict[str, RepoSpec],
    plan: RepoPlan,
    *,
    saved: bool,
    push: bool,
    manifest: Manifest,
    fleet: leakguard.FleetValues | None,
) -> Outcome:
    spec = specs.get(plan.name)
    if spec is None:
        return Outcome(plan.name, FAILED, "not in the manifest any more")
    return apply_one(spec, plan, saved=saved, push=push, manifest=manifest, fleet=fleet)


@contextmanager
def _stop_between_repos() -> Iterator[Callable[[], bool]]:
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    hits: list[int] = []
    stops = [signal.SIGTERM]
    if signal.getsignal(signal.SIGHUP) != signal.SIG_IGN:  # a closed terminal; `nohup` ignores it
        stops.append(signal.SIGHUP)
    # pass 28d: a background job (`rollout apply --yes &` in a script) ignores Ctrl-C; it stays so
    # (it stopped the write phase: exit 130 after 8 of 20 branches)
    if signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
        stops.append(signal.SIGINT)

    def first_interrupt(signum, frame) -> None:
        hits.append(signum)
        for each in stops:  # a second Ctrl-C, SIGTERM or SIGHUP stops at once
            signal.signal(each, interrupts.stop_at_once)

    previous = {each: signal.signal(each, first_interrupt) for each in stops}
    try:
        # a stop recorded before (one a finalizer swallowed in the plan phase) writes no branch
        yield lambda: bool(hits) or interrupts.requested()
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)
        if hits:  # the repo at hand finished; the command still ends as interrupted (exit 130)
            interrupts.note(hits[0])


def _plans_words(plan: RepoPlan) -> str:
    """What of a saved plan, besides the files' bytes, apply prints or commits: its error line, each
    file's path, reason and detail (the commit message's `- PATH: ACTION (WHY)` lines).
    Pass 25b (13.6): a hand-edited plan's reason or path holding a `.env` value was committed in the
    message or the tree, and its error line printed as written; only the files' bytes were checked."""
    lines = [plan.error or ""]
    lines += [" ".join(filter(None, (f.path, f.reason, f.detail))) for f in plan.files]
    return "\n".join(lines)


def apply_one(
    spec: RepoSpec,
    plan: RepoPlan,
    *,
    saved: bool,
    push: bool,
    manifest: Manifest,
    fleet: leakguard.FleetValues | None = None,
) -> Outcome:
    if saved:
        words = _plans_words(plan)
        checked = printedlines.value_free(manifest, spec, fleet, words)
        if checked != words:  # the guard's verdict, never the plan's text
            return Outcome(spec.name, FAILED, f"{checked} (was the plan file edited? plan again)")
    if plan.error:
        return Outcome(spec.name, FAILED, plan.error)
    try:
        if saved:  # checked when it was planned, and again: a plan file may have been edited
            leakguard.check_secret_writes(spec, plan.writes)
            leakguard.check_sealed(manifest, spec, plan.writes, fleet=fleet)
            leakguard.check(manifest, spec, plan.writes, fleet=fleet, cleared=plan.cleared)
            leakguard.check_deletions(manifest, spec, plan.writes)
        with gitrepo.open_clone(spec.path) as clone, gitrepo.rollout_lock(clone, spec.name):
            outcome = _write(clone, spec, plan, saved=saved)
            if push and outcome.result == UP_TO_DATE and _merged(clone, spec, plan):
                # pass 26d (26a's note N1): after the pull request was merged (or squash-merged)
                # and its branch deleted on origin, the push re-created the old branch there,
                # undoing the reviewer's deletion: a branch with nothing beyond the base is not pushed
                return Outcome(
                    outcome.name,
                    outcome.result,
                    f"{outcome.message}; not pushed: {spec.base} already holds all of "
                    f"{spec.branch} (its pull request merged?)",
                    outcome.commit,
                )
            if push and outcome.result in OK and gitrepo.branch_tip(clone, spec.branch) is not None:
                _push(clone, spec, outcome)
                outcome = Outcome(
                    outcome.name,
                    outcome.result,
                    (outcome.message + "; pushed to origin").lstrip("; "),
                    outcome.commit,
                )
            return outcome
    except RolloutError as err:
        return Outcome(spec.name, FAILED, str(err))
    except (
        Exception
    ) as err:  # a damaged object database, a full disk: this repo fails, the others go on
        if isinstance(err, OSError) and (said := _disk_trouble(err, spec)) is not None:
            return Outcome(spec.name, FAILED, said)
        if (
            isinstance(err, OSError)
            and (said := too_many_open_files(err, "writing the branch")) is not None
        ):
            return Outcome(spec.name, FAILED, f"{said}; {spec.branch} was not moved")
        from juniper_rollout import crashlog

        return Outcome(
            spec.name,
            FAILED,
            f"unexpected {type(err).__name__} while writing the branch: "
            f"{_first_line(err)} (a damaged repository? run `git fsck` in {spec.path})"
            + crashlog.see(crashlog.record(err, f"writing the branch of {spec.name}")),
        )


def _merged(clone, spec: RepoSpec, plan: RepoPlan) -> bool:
    """Whether the rollout branch holds nothing its base lacks: its tip is in the base (merged, or
    fast-forwarded), or it sits on an older base and rebuilding it there would change nothing (the
    base already holds what the rollout writes: a squash-merge). Such a branch is not pushed."""
    tip = gitrepo.branch_tip(clone, spec.branch)
    if tip is None:
        return False
    base = gitrepo.base_commit(clone, spec.base)
    if clone.is_ancestor(tip, base):
        return True
    return not plan.writes and not clone.is_ancestor(base, tip)


def _push(clone, spec: RepoSpec, written: Outcome) -> None:
    """Push the written branch; a push that fails or is cut short says what was written first (round
    four: "failed  push to origin failed: …" never said the branch had been rebuilt). A second Ctrl-C
    or SIGTERM during the push (one repo after another, in this process) still reports the branch:
    round three's run said "interrupted" alone. Worker processes never see that interrupt: their git
    is stopped and they report the push's own error."""
    try:
        gitrepo.push(clone, spec.branch, spec.rollout)
    except RolloutError as err:
        raise RepoError(f"{written.message}; not pushed: {err}") from None
    except KeyboardInterrupt:
        raise Interrupted(
            Outcome(
                written.name,
                FAILED,
                f"{written.message}; not pushed: its push to origin was interrupted; run apply "
                "--push again to push it",
                written.commit,
            )
        ) from None


_DISK = {  # errno -> (what the disk says, what to do)
    errno.EROFS: ("is on a read-only file system", "mount it read-write"),
    errno.ENOSPC: ("is on a full disk", "free some space"),
    errno.EDQUOT: ("is over its disk quota", "free some space"),
    errno.EACCES: ("is not writable by you", "check its owner and permissions"),
    errno.EPERM: ("is not writable by you", "check its owner and permissions"),
}


def _disk_trouble(err: OSError, spec: RepoSpec) -> str | None:
    """A write the disk refused (read-only mount, full, quota, permissions) in one true line and no
    crash log: the user's situation, not a damaged repository. None for any other OSError."""
    said = _DISK.get(err.errno) if err.errno is not None else None
    if said is None:
        return None
    why, fix = said
    return (
        f"cannot write to {spec.path}/.git: it {why} ({os.strerror(err.errno or 0)}); "
        f"{spec.branch} was not moved: {fix}, then apply again"
    )


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else "no details"


def _write(clone, spec: RepoSpec, plan: RepoPlan, *, saved: bool) -> Outcome:
    base = gitrepo.base_commit(clone, spec.base)
    if plan.base_commit != base.hexsha:
        return Outcome(
            spec.name,
            STALE,
            f"stale plan for {spec.name}: {spec.base} moved from "
            f"{(plan.base_commit or '?')[:7]} to {base.hexsha[:7]}; run plan again",
        )
    tip = gitrepo.branch_tip(clone, spec.branch)
    mode = gitrepo.branch_mode(clone, tip, base, spec.rollout)
    writes = {f.path: f.after for f in plan.writes}
    if saved and (tip.hexsha if tip else None) != plan.branch_commit:
        if tip is not None and _applied(clone, tip, base, plan, writes):
            return Outcome(
                spec.name, UP_TO_DATE, f"{spec.branch} already holds this plan", tip.hexsha
            )
        return Outcome(
            spec.name,
            STALE,
            f"stale plan for {spec.name}: {spec.branch} moved since the plan; run plan again",
        )
    if mode == "foreign":
        assert tip is not None, "a foreign branch exists"
        what, way_out = gitrepo.foreign_words(clone, spec.branch, tip, spec.rollout, spec.base)
        return Outcome(
            spec.name,
            BLOCKED,
            f"{what}; {way_out}, then apply again" + secrets_plan.only_copy_words(spec, tip, base),
        )
    if (
        plan.onto == ON_TOP and (tip.hexsha if tip else None) != plan.branch_commit
    ):  # moved by another run
        return Outcome(
            spec.name,
            STALE,
            f"stale plan for {spec.name}: {spec.branch} moved since the plan; run plan again",
        )
    if saved and mode != plan.onto and (mode or plan.onto):
        return Outcome(
            spec.name,
            STALE,
            f"stale plan for {spec.name}: {spec.base} or {spec.branch} moved since the "
            "plan; run plan again",
        )
    if (
        saved
        and tip is not None
        and plan.onto != ON_TOP
        and (left := _ciphertext_left_out(tip, base, spec, writes))
    ):
        return Outcome(
            spec.name,
            FAILED,
            f"the plan leaves out {left}, which {spec.branch} holds sops-encrypted (maybe the "
            "only copy of its values): the rebuilt branch would drop it; nothing written "
            "(was the plan file edited? plan again)",
        )
    if not plan.writes:
        return Outcome(
            spec.name,
            UP_TO_DATE,
            f"nothing to change on {spec.branch if mode == ON_TOP else spec.base}",
        )
    # a change to a branch on the current base is a new commit on top (a reviewer's `git pull` works);
    # only when the base moved is the branch rebuilt on it
    on_top = plan.onto == ON_TOP  # the plan's writes are relative to what it was compared with
    parent = tip if on_top else base
    assert parent is not None, "a plan goes on top only of a branch that exists"
    if saved and (there := _created_over(parent, plan)):
        return Outcome(
            spec.name,
            FAILED,
            f"the plan creates {there}, which {spec.branch if on_top else spec.base} already holds "
            "(a file the plan never saw): nothing written (was the plan file edited? plan again)",
        )
    tree = gitrepo.write_tree(clone, parent.tree, writes)
    if tree == parent.tree.binsha and on_top:
        return Outcome(
            spec.name, UP_TO_DATE, f"{spec.branch} already holds this change", parent.hexsha
        )
    if (
        tip is not None
        and not on_top
        and tip.parents
        and tip.parents[0] == base
        and tip.tree.binsha == tree
    ):
        return Outcome(
            spec.name, UP_TO_DATE, f"{spec.branch} already holds this change", tip.hexsha
        )
    if (tip.hexsha if tip else None) != plan.branch_commit:
        # moved by another run to something else, whatever the plan was to do with it (pass 20a: a
        # plan to create or rebuild the branch, waiting at apply's confirmation while another run
        # wrote newer ciphertext to it and the .env then moved away, replaced that commit: the
        # newer values were on no branch any more)
        return Outcome(
            spec.name,
            STALE,
            f"stale plan for {spec.name}: {spec.branch} moved since the plan; run plan again",
        )
    worktree = gitrepo.checked_out_in(clone, spec.branch)
    if (
        worktree is not None
    ):  # as git itself refuses: moving it would leave that worktree with changes nobody made
        how = gitrepo.worktree_advice(
            clone, worktree, spec.path, spec.base
        )  # pass 6: words that work
        return Outcome(
            spec.name,
            BLOCKED,
            f"{spec.branch} is checked out in {worktree}; {how}, then apply again",
        )
    assert tree is not None, "a rollout never empties a repository's tree"
    commit = gitrepo.create_commit(clone, parent, tree, commit_message(spec, plan))
    gitrepo.move_branch(
        clone,
        spec.branch,
        commit.hexsha,
        tip.hexsha if tip else None,
        f"{'update' if tip else 'create'} rollout branch",
    )
    how = (
        {ON_TOP: "; a new commit on top", REBUILD: f"; rebuilt on {spec.base} (it moved)"}.get(
            plan.onto or "", ""
        )
        if tip
        else ""
    )
    return Outcome(
        spec.name,
        UPDATED if tip else CREATED,
        f"{spec.branch} at {commit.hexsha[:7]}{how}",
        commit.hexsha,
    )


def _created_over(parent, plan: RepoPlan) -> str | None:
    """A path a (hand-edited) saved plan says it creates, where ``parent`` holds a file: "create"
    would replace it without a word (pass 10a). The tool's own plans create only what is absent."""
    created = [f.path for f in plan.writes if f.action == CREATE]
    if not created:
        return None
    held, links = gitrepo.read_files(parent, created)
    return next((path for path in created if path in held or path in links), None)


def _ciphertext_left_out(tip, base, spec: RepoSpec, writes) -> str | None:
    """An encrypted file of the manifest the branch holds, the base lacks and a (hand-edited) saved plan
    does not write: rebuilding on the base would drop it, as a plan's delete of it would (pass 9)."""
    targets = [e.target for e in spec.encrypt if e.enabled and e.target not in writes]
    if not targets:
        return None
    held, _ = gitrepo.read_files(tip, targets)
    at_base, _ = gitrepo.read_files(base, targets)
    for path in targets:
        if path in held and path not in at_base and sopsmeta.sops_format(held[path]) is not None:
            return path
    return None


def _applied(clone, tip, base, plan: RepoPlan, writes) -> bool:
    """Is ``tip`` the commit this very plan made (a saved plan applied a second time)?"""
    if tip is None or not gitrepo.is_tool_commit(tip) or not plan.writes:
        return False
    parent = tip.parents[0]
    expected = plan.branch_commit if plan.onto == ON_TOP else base.hexsha
    if parent.hexsha != expected:
        return False
    return gitrepo.write_tree(clone, parent.tree, writes) == tip.tree.binsha


def commit_message(spec: RepoSpec, plan: RepoPlan) -> str:
    lines = [spec.commit_message.strip(), ""]
    # pass 12a: a path (or a template's name in its reason) may hold a C1 control (U+009B is CSI to a
    # terminal reading UTF-8, in `git log`): shown as an escape, as git quotes such a path itself
    lines += [
        f"- {one_line(f.path)}: {f.action}"
        + (f" ({one_line(f.detail or f.reason or '')})" if (f.detail or f.reason) else "")
        for f in plan.writes
    ]
    return "\n".join(lines) + f"\n\n{gitrepo.TRAILER}\n{gitrepo.ROLLOUT_TRAILER}{spec.rollout}\n"


def summary(outcomes: list[Outcome]) -> str:
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.result] = counts.get(o.result, 0) + 1
    return f"{count(len(outcomes), 'repo')}: " + ", ".join(f"{n} {r}" for r, n in counts.items())
