"""A second SIGTERM during the push of a branch written one repo after another (no worker
processes): the run said "interrupted" alone, and the branch it had just moved was never reported
(issue 13, item 10; round three left it open). Worker processes report theirs since pass 11a."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.helpers import git
from tests.test_pass3 import BRANCH
from tests.test_pass11a import ROOT, _stalling_server

ML = "juniper-ml"


def test_a_second_sigterm_during_a_serial_push_still_reports_the_written_branch(fleet):
    repo = fleet.repo(ML)
    server = _stalling_server()
    git(repo, "remote", "add", "origin", f"git://127.0.0.1:{server.getsockname()[1]}/x.git")
    proc = subprocess.Popen(
        [sys.executable, "-m", "juniper_rollout.cli", "apply", "-m", str(fleet.manifest)]
        + ["--repo", ML, "--yes", "--push"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "GIT_ALLOW_PROTOCOL": "file:git"},
    )

    def pushing() -> list[str]:
        return subprocess.run(
            ["pgrep", "-s", str(proc.pid), "-f", "git push"], capture_output=True, text=True
        ).stdout.split()

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not pushing():
            time.sleep(0.1)
        assert pushing(), "git push never started"
        proc.send_signal(signal.SIGTERM)
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("a second SIGTERM did not stop the run") from None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in pushing():
            os.kill(int(pid), signal.SIGKILL)
        server.close()
    assert proc.returncode == 130 and "interrupted" in err, out + err
    tip = git(repo, "rev-parse", "--short=7", BRANCH).strip()
    assert f"{ML}: failed  {BRANCH} at {tip}" in out, out + err
    assert "not pushed: its push to origin was interrupted" in out, out + err
    assert "Traceback" not in err, err


def test_a_failed_push_says_the_branch_was_written_first(fleet):
    """Round four: a push that failed after the branch was written said "failed  push to origin
    failed: …" alone, as if nothing had been written."""
    from tests.helpers import rollout

    repo = fleet.repo(ML)
    result = rollout("apply", "-m", fleet.manifest, "--repo", ML, "--yes", "--push")  # no origin
    assert result.code == 1, result.stdout + result.stderr
    tip = git(repo, "rev-parse", "--short=7", BRANCH).strip()
    assert f"{ML}: failed  {BRANCH} at {tip}; not pushed: push to origin failed" in result.stdout, (
        result.stdout
    )
