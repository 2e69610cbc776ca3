"""Lead 33: a ref whose file is damaged (pass 28c's noted power-loss shapes, item 11).

A zero-byte loose ref, what a power loss mid-write leaves, was "unexpected AssertionError … run git
fsck" with a crash log in drift, and "an error message the leak guard could not check" in plan and
verify: no way out. git itself cannot read or update such a ref ("reference broken"), so the line
names the ref's file and the reflog line that puts it back, a command that works when pasted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.demofleet import make_repo
from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.pasting import paste
from tests.test_hostile import KEY


def _one_repo(tmp_path: Path) -> tuple[Path, Path]:
    repo = make_repo(tmp_path / "ws" / "app", {"README.md": "app\n"})
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n  - name: app\n"
    )
    return manifest, repo


def _said(*args: str | Path) -> str:
    result = rollout(*args)
    assert "unexpected" not in result.stdout + result.stderr, result.stdout
    assert "could not check" not in result.stdout + result.stderr, result.stdout
    return " ".join(result.stdout.split())


def _quoted(said: str, starting: str) -> str:
    return next(part for part in said.split("`") if part.startswith(starting))


@pytest.mark.parametrize("command", ["plan", "drift", "verify"])
def test_an_empty_loose_base_ref_is_named_with_a_way_out_that_mends_it(tmp_path, command):
    manifest, repo = _one_repo(tmp_path)
    tip = git(repo, "rev-parse", "main").strip()
    (repo / ".git" / "refs" / "heads" / "main").write_bytes(b"")  # a power loss mid-write
    said = _said(command, "-m", manifest)
    assert "the ref refs/heads/main cannot be read" in said, said
    assert "empty or damaged" in said
    mend = _quoted(said, "tail -n 1 ")
    pasted = paste(mend, tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert git(repo, "rev-parse", "main").strip() == tip  # git reads it again
    assert "cannot be read" not in " ".join(rollout("plan", "-m", manifest).stdout.split())


def test_an_empty_loose_ref_with_no_reflog_is_told_to_be_moved_away(tmp_path):
    manifest, repo = _one_repo(tmp_path)
    git(repo, "pack-refs", "--all")  # main packed: moving the empty loose file away shows it again
    (repo / ".git" / "logs" / "refs" / "heads" / "main").unlink()
    (repo / ".git" / "refs" / "heads" / "main").write_bytes(b"")
    said = _said("plan", "-m", manifest)
    assert "no reflog to restore it from" in said, said
    assert "tail -n 1" not in said
    (repo / ".git" / "refs" / "heads" / "main").rename(tmp_path / "main.damaged")
    assert "cannot be read" not in " ".join(rollout("plan", "-m", manifest).stdout.split())


def test_a_damaged_packed_ref_names_its_line_in_packed_refs(tmp_path):
    manifest, repo = _one_repo(tmp_path)
    git(repo, "pack-refs", "--all")
    packed = repo / ".git" / "packed-refs"
    tip = git(repo, "rev-parse", "main").strip()
    packed.write_text(packed.read_text().replace(tip, tip[:19]))  # a line cut short
    said = _said("plan", "-m", manifest)
    assert "line 2 of" in said and "packed-refs is damaged" in said, said
    found = paste(_quoted(said, "sed -n 2p "), tmp_path)  # pass 29d: the line by its number
    assert found.returncode == 0, found.stderr
    assert found.stdout == f"{tip[:19]} refs/heads/main\n", found.stdout


def test_a_damaged_rollout_branch_ref_stops_apply_for_that_repo_and_writes_nothing(tmp_path):
    manifest, repo = _one_repo(tmp_path)
    branch = repo / ".git" / "refs" / "heads" / "chore" / "sops-age-rollout"
    branch.parent.mkdir(parents=True)
    branch.write_bytes(b"")
    result = rollout("apply", "-m", manifest, "--yes")
    said = " ".join(result.stdout.split())
    assert result.code == 1, said
    assert "the ref refs/heads/chore/sops-age-rollout cannot be read" in said, said
    assert branch.read_bytes() == b""  # not rewritten under git's feet


@pytest.mark.parametrize("moved", [False, True])
def test_an_empty_head_is_told_to_be_written_back_not_the_clone_moved_away(tmp_path, moved):
    """Pass 28c's note: a zero-byte `.git/HEAD` was "not a git repository (move it away, then clone
    the repo at its path …)", advice a clone holding uncommitted work should never follow."""
    manifest, repo = _one_repo(tmp_path)
    if moved:  # HEAD last on another branch: that one is written back, as the reflog says
        git(repo, "branch", "feature")
        git(repo, "switch", "-q", "feature")
    head = repo / ".git" / "HEAD"
    before = head.read_bytes()
    (repo / "work.txt").write_text("uncommitted\n")
    head.write_bytes(b"")
    said = _said("plan", "-m", manifest)
    assert ".git/HEAD is empty or damaged" in said, said
    assert "move it away" not in said and "clone the repo" not in said
    pasted = paste(_quoted(said, "printf "), tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert head.read_bytes() == before
    assert (repo / "work.txt").read_text() == "uncommitted\n"
    assert "empty or damaged" not in " ".join(rollout("plan", "-m", manifest).stdout.split())


def test_an_empty_head_among_branches_it_never_left_by_checkout_says_which_to_write(tmp_path):
    manifest, repo = _one_repo(tmp_path)
    git(repo, "branch", "other")
    (repo / ".git" / "logs" / "HEAD").unlink()
    (repo / ".git" / "HEAD").write_bytes(b"")
    said = _said("drift", "-m", manifest)
    assert "BRANCH that branch's name" in said, said


def _pointer(size: int) -> str:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{'b' * 64}\nsize {size}\n"


@pytest.mark.parametrize("command", ["verify", "drift"])
def test_verify_and_drift_say_an_lfs_pointer_on_origins_base_must_be_pushed_mended(
    fleet, tmp_path, command
):
    """Pass 28a's note: plan's LFS line said "commit the file itself on main and push it to origin",
    verify's and drift's "commit the file itself" alone. They read origin's main when the clone has
    it, so the file committed on main alone was still origin's pointer to them: followed, the same
    line again. Each now says where the file must go, and followed as written, the line is gone."""
    repo = fleet.repo("juniper-cascor")
    assert (
        rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes").code
        == 0
    )
    ciphertext = git(repo, "show", f"{BRANCH}:.env.enc")
    config = git(repo, "show", f"{BRANCH}:.sops.yaml")
    (repo / ".env.enc").write_text(_pointer(len(ciphertext)))
    (repo / ".sops.yaml").write_text(_pointer(len(config)))
    (repo / ".gitattributes").write_text(".env.enc filter=lfs\n.sops.yaml filter=lfs\n")
    git(repo, "add", "-f", ".env.enc", ".sops.yaml", ".gitattributes")
    git(repo, "commit", "-qm", "the encrypted file in LFS")
    git(repo, "init", "-q", "--bare", str(tmp_path / "origin.git"))
    git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
    git(repo, "push", "-q", "origin", "main")
    git(repo, "fetch", "-q", "origin")
    run = (command, "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    said = " ".join(rollout(*run).stdout.split())
    assert ".env.enc" in said and "is a Git LFS pointer" in said, said
    assert "itself on main and push it to origin" in said, said
    (repo / ".gitattributes").write_text("")  # stop tracking them with LFS
    (repo / ".env.enc").write_text(ciphertext)  # the files themselves
    (repo / ".sops.yaml").write_text(config)
    git(repo, "commit", "-qam", "out of LFS")
    assert "is a Git LFS pointer" in " ".join(rollout(*run).stdout.split())  # main alone: not yet
    git(repo, "push", "-q", "origin", "main")
    again = " ".join(rollout(*run).stdout.split())
    assert "is a Git LFS pointer" not in again, again


@pytest.mark.parametrize(
    ("spelling", "said"),
    [
        ("refs/heads/main", "is a full ref name: name the branch itself ('main')"),
        ("Refs/heads/release/1.0", "is a full ref name: name the branch itself ('release/1.0')"),
        ("refs/tags/v1.0", "is a ref that is no branch: base names the branch"),
    ],
)
def test_a_base_spelled_as_a_full_ref_is_refused_at_its_manifest_line(fleet, spelling, said):
    """Pass 28a's note: `base: refs/heads/main` was read as the branch `refs/heads/refs/heads/main`,
    and every repo said "base branch … not found", the manifest's line never named."""
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(text.replace("  base: main\n", f"  base: {spelling}\n", 1))
    line = fleet.manifest.read_text().splitlines().index(f"  base: {spelling}") + 1
    before = git(fleet.repo("juniper-cascor"), "for-each-ref")
    result = rollout("apply", "--yes", "-m", fleet.manifest)
    assert result.code == 1
    assert f":{line}: defaults.base '{spelling}' {said}" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert git(fleet.repo("juniper-cascor"), "for-each-ref") == before
