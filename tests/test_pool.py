"""The parallel runner under plan, apply and drift: order, worker processes, errors, Ctrl-C.

Fleets of PROCESS_MIN_ITEMS repos or more run in forked worker processes; these tests
make the machine look like it has two CPUs so that path runs on any CI machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pytest

from juniper_rollout import branches, pool
from juniper_rollout.errors import ManifestError
from juniper_rollout.fleet import plan_fleet
from juniper_rollout.manifest import load_manifest
from tests.helpers import git, rollout
from tests.test_manifest import KEY

N = pool.PROCESS_MIN_ITEMS + 8


@pytest.fixture(autouse=True)
def two_cpus(monkeypatch):
    monkeypatch.setattr(pool, "cpus", lambda: 2)


def test_results_come_back_in_order_from_more_than_one_process(tmp_path):
    def job(i):
        (tmp_path / str(os.getpid())).touch()
        deadline = time.monotonic() + 30
        while i == 0 and len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # the first job waits until the other worker has started one too
        return i, os.getpid()

    results = pool.run_in_order(job, list(range(N)), jobs=2)
    assert [i for i, _ in results] == list(range(N))
    pids = {pid for _, pid in results}
    assert len(pids) == 2 and os.getpid() not in pids


def test_jobs_that_wait_on_the_network_get_more_workers_than_cpus(tmp_path):
    """apply --push: a push waiting for its remote holds no CPU, so the pool is bounded by jobs
    (default NETWORK_WORKERS), not by the CPU count (2 here)."""

    deadline = time.monotonic() + 30  # CLOCK_MONOTONIC: one clock for all processes

    def job(i):
        (tmp_path / str(os.getpid())).touch()
        while len(list(tmp_path.iterdir())) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)  # every job waits until four workers have each started one
        return os.getpid()

    pids = set(pool.run_in_order(job, list(range(N)), jobs=4, threads=False, network=True))
    assert len(pids) == 4 and os.getpid() not in pids


def test_a_small_run_stays_in_this_process():
    results = pool.run_in_order(
        lambda i: os.getpid(), list(range(pool.PROCESS_MIN_ITEMS - 1)), jobs=2, threads=False
    )
    assert set(results) == {os.getpid()}


def test_a_manifest_error_in_a_worker_reaches_the_caller_whole():
    def job(i):
        if i == N - 3:
            raise ManifestError("repos.yaml", 12, "template 'x.j2': 'who' is undefined (fix it)")
        return i

    with pytest.raises(ManifestError) as err:
        pool.run_in_order(job, list(range(N)), jobs=2)
    assert str(err.value) == "repos.yaml:12: template 'x.j2': 'who' is undefined (fix it)"


def test_a_stop_starts_no_more_jobs_and_reports_every_finished_one(tmp_path):
    done = tmp_path / "done"
    done.mkdir()
    seen: list[int] = []

    def job(i):
        time.sleep(0.005)  # a repo takes a while
        (done / str(i)).touch()  # the job's effect, as a written branch is apply's
        return i

    results = pool.run_in_order(
        job, list(range(200)), jobs=2, on_result=seen.append, stop=lambda: len(seen) >= 1
    )
    finished = sorted(int(p.name) for p in done.iterdir())
    assert results == seen == finished  # nothing finished goes unreported, and in order
    assert 1 <= len(finished) < 200  # stopped early


def test_after_a_stop_the_workers_start_no_other_job(tmp_path):
    started = tmp_path / "started"
    started.mkdir()
    stopped_at: list[float] = []

    def job(i):
        (
            started / f"{i}-{time.monotonic()}"
        ).touch()  # CLOCK_MONOTONIC: one clock for all processes
        time.sleep(0.02)
        return i

    def stop():
        if not stopped_at and seen:
            stopped_at.append(time.monotonic())
        return bool(stopped_at)

    seen: list[int] = []
    pool.run_in_order(job, list(range(200)), jobs=2, on_result=seen.append, stop=stop)
    late = [p.name for p in started.iterdir() if float(p.name.split("-")[1]) > stopped_at[0] + 0.25]
    assert late == []  # without the shared flag the workers would go on through their queued chunks


def test_a_job_that_crashes_stops_the_others_and_finished_ones_are_reported_first(tmp_path):
    seen: list[int] = []

    def job(i):
        time.sleep(0.005)
        if i == 5:
            raise ZeroDivisionError("a bug")
        return i

    with pytest.raises(RuntimeError, match="ZeroDivisionError: a bug"):
        pool.run_in_order(job, list(range(200)), jobs=2, on_result=seen.append)
    assert seen[:5] == [0, 1, 2, 3, 4] and 5 not in seen
    assert len(seen) < 100  # the workers were stopped


def make_fleet(root, count):
    """``count`` small clones (one commit: a README) and a manifest giving each the defaults."""
    first = root / "ws" / "svc-00"
    first.mkdir(parents=True)
    git(first, "init", "-q", "-b", "main")
    (first / "README.md").write_text("a service\n")
    git(first, "add", "README.md")
    git(first, "commit", "-q", "-m", "init")
    names = [f"svc-{i:02d}" for i in range(count)]
    for name in names[1:]:
        subprocess.run(["cp", "-a", str(first), str(root / "ws" / name)], check=True)
    manifest = root / "repos.yaml"
    manifest.write_text(
        "version: 1\nworkspace: ws\ndefaults:\n  age_recipients:\n    - "
        + KEY
        + "\nrepos:\n"
        + "".join(f"  - name: {n}\n" for n in names)
    )
    return manifest, names


def planned_fleet(root, count):
    """A fleet of ``count`` clones, its loaded manifest and its plans (made by worker processes)."""
    manifest_path, names = make_fleet(root, count)
    manifest = load_manifest(manifest_path)
    return manifest, plan_fleet(manifest, manifest.repos, jobs=2), names


def with_branch(root, names):
    return [
        n
        for n in names
        if git(root / "ws" / n, "branch", "--list", "chore/sops-age-rollout").strip()
    ]


def test_apply_in_worker_processes_writes_every_branch_in_order(tmp_path):
    manifest, plans, names = planned_fleet(tmp_path, N)
    assert [p.name for p in plans] == names and all(p.status == "changes" for p in plans)
    outcomes = branches.apply_plans(manifest, plans, saved=False, push=False, jobs=2)
    assert [o.name for o in outcomes] == names
    assert {o.result for o in outcomes} == {branches.CREATED}
    for name, outcome in zip(names, outcomes, strict=False):
        tip = git(tmp_path / "ws" / name, "rev-parse", "chore/sops-age-rollout").strip()
        assert tip == outcome.commit
        assert (
            git(tmp_path / "ws" / name, "status", "--porcelain") == ""
        )  # the clone itself untouched


def test_ctrl_c_during_a_parallel_apply_finishes_repos_under_way_and_reports_them(tmp_path):
    manifest, plans, names = planned_fleet(tmp_path, 64)
    seen = []

    def interrupt_after_first(outcome):
        seen.append(outcome)
        if len(seen) == 1:
            os.kill(os.getpid(), signal.SIGINT)

    assert threading.current_thread() is threading.main_thread()
    outcomes = branches.apply_plans(
        manifest, plans, saved=False, push=False, jobs=2, on_outcome=interrupt_after_first
    )
    written = with_branch(tmp_path, names)
    assert [
        o.name for o in outcomes
    ] == written  # every branch written is reported, in manifest order
    assert all(o.result == branches.CREATED for o in outcomes)
    assert 1 <= len(written) < len(names)


def test_drift_in_worker_processes_reports_every_repo_in_order(tmp_path):
    manifest_path, names = make_fleet(tmp_path, N)
    result = rollout("drift", "--manifest", manifest_path, "--format", "json")
    assert result.code == 2  # nothing rolled out yet: every repo drifts
    repos = json.loads(result.stdout)["repos"]
    assert [r["name"] for r in repos] == names
    assert all({"path": ".sops.yaml", "state": "missing"} in r["artifacts"] for r in repos)


def test_a_second_ctrl_c_stops_at_once_and_every_written_branch_was_reported(tmp_path):
    manifest, plans, names = planned_fleet(tmp_path, 64)
    seen = []

    def interrupt_twice(outcome):
        seen.append(outcome.name)
        if len(seen) == 1:
            os.kill(os.getpid(), signal.SIGINT)  # the first stops between repos
            os.kill(os.getpid(), signal.SIGINT)  # the second raises KeyboardInterrupt, here

    with pytest.raises(KeyboardInterrupt):
        branches.apply_plans(
            manifest, plans, saved=False, push=False, jobs=2, on_outcome=interrupt_twice
        )
    written = with_branch(tmp_path, names)
    assert seen == written and 1 <= len(written) < len(names)


def test_a_repo_with_a_damaged_object_database_fails_alone(tmp_path):
    manifest, plans, names = planned_fleet(tmp_path, N)
    broken = tmp_path / "ws" / names[3]
    tree = git(broken, "rev-parse", "main^{tree}").strip()
    obj = broken / ".git" / "objects" / tree[:2] / tree[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"not zlib at all")

    outcomes = branches.apply_plans(manifest, plans, saved=False, push=False, jobs=2)
    assert [o.name for o in outcomes] == names
    assert outcomes[3].result == branches.FAILED and "git fsck" in outcomes[3].message
    assert all(o.result == branches.CREATED for i, o in enumerate(outcomes) if i != 3)

    replanned = plan_fleet(manifest, manifest.repos, jobs=2)
    assert replanned[3].status == "error" and "git fsck" in replanned[3].error
    assert all(p.status != "error" for i, p in enumerate(replanned) if i != 3)
