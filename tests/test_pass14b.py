"""Issue 13, pass 14b: the confirmation pass over items 5-9 and the smaller list, after round four
(main 784a9d4).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import git, rollout
from tests.test_pass11b import _one_repo_with_a_template

# --- smaller list: more files git keeps under .git and reads as refs --------------------------------


@pytest.mark.parametrize(
    "branch",
    ["info/refs", "modules/sub/HEAD", "lost-found/commit/x"],
)
def test_a_branch_git_reads_as_a_file_under_info_modules_or_lost_found_is_refused(fleet, branch):
    """git's DWIM reads `$GIT_DIR/NAME` before refs/heads/NAME: `.git/info/refs` (written by `git gc`'s
    repack in every clone: `oid<TAB>refname` lines), a submodule's git dir `.git/modules/NAME/HEAD`
    (its HEAD, refs and logs), `git fsck --lost-found`'s `.git/lost-found/commit/OID` (an object id):
    `git rev-parse info/refs` said "ambiguous" and gave another commit (measured with git 2.39; pass
    14b, smaller list)."""
    text = fleet.manifest.read_text()
    assert "branch: chore/sops-age-rollout" in text
    fleet.manifest.write_text(text.replace("branch: chore/sops-age-rollout", f"branch: {branch}", 1))
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert "git's own file of that name" in result.stderr, result.stderr
    assert ":11:" in result.stderr
    assert result.stderr.count("\n") == 1
    fleet.manifest.write_text(text.replace("branch: chore/sops-age-rollout", "branch: chore/info", 1))
    assert rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml").code == 0
