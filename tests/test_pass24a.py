"""Issue 13, pass 24a: a fourth adversarial pass over items 1-4 and the branch items of "smaller, same
standard" (after passes 23a, 23d and 23g). Each test fails on the main this pass started from
(checked by undoing its fix)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import GIT_ANY, git, git_any, rollout
from tests.test_adversary import apply


@pytest.mark.usefixtures("loopback_only")
def test_sync_never_moves_a_local_branch_whatever_the_fetch_refspec_says(loop, tmp_path):
    """13.1 by `sync` (NEW, another command): apply --push, a value rotated and applied (a commit on
    the local rollout branch only), the `.env` moved away (encrypted now): that commit holds the only
    copy of the new value. The clone's `remote.origin.fetch` maps origin's branches onto the local
    ones (`+refs/heads/*:refs/heads/*`, a mirror set-up), and the user works on a detached HEAD.
    `rollout sync` ("fetch origin … never touches a working tree") ran a plain `git fetch origin`,
    which force-moved the local rollout branch back to origin's older commit ("forced-update" in
    its reflog) and said "up to date": the rotated value was on no branch. The fetch now maps
    origin's branches onto `refs/remotes/origin/*` only (`--refmap=`), whatever the config says."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert apply(loop, "juniper-cascor", push=True).code == 0
    pushed = git(repo, "rev-parse", BRANCH).strip()
    env = repo / ".env"
    env.write_text(env.read_text().replace("=", "=rotated-", 1))
    assert apply(loop, "juniper-cascor").code == 0
    mine = git(repo, "rev-parse", BRANCH).strip()
    assert mine != pushed
    env.rename(tmp_path / "moved-away.env")
    git(repo, "config", "--add", "remote.origin.fetch", "+refs/heads/*:refs/heads/*")
    git(repo, "checkout", "-q", "--detach")
    main = git(repo, "rev-parse", "main").strip()
    synced = rollout("sync", *only)
    assert synced.code == 0, synced.stdout
    assert git(repo, "rev-parse", BRANCH).strip() == mine, synced.stdout  # not moved back
    assert git(repo, "rev-parse", "main").strip() == main
    assert git(repo, "rev-parse", f"origin/{BRANCH}").strip() == pushed


