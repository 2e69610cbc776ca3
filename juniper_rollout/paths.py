"""The paths the rollout manages in every repository, named once."""

from __future__ import annotations

import errno
import os
import unicodedata

SOPS_CONFIG = ".sops.yaml"
GITIGNORE = ".gitignore"
PRECOMMIT = ".pre-commit-config.yaml"
AGENTS = "AGENTS.md"
# the largest file the tool reads, edits, encrypts or renders (real ones are a few KB): whatever it
# writes it can read again
MAX_FILE_BYTES = 16 << 20
# the words for a file that says it is a regular file but whose read waits for data (`/proc/kmsg`)
WAITS_FOR_DATA = "it would wait for data (a kernel or device file?)"


def read_open(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes of the regular file open at ``fd`` (opened with ``O_NONBLOCK``, so a FIFO
    never blocks the open), which this closes. A file of ``/proc`` that says it is a regular file but
    whose read waits for data (``/proc/kmsg``) raises ``BlockingIOError`` (an ``OSError`` whose
    ``strerror`` says so), as any failed read does: Python's buffered read returns None for it
    (pass 25c: the manifest and a saved plan were "unexpected TypeError"), and a read without
    ``O_NONBLOCK`` waits for ever (a key file: keygen and verify hung)."""
    with os.fdopen(fd, "rb") as handle:
        data = handle.read(limit)
    if data is None:
        raise BlockingIOError(errno.EAGAIN, WAITS_FOR_DATA)
    return data


# where under refs/ the tool records what it last pushed of each rollout branch
# (refs/juniper-rollout/pushed/BRANCH): git reads `juniper-rollout/pushed/X` as such a record
PUSH_RECORDS = "juniper-rollout/pushed/"


def fold(path: str) -> str:
    """``path`` as a case-insensitive file system compares it (macOS, Windows): case folded, and
    composed (macOS also takes a decomposed ``é`` for the composed one)."""
    return unicodedata.normalize("NFC", path).casefold()


def case_clash(path: str, other: str) -> tuple[str, str] | None:
    """The shallowest folder or file that ``path`` and ``other`` spell differently though a
    case-insensitive file system takes them for one (``("NOTES", "notes")``); None if none."""
    if path != other and fold(path) == fold(other):
        return path, other
    mine, theirs = path.split("/"), other.split("/")
    for depth in range(min(len(mine), len(theirs))):
        a, b = "/".join(mine[: depth + 1]), "/".join(theirs[: depth + 1])
        if a != b:
            return (a, b) if fold(a) == fold(b) else None
    return None


def case_clash_words(path: str, other: str, clash: tuple[str, str]) -> str:
    """How ``path`` and ``other`` clash, as a clause: on a case-insensitive checkout..."""
    mine, theirs = clash
    how = "case" if mine.casefold() == theirs.casefold() else "how an accent is composed (NFC/NFD)"
    if mine == path and theirs == other:
        return (
            f"{path} and {other} differ only in {how}: on a case-insensitive checkout (macOS, "
            "Windows) they are one file, and git keeps only one of them in the working tree"
        )
    return (
        f"{path} is in the folder {mine} and {other} in {theirs}: on a case-insensitive checkout "
        "(macOS, Windows) those are one folder, spelled two ways"
    )


def same_on_macos(name: str, other: str) -> str | None:
    """How ``name`` differs from ``other`` when a case-insensitive file system takes them for one (a
    clause: `` ('x' but for letter case: …)``), ``""`` when they are equal, None when they differ there
    too. For ref names: git keeps a loose ref as a file under .git, so on macOS and Windows
    ``refs/heads/Main`` is the file of ``refs/heads/main``."""
    if name == other:
        return ""
    if fold(name) != fold(other):
        return None
    how = "letter case" if name.casefold() == other.casefold() else "how an accent is composed"
    return f" ({other!r} but for {how}: on macOS and Windows git keeps the two as one)"


def ref_folder_clash(name: str, other: str) -> bool:
    """Whether git cannot keep branches ``name`` and ``other`` side by side: one is a folder of the
    other (``chore/x`` and ``chore/x/v1``; git keeps a loose ref as a file), compared as a
    case-insensitive file system compares them."""
    mine, theirs = fold(name), fold(other)
    return mine.startswith(theirs + "/") or theirs.startswith(mine + "/")


def base_clash(branch: str, base: str) -> str | None:
    """Why ``branch`` cannot be a rollout branch on ``base`` (the base itself, but for letter case too;
    or a folder of it, or it a folder of the branch), None when it can."""
    if (case := same_on_macos(branch, base)) is not None:
        return f"the rollout branch cannot be the base branch {base!r}{case}"
    if ref_folder_clash(branch, base):
        # pass 20e: `branch: main/sops` loaded and planned; apply then failed, advising to rename main
        return (
            f"the rollout branch {branch!r} cannot be beside the base branch {base!r} (git keeps a "
            "branch as a file, so one cannot be a folder of the other); name it like "
            "juniper-rollout/sops"
        )
    return None


NAME_MAX = 255  # bytes in one file name (Linux, macOS)
PATH_MAX = 4096  # bytes in a whole path (Linux)


def too_long(path: object) -> str | None:
    """Why the local path ``path`` can name no file (a name over 255 bytes, or over 4,096 in all), as a
    clause; None if it can. Python's ``Path.exists()`` raises for such a path (pass 10a: a traceback)."""
    text = str(path)
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeError:
        return None
    if len(raw) >= PATH_MAX:
        return f"is {len(raw):,} bytes long; no path can be longer than {PATH_MAX - 1:,}"
    longest = max((len(part) for part in raw.split(b"/")), default=0)
    if longest > NAME_MAX:
        return (
            f"has a name of {longest} bytes; no file or folder name can be longer than {NAME_MAX}"
        )
    return None


def expand_home(path: str) -> tuple[str, str | None]:
    """``path`` with a leading ``~`` or ``~user`` expanded, as the shell would; the second item says
    why not when that user has no home (Python raised RuntimeError: a traceback, pass 10a)."""
    import os.path

    expanded = os.path.expanduser(path)
    if expanded == path and path.startswith("~"):
        who = path[1:].split("/", 1)[0]
        return path, (f"user {who!r} has no home folder here" if who else "there is no home folder")
    return expanded, None
