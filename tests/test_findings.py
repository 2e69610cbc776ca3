"""Third adversarial pass over issues 12 and 13: token-shaped names in a .env, hand-written templates
(.env.sample, .env.template, …) kept, plaintext appended to an .enc file refused, a token in a URL's
query string, a rollout branch that would shadow a remote-tracking branch. Real git, sops, pre-commit."""

from __future__ import annotations

import pytest

from juniper_rollout.demo import make_repo
from tests.helpers import git, rollout
from tests.test_hostile import manifest_for

QUERY_TOKEN = "ghs_qu3ryTOKENvalue77"


# --- 4. a token in a URL's query string --------------------------------------------------------


def test_a_query_string_token_is_stripped_and_redacted():
    from juniper_rollout.urls import redact, strip_userinfo

    assert strip_userinfo(f"https://github.com/o/r.git?token={QUERY_TOKEN}") == "https://github.com/o/r.git"
    assert strip_userinfo(f"https://u:p4ss@h/r.git?access_token={QUERY_TOKEN}#x") == "https://h/r.git"
    url = f"https://h/r.git?a=1&token={QUERY_TOKEN}"
    assert QUERY_TOKEN not in redact(f"fatal: unable to access '{url}': token {QUERY_TOKEN}", url)


def test_bootstrap_never_stores_or_prints_a_query_string_token(fleet, tmp_path):
    source = make_repo(tmp_path / "src", {"README.md": "# canopy\n"})
    bare = tmp_path / f"juniper-canopy.git?token={QUERY_TOKEN}"  # git's file:// keeps the query in the path
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    result = rollout("bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest, "--url", f"file://{bare}")
    assert result.code == 0, result.stderr
    assert QUERY_TOKEN not in result.stdout + result.stderr + fleet.manifest.read_text()
    assert f"url: file://{tmp_path}/juniper-canopy.git\n" in fleet.manifest.read_text()

    before = fleet.manifest.read_bytes()
    missing = f"file://{tmp_path}/missing.git?token={QUERY_TOKEN}"
    result = rollout("bootstrap", "--yes", "juniper-new", "--manifest", fleet.manifest, "--url", missing)
    assert result.code == 1 and "git clone" in result.stderr and QUERY_TOKEN not in result.stdout + result.stderr
    assert fleet.manifest.read_bytes() == before


def test_a_manifest_url_with_a_query_string_is_refused(tmp_path):
    manifest = manifest_for(tmp_path, f"  - name: victim\n    url: https://h/r.git?token={QUERY_TOKEN}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1 and f"{manifest}:8:" in result.stderr and "url holds credentials" in result.stderr
    assert QUERY_TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize("branch", ["origin/main", "refs/heads/x", "refs/remotes/origin/main", "remotes/origin/x",
                                    "upstream/main"])
def test_a_branch_that_would_shadow_a_remote_tracking_branch_is_refused_with_its_line(tmp_path, branch):
    manifest = manifest_for(tmp_path, f"  - name: victim\n    branch: {branch}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1 and f"{manifest}:8: repo victim.branch '{branch}' starts with" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_branch_named_like_a_remote_is_still_fine(tmp_path):
    manifest = manifest_for(tmp_path, "  - name: victim\n    branch: origin-rollout/sops\n")
    make_repo(tmp_path / "ws" / "victim", {"README.md": "hi\n"})
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stderr


# --- 2. hand-written committed templates are not plaintext secrets -----------------------------

HAND_WRITTEN = (".env.sample", ".env.template", ".env.dist", ".env.defaults", ".env.tmpl", ".env.tpl",
                "config/.env.local.sample")
BRANCH = "chore/sops-age-rollout"


def test_hand_written_templates_are_kept_not_deleted_as_secrets(fleet):
    import json

    from tests.test_drift import commit_on_main

    cascor = fleet.repo("juniper-cascor")
    commit_on_main(cascor, {name: "API_TOKEN=\nDEBUG=false\n" for name in HAND_WRITTEN}, "templates by hand")
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--json")
    assert plan.code == 0, plan.stderr
    touched = {c["path"]: c["action"] for r in json.loads(plan.stdout)["repos"] for c in r["files"]}
    assert not set(HAND_WRITTEN) & set(touched), touched
    assert "filter-repo" not in rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor").stdout

    result = rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes")
    assert result.code == 0, result.stdout + result.stderr
    files = set(git(cascor, "ls-tree", "-r", "--name-only", BRANCH).split())
    assert set(HAND_WRITTEN) <= files and ".env.enc" in files
    # the branch's own .gitignore does not ignore them (real git, on the rollout branch's tree)
    ignored = git_ignored_on(cascor, BRANCH, list(HAND_WRITTEN))
    assert not ignored, ignored

    verify = json.loads(rollout("verify", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--ref", BRANCH,
                                "--json").stdout)
    assert {c["name"]: c for c in verify["repos"][0]["checks"]}["plaintext-env"]["ok"]
    drift = json.loads(rollout("drift", "--manifest", fleet.manifest, "--repo", "juniper-cascor",
                               "--format", "json").stdout)
    assert not [f for f in drift["repos"][0]["findings"] if f.get("path") in HAND_WRITTEN]


def git_ignored_on(repo, ref: str, names: list[str]) -> set[str]:
    """Which of ``names`` the .gitignore of ``ref`` ignores, asked of real git in a scratch repo."""
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as scratch:
        git(Path(scratch), "init", "-q")
        (Path(scratch) / ".gitignore").write_text(git(repo, "show", f"{ref}:.gitignore"))
        out = subprocess.run(["git", "-C", scratch, "check-ignore", "--no-index", "--", *names],
                             capture_output=True, text=True)
        return set(out.stdout.split())
