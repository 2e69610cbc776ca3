"""Issue 13, pass 28e: session 32's short pass over items 5-8 (the leaks) on the code session 32
added (`git diff d4c5fb9 0b00255 -- juniper_rollout`): the leak guard's listing of repositories
inside a clone, the new token shapes, lead 32's worded-name wording.

Each finding's test fails on that main (checked by undoing its fix)."""

from __future__ import annotations

import os

import pytest

from tests.fleet import BRANCH
from tests.helpers import rollout
from tests.leakshapes import template_and_message_refused
from tests.test_pass27e import other_repo_rendering
from tests.test_pass28b import _git, guarded_by, submodule_added

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


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
        submodule_added(tmp_path, ra, "api")
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
    guarded_by(tmp_path, manifest, where, value)


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


# --- lead 32's worded-name wording ------------------------------------------------------------


def test_a_worded_name_beside_a_token_pasted_as_a_name_is_kept_not_called_a_credential(fleet):
    """Lead 32's wording, a committed `.env.enc` (no `.env` in the clone) holding a worded name
    (`stripe-webhook-secret`, a real variable's) beside a token pasted as a name: plan called both
    "shaped like a credential", said "rotate that credential" and "delete that line", and, followed
    (both lines deleted), the next plan refused for the worded value `.env` then lacked. Now it says
    how many are words, to rotate the other one only, and to give the worded line a variable name;
    followed, plan passes and apply carries the value under its new name."""
    from tests.helpers import CANARY, encrypted_by_hand, git
    from tests.pasting import paste_each
    from tests.test_adversary import apply

    repo = fleet.repo("juniper-cascor")
    token = "ghp_" + "Qz7a" * 9
    value = f"whsec_{CANARY}-mixed"
    extra = f"stripe-webhook-secret={value}\n{token}=\n"
    encrypted_by_hand(fleet, repo, (repo / ".env").read_bytes() + extra.encode())
    (repo / ".env").unlink()
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    said = " ".join(result.stdout.split())
    assert result.code == 1, said
    assert "holds 2 names shaped like a credential or no variable name" in said, said
    assert "1 of them words joined by '.' or '-' (a real variable's)" in said, said
    assert "rotate the other one" in said and "delete that line there" not in said, said
    assert CANARY not in said and "stripe-webhook" not in said and token not in said, said
    commands = [c for c in said.split("`") if c.startswith("git -C ")]
    assert len(commands) == 1, said
    paste_each(commands, fleet.root.parent)
    written = (repo / ".env").read_text()
    assert f"stripe-webhook-secret={value}\n" in written
    kept = [line for line in written.splitlines(keepends=True) if not line.startswith(token)]
    (repo / ".env").write_text(
        "".join(kept).replace("stripe-webhook-secret=", "STRIPE_WEBHOOK_SECRET=")
    )
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    shown = " ".join(plan.stdout.split())
    assert plan.code == 0, shown
    assert CANARY not in shown and token not in shown, shown
    assert (
        "drops 2 names shaped like a credential or no variable name (not shown): 1 of words joined "
        "by '.' or '-', whose value .env holds under a variable name, and 1 .env lacks" in shown
    ), shown
    assert apply(fleet, "juniper-cascor").code == 0
    held = git(repo, "show", "chore/sops-age-rollout:.env.enc")
    assert "STRIPE_WEBHOOK_SECRET=" in held and "stripe-webhook" not in held and token not in held


def test_verifys_line_for_a_worded_name_beside_a_token_keeps_the_worded_value(fleet):
    """verify of a `.env.enc` on main holding a worded name beside a token pasted as a name: the
    line said "rotate what they hold" of both, and its way out (apply) was then refused for the
    worded value `.env` lacked. Now it says which are words, to put their values in `.env` under
    a variable name and rotate the other one; followed, verify passes the check."""
    from tests.helpers import CANARY, encrypted_by_hand
    from tests.test_adversary import apply

    repo = fleet.repo("juniper-cascor")
    env = (repo / ".env").read_text()
    token = "ghp_" + "Qz7b" * 9
    value = f"whsec_{CANARY}-verify"
    encrypted_by_hand(fleet, repo, (env + f"stripe-webhook-secret={value}\n{token}=\n").encode())
    result = rollout(
        "verify", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--ref", "main"
    )
    said = " ".join((result.stdout + result.stderr).split())
    assert result.code == 1, said
    assert "1 of them words joined by '.' or '-' (a real variable's); not shown" in said, said
    assert "put each worded name's value in .env under a variable name" in said, said
    assert "rotate what the other one holds" in said, said
    assert CANARY not in said and token not in said and "stripe-webhook" not in said, said
    (repo / ".env").write_text(env + f"STRIPE_WEBHOOK_SECRET={value}\n")
    assert apply(fleet, "juniper-cascor").code == 0
    result = rollout("verify", "-m", fleet.manifest, "--repo", "juniper-cascor", "--ref", BRANCH)
    said = " ".join((result.stdout + result.stderr).split())
    assert "no variable name" not in said and CANARY not in said, said