def test_the_commands_bootstrap_prints_work_when_pasted(fleet, tmp_path):
    """Found on 13.1's way (NEW, a command that fails when pasted): `bootstrap -m M --workspace W
    NAME` ends with "`rollout drift --repo NAME` checks it after" and "and the repo-hygiene rollout:
    `rollout apply --manifest M --rollout repo-hygiene --repo NAME`". Pasted, the first said
    "manifests/repos.yaml: manifest not found" (no `--manifest`), the second "no clone at
    <the manifest's workspace>/NAME" (no `--workspace`). Both now carry the options bootstrap was
    given, as plan's saved-plan line does (pass 10a)."""
    import re
    import subprocess

    elsewhere = tmp_path / "ws2"
    elsewhere.mkdir()
    made = rollout("bootstrap", "-m", fleet.manifest, "--workspace", elsewhere, "--yes", "newrepo")
    assert made.code == 0, made.stdout
    said = " ".join(made.stdout.split())
    commands = re.findall(r"`(rollout [^`]*)`", said)
    assert len(commands) == 2, said
    for command in commands:
        pasted = subprocess.run(
            ["bash", "-c", command + " --yes" * (" apply " in command)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        # drift exits 2 for a repo that differs from the manifest (its branch is not merged yet)
        assert pasted.returncode in (0, 2), (command, pasted.stdout, pasted.stderr)
        assert "newrepo" in pasted.stdout, (command, pasted.stdout)
    assert git(elsewhere / "newrepo", "rev-parse", "--verify", "chore/repo-hygiene").strip()


@pytest.mark.usefixtures("loopback_only")
@pytest.mark.parametrize("renamed", ["chore/secrets", "chore/sops-age-rollout/v2"])
def test_a_renamed_branch_held_only_by_the_tools_push_record_is_never_left_behind(
    loop, tmp_path, renamed
):
    """13.1's renamed-branch refusal (pass 23a F5, ON-LIST, another holder): apply --push; the PR
    closed and its branch deleted on origin (`fetch --prune` here), the local branch deleted, the
    `.env` moved away: the tool's own push record (`refs/juniper-rollout/pushed/chore/sops-age-
    rollout`, which plan reads as the branch when the local one is gone) holds the only copy of
    `.env.enc`. `branch:` renamed: plan said "skip (no .env in the clone to encrypt)" and apply
    wrote the new branch without it; renamed to `chore/sops-age-rollout/v2`, its push deleted the
    old record as "in the way", and the commit holding the values was unreachable (`git fsck
    --unreachable`), gone at the next `git gc`. The record now counts as the old branch: the repo
    is refused, with a `git show` of the record, `branch:` back, or `git update-ref -d` of it."""
    import subprocess

    repo = loop.repo("juniper-cascor")
    assert apply(loop, "juniper-cascor", push=True).code == 0
    held = git(repo, "rev-parse", BRANCH).strip()
    git(loop.remotes / "juniper-cascor.git", "branch", "-D", BRANCH)
    git(repo, "fetch", "-q", "--prune", "origin")
    git(repo, "branch", "-D", BRANCH)
    (repo / ".env").rename(tmp_path / "moved-away.env")
    text = loop.manifest.read_text()
    loop.manifest.write_text(
        text.replace("  branch: chore/sops-age-rollout\n", f"  branch: {renamed}\n", 1)
    )
    planned = rollout("plan", "-m", loop.manifest, "--repo", "juniper-cascor")
    said = " ".join(planned.stdout.split())
    record = f"refs/juniper-rollout/pushed/{BRANCH}"
    assert planned.code == 1 and f"{record} (this rollout's commits" in said, said
    assert f"set `branch:` back to {BRANCH}" in said, said
    # pass 25d: with the record's value as printed (git's own lease)
    assert f"`git -C {repo} update-ref -d {record} {held}`" in said, said
    written = apply(loop, "juniper-cascor", push=True)
    assert "juniper-cascor: failed" in written.stdout, written.stdout
    assert git(repo, "rev-parse", record).strip() == held
    # the printed way to bring the values back works when pasted in the clone
    restore = next(
        c for c in said.split("`") if c.startswith("git -C ") and f" show {record}:.env.enc" in c
    )
    done = subprocess.run(["bash", "-c", restore], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (repo / ".env").read_text() == (tmp_path / "moved-away.env").read_text()


@pytest.mark.usefixtures("loopback_only")
def test_the_way_to_empty_a_value_never_deletes_a_reviewers_commit_on_origin(loop, tmp_path):
    """Found on 13.1's way (NEW, a pasted command that loses a reviewer's work, 13.4's kind): apply
    --push; a reviewer pushes a commit of their own onto origin's rollout branch (fetched here); the
    local branch is deleted; `.env` leaves a committed value empty. The refusal's way to empty it on
    purpose was "forget the rollout branch's last pushed copy (`git update-ref -d refs/juniper-
    rollout/pushed/… && git push origin --delete chore/sops-age-rollout`)": pasted, it deleted origin's
    branch and the reviewer's commit on it. A delete of origin's branch is offered only when its tip
    is the tool's own commit; otherwise the line says origin holds commits the tool did not make."""
    import subprocess

    from tests.test_pass23a import _reviewers_files_pushed

    repo = loop.repo("juniper-cascor")
    assert apply(loop, "juniper-cascor", push=True).code == 0
    reviewers = _reviewers_files_pushed(repo, {"REVIEW.md": "a reviewer's notes\n"}, tmp_path)
    git(repo, "fetch", "-q", "origin")
    git(repo, "branch", "-D", BRANCH)
    env = repo / ".env"
    lines = env.read_text().splitlines()
    lines[0] = lines[0].split("=", 1)[0] + "="
    env.write_text("\n".join(lines) + "\n")
    planned = rollout("plan", "-m", loop.manifest, "--repo", "juniper-cascor")
    assert planned.code == 1, planned.stdout
    said = " ".join(planned.stdout.split())
    assert not re.search(GIT_ANY + r"push [^`]*origin --delete", said), said
    assert f"origin/{BRANCH} holds commits the tool did not make" in said, said
    for command in said.split("`"):
        if command.startswith("git "):
            subprocess.run(["bash", "-c", command], cwd=repo, capture_output=True, check=False)
    assert git(repo, "ls-remote", "origin", BRANCH).split()[:1] == [reviewers]


def _reviewers_commit_on_the_local_branch(repo, tmp_path) -> str:
    """A reviewer's commit (a file of theirs) on the local rollout branch, never pushed: its id."""
    from tests.test_adversary import tree_with

    tree = tree_with(repo, BRANCH, {"REVIEW.md": "a reviewer's notes, never pushed\n"}, tmp_path)
    mine = git(repo, "commit-tree", "-p", BRANCH, "-m", "review: notes", tree).strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", mine)
    return mine


def test_no_refusal_offers_git_branch_d_for_a_branch_holding_a_reviewers_commit(fleet, tmp_path):
    """13.4 (ON-LIST, a reviewer's commit lost, by a pasted command): apply; a reviewer's commit on
    the local rollout branch (never pushed). Apply would be blocked ("holds commits the tool did not
    make"), but with `.env` leaving a committed value empty plan and apply first refused the repo
    for its secrets, and the way out they offered was "to empty them on purpose, delete the rollout
    branch (`git branch -D chore/sops-age-rollout`)": pasted, it deleted the reviewer's commit, its
    only copy. No line offers a delete of a branch holding commits the tool did not make. (An
    `encrypt:` entry turned off, main moved, was checked too: that line never came.)"""
    import subprocess

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    theirs = _reviewers_commit_on_the_local_branch(repo, tmp_path)
    env = repo / ".env"
    lines = env.read_text().splitlines()
    lines[0] = lines[0].split("=", 1)[0] + "="
    env.write_text("\n".join(lines) + "\n")
    for said in (
        rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor").stdout,
        apply(fleet, "juniper-cascor").stdout,
    ):
        line = " ".join(said.split())
        assert "juniper-cascor" in line and not git_any(line, "branch -D"), line
        for command in line.split("`"):
            if command.startswith("git "):
                subprocess.run(["bash", "-c", command], cwd=repo, capture_output=True, check=False)
    assert git(repo, "rev-parse", BRANCH).strip() == theirs


@pytest.mark.parametrize("branch", ["a reviewer's commit on it", "deleted here after its push"])
def test_keep_only_the_bases_values_offers_a_delete_that_works_and_loses_no_work(
    fleet, tmp_path, branch
):
    """13.1's "each holds changes the other lacks" refusal (pass 11a) and its way out (ON-LIST 13.4 /
    NEW on the way): a teammate's `sops edit` on main, a value rotated on the rollout branch, `.env`
    moved away. "To keep only the base's, delete the branch (`git branch -D chore/sops-age-rollout`)":
    with a reviewer's commit on the local branch, pasted, it deleted that commit; with the local
    branch deleted after its push (the plan reads the tool's push record), the line said `git branch
    -D refs/juniper-rollout/pushed/…`, which fails ("branch not found") and the refusal stayed."""
    import subprocess

    from tests.helpers import next_second
    from tests.test_pass10a import _sops_edit_on_main
    from tests.test_pass11a import _merge_branch_into_main

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    _merge_branch_into_main(repo)
    old_main = git(repo, "rev-parse", "main").strip()
    _sops_edit_on_main(repo, tmp_path, "NEW_X=teammate-value")
    teammate = git(repo, "rev-parse", "main").strip()
    git(repo, "update-ref", "refs/heads/main", old_main)
    next_second()
    env = repo / ".env"
    env.write_text(env.read_text().replace("HF_TOKEN=", "HF_TOKEN=rotated-", 1))
    assert apply(fleet, "juniper-cascor").code == 0
    env.rename(tmp_path / "moved-away.env")
    git(repo, "update-ref", "refs/heads/main", teammate)
    if branch == "a reviewer's commit on it":
        kept = _reviewers_commit_on_the_local_branch(repo, tmp_path)
    else:
        git(repo, "update-ref", f"refs/juniper-rollout/pushed/{BRANCH}", BRANCH)
        git(repo, "branch", "-D", BRANCH)
    said = " ".join(
        rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor").stdout.split()
    )
    assert "each holds changes the other lacks" in said, said
    assert not git_any(said, "branch -D"), said
    if branch == "a reviewer's commit on it":
        assert git(repo, "rev-parse", BRANCH).strip() == kept
        return
    [forget] = [c for c in said.split("`") if c.startswith(f"git -C {repo} update-ref -d")]
    done = subprocess.run(["bash", "-c", forget], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    again = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor")
    assert again.code == 0, again.stdout


def test_drop_it_on_purpose_names_a_command_that_works_for_a_branch_deleted_here(fleet, tmp_path):
    """13.1's "no enabled `encrypt:` entry writes it now" refusal (pass 6) and its way out (NEW on
    the way, a command that fails when pasted): the rollout branch pushed, then deleted here (the
    plan reads the tool's push record), `.env` moved away, the entry `enabled: false`, main moved.
    "To drop it on purpose, delete the branch (`git branch -D chore/sops-age-rollout`)": pasted,
    "branch not found", and the refusal stayed. It names the record's `git update-ref -d`."""
    import subprocess

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    git(repo, "update-ref", f"refs/juniper-rollout/pushed/{BRANCH}", BRANCH)  # as a push records it
    git(repo, "branch", "-D", BRANCH)
    (repo / ".env").rename(tmp_path / "moved-away.env")
    text = fleet.manifest.read_text()
    at = text.index("  - name: juniper-cascor")
    end = text.index("        target: .env.enc\n", at) + len("        target: .env.enc\n")
    fleet.manifest.write_text(text[:end] + "        enabled: false\n" + text[end:])
    tree = git(repo, "write-tree").strip()
    moved = git(repo, "commit-tree", "-p", "main", "-m", "main moves", tree).strip()
    git(repo, "update-ref", "refs/heads/main", moved)
    said = " ".join(
        rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor").stdout.split()
    )
    assert "which no enabled `encrypt:` entry" in said, said
    assert not git_any(said, "branch -D"), said
    [forget] = [c for c in said.split("`") if c.startswith(f"git -C {repo} update-ref -d")]
    done = subprocess.run(["bash", "-c", forget], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    again = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor")
    assert again.code == 0, again.stdout


def test_a_delete_offered_for_a_branch_checked_out_in_a_worktree_says_to_free_it_first(
    fleet, tmp_path
):
    """13.1's renamed-branch refusal (pass 23a F5) and its way out (NEW on the way, a command that
    fails when pasted): the old rollout branch checked out in a linked worktree, the `.env` moved
    away, `branch:` renamed. "To leave those values behind on purpose, delete that branch (`git
    branch -D chore/sops-age-rollout`)": pasted, git refused ("Cannot delete branch … checked out
    at …") and the refusal stayed. The line says to switch that worktree away first."""
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", str(worktree), BRANCH)
    (repo / ".env").rename(tmp_path / "moved-away.env")
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(
        text.replace("  branch: chore/sops-age-rollout\n", "  branch: chore/secrets\n", 1)
    )
    said = " ".join(
        rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor").stdout.split()
    )
    assert f"{BRANCH} is checked out in {worktree}: switch that worktree" in said, said
    git(worktree, "switch", "-q", "--detach")  # what the line asks
    [delete] = [c for c in said.split("`") if f"git -C {repo} branch -D" in c]  # 25d: leased
    subprocess.run(["bash", "-c", delete], cwd=tmp_path, check=True)
    again = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor")
    assert again.code == 0, again.stdout


def test_the_way_to_free_a_branch_checked_out_in_a_new_worktree_works_when_pasted(fleet):
    """13.3 (ON-LIST, a way out that fails when pasted): apply; the reviewer checks the rollout branch
    out in a worktree of its own (`git worktree add ../review chore/sops-age-rollout`, the usual
    way); main moves; apply is `blocked` (right), and says "switch that worktree to another branch
    (`git switch -`)". Pasted there: "fatal: invalid reference: @{-1}" (a worktree made on the
    branch has no previous branch), and apply stayed blocked. The command now works in any worktree
    (`git switch --detach`: the branch is free, the worktree and its changes stay as they are)."""
    import re
    import subprocess

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    review = fleet.root / "review"
    git(repo, "worktree", "add", "-q", str(review), BRANCH)
    (review / "NOTES.md").write_text("a reviewer's notes, not committed yet\n")
    env = repo / ".env"
    env.write_text(env.read_text().replace("=", "=rotated-", 1))
    said = " ".join(apply(fleet, "juniper-cascor").stdout.split())
    assert "juniper-cascor: blocked" in said, said
    [command] = re.findall(r"switch (?:that worktree|it) [^(]*\(`([^`]*)`\)", said)
    pasted = subprocess.run(["bash", "-c", command], cwd=review, capture_output=True, text=True)
    assert pasted.returncode == 0, (command, pasted.stderr)
    written = apply(fleet, "juniper-cascor")
    assert "juniper-cascor: updated" in written.stdout, written.stdout
    assert (review / "NOTES.md").is_file()


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_says_force_also_deletes_commits_origin_lacks(loop, github, tmp_path):
    """`cleanup` / `cleanup --force` (NEW, an offered command that loses work without saying so):
    apply --push, no pull request yet; a reviewer's commit on the local rollout branch, never pushed
    (its only copy). `rollout cleanup` said "no pull request; --force deletes the branch anyway",
    as for any branch, and `cleanup --force` deleted the reviewer's commit with it. After a merged
    PR the same line says "--force deletes them too" (pass 21e); unmerged, it now counts the
    commits origin lacks that --force deletes."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    theirs = _reviewers_commit_on_the_local_branch(repo, tmp_path)
    said = " ".join(rollout("cleanup", *only).stdout.split())
    assert "juniper-cascor: kept" in said, said
    assert (
        "--repo juniper-cascor` deletes the branch anyway, and with it 1 commit origin lacks"
        in said
    ), said
    assert git(repo, "rev-parse", BRANCH).strip() == theirs
