"""`make bench`: plan and apply at fleet scale, against the targets of issue 5.

Builds synthetic fleets in a temp folder (outside the project), runs the real CLI
as a child process for each measurement (wall time, and peak RSS of the child from
``wait4``), times the obvious `git worktree` route for the same work, prints a table,
writes the figures as JSON and exits 1 if any target is missed.

    python benchmarks/bench.py [--out bench-results.json] [--sizes 7,100,500] [--keep]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fleet  # benchmarks/fleet.py, beside this file

PROJECT = Path(__file__).resolve().parent.parent
TARGETS = {
    "plan_ms_per_repo_at_500": 10.0,
    "apply_ms_per_repo_at_500": 30.0,
    "apply_speedup_vs_worktree": 5.0,
    "plan_20000_over_200_files": 1.5,
    "peak_rss_mb_at_500": 150.0,
}


@dataclass
class Run:
    seconds: float
    cpu_seconds: float  # user + system, of the child and every process it waited for
    peak_rss_mb: float  # wait4's ru_maxrss: the largest single process of the tree
    tree_peak_pss_mb: float  # sampled: proportional set size summed over the whole process tree
    exit_code: int

    @property
    def peak_mb(self) -> float:
        return max(self.peak_rss_mb, self.tree_peak_pss_mb)


class TreeMemory(threading.Thread):
    """Samples the PSS of a process and all its descendants (Linux /proc), keeps the peak of the sum."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_kb = pid, interval, 0
        self.done = threading.Event()

    def tree(self) -> list[int]:
        pids, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            try:  # a process may end at any moment: its /proc entries vanish under us
                for children in Path(f"/proc/{pid}/task").glob("*/children"):
                    todo += [int(c) for c in children.read_text().split()]
            except OSError:
                pass
        return pids

    def run(self) -> None:
        while not self.done.is_set():
            total = 0
            for pid in self.tree():
                try:
                    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                        if line.startswith("Pss:"):
                            total += int(line.split()[1])
                            break
                except (OSError, ValueError):
                    pass
            self.peak_kb = max(self.peak_kb, total)
            self.done.wait(self.interval)


def rollout_command() -> list[str]:
    script = Path(sys.executable).parent / "rollout"
    return [str(script)] if script.exists() else [sys.executable, "-m", "juniper_rollout.cli"]


def child_env(root: Path) -> dict[str, str]:
    """Isolated from the user's git config (no signing, no hooks), with a fixed identity."""
    gitconfig = root / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Bench\n\temail = bench@example.invalid\n")
    env = {**os.environ, **fleet.GIT_ENV, "GIT_CONFIG_GLOBAL": str(gitconfig), "NO_COLOR": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT), env.get("PYTHONPATH", "")) if p)
    # as installed: compiled modules are cached (a no-bytecode environment would add ~0.1 s per run)
    for name in (
        "PYTHONDONTWRITEBYTECODE",
        "JUNIPER_WORKSPACE",
        "JUNIPER_MANIFEST",
        "GIT_DIR",
        "GIT_INDEX_FILE",
        "GIT_WORK_TREE",
    ):
        env.pop(name, None)
    return env


def measure(args: list[str], env: dict[str, str], cwd: Path, log: Path, memory: bool = True) -> Run:
    """Wall time, CPU time and peak memory of one command and every process it starts.
    ``memory=False``: no sampling of the tree's memory (its 20 ms polling would take CPU from the child)."""
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd
        )
        sampler = TreeMemory(proc.pid)
        if memory:
            sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        sampler.done.set()
        if memory:
            sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(
        seconds,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        sampler.peak_kb / 1024,
        proc.returncode,
    )


def figures(run: Run) -> dict:
    return {**asdict(run), "peak_mb": run.peak_mb}


def rollout(root: Path, env: dict[str, str], name: str, *args: str, memory: bool = True) -> Run:
    log = root / "logs" / f"{name}.log"
    run = measure([*rollout_command(), *args], env, root, log, memory)
    if run.exit_code != 0:
        sys.exit(
            f"bench: `rollout {' '.join(args)}` exited {run.exit_code}; see its output:\n"
            + log.read_text(errors="replace")[-3000:]
        )
    return run


