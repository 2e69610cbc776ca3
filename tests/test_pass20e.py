"""Issue 13, pass 20e: a confirmation pass over pass 20a's fixes to items 1-4 ("work lost on the rollout
branch") and the branch items of "smaller, same standard". Each test fails on the main this pass started
from (checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_adversary import move_main

ML_ENTRY = (
    "  - name: juniper-ml           # meta-package: no app variables; hosts the usage guide\n"
)


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def assert_a_second_entry_on_ml_is_refused(fleet, alias: str) -> None:
    """An entry ``alias`` added whose workspace folder is juniper-ml's clone again: plan and apply
    refuse the manifest at juniper-ml's line, and no branch is written."""
    text = fleet.manifest.read_text()
    text = text.replace("repos:\n", f"repos:\n  - name: {alias}\n", 1)
    fleet.manifest.write_text(text)
    ml = _line_of(text, ML_ENTRY)
    for command in (["plan"], ["apply", "--yes"]):
        result = rollout(*command, "-m", fleet.manifest)
        assert result.code == 1, result.stdout + result.stderr
        assert result.stderr.startswith(
            f"error: {fleet.manifest}:{ml}: repo 'juniper-ml' has the same clone as '{alias}'"
        ), result.stderr
    assert not git(fleet.repo("juniper-ml"), "branch", "--list", BRANCH).strip()


# --- two entries on one clone: a symlinked folder in the workspace ---------------------------------


@pytest.mark.parametrize("how", ["folder-link", "dotgit-link"])
def test_two_entries_on_one_clone_through_a_symlink_are_refused(fleet, how):
    """The manifest refuses two entries on one clone (each rebuilds the one branch without the other's
    commit). A `path:` is resolved before the comparison, a workspace entry's folder was not: an entry
    `ml-link` whose folder in the workspace is a symlink to juniper-ml (or a clone whose `.git` is a
    symlink to juniper-ml's) loaded, and apply of each entry wrote the one branch."""
    repo = fleet.repo("juniper-ml")
    link = repo.parent / "ml-link"
    if how == "folder-link":
        link.symlink_to(repo.name)
    else:
        link.mkdir()
        (link / ".git").symlink_to(repo / ".git")
    assert_a_second_entry_on_ml_is_refused(fleet, "ml-link")


def test_separate_clones_beside_a_symlink_still_load(fleet, tmp_path):
    """A workspace reached through a symlink, and entries whose clones are their own, still load."""
    alias = tmp_path / "alias"
    alias.symlink_to(fleet.workspace)
    result = rollout("plan", "-m", fleet.manifest, "--workspace", alias, "--repo", "juniper-ml")
    assert result.code in (0, 2), result.stderr


# --- branches git cannot keep side by side: one a folder of the other -------------------------------


@pytest.mark.parametrize(
    ("old", "new", "says", "runs"),
    [
        # the hygiene rollout's branch under the SOPS rollout's: its apply failed, advising to rename
        # the SOPS rollout's branch (`git branch -m`), which then lost its branch
        (
            "    branch: chore/repo-hygiene\n",
            "    branch: chore/sops-age-rollout/hygiene\n",
            "branch 'chore/sops-age-rollout/hygiene' and the SOPS rollout's branch "
            "'chore/sops-age-rollout' cannot both exist",
            ([], ["--rollout", "repo-hygiene"]),  # in either rollout's run
        ),
        # the SOPS rollout's branch under its base: apply failed, advising to rename main
        (
            "  branch: chore/sops-age-rollout\n",
            "  branch: main/sops\n",
            "the rollout branch 'main/sops' cannot be beside the base branch 'main'",
            ([],),
        ),
        # a named rollout's branch holding its base as a folder, in another letter case
        (
            "    branch: chore/repo-hygiene\n",
            "    branch: Main\n    base: main/next\n",
            "the rollout branch 'Main' cannot be beside the base branch 'main/next'",
            (["--rollout", "repo-hygiene"],),
        ),
    ],
    ids=["rollout-under-rollout", "branch-under-base", "base-under-branch"],
)
def test_branches_git_cannot_keep_side_by_side_are_refused_with_their_line(
    fleet, old, new, says, runs
):
    """Git keeps a branch as a file under .git/refs/heads, so `chore/x` and `chore/x/y` cannot both
    exist. Two rollouts' branches so (or a branch and its base) loaded and planned; apply of the second
    failed with git's advice, to rename the other branch (`git branch -m`): the other rollout's branch,
    or main. Now refused with its line when the manifest loads, nothing written."""
    text = fleet.manifest.read_text()
    assert old in text
    fleet.manifest.write_text(text.replace(old, new, 1))
    repo = fleet.repo("juniper-ml")
    for run in runs:
        for command in (["plan"], ["apply", "--yes"]):
            result = rollout(*command, "-m", fleet.manifest, *run, "--repo", "juniper-ml")
            assert result.code == 1, result.stdout + result.stderr
            assert result.stderr.startswith(f"error: {fleet.manifest}:"), result.stderr
            assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/").split() == [
        "refs/heads/main"
    ]


