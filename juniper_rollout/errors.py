"""The one error type for mistakes a user can fix, and a few named kinds of it.

Anything raised as a :class:`RolloutError` is printed as one line (no traceback)
and exits 1; everything else is a bug.
"""

from __future__ import annotations


class RolloutError(Exception):
    """A problem the user can fix: printed as one line, exit 1."""


class ManifestError(RolloutError):
    """The manifest (or a template it names) is wrong: ``FILE:LINE: what (how to fix)``."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        self.file = file
        self.line = line
        self.message = message  # without the FILE:LINE: prefix
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[type[ManifestError], tuple[str, int | None, str]]:
        # pickles whole (a worker process sends it back): file, line and message, not the joined text
        return type(self), (self.file, self.line, self.message)


class RepoError(RolloutError):
    """One repository cannot be planned or written; the others go on."""
