"""The review loop against real git (bare remotes) and a local fake GitHub validated against GitHub's
API description: sync, apply --push --pr, pr, status, cleanup, rate limits and failures.

No test reaches the internet: GITHUB_API_URL points at the fake on 127.0.0.1, and every socket
connection is checked to go to the loopback address.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.fleet import BRANCH, OWNER
from tests.helpers import clone_state, git, rollout

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


def bare_branch(fleet, name: str, branch: str = BRANCH) -> str | None:
    out = subprocess.run(
        [
            "git",
            "--git-dir",
            str(fleet.remotes / f"{name}.git"),
            "rev-parse",
            "--verify",
            "--quiet",
            f"refs/heads/{branch}",
        ],
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() or None


def no_token(github, *results) -> None:
    for result in results:
        assert github.token not in result.stdout and github.token not in result.stderr


def apply_pr(fleet, *extra: str):
    return rollout("apply", "-m", fleet.manifest, "--yes", "--push", "--pr", *extra)


def test_apply_push_pr_opens_one_pr_per_repo_then_a_rerun_changes_nothing(loop, github):
    names = loop.names
    first = apply_pr(loop)
    assert first.code == 0, first.stdout + first.stderr
    for name in names:
        pulls = github.pulls(f"{OWNER}/{name}")
        assert len(pulls) == 1, name
        pull = pulls[0]
        assert (pull.head_owner, pull.head_ref, pull.base_ref, pull.state) == (
            OWNER,
            BRANCH,
            "main",
            "open",
        )
        assert pull.title == "chore: manage secrets with SOPS + age"
        assert "| `.sops.yaml` | create |" in pull.body
        assert f"{name}: opened #{pull.number}" in first.stdout
    second = apply_pr(loop)
    assert second.code == 0, second.stdout + second.stderr
    assert all(len(github.pulls(f"{OWNER}/{n}")) == 1 for n in names)
    for name in names:
        assert f"{name}: unchanged #{github.pulls(f'{OWNER}/{name}')[0].number}" in second.stdout
    assert not [p for p in github.paths() if p.startswith(("/repos",)) and "PATCH" in p]
    assert "PATCH" not in {m for m, _, _ in github.requests}
    no_token(github, first, second)


def test_one_connection_pool_serves_the_fleet_not_a_client_per_repo(loop, github):
    """pr and status keep their connections open across repos: at most as many as calls in flight
    (a client per repo would open one connection, and one TLS context, per repo at least)."""
    from juniper_rollout import forge

    assert apply_pr(loop).code == 0
    before, calls = github.connections, len(github.requests)
    status = rollout("status", "-m", loop.manifest)
    assert status.code == 0, status.stdout + status.stderr
    assert len(github.requests) - calls >= 3 * len(
        loop.names
    )  # an open PR: list, reviews, statuses, checks
    assert 0 < github.connections - before <= forge.CONCURRENCY < len(loop.names)


def test_ctrl_c_during_pr_on_a_fleet_starts_no_more_repos_and_reports_every_finished_one(
    loop, github
):
    """A real SIGINT while `pr` works through the fleet: the repos under way finish and are reported
    (their pull requests exist), the queued ones are never started (no pull request, no API call)."""
    import signal
    import threading

    from juniper_rollout import forge, review
    from juniper_rollout.manifest import load_manifest

    assert rollout("apply", "-m", loop.manifest, "--yes", "--push").code == 0
    manifest = load_manifest(loop.manifest, require_recipients=False)
    github.latency = 0.2  # slow enough that repos are still queued when the signal comes
    reported = []

    def interrupt_after_first(outcome):
        reported.append(outcome)
        if len(reported) == 1:
            signal.raise_signal(signal.SIGINT)  # to this (the main) thread, at once

    assert threading.current_thread() is threading.main_thread()
    # a person's process: Ctrl-C raises KeyboardInterrupt (whatever this test process inherited)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            review.open_pulls(
                manifest,
                manifest.repos,
                review.PrOptions(),
                forge=forge.connect(None),
                jobs=2,
                on_result=interrupt_after_first,
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    opened = [name for name in loop.names if github.pulls(f"{OWNER}/{name}")]
    assert [o.name for o in reported] == opened  # every PR opened was reported, in manifest order
    assert all(o.result == review.OPENED for o in reported)
    assert 2 <= len(opened) < len(loop.names)  # the one in flight beside the first finished too
    asked = {path.split("/")[3] for path in github.paths()}
    assert asked == set(opened)  # the queued repos were never started


def test_pr_finds_its_own_pr_by_owner_and_branch_not_someone_elses(loop, github):
    repo = f"{OWNER}/juniper-data"
    dependabot = github.add_pull(repo, "dependabot/pip/requests-2.32", title="Bump requests")
    assert apply_pr(loop, "--repo", "juniper-data").code == 0
    assert github.pull(repo, dependabot.number).title == "Bump requests"  # untouched
    mine = [p for p in github.pulls(repo) if p.head_ref == BRANCH]
    assert len(mine) == 1
    lists = [p for p in github.paths("GET") if p.startswith(f"/repos/{repo}/pulls?")]
    assert lists and all(f"head={OWNER}%3A" in p.replace(":", "%3A") for p in lists)


def test_pr_updates_the_body_when_the_branch_changes(loop, github):
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    repo = f"{OWNER}/juniper-ml"
    pull = github.pulls(repo)[0]
    pull.body = "edited by hand"
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 0
    assert f"juniper-ml: updated #{pull.number}" in result.stdout
    assert "| `.sops.yaml` | create |" in github.pull(repo, pull.number).body
    assert len(github.pulls(repo)) == 1


def test_a_person_closed_pr_is_not_reopened_unless_asked(loop, github):
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    repo = f"{OWNER}/juniper-ml"
    number = github.pulls(repo)[0].number
    github.close(repo, number)
    again = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert again.code == 0
    assert f"juniper-ml: closed by a person #{number}" in again.stdout
    assert github.pull(repo, number).state == "closed" and len(github.pulls(repo)) == 1
    reopened = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml", "--reopen")
    assert reopened.code == 0, reopened.stdout
    assert f"juniper-ml: updated #{number}" in reopened.stdout and "reopened" in reopened.stdout
    assert github.pull(repo, number).state == "open" and len(github.pulls(repo)) == 1


def test_a_merged_pr_is_reported_merged_and_not_reopened(loop, github):
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    repo = f"{OWNER}/juniper-ml"
    number = github.pulls(repo)[0].number
    github.merge(repo, number)
    again = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml", "--reopen")
    assert again.code == 0
    assert f"juniper-ml: merged #{number}" in again.stdout
    assert len(github.pulls(repo)) == 1 and github.pull(repo, number).merged_at


def test_a_bad_token_is_one_line_and_never_printed(loop, github, monkeypatch):
    assert (
        rollout("apply", "-m", loop.manifest, "--yes", "--push", "--repo", "juniper-ml").code == 0
    )
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_WRONGtokenWRONGtoken")
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    line = [ln for ln in result.stdout.splitlines() if ln.startswith("juniper-ml:")]
    assert line == [
        f"juniper-ml: failed  GitHub token rejected (list pull requests on {OWNER}/juniper-ml): set "
        f"GITHUB_TOKEN to a valid token with pull-requests: write on {OWNER}/juniper-ml"
    ]
    assert "ghp_WRONG" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_no_token_anywhere_is_one_line(loop, github, monkeypatch):
    monkeypatch.delenv("GITHUB_TOKEN")
    result = rollout("pr", "-m", loop.manifest)
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        "error: no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token with pull-requests: write, "
        "or log in with `gh auth login`"
    ]
    assert not github.requests


def test_gh_token_is_used_when_github_token_is_not_set(loop, github, monkeypatch):
    assert (
        rollout("apply", "-m", loop.manifest, "--yes", "--push", "--repo", "juniper-ml").code == 0
    )
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("GH_TOKEN", github.token)
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 0 and "opened" in result.stdout
    no_token(github, result)


def test_an_unknown_repository_is_404_with_what_to_do(loop, github):
    assert (
        rollout("apply", "-m", loop.manifest, "--yes", "--push", "--repo", "juniper-ml").code == 0
    )
    del github.repos[f"{OWNER}/juniper-ml".lower()]
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert (
        f"juniper-ml: failed  {OWNER}/juniper-ml not found at {github_url(github)} (list pull requests): check "
        "`github:` for this repo in the manifest, and that the token can see the repository"
    ) in result.stdout


def github_url(github) -> str:
    return f"http://127.0.0.1:{github._server.server_address[1]}"


def test_a_rejected_pull_request_is_422_with_githubs_reason(loop, github):
    assert (
        rollout("apply", "-m", loop.manifest, "--yes", "--push", "--repo", "juniper-ml").code == 0
    )
    github.inject(
        "POST",
        r"/pulls$",
        422,
        body={
            "message": "Validation Failed",
            "documentation_url": "https://docs.github.com/rest",
            "status": "422",
            "errors": [
                {
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": "base main is protected from you",
                }
            ],
        },
    )
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert (
        f"juniper-ml: failed  GitHub rejected the request to open a pull request on {OWNER}/juniper-ml "
        "(422: Validation Failed base main is protected from you)"
    ) in result.stdout


def test_a_403_without_rate_limit_says_what_permission_is_missing(loop, github):
    assert (
        rollout("apply", "-m", loop.manifest, "--yes", "--push", "--repo", "juniper-ml").code == 0
    )
    github.inject(
        "POST",
        r"/pulls$",
        403,
        body={
            "message": "Resource not accessible by personal access token",
            "documentation_url": "https://docs.github.com/rest",
            "status": "403",
        },
    )
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert (
        "(403: Resource not accessible by personal access token): the token needs pull-requests: write "
        f"(and contents: read) on {OWNER}/juniper-ml"
    ) in result.stdout


@pytest.mark.parametrize("status", [403, 429])
def test_a_secondary_rate_limit_is_waited_out_as_retry_after_says(loop, github, status, capfd):
    assert (
        rollout("apply", "-m", loop.manifest, "--yes", "--push", "--repo", "juniper-ml").code == 0
    )
    github.inject(
        "POST",
        r"/pulls$",
        status,
        headers={"Retry-After": "1"},
        body={
            "message": "You have exceeded a secondary rate limit.",
            "documentation_url": "https://docs.github.com/rest",
            "status": str(status),
        },
    )
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 0, result.stdout
    assert "opened" in result.stdout
    creates = [s for m, p, s in github.requests if m == "POST" and p.endswith("/pulls")]
    assert creates == [status, 201]
    assert (
        result.stderr == "" and "Traceback" not in capfd.readouterr().err
    )  # no retry log, no traceback


def test_a_long_rate_limit_fails_the_repo_with_when_to_come_back(loop, github):
    assert rollout("apply", "-m", loop.manifest, "--yes", "--push").code == 0
    github.inject(
        "GET",
        r"/juniper-ml/pulls$",
        403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(2**31 - 1)},
        body={
            "message": "API rate limit exceeded",
            "documentation_url": "https://docs.github.com/rest",
            "status": "403",
        },
    )
    result = rollout("pr", "-m", loop.manifest)
    assert result.code == 1
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("juniper-ml:"))
    assert line.startswith(
        f"juniper-ml: failed  GitHub rate limit hit on {OWNER}/juniper-ml (list pull requests): "
        "try again after "
    )
    assert (
        sum(1 for m, p, _ in github.requests if "/juniper-ml/pulls" in p and m == "GET") == 1
    )  # no hammering
    assert result.stdout.count("opened #") == len(loop.names) - 1


def test_a_network_error_mid_fleet_fails_that_repo_and_the_others_go_on(loop, github):
    assert rollout("apply", "-m", loop.manifest, "--yes", "--push").code == 0
    # the connection drops without an answer, and again on the one resend
    github.inject("GET", r"/juniper-data/pulls$", 0, times=2)
    result = rollout("pr", "-m", loop.manifest)
    assert result.code == 1
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("juniper-data:"))
    assert line.startswith(f"juniper-data: failed  cannot reach GitHub at {github_url(github)}")
    assert result.stdout.count("opened #") == len(loop.names) - 1
    assert "7 repos: " in result.stdout and "1 failed" in result.stdout
    assert [
        s
        for m, p, s in github.requests
        if m == "GET" and p.split("?")[0].endswith("/juniper-data/pulls")
    ] == [
        0,
        0,
    ]  # sent twice, not hammered
    no_token(github, result)


def test_a_kept_alive_connection_dropped_under_a_get_is_sent_again_once(loop, github):
    """A server or proxy closing a kept-alive connection as a request goes out on it (the client
    sees the connection close with no answer): a GET or PATCH is sent again on a new connection;
    a POST is not (it could open a second pull request)."""
    assert rollout("apply", "-m", loop.manifest, "--yes", "--push").code == 0
    github.inject("GET", r"/juniper-data/pulls$", 0)
    github.inject("POST", r"/juniper-ml/pulls$", 0)
    result = rollout("pr", "-m", loop.manifest)
    assert result.code == 1
    assert "juniper-data: opened #" in result.stdout
    sent = [
        s
        for m, p, s in github.requests
        if m == "GET" and p.split("?")[0].endswith("/juniper-data/pulls")
    ]
    assert sent[:2] == [0, 200]
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("juniper-ml:"))
    assert line.startswith(f"juniper-ml: failed  cannot reach GitHub at {github_url(github)}")
    assert [m for m, p, _ in github.requests if p.endswith("/juniper-ml/pulls")].count("POST") == 1
    assert not github.pulls(f"{OWNER}/juniper-ml")
    no_token(github, result)


def test_pr_without_a_pushed_branch_says_push_first(loop, github):
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 0
    assert (
        "juniper-ml: not pushed  origin has no chore/sops-age-rollout; run `rollout apply --push "
        f"--manifest {loop.manifest} --repo juniper-ml` first" in result.stdout
    )
    assert not github.pulls(f"{OWNER}/juniper-ml")


def test_labels_reviewers_draft_and_title_from_the_manifest(loop, github):
    text = loop.manifest.read_text().replace(
        "defaults:\n",
        "defaults:\n  pull_request:\n    title: 'Secrets: SOPS + age'\n    body: Part of the fleet rollout.\n"
        "    labels: [security, rollout]\n    reviewers: [alice]\n",
        1,
    )
    loop.manifest.write_text(text)
    assert (
        rollout("apply", "-m", loop.manifest, "--yes", "--push", "--repo", "juniper-ml").code == 0
    )
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml", "--draft")
    assert result.code == 0, result.stdout + result.stderr
    pull = github.pulls(f"{OWNER}/juniper-ml")[0]
    assert pull.title == "Secrets: SOPS + age" and pull.draft
    assert pull.body.startswith("Part of the fleet rollout.\n")
    assert pull.labels == ["security", "rollout"] and pull.reviewers == ["alice"]


def test_status_shows_branch_pr_review_checks_next_step_and_the_fleet_line(loop, github):
    assert apply_pr(loop).code == 0
    ml, data, cascor = (f"{OWNER}/{n}" for n in ("juniper-ml", "juniper-data", "juniper-cascor"))
    github.merge(ml, github.pulls(ml)[0].number)
    data_pull = github.pulls(data)[0]
    sha = github.repo(data).sha(BRANCH)
    github.repo(data).statuses[sha] = [("ci/tests", "success")]
    github.repo(data).checks[sha] = [("lint", "completed", "failure")]
    cascor_pull = github.pulls(cascor)[0]
    cascor_pull.reviews = [("bob", "CHANGES_REQUESTED"), ("bob", "APPROVED")]
    csha = github.repo(cascor).sha(BRANCH)
    github.repo(cascor).checks[csha] = [("tests", "completed", "success")]
    result = rollout("status", "-m", loop.manifest, "--json")
    assert result.code == 0, result.stderr
    data_json = json.loads(result.stdout)
    rows = {r["name"]: r for r in data_json["repos"]}
    assert (data_json["merged"], data_json["total"]) == (1, 7)
    assert rows["juniper-ml"]["pr_state"] == "merged"
    assert (
        rows["juniper-ml"]["next"]
        == f"merged — run `rollout cleanup --manifest {loop.manifest} --repo juniper-ml`"
    )
    assert (
        rows["juniper-data"]["pr"],
        rows["juniper-data"]["checks"],
        rows["juniper-data"]["next"],
    ) == (data_pull.number, "failing", "checks failing")
    assert (
        rows["juniper-cascor"]["review"],
        rows["juniper-cascor"]["checks"],
        rows["juniper-cascor"]["next"],
    ) == ("approved", "passing", "approved — merge it")
    assert (
        rows["juniper-deploy"]["next"] == "waiting for review"
        and rows["juniper-deploy"]["branch"] == "pushed"
    )
    table = rollout("status", "-m", loop.manifest)
    assert table.code == 0 and table.stdout.strip().endswith("1 of 7 merged")
    no_token(github, result, table)


def test_status_says_when_the_base_moved(loop, github):
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    repo = loop.repo("juniper-ml")
    other = subprocess.run(
        ["git", "-C", str(repo), "commit-tree", "main^{tree}", "-p", "main", "-m", "more"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(repo, "push", "-q", "origin", f"{other}:refs/heads/main")
    git(repo, "fetch", "-q", "origin")
    row = json.loads(
        rollout("status", "-m", loop.manifest, "--json", "--repo", "juniper-ml").stdout
    )["repos"][0]
    assert (row["branch"], row["next"]) == (
        "behind base",
        f"rebase: base moved (`rollout apply --push --manifest {loop.manifest} --repo juniper-ml`)",
    )


def test_cleanup_deletes_only_merged_branches_locally_and_on_origin(loop, github):
    assert apply_pr(loop).code == 0
    ml = f"{OWNER}/juniper-ml"
    github.merge(ml, github.pulls(ml)[0].number)
    states = {n: clone_state(loop.repo(n)) for n in loop.names}
    result = rollout("cleanup", "-m", loop.manifest)
    assert result.code == 0, result.stdout
    assert "juniper-ml: deleted" in result.stdout
    assert "juniper-data: kept" in result.stdout and "--force" in result.stdout
    assert not git(loop.repo("juniper-ml"), "branch", "--list", BRANCH).strip()
    assert bare_branch(loop, "juniper-ml") is None
    assert git(loop.repo("juniper-data"), "branch", "--list", BRANCH).strip()
    assert bare_branch(loop, "juniper-data") is not None
    assert states == {n: clone_state(loop.repo(n)) for n in loop.names}
    forced = rollout("cleanup", "-m", loop.manifest, "--repo", "juniper-data", "--force")
    assert forced.code == 0 and "juniper-data: deleted" in forced.stdout
    assert bare_branch(loop, "juniper-data") is None


def test_cleanup_refuses_a_branch_checked_out_in_a_worktree(loop, github, tmp_path):
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    ml = f"{OWNER}/juniper-ml"
    github.merge(ml, github.pulls(ml)[0].number)
    git(loop.repo("juniper-ml"), "worktree", "add", "-q", str(tmp_path / "wt"), BRANCH)
    result = rollout("cleanup", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert f"juniper-ml: failed  {BRANCH} is checked out in {tmp_path / 'wt'}" in result.stdout
    assert git(loop.repo("juniper-ml"), "branch", "--list", BRANCH).strip()


def test_sync_clones_missing_repos_and_fetches_the_others(loop, github):
    import shutil

    shutil.rmtree(loop.repo("juniper-ml"))
    data = loop.repo("juniper-data")
    other = subprocess.run(
        ["git", "-C", str(data), "commit-tree", "main^{tree}", "-p", "main", "-m", "upstream"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(data, "push", "-q", "origin", f"{other}:refs/heads/main")
    git(data, "update-ref", "refs/remotes/origin/main", "main")  # as if someone else pushed it
    states = {n: clone_state(loop.repo(n)) for n in loop.names if n != "juniper-ml"}
    result = rollout("sync", "-m", loop.manifest)
    assert result.code == 0, result.stdout + result.stderr
    assert f"juniper-ml: cloned  from {loop.remotes / 'juniper-ml.git'}" in result.stdout
    assert (
        "juniper-data: fetched  1 new commit; local main is 1 behind origin/main; plan builds on origin/main"
        in result.stdout
    )
    assert "juniper-cascor: up to date" in result.stdout
    assert git(data, "rev-parse", "origin/main").strip() == other
    assert states == {n: clone_state(loop.repo(n)) for n in loop.names if n != "juniper-ml"}
    assert (loop.repo("juniper-ml") / ".git").is_dir()


def test_sync_failure_in_one_repo_leaves_the_others(loop, github):
    git(loop.repo("juniper-data"), "remote", "set-url", "origin", str(loop.root / "nowhere.git"))
    result = rollout("sync", "-m", loop.manifest)
    assert result.code == 1
    assert "juniper-data: failed  git fetch failed" in result.stdout
    assert result.stdout.count(": up to date\n") == len(loop.names) - 1


def test_a_github_entry_that_is_not_owner_name_is_one_line(loop, github):
    loop.manifest.write_text(
        loop.manifest.read_text().replace(f"github: {OWNER}/juniper-ml", "github: juniper-ml")
    )
    result = rollout("status", "-m", loop.manifest)
    assert result.code == 1
    assert "repo juniper-ml.github 'juniper-ml' is not OWNER/NAME" in result.stderr
    assert not github.requests


def test_the_whole_review_loop_on_the_demo_fleet(loop, github):
    """The issue's done-when: sync, plan, apply --push --pr, a re-run, a rotation, merges, status, cleanup."""
    import shutil

    import pyrage

    names = loop.names
    shutil.rmtree(loop.repo("juniper-ml"))  # a repo missing from the workspace: sync clones it
    synced = rollout("sync", "-m", loop.manifest)
    assert synced.code == 0 and "juniper-ml: cloned" in synced.stdout
    planned = rollout("plan", "-m", loop.manifest, "--detailed-exitcode")
    assert planned.code == 2 and "(origin/main → chore/sops-age-rollout)" in planned.stdout
    first = apply_pr(loop)
    assert first.code == 0, first.stdout + first.stderr
    assert first.stdout.count(": opened #") == 7
    assert all(len(github.pulls(f"{OWNER}/{n}")) == 1 for n in names)

    again = apply_pr(loop)
    assert again.code == 0
    assert (
        "7 repos: 7 already up to date" in again.stdout and again.stdout.count(": unchanged #") == 7
    )
    assert "PATCH" not in {m for m, _, _ in github.requests}

    bodies = {n: github.pulls(f"{OWNER}/{n}")[0].body for n in names}
    new_key = pyrage.x25519.Identity.generate().to_public()
    assert rollout("rotate", "-m", loop.manifest, "--add", str(new_key)).code == 0
    replan = rollout("plan", "-m", loop.manifest, "--detailed-exitcode")
    assert replan.code == 2 and str(new_key) in replan.stdout
    changed = {
        ln.split()[0]
        for ln in replan.stdout.splitlines()
        if ln.startswith("  ")
        and len(ln.split()) > 1
        and ln.split()[1] in ("create", "update", "delete")
    }
    # only the recipient change: the rules, the re-keyed ciphertext, the guide's list of recipients
    assert changed == {".sops.yaml", ".env.enc", "notes/SOPS_USAGE_GUIDE.md"}, replan.stdout
    tips = {n: git(loop.repo(n), "rev-parse", BRANCH).strip() for n in names}
    rotated = apply_pr(loop)
    assert rotated.code == 0, rotated.stdout + rotated.stderr
    assert rotated.stdout.count("; a new commit on top") == 7
    assert rotated.stdout.count(": updated #") == 7
    for name in names:
        pull = github.pulls(f"{OWNER}/{name}")[0]
        assert pull.body != bodies[name] and len(github.pulls(f"{OWNER}/{name}")) == 1
        assert bare_branch(loop, name) == git(loop.repo(name), "rev-parse", BRANCH).strip()
        assert (
            git(loop.repo(name), "rev-parse", f"{BRANCH}^").strip() == tips[name]
        )  # one commit on top

    for name in names[:3]:
        github.merge(f"{OWNER}/{name}", github.pulls(f"{OWNER}/{name}")[0].number)
    status = rollout("status", "-m", loop.manifest)
    assert status.code == 0 and status.stdout.strip().endswith("3 of 7 merged")
    rows = {
        r["name"]: r
        for r in json.loads(rollout("status", "-m", loop.manifest, "--json").stdout)["repos"]
    }
    assert [
        n
        for n in names
        if rows[n]["next"]
        == f"merged — run `rollout cleanup --manifest {loop.manifest} --repo {n}`"
    ] == names[:3]
    cleaned = rollout("cleanup", "-m", loop.manifest)
    assert cleaned.code == 0, cleaned.stdout
    for name in names[:3]:
        assert f"{name}: deleted" in cleaned.stdout
        assert (
            bare_branch(loop, name) is None
            and not git(loop.repo(name), "branch", "--list", BRANCH).strip()
        )
    for name in names[3:]:
        assert f"{name}: kept" in cleaned.stdout and bare_branch(loop, name) is not None
    after = rollout("status", "-m", loop.manifest, "--json")
    rows = {r["name"]: r for r in json.loads(after.stdout)["repos"]}
    for name in names[:3]:
        assert (rows[name]["branch"], rows[name]["next"]) == (
            "absent",
            f"merged — nothing left (`rollout plan --manifest {loop.manifest} --repo {name}` confirms)",
        )
    assert rollout("sync", "-m", loop.manifest).code == 0
    clean = rollout(
        "plan", "-m", loop.manifest, "--detailed-exitcode", *(f"--repo={n}" for n in names[:3])
    )
    assert clean.code == 0, (
        clean.stdout
    )  # what status said: merged, and the plan confirms nothing is left
    no_token(github, synced, planned, first, again, replan, rotated, status, cleaned, after, clean)
    import os

    token = github.token.encode()
    for top in (
        loop.root,
        Path(os.environ["HOME"]),
    ):  # never written anywhere: clones, remotes, caches, logs
        written = [
            p
            for p in top.rglob("*")
            if p.is_file() and not p.is_symlink() and token in p.read_bytes()
        ]
        assert not written, written