def test_branches_that_only_share_a_prefix_still_load(fleet):
    """`chore/sops-age-rollout-v2` beside `chore/sops-age-rollout`, `main-next` beside `main`: no folder."""
    text = fleet.manifest.read_text()
    text = text.replace(
        "    branch: chore/repo-hygiene\n", "    branch: chore/sops-age-rollout-v2\n"
    )
    fleet.manifest.write_text(
        text.replace("  branch: chore/sops-age-rollout\n", "  branch: main-next\n")
    )
    for run in ([], ["--rollout", "repo-hygiene"]):
        result = rollout("plan", "-m", fleet.manifest, *run, "--repo", "juniper-ml")
        assert result.code in (0, 2), result.stderr


# --- 13.3 where git ignores case, the setting spelled as git reads it -------------------------------


@pytest.mark.parametrize("setting", ["1", "bare"])
def test_a_branch_checked_out_under_another_spelling_is_blocked_however_ignorecase_is_written(
    fleet, setting
):
    """Pass 20a blocks apply when the rollout branch is checked out under another letter case where git
    ignores case. The setting was read through GitPython, which gives `ignorecase = 1` as the number 1
    and a bare `ignorecase` line as "": both true to git, both read as false, and the checked-out branch
    was moved. Simulated as pass 20a's test (Linux keeps case)."""
    repo = fleet.repo("juniper-ml")
    assert rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes").code == 0
    tip = git(repo, "rev-parse", BRANCH).strip()
    if setting == "bare":
        with open(repo / ".git" / "config", "a") as config:
            config.write("[core]\n\tignorecase\n")
    else:
        git(repo, "config", "core.ignorecase", setting)
    assert git(repo, "config", "--type=bool", "core.ignorecase").strip() == "true"
    git(repo, "symbolic-ref", "HEAD", "refs/heads/Chore/SOPS-Age-Rollout")
    move_main(repo)
    result = rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes")
    assert result.code == 1 and "juniper-ml: blocked" in result.stdout, result.stdout
    assert git(repo, "rev-parse", BRANCH).strip() == tip


# --- 13.4: another rollout's commit is not this rollout's -------------------------------------------


