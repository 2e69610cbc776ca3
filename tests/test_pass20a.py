"""Issue 13, pass 20a: items 1-4 of "work lost on the rollout branch" and the branch, LFS, SHA-256 and
manifest-path items of "smaller, same standard", attacked again through every command that writes a
branch. Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_adversary import move_main

HYGIENE = "chore/repo-hygiene"
ML_ENTRY = (
    "  - name: juniper-ml           # meta-package: no app variables; hosts the usage guide\n"
)
DOCS_ROLLOUT = """  docs:
    branch: chore/docs
    vars: {code_owners: ["@a"]}
    files:
      - {path: OWNERS.md, template: CODEOWNERS.j2}
"""


def _ml_entry_says(fleet, lines: str, docs: bool = False) -> int:
    """juniper-ml's entry with ``lines`` added (and the `docs` rollout declared): the manifest line of
    the first added line."""
    text = fleet.manifest.read_text()
    assert ML_ENTRY in text
    if docs:
        text = text.replace("rollouts:\n", "rollouts:\n" + DOCS_ROLLOUT, 1)
    text = text.replace(ML_ENTRY, "  - name: juniper-ml\n" + lines, 1)
    fleet.manifest.write_text(text)
    return text[: text.index("  - name: juniper-ml\n")].count("\n") + 2


@pytest.mark.parametrize(
    ("lines", "run", "says"),
    [
        # the SOPS rollout's branch for one repo set to the hygiene rollout's: the SOPS run rebuilt it
        (
            f"    branch: {HYGIENE}\n",
            [],
            f"repo juniper-ml: branch '{HYGIENE}' is rollout repo-hygiene's too",
        ),
        # another named rollout's override for one repo set to the hygiene rollout's branch
        (
            f"    rollouts: {{docs: {{branch: {HYGIENE}}}}}\n",
            ["--rollout", "docs"],
            f"repo juniper-ml.rollouts.docs: branch '{HYGIENE}' is rollout repo-hygiene's too",
        ),
        # the same but for letter case: one loose ref file on macOS and Windows
        (
            "    rollouts: {docs: {branch: Chore/Repo-Hygiene}}\n",
            ["--rollout", "docs"],
            "repo juniper-ml.rollouts.docs: branch 'Chore/Repo-Hygiene' is rollout repo-hygiene's "
            "too ('chore/repo-hygiene' but for letter case",
        ),
    ],
    ids=["sops-branch-override", "named-override", "named-override-other-case"],
)
def test_two_rollouts_never_share_a_branch_through_a_repos_override(fleet, lines, run, says):
    """Pass 7 refused two rollouts whose own `branch:` lines were equal, and a named rollout's override
    equal to the SOPS branch in that rollout's run only. A repo's `branch:` (or a `rollouts: {docs:
    {branch: …}}` override) equal to the hygiene rollout's branch loaded in the other rollout's run:
    it took the hygiene commit for its own and, once main moved, rebuilt the branch without
    .github/CODEOWNERS, dependabot.yml and the .gitignore block. Now refused with its line in every
    run, the hygiene branch untouched."""
    repo = fleet.repo("juniper-ml")
    hygiene = rollout(
        "apply", "-m", fleet.manifest, "--rollout", "repo-hygiene", "--repo", "juniper-ml", "--yes"
    )
    assert hygiene.code == 0, hygiene.stdout + hygiene.stderr
    tip = git(repo, "rev-parse", HYGIENE).strip()
    line = _ml_entry_says(fleet, lines, docs=True)
    move_main(repo)
    for command in (["plan"], ["apply", "--yes"]):
        result = rollout(*command, "-m", fleet.manifest, *run, "--repo", "juniper-ml")
        assert result.code == 1, result.stdout + result.stderr
        assert result.stderr.startswith(f"error: {fleet.manifest}:{line + 0}: {says}"), (
            result.stderr
        )
        assert len(result.stderr.strip().splitlines()) == 1
    for every in ([], ["--rollout", "repo-hygiene"], ["--rollout", "docs"]):  # whichever run
        result = rollout("plan", "-m", fleet.manifest, *every, "--repo", "juniper-ml")
        assert result.code == 1 and says in result.stderr, result.stderr
    assert git(repo, "rev-parse", HYGIENE).strip() == tip
    assert ".github/CODEOWNERS" in git(repo, "ls-tree", "-r", "--name-only", HYGIENE)


def test_rollouts_on_branches_of_their_own_still_load(fleet):
    """What the check reads besides: a repo opted out of a rollout may use its branch name, and an
    override naming a branch of its own is fine."""
    _ml_entry_says(
        fleet,
        f"    branch: {HYGIENE}\n    rollouts: {{repo-hygiene: false, docs: {{branch: chore/ml-docs}}}}\n",
        docs=True,
    )
    for run in ([], ["--rollout", "docs"]):
        result = rollout("plan", "-m", fleet.manifest, *run, "--repo", "juniper-ml")
        assert result.code in (0, 2), result.stderr
    assert (
        f"juniper-ml  (main → {HYGIENE})"
        in rollout("plan", "-m", fleet.manifest, "--repo", "juniper-ml").stdout
    )


# --- 13.1 in another order of steps: a run waiting at its confirmation ------------------------------


class _Terminal:
    """Standard input that says it is a terminal (apply asks for confirmation only there)."""

    def isatty(self) -> bool:
        return True


def _decrypted(repo, ref: str, path: str) -> bytes:
    import subprocess

    blob = subprocess.run(
        ["git", "-C", str(repo), "show", f"{ref}:{path}"], capture_output=True, check=True
    ).stdout
    from juniper_rollout import sops

    return sops.decrypt_dotenv(blob, filename=path)


def test_a_run_waiting_at_its_confirmation_never_replaces_what_another_run_wrote_meanwhile(
    fleet, monkeypatch
):
    """`rollout apply` plans, shows the plan and waits for its "Write the rollout branch?" answer.
    Meanwhile the user changes a value in .env, runs `rollout apply --yes` in another terminal (the
    branch is created with the new ciphertext) and moves the .env away, as the guide says. The first
    run, answered yes, wrote its own plan over that commit ("updated", no word of it): the new value
    was on no branch any more, and the .env holding it was gone. Only a plan to go on top of the
    branch was checked for a branch moved since; now every plan is, and the run is stale."""
    import subprocess
    import sys

    from juniper_rollout.commands import apply as apply_command

    repo = fleet.repo("juniper-cascor")
    env = repo / ".env"
    kept = fleet.root / "env.kept"

    def meanwhile(question: str) -> bool:
        env.write_text(env.read_text().replace("-0\n", "-0-rotated\n", 1))
        other = subprocess.run(
            [sys.executable, "-c", "from juniper_rollout.cli import main; main()", "apply",
             "--manifest", str(fleet.manifest), "--yes", "--repo", "juniper-cascor"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert "juniper-cascor: created" in other.stdout, other.stdout + other.stderr
        env.rename(kept)
        return True

    monkeypatch.setattr(sys, "stdin", _Terminal())
    code = apply_command.apply(manifest=fleet.manifest, repos=["juniper-cascor"], confirm=meanwhile)
    assert code == 1
    assert _decrypted(repo, BRANCH, ".env.enc") == kept.read_bytes()
    assert git(repo, "rev-list", "--count", f"main..{BRANCH}").strip() == "1"


def test_bootstrap_never_undoes_a_manifest_change_made_while_it_waited(
    fleet, tmp_path, monkeypatch
):
    """`rollout bootstrap NAME` read the manifest, cloned or initialised the repo, showed the plan and
    waited for its answer; meanwhile `rollout rotate --add KEY` (or `--remove` of a leaked key) wrote
    the manifest. Answered yes, bootstrap replaced the manifest with its own text, made from what it
    had read: the rotation was undone without a word (measured: the added recipient gone). Now the
    manifest is read again before anything is written: changed, nothing is written."""
    import sys

    from juniper_rollout import keys
    from juniper_rollout.commands import bootstrap as bootstrap_command
    from juniper_rollout.errors import RolloutError

    added = keys.generate_key_file(tmp_path / "second" / "keys.txt")

    def meanwhile(question: str) -> bool:
        rotated = rollout("rotate", "-m", fleet.manifest, "--add", added)
        assert rotated.code == 0, rotated.stdout + rotated.stderr
        return True

    monkeypatch.setattr(sys, "stdin", _Terminal())
    with pytest.raises(RolloutError, match="changed while bootstrap ran") as err:
        bootstrap_command.bootstrap(
            manifest=fleet.manifest,
            workspace=None,
            name="juniper-new",
            path=None,
            url=None,
            like=None,
            confirm=meanwhile,
        )
    assert "nothing written" in str(err.value)
    text = fleet.manifest.read_text()
    assert added in text and "juniper-new" not in text
    assert not (fleet.workspace / "juniper-new").exists()
    assert not [p for p in fleet.workspace.iterdir() if p.name.startswith(".juniper-new")]


def test_bootstrap_into_a_folder_filled_while_it_waited_is_one_line(fleet, monkeypatch):
    """The folder the new clone goes to, filled while bootstrap waited for its answer (the user cloned
    it by hand in another terminal): `os.rename` refused it, as meant, but as "unexpected OSError"
    with a crash log. Now one line; the folder and the manifest are left as they are."""
    import sys

    from juniper_rollout.commands import bootstrap as bootstrap_command
    from juniper_rollout.errors import RolloutError

    folder = fleet.workspace / "juniper-new"
    before = fleet.manifest.read_bytes()

    def meanwhile(question: str) -> bool:
        folder.mkdir()
        (folder / "mine.txt").write_text("the user's\n")
        return True

    monkeypatch.setattr(sys, "stdin", _Terminal())
    with pytest.raises(RolloutError, match="cannot move the new clone to .*nothing written"):
        bootstrap_command.bootstrap(
            manifest=fleet.manifest,
            workspace=None,
            name="juniper-new",
            path=None,
            url=None,
            like=None,
            confirm=meanwhile,
        )
    assert fleet.manifest.read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["mine.txt"]


# --- branch names a case-insensitive file system reads as another ref (13, smaller list) -------------


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        # refs/heads/Main is the file of refs/heads/main there: apply would commit onto main itself
        ("    branch: Main\n", "the rollout branch cannot be the base branch 'main' ('main' but for letter case"),
        ("    base: develop\n    branch: Develop\n", "cannot be the base branch 'develop'"),
        # `head` is the file .git/HEAD there, as `HEAD` is everywhere (the issue's `branch: HEAD`)
        ("    branch: head\n", "'head' is a name git keeps for its own"),
        ("    branch: Fetch_Head\n", "'Fetch_Head' is a name git keeps for its own"),
        ("    branch: orig_head\n", "'orig_head' is a name git keeps for its own"),
        ("    branch: Stash\n", "'Stash' starts with 'Stash'"),
        ("    branch: Logs/HEAD\n", "'Logs/HEAD' starts with 'Logs/'"),
        ("    branch: Origin/main\n", "'Origin/main' starts with 'Origin/'"),
    ],
    ids=["Main", "Develop", "head", "Fetch_Head", "orig_head", "Stash", "Logs-HEAD", "Origin-main"],
)  # fmt: skip
def test_a_branch_that_is_another_ref_but_for_letter_case_is_refused_with_its_line(
    fleet, lines, says
):
    """git keeps a loose ref as a file under .git, so on macOS and Windows `branch: Main` (base main) is
    main itself: apply took main's own commit as the branch's base, put its commit on top and moved main
    (checked out or not: `HEAD` says refs/heads/main, not Main, so nothing blocked it). `head` is .git/HEAD
    there as `HEAD` is everywhere, `Stash` refs/stash, `Logs/HEAD` the reflog. Each is refused with its
    line like the upper-case spellings (pass 20a; not measured here: Linux file systems keep case)."""
    line = _ml_entry_says(fleet, lines)
    line += lines.count("\n") - 1  # the `branch:` line
    result = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: {fleet.manifest}:{line}: "), result.stderr
    assert says in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("branch", ["chore/headless-main", "ahead", "overhead", "Chore/Main"])
def test_branches_that_only_look_like_those_still_load(fleet, branch):
    """`ahead` is no file git writes in .git (a case-blind `[A-Z_]*HEAD` would refuse it)."""
    _ml_entry_says(fleet, f"    branch: {branch}\n")
    result = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-ml")
    assert result.code in (0, 2), result.stderr


# --- another repository format the tool cannot read (13, smaller list: SHA-256) --------------------


def _as_git_2_45_writes_a_reftable_clone(repo) -> None:
    """``repo``'s .git laid out as `git init --ref-format=reftable` (git 2.45+) leaves it: the
    extension in its config, no loose or packed refs (``refs/heads`` a file, HEAD a stub), the refs in
    ``reftable/``. git 2.39 refuses such a clone; a newer git reads it, GitPython does not."""
    dotgit = repo / ".git"
    git(repo, "config", "core.repositoryformatversion", "1")
    git(repo, "config", "extensions.refStorage", "reftable")
    for name in ("refs/heads", "packed-refs"):
        target = dotgit / name
        if target.is_dir():
            import shutil

            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
    (dotgit / "refs" / "heads").write_text("this repository uses the reftable format\n")
    (dotgit / "reftable").mkdir()
    (dotgit / "reftable" / "tables.list").write_text("")
    (dotgit / "HEAD").write_text("ref: refs/heads/.invalid\n")


def test_a_reftable_clone_is_named_as_such_not_base_branch_not_found(fleet):
    """A clone made by git 2.45+ with `--ref-format=reftable` (or `init.defaultRefFormat`) keeps no ref
    as a file; GitPython reads refs as files, so plan, drift and verify said "base branch 'main' not
    found (create it …)", the issue's SHA-256 symptom for another repository format. Now one line
    naming the format, as SHA-256 repositories get."""
    _as_git_2_45_writes_a_reftable_clone(fleet.repo("juniper-ml"))
    for command in ("plan", "drift", "verify", "apply"):
        result = rollout(
            command,
            "-m",
            fleet.manifest,
            "--repo",
            "juniper-ml",
            *(["--yes"] if command == "apply" else []),
        )
        assert result.code == 1, (command, result.stdout, result.stderr)
        assert "refs in the reftable format are not supported" in result.stdout, (
            command,
            result.stdout,
        )
        assert "not found" not in result.stdout


# --- 13.3 where git ignores case: the branch checked out under another spelling --------------------


def test_a_branch_checked_out_under_another_spelling_is_blocked_where_git_ignores_case(fleet):
    """On macOS and Windows (git sets `core.ignorecase` there) the branch's loose ref is one file for
    every spelling, so `git switch Chore/SOPS-Age-Rollout` checks the rollout branch out and HEAD says
    `ref: refs/heads/Chore/SOPS-Age-Rollout`. The check compared HEAD's text as written: apply moved the
    checked-out branch, the issue's item 3. Simulated here by HEAD written in that spelling in a clone
    set to ignore case (Linux keeps case, so git itself cannot check it out so here)."""
    repo = fleet.repo("juniper-ml")
    assert rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes").code == 0
    tip = git(repo, "rev-parse", BRANCH).strip()
    git(repo, "config", "core.ignorecase", "true")
    git(repo, "symbolic-ref", "HEAD", "refs/heads/Chore/SOPS-Age-Rollout")
    move_main(repo)
    result = rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes")
    assert result.code == 1 and "juniper-ml: blocked" in result.stdout, result.stdout
    assert f"is checked out in {repo}" in result.stdout
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    git(repo, "config", "core.ignorecase", "false")  # where git keeps case, that is another branch
    assert (
        "juniper-ml: updated"
        in rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes").stdout
    )


def test_apply_never_writes_a_plan_made_before_the_manifest_changed(fleet, tmp_path, monkeypatch):
    """`rollout apply` shows its plan and waits; meanwhile `rollout rotate --remove KEY` takes a leaked
    key out of the manifest. Answered yes, apply wrote (and with --push pushed) the branch encrypted to
    the removed key: the plan was made before the rotation. A saved plan encrypting to a removed key is
    refused as stale (pass 4); the plan a run holds while it waits is now treated alike: the manifest
    changed, nothing is written."""
    import re
    import sys

    from juniper_rollout import keys, sopsmeta
    from juniper_rollout.commands import apply as apply_command
    from juniper_rollout.errors import RolloutError

    leaked = keys.generate_key_file(tmp_path / "leaked" / "keys.txt")
    text = fleet.manifest.read_text()
    first = re.search(r"\n    - (age1\w+)\n", text)
    assert first is not None
    fleet.manifest.write_text(text.replace(first.group(0), f"{first.group(0)}    - {leaked}\n", 1))

    def meanwhile(question: str) -> bool:
        removed = rollout("rotate", "-m", fleet.manifest, "--remove", leaked)
        assert removed.code == 0, removed.stdout + removed.stderr
        return True

    monkeypatch.setattr(sys, "stdin", _Terminal())
    with pytest.raises(RolloutError, match="changed while apply ran.*nothing written"):
        apply_command.apply(manifest=fleet.manifest, repos=["juniper-cascor"], confirm=meanwhile)
    repo = fleet.repo("juniper-cascor")
    assert not git(repo, "branch", "--list", BRANCH).strip()
    assert leaked not in fleet.manifest.read_text()
    assert rollout("apply", "-m", fleet.manifest, "--repo", "juniper-cascor", "--yes").code == 0
    blob = subprocess_show(repo, f"{BRANCH}:.env.enc")
    meta = sopsmeta.read_metadata(blob)
    assert meta is not None and leaked not in meta.recipients


def subprocess_show(repo, spec: str) -> bytes:
    import subprocess

    return subprocess.run(
        ["git", "-C", str(repo), "show", spec], capture_output=True, check=True
    ).stdout


def test_a_worktree_recorded_with_a_relative_path_is_named_where_it_is(fleet, tmp_path):
    """git 2.48's `worktree.useRelativePaths` records a linked worktree's place relative to its admin
    folder (`.git/worktrees/ID/gitdir` holding `../../../../wt/.git`). The blocked line read it from
    the tool's own folder: it named `../../../../wt`, called the live worktree gone and gave `git
    worktree prune` as the way out. Now the path is read as git reads it (written so by hand: git 2.39
    here writes absolute paths)."""
    import os

    repo = fleet.repo("juniper-ml")
    assert rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes").code == 0
    linked = tmp_path / "review"
    git(repo, "worktree", "add", "-q", str(linked), BRANCH)
    admin = repo / ".git" / "worktrees" / "review"
    (admin / "gitdir").write_text(os.path.relpath(linked / ".git", admin) + "\n")
    (linked / ".git").write_text(f"gitdir: {os.path.relpath(admin, linked)}\n")
    move_main(repo)
    result = rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes")
    assert result.code == 1 and "juniper-ml: blocked" in result.stdout
    said = " ".join(result.stdout.split())
    assert f"is checked out in {linked};" in said and "switch that worktree" in said, said
    assert "prune" not in said


# --- a rollout branch gone from origin, then pushed under a renamed branch (13, smaller list) --------


@pytest.mark.parametrize(
    ("first", "then"),
    [("chore/sops/v1", "chore/sops"), ("chore/sops", "chore/sops/v2")],
    ids=["record-is-a-folder", "record-is-a-file"],
)
def test_a_push_record_of_a_renamed_branch_never_stops_the_next_push(fleet, tmp_path, first, then):
    """The rollout branch pushed, merged and deleted (here and on origin), then the manifest's `branch:`
    renamed to one git cannot keep beside the old name (`chore/sops` after `chore/sops/v1`, or the
    other way): the push went through, then writing the tool's push record met the old record (a
    folder, or a file where a folder goes): "failed  unexpected IsADirectoryError … a damaged
    repository? run git fsck", a crash log, and the same at every later push. The old record belongs
    to a branch that can no longer exist here or on origin: it is forgotten."""
    from tests.test_adversary import with_remote

    repo = fleet.repo("juniper-ml")
    remote = with_remote(repo, tmp_path)
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(text.replace(f"  branch: {BRANCH}\n", f"  branch: {first}\n", 1))
    pushed = rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes", "--push")
    assert pushed.code == 0, pushed.stdout
    git(repo, "branch", "-q", "-D", first)
    git(remote, "branch", "-q", "-D", first)
    git(repo, "fetch", "-q", "--prune", "origin")
    fleet.manifest.write_text(text.replace(f"  branch: {BRANCH}\n", f"  branch: {then}\n", 1))
    for _ in range(2):  # and again: nothing left over stops the next one
        result = rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes", "--push")
        assert result.code == 0, result.stdout
        assert "pushed to origin" in result.stdout and "unexpected" not in result.stdout
        move_main(repo)
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/juniper-rollout/").split() == [
        f"refs/juniper-rollout/pushed/{then}"
    ]
    assert git(remote, "rev-parse", then) == git(repo, "rev-parse", then)
