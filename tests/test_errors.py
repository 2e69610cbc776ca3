"""The user-error types: one line each, and a ManifestError survives the trip back from a worker."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

from juniper_rollout import branches
from juniper_rollout.errors import ManifestError, RolloutError
from juniper_rollout.fleet import plan_fleet
from tests.demofleet import CANARY
from tests.helpers import git, rollout
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


def test_an_unexpected_failure_in_a_commands_own_code_is_one_line_and_a_crash_log(
    tmp_path, monkeypatch
):
    """An exception escaping a command's own code, outside any repo's job, printed Python's
    traceback, with its message. A fault injected at the edge, for this test only (no real input
    is known to do it any more: the one found, keygen under a folder the user may not search, is
    now a user error, tested below): the key writer raises with a message that names a path. One
    line names the crash log, exit 1, and the log holds no message."""
    from juniper_rollout import keys

    def broken(path, **_):
        raise RuntimeError(f"disk on fire at {CANARY}")

    monkeypatch.setattr(keys, "generate_key_file", broken)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = rollout("keygen", "--key-file", tmp_path / "k.txt")
    lines = result.stderr.splitlines()
    assert result.code == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: unexpected RuntimeError while running `rollout keygen`")
    assert "Traceback" not in result.stdout + result.stderr and "on fire" not in result.stderr
    log = Path(lines[0].rsplit("(details: ", 1)[1].rstrip(")"))
    assert log.parent == tmp_path / "cache" / "juniper-rollout"
    text = log.read_text()
    assert 'juniper_rollout/commands/keygen.py", line' in text
    assert text.rstrip().splitlines()[-1] == "builtins.RuntimeError"
    # its code lines only (the raise above is one): never the message, nor the value in it
    assert f"disk on fire at {CANARY}" not in text and CANARY not in text


def test_a_key_file_under_a_folder_the_user_may_not_search_is_one_line(tmp_path):
    """pathlib's exists() raises PermissionError under a folder the user may not search: keygen
    printed a traceback (found by helper U, round nine). Run without the capabilities that let
    root search any folder when the tests run as root (setpriv, util-linux)."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o000)
    without = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) drops root's right to search any folder"
        caps = "-dac_override,-dac_read_search"
        without = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]
    try:
        done = subprocess.run(
            [*without, sys.executable, "-m", "juniper_rollout.cli", "keygen"]
            + ["--key-file", str(locked / "sub" / "k.txt")],
            capture_output=True,
            text=True,
            env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
            timeout=120,
        )
    finally:
        locked.chmod(0o700)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"error: --key-file {locked / 'sub' / 'k.txt'}: cannot look inside {locked / 'sub'} "
        "(Permission denied); give a path in a folder you can read"
    ]
    assert not (locked / "sub").exists()