def test_the_fake_checks_requests_and_answers_against_githubs_description(github):
    import httpx

    github.add_repo(f"{OWNER}/x")
    headers = {"Authorization": f"token {github.token}"}
    base = github_url(github)
    with httpx.Client(base_url=base, headers=headers) as client:
        client.post(
            f"/repos/{OWNER}/x/pulls",
            json={"head": f"{OWNER}:b", "base": "main", "draft": "yes please"},
        )
        client.get(f"/repos/{OWNER}/x/pulls", params={"head_branch": "b"})
        client.get(f"/repos/{OWNER}/x/pull-requests")
        github.inject("GET", r"/pulls/1$", 200, body={"number": "one"})
        client.get(f"/repos/{OWNER}/x/pulls/1")
    found = list(github.violations)
    github.violations.clear()  # seen here; the fixture would fail the test on them
    assert any(
        "pulls/create: request body does not fit ReposOwnerRepoPullsPostBody" in v and "draft" in v
        for v in found
    )
    assert any(
        "pulls/list: query parameters ['head_branch'] are not in the description" in v
        for v in found
    )
    assert any(f"GET /repos/{OWNER}/x/pull-requests: no such operation" in v for v in found)
    assert any("pulls/get: 200 response does not fit PullRequest" in v for v in found)


