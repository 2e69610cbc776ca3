"""bootstrap's clone from a URL holding a token runs with git's traces off: a trace the user turned
on (in the environment, or by `trace2.*Target` in their git config) recorded the whole URL of git's
transport helper, token included (round six, left open from stop 20; issue 13 item 7)."""

from __future__ import annotations

import socket
import threading
from contextlib import suppress

from tests.helpers import rollout

TOKEN = "SECRETtraced7f3a"
TRACES = ("GIT_TRACE", "GIT_TRACE2", "GIT_TRACE2_EVENT", "GIT_TRACE2_PERF", "GIT_TRACE_CURL")


def _server_asking_for_a_password() -> tuple[socket.socket, int]:
    """An http server that answers every request 401: git sends the URL's credential, then gives up."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def answer() -> None:
        with suppress(OSError):  # closed when the test ends
            while True:
                conn = server.accept()[0]
                with conn:
                    conn.recv(65536)
                    conn.sendall(
                        b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=x\r\n"
                        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                    )

    threading.Thread(target=answer, daemon=True).start()
    return server, server.getsockname()[1]


def test_a_clone_with_a_token_writes_it_to_no_trace(fleet, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    config_traces = [tmp_path / "config-event.log", tmp_path / "config-normal.log"]
    (home / ".gitconfig").write_text(
        f"[trace2]\n\teventTarget = {config_traces[0]}\n\tnormalTarget = {config_traces[1]}\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "http")
    monkeypatch.setenv("GIT_CURL_VERBOSE", "1")  # to stderr, which the tool reads and redacts
    env_traces = [tmp_path / f"{name}.log" for name in TRACES]
    for name, path in zip(TRACES, env_traces, strict=True):
        monkeypatch.setenv(name, str(path))
    server, port = _server_asking_for_a_password()
    before = fleet.manifest.read_bytes()
    try:
        result = rollout(
            "bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest,
            "--url", f"http://x-access-token:{TOKEN}@127.0.0.1:{port}/canopy.git",
        )  # fmt: skip
    finally:
        server.close()
    assert result.code == 1 and "git clone http://127.0.0.1" in result.stderr, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert fleet.manifest.read_bytes() == before
    for trace in env_traces + config_traces:
        assert not trace.exists() or TOKEN not in trace.read_text(errors="replace"), trace.name


def test_git_traces_still_work_for_everything_else(tmp_path, monkeypatch):
    """Only the credentialed clone is untraced: the user's trace of the tool's other git runs stays."""
    from juniper_rollout import gitrepo
    from tests.demofleet import make_repo
    from tests.helpers import git

    trace = tmp_path / "trace.log"
    source = make_repo(tmp_path / "src", {"README.md": "# x\n"})
    monkeypatch.setenv("GIT_TRACE", str(trace))
    gitrepo.clone_repo(f"file://{source}", tmp_path / "copy")
    assert "clone" in trace.read_text()
    assert git(tmp_path / "copy", "log", "--format=%s").strip()
