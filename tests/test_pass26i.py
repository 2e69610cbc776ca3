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


@pytest.mark.parametrize(
    "body",
    ["{% include [] %}", "{% include 'out.j2' %}", "{{ undefined_x.y }}", "{% if %}"],
    ids=["includes none", "a refused include", "undefined", "syntax"],
)
def test_an_included_template_named_with_a_line_break_is_said_on_one_line(tmp_path, body):
    """Pass 26c names the template holding a failing include; a templates folder is a repo's, and a
    file name may hold a line break: `a\\nb.j2` was named as it is (`template a` / `b.j2:2 (through
    'outer.j2') is not allowed to do that …`, and in the list of available templates), the error two
    lines. It is one line, the name shown with `\\x0a` (as every other line the tool prints)."""
    from tests.test_adversary import hostile_template

    (tmp_path / "elsewhere").write_text("not a template\n")
    manifest = hostile_template(tmp_path, "{% include 'a\\nb.j2' %}\n", name="outer.j2")
    (tmp_path / "tpl" / "a\nb.j2").write_text("# a part\n" + body + "\n")
    (tmp_path / "tpl" / "out.j2").symlink_to(tmp_path / "elsewhere")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "a\\x0ab.j2" in result.stderr or "'a\\\\nb.j2'" in result.stderr, result.stderr
    assert "through 'outer.j2'" in result.stderr, result.stderr


def test_a_plan_read_through_a_symlink_is_offered_again_at_the_file_it_leads_to(
    fleet, tmp_path, monkeypatch
):
    """Apply's refusal of a saved plan names the plan to make again by its own path (pass 26c/lead
    30). A plan read through a symlink (`current.json` -> `plans/p.json`) was offered `rollout plan
    --out current.json`, which plan refuses ("is a symlink; the plan is saved only as a regular
    file"): the way out failed when pasted. It names the file the symlink leads to; the symlink is
    kept, and applying through it then works."""
    monkeypatch.chdir(tmp_path)
    m = str(fleet.manifest)
    (tmp_path / "plans").mkdir()
    made = rollout("plan", "-m", m, "--repo", CASCOR, "--out", "plans/p.json")
    assert made.code in (0, 2), made.stdout + made.stderr
    (tmp_path / "current.json").symlink_to("plans/p.json")
    said = rollout("apply", "current.json", "-m", m, "--repo", "juniper-data", "--yes")
    assert said.code == 1 and "holds none of the repos" in said.stderr, said.stdout + said.stderr
    [again] = re.findall(r"`(rollout plan --out[^`]*)`", " ".join(said.stderr.split()))
    pasted = subprocess.run(
        ["bash", "-c", again.replace("rollout", TOOL, 1)], cwd=tmp_path, capture_output=True
    )
    assert pasted.returncode in (0, 2), pasted.stderr
    assert (tmp_path / "current.json").is_symlink()
    done = rollout("apply", "current.json", "-m", m, "--repo", "juniper-data", "--yes")
    assert done.code == 0, done.stdout + done.stderr


@pytest.mark.parametrize("shape", ["a FIFO", "a folder"])
def test_drift_never_shows_a_subject_it_cannot_check_for_an_unreadable_env_files_value(
    tmp_path, shape
):
    """Item 9 on pass 26c's new path: a repo whose `.env` the tool cannot read (a FIFO, as
    1Password's mounted environments make one) has its history's hazards said beside that error,
    and the commits named by their subjects: `git commit -m "ci: db pass is VALUE"`, VALUE the
    FIFO's, was printed in text and JSON (before pass 26c the error line was all). Those values are
    unknown, so no subject is shown; the commit is still named by its id."""
    import os

    from tests.helpers import git
    from tests.test_pass26c import _master_only

    manifest = _master_only(tmp_path)
    repo = tmp_path / "ws" / "victim"
    git(repo, "branch", "-m", "master", "main")
    who = ["-c", "user.name=t", "-c", "user.email=t@x"]
    (repo / ".env.ci").write_text("X=1\n")
    git(repo, "add", "-f", ".env.ci")
    value = "Hk4notthedemocanary8Np"  # in a git object: not the canary, which tests keep out of any
    git(repo, *who, "commit", "-qm", f"ci: the db pass is {value}")
    git(repo, "rm", "-q", ".env.ci")
    git(repo, *who, "commit", "-qm", "remove it")
    (repo / ".gitignore").write_text(".env\n")
    if shape == "a FIFO":
        os.mkfifo(repo / ".env")
    else:
        (repo / ".env").mkdir()
    manifest.write_text(
        manifest.read_text()
        + "    env_example: {from: dotenv}\n    encrypt:\n      - {source: .env, target: .env.enc}\n"
    )
    for form in ("table", "json", "sarif"):
        result = rollout("drift", "--manifest", manifest, "--format", form)
        assert result.code == 1, result.stdout
        assert ".env.ci" in result.stdout, result.stdout
        assert "db pass" not in result.stdout, result.stdout
        assert value not in result.stdout + result.stderr
