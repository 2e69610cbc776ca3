"""Every process the tool starts dies with it: a `kill -9` (or an OOM kill) of the tool left git pushes
(stop 20), sops, key commands and bootstrap's clone (pass 19a) and verify's pre-commit runs (pass 19b)
running under PID 1, one call site at a time. This reads the code: each `subprocess` start outside
`proctree.run` passes a death signal (`preexec_fn`), so the next call site cannot forget it. GitPython's
own git processes are the Known limit beside git's ssh child."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import juniper_rollout
from juniper_rollout import proctree

STARTS = {"run", "Popen", "call", "check_call", "check_output"}


def _starts_without_a_death_signal(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in STARTS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "subprocess"
            and not any(k.arg == "preexec_fn" for k in node.keywords)
        ):
            lines.append(node.lineno)
    return lines


def test_every_process_the_tool_starts_is_given_a_death_signal():
    package = Path(juniper_rollout.__file__).parent
    missing = [
        f"{path.relative_to(package)}:{line}"
        for path in sorted(package.rglob("*.py"))
        for line in _starts_without_a_death_signal(path.read_text())
    ]
    assert missing == []
    # the reader finds what it looks for
    assert _starts_without_a_death_signal("import subprocess\nsubprocess.run(['x'])\n") == [2]


def test_a_child_started_with_dies_with_us_dies_with_its_parent(tmp_path):
    """The real thing: a parent starts `sleep` with the death signal, then is killed with SIGKILL."""
    marker = tmp_path / "child.pid"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "from juniper_rollout import proctree\n"
            "child = subprocess.Popen(['sleep', '300'], preexec_fn=proctree.dies_with_us())\n"
            f"open({str(marker)!r}, 'w').write(str(child.pid))\n"
            "time.sleep(300)\n",
        ]
    )
    try:
        for _ in range(300):
            if marker.exists() and marker.read_text():
                break
            time.sleep(0.1)
        child = int(marker.read_text())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()
        for _ in range(100):  # the kernel sends the child its SIGKILL at once; reaped by init
            if not _alive(child):
                break
            time.sleep(0.1)
        assert not _alive(child)
    finally:
        parent.kill()
        parent.wait()
    assert proctree.dies_with_us() is not None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
