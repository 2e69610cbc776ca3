"""Issue 13, pass 20h: a confirmation pass over pass 20e's fixes to items 3-4 (whose commit it is; one
clone per entry; branches that cannot coexist; core.ignorecase). Each test fails on the main this pass
started from (checked by undoing its fix)."""

from __future__ import annotations

import subprocess

import pytest

from tests.test_pass20e import assert_a_second_entry_on_ml_is_refused


def _bind(source, target) -> bool:
    """Mount ``source`` at ``target`` too (root only; False where the machine does not allow it)."""
    target.mkdir()
    try:
        done = subprocess.run(
            ["mount", "--bind", str(source), str(target)],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0


def test_two_entries_on_one_clone_through_a_bind_mount_are_refused(fleet):
    """Pass 20e compared clones with every symlink followed; a bind mount (how a container or a
    devcontainer shows a clone at a second path) is no symlink: an entry `ml-mount` whose workspace
    folder is juniper-ml mounted again loaded beside juniper-ml, and apply of each wrote the one branch
    (each rebuild replacing the other entry's commit). The clones are now compared as the file system
    knows them too."""
    repo = fleet.repo("juniper-ml")
    mount = repo.parent / "ml-mount"
    if not _bind(repo, mount):
        pytest.skip("bind mounts need root")
    try:
        assert_a_second_entry_on_ml_is_refused(fleet, "ml-mount")
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=30, check=False)