def test_the_token_comes_from_gh_when_no_variable_is_set(loop, github, monkeypatch, tmp_path):
    assert (
        rollout("apply", "-m", loop.manifest, "--yes", "--push", "--repo", "juniper-ml").code == 0
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"  # a stand-in for the GitHub CLI: `gh auth token` prints the logged-in token
    gh.write_text(
        f'#!/bin/sh\n[ "$1 $2" = "auth token" ] && echo {github.token} && exit 0\nexit 1\n'
    )
    gh.chmod(0o755)
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 0 and "juniper-ml: opened #1" in result.stdout, (
        result.stdout + result.stderr
    )
    no_token(github, result)


def test_status_with_a_rejected_token_is_one_line_per_repo_and_exit_1(loop, github, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_NOTVALIDnotvalid")
    result = rollout("status", "-m", loop.manifest, "--json")
    assert result.code == 1
    rows = json.loads(result.stdout)["repos"]
    assert all(r["error"].startswith("GitHub token rejected (list pull requests on ") for r in rows)
    assert "ghp_NOTVALID" not in result.stdout + result.stderr


def test_githubs_token_never_goes_to_a_host_only_the_manifest_names(loop, github, monkeypatch):
    """`forge.api_url` in the manifest (not `$GITHUB_API_URL`, the user's own) received `$GITHUB_TOKEN`,
    github.com's token, at whatever host it named (pass 20d). As gh does, that host's token comes from
    GH_ENTERPRISE_TOKEN (or gh's token for the host); GITHUB_TOKEN still serves an API the environment
    itself names."""
    api = os.environ["GITHUB_API_URL"]
    monkeypatch.delenv("GITHUB_API_URL")
    loop.manifest.write_text(
        loop.manifest.read_text().replace(
            "defaults:\n", f"forge: {{api_url: '{api}'}}\ndefaults:\n", 1
        )
    )
    result = rollout("status", "-m", loop.manifest)
    assert result.code == 1
    assert github.requests == []  # nothing sent, so no token either
    assert (
        "no token for 127.0.0.1 (the manifest's forge.api_url): GITHUB_TOKEN is github.com's and is "
        "not sent there; set GH_ENTERPRISE_TOKEN" in result.stderr
    ), result.stderr
    assert github.token not in result.stdout + result.stderr
    monkeypatch.setenv("GH_ENTERPRISE_TOKEN", github.token)
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_NOTVALIDnotvalid")
    assert rollout("status", "-m", loop.manifest).code == 0
    assert github.requests  # the host's own token was sent and taken
    monkeypatch.delenv("GH_ENTERPRISE_TOKEN")
    monkeypatch.setenv("GITHUB_TOKEN", github.token)
    monkeypatch.setenv("GITHUB_API_URL", api)  # the environment names the API: its token goes there
    assert rollout("status", "-m", loop.manifest).code == 0


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "forge: {api_url: github.example.com}\n",
            "forge.api_url 'github.example.com' is not an http(s) URL (e.g. https://github.example.com/api/v3)",
        ),
        ("forge: {url: https://x}\n", "unknown key 'url' in forge (allowed: api_url)"),
    ],
)
def test_forge_settings_are_checked_with_file_and_line(loop, github, text, message):
    loop.manifest.write_text(
        loop.manifest.read_text().replace("defaults:\n", text + "defaults:\n", 1)
    )
    result = rollout("status", "-m", loop.manifest)
    assert result.code == 1 and message in result.stderr and f"{loop.manifest}:" in result.stderr
    assert not github.requests


