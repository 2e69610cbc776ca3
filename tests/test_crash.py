"""Crash safety: apply killed by SIGKILL at its write points, and at random moments mid-run.

After each kill: the users' clones are byte-identical, each rollout branch is
absent or at a complete commit, nothing of the tool's is left behind, and a
re-run converges to what an uninterrupted run makes. By default the write points
are sampled (the first, the last, and a seeded sample between); `make stress`
(JUNIPER_STRESS=1) kills at every one of them and at more random moments.
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

from tests import demofleet as demo
from tests import faults
from tests.helpers import clone_state, git, rollout

BRANCH = "chore/sops-age-rollout"
NAMES = [
    "juniper-cascor",
    "juniper-deploy",
    "juniper-data",
    "juniper-data-client",
    "juniper-cascor-client",
    "juniper-cascor-worker",
    "juniper-ml",
]
MIN_POINTS = 50
STRESS = bool(os.environ.get("JUNIPER_STRESS"))
SEED = int(os.environ.get("JUNIPER_STRESS_SEED", "1234"))
SAMPLED_POINTS = 4  # between the first two and the last, by default
RANDOM_KILLS = 40 if STRESS else 4


def make_fleet(root: Path, key: str) -> Path:
    files = demo.fleet_files()
    for name in NAMES:
        demo.make_repo(root / "fleet" / name, files[name])
    data = root / "fleet" / "juniper-data"
    git(data, "checkout", "-q", "-b", "feature/wip")
    (data / "wip.txt").write_text("uncommitted\n")
    manifest = root / "repos.yaml"
    entries = "".join(
        f"  - name: {n}\n" + ("    env_example: {from: code}\n" if n != "juniper-ml" else "")
        for n in NAMES
    )
    manifest.write_text(
        f"version: 1\nworkspace: fleet\ndefaults:\n  age_recipients: [{key}]\nrepos:\n{entries}"
    )
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
        ref = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--verify", "-q", f"{BRANCH}^{{tree}}"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        out[name] = ref or None
    return out


@pytest.fixture(scope="module")
def reference(pristine, tmp_path_factory):
    root = tmp_path_factory.mktemp("crash") / "reference"
    manifest = copy(pristine, root)
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    return branch_trees(root)


@pytest.fixture(scope="module")
def write_points(pristine, tmp_path_factory) -> int:
    """How many write points an uninterrupted run passes: counted by the fault hook, set never to
    fire."""
    root = tmp_path_factory.mktemp("crash") / "counted"
    manifest = copy(pristine, root)
    counter = faults.install(10**9)
    try:
        assert rollout("apply", "--manifest", manifest, "--yes").code == 0
        return counter.writes
    finally:
        counter.uninstall()


def start_apply(manifest: Path, tmpdir: Path, *, fault_after: int = 0) -> subprocess.Popen:
    env = dict(os.environ, TMPDIR=str(tmpdir))
    # fault_after 0: no fault (a plain run, killed at a random moment)
    command = (
        [sys.executable, faults.__file__, str(fault_after)]
        if fault_after
        else [sys.executable, "-c", "from juniper_rollout.cli import main; main()"]
    )
    return subprocess.Popen(
        [
            *command,
            "apply",
            "--manifest",
            str(manifest),
            "--yes",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def locked_repo(proc: subprocess.Popen, root: Path) -> int | None:
    """The index in NAMES of the repo whose .git the process holds open (its rollout lock), or None.

    Read from /proc: looking does not disturb the run (taking the flock to test it would)."""
    gitdirs = {str(root / "fleet" / name / ".git"): i for i, name in enumerate(NAMES)}
    try:
        fds = os.listdir(f"/proc/{proc.pid}/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{proc.pid}/fd/{fd}")
        except OSError:
            continue
        if target in gitdirs:
            return gitdirs[target]
    return None


def kill_mid_run(proc: subprocess.Popen, root: Path, rng: random.Random) -> bool:
    """SIGKILL once the run is writing repo number r (r random) or a later one, after a random few
    milliseconds more. True when the kill landed mid-run: the process was seen writing, was still
    running, and died of the kill."""
    target, seen = rng.randrange(len(NAMES)), False
    while proc.poll() is None:
        repo = locked_repo(proc, root)
        if repo is not None and repo >= target:
            seen = True
            break
        time.sleep(0.002)
    if seen:
        time.sleep(rng.uniform(0, 0.05))
        proc.send_signal(signal.SIGKILL)
    return seen and proc.wait() == -signal.SIGKILL


def run_apply(
    manifest: Path, tmpdir: Path, *, fault_after: int = 0, rng: random.Random | None = None
) -> int:
    """The exit code of an apply run; with ``rng``, killed at a random moment mid-run when the
    kill can land there (a run may finish inside the random delay: its code is then 0)."""
    proc = start_apply(manifest, tmpdir, fault_after=fault_after)
    if rng is not None:
        kill_mid_run(proc, manifest.parent, rng)
    return proc.wait()


def check_after_kill(
    root: Path, before: dict, reference: dict, tmpdir: Path, *, strict: bool
) -> None:
    trees = branch_trees(root)  # read once (it reads every repo), not once per repo
    for name in NAMES:
        repo = root / "fleet" / name
        assert clone_state(repo) == before[name], f"{name}: clone changed"
        tree = trees[name]
        assert tree in (None, reference[name]), f"{name}: branch holds a partial tree"
        if tree:
            assert git(repo, "rev-list", "--count", f"main..{BRANCH}").strip() == "1"
        fsck = subprocess.run(
            ["git", "-C", str(repo), "fsck", "--no-dangling", "--no-progress"],
            capture_output=True,
            text=True,
        )
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        gitdir = repo / ".git"
        assert not list(gitdir.rglob("*.lock")), f"{name}: lock file left behind"
        if strict:
            assert not list((gitdir / "objects").glob("obj????????")), (
                f"{name}: temp object left behind"
            )
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


def test_sigkill_at_write_points(pristine, reference, write_points, tmp_path):
    """Kill right after the k-th write. make stress: every k until a run gets through. By default
    the first two, a seeded sample, and the last (counted in an uninterrupted run: a kill there
    must land, one past it must not)."""
    runs = iter(range(10_000))

    def checked(k: int) -> int:
        i = next(runs)
        return kill_and_check(
            pristine, reference, tmp_path / f"run-{i}", tmp_path / f"tmp-{i}", fault_after=k
        )

    assert write_points >= MIN_POINTS, f"only {write_points} write points in a full run"
    if STRESS:
        points = list(range(1, write_points + 1))
    else:
        points = [
            1,
            2,
            *sorted(random.Random(SEED).sample(range(3, write_points), SAMPLED_POINTS)),
            write_points,
        ]
    for k in points:
        assert checked(k) == -signal.SIGKILL, f"no kill at write point {k} of {write_points}"
    assert checked(write_points + 1) == 0  # a run that gets through leaves the same state


def test_sigkill_at_random_moments(pristine, reference, tmp_path):
    """RANDOM_KILLS runs killed mid-run, each checked. A run that finishes inside its random delay
    (the machine's speed decides that, not the code) is checked too, but does not count as a kill."""
    rng = random.Random(SEED)
    landed, runs = 0, 0
    while landed < RANDOM_KILLS and runs < 5 * RANDOM_KILLS:
        code = kill_and_check(
            pristine, reference, tmp_path / f"run-{runs}", tmp_path / f"tmp-{runs}", rng=rng
        )
        assert code in (-signal.SIGKILL, 0), f"run {runs} ended with {code}"
        landed += code == -signal.SIGKILL
        runs += 1
    assert landed == RANDOM_KILLS, f"only {landed} of {runs} kills landed mid-run"
