"""Issue 13, pass 23d: a second adversarial pass over items 1-4, on what pass 23a added (the only-copy
check reading every sops file the rollout branch adds, comparing it with the clone's file when a key
opens it, and refusing a renamed `branch:` that leaves the only copy behind). Each test fails on the
main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import re

import pytest

from tests.demofleet import CANARY
from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_adversary import tree_with
from tests.test_pass21d import _commands, _pasted
from tests.test_pass23a import (
    _kept_by_cleanup_force,
    _reviewers_files_pushed,
    _sops,
    large_sops_file_kept_by_cleanup_force,
    renamed_branch_refused,
)

# (format, what the sops file holds, what the clone's file of that name holds): the same data by
# Python's `==`, yet not the same values
NOT_THE_SAME = {
    "INI sections swapped": (
        "ini",
        f"[prod]\npassword = prod-{CANARY}\n[dev]\npassword = dev-{CANARY}\n",
        f"[prod]\npassword = dev-{CANARY}\n[dev]\npassword = prod-{CANARY}\n",
    ),
    "INI comment (sops encrypts it)": (
        "ini",
        f"[db]\n; old password: before-{CANARY}\npassword = now-{CANARY}\n",
        f"[db]\npassword = now-{CANARY}\n",
    ),
    "YAML comment (sops encrypts it)": (
        "yaml",
        f"# old password: before-{CANARY}\ndb:\n    password: now-{CANARY}\n",
        f"db:\n    password: now-{CANARY}\n",
    ),
    "YAML comment, a value longer in the clone's": (
        "yaml",
        f"db:\n    password: now-{CANARY}  # was before-{CANARY}\n",
        f"db:\n    password: now-{CANARY}  # was before-{CANARY}-2\n",
    ),
    "YAML 1 for true": (
        "yaml",
        f"db:\n    password: now-{CANARY}\n    pin: 1\n",
        f"db:\n    password: now-{CANARY}\n    pin: true\n",
    ),
    "JSON 1 for true": (
        "json",
        f'{{"password": "now-{CANARY}", "pin": true}}\n',
        f'{{"password": "now-{CANARY}", "pin": 1}}\n',
    ),
}


@pytest.mark.usefixtures("loopback_only")
@pytest.mark.parametrize("case", sorted(NOT_THE_SAME))
def test_cleanup_force_never_takes_data_equal_by_python_for_the_same_values(
    loop, github, tmp_path, case
):
    """13.1 by `cleanup --force` after pass 23a (ON-LIST, "the same data"): apply --push, then a
    reviewer's commit adding `config/secrets.EXT.enc` (sops, the fleet's recipient), pushed, while the
    clone's `config/secrets.EXT` holds data Python's `==` took for the same: INI lines compared sorted
    (two sections' values swapped), comments left out (sops encrypts YAML and INI comments: a value
    kept in one was lost), `1 == True`. `cleanup --force` deleted the branch here and on
    origin, the only copy of those values with it. Kept now, and the pasted command writes a file of
    its own holding exactly what sops decrypts."""
    fmt, held, clones = NOT_THE_SAME[case]
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    name = f"config/secrets.{fmt}"
    encrypted = _sops(loop, fmt, fmt, held.encode(), tmp_path)
    _reviewers_files_pushed(repo, {f"{name}.enc": encrypted}, tmp_path)
    (repo / "config").mkdir(exist_ok=True)
    (repo / name).write_text(clones)
    said = _kept_by_cleanup_force(repo, only, f"{name}.enc")
    assert "holds other data" in said, said
    [command] = _commands(said)
    assert _pasted(command, repo).returncode == 0, command
    assert (repo / name).read_text() == clones  # never written over
    restored = (repo / f"{name}.enc.plain").read_text()
    (repo / name).write_text(restored)  # now the clone holds what the branch holds: deleted
    assert "juniper-cascor: deleted" in rollout("cleanup", *only, "--force").stdout


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_force_keeps_a_large_sops_file_whatever_its_name(loop, github, tmp_path):
    """13.1 by `cleanup --force` after pass 23a (ON-LIST, a large ciphertext of another name): apply
    --push, then a reviewer's commit adding `assets/model.sops.json`, 13 MB sops encrypted in its
    binary format (18 MB of JSON), pushed. Pass 23a read the ends of a large file named `.enc` only:
    this one was passed over and `cleanup --force` deleted the branch here and on origin, the only
    copy with it. A large text file is read by its ends whatever its name (a binary one, which sops
    never writes, by its first bytes only): kept."""
    large_sops_file_kept_by_cleanup_force(loop, tmp_path, "assets/model.sops.json")


def test_a_renamed_branch_with_a_reviewers_commit_on_top_never_leaves_the_only_copy_behind(
    fleet, tmp_path
):
    """13.1 by a manifest change after pass 23a (ON-LIST, F5 with a reviewer's commit): apply (the
    branch holds `.env.enc`), a reviewer's commit on top of it (a README line), the `.env` moved away,
    then `branch:` renamed. Pass 23a looked for the old branch by its tip alone (a tool commit): the
    reviewer's commit hid it, apply created `chore/secrets` without `.env.enc` and the old branch,
    named by no command, held the only copy. A branch with this rollout's commit a few commits below
    its tip is found too: plan and apply refuse the repo, nothing is written."""
    from tests.test_adversary import apply

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    tree = tree_with(repo, BRANCH, {"REVIEW.md": "looks good\n"}, tmp_path)
    on_top = git(repo, "commit-tree", "-p", BRANCH, "-m", "review: a note", tree).strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", on_top)
    moved = (repo / ".env").read_text()
    (repo / ".env").rename(tmp_path / "moved-away.env")
    renamed_branch_refused(fleet, BRANCH, "holds .env.enc", moved)


@pytest.mark.usefixtures("loopback_only")
def test_a_renamed_branch_gone_from_origin_names_a_way_out_that_works(loop, github, tmp_path):
    """Found on 13.1's way after pass 23a (NEW, a wrong way out): apply --push, the local branch
    deleted, then the branch deleted on origin too (a PR closed and its branch removed on GitHub) but
    not yet pruned here: `origin/chore/sops-age-rollout` is the last copy. With the `.env` moved away
    and `branch:` renamed, plan refuses the repo (right), and its way out to leave those values
    behind on purpose was `git push origin --delete …` alone, which fails ("remote ref does not
    exist") and leaves the refusal in place for good. The line also names `git branch -d -r …`, which
    forgets the copy here; pasted, plan goes on."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    tip = git(repo, "rev-parse", BRANCH).strip()
    git(repo, "branch", "-D", BRANCH)
    git(repo, "push", "-q", "origin", "--delete", BRANCH)
    git(repo, "update-ref", f"refs/remotes/origin/{BRANCH}", tip)  # not yet pruned here
    assert not git(repo, "ls-remote", "origin", BRANCH).strip()
    (repo / ".env").rename(tmp_path / "moved-away.env")
    text = loop.manifest.read_text()
    assert "  branch: chore/sops-age-rollout\n" in text
    loop.manifest.write_text(
        text.replace("  branch: chore/sops-age-rollout\n", "  branch: chore/secrets\n", 1)
    )
    planned = " ".join(rollout("plan", *only).stdout.split())
    assert f"origin/{BRANCH} (this rollout's commits" in planned, planned
    [forget] = re.findall(rf"`(git -C {repo} branch -d -r [^`]*)`", planned)
    assert _pasted(forget, repo).returncode == 0, forget
    planned = " ".join(rollout("plan", *only).stdout.split())
    assert "(this rollout's commits" not in planned, planned
