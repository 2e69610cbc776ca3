"""Writing a file so that it is whole or absent: the data goes to a temp file beside the target
(same folder, so the rename is atomic), is flushed to disk with its mode set, then renamed (or
hard-linked) into place. The one helper for the plan file, the manifest, rotate and key files."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_aside(path: Path, data: bytes, *, mode: int = 0o600) -> Path:
    """``data`` in a new temp file beside ``path`` (``.NAME.*.tmp``), synced, with ``mode``. The caller
    renames or links it into place, or unlinks it; on failure nothing is left behind."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def replace(
    path: Path, data: bytes, *, mode: int = 0o600, check: Callable[[], None] | None = None
) -> None:
    """Write ``data`` over ``path`` atomically with ``mode``; ``check`` runs just before the rename and
    may raise to leave ``path`` as it was."""
    temp = write_aside(path, data, mode=mode)
    try:
        if check is not None:
            check()
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def cannot_rewrite(path: Path, err: OSError) -> str:
    """Why ``path`` (the manifest, rewritten through a temp file beside it) could not be written, in
    one line for the user: the disk's refusal, never a traceback."""
    folder = path.parent
    why = {
        errno.EROFS: f"{folder} is on a read-only file system",
        errno.ENOSPC: f"no space left in {folder}",
        errno.EDQUOT: f"the disk quota of {folder} is full",
        errno.EACCES: f"no permission to create a file in {folder}",
        errno.EPERM: f"no permission to create a file in {folder}",
    }.get(err.errno or 0, f"{err.strerror or type(err).__name__}")
    return (
        f"cannot rewrite {path}: {why} (it is written through a temp file beside it, then renamed); "
        "nothing changed"
    )
