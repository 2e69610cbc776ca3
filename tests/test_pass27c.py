"""Issue 13, pass 27c: a verification pass over items 9-12 and the smaller list's last two bullets
(session 31). Each finding's test fails on the main this pass started from (c50c1dd, checked by
undoing its fix)."""

from __future__ import annotations

import json

import pytest

from juniper_rollout import gitrepo
from tests.helpers import git, rollout
from tests.test_pass26c import _master_only
from tests.test_pass27e import other_repo_rendering


def test_drift_of_a_clone_with_more_env_files_than_the_guard_reads_still_names_its_history(
    tmp_path,
):
    """Item 9: a clone holding more plaintext env files in its folders than the leak guard reads
    (`gitrepo.WORKTREE_PATHS`: a monorepo's services, a dotenv library's fixtures) made drift's repo
    its error line alone, "0 findings", beside a `.env.prod` in its history, which needs none of those
    files: pass 26c's reading of what it can (`strict=False`) refused them again, out of the audit.
    The error is said, and the finding with it, the commit named by its id only (its subject may
    hold a value of the files left unread, as pass 26i hides them)."""
    manifest = _master_only(tmp_path)
    repo = tmp_path / "ws" / "victim"
    git(repo, "branch", "-m", "master", "main")
    for n in range(gitrepo.WORKTREE_PATHS + 1):
        (repo / f"svc{n}").mkdir()
        (repo / f"svc{n}" / ".env").write_text("LOG_LEVEL=debug\n")
    result = rollout("drift", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert f"more than the {gitrepo.WORKTREE_PATHS} the leak guard reads" in result.stdout
    assert "plaintext-env-in-history  .env.prod was committed in the past" in result.stdout
    assert '"prod settings"' not in result.stdout, result.stdout
    report = json.loads(rollout("drift", "--manifest", manifest, "--format", "json").stdout)
    (victim,) = report["repos"]
    assert "more than the" in victim["error"]
    assert [f["path"] for f in victim["findings"]] == [".env.prod"]


def test_drift_of_a_clone_whose_index_git_cannot_read_never_shows_a_subject_holding_its_value(
    tmp_path,
):
    """Item 9 beside 13.6: the leak guard lists the clone's env files in its folders with `git
    ls-files`, which fails on a damaged `.git/index` ("index file smaller than expected": a disk
    that filled, a crash mid-write); the failure was read as "no such file", so
    `backend/.env.prod`'s value was no value, and drift printed the commit subject holding it
    (`ci: backend db pass is VALUE`) in text and JSON, its secret-in-message finding gone. The
    clone's files it cannot list are said as the repo's error; the history's hazards are said
    beside it, commits named by id only."""
    manifest = _master_only(tmp_path)
    repo = tmp_path / "ws" / "victim"
    git(repo, "branch", "-m", "master", "main")
    who = ["-c", "user.name=t", "-c", "user.email=t@x"]
    value = "Zq8notthedemocanary77"  # in a git object: not the canary
    (repo / ".env.ci").write_text("X=1\n")
    git(repo, "add", "-f", ".env.ci")
    git(repo, *who, "commit", "-qm", f"ci: backend db pass is {value}")
    git(repo, "rm", "-q", ".env.ci")
    git(repo, *who, "commit", "-qm", "remove it")
    (repo / "backend").mkdir()
    (repo / "backend" / ".env.prod").write_text(f"DB_PASSWORD={value}\n")
    (repo / ".git" / "index").write_bytes(b"garbage")
    for form in ("table", "json"):
        result = rollout("drift", "--manifest", manifest, "--format", form)
        assert result.code == 1, result.stdout
        assert ".env.ci" in result.stdout, result.stdout
        assert value not in result.stdout + result.stderr, result.stdout
    assert "cannot list the files of the clone" in result.stdout, result.stdout


@pytest.mark.parametrize("shape", ["more env files than the guard reads", "a damaged index"])
def test_another_repos_plan_never_prints_the_env_value_of_a_clone_the_guard_cannot_list(
    tmp_path, shape
):
    """13.6 on item 9's path: the fleet's values guard every repo's plan (a template may carry one
    repo's `.env` value into another's files). A clone the strict reading refuses (1,001 `.env` files
    in its folders, on the main this pass started from; a `.git/index` git cannot read, once this
    pass's fix of the next-to-last test made that a refusal) was refused by the reading of what can
    be read too, so none of its values was guarded: another repo's template holding its top-level
    `.env` value was shown in that repo's plan diff. Its top-level files are read still."""
    value = "Vq7notthedemocanary55"
    manifest, ra = other_repo_rendering(tmp_path, value)
    (ra / ".env").write_text(f"DB_PASSWORD={value}\n")
    if shape == "a damaged index":
        (ra / ".git" / "index").write_bytes(b"garbage")
    else:
        for n in range(gitrepo.WORKTREE_PATHS + 1):
            (ra / f"svc{n}").mkdir()
            (ra / f"svc{n}" / ".env").write_text("LOG_LEVEL=debug\n")
    result = rollout("plan", "--manifest", manifest, "--repo", "rb")
    assert result.code == 1, result.stdout
    assert value not in result.stdout + result.stderr, result.stdout
    assert "plaintext .env of ra" in result.stdout, result.stdout
