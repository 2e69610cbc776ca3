"""Plan every selected repository: read its base commit, run the pure planner. Read-only.

Repos are planned in parallel (juniper_rollout.pool) and come back in manifest order.
A repo that cannot be read becomes a RepoPlan with an error; the others go on.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from juniper_rollout import gitrepo, leakguard, secrets_plan
from juniper_rollout.changes import RepoPlan
from juniper_rollout.discover import EnvVar, candidate_paths, discover_all
from juniper_rollout.errors import ManifestError, RepoError, RolloutError
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.planner import Snapshot, plan_repo, tracked_plaintext, wanted_paths
from juniper_rollout.pool import run_in_order

Progress = Callable[[str], None]


def plan_fleet(
    manifest: Manifest,
    repos: Iterable[RepoSpec],
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    secrets: bool = True,
) -> list[RepoPlan]:
    tick = (lambda plan: progress(plan.name)) if progress else None
    return run_in_order(partial(plan_one, manifest, secrets=secrets), list(repos), jobs=jobs, on_result=tick)


def plan_one(manifest: Manifest, repo: RepoSpec, *, secrets: bool = True) -> RepoPlan:
    empty = RepoPlan(repo.name, repo.base, repo.branch)
    try:
        with gitrepo.open_clone(repo.path) as clone:
            base = gitrepo.base_commit(clone, repo.base)
            tip = gitrepo.branch_tip(clone, repo.branch)
            # where the committed ciphertext may be when the plaintext is gone: the branch, or
            # (deleted locally) what the tool last pushed of it, or origin's copy
            known = tip or gitrepo.last_known_branch(clone, repo.branch)
            snap = snapshot(manifest, repo, clone, base, known)
            files = plan_repo(manifest, repo, snap)
            plan = RepoPlan(repo.name, repo.base, repo.branch, base.hexsha, tip.hexsha if tip else None, tuple(files))
            if secrets and repo.encrypt:
                plan = secrets_plan.add_encrypted(manifest, repo, plan, base, known)
            obstacle = gitrepo.in_the_way(base, [f.path for f in plan.writes])
            if obstacle:  # a directory, submodule or file where a file goes: refused, never replaced
                raise RepoError(obstacle)
            leakguard.check(manifest, repo, plan.files, (v.default for v in snap.code_vars))
            return plan
    except ManifestError:
        raise
    except RolloutError as err:
        return empty.failed(str(err))
    except Exception as err:  # a damaged object database: this repo fails, the others are planned
        from juniper_rollout import crashlog

        # the type only: an unexpected message might quote what was being read
        return empty.failed(f"unexpected {type(err).__name__} while planning (a damaged repository? run `git fsck` "
                            f"in {repo.path}; if it is clean, please report this)"
                            + crashlog.see(crashlog.record(err, f"planning {repo.name}")))


def snapshot(manifest: Manifest, repo: RepoSpec, clone, base, tip=None) -> Snapshot:
    files, links = gitrepo.read_files(base, wanted_paths(repo))
    code_vars: tuple[EnvVar, ...] = ()
    unresolved: tuple[str, ...] = ()
    listing = gitrepo.listed_paths(clone, base)
    for spec in repo.files:
        if spec.env_from == "code":
            paths = candidate_paths(gitrepo.list_paths(base), spec.include, spec.exclude)
            blobs, _ = gitrepo.read_files(base, paths)
            found = discover_all({p: b.decode("utf-8", "replace") for p, b in blobs.items()}, spec.include, spec.exclude)
            code_vars, unresolved = found.vars, found.unresolved
            break
    dotenv_names: dict[str, tuple[str, ...]] = {}
    if any(spec.env_from == "dotenv" for spec in repo.files):
        dotenv_names = {".env": secrets_plan.plaintext_names(repo, ".env", base, tip)}
    tracked = tracked_plaintext(manifest, repo, listing)
    history: dict[str, tuple[tuple[str, str], ...]] = {}
    if tracked:
        for short, subject, touched in gitrepo.commits_touching(clone, [f":(literal){p}" for p in tracked]):
            for path in touched:
                history[path] = (*history.get(path, ()), (short, subject))
    return Snapshot(files, links, code_vars, dotenv_names, tracked, history, code_unresolved=unresolved)
