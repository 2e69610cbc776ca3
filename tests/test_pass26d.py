"""Issue 13, pass 26d: a verification pass over items 1-4 and the smaller list after pass 26a (its
new worktree advice attacked first), and two of 26a's notes: N1 (a merged branch pushed again) and
N3 (a renamed `encrypt:` target refused twice). Each test fails on the main this pass started from
(checked by undoing its fix)."""

from __future__ import annotations

import os
import subprocess

import pytest

from juniper_rollout import sopsmeta
from tests.fleet import BRANCH
from tests.helpers import git
from tests.pasting import git_commands, paste
from tests.test_adversary import apply, move_main

CASCOR = "juniper-cascor"


def with_origin(fleet, tmp_path):
    """The cascor clone with a bare origin holding its main, and a reviewer's clone of that origin."""
    repo = fleet.repo(CASCOR)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    first = apply(fleet, CASCOR, push=True)
    assert first.code == 0 and "pushed to origin" in first.stdout, first.stdout
    review = tmp_path / "review"
    subprocess.run(["git", "clone", "-q", str(origin), str(review)], check=True)
    return repo, origin, review


def merge_on_origin(review, how: str) -> None:
    """The reviewer merges the pull request (``how``: git's way of it) and deletes its branch."""
    if how == "merge":
        git(review, "merge", "-q", "--no-ff", f"origin/{BRANCH}", "-m", "Merge the pull request")
    elif how == "squash":
        git(review, "merge", "-q", "--squash", f"origin/{BRANCH}")
        git(review, "commit", "-qm", "the pull request, squashed")
    else:
        git(review, "merge", "-q", "--ff-only", f"origin/{BRANCH}")
    git(review, "push", "-q", "origin", "main")
    git(review, "push", "-q", "origin", "--delete", BRANCH)


def on_origin(origin) -> str:
    return git(origin, "branch", "--list", BRANCH).strip()


@pytest.mark.parametrize("how", ["merge", "squash", "fast-forward"])
def test_a_merged_branch_deleted_on_origin_is_not_pushed_again(fleet, tmp_path, how):
    """26a's note N1 (the smaller list's deleted remote branch, the other side): the pull request
    merged (or squash-merged, or fast-forwarded) and its branch deleted on origin; the user fetches;
    `apply --push` has nothing to change and said "already up to date  nothing to change on main;
    pushed to origin": the old branch was back on origin, the reviewer's deletion undone. A branch
    with nothing beyond its base is not pushed now, and the line says so."""
    repo, origin, review = with_origin(fleet, tmp_path)
    merge_on_origin(review, how)
    git(repo, "fetch", "-q", "--prune", "origin")
    again = apply(fleet, CASCOR, push=True)
    said = " ".join(again.stdout.split())
    assert again.code == 0 and f"{CASCOR}: already up to date" in said, said
    assert "pushed to origin" not in said and "not pushed: main already holds" in said, said
    assert not on_origin(origin)


def test_a_deleted_remote_branch_with_new_work_is_still_pushed(fleet, tmp_path):
    """The smaller list's item itself, kept: merged and deleted on origin, then a value changes in
    `.env`: the rebuilt branch has new work, and `apply --push` pushes it."""
    repo, origin, review = with_origin(fleet, tmp_path)
    merge_on_origin(review, "merge")
    git(repo, "fetch", "-q", "--prune", "origin")
    env = repo / ".env"
    env.write_text(env.read_text().replace("=", "=rotated-", 1))
    again = apply(fleet, CASCOR, push=True)
    assert again.code == 0 and "pushed to origin" in again.stdout, again.stdout
    assert git(origin, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)


def test_a_branch_applied_without_push_is_pushed_by_the_next_apply_push(fleet, tmp_path):
    """Not a merged branch: applied without `--push`, then `apply --push` with nothing to change
    pushes it (the tip has the tool's commit beyond main)."""
    repo = fleet.repo(CASCOR)
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    assert apply(fleet, CASCOR).code == 0
    again = apply(fleet, CASCOR, push=True)
    assert again.code == 0 and "pushed to origin" in again.stdout, again.stdout
    assert git(origin, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)


def target_renamed_without_plaintext(fleet, tmp_path):
    """Apply; `.env` moved away (it is encrypted now); main moves; the manifest renames cascor's
    `encrypt:` target `.env.enc` -> `secrets/.env.enc`. The first apply refuses (right: the branch's
    `.env.enc` would be lost) and offers to bring `.env` back: its line, one blank between words."""
    repo = fleet.repo(CASCOR)
    assert apply(fleet, CASCOR).code == 0
    names = sopsmeta.names_with_values(git(repo, "show", f"{BRANCH}:.env.enc").encode())
    (repo / ".env").rename(tmp_path / "moved-away.env")
    move_main(repo)
    text = fleet.manifest.read_text()
    entry = "      - source: .env\n        target: .env.enc\n"
    assert entry in text
    fleet.manifest.write_text(text.replace(entry, entry.replace(".env.enc", "secrets/.env.enc"), 1))
    said = " ".join(apply(fleet, CASCOR).stdout.split())
    assert f"{CASCOR}: failed" in said and "bring .env back" in said, said
    return repo, names, said


