"""The four gaps a later adversarial pass found in issue 13's fixes: each test fails without its fix."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from juniper_rollout import savepath, throwaway
from juniper_rollout.edits import gitignore
from tests.helpers import rollout
from tests.test_hostile import manifest_for


# --- (a) a 200,000-line .gitignore whose every line can match a managed path --------------------
def adversarial_gitignore(count: int) -> list[str]:
    """Distinct lines, every literal of which is in a managed name: each one could decide."""
    shapes = (
        lambda i: f"[.{i}]env",  # .env
        lambda i: f"*env[!{i}]",  # nothing, but every literal of it is in a managed name
        lambda i: f".e*[!{i}]",  # .env, .env.local, .env.example, ...
        lambda i: f"**/.env{i}*",  # nothing, and reads like .env*
        lambda i: f"!.env.e[{i}x]ample",  # .env.example, negated
    )
    return [shapes[i % len(shapes)](i) for i in range(count)]


def test_a_200k_line_gitignore_whose_every_line_can_match_is_read_once():
    """Counting work, not time: each line is matched once (against every managed name at once,
    nothing compiled), and pathspec compiles one line per managed name at most (the last one
    matching it). Every line here passes the old filter, which compiled all 200,000 (130 s)."""
    lines = adversarial_gitignore(200_000)
    text = "".join(line + "\n" for line in lines)
    gitignore._pattern.cache_clear()
    gitignore._names.cache_clear()
    result = gitignore.edit(
        text,
        lambda patterns: (
            "# >>> juniper-rollout >>>\n"
            + "".join(p + "\n" for p in patterns)
            + "# <<< juniper-rollout <<<\n"
        ),
    )
    names = gitignore._names_for(())
    assert names.evaluated <= len(lines) + 100
    assert gitignore._pattern.cache_info().misses <= len(gitignore._UNIVERSE)
    # and the result is right by git's own rules, over the whole 200,000-line file
    must_ignore, must_track = gitignore.MUST_IGNORE, gitignore.MUST_TRACK
    with throwaway.scratch_repo({".gitignore": result.text.encode()}) as repo:
        assert throwaway.ignored(repo, [*must_ignore, *must_track]) == set(must_ignore)


# --- (c) every --out failure is one line: what path, what is wrong, how to fix --------------------
def plan_out(manifest: Path, out: str | Path):
    result = rollout("plan", "--manifest", manifest, "--out", out)
    assert result.code == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and "No such file or directory" not in result.stderr
    return result.stderr


def test_every_plan_out_failure_is_one_line_saying_what_and_how(tmp_path):
    manifest = manifest_for(tmp_path, "")
    comm = Path("/proc/self/comm").read_bytes()
    line = plan_out(manifest, "/proc/self/comm")
    assert line.startswith(
        "error: --out /proc/self/comm is on the proc file system mounted at /proc"
    )
    assert "`--out -` for standard output" in line
    assert Path("/proc/self/comm").read_bytes() == comm
    assert "proc file system mounted at /proc" in plan_out(manifest, "/proc/plan.json")
    assert "is not a regular file: it is a folder" in plan_out(manifest, tmp_path)
    os.mkfifo(tmp_path / "fifo")
    assert "it is a FIFO (named pipe)" in plan_out(manifest, tmp_path / "fifo")
    assert "it is a character device" in plan_out(manifest, "/dev/null")
    (tmp_path / "afile").write_text("mine\n")
    os.symlink(tmp_path / "afile", tmp_path / "link")
    assert "is a symlink" in plan_out(manifest, tmp_path / "link")
    line = plan_out(manifest, tmp_path / "afile" / "plan.json")
    assert f"{tmp_path / 'afile'} is a file, not a folder; give a path inside a folder" in line
    assert "a part of the path is a file" in plan_out(manifest, tmp_path / "afile" / "x" / "p.json")
    missing = tmp_path / "no such" / "deeper"
    line = plan_out(manifest, missing / "plan.json")
    assert line.endswith(f"no folder {missing} (create it first: mkdir -p '{missing}')\n")
    command = line.split("(create it first: ")[1].rstrip(")\n")
    subprocess.run(command, shell=True, check=True)  # the command works when pasted
    assert missing.is_dir()
    assert "the name is too long" in plan_out(manifest, tmp_path / ("x" * 300))
    assert (tmp_path / "afile").read_text() == "mine\n" and (tmp_path / "link").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_plan_out_in_a_folder_without_write_permission(tmp_path):
    manifest = manifest_for(tmp_path, "")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = rollout("plan", "--manifest", manifest, "--out", locked / "plan.json")
        if os.geteuid() == 0:  # root writes anyway, and the tool says it saved the plan
            assert result.code == 0 and (locked / "plan.json").is_file()
        else:
            assert result.code == 1 and len(result.stderr.splitlines()) == 1
            assert f"no permission to create a file in {locked}" in result.stderr
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize(
    "code, words",
    [
        (errno.EROFS, "is on a read-only file system; give a path on a writable one"),
        (errno.ENOSPC, "no space left for it in"),
        (errno.EDQUOT, "no space left for it in"),
        (errno.ENAMETOOLONG, "the name is too long"),
        (errno.ELOOP, "a loop of symlinks"),
        (errno.EIO, "cannot write there (Input/output error)"),
    ],
)
def test_write_errors_the_checks_cannot_foresee_are_worded(tmp_path, code, words):
    """A disk that fills or turns read-only between the check and the write."""
    line = savepath.write_error(tmp_path / "plan.json", OSError(code, os.strerror(code)))
    assert words in line and line.endswith("or `--out -` for standard output")
