"""The paths the rollout manages in every repository, named once."""

from __future__ import annotations

import unicodedata

SOPS_CONFIG = ".sops.yaml"
GITIGNORE = ".gitignore"
PRECOMMIT = ".pre-commit-config.yaml"
AGENTS = "AGENTS.md"
# the largest file the tool reads, edits, encrypts or renders (real ones are a few KB): whatever it
# writes it can read again
MAX_FILE_BYTES = 16 << 20


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