def test_forge_api_url_from_the_manifest_is_used_when_github_api_url_is_unset(
    loop, github, monkeypatch
):
    url = github_url(github)
    monkeypatch.delenv("GITHUB_API_URL")
    monkeypatch.setenv("GH_ENTERPRISE_TOKEN", github.token)  # that host's token, as gh reads it
    loop.manifest.write_text(
        loop.manifest.read_text().replace(
            "defaults:\n", f"forge: {{api_url: {url}}}\ndefaults:\n", 1
        )
    )
    result = rollout("status", "-m", loop.manifest, "--repo", "juniper-ml", "--json")
    assert result.code == 0, result.stderr
    assert github.requests  # it went to the fake, not to api.github.com


def test_owner_and_name_come_from_url_or_origin_when_github_is_not_set():
    from juniper_rollout.forge import slug, slug_from_url

    assert slug_from_url("https://github.com/pcalnon/juniper-data.git") == "pcalnon/juniper-data"
    assert slug_from_url("git@github.com:pcalnon/juniper-data.git") == "pcalnon/juniper-data"
    assert slug_from_url("ssh://git@github.example.com/team/repo") == "team/repo"
    assert slug_from_url("https://user:secret@github.com/o/n") == "o/n"
    assert (
        slug_from_url("/srv/git/repo.git") is None
        and slug_from_url("file:///srv/git/repo.git") is None
    )
    assert slug(None, "/local/path", "git@github.com:o/from-origin.git", "x") == "o/from-origin"
    assert slug("o/explicit", "https://github.com/o/url", None, "x") == "o/explicit"


