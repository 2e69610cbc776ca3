"""Where an unexpected exception happened, in a log file the user can attach to a report.

A repo's job that fails with an exception that is not a RolloutError (a bug, or a damaged
object database) is reported as one line naming the exception's type; the rest goes here,
as pre-commit does with its own log. Secret values cannot be in it, by construction: it holds
the exception types and, per frame, file, line, function and that line of *Python source code*
(a template's line is not shown: a template may be a file of values) -- never an exception's
message, an argument or a local variable (a message may quote what was being read, and that may
be plaintext).
"""

from __future__ import annotations

import linecache
import os
import sys
import time
from pathlib import Path


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/juniper-rollout`` (default ``~/.cache/juniper-rollout``). A relative
    ``XDG_CACHE_HOME`` is ignored, as the XDG base directory spec says: it meant a folder under
    wherever the command ran, a clone's working tree among them (pass 19d)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "juniper-rollout"


def describe(err: BaseException, context: str) -> str:
    """The log's text: ``context``, versions, then each exception of the chain (outermost last, as
    Python prints them), with its frames. No message, no value: types and code lines only."""
    from juniper_rollout import __version__

    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        implicit = None if current.__suppress_context__ else current.__context__
        current = current.__cause__ or implicit
    lines = [
        f"juniper-rollout {__version__}, Python {sys.version.split()[0]}, {sys.platform}",
        f"while {context}",
        "(exception messages and values are left out: they may quote what was being read)",
        "",
    ]
    for item in reversed(chain):
        lines.append("Traceback (most recent call last):")
        tb = item.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            lines.append(f'  File "{code.co_filename}", line {tb.tb_lineno}, in {code.co_name}')
            # Python source only: a template's frames name the template's file, and a template may
            # be a file of values (a hard link to `.env`: pass 16b's note)
            source = (
                linecache.getline(code.co_filename, tb.tb_lineno).strip()
                if code.co_filename.endswith(".py")
                else ""
            )
            if source:
                lines.append(f"    {source}")
            tb = tb.tb_next
        lines.append(f"{type(item).__module__}.{type(item).__qualname__}")
        lines.append("")
    return "\n".join(lines)


def record(err: BaseException, context: str) -> Path | None:
    """Write :func:`describe` to a new file under :func:`cache_dir`; its path, or None when it
    cannot be written (the one-line report stands alone then)."""
    try:
        folder = cache_dir()
        if not folder.is_absolute():  # HOME itself relative: no folder of the user's to put it in
            return None
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        path = folder / f"crash-{stamp}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}.log"
        text = describe(err, context)
        # a path git or Python handed over undecoded (a folder named in latin-1: surrogates) is
        # written escaped: a UnicodeEncodeError here escaped the handler, and Python printed both
        # tracebacks, the first one's message included (pass 19d)
        with open(path, "x", encoding="utf-8", errors="backslashreplace") as handle:
            handle.write(text)
        return path
    except Exception:  # the report of a crash never crashes: the one line stands alone then
        return None


def see(path: Path | None) -> str:
    """`` (details: PATH)`` to end a one-line report with, or nothing."""
    return f" (details: {path})" if path is not None else ""