def test_a_renamed_target_needs_one_way_out_and_it_works_when_pasted(fleet, tmp_path):
    """26a's note N3 (13.1, a renamed `encrypt:` target with no plaintext): the first refusal's way
    out, "bring .env back (`git -C CLONE show BRANCH:.env.enc | … sops decrypt …`)", pasted, brings
    it back; apply then refused again, "… rebuilding the branch on main would drop it, the only copy
    of those values in git", untrue by then: the plan encrypts the same values to the new target.
    Now the values the plan carries to the new target are not called lost: apply writes the branch
    with `secrets/.env.enc` holding each name `.env.enc` held."""
    repo, names, said = target_renamed_without_plaintext(fleet, tmp_path)
    [restore] = git_commands(said)
    assert paste(restore, tmp_path).returncode == 0
    again = apply(fleet, CASCOR)
    assert again.code == 0 and f"{CASCOR}: updated" in again.stdout, again.stdout
    files = git(repo, "ls-tree", "-r", "--name-only", BRANCH).split()
    assert "secrets/.env.enc" in files and ".env.enc" not in files, files
    moved = git(repo, "show", f"{BRANCH}:secrets/.env.enc").encode()
    assert sorted(sopsmeta.names_with_values(moved)) == sorted(names)


def test_a_renamed_target_still_refused_when_the_plaintext_back_lacks_a_value(fleet, tmp_path):
    """The second refusal where it is true: `.env` back, but one name of the branch's `.env.enc`
    left out of it: the plan would not carry that value, and the branch's copy is kept (refused)."""
    repo, names, said = target_renamed_without_plaintext(fleet, tmp_path)
    [restore] = git_commands(said)
    assert paste(restore, tmp_path).returncode == 0
    env = repo / ".env"
    lines = env.read_text().splitlines(keepends=True)
    env.write_text("".join(line for line in lines if not line.startswith(f"{names[0]}=")))
    again = apply(fleet, CASCOR)
    assert again.code == 1 and f"{CASCOR}: failed" in again.stdout, again.stdout
    assert ".env.enc" in git(repo, "ls-tree", "-r", "--name-only", BRANCH).split()


def reuse_the_worktree_path(fleet, review, how: str) -> None:
    """The reviewer's worktree folder deleted by hand (`rm -rf`, not `git worktree remove`), then the
    path used again (``how``): another clone's worktree, a new repository (the worktree left
    mid-rebase, bisecting or locked first), or the folder alone."""
    if "mid-rebase" in how:
        env = {**os.environ, "GIT_SEQUENCE_EDITOR": "sed -i 1ibreak"}
        subprocess.run(["git", "-C", str(review), "rebase", "-i", "HEAD~1"], check=True, env=env)
    if "bisecting" in how:
        git(review, "bisect", "start")
    if "locked" in how:  # `git worktree prune` keeps a locked record
        git(fleet.repo(CASCOR), "worktree", "lock", str(review))
    subprocess.run(["rm", "-rf", str(review)], check=True)
    if how == "another clone's worktree":
        other = fleet.root / "other"
        subprocess.run(["git", "clone", "-q", str(fleet.repo(CASCOR)), str(other)], check=True)
        git(other, "worktree", "add", "-q", "-b", "mine", str(review), "origin/main")
    elif how.startswith("a new repository"):
        subprocess.run(["git", "init", "-q", str(review)], check=True)
        git(review, "commit", "-q", "--allow-empty", "-m", "someone else's")
    else:  # the folder back without its .git file (files copied in): git calls it prunable
        review.mkdir()
        (review / "notes.txt").write_text("copied back\n")


@pytest.mark.parametrize(
    "how",
    [
        "another clone's worktree",
        "a new repository",
        "a new repository, the worktree mid-rebase",
        "a new repository, the worktree bisecting",
        "a new repository, the worktree locked",
        "a folder with no .git",
    ],
)
def test_the_way_to_free_a_branch_whose_worktree_path_was_reused_works_when_pasted(fleet, how):
    """ON-LIST 13.3 (26a's F3 way out, attacked): apply; a reviewer checks the rollout branch out in
    a worktree `review`, deletes its folder by hand, and the path is used again. apply is `blocked`
    (right: git still counts the branch as checked out there), but the line offered
    `git -C CLONE worktree repair` (the `.git` there names another admin folder: pasted, git
    re-pointed the other clone's worktree at this clone) and `git -C REVIEW switch --detach`
    (detached that other repository's HEAD), and apply stayed blocked for good; with no `.git`
    there, `switch --detach` ran in whatever repository holds the folder, or failed. Now: the
    record is pruned with that folder moved aside for a moment (`test ! -e REVIEW.aside && mv …
    && { git -C CLONE worktree prune; mv … }`), or,
    with no `.git` there, `worktree prune`; the other repository is left as it was. (A first fix
    of this pass detached the record's HEAD alone: a record mid-rebase or bisecting stayed.)"""
    repo = fleet.repo(CASCOR)
    assert apply(fleet, CASCOR).code == 0
    review = fleet.root / "review"
    git(repo, "worktree", "add", "-q", str(review), BRANCH)
    reuse_the_worktree_path(fleet, review, how)
    head_before = None if how == "a folder with no .git" else git(review, "symbolic-ref", "HEAD")
    env = repo / ".env"
    env.write_text(env.read_text().replace("=", "=rotated-", 1))
    said = " ".join(apply(fleet, CASCOR).stdout.split())
    assert f"{CASCOR}: blocked" in said, said
    commands = git_commands(said) + [c for c in said.split("`") if c.startswith("test ")]
    assert commands and not any(c.startswith(f"git -C {review} ") for c in commands), said
    assert not any(c.endswith(f"{repo} worktree repair") for c in commands), said
    for command in commands:
        if command == "git worktree repair":  # the other way: run in a worktree moved by hand
            continue
        pasted = paste(command, fleet.root)
        assert pasted.returncode == 0, (command, pasted.stderr)
    written = apply(fleet, CASCOR)
    assert f"{CASCOR}: updated" in written.stdout, written.stdout
    if head_before is not None:  # the repository now at that path: its branch as it was
        assert git(review, "symbolic-ref", "HEAD") == head_before
        assert not git(review, "status", "--porcelain").strip()
