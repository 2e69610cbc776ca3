"""Pass 7 of the outside adversary (issue 13): each test failed on main before its fix.

The attempts, held and broken, are logged in the pass-7 log; SECURITY.md lists each guarantee.
Emphasis of this pass: the review loop (a hostile or broken GitHub), named rollouts, and the code
this session added (drift's refs outside every commit, the saved plan's re-check at apply).
"""

from __future__ import annotations

import base64
import http.server
import json
import re
import subprocess
import threading

import pytest

from tests import github_api
from tests.helpers import git, rollout
from tests.test_pass3 import BRANCH, main_moves_to
from tests.test_review import OWNER, apply_pr, bare_branch

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

# --- named rollouts never write the SOPS rollout's files, nor share its branch -----------------------

X_ROLLOUT = """  x:
    vars: {{code_owners: ["@a"]}}
{branch}    files:
      - {{path: {path}, template: CODEOWNERS.j2{kind}}}
"""


def _with_rollout(fleet, path: str = "X.md", kind: str = "", branch: str = "") -> str:
    text = fleet.manifest.read_text()
    block = X_ROLLOUT.format(
        path=path,
        kind=f", kind: {kind}" if kind else "",
        branch=f"    branch: {branch}\n" if branch else "",
    )
    fleet.manifest.write_text(text.replace("rollouts:\n", "rollouts:\n" + block, 1))
    return text


@pytest.mark.parametrize(
    "path, kind, says",
    [
        (".env.enc", "", ".env.enc belongs to the SOPS rollout alone"),
        ("svc/prod.env.ENC", "", "svc/prod.env.ENC belongs to the SOPS rollout alone"),
        (".sops.yaml", "", ".sops.yaml belongs to the SOPS rollout alone"),
        (".gitignore", "", ".gitignore holds the SOPS rollout's part and the person's"),
        (".pre-commit-config.yaml", "", ".pre-commit-config.yaml holds the SOPS rollout's part"),
        ("AGENTS.md", "", "AGENTS.md holds the SOPS rollout's part and the person's"),
    ],
)
def test_a_named_rollout_never_renders_the_sops_rollouts_ciphertext_rules_or_shared_files(
    fleet, path, kind, says
):
    """`files: - path: .env.enc` in another rollout planned "update .env.enc" with a template's text
    over the committed ciphertext (the only copy of the secrets in git: gone when the PR merges), and
    `.sops.yaml` / a whole `.gitignore` the same way; README says they belong to the SOPS rollout."""
    _with_rollout(fleet, path, kind)
    text = fleet.manifest.read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if f"path: {path}," in t)
    result = rollout("plan", "-m", fleet.manifest, "--rollout", "x", "--repo", "juniper-cascor")
    assert result.code == 1, result.stdout
    assert f"repos.yaml:{line}: rollout x: {says}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_named_rollout_may_still_own_a_block_in_a_shared_file(fleet):
    _with_rollout(fleet, ".gitignore", "block")
    result = rollout("plan", "-m", fleet.manifest, "--rollout", "x", "--repo", "juniper-ml")
    assert result.code in (0, 2), result.stderr
    assert "x block from CODEOWNERS.j2" in result.stdout


@pytest.mark.parametrize(
    "branch, says",
    [
        ("chore/sops-age-rollout", "branch 'chore/sops-age-rollout' is the SOPS rollout's too"),
        ("chore/repo-hygiene", "branch 'chore/repo-hygiene' is rollout x's too"),
    ],
)
def test_two_rollouts_never_share_a_branch(fleet, branch, says):
    """A rollout on the SOPS rollout's branch added its commit on top of the SOPS commits, and the next
    rebuild of either dropped the other's files: two PRs in one, flipping with every apply."""
    _with_rollout(fleet, branch=branch)
    result = rollout(
        "apply", "-m", fleet.manifest, "--rollout", "x", "--repo", "juniper-ml", "--yes"
    )
    assert result.code == 1 and says in result.stderr, result.stdout + result.stderr
    assert not git(fleet.repo("juniper-ml"), "branch", "--list", "chore/x")


