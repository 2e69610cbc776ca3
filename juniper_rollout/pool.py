"""Run one job per repo in parallel; results come back in the order of the repos.

Planning and writing are mostly Python (YAML, templates, gitdb, zlib) and hold the
GIL, so threads only overlap subprocesses. A fleet of ``PROCESS_MIN_ITEMS`` or more
is split across forked worker processes, one per CPU (at most ``jobs``): they start
in milliseconds from this process as it is (manifest loaded, templates compiled) and
send back only results, which must pickle.

``stop`` is polled between repos, by this process and by every worker: once it says
yes, no repo is started any more, the ones under way finish, and the results of all
finished repos come back (a repo after an unfinished one may have finished too).
"""
from __future__ import annotations

import os
import signal
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

from juniper_rollout.errors import ManifestError

T = TypeVar("T")
R = TypeVar("R")

PROCESS_MIN_ITEMS = 16  # below this, worker processes save less than they cost


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
) -> list[R]:
    """``[job(i) for i in items]``, in parallel where it pays. ``threads=False``: no thread pool
    for small runs (one repo after another), for jobs that only pay in separate processes."""
    report = on_result or (lambda result: None)
    workers = max(1, min(jobs or default_jobs(), len(items) or 1))
    processes = min(workers, cpus())
    if processes > 1 and len(items) >= PROCESS_MIN_ITEMS and sys.platform == "linux":
        return _in_processes(job, items, processes, report, stop)
    if workers == 1 or not threads:
        results = []
        for item in items:
            if stop():
                break
            results.append(job(item))
            report(results[-1])
        return results
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = []
        for result in pool.map(job, items):
            results.append(result)
            report(result)
        return results


# --- worker processes ---------------------------------------------------------------------

@dataclass(frozen=True)
class _ManifestFailure:
    """A ManifestError on its way back from a worker (the exception itself does not pickle)."""

    file: str
    line: int | None
    text: str

    def error(self) -> ManifestError:
        err = ManifestError(self.file, self.line, "")
        err.args = (self.text,)
        return err


_work: tuple[Callable, Sequence, object] | None = None  # (job, items, stop flag) in a forked worker


def _in_processes(job: Callable[[T], R], items: Sequence[T], processes: int,
                  report: Callable[[R], None], stop: Callable[[], bool]) -> list[R]:
    import multiprocessing  # only here: the imports cost more than a small run
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    stopping = context.Value("b", 0, lock=False)
    # fork: the workers start from this process as it is. Flush first: a worker flushes the
    # stdio buffers it inherited when it exits, which would print them twice.
    sys.stdout.flush()
    sys.stderr.flush()
    pool = ProcessPoolExecutor(processes, mp_context=context, initializer=_start_worker,
                               initargs=(job, items, stopping))
    size = max(1, min(16, len(items) // (processes * 4)))
    chunks: list[Future] = [pool.submit(_run_chunk, start, min(start + size, len(items)))
                            for start in range(0, len(items), size)]
    results: list[R] = []
    try:
        for index, future in enumerate(chunks):
            chunk = _wait(future, stop)
            if chunk is None:
                break
            for result in _unwrap(chunk):
                results.append(result)
                report(result)
        else:
            return results
        stopping.value = 1  # the workers finish the repo at hand, then start no other
        for future in chunks[index:]:
            future.cancel()
        for future in chunks[index:]:
            if not future.cancelled():
                for result in _unwrap(future.result()):
                    results.append(result)
                    report(result)
        return results
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _wait(future: Future, stop: Callable[[], bool]) -> list | None:
    """The chunk's results, or None once ``stop`` says so."""
    from concurrent.futures import TimeoutError

    while not stop():
        try:
            return future.result(timeout=0.05)
        except TimeoutError:
            continue
    return None


@dataclass(frozen=True)
class _Skipped:
    """A repo a worker did not start because of a stop."""


def _unwrap(chunk: list) -> list:
    for result in chunk:
        if isinstance(result, _ManifestFailure):
            raise result.error()
    return [r for r in chunk if not isinstance(r, _Skipped)]


def _start_worker(job: Callable, items: Sequence, stopping) -> None:
    global _work
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it tells us through ``stopping``
    _work = (job, items, stopping)


def _run_chunk(start: int, end: int) -> list:
    assert _work is not None, "not in a worker started by run_in_order"
    job, items, stopping = _work
    out = []
    for index in range(start, end):
        if stopping.value:
            out.append(_Skipped())
            continue
        try:
            out.append(job(items[index]))
        except ManifestError as err:
            out.append(_ManifestFailure(err.file, err.line, str(err)))
    return out
