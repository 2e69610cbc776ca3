"""Issue 13, pass 21e: a last adversarial pass over items 1-4 and the branch items of "smaller, same
standard", after passes 21a and 21d, on the code they added. Each test fails on the main this pass
started from (checked by undoing its fix)."""

from __future__ import annotations

import os
import socket
import subprocess
import threading

import pytest

from tests.demofleet import CANARY
from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_adversary import apply, move_main, tree_with
from tests.test_pass21a import _reviewers_commit_on_top
from tests.test_pass21d import _commands, _pasted, blocked_words


class _FakeVault:
    """A listener standing for the Vault address a hostile sops file names: what reached it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.got = b""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.got += conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 500 no\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


def _hostile_yaml_ciphertext(port: int, tmp_path) -> str:
    """A sops YAML file encrypted to someone else's age recipient, with an hc_vault key at ``port``."""
    import pyrage

    theirs = pyrage.x25519.Identity.generate().to_public()
    encrypted = subprocess.run(
        ["sops", "encrypt", "--input-type", "yaml", "--output-type", "yaml", "--age", str(theirs)]
        + ["/dev/stdin"],
        input="db:\n    password: theirs\n",
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    vault = (
        "sops:\n    hc_vault:\n"
        f"        - vault_address: http://127.0.0.1:{port}\n"
        "          engine_path: transit\n          key_name: k\n"
        '          created_at: "2024-01-01T00:00:00Z"\n          enc: vault:v1:AAAA\n'
    )
    return encrypted.replace("sops:\n", vault, 1)


def test_the_only_copy_advice_never_offers_sops_a_file_naming_other_master_keys(fleet, tmp_path):
    """13.1's advice after pass 21d (NEW): a reviewer's commit on the rollout branch adds
    `deploy/secrets.yaml.enc`, sops YAML naming an age recipient not the user's and an `hc_vault` key
    at an address of theirs; main moves: blocked, "it holds the only copy of deploy/secrets.yaml.enc
    …; bring the values back: `git show … | sops decrypt …`". Pasted (the user's VAULT_TOKEN in the
    environment, as for anyone using Vault), sops tried age, then the Vault key: the token reached
    their address. The tool never hands such a file to sops itself; its advice does not either."""
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    vault = _FakeVault()
    try:
        hostile = _hostile_yaml_ciphertext(vault.port, tmp_path)
        tree = tree_with(repo, BRANCH, {"deploy/secrets.yaml.enc": hostile}, tmp_path)
        commit = git(repo, "commit-tree", "-p", BRANCH, "-m", "review: deploy secrets", tree)
        git(repo, "update-ref", f"refs/heads/{BRANCH}", commit.strip())
        move_main(repo)
        said = blocked_words(fleet)
        assert "only copy of deploy/secrets.yaml.enc" in said, said
        env = {**os.environ, "VAULT_TOKEN": f"vault-token-{CANARY}"}
        for command in _commands(said):
            _pasted(command, repo, env=env)
    finally:
        vault.close()
    assert b"X-Vault-Token" not in vault.got, said
    assert "hc_vault master keys besides age, so no command is offered" in said, said


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_force_never_deletes_newer_values_after_a_merged_pull_request(loop, github):
    """13.1 by `cleanup --force` after pass 21d, another order of steps (ON-LIST): PR #1 merged; a
    value rotated in `.env` and applied again with --push (the branch's `.env.enc` now holds the new
    value, no new PR yet); the `.env` moved away (it is encrypted now). cleanup said "has commits after
    the merged PR #1; --force deletes them too", and `cleanup --force` deleted the branch here and on
    origin: main holds the merged, older value, the new one was on no ref. Pass 21d kept such a branch
    only when no PR was merged. Now it is kept, even with --force, and the line says how to bring the
    values back; the pasted command brings the new value."""
    from tests.test_review import OWNER, apply_pr

    full = f"{OWNER}/juniper-cascor"
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert apply_pr(loop, "--repo", "juniper-cascor").code == 0
    github.merge(full, github.pulls(full)[0].number)
    env = (repo / ".env").read_text()
    name = env.splitlines()[0].split("=", 1)[0]
    (repo / ".env").write_text(env.replace(f"{name}=", f"{name}=rotated-{CANARY}-", 1))
    again = rollout("apply", *only, "--yes", "--push")
    assert again.code == 0 and "juniper-cascor: updated" in again.stdout, again.stdout
    moved = (repo / ".env").read_text()
    (repo / ".env").unlink()
    tip = git(repo, "rev-parse", BRANCH).strip()
    said = ""
    for force in ((), ("--force",)):
        kept = rollout("cleanup", *only, *force)
        said = " ".join(kept.stdout.split())
        assert "juniper-cascor: kept" in said, said
        assert git(repo, "rev-parse", BRANCH).strip() == tip
    assert "holds the only copy of .env.enc" in said, said
    [command] = _commands(said)
    assert _pasted(command, repo).returncode == 0
    assert sorted((repo / ".env").read_text().splitlines()) == sorted(moved.splitlines())
    assert "juniper-cascor: deleted" in rollout("cleanup", *only, "--force").stdout


@pytest.mark.usefixtures("loopback_only")
@pytest.mark.parametrize("shape", ["a virtualenv folder", "a dangling symlink", "an empty file"])
def test_cleanup_force_keeps_the_only_copy_when_something_else_stands_at_env(
    loop, github, tmp_path, shape
):
    """13.1 by `cleanup --force` after pass 21d (ON-LIST, its own input in another shape): apply --push,
    the `.env` moved away, and then a `.env/` folder (`python -m venv .env`, a common habit), a
    symlink left pointing at the moved file, or an empty `.env` (what a failed restore command leaves)
    in its place: the only-copy check took anything at `.env` for the plaintext at hand, cleanup said
    "--force deletes the branch anyway", and `cleanup --force` deleted the branch here and on origin
    (apply refuses such a `.env`: nothing would encrypt those values again). It is kept, even with
    --force; the command is offered where it writes over nothing, and once the thing is moved away."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    moved = (repo / ".env").read_text()
    (repo / ".env").rename(tmp_path / "moved-away.env")
    if shape == "a virtualenv folder":
        (repo / ".env").mkdir()
        (repo / ".env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    elif shape == "a dangling symlink":
        (repo / ".env").symlink_to(tmp_path / "gone.env")
    else:
        (repo / ".env").write_text("")
    tip = git(repo, "rev-parse", BRANCH).strip()
    kept = rollout("cleanup", *only, "--force")
    said = " ".join(kept.stdout.split())
    assert "juniper-cascor: kept" in said and "only copy of .env.enc" in said, said
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    assert git(repo, "rev-parse", f"refs/remotes/origin/{BRANCH}").strip() == tip
    if shape != "an empty file":
        assert not _commands(said), said
        assert "move it away" in said, said
        thing = repo / ".env"
        thing.rename(tmp_path / "the-thing")
        said = " ".join(rollout("cleanup", *only, "--force").stdout.split())
    [command] = _commands(said)
    assert _pasted(command, repo).returncode == 0
    assert sorted((repo / ".env").read_text().splitlines()) == sorted(moved.splitlines())
    assert "juniper-cascor: deleted" in rollout("cleanup", *only, "--force").stdout


def test_the_only_copy_advice_never_offers_a_command_writing_through_a_symlink_out_of_the_clone(
    fleet, tmp_path
):
    """13.1's advice after pass 21d (NEW): a symlink `link` in the clone pointing out of it (to
    `~/.config/autostart`, say) and a reviewer's commit adding `link/evil.desktop.enc` (sops INI,
    encrypted to the fleet's public recipient) on the rollout branch: the only-copy check looked
    through the symlink (no such file there), and the pasted command wrote the file's values outside
    the repository. Such a path is named, and no command is offered for it."""
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    outside = hostile_file_through_a_link(
        fleet,
        repo,
        tmp_path,
        "link/evil.desktop.enc",
        "ini",
        "[Desktop Entry]\nExec=chosen-by-someone-else\n",
    )
    move_main(repo)
    said = blocked_words(fleet)
    for command in _commands(said):
        _pasted(command, repo)
    assert not list(outside.iterdir()), said
    assert "only copy of link/evil.desktop.enc" in said and "symlink out of the clone" in said, said


def hostile_file_through_a_link(fleet, repo, tmp_path, path: str, fmt: str, text: str):
    """A reviewer's commit on the rollout branch adding ``path`` (``text`` encrypted by sops in ``fmt``
    to the fleet's public recipient), whose folder in the clone is a symlink to `autostart/` outside
    it: that folder."""
    outside = tmp_path / "autostart"
    outside.mkdir()
    (repo / path.split("/", 1)[0]).symlink_to(outside)
    hostile = subprocess.run(
        ["sops", "encrypt", "--input-type", fmt, "--output-type", fmt]
        + ["--age", _age_recipient(fleet), "/dev/stdin"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    tree = tree_with(repo, BRANCH, {path: hostile}, tmp_path)
    commit = git(repo, "commit-tree", "-p", BRANCH, "-m", "review: autostart", tree).strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", commit)
    return outside


def _age_recipient(fleet) -> str:
    return next(
        line.split(": ", 1)[1]
        for line in fleet.key_file.read_text().splitlines()
        if line.startswith("# public key: ")
    )


def test_two_only_copies_are_never_restored_into_one_file(fleet, tmp_path):
    """13.1's advice after pass 21d (ON-LIST): `target: .env.enc` renamed to `config/.env.enc` and
    applied (the branch holds both: the old one with the old values, the new one with a name added),
    the `.env` moved away, a reviewer's commit on top, main moved: blocked, "it holds the only copies
    of .env.enc (…), config/.env.enc (…)", with two commands both ending `> .env`: pasted in turn, the
    second wrote over the first's values, and deleting the branch as advised lost them. Each command
    writes a file of its own; the manifest's target comes back into its `encrypt:` source."""
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    old = (repo / ".env").read_text()
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(text.replace("target: .env.enc", "target: config/.env.enc", 1))
    (repo / ".env").write_text(old + f"NEWER_TOKEN=newer-{CANARY}\n")
    assert apply(fleet, "juniper-cascor").code == 0
    assert {".env.enc", "config/.env.enc"} <= set(
        git(repo, "ls-tree", "-r", "--name-only", BRANCH).split()
    )
    new = (repo / ".env").read_text()
    (repo / ".env").rename(tmp_path / "moved-away.env")
    _reviewers_commit_on_top(repo, tmp_path)
    move_main(repo)
    said = blocked_words(fleet)
    commands = _commands(said)
    assert len(commands) == 2, said
    for command in commands:
        assert _pasted(command, repo).returncode == 0, command
    assert sorted((repo / ".env").read_text().splitlines()) == sorted(new.splitlines()), said
    olds = list(repo.glob(".env.enc.plain*"))
    assert len(olds) == 1, said
    assert sorted(olds[0].read_text().splitlines()) == sorted(old.splitlines()), said