def test_the_shipped_hygiene_rollout_never_shadows_a_persons_codeowners_or_dependabot_yaml(
    fleet, tmp_path
):
    """GitHub reads .github/CODEOWNERS before a root or docs/ one: the create-only CODEOWNERS made a
    person's root file (`/src/ @alice`) stop applying once merged; a .yml next to their .yaml too."""
    repo = fleet.repo("juniper-ml")
    files = {"CODEOWNERS": "* @ml-team/owners\n/src/ @alice\n"}
    files[".github/dependabot.yaml"] = "version: 2\nupdates: []\n"
    main_moves_to(repo, files, tmp_path)
    result = rollout(
        "plan", "-m", fleet.manifest, "--rollout", "repo-hygiene", "--repo", "juniper-ml"
    )
    assert result.code in (0, 2), result.stderr
    lines = {ln.split()[0]: ln for ln in result.stdout.splitlines() if ln.startswith("  .")}
    assert "skip" in lines[".github/CODEOWNERS"] and "when: missing CODEOWNERS" in result.stdout
    assert "skip" in lines[".github/dependabot.yml"]
    assert "when: missing .github/dependabot.yaml" in result.stdout


# --- a saved plan's ciphertext is checked like sops' own hook checks it ------------------------------


def test_a_saved_plans_ciphertext_carrying_a_plaintext_line_is_refused(fleet, tmp_path):
    """Files marked encrypted skip the plaintext-value check; a hand-edited plan whose `.env.enc`
    (real ciphertext) gained `LEAKED=<a value of .env>` before its sops lines was committed."""
    saved = tmp_path / "plan.json"
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert rollout("plan", *only, "--out", saved).code in (0, 2)
    data = json.loads(saved.read_text())
    env = (fleet.repo("juniper-cascor") / ".env").read_text().splitlines()
    value = next(line.split("=", 1)[1] for line in env if "=" in line and len(line) > 20)
    entry = next(f for f in data["repos"][0]["files"] if f["path"] == ".env.enc")
    lines = base64.b64decode(entry["content"]).decode().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("sops_"))
    lines.insert(at, f"LEAKED={value}\n")
    entry["content"] = base64.b64encode("".join(lines).encode()).decode()
    saved.write_text(json.dumps(data))
    result = rollout("apply", str(saved), *only, "--yes")
    assert result.code == 1
    assert f".env.enc:{at + 1} holds a value sops did not encrypt" in result.stdout
    assert not git(fleet.repo("juniper-cascor"), "branch", "--list", BRANCH)


# --- drift follows a tag chain to its end ----------------------------------------------------------


