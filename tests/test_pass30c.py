"""Pass 30c (session 34): a second adversarial pass over issue #13's list at main 54bf0f6.

Every item held as the issue writes it. One new spelling of item 11's bad input in session 33's
damaged-refs code: a rollout branch whose own packed-refs line was cut short.
"""

from __future__ import annotations

import pytest

from tests.helpers import git
from tests.pasting import paste
from tests.pasting import quoted as _quoted
from tests.pasting import said_with_code as _said
from tests.test_lead33 import one_repo

BRANCH = "chore/sops-age-rollout"


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_rollout_branch_whose_own_packed_line_is_damaged_is_never_planned_as_new(
    tmp_path, command
):
    """Item 11 (and 3/4: the branch's work): git's lookup of one ref in a sorted packed-refs skips a
    line it cannot read and says "not a valid ref", so a rollout branch whose own line a power loss
    cut short was planned "create" (nothing said of the branch it holds), and apply failed with
    git's own "fatal: unexpected line in .git/packed-refs: …" and no way out. Both now name the
    damaged line by its number, with a command that shows it; the line is left as it is."""
    manifest, repo = one_repo(tmp_path)
    code, said = _said("apply", "-m", manifest, "--yes")
    assert code == 0 and "created" in said, said
    git(repo, "pack-refs", "--all")
    packed = repo / ".git" / "packed-refs"
    lines = packed.read_bytes().split(b"\n")
    (cut,) = [n for n, line in enumerate(lines) if line.endswith(b" refs/heads/" + BRANCH.encode())]
    lines[cut] = lines[cut][:20] + lines[cut][40:]  # its commit id cut short, its name kept
    packed.write_bytes(b"\n".join(lines))
    before = packed.read_bytes()
    args = ("apply", "-m", manifest, "--yes") if command == "apply" else ("plan", "-m", manifest)
    code, said = _said(*args)
    assert code == 1 and f"line {cut + 1} of" in said and "packed-refs is damaged" in said, said
    assert "create" not in said, said
    assert packed.read_bytes() == before
    shown = paste(_quoted(said, f"sed -n {cut + 1}p "), tmp_path)
    assert shown.returncode == 0 and shown.stdout == lines[cut].decode() + "\n", shown


def test_a_rollout_branch_absent_beside_another_refs_damaged_line_is_still_planned(tmp_path):
    """The check reads only the asked ref's own line: a first run, no rollout branch yet, beside
    another branch's damaged line (which git's lookup of main skips too) plans as before."""
    manifest, repo = one_repo(tmp_path)
    git(repo, "branch", "aaa")
    git(repo, "pack-refs", "--all")
    packed = repo / ".git" / "packed-refs"
    lines = packed.read_bytes().split(b"\n")
    (cut,) = [n for n, line in enumerate(lines) if line.endswith(b" refs/heads/aaa")]
    lines[cut] = lines[cut][:10]
    packed.write_bytes(b"\n".join(lines))
    code, said = _said("plan", "-m", manifest)
    assert code == 0 and "cannot be read" not in said, said
