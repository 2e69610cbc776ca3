"""Issue 13, pass 25d: a sixth-round adversarial pass over items 1-4 and every command a line offers
to paste (after pass 25a made each name its clone). Each test fails on the main this pass started
from (checked by undoing its fix)."""

from __future__ import annotations

from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.pasting import blank_first_value, git_commands, paste, said_by, tip
from tests.test_adversary import apply
from tests.test_pass25a import only_the_push_record_left

CASCOR, ML = "juniper-cascor", "juniper-ml"
RECORD = f"refs/juniper-rollout/pushed/{BRANCH}"


def test_a_branch_delete_pasted_after_the_branch_moved_never_deletes_the_newer_commit(
    fleet, tmp_path
):
    """ON-LIST 13.1/13.4 (pass 25a's note 1: the deletes carry no expected old value): juniper-cascor
    applied, a committed value left empty in `.env`; the refusal offers "delete the rollout branch
    (`git -C CLONE branch -D chore/sops-age-rollout`)". Before pasting it the user takes a reviewer's
    commit onto the branch (a fix pulled from the pull request). Pasted then, `git branch -D` deleted
    the branch with the reviewer's commit on it, a commit the line never saw. The delete now runs
    only while the branch is at the tip the line was printed for (the lease origin's delete has)."""
    assert apply(fleet, CASCOR).code == 0
    repo = fleet.repo(CASCOR)
    blank_first_value(repo)
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert "to empty them on purpose" in said, said
    commands = git_commands(said)
    assert any(" branch -D " in c for c in commands), said
    # a reviewer's commit lands on the branch after the line was printed
    printed = git(repo, "rev-parse", BRANCH).strip()
    tree = git(repo, "rev-parse", f"{BRANCH}^{{tree}}").strip()
    reviewer = git(repo, "commit-tree", "-p", BRANCH, "-m", "review: fix wording", tree).strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", reviewer)
    for command in commands:
        paste(command, tmp_path)
    assert tip(repo, BRANCH) == reviewer, f"the reviewer's commit went with the branch: {commands}"
    # with the branch as it was printed for, the same line deletes it
    git(repo, "update-ref", f"refs/heads/{BRANCH}", printed)
    for command in commands:
        paste(command, tmp_path)
    assert not tip(repo, BRANCH), commands


def test_a_push_record_delete_pasted_after_a_newer_push_never_deletes_its_record(fleet, tmp_path):
    """ON-LIST 13.1 (pass 25a's note 1, the record's spelling): juniper-cascor pushed (its record
    `refs/juniper-rollout/pushed/…`), its local branch deleted, `.env` moved away, its entry `enabled:
    false`, main moved: the refusal offers "forget the rollout branch's last pushed copy (`git -C CLONE
    update-ref -d refs/juniper-rollout/pushed/…`)". Before it is pasted, a newer push records a newer
    commit. Pasted then, the newer record was deleted: the tool's only memory of what it pushed last
    (the next apply no longer protects that copy on origin). The delete now names the record's value
    as printed (`git update-ref -d REF OLD`, git's own lease): a moved record stays."""
    assert apply(fleet, CASCOR).code == 0
    repo = fleet.repo(CASCOR)
    tree = only_the_push_record_left(fleet, repo, tmp_path)
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    commands = git_commands(said)
    assert any(" update-ref -d " in c for c in commands), said
    newer = git(repo, "commit-tree", "-p", RECORD, "-m", "a newer push", tree).strip()
    git(repo, "update-ref", RECORD, newer)  # a later `apply --push` recorded its push
    for command in commands:
        paste(command, tmp_path)
    assert tip(repo, RECORD) == newer, f"the newer push record was deleted by {commands}"
    git(repo, "update-ref", RECORD, newer + "~1")  # as printed: the same line deletes it
    for command in commands:
        paste(command, tmp_path)
    assert not tip(repo, RECORD), commands


def test_the_rename_a_branch_clash_offers_never_renames_another_clones_branch(fleet):
    """NEW (pass 25a's kind: a command a line offers names no clone): juniper-ml's clone has a branch
    `chore`, so git cannot create `chore/sops-age-rollout` there; plan says "apply will refuse it: …
    rename chore (`git branch -m chore chore-old`)". juniper-cascor's clone has a `chore` branch of
    its own, checked out, tracking origin's: pasted where the user stood (there), it renamed
    juniper-cascor's branch (its HEAD and upstream config moved with it). The rename now names the
    clone (`git -C CLONE branch -m …`)."""
    ml, here = fleet.repo(ML), fleet.repo(CASCOR)
    git(ml, "branch", "chore")
    git(here, "switch", "-q", "-c", "chore")
    said = said_by("plan", "-m", fleet.manifest, "--repo", ML)
    commands = [c for c in git_commands(said) if " branch -m " in c]
    assert commands, said
    for command in commands:
        paste(command, here)
    assert tip(here, "refs/heads/chore"), f"juniper-cascor's branch was renamed by {commands}"
    assert git(here, "branch", "--show-current").strip() == "chore"
    # pasted there, it did what it offers in the clone it is about
    assert not tip(ml, "refs/heads/chore") and tip(ml, "refs/heads/chore-old"), commands
    assert rollout("apply", "-m", fleet.manifest, "--repo", ML, "--yes").code == 0


