"""What a check is and what it reads: a Check (passed or failed, with a fix), the files verify read of
one repo at one ref (RefFiles), and how an encrypted file names its example."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from juniper_rollout import sopsmeta
from juniper_rollout.edits.envexample import listed_names
from juniper_rollout.wording import unicode_only

APPLY = "run `rollout plan`, then `rollout apply` and merge the rollout branch"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    applies: bool = True  # False: ok because there is nothing to check here

    def as_json(self) -> dict[str, Any]:
        """valid Unicode: a path no UTF-8 decodes shown ``\\xff``, as the table shows it (pass 25c:
        ``verify --json`` kept its ``\\udcff``, which strict JSON readers refuse)."""
        detail = self.detail if self.ok or not self.fix else f"{self.detail} (fix: {self.fix})"
        return {"name": self.name, "ok": self.ok, "detail": unicode_only(detail)}


def passed(name: str, detail: str, *, applies: bool = True) -> Check:
    return Check(name, True, detail, applies=applies)


def failed(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, False, detail, fix)


@dataclass(frozen=True)
class RefFiles:
    """What verify reads of one repo at one ref: a few blobs and the committed *.enc paths."""

    ref: str
    files: Mapping[str, bytes]
    encrypted: tuple[str, ...]
    plaintext: tuple[str, ...] = ()  # tracked plaintext env files (envfiles definition)
    links: frozenset[str] = frozenset()  # those of the paths read that are symlinks (not in files)
    # the ref as git names what was read: ``origin/main`` when the clone has it (``ref`` then says
    # ``main``), where a file committed to mend it must be pushed too
    read_at: str = ""


def example_path(encrypted: str) -> str:
    """``.env.enc`` -> ``.env.example``; ``sub/.env.secrets.enc`` -> ``sub/.env.secrets.example``."""
    return encrypted.removesuffix(".enc") + ".example"


def example_names(text: bytes) -> list[str]:
    """Names an example file documents: ``NAME=…`` lines and optional ones commented out (``# NAME=…``)."""
    return listed_names(text.decode("utf-8", "replace"))


def lfs_pointer(name: str, path: str, snap: RefFiles) -> Check | None:
    """Check ``name`` failed for ``path`` stored as a Git LFS pointer at the ref (what a clone without
    git-lfs reads; apply skips it, so "run plan, then apply" changed nothing when followed: pass
    27a), its way out the one that works; None when it is no pointer."""
    blob = snap.files.get(path)
    if blob is None or not sopsmeta.is_lfs_pointer(blob):
        return None
    return failed(
        name,
        f"{path} at {snap.read_at or snap.ref} is a Git LFS pointer (apply never writes it)",
        f"{sopsmeta.lfs_way_out(snap.read_at or snap.ref)}, then {APPLY}",
    )
