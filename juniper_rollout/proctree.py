"""A subprocess run within a time limit, stopped with everything it started (pass 12a).

``subprocess.run(timeout=…)`` kills the one process it started: git talking to an ssh:// remote runs
``ssh`` as its child, and that ssh, waiting on a remote gone silent, was left running for ever (reparented
to PID 1) after the tool had said "did not finish in 600 s", or after a second Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import functools
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import suppress

MAX_KEPT = 1 << 20  # bytes kept of each of git's streams: its first and last half MB


def run(
    args: list[str],
    *,
    env: dict[str, str],
    timeout: float,
    cwd: str | os.PathLike | None = None,
    keep: int | None = MAX_KEPT,
    stdin: bytes | None = None,
    public_stdin: bool = False,
    seam: bytes = b"",
) -> subprocess.CompletedProcess:
    """``subprocess.run(args, capture_output=True, text=True, …)``; on its time limit or any exception
    here (KeyboardInterrupt, a signal's handler) the process and all its descendants are killed first,
    then the exception goes on (``subprocess.TimeoutExpired`` for the time limit).

    ``keep``: the bytes kept of each stream (its first and last halves); None keeps all of it, for a
    local git whose output is parsed whole (pass 14a: `git diff --name-status -z` of a branch of 8,000
    files lost 1,101 of them from the middle, and the pull request's description said nothing).

    ``stdin``: what the process reads, at most ``PIPE_ROOM`` bytes, put in a pipe before it starts (no
    thread, no file, and never on the command line, which ``ps`` shows every user). With
    ``public_stdin`` (what holds no secret: object ids), any size, through an unlinked temporary file
    when it is larger.

    ``seam``: put between the kept halves of a stream when bytes between them were dropped (pass 19c:
    `git grep`'s output past ``MAX_KEPT`` joined the start of one line to the end of another, so a match
    of a skipped file was read as a match of the path the line began with)."""
    given = None
    if stdin is not None:
        given = _file_holding(stdin) if public_stdin else _pipe_holding(stdin)
    try:
        proc = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdin=given,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=dies_with_us(),
        )
    finally:
        if given is not None:
            os.close(given)
    try:
        out, err = _bounded_output(proc, args, timeout, keep, seam)
    except BaseException:
        kill_tree(proc.pid)
        for stream in (proc.stdout, proc.stderr):  # never read again: a runaway could fill memory
            with suppress(BaseException):
                stream.close()  # type: ignore[union-attr]
        with suppress(BaseException):
            proc.wait()
        raise
    # a remote's hook may print any bytes (`remote: caf\xe9`): a message, never a crash
    # (pass 12a: "unexpected UnicodeDecodeError … a damaged repository?" for a written branch)
    return subprocess.CompletedProcess(
        args, proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")
    )


PIPE_ROOM = 4096  # what any Linux pipe holds unread (one page, even past pipe-user-pages-soft)


def _pipe_holding(data: bytes) -> int:
    """The read end of a pipe that already holds ``data`` and its end."""
    if len(data) > PIPE_ROOM:
        raise ValueError(f"at most {PIPE_ROOM} bytes go to a process's standard input")
    read, write = os.pipe()
    try:
        os.set_blocking(write, False)  # never wait for a reader that has not started
        if data and os.write(write, data) != len(data):
            raise OSError("a pipe held less than one page")
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)
    return read


def _file_holding(data: bytes) -> int:
    """A descriptor reading ``data`` from its start: a pipe when it fits one, else an unlinked
    temporary file (nothing is left behind)."""
    if len(data) <= PIPE_ROOM:
        return _pipe_holding(data)
    with tempfile.TemporaryFile() as held:
        held.write(data)
        held.flush()
        held.seek(0)
        return os.dup(held.fileno())


def _bounded_output(
    proc: subprocess.Popen,
    args: list[str],
    timeout: float,
    keep: int | None = MAX_KEPT,
    seam: bytes = b"",
) -> tuple[bytes, bytes]:
    """Read ``proc``'s stdout and stderr to their end within ``timeout``, keeping at most ``MAX_KEPT``
    bytes of each (its start and its end: git puts the refs' verdicts last). Pass 13a: origin's
    pre-receive hook printing without end was held whole in memory (`communicate`), a MemoryError
    traceback at 1.5 GB, and unbounded without a limit, for up to the 600 s of the push."""
    deadline = time.monotonic() + timeout
    half = keep // 2 if keep is not None else None
    kept: dict[int, list[bytearray]] = {}
    dropped: set[int] = set()  # the streams whose kept halves are not contiguous
    with selectors.DefaultSelector() as selector:
        for stream in (proc.stdout, proc.stderr):
            assert stream is not None
            selector.register(stream, selectors.EVENT_READ)
            kept[stream.fileno()] = [bytearray(), bytearray()]
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(args, timeout)
            for key, _ in selector.select(left):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                head, tail = kept[key.fd]
                if half is None:  # all of it
                    head += chunk
                    continue
                room = half - len(head)
                if room > 0:
                    head += chunk[:room]
                    chunk = chunk[room:]
                tail += chunk
                if len(tail) > half:
                    del tail[: len(tail) - half]
                    dropped.add(key.fd)
    left = deadline - time.monotonic()
    if left <= 0:
        raise subprocess.TimeoutExpired(args, timeout)
    proc.wait(timeout=left)
    joined = []
    for stream in (proc.stdout, proc.stderr):
        fd = stream.fileno()  # type: ignore[union-attr]
        head, tail = kept[fd]
        joined.append(bytes(head + (seam if fd in dropped else b"") + tail))
        stream.close()  # type: ignore[union-attr]
    return joined[0], joined[1]


PR_SET_PDEATHSIG = 1  # linux/prctl.h


@functools.cache
def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def load() -> None:
    """Load what :func:`die_with_parent` calls, before a fork whose child calls it (for a
    ``preexec_fn`` that does more, as sops' does; else :func:`dies_with_us`)."""
    _prctl()


def dies_with_us() -> Callable[[], None]:
    """A ``preexec_fn``: the child dies with this process (every process the tool starts does;
    ``tests/test_children_die.py`` reads the code for the calls)."""
    load()
    return functools.partial(die_with_parent, os.getpid())


def die_with_parent(parent: int) -> None:
    """The kernel SIGKILLs this process when its parent dies (Linux's ``PR_SET_PDEATHSIG``); if the
    parent is already gone, exit now. Called in a forked worker (pool), and in each child
    :func:`run` starts, before it execs: `kill -9` of a worker (or of the tool, by its own death
    signal) left the worker's `git push` running, unrecorded, bound by no time limit (stop 20)."""
    prctl = _prctl()
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the kernel was asked
        os._exit(1)


def kill_children() -> None:
    """SIGKILL every process this one started (and theirs): what its threads run when a second Ctrl-C
    or SIGTERM stops it at once (pass 16a: sync's git fetch and clone, run by worker threads whose
    time limits died with the tool, went on for ever as orphans)."""
    for child in descendants(os.getpid()):
        kill_tree(child)


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
