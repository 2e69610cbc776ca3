"""Issue 13, pass 29f: session 33's second adversarial pass over the whole list (items 1-12 and
"Smaller, same standard"), each as the issue writes it and one close variant, on a demo fleet.

Every item held; one printed way out failed when followed. Its test fails on main at 24c32b2
(checked by undoing the fix)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import git, rollout


@pytest.mark.parametrize(
    "spelling", ["origin/HEAD", "Origin/HEAD", "origin/@", "refs/heads/HEAD", "refs/heads/@"]
)
def test_a_base_naming_origins_head_is_never_told_to_name_the_branch_head(fleet, spelling):
    """Item 13.S4 (`branch: HEAD`) and its wording: `base: origin/HEAD` was refused with "name the
    branch itself ('HEAD')", and `base: refs/heads/HEAD` with "is a full ref name: name the branch
    itself ('HEAD')"; `base: HEAD`, written as told, is then refused ("not a valid git branch
    name"): a way out that fails when followed. origin's HEAD names its default branch: the line
    says to name that branch (like main), and says how to find it."""
    text = fleet.manifest.read_text()
    assert "  base: main\n" in text
    fleet.manifest.write_text(text.replace("  base: main\n", f"  base: '{spelling}'\n", 1))
    line = fleet.manifest.read_text().splitlines().index(f"  base: '{spelling}'") + 1
    before = git(fleet.repo("juniper-cascor"), "for-each-ref")
    result = rollout("apply", "--yes", "-m", fleet.manifest)
    assert result.code == 1
    assert f":{line}: defaults.base '{spelling}' " in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "like main" in result.stderr, result.stderr
    assert git(fleet.repo("juniper-cascor"), "for-each-ref") == before
    # followed as written: a branch the line names loads; none is a name the manifest refuses
    for named in re.findall(r"name the branch itself \('([^']*)'\)", result.stderr) or ["main"]:
        fleet.manifest.write_text(text.replace("  base: main\n", f"  base: '{named}'\n", 1))
        again = rollout("plan", "-m", fleet.manifest)
        assert ".base " not in again.stderr, (named, again.stderr)
        assert again.code in (0, 2), (named, again.stderr)
