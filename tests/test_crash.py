"""Crash safety: apply killed by SIGKILL at every write, and at random moments.

After each kill: the users' clones are byte-identical, each rollout branch is
absent or at a complete commit, nothing of the tool's is left behind, and a
re-run converges to what an uninterrupted run makes. `make stress` runs more
random kills (JUNIPER_STRESS=1).
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from juniper_rollout import demo
from tests.helpers import clone_state, git, rollout

BRANCH = "chore/sops-age-rollout"
NAMES = ["juniper-cascor", "juniper-deploy", "juniper-data", "juniper-data-client", "juniper-cascor-client",
         "juniper-cascor-worker", "juniper-ml"]
MIN_POINTS = 50
RANDOM_KILLS = 40 if os.environ.get("JUNIPER_STRESS") else 8


def make_fleet(root: Path, key: str) -> Path:
    files = demo.fleet_files()
    for name in NAMES:
        demo.make_repo(root / "fleet" / name, files[name])
    data = root / "fleet" / "juniper-data"
    git(data, "checkout", "-q", "-b", "feature/wip")
    (data / "wip.txt").write_text("uncommitted\n")
    manifest = root / "repos.yaml"
    entries = "".join(f"  - name: {n}\n" + ("    env_example: {from: code}\n" if n != "juniper-ml" else "")
                      for n in NAMES)
    manifest.write_text(f"version: 1\nworkspace: fleet\ndefaults:\n  age_recipients: [{key}]\nrepos:\n{entries}")
    return manifest


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    import pyrage

    root = tmp_path_factory.mktemp("crash") / "pristine"
    make_fleet(root, str(pyrage.x25519.Identity.generate().to_public()))
    return root


def copy(pristine: Path, dest: Path) -> Path:
    subprocess.run(["cp", "-a", str(pristine), str(dest)], check=True)
    return dest / "repos.yaml"


def branch_trees(root: Path) -> dict[str, str | None]:
    out = {}
    for name in NAMES:
        repo = root / "fleet" / name
        ref = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "-q", f"{BRANCH}^{{tree}}"],
                             capture_output=True, text=True).stdout.strip()
        out[name] = ref or None
    return out


@pytest.fixture(scope="module")
def reference(pristine, tmp_path_factory):
    root = tmp_path_factory.mktemp("crash") / "reference"
    manifest = copy(pristine, root)
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    return branch_trees(root)


def run_apply(manifest: Path, tmpdir: Path, *, fault_after: int = 0, kill_after: float | None = None) -> int:
    env = dict(os.environ, TMPDIR=str(tmpdir), JUNIPER_ROLLOUT_FAULT_AFTER=str(fault_after))
    proc = subprocess.Popen([sys.executable, "-c", "from juniper_rollout.cli import main; main()",
                             "apply", "--manifest", str(manifest), "--yes"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_after is not None:
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    return proc.wait()


def check_after_kill(root: Path, before: dict, reference: dict, tmpdir: Path, *, strict: bool) -> None:
    for name in NAMES:
        repo = root / "fleet" / name
        assert clone_state(repo) == before[name], f"{name}: clone changed"
        tree = branch_trees(root)[name]
        assert tree in (None, reference[name]), f"{name}: branch holds a partial tree"
        if tree:
            assert git(repo, "rev-list", "--count", f"main..{BRANCH}").strip() == "1"
        fsck = subprocess.run(["git", "-C", str(repo), "fsck", "--no-dangling", "--no-progress"],
                              capture_output=True, text=True)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        gitdir = repo / ".git"
        assert not list(gitdir.rglob("*.lock")), f"{name}: lock file left behind"
        if strict:
            assert not list((gitdir / "objects").glob("obj????????")), f"{name}: temp object left behind"
    assert not any(tmpdir.iterdir()), "temp files left behind"


def converge(root: Path, manifest: Path, reference: dict, tmpdir: Path) -> None:
    result = rollout("apply", "--manifest", manifest, "--yes")
    assert result.code == 0, result.stdout + result.stderr
    assert branch_trees(root) == reference
    for name in NAMES:
        gitdir = root / "fleet" / name / ".git"
        assert not list((gitdir / "objects").glob("obj????????"))
        assert git(root / "fleet" / name, "rev-list", "--count", f"main..{BRANCH}").strip() == "1"


def kill_and_check(pristine: Path, reference: dict, root: Path, tmpdir: Path, **how) -> int:
    manifest = copy(pristine, root)
    before = {n: clone_state(root / "fleet" / n) for n in NAMES}
    tmpdir.mkdir()
    code = run_apply(manifest, tmpdir, **how)
    check_after_kill(root, before, reference, tmpdir, strict="fault_after" in how)
    converge(root, manifest, reference, tmpdir)
    subprocess.run(["rm", "-rf", str(root)], check=True)
    return code


def test_sigkill_at_every_write_point(pristine, reference, tmp_path):
    """Kill after the 1st, 2nd, … write until a run gets through: every point is covered."""
    k = 0
    while True:
        k += 1
        code = kill_and_check(pristine, reference, tmp_path / f"run-{k}", tmp_path / f"tmp-{k}", fault_after=k)
        if code == 0:
            break
        assert code == -signal.SIGKILL
        assert k < 500, "the fault point never stops firing"
    assert k - 1 >= MIN_POINTS, f"only {k - 1} write points in a full run"


def test_sigkill_at_random_moments(pristine, reference, tmp_path):
    rng = random.Random(int(os.environ.get("JUNIPER_STRESS_SEED", "1234")))
    for i in range(RANDOM_KILLS):
        kill_and_check(pristine, reference, tmp_path / f"run-{i}", tmp_path / f"tmp-{i}",
                       kill_after=rng.uniform(0.2, 1.6))
