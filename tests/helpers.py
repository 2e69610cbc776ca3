"""Helpers for tests: run the CLI in-process and check it leaked nothing."""
from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from juniper_rollout.cli import app
from juniper_rollout.demo import CANARY


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def rollout(*args: str | Path, input: str | None = None) -> Result:
    """``rollout ARGS`` in-process; asserts the plaintext canary is in neither stream."""
    result = CliRunner().invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)
    out, err = result.stdout, result.stderr
    assert CANARY not in out and CANARY not in err, "plaintext secret leaked into the output"
    return Result(result.exit_code, out, err)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def clone_state(repo: Path) -> dict[str, str]:
    """Everything of a user's clone that the tool must never touch."""
    files = {}
    for path in sorted(repo.rglob("*")):
        if ".git" in path.relative_to(repo).parts or not path.is_file():
            continue
        files[str(path.relative_to(repo))] = hashlib.sha256(path.read_bytes()).hexdigest()
    index = repo / ".git" / "index"
    return {
        "status": git(repo, "--no-optional-locks", "status", "--porcelain", "--untracked-files=all"),
        "head": (repo / ".git" / "HEAD").read_text(),
        "head_commit": git(repo, "rev-parse", "HEAD"),
        "index": hashlib.sha256(index.read_bytes()).hexdigest() if index.exists() else "",
        "stash": git(repo, "stash", "list"),
        "files": repr(files),
    }
