"""Issue 13, pass 29d: a verification pass over session 33's own new code (lead 33's damaged refs
and HEAD, verify's and drift's LFS lines, `base:` as a full ref; pass 29c's listing, safe.directory
line, rotate and apply lines). Each finding's test fails on the main this pass started from
(b391c29, checked by undoing its fix)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import git
from tests.pasting import paste
from tests.pasting import quoted as _quoted
from tests.pasting import said_with_code as _said
from tests.test_hostile import KEY
from tests.test_lead33 import one_repo as _one_repo


def test_a_packed_ref_git_reads_is_read_beside_another_refs_damaged_or_non_utf8_line(tmp_path):
    """Item 11 (lead 33's `_commit_at`): GitPython reads packed-refs whole, as UTF-8 text, and stops
    at any line it cannot take. A packed-refs holding another branch's line cut short, or a tag
    named in bytes that are not UTF-8 (which git allows and reads), made plan say "the ref
    refs/remotes/origin/main cannot be read: its line in … packed-refs is damaged" for a ref the
    clone does not have, with a `grep` that found nothing, while git read `main` as ever. Plan now
    reads the base as git does; drift, whose listing of every ref git itself cannot make past the
    damaged line, names that line by its number, and the command it quotes shows it."""
    manifest, repo = _one_repo(tmp_path)
    git(repo, "branch", "aaa")
    subprocess.run(["git", "-C", str(repo), "tag", b"caf\xe9"], check=True)
    git(repo, "pack-refs", "--all")
    code, said = _said("plan", "-m", manifest)
    assert code == 0 and "cannot be read" not in said, said  # the non-UTF-8 tag: git reads it
    packed = repo / ".git" / "packed-refs"
    lines = packed.read_bytes().split(b"\n")
    (cut,) = [n for n, line in enumerate(lines) if line.endswith(b" refs/heads/aaa")]
    lines[cut] = lines[cut][:10]  # another branch's line cut short
    packed.write_bytes(b"\n".join(lines))
    assert git(repo, "rev-parse", "main").strip()  # git reads main still
    code, said = _said("plan", "-m", manifest)
    assert code == 0 and "cannot be read" not in said, said
    code, said = _said("drift", "-m", manifest)
    assert code == 1 and f"line {cut + 1} of" in said and "packed-refs is damaged" in said, said
    shown = paste(_quoted(said, f"sed -n {cut + 1}p "), tmp_path)
    assert shown.returncode == 0 and shown.stdout == lines[cut].decode() + "\n", shown


def test_a_packed_refs_cut_short_at_its_end_names_the_line_that_was_cut(tmp_path):
    """Item 11: a power loss while git rewrote packed-refs leaves it cut short at its end, the last
    line without its name (git: "unterminated line in .git/packed-refs"). The line offered was a
    `grep` for ` refs/remotes/origin/main`, a ref the clone never had: pasted, it found nothing
    (exit 1), so "mend or delete that line" named no line. The line is now named by its number."""
    manifest, repo = _one_repo(tmp_path)
    git(repo, "pack-refs", "--all")
    packed = repo / ".git" / "packed-refs"
    text = packed.read_text()
    packed.write_text(text[: text.index(" refs/heads/main") - 12])
    for command in ("plan", "drift", "verify"):
        code, said = _said(command, "-m", manifest)
        assert code == 1 and "line 2 of" in said and "packed-refs is damaged" in said, said
        shown = paste(_quoted(said, "sed -n 2p "), tmp_path)
        assert shown.returncode == 0 and shown.stdout.strip() == text.splitlines()[1][:28], shown


def _commit(repo: Path, name: str) -> None:
    (repo / name).write_text(f"{name}\n")
    git(repo, "add", name)
    git(repo, "commit", "-qm", name)


@pytest.mark.parametrize(
    "moves",
    [
        ["checkout -q HEAD~2"],
        ["tag v1 HEAD~1", "checkout -q v1"],
        ["switch -qc feat/x", "checkout -q --detach HEAD~1"],
    ],
    ids=["a-commit-back", "a-tag", "detached-from-a-branch"],
)
def test_an_empty_head_of_a_clone_on_no_branch_is_written_back_as_its_commit(tmp_path, moves):
    """Item 3's neighbour (lead 33's `_damaged_head`): a clone left on a commit (`git checkout
    HEAD~2` to look at an older state, a bisect) whose HEAD a power loss emptied was told "write
    back the branch it last had checked out, `printf 'ref: refs/heads/%s\\n' main > …/HEAD`" (its
    only branch): pasted, `git status` showed main's two newer commits undone in the work tree,
    staged, which the next `git commit -a` commits onto main. The commit HEAD was on is written
    back, and git shows the clone as it was."""
    manifest, repo = _one_repo(tmp_path)
    _commit(repo, "b.txt")
    _commit(repo, "c.txt")
    for move in moves:
        git(repo, *move.split())
    _emptied_then_written_back(
        tmp_path, manifest, repo, "write back the commit it last had checked out"
    )


@pytest.mark.parametrize(
    "moves",
    [
        [
            "switch -qc feat/x/y",
            "commit -q --allow-empty -m one",
            "commit -q --amend --allow-empty -m two",
        ],
        ["switch -qc feat", "commit -q --allow-empty -m one", "rebase -q main"],
        ["switch -qc feat", "reset -q --hard HEAD~1", "switch -q main", "switch -q feat"],
        ["switch -qc feat", "checkout -q --detach", "switch -q feat"],
        ["branch other", "commit -q --allow-empty -m on-main"],
    ],
    ids=["amended", "rebased", "reset", "detached-and-back", "never-switched"],
)
def test_an_empty_head_of_a_clone_on_a_branch_is_still_written_back_as_that_branch(tmp_path, moves):
    """The other side of the test above: a clone on a branch (after an amend, a rebase, a reset, a
    detour on no branch) is still told to write that branch back, not its commit."""
    manifest, repo = _one_repo(tmp_path)
    _commit(repo, "b.txt")
    for move in moves:
        git(repo, *move.split())
    assert (repo / ".git" / "HEAD").read_bytes().startswith(b"ref: ")
    _emptied_then_written_back(
        tmp_path, manifest, repo, "write back the branch it last had checked out"
    )


def _emptied_then_written_back(tmp_path: Path, manifest: Path, repo: Path, told: str) -> None:
    """Empty the clone's HEAD (a power loss), and check plan's line says ``told`` and that its
    `printf`, pasted, writes back HEAD as it was, git then showing the clone as it was."""
    head = repo / ".git" / "HEAD"
    before = head.read_bytes()
    status = git(repo, "status", "--short")
    head.write_bytes(b"")
    code, said = _said("plan", "-m", manifest)
    assert code == 1 and told in said, said
    pasted = paste(_quoted(said, "printf "), tmp_path)
    assert pasted.returncode == 0, pasted.stderr
    assert head.read_bytes() == before
    assert git(repo, "status", "--short") == status


def _in_a_latin1_folder(tmp_path: Path) -> tuple[Path, Path]:
    """A fleet of one repo whose folder's name holds a byte that is not UTF-8 (`café` as Latin-1
    writes it), its base branch missing (`master` only): plan's line for it is an error."""
    top = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9 fleet")))
    repo = top / "ws" / "app"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "master")
    git(repo, "commit", "-q", "--allow-empty", "-m", "first")
    manifest = top / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n  - name: app\n"
    )
    return manifest, repo


