"""Hostile and broken input: one clear line, exit 1, nothing written, and the other repos go on."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pyrage
import pytest

from tests.demofleet import CANARY, make_repo
from tests.helpers import clone_state, git, rollout

KEY = str(pyrage.x25519.Identity.generate().to_public())
BRANCH = "chore/sops-age-rollout"


def manifest_for(tmp_path: Path, entries: str) -> Path:
    path = tmp_path / "repos.yaml"
    path.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n"
        f"  - name: healthy\n{entries}"
    )
    make_repo(tmp_path / "ws" / "healthy", {"README.md": "hi\n"})
    return path


def plan_error(manifest: Path, name: str = "victim") -> str:
    result = rollout("plan", "--manifest", manifest, "--json")
    assert result.code == 1
    repos = {r["name"]: r for r in json.loads(result.stdout)["repos"]}
    assert repos["healthy"]["status"] == "changes"  # the others are still planned
    assert repos[name]["status"] == "error"
    error = repos[name]["error"]
    assert "\n" not in error and "Traceback" not in result.stderr
    return error


def no_branch(repo: Path) -> bool:
    return not subprocess.run(
        ["git", "-C", str(repo), "branch", "--list", BRANCH], capture_output=True, text=True
    ).stdout.strip()


# --- repositories -----------------------------------------------------------------------


def test_not_a_git_repo(tmp_path):
    (tmp_path / "ws" / "victim").mkdir(parents=True)
    assert "not a git repository" in plan_error(manifest_for(tmp_path, "  - name: victim\n"))


def test_missing_clone(tmp_path):
    assert "no clone at" in plan_error(manifest_for(tmp_path, "  - name: victim\n"))


def test_bare_repository(tmp_path):
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "ws" / "victim")], check=True)
    assert "bare repository" in plan_error(manifest_for(tmp_path, "  - name: victim\n"))


def test_empty_repository(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path / "ws" / "victim")], check=True)
    assert "no commits yet" in plan_error(manifest_for(tmp_path, "  - name: victim\n"))


def test_missing_base_branch(tmp_path):
    make_repo(tmp_path / "ws" / "victim", {"a": "b\n"})
    error = plan_error(manifest_for(tmp_path, "  - name: victim\n    base: develop\n"))
    assert "base branch 'develop' not found" in error


def test_shallow_clone(tmp_path):
    origin = make_repo(tmp_path / "origin", {"a": "1\n"})
    (origin / "a").write_text("2\n")
    git(origin, "commit", "-qam", "two")
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(tmp_path / "ws" / "victim")],
        check=True,
    )
    assert "shallow clone" in plan_error(manifest_for(tmp_path, "  - name: victim\n"))


def test_linked_worktree(tmp_path):
    main = make_repo(tmp_path / "main-clone", {"a": "1\n"})
    git(main, "worktree", "add", "-q", str(tmp_path / "ws" / "victim"), "-b", "side")
    assert f"is a linked worktree of {main}; point the manifest at {main}" in plan_error(
        manifest_for(tmp_path, "  - name: victim\n")
    )


def test_detached_head_is_fine_and_stays_detached(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {"a": "1\n"})
    git(repo, "checkout", "-q", "--detach")
    before = clone_state(repo)
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    assert clone_state(repo) == before and not no_branch(repo)


# --- files in the repository ---------------------------------------------------------------


@pytest.mark.parametrize(
    "tmp_files, words",
    [
        (
            {"ws/victim/.pre-commit-config.yaml": "repos: [\n"},
            ".pre-commit-config.yaml:2: invalid YAML",
        ),
        ({"ws/victim/.pre-commit-config.yaml": "- just\n- a list\n"}, "is not a mapping"),
        (
            {"ws/victim/.pre-commit-config.yaml": "x: &l {repo: local, hooks: []}\nrepos: [*l]\n"},
            "anchor, alias or merge key",
        ),
        (
            {"ws/victim/.gitignore": {"type": "bin", "base64": "Y2Fm6Qo="}},
            ".gitignore is not UTF-8",
        ),
        ({"ws/victim/.gitignore": "# >>> juniper-rollout >>>\n.env\n"}, "no end marker"),
        (
            {"ws/victim/.sops.yaml": {"type": "symlink", "target": "/etc/hostname"}},
            "never follows symlinks",
        ),
    ],
    ids=[
        "precommit-invalid-yaml",
        "precommit-not-mapping",
        "precommit-anchor",
        "gitignore-not-utf8",
        "gitignore-broken-markers",
        "owned-file-symlink-outside",
    ],
    indirect=["tmp_files"],
)
def test_bad_files_in_repo(tmp_files, words):
    repo = tmp_files / "ws" / "victim"
    make_repo(repo, {"README.md": "x\n"})  # commits the files pytest-tmp-files laid out too
    manifest = manifest_for(tmp_files, "  - name: victim\n")
    assert words in plan_error(manifest)
    result = rollout("apply", "--manifest", manifest, "--yes")
    assert result.code == 1 and "victim: failed" in result.stdout and no_branch(repo)
    assert not no_branch(tmp_files / "ws" / "healthy")


@pytest.mark.parametrize("target", [".gitignore", ".sops.yaml", "notes"])
def test_symlinks_in_the_repo_are_never_followed(tmp_path, target):
    repo = tmp_path / "ws" / "victim"
    make_repo(repo, {"README.md": "x\n"})
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0\n")
    os.symlink(outside / ("passwd" if target != "notes" else ""), repo / target)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "symlink")
    entry = "  - name: victim\n" + (
        "    files: [{path: notes/GUIDE.md, template: SOPS_USAGE_GUIDE.md.j2}]\n"
        if target == "notes"
        else ""
    )
    manifest = manifest_for(tmp_path, entry)
    error = plan_error(manifest)
    assert "symlink" in error and "never follows symlinks" in error
    rollout("apply", "--manifest", manifest, "--yes")
    assert (outside / "passwd").read_text() == "root:x:0:0\n" and no_branch(repo)


# --- secrets in the clone --------------------------------------------------------------------


def secret_repo(tmp_path: Path) -> tuple[Path, Path]:
    repo = make_repo(tmp_path / "ws" / "victim", {".gitignore": ".env\n"})
    return repo, manifest_for(
        tmp_path, "  - name: victim\n    encrypt: [{source: .env, target: .env.enc}]\n"
    )


def test_env_symlink_is_refused(tmp_path):
    repo, manifest = secret_repo(tmp_path)
    (tmp_path / "elsewhere.env").write_text(f"A={CANARY}\n")
    os.symlink(tmp_path / "elsewhere.env", repo / ".env")
    assert "is a symlink" in plan_error(manifest)


def test_env_that_cannot_be_read_is_refused(tmp_path):
    repo, manifest = secret_repo(tmp_path)
    (
        repo / ".env"
    ).mkdir()  # as root, mode 000 is still readable: a directory cannot be read as a file
    assert "not a regular file" in plan_error(manifest) or "cannot read .env" in plan_error(
        manifest
    )


def test_env_not_utf8_is_refused(tmp_path):
    repo, manifest = secret_repo(tmp_path)
    (repo / ".env").write_bytes(b"A=caf\xe9-" + CANARY.encode() + b"\n")
    assert ".env in the clone is not UTF-8" in plan_error(manifest)


def test_huge_manifest_is_refused(tmp_path):
    path = tmp_path / "repos.yaml"
    path.write_text("version: 1\n# " + "x" * 1_100_000 + "\n")
    result = rollout("plan", "--manifest", path)
    assert (
        result.code == 1 and "larger than" in result.stderr and len(result.stderr.splitlines()) == 1
    )
