"""Run one job per repo in parallel; results come back in the order of the repos.

Planning and writing are mostly Python (YAML, templates, gitdb, zlib) and hold the
GIL, so threads only overlap subprocesses. A fleet of ``PROCESS_MIN_ITEMS`` or more
is split across forked worker processes, one per CPU (at most ``jobs``): they start
in milliseconds from this process as it is (manifest loaded, templates compiled) and
send back only results, which must pickle.

``stop`` is polled between repos, by this process and by every worker: once it says
yes, no repo is started any more, the ones under way finish, and the results of all
finished repos come back (a repo after an unfinished one may have finished too).
A second Ctrl-C (KeyboardInterrupt) or a job's failure stops the workers the same way
and reports what finished before it propagates. A job run in this process that is stopped
part-way with something done may raise :class:`Interrupted` carrying its result: it is
reported before the interrupt goes on.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, TypeVar

from juniper_rollout import interrupts
from juniper_rollout.errors import ManifestError, RolloutError
from juniper_rollout.proctree import descendants, die_with_parent, kill_children

T = TypeVar("T")
R = TypeVar("R")

PROCESS_MIN_ITEMS = 16  # below this, worker processes save less than they cost
NETWORK_WORKERS = 8  # worker processes for jobs that wait on the network (a bounded pool)


class Interrupted(KeyboardInterrupt):
    """A Ctrl-C that stopped a job after it had done something to report (apply: a branch written,
    its push cut short): ``result`` is that job's result."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


def default_jobs() -> int:
    return max(1, min(8, (os.cpu_count() or 1) * 2))


def cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def run_in_order(
    job: Callable[[T], R],
    items: Sequence[T],
    *,
    jobs: int | None = None,
    threads: bool = True,
    on_result: Callable[[R], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
    network: bool = False,
) -> list[R]:
    """``[job(i) for i in items]``, in parallel where it pays. ``threads=False``: no thread pool
    for small runs (one repo after another), for jobs that only pay in separate processes.
    ``network=True``: each job also waits on the network (apply's push), so a fleet gets up to
    ``NETWORK_WORKERS`` worker processes (``jobs`` if given), not one per CPU: a push waiting for
    its remote does not hold a CPU."""
    report = on_result or (lambda result: None)
    interrupts.check()  # a stop a finalizer swallowed before: no repo is started
    workers = max(1, min(jobs or (NETWORK_WORKERS if network else default_jobs()), len(items) or 1))
    processes = workers if network else min(workers, cpus())
    if processes > 1 and len(items) >= PROCESS_MIN_ITEMS and sys.platform == "linux":
        return _in_processes(job, items, processes, report, stop)
    if workers == 1 or not threads:
        results = []
        for item in items:
            if stop():
                break
            interrupts.check()
            try:
                results.append(job(item))
            except Interrupted as cut:  # what the job did is reported before the interrupt goes on
                report(cut.result)
                raise
            report(results[-1])
        return results
    return in_threads(job, items, workers, report)


def in_threads(
    job: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    report: Callable[[R], None] = lambda result: None,
) -> list[R]:
    """``[job(i) for i in items]`` in a pool of ``workers`` threads, reported in order. Ctrl-C: the
    jobs under way finish; a second one stops at once, and stops what the threads run."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        results = []
        for result in pool.map(job, items):
            results.append(result)
            report(result)
            interrupts.check()
        return results
    except BaseException:
        try:
            pool.shutdown(wait=True, cancel_futures=True)  # the jobs under way finish
        except BaseException:
            # a second Ctrl-C / SIGTERM stops the wait at once, and what the threads run with it
            # (pass 16a: sops and its key command ran on for ever once the tool had exited)
            kill_children()
            raise
        raise
    finally:
        pool.shutdown(wait=True)


# --- worker processes ---------------------------------------------------------------------


@dataclass(frozen=True)
class _ManifestFailure:
    """A ManifestError on its way back from a worker (the exception itself does not pickle)."""

    file: str
    line: int | None
    text: str

    def throw(self) -> None:
        err = ManifestError(self.file, self.line, "")
        err.args = (self.text,)
        raise err


_work: tuple[Callable, Sequence, Any] | None = None  # (job, items, stop flag) in a forked worker
_parent: int | None = None  # the pid of the process that started this worker


def _in_processes(
    job: Callable[[T], R],
    items: Sequence[T],
    processes: int,
    report: Callable[[R], None],
    stop: Callable[[], bool],
) -> list[R]:
    import multiprocessing  # only here: the imports cost more than a small run
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    stopping = context.Value("b", 0, lock=False)
    # fork: the workers start from this process as it is. Flush first: a worker flushes the
    # stdio buffers it inherited when it exits, which would print them twice.
    sys.stdout.flush()
    sys.stderr.flush()
    with _Held() as signals:
        return _run_pool(
            ProcessPoolExecutor, context, stopping, signals, job, items, processes, report, stop
        )


def _run_pool(
    executor, context, stopping, signals: _Held, job, items, processes, report, stop
) -> list:
    pool = executor(
        processes,
        mp_context=context,
        initializer=_start_worker,
        initargs=(job, items, stopping, os.getpid()),
    )
    size = max(1, min(16, len(items) // (processes * 4)))
    chunks: list[Future] = [
        pool.submit(_run_chunk, start, min(start + size, len(items)))
        for start in range(0, len(items), size)
    ]
    shown = _Shown(report)
    pending = list(chunks)  # in order; the first is the one to report next
    try:
        while pending:
            signals.deliver()
            chunk = _wait(pending[0], lambda: _deliver_then(signals, stop))
            if chunk is None:
                break
            pending.pop(0)
            shown.take(chunk)
        else:
            return shown.results
        stopping.value = 1  # the workers finish the repo at hand, then start no other
        _drain(pending, shown, signals, pool)
        return shown.results
    except BrokenProcessPool:  # the executor has stopped every worker
        shown.catch_up()
        raise RolloutError(
            "a worker process died (out of memory?); the repos reported above are done, "
            "run again for the others"
        ) from None
    except (
        BaseException
    ):  # a second Ctrl-C, or a failure in a job: stop the others, report what finished
        stopping.value = 1
        shown.catch_up()
        _drain(pending, shown, signals, pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _Held:
    """Ctrl-C and SIGTERM held while the pool is set up, waited on and shut down, and handed to
    the handlers they were meant for only at safe points (between waits): a KeyboardInterrupt
    raised inside the executor's own locks and queues can leave it hanging for ever."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.pending: list[int] = []
        self.handlers: dict[int, Any] = {}

    def __enter__(self) -> _Held:
        import threading

        if threading.current_thread() is threading.main_thread():
            self.handlers = {each: signal.signal(each, self._hold) for each in self.SIGNALS}
        return self

    def _hold(self, signum, frame) -> None:
        self.pending.append(signum)

    def deliver(self) -> None:
        """Run the handler each held signal was meant for (it may raise KeyboardInterrupt)."""
        while self.pending:
            signum = self.pending.pop(0)
            handler = self.handlers.get(signum)
            if handler == signal.SIG_DFL:
                if signum == signal.SIGINT:
                    raise KeyboardInterrupt
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)
            elif callable(handler):
                handler(signum, None)
                # the handler installed others for next time: held too (pass 11a: a first SIGTERM's
                # handler set SIGINT's, which then raised inside the pool's wait, unheld, and a Ctrl-C
                # could no longer stop workers waiting on the network)
                for each in self.SIGNALS:
                    now = signal.getsignal(each)
                    if now is not None and now != self._hold:
                        self.handlers[each] = now
                        signal.signal(each, self._hold)

    def __exit__(self, *exc) -> None:
        for each, handler in self.handlers.items():
            signal.signal(each, handler)
        held, self.pending = self.pending, []
        for signum in held:
            signal.raise_signal(signum)


class _Shown:
    """Results in order, each reported once, even when a report is cut short by Ctrl-C."""

    def __init__(self, report: Callable) -> None:
        self.report = report
        self.results: list = []
        self.count = 0  # how many of ``results`` were reported

    def take(self, chunk: list) -> None:
        """A chunk's results; a job's failure is raised once the others are reported."""
        failure = None
        for result in chunk:
            if isinstance(result, (_ManifestFailure, _Crashed)):
                failure = failure or result
            elif not isinstance(result, _Skipped):
                self.results.append(result)
        self.catch_up()
        if failure is not None:
            failure.throw()

    def catch_up(self) -> None:
        while self.count < len(self.results):
            self.count += 1
            self.report(self.results[self.count - 1])


