"""The command line's contract: colour rules, JSON purity, exit codes."""
from __future__ import annotations

import json


from tests.helpers import rollout


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
    assert missing.code == 1 and all(r["status"] == "error" for r in json.loads(missing.stdout)["repos"])
    assert rollout("plan", "--manifest", fleet.manifest, "--json", "--workspace", elsewhere).code == 0
    monkeypatch.setenv("JUNIPER_WORKSPACE", str(elsewhere))
    assert rollout("plan", "--manifest", fleet.manifest, "--json").code == 0


def test_help_lists_every_command():
    result = rollout("--help")
    for command in ("plan", "apply", "keygen", "rotate", "verify", "drift", "bootstrap"):
        assert command in result.stdout
