"""The commands a line offers, pasted as a person pastes them (passes 25a, 25d, 25g): what ``rollout``
said on one line, the `git …` commands it quotes, each run in a shell in a chosen folder."""

from __future__ import annotations

import subprocess

from tests.helpers import rollout


def paste(command: str, cwd, shell: str = "bash") -> subprocess.CompletedProcess:
    """``command`` as a person pastes it in ``shell``, in ``cwd``."""
    return subprocess.run([shell, "-c", command], cwd=cwd, capture_output=True, text=True)


def said_by(*args) -> str:
    """What ``rollout ARGS`` printed, its wrapped lines joined with single blanks."""
    return " ".join(rollout(*args).stdout.split())


def said_with_code(*args) -> tuple[int, str]:
    """``rollout ARGS``'s exit code and all it printed (both streams) on one line, which holds no
    crash ("unexpected") and no error the leak guard could not check."""
    result = rollout(*args)
    said = " ".join((result.stdout + result.stderr).split())
    assert "unexpected" not in said and "could not check" not in said, said
    return result.code, said


def quoted(said: str, starting: str) -> str:
    """The command ``said`` quotes in backticks that starts with ``starting``."""
    return next(part for part in said.split("`") if part.startswith(starting))


def git_commands(text: str) -> list[str]:
    """The `git …` commands ``text`` quotes in backticks."""
    return [c for c in text.split("`") if c.startswith("git ")]


def tip(repo, ref: str) -> str:
    """``ref``'s commit in ``repo``, empty when it is gone."""
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "-q", ref], capture_output=True, text=True
    ).stdout.strip()


def blank_first_value(repo) -> None:
    """Empty the first value of the clone's ``.env`` (the name kept)."""
    env = repo / ".env"
    lines = env.read_text().splitlines()
    lines[0] = lines[0].split("=", 1)[0] + "="
    env.write_text("\n".join(lines) + "\n")


def rotate_first_value(repo) -> None:
    """A new first value in the clone's ``.env`` (what makes apply write the branch again)."""
    env = repo / ".env"
    env.write_text(env.read_text().replace("=", "=rotated-", 1))


def paste_each(commands: list[str], cwd, *, but: str | None = None) -> None:
    """Paste each of ``commands`` in ``cwd`` (those holding ``but`` left out: the other way), each
    succeeding."""
    for command in commands:
        if but is not None and but in command:
            continue
        pasted = paste(command, cwd)
        assert pasted.returncode == 0, (command, pasted.stderr)
