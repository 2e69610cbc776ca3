"""Pass 14c (helper M): adversarial variants against the lead's round-four code (issue 13, item 1)."""

from __future__ import annotations

from tests.demofleet import CANARY
from tests.helpers import git, rollout
from tests.test_pass3 import BRANCH
from tests.test_pass10a import _apply, _decrypted
from tests.test_reverted_values import CASCOR, _teammate_sets_on_main


def _later_env_edit(repo) -> None:
    env = repo / ".env"
    env.write_text(env.read_text() + "NEW_SETTING=on\n")  # another name: .env is the later file


def test_a_teammates_value_is_kept_when_the_merged_branch_was_deleted(fleet, tmp_path):
    """The rollout branch merged, then deleted (what `rollout cleanup` does): no fork is known, and
    the later `.env` put the teammate's rotated value on main back to the old one."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "merge", "-q", "--ff-only", BRANCH)
    git(repo, "branch", "-q", "-D", BRANCH)
    _teammate_sets_on_main(repo, tmp_path, "HF_TOKEN", f"teammate-{CANARY}")
    _later_env_edit(repo)
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    assert "(HF_TOKEN), the value an earlier commit" in planned.stdout
    assert _apply(fleet, CASCOR).code == 1
    assert git(repo, "branch", "--list", BRANCH).strip() == ""
    # the user's own rotation of another name is no revert
    env = repo / ".env"
    shown = _decrypted(repo, "main", tmp_path)
    env.write_text(
        shown.replace("SCOUT_TOKEN=", f"SCOUT_TOKEN=rotated-{CANARY}-", 1) + "NEW_SETTING=on\n"
    )
    result = _apply(fleet, CASCOR)
    assert result.code == 0, result.stdout
    after = _decrypted(repo, BRANCH, tmp_path)
    assert f"HF_TOKEN=teammate-{CANARY}" in after and f"SCOUT_TOKEN=rotated-{CANARY}-" in after


def test_a_teammates_value_is_kept_after_a_squash_merge(fleet, tmp_path):
    """Squash-merged (the branch kept): its fork is the commit before `.env.enc` existed, so the
    three-way check had nothing to compare with and the teammate's value was put back."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "merge", "-q", "--squash", BRANCH)
    git(repo, "commit", "-qm", "squash the rollout")
    _teammate_sets_on_main(repo, tmp_path, "HF_TOKEN", f"teammate-{CANARY}")
    _later_env_edit(repo)
    tip = git(repo, "rev-parse", BRANCH).strip()
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    assert "(HF_TOKEN), the value an earlier commit" in planned.stdout
    assert _apply(fleet, CASCOR).code == 1
    assert git(repo, "rev-parse", BRANCH).strip() == tip


def test_an_export_line_left_empty_never_blanks_the_committed_value(fleet, tmp_path):
    """`export NAME=` (a shell-sourceable `.env`): keyed "export NAME", it never met the committed
    NAME, and its empty value was encrypted over the committed one."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    tip = git(repo, "rev-parse", BRANCH).strip()
    env = repo / ".env"
    lines = env.read_text().splitlines()
    name = lines[1].split("=", 1)[0]
    lines[0] = lines[0].split("=", 1)[0] + f"=rotated-{CANARY}"
    lines[1] = f"export {name}="
    env.write_text("\n".join(lines) + "\n")
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    assert (
        f"leaves 1 name empty (or a bare `# …` placeholder) that the committed .env.enc on {BRANCH} holds values for ({name}"
        in (planned.stdout)
    )
    assert _apply(fleet, CASCOR).code == 1
    assert git(repo, "rev-parse", BRANCH).strip() == tip


def test_an_export_line_never_reverts_a_teammates_value(fleet, tmp_path):
    """The same spelling on the three-way check: `export HF_TOKEN=old` was no HF_TOKEN to compare."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "merge", "-q", "--ff-only", BRANCH)
    _teammate_sets_on_main(repo, tmp_path, "HF_TOKEN", f"teammate-{CANARY}")
    env = repo / ".env"
    env.write_text(env.read_text().replace("HF_TOKEN=", "export HF_TOKEN=", 1) + "NEW_SETTING=on\n")
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    assert "changed the value of 1 name since" in planned.stdout and "(HF_TOKEN)" in planned.stdout


def _pasted(command: str, cwd) -> str:
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    done = subprocess.run(
        command,
        shell=True,
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_printed_command_shows_origins_values_when_local_main_is_behind(fleet, tmp_path):
    """The plan reads origin/main (what `rollout sync` fetched); the line said `git show main:.env.enc`,
    which printed local main's older values, not the teammate's it asked the user to bring in."""
    repo = fleet.repo(CASCOR)
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "push", "-q", "origin", f"{BRANCH}:main")  # the review merged on origin
    git(repo, "fetch", "-q", "origin")
    git(repo, "merge", "-q", "--ff-only", "origin/main")
    mate = tmp_path / "mate"
    git(tmp_path, "clone", "-q", str(origin), str(mate))
    _teammate_sets_on_main(mate, tmp_path, "HF_TOKEN", f"teammate-{CANARY}")
    git(mate, "push", "-q", "origin", "main")
    git(repo, "fetch", "-q", "origin")  # local main stays behind
    _later_env_edit(repo)
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    assert "(HF_TOKEN)" in planned.stdout
    command = next(
        part for part in planned.stdout.split("`") if part.startswith(f"git -C {repo} show")
    )
    assert f"HF_TOKEN=teammate-{CANARY}" in _pasted(command, repo)


