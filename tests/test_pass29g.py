"""Issue 13, pass 29g: a short verification pass over session 33's newest code (pass 29d's packed
refs read through git, an empty HEAD written back, safe.directory's line; pass 29e's and 29f's
wording). Each finding's test fails on the main this pass started from (61e8430, checked by undoing
its fix)."""

from __future__ import annotations

import subprocess

from tests.demofleet import make_repo
from tests.helpers import git, rollout
from tests.pasting import paste
from tests.test_hostile import KEY


def test_a_missing_base_beside_a_non_utf8_tag_is_not_found_not_read_from_a_tag_of_its_full_name(
    tmp_path,
):
    """Item 11 / 13.S4 (pass 29d's `_packed_commit_at`): where GitPython cannot read packed-refs (a
    tag named in bytes that are not UTF-8, which git allows), a ref was read by `git rev-parse`,
    which, when the full name ``refs/heads/dev`` is missing, guesses on (refs/tags/refs/heads/dev,
    refs/heads/refs/heads/dev, …). So `base: dev` with no branch dev planned the rollout onto a
    tag named `refs/heads/dev` (an older commit) where, without that non-UTF-8 tag, it is "base
    branch 'dev' not found". The ref is now read by its full name only (`show-ref --verify`)."""
    repo = make_repo(tmp_path / "ws" / "app", {"README.md": "app\n"})
    git(
        repo,
        "-c",
        "user.name=Dev",
        "-c",
        "user.email=dev@x.invalid",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "newer",
    )
    git(repo, "tag", "refs/heads/dev", "HEAD~1")
    subprocess.run(["git", "-C", str(repo), "tag", b"caf\xe9"], check=True)
    git(repo, "pack-refs", "--all")
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\n  base: dev\n"
        "repos:\n  - name: app\n"
    )
    result = rollout("plan", "-m", manifest)
    said = " ".join((result.stdout + result.stderr).split())
    assert result.code == 1 and "base branch 'dev' not found" in said, said
    assert "create" not in said.replace("(create it", ""), said  # nothing planned onto the tag
    # the normal path still reads a packed base beside that tag
    manifest.write_text(manifest.read_text().replace("base: dev", "base: main"))
    result = rollout("plan", "-m", manifest)
    assert result.code == 0 and ".sops.yaml" in result.stdout, result.stdout + result.stderr


def test_an_empty_head_mid_rebase_is_written_back_as_its_commit_never_the_new_bases_branch(
    tmp_path,
):
    """Item 3's neighbour (pass 29d's `_last_checked_out`): `git rebase main` from `feat` stopped
    at a conflict leaves HEAD on no branch, at main's tip; HEAD's reflog's last entry is
    "rebase (start): checkout main", no `checkout: moving …`. A power loss emptying HEAD there was
    told "write back the branch it last had checked out, `printf 'ref: refs/heads/%s\\n' main >
    …/HEAD`": pasted, the conflict resolved, `git rebase --continue` committed feat's commit onto
    main (a branch the user never committed to). The commit HEAD was on is written back, and the
    rebase finishes as git would have: feat rebased, main where it was."""
    repo = make_repo(tmp_path / "ws" / "app", {"f.txt": "one\n"})
    who = ["-c", "user.name=Dev", "-c", "user.email=dev@x.invalid", "-c", "core.editor=true"]
    git(repo, "switch", "-qc", "feat")
    (repo / "f.txt").write_text("feat\n")
    git(repo, *who, "commit", "-qam", "feat")
    git(repo, "switch", "-q", "main")
    (repo / "f.txt").write_text("main\n")
    git(repo, *who, "commit", "-qam", "main")
    main = git(repo, "rev-parse", "main")
    git(repo, "switch", "-q", "feat")
    stopped = subprocess.run(["git", "-C", str(repo), *who, "rebase", "main"], capture_output=True)
    assert stopped.returncode != 0 and (repo / ".git" / "rebase-merge").is_dir()
    head = repo / ".git" / "HEAD"
    before = head.read_bytes()
    head.write_bytes(b"")
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n  - name: app\n"
    )
    result = rollout("plan", "-m", manifest)
    said = " ".join((result.stdout + result.stderr).split())
    assert result.code == 1 and ".git/HEAD is empty or damaged" in said, said
    line = next(part for part in said.split("`") if part.startswith("printf "))
    assert paste(line, tmp_path).returncode == 0
    assert head.read_bytes() == before
    (repo / "f.txt").write_text("resolved\n")
    git(repo, "add", "f.txt")
    git(repo, *who, "rebase", "--continue")
    assert git(repo, "rev-parse", "main") == main  # main not moved
    assert git(repo, "rev-parse", "feat~1") == main  # feat rebased onto it
