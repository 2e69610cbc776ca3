"""Issue 13, pass 24h: a third-round adversarial pass over items 1-4, attacking what passes 24a and
24d added (the refusal of a branch moved back and its ways out, the push record of a renamed
branch, the leased delete of origin's branch, sync's fetch, `Manifest.command`). Each test fails
on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout


def _paste(command: str, cwd, *more: str) -> subprocess.CompletedProcess:
    """``command`` as a person pastes it in bash (``more`` appended), in ``cwd``."""
    return subprocess.run(
        ["bash", "-c", " ".join([command, *more])], cwd=cwd, capture_output=True, text=True
    )


def _commands(said: str) -> list[str]:
    return [c for c in said.split("`") if c.startswith("git ")]


@pytest.mark.usefixtures("loopback_only")
def test_a_branch_made_anew_for_other_work_is_never_moved_off_that_work(loop, tmp_path):
    """ON-LIST 13.1 (pass 24d's way out of a branch moved back): apply --push, then a developer
    deleted the rollout branch and made one of the same name from main for other work (a commit of
    theirs on it), the `.env` moved away. The refusal ("here lacks the tool's last push of it")
    offered `git branch -f BRANCH RECORD`: pasted, the developer's commit was on no branch (reflog
    only). That way out is offered now only when every commit of the branch is on another ref; the
    values come back from the record instead, and apply then blocks the developer's branch."""
    name = "juniper-cascor"
    repo = loop.repo(name)
    assert rollout("apply", "-m", loop.manifest, "--repo", name, "--yes", "--push").code == 0
    git(repo, "branch", "-D", BRANCH)
    git(repo, "switch", "-q", "-c", BRANCH, "main")
    (repo / "work.txt").write_text("a developer's work\n")
    git(repo, "add", "work.txt")
    git(repo, "commit", "-qm", "other work")
    work = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "switch", "-q", "main")
    (repo / ".env").rename(tmp_path / "moved-away.env")
    planned = rollout("plan", "-m", loop.manifest, "--repo", name)
    said = " ".join(planned.stdout.split())
    assert planned.code == 1 and "was the branch moved back?" in said, said
    for command in _commands(said):
        assert _paste(command, repo).returncode == 0, command
    assert git(repo, "branch", "--contains", work).strip(), "the developer's commit is on no branch"
    assert (repo / ".env").read_text() == (tmp_path / "moved-away.env").read_text()
    again = rollout("apply", "-m", loop.manifest, "--repo", name, "--yes", "--push")
    assert f"{name}: blocked" in again.stdout, again.stdout
    assert git(repo, "rev-parse", BRANCH).strip() == work


def test_a_printed_command_names_the_default_manifest_when_the_environment_names_another(
    fleet, tmp_path, monkeypatch
):
    """NEW (`Manifest.command`/`wording.rollout_command`: a command that does something else when
    pasted): with `JUNIPER_MANIFEST` exported (the user's usual fleet) and `-m manifests/repos.yaml`
    given on the command line (another fleet, in this folder), rotate said "Next: run `rollout plan`,
    then `rollout apply`": the default manifest was left out of the printed command, and pasted in
    the same shell it read `JUNIPER_MANIFEST`'s fleet, not the one the command ran on ("manifest not
    found" here; another fleet's plan and apply in life). The default manifest is named whenever
    the environment names a manifest."""
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "repos.yaml").write_text(fleet.manifest.read_text())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JUNIPER_MANIFEST", str(tmp_path / "usual" / "fleet.yaml"))
    said = rollout("rotate", "-m", "manifests/repos.yaml", "--data-key")
    assert said.code == 0, said.stdout + said.stderr
    [plan] = set(re.findall(r"`(rollout plan[^`]*)`", " ".join(said.stdout.split())))
    pasted = _paste(plan, tmp_path, "--repo", "juniper-ml")
    assert pasted.returncode == 0, (plan, pasted.stdout, pasted.stderr)
    assert "juniper-ml" in pasted.stdout, (plan, pasted.stdout)


@pytest.mark.usefixtures("loopback_only")
def test_a_status_rows_next_step_acts_on_that_repo_alone(loop, github, tmp_path):
    """NEW (`Manifest.command` in status's rows: a command that does something else when pasted):
    two pull requests closed by people (juniper-data's and juniper-ml's); status's row of
    juniper-data said "closed by a person (`rollout pr --reopen --manifest M`)": pasted, it reopened
    every closed pull request of the fleet, juniper-ml's too, which its maintainer had closed on
    purpose (and a row's "push: `rollout apply --push`" pushed every repo's branch). Each row's next
    step names its repo (`--repo NAME`)."""
    from tests.fleet import OWNER

    assert rollout("apply", "-m", loop.manifest, "--yes", "--push").code == 0
    assert rollout("pr", "-m", loop.manifest).code == 0
    github.close(f"{OWNER}/juniper-data", 1)
    github.close(f"{OWNER}/juniper-ml", 1)
    status = rollout("status", "-m", loop.manifest, "--json")
    rows = {r["name"]: r for r in json.loads(status.stdout)["repos"]}
    [command] = re.findall(r"`(rollout [^`]*)`", rows["juniper-data"]["next"])
    pasted = _paste(command, tmp_path)
    assert pasted.returncode == 0, (command, pasted.stdout, pasted.stderr)
    assert github.pull(f"{OWNER}/juniper-data", 1).state == "open", pasted.stdout
    assert github.pull(f"{OWNER}/juniper-ml", 1).state == "closed", (command, pasted.stdout)


def test_a_verify_fix_acts_on_that_repo_alone(fleet, tmp_path):
    """NEW (pass 24d's `Manifest.commands_said`, same kind as the status rows): `rollout verify -m M
    --repo juniper-ml` said "fix: run `rollout plan --manifest M`, then `rollout apply --manifest
    M`": pasted (with `--yes`), apply wrote the rollout branch of every repo of the fleet. A fix
    verify, drift or a review line prints for one repo names it (`--repo NAME`)."""
    said = rollout("verify", "-m", fleet.manifest, "--repo", "juniper-ml", "--json")
    fixes = " ".join(c["detail"] for c in json.loads(said.stdout)["repos"][0]["checks"])
    applies = set(re.findall(r"`(rollout apply[^`]*)`", fixes))
    assert applies, fixes
    for command in applies:
        pasted = _paste(command, tmp_path, "--yes")
        assert pasted.returncode == 0, (command, pasted.stdout, pasted.stderr)
    assert git(fleet.repo("juniper-ml"), "branch", "--list", BRANCH).strip()
    assert not git(fleet.repo("juniper-data"), "branch", "--list", BRANCH).strip(), pasted.stdout