def test_the_untrack_a_drift_finding_offers_never_unstages_another_clones_file(fleet):
    """ON-LIST 13.9's commands (pass 25a's note 2: drift's `git rm --cached PATH` and `git filter-repo
    … --path PATH` name no clone): juniper-cascor tracks `config/.env.local`; drift says "… (or `git
    rm --cached config/.env.local`)". juniper-ml's clone tracks a file of that name too, its new
    version staged (`git add`) for the commit being made there. Pasted where the user stood (there),
    the `rm --cached` took juniper-ml's file out of its index: its staged version gone, the next
    commit there deletes the file. drift's, plan's and verify's commands now name the clone."""
    repo, here = fleet.repo(CASCOR), fleet.repo(ML)
    for clone in (repo, here):
        (clone / "config").mkdir(exist_ok=True)
        (clone / "config" / ".env.local").write_text("LOCAL_MODE=first-version-of-it\n")
        git(clone, "add", "config/.env.local")
        git(clone, "commit", "-qm", "local settings")
    (here / "config" / ".env.local").write_text("LOCAL_MODE=second-version-of-it\n")
    git(here, "add", "config/.env.local")
    staged = git(here, "ls-files", "-s", "config/.env.local")
    said = said_by("drift", "-m", fleet.manifest, "--repo", CASCOR)
    commands = [c for c in git_commands(said) if " rm --cached " in c]
    assert commands, said
    for command in commands:
        paste(command, here)
    assert git(here, "ls-files", "-s", "config/.env.local") == staged, (
        f"juniper-ml's staged file was taken out of its index by {commands}"
    )
    # pasted there, it did what it offers in the clone it is about
    assert not git(repo, "ls-files", "config/.env.local").strip(), commands
    for args in (("plan",), ("verify", "--ref", "main")):
        shown = said_by(*args, "-m", fleet.manifest, "--repo", CASCOR)
        assert f"git -C {repo} filter-repo" in shown, shown


def test_putting_a_branch_back_pasted_after_new_work_on_it_never_leaves_that_work_on_no_branch(
    fleet, tmp_path
):
    """ON-LIST 13.1 (pass 24d's way out, pass 24h's hole in another spelling: the move carries no
    expected old tip): juniper-cascor pushed (its record), the branch moved back to main (`git
    branch -f BRANCH main`), `.env` moved away: "was the branch moved back? … or put the branch back
    (`git -C CLONE branch -f BRANCH RECORD`)", offered because main holds every commit of the branch
    then. Before it is pasted, a developer commits their own work on that branch. Pasted then, `git
    branch -f` moved the branch off the developer's commit: on no branch (reflog only). The move now
    runs only while the branch is at the tip the line was printed for."""
    assert apply(fleet, CASCOR).code == 0
    repo = fleet.repo(CASCOR)
    git(repo, "update-ref", RECORD, BRANCH)  # as a push records it
    git(repo, "branch", "-f", BRANCH, "main")
    (repo / ".env").rename(tmp_path / "moved-away.env")
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert "was the branch moved back?" in said, said
    commands = [c for c in git_commands(said) if " branch -f " in c]
    assert commands, said
    git(repo, "switch", "-q", BRANCH)
    (repo / "work.txt").write_text("a developer's work\n")
    git(repo, "add", "work.txt")
    git(repo, "commit", "-qm", "other work")
    work = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "switch", "-q", "main")
    for command in commands:
        paste(command, tmp_path)
    assert git(repo, "branch", "--contains", work).strip(), (
        f"the developer's commit is on no branch after {commands}"
    )
    # with the branch as it was printed for, the same line puts it back
    git(repo, "branch", "-f", BRANCH, "main")
    for command in commands:
        assert paste(command, tmp_path).returncode == 0, command
    assert tip(repo, BRANCH) == tip(repo, RECORD), commands