@pytest.mark.parametrize("reset_in", [1, -5], ids=["soon", "already passed"])
def test_a_primary_rate_limit_that_resets_soon_is_waited_out(loop, github, reset_in, monkeypatch):
    import time
    from types import SimpleNamespace

    import githubkit.core

    waits: list[
        float
    ] = []  # githubkit's sleeps before a retry: a reset that passed is no 60 s wait

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(githubkit.core, "time", SimpleNamespace(sleep=sleep))
    assert (
        rollout("apply", "-m", loop.manifest, "--yes", "--push", "--repo", "juniper-ml").code == 0
    )
    github.inject(
        "GET",
        r"/pulls$",
        403,
        headers={
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(time.time()) + reset_in),
        },
        body={
            "message": "API rate limit exceeded",
            "documentation_url": "https://docs.github.com/rest",
            "status": "403",
        },
    )
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 0 and "juniper-ml: opened #1" in result.stdout, result.stdout
    assert [s for m, p, s in github.requests if m == "GET" and "/pulls?" in p] == [403, 200]
    assert len(waits) == 1 and 0 < waits[0] <= 1, waits


def test_requests_to_github_run_in_a_bounded_parallel_pool(loop, github):
    assert rollout("apply", "-m", loop.manifest, "--yes", "--push").code == 0
    github.latency = 0.2  # each answer takes a while: calls one after another would never overlap
    result = rollout("pr", "-m", loop.manifest)
    assert result.code == 0 and result.stdout.count("opened #") == 7
    assert 2 <= github.max_in_flight <= 4  # the README's bound: at most 4 requests in flight


