"""A clone's refs and its loose commits read as plain files, in this process (no GitPython, no git
process): what the review loop's ``sync`` and ``status`` need of a clone costs them that way a
fraction of importing GitPython (~60 ms, and the two ``git version`` processes it starts).

Only where git's ``files`` ref backend is in use (loose refs and ``packed-refs``); anything else
(a linked worktree, the reftable format, a packed object) is for the caller to ask git or gitrepo.
``tests/test_remote_inprocess.py`` checks each answer against git's own.
"""

from __future__ import annotations

import os
import re
import zlib
from pathlib import Path

from juniper_rollout.errors import RepoError

_SHA = re.compile(r"[0-9a-f]{40}")


def files_backend(path: Path) -> Path | None:
    """The ``.git`` directory of a clone whose refs are plain files (loose and ``packed-refs``) that
    this process may read itself; None when git must be asked (a linked worktree or ``.git`` file,
    the reftable format, a missing clone)."""
    dotgit = path / ".git"
    if not dotgit.is_dir() or (dotgit / "commondir").exists() or (dotgit / "reftable").exists():
        return None
    try:
        config = (dotgit / "config").read_text(errors="replace").lower()
    except OSError:
        return None
    return None if "refstorage" in config else dotgit


def ref_storage(config: str) -> str | None:
    """The ref backend a clone's ``.git/config`` text names (``extensions.refStorage``, lower case, as
    git 2.45+ writes it: ``reftable``), None when it names none (git's ``files``)."""
    found = re.findall(r'(?m)^\s*refstorage\s*=\s*"?([a-z0-9_-]+)', config.lower())
    return found[-1] if found else None


def read_refs(dotgit: Path, *wanted: str) -> dict[str, str]:
    """Ref name -> object id of the refs ``wanted`` names (full names, or prefixes ending in ``/``),
    as ``git for-each-ref --format='%(refname) %(objectname)'`` lists them: a loose ref beats a packed
    one, symbolic refs (``origin/HEAD``) are followed, a ref that leads nowhere is left out."""
    packed: dict[str, str] = {}
    try:
        text = (dotgit / "packed-refs").read_text(errors="replace")
    except FileNotFoundError:
        text = ""
    except OSError as err:  # unreadable (permissions, I/O): one line, never half the refs
        raise RepoError(f"cannot read {dotgit / 'packed-refs'}: {err.strerror}") from None
    for line in text.splitlines():
        if line and line[0] not in "#^" and " " in line:
            sha, _, name = line.partition(" ")
            packed[name.strip()] = sha
    found: dict[str, str] = {}

    def value(name: str, depth: int = 0) -> str | None:
        try:
            content = (dotgit / name).read_text(errors="replace").strip()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return packed.get(name)
        except OSError as err:
            raise RepoError(f"cannot read {dotgit / name}: {err.strerror}") from None
        if content.startswith("ref:"):
            return value(content[4:].strip(), depth + 1) if depth < 5 else None
        return content if re.fullmatch(r"[0-9a-f]{40}", content) else None

    for want in wanted:
        if want.endswith("/"):
            names = {n for n in packed if n.startswith(want)}
            top = dotgit / want
            for root, _, files in os.walk(top):
                rel = Path(root).relative_to(dotgit).as_posix()
                names.update(f"{rel}/{f}" for f in files if not f.endswith(".lock"))
        else:
            names = {want}
        for name in sorted(names):
            resolved = value(name)
            if resolved is not None:
                found[name] = resolved
    return found


def loose_parents(dotgit: Path, sha: str) -> list[str] | None:
    """The parents of commit ``sha`` when it is a loose object of the clone's own object store;
    None when it is not (packed, elsewhere, not a commit, damaged): ask git."""
    if not _SHA.fullmatch(sha):
        return None
    try:
        with open(dotgit / "objects" / sha[:2] / sha[2:], "rb") as handle:
            raw = zlib.decompressobj().decompress(handle.read(), 65536)
    except (OSError, zlib.error):
        return None
    header, _, body = raw.partition(b"\0")
    if not header.startswith(b"commit "):
        return None
    parents = []
    for line in body.split(b"\n")[1:]:  # the first line names the tree
        if not line.startswith(b"parent "):
            break
        parents.append(line[7:].decode("ascii", "replace"))
    if not body.startswith(b"tree ") or not all(_SHA.fullmatch(p) for p in parents):
        return None
    return parents


def reaches(dotgit: Path, ancestor: str, tip: str, limit: int = 100) -> bool | None:
    """True when ``tip`` reaches ``ancestor`` (or is it) through at most ``limit`` single-parent
    loose commits (a rollout branch: the tool's commits on its base); None when it cannot tell that
    way (a merge, a packed commit, a longer way): then ask git."""
    commit = tip
    for _ in range(limit):
        if commit == ancestor:
            return True
        parents = loose_parents(dotgit, commit)
        if parents is None or len(parents) != 1:
            return None
        commit = parents[0]
    return None
