"""`kill -9` of the tool mid-push leaves no `git push` running (issue 13 item 10, left open at stop 20).

The tool's workers die with it (PR_SET_PDEATHSIG, pool.py), but the `git push` a worker or the tool
had started went on: reparented to PID 1, outside any time limit, its result recorded nowhere. Each
child proctree.run starts now asks the kernel for the same death signal."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.helpers import push_held_by_origin


def _git_processes_in(repo: Path, *, any_command: bool = False) -> list[int]:
    """Live git processes whose working directory is ``repo`` (the tool's push runs there), or any
    process working there or below (``any_command``: origin's receive-pack and its hook)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not any_command and (entry / "comm").read_text().strip() != "git":
                continue
            cwd = os.readlink(entry / "cwd")
            if cwd != str(repo) and not (any_command and cwd.startswith(f"{repo}/")):
                continue
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
        except OSError:
            continue
        found.append(int(entry.name))
    return found


def test_kill_9_mid_push_leaves_no_git_push_running(fleet, tmp_path):
    proc, repo, origin, _ = push_held_by_origin(fleet, tmp_path, "pre-receive", 30)
    try:
        assert _git_processes_in(repo), "no git push running in the clone"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _git_processes_in(repo):
            time.sleep(0.05)
        left = _git_processes_in(repo)
    finally:
        # clean up before failing: the push, and origin's receive-pack with its sleeping hook
        for pid in _git_processes_in(repo) + _git_processes_in(origin, any_command=True):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert left == [], "git push outlived the killed apply"
