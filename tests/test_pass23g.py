"""Pass 23g: a third adversarial pass over issue 13 items 1-4 (after passes 23a and 23d)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.demofleet import CANARY
from tests.fleet import BRANCH
from tests.helpers import GIT_ANY, git, git_any, rollout
from tests.test_adversary import tree_with
from tests.test_pass21e import _age_recipient
from tests.test_pass23a import _kept_by_cleanup_force, _reviewers_files_pushed


@pytest.mark.parametrize("alias", ["", "trunk"])
def test_a_renamed_branch_check_never_takes_the_base_for_the_old_branch(fleet, tmp_path, alias):
    """13.1's renamed-branch refusal (pass 23a F5, 23d F3) and its advice (NEW on the way): the
    rollout merged into the local base (`git merge`, not pushed yet: origin's main is behind), the
    old branch deleted, `.env` moved away, `branch:` renamed. `tool_branches` took the local `main`
    for the renamed rollout branch: plan refused the repo, "main (this rollout's commits: was
    `branch:` renamed?) holds .env.enc, which main lacks", and offered `set branch: back to main`
    and `git branch -D main`, which, pasted, deletes the user's main with its unpushed commits (the
    merge among them). The base is never "the old branch": its values reach origin with its push.
    Nor is a symbolic ref (`trunk` → `main`, an alias kept for old scripts): it was named the same
    way, with "set `branch:` back to trunk" (the tool writing through the alias onto main)."""
    from tests.test_adversary import apply

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    before = git(repo, "rev-parse", "main").strip()
    git(repo, "update-ref", "refs/remotes/origin/main", before)  # origin's main: before the merge
    git(repo, "merge", "--no-ff", "-m", "Merge the rollout", BRANCH)
    git(repo, "branch", "-D", BRANCH)
    if alias:
        git(repo, "symbolic-ref", f"refs/heads/{alias}", "refs/heads/main")
    (repo / ".env").rename(tmp_path / "moved-away.env")
    text = fleet.manifest.read_text()
    assert "  branch: chore/sops-age-rollout\n" in text
    text = text.replace("  branch: chore/sops-age-rollout\n", "  branch: chore/secrets\n", 1)
    fleet.manifest.write_text(text)
    planned = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor")
    said = " ".join(planned.stdout.split())
    for name in ("main", alias or "main"):
        assert not git_any(said, f"branch -D {name}"), said
        assert f" {name} (this rollout's commits" not in said, said
    assert planned.code == 0, said
    assert ".env.enc" in git(repo, "ls-tree", "--name-only", "main").split()  # nothing lost


def test_a_renamed_branch_found_on_origin_only_names_a_branch_setting_the_manifest_takes(
    fleet, tmp_path
):
    """13.1's renamed-branch refusal (pass 23a F5, "on origin only") and its advice (NEW on the way):
    the old branch left on origin only (deleted here after a push, or another machine's), the `.env`
    moved away, `branch:` renamed. The line said "or set `branch:` back to origin/chore/sops-age-
    rollout", which the manifest refuses (`branch:` never names `origin/…`): that way out never
    worked. It names the branch itself now, and with it the plan goes on (the ciphertext kept from
    origin's copy)."""
    from tests.test_adversary import apply

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    (repo / ".env").rename(tmp_path / "moved-away.env")
    tip = git(repo, "rev-parse", BRANCH).strip()
    git(repo, "update-ref", f"refs/remotes/origin/{BRANCH}", tip)
    git(repo, "update-ref", f"refs/juniper-rollout/pushed/{BRANCH}", tip)  # as its push records it
    git(repo, "branch", "-D", BRANCH)
    text, said = _renamed_and_planned(fleet)
    [named] = re.findall(r"or set `branch:` back to (\S+);", said)
    fleet.manifest.write_text(text.replace(f"  branch: {BRANCH}\n", f"  branch: {named}\n", 1))
    again = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor")
    assert again.code == 0, again.stdout + again.stderr
    kept = f".env.enc kept from refs/juniper-rollout/pushed/{BRANCH}"  # its last push, as origin has it
    assert kept in " ".join(again.stdout.split()), again.stdout


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_force_keeps_a_large_sops_dotenv_file_holding_a_nul_byte(loop, github, tmp_path):
    """13.1 by `cleanup --force` after pass 23d (ON-LIST, its F2: a large sops file whatever its name):
    apply --push, then a reviewer's commit adding `deploy/big.sops.env`, a sops dotenv file of 17 MB
    whose values under `--unencrypted-suffix` are kept as written, one of them holding a NUL byte
    (sops writes it raw), pushed. Pass 23d took a NUL in a large file's first 64 KB for "no sops
    file" (sops writes text only; it does not): passed over, and `cleanup --force` deleted the branch
    here and on origin, the only copy of `TOKEN` with it. A head that starts as a dotenv or INI file
    does is read by its ends: kept."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    plain = b"NOTE_unencrypted=a\0b\nBLOB_unencrypted=" + b"x" * (17 << 20)
    plain += f"\nTOKEN=token-{CANARY}\n".encode()
    large = subprocess.run(
        ["sops", "--config", os.devnull, "encrypt", "--input-type", "dotenv"]
        + ["--output-type", "dotenv", "--unencrypted-suffix", "_unencrypted"]
        + ["--age", _age_recipient(loop), "/dev/stdin"],
        input=plain,
        capture_output=True,
        check=True,
        cwd=tmp_path,
    ).stdout.decode()
    assert len(large) > 16 << 20 and "\0" in large[: 1 << 16] and CANARY not in large
    _reviewers_files_pushed(repo, {"deploy/big.sops.env": large}, tmp_path)
    _kept_by_cleanup_force(repo, only, "deploy/big.sops.env")


def test_a_renamed_branch_named_like_origins_names_the_local_branch_in_its_commands(
    fleet, tmp_path
):
    """13.1's renamed-branch refusal (pass 23a F5) and its advice (NEW on the way): the old branch a
    local one named `origin/chore/sops-age-rollout` (refs/heads/origin/…: what the tool wrote for a
    `branch: origin/…` before the manifest refused that spelling, or a `git checkout -b` slip), the
    `.env` moved away, `branch:` renamed. `tool_branches` showed it as `origin/…`, so the line's
    commands named origin's branch: `git show refs/remotes/origin/…:.env.enc` (another branch, or
    none: the pasted command failed) and `git push origin --delete chore/sops-age-rollout`, which
    deletes origin's branch of that name, not this one. It is named `refs/heads/origin/…` now: the
    command brings `.env` back, and the way out is `git branch -D origin/…`."""
    from tests.test_adversary import apply
    from tests.test_pass21d import _commands, _pasted

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    moved = (repo / ".env").read_text()
    (repo / ".env").rename(tmp_path / "moved-away.env")
    git(repo, "branch", "-m", BRANCH, f"origin/{BRANCH}")
    text, said = _renamed_and_planned(fleet)
    assert f"git -C {repo} branch -D origin/{BRANCH}`" in said, said  # pass 25d: leased before
    assert not re.search(GIT_ANY + r"push [^`]*origin --delete", said), said
    [command] = _commands(said)
    assert _pasted(command, repo).returncode == 0, command
    assert sorted((repo / ".env").read_text().splitlines()) == sorted(moved.splitlines())


@pytest.mark.usefixtures("loopback_only")
def test_a_renamed_branch_on_origin_named_like_an_option_names_a_delete_that_works(loop, github):
    """13.1's renamed-branch refusal (pass 23a F5, 23d F4) and its way out (NEW on the way): the old
    branch on origin under a name git takes for an option (`-x`: receive-pack allows it, `git branch`
    does not), pushed and fetched; the `.env` moved away, `branch:` renamed. The way out to leave the
    values behind, `git push origin --delete -x`, fails pasted ("unknown switch `x'"), and `git branch
    -d -r origin/-x` lasts until the next fetch: the repo stayed refused. `--` comes before the name."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    git(repo, "push", "-q", "origin", f"{BRANCH}:refs/heads/-x")
    # as the tool's push records a branch it pushed under that name (an origin branch counts then)
    git(repo, "update-ref", "refs/juniper-rollout/pushed/-x", BRANCH)
    git(repo, "push", "-q", "origin", "--delete", BRANCH)
    git(repo, "branch", "-D", BRANCH)
    git(repo, "fetch", "-q", "--prune", "origin")
    (repo / ".env").unlink()
    text = loop.manifest.read_text()
    assert "  branch: chore/sops-age-rollout\n" in text
    loop.manifest.write_text(
        text.replace("  branch: chore/sops-age-rollout\n", "  branch: chore/secrets\n", 1)
    )
    said = " ".join(rollout("plan", *only).stdout.split())
    [command] = re.findall(rf"`(git -C {repo} push [^`]*origin --delete [^`]*)`", said)
    pasted = subprocess.run(["bash", "-c", command], cwd=repo, capture_output=True, text=True)
    assert pasted.returncode == 0, command + pasted.stderr
    assert not git(repo, "ls-remote", "origin", "refs/heads/-x").strip()


def test_a_branch_on_origin_this_clone_never_pushed_never_refuses_a_renamed_branch(fleet, tmp_path):
    """Pass 23g's F6 (NEW, the lead's fix): the renamed-branch check read every branch on origin, and
    anyone who can push one (`docs/typo`) can write a commit of the tool's shape holding a `.env.enc`
    to the fleet's public key: every clone without a `.env` was refused, and the way out decrypted
    that person's values into `.env` for apply to encrypt. Only a branch this clone pushed itself (its
    push record) counts: the branch is written, and nothing of the other branch is taken."""
    from tests.test_adversary import apply

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    (repo / ".env").rename(tmp_path / "moved-away.env")
    tip = git(repo, "rev-parse", BRANCH).strip()
    git(repo, "update-ref", "refs/remotes/origin/docs/typo", tip)  # someone's branch, fetched
    git(repo, "branch", "-D", BRANCH)
    _, planned = _renamed_and_planned(fleet)
    assert "docs/typo" not in planned and "was `branch:` renamed?" not in planned, planned
    written = apply(fleet, "juniper-cascor")
    assert written.code == 0 and "juniper-cascor: created" in written.stdout, written.stdout
    assert ".env.enc" not in git(repo, "ls-tree", "-r", "--name-only", "chore/secrets").split()


def test_a_branch_with_work_above_the_rollouts_commits_is_offered_no_delete_command(
    fleet, tmp_path
):
    """Pass 23g's F7 (NEW, the lead's fix): a developer's `feature/x`, made from the old rollout
    branch, with a commit of their own on top; the `.env` moved away, `branch:` renamed. The refusal
    offered `git branch -D feature/x` as the way to leave the values behind: pasted, it deleted their
    work. A branch whose tip is not the rollout's commit is offered no delete command."""
    from tests.test_adversary import apply

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    tree = tree_with(repo, BRANCH, {"FEATURE.md": "work in progress\n"}, tmp_path)
    mine = git(repo, "commit-tree", "-p", BRANCH, "-m", "feature: a start", tree).strip()
    git(repo, "update-ref", "refs/heads/feature/x", mine)
    git(repo, "branch", "-D", BRANCH)
    (repo / ".env").rename(tmp_path / "moved-away.env")
    _, said = _renamed_and_planned(fleet)
    assert "feature/x (this rollout's commits: was `branch:` renamed?) holds .env.enc" in said, said
    assert not git_any(said, "branch -D") and "it has commits after this rollout's" in said, said


def _renamed_and_planned(fleet) -> tuple[str, str]:
    """`branch:` renamed in the manifest to `chore/secrets`: the manifest's text before, and what
    plan then says of juniper-cascor, on one line."""
    text = fleet.manifest.read_text()
    assert "  branch: chore/sops-age-rollout\n" in text
    fleet.manifest.write_text(
        text.replace("  branch: chore/sops-age-rollout\n", "  branch: chore/secrets\n", 1)
    )
    said = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor").stdout
    return text, " ".join(said.split())