def git(*args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        ["git", *args], check=True, capture_output=True, text=True, env=env
    ).stdout


def worktree_route(
    plan_file: Path, workspace: Path, scratch: Path, branch: str, env: dict[str, str]
) -> float:
    """The obvious way, repo after repo: worktree on a new branch, write, add, commit, remove."""
    plans = json.loads(plan_file.read_text())["repos"]
    start = time.perf_counter()
    for repo in plans:
        clone, tree = workspace / repo["name"], scratch / repo["name"]
        git(
            "-C",
            str(clone),
            "worktree",
            "add",
            "-q",
            "-b",
            branch,
            str(tree),
            repo["base"],
            env=env,
        )
        paths = []
        for f in repo["files"]:
            if "content" not in f:
                continue
            target = tree / f["path"]
            if f["content"] is None:
                target.unlink()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(base64.b64decode(f["content"]))
            paths.append(f["path"])
        git("-C", str(tree), "add", "-A", "--", *paths, env=env)
        git("-C", str(tree), "commit", "-q", "-m", "chore: manage secrets with SOPS + age", env=env)
        git("-C", str(clone), "worktree", "remove", "--force", str(tree), env=env)
    return time.perf_counter() - start


def same_trees(
    workspace: Path, names: list[str], ours: str, theirs: str, env: dict[str, str]
) -> int:
    """How many repos whose two branches hold different trees (the two routes must agree)."""
    differ = 0
    for name in names:
        a, b = git(
            "-C",
            str(workspace / name),
            "rev-parse",
            f"{ours}^{{tree}}",
            f"{theirs}^{{tree}}",
            env=env,
        ).split()
        differ += a != b
    return differ


