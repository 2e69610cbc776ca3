"""A subprocess run within a time limit, stopped with everything it started (pass 12a).

``subprocess.run(timeout=…)`` kills the one process it started: git talking to an ssh:// remote runs
``ssh`` as its child, and that ssh, waiting on a remote gone silent, was left running for ever (reparented
to PID 1) after the tool had said "did not finish in 600 s", or after a second Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
from contextlib import suppress


def run(
    args: list[str], *, env: dict[str, str], timeout: float, cwd: str | os.PathLike | None = None
) -> subprocess.CompletedProcess:
    """``subprocess.run(args, capture_output=True, text=True, …)``; on its time limit or any exception
    here (KeyboardInterrupt, a signal's handler) the process and all its descendants are killed first,
    then the exception goes on (``subprocess.TimeoutExpired`` for the time limit)."""
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a remote's hook may print any bytes (`remote: caf\xe9`): a message, never a crash
        # (pass 12a: "unexpected UnicodeDecodeError … a damaged repository?" for a written branch)
        errors="replace",
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        kill_tree(proc.pid)
        with suppress(BaseException):
            proc.communicate()
        raise
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def kill_tree(pid: int) -> None:
    """SIGKILL ``pid`` and every process below it. It is stopped first (SIGSTOP), so it starts no
    other child while the tree is read from /proc."""
    with suppress(OSError):
        os.kill(pid, signal.SIGSTOP)
    for each in [pid, *descendants(pid)]:
        with suppress(OSError):
            os.kill(each, signal.SIGKILL)


def descendants(*pids: int) -> list[int]:
    """Every process below ``pids`` (children, their children, …), read from /proc; [] without it."""
    below: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                parent = int(handle.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        below.setdefault(parent, []).append(int(entry))
    found, stack = [], [child for pid in pids for child in below.get(pid, [])]
    while stack:
        each = stack.pop()
        found.append(each)
        stack += below.get(each, [])
    return found
