"""Issue 13, pass 26i: a verification pass over the code pass 26c added (drift's hazards beside an
error, include errors naming the including template, apply's refusals naming the plan's own path)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest

from tests.helpers import rollout

CASCOR = "juniper-cascor"

TOOL = f"{shlex.quote(sys.executable)} -c 'from juniper_rollout.cli import main; main()'"


@pytest.mark.parametrize("name", ["it's.json", "a'b\x1bc.json", "my plan.json", "-p.json"])
def test_a_refused_saved_plans_command_to_plan_again_works_when_pasted(
    fleet, tmp_path, monkeypatch, name
):
    """Apply's refusal of a saved plan (pass 26c/lead 30: named by its own path) offers `rollout plan
    --out PLAN` with the `--manifest` apply was given. A plan named `it's.json` is quoted
    `'it'"'"'s.json'` (or `$'a\\'b\\x1bc.json'` with a control character), which the rewriting of
    offered commands did not read as one: the line offered `rollout plan --out 'it'"'"'s.json'`
    alone, and pasted it read the default manifest and failed ("manifest not found")."""
    monkeypatch.chdir(tmp_path)
    m = str(fleet.manifest)
    given = f"./{name}" if name.startswith("-") else name
    made = rollout("plan", "-m", m, "--repo", CASCOR, "--out", given)
    assert made.code in (0, 2), made.stdout + made.stderr
    said = rollout("apply", given, "-m", m, "--repo", "juniper-data", "--yes")
    assert said.code == 1 and "holds none of the repos" in said.stderr, said.stdout + said.stderr
    text = " ".join(said.stderr.split())
    [again] = re.findall(r"`(rollout plan --out[^`]*)`", text)
    assert "--manifest" in again, again
    pasted = subprocess.run(
        ["bash", "-c", again.replace("rollout", TOOL, 1)], cwd=tmp_path, capture_output=True
    )
    assert pasted.returncode in (0, 2), pasted.stderr
    done = rollout("apply", given, "-m", m, "--repo", "juniper-data", "--yes")
    assert done.code == 0, done.stdout + done.stderr
