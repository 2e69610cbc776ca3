"""A second SIGTERM during the push of a branch written one repo after another (no worker
processes): the run said "interrupted" alone, and the branch it had just moved was never reported
(issue 13, item 10; round three left it open). Worker processes report theirs since pass 11a."""

from __future__ import annotations

from tests.helpers import git
from tests.test_pass3 import BRANCH
from tests.test_pass11a import sigterm_twice_during_a_push

ML = "juniper-ml"


def test_a_second_sigterm_during_a_serial_push_still_reports_the_written_branch(fleet):
    code, out, err, _ = sigterm_twice_during_a_push(fleet)
    assert code == 130 and "interrupted" in err, out + err
    tip = git(fleet.repo(ML), "rev-parse", "--short=7", BRANCH).strip()
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