def test_drift_finds_a_plaintext_env_file_behind_a_long_chain_of_tags(fleet):
    """The peel of outside_commits stopped after 20 tags: 21 annotated tags in front of a tree
    holding `backend/prod.env` gave "0 findings"."""
    repo = fleet.repo("juniper-ml")

    def plumb(*args: str, data: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], input=data, capture_output=True, text=True, check=True
        ).stdout.strip()

    blob = plumb("hash-object", "-w", "--stdin", data="DB_PASSWORD=s3cr3t-value-here\n")
    tree = plumb("mktree", data=f"100644 blob {blob}\tprod.env\n")
    obj = plumb("mktree", data=f"040000 tree {tree}\tbackend\n")
    for i in range(25):
        kind = "tree" if i == 0 else "tag"
        obj = plumb(
            "mktag", data=f"object {obj}\ntype {kind}\ntag t{i}\ntagger a <a@b> 0 +0000\n\nx\n"
        )
    git(repo, "update-ref", "refs/tags/deep", obj)
    result = rollout("drift", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert "backend/prod.env in the tree refs/tags/deep points at" in result.stdout, result.stdout


# --- the review loop against a hostile or broken GitHub ------------------------------------------


def test_a_token_that_githubs_message_repeats_is_never_printed(loop, github):
    """explain() copied GitHub's message into the `failed` line: a proxy (or a hostile API) that echoes
    the request's `Authorization` header put the token in the terminal and the CI log."""
    github.inject(
        "GET",
        r"/pulls$",
        422,
        body={
            "message": f"proxy saw Authorization: token {github.token}",
            "documentation_url": "https://docs.github.com/rest",
            "errors": [{"resource": "PullRequest", "code": "custom", "message": github.token}],
        },
        times=3,
    )
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 1 and "GitHub rejected the request" in result.stdout
    assert "proxy saw Authorization: token ***" in result.stdout
    assert github.token not in result.stdout + result.stderr


def test_a_plain_http_github_api_url_from_the_environment_is_refused(loop, github, monkeypatch):
    """Pass 6 refused `forge.api_url: http://…`; `$GITHUB_API_URL`, which overrides it, was not
    checked: the token went in clear to the host it names."""
    monkeypatch.setenv("GITHUB_API_URL", "http://ghe.example.com/api/v3")
    for command in ("status", "pr", "cleanup"):
        result = rollout(command, "-m", loop.manifest, "--repo", "juniper-ml")
        assert result.code == 1, result.stdout
        assert "GitHub API URL 'http://ghe.example.com/api/v3' is not https" in result.stderr
    assert not github.requests


def test_a_pr_merged_in_an_earlier_round_does_not_hide_the_new_commits(loop, github):
    """After a merged PR and `cleanup`, a key rotation pushed the branch again: `pr` said "merged #1"
    (the newest PR for OWNER:BRANCH), status said "run cleanup", cleanup kept it: never reviewed."""
    import pyrage

    full = f"{OWNER}/juniper-ml"
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    github.merge(full, github.pulls(full)[0].number)
    assert rollout("sync", "-m", loop.manifest, "--repo", "juniper-ml").code == 0
    assert "deleted" in rollout("cleanup", "-m", loop.manifest, "--repo", "juniper-ml").stdout
    key = str(pyrage.x25519.Identity.generate().to_public())
    assert rollout("rotate", "-m", loop.manifest, "--add", key).code == 0
    again = apply_pr(loop, "--repo", "juniper-ml")
    assert again.code == 0 and "juniper-ml: opened #2" in again.stdout, again.stdout
    assert [(p.number, p.state) for p in github.pulls(full)] == [(1, "closed"), (2, "open")]
    status = rollout("status", "-m", loop.manifest, "--repo", "juniper-ml", "--json")
    row = json.loads(status.stdout)["repos"][0]
    assert (row["pr"], row["pr_state"]) == (2, "open")
    # the round that was merged is still reported merged while nothing new is on the branch
    github.merge(full, 2)
    assert (
        "juniper-ml: merged #2" in rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml").stdout
    )


def test_status_reads_every_page_of_check_runs(loop, github):
    """Only the first 100 check runs were read: a failing run on page 2 and an approval made status
    say "approved — merge it" with checks "passing"."""
    full = f"{OWNER}/juniper-ml"
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    github.pulls(full)[0].reviews.append(("reviewer", "APPROVED"))
    sha = github.repo(full).sha(BRANCH)
    github.repo(full).checks[sha] = [("job-100", "completed", "failure")]  # what page 2 holds
    page_one = [
        github_api.filled(
            "CheckRun",
            {"id": i + 1, "name": f"job-{i}", "status": "completed", "conclusion": "success"}
            | {"head_sha": sha},
        )
        for i in range(100)
    ]
    body = {"total_count": 101, "check_runs": page_one}
    github.inject("GET", r"/check-runs$", 200, body=body, times=1)
    result = rollout("status", "-m", loop.manifest, "--repo", "juniper-ml", "--json")
    row = json.loads(result.stdout)["repos"][0]
    assert (row["checks"], row["next"]) == ("failing", "checks failing"), row


def test_a_pr_body_a_person_rewrote_is_kept(loop, github):
    """The tool keeps what a person adds below its marker; a body a person rewrote (marker gone) was
    replaced whole by the tool's table at the next `pr`: their text lost. Now it is kept below the
    table (and so below the marker: kept at every later run too)."""
    full = f"{OWNER}/juniper-ml"
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    mine = "Reviewer notes: DO NOT MERGE before Friday (ops ticket 42)."
    github.pulls(full)[0].body = mine
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 0
    assert "updated #1  body (a person's text kept below the table)" in result.stdout
    body = github.pulls(full)[0].body
    assert "| `.sops.yaml` | create |" in body and body.endswith(mine)
    again = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert "unchanged #1" in again.stdout and github.pulls(full)[0].body == body


def test_two_entries_naming_one_github_repository_are_refused_with_the_line(loop, github):
    """A `github:` copied from another entry and left unchanged: `pr` of juniper-ml found
    juniper-data's PR (same OWNER:BRANCH in that repository) and rewrote its body with ml's files."""
    assert apply_pr(loop, "--repo", "juniper-data").code == 0
    body = github.pulls(f"{OWNER}/juniper-data")[0].body
    text = loop.manifest.read_text()
    wrong = f"github: {OWNER.upper()}/Juniper-Data\n"
    loop.manifest.write_text(text.replace(f"github: {OWNER}/juniper-ml\n", wrong, 1))
    line = loop.manifest.read_text().splitlines().index("    " + wrong.strip()) + 1
    result = apply_pr(loop, "--repo", "juniper-ml")
    assert result.code == 1
    assert (
        f"repos.yaml:{line}: repo 'juniper-ml' names the GitHub repository "
        f"{OWNER.upper()}/Juniper-Data of 'juniper-data'" in result.stderr
    )
    assert github.pulls(f"{OWNER}/juniper-data")[0].body == body
    assert not git(loop.repo("juniper-ml"), "branch", "--list", BRANCH)


def test_an_approved_draft_is_not_told_to_merge(loop, github):
    """GitHub never merges a draft: status said "approved — merge it" for one."""
    full = f"{OWNER}/juniper-ml"
    assert (
        rollout("apply", "-m", loop.manifest, "--repo", "juniper-ml", "--yes", "--push").code == 0
    )
    assert rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml", "--draft").code == 0
    github.pulls(full)[0].reviews.append(("reviewer", "APPROVED"))
    result = rollout("status", "-m", loop.manifest, "--repo", "juniper-ml", "--json")
    row = json.loads(result.stdout)["repos"][0]
    assert (row["pr_state"], row["next"]) == (
        "draft",
        "approved — mark it ready for review, then merge",
    )


def test_reviewers_whose_request_failed_are_asked_at_the_next_pr(loop, github):
    """The request for the manifest's reviewers was made only when the PR was opened: one that failed
    then (a 422, a dropped connection) was never made again, and `pr` said "unchanged"."""
    full = f"{OWNER}/juniper-ml"
    text = loop.manifest.read_text()
    loop.manifest.write_text(
        text.replace("defaults:\n", "defaults:\n  pull_request: {reviewers: [octocat]}\n", 1)
    )
    github.inject("POST", r"/requested_reviewers$", 0)  # the connection drops
    first = apply_pr(loop, "--repo", "juniper-ml")
    assert first.code == 1 and github.pulls(full)[0].reviewers == []
    again = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert again.code == 0 and "juniper-ml: updated #1  reviewers" in again.stdout, again.stdout
    assert github.pulls(full)[0].reviewers == ["octocat"]
    github.pulls(full)[0].reviewers.clear()  # octocat reviewed: no longer a pending request
    github.pulls(full)[0].reviews.append(("octocat", "COMMENTED"))
    third = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert "unchanged #1" in third.stdout and github.pulls(full)[0].reviewers == []


def test_a_merged_pr_whose_head_never_reached_the_clone_is_still_merged(loop, github):
    """GitHub's "Update branch" adds a merge commit on the PR's branch; merged so and the branch
    deleted, that head is never fetched: the branch here, older than the merge, is what was merged."""
    full = f"{OWNER}/juniper-ml"
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    pull = github.pulls(full)[0]
    github.merge(full, pull.number)
    pull.head_sha, pull.merged_at = "1" * 40, "2999-01-01T00:00:00Z"  # a head this clone never saw
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert "juniper-ml: merged #1" in result.stdout, result.stdout
    pull.merged_at = "2001-01-01T00:00:00Z"  # the branch here was committed after that merge
    again = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert "juniper-ml: merged #1" not in again.stdout, again.stdout


def test_cleanup_after_github_deleted_the_merged_branch_itself(loop, github):
    """ "Automatically delete head branches" (a common repository setting) removed the branch on
    merge; `sync` does not prune, so cleanup's push with a lease on the stale remote-tracking ref
    failed at every run: "has commits the tool did not see; fetch (rollout sync)", which never helped."""
    full = f"{OWNER}/juniper-ml"
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    github.merge(full, github.pulls(full)[0].number)
    bare = str(loop.remotes / "juniper-ml.git")
    subprocess.run(
        ["git", "--git-dir", bare, "update-ref", "-d", f"refs/heads/{BRANCH}"], check=True
    )
    assert rollout("sync", "-m", loop.manifest, "--repo", "juniper-ml").code == 0
    result = rollout("cleanup", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 0, result.stdout
    assert "deleted  chore/sops-age-rollout (local and origin (already deleted there))" in (
        result.stdout
    )
    assert not git(loop.repo("juniper-ml"), "branch", "-a", "--list", f"*{BRANCH}").strip()
    again = rollout("cleanup", "-m", loop.manifest, "--repo", "juniper-ml")
    assert "nothing to clean" in again.stdout


def test_cleanup_still_keeps_a_branch_someone_pushed_to_after_the_merge(loop, github):
    full = f"{OWNER}/juniper-ml"
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    github.merge(full, github.pulls(full)[0].number)
    repo, bare = loop.repo("juniper-ml"), str(loop.remotes / "juniper-ml.git")
    tree = git(repo, "rev-parse", f"{BRANCH}^{{tree}}").strip()
    tip = git(repo, "rev-parse", BRANCH).strip()
    new = subprocess.run(
        ["git", "--git-dir", bare, "commit-tree", tree, "-p", tip, "-m", "reviewer fix"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(
        ["git", "--git-dir", bare, "update-ref", f"refs/heads/{BRANCH}", new], check=True
    )
    result = rollout("cleanup", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 1 and "has commits the tool did not see" in result.stdout
    assert bare_branch(loop, "juniper-ml") == new


def test_review_loop_on_a_missing_or_sha256_clone_is_one_true_line(loop, github):
    """A clone not there yet: "git for-each-ref failed: fatal: cannot change to …"; a SHA-256 clone
    holding the rollout branch: status "absent — run `rollout apply --push --pr`" and cleanup "nothing
    to clean" (the in-process ref reader knows SHA-1 ids only), where plan says it is not supported."""
    import shutil

    repo = loop.repo("juniper-ml")
    shutil.rmtree(repo)
    status = rollout("status", "-m", loop.manifest, "--repo", "juniper-ml", "--json")
    assert json.loads(status.stdout)["repos"][0]["error"] == (
        f"no clone at {repo}: run `rollout sync --manifest {loop.manifest} --repo juniper-ml` (it clones from `url:`)"
    )
    for command in ("pr", "cleanup"):
        result = rollout(command, "-m", loop.manifest, "--repo", "juniper-ml")
        assert result.code == 1, result.stdout
        assert (
            f"no clone at {repo}: run `rollout sync --manifest {loop.manifest} --repo juniper-ml`"
            in result.stdout
        )
    init = ["git", "init", "-q", "--object-format=sha256", "-b", "main", str(repo)]
    subprocess.run(init, check=True)
    git(repo, "commit", "-q", "--allow-empty", "-m", "x")
    git(repo, "branch", BRANCH)
    for command in ("sync", "pr", "cleanup"):
        result = rollout(command, "-m", loop.manifest, "--repo", "juniper-ml")
        assert result.code == 1, result.stdout
        assert "SHA-256 repositories are not supported" in result.stdout
    assert git(repo, "branch", "--list", BRANCH).strip()


def test_credentials_in_the_github_api_url_are_never_printed(loop, github, monkeypatch):
    """`forge.api_url: https://user:PASSWORD@host/api/v3` was accepted and printed in every failed
    call's line ("cannot reach GitHub at https://user:PASSWORD@…"); `$GITHUB_API_URL` the same."""
    text = loop.manifest.read_text()
    loop.manifest.write_text("forge: {api_url: 'https://u:PASSWORD99@127.0.0.1:1/api/v3'}\n" + text)
    result = rollout("status", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 1 and "PASSWORD99" not in result.stdout + result.stderr
    assert "repos.yaml:1: forge.api_url holds credentials" in result.stderr
    loop.manifest.write_text(text)
    monkeypatch.setenv("GITHUB_API_URL", "https://u:PASSWORD88@127.0.0.1:1/api/v3")
    result = rollout("status", "-m", loop.manifest, "--repo", "juniper-ml", "--json")
    error = json.loads(result.stdout)["repos"][0]["error"]
    assert "PASSWORD88" not in result.stdout + result.stderr
    assert error.startswith("cannot reach GitHub at https://127.0.0.1:1/api/v3 ")


@pytest.mark.parametrize(
    "entry, says",
    [
        ('path: "x\\0"', "repo juniper-ml.path"),
        (
            'github: "pcalnon/juniper-ml\\n"',
            "repo juniper-ml.github 'pcalnon/juniper-ml\\n' is not",
        ),
    ],
)
def test_a_nul_byte_in_a_path_or_a_newline_after_owner_name_is_one_line(fleet, entry, says):
    """`path: "x\\0"` (and `workspace:`, `templates:`) ended in "ValueError: embedded null byte", a
    traceback; `github: "owner/name\\n"` passed the OWNER/NAME check (`$` matches before a final newline)."""
    text = fleet.manifest.read_text()
    head = "  - name: juniper-ml"
    at = text.index(head)
    end = text.index("\n", at)
    fleet.manifest.write_text(text[: end + 1] + f"    {entry}\n" + text[end + 1 :])
    result = rollout("status", "-m", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1 and says in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    for key, value in (("workspace", '"w\\0"'), ("templates", '"t\\0"')):
        if re.search(rf"(?m)^{key}:", text):
            fleet.manifest.write_text(
                re.sub(rf"(?m)^{key}:.*$", (f"{key}: {value}").replace("\\", "\\\\"), text)
            )
        else:
            fleet.manifest.write_text(f"{key}: {value}\n" + text)
        result = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-ml")
        assert result.code == 1 and "holds a NUL byte (no path can)" in result.stderr, result.stderr


def test_a_commit_subject_quoting_the_marker_does_not_grow_the_pr_body(loop, github):
    """A commit on the branch whose subject quotes `<!-- juniper-rollout -->`: every later `pr` took
    the rest of the tool's body for a person's text and appended it again ("updated", longer each run)."""
    full = f"{OWNER}/juniper-ml"
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    repo = loop.repo("juniper-ml")
    tip = git(repo, "rev-parse", BRANCH).strip()
    tree = git(repo, "rev-parse", f"{BRANCH}^{{tree}}").strip()
    new = git(
        repo, "commit-tree", tree, "-p", tip, "-m", "fix <!-- juniper-rollout --> typo"
    ).strip()
    git(repo, "push", "-q", "origin", f"{new}:refs/heads/{BRANCH}")
    git(repo, "fetch", "-q", "origin")
    first = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert "updated #1" in first.stdout
    body = github.pulls(full)[0].body
    assert (
        body.count("<!-- juniper-rollout -->") == 1
        and "fix &lt;!-- juniper-rollout --> typo" in body
    )
    for _ in range(2):
        again = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
        assert "unchanged #1" in again.stdout and github.pulls(full)[0].body == body


def test_sync_into_a_path_under_a_file_is_one_line(loop, github):
    import shutil

    shutil.rmtree(loop.repo("juniper-ml"))
    (loop.root / "afile").write_text("x")
    text = loop.manifest.read_text()
    where = f"{loop.root}/afile/sub"
    loop.manifest.write_text(
        text.replace("  - name: juniper-ml", f"  - name: juniper-ml\n    path: {where}", 1)
    )
    result = rollout("sync", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert f"cannot make the folder {loop.root}/afile for the clone: File exists (fix `path:`)" in (
        result.stdout
    )


def test_comments_ending_the_lines_of_a_persons_yaml_entry_are_kept():
    """Setting our values in a person's dependabot entry re-writes the entry: its whole-line comments
    were kept above it, but those ending its lines (`# see ADR-7`, `# vendored`) were dropped."""
    from juniper_rollout.edits.yamlentry import set_entry

    text = (
        "version: 2\nupdates:\n"
        "  - package-ecosystem: github-actions\n    directory: /\n"
        "    # daily: we pin actions by sha\n"
        "    schedule: {interval: daily}  # see ADR-7\n"
        '    ignore:\n      - dependency-name: "actions/*"  # vendored\n'
        "  - package-ecosystem: npm  # the web app\n    directory: /web\n"
    )
    entry = {"package-ecosystem": "github-actions", "directory": "/"}
    entry["schedule"] = {"interval": "weekly"}
    new = set_entry(
        text, "updates", ("package-ecosystem", "directory"), entry, path=".github/dependabot.yml"
    )
    for comment in ("# daily: we pin actions by sha", "# see ADR-7", "# vendored", "# the web app"):
        assert new.count(comment) == 1, (comment, new)
    assert "interval: weekly" in new and "package-ecosystem: npm  # the web app" in new


# --- pass 7's open items: a hostile API's answer is bounded, and a broken one is named as such ------


class _Hostile(http.server.BaseHTTPRequestHandler):
    """An "API" at 127.0.0.1 whose every answer is one of the shapes below (``mode``)."""

    protocol_version = "HTTP/1.1"
    mode = ""

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        import gzip

        mode, chunk = self.mode, b" " * 1_000_000
        if mode in ("declared", "chunked"):
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if mode == "declared":
                self.send_header("Content-Length", str(60 * len(chunk) + 2))
            else:
                self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for _ in range(60):  # 60 MB of blanks before the JSON
                    data = chunk if mode == "declared" else b"%x\r\n%s\r\n" % (len(chunk), chunk)
                    self.wfile.write(data)
                self.wfile.write(b"[]" if mode == "declared" else b"2\r\n[]\r\n0\r\n\r\n")
            except OSError:  # the client stopped reading: what the bound is for
                pass
            return
        status, headers, body = 200, {}, b"[]"
        if mode == "gzip":  # a small answer that inflates to 50 MB
            headers["Content-Encoding"] = "gzip"
            body = gzip.compress(b"[" + b" " * 50_000_000 + b"]")
        elif mode == "object":
            body = b'{"a": 1}'
        elif mode == "retry":
            status, headers = 429, {"Retry-After": "99999999999999999999"}
            body = b'{"message": "slow down"}'
        self.send_response(status)
        for key, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_hostile_apis_answers_are_bounded_and_named(loop, github, monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.handle_error = lambda *args: None  # type: ignore[method-assign]  # the client hangs up: meant
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{server.server_port}")
    expected = {
        "declared": "with more than the tool reads (60 MB)",
        "chunked": "with more than the tool reads (over 20 MB)",
        "gzip": "(compressed, though the tool asked for no compression)",
        "object": "answered list pull requests on pcalnon/juniper-ml with an object where its API "
        "gives a list",
        "retry": "gave an answer to list pull requests on pcalnon/juniper-ml that cannot be read",
    }
    try:
        for mode, words in expected.items():
            _Hostile.mode = mode
            result = rollout("status", "--json", "-m", loop.manifest, "--repo", "juniper-ml")
            assert result.code == 1 and words in result.stdout, (mode, result.stdout)
            assert "please report this" not in result.stdout and not result.stderr.strip()
            assert github.token not in result.stdout
    finally:
        server.shutdown()
