"""Helpers for tests: run the CLI in-process and check it leaked nothing."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from juniper_rollout.cli import app
from tests.demofleet import CANARY


def canary_spellings(canary: str = CANARY) -> list[str]:
    """``canary`` as written and as an encoder or escaper leaves it readable to whoever decodes it:
    its base64 spellings (standard and URL-safe; of each of its three alignments, the encoding of its
    whole 3-byte groups, which reads the same wherever the canary sits in what was encoded: base64
    of `KEY=demo-CANARY-…`, of a whole `.env`, of a JSON object holding it), and each of its
    non-alphanumeric characters escaped as JSON, YAML, Python, C/printf, URLs and HTML write it, and
    its hex (pass 24g).
    Pass 24e: the suite's leak checks looked for the canary as written only, so a test proved nothing
    about a value the tool printed or committed base64-encoded or escaped."""
    raw = canary.encode()
    forms = {canary}
    for start in range(3):
        whole = (len(raw) - start) // 3 * 3
        encoded = base64.b64encode(raw[start : start + whole]).decode()
        forms |= {encoded, encoded.translate(str.maketrans("+/", "-_"))}
    forms |= {raw.hex(), raw.hex().upper()}  # pass 24g: hex (`xxd -p`)
    for char in sorted({c for c in canary if not c.isalnum()}):
        code = ord(char)
        for escaped in (
            f"\\x{code:02x}",
            f"\\x{code:02X}",
            f"\\u{code:04x}",
            f"\\u{code:04X}",
            f"\\{code:03o}",
            f"%{code:02X}",
            f"%{code:02x}",
            f"&#{code};",
            f"&#x{code:x};",
            f"&#x{code:X};",
        ):
            forms.add(canary.replace(char, escaped))
    return sorted(forms)


# one pass over a text finds any spelling (compiled once: the session scan reads every git object)
CANARY_SEEN = re.compile("|".join(map(re.escape, canary_spellings())))
CANARY_SEEN_BYTES = re.compile(CANARY_SEEN.pattern.encode("ascii"))


def shows_canary(text: str | bytes) -> bool:
    """Whether ``text`` holds the canary in any of its spellings (:func:`canary_spellings`)."""
    if isinstance(text, bytes):
        return CANARY_SEEN_BYTES.search(text) is not None
    return CANARY_SEEN.search(text) is not None


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def rollout(*args: str | Path, input: str | None = None) -> Result:
    """``rollout ARGS`` in-process; asserts the plaintext canary is in neither stream."""
    result = CliRunner().invoke(
        app, [str(a) for a in args], input=input, catch_exceptions=False, prog_name="rollout"
    )
    out, err = result.stdout, result.stderr
    assert not shows_canary(out) and not shows_canary(err), (
        "plaintext secret leaked into the output"
    )
    return Result(result.exit_code, out, err)


def git(repo: Path, *args: str, input: str | None = None) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, input=input
    ).stdout


# `git ` or `git -C CLONE ` (quoted or not) before a subcommand in a line the tool printed: a test
# that a command is NOT offered matches both spellings (pass 25a: every command names its clone now)
GIT_ANY = r"git (?:-C (?:'[^']*'|\S+) )?"


def git_any(said: str, command: str) -> bool:
    """Does ``said`` offer ``git [-C CLONE] COMMAND`` (``command`` literal text)?"""
    return re.search(GIT_ANY + re.escape(command), said) is not None


def next_second() -> None:
    """Wait until the clock's whole second ticks over: anything stamped after this (sops'
    ``lastmodified``, kept in whole seconds; a file's mtime) is in a later second than anything
    stamped before the call. Same guarantee as ``time.sleep(1.1)``, half the wait on average."""
    import time

    start = int(time.time())
    while int(time.time()) <= start:
        time.sleep(start + 1 - time.time() + 0.005)


def clone_state(repo: Path) -> dict[str, str]:
    """Everything of a user's clone that the tool must never touch."""
    files = {}
    for path in sorted(repo.rglob("*")):
        if ".git" in path.relative_to(repo).parts or not path.is_file():
            continue
        files[str(path.relative_to(repo))] = hashlib.sha256(path.read_bytes()).hexdigest()
    index = repo / ".git" / "index"
    return {
        "status": git(
            repo, "--no-optional-locks", "status", "--porcelain", "--untracked-files=all"
        ),
        "head": (repo / ".git" / "HEAD").read_text(),
        "head_commit": git(repo, "rev-parse", "HEAD"),
        "index": hashlib.sha256(index.read_bytes()).hexdigest() if index.exists() else "",
        "stash": git(repo, "stash", "list"),
        "files": repr(files),
    }


ANSI = __import__("re").compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def rollout_in_a_terminal(*args: str | Path, answer: str, timeout: float = 120) -> Result:
    """``rollout ARGS`` as a process on a pseudo-terminal (stdin, stdout, stderr), typing ``answer`` at its
    [y/N] prompt. Output is both streams, as a person sees them, with the colour codes taken out."""
    import os
    import pty
    import select
    import sys

    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "juniper_rollout.cli", *map(str, args)],
        stdin=child,
        stdout=child,
        stderr=child,
        env=dict(os.environ, COLUMNS="100"),
        close_fds=True,
    )
    os.close(child)
    seen, answered = b"", False
    try:
        while select.select([main], [], [], timeout)[0]:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the process closed the terminal
                break
            if not chunk:
                break
            seen += chunk
            if not answered and b"[y/N]" in seen:
                os.write(main, answer.encode() + b"\n")
                answered = True
        code = proc.wait(timeout)
    finally:
        os.close(main)
        if proc.poll() is None:
            proc.kill()
    text = ANSI.sub("", seen.decode("utf-8", "replace")).replace("\r\n", "\n")
    assert not shows_canary(text), "plaintext secret leaked into the output"
    assert answered, text
    return Result(code, text, text)


