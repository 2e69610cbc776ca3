"""A GitHub API that trickles its answer ends the call within REQUEST_DEADLINE (issue 13 item 11;
pass 16a's open item): githubkit's 30 s timeout is per read, so a server or proxy sending one header
line every few seconds held `rollout status` and `rollout pr` for ever."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress

import pytest

from tests.helpers import rollout


@pytest.fixture
def trickling_api():
    """An http server on 127.0.0.1 that answers `200 OK`, then one header line every 0.2 s, never
    ending its headers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    stop = threading.Event()

    def trickle(conn: socket.socket) -> None:
        with suppress(OSError), conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not stop.is_set():
                conn.sendall(b"X-Wait: a\r\n")
                time.sleep(0.2)

    def serve() -> None:
        with suppress(OSError):
            while True:
                threading.Thread(target=trickle, args=(server.accept()[0],), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    server.close()


def test_an_api_trickling_its_headers_ends_the_call_with_one_line(loop, monkeypatch, trickling_api):
    from juniper_rollout import forge

    monkeypatch.setattr(forge, "REQUEST_DEADLINE", 1.5)
    monkeypatch.setenv("GITHUB_TOKEN", "dummy-token-for-the-test")
    monkeypatch.setenv("GITHUB_API_URL", trickling_api)  # in place of the fake GitHub
    result = rollout("status", "--manifest", loop.manifest, "--repo", "juniper-ml")
    said = " ".join((result.stdout + result.stderr).split())  # the table wraps the line
    assert result.code == 1, said
    assert f"GitHub at {trickling_api} did not answer in time (list pull requests on" in said, said
    assert "Traceback" not in said and "dummy-token" not in said
