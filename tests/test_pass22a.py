"""Issue 13, pass 22a: another adversarial pass over items 1-4 and the branch items of "smaller, same
standard", on what passes 21a, 21d and 21e added. Each test fails on the main this pass started from
(checked by undoing its fix)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time

import pytest

from tests.demofleet import CANARY
from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_pass21d import _commands, _pasted


def cleanup_force_keeps(repo, only) -> tuple[str, str]:
    """`rollout cleanup --force` run on juniper-cascor's branch, which holds the only copy of
    `.env.enc`: its words (on one line) and the branch's tip, which it kept."""
    tip = git(repo, "rev-parse", BRANCH).strip()
    said = " ".join(rollout("cleanup", *only, "--force").stdout.split())
    assert "juniper-cascor: kept" in said and "only copy of .env.enc" in said, said
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    return said, tip


def pasted_restore_brings_back(repo, only, said: str, *, kept: str, values: str) -> None:
    """The one command ``said`` offers, pasted: it writes ``values`` into `.env.enc.plain` and leaves
    `.env` (``kept``) as it was; once they are taken into `.env`, cleanup deletes the branch."""
    [command] = _commands(said)
    assert _pasted(command, repo).returncode == 0, command
    assert (repo / ".env").read_text() == kept  # never written over
    restored = (repo / ".env.enc.plain").read_text()
    assert sorted(restored.splitlines()) == sorted(values.splitlines())
    (repo / ".env").write_text(restored)  # the values taken in: the branch may go
    assert "juniper-cascor: deleted" in rollout("cleanup", *only, "--force").stdout


