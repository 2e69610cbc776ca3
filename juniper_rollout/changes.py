"""What would change in one repository: pure data, no I/O.

A :class:`RepoPlan` is the contract between planning (what) and the git writer (how).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace

CREATE, UPDATE, DELETE, UNCHANGED, SKIP = "create", "update", "delete", "unchanged", "skip"
WRITES = (CREATE, UPDATE, DELETE)
# An artifact's state at a ref against what the manifest renders (drift, and verify of a named rollout)
IN_SYNC, MISSING, MODIFIED, EXTRA = "in-sync", "missing", "modified", "extra"
STATES = (IN_SYNC, MISSING, MODIFIED, EXTRA)
ON_TOP, REBUILD = (
    "on top",
    "rebuild",
)  # how a plan relates to an existing rollout branch (RepoPlan.onto)


# What adopting a hand-rolled-out repo converges (``Adoption.kind``)
HOOK_REPLACED, FILE_KEPT, NAME_ADDED, NAME_STALE, FILE_REPLACED = (
    "hook-replaced",
    "file-kept",
    "name-added",
    "name-stale",
    "file-replaced",
)


@dataclass(frozen=True)
class Adoption:
    """One thing a person wrote that the plan adopts: a hook replaced, a file kept, a name added or stale."""

    kind: str
    subject: str  # hook id, file path or variable name
    detail: str = ""  # how it differs, where a name was found, why a file is replaced
    spelling: str = ""  # hooks: what tells hand-written spellings apart

    def line(self) -> str:
        what = {
            HOOK_REPLACED: "replace hand-written hook",
            FILE_KEPT: "keep hand-written file",
            NAME_ADDED: "add name",
            NAME_STALE: "report stale name",
            FILE_REPLACED: "replace hand-written file",
        }[self.kind]
        return f"{what} {self.subject}" + (f" ({self.detail})" if self.detail else "")


@dataclass(frozen=True)
class FileChange:
    path: str
    action: str
    before: bytes | None = None
    after: bytes | None = None
    reason: str | None = None
    secret: bool = False  # ciphertext made from a plaintext secret: never diffed, never decoded
    detail: str | None = None  # e.g. "encrypt .env: 15 variables HF_TOKEN, …"
    adoptions: tuple[Adoption, ...] = ()  # what of a person's work this change adopts

    @property
    def writes(self) -> bool:
        return self.action in WRITES


def change(
    path: str, before: bytes | None, after: bytes | None, reason: str | None = None
) -> FileChange:
    """The action that takes ``before`` (None: absent) to ``after`` (None: absent)."""
    if before == after:
        return FileChange(path, UNCHANGED, before, after, reason)
    if after is None:
        return FileChange(path, DELETE, before, None, reason)
    return FileChange(path, CREATE if before is None else UPDATE, before, after, reason)


def skip(path: str, reason: str, before: bytes | None = None) -> FileChange:
    return FileChange(path, SKIP, before, before, reason)


@dataclass(frozen=True)
class RepoPlan:
    name: str
    base: str
    branch: str
    base_commit: str | None = None
    branch_commit: str | None = None
    files: tuple[FileChange, ...] = ()
    error: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    base_ref: str | None = (
        None  # what the plan was built on when not the local base, e.g. "origin/main"
    )
    onto: str | None = (
        None  # ON_TOP: compared with the rollout branch, a new commit on top; REBUILD: base moved
    )
    # sha256 of each plaintext value the leak check let through when planning (already committed,
    # spelled in the manifest, a default in the code): a saved plan is checked again at apply
    cleared: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        return "changes" if self.writes else "unchanged"

    @property
    def writes(self) -> tuple[FileChange, ...]:
        return tuple(f for f in self.files if f.writes)

    def failed(self, message: str) -> RepoPlan:
        return replace(self, error=message, files=())


def unified_diff(item: FileChange) -> str:
    """A unified diff of a text file change ('' for secrets, binaries and non-writes)."""
    if not item.writes or item.secret:
        return ""
    try:
        old = (item.before or b"").decode("utf-8").splitlines(keepends=True)
        new = (item.after or b"").decode("utf-8").splitlines(keepends=True)
    except UnicodeDecodeError:
        return ""
    old = [
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in old
    ]
    new = [
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in new
    ]
    a = "/dev/null" if item.before is None else f"a/{item.path}"
    b = "/dev/null" if item.after is None else f"b/{item.path}"
    return "".join(difflib.unified_diff(old, new, a, b))
