"""A template that is one file under several names (hard links) is refused: under a harmless name it
could be a `.env`, a `~/.netrc` or a credentials file of no shape the scans know (passes 11b and 17
caught such links by what the file held, never by what it is). The shipped templates are let through:
an installer may hard-link them from its cache (uv does)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from juniper_rollout.fleetspec import default_templates_dir
from tests.helpers import rollout
from tests.test_pass11b import _one_repo_with_a_template

SECRET = "Quillmarsh-unshaped-credential-7"


def test_a_hard_linked_template_is_refused_with_a_command_that_makes_it_a_file_of_its_own(tmp_path):
    manifest = _one_repo_with_a_template(tmp_path, b"A=1\n", "placeholder\n")
    template = tmp_path / "tpl" / "notes.j2"
    elsewhere = tmp_path / "home" / ".config" / "tool"
    elsewhere.mkdir(parents=True)
    (elsewhere / "auth").write_text(f"{SECRET}\n")
    template.unlink()
    os.link(elsewhere / "auth", template)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "notes.j2 is one file under 2 names (hard links)" in result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr
    command = re.search(r"`(cp -p .*?)`", result.stdout + result.stderr)
    assert command, result.stdout + result.stderr
    subprocess.run(["sh", "-c", command[1]], check=True)  # works when pasted
    assert template.stat().st_nlink == 1 and (elsewhere / "auth").stat().st_nlink == 1
    assert shlex.split(command[1])[2] == str(template.resolve())
    assert rollout("plan", "--manifest", manifest).code == 0  # its own file now (nothing secret)


def test_the_shipped_templates_plan_with_a_second_name(tmp_path):
    """As installed by uv, which hard-links a wheel's files from its cache into the environment."""
    from tests.demofleet import make_repo
    from tests.test_hostile import manifest_for

    shipped = default_templates_dir()
    other = Path(tempfile.mkdtemp(dir=sys.prefix))  # the same file system as the project, usually
    try:
        linked = other / "sops.yaml.j2"
        os.link(shipped / "sops.yaml.j2", linked)
        assert (shipped / "sops.yaml.j2").stat().st_nlink >= 2
        make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
        result = rollout("plan", "--manifest", manifest_for(tmp_path, "  - name: victim\n"))
        assert result.code == 0, result.stdout
        assert ".sops.yaml" in result.stdout
    finally:
        for each in other.iterdir():
            each.unlink()
        other.rmdir()