def test_emptying_a_value_of_a_merged_branch_names_the_bases_copy(fleet, tmp_path):
    """The branch merged (fast-forward, kept): the by-name refusal said only "delete the rollout branch
    and apply again", which led to the same refusal on main's copy. The line's own commands, pasted in
    order, empty the value."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "merge", "-q", "--ff-only", BRANCH)
    env = repo / ".env"
    lines = env.read_text().splitlines()
    name = lines[1].split("=", 1)[0]
    lines[1] = f"{name}="
    lines[0] = lines[0].split("=", 1)[0] + f"=rotated-{CANARY}"  # the one being rotated
    env.write_text("\n".join(lines) + "\n")
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    commands = [
        p
        for p in planned.stdout.split("`")
        if p.startswith("sops set") or f"git -C {repo} branch -D" in p  # pass 25d: leased
    ]
    assert [c.split()[0] for c in commands] == ["sops", "git"], planned.stdout
    for command in commands:
        _pasted(command, repo)
        if command.startswith("sops set"):
            git(repo, "commit", "-qm", f"empty {name} on purpose", "--", ".env.enc")
    env.touch()
    result = _apply(fleet, CASCOR)
    assert result.code == 0, result.stdout
    after = _decrypted(repo, BRANCH, tmp_path)
    assert f"\n{name}=\n" in after and f"=rotated-{CANARY}\n" in after


def _teammate_removes_on_main(repo, tmp_path, name: str) -> None:
    """`sops unset` on main by someone else (a revoked secret), committed."""
    work = tmp_path / "unset"
    git(repo, "worktree", "add", "-q", "--detach", str(work), "main")
    _pasted(f"sops unset --input-type dotenv --output-type dotenv .env.enc '[\"{name}\"]'", work)
    git(work, "commit", "-qm", f"remove {name}", "--", ".env.enc")
    sha = git(work, "rev-parse", "HEAD").strip()
    git(repo, "worktree", "remove", "--force", str(work))
    git(repo, "merge", "-q", "--ff-only", sha)


def test_a_name_removed_on_main_is_never_brought_back_by_a_later_env(fleet, tmp_path):
    """A teammate's `sops unset` on main was a change the three-way check did not see (it compared the
    base's names only): the later `.env` encrypted the removed secret back. Following the line
    (remove it from .env) then went through: the merged branch's copy no longer counts as held."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "merge", "-q", "--ff-only", BRANCH)
    _teammate_removes_on_main(repo, tmp_path, "HF_TOKEN")
    _later_env_edit(repo)
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    assert "removed 1 name since" in planned.stdout and "(HF_TOKEN)" in planned.stdout
    env = repo / ".env"
    env.write_text(
        "".join(x for x in env.read_text().splitlines(True) if not x.startswith("HF_TOKEN="))
    )
    result = _apply(fleet, CASCOR)
    assert result.code == 0, result.stdout
    after = _decrypted(repo, BRANCH, tmp_path)
    assert "HF_TOKEN=" not in after and "NEW_SETTING=on" in after


def test_a_name_removed_on_main_is_never_brought_back_when_the_branch_is_gone(fleet, tmp_path):
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "merge", "-q", "--ff-only", BRANCH)
    git(repo, "branch", "-q", "-D", BRANCH)
    _teammate_removes_on_main(repo, tmp_path, "HF_TOKEN")
    _later_env_edit(repo)
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    assert "(HF_TOKEN), the value an earlier commit" in planned.stdout


def test_lines_about_a_branch_deleted_locally_name_the_copy_that_was_read(fleet, tmp_path):
    """The rollout branch pushed, then deleted locally: its last pushed copy is what the plan reads,
    but the lines said `git show BRANCH:.env.enc` and `git branch -D BRANCH`, and both failed when
    pasted ("invalid object name", "branch not found")."""
    repo = fleet.repo(CASCOR)
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(origin))
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "fetch", "-q", "origin")
    pushed = rollout("apply", "--yes", "--push", "-m", fleet.manifest, "--repo", CASCOR)
    assert pushed.code == 0, pushed.stdout
    git(repo, "branch", "-q", "-D", BRANCH)
    env = repo / ".env"
    lines = env.read_text().splitlines()
    name = lines[1].split("=", 1)[0]
    lines[1] = f"{name}="
    lines[0] = lines[0].split("=", 1)[0] + f"=rotated-{CANARY}"
    env.write_text("\n".join(lines) + "\n")
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    parts = planned.stdout.split("`")
    show = next(p for p in parts if p.startswith(f"git -C {repo} show"))
    assert f"{name}=demo-" in _pasted(show, repo)
    forget = next(p for p in parts if " update-ref -d " in p and p.startswith(f"git -C {repo} "))
    _pasted(forget, repo)
    result = rollout("apply", "--yes", "--push", "-m", fleet.manifest, "--repo", CASCOR)
    assert result.code == 0, result.stdout
    after = _decrypted(repo, BRANCH, tmp_path)
    assert f"\n{name}=\n" in after and f"=rotated-{CANARY}\n" in after
