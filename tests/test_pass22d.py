"""Issue 13, pass 22d: a second adversarial pass over items 1-4 and the branch items of "smaller, same
standard", on what pass 22a added (the only-copy check's "plaintext at hand", the restore commands
under umask 077). Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from tests.demofleet import CANARY
from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_pass21d import _commands, _pasted
from tests.test_pass22a import cleanup_force_keeps, pasted_restore_brings_back


@pytest.mark.usefixtures("loopback_only")
@pytest.mark.parametrize("saved", ["copied with plain cp (saved now)", "saved an hour ahead"])
def test_cleanup_force_keeps_newer_values_when_an_older_env_is_copied_back_with_a_new_time(
    loop, github, tmp_path, saved
):
    """13.1 by `cleanup --force` after pass 22a (ON-LIST, 22a's F2 input in its commonest shape): a
    value rotated and applied with --push, then an older backup of `.env` copied back with plain `cp`
    (the file saved now, after sops wrote the branch's ciphertext), or saved by a clock ahead of the
    one that wrote the ciphertext. 22a compared values only when the file was the older, so it stood
    for the plaintext at hand and `cleanup --force` deleted the rotated value here and on origin. It is
    kept, and the pasted command brings the newer values into a file of their own."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    older = (repo / ".env").read_text()
    (tmp_path / "backup.env").write_text(older)
    assert rollout("apply", *only, "--yes", "--push").code == 0
    name = older.splitlines()[0].split("=", 1)[0]
    newer = older.replace(f"{name}=", f"{name}=rotated-{CANARY}-", 1)
    (repo / ".env").write_text(newer)
    assert "juniper-cascor: updated" in rollout("apply", *only, "--yes", "--push").stdout
    (repo / ".env").write_text((tmp_path / "backup.env").read_text())  # `cp backup.env .env`
    if saved == "saved an hour ahead":
        ahead = time.time() + 3600
        os.utime(repo / ".env", (ahead, ahead))
    said, tip = cleanup_force_keeps(repo, only)
    assert "holds other values for 1 name" in said, said
    assert git(repo, "ls-remote", "origin", BRANCH).strip()  # origin's copy kept too
    pasted_restore_brings_back(repo, only, said, kept=older, values=newer)


def _json_ciphertext_on_top(repo, tmp_path, plaintext: str) -> None:
    """A reviewer's commit on the rollout branch writing `.env.enc` again in sops JSON (same values,
    same age recipient): a format apply reads and re-encrypts as dotenv."""
    from tests.test_adversary import tree_with

    key = os.environ["SOPS_AGE_KEY_FILE"]
    recipient = next(
        line.split(": ", 1)[1]
        for line in open(key).read().splitlines()
        if line.startswith("# public key: ")
    )
    encrypted = subprocess.run(
        [
            "sops",
            "--config",
            os.devnull,
            "encrypt",
            "--input-type",
            "dotenv",
            "--output-type",
            "json",
            "--age",
            recipient,
            "/dev/stdin",
        ],
        input=plaintext,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert CANARY not in encrypted
    tree = tree_with(repo, BRANCH, {".env.enc": encrypted}, tmp_path)
    commit = git(repo, "commit-tree", "-p", BRANCH, "-m", "review: .env.enc as JSON", tree).strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", commit)


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_force_keeps_the_only_copy_of_an_env_enc_in_sops_json(loop, github, tmp_path):
    """13.1 by `cleanup --force` after pass 22a (ON-LIST, a non-dotenv format): apply --push, a
    reviewer's commit writing `.env.enc` again in sops JSON (pushed to the branch), then the `.env` moved away and a comment
    left in its place. 22a's check read only a dotenv ciphertext and took any non-empty `.env` for
    the JSON one's plaintext at hand: `cleanup --force` deleted the only copy of its values. It is
    kept, and the pasted command brings the values back as dotenv into a file of their own."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    moved = (repo / ".env").read_text()
    _json_ciphertext_on_top(repo, tmp_path, moved)
    git(repo, "push", "-q", "origin", BRANCH)  # the reviewer's commit is on the PR branch
    (repo / ".env").rename(tmp_path / "moved-away.env")
    (repo / ".env").write_text("# moved to the vault\n")
    said, tip = cleanup_force_keeps(repo, only)
    assert "of its values out" in said, said
    [command] = _commands(said)
    assert "--input-type json --output-type dotenv" in command, command
    assert _pasted(command, repo).returncode == 0, command
    assert (repo / ".env").read_text() == "# moved to the vault\n"  # never written over
    restored = (repo / ".env.enc.plain").read_text()
    assert sorted(restored.splitlines()) == sorted(moved.splitlines())


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_force_without_a_key_keeps_the_only_copy_when_env_holds_its_ciphertext(
    loop, github, tmp_path, monkeypatch
):
    """13.1 by `cleanup --force` after pass 22a (ON-LIST, a `.env` that holds a "value" for every
    name): apply --push, the `.env` moved away and the branch's ciphertext lines put in its place
    (`git show …:.env.enc | grep -v ^sops_ > .env`: pass 10a's shape, `NAME=ENC[AES256_GCM,…]`),
    cleanup run where no key is set (a CI job, another machine). The check read a value for every
    name and, with no key to compare them, took the file for the plaintext at hand: `cleanup --force`
    deleted the branch here and on origin, the data key with it. apply refuses that `.env` without a
    key ("the value is sops ciphertext"); so does the check: kept."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    (repo / ".env").rename(tmp_path / "moved-away.env")
    lines = git(repo, "show", f"{BRANCH}:.env.enc").splitlines()
    (repo / ".env").write_text(
        "".join(f"{line}\n" for line in lines if not line.startswith("sops_"))
    )
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    refused = " ".join(rollout("plan", *only).stdout.split())
    assert "the value is sops ciphertext" in refused, refused  # apply would not encrypt it
    said, tip = cleanup_force_keeps(repo, only)
    assert "holds sops ciphertext for values" in said, said
    assert git(repo, "ls-remote", "origin", BRANCH).strip()
