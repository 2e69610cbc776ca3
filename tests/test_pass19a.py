"""Issue 13, pass 19a: items 1-4 and 10-12 again (the issue's own attacks, every logged variant, then new
ones). Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import rollout

# --- item 11: deep nesting after a text libyaml refuses, as ruamel's own parser reads it ---------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # `x '` is a plain scalar (a quote inside one is a character), then the nested lists
        (b"x: [a:]\nz: [x ' , " + b"[" * 3000 + b"]" * 3000 + b" , 'q']\n", 2),
        (b'x: [a:]\nz: [x " , ' + b"[" * 3000 + b"]" * 3000 + b' , "q"]\n', 2),
        # a quoted text going on over two lines (pass 18a's open item)
        (b'x: [a:]\nz: [ "abc\n  " , ' + b"[" * 3000 + b"]" * 3000 + b' , "q"]\n', 3),
        (b"x: [a:]\nz: [ 'abc\n  ' , " + b"[" * 3000 + b"]" * 3000 + b" , 'q']\n", 3),
    ],
    ids=["plain-then-single-quote", "plain-then-double-quote", "double-over-two-lines",
         "single-over-two-lines"],
)  # fmt: skip
def test_deep_nesting_that_a_quote_pattern_would_skip_is_refused_with_its_line(
    tmp_path, text, line
):
    """After a text libyaml refuses (`x: [a:]`), the nesting was counted by a pattern that skipped
    quoted texts line by line: a quote inside a plain scalar (`[x ' , [[[…]]] , 'q']`) or a quoted text
    closed on the next line hid 3,000 nested lists from it, and ruamel's pure scanner took 5 s to say
    "nested too deeply" without a line. Now counted by ruamel's own parser, stopped past MAX_DEPTH."""
    from juniper_rollout import yamlio

    with pytest.raises(yamlio.YamlSyntaxError) as err:
        yamlio.check_size(text.decode())
    assert err.value.line == line and str(err.value) == yamlio.TOO_DEEP
    path = tmp_path / "deep.yaml"
    path.write_bytes(text)
    result = rollout("plan", "--manifest", path)
    assert result.code == 1
    assert result.stderr.startswith(f"error: {path}:{line}: invalid YAML: nested too deeply"), (
        result.stderr
    )


# --- item 10: every child that can wait for ever dies with the tool (`kill -9`) ----------------------

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
CASCOR = "juniper-cascor"


def _alive(pids: list[int]) -> list[int]:
    """Those of ``pids`` still running (a zombie is not: PID 1 here reaps none)."""
    from pathlib import Path

    alive = []
    for pid in pids:
        try:
            state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    return alive


def _started_by(tool: int, pattern: str) -> list[int]:
    """Live processes whose command line holds ``pattern`` and that ``tool`` started: in its session,
    or its own children in a session of their own (bootstrap's clone)."""
    from pathlib import Path

    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == tool:
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if tool in (int(fields[1]), int(fields[3])) and pattern in cmdline:
            found.append(int(entry.name))
    return _alive(found)


