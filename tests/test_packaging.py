"""The package as users install it: a wheel built from this tree, installed into a temp folder
(not editable, not the source tree) carries its templates, finds them, and renders with them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyrage

from juniper_rollout import __version__
from tests import demofleet as demo

ROOT = Path(__file__).resolve().parent.parent


def test_the_installed_wheel_renders_with_its_own_templates(tmp_path):
    wheels, target, work = tmp_path / "wheels", tmp_path / "site", tmp_path / "work"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    # setuptools copies modules into build/lib and never removes one that left the package: a stale
    # copy would go into the wheel (build/ is the build's own scratch folder, ignored by git)
    shutil.rmtree(ROOT / "build" / "lib", ignore_errors=True)
    # offline: the build backend is the test venv's setuptools, no dependency is fetched
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)],
        check=True,
        cwd=tmp_path,
        capture_output=True,
    )
    wheel = next(wheels.glob("juniper_rollout-*.whl"))
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    assert sorted(
        p.name for p in (target / "juniper_rollout" / "templates").glob("*.j2")
    ) == sorted(p.name for p in (ROOT / "templates").glob("*.j2"))

    source = {p.relative_to(ROOT).as_posix() for p in (ROOT / "juniper_rollout").rglob("*.py")}
    installed = {
        p.relative_to(target).as_posix() for p in (target / "juniper_rollout").rglob("*.py")
    }
    assert source <= installed, (
        f"not in the wheel (list the package in pyproject): {source - installed}"
    )
    # test-only code is not in what users install: the demo fleet builder and the crash test's fault hook
    assert "juniper_rollout/demo.py" not in installed
    assert (
        "ROLLOUT_FAULT" not in (target / "juniper_rollout" / "gitrepo.py").read_text()
    )  # the old hook

    repo = demo.make_repo(work / "fleet" / "svc", {"README.md": "# svc\n", "app.py": "import os\n"})
    key = pyrage.x25519.Identity.generate().to_public()
    manifest = work / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: fleet\ndefaults:\n  age_recipients: [{key}]\n"
        "repos:\n  - name: svc\n"
    )
    # the installed copy first on the path (dependencies from this venv), away from the source tree
    env = dict(os.environ, PYTHONPATH=str(target))
    code = (
        "import sys, juniper_rollout, juniper_rollout.cli as cli; "
        "print(juniper_rollout.__file__, file=sys.stderr); cli.main()"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "plan", "--manifest", str(manifest)],
        cwd=work,
        env=dict(env, NO_COLOR="1"),
        capture_output=True,
        text=True,
    )
    assert run.stderr.splitlines()[0] == str(target / "juniper_rollout" / "__init__.py")
    assert run.returncode == 0, run.stderr
    assert ".sops.yaml               create     (rendered from sops.yaml.j2)" in run.stdout
    assert str(key) in run.stdout  # the recipient, in the diff rendered from the installed template
    assert repo.exists()
    version = subprocess.run(
        [sys.executable, "-c", "import juniper_rollout.cli as c; c.main()", "--version"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert version.stdout == f"rollout {__version__}\n"
