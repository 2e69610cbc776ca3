"""Issue 13, pass 24d: a second-round adversarial pass over items 1-4 and the branch items of
"smaller, same standard", attacking first what pass 24a added (sync's `--refmap=` fetch, the push
record as a renamed branch's old one, the ways out its refusals print, `wording.rollout_command`).
Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout

HYGIENE = "chore/repo-hygiene"


def _paste(command: str, cwd, *more: str) -> subprocess.CompletedProcess:
    """``command`` as a person pastes it in bash (``more`` appended), in ``cwd``."""
    return subprocess.run(
        ["bash", "-c", " ".join([command, *more])], cwd=cwd, capture_output=True, text=True
    )


def _origin_has(repo, branch: str) -> bool:
    return bool(git(repo, "ls-remote", "origin", f"refs/heads/{branch}").strip())


@pytest.mark.usefixtures("loopback_only")
def test_status_of_a_named_rollout_prints_next_steps_that_act_on_that_rollout(loop, tmp_path):
    """NEW (left by pass 24a, a command that does the wrong thing when pasted): `rollout status -m M
    --rollout repo-hygiene` said "push: `rollout apply --push`" for a repo whose hygiene branch was
    applied but not pushed. Pasted (with `--repo NAME --yes`), it read the default manifest, or with
    the right one applied and pushed the SOPS rollout's branch, never the hygiene one. Every next
    step status prints now carries the `--manifest`, `--workspace` and `--rollout` it was run with."""
    name = "juniper-cascor"
    repo = loop.repo(name)
    hygiene = ("-m", loop.manifest, "--rollout", "repo-hygiene", "--repo", name)
    assert rollout("apply", *hygiene, "--yes").code == 0
    status = rollout("status", *hygiene, "--json")
    assert status.code == 0, status.stdout + status.stderr
    step = json.loads(status.stdout)["repos"][0]["next"]
    command = re.search(r"`(rollout [^`]*)`", step)
    assert command, step
    pasted = _paste(command.group(1), tmp_path, "--repo", name, "--yes")
    assert pasted.returncode == 0, (command.group(1), pasted.stdout, pasted.stderr)
    assert _origin_has(repo, HYGIENE), (command.group(1), pasted.stdout)
    assert not _origin_has(repo, BRANCH), (command.group(1), pasted.stdout)


@pytest.mark.usefixtures("loopback_only")
def test_sync_never_fails_on_a_tag_it_has_no_use_for(loop):
    """NEW (on pass 24a's fetch): the clone's `remote.origin.tagOpt = --tags` (fetch every tag) and a
    local tag `v1` that differs from origin's `v1`: `rollout sync` ran `git fetch --quiet … origin
    +refs/heads/*:refs/remotes/origin/*`, which also fetched the tags, refused to clobber the local
    one, and said "failed  git fetch failed: " (an empty reason: --quiet kept git's) on every sync
    for ever, origin's rollout branch never fetched. The tool reads origin's branches only: the fetch
    takes no tag (`--no-tags`); the local tag is left as it was; a failed fetch always says why."""
    name = "juniper-cascor"
    repo = loop.repo(name)
    bare = loop.root / "remotes" / f"{name}.git"
    assert rollout("apply", "-m", loop.manifest, "--repo", name, "--yes", "--push").code == 0
    git(bare, "tag", "v1", f"refs/heads/{BRANCH}")
    mine = git(repo, "rev-parse", "main").strip()
    git(repo, "tag", "v1", mine)
    git(repo, "config", "remote.origin.tagOpt", "--tags")
    reviewed = git(
        bare, "commit-tree", "-m", "a reviewer's", "-p", BRANCH, f"{BRANCH}^{{tree}}"
    ).strip()
    git(bare, "update-ref", f"refs/heads/{BRANCH}", reviewed)
    synced = rollout("sync", "-m", loop.manifest, "--repo", name)
    assert synced.code == 0, synced.stdout
    assert git(repo, "rev-parse", f"origin/{BRANCH}").strip() == reviewed
    assert git(repo, "rev-parse", "refs/tags/v1").strip() == mine
