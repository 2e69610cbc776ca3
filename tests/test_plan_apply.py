"""plan and apply end to end on a seven-repo fleet shaped like the plan's table."""

from __future__ import annotations

import json
import subprocess

from juniper_rollout import sops
from tests import fleet as fleets
from tests.helpers import clone_state, git, rollout

BRANCH = fleets.BRANCH

# What the plan's table calls for, corrected by each repo's real state (lesson 3):
# every repo's .gitignore gets what git's rules say is missing.
EXPECTED = {
    "juniper-cascor": {
        ".sops.yaml",
        ".env.example",
        ".gitignore",
        ".pre-commit-config.yaml",
        "AGENTS.md",
        ".env.enc",
    },
    "juniper-deploy": {".sops.yaml", ".env.secrets.example", ".gitignore"},
    "juniper-data": {".sops.yaml", ".env.example", ".gitignore", ".pre-commit-config.yaml"},
    "juniper-data-client": {".sops.yaml", ".env.example", ".gitignore", ".pre-commit-config.yaml"},
    "juniper-cascor-client": {
        ".sops.yaml",
        ".env.example",
        ".gitignore",
        ".pre-commit-config.yaml",
    },
    "juniper-cascor-worker": {
        ".sops.yaml",
        ".env.example",
        ".gitignore",
        ".pre-commit-config.yaml",
    },
    "juniper-ml": {".sops.yaml", "notes/SOPS_USAGE_GUIDE.md", ".gitignore", "AGENTS.md"},
}


def changed_files(repo, branch=BRANCH) -> set[str]:
    return set(git(repo, "diff", "--name-only", f"main..{branch}").split())


def test_plan_json_lists_what_the_table_calls_for(fleet):
    result = rollout("plan", "--manifest", fleet.manifest, "--json")
    assert result.code == 0, result.stderr
    data = json.loads(result.stdout)  # stdout holds only JSON
    assert data["format_version"] == 1
    by_name = {r["name"]: r for r in data["repos"]}
    assert list(by_name) == fleet.names  # manifest order
    for name, wanted in EXPECTED.items():
        repo = by_name[name]
        assert repo["status"] == "changes" and repo["error"] is None
        writes = {f["path"] for f in repo["files"] if f["action"] in ("create", "update")}
        assert writes == wanted, name
        assert all(set(f) == {"path", "action", "reason"} for f in repo["files"])
    deploy = {f["path"]: f for f in by_name["juniper-deploy"]["files"]}
    assert (
        deploy[".env.example"]["action"] == "skip"
        and "create-only" in deploy[".env.example"]["reason"]
    )
    assert deploy[".pre-commit-config.yaml"]["action"] == "skip"
    cascor = {f["path"]: f for f in by_name["juniper-cascor"]["files"]}
    assert cascor[".env.enc"]["reason"].startswith(
        "encrypt .env: 15 variables HF_TOKEN, ALPHA_VANTAGE_TOKEN"
    )


def test_plan_shows_diffs_and_summary_lines(fleet):
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert result.code == 0
    out = result.stdout
    assert "juniper-cascor" in out and "juniper-data" not in out
    assert "+++ b/.sops.yaml" in out and "+# >>> juniper-rollout >>>" in out
    assert "\x1b[" not in out  # no colour when not a terminal
    assert "ENC[" not in out  # ciphertext is not diffed either


def test_apply_writes_one_branch_per_repo_and_leaves_clones_untouched(fleet):
    # the user's own state: dirty tree on another branch, staged changes, a stash
    cascor = fleet.repo("juniper-cascor")
    (cascor / "AGENTS.md").write_text("uncommitted edit\n")
    worker = fleet.repo("juniper-cascor-worker")
    (worker / "staged.txt").write_text("staged\n")
    git(worker, "add", "staged.txt")
    client = fleet.repo("juniper-cascor-client")
    (client / ".gitignore").write_text("stashed change\n")
    git(client, "stash")
    before = {name: clone_state(fleet.repo(name)) for name in fleet.names}

    result = rollout("apply", "--manifest", fleet.manifest, "--yes")
    assert result.code == 0, result.stdout + result.stderr
    assert "7 repos: 7 created" in result.stdout

    for name, wanted in EXPECTED.items():
        repo = fleet.repo(name)
        assert changed_files(repo) == wanted, name
        assert git(repo, "rev-list", "--count", f"main..{BRANCH}").strip() == "1"
        assert clone_state(repo) == before[name], f"{name}: the user's clone changed"
    # the encrypted file on the branch decrypts to the user's plaintext
    blob = subprocess.run(
        ["git", "-C", str(cascor), "show", f"{BRANCH}:.env.enc"], capture_output=True
    ).stdout
    assert sops.decrypt_dotenv(blob, filename=".env.enc") == (cascor / ".env").read_bytes()
    assert not git(cascor, "ls-tree", "-r", "--name-only", BRANCH, "--", ".env").strip()
    message = git(cascor, "log", "-1", "--format=%B", BRANCH)
    assert (
        message.startswith("chore: manage secrets with SOPS + age\n")
        and "- .env.enc: create" in message
    )


def test_second_apply_makes_no_commit_and_merged_fleet_plans_clean(fleet):
    assert rollout("apply", "--manifest", fleet.manifest, "--yes").code == 0
    tips = {n: git(fleet.repo(n), "rev-parse", BRANCH) for n in fleet.names}
    again = rollout("apply", "--manifest", fleet.manifest, "--yes")
    assert again.code == 0 and "7 already up to date" in again.stdout
    assert tips == {n: git(fleet.repo(n), "rev-parse", BRANCH) for n in fleet.names}
    assert (
        rollout("plan", "--manifest", fleet.manifest, "--detailed-exitcode").code == 0
    )  # compared with the branch
    fleet.merge_all()
    after = rollout("plan", "--manifest", fleet.manifest, "--detailed-exitcode")
    assert after.code == 0, after.stdout