def test_a_repos_error_line_in_a_folder_named_in_bytes_not_utf8_is_shown(tmp_path):
    """Item 11 (bad input gives one clear line): in a workspace whose folder's name holds a byte that
    is not UTF-8, every repo's error line was "an error message the leak guard could not check for
    plaintext values (not shown)": the guard's check of the line lets the clone's own path through,
    and encoding that path as strict UTF-8 raised, so no line ever said what was wrong or how to
    mend it. The line is shown."""
    manifest, _ = _in_a_latin1_folder(tmp_path)
    code, said = _said("plan", "-m", manifest)
    assert code == 1 and "base branch 'main' not found" in said, said


def test_git_s_safe_directory_line_for_a_path_not_utf8_is_offered_as_one_that_pastes(
    tmp_path, monkeypatch
):
    """Item 9's way out (pass 28c's and 29c's `_not_owned`): for a clone another user owns at a path
    holding a byte that is not UTF-8, git's own `safe.directory '/…/caf\\xe9 fleet/ws/app'` line was
    offered as printed, the byte shown as four characters: pasted, git was told of a path that does
    not exist and still refused the clone. The path is spelled as the shell reads it ($'…\\xe9…')."""
    if os.geteuid() != 0:
        pytest.skip("giving a clone to another user needs root")
    manifest, repo = _in_a_latin1_folder(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    subprocess.run(["chown", "-R", "1234:1234", os.fsencode(repo)], check=True)
    code, said = _said("drift", "-m", manifest)
    assert code == 1 and "dubious ownership" in said, said
    pasted = paste(_quoted(said, "git config --global "), home)
    assert pasted.returncode == 0, pasted.stderr
    code, said = _said("drift", "-m", manifest)
    assert "dubious ownership" not in said and "base branch 'main' not found" in said, said


def test_an_empty_head_beside_a_lock_file_a_power_loss_left_still_names_the_branch(tmp_path):
    """The same power loss can leave `refs/heads/main.lock` (git's write of main cut short): no branch
    (git refuses ref names ending `.lock`), so the clone's one branch is still the one written back."""
    manifest, repo = _one_repo(tmp_path)
    git(repo, "branch", "other")
    (repo / ".git" / "logs" / "HEAD").unlink()
    heads = repo / ".git" / "refs" / "heads"
    (heads / "other").unlink()
    (heads / "main.lock").write_bytes((heads / "main").read_bytes())
    (repo / ".git" / "HEAD").write_bytes(b"")
    code, said = _said("plan", "-m", manifest)
    assert code == 1 and "write back the branch it last had checked out" in said, said
    assert paste(_quoted(said, "printf "), tmp_path).returncode == 0
    assert (repo / ".git" / "HEAD").read_bytes() == b"ref: refs/heads/main\n"