def test_what_a_person_adds_below_the_tools_part_of_the_body_is_kept(loop, github):
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    repo = f"{OWNER}/juniper-ml"
    pull = github.pulls(repo)[0]
    pull.body = pull.body + "Reviewer note: merge after the release.\n"
    assert (
        rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml").stdout.count("unchanged #1") == 1
    )
    pull.body = pull.body.replace("| create |", "| typo |", 1)
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert "juniper-ml: updated #1  body" in result.stdout
    assert "| typo |" not in pull.body and pull.body.endswith(
        "-->\nReviewer note: merge after the release.\n"
    )


def test_a_repo_whose_github_repository_cannot_be_told_is_one_line(loop, github):
    loop.manifest.write_text(
        loop.manifest.read_text().replace(f"    github: {OWNER}/juniper-ml\n", "")
    )
    result = rollout(
        "pr", "-m", loop.manifest, "--repo", "juniper-ml"
    )  # url: and origin are local paths
    assert result.code == 1
    assert (
        "juniper-ml: failed  cannot tell which GitHub repository juniper-ml is: add `github: OWNER/NAME` to its "
        "manifest entry"
    ) in result.stdout


def test_pr_needs_push(loop, github):
    result = rollout("apply", "-m", loop.manifest, "--yes", "--pr")
    assert result.code == 1
    assert (
        result.stderr.strip()
        == "error: --pr needs --push (a pull request needs the branch on origin)"
    )
    assert (
        not git(loop.repo("juniper-ml"), "branch", "--list", BRANCH).strip() and not github.requests
    )


