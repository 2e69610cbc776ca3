"""Issue 13, pass 27f: the second verification pass over items 9-12 and the smaller list's last two
bullets (session 31), on pass 27c's new code first. Each finding's test fails on the main this pass
started from (2f0cd5f, checked by undoing its fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, rollout
from tests.test_pass27e import other_repo_rendering


def _objects(repo: Path) -> str:
    """Every object of ``repo``'s database, as git prints it."""
    ids = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").split()
    return "".join(git(repo, "cat-file", "-p", each) for each in ids)


@pytest.mark.parametrize("shape", ["a folder's env file", "a compose env_file", "a folder link"])
def test_another_repos_plan_never_prints_a_folder_value_of_a_clone_git_cannot_list(tmp_path, shape):
    """13.6 on item 9's path, after pass 27c's F3: a clone whose `.git/index` git cannot read (a
    disk that filled, a crash mid-write) is refused by the strict reading, and the reading of what
    can be read (another repo's guard, drift beside an error) read its top-level files only: the
    env files in its folders (`backend/.env.prod`), a file its compose file names under
    `env_file:` and the env files of a folder it links to were no values, and another repo's
    template holding one was shown in that repo's plan diff and committed by apply. Pass 27e found
    and fixed it in parallel (the clone listed as a folder through a throwaway repository); this
    pass's own fix, a walk of the folders, gave way to that one in the merge."""
    value = "Wq7notthedemocanary66"
    manifest, ra = other_repo_rendering(tmp_path, value)
    if shape == "a folder's env file":
        (ra / "backend").mkdir()
        (ra / "backend" / ".env.prod").write_text(f"DB_PASSWORD={value}\n")
    elif shape == "a compose env_file":
        (ra / "deploy" / "config").mkdir(parents=True)
        (ra / "deploy" / "config" / "app.conf").write_text(f"DB_PASSWORD={value}\n")
        (ra / "deploy" / "compose.yaml").write_text(
            "services:\n  app:\n    image: x\n    env_file: config/app.conf\n"
        )
    else:
        secrets = tmp_path / "srv" / "secrets"
        secrets.mkdir(parents=True)
        (secrets / ".env").write_text(f"DB_PASSWORD={value}\n")
        (ra / "services").mkdir()
        (ra / "services" / "conf").symlink_to(secrets)
    (ra / ".git" / "index").write_bytes(b"garbage")
    result = rollout("plan", "--manifest", manifest, "--repo", "rb")
    assert result.code == 1, result.stdout
    assert value not in result.stdout + result.stderr, result.stdout
    assert "of ra" in result.stdout, result.stdout
    result = rollout("apply", "--manifest", manifest, "--repo", "rb", "--yes")
    assert value not in result.stdout + result.stderr, result.stdout
    assert value not in _objects(tmp_path / "ws" / "rb")
