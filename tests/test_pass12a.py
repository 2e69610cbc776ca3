"""Pass 12a of the outside adversary (issue 13, items 1-4 and 10-12, over pass 11a's new code): each test
failed on main (3da00d8) before its fix.

The attempts, held and broken, are logged in the pass-12a log; SECURITY.md lists each guarantee.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import git as gitpython
import pytest

from tests.helpers import git, rollout
from tests.test_pass3 import BRANCH
from tests.test_pass10a import _apply
from tests.test_pass11a import _stalling_server

ML = "juniper-ml"


def _ssh_left(port: int) -> list[str]:
    return subprocess.run(
        ["pgrep", "-f", f"ssh.* -p {port} "], capture_output=True, text=True
    ).stdout.split()


def _kill_left(port: int) -> None:
    for pid in _ssh_left(port):
        os.kill(int(pid), signal.SIGKILL)


# --- item 10/11: git's children end with it ------------------------------------------------------


def test_a_push_over_ssh_that_never_answers_leaves_no_ssh_behind(fleet, monkeypatch):
    """`apply --push` to an ssh:// remote that accepts and never answers: pass 11a's time limit ended
    the push with one line, but killed git alone: its ssh child, waiting on the silent remote, ran on
    for ever (reparented to PID 1)."""
    from juniper_rollout import errors, gitrepo

    repo = fleet.repo(ML)
    assert _apply(fleet, ML).code == 0
    server = _stalling_server()
    port = server.getsockname()[1]
    git(repo, "remote", "add", "origin", f"ssh://git@127.0.0.1:{port}/x.git")
    monkeypatch.setattr(gitrepo, "PUSH_TIMEOUT", 3.0)
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:ssh")
    try:
        with pytest.raises(errors.RolloutError, match="git push to origin did not finish in 3 s"):
            gitrepo.push(gitpython.Repo(repo), BRANCH)
        time.sleep(0.5)
        left = _ssh_left(port)
    finally:
        _kill_left(port)
        server.close()
    assert not left, "ssh left running after the push's time limit"


def test_sync_over_ssh_that_never_answers_leaves_no_ssh_behind(fleet, monkeypatch):
    """The same for sync's fetch (remote.py's time limit killed git, not its ssh)."""
    from juniper_rollout import remote

    monkeypatch.setattr(remote, "NETWORK_TIMEOUT", 3.0)
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:ssh")
    server = _stalling_server()
    port = server.getsockname()[1]
    git(fleet.repo(ML), "remote", "add", "origin", f"ssh://git@127.0.0.1:{port}/x.git")
    try:
        result = rollout("sync", "-m", fleet.manifest, "--repo", ML)
        time.sleep(0.5)
        left = _ssh_left(port)
    finally:
        _kill_left(port)
        server.close()
    assert "did not finish in 3 s" in result.stdout, result.stdout + result.stderr
    assert not left, "ssh left running after sync's time limit"
