"""The review loop reads refs, ancestry and a branch's changed files in-process (remote.py, gitrepo.py)
instead of starting a git process for each: every answer here is checked against git's own."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from juniper_rollout import gitrepo, reffiles, remote
from tests.helpers import git

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def commit(
    repo: Path, files: dict[str, str | None], message: str, *, mode: dict | None = None
) -> str:
    """A commit on the current branch with ``files`` written (None: deleted) and modes set."""
    for name, text in files.items():
        path = repo / name
        if text is None:
            subprocess.run(["git", "-C", str(repo), "rm", "-rq", "--", name], check=True, env=ENV)
            continue
        if path.is_dir() and not path.is_symlink():
            subprocess.run(["git", "-C", str(repo), "rm", "-rq", "--", name], check=True, env=ENV)
        elif path.exists() or path.is_symlink():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        if text.startswith("->"):
            path.symlink_to(text[2:])
        else:
            path.write_text(text)
        if mode and name in mode:
            path.chmod(mode[name])
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=ENV)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", message], check=True, env=ENV)
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    path = tmp_path / "r"
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=ENV)
    commit(
        path, {"a.txt": "1", "a-b": "1", "a/x": "1", "d/e/f": "1", "run.sh": "1", "l": "x"}, "base"
    )
    return path


def git_diff(repo: Path, base: str, tip: str) -> list[tuple[str, str]]:
    out = git(repo, "diff", "--no-renames", "--name-status", "-z", f"{base}...{tip}").split("\0")
    return [(out[i + 1], out[i]) for i in range(0, len(out) - 1, 2) if out[i]]


def test_changed_files_read_in_process_are_what_git_diff_says(repo):
    base = git(repo, "rev-parse", "HEAD").strip()
    commit(
        repo,
        {
            "a.txt": "2",  # modified
            "a-b": None,  # deleted
            "a/y": "new",  # added beside a file of the same directory
            "d/e/f": None,  # a directory emptied...
            "d/e": "now a file",  # ...and replaced by a file
            "a.txt2": "new",
            "l": "->a.txt",  # a file becomes a symlink: a change of kind
            "n/o/p/q": "deep",  # added directories
        },
        "rollout 1",
        mode={"run.sh": 0o755},
    )
    (repo / "run.sh").chmod(0o755)  # a mode change alone
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=ENV)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "mode"], check=True, env=ENV)
    # the directory a/ (a/x, a/y) replaced by a file a
    tip = commit(repo, {"a": "a file where a directory was"}, "rollout 2")
    expected = git_diff(repo, base, tip)
    assert {code for _, code in expected} >= {"A", "M", "D", "T"}  # the cases are all there
    with gitrepo.open_clone(repo) as clone:
        assert gitrepo.linear_chain(clone, base, tip) is not None  # the in-process way is taken
        assert (
            gitrepo.changed_paths(clone, clone.commit(base).tree, clone.commit(tip).tree)
            == expected
        )
    found = remote._in_process(repo, base, tip)
    assert found is not None
    assert found[0] == expected
    assert found[1] == remote._log(repo, base, tip)  # the commits, subjects and messages git logs
    assert remote.changes(repo, base, tip)[1] == [
        (sha, subject) for sha, subject, _ in reversed(remote._log(repo, base, tip))
    ]


@pytest.mark.parametrize(
    "message",
    [
        "one line",
        "subject\n\nbody\n- a: create (why)\n",
        "two lines\nof subject  \n\nbody",
        "\n\n  indented subject\t\nnext\n",
        "ünïcødé ✓ subject",
    ],
)
def test_a_subject_is_what_git_log_says(repo, message):
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "commit",
            "-q",
            "--allow-empty",
            "--cleanup=verbatim",
            "-m",
            message,
        ],
        check=True,
        env=ENV,
    )
    assert remote.subject(git(repo, "log", "-1", "--format=%B").removesuffix("\n")) == git(
        repo, "log", "-1", "--format=%s"
    ).removesuffix("\n")


def test_a_branch_with_a_merge_commit_is_diffed_by_git(repo):
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "side")
    commit(repo, {"side.txt": "s"}, "side")
    git(repo, "checkout", "-q", "main")
    commit(repo, {"main.txt": "m"}, "main moves")
    subprocess.run(
        ["git", "-C", str(repo), "merge", "-q", "--no-edit", "side"], check=True, env=ENV
    )
    tip = git(repo, "rev-parse", "HEAD").strip()
    with gitrepo.open_clone(repo) as clone:
        assert gitrepo.linear_chain(clone, base, tip) is None
    assert remote._in_process(repo, base, tip) is None
    files, commits = remote.changes(repo, base, tip)
    actions = {"A": "create", "M": "update", "D": "delete", "T": "update"}
    assert [(name, action) for name, action, _ in files] == [
        (name, actions[code]) for name, code in git_diff(repo, base, tip)
    ]
    assert [sha for sha, _ in commits] == git(
        repo, "rev-list", "--reverse", f"{base}..{tip}"
    ).split()
    assert remote.contains(repo, base, tip)


def test_ancestry_read_in_process_is_what_merge_base_says(repo):
    base = git(repo, "rev-parse", "HEAD").strip()
    one = commit(repo, {"x": "1"}, "one")
    two = commit(repo, {"x": "2"}, "two")
    git(repo, "checkout", "-q", "-b", "other", base)
    other = commit(repo, {"y": "1"}, "other")
    for ancestor, tip in [
        (base, two),
        (one, two),
        (two, two),
        (two, one),
        (other, two),
        (two, other),
    ]:
        want = (
            subprocess.run(
                ["git", "-C", str(repo), "merge-base", "--is-ancestor", ancestor, tip]
            ).returncode
            == 0
        )
        assert remote.contains(repo, ancestor, tip) is want, (ancestor, tip)
    with gitrepo.open_clone(repo) as clone:
        assert [c.hexsha for c in gitrepo.linear_chain(clone, base, two)] == [two, one]
        assert gitrepo.linear_chain(clone, two, two) == []
        assert gitrepo.linear_chain(clone, two, base) is None  # not below: git decides
    # the loose commits alone (no GitPython): True only where git says so, None where it cannot tell
    dotgit = repo / ".git"
    assert (
        reffiles.reaches(dotgit, base, two) is True and reffiles.reaches(dotgit, two, two) is True
    )
    assert reffiles.reaches(dotgit, two, other) is None  # down to the root: git decides
    assert reffiles.loose_parents(dotgit, two) == [one]
    git(repo, "checkout", "-q", "main")
    subprocess.run(
        ["git", "-C", str(repo), "merge", "-q", "--no-edit", "other"], check=True, env=ENV
    )
    merge = git(repo, "rev-parse", "HEAD").strip()
    assert reffiles.loose_parents(dotgit, merge) == git(repo, "rev-parse", "HEAD^@").split()
    assert reffiles.reaches(dotgit, two, merge) is None  # a merge: git decides
    assert remote.contains(repo, two, merge) and remote.contains(repo, other, merge)
    git(repo, "gc", "-q")  # packed now: nothing loose to read, git and gitrepo answer
    assert (
        reffiles.loose_parents(dotgit, two) is None and reffiles.reaches(dotgit, base, two) is None
    )
    assert remote.contains(repo, base, two) and not remote.contains(repo, two, base)


def test_refs_read_in_process_are_what_for_each_ref_lists(repo, tmp_path):
    head = git(repo, "rev-parse", "HEAD").strip()
    older = commit(repo, {"z": "1"}, "more")
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(bare)], check=True, env=ENV)
    git(repo, "remote", "add", "origin", str(bare))
    git(repo, "fetch", "-q", "origin")
    git(repo, "remote", "set-head", "origin", "main")  # refs/remotes/origin/HEAD: a symbolic ref
    git(repo, "branch", "chore/nested/name", head)
    git(repo, "branch", "packed-then-loose", head)
    git(repo, "pack-refs", "--all")
    git(repo, "update-ref", "refs/heads/packed-then-loose", older)  # loose beats packed
    git(repo, "branch", "loose-only", older)
    (repo / ".git" / "refs" / "heads" / "half-written.lock").write_text(head + "\n")
    wanted = ["refs/remotes/origin/", "refs/heads/", "refs/heads/main", "refs/heads/missing"]
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", *wanted)
    expected = dict(line.split(" ", 1) for line in out.splitlines())
    dotgit = gitrepo.files_backend(repo)
    assert dotgit is not None
    assert gitrepo.read_refs(dotgit, *wanted) == expected
    assert "refs/remotes/origin/HEAD" in expected and "refs/heads/chore/nested/name" in expected


def test_a_linked_worktree_or_reftable_is_read_by_git(repo, tmp_path):
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"), "-b", "wt")
    assert gitrepo.files_backend(tmp_path / "wt") is None  # .git is a file there
    assert remote._refs(tmp_path / "wt", "refs/heads/wt") == {
        "refs/heads/wt": git(repo, "rev-parse", "wt").strip()
    }
    (repo / ".git" / "reftable").mkdir()
    assert gitrepo.files_backend(repo) is None


def test_sync_of_a_clone_without_origin_says_so(repo):
    from juniper_rollout.errors import RepoError

    with pytest.raises(RepoError, match="has no remote `origin` \\(git remote add origin URL\\)"):
        remote.fetch(repo, "main")


def test_the_pushed_record_written_in_process_is_what_git_reads(repo, tmp_path):
    first = git(repo, "rev-parse", "HEAD").strip()
    second = commit(repo, {"x": "1"}, "two")
    record = gitrepo.PUSHED_REF + "chore/rollout"
    with gitrepo.open_clone(repo) as clone:
        gitrepo._write_record(clone, record, first)
    assert git(repo, "rev-parse", record).strip() == first
    git(repo, "pack-refs", "--all")  # now packed: the loose ref written next must win
    assert not (repo / ".git" / record).exists()
    with gitrepo.open_clone(repo) as clone:
        gitrepo._write_record(clone, record, second)
    assert git(repo, "rev-parse", record).strip() == second
    assert git(repo, "for-each-ref", "--format=%(objectname)", record).strip() == second
    assert not list((repo / ".git" / "refs").rglob("*.lock"))


def test_refs_that_cannot_be_read_are_one_line_not_a_traceback_nor_half_the_refs(repo):
    dotgit = repo / ".git"
    (dotgit / "packed-refs").mkdir()  # unreadable as a file (as root, permissions never are)
    with pytest.raises(gitrepo.RepoError, match=r"cannot read .*packed-refs: Is a directory"):
        gitrepo.read_refs(dotgit, "refs/heads/")


def ls_tree_files(repo: Path, rev: str) -> list[str]:
    out = git(repo, "ls-tree", "-r", "-z", "--full-tree", rev).split("\0")
    return [r.partition("\t")[2] for r in out if r and r.split(" ", 1)[0] in ("100644", "100755")]


def test_the_listing_read_in_process_is_what_ls_tree_lists(repo, monkeypatch):
    """Depth first in git's order (``a-b`` before ``a/`` before ``a.txt``... as trees sort), regular
    files only (no symlink, no submodule), executables too; past the budget git lists it, alike."""
    commit(
        repo,
        {
            "z/y/x": "1",
            "a/b/c/d": "1",
            "b-": "1",
            "b0": "1",
            "b/q": "1",
            "lnk": "->a.txt",
            "run.sh": "2",
        },
        "more",
        mode={"run.sh": 0o755},
    )
    sub = repo / "sub"
    subprocess.run(["git", "init", "-q", str(sub)], check=True, env=ENV)
    commit(sub, {"s": "1"}, "s")
    subprocess.run(["git", "-C", str(repo), "add", "sub"], check=True, env=ENV)  # a gitlink
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "sub"], check=True, env=ENV)
    expected = ls_tree_files(repo, "HEAD")
    assert "100755 blob" in git(repo, "ls-tree", "HEAD", "run.sh")
    assert "run.sh" in expected and "lnk" not in expected and "sub" not in expected
    with gitrepo.open_clone(repo) as clone:
        head = clone.commit("HEAD")
        assert gitrepo._listed_in_process(clone, head.tree.binsha) == expected
        assert gitrepo.listed_paths(clone, head) == expected
        monkeypatch.setattr(gitrepo, "LISTING_BUDGET", 3)
        assert gitrepo._listed_in_process(clone, head.tree.binsha) is None
        assert gitrepo.listed_paths(clone, head) == expected  # from git ls-tree
        monkeypatch.setattr(gitrepo, "LISTING_BUDGET", 2000)
        monkeypatch.setattr(gitrepo, "LISTING_TREES", 2)  # the root and one more: too many trees
        assert gitrepo._listed_in_process(clone, head.tree.binsha) is None
        assert gitrepo.listed_paths(clone, head) == expected
    git(repo, "gc", "-q")  # packed now: read through gitdb
    monkeypatch.setattr(gitrepo, "LISTING_TREES", 64)
    with gitrepo.open_clone(repo) as clone:
        assert gitrepo._listed_in_process(clone, clone.commit("HEAD").tree.binsha) == expected


def test_loose_objects_read_in_process_are_what_gitdb_reads(repo):
    """The one-call reader of loose objects answers as gitdb does (type, size, bytes); a packed
    object, a damaged loose one and an absent one are left to gitdb."""
    import gitdb
    from gitdb.exc import BadObject

    sha = git(repo, "rev-parse", "HEAD:a.txt").strip()
    with gitrepo.open_clone(repo) as clone:
        odb = clone.odb
        reference = gitdb.GitDB(str(repo / ".git" / "objects"))
        for name in git(repo, "rev-list", "--objects", "--all").split():
            if len(name) != 40:
                continue
            binsha = bytes.fromhex(name)
            assert (repo / ".git" / "objects" / name[:2] / name[2:]).exists()
            mine, theirs = odb.stream(binsha), reference.stream(binsha)
            assert (mine.type, mine.size, mine.read()) == (theirs.type, theirs.size, theirs.read())
            assert tuple(odb.info(binsha)) == tuple(reference.info(binsha))
        loose = repo / ".git" / "objects" / sha[:2] / sha[2:]
        data = loose.read_bytes()
        loose.chmod(0o644)
        loose.write_bytes(data[:-4])  # truncated: what gitdb makes of it

        def read(db):
            try:
                found = db.stream(bytes.fromhex(sha))
                return found.type, found.size, found.read()
            except Exception as err:
                return type(err)

        assert read(odb) == read(reference)
        with pytest.raises(BadObject):
            odb.info(b"\1" * 20)
