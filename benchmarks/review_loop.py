"""`make bench`, part 2: the whole review loop at fleet scale against local bare remotes and the fake GitHub.

sync, plan, apply --push --pr, status, each as a child process, twice: with the fake GitHub answering
at once, and with a fixed simulated latency per API call.

What "tool time per repo beyond the simulated network" means here (the issue-14 target, <= 20 ms):
the wall time of each step's process, from start to exit, in the run where the fake answers with
0 ms of simulated latency, divided by N; summed over the four steps for the whole loop. It counts
everything the user waits for on this machine: Python's start-up, reading the manifest, every git
process the tool starts, and two things that would not run on the user's machine against GitHub:
the server side of git's local transport (receive-pack, upload-pack on the bare remotes) and the
fake's HTTP answers. So it is an upper bound on the tool's own time. The fake runs in this
(the bench's) process, with its pydantic validation against GitHub's API description turned OFF
for the bench only (the tests always validate): on this 2-core machine that validation would take
CPU from the tool. Other work on the machine also adds wall time; the CPU time of the tool's
process tree (the tool and every process it waited for, local-transport server side included)
is printed beside it and does not depend on the machine's load.

The second run shows the calls overlapping in the bounded pool: the wall time the latency adds
stays far below API calls x latency, which is what one call after another would cost.

    python benchmarks/review_loop.py [--n 100] [--latency 0.05] [--out bench-review.json] [--keep]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  benchmarks/bench.py: child environment and measurement
import fleet  # noqa: E402

sys.path.insert(0, str(bench.PROJECT))
from tests.fake_github import FakeGitHub  # noqa: E402

TARGET_MS_PER_REPO = 20.0  # issue 14: tool time per repo for the whole loop, beyond the simulated network
OWNER = "bench"
STEPS = ("sync", "plan", "apply --push --pr", "status")


def build(root: Path, n: int, env: dict[str, str]) -> tuple[Path, list[str]]:
    import pyrage

    workspace, remotes = root / "fleet", root / "remotes"
    names = fleet.make_fleet(workspace, n, n_files=50, jobs=2 * (os.cpu_count() or 1))
    remotes.mkdir()
    for name in names:
        bare = remotes / f"{name}.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(workspace / name), str(bare)], check=True, env=env)
        subprocess.run(["git", "-C", str(workspace / name), "remote", "add", "origin", str(bare)], check=True, env=env)
    recipient = str(pyrage.x25519.Identity.generate().to_public())
    text = fleet.manifest_text(workspace, names, recipient, "chore/sops-age-rollout")
    for name in names:
        text = text.replace(f"  - name: {name}\n", f"  - name: {name}\n    github: {OWNER}/{name}\n"
                                                   f"    url: {remotes / (name + '.git')}\n", 1)
    manifest = root / "repos.yaml"
    manifest.write_text(text)
    return manifest, names


def loop_once(root: Path, n: int, latency: float, env: dict[str, str]) -> dict:
    """A fresh copy of the fleet, the fake at ``latency``, the four steps timed."""
    run_root = root / f"latency-{int(latency * 1000)}ms"
    shutil.copytree(root / "template", run_root, symlinks=True)
    manifest = run_root / "repos.yaml"
    manifest.write_text(manifest.read_text().replace(str(root / "template"), str(run_root)))
    (run_root / "logs").mkdir(exist_ok=True)
    names = json.loads((root / "names.json").read_text())
    for name in names:  # origin points at this copy's bare remote
        subprocess.run(["git", "-C", str(run_root / "fleet" / name), "remote", "set-url", "origin",
                        str(run_root / "remotes" / f"{name}.git")], check=True, env=env)
    fake = FakeGitHub()
    fake.latency = latency
    fake.validate = False  # the bench only: its pydantic checks would compete with the tool for the 2 cores
    for name in names:
        fake.add_repo(f"{OWNER}/{name}", run_root / "remotes" / f"{name}.git")
    url = fake.start()
    child = {**env, "GITHUB_API_URL": url, "GITHUB_TOKEN": fake.token}
    child.pop("GH_TOKEN", None)
    out: dict = {}
    try:
        for step in STEPS:
            before = len(fake.requests)
            args = step.split()
            if args[0] == "apply":
                args.insert(1, "--yes")
            run = bench.rollout(run_root, child, f"{args[0]}-{int(latency * 1000)}", *args, "-m", str(manifest))
            out[step] = {"seconds": round(run.seconds, 3), "cpu_seconds": round(run.cpu_seconds, 3),
                         "api_calls": len(fake.requests) - before}
        opened = sum(len(fake.pulls(f"{OWNER}/{name}")) for name in names)
        if opened != n or fake.violations:
            sys.exit(f"bench: expected {n} pull requests and no API violations; got {opened} and "
                     f"{fake.violations[:3]}")
    finally:
        fake.stop()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="fleet size")
    parser.add_argument("--latency", type=float, default=0.05, help="simulated seconds per GitHub API call")
    parser.add_argument("--out", type=Path, default=Path("bench-review.json"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="juniper-bench-review-"))
    print(f"bench: working in {root}", file=sys.stderr)
    env = bench.child_env(root)
    machine = bench.machine()  # its load average is the one at start
    try:
        template = root / "template"
        template.mkdir()
        start = time.perf_counter()
        manifest, names = build(template, args.n, env)
        (root / "names.json").write_text(json.dumps(names))
        print(f"bench: built {len(names)} repos with bare remotes in {time.perf_counter() - start:.1f}s",
              file=sys.stderr)
        fast = loop_once(root, args.n, 0.0, env)
        slow = loop_once(root, args.n, args.latency, env)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    rows = []
    for step in STEPS:
        calls = slow[step]["api_calls"]
        added = slow[step]["seconds"] - fast[step]["seconds"]
        rows.append({"step": step, "tool_ms_per_repo": round(1000 * fast[step]["seconds"] / args.n, 1),
                     "tool_cpu_ms_per_repo": round(1000 * fast[step]["cpu_seconds"] / args.n, 1),
                     "api_calls": calls, "serial_network_s": round(calls * args.latency, 2),
                     "added_by_latency_s": round(added, 2), **{f"{k}_s": v[step]["seconds"]
                                                               for k, v in (("fast", fast), ("slow", slow))}})
    whole = round(sum(r["tool_ms_per_repo"] for r in rows), 1)
    whole_cpu = round(sum(r["tool_cpu_ms_per_repo"] for r in rows), 1)
    ok = whole <= TARGET_MS_PER_REPO
    results = {"n": args.n, "latency_s": args.latency, "steps": rows, "machine": machine,
               "definition": "tool_ms_per_repo: wall time of the step's process with the fake answering at 0 ms "
                             "(its validation off), / N; includes Python start-up, git's local-transport server "
                             "side and the fake's HTTP handling, so an upper bound. tool_cpu_ms_per_repo: user+sys "
                             "of the tool and every process it waited for, / N",
               "whole_loop_ms_per_repo": whole, "whole_loop_cpu_ms_per_repo": whole_cpu,
               "target_ms_per_repo": TARGET_MS_PER_REPO, "result": "PASS" if ok else "FAIL",
               "load_average_at_end": os.getloadavg()[0]}
    args.out.write_text(json.dumps(results, indent=2))
    print(f"\nreview loop at N={args.n}, simulated GitHub latency {args.latency * 1000:.0f} ms per call; "
          f"load average {results['machine']['load_average_at_start']:.2f} at start, "
          f"{results['load_average_at_end']:.2f} at end on {results['machine']['nproc']} CPUs\n")
    print(f"{'step':<20} {'tool ms/repo':>12} {'cpu ms/repo':>12} {'API calls':>10} {'serial net s':>13} "
          f"{'added by latency s':>19}")
    for r in rows:
        print(f"{r['step']:<20} {r['tool_ms_per_repo']:>12} {r['tool_cpu_ms_per_repo']:>12} {r['api_calls']:>10} "
              f"{r['serial_network_s']:>13} {r['added_by_latency_s']:>19}")
    print(f"{'whole loop':<20} {whole:>12} {whole_cpu:>12}")
    print(f"\ntool ms/repo: wall time of the step at 0 ms simulated latency / N (start-up, manifest, git processes "
          f"including the\nlocal remotes' server side, the fake's answers: an upper bound); cpu ms/repo: user+sys of "
          f"the tool and every\nprocess it waited for, / N.")
    print(f"\nwhole loop: {whole} ms of tool time per repo beyond the simulated network "
          f"(target <= {TARGET_MS_PER_REPO:.0f} ms): {'PASS' if ok else 'FAIL'}; figures in {args.out}")
    return 0 if ok else 1

if __name__ == "__main__":
    raise SystemExit(main())
