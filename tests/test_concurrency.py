"""Concurrent runs and the user's own git commands: never corrupt, never hang."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading

from juniper_rollout import branches as apply_cmd
from juniper_rollout.fleet import plan_fleet
from juniper_rollout.manifest import load_manifest
from tests import fleet as fleets
from tests.helpers import git, rollout

BRANCH = fleets.BRANCH


def test_a_repo_locked_by_another_rollout_fails_alone(fleet):
    gitdir = fleet.repo("juniper-ml") / ".git"
    fd = os.open(gitdir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        result = rollout("apply", "--manifest", fleet.manifest, "--yes")
    finally:
        os.close(fd)
    assert result.code == 1
    assert "another rollout is running on juniper-ml" in result.stdout
    assert "6 created" in result.stdout


def test_two_applies_at_once_never_corrupt(fleet):
    cmd = [
        sys.executable,
        "-c",
        "from juniper_rollout.cli import main; main()",
        "apply",
        "--manifest",
        str(fleet.manifest),
        "--yes",
    ]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    text = "".join(out for out, _ in outputs)
    for name in fleet.names:
        repo = fleet.repo(name)
        assert git(repo, "rev-list", "--count", f"main..{BRANCH}").strip() == "1"
        assert (
            subprocess.run(
                ["git", "-C", str(repo), "fsck", "--no-dangling"], capture_output=True
            ).returncode
            == 0
        )
        lines = [line for line in text.splitlines() if line.startswith(f"{name}: ")]
        assert len(lines) == 2
        assert any("created" in line for line in lines), lines
        assert all(
            (
                "created" in line
                or "already up to date" in line
                or "another rollout is running" in line
                # pass 20a: the other run wrote the branch between this run's plan and its write, with
                # ciphertext of its own (sops output is random): never replaced, the run is stale
                or "moved since the plan" in line
            )
            for line in lines
        ), lines
    again = rollout("apply", "--manifest", fleet.manifest, "--yes")
    assert again.code == 0 and "7 already up to date" in again.stdout


def test_index_lock_of_the_users_git_fails_that_repo_with_a_clear_line(fleet):
    lock = fleet.repo("juniper-data") / ".git" / "index.lock"
    lock.write_text("")
    result = rollout("apply", "--manifest", fleet.manifest, "--yes")
    assert result.code == 1
    assert (
        f"git is running in juniper-data ({lock} exists); try again when it finishes"
        in result.stdout
    )
    assert lock.exists()  # the user's lock is theirs


def test_ref_lock_held_fails_fast(fleet):
    lock = fleet.repo("juniper-ml") / ".git" / "refs" / "heads" / "chore" / "sops-age-rollout.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("")
    result = rollout("apply", "--manifest", fleet.manifest, "--yes")
    assert result.code == 1
    assert (
        "juniper-ml: failed" in result.stdout
        and "is locked by another git command" in result.stdout
    )
    assert lock.exists()


def test_ctrl_c_stops_between_repos(fleet):
    manifest = load_manifest(fleet.manifest)
    plans = plan_fleet(manifest, manifest.repos)
    seen = []

    def interrupt_after_first(outcome):
        seen.append(outcome)
        if len(seen) == 1:
            os.kill(os.getpid(), __import__("signal").SIGINT)

    assert threading.current_thread() is threading.main_thread()
    outcomes = apply_cmd.apply_plans(
        manifest, plans, saved=False, push=False, on_outcome=interrupt_after_first
    )
    assert [o.name for o in outcomes] == ["juniper-cascor"] and outcomes[
        0
    ].result == apply_cmd.CREATED
    for name in fleet.names[1:]:
        assert not git(fleet.repo(name), "branch", "--list", BRANCH).strip()
