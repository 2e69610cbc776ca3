"""Lead 34: pass 29h's two open findings (a damaged HEAD's write-back after `git switch --orphan`; a
branch alias read beside a packed line GitPython cannot take). Each test fails on 5d69f19."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers import git, rollout
from tests.pasting import paste
from tests.test_lead33 import _quoted, _said, one_repo


def test_an_empty_head_on_a_new_orphan_branch_is_never_told_to_write_back_the_old_branch(
    tmp_path,
):
    """Pass 29h's F1 (item 3's neighbour): `git switch --orphan fresh` writes no reflog entry, so an
    empty HEAD there was told to write back `main`, the branch before it; pasted, `git commit` put
    the orphan's files onto main, deleting main's. Its staged files are not main's last commit, so
    the line now asks for the branch's name; written back as `fresh`, the commit leaves main be."""
    manifest, repo = one_repo(tmp_path)
    main = git(repo, "rev-parse", "main").strip()
    git(repo, "switch", "-q", "--orphan", "fresh")
    (repo / "new.txt").write_text("new\n")
    git(repo, "add", "new.txt")
    (repo / ".git" / "HEAD").write_bytes(b"")
    said = _said("plan", "-m", manifest)
    assert "BRANCH that branch's name" in said and "git switch --orphan" in said, said
    assert "refs/heads/%s\\n' main" not in said, said
    pasted = paste(_quoted(said, "printf ").replace("BRANCH", "fresh"), tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    git(repo, "-c", "user.name=Dev", "-c", "user.email=dev@x.invalid", "commit", "-qm", "root")
    assert git(repo, "rev-parse", "main").strip() == main
    assert git(repo, "ls-tree", "--name-only", "fresh").split() == ["new.txt"]


@pytest.mark.parametrize("staged", [False, True])
def test_an_empty_head_whose_index_holds_the_branch_tip_names_it(tmp_path, staged):
    """The index check stands aside where the branch is surely the one: its staged files are the
    branch's last commit (uncommitted work beside them is the work tree's, not the index's). Changes
    staged on main get the branch's name asked for, with main named as the reflog's reading."""
    manifest, repo = one_repo(tmp_path)
    (repo / "README.md").write_text("edited\n")
    if staged:
        git(repo, "add", "README.md")
    head = repo / ".git" / "HEAD"
    before = head.read_bytes()
    head.write_bytes(b"")
    said = _said("plan", "-m", manifest)
    assert ("BRANCH that branch's name" in said) is staged, said
    assert ("its reflog last shows main" in said) is staged, said
    printf = _quoted(said, "printf ").replace("BRANCH", "main")
    assert paste(printf, tmp_path).returncode == 0
    assert head.read_bytes() == before
    status = git(repo, "status", "--porcelain")
    assert status == ("M  README.md\n" if staged else " M README.md\n"), status


def test_a_branch_alias_to_a_packed_branch_beside_a_non_utf8_tag_is_read(tmp_path):
    """Pass 29h's F2: `git symbolic-ref refs/heads/master refs/heads/x` with x packed, and a tag
    named in bytes that are not UTF-8 in packed-refs (git allows it; GitPython stops reading
    packed-refs at it): `base: master` was "the ref refs/heads/master cannot be read (git cannot
    read it either …)", and the way out, pasted, turned the alias into a plain branch. git reads it,
    so the tool does: the plan is made, the alias stays an alias."""
    manifest, repo = one_repo(tmp_path)
    git(repo, "branch", "x")
    subprocess.run(["git", "-C", str(repo), "tag", b"caf\xe9"], check=True)
    git(repo, "pack-refs", "--all")
    git(repo, "symbolic-ref", "refs/heads/master", "refs/heads/x")
    manifest.write_text(manifest.read_text().replace("repos:", "  base: master\nrepos:"))
    result = rollout("plan", "-m", manifest)
    said = " ".join((result.stdout + result.stderr).split())
    assert result.code == 0 and ".sops.yaml" in said and "cannot be read" not in said, said
    assert git(repo, "symbolic-ref", "refs/heads/master").strip() == "refs/heads/x"


def test_a_packed_line_cut_short_is_told_its_commit_from_the_reflog_not_only_to_be_deleted(
    tmp_path,
):
    """Note 33's and pass 30c's: a base branch's own `packed-refs` line cut short in its commit id
    was told to be "mended or deleted"; deleted, the branch was gone, though its reflog still held
    its commit. The line now says which commit that is; written back so, plan reads the branch."""
    manifest, repo = one_repo(tmp_path)
    tip = git(repo, "rev-parse", "main").strip()
    git(repo, "pack-refs", "--all")
    packed = repo / ".git" / "packed-refs"
    packed.write_text(packed.read_text().replace(tip, tip[:19]))  # a power loss mid-write
    said = _said("plan", "-m", manifest)
    told = f'write the line back as "{tip} refs/heads/main"'
    assert told in said and "deleting it deletes that ref" in said, said
    packed.write_text(packed.read_text().replace(f"{tip[:19]} ", f"{tip} "))
    assert git(repo, "rev-parse", "main").strip() == tip
    assert "cannot be read" not in _said("plan", "-m", manifest)


def test_a_packed_line_cut_short_with_no_reflog_is_told_to_be_mended_or_deleted(tmp_path):
    manifest, repo = one_repo(tmp_path)
    tip = git(repo, "rev-parse", "main").strip()
    git(repo, "pack-refs", "--all")
    (repo / ".git" / "logs" / "refs" / "heads" / "main").unlink()
    packed = repo / ".git" / "packed-refs"
    packed.write_text(packed.read_text().replace(tip, tip[:19]))
    said = _said("plan", "-m", manifest)
    assert "mend or delete that line" in said and "was last at" not in said, said


@pytest.mark.parametrize(
    "name",
    ["pricing.claude-3-5-sonnet-20241022", "chacha20poly1305.key", "app.jwtES256PrivateKey"],
)
def test_a_worded_name_that_reads_as_random_as_a_whole_is_never_dropped_with_its_value(fleet, name):
    """Pass 30b's note (13.1): a teammate's dotted name of words with no `_` in 20+ characters read
    as a random run as a whole, so it was taken for a pasted credential: plan exited 0 with "drops 1
    name shaped like a credential … rotate", and apply wrote the branch without its value. Its parts
    are words: it stops the repo as other worded names do, until `.env` holds the value."""
    from tests.test_hostile import CANARY
    from tests.test_pass28a import worded_value_kept

    worded_value_kept(fleet, name, f"{CANARY}-worded", "KEPT_VALUE")