def _kill_9_while(args: list[str], waiting_on: str, env: dict[str, str]) -> list[int]:
    """``rollout ARGS`` in a session of its own; once a process it started holding ``waiting_on`` in its
    command line runs, `kill -9` the tool: those processes still alive 10 s later (none, when they die
    with it)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "juniper_rollout.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    waiting: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not waiting:
            time.sleep(0.1)
            waiting = _started_by(proc.pid, waiting_on)
        assert waiting, f"{waiting_on} never started"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(waiting):
            time.sleep(0.1)
        return _alive(waiting)
    finally:
        for pid in _alive(waiting) + _started_by(proc.pid, ""):  # before any failure
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # it may have ended since it was listed
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_kill_9_while_sops_waits_on_the_default_key_file_leaves_no_sops(fleet):
    """sops is started by the tool itself, not through proctree.run, so it lacked the death signal
    every git child has had since stop 21: with the default keys.txt a FIFO (sops opens it itself),
    `kill -9` of plan left sops blocked for ever, reparented to PID 1."""
    import os
    from pathlib import Path

    assert rollout("apply", "--yes", "-m", fleet.manifest, "--repo", CASCOR).code == 0
    keys = Path(os.environ["XDG_CONFIG_HOME"]) / "sops" / "age" / "keys.txt"
    keys.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(keys)
    env = {k: v for k, v in os.environ.items() if k != "SOPS_AGE_KEY_FILE"}
    left = _kill_9_while(["plan", "-m", str(fleet.manifest), "--repo", CASCOR], " decrypt ", env)
    assert left == [], "sops outlived the killed plan"


def test_kill_9_while_the_tool_runs_the_key_command_leaves_no_key_command(fleet, tmp_path):
    """The tool's own run of `SOPS_AGE_KEY_CMD` (verify's key lookup) had no death signal either: a
    command waiting on an unlock prompt went on after `kill -9` of verify."""
    import os

    marker = "4719.5"
    script = tmp_path / "key-cmd.sh"
    script.write_text(f"#!/bin/sh\nexec sleep {marker}\n")  # the command itself waits (no child)
    script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "SOPS_AGE_KEY_FILE"}
    env["SOPS_AGE_KEY_CMD"] = str(script)
    left = _kill_9_while(
        ["verify", "-m", str(fleet.manifest), "--repo", "juniper-ml"], f"sleep {marker}", env
    )
    assert left == [], "the key command outlived the killed verify"


def test_kill_9_of_bootstrap_leaves_no_git_clone(fleet):
    """bootstrap's clone runs in a session of its own (so a Ctrl-C stops it with its helpers) and had
    no death signal: `kill -9` of bootstrap against a git:// server that never answers left `git
    clone` waiting for ever, its time limit gone with the tool."""
    import os
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)  # accepts (the kernel's backlog) and never answers
    url = f"git://127.0.0.1:{server.getsockname()[1]}/x.git"
    env = {**os.environ, "GIT_ALLOW_PROTOCOL": "file:git"}
    try:
        left = _kill_9_while(
            ["bootstrap", "--yes", "juniper-canopy", "-m", str(fleet.manifest), "--url", url],
            f"clone -q -- {url}",
            env,
        )
    finally:
        server.close()
    assert left == [], "git clone outlived the killed bootstrap"


# --- item 11: a partial clone's own fetch of the objects it lacks has a time limit --------------------


def test_a_partial_clone_whose_origin_never_answers_ends_with_one_line(
    fleet, tmp_path, monkeypatch
):
    """git fetches a partial clone's missing objects (`git clone --filter=blob:none`) by itself when
    GitPython's git reads them: a second machine's clone reading origin's rollout branch (`.env.enc kept
    from origin/…`) from a git:// or ssh:// origin that accepts and never answers held plan for ever
    (no time limit, no low-speed limit, prompts allowed). Now stopped after LAZY_FETCH_TIMEOUT, and the
    read fails in refreader's one line."""
    import os
    import signal
    import subprocess
    import threading

    from juniper_rollout import gitrepo

    clone, server = _partial_clone_of_a_silent_origin(fleet, tmp_path)
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:git")
    monkeypatch.setattr(gitrepo, "LAZY_FETCH_TIMEOUT", 2.0, raising=False)
    got = []
    ended = False
    run = threading.Thread(
        target=lambda: got.append(rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)),
        daemon=True,
    )
    try:
        run.start()
        run.join(60)  # a hang guard only
        ended = not run.is_alive()
    finally:
        server.close()
        for pid in subprocess.run(  # the fetch a failing fix would leave waiting
            ["pgrep", "-f", "fetch origin"], capture_output=True, text=True
        ).stdout.split():
            if _works_in(int(pid), clone):
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:  # it may have ended since it was listed
                    pass
        run.join(10)
    assert ended and got, "plan waited for ever on the partial clone's fetch"
    result = got[0]
    assert result.code == 1, result.stdout + result.stderr
    assert "a partial clone (git clone --filter): its remote cannot be reached?" in result.stdout, (
        result.stdout + result.stderr
    )


def _works_in(pid: int, folder) -> bool:
    import os

    try:
        return os.readlink(f"/proc/{pid}/cwd").startswith(str(folder))
    except OSError:
        return False


# --- items 1-4/11: the tool's commit is written whatever encoding the clone's config names -----------


def test_a_clone_whose_commits_are_latin_1_gets_its_branch_in_utf_8(fleet):
    """`i18n.commitEncoding = ISO-8859-1` (a clone's legacy setting) made GitPython encode the tool's
    message in it: a message holding `→` (or the `…` of a re-key line) ended as "unexpected
    UnicodeEncodeError … a damaged repository? run git fsck" with a crash log, and no branch."""
    from tests.helpers import git

    clone = fleet.repo(CASCOR)
    git(clone, "config", "i18n.commitEncoding", "ISO-8859-1")
    text = fleet.manifest.read_text()
    subject = "chore: SOPS → age, one key per person"
    fleet.manifest.write_text(
        text.replace(
            'commit_message: "chore: manage secrets with SOPS + age"',
            f'commit_message: "{subject}"',
            1,
        )
    )
    assert subject in fleet.manifest.read_text()
    result = rollout("apply", "--yes", "-m", fleet.manifest, "--repo", CASCOR)
    assert result.code == 0, result.stdout + result.stderr
    assert git(clone, "log", "-1", "--format=%s", "chore/sops-age-rollout").strip() == subject
    assert "encoding" not in git(clone, "cat-file", "commit", "chore/sops-age-rollout")
    again = rollout("apply", "--yes", "-m", fleet.manifest, "--repo", CASCOR)
    assert "already up to date" in again.stdout, again.stdout  # still known as the tool's own


def _partial_clone_of_a_silent_origin(fleet, tmp_path):
    """juniper-cascor's rollout branch applied and on origin; the clone replaced by a partial clone of
    origin (`--filter=blob:none`: the branch's blobs stay there) with no `.env`, whose origin is then
    a git:// server that accepts and never answers: (the clone, the server's socket)."""
    import shutil
    import socket

    from tests.helpers import git

    assert rollout("apply", "--yes", "-m", fleet.manifest, "--repo", CASCOR).code == 0
    clone = fleet.repo(CASCOR)
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(clone), str(origin))
    git(origin, "config", "uploadpack.allowFilter", "true")
    shutil.rmtree(clone)  # the second machine: a partial clone of origin, no .env
    git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{origin}", str(clone))
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)  # accepts (the kernel's backlog) and never answers
    git(clone, "remote", "set-url", "origin", f"git://127.0.0.1:{server.getsockname()[1]}/x.git")
    return clone, server


def test_a_sigterm_during_a_partial_clones_fetch_leaves_no_fetch_behind(fleet, tmp_path):
    """A SIGTERM (or Ctrl-C sent to the tool alone) while git fetched a partial clone's missing objects
    from a silent origin said "interrupted", and the fetch ran on for ever under PID 1: it is git's
    child, not the tool's. Now stopped when the clone is closed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    clone, server = _partial_clone_of_a_silent_origin(fleet, tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "juniper_rollout.cli",
            "plan",
            "-m",
            str(fleet.manifest),
            "--repo",
            CASCOR,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "GIT_ALLOW_PROTOCOL": "file:git"},
    )
    fetching: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not fetching:
            time.sleep(0.1)
            fetching = [p for p in _started_by(proc.pid, "fetch origin") if _works_in(p, clone)]
        assert fetching, "the partial clone's fetch never started"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)  # a hang guard only
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(fetching):
            time.sleep(0.1)
        left = _alive(fetching)
    finally:
        server.close()
        for pid in _alive(fetching) + _started_by(proc.pid, ""):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:  # it may have ended since it was listed
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert left == [], "the partial clone's fetch outlived the stopped plan"
