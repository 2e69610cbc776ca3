"""Issue 13, the lead's findings of session 29 (from the passes' notes). Each test fails on the main
it was written against (checked by undoing its fix)."""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.demofleet import make_repo
from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_adversary import apply, run_cli, tree_with
from tests.test_hostile import manifest_for

RECORD = f"refs/juniper-rollout/pushed/{BRANCH}"


@pytest.mark.usefixtures("loopback_only")
def test_forgetting_the_pushed_copy_keeps_the_record_when_origins_delete_is_refused(loop, tmp_path):
    """ON-LIST 13.1 (pass 25g's note): apply --push; the local rollout branch deleted; `.env` leaves a
    committed value empty. The way to empty it on purpose, "forget the rollout branch's last pushed
    copy (`git -C CLONE update-ref -d RECORD OLD && git -C CLONE push --force-with-lease=… origin
    --delete -- BRANCH`)", deleted the push record first: pasted after a reviewer pushed onto origin's
    branch, git refused the delete ("stale info") but the record, the tool's memory of what it pushed
    (which keeps the next apply from pushing over origin's copy), was gone already. Origin's leased
    delete now comes first; the record goes only once it succeeded."""
    repo = loop.repo("juniper-cascor")
    assert apply(loop, "juniper-cascor", push=True).code == 0
    pushed = git(repo, "rev-parse", RECORD).strip()
    git(repo, "branch", "-D", BRANCH)
    env = repo / ".env"
    lines = env.read_text().splitlines()
    lines[0] = lines[0].split("=", 1)[0] + "="
    env.write_text("\n".join(lines) + "\n")
    said = " ".join(rollout("plan", "-m", loop.manifest, "--repo", "juniper-cascor").stdout.split())
    forget = [c for c in said.split("`") if c.startswith("git ") and " --delete " in c]
    assert forget and " update-ref -d " in forget[0], said
    # a reviewer pushes onto origin's branch after the line was printed (not fetched here)
    tree = tree_with(repo, pushed, {"REVIEW.md": "a reviewer's notes\n"}, tmp_path)
    reviewers = git(repo, "commit-tree", "-p", pushed, "-m", "review", tree).strip()
    git(repo, "push", "-q", "origin", f"{reviewers}:refs/heads/{BRANCH}")
    done = subprocess.run(["bash", "-c", forget[0]], cwd=repo, capture_output=True, text=True)
    assert done.returncode != 0, done.stderr
    assert git(repo, "ls-remote", "origin", BRANCH).split()[:1] == [reviewers]
    kept = git(repo, "for-each-ref", "--format=%(objectname)", RECORD).strip()
    assert kept == pushed, "the push record went, origin's copy stayed"
    # as printed for (origin back at the tool's commit), the same line forgets both copies
    git(repo, "push", "-q", "--force", "origin", f"{pushed}:refs/heads/{BRANCH}")
    done = subprocess.run(["bash", "-c", forget[0]], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not git(repo, "ls-remote", "origin", BRANCH).strip()
    assert not git(repo, "for-each-ref", RECORD).strip()


def test_a_socket_as_the_manifest_or_the_saved_plan_is_named_as_not_a_regular_file(tmp_path):
    """ON-LIST 13.11 (pass 25i's note: a FIFO as the manifest, in a new spelling): a Unix socket cannot
    be opened at all (ENXIO, where a FIFO opens and is then refused), so `rollout plan -m SOCKET` said
    "cannot read manifest: No such device or address" and `rollout apply SOCKET` "cannot read the plan
    file: No such device or address". Each is named as the FIFO is: not a regular file."""
    make_repo(tmp_path / "ws" / "victim", {".gitignore": ".env\n"})
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    path = tmp_path / "sk.yaml"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(path))
        for command, said in (
            (
                ["plan", "-m", path],
                "not a regular file (a folder, FIFO, socket or device?); pass the manifest file",
            ),
            (
                ["apply", path, "-m", manifest],
                f"{path} is not a regular file (a folder, FIFO, socket or device?)",
            ),
        ):
            result = run_cli(*command)
            lines = (result.stdout + result.stderr).strip().splitlines()
            assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
            assert "No such device" not in result.stdout + result.stderr
            assert len(lines) == 1 and said in lines[0], lines
    finally:
        sock.close()
