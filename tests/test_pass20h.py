"""Issue 13, pass 20h: a confirmation pass over pass 20e's fixes to items 3-4 (whose commit it is; one
clone per entry; branches that cannot coexist; core.ignorecase). Each test fails on the main this pass
started from (checked by undoing its fix)."""

from __future__ import annotations

import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout

ML_ENTRY = (
    "  - name: juniper-ml           # meta-package: no app variables; hosts the usage guide\n"
)


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


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
        text = fleet.manifest.read_text()
        text = text.replace("repos:\n", "repos:\n  - name: ml-mount\n", 1)
        fleet.manifest.write_text(text)
        ml = _line_of(text, ML_ENTRY)
        for command in (["plan"], ["apply", "--yes"]):
            result = rollout(*command, "-m", fleet.manifest)
            assert result.code == 1, result.stdout + result.stderr
            assert result.stderr.startswith(
                f"error: {fleet.manifest}:{ml}: repo 'juniper-ml' has the same clone as 'ml-mount'"
            ), result.stderr
        assert not git(repo, "branch", "--list", BRANCH).strip()
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, timeout=30, check=False)
