"""Ctrl-C, SIGTERM and SIGHUP stop a command, even when Python swallows the interrupt they raise.

A KeyboardInterrupt raised while a finalizer runs (GitPython's ``Repo.__del__``, closing the git
processes of each repository the tool opened) is dropped by Python: it prints "Exception ignored in
…" with a traceback and the command goes on to its end (pass 27f: one SIGTERM in about thirty sent
to a 20-repo drift; apply wrote every branch after it). So a stop is recorded before its interrupt is
raised, and the command looks for it where it can stop cleanly: between repos (``pool``, apply's
write phase) and when it returns (:func:`handled`: exit 130). A recorded stop is never raised from
a timer or another thread, so where it takes effect does not depend on timing.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# the signals that asked the command at hand to stop; None outside :func:`handled` (the Python API
# called without it keeps no stop for later: a KeyboardInterrupt it caught is its own)
_stops: list[int] | None = None


def stop_at_once(signum: int, frame: Any) -> None:
    """A signal handler: the stop is recorded, then raised as Ctrl-C's KeyboardInterrupt."""
    note(signum)
    raise KeyboardInterrupt


def note(signum: int) -> None:
    """A stop another handler held (apply's first Ctrl-C, which lets the repo at hand finish): the
    command still ends as interrupted."""
    if _stops is not None:
        _stops.append(signum)


def requested() -> bool:
    return bool(_stops)


def check() -> None:
    """Raise the recorded stop: called where the command can stop cleanly (never in a finalizer)."""
    if _stops:
        raise KeyboardInterrupt


@contextmanager
def handled() -> Iterator[None]:
    """Within: Ctrl-C, SIGTERM and SIGHUP stop at once (SIGHUP and SIGINT only where they were not
    ignored: `nohup`, a background job), one a finalizer swallowed is silent and raised at the next
    check, and a command that returns after a stop raises it (exit 130). The main thread only."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stops = [signal.SIGTERM]
    if signal.getsignal(signal.SIGHUP) == signal.SIG_DFL:
        stops.append(signal.SIGHUP)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        stops.append(signal.SIGINT)
    global _stops
    earlier, _stops = _stops, []
    previous = {each: signal.signal(each, stop_at_once) for each in stops}
    hook = sys.unraisablehook
    sys.unraisablehook = _quiet_when_recorded(hook)
    try:
        yield
        check()
    finally:
        sys.unraisablehook = hook
        for each, handler in previous.items():
            signal.signal(each, handler)
        _stops = earlier


def _quiet_when_recorded(hook: Any) -> Any:
    def unraisable(what: Any) -> object:
        if _stops and what.exc_type is not None and issubclass(what.exc_type, KeyboardInterrupt):
            return None  # recorded: raised at the next check, not printed as a traceback
        return hook(what)

    return unraisable
