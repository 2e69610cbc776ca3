"""Pass 30h (session 34): issue 13's items 1, 3, 4, 8, 9, 11 and the SHA-256 and `.GIT/config`
bullets re-run at main 7b42c8d, for the code session 34 changed (git asked about HEAD and config
on every clone, packed-refs, HEAD write-backs, worded names and token shapes).

Two findings: a linked worktree whose `commondir` file a power loss emptied (or that is gone) was
called "its HEAD file … is empty or damaged", and that way out, pasted, changed nothing; a FIFO
at `.git/packed-refs` was named only after git, asked about HEAD first, waited on it for 60 s.
"""

from __future__ import annotations

import os
import threading

import pytest

from tests.helpers import git
from tests.pasting import paste
from tests.pasting import quoted as _quoted
from tests.pasting import said_with_code as _said
from tests.test_lead33 import one_repo

BRANCH = "chore/sops-age-rollout"


@pytest.mark.parametrize("damage", ["emptied", "removed"])
def test_a_linked_worktree_whose_commondir_is_damaged_is_named_with_a_way_out_that_mends_it(
    tmp_path, damage
):
    """Item 3 (a printed way out that fails pasted): the rollout branch checked out in a linked
    worktree whose `commondir` a power loss emptied (or that was deleted). git reads no HEAD there,
    and refuses to move the branch; the tool said the HEAD file was damaged and to write it back,
    which, pasted, wrote the same HEAD and changed nothing. It names `commondir`, and its way out,
    pasted, lets apply see the branch checked out there."""
    manifest, repo = one_repo(tmp_path)
    code, said = _said("apply", "-m", manifest, "--yes")
    assert code == 0, said
    linked = tmp_path / "linked"
    git(repo, "worktree", "add", "-q", str(linked), BRANCH)
    tip = git(repo, "rev-parse", BRANCH).strip()
    git(repo, "commit", "-q", "--allow-empty", "-m", "main moves")
    commondir = repo / ".git" / "worktrees" / "linked" / "commondir"
    if damage == "emptied":
        commondir.write_bytes(b"")
    else:
        commondir.unlink()
    code, said = _said("apply", "-m", manifest, "--yes")
    assert code == 1 and "commondir is empty, damaged or missing" in said, said
    assert "HEAD file" not in said, said
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    assert paste(_quoted(said, "printf "), tmp_path).returncode == 0
    code, said = _said("apply", "-m", manifest, "--yes")
    assert "blocked" in said and f"checked out in {linked}" in said, said
    assert git(repo, "rev-parse", BRANCH).strip() == tip


def test_a_fifo_packed_refs_is_never_opened(tmp_path):
    """Item 11 (a hang on bad input): pass 30d names a FIFO at `.git/packed-refs`, but git, asked
    about HEAD first (pass 30e), opened it and waited 60 s, its timeout, per clone. A writer polls
    the FIFO: it opens only while a reader waits there, and then lets that reader go on."""
    manifest, repo = one_repo(tmp_path)
    git(repo, "pack-refs", "--all")  # main is read from packed-refs only: git opens it
    fifo = repo / ".git" / "packed-refs"
    fifo.unlink()
    os.mkfifo(fifo)
    opened, done = [], threading.Event()

    def watch() -> None:
        while not done.is_set():
            try:
                fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: no reader waits
                done.wait(0.01)
                continue
            opened.append(True)
            os.close(fd)  # the reader reads an empty file and goes on

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        code, said = _said("plan", "-m", manifest)
    finally:
        done.set()
        watcher.join()
    assert code == 1 and "packed-refs is not a regular file" in said, said
    assert not opened, "a reader waited on the FIFO"