def machine() -> dict[str, str | int | None]:
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "nproc": cpus,
        "cpu_model": model or platform.processor() or None,
        "python": platform.python_version(),
        "git": subprocess.run(
            ["git", "--version"], check=False, capture_output=True, text=True
        ).stdout.strip(),
        "platform": platform.platform(),
        "load_average_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=Path("bench-results.json"), help="where to write the figures"
    )
    parser.add_argument("--sizes", default="7,100,500", help="fleet sizes N to plan and apply")
    parser.add_argument(
        "--worktree-sizes", default="100,500", help="sizes at which to time the worktree route"
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="runs of each single-repo plan (fastest counts)"
    )
    parser.add_argument(
        "--fleet-repeat",
        type=int,
        default=None,
        help="runs of plan, apply and the worktree route at each N, fastest counts "
        "(default: 3 up to N=100; 2 above, with the worktree route, a minute a run, once)",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="pass --jobs to rollout (default: its own)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temp folder (printed) for inspection"
    )
    args = parser.parse_args(argv)
    sizes = sorted(int(n) for n in args.sizes.split(","))
    worktree_sizes = [int(n) for n in args.worktree_sizes.split(",") if int(n) in sizes]
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []

    root = Path(tempfile.mkdtemp(prefix="juniper-bench-"))
    (root / "logs").mkdir()
    env = child_env(root)
    print(f"bench: working in {root}", file=sys.stderr)
    load, cpus = (os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0), os.cpu_count() or 1
    if load > cpus / 2:
        print(
            f"bench: warning: load average {load:.1f} on {cpus} CPUs; other work will inflate the figures",
            file=sys.stderr,
        )
    try:
        import pyrage

        recipient = str(pyrage.x25519.Identity.generate().to_public())
        start = time.perf_counter()
        workspace = root / "fleet"
        names = fleet.make_fleet(workspace, max(sizes), jobs=2 * (os.cpu_count() or 1))
        single = root / "single"
        fleet.make_repo(single / "files-200", 200, 5, repack=True, checkout=False)
        fleet.make_repo(single / "files-20000", 20_000, 1_000, repack=True, checkout=False)
        built = time.perf_counter() - start
        print(f"bench: built {len(names)} repos + 2 single repos in {built:.1f}s", file=sys.stderr)

        results: dict = {
            "machine": machine(),
            "build_seconds": round(built, 2),
            "fleet": {},
            "single": {},
        }
        for n in sizes:
            # each measurement `--fleet-repeat` times, plan, apply and the worktree route interleaved so
            # drifting load hits all alike; the fastest run counts (other work only ever adds time)
            plans, applies, worktrees = [], [], []
            for i in range(args.fleet_repeat or (3 if n <= 100 else 2)):
                manifest = root / f"fleet-{n}-{i}.yaml"
                manifest.write_text(
                    fleet.manifest_text(workspace, names[:n], recipient, f"chore/bench-{n}-{i}")
                )
                plans.append(
                    rollout(
                        root, env, f"plan-{n}-{i}", "plan", "--json", "-m", str(manifest), *jobs
                    )
                )
                plan_file = root / f"plan-{n}.json"
                if n in worktree_sizes and i == 0:
                    # saved before the apply: once the branch exists, plan compares with it (nothing left to do)
                    rollout(
                        root,
                        env,
                        f"plan-out-{n}",
                        "plan",
                        "--out",
                        str(plan_file),
                        "-m",
                        str(manifest),
                        *jobs,
                    )
                applies.append(
                    rollout(
                        root, env, f"apply-{n}-{i}", "apply", "--yes", "-m", str(manifest), *jobs
                    )
                )
                # the worktree route: as often where it is quick; once where it takes minutes (a slower
                # baseline run could only widen the ratio, which is already far past the target there)
                if n in worktree_sizes and (i == 0 or n <= 100):
                    scratch = root / f"worktrees-{n}-{i}"
                    scratch.mkdir()
                    worktrees.append(
                        worktree_route(
                            plan_file, workspace, scratch, f"bench/worktree-{n}-{i}", env
                        )
                    )
                    differ = same_trees(
                        workspace, names[:n], f"chore/bench-{n}-{i}", f"bench/worktree-{n}-{i}", env
                    )
                    if differ:
                        sys.exit(
                            f"bench: apply and the worktree route disagree in {differ} of {n} repos"
                        )
            plan, apply = min(plans, key=lambda r: r.seconds), min(applies, key=lambda r: r.seconds)
            # what a person sees: the plan with its diffs (to a file; the terminal's own speed aside)
            text = rollout(
                root, env, f"plan-text-{n}", "plan", "-m", str(root / f"fleet-{n}-0.yaml"), *jobs
            )
            entry = {
                "plan_with_diffs_seconds": text.seconds,
                "plan": figures(plan),
                "apply": figures(apply),
                "plan_runs_seconds": [r.seconds for r in plans],
                "apply_runs_seconds": [r.seconds for r in applies],
                "plan_ms_per_repo": 1000 * plan.seconds / n,
                "apply_ms_per_repo": 1000 * apply.seconds / n,
            }
            if worktrees:
                seconds = min(worktrees)
                entry.update(
                    worktree_seconds=seconds,
                    worktree_runs_seconds=worktrees,
                    worktree_ms_per_repo=1000 * seconds / n,
                    speedup=seconds / apply.seconds,
                )
            results["fleet"][str(n)] = entry
            print(f"bench: N={n} done", file=sys.stderr)

        # one repo of 200 files vs one of 20,000: runs interleaved, so drifting load hits both alike;
        # compared by their fastest run (other work on the machine only ever adds time)
        names_single = ("files-200", "files-20000")
        for name in names_single:
            (root / f"{name}.yaml").write_text(
                fleet.manifest_text(single, [name], recipient, "chore/bench")
            )
        runs: dict[str, list[Run]] = {name: [] for name in names_single}
        for i in range(args.repeat):
            for name in names_single:
                runs[name].append(
                    rollout(
                        root,
                        env,
                        f"plan-{name}-{i}",
                        "plan",
                        "--json",
                        "-m",
                        str(root / f"{name}.yaml"),
                    )
                )
        for name in names_single:
            results["single"][name] = {
                "runs": [figures(r) for r in runs[name]],
                "min_seconds": min(r.seconds for r in runs[name]),
                "median_seconds": statistics.median(r.seconds for r in runs[name]),
            }
    finally:
        if args.keep:
            print(f"bench: kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)

    results["checks"] = checks(results, sizes)
    print_table(results, sizes)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"figures written to {args.out}")
    return 0 if all(c["pass"] for c in results["checks"]) else 1


