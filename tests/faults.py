"""Test-only fault injection for the crash-safety test (tests/test_crash.py), kept out of the package:
nothing of it runs in a user's `rollout`. ``install(k)`` wraps gitrepo's write points (each object
stored, the commit, each branch move, taking a repo's rollout lock) so that the process kills itself
(SIGKILL) right after the k-th; ``python tests/faults.py K rollout-args…`` runs the CLI that way."""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WRITE_POINTS = ("_store", "create_commit", "move_branch")


class Faults:
    def __init__(self, after: int) -> None:
        self.after, self.writes = after, 0
        self._saved: dict[str, Any] = {}

    def point(self) -> None:
        self.writes += 1
        if self.writes >= self.after:
            os.kill(os.getpid(), signal.SIGKILL)

    def install(self) -> Faults:
        from juniper_rollout import gitrepo

        for name in WRITE_POINTS:
            self._saved[name] = original = getattr(gitrepo, name)
            setattr(gitrepo, name, self._after(original))
        self._saved["rollout_lock"] = lock = gitrepo.rollout_lock

        @contextmanager
        def rollout_lock(*args, **kwargs):
            with lock(*args, **kwargs):
                self.point()
                yield

        gitrepo.rollout_lock = rollout_lock
        return self

    def uninstall(self) -> None:
        from juniper_rollout import gitrepo

        for name, original in self._saved.items():
            setattr(gitrepo, name, original)

    def _after(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            result = fn(*args, **kwargs)
            self.point()
            return result

        return wrapped


def install(after: int) -> Faults:
    return Faults(after).install()


if __name__ == "__main__":  # python tests/faults.py K ARGS…: the CLI, killed after its K-th write
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    install(int(sys.argv[1]))
    from juniper_rollout.cli import main

    sys.argv = ["rollout", *sys.argv[2:]]
    main()
