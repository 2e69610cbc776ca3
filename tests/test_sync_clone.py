"""`rollout sync` clones a missing repo beside its path and renames it into place when complete:
a clone stopped part-way leaves nothing at the path, and nothing at the path is ever removed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from tests.helpers import git, rollout
from tests.test_adversary import wait_until_gone

ML = "juniper-ml"
ROOT = Path(__file__).resolve().parent.parent


class HeldServer:
    """A git:// server that accepts a connection, says nothing, and hangs up when told: git has
    begun its clone (its folder made) and is waiting when :attr:`connected` is set."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.url = f"git://127.0.0.1:{self.sock.getsockname()[1]}/x.git"
        self.connected = threading.Event()
        self.hang_up = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn = self.sock.accept()[0]
        except OSError:
            return
        self.connected.set()
        self.hang_up.wait(120)
        conn.close()

    def close(self) -> None:
        self.hang_up.set()
        self.sock.close()


def _manifest(fleet, tmp_path: Path, url: str) -> Path:
    manifest = tmp_path / "clone.yaml"
    manifest.write_text(
        fleet.manifest.read_text().replace(
            "  - name: juniper-ml",
            f"  - name: newrepo\n    url: {url}\n  - name: juniper-ml",
        )
    )
    return manifest


def test_a_clone_that_fails_part_way_never_removes_what_appeared_at_the_path(
    fleet, tmp_path, monkeypatch
):
    """While sync's git clone waits on origin, a folder with a file appears at the repo's path (a
    concurrent sync's clone, the user's work); then the clone fails. sync cloned into the path
    itself and removed the path on failure, with the file; now it removes only its own folder."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:git")
    server = HeldServer()
    manifest = _manifest(fleet, tmp_path, server.url)
    target = fleet.repo(ML).parent / "newrepo"
    precious = target / "precious.txt"

    def meanwhile() -> None:
        if server.connected.wait(60):
            target.mkdir(exist_ok=True)
            precious.write_text("not the tool's\n")
        server.hang_up.set()  # the clone fails

    helper = threading.Thread(target=meanwhile)
    helper.start()
    try:
        result = rollout("sync", "-m", manifest, "--repo", "newrepo")
    finally:
        helper.join(60)
        server.close()
    assert server.connected.is_set(), "git never connected"
    assert result.code == 1 and "git clone" in result.stdout, result.stdout + result.stderr
    assert precious.read_text() == "not the tool's\n", "a folder sync did not make was removed"
    assert sorted(p.name for p in target.iterdir()) == ["precious.txt"]
    assert not list(target.parent.glob(".newrepo.sync-*")), "sync's own folder left behind"


def test_the_tool_killed_mid_clone_leaves_nothing_at_the_path_and_the_next_sync_clones(
    fleet, tmp_path
):
    """`kill -9` of sync while git clones (a crash between steps): git dies with it, and the repo's
    path holds no half-made clone the next sync would take for a clone (its folder, git's
    partial clone, stayed at the path). The next sync clones."""
    server = HeldServer()
    manifest = _manifest(fleet, tmp_path, server.url)
    target = fleet.repo(ML).parent / "newrepo"
    proc = subprocess.Popen(
        [sys.executable, "-m", "juniper_rollout.cli", "sync", "-m", str(manifest)]
        + ["--repo", "newrepo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "GIT_ALLOW_PROTOCOL": "file:git"},
    )
    try:
        assert server.connected.wait(60), "git never connected"
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
        assert not wait_until_gone(proc.pid), "git left running"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        server.close()
    assert not target.exists() and not target.is_symlink(), sorted(os.listdir(target))

    manifest.write_text(manifest.read_text().replace(server.url, f"file://{fleet.repo(ML)}"))
    again = rollout("sync", "-m", manifest, "--repo", "newrepo")
    assert again.code == 0 and "cloned" in again.stdout, again.stdout + again.stderr
    assert git(target, "rev-parse", "HEAD") == git(fleet.repo(ML), "rev-parse", "HEAD")


def test_an_empty_folder_waiting_for_the_clone_gets_it_with_its_mode(fleet, tmp_path, monkeypatch):
    """An empty folder at the path is sync's "no clone yet": the clone lands there, the folder's
    mode kept (a 0700 folder stays private), and sync's own folder is gone."""
    manifest = _manifest(fleet, tmp_path, f"file://{fleet.repo(ML)}")
    target = fleet.repo(ML).parent / "newrepo"
    target.mkdir()
    target.chmod(0o700)
    result = rollout("sync", "-m", manifest, "--repo", "newrepo")
    assert result.code == 0 and "cloned" in result.stdout, result.stdout + result.stderr
    assert (target / ".git").is_dir() and (target.stat().st_mode & 0o777) == 0o700
    assert git(target, "status", "--porcelain") == ""
    assert not list(target.parent.glob(".newrepo.sync-*"))


def test_a_path_that_links_to_an_empty_folder_gets_the_clone_there(fleet, tmp_path):
    """A repo's path may be a link to the folder meant for the clone (another disk): sync clones
    beside where it points and renames the clone there, the link kept; a link to nothing is one
    line, nothing made where it points."""
    manifest = _manifest(fleet, tmp_path, f"file://{fleet.repo(ML)}")
    target = fleet.repo(ML).parent / "newrepo"
    elsewhere = tmp_path / "disk" / "newrepo"
    elsewhere.mkdir(parents=True)
    target.symlink_to(elsewhere)
    result = rollout("sync", "-m", manifest, "--repo", "newrepo")
    assert result.code == 0 and "cloned" in result.stdout, result.stdout + result.stderr
    assert target.is_symlink() and (elsewhere / ".git").is_dir()
    assert sorted(p.name for p in elsewhere.parent.iterdir()) == ["newrepo"]

    target.unlink()
    target.symlink_to(tmp_path / "nowhere" / "newrepo")
    dangling = rollout("sync", "-m", manifest, "--repo", "newrepo")
    assert dangling.code == 1 and "is a link to nothing" in dangling.stdout, dangling.stdout
    assert not (tmp_path / "nowhere").exists()