def checks(results: dict, sizes: list[int]) -> list[dict]:
    out = []

    def check(name: str, value: float | None, target: float, at_most: bool = True) -> None:
        ok = value is not None and (value <= target if at_most else value >= target)
        out.append({"name": name, "value": value, "target": target, "at_most": at_most, "pass": ok})

    big = results["fleet"].get(str(max(sizes)), {})
    label = max(sizes)
    check(
        f"plan ms/repo at N={label}",
        big.get("plan_ms_per_repo"),
        TARGETS["plan_ms_per_repo_at_500"],
    )
    check(
        f"apply ms/repo at N={label}",
        big.get("apply_ms_per_repo"),
        TARGETS["apply_ms_per_repo_at_500"],
    )
    for n, entry in results["fleet"].items():
        if "speedup" in entry:
            check(
                f"apply speed-up vs worktree at N={n}",
                entry["speedup"],
                TARGETS["apply_speedup_vs_worktree"],
                at_most=False,
            )
    single = results["single"]
    ratio = single["files-20000"]["min_seconds"] / single["files-200"]["min_seconds"]
    check("plan 20,000 files / 200 files", ratio, TARGETS["plan_20000_over_200_files"])
    peak = max(big["plan"]["peak_mb"], big["apply"]["peak_mb"]) if big else None
    check(f"peak memory MB at N={label}", peak, TARGETS["peak_rss_mb_at_500"])
    return out


def print_table(results: dict, sizes: list[int]) -> None:
    m = results["machine"]
    print(f"\nmachine: {m['nproc']} CPUs, {m['cpu_model']}, Python {m['python']}, {m['git']}")
    print(
        "(fastest of the runs at each N; wall s; ms/repo = wall / N; cpu s = user + system of all processes; MB = peak memory, the larger of"
        " the largest process's RSS and the whole process tree's PSS)"
    )
    head = f"{'wall s':>7} {'ms/repo':>8} {'cpu s':>6} {'MB':>5}"
    print(f"{'N':>5} | plan {head} | apply {head} | {'worktree s':>10} {'speed-up':>8}")
    for n in sizes:
        e = results["fleet"][str(n)]
        wt = (
            f"{e['worktree_seconds']:>10.2f} {e['speedup']:>7.1f}x"
            if "speedup" in e
            else f"{'-':>10} {'-':>8}"
        )
        cols = [
            f"{e[k]['seconds']:>7.2f} {e[k + '_ms_per_repo']:>8.1f} {e[k]['cpu_seconds']:>6.2f}"
            f" {e[k]['peak_mb']:>5.0f}"
            for k in ("plan", "apply")
        ]
        print(f"{n:>5} |      {cols[0]} |       {cols[1]} | {wt}")
    print(
        "plan with its diffs (human output, to a file): "
        + ", ".join(
            f"N={n} {results['fleet'][str(n)]['plan_with_diffs_seconds']:.2f} s" for n in sizes
        )
    )
    for name, s in results["single"].items():
        print(
            f"plan, one repo of {name}: fastest {s['min_seconds'] * 1000:.0f} ms, median"
            f" {s['median_seconds'] * 1000:.0f} ms, of {len(s['runs'])} runs"
        )
    print()
    for c in results["checks"]:
        value = "n/a" if c["value"] is None else f"{c['value']:.2f}"
        sign = "<=" if c["at_most"] else ">="
        print(
            f"{'PASS' if c['pass'] else 'FAIL'}  {c['name']}: {value} (target {sign} {c['target']:g})"
        )


if __name__ == "__main__":
    sys.exit(main())
