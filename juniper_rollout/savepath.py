"""Why a path cannot take a file the tool saves (``plan --out``), in words: one clause saying what
is wrong and how to fix it, or None when a regular file can be written there atomically (a temp
file beside it, renamed over it). Reads the file system, writes nothing."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from juniper_rollout.wording import shell_word

STDOUT_HINT = "or `--out -` for standard output"

# file systems that hold no saved files: the kernel's views of processes, devices and settings
PSEUDO_FILE_SYSTEMS = frozenset(
    {
        "proc",
        "sysfs",
        "cgroup",
        "cgroup2",
        "debugfs",
        "tracefs",
        "securityfs",
        "pstore",
        "bpf",
        "configfs",
        "efivarfs",
        "binfmt_misc",
        "fusectl",
        "mqueue",
        "nsfs",
    }
)
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def problem(path: Path) -> str | None:
    """What stops a regular file being saved at ``path``, and the way out; None: nothing."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        st = None
    except OSError as err:
        return _os_error(path, err)
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            return (
                "is a symlink; the plan is saved only as a regular file "
                f"(give another path, {STDOUT_HINT})"
            )
        if not stat.S_ISREG(st.st_mode):
            kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a file")
            return f"is not a regular file: it is {kind}; give a file path, {STDOUT_HINT}"
    # the folders on the way resolved too: through a symlink to a clone's .git (pass 6)
    real = Path(os.path.realpath(path.parent)) / path.name
    if ".git" in path.absolute().parts or ".git" in real.parts:
        return (
            "is inside a .git folder, which git keeps for itself (a plan saved there can replace "
            f"HEAD, a ref or the config of a clone); give a path outside it, {STDOUT_HINT}"
        )
    folder = path.parent
    blocker = _non_folder(folder)
    if blocker is not None:
        return f"{blocker} is a file, not a folder; give a path inside a folder, {STDOUT_HINT}"
    if not folder.is_dir():
        return _no_folder(folder)
    fs = file_system(folder)
    if fs is not None and fs[0] in PSEUDO_FILE_SYSTEMS:
        return (
            f"is on the {fs[0]} file system mounted at {fs[1]}, which holds no saved files; "
            f"give a path in an ordinary folder, {STDOUT_HINT}"
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        return _cannot_create(folder, errno.EACCES)
    return None


def write_error(path: Path, err: OSError) -> str:
    """An ``OSError`` from writing ``path`` (temp file, sync, rename), in the same words."""
    return _os_error(path, err)


def _os_error(path: Path, err: OSError) -> str:
    code = err.errno
    if code == errno.ENAMETOOLONG:
        return f"the name is too long for the file system; give a shorter path, {STDOUT_HINT}"
    if code == errno.ENOTDIR:
        blocker = _non_folder(path.parent)
        where = f"{blocker} is a file" if blocker is not None else "a part of the path is a file"
        return f"{where}, not a folder; give a path inside a folder, {STDOUT_HINT}"
    if code == errno.ELOOP:
        return f"the path goes through a loop of symlinks; give another path, {STDOUT_HINT}"
    if code in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"no space left for it in {path.parent} (device or quota full); free some space "
            f"or give a path on another disk, {STDOUT_HINT}"
        )
    if code in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT):
        return _cannot_create(path.parent, code)
    return f"cannot write there ({err.strerror}); give another path, {STDOUT_HINT}"


def _cannot_create(folder: Path, code: int | None) -> str:
    if code == errno.EROFS or _read_only(folder):
        return (
            f"{folder} is on a read-only file system; give a path on a writable one, {STDOUT_HINT}"
        )
    fs = file_system(folder)
    if fs is not None and fs[0] in PSEUDO_FILE_SYSTEMS:
        return (
            f"is on the {fs[0]} file system mounted at {fs[1]}, which holds no saved files; "
            f"give a path in an ordinary folder, {STDOUT_HINT}"
        )
    if code == errno.ENOENT and folder.is_dir():
        return (
            f"{folder} takes no new files (a special file system?); give a path in an "
            f"ordinary folder, {STDOUT_HINT}"
        )
    if code == errno.ENOENT:
        return _no_folder(folder)
    return (
        f"no permission to create a file in {folder}; give a folder you can write to, {STDOUT_HINT}"
    )


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _non_folder(folder: Path) -> Path | None:
    """The nearest existing ancestor of ``folder`` (itself included) when it is not a folder."""
    for candidate in (folder, *folder.parents):
        try:
            st = candidate.stat()
        except FileNotFoundError:
            continue
        except OSError:
            return None
        return None if stat.S_ISDIR(st.st_mode) else candidate
    return None


def file_system(folder: Path) -> tuple[str, str] | None:
    """(type, mount point) of the file system holding ``folder``, from /proc/self/mountinfo;
    None where there is no such file (not Linux)."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
            table = handle.read().splitlines()
    except OSError:
        return None
    real = os.path.realpath(folder)
    best: tuple[str, str] | None = None
    for line in table:
        fields, _, rest = line.partition(" - ")
        parts = fields.split(" ")
        if len(parts) < 5 or not rest:
            continue
        mount = _unescape(parts[4])
        inside = real == mount or real.startswith(mount.rstrip("/") + "/")
        if inside and (best is None or len(mount) >= len(best[1])):
            best = (rest.split(" ")[0], mount)
    return best


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (``\\040``)."""
    for code in ("040", "011", "012", "134"):
        field = field.replace("\\" + code, chr(int(code, 8)))
    return field


def _no_folder(folder: Path) -> str:
    """``no folder X`` and the ``mkdir -p`` that makes it; a leading ``~`` the shell left alone (it
    was quoted) is named as such: ``mkdir -p '~'`` would make a folder named ``~``."""
    if folder.parts and folder.parts[0].startswith("~"):
        return (
            f"no folder {folder}: the shell did not expand the ~ (it was quoted); write the path "
            "with $HOME, or leave the ~ unquoted"
        )
    return f"no folder {folder} (create it first: mkdir -p {shell_word(str(folder))})"
