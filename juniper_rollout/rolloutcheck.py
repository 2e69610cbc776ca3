"""``verify`` of a named rollout: each of its artifacts in sync at a ref, judged as drift judges it.

Read-only: git objects only (the ref's tree and the *.enc blobs); no plaintext is read.
"""

from __future__ import annotations

from juniper_rollout import audit, gitrepo
from juniper_rollout.errors import ManifestError, RolloutError
from juniper_rollout.fleet import snapshot
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.pool import run_in_order
from juniper_rollout.verify import Check, RepoReport, failed, passed


def audit_rollout(manifest: Manifest, repo: RepoSpec, ref: str | None) -> audit.RepoAudit:
    try:
        with gitrepo.open_clone(repo.path) as clone:
            commit = (
                gitrepo.resolve_ref(clone, ref) if ref else gitrepo.base_commit(clone, repo.base)
            )
            snap = snapshot(manifest, repo, clone, commit)
            targets = [e.target for e in repo.encrypt]
            encrypted, _ = gitrepo.read_files(commit, targets) if targets else ({}, frozenset())
            facts = audit.Facts(encrypted=encrypted)
            return audit.audit_repo(
                manifest, repo, snap, facts, ref=ref or repo.base, commit=commit.hexsha
            )
    except ManifestError:
        raise
    except RolloutError as err:
        return audit.RepoAudit(repo.name, ref or repo.base, error=str(err))


def verify_artifacts(manifest: Manifest, repos, *, ref: str | None) -> list[RepoReport]:
    def fix(name: str) -> str:
        """pass 24d: with the --manifest/--workspace verify was given, so that they work pasted;
        pass 24h: and the repo's name (pasted, apply wrote every repo's branch)"""
        plan, apply = (manifest.command(word, repo=name) for word in ("plan", "apply"))
        return f"run `{plan}`, then `{apply}` and merge the rollout branch"

    reports = []
    for found in run_in_order(lambda repo: audit_rollout(manifest, repo, ref), list(repos)):
        if found.error:
            checks: tuple[Check, ...] = (failed("repo", found.error),)
        else:
            checks = tuple(
                passed(a.path, f"{a.path} as the manifest renders it")
                if a.state == audit.IN_SYNC
                else failed(a.path, f"{a.path} is {a.state} at {found.ref}", fix(found.name))
                for a in found.artifacts
            )
        reports.append(RepoReport(found.name, found.ref or "", checks))
    return reports