def test_status_shows_a_draft_and_a_person_closed_pr(loop, github):
    assert rollout("apply", "-m", loop.manifest, "--yes", "--push").code == 0
    assert rollout("pr", "-m", loop.manifest, "--draft").code == 0
    github.close(f"{OWNER}/juniper-data", 1)
    rows = {
        r["name"]: r
        for r in json.loads(rollout("status", "-m", loop.manifest, "--json").stdout)["repos"]
    }
    assert rows["juniper-ml"]["pr_state"] == "draft"
    assert (rows["juniper-data"]["pr_state"], rows["juniper-data"]["next"]) == (
        "closed",
        f"closed by a person (`rollout pr --reopen --manifest {loop.manifest} --repo juniper-data`)",
    )


def test_status_of_a_branch_not_pushed_and_of_none_at_all(loop, github):
    assert rollout("apply", "-m", loop.manifest, "--yes", "--repo", "juniper-ml").code == 0
    rows = {
        r["name"]: r
        for r in json.loads(rollout("status", "-m", loop.manifest, "--json").stdout)["repos"]
    }
    assert (rows["juniper-ml"]["branch"], rows["juniper-ml"]["pr"], rows["juniper-ml"]["next"]) == (
        "local only",
        None,
        f"push: `rollout apply --push --manifest {loop.manifest} --repo juniper-ml`",
    )
    assert (rows["juniper-data"]["branch"], rows["juniper-data"]["next"]) == (
        "absent",
        f"run `rollout apply --push --pr --manifest {loop.manifest} --repo juniper-data`",
    )


