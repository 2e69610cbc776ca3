"""Issue 13, pass 27f: the second verification pass over items 9-12 and the smaller list's last two
bullets (session 31), on pass 27c's new code first. Each finding's test fails on the main this pass
started from (2f0cd5f, checked by undoing its fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.demofleet import make_repo
from tests.helpers import git, rollout
from tests.test_hostile import KEY
from tests.test_pass27e import other_repo_rendering


def _objects(repo: Path) -> str:
    """Every object of ``repo``'s database, as git prints it."""
    ids = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").split()
    return "".join(git(repo, "cat-file", "-p", each) for each in ids)


@pytest.mark.parametrize("shape", ["a folder's env file", "a compose env_file", "a folder link"])
def test_another_repos_plan_never_prints_a_folder_value_of_a_clone_git_cannot_list(tmp_path, shape):
    """13.6 on item 9's path, after pass 27c's F3: a clone whose `.git/index` git cannot read (a
    disk that filled, a crash mid-write) is refused by the strict reading, and the reading of what
    can be read (another repo's guard, drift beside an error) read its top-level files only: the
    env files in its folders (`backend/.env.prod`), a file its compose file names under
    `env_file:` and the env files of a folder it links to were no values, and another repo's
    template holding one was shown in that repo's plan diff and committed by apply. Pass 27e found
    and fixed it in parallel (the clone listed as a folder through a throwaway repository); this
    pass's own fix, a walk of the folders, gave way to that one in the merge."""
    value = "Wq7notthedemocanary66"
    manifest, ra = other_repo_rendering(tmp_path, value)
    if shape == "a folder's env file":
        (ra / "backend").mkdir()
        (ra / "backend" / ".env.prod").write_text(f"DB_PASSWORD={value}\n")
    elif shape == "a compose env_file":
        (ra / "deploy" / "config").mkdir(parents=True)
        (ra / "deploy" / "config" / "app.conf").write_text(f"DB_PASSWORD={value}\n")
        (ra / "deploy" / "compose.yaml").write_text(
            "services:\n  app:\n    image: x\n    env_file: config/app.conf\n"
        )
    else:
        secrets = tmp_path / "srv" / "secrets"
        secrets.mkdir(parents=True)
        (secrets / ".env").write_text(f"DB_PASSWORD={value}\n")
        (ra / "services").mkdir()
        (ra / "services" / "conf").symlink_to(secrets)
    (ra / ".git" / "index").write_bytes(b"garbage")
    result = rollout("plan", "--manifest", manifest, "--repo", "rb")
    assert result.code == 1, result.stdout
    assert value not in result.stdout + result.stderr, result.stdout
    assert "of ra" in result.stdout, result.stdout
    result = rollout("apply", "--manifest", manifest, "--repo", "rb", "--yes")
    assert value not in result.stdout + result.stderr, result.stdout
    assert value not in _objects(tmp_path / "ws" / "rb")


@pytest.mark.parametrize("command", ["drift", "apply"])
def test_a_sigterm_landing_in_a_finalizer_still_stops_the_command(tmp_path, monkeypatch, command):
    """Item 10 ("SIGTERM is handled like Ctrl-C") and 11 (no traceback): the KeyboardInterrupt a
    Ctrl-C or SIGTERM raises is dropped by Python when it lands while a finalizer runs (GitPython's
    `Repo.__del__`, for each clone the tool opened: about one SIGTERM in thirty sent to a 20-repo
    drift, measured). Python printed "Exception ignored in … KeyboardInterrupt" with a traceback,
    and the command went on to its end: drift's whole audit, apply's every branch. The signal is
    sent here at that moment (where a SIGTERM stops at once: apply's plan, before any branch is
    written); it stops the command as any other SIGTERM does (exit 130)."""
    import os
    import signal
    import traceback

    from git.repo import base

    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n  - name: victim\n"
    )
    close, sent = base.Repo.close, []

    def close_sending_sigterm_from_a_finalizer(repo) -> None:
        stops = signal.getsignal(signal.SIGTERM) is signal.default_int_handler  # not held
        if stops and not sent and any(f.name == "__del__" for f in traceback.extract_stack()):
            sent.append(os.getpid())
            os.kill(os.getpid(), signal.SIGTERM)
        close(repo)

    monkeypatch.setattr(base.Repo, "close", close_sending_sigterm_from_a_finalizer)
    result = rollout(command, "--manifest", manifest, *(["--yes"] if command == "apply" else []))
    assert sent, "no finalizer ran"
    assert result.code == 130, result.stdout + result.stderr
    assert "Exception ignored" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert git(tmp_path / "ws" / "victim", "branch", "--list", "chore/*") == ""