def test_a_branch_holding_another_rollouts_commits_is_blocked_not_rebuilt(fleet):
    """The hygiene rollout wrote chore/repo-hygiene; later the manifest gave the hygiene rollout another
    branch and the SOPS rollout that name (branch names swapped or reused over time: each load is
    fine, one branch per rollout). The SOPS run took the hygiene commit for its own (both are the
    tool's) and, main having moved, rebuilt the branch without .github/CODEOWNERS and the rest,
    "updated" (with --push, origin's hygiene pull request became a SOPS one). A commit now names its
    rollout, under the check line: the branch is blocked, named as the other rollout's."""
    repo = fleet.repo("juniper-ml")
    hygiene = rollout(
        "apply", "-m", fleet.manifest, "--rollout", "repo-hygiene", "--repo", "juniper-ml", "--yes"
    )
    assert hygiene.code == 0, hygiene.stdout + hygiene.stderr
    tip = git(repo, "rev-parse", "chore/repo-hygiene").strip()
    text = fleet.manifest.read_text()
    text = text.replace("    branch: chore/repo-hygiene\n", "    branch: chore/hygiene-v2\n", 1)
    text = text.replace("  branch: chore/sops-age-rollout\n", "  branch: chore/repo-hygiene\n", 1)
    fleet.manifest.write_text(text)
    move_main(repo)
    says = "chore/repo-hygiene holds commits of the repo-hygiene rollout"
    plan = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-ml")
    assert f"apply will refuse it: {says}" in plan.stdout, plan.stdout
    result = rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes")
    assert result.code == 1 and f"juniper-ml: blocked  {says}" in result.stdout, result.stdout
    assert git(repo, "rev-parse", "chore/repo-hygiene").strip() == tip
    again = rollout(
        "apply", "-m", fleet.manifest, "--rollout", "repo-hygiene", "--repo", "juniper-ml", "--yes"
    )
    assert again.code == 0 and "juniper-ml: created  chore/hygiene-v2" in again.stdout


def test_the_tools_commits_from_before_they_named_their_rollout_are_still_its_own(fleet):
    """A rollout branch written before commits named their rollout is still recognised: a new commit on
    top while main stays, rebuilt once it moves."""
    import git as gitpython

    from juniper_rollout import gitrepo

    repo = fleet.repo("juniper-ml")
    assert rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes").code == 0
    clone = gitpython.Repo(repo)
    try:
        written = clone.commit(BRANCH)
        old_style = written.message.replace(f"{gitrepo.ROLLOUT_TRAILER}sops\n", "")
        old_style = old_style.rpartition(gitrepo.CHECK_TRAILER)[0]
        assert gitrepo.ROLLOUT_TRAILER not in old_style
        legacy = gitrepo.create_commit(clone, written.parents[0], written.tree.binsha, old_style)
        assert gitrepo.is_tool_commit(legacy, "sops") and gitrepo.commit_rollout(legacy) is None
    finally:
        clone.close()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", legacy.hexsha)
    move_main(repo)
    result = rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes")
    assert "juniper-ml: updated" in result.stdout and "rebuilt on main" in result.stdout, (
        result.stdout
    )


def test_what_the_tool_pushed_for_another_rollout_is_never_pushed_over(fleet, tmp_path):
    """The hygiene rollout's branch pushed (its pull request under review), deleted here only, and the
    name then given to the SOPS rollout: no local branch, so nothing blocked, and the push lease, the
    tool's own record of its last push, matched origin: the SOPS branch replaced the hygiene one on
    origin (its pull request became a SOPS one). Now the push stops: origin holds another rollout's."""
    from tests.test_adversary import with_remote

    repo = fleet.repo("juniper-ml")
    remote = with_remote(repo, tmp_path)
    hygiene = rollout(
        "apply",
        "-m",
        fleet.manifest,
        "--rollout",
        "repo-hygiene",
        "--repo",
        "juniper-ml",
        "--yes",
        "--push",
    )
    assert hygiene.code == 0, hygiene.stdout + hygiene.stderr
    reviewed = git(remote, "rev-parse", "chore/repo-hygiene").strip()
    git(repo, "branch", "-q", "-D", "chore/repo-hygiene")
    text = fleet.manifest.read_text()
    text = text.replace("    branch: chore/repo-hygiene\n", "    branch: chore/hygiene-v2\n", 1)
    text = text.replace("  branch: chore/sops-age-rollout\n", "  branch: chore/repo-hygiene\n", 1)
    fleet.manifest.write_text(text)
    result = rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes", "--push")
    assert result.code == 1, result.stdout
    assert (
        "not pushed: origin/chore/repo-hygiene holds what the tool pushed for the repo-hygiene "
        "rollout" in result.stdout
    ), result.stdout
    assert git(remote, "rev-parse", "chore/repo-hygiene").strip() == reviewed