_HOOK_LINE = __import__("re").compile(r"^(.+?)\.{3,}(Passed|Failed|\(no files to check\)Skipped)$")


def precommit_refuses(
    repo: Path, config: Path, names: list[str], hook_id: str | None = None
) -> tuple[dict[str, bool], str]:
    """The real ``pre-commit run [HOOK] --files NAMES`` over staged files, in one run: which files a
    hook refused, and pre-commit's output. A failed hook names each file it refused on a line of its
    own (pygrep and ``language: fail`` hooks print nothing else but a fail hook's entry); any other
    output, a failed hook naming no file, or an exit code that disagrees is an error here, never a
    verdict (one run per file gave the same verdicts at ~0.6 s a run)."""
    import json
    import os
    import sys

    hooks = json.loads(config.read_text())["repos"][0]["hooks"]
    entries = {h["entry"] for h in hooks if h.get("language") == "fail"}
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", *([hook_id] if hook_id else [])]
        + ["--config", str(config), "--color", "never", "--files", *names],
        cwd=repo,
        capture_output=True,
        text=True,
        env=dict(os.environ, GIT_CONFIG_NOSYSTEM="1"),
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode in (0, 1) and not proc.stderr, output
    refused: set[str] = set()
    failed, named, hooks_seen = None, False, 0
    for line in proc.stdout.splitlines():
        header = _HOOK_LINE.match(line)
        if header:
            assert failed is None or named, f"hook {failed!r} failed naming no file:\n{output}"
            hooks_seen += 1
            failed, named = (header.group(1) if header.group(2) == "Failed" else None), False
        elif line.startswith("- ") or not line.strip():
            continue  # "- hook id: ...", "- exit code: 1"
        else:
            assert failed is not None, f"output outside a failed hook: {line!r}\n{output}"
            if line in names:
                refused.add(line)
                named = True
            else:
                assert line in entries, f"unexpected hook output: {line!r}\n{output}"
    assert failed is None or named, f"hook {failed!r} failed naming no file:\n{output}"
    assert hooks_seen, output
    assert (proc.returncode == 1) == bool(refused), output
    return {name: name in refused for name in names}, output


def push_held_by_origin(fleet, tmp_path: Path, hook: str, seconds: int) -> tuple:
    """``rollout apply --repo juniper-ml --yes --push`` as a process of its own session, pushing to a
    new bare origin whose ``hook`` (pre-receive, post-receive) sleeps ``seconds``; returned once the
    push has reached that hook: (process, clone, origin, the hook's file). Text output, piped."""
    import os
    import sys
    import time

    repo = fleet.repo("juniper-ml")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    marker = tmp_path / "push-reached-origin"
    script = origin / "hooks" / hook
    script.write_text(f"#!/bin/sh\ntouch '{marker}'\nsleep {seconds}\n")
    script.chmod(0o755)
    git(repo, "remote", "add", "origin", str(origin))
    proc = subprocess.Popen(
        [sys.executable, "-m", "juniper_rollout.cli", "apply", "-m", str(fleet.manifest)]
        + ["--repo", "juniper-ml", "--yes", "--push"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    deadline = time.monotonic() + 60  # wait-until, not a timing assertion
    while time.monotonic() < deadline and not marker.exists() and proc.poll() is None:
        time.sleep(0.05)
    if not marker.exists():
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the push never reached origin's hook: {out}{err}")
    return proc, repo, origin, script


def sync_a_new_entry_at(fleet, tmp_path: Path, url: str) -> Result:
    """``rollout sync`` of an entry ``newrepo`` added to a copy of the fleet's manifest with ``url``
    (quoted as YAML), the way an outsider's manifest entry reaches the tool."""
    manifest = tmp_path / "helper.yaml"
    manifest.write_text(
        fleet.manifest.read_text().replace(
            "  - name: juniper-ml", f"  - name: newrepo\n    url: '{url}'\n  - name: juniper-ml"
        )
    )
    return rollout("sync", "-m", manifest, "--repo", "newrepo")


def encrypted_by_hand(fleet, repo: Path, plaintext: bytes) -> None:
    """``plaintext`` encrypted by plain sops (no rollout) for the fleet's key, committed on the
    clone's checked-out branch as `.env.enc`: what a person or an older tool may have committed."""
    import sys

    import pyrage

    secret = next(
        line
        for line in Path(fleet.key_file).read_text().splitlines()
        if line.startswith("AGE-SECRET-KEY-")
    )
    public = pyrage.x25519.Identity.from_str(secret).to_public()
    config = repo.parent / "outside.sops.yaml"
    config.write_text(f"creation_rules:\n  - path_regex: .*\n    age: {public}\n")
    sops = str(Path(sys.executable).parent / "sops")
    ciphertext = subprocess.run(
        [sops, "--config", str(config), "encrypt", "--input-type", "dotenv", "--output-type",
         "dotenv", "--filename-override", ".env.enc"],
        input=plaintext, capture_output=True, check=True,
    ).stdout  # fmt: skip
    (repo / ".env.enc").write_bytes(ciphertext)
    git(repo, "add", "-f", ".env.enc")
    git(repo, "commit", "-q", "-m", "encrypted by hand")
