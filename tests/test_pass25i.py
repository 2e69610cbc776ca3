"""Pass 25i: a verification pass over issue 13 items 9-12 (drift's history scan, orphaned workers,
tracebacks and hangs, `--out` symlinks). Each original item held; one fresh spelling of 13.11 did not."""

from __future__ import annotations

import socket

from tests.demofleet import make_repo
from tests.test_adversary import run_cli
from tests.test_hostile import manifest_for


def test_an_env_that_is_a_socket_is_named_as_not_a_regular_file(tmp_path):
    """ON-LIST 13.11 (a FIFO as `.env`, in a new spelling): a Unix socket at the `.env` an `encrypt:`
    entry names cannot be opened at all (ENXIO, where a FIFO opens and is then refused), and plan,
    apply and drift said "cannot read .env in the clone: No such device or address (check its
    permissions)": a fix hint that does nothing. It is named as the FIFO is: not a regular file."""
    repo = make_repo(tmp_path / "ws" / "victim", {".gitignore": ".env\n"})
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(repo / ".env"))
        manifest = manifest_for(
            tmp_path, "  - name: victim\n    encrypt: [{source: .env, target: .env.enc}]\n"
        )
        for command in (["plan", "--json"], ["drift", "--format", "json"]):
            result = run_cli(*command, "--manifest", manifest, "--repo", "victim")
            assert result.returncode == 1 and "Traceback" not in result.stderr
            assert "check its permissions" not in result.stdout + result.stderr
            assert ".env in the clone is not a regular file" in result.stdout, result.stdout
        result = run_cli("apply", "--yes", "--manifest", manifest, "--repo", "victim")
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "victim: failed  .env in the clone is not a regular file" in result.stdout
        assert "check its permissions" not in result.stdout + result.stderr
    finally:
        sock.close()
