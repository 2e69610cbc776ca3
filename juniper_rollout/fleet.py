"""Plan every selected repository: read its base commit, run the pure planner. Read-only.

Repos are planned in parallel and come back in manifest order. Planning is mostly
Python (YAML, templates, gitdb reads) and holds the GIL, so threads only overlap the
subprocesses (sops); a fleet of ``PROCESS_MIN_REPOS`` or more is split across forked
worker processes, one per CPU (at most ``jobs``), which start in milliseconds and
share the loaded manifest and compiled templates.
A repo that cannot be read becomes a RepoPlan with an error; the others go on.
"""
from __future__ import annotations

import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable

from juniper_rollout import gitrepo, secrets_plan
from juniper_rollout.changes import RepoPlan
from juniper_rollout.discover import candidate_paths, discover
from juniper_rollout.errors import ManifestError, RolloutError
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.planner import Snapshot, plan_repo, wanted_paths

Progress = Callable[[str], None]
PROCESS_MIN_REPOS = 16  # below this, worker processes save less than they cost


def default_jobs() -> int:
    return max(1, min(8, (os.cpu_count() or 1) * 2))


def plan_fleet(
    manifest: Manifest,
    repos: Iterable[RepoSpec],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    secrets: bool = True,
) -> list[RepoPlan]:
    repos = list(repos)

    def one(repo: RepoSpec) -> RepoPlan:
        result = plan_one(manifest, repo, secrets=secrets)
        if progress:
            progress(repo.name)
        return result

    workers = max(1, min(jobs or default_jobs(), len(repos) or 1))
    if workers == 1:
        return [one(r) for r in repos]
    processes = min(workers, _cpus())
    if processes > 1 and len(repos) >= PROCESS_MIN_REPOS and sys.platform == "linux":
        return _plan_in_processes(manifest, repos, processes=processes, progress=progress, secrets=secrets)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, repos))


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# --- worker processes ---------------------------------------------------------------------

_work: tuple[Manifest, list[RepoSpec], bool] | None = None  # what a forked worker plans


@dataclass(frozen=True)
class _ManifestFailure:
    """A ManifestError on its way back from a worker (the exception itself does not pickle)."""

    file: str
    line: int | None
    text: str

    def error(self) -> ManifestError:
        err = ManifestError(self.file, self.line, "")
        err.args = (self.text,)
        return err


def _plan_in_processes(manifest: Manifest, repos: list[RepoSpec], *, processes: int,
                       progress: Progress | None, secrets: bool) -> list[RepoPlan]:
    import multiprocessing  # only here: the imports cost more than a small run
    from concurrent.futures import ProcessPoolExecutor

    # fork: the workers start from this process as it is, manifest loaded and templates compiled;
    # they are all forked at the first task, before a progress bar's thread exists. Flush first:
    # a worker flushes the stdio buffers it inherited when it exits, which would print them twice.
    sys.stdout.flush()
    sys.stderr.flush()
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                               initializer=_start_worker, initargs=(manifest, repos, secrets))
    plans: list[RepoPlan] = []
    try:
        chunk = max(1, min(16, len(repos) // (processes * 4)))
        for result in pool.map(_plan_nth, range(len(repos)), chunksize=chunk):
            if isinstance(result, _ManifestFailure):
                raise result.error()
            plans.append(result)
            if progress:
                progress(result.name)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return plans


def _start_worker(manifest: Manifest, repos: list[RepoSpec], secrets: bool) -> None:
    global _work
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops the pool
    _work = (manifest, repos, secrets)


def _plan_nth(index: int) -> RepoPlan | _ManifestFailure:
    assert _work is not None, "not in a worker started by _plan_in_processes"
    manifest, repos, secrets = _work
    try:
        return plan_one(manifest, repos[index], secrets=secrets)
    except ManifestError as err:
        return _ManifestFailure(err.file, err.line, str(err))


def plan_one(manifest: Manifest, repo: RepoSpec, *, secrets: bool = True) -> RepoPlan:
    empty = RepoPlan(repo.name, repo.base, repo.branch)
    try:
        with gitrepo.open_clone(repo.path) as clone:
            base = gitrepo.base_commit(clone, repo.base)
            tip = gitrepo.branch_tip(clone, repo.branch)
            snap = snapshot(manifest, repo, clone, base)
            files = plan_repo(manifest, repo, snap)
            plan = RepoPlan(repo.name, repo.base, repo.branch, base.hexsha, tip.hexsha if tip else None, tuple(files))
            if secrets and repo.encrypt:
                plan = secrets_plan.add_encrypted(manifest, repo, plan, base, tip)
            return plan
    except ManifestError:
        raise
    except RolloutError as err:
        return empty.failed(str(err))


def snapshot(manifest: Manifest, repo: RepoSpec, clone, base) -> Snapshot:
    files, links = gitrepo.read_files(base, wanted_paths(repo))
    code_vars = ()
    if any(spec.env_from == "code" for spec in repo.files):
        paths = candidate_paths(gitrepo.list_paths(base))
        blobs, _ = gitrepo.read_files(base, paths)
        code_vars = tuple(discover({p: b.decode("utf-8", "replace") for p, b in blobs.items()}))
    dotenv_names = {}
    if any(spec.env_from == "dotenv" for spec in repo.files):
        dotenv_names = {".env": secrets_plan.plaintext_names(repo, ".env")}
    return Snapshot(files, links, code_vars, dotenv_names)