def test_a_refusal_never_offers_sops_a_committed_file_naming_other_master_keys(fleet, tmp_path):
    """13.1's committed-ciphertext refusals (NEW): a fresh clone (no local rollout branch), origin's
    rollout branch holding a `.env.enc` that someone who can push it wrote: an age recipient not the
    user's and an `hc_vault` key at their address; the `.env` a copy of `.env.example` (no values).
    `rollout plan` refused with "fill them in (`git show refs/remotes/origin/…:.env.enc | sops decrypt
    …` prints the committed ones)"; pasted, sops sent the user's VAULT_TOKEN there. The refusal now
    says the file names other master keys, and offers no sops command."""
    import re

    import pyrage

    repo = fleet.repo("juniper-cascor")
    vault = _FakeVault()
    try:
        theirs = str(pyrage.x25519.Identity.generate().to_public())
        encrypted = subprocess.run(
            ["sops", "encrypt", "--input-type", "dotenv", "--output-type", "dotenv"]
            + ["--age", theirs, "/dev/stdin"],
            input="HF_TOKEN=theirs\nOTHER=theirs\n",
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
        ).stdout
        encrypted += "".join(
            f"sops_hc_vault__list_0__map_{key}={value}\n"
            for key, value in (
                ("vault_address", f"http://127.0.0.1:{vault.port}"),
                ("engine_path", "transit"),
                ("key_name", "k"),
                ("created_at", "2024-01-01T00:00:00Z"),
                ("enc", "vault:v1:AAAA"),
            )
        )
        tree = tree_with(repo, "main", {".env.enc": encrypted}, tmp_path)
        commit = git(repo, "commit-tree", "-p", "main", "-m", "chore: secrets", tree).strip()
        git(repo, "update-ref", f"refs/remotes/origin/{BRANCH}", commit)
        names = [
            line.split("=", 1)[0]
            for line in (repo / ".env").read_text().splitlines()
            if "=" in line and not line.startswith("#")
        ]
        (repo / ".env").write_text("".join(f"{name}=\n" for name in names))
        plan = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
        said = " ".join(plan.stdout.split())
        env = {**os.environ, "VAULT_TOKEN": f"vault-token-{CANARY}"}
        for command in re.findall(r"`(git -C \S+ show [^`]*)`", said):
            _pasted(command, repo, env=env)
    finally:
        vault.close()
    assert b"X-Vault-Token" not in vault.got, said
    assert "hc_vault master keys besides age" in said, said
