"""Issue 13, pass 24a: a fourth adversarial pass over items 1-4 and the branch items of "smaller, same
standard" (after passes 23a, 23d and 23g). Each test fails on the main this pass started from
(checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout
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
