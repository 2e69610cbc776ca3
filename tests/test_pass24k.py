"""Issue 13, pass 24k: a fourth-round adversarial pass over items 1-4 and the printed commands,
attacking what pass 24h added (`gitrepo.held_elsewhere`, `--manifest` named whenever
`JUNIPER_MANIFEST` is set, `--repo NAME` on lines about one repo) and the notes it left. Each test
fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import re
import subprocess

from tests.helpers import rollout


def _paste(command: str, cwd, *more: str) -> subprocess.CompletedProcess:
    """``command`` as a person pastes it in bash (``more`` appended), in ``cwd``."""
    return subprocess.run(
        ["bash", "-c", " ".join([command, *more])], cwd=cwd, capture_output=True, text=True
    )


def test_a_plan_file_named_with_a_backtick_is_offered_a_command_that_works(
    fleet, tmp_path, monkeypatch
):
    """NEW (pass 24h's note, `Manifest.commands_said`): `rollout apply 'my`p.json' -m M` with no
    such file said "run `rollout plan --out 'my`p.json'`", its options put in by a pattern that
    stopped at the backtick inside the quoted name: "`rollout plan --out 'my --manifest M`p.json'`"
    pasted, failed (bash: unexpected EOF). The pattern reads a shell-quoted word whole."""
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    said = rollout("apply", "my`p.json", "-m", fleet.manifest)
    text = " ".join((said.stdout + said.stderr).split())
    assert said.code != 0 and "plan file not found" in text, text
    [command] = re.findall(r"\(run `(rollout plan (?:[^`']|'[^']*')*)`\)", text)
    pasted = _paste(command, tmp_path / "work", "--repo", "juniper-ml")
    assert pasted.returncode == 0, (command, pasted.stdout, pasted.stderr)
    assert (tmp_path / "work" / "my`p.json").is_file(), command