def test_the_restore_a_tracked_env_line_offers_never_writes_over_a_newer_env(fleet):
    """NEW (13.1's kind, newer work): juniper-cascor's main tracks a plaintext `.env` that the clone
    no longer has: "restore it (`(umask 077 && git -C CLONE show refs/heads/main:.env > CLONE/.env)`),
    then plan again". Before it is pasted, the user writes a new `.env` (the values rotated since
    that commit). Pasted then, the shell's `>` wrote the committed, older values over it: the new
    values gone. The restore now writes only where no file is (`set -C`: the shell's noclobber)."""
    repo = fleet.repo(CASCOR)
    (repo / ".env").write_text("API_TOKEN=not-a-real-token-of-pass-25d\n")  # committed: no canary
    git(repo, "add", "-f", ".env")
    git(repo, "commit", "-qm", "a plaintext .env, committed by mistake")
    (repo / ".env").unlink()
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert "but not in the clone" in said, said
    commands = [c for c in said.split("`") if c.startswith(("git ", "(umask", "mkdir"))]
    assert commands, said
    newer = "API_TOKEN=rotated-since-then-of-pass-25d\n"
    (repo / ".env").write_text(newer)
    for command in commands:
        paste(command, repo)
    assert (repo / ".env").read_text() == newer, f"the newer .env was written over by {commands}"
    (repo / ".env").unlink()  # as printed: the same line brings the committed one back
    for command in commands:
        assert paste(command, repo).returncode == 0, command
    assert (repo / ".env").read_text() == "API_TOKEN=not-a-real-token-of-pass-25d\n"


def test_the_bring_env_back_line_never_writes_over_a_newer_env(fleet, tmp_path):
    """NEW (13.1's kind, newer work; the sops spelling of the test above): juniper-cascor pushed (its
    record), the branch moved back to main, `.env` moved away: "bring the values back (`git -C CLONE
    show RECORD:.env.enc | (umask 077 && sops decrypt … --output=CLONE/.env /dev/stdin)`)". Before it
    is pasted, the user writes a new `.env` (values rotated since). Pasted then, sops wrote the
    branch's older values over it. A restore printed while the clone had no such file now writes
    only while it still has none."""
    assert apply(fleet, CASCOR).code == 0
    repo = fleet.repo(CASCOR)
    git(repo, "update-ref", RECORD, BRANCH)  # as a push records it
    git(repo, "branch", "-f", BRANCH, "main")
    (repo / ".env").rename(tmp_path / "moved-away.env")
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    commands = [c for c in git_commands(said) if " show " in c and "--output=" in c]
    assert commands, said
    newer = "HF_TOKEN=rotated-since-then-of-pass-25d\n"
    (repo / ".env").write_text(newer)
    for command in commands:
        paste(command, tmp_path)
    assert (repo / ".env").read_text() == newer, f"the newer .env was written over by {commands}"
    (repo / ".env").unlink()  # as printed: the same line brings the values back
    for command in commands:
        assert paste(command, tmp_path).returncode == 0, command
    assert (repo / ".env").read_text() == (tmp_path / "moved-away.env").read_text()


def test_a_notes_ref_delete_pasted_after_a_newer_note_never_deletes_that_note(fleet):
    """NEW (item 9's finding, pass 25a's note 1 in the audit's spelling): a `.env` kept as a git note
    in juniper-cascor; drift says "deleting that ref is the owner's call: `git -C CLONE update-ref -d
    refs/notes/commits`". Before it is pasted, a reviewer's note is added (on another commit).
    Pasted then, the whole notes ref went, the newer review note with it. The delete now names the
    ref's value as drift read it (`git update-ref -d REF OLD`, git's own lease)."""
    repo = fleet.repo(CASCOR)
    env = "HF_TOKEN=note-held-value-25d\nDB_PASSWORD=note-held-pw-25d\n"  # a .env's shape
    git(repo, "notes", "add", "-m", env, "main")
    said = said_by("drift", "--manifest", fleet.manifest, "--repo", CASCOR)
    assert "holds a note shaped like a plaintext env file" in said, said
    commands = [c for c in git_commands(said) if " update-ref -d " in c]
    assert commands, said
    printed = tip(repo, "refs/notes/commits")
    git(repo, "commit", "-q", "--allow-empty", "-m", "more work")
    git(repo, "notes", "add", "-m", "Reviewed-by: Ada <ada@example.com>", "HEAD")
    newer = tip(repo, "refs/notes/commits")
    for command in commands:
        paste(command, repo)
    assert tip(repo, "refs/notes/commits") == newer, f"the newer note went with {commands}"
    git(repo, "update-ref", "refs/notes/commits", printed)  # as printed: the same line deletes it
    for command in commands:
        assert paste(command, repo).returncode == 0, command
    assert not tip(repo, "refs/notes/commits"), commands
