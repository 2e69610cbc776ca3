"""Issue 13, pass 28c: a verification pass over items 9, 11, 12 and the smaller list's last two bullets
(session 32). Each finding's test fails on the main this pass started from (d4c5fb9, checked by
undoing its fix)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.helpers import git, rollout
from tests.pasting import paste
from tests.test_pass26c import _master_only


def _owned_by_another_user(tmp_path, monkeypatch):
    """`_master_only`'s repo at a path as long as a real clone's (`~/src/github.com/ORG/REPO`), its
    files owned by another user: git refuses every command there ("dubious ownership") until
    ``safe.directory`` names it. ``HOME`` is a fresh folder (no global git config of the machine's)."""
    if os.geteuid() != 0:
        pytest.skip("giving a clone to another user needs root")
    manifest = _master_only(tmp_path)
    repo = tmp_path / "ws" / "victim"
    git(repo, "branch", "-m", "master", "main")
    deep = tmp_path / "ws" / "src" / "github.com" / "juniper-org" / "juniper-cascor-worker's"
    deep.parent.mkdir(parents=True)
    repo.rename(deep)
    manifest.write_text(
        manifest.read_text().replace(
            "  - name: victim\n",
            '  - name: victim\n    path: "ws/src/github.com/juniper-org/juniper-cascor-worker\'s"\n',
        )
    )
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    subprocess.run(["chown", "-R", "1234:1234", str(deep)], check=True)
    return manifest, deep, home


def test_drift_of_a_clone_another_user_owns_offers_gits_way_out_whole(tmp_path, monkeypatch):
    """Item 9: git refuses a clone another user owns ("dubious ownership"), and drift's line was
    git's refusal cut at 200 characters: at a real clone's path its `git config --global --add
    safe.directory '…'` ended mid-path (`safe.di`), so the repo was an error line with no way out,
    "0 findings" beside a `.env.prod` in its history. Its line now holds git's command whole;
    pasted (from another folder), drift names the file."""
    manifest, deep, home = _owned_by_another_user(tmp_path, monkeypatch)
    result = rollout("drift", "--manifest", manifest)
    assert result.code == 1, result.stdout
    said = " ".join(result.stdout.split())
    assert "dubious ownership" in said, said
    (command,) = [c for c in said.split("`") if c.startswith("git config --global")]
    pasted = paste(command, cwd=home)
    assert pasted.returncode == 0, pasted.stderr
    result = rollout("drift", "--manifest", manifest)
    assert "plaintext-env-in-history  .env.prod was committed in the past" in result.stdout, (
        result.stdout
    )


@pytest.mark.parametrize("command", [["plan"], ["verify", "--ref", "main"]])
def test_other_commands_on_a_clone_another_user_owns_say_so(tmp_path, monkeypatch, command):
    """The same clone to plan and `verify --ref main`: plan's line was the cut refusal, verify's
    "ref 'main' not found (fetch it, or pass another --ref)", a fetch that fails the same way."""
    manifest, _, _ = _owned_by_another_user(tmp_path, monkeypatch)
    result = rollout(*command, "--manifest", manifest)
    assert result.code == 1, result.stdout
    said = " ".join(result.stdout.split())
    assert "dubious ownership" in said and "safe.directory '" in said, said
    assert "not found" not in said, said


def _filter_repo_paths(command: str) -> list[str]:
    """The paths `git filter-repo` takes from ``command``'s arguments, read as its argparse reads
    them (`--path` appends, a word beginning with `-` is an option); argparse's error is a
    SystemExit. git-filter-repo itself is no dependency of the tool's."""
    import argparse
    import shlex

    words = shlex.split(command)
    parser = argparse.ArgumentParser(prog="git-filter-repo", exit_on_error=False)
    parser.add_argument("--path-match", "--path", dest="paths", action="append")
    parser.add_argument("--invert-paths", action="store_true")
    return parser.parse_args(words[words.index("filter-repo") + 1 :]).paths


@pytest.mark.parametrize("command", [["drift"], ["plan"], ["verify", "--ref", "main"]])
def test_a_purge_of_a_path_beginning_with_a_dash_works_when_pasted(tmp_path, command):
    """Item 9's way out: drift (a file in history, one tracked), plan and verify offer `git
    filter-repo --invert-paths --path PATH`; for `-dash.env` (a name git and the hook take as any
    other) it was `--path -dash.env`, which filter-repo refuses when pasted ("argument --path:
    expected one argument"). It is `--path=-dash.env` now."""
    manifest = _master_only(tmp_path)
    repo = tmp_path / "ws" / "victim"
    git(repo, "branch", "-m", "master", "main")
    who = ["-c", "user.name=t", "-c", "user.email=t@x"]
    for name in ("-gone.env", "-dash.env"):
        (repo / name).write_text("LOG_LEVEL=debug\n")
        git(repo, "add", "-f", "--", name)
        git(repo, *who, "commit", "-qm", f"add {name}")
    git(repo, "rm", "-q", "--cached", "--", "-gone.env")
    git(repo, *who, "commit", "-qm", "untrack one")
    said = " ".join(rollout(*command, "--manifest", manifest).stdout.split())
    # each offered purge, to the end of its path (a word here: no blank, quote nor parenthesis)
    offered = re.findall(r"git -C \S+ filter-repo --invert-paths --path[= ][^\s`)]+", said)
    assert offered, said
    for line in offered:
        (path,) = _filter_repo_paths(line)
        assert path.startswith("-") or path == ".env.prod", (line, path)
    if command == ["drift"]:
        assert {_filter_repo_paths(c)[0] for c in offered} >= {"-gone.env", "-dash.env"}, offered


@pytest.mark.parametrize("command", ["drift", "plan"])
def test_the_listing_of_more_env_files_than_the_guard_reads_names_the_clone(tmp_path, command):
    """Item 9's error line (pass 27c's F1 kept it beside the history's findings): a clone holding
    more plaintext env files in its folders than the leak guard reads offers `git ls-files --cached
    --others -- …` to list them, naming no clone: pasted where the line was read (the manifest's
    folder) it failed "not a git repository", and in another clone of the fleet it listed that
    clone's files. It names the clone now; pasted from the manifest's folder, it lists them."""
    from juniper_rollout import gitrepo

    manifest = _master_only(tmp_path)
    repo = tmp_path / "ws" / "victim"
    git(repo, "branch", "-m", "master", "main")
    for n in range(gitrepo.WORKTREE_PATHS + 1):
        (repo / f"svc{n}").mkdir()
        (repo / f"svc{n}" / ".env").write_text("LOG_LEVEL=debug\n")
    said = " ".join(rollout(command, "--manifest", manifest).stdout.split())
    (listing,) = [c for c in said.split("`") if c.startswith("find ")]  # pass 29c: `find`
    pasted = paste(listing, cwd=tmp_path)
    assert pasted.returncode == 0, (listing, pasted.stderr)
    listed = pasted.stdout.splitlines()
    assert len(listed) == gitrepo.WORKTREE_PATHS + 1 and f"{repo}/svc7/.env" in listed, listing


def test_the_fetch_offered_for_a_shallow_clone_names_it_and_then_drift_names_the_file(tmp_path):
    """Item 9: drift of a shallow clone is its error line alone ("history is incomplete"), its way
    out `git fetch --unshallow`, which names no clone: pasted where the line was read (the
    manifest's folder) it failed "not a git repository". It names the clone now; pasted from that
    folder, the next drift names the `.env.prod` of history."""
    manifest = _master_only(tmp_path)
    origin = tmp_path / "ws" / "victim"
    git(origin, "branch", "-m", "master", "main")
    source = origin.rename(tmp_path / "origin")
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", source.as_uri(), str(origin)],
        check=True,
        capture_output=True,
    )
    said = " ".join(rollout("drift", "--manifest", manifest).stdout.split())
    assert "shallow clone" in said and ".env.prod" not in said, said
    (fetch,) = [c for c in said.split("`") if "--unshallow" in c]
    pasted = paste(fetch, cwd=tmp_path)
    assert pasted.returncode == 0, (fetch, pasted.stderr)
    result = rollout("drift", "--manifest", manifest)
    assert "plaintext-env-in-history  .env.prod was committed in the past" in result.stdout, (
        result.stdout
    )


