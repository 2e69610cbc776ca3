"""Issue 13, pass 25a: a fifth-round adversarial pass over items 1-4 and every command a refusal or
next-step line offers to paste, attacking what passes 24a/24d/24h/24k added. Each test fails on the
main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.pasting import blank_first_value, git_commands, paste, said_by
from tests.test_adversary import apply
from tests.test_pass24d import worktree_stopped_mid

CASCOR, ML = "juniper-cascor", "juniper-ml"
RECORD = f"refs/juniper-rollout/pushed/{BRANCH}"


def only_the_push_record_left(fleet, repo, tmp_path) -> str:
    """juniper-cascor's rollout branch known by its push record alone (the branch deleted), its `.env`
    moved away, its `encrypt:` entry `enabled: false`, main moved on: the tree of main's new commit.
    Plan then refuses the repo and offers to forget the last pushed copy."""
    git(repo, "update-ref", RECORD, BRANCH)  # as a push records it
    git(repo, "branch", "-D", BRANCH)
    (repo / ".env").rename(tmp_path / "moved-away.env")
    text = fleet.manifest.read_text()
    at = text.index(f"  - name: {CASCOR}")
    end = text.index("        target: .env.enc\n", at) + len("        target: .env.enc\n")
    fleet.manifest.write_text(text[:end] + "        enabled: false\n" + text[end:])
    tree = git(repo, "write-tree").strip()
    moved = git(repo, "commit-tree", "-p", "main", "-m", "main moves", tree).strip()
    git(repo, "update-ref", "refs/heads/main", moved)
    return tree


def test_a_branch_delete_offered_for_one_repo_never_deletes_another_clones_branch(fleet):
    """ON-LIST 13.1 (pass 24k's "not fixed": the ways out name no clone): both repos applied, so
    both clones hold the fleet-wide `chore/sops-age-rollout`; juniper-cascor's `.env` leaves a
    committed value empty. The refusal's way to empty it on purpose, "delete the rollout branch
    (`git branch -D chore/sops-age-rollout`)", pasted where the user stands, in juniper-ml's clone,
    deleted juniper-ml's rollout branch (forced: its commits on no branch). Every git command a line
    offers now names its clone (`git -C CLONE …`): pasted anywhere, it acts on that clone alone."""
    for name in (CASCOR, ML):
        assert apply(fleet, name).code == 0
    repo, here = fleet.repo(CASCOR), fleet.repo(ML)
    mine = git(here, "rev-parse", BRANCH).strip()
    blank_first_value(repo)
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert "to empty them on purpose" in said, said
    commands = git_commands(said)
    assert any(" branch -D " in c for c in commands), said
    for command in commands:
        paste(command, here)
    assert git(here, "rev-parse", "--verify", "-q", BRANCH).strip() == mine, (
        f"juniper-ml's rollout branch was deleted by {commands}"
    )
    # pasted there, it did what it offers in the clone it is about
    assert not git(repo, "branch", "--list", BRANCH).strip(), commands


def test_a_push_record_delete_offered_for_one_repo_never_deletes_another_clones(fleet, tmp_path):
    """ON-LIST 13.1 (pass 24k's "not fixed", the record's spelling): both repos pushed (each clone
    holds `refs/juniper-rollout/pushed/chore/sops-age-rollout`, the fleet's branch name),
    juniper-cascor's local branch deleted, its `.env` moved away, its entry `enabled: false`, main
    moved. "To drop it on purpose, forget the rollout branch's last pushed copy (`git update-ref -d
    refs/juniper-rollout/pushed/…`)" pasted in juniper-ml's clone deleted juniper-ml's record, the
    tool's only memory of what it pushed there (the next apply no longer protects that copy)."""
    for name in (CASCOR, ML):
        assert apply(fleet, name).code == 0
    repo, here = fleet.repo(CASCOR), fleet.repo(ML)
    git(here, "update-ref", RECORD, BRANCH)  # as a push records it
    only_the_push_record_left(fleet, repo, tmp_path)
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert "which no enabled `encrypt:` entry" in said, said
    commands = git_commands(said)
    assert any(" update-ref -d " in c for c in commands), said
    held = git(here, "rev-parse", RECORD).strip()
    for command in commands:
        paste(command, here)
    assert git(here, "rev-parse", "--verify", "-q", RECORD).strip() == held, (
        f"juniper-ml's push record was deleted by {commands}"
    )
    # pasted there, it did what it offers in the clone it is about
    assert not git(repo, "for-each-ref", RECORD).strip(), commands
    assert rollout("plan", "-m", fleet.manifest, "--repo", CASCOR).code == 0


def _ml_encrypts_env(fleet) -> None:
    """juniper-ml gets an `encrypt:` entry of its own and a `.env` (a second clone holding one)."""
    text = fleet.manifest.read_text()
    entry = re.search(r"\n  - name: juniper-ml[^\n]*\n", text)
    assert entry, text
    encrypt = "    encrypt:\n      - source: .env\n        target: .env.enc\n"
    fleet.manifest.write_text(text[: entry.end()] + encrypt + text[entry.end() :])
    (fleet.repo(ML) / ".env").write_text("ML_API_TOKEN=ml-token-of-yesterday\n")


def test_the_decrypt_a_ciphertext_refusal_offers_never_writes_another_clones_env(fleet):
    """ON-LIST 13.1 (pass 24k's F2 in another spelling: 24k made `_restore_command` name the clone,
    `_refuse_ciphertext_values` builds its own): both repos applied; juniper-cascor's `.env` is its
    `.env.enc` copied without the `sops_` lines (values `ENC[AES256_GCM,…]`). The refusal's "put the
    decrypted values there (`git show refs/heads/BRANCH:.env.enc | (umask 077 && sops decrypt …
    --output=.env /dev/stdin)`)" pasted in juniper-ml's clone decrypted juniper-ml's branch over
    juniper-ml's `.env`: the line added there today lost. It now names the clone and the file in it."""
    _ml_encrypts_env(fleet)
    for name in (CASCOR, ML):
        assert apply(fleet, name).code == 0
    repo, here = fleet.repo(CASCOR), fleet.repo(ML)
    edited = (here / ".env").read_text() + "ADDED_TODAY=kept\n"
    (here / ".env").write_text(edited)
    committed = git(repo, "show", f"{BRANCH}:.env.enc").splitlines()
    (repo / ".env").write_text("\n".join(x for x in committed if not x.startswith("sops_")) + "\n")
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert "the value is sops ciphertext" in said, said
    commands = [c for c in said.split("`") if "git " in c and "sops decrypt" in c]
    assert commands, said
    for command in commands:
        paste(command, here)
    assert (here / ".env").read_text() == edited, f"juniper-ml's .env was written over: {commands}"
    # pasted there, it did what it offers in the clone it is about
    assert "ENC[" not in (repo / ".env").read_text(), commands
    assert rollout("plan", "-m", fleet.manifest, "--repo", CASCOR).code == 0


def test_the_restore_a_tracked_env_refusal_offers_never_empties_another_clones_env(fleet):
    """NEW (13.1's kind, a command naming no clone): juniper-cascor's main tracks a plaintext
    `.env` that the clone no longer has. The refusal "restore it (`git show refs/heads/main:.env >
    .env`), then plan again", pasted in juniper-ml's clone, whose main tracks no `.env`: the shell
    emptied juniper-ml's `.env` (`>` first, then git failed), its only copy of those values. The
    command names the clone and writes the file there (owner-only, as sops' restore lines do)."""
    _ml_encrypts_env(fleet)
    repo, here = fleet.repo(CASCOR), fleet.repo(ML)
    values = "API_TOKEN=not-a-real-token-of-pass-25a\n"  # committed: no canary
    (repo / ".env").write_text(values)
    git(repo, "add", "-f", ".env")
    git(repo, "commit", "-qm", "a plaintext .env, committed by mistake")
    (repo / ".env").unlink()
    mine = (here / ".env").read_text()
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert "but not in the clone" in said, said
    commands = [c for c in said.split("`") if c.startswith(("git ", "(umask", "mkdir"))]
    assert commands, said
    for command in commands:
        paste(command, here)
    assert (here / ".env").read_text() == mine, f"juniper-ml's .env was emptied by {commands}"
    assert (repo / ".env").read_text() == values, commands
    assert (repo / ".env").stat().st_mode & 0o077 == 0, oct((repo / ".env").stat().st_mode)


def test_the_values_a_fill_them_in_line_prints_are_that_clones_wherever_pasted(fleet):
    """ON-LIST 13.1 (the same class, the read-only spelling): both repos applied, juniper-ml with an
    `encrypt:` entry of its own; juniper-cascor's `.env` leaves a committed value empty. "Fill them
    in (`git show refs/heads/BRANCH:.env.enc | sops decrypt …` prints the committed ones)", pasted
    in juniper-ml's clone, printed juniper-ml's values: brought into juniper-cascor's `.env` as the
    line asks, the wrong repo's secrets were encrypted there. The command names the clone."""
    _ml_encrypts_env(fleet)
    for name in (CASCOR, ML):
        assert apply(fleet, name).code == 0
    repo, here = fleet.repo(CASCOR), fleet.repo(ML)
    blank_first_value(repo)
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert "prints the committed ones" in said, said
    [show] = [c for c in said.split("`") if " show " in c and c.endswith("/dev/stdin")]
    printed = paste(show, here)
    assert printed.returncode == 0, (show, printed.stderr)
    assert "ML_API_TOKEN" not in printed.stdout and "HF_TOKEN=" in printed.stdout, show


def _merge_stopped_on_a_conflict(repo, path: str = "notes.txt") -> None:
    """A merge under way in ``repo``'s checkout, stopped on a conflict the user then resolved."""
    git(repo, "switch", "-q", "-c", "topic")
    (repo / path).write_text("theirs\n")
    git(repo, "add", path)
    git(repo, "commit", "-qm", "topic's notes")
    git(repo, "switch", "-q", "-")
    (repo / path).write_text("ours\n")
    git(repo, "add", path)
    git(repo, "commit", "-qm", "our notes")
    stopped = subprocess.run(["git", "-C", str(repo), "merge", "topic"], capture_output=True)
    assert stopped.returncode != 0
    (repo / path).write_text("ours and theirs, resolved by hand\n")
    git(repo, "add", path)


def test_the_way_to_free_a_worktree_mid_merge_never_drops_another_clones_merge(fleet):
    """NEW (pass 24d's way out of 13.3's block, naming no worktree): juniper-cascor's rollout branch
    checked out in a reviewer's worktree, a merge stopped there on a conflict; main moves; apply is
    `blocked`: "a merge is under way in that worktree: finish it (`git merge --continue`) or drop it
    (`git merge --abort`), then switch it off the branch (`git switch --detach`)". Pasted where the
    user stood, in juniper-ml's clone (mid-merge, a conflict resolved by hand), it dropped that merge
    and its resolution, and detached juniper-ml's checkout. Each command names its worktree."""
    repo, here = fleet.repo(CASCOR), fleet.repo(ML)
    assert apply(fleet, CASCOR).code == 0
    worktree_stopped_mid(fleet, repo, "merge")
    env = repo / ".env"
    env.write_text(env.read_text().replace("=", "=rotated-", 1))
    said = " ".join(apply(fleet, CASCOR).stdout.split())
    assert "a merge is under way" in said, said
    _merge_stopped_on_a_conflict(here)
    head = git(here, "symbolic-ref", "-q", "HEAD").strip()
    drop = [c for c in git_commands(said) if c.endswith((" merge --abort", " switch --detach"))]
    assert len(drop) == 2, said
    for command in drop:
        paste(command, here)
    assert (here / ".git" / "MERGE_HEAD").is_file(), f"juniper-ml's merge was dropped by {drop}"
    assert (here / "notes.txt").read_text() == "ours and theirs, resolved by hand\n"
    assert git(here, "symbolic-ref", "-q", "HEAD").strip() == head, drop
    # pasted there, they freed the reviewer's worktree: apply writes the branch
    assert f"{CASCOR}: updated" in apply(fleet, CASCOR).stdout


def test_the_ref_delete_a_drift_finding_offers_never_deletes_another_clones_notes(fleet):
    """NEW (item 9's finding, a command naming no clone): a `.env` kept as a git note in
    juniper-cascor; drift's finding says "deleting that ref is the owner's call: `git update-ref -d
    refs/notes/commits`". `refs/notes/commits` is every clone's default notes ref: pasted in
    juniper-ml's clone, it deleted juniper-ml's review notes and their reflog. It names the clone."""
    repo, here = fleet.repo(CASCOR), fleet.repo(ML)
    env = "HF_TOKEN=note-held-value-25a\nDB_PASSWORD=note-held-pw-25a\n"  # a .env's shape
    git(repo, "notes", "add", "-m", env, "main")
    git(here, "notes", "add", "-m", "Reviewed-by: Ada <ada@example.com>", "main")
    notes = git(here, "rev-parse", "refs/notes/commits").strip()
    said = said_by("drift", "--manifest", fleet.manifest, "--repo", CASCOR)
    assert "holds a note shaped like a plaintext env file" in said, said
    commands = [c for c in git_commands(said) if " update-ref -d " in c]
    assert commands, said
    for command in commands:
        paste(command, here)
    assert git(here, "rev-parse", "--verify", "-q", "refs/notes/commits").strip() == notes, commands
    # pasted there, it did what it offers in the clone it is about
    assert not git(repo, "for-each-ref", "refs/notes/commits").strip(), commands


@pytest.mark.usefixtures("loopback_only")
def test_the_force_a_kept_branch_line_offers_never_deletes_another_repos_open_pull_request(
    loop, github
):
    """NEW (`rollout cleanup`'s way past a kept branch, the kind of pass 24h's status rows): both
    repos pushed, juniper-ml's with an open pull request and a reviewer's commit pushed onto it;
    juniper-cascor has none. `rollout cleanup` said "juniper-cascor: kept (no pull request; --force
    deletes the branch anyway)", naming no repo: the `rollout cleanup --force` it led to deleted
    juniper-ml's branch too, here and on origin, the reviewer's commit and the open pull request's
    head with it. The line offers `rollout cleanup --force --manifest M --repo juniper-cascor`."""
    for name in (CASCOR, ML):
        done = rollout("apply", "-m", loop.manifest, "--repo", name, "--yes", "--push")
        assert done.code == 0, done.stdout
    assert rollout("pr", "-m", loop.manifest, "--repo", ML).code == 0
    bare = loop.root / "remotes" / f"{ML}.git"
    reviewed = git(
        bare, "commit-tree", "-p", BRANCH, "-m", "review: a reviewer's", f"{BRANCH}^{{tree}}"
    ).strip()
    git(bare, "update-ref", f"refs/heads/{BRANCH}", reviewed)
    git(loop.repo(ML), "fetch", "-q", "origin")
    said = said_by("cleanup", "-m", loop.manifest)
    assert f"{CASCOR}: kept" in said and "deletes the branch anyway" in said, said
    offered = [c for c in said.split("`") if c.startswith("rollout cleanup --force")]
    # what the line says to run: its command, or (the words "--force deletes …" alone) --force
    command = offered[0] if offered else f"rollout cleanup --force -m {loop.manifest}"
    paste(command, loop.root)
    assert git(bare, "rev-parse", f"refs/heads/{BRANCH}").strip() == reviewed, command
    assert not git(loop.repo(CASCOR), "branch", "--list", BRANCH).strip(), command


def test_the_rotate_a_plan_line_offers_rotates_the_planned_fleet(fleet, tmp_path):
    """NEW (a `rollout` command in a plan line, the kind of pass 24d's rotate next steps): `rollout
    plan -m M` after `rotate --remove KEY` said ".env.enc update (re-key … a removed key that kept an
    earlier copy still decrypts it: `rollout rotate --data-key`)". Pasted where the user keeps their
    usual fleet (`manifests/repos.yaml`, the default), it wrote the data-key request into THAT
    manifest and left M's repos on the data key the removed key opens. Plan's (and apply's) printed
    lines name the running command's options in each `rollout …`, as apply's errors do."""
    from juniper_rollout import keys

    extra = keys.generate_key_file(tmp_path / "keys-extra.txt")
    assert rollout("rotate", "--manifest", fleet.manifest, "--add", extra).code == 0
    assert apply(fleet, CASCOR).code == 0
    assert rollout("rotate", "--manifest", fleet.manifest, "--remove", extra).code == 0
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    [command] = [c for c in said.split("`") if c.startswith("rollout rotate")]
    usual = tmp_path / "usual" / "manifests" / "repos.yaml"
    usual.parent.mkdir(parents=True)
    usual.write_text(fleet.manifest.read_text())
    before, planned = usual.read_text(), fleet.manifest.read_text()
    pasted = paste(command, usual.parent.parent)
    assert usual.read_text() == before, f"{command} rotated the usual fleet's data keys"
    assert pasted.returncode == 0 and fleet.manifest.read_text() != planned, pasted.stderr
