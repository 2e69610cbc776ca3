"""Synthetic fleets for the benchmark, built fast with one ``git fast-import`` stream per repo.

Every repo has ``main`` with a few commits, a ``.gitignore`` without the .env rules,
a ``.pre-commit-config.yaml`` with a remote hook repo, an ``AGENTS.md`` and a tree of
source files a few directories deep. Nothing here imports the tool.
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

GITIGNORE = "__pycache__/\n*.pyc\n.venv/\ndist/\nbuild/\n.coverage\n"
PRECOMMIT = """\
# pre-commit hooks for {name}
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0
    hooks:
      - id: trailing-whitespace
      - id: end-of-file-fixer
      - id: check-yaml
"""
AGENTS = "# Notes for agents working on {name}\n\nRun the tests with `make test`.\n"
SOURCE = '"""Module {i} of {name}."""\n\n\ndef f{i}(x):\n    return x * {i}\n'
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def source_paths(n_files: int, per_dir: int = 20, fanout: int = 8) -> list[str]:
    """``n_files`` paths, ``per_dir`` to a directory, directories nested three deep."""
    paths = []
    for i in range(n_files):
        d = i // per_dir
        a, b, c = d // (fanout * fanout), (d // fanout) % fanout, d % fanout
        paths.append(f"src/pkg{a}/sub{b}/mod{c}/file{i % per_dir}.py")
    return paths


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def stream(name: str, n_files: int, n_commits: int) -> bytes:
    """A fast-import stream: one commit with every file, then small commits touching a few."""
    paths = source_paths(n_files)
    out = []
    when = 1_700_000_000
    for k in range(n_commits):
        out.append(b"commit refs/heads/main\nmark :%d\n" % (k + 1))
        out.append(b"committer Bench <bench@example.invalid> %d +0000\n" % (when + k * 60))
        out.append(_data(f"commit {k} of {name}"))
        if k:
            out.append(b"from :%d\n" % k)
            touched = [paths[(k * 7919 + j) % n_files] for j in range(3)]
        else:
            touched = paths
            for path, text in (
                (".gitignore", GITIGNORE),
                (".pre-commit-config.yaml", PRECOMMIT.format(name=name)),
                ("AGENTS.md", AGENTS.format(name=name)),
                ("README.md", f"# {name}\n"),
            ):
                out.append(f"M 100644 inline {path}\n".encode() + _data(text))
        for i, path in enumerate(touched):
            out.append(
                f"M 100644 inline {path}\n".encode() + _data(SOURCE.format(i=i + k, name=name))
            )
        out.append(b"\n")
    return b"".join(out)


def make_repo(
    path: Path, n_files: int, n_commits: int, *, repack: bool = False, checkout: bool = True
) -> Path:
    """A non-bare repo at ``path`` whose ``main`` holds the synthetic history.

    ``repack``: pack as a clone is. fast-import deltas each version against the one before, so
    after a long history the tip sits at the end of delta chains; pack-objects (what a server
    runs for a clone) stores recent versions whole. ``checkout``: main in the index and working
    tree, as in a clone (the tool reads neither; the worktree route makes its own).
    """
    env = {**os.environ, **GIT_ENV}
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True, env=env)
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input=stream(path.name, n_files, n_commits),
        check=True,
        env=env,
    )
    if repack:
        subprocess.run(["git", "-C", str(path), "repack", "-adfq"], check=True, env=env)
    if checkout:
        subprocess.run(
            ["git", "-C", str(path), "read-tree", "--reset", "-u", "main"], check=True, env=env
        )
    return path


def make_fleet(
    root: Path, count: int, *, n_files: int = 300, n_commits: int = 5, jobs: int = 4
) -> list[str]:
    names = [f"svc-{i:03d}" for i in range(count)]
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda n: make_repo(root / n, n_files, n_commits), names))
    return names


def manifest_text(workspace: Path, names: list[str], recipient: str, branch: str) -> str:
    lines = [
        "version: 1",
        f"workspace: {workspace}",
        "defaults:",
        f"  branch: {branch}",
        "  age_recipients:",
        f"    - {recipient}",
        "repos:",
    ]
    for name in names:
        lines += [
            f"  - name: {name}",
            "    env_example: {groups: [{title: App, vars: [APP_HOST, APP_TOKEN]}]}",
        ]
    return "\n".join(lines) + "\n"