@pytest.mark.usefixtures("loopback_only")
@pytest.mark.parametrize(
    "shape",
    ["a copy of .env.example", "a comment only", "one value of several", "too large to read"],
)
def test_cleanup_force_keeps_the_only_copy_when_the_env_in_the_clone_lacks_its_values(
    loop, github, tmp_path, shape
):
    """13.1 by `cleanup --force` after pass 21e (ON-LIST, its own input in another shape): apply --push,
    the `.env` moved away, and a `.env` put back that does not hold the values: a copy of
    `.env.example` (the step its header asks for), a comment alone, or one value of several. apply
    refuses each ("holds no values", "lacks 14 names"), so nothing would encrypt the values again, yet
    the only-copy check took any non-empty file for the plaintext at hand: `cleanup --force` deleted
    the branch here and on origin. It is kept, and the command writes the values into a file of its
    own, never over the `.env` there."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    moved = (repo / ".env").read_text()
    (repo / ".env").rename(tmp_path / "moved-away.env")
    if shape == "a copy of .env.example":
        (repo / ".env").write_text(git(repo, "show", f"{BRANCH}:.env.example"))
    elif shape == "too large to read":
        with (repo / ".env").open("wb") as big:
            big.truncate(17 << 20)
    elif shape == "a comment only":
        (repo / ".env").write_text("# moved to the vault\n")
    else:
        (repo / ".env").write_text(moved.splitlines()[0] + "\n")
    left = (repo / ".env").read_bytes()
    tip = git(repo, "rev-parse", BRANCH).strip()
    kept = rollout("cleanup", *only, "--force")
    said = " ".join(kept.stdout.split())
    assert "juniper-cascor: kept" in said and "only copy of .env.enc" in said, said
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    words = "cannot be read by the tool" if shape == "too large to read" else "of its values out"
    assert words in said, said
    [command] = _commands(said)
    assert _pasted(command, repo).returncode == 0, command
    assert (repo / ".env").read_bytes() == left  # never written over
    restored = repo / ".env.enc.plain"
    assert sorted(restored.read_text().splitlines()) == sorted(moved.splitlines())
    restored.replace(repo / ".env")
    assert "juniper-cascor: deleted" in rollout("cleanup", *only, "--force").stdout


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_force_keeps_newer_values_when_an_older_env_is_copied_back(loop, github, tmp_path):
    """13.1 by `cleanup --force` (ON-LIST): a value rotated and applied with --push, then an older
    backup of `.env` copied back with its time kept (`cp -p`, `rsync -a`). apply refuses it ("written
    by sops … after .env was last saved, and holds other values"), yet the only-copy check took it for
    the plaintext at hand: `cleanup --force` deleted the rotated value here and on origin. It is kept,
    with a command that brings the newer values into a file of their own."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    older = (repo / ".env").read_text()
    assert rollout("apply", *only, "--yes", "--push").code == 0
    name = older.splitlines()[0].split("=", 1)[0]
    newer = older.replace(f"{name}=", f"{name}=rotated-{CANARY}-", 1)
    (repo / ".env").write_text(newer)
    assert "juniper-cascor: updated" in rollout("apply", *only, "--yes", "--push").stdout
    (repo / ".env").write_text(older)  # a backup copied back with its time kept (`cp -p`, rsync -a)
    hour_ago = time.time() - 3600
    os.utime(repo / ".env", (hour_ago, hour_ago))
    refused = " ".join(rollout("plan", *only).stdout.split())
    assert "holds other values for 1 name" in refused, refused  # apply would not encrypt it
    said, tip = cleanup_force_keeps(repo, only)
    assert "holds other values for 1 name (an older copy?)" in said, said
    pasted_restore_brings_back(repo, only, said, kept=older, values=newer)


def _large_enc_on_top(repo, tmp_path) -> None:
    """A reviewer's commit on the rollout branch adding a 17 MB `data/model.bin.enc` (an encrypted
    model or data set: not sops, larger than the tool reads)."""
    big = tmp_path / "model.bin.enc"
    big.write_bytes(b"\0" * (17 << 20))
    blob = git(repo, "hash-object", "-w", str(big)).strip()
    big.unlink()
    index = tmp_path / "index"
    env = {"GIT_INDEX_FILE": str(index)}
    subprocess.run(
        ["git", "-C", str(repo), "read-tree", BRANCH], env={**os.environ, **env}, check=True
    )
    subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "update-index",
            "--add",
            "--cacheinfo",
            f"100644,{blob},data/model.bin.enc",
        ],
        env={**os.environ, **env},
        check=True,
    )
    tree = subprocess.run(
        ["git", "-C", str(repo), "write-tree"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    commit = git(
        repo, "commit-tree", "-p", BRANCH, "-m", "review: the model, encrypted", tree
    ).strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", commit)


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_force_keeps_the_only_copy_beside_a_file_too_large_to_read(loop, github, tmp_path):
    """13.1 by `cleanup --force` (ON-LIST): apply --push, the `.env` moved away, and a reviewer's
    commit adding a 17 MB `data/model.bin.enc` (an encrypted model: not sops, larger than the tool
    reads). Reading it failed the whole only-copy check, and cleanup took the failure for "nothing to
    lose": `cleanup --force` deleted the branch here and on origin, `.env.enc`'s values with it.
    (apply refuses the repo in one line, as before: nothing written.)"""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    (repo / ".env").rename(tmp_path / "moved-away.env")
    _large_enc_on_top(repo, tmp_path)
    tip = git(repo, "rev-parse", BRANCH).strip()
    failed = " ".join(rollout("apply", *only, "--yes").stdout.split())
    assert "juniper-cascor: failed data/model.bin.enc" in failed, (
        failed
    )  # one line, nothing written
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    said = " ".join(rollout("cleanup", *only, "--force").stdout.split())
    assert "juniper-cascor: kept" in said and "only copy of .env.enc" in said, said
    assert git(repo, "rev-parse", BRANCH).strip() == tip


def test_a_pasted_restore_command_writes_the_plaintext_readable_by_its_owner_alone(fleet, tmp_path):
    """13.1's advice (NEW, a leak): the only-copy restore command (`git show … | sops decrypt …
    --output=.env /dev/stdin`) had sops create `.env` with the shell's umask: 0644 under the usual
    022, the secrets readable by every account on the machine, where the moved-away `.env` was the
    user's alone (pass 21d's note). The command now makes the file its owner's alone, whatever the
    umask, and leaves the shell's umask as it was."""
    from tests.test_adversary import apply, move_main
    from tests.test_pass21a import _reviewers_commit_on_top

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    moved = (repo / ".env").read_text()
    (repo / ".env").rename(tmp_path / "moved-away.env")
    _reviewers_commit_on_top(repo, tmp_path)
    move_main(repo)
    said = " ".join(apply(fleet, "juniper-cascor").stdout.split())
    assert "only copy of .env.enc" in said, said
    [command] = _commands(said)
    pasted = _pasted(f"umask 022; {command}; umask", repo)
    assert pasted.returncode == 0, pasted.stderr
    assert pasted.stdout.strip() == "0022"  # the shell's own umask untouched
    assert stat.S_IMODE((repo / ".env").stat().st_mode) == 0o600
    assert sorted((repo / ".env").read_text().splitlines()) == sorted(moved.splitlines())


def _hostile_dotenv_ciphertext(port: int, tmp_path) -> str:
    """A sops dotenv file encrypted to someone else's age recipient, with an hc_vault key at ``port``."""
    import pyrage

    theirs = str(pyrage.x25519.Identity.generate().to_public())
    encrypted = subprocess.run(
        ["sops", "encrypt", "--input-type", "dotenv", "--output-type", "dotenv"]
        + ["--age", theirs, "/dev/stdin"],
        input="HF_TOKEN=theirs\n",
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    return encrypted + "".join(
        f"sops_hc_vault__list_0__map_{key}={value}\n"
        for key, value in (
            ("vault_address", f"http://127.0.0.1:{port}"),
            ("engine_path", "transit"),
            ("key_name", "k"),
            ("created_at", "2024-01-01T00:00:00Z"),
            ("enc", "vault:v1:AAAA"),
        )
    )


def test_the_renamed_target_refusal_never_offers_sops_a_file_naming_other_master_keys(
    fleet, tmp_path
):
    """13.1's committed-ciphertext refusals (NEW, as pass 21e's F1/F7 for another refusal): the
    manifest's target renamed (`.env.enc` → `config/.env.enc`), the `.env` moved away, and a
    reviewer's commit on the rollout branch adding `.ci.env.enc`, sops dotenv with an age recipient
    not the user's and an `hc_vault` key at their address. plan refused: "the rollout branch holds
    .ci.env.enc, which no `encrypt:` entry names now …; bring .env back (`git show … > .ci.env.enc`,
    then `sops decrypt … .ci.env.enc > .env`)"; pasted, sops sent the user's VAULT_TOKEN there (and
    wrote `.env` with the shell's umask). The command is built as every other restore command: the
    file checked (no command for such a file), piped, written by its owner alone."""
    from tests.test_adversary import move_main, tree_with
    from tests.test_pass21e import _FakeVault

    repo = fleet.repo("juniper-cascor")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes").code == 0
    (repo / ".env").rename(tmp_path / "moved-away.env")
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(text.replace("target: .env.enc", "target: config/.env.enc", 1))
    move_main(repo)
    said = " ".join(rollout("plan", *only).stdout.split())
    assert "the rollout branch holds .env.enc, which no `encrypt:` entry names now" in said, said
    [command] = _commands(said)
    assert _pasted(f"umask 022; {command}", repo).returncode == 0, command
    assert stat.S_IMODE((repo / ".env").stat().st_mode) == 0o600
    moved = (tmp_path / "moved-away.env").read_text()
    assert sorted((repo / ".env").read_text().splitlines()) == sorted(moved.splitlines())
    (repo / ".env").unlink()
    vault = _FakeVault()
    try:
        hostile = _hostile_dotenv_ciphertext(vault.port, tmp_path)
        tree = tree_with(repo, BRANCH, {".ci.env.enc": hostile}, tmp_path)
        commit = git(repo, "commit-tree", "-p", BRANCH, "-m", "review: ci secrets", tree)
        git(repo, "update-ref", f"refs/heads/{BRANCH}", commit.strip())
        said = " ".join(rollout("plan", *only).stdout.split())
        assert ".ci.env.enc" in said, said
        env = {**os.environ, "VAULT_TOKEN": f"vault-token-{CANARY}"}
        for command in re.findall(r"`((?:mkdir|git -C \S+ show|sops decrypt) [^`]*)`", said):
            _pasted(command, repo, env=env)
    finally:
        vault.close()
    assert b"X-Vault-Token" not in vault.got, said
    assert "names hc_vault master keys besides age" in said, said


def test_the_renamed_target_refusal_never_offers_a_command_writing_through_a_symlink_out(
    fleet, tmp_path
):
    """The same refusal's command for a reviewer's `.a/evil.yaml.enc` (sops YAML, encrypted to the
    fleet's public recipient) where `.a` in the clone is a symlink to a folder outside it: the file
    is named with that reason and no command writes there (as pass 21e's F4 for the only-copy
    advice)."""
    from tests.test_adversary import move_main
    from tests.test_pass21e import hostile_file_through_a_link

    repo = fleet.repo("juniper-cascor")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes").code == 0
    fleet.merge_all()  # main holds .env.enc: the refusal reads past it to the reviewer's file
    outside = hostile_file_through_a_link(
        fleet,
        repo,
        tmp_path,
        ".a/evil.yaml.enc",
        "yaml",
        "autostart:\n    exec: chosen-by-someone-else\n",
    )
    (repo / ".env").rename(tmp_path / "moved-away.env")
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(text.replace("target: .env.enc", "target: config/.env.enc", 1))
    move_main(repo)
    said = " ".join(rollout("plan", *only).stdout.split())
    assert "the rollout branch holds .a/evil.yaml.enc" in said, said
    for command in re.findall(r"`((?:mkdir|git -C \S+ show|sops decrypt) [^`]*)`", said):
        _pasted(command, repo)
    assert not list(outside.iterdir()), said
    assert "symlink out of the clone" in said, said


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_force_keeps_the_only_copy_when_the_base_branch_was_renamed(loop, github, tmp_path):
    """13.1 by `cleanup --force` (ON-LIST): apply --push, the `.env` moved away, then the base
    renamed (`git branch -m main trunk`, origin's `main` gone after a fetch with prune: GitHub's
    default-branch rename) before the manifest's `base:` follows. The only-copy check found no base
    to compare with and answered "" ("the PR's state decides"): `cleanup --force` deleted the branch
    here and on origin, `.env.enc`'s only copy with it. With no base, nothing is on it: the branch
    is kept, with the command that brings the values back."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    moved = (repo / ".env").read_text()
    (repo / ".env").rename(tmp_path / "moved-away.env")
    git(repo, "branch", "-m", "main", "trunk")
    git(repo, "update-ref", "-d", "refs/remotes/origin/main")
    said, tip = cleanup_force_keeps(repo, only)
    assert git(repo, "rev-parse", f"refs/remotes/origin/{BRANCH}").strip() == tip
    [command] = _commands(said)
    assert _pasted(command, repo).returncode == 0, command
    assert sorted((repo / ".env").read_text().splitlines()) == sorted(moved.splitlines())