def _wait(future: Future, stop: Callable[[], bool]) -> list | None:
    """The chunk's results, or None once ``stop`` says so."""
    from concurrent.futures import TimeoutError

    while not stop():
        try:
            return future.result(timeout=0.05)
        except TimeoutError:
            continue
    return None


def _drain(
    pending: list[Future], shown: _Shown, signals: _Held | None = None, pool: Any = None
) -> None:
    """Cancel the chunks not started; report every repo the started ones finished, in order.

    Another Ctrl-C, SIGTERM or SIGHUP while waiting for them stops the workers at once (pass 11a: a
    worker whose push waited on a silent remote held the run for ever, every later signal held
    unseen here); the signal is raised again when the pool's signals are handed back."""
    for future in pending:
        future.cancel()
    for future in pending:
        if future.cancelled():
            continue
        try:
            chunk = _result_unless_signalled(future, signals, pool)
        except Exception:  # a broken pool: nothing to report from this chunk
            continue
        shown.results += [
            r for r in chunk if not isinstance(r, (_Skipped, _ManifestFailure, _Crashed))
        ]
        shown.catch_up()
    pending.clear()


def _result_unless_signalled(future: Future, signals: _Held | None, pool: Any) -> list:
    from concurrent.futures import TimeoutError

    def heard() -> int:  # held signals that were not ignored before (`nohup`: SIGHUP stays so)
        if signals is None:
            return 0
        return sum(signals.handlers.get(s) != signal.SIG_IGN for s in signals.pending)

    seen = heard()
    while True:
        try:
            return future.result(timeout=0.05)
        except TimeoutError:
            if heard() > seen:
                seen = heard()
                _stop_workers_children(pool)


def _stop_workers_children(pool: Any) -> None:
    """SIGTERM to what the workers run (git, sops, ssh: every process below a worker), never to a
    worker itself: its job then fails in one line, it starts no other repo (``stopping``), and its
    chunk comes back whole (a killed worker would break the pool: its finished repos unreported)."""
    for pid in descendants(*(getattr(pool, "_processes", None) or {})):
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass


@dataclass(frozen=True)
class _Skipped:
    """A repo a worker did not start because of a stop."""


@dataclass(frozen=True)
class _Crashed:
    """An exception a job did not expect (a bug), with the worker's traceback."""

    text: str

    def throw(self) -> None:
        raise RuntimeError(f"a worker failed:\n{self.text}")


def _deliver_then(signals: _Held, stop: Callable[[], bool]) -> bool:
    signals.deliver()
    interrupts.check()
    return stop()


def _start_worker(job: Callable, items: Sequence, stopping, parent: int) -> None:
    global _work, _parent
    signal.signal(
        signal.SIGINT, signal.SIG_IGN
    )  # Ctrl-C is the parent's: it tells us through ``stopping``
    signal.signal(
        signal.SIGTERM, signal.SIG_DFL
    )  # not the parent's handler: the pool's own terminate() uses it
    # A process group of its own: a signal to the parent's group (Ctrl-C in a terminal,
    # `kill -TERM -PGID`, `timeout`, a CI runner's cancel) reaches the parent only, which stops the
    # workers through ``stopping`` after the repo at hand, so every branch written is reported.
    # SIGTERM sent to a worker by its pid (the pool's terminate()) still ends it at once.
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    _die_with(parent)
    _work, _parent = (job, items, stopping), parent


def _die_with(parent: int) -> None:
    """The kernel kills this worker when its parent dies (kill -9 included): no orphan goes on
    writing branches nobody reports. Elsewhere, :func:`_orphaned` is checked between repos."""
    die_with_parent(parent)


def _orphaned(parent: int | None) -> bool:
    return parent is not None and os.getppid() != parent


def _run_chunk(start: int, end: int) -> list:
    assert _work is not None, "not in a worker started by run_in_order"
    job, items, stopping = _work
    out: list[Any] = []
    for index in range(start, end):
        if _orphaned(_parent):  # nobody would report this repo: write nothing more
            os._exit(1)
        if stopping.value:
            out.append(_Skipped())
            continue
        try:
            out.append(job(items[index]))
        except ManifestError as err:
            out.append(_ManifestFailure(err.file, err.line, str(err)))
        except (
            Exception
        ):  # not pickled as is: it may not pickle; the other repos of the chunk go on
            import traceback

            out.append(_Crashed(traceback.format_exc()))
    return out
