"""The command line's contract: colour rules, JSON purity, exit codes."""

from __future__ import annotations

import importlib.metadata
import json
import re

import pytest

from tests import fleet as fleets
from tests.helpers import git, rollout, rollout_in_a_terminal


def test_colour_on_a_terminal_and_never_with_no_color(fleet, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich's way to say "this is a terminal"
    coloured = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert "\x1b[32m" in coloured.stdout  # green for additions
    monkeypatch.setenv("NO_COLOR", "1")
    plain = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert "\x1b[32m" not in plain.stdout and "\x1b[31m" not in plain.stdout
    assert "+++ b/notes/SOPS_USAGE_GUIDE.md" in plain.stdout


def test_json_mode_prints_only_json_even_on_a_terminal(fleet, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    result = rollout("plan", "--manifest", fleet.manifest, "--json")
    data = json.loads(result.stdout)
    assert [r["name"] for r in data["repos"]] == fleet.names
    assert "\x1b[" not in result.stdout


def test_detailed_exitcode_and_unknown_repo(fleet):
    assert rollout("plan", "--manifest", fleet.manifest, "--detailed-exitcode", "--json").code == 2
    unknown = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-nope")
    assert unknown.code == 1 and "no repo named 'juniper-nope'" in unknown.stderr


def test_workspace_flag_and_env(fleet, monkeypatch, tmp_path):
    elsewhere = tmp_path / "moved"
    fleet.workspace.rename(elsewhere)
    missing = rollout("plan", "--manifest", fleet.manifest, "--json")
    assert missing.code == 1 and all(
        r["status"] == "error" for r in json.loads(missing.stdout)["repos"]
    )
    assert (
        rollout("plan", "--manifest", fleet.manifest, "--json", "--workspace", elsewhere).code == 0
    )
    monkeypatch.setenv("JUNIPER_WORKSPACE", str(elsewhere))
    assert rollout("plan", "--manifest", fleet.manifest, "--json").code == 0


def test_help_lists_every_command():
    result = rollout("--help")
    for command in ("plan", "apply", "keygen", "rotate", "verify", "drift", "bootstrap"):
        assert command in result.stdout


def test_version_and_short_help():
    assert (
        rollout("--version").stdout == f"rollout {importlib.metadata.version('juniper-rollout')}\n"
    )
    assert rollout("-h").stdout == rollout("--help").stdout
    assert "Usage: rollout drift" in rollout("drift", "-h").stdout


def test_shell_completion_completes_commands_and_options(monkeypatch):
    monkeypatch.setenv(
        "_ROLLOUT_COMPLETE", "complete_bash"
    )  # what the installed completion script sets
    monkeypatch.setenv("COMP_WORDS", "rollout dr")
    monkeypatch.setenv("COMP_CWORD", "1")
    assert rollout().stdout == "drift\n"
    monkeypatch.setenv("COMP_WORDS", "rollout drift --fo")
    monkeypatch.setenv("COMP_CWORD", "2")
    assert rollout().stdout == "--format\n"
    monkeypatch.delenv("_ROLLOUT_COMPLETE")
    assert "--install-completion" in rollout("--help").stdout


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["plan", "--bogus"], "error: rollout plan: no such option: --bogus"),
        (["bootstrap"], "error: rollout bootstrap: missing argument 'name'"),
        (
            ["plan", "--jobs", "0"],
            "error: rollout plan: invalid value for '--jobs' / '-j': 0 must be 1 or more",
        ),
        (["pla"], "error: rollout: no such command 'pla'. Did you mean 'plan'?"),
    ],
)
def test_usage_errors_are_one_line(args, line):
    result = rollout(*args)
    assert result.code == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(line), result.stderr
    assert result.stderr.rstrip().endswith("--help`)")


def test_a_usage_mistake_in_drift_is_never_read_as_drift(fleet):
    """Exit 2 is drift's "found drift" (and `plan --detailed-exitcode`'s "has changes"): click gave a
    usage mistake 2 as well, so a CI step running `rollout drift --fromat sarif` (a typo) read as
    "the fleet drifted" and no log was written. A usage mistake exits 1, as every mistake of the
    user's does; drift itself still exits 2 on a fleet that drifts."""
    typo = rollout("drift", "--manifest", fleet.manifest, "--fromat", "sarif")
    assert typo.code == 1 and typo.stdout == "", typo.stderr
    assert typo.stderr.startswith("error: rollout drift: no such option: --fromat"), typo.stderr
    assert rollout("drift", "--manifest", fleet.manifest).code == 2  # nothing rolled out: drift


def test_declining_the_confirmation_writes_nothing_and_exits_0(fleet):
    result = rollout_in_a_terminal(
        "apply", "--manifest", fleet.manifest, "--repo", "juniper-ml", answer="n"
    )
    assert "Write the rollout branch in 1 repo? [y/N]" in result.stdout
    assert result.code == 0 and result.stdout.rstrip().endswith("nothing written")
    assert git(fleet.repo("juniper-ml"), "branch", "--list", fleets.BRANCH) == ""


def test_demo_script_runs_every_step_and_verify_passes(tmp_path):
    """scripts/demo.sh, piped: every step runs (verify always), it exits 0, and no colour codes."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "scripts" / "demo.sh"
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        TMPDIR=str(tmp_path),
    )
    result = subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, env=env, timeout=600
    )
    assert result.returncode == 0, result.stderr
    steps = [line for line in result.stdout.splitlines() if line.startswith("$ rollout")]
    assert [s.split()[2] for s in steps] == [
        "plan",
        "apply",
        "apply",
        "verify",
        "plan",
        "apply",
        "verify",
        "drift",
    ]
    assert all(
        "--rollout repo-hygiene" in s for s in steps[4:]
    )  # the second rollout, without SOPS_AGE_KEY_FILE
    assert re.search(r"^7 repos: all \d+ checks passed$", result.stdout, re.M)
    assert re.search(r"^7 repos: 0 failed, 7 passed \(\d+ artifact checks\)$", result.stdout, re.M)
    assert "7 repos: 7 in sync, 0 drifted" in result.stdout
    assert "\x1b" not in result.stdout + result.stderr