def test_sync_without_a_clone_or_a_url_fails_that_repo_only(loop, github):
    import shutil

    shutil.rmtree(loop.repo("juniper-ml"))
    loop.manifest.write_text(
        re.sub(
            r"(  - name: juniper-ml.*\n    github: .*\n)    url: .*\n",
            r"\1",
            loop.manifest.read_text(),
        )
    )
    result = rollout("sync", "-m", loop.manifest)
    assert result.code == 1
    assert (
        f"juniper-ml: failed  no clone at {loop.repo('juniper-ml')} and no `url:` to clone it from (add `url:`)"
        in result.stdout
    )
    assert result.stdout.count(": up to date\n") == len(loop.names) - 1


def test_a_named_rollout_has_its_own_pull_requests_next_to_the_sops_ones(loop, github):
    """The review loop of a second rollout: its own branch and PR per repo, status and cleanup by --rollout."""
    text = loop.manifest.read_text().replace(
        "defaults:\n", "defaults:\n  pull_request: {title: SOPS time, labels: [fleet]}\n", 1
    )
    loop.manifest.write_text(text)
    assert apply_pr(loop, "--repo", "juniper-data").code == 0
    hygiene = apply_pr(loop, "--repo", "juniper-data", "--rollout", "repo-hygiene")
    assert hygiene.code == 0, hygiene.stdout + hygiene.stderr
    pulls = {p.head_ref: p for p in github.pulls(f"{OWNER}/juniper-data")}
    assert set(pulls) == {BRANCH, "chore/repo-hygiene"}
    mine = pulls["chore/repo-hygiene"]
    assert (
        mine.title.startswith("chore: fleet repo hygiene")
        and "| `.github/dependabot.yml` | create |" in mine.body
    )
    assert pulls[BRANCH].title == "SOPS time" and ".sops.yaml" not in mine.body
    status = rollout(
        "status",
        "-m",
        loop.manifest,
        "--repo",
        "juniper-data",
        "--rollout",
        "repo-hygiene",
        "--json",
    )
    rows = json.loads(status.stdout)["repos"]
    assert status.code == 0 and [(r["branch"], r["pr"]) for r in rows] == [("pushed", mine.number)]
    assert mine.number != pulls[BRANCH].number
    no_token(github, hygiene, status)
