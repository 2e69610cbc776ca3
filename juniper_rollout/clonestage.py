"""The clone ``rollout bootstrap`` plans against: the one already at the repo's path, or a new one
(cloned from a URL, or initialised with a first commit) in a staging folder beside that path, moved
into place on confirmation and removed otherwise. Git I/O through gitrepo, kept out of the command."""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path

from juniper_rollout import gitrepo
from juniper_rollout.errors import RolloutError
from juniper_rollout.urls import strip_userinfo

FIRST_COMMIT = "Initial commit"


@dataclasses.dataclass
class Stage:
    root: Path | None  # the staging folder to remove (None: the clone exists at its path)
    clone: Path  # the clone to plan against
    will: str  # what bootstrap will do, shown before the confirmation
    done: str  # what it did


def stage_clone(path: Path, url: str | None, base: str, name: str) -> Stage:
    """The clone to plan against: the one at ``path``, or a new one in a staging folder beside it
    (moved to ``path`` on confirmation, removed otherwise)."""
    if (path / ".git").exists():
        said = f"using the existing clone at {path}" + (" (--url not needed)" if url else "")
        return Stage(None, path, said, said)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise RolloutError(f"{path} exists and is not a git clone; move it away or pass --path")
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    root = Path(tempfile.mkdtemp(dir=parent, prefix=f".{name}.bootstrap-"))
    try:
        if url is not None:
            gitrepo.clone_repo(url, root / name)
            shown = strip_userinfo(url)  # never a token on screen
            return Stage(
                root, root / name, f"will clone {shown} into {path}", f"cloned {shown} into {path}"
            )
        gitrepo.init_repo(root / name, base, {"README.md": f"# {name}\n".encode()}, FIRST_COMMIT)
        new = f"a new repository at {path} (branch {base}, first commit with a README.md)"
        return Stage(root, root / name, f"will initialise {new}", f"initialised {new}")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
