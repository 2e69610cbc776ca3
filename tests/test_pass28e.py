"""Issue 13, pass 28e: session 32's short pass over items 5-8 (the leaks) on the code session 32
added (`git diff d4c5fb9 0b00255 -- juniper_rollout`): the leak guard's listing of repositories
inside a clone, the new token shapes, lead 32's worded-name wording.

Each finding's test fails on that main (checked by undoing its fix)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.helpers import rollout
from tests.leakshapes import template_and_message_refused
from tests.test_pass27e import other_repo_rendering

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


def _git(*args) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *map(str, args)],
        check=True,
        capture_output=True,
    )


def _nested(tmp_path, ra, shape):
    if shape == "five deep":
        where = "s/a/b/c/d/.env"
        (ra / "s").mkdir()
        for d in ("s/a", "s/a/b", "s/a/b/c", "s/a/b/c/d"):
            _git("init", "-q", ra / d)
        (ra / "s" / "x").write_text("x")
        _git("-C", ra, "add", "s/x")
    elif shape == "gitdir file":
        _git("init", "-q", "--separate-git-dir", tmp_path / "sep.git", ra / "svc")
        where = "svc/.env"
    elif shape == "damaged gitdir file":
        (ra / "svc").mkdir()
        (ra / "svc" / ".git").write_text("gitdir: /nowhere/at/all\n")
        where = "svc/.env"
    elif shape == "ignored folder":
        (ra / ".gitignore").write_text("vendor/\n")
        _git("init", "-q", ra / "vendor" / "lib")
        where = "vendor/lib/.env"
    elif shape == "node_modules":
        _git("init", "-q", ra / "node_modules" / "pkg")
        where = "node_modules/pkg/.env"
    elif shape == "symlink to a clone":
        _git("init", "-q", tmp_path / "outside")
        os.symlink(tmp_path / "outside", ra / "linked")
        where = "linked/.env"
    elif shape == "gitlink whose .git is gone":
        source = tmp_path / "apisrc"
        source.mkdir()
        (source / "README.md").write_text("api\n")
        _git("-C", source, "init", "-q", "-b", "main")
        _git("-C", source, "add", "-A")
        _git("-C", source, "commit", "-qm", "api")
        _git("-C", ra, "-c", "protocol.file.allow=always", "submodule", "add", "-q", source, "api")
        _git("-C", ra, "commit", "-qm", "add the api")
        os.remove(ra / "api" / ".git")
        where = "api/.env"
    elif shape == "bare inside":
        _git("init", "-q", "--bare", ra / "mirror.git")
        where = "mirror.git/.env"
    return where


@pytest.mark.parametrize(
    "shape",
    [
        "five deep",
        "gitlink whose .git is gone",
        # controls, held on that main: each is listed, or read another way
        "gitdir file",
        "damaged gitdir file",
        "ignored folder",
        "node_modules",
        "symlink to a clone",
        "bare inside",
    ],
)
def test_a_value_in_a_repository_nested_deep_or_a_submodule_folder_without_git_guards_plans(
    tmp_path, shape
):
    """ON-LIST 13.6 on pass 28b's listing of repositories inside a clone: a clone four deep (a
    workspace repository holding `s/`, holding clones inside clones) was never listed (three deep
    at most, a bound SECURITY.md's known limits did not name), nor a submodule's folder whose `.git`
    is gone (`rm -rf api/.git`, files copied over it: git takes the gitlink for the whole folder):
    a value in its `.env` was no value, and another repo's template holding it was shown in that
    repo's plan diff and committed. Every depth is listed now (100 repositories in all, shallow
    first), and a gitlink's folder holding anything."""
    value = "Nx5notthedemocanary77"
    manifest, ra = other_repo_rendering(tmp_path, value)
    where = _nested(tmp_path, ra, shape)
    (ra / where).parent.mkdir(parents=True, exist_ok=True)
    (ra / where).write_text(f"DB_PASSWORD={value}\n")
    result = rollout("plan", "--manifest", manifest, "--repo", "rb")
    assert value not in result.stdout + result.stderr, result.stdout
    assert result.code == 1, result.stdout
    assert f"plaintext {where} of ra" in result.stdout, result.stdout
    applied = rollout("apply", "--manifest", manifest, "--repo", "rb", "--yes")
    assert value not in applied.stdout + applied.stderr
    objects = subprocess.run(
        ["git", "-C", tmp_path / "ws" / "rb", "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout
    assert value.encode() not in objects


@pytest.mark.parametrize(
    "token",
    [
        "glrtr-Zq3Lm8Pq2Rs5Tu7Vw9Xy",  # GitLab's token page: a runner token made through a registration one
        "_gitlab_session=6f2a9c3b1d8e4f7a0b5c9d2e1f3a4b6c",  # the same page's session cookie
    ],
)
def test_a_template_or_commit_message_holding_a_gitlab_runner_or_session_token_is_refused(
    tmp_path, token
):
    """ON-LIST 13.6: GitLab's token page lists `glrtr-` (a runner authentication token created
    through a registration token) and `_gitlab_session=` beside the prefixes pass 28b's shape had;
    a template or the manifest's commit message holding one was shown in the plan's diff and
    committed. Refused now in one line, never echoed, nothing in git."""
    template_and_message_refused(tmp_path, token, "ci: runner {token}", token[-18:-4])


def test_gitlab_prefixes_named_in_prose_are_no_tokens():
    """Control: the prefixes named in prose or with a placeholder are no tokens."""
    from juniper_rollout.secretshape import holds_full_token, template_credential

    for text in (
        "runner tokens start glrt- or glrtr-",
        "Cookie: _gitlab_session=<your session cookie>",
        "docs: https://docs.gitlab.com/runner/register/#glrtr-tokens",
    ):
        assert not holds_full_token(text) and not template_credential(text), text
