"""The user-error types: one line each, and a ManifestError survives the trip back from a worker."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from juniper_rollout import branches
from juniper_rollout.errors import ManifestError, RolloutError
from juniper_rollout.fleet import plan_fleet
from tests.helpers import git
from tests.test_pool import planned_fleet


def test_a_manifest_error_keeps_its_parts_and_pickles_whole():
    message = "age_recipients: not a list (write `age_recipients: [age1…]`)"
    err = ManifestError("repos.yaml", 7, message)
    assert str(err) == f"repos.yaml:7: {message}" and err.message == message
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ManifestError and isinstance(back, RolloutError)
    assert (back.file, back.line, back.message, str(back)) == ("repos.yaml", 7, message, str(err))
    unplaced = pickle.loads(pickle.dumps(ManifestError("m.yaml", None, "empty")))
    assert str(unplaced) == "m.yaml: empty"


def test_an_unexpected_failure_leaves_a_log_of_where_without_any_value(tmp_path, monkeypatch):
    """The one-line report names a log under the cache folder: exception types and code lines,
    never a message (it may quote what was read) -- here zlib's, about the damaged object."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    manifest, plans, names = planned_fleet(tmp_path, 2)
    broken = tmp_path / "ws" / names[1]
    tree = git(broken, "rev-parse", "main^{tree}").strip()
    obj = broken / ".git" / "objects" / tree[:2] / tree[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"not zlib at all")

    replanned = plan_fleet(manifest, manifest.repos, jobs=1)
    error = replanned[1].error
    assert error.startswith("unexpected ") and "(details: " in error
    log = Path(error.rsplit("(details: ", 1)[1].rstrip(")"))
    assert log.parent == tmp_path / "cache" / "juniper-rollout"
    text = log.read_text()
    assert f"while planning {names[1]}" in text and "Traceback (most recent call last):" in text
    assert 'juniper_rollout/fleet.py", line' in text  # where, in the tool's code
    assert text.rstrip().splitlines()[-1] == "zlib.error"  # the type, alone
    assert "incorrect header check" not in text and "not zlib" not in text  # no message, no data
    outcomes = branches.apply_plans(manifest, plans, saved=False, push=False, jobs=1)
    assert "(details: " in outcomes[1].message


def test_an_unexpected_failure_in_a_commands_own_code_is_one_line_and_a_crash_log():
    """A real input that crashed a command outside any repo's job (found for this test, not
    injected): `rollout keygen --key-file` under a folder the user may not search, where
    pathlib's exists() raises PermissionError. Python's traceback was printed; now one line
    names the crash log, exit 1. Run as a user that is not root (root searches any folder):
    `nobody`, through setpriv, when the tests run as root."""
    # not tmp_path (nor the tests' TMPDIR): nobody cannot reach into those, root's, 0700
    base = Path(tempfile.mkdtemp(prefix="crash-", dir="/tmp"))
    locked = base / "locked"
    try:
        base.chmod(0o755)
        locked.mkdir()
        (base / "cache").mkdir(mode=0o777)
        (base / "cache").chmod(0o777)
        as_user: list[str] = []
        if os.geteuid() == 0:
            locked.chmod(0o700)  # root's, searched by nobody
            setpriv = shutil.which("setpriv")
            assert setpriv, "setpriv (util-linux) runs the CLI as nobody"
            as_user = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        else:
            locked.chmod(0o000)  # ours, unsearchable by us
        key_file = locked / "sub" / "k.txt"
        env = {**os.environ, "XDG_CACHE_HOME": str(base / "cache"), "HOME": str(base / "cache")}
        env["TMPDIR"] = str(base / "cache")
        done = subprocess.run(
            [*as_user, sys.executable, "-m", "juniper_rollout.cli", "keygen"]
            + ["--key-file", str(key_file)],
            capture_output=True,
            text=True,
            cwd=base,
            env=env,
            timeout=120,
        )
        lines = done.stderr.splitlines()
        assert done.returncode == 1 and len(lines) == 1, done.stderr
        assert lines[0].startswith(
            "error: unexpected PermissionError while running `rollout keygen`"
        )
        assert "Traceback" not in done.stderr and "Permission denied" not in done.stderr
        log = Path(lines[0].rsplit("(details: ", 1)[1].rstrip(")"))
        assert log.parent == base / "cache" / "juniper-rollout"
        text = log.read_text()
        assert 'juniper_rollout/commands/keygen.py", line' in text
        assert text.rstrip().splitlines()[-1] == "builtins.PermissionError"
        assert "Permission denied" not in text and str(locked) not in text  # no message, no value
        assert not (locked / "sub").exists()
    finally:
        locked.chmod(0o700)
        shutil.rmtree(base)
