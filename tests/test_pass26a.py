"""Issue 13, pass 26a: a verification pass over items 1-4, the deleted remote branch, LFS pointers,
SHA-256 repositories and the manifest's `.git` paths, and every command the tool offers to paste in
those scenarios. Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.pasting import git_commands, paste_each, rotate_first_value
from tests.test_adversary import apply

CASCOR = "juniper-cascor"


def am_stopped_on_the_branch(fleet, repo) -> None:
    """A reviewer applies a mailed patch (`git am -3`) in the clone, on the rollout branch; it
    stops on a conflict: the am session is under way (git keeps it in `rebase-apply/`, as the old
    rebase backend does)."""
    git(repo, "branch", "side", "main")
    review = fleet.root / "review"
    git(repo, "worktree", "add", "-q", str(review), "side")
    (review / ".gitignore").write_text("a reviewer's own ignore rules\n")
    git(review, "commit", "-q", "-am", "a reviewer's .gitignore")
    patch = fleet.root / "reviewer.patch"
    git(review, "format-patch", "-q", "-1", "HEAD", "--output", str(patch))
    git(repo, "worktree", "remove", str(review))
    git(repo, "switch", "-q", BRANCH)
    stopped = subprocess.run(
        ["git", "-C", str(repo), "am", "-3", str(patch)], capture_output=True, text=True
    )
    assert stopped.returncode != 0, stopped.stdout  # a conflict: the am session is under way
    assert (repo / ".git" / "rebase-apply" / "applying").is_file()


def test_the_way_to_free_a_branch_mid_am_works_when_pasted(fleet):
    """ON-LIST 13.3 (a neighbour of pass 24d's merge and cherry-pick): apply; a reviewer checks the
    rollout branch out and applies a mailed patch with `git am`, which stops on a conflict; main
    moves; apply is `blocked` (right), but said "a rebase is under way in that worktree: finish it
    (`git rebase --continue`) or drop it (`git rebase --abort`), then switch it off the branch
    (`git switch --detach`)": git keeps an am session in `rebase-apply/`, and each of the three,
    pasted, failed ("It looks like 'git am' is in progress. Cannot rebase."; "cannot switch branch
    in the middle of an am session"): apply stayed blocked. The line now names the am session and
    its own `git am --continue` / `--abort`; pasted in turn (drop, then switch), apply writes."""
    repo = fleet.repo(CASCOR)
    assert apply(fleet, CASCOR).code == 0
    am_stopped_on_the_branch(fleet, repo)
    rotate_first_value(repo)
    said = " ".join(apply(fleet, CASCOR).stdout.split())
    assert f"{CASCOR}: blocked" in said and "a git am session is under way" in said, said
    commands = git_commands(said)
    assert f"git -C {repo} am --abort" in commands, said
    paste_each(commands, fleet.root, but="--continue")  # the other way: the conflict stays
    written = apply(fleet, CASCOR)
    assert f"{CASCOR}: updated" in written.stdout, written.stdout


@pytest.mark.parametrize("operation", ["cherry-pick", "revert"])
def test_the_way_to_free_a_branch_mid_sequence_works_when_pasted(fleet, operation):
    """ON-LIST 13.3 (a neighbour of pass 24d's merge and cherry-pick): apply; a reviewer checks the
    rollout branch out and cherry-picks (or reverts) two commits of theirs; the first stops on a
    conflict and they give it up with `git reset --hard` (not `--abort`): git keeps the sequence in
    `sequencer/` ("Cherry-pick currently in progress") with no CHERRY_PICK_HEAD; main moves. apply
    is `blocked` (right), but said "switch that worktree off the branch (`git switch --detach`)":
    pasted, "fatal: cannot switch branch while cherry-picking", and apply stayed blocked. The line
    now names the sequence and its `--continue` / `--abort`; pasted in turn, apply writes."""
    repo = fleet.repo(CASCOR)
    assert apply(fleet, CASCOR).code == 0
    git(repo, "switch", "-q", "-c", "side", "main")
    (repo / "a1").write_text("a\n")
    git(repo, "add", "a1")
    git(repo, "commit", "-qm", "a1")
    (repo / ".gitignore").write_text("a reviewer's own ignore rules\n")
    git(repo, "commit", "-qam", "a reviewer's .gitignore")
    git(repo, "switch", "-q", BRANCH)
    picks = ["side", "side~1"]  # the .gitignore one first: it stops there, a1's left to do
    stopped = subprocess.run(
        ["git", "-C", str(repo), operation, *picks], capture_output=True, text=True
    )
    assert stopped.returncode != 0, stopped.stdout
    git(repo, "reset", "-q", "--hard")
    assert (repo / ".git" / "sequencer" / "todo").is_file()
    rotate_first_value(repo)
    said = " ".join(apply(fleet, CASCOR).stdout.split())
    assert f"{CASCOR}: blocked" in said, said
    commands = git_commands(said)
    assert f"git -C {repo} {operation} --abort" in commands, said
    paste_each(commands, fleet.root, but="--continue")  # the other way: the conflict stays
    written = apply(fleet, CASCOR)
    assert f"{CASCOR}: updated" in written.stdout, written.stdout


def blocked_by_a_worktree_of_a_moved_clone(fleet):
    """Apply; a reviewer checks the rollout branch out in a worktree of its own; the clone is moved
    (`mv`, `path:` following) and a value changes: (the worktree, the clone's new folder, what
    apply then said, on one line)."""
    assert apply(fleet, CASCOR).code == 0
    review = fleet.root / "review"
    git(fleet.repo(CASCOR), "worktree", "add", "-q", str(review), BRANCH)
    moved = fleet.move(CASCOR, fleet.root / "moved-cascor")
    rotate_first_value(moved)
    return review, moved, " ".join(apply(fleet, CASCOR).stdout.split())


def test_the_way_to_free_a_branch_in_a_worktree_of_a_moved_clone_works_when_pasted(fleet):
    """ON-LIST 13.3 (pass 24a's way out, a neighbouring situation): apply; a reviewer checks the
    rollout branch out in a worktree of its own; the user then moves the clone (`mv`, `path:` in
    the manifest follows it): git still counts the branch as checked out there, but the worktree's
    `.git` file names the clone's old folder. apply is `blocked` (right), and said "switch that
    worktree off the branch (`git -C REVIEW switch --detach`)": pasted, "fatal: not a git
    repository: OLD/.git/worktrees/review", and apply stayed blocked. The line now says the link is
    broken and offers `git -C CLONE worktree repair` first (git's own fix for a moved clone)."""
    review, moved, said = blocked_by_a_worktree_of_a_moved_clone(fleet)
    assert f"{CASCOR}: blocked" in said, said
    commands = [c for c in said.split("`") if c.startswith(("git ", "grep "))]
    assert any(c.endswith(f"git -C {moved} worktree repair") for c in commands), said
    paste_each(commands, fleet.root)
    written = apply(fleet, CASCOR)
    assert f"{CASCOR}: updated" in written.stdout, written.stdout


def test_a_rekey_without_a_key_never_offers_a_new_key(fleet, tmp_path, monkeypatch):
    """ON-LIST 13.1 (a key rotation without the plaintext, its way out): apply; `.env` moved away;
    `rotate --add` a second key; apply with SOPS_AGE_KEY_FILE naming no file. apply fails (right:
    re-keying the committed `.env.enc` needs a key that opens it), but said "no age private key
    found: run `rollout keygen` or set SOPS_AGE_KEY_FILE": pasted, `rollout keygen` made a new key
    there, which opens no committed file, and apply failed again ("your age key matches no
    recipient"). The line now asks for a key that opens the file and offers no new one."""
    import pyrage

    repo = fleet.repo(CASCOR)
    assert apply(fleet, CASCOR).code == 0
    (repo / ".env").rename(tmp_path / "moved-away.env")
    added = str(pyrage.x25519.Identity.generate().to_public())
    assert rollout("rotate", "--manifest", fleet.manifest, "--add", added).code == 0
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(tmp_path / "no-key-here.txt"))
    said = " ".join(apply(fleet, CASCOR).stdout.split())
    assert f"{CASCOR}: failed" in said and "re-keying .env.enc" in said, said
    assert "rollout keygen" not in said, said
    assert "a key that opens it" in said, said
