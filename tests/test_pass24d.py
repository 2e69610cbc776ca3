"""Issue 13, pass 24d: a second-round adversarial pass over items 1-4 and the branch items of
"smaller, same standard", attacking first what pass 24a added (sync's `--refmap=` fetch, the push
record as a renamed branch's old one, the ways out its refusals print, `wording.rollout_command`).
Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout

HYGIENE = "chore/repo-hygiene"


def _paste(command: str, cwd, *more: str) -> subprocess.CompletedProcess:
    """``command`` as a person pastes it in bash (``more`` appended), in ``cwd``."""
    return subprocess.run(
        ["bash", "-c", " ".join([command, *more])], cwd=cwd, capture_output=True, text=True
    )


def _origin_has(repo, branch: str) -> bool:
    return bool(git(repo, "ls-remote", "origin", f"refs/heads/{branch}").strip())


@pytest.mark.usefixtures("loopback_only")
def test_status_of_a_named_rollout_prints_next_steps_that_act_on_that_rollout(loop, tmp_path):
    """NEW (left by pass 24a, a command that does the wrong thing when pasted): `rollout status -m M
    --rollout repo-hygiene` said "push: `rollout apply --push`" for a repo whose hygiene branch was
    applied but not pushed. Pasted (with `--repo NAME --yes`), it read the default manifest, or with
    the right one applied and pushed the SOPS rollout's branch, never the hygiene one. Every next
    step status prints now carries the `--manifest`, `--workspace` and `--rollout` it was run with."""
    name = "juniper-cascor"
    repo = loop.repo(name)
    hygiene = ("-m", loop.manifest, "--rollout", "repo-hygiene", "--repo", name)
    assert rollout("apply", *hygiene, "--yes").code == 0
    status = rollout("status", *hygiene, "--json")
    assert status.code == 0, status.stdout + status.stderr
    step = json.loads(status.stdout)["repos"][0]["next"]
    command = re.search(r"`(rollout [^`]*)`", step)
    assert command, step
    pasted = _paste(command.group(1), tmp_path, "--repo", name, "--yes")
    assert pasted.returncode == 0, (command.group(1), pasted.stdout, pasted.stderr)
    assert _origin_has(repo, HYGIENE), (command.group(1), pasted.stdout)
    assert not _origin_has(repo, BRANCH), (command.group(1), pasted.stdout)


@pytest.mark.usefixtures("loopback_only")
def test_sync_never_fails_on_a_tag_it_has_no_use_for(loop):
    """NEW (on pass 24a's fetch): the clone's `remote.origin.tagOpt = --tags` (fetch every tag) and a
    local tag `v1` that differs from origin's `v1`: `rollout sync` ran `git fetch --quiet … origin
    +refs/heads/*:refs/remotes/origin/*`, which also fetched the tags, refused to clobber the local
    one, and said "failed  git fetch failed: " (an empty reason: --quiet kept git's) on every sync
    for ever, origin's rollout branch never fetched. The tool reads origin's branches only: the fetch
    takes no tag (`--no-tags`); the local tag is left as it was; a failed fetch always says why."""
    name = "juniper-cascor"
    repo = loop.repo(name)
    bare = loop.root / "remotes" / f"{name}.git"
    assert rollout("apply", "-m", loop.manifest, "--repo", name, "--yes", "--push").code == 0
    git(bare, "tag", "v1", f"refs/heads/{BRANCH}")
    mine = git(repo, "rev-parse", "main").strip()
    git(repo, "tag", "v1", mine)
    git(repo, "config", "remote.origin.tagOpt", "--tags")
    reviewed = git(
        bare, "commit-tree", "-m", "a reviewer's", "-p", BRANCH, f"{BRANCH}^{{tree}}"
    ).strip()
    git(bare, "update-ref", f"refs/heads/{BRANCH}", reviewed)
    synced = rollout("sync", "-m", loop.manifest, "--repo", name)
    assert synced.code == 0, synced.stdout
    assert git(repo, "rev-parse", f"origin/{BRANCH}").strip() == reviewed
    assert git(repo, "rev-parse", "refs/tags/v1").strip() == mine


@pytest.mark.usefixtures("loopback_only")
@pytest.mark.parametrize("origin_deleted", [False, True])
@pytest.mark.parametrize("way", ["git show", "git branch -f"])
def test_a_branch_moved_back_is_never_pushed_over_the_only_copy(
    loop, tmp_path, origin_deleted, way
):
    """ON-LIST 13.1 (another spelling): apply --push; the local rollout branch moved back to main
    (`git branch -f chore/sops-age-rollout main`, to start over), the `.env` moved away (encrypted
    now); origin's branch kept, or deleted after a closed PR. Plan said ".env.enc skip (no .env in
    the clone to encrypt)", and apply --push wrote a commit on main and pushed it over origin's
    (`updated … pushed to origin`), moving the tool's push record with it: the pushed `.env.enc`,
    the only copy of its values, was on no ref. The repo is now refused while the tool's last push
    holds the only copy, with two ways out that work when pasted: the values back from the record
    (`git show RECORD:.env.enc | sops decrypt …`), or the branch put back (`git branch -f`)."""
    name = "juniper-cascor"
    repo = loop.repo(name)
    assert rollout("apply", "-m", loop.manifest, "--repo", name, "--yes", "--push").code == 0
    held = git(repo, "rev-parse", BRANCH).strip()
    if origin_deleted:
        git(loop.remotes / f"{name}.git", "branch", "-D", BRANCH)
        git(repo, "fetch", "-q", "--prune", "origin")
    git(repo, "branch", "-f", BRANCH, "main")
    (repo / ".env").rename(tmp_path / "moved-away.env")
    planned = rollout("plan", "-m", loop.manifest, "--repo", name)
    said = " ".join(planned.stdout.split())
    assert planned.code == 1 and "was the branch moved back?" in said, said
    pushed = rollout("apply", "-m", loop.manifest, "--repo", name, "--yes", "--push")
    assert f"{name}: failed" in pushed.stdout, pushed.stdout
    assert git(repo, "for-each-ref", "--contains", held, "refs/juniper-rollout/").strip()
    # pass 25d: a branch move runs only while the branch is as printed (`… | grep -qx TIP && git -C
    # CLONE branch -f …`): found by what it holds
    command = next(c for c in said.split("`") if re.search(r"(?:^|&& )git -C \S+ " + way[4:], c))
    assert _paste(command, repo).returncode == 0, command
    again = rollout("apply", "-m", loop.manifest, "--repo", name, "--yes", "--push")
    assert again.code == 0, again.stdout
    if way == "git show":  # the values back in .env, encrypted again on the branch
        assert (repo / ".env").read_text() == (tmp_path / "moved-away.env").read_text()
    tip = git(repo, "rev-parse", f"refs/juniper-rollout/pushed/{BRANCH}").strip()
    assert git(repo, "ls-tree", "--name-only", tip, ".env.enc").strip() == ".env.enc"


@pytest.mark.usefixtures("loopback_only")
def test_a_renamed_branch_moved_back_here_never_leaves_its_pushed_copy_behind(loop, tmp_path):
    """ON-LIST 13.1 (pass 24a's renamed-branch record, another spelling): apply --push; origin's
    branch deleted after a closed PR (pruned here), the local branch moved back to main instead of
    deleted (`git branch -f`), the `.env` moved away: the push record alone holds `.env.enc`.
    `branch:` renamed to chore/secrets: pass 24a counted the record only when no branch of its name
    existed, so plan said "skip (no .env in the clone to encrypt)" and the new branch was written and
    pushed without the values. The record counts unless a branch of its name holds its commit."""
    name = "juniper-cascor"
    repo = loop.repo(name)
    assert rollout("apply", "-m", loop.manifest, "--repo", name, "--yes", "--push").code == 0
    git(loop.remotes / f"{name}.git", "branch", "-D", BRANCH)
    git(repo, "fetch", "-q", "--prune", "origin")
    git(repo, "branch", "-f", BRANCH, "main")
    (repo / ".env").rename(tmp_path / "moved-away.env")
    text = loop.manifest.read_text()
    loop.manifest.write_text(text.replace(f"  branch: {BRANCH}\n", "  branch: chore/secrets\n", 1))
    planned = rollout("plan", "-m", loop.manifest, "--repo", name)
    said = " ".join(planned.stdout.split())
    record = f"refs/juniper-rollout/pushed/{BRANCH}"
    assert planned.code == 1 and f"{record} (this rollout's commits" in said, said
    restore = next(
        c for c in said.split("`") if c.startswith("git -C ") and f" show {record}:.env.enc" in c
    )
    assert _paste(restore, repo).returncode == 0, restore
    assert (repo / ".env").read_text() == (tmp_path / "moved-away.env").read_text()


@pytest.mark.usefixtures("loopback_only")
def test_the_delete_of_origins_branch_a_line_offers_never_deletes_a_commit_pushed_since(loop):
    """NEW on pass 24a's way out (13.4's kind): apply --push, the local branch deleted, `.env` leaves
    a committed value empty: the refusal's way to empty it on purpose offered `git update-ref -d
    RECORD && git push origin --delete -- BRANCH`, origin's tip being the tool's commit as last
    fetched. A reviewer then pushed a commit onto origin's branch (not yet fetched here): pasted, the
    delete took the reviewer's commit with it. The delete now carries a lease on the tip the line
    was judged on (`--force-with-lease=refs/heads/BRANCH:SHA`): pasted, git refuses ("stale info")."""
    name = "juniper-cascor"
    repo = loop.repo(name)
    bare = loop.root / "remotes" / f"{name}.git"
    assert rollout("apply", "-m", loop.manifest, "--repo", name, "--yes", "--push").code == 0
    git(repo, "branch", "-D", BRANCH)
    env = repo / ".env"
    lines = env.read_text().splitlines()
    lines[0] = lines[0].split("=", 1)[0] + "="
    env.write_text("\n".join(lines) + "\n")
    planned = rollout("plan", "-m", loop.manifest, "--repo", name)
    said = " ".join(planned.stdout.split())
    assert planned.code == 1, said
    command = next(c for c in said.split("`") if "--delete" in c)
    reviewed = git(
        bare, "commit-tree", "-p", BRANCH, "-m", "review: a reviewer's", f"{BRANCH}^{{tree}}"
    ).strip()
    git(bare, "update-ref", f"refs/heads/{BRANCH}", reviewed)
    _paste(command, repo)
    assert git(repo, "ls-remote", "origin", BRANCH).split()[:1] == [reviewed], command


@pytest.mark.parametrize("named", [False, True])
def test_the_fixes_verify_prints_work_when_pasted(fleet, tmp_path, monkeypatch, named):
    """NEW (a command that does the wrong thing when pasted): `rollout verify -m M` said "fix: run
    `rollout plan`, then `rollout apply` and merge the rollout branch" (and `verify --rollout
    repo-hygiene` "`rollout plan --rollout repo-hygiene`"), with no `--manifest`: pasted, they read
    `manifests/repos.yaml` ("manifest not found", or another fleet's). Each `rollout …` a fix names
    now carries the `--manifest`, `--workspace` and `--rollout` verify was given, quoted for the
    shell (a manifest path holding a space and a quote here)."""
    name = "juniper-ml"
    folder = tmp_path / "my dir"
    folder.mkdir()
    manifest = folder / "m 'x'.yaml"
    manifest.write_text(fleet.manifest.read_text())
    monkeypatch.chdir(tmp_path)
    rollout_option = ("--rollout", "repo-hygiene") if named else ()
    said = rollout("verify", "-m", "my dir/m 'x'.yaml", *rollout_option, "--repo", name, "--json")
    assert said.code == 1, said.stdout
    fixes = " ".join(c["detail"] for c in json.loads(said.stdout)["repos"][0]["checks"])
    commands = set(re.findall(r"`(rollout plan[^`]*)`", fixes))
    assert commands, fixes
    for command in commands:
        pasted = _paste(command, tmp_path, "--repo", name)
        assert pasted.returncode == 0, (command, pasted.stdout, pasted.stderr)
        assert name in pasted.stdout, (command, pasted.stdout)
        if named:
            assert "SOPS_USAGE_GUIDE" not in pasted.stdout and ".sops.yaml" not in pasted.stdout


@pytest.mark.usefixtures("loopback_only")
@pytest.mark.parametrize("named", [(), ("--rollout", "repo-hygiene")])
@pytest.mark.parametrize("command", ["status", "cleanup"])
def test_the_sync_a_review_line_offers_reads_the_same_manifest_and_workspace(
    loop, tmp_path, command, named
):
    """NEW (a command that does the wrong thing when pasted): `rollout status -m M --workspace W`
    (or `cleanup`) on a repo not cloned in W said "no clone at W/NAME: run `rollout sync` (it
    clones from `url:`)": pasted, that sync read `manifests/repos.yaml` ("manifest not found"), or
    with `-m M` cloned into the manifest's own workspace, never W. Every error line of the review
    loop names its `rollout …` with the options the command was given, those that command takes
    (`sync` has no `--rollout`: "no such option" when pasted after `status --rollout X`)."""
    name = "juniper-ml"
    elsewhere = tmp_path / "other ws"
    elsewhere.mkdir()
    only = ("-m", loop.manifest, "--workspace", elsewhere, *named, "--repo", name)
    if command == "status":
        [row] = json.loads(rollout(command, *only, "--json").stdout)["repos"]
        text = row["error"]
    else:
        text = rollout(command, *only).stdout
    [sync] = set(re.findall(r"`(rollout sync[^`]*)`", text))
    if command == "status":  # the table shows it whole (folded, never cut short with "…")
        table = rollout(command, *only).stdout
        assert "".join(sync.split()) in "".join(table.split()), table
    pasted = _paste(sync, tmp_path, "--repo", name)
    assert pasted.returncode == 0, (sync, pasted.stdout, pasted.stderr)
    assert (elsewhere / name / ".git").is_dir(), (sync, pasted.stdout)


def test_the_next_steps_rotate_prints_work_when_pasted(fleet, tmp_path, monkeypatch):
    """NEW (a command that does the wrong thing when pasted): `rollout rotate -m M --data-key` said
    "Next: run `rollout plan`, then `rollout apply`" (and after `--remove`, "run `rollout rotate
    --data-key`"): pasted, they read `manifests/repos.yaml`, not M ("manifest not found", or
    another fleet's manifest re-stamped). They now name the manifest rotate was given."""
    folder = tmp_path / "my dir"
    folder.mkdir()
    manifest = folder / "-m 'x'.yaml"
    manifest.write_text(fleet.manifest.read_text())
    monkeypatch.chdir(tmp_path)
    said = rollout("rotate", "-m", "my dir/-m 'x'.yaml", "--data-key")
    assert said.code == 0, said.stdout + said.stderr
    [plan] = set(re.findall(r"`(rollout plan[^`]*)`", " ".join(said.stdout.split())))
    pasted = _paste(plan, tmp_path, "--repo", "juniper-ml")
    assert pasted.returncode == 0, (plan, pasted.stdout, pasted.stderr)
    assert "juniper-ml" in pasted.stdout, (plan, pasted.stdout)


def test_the_plan_a_saved_plan_error_offers_works_when_pasted(fleet, tmp_path, monkeypatch):
    """NEW (a command that fails when pasted): `rollout apply "my plan.json" -m M` with no such file
    said "run `rollout plan --out my plan.json`": pasted, `--out my` and a stray `plan.json`
    ("unexpected extra argument"), and without `--manifest` the default manifest. The file is one
    shell word now, and the command carries the options apply was given."""
    monkeypatch.chdir(tmp_path)
    said = rollout("apply", "my plan.json", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes")
    assert said.code == 1
    text = " ".join((said.stdout + said.stderr).split())
    [plan] = set(re.findall(r"`(rollout plan --out[^`]*)`", text))
    pasted = _paste(plan, tmp_path, "--repo", "juniper-ml")
    assert pasted.returncode == 0, (plan, pasted.stdout, pasted.stderr)
    assert (tmp_path / "my plan.json").is_file()
    again = rollout("apply", "my plan.json", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes")
    assert again.code == 0, again.stdout + again.stderr


def test_the_commands_drift_findings_name_work_when_pasted(fleet, tmp_path, monkeypatch):
    """NEW (a command that does the wrong thing when pasted): `rollout drift -m M` found a plaintext
    env file tracked at main and said "`rollout apply` removes it on the rollout branch": pasted,
    that apply read `manifests/repos.yaml`, not M. Each `rollout …` a finding or an error line of
    drift names carries the options drift was given (table and `--format json`)."""
    name = "juniper-ml"
    repo = fleet.repo(name)
    (repo / "deploy.env").write_text("MODE=demo\n")
    git(repo, "add", "-f", "deploy.env")
    git(repo, "commit", "-q", "-m", "a plaintext env file, tracked")
    folder = tmp_path / "my dir"
    folder.mkdir()
    (folder / "m 'x'.yaml").write_text(fleet.manifest.read_text())
    monkeypatch.chdir(tmp_path)
    only = ("-m", "my dir/m 'x'.yaml", "--repo", name)
    found = json.loads(rollout("drift", *only, "--format", "json").stdout)
    text = json.dumps(found)
    [apply] = set(re.findall(r"`(rollout apply[^`]*)`", text))
    assert "rollout apply --manifest" in " ".join(rollout("drift", *only).stdout.split())
    pasted = _paste(json.loads(f'"{apply}"'), tmp_path, "--repo", name, "--yes")
    assert pasted.returncode == 0, (apply, pasted.stdout, pasted.stderr)
    assert "deploy.env" not in git(repo, "ls-tree", "--name-only", BRANCH).split()


def worktree_stopped_mid(fleet, repo, operation: str):
    """A reviewer's worktree of ``repo`` (its folder returned) on the rollout branch, with a merge or
    a cherry-pick of a branch of theirs stopped there on a conflict: the operation is under way."""
    git(repo, "branch", "side", "main")
    review = fleet.root / "review"
    git(repo, "worktree", "add", "-q", str(review), "side")
    (review / ".gitignore").write_text("a reviewer's own ignore rules\n")
    git(review, "commit", "-q", "-am", "a reviewer's .gitignore")
    git(review, "switch", "-q", BRANCH)
    stopped = subprocess.run(
        ["git", "-C", str(review), operation, *(["--no-ff"] * (operation == "merge")), "side"],
        capture_output=True,
        text=True,
    )
    assert stopped.returncode != 0, stopped.stdout  # a conflict: the operation is under way
    return review


@pytest.mark.parametrize("operation", ["merge", "cherry-pick"])
def test_the_way_to_free_a_branch_mid_merge_in_a_worktree_works_when_pasted(fleet, operation):
    """ON-LIST 13.3 (pass 24a's way out, a neighbouring situation): apply; a reviewer checks the
    rollout branch out in a worktree of its own and starts a merge (or a cherry-pick) there that
    stops on a conflict; main moves; apply is `blocked` (right), and said "switch that worktree off
    the branch (`git switch --detach`)". Pasted there: "fatal: cannot switch branch while merging",
    and apply stayed blocked. The line now says what is under way and how to finish or drop it first;
    pasted in turn (drop, then switch), the branch is free and apply writes it."""
    from tests.test_adversary import apply

    name = "juniper-cascor"
    repo = fleet.repo(name)
    assert apply(fleet, name).code == 0
    review = worktree_stopped_mid(fleet, repo, operation)
    env = repo / ".env"
    env.write_text(env.read_text().replace("=", "=rotated-", 1))
    said = " ".join(apply(fleet, name).stdout.split())
    assert f"{name}: blocked" in said, said
    assert f"a {operation} is under way" in said, said
    for command in (f"git -C {review} {operation} --abort", f"git -C {review} switch --detach"):
        assert f"`{command}`" in said, said
        pasted = _paste(command, review)
        assert pasted.returncode == 0, (command, pasted.stderr)
    written = apply(fleet, name)
    assert f"{name}: updated" in written.stdout, written.stdout
