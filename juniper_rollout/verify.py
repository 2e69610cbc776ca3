"""The plan's verification list, per repo, on a ref. Read-only, offline, never in the clone.

What a repo holds is read from git objects (refreader). The checks live in juniper_rollout.checks,
one module per noun; the two that need files on disk (``git check-ignore``, ``pre-commit run``) work
in a throwaway repo (``throwaway``) holding only test files. Decrypted values are compared in memory
and dropped: nothing here prints or stores one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from juniper_rollout import envfiles, gitrepo, leakguard, throwaway
from juniper_rollout.checks.age_key import check_age_key
from juniper_rollout.checks.base import (
    APPLY,
    Check,
    RefFiles,
    example_names,
    example_path,
    failed,
    passed,
)
from juniper_rollout.checks.gitignore import check_gitignore
from juniper_rollout.checks.hooks import check_hook
from juniper_rollout.checks.secret_files import check_encrypted, check_plaintext
from juniper_rollout.checks.sops_config import check_sops_config, check_sops_rules
from juniper_rollout.keys import AgeKeys, find_age_keys
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.paths import GITIGNORE, PRECOMMIT, SOPS_CONFIG
from juniper_rollout.pool import default_jobs, in_threads
from juniper_rollout.printedlines import values_free
from juniper_rollout.refreader import guarded, read_at

__all__ = [
    "APPLY",
    "CHECKS",
    "AgeKeys",
    "Check",
    "RefFiles",
    "RepoReport",
    "check_age_key",
    "check_encrypted",
    "check_gitignore",
    "check_hook",
    "check_plaintext",
    "check_sops_config",
    "check_sops_rules",
    "example_names",
    "example_path",
    "failed",
    "find_age_keys",
    "passed",
    "read_ref",
    "verify_fleet",
    "verify_repo",
]


CHECKS = (
    "plaintext-env",
    "sops-config",
    "sops-rules",
    "encrypted-files",
    "gitignore",
    "precommit-hook",
    "age-key",
)


@dataclass(frozen=True)
class RepoReport:
    name: str
    ref: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def read_ref(
    repo: RepoSpec, ref: str | None, env: envfiles.EnvFiles = envfiles.DEFAULT
) -> RefFiles:
    def read(clone, commit) -> RefFiles:
        paths = gitrepo.list_paths(commit)
        # pass 25c: in any letter case, as drift reads them (a plaintext `secrets.ENC`: "no *.enc files")
        encrypted = tuple(sorted(p for p in paths if env.is_enc_named(p)))
        sources = {e.source for e in repo.encrypt}
        # pass 14b: in any letter case, as drift and apply read tracked files (a committed `.ENV` is the
        # `.env` python-dotenv loads on macOS and Windows): verify said "no plaintext env file tracked"
        plaintext = tuple(
            sorted(p for p in paths if env.is_plaintext_in_any_case(p) or p in sources)
        )
        wanted = [
            SOPS_CONFIG,
            GITIGNORE,
            PRECOMMIT,
            ".env.example",
            *encrypted,
            *(example_path(p) for p in encrypted),
        ]
        files, links = gitrepo.read_files(commit, list(dict.fromkeys(wanted)))
        read_at = ref or gitrepo.base_ref(clone, repo.base)
        return RefFiles(ref or repo.base, files, encrypted, plaintext, links, read_at)

    return read_at(repo, ref, read)


def verify_repo(
    manifest: Manifest,
    repo: RepoSpec,
    ref: str | None,
    age: AgeKeys,
    trial: throwaway.HookTrial,
    fleet: leakguard.FleetValues | None = None,
) -> RepoReport:
    def checks() -> RepoReport:
        snap = read_ref(repo, ref, manifest.env_files)
        return RepoReport(
            repo.name,
            ref or repo.base,
            (
                check_plaintext(repo, snap),
                check_sops_config(manifest, snap),
                check_sops_rules(repo, snap, manifest),
                check_encrypted(manifest, repo, snap, age),
                check_gitignore(snap, manifest, repo),
                check_hook(manifest, repo, snap, trial),
                check_age_key(manifest, age),
            ),
        )

    report = guarded(
        repo,
        "verifying",
        checks,
        lambda error: RepoReport(repo.name, ref or repo.base, (failed("repo", error),)),
    )
    said = tuple(replace(c, fix=manifest.commands_said(c.fix, repo.name)) for c in report.checks)
    return _value_free(manifest, repo, fleet, replace(report, checks=said))


def _value_free(
    manifest: Manifest, repo: RepoSpec, fleet: leakguard.FleetValues | None, report: RepoReport
) -> RepoReport:
    """``report`` with its checks' lines checked by the leak guard as printed text
    (printedlines.values_free, the values gathered once per repo). Pass 23e (13.6): the hooks check
    names each managed hook the manifest renders that the ref lacks ("VALUE missing … adds VALUE as
    rendered"), so a managed-hooks template holding a `.env` value as a hook's `id` printed it, in text
    and `--json`: verify never ran the leak guard."""
    lines = [text for c in report.checks for text in (c.detail, c.fix)]
    said = values_free(manifest, repo, fleet, lines)
    if said == lines:
        return report
    checks = []
    for n, check in enumerate(report.checks):
        detail, fix = said[2 * n], said[2 * n + 1]
        checks.append(replace(check, detail=detail, fix="" if fix == detail else fix))
    return replace(report, checks=tuple(checks))


def verify_fleet(
    manifest: Manifest,
    repos: list[RepoSpec] | tuple[RepoSpec, ...],
    *,
    ref: str | None,
    jobs: int | None = None,
) -> list[RepoReport]:
    age = find_age_keys()
    trial = throwaway.HookTrial(manifest.recipients)
    fleet = leakguard.fleet_values(manifest)  # read once: a check's line is guarded as printed text
    workers = max(1, min(jobs or default_jobs(), len(repos) or 1))
    # threads that a second Ctrl-C stops with what they run (pre-commit, sops: pass 16a)
    return in_threads(lambda r: verify_repo(manifest, r, ref, age, trial, fleet), repos, workers)
