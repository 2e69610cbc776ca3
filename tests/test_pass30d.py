"""Pass 30d (session 34): session 34's damaged packed-refs wording, by real runs at main 14ab2f8.

Two findings: a ref moved with no reflog entry was told its reflog's older commit (written back so,
the branch lost its last commits); apply beside another ref's damaged line failed with git's raw
"unexpected line in .git/packed-refs" and no way out, while plan had planned it.
"""

from __future__ import annotations

import os
import subprocess

import git as gitpython

from tests.helpers import git
from tests.pasting import paste
from tests.pasting import quoted as _quoted
from tests.pasting import said_with_code as _said
from tests.test_lead33 import one_repo

BRANCH = "chore/sops-age-rollout"


def test_a_packed_line_whose_ref_moved_with_no_reflog_entry_is_never_told_the_older_commit(
    tmp_path,
):
    """Item 11 (and 4: work lost): a branch moved by a tool that writes no reflog entry (GitPython's
    `head.commit = …`) has a reflog whose last commit is an older one. Its packed line cut short
    was told to be written back as that older commit; pasted, main lost its last commit. The line
    still begins with the real commit's id: the reflog's is offered only when it begins so, else a
    `rev-parse --disambiguate` that lists the real one."""
    manifest, repo = one_repo(tmp_path)
    old = git(repo, "rev-parse", "main").strip()
    new = git(repo, "commit-tree", "-p", old, "-m", "two", "main^{tree}").strip()
    clone = gitpython.Repo(repo)
    clone.heads.main.commit = clone.commit(new)  # moved with no reflog entry
    clone.close()
    assert git(repo, "rev-parse", "main").strip() == new
    git(repo, "pack-refs", "--all")
    packed = repo / ".git" / "packed-refs"
    packed.write_text(packed.read_text().replace(new, new[:19]))  # a power loss mid-write
    code, said = _said("plan", "-m", manifest)
    assert code == 1 and "packed-refs is damaged" in said, said
    assert f'"{old} refs/heads/main"' not in said and f"not at {old}" in said, said
    listed = paste(_quoted(said, "git -C "), tmp_path)
    assert listed.returncode == 0 and listed.stdout.split() == [new], listed
    packed.write_text(packed.read_text().replace(f"{new[:19]} ", f"{new} "))
    assert git(repo, "rev-parse", "main").strip() == new
    assert _said("plan", "-m", manifest)[0] == 0


def test_apply_beside_another_refs_damaged_packed_line_names_it(tmp_path):
    """Item 11: a power loss that cut packed-refs short at its end (a tag's line left without its
    newline) leaves the base and a new rollout branch readable, so plan plans; apply's write then
    failed with git's own "fatal: unexpected line in .git/packed-refs: …" and no way out (and, since
    pass 30a's HEAD check, called the sound HEAD "empty or damaged"). It now names the damaged line
    with a command that shows it; nothing is written."""
    manifest, repo = one_repo(tmp_path)
    git(repo, "tag", "v1")
    git(repo, "pack-refs", "--all")
    packed = repo / ".git" / "packed-refs"
    packed.write_bytes(packed.read_bytes().rstrip(b"\n"))
    before = packed.read_bytes()
    lines = before.split(b"\n")
    code, said = _said("apply", "-m", manifest, "--yes")
    assert code == 1 and f"line {len(lines)} of" in said, said
    # its HEAD is sound: git's `symbolic-ref HEAD` stops at the line too (pass 30a's HEAD check)
    assert "packed-refs is damaged" in said and "HEAD" not in said, said
    shown = paste(_quoted(said, f"sed -n {len(lines)}p "), tmp_path)
    assert shown.returncode == 0 and shown.stdout == lines[-1].decode(), shown
    assert (
        packed.read_bytes() == before and not (repo / ".git" / "refs" / "heads" / "chore").exists()
    )


def test_a_fifo_packed_refs_is_named_never_waited_on(tmp_path):
    """Item 11 (a hang on bad input): a FIFO at `.git/packed-refs` held plan for ever (git opens it
    and waits for a writer, as every git command in that clone does). It is named, with a `mv` that,
    pasted, lets plan read the clone."""
    from tests.test_adversary import run_cli

    manifest, repo = one_repo(tmp_path)
    os.mkfifo(repo / ".git" / "packed-refs")
    result = run_cli("plan", "-m", manifest, timeout=60)
    said = " ".join(result.stdout.split())
    assert result.returncode == 1 and "packed-refs is not a regular file" in said, said
    assert paste(_quoted(said, "mv "), tmp_path).returncode == 0
    assert _said("plan", "-m", manifest)[0] == 0


def test_a_damaged_packed_line_shadowed_by_a_loose_ref_is_told_the_loose_refs_commit(tmp_path):
    """The check above reads the packed line only when it is the ref: a loose file of that name is
    (git reads it first), so a stale packed line beside it is told the commit the ref is at."""
    manifest, repo = one_repo(tmp_path)
    old = git(repo, "rev-parse", "main").strip()
    git(repo, "pack-refs", "--all")
    git(repo, "commit", "-q", "--allow-empty", "-m", "two")  # main loose again, at a new commit
    new = git(repo, "rev-parse", "main").strip()
    packed = repo / ".git" / "packed-refs"
    packed.write_text(packed.read_text().replace(old, old[:19]))
    code, said = _said("apply", "-m", manifest, "--yes")
    assert code == 1 and f'write the line back as "{new} refs/heads/main"' in said, said


def test_sync_beside_a_damaged_packed_line_names_it_not_a_missing_origin(tmp_path):
    """Item 11 (a way out that fails pasted): git's `remote get-url origin` fails on a damaged
    packed-refs line too, so sync said "has no remote `origin` (git remote add origin URL)", which,
    pasted, failed. It names the damaged line, as plan and apply do."""
    manifest, repo = one_repo(tmp_path)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "fetch", "-q", "origin")
    git(repo, "pack-refs", "--all")
    tip = git(repo, "rev-parse", "origin/main").strip()
    packed = repo / ".git" / "packed-refs"
    packed.write_text(packed.read_text().replace(f"{tip} refs/remotes", f"{tip[:15]} refs/remotes"))
    code, said = _said("sync", "-m", manifest)
    assert code == 1 and "packed-refs is damaged" in said and "no remote" not in said, said
    assert f'write the line back as "{tip} refs/remotes/origin/main"' in said, said