@pytest.mark.parametrize("command", [["drift"], ["plan"]])
def test_a_compose_file_naming_a_nul_byte_stops_nothing(tmp_path, command):
    """Item 11 (and 9): a compose file whose `env_file:` names a NUL byte (YAML's `"\\x00"`, a
    contributor's commit) made the leak guard's read of it raise ValueError ("embedded null byte"),
    which ended every plan and drift of the fleet with "unexpected ValueError … please report this":
    no repo planned, drift naming nothing, the `.env.prod` of history among it. No file has such a
    name: it is none."""
    manifest = _master_only(tmp_path)
    repo = tmp_path / "ws" / "victim"
    git(repo, "branch", "-m", "master", "main")
    (repo / "compose.yaml").write_text(
        'services:\n  app:\n    env_file: ["\\x00", "a\\x00b.env"]\ninclude: ["\\x00"]\n'
    )
    result = rollout(*command, "--manifest", manifest)
    assert "unexpected" not in result.stdout + result.stderr, result.stderr
    if command == ["drift"]:
        assert result.code == 2, result.stdout
        assert "plaintext-env-in-history  .env.prod was committed in the past" in result.stdout
    else:
        assert result.code == 0, result.stdout + result.stderr


def test_a_template_rendering_an_escaped_brace_is_planned(tmp_path):
    """Item 11 (a false refusal, and a line blaming the template): the leak guard reads a rendered
    file with its backslash escapes undone, and took a lone `\\}` for a braced escape (`\\u{70}`),
    whose digits it then read as hex: ValueError, said as "template 'strip.sh.j2' fails:
    ValueError (fix the template)" of a sed script that is right (and of the shipped sops.yaml.j2
    for a manifest whose plaintext_env names `{a,b}`). It is the brace."""
    from tests.test_adversary import hostile_template

    manifest = hostile_template(tmp_path, '#!/bin/sh\nsed -e "s/\\\\}//g" "$1"\n', name="strip.j2")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr
    assert 'sed -e "s/\\\\}//g"' in result.stdout, result.stdout


