"""Issue 13, pass 21a: the second adversarial pass over items 1-4 ("work lost on the rollout branch") and
the branch items of "smaller, same standard". Each test fails on the main this pass started from (checked
by undoing its fix)."""

from __future__ import annotations

import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_adversary import apply, move_main

DECRYPT = "sops decrypt --input-type dotenv --output-type dotenv /dev/stdin"


def _reviewers_commit_on_top(repo, tmp_path) -> None:
    """A reviewer's commit on the rollout branch (a file of theirs), written with plumbing."""
    from tests.test_adversary import tree_with

    tree = tree_with(repo, BRANCH, {"REVIEW.md": "reviewed\n"}, tmp_path)
    commit = subprocess.run(
        ["git", "-C", str(repo), "commit-tree", "-p", BRANCH, "-m", "review notes", tree],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", commit)


@pytest.mark.parametrize("how", ["main force-pushed back", "a reviewer's commit on top"])
def test_a_blocked_branch_holding_the_only_ciphertext_says_so_before_offering_to_delete_it(
    fleet, tmp_path, how
):
    """13.1 by another order of steps: the branch holds `.env.enc`, the `.env` is moved away (it is
    encrypted now), then main is force-pushed back past the commit the branch was built on (or a
    reviewer adds a commit): apply is `blocked`, "merge or delete that branch", and plan's note the
    same. Deleting it, the one way out offered after a force-push (a rebase makes the tool's commit a
    person's), left `.env.enc` on no ref: the next plan said "skip (no .env in the clone to
    encrypt)". The blocked line and the note now say the branch holds the only copy, and how to
    bring the values back first; after the force-push, it said the branch held "commits the tool did
    not make" (it holds the tool's commits on the commit main dropped) and offered merging it as if
    that were harmless: it brings that commit back to main. Now it says what it holds and what each
    way out does."""
    repo = fleet.repo("juniper-cascor")
    before = git(repo, "rev-parse", "main").strip()
    move_main(repo)
    assert apply(fleet, "juniper-cascor").code == 0
    (repo / ".env").rename(tmp_path / "moved-away.env")
    if how == "main force-pushed back":
        git(repo, "update-ref", "refs/heads/main", before)
    else:
        _reviewers_commit_on_top(repo, tmp_path)
        move_main(repo)
    tip = git(repo, "rev-parse", BRANCH).strip()
    result = apply(fleet, "juniper-cascor")
    assert result.code == 1 and "juniper-cascor: blocked" in result.stdout, result.stdout
    said = " ".join(result.stdout.split())
    assert "holds the only copy of .env.enc" in said, said
    into = f" --output={repo / '.env'} /dev/stdin)"  # pass 24k: in the clone, wherever pasted
    # pass 25d: printed while the clone has no .env, it writes only while there is still none
    # pass 25g: and says so when a file is there by then
    said_so = (
        "|| ! echo >&2 'a file is there now (written since this line was printed): nothing done'"
    )
    absent = f"test ! -e {repo / '.env'} && test ! -L {repo / '.env'} {said_so} && "
    decrypt_into = "(umask 077 && " + absent + DECRYPT.replace(" /dev/stdin", into)
    assert f"git -C {repo} show refs/heads/{BRANCH}:.env.enc | {decrypt_into}" in said, said
    if how == "main force-pushed back":
        # what it holds, in true words, and no advice to merge the commit main dropped back into it
        built_on = git(repo, "rev-parse", "--short=7", f"{BRANCH}^").strip()
        assert f"holds the tool's commits on {built_on}, which is not on main" in said, said
        assert f"delete that branch or merge it (merging brings {built_on} back to main)" in said
        assert "did not make" not in said, said
    else:
        assert "holds commits the tool did not make; merge or delete that branch" in said, said
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    noted = " ".join(plan.stdout.split())
    assert "apply will refuse it" in noted and "holds the only copy of .env.enc" in noted, noted


def test_a_blocked_branch_with_the_plaintext_at_hand_offers_deleting_it_as_before(fleet, tmp_path):
    """With the `.env` in the clone, deleting the branch loses nothing the next apply cannot write
    again: the line stays as it was."""
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    _reviewers_commit_on_top(repo, tmp_path)
    move_main(repo)
    result = apply(fleet, "juniper-cascor")
    assert result.code == 1 and "juniper-cascor: blocked" in result.stdout
    said = " ".join(result.stdout.split())
    assert "merge or delete that branch" in said and "only copy" not in said, said


def fork_remotes(repo, tmp_path):
    """``repo``'s origin fetching from a bare `upstream.git` and pushing to a bare `fork.git`
    (`remote.origin.pushurl`), both holding main: (upstream, fork)."""
    upstream, fork = tmp_path / "upstream.git", tmp_path / "fork.git"
    for bare in (upstream, fork):
        subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
        git(repo, "push", "-q", str(bare), "main")
    git(repo, "remote", "add", "origin", str(upstream))
    git(repo, "config", "remote.origin.pushurl", str(fork))
    return upstream, fork


def test_a_branch_deleted_where_origin_pushes_is_pushed_again_whatever_the_fetch_url_holds(
    fleet, tmp_path
):
    """Smaller list, "a remote rollout branch deleted after merge": where origin pushes to another
    repository than it fetches from (`remote.origin.pushurl`, a fork), the branch merged and deleted
    in the fork was asked about with `ls-remote origin`, i.e. in the fetch URL's repository; a branch
    of that name there (a teammate's) made every later `apply --push` fail, "origin/… has commits the
    tool did not push", though the push's own repository had no such branch."""
    repo = fleet.repo("juniper-ml")
    upstream, fork = fork_remotes(repo, tmp_path)
    first = apply(fleet, "juniper-ml", push=True)
    assert first.code == 0 and "pushed to origin" in first.stdout, first.stdout
    assert git(fork, "rev-parse", BRANCH).strip() == git(repo, "rev-parse", BRANCH).strip()
    git(fork, "branch", "-D", BRANCH)  # merged there and deleted
    git(upstream, "branch", BRANCH, "main")  # a branch of that name where origin fetches from
    move_main(repo)
    again = apply(fleet, "juniper-ml", push=True)
    assert again.code == 0 and "pushed to origin" in again.stdout, again.stdout
    assert git(fork, "rev-parse", BRANCH).strip() == git(repo, "rev-parse", BRANCH).strip()
    assert git(upstream, "rev-parse", BRANCH).strip() == git(upstream, "rev-parse", "main").strip()