def test_saved_plan_applies_exactly_and_refuses_when_base_moved(fleet, tmp_path):
    plan_file = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", fleet.manifest, "--out", plan_file).code == 0
    assert "demo-" not in plan_file.read_text()  # no plaintext (the canary check covers it too)
    data = fleet.repo("juniper-data")
    old = git(data, "rev-parse", "main").strip()
    git(data, "commit-tree", "-p", "main", "-m", "moved", "main^{tree}")
    new = git(data, "commit-tree", "-p", "main", "-m", "moved", "main^{tree}").strip()
    git(data, "update-ref", "refs/heads/main", new)
    result = rollout("apply", plan_file, "--manifest", fleet.manifest, "--yes")
    assert result.code == 1
    assert (
        f"stale plan for juniper-data: main moved from {old[:7]} to {new[:7]}; run plan again"
        in result.stdout
    )
    assert not git(data, "branch", "--list", BRANCH).strip()
    assert git(fleet.repo("juniper-ml"), "branch", "--list", BRANCH).strip()  # the others went on
    shown = git(fleet.repo("juniper-ml"), "show", f"{BRANCH}:notes/SOPS_USAGE_GUIDE.md")
    saved = json.loads(plan_file.read_text())
    import base64

    guide = next(
        f
        for r in saved["repos"]
        if r["name"] == "juniper-ml"
        for f in r["files"]
        if f["path"] == "notes/SOPS_USAGE_GUIDE.md"
    )
    assert base64.b64decode(guide["content"]).decode() == shown


def test_foreign_commits_block_that_repo_only(fleet):
    repo = fleet.repo("juniper-ml")
    git(repo, "branch", BRANCH, "main")
    foreign = git(repo, "commit-tree", "-p", BRANCH, "-m", "reviewer fix", "main^{tree}").strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", foreign)
    result = rollout("apply", "--manifest", fleet.manifest, "--yes")
    assert result.code == 1
    assert "juniper-ml: blocked" in result.stdout and "did not make" in result.stdout
    assert git(repo, "rev-parse", BRANCH).strip() == foreign
    assert "6 created" in result.stdout


def test_broken_repo_fails_alone(fleet):
    import shutil

    shutil.rmtree(fleet.repo("juniper-data") / ".git")
    plan = rollout("plan", "--manifest", fleet.manifest, "--json")
    assert plan.code == 1
    repos = {r["name"]: r for r in json.loads(plan.stdout)["repos"]}
    assert (
        repos["juniper-data"]["status"] == "error"
        and "not a git repository" in repos["juniper-data"]["error"]
    )
    assert repos["juniper-ml"]["status"] == "changes"
    result = rollout("apply", "--manifest", fleet.manifest, "--yes")
    assert (
        result.code == 1
        and "juniper-data: failed" in result.stdout
        and "6 created" in result.stdout
    )


def test_apply_without_yes_refuses_without_a_terminal(fleet):
    result = rollout("apply", "--manifest", fleet.manifest)
    assert result.code == 1 and "pass --yes" in result.stderr
    assert not git(fleet.repo("juniper-ml"), "branch", "--list", BRANCH).strip()


def test_push_uses_a_lease(fleet, tmp_path):
    repo = fleet.repo("juniper-ml")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    first = rollout(
        "apply", "--manifest", fleet.manifest, "--yes", "--repo", "juniper-ml", "--push"
    )
    assert first.code == 0 and "pushed to origin" in first.stdout
    assert git(remote, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)
    # a reviewer pushes a commit on top
    review = tmp_path / "review"
    subprocess.run(["git", "clone", "-q", "-b", BRANCH, str(remote), str(review)], check=True)
    (review / "REVIEW.md").write_text("looks good\n")
    git(review, "add", "REVIEW.md")
    git(review, "commit", "-qm", "review note")
    git(review, "push", "-q", "origin", BRANCH)
    reviewed = git(remote, "rev-parse", BRANCH)
    # the manifest changes, the tool rebuilds its branch locally, and must not clobber the reviewer
    text = fleet.manifest.read_text().replace(
        'commit_message: "chore: manage secrets with SOPS + age"',
        'commit_message: "chore: SOPS + age, take two"\n'
        "  usage_guide: https://example.invalid/SOPS_USAGE_GUIDE.md",
    )
    fleet.manifest.write_text(text)
    (repo / "AGENTS.md").write_text("local only\n")  # unrelated dirty work
    second = rollout(
        "apply", "--manifest", fleet.manifest, "--yes", "--repo", "juniper-ml", "--push"
    )
    assert git(remote, "rev-parse", BRANCH) == reviewed
    assert second.code == 1 and "juniper-ml: failed" in second.stdout
    assert "has commits the tool did not push" in second.stdout
    # the local branch was rebuilt; once the reviewer's branch is dealt with, the push goes through
    assert "take two" in git(repo, "log", "-1", "--format=%s", BRANCH)
    git(
        remote,
        "update-ref",
        f"refs/heads/{BRANCH}",
        first_tip := git(repo, "rev-parse", "refs/juniper-rollout/pushed/" + BRANCH).strip(),
    )
    third = rollout(
        "apply", "--manifest", fleet.manifest, "--yes", "--repo", "juniper-ml", "--push"
    )
    assert third.code == 0 and "pushed to origin" in third.stdout
    assert git(remote, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH) != first_tip