def test_a_folder_whose_git_is_gone_is_told_how_to_become_a_clone(tmp_path):
    """Item 9 ("no `.git`"): drift of an entry whose folder holds the files but no `.git` (deleted,
    or a copy) said "run `git clone` there": no URL, and git clones into no folder holding files
    ("destination path already exists and is not an empty directory"), so it failed pasted. The
    line offers no such command now; followed (the folder moved away, the repo cloned at its
    path), drift names the `.env.prod` of history."""
    manifest = _master_only(tmp_path)
    repo = tmp_path / "ws" / "victim"
    git(repo, "branch", "-m", "master", "main")
    origin = repo.rename(tmp_path / "origin")
    subprocess.run(["cp", "-r", str(origin), str(repo)], check=True)
    subprocess.run(["rm", "-rf", str(repo / ".git")], check=True)
    said = " ".join(rollout("drift", "--manifest", manifest).stdout.split())
    assert "is not a git repository (move it away, then clone the repo at its path" in said, said
    assert "`git clone`" not in said, said
    repo.rename(tmp_path / "aside")
    subprocess.run(["git", "clone", "-q", origin.as_uri(), str(repo)], check=True)
    result = rollout("drift", "--manifest", manifest)
    assert "plaintext-env-in-history  .env.prod was committed in the past" in result.stdout, (
        result.stdout
    )
