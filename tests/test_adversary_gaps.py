"""The four gaps a later adversarial pass found in issue 13's fixes: each test fails without its fix."""

from __future__ import annotations

import base64
import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from juniper_rollout import savepath, throwaway
from juniper_rollout.edits import gitignore
from tests.demofleet import make_repo
from tests.helpers import git, rollout
from tests.test_hostile import manifest_for, no_branch, plan_error


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


# --- (b) paths a case-insensitive checkout (macOS, Windows) takes for one -----------------------
def refused_for_case(tmp_path: Path, repo: Path, entry: str, words: str) -> None:
    """Plan stops that repo alone with one line naming both spellings; apply writes no branch."""
    manifest = manifest_for(tmp_path, entry)
    tree = git(repo, "ls-tree", "-r", "main")
    error = plan_error(manifest)
    assert words in error and "case-insensitive checkout (macOS, Windows)" in error, error
    assert len(error.splitlines()) == 1
    result = rollout("apply", "--manifest", manifest, "--yes")
    assert result.code == 1 and "victim: failed" in result.stdout and words in result.stdout
    assert "healthy: created" in result.stdout  # the other repo goes on
    assert no_branch(repo) and git(repo, "ls-tree", "-r", "main") == tree


def test_a_manifest_path_whose_folder_the_tree_spells_in_another_case(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {"notes/README.md": "mine\n"})
    refused_for_case(
        tmp_path,
        repo,
        "  - name: victim\n    files: [{path: NOTES/GUIDE.md, template: sops.yaml.j2}]\n",
        "NOTES/GUIDE.md: the repository has notes, the same name as NOTES but for case",
    )


@pytest.mark.parametrize(
    "variant, words",
    [
        (".GITIGNORE", ".gitignore: the repository has .GITIGNORE, the same name but for case"),
        (".Sops.yaml", ".sops.yaml: the repository has .Sops.yaml, the same name but for case"),
    ],
)
def test_a_managed_file_spelled_in_another_case_in_the_tree(tmp_path, variant, words):
    repo = make_repo(tmp_path / "ws" / "victim", {variant: "mine\n"})
    refused_for_case(tmp_path, repo, "  - name: victim\n", words)


def test_both_spellings_already_in_the_tree_are_refused_too(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {".gitignore": "*.pyc\n", ".GITIGNORE": "x\n"})
    refused_for_case(tmp_path, repo, "  - name: victim\n", "git keeps only one of them")


@pytest.mark.parametrize(
    "files, words",
    [
        (
            "[{path: notes/GUIDE.md, template: sops.yaml.j2},\n"
            "             {path: NOTES/GUIDE.md, template: sops.yaml.j2}]",
            "renders NOTES/GUIDE.md, and notes/GUIDE.md (line 8): NOTES/GUIDE.md and "
            "notes/GUIDE.md differ only in case",
        ),
        (
            "[{path: docs/A.md, template: sops.yaml.j2},\n"
            "             {path: Docs/B.md, template: sops.yaml.j2}]",
            "renders Docs/B.md, and docs/A.md (line 8): Docs/B.md is in the folder Docs and "
            "docs/A.md in docs",
        ),
        (
            "[{path: .GITIGNORE, template: sops.yaml.j2}]",
            "renders .GITIGNORE, and .gitignore (the tool's own file)",
        ),
    ],
    ids=["same-file", "same-folder", "the-tools-own-file"],
)
def test_two_manifest_paths_differing_only_in_case_are_refused_with_their_line(
    tmp_path, files, words
):
    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    manifest = manifest_for(tmp_path, f"  - name: victim\n    files: {files}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert f"{manifest}:" in result.stderr and words in result.stderr, result.stderr
    assert "spell them the same" in result.stderr


def test_a_hand_edited_plan_never_adds_a_second_spelling(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {"notes/README.md": "mine\n"})
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    plan_file = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", manifest, "--out", plan_file).code == 0
    data = json.loads(plan_file.read_text())
    victim = next(r for r in data["repos"] if r["name"] == "victim")
    content = base64.b64encode(b"x\n").decode()
    victim["files"].append(
        {"path": "Notes/x.md", "action": "create", "reason": "x", "content": content}
    )
    plan_file.write_text(json.dumps(data))
    result = rollout("apply", plan_file, "--manifest", manifest, "--yes")
    assert result.code == 1 and "victim: failed" in result.stdout
    assert "Notes/x.md: the repository has notes, the same name as Notes" in result.stdout
    assert no_branch(repo)
