"""A private throwaway git repo, for the verify checks that need files on disk.

git's own ``check-ignore`` and the real ``pre-commit`` run there, never in a user's
clone: the directory is 0700, removed on every path, and git sees neither the user's
config nor GIT_DIR & co. Only test files go in: a ref's ``.gitignore``, a dummy
``.env``, a sops-encrypted dummy ``.env.enc``. Never a secret.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from juniper_rollout import proctree, sops
from juniper_rollout.errors import RolloutError

DUMMY_ENV = b"ROLLOUT_VERIFY_DUMMY=not-a-secret\n"
DUMMY_EXAMPLE = b"# copy to .env\nROLLOUT_VERIFY_DUMMY=\n"
TIMEOUT = 120


class Run(NamedTuple):
    code: int
    output: str

    @property
    def refused(self) -> bool:
        return self.code == 1 and "Failed" in self.output

    @property
    def broken(self) -> bool:
        """pre-commit itself failed (a bad config, say), so it neither accepted nor refused."""
        return self.code != 0 and not self.refused


@contextmanager
def scratch_repo(files: Mapping[str, bytes] | None = None) -> Iterator[Path]:
    """A new git repo holding ``files`` (not committed) at ``<private tmp dir>/repo``, removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="rollout-verify-"))
    try:
        repo = root / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "--template=")
        for path, data in (files or {}).items():
            fd = os.open(repo / path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        yield repo
    finally:
        shutil.rmtree(root, ignore_errors=True)


def ignored(repo: Path, paths: list[str]) -> set[str]:
    """Which of ``paths`` the repo's ignore rules ignore, by git's own ``check-ignore``."""
    out = git(
        repo,
        "-c",
        f"core.excludesFile={os.devnull}",
        "check-ignore",
        "--no-index",
        "--",
        *paths,
        ok_codes=(0, 1),
    )
    return set(out.splitlines())


class HookTrial:
    """pre-commit runs of single hooks, by id, on staged test files; each distinct run once per verify."""

    ACCEPT, PLAINTEXT_ENV, PLAINTEXT_ENC = (
        [".env.example", ".env.enc"],
        [".env"],
        [".env.secrets.enc"],
    )
    # the real .env.enc with a plaintext line appended: its sops metadata intact
    PLAINTEXT_ADDED = [".env.added.enc"]

    def __init__(self, recipients: tuple[str, ...]) -> None:
        self.recipients = recipients
        self._lock = threading.Lock()
        self._results: dict[str, Future] = {}

    def run(self, config: str, runs: list[tuple[str, list[str]]]) -> list[Run] | str:
        """``pre-commit run HOOK_ID --files FILES`` for each of ``runs`` with this config (JSON);
        or why they cannot run."""
        dummy = self._once("", self._dummy_encrypted)
        if isinstance(dummy, str):
            return f"cannot make a test .env.enc: {dummy}"
        key = json.dumps([config, runs])
        return self._once(key, lambda: self._run(config, runs, dummy))

    def _once(self, key: str, compute: Callable[[], Any]) -> Any:
        with self._lock:
            future, mine = self._results.get(key), False
            if future is None:
                future = self._results[key] = Future()
                mine = True
        if mine:
            try:
                future.set_result(compute())
            except BaseException as err:
                future.set_exception(err)
        return future.result()

    def _dummy_encrypted(self) -> bytes | str:
        """A real sops-encrypted .env.enc for the recipients (encrypting needs no private key)."""
        rule = f"creation_rules:\n  - path_regex: '.*'\n    age: '{','.join(self.recipients)}'\n"
        try:
            return sops.encrypt_dotenv(DUMMY_ENV, sops_config=rule, filename=".env.enc")
        except RolloutError as err:
            return str(err)

    def _run(self, config: str, runs: list[tuple[str, list[str]]], dummy_enc: bytes) -> list[Run]:
        files = {
            ".env": DUMMY_ENV,
            ".env.example": DUMMY_EXAMPLE,
            ".env.enc": dummy_enc,
            ".env.secrets.enc": DUMMY_ENV,  # plaintext renamed .enc
            ".env.added.enc": dummy_enc + DUMMY_ENV,
        }  # plaintext appended to real ciphertext
        with scratch_repo(files) as repo:
            git(
                repo, "add", "-f", "--", *files
            )  # staged, as for a commit (-f: .env may be ignored)
            (repo.parent / "pre-commit.yaml").write_text(config, encoding="utf-8")
            return _pre_commit(repo, runs)


# what git and pre-commit may see of the user's environment: where programs are, the locale, the
# temp folder, how Python runs. Nothing else: a token (`GITHUB_TOKEN`, `VAULT_TOKEN`, cloud keys) is
# no business of a hook's (pass 20b: the list was of what to drop, so every other variable reached
# whatever the managed hooks start)
_KEPT = ("PATH", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TMP", "TEMP", "NO_COLOR", "VIRTUAL_ENV")
_KEPT_PREFIXES = ("LC_", "PYTHON")


def _env(repo: Path) -> dict[str, str]:
    """git and pre-commit see only the throwaway repo and an environment of the names above: no
    GIT_DIR & co., no user config, no SKIP, no key material (no SOPS_* variable; HOME a private empty
    folder, so neither $SOPS_AGE_KEY_FILE nor ~/.config/sops/age/keys.txt can be reached), no token."""
    env = {k: v for k, v in os.environ.items() if k in _KEPT or k.startswith(_KEPT_PREFIXES)}
    home = repo.parent / "home"
    home.mkdir(mode=0o700, exist_ok=True)
    env.update(
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_CEILING_DIRECTORIES=str(repo.parent),
        HOME=str(home),
        PRE_COMMIT_HOME=str(repo.parent / "pre-commit-home"),
    )
    return env


def git(repo: Path, *args: str, ok_codes: tuple[int, ...] = (0,)) -> str:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=repo,
            env=_env(repo),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            preexec_fn=proctree.dies_with_us(),
        )
    except FileNotFoundError:
        raise RolloutError("git not found: install git") from None
    if proc.returncode not in ok_codes:
        raise RolloutError(f"git {args[0]} failed in a throwaway repo: {last_line(proc.stderr)}")
    return proc.stdout


def _pre_commit(repo: Path, runs: list[tuple[str, list[str]]]) -> list[Run]:
    """One ``pre-commit run HOOK_ID --files …`` per run, all started at once (offline: the managed
    hooks need no install)."""
    config = str(repo.parent / "pre-commit.yaml")
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pre_commit",
                "run",
                hook,
                "--config",
                config,
                "--color",
                "never",
                "--files",
                *files,
            ],
            cwd=repo,
            env=_env(repo),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # pass 19b: verify's pre-commit runs outlived a kill -9 (or an OOM kill) of the tool
            preexec_fn=proctree.dies_with_us(),
        )
        for hook, files in runs
    ]
    out_runs = []
    for proc in procs:
        try:
            out, _ = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        out_runs.append(Run(proc.returncode, out.decode("utf-8", "replace")))
    return out_runs


def last_line(text: str) -> str:
    """The last line that says something: not pre-commit's closing "Check the log at …", a file in
    the throwaway, removed before anyone reads the line (pass 26f: its reason, the line before, was
    left out), and without its `=====> ` marker."""
    lines = [
        line.strip().lstrip("=> ").strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("Check the log at ")
    ]
    lines = [line for line in lines if line]
    return _unechoed(lines[-1])[:200] if lines else "no output"


def _unechoed(line: str) -> str:
    """``line`` with each word shaped like a credential (a token, a URL with a password, an age key)
    replaced by ``***``. Pass 26h (13.5's verify, pass 26f's reason): pre-commit's reason quotes the
    branch's config (`but got: 'ghp_…'`, `'(?#ghp_…' is not a valid python regex`), and verify
    printed a token the branch's `.pre-commit-config.yaml` held."""
    from juniper_rollout.secretshape import AGE_PRIVATE_KEY, names_credential

    line = AGE_PRIVATE_KEY.sub("***", line)
    for word in sorted({w.strip("()'\",:;[]") for w in line.split()}, key=len, reverse=True):
        if len(word) >= 8 and "***" not in word and names_credential(word):
            line = line.replace(word, "***")
    return line
