"""Issue 13, pass 28b: session 32's verification round over items 5-8 (the leaks), on main at
d4c5fb9 (session 31's code attacked first: the leak guard's folder listing, the new token shapes,
render's `_given`, verify's secret-files and hooks checks).

Each finding's test fails on that main (checked by undoing its fix)."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers import rollout
from tests.test_pass27e import other_repo_rendering

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


@pytest.mark.parametrize("setting", ["core.bare=true", "core.worktree=elsewhere"])
def test_a_clone_whose_config_names_no_working_tree_or_another_still_guards_its_folders(
    tmp_path, setting
):
    """ON-LIST 13.6: a clone whose `.git/config` says `core.bare = true` (a working tree beside it)
    or names another folder as `core.worktree` was listed by git as no files, or as that other
    folder's: a value in its `backend/.env.prod` was no value, and a template holding it was shown
    in the plan's diff and committed, in another repo's plan and in its own. Its folder is listed
    as the working tree now."""
    value = "Qz7notthedemocanary28"
    manifest, ra = other_repo_rendering(tmp_path, value)
    text = manifest.read_text()
    manifest.write_text(
        text.replace(
            "  - name: ra\n", "  - name: ra\n    files: [{path: notes.txt, template: notes.j2}]\n"
        )
    )
    (ra / "backend").mkdir()
    (ra / "backend" / ".env.prod").write_text(f"DB_PASSWORD={value}\n")
    key, _, setting_value = setting.partition("=")
    if setting_value == "elsewhere":
        (tmp_path / "elsewhere").mkdir()
        setting_value = str(tmp_path / "elsewhere")
    subprocess.run(["git", "-C", ra, "config", key, setting_value], check=True)
    for name, said in (
        ("rb", "plaintext backend/.env.prod of ra"),
        ("ra", "plaintext backend/.env.prod;"),
    ):
        result = rollout("plan", "--manifest", manifest, "--repo", name)
        assert result.code == 1, result.stdout
        assert value not in result.stdout + result.stderr, result.stdout
        assert said in result.stdout, result.stdout
    applied = rollout("apply", "--manifest", manifest, "--yes")
    assert value not in applied.stdout + applied.stderr
    for clone in (ra, tmp_path / "ws" / "rb"):
        objects = subprocess.run(
            ["git", "-C", clone, "cat-file", "--batch-all-objects", "--batch"],
            capture_output=True,
            check=True,
        ).stdout
        assert value.encode() not in objects
