"""Lead 32: a Ctrl-C, SIGTERM or SIGHUP that Python swallows in a finalizer still stops the command.

Pass 27f (items 10 and 11): the KeyboardInterrupt a stop raises is dropped by Python when it lands
while a finalizer runs (GitPython's `Repo.__del__`, for each clone the tool opened: about one SIGTERM
in thirty sent to a 20-repo drift, measured). Python printed "Exception ignored in … KeyboardInterrupt"
with a traceback and the command went on to its end: drift's whole audit, apply writing every branch.
27f's fix raised it again from a timer, which raced apply's write phase (the fresh-clone CI wrote the
branch, exit 0) and was reverted. Here the signal is sent from inside `Repo.__del__` itself, every
run, at the moment that matters; nothing depends on timing.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from juniper_rollout import gitrepo
from tests.demofleet import make_repo
from tests.fleet import BRANCH
from tests.helpers import CANARY, encrypted_by_hand, git, rollout
from tests.pasting import paste_each
from tests.test_adversary import apply
from tests.test_hostile import KEY


def _fleet(tmp_path: Path, *names: str) -> Path:
    for name in names:
        make_repo(tmp_path / "ws" / name, {"README.md": f"{name}\n"})
    manifest = tmp_path / "repos.yaml"
    listed = "".join(f"  - name: {name}\n" for name in names)
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n{listed}"
    )
    return manifest


def _stops_at_once(signum: int) -> bool:
    """The signal's handler raises (not held by the pool, not apply's first-interrupt handler)."""
    handler = signal.getsignal(signum)
    return getattr(handler, "__name__", "") in ("default_int_handler", "stop_at_once")


class _Finalized:
    """An object whose finalizer sends ``signum``: GitPython's `Repo.__del__` runs when the cyclic
    garbage collector frees a clone the tool closed, at a moment no test can choose; this one runs
    where the test drops it, every run."""

    def __init__(self, signum: int) -> None:
        self.signum = signum

    def __del__(self) -> None:
        os.kill(os.getpid(), self.signum)  # its KeyboardInterrupt is raised here, in `__del__`


def _send_from_a_finalizer(monkeypatch, signum: int) -> tuple[list[str], list[str]]:
    """Send ``signum`` once from a finalizer, in the main thread, as the first clone is opened while
    a stop stops at once. Returns (the clone whose opening sent it, every clone opened in order)."""
    open_clone, opened, sent = gitrepo.open_clone, [], []

    @contextmanager
    def open_clone_after_a_finalizer(path: Path) -> Iterator:
        opened.append(Path(path).name)
        main = threading.current_thread() is threading.main_thread()
        if not sent and main and _stops_at_once(signum):
            sent.append(opened[-1])
            _Finalized(signum)  # dropped at once: its `__del__` runs here
        with open_clone(path) as clone:
            yield clone

    monkeypatch.setattr(gitrepo, "open_clone", open_clone_after_a_finalizer)
    return sent, opened


def _branches(tmp_path: Path, *names: str) -> list[str]:
    return [git(tmp_path / "ws" / n, "branch", "--list", "chore/*").strip() for n in names]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("command", ["drift", "plan", "apply"])
def test_a_stop_swallowed_in_a_finalizer_still_stops_the_command(
    tmp_path, monkeypatch, command, signum
):
    """One repo: the signal lands in `Repo.__del__` during the command's reading (apply: its plan,
    where a stop stops at once). Exit 130 with "interrupted", no "Exception ignored" traceback, and
    apply writes no branch."""
    manifest = _fleet(tmp_path, "victim")
    sent, _ = _send_from_a_finalizer(monkeypatch, signum)
    result = rollout(command, "--manifest", manifest, *(["--yes"] if command == "apply" else []))
    assert sent, "no finalizer ran while a stop stops at once"
    said = result.stdout + result.stderr
    assert result.code == 130, said
    assert "interrupted" in result.stderr, said
    assert "Exception ignored" not in said and "Traceback" not in said, said
    assert _branches(tmp_path, "victim") == [""]


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_a_stop_swallowed_in_a_finalizer_stops_before_the_next_repo(tmp_path, monkeypatch, command):
    """Three repos, one after another (`--jobs 1`): the signal swallowed while the first is planned
    stops the command before another repo is read, and apply writes no branch."""
    names = ("r1", "r2", "r3")
    manifest = _fleet(tmp_path, *names)
    sent, opened = _send_from_a_finalizer(monkeypatch, signal.SIGTERM)
    args = ["--yes"] if command == "apply" else []
    result = rollout(command, "--manifest", manifest, "--jobs", "1", *args)
    said = result.stdout + result.stderr
    assert sent == ["r1"], (sent, opened)
    assert result.code == 130, said
    assert "Exception ignored" not in said, said
    assert _branches(tmp_path, *names) == ["", "", ""]
    assert opened == ["r1"], opened  # the repos after the one at hand are never read


def test_a_first_sigterm_in_applys_last_repo_lets_it_finish_then_exits_130(tmp_path, monkeypatch):
    """The stop apply holds (a first SIGTERM while a branch is written: the repo at hand finishes)
    still ends the command as interrupted: exit 130, not 0, after the branch it finished. Before,
    a held stop with no repo left to skip exited 0, as if no one had asked the tool to stop (and
    `apply --pr` went on to open pull requests)."""
    manifest = _fleet(tmp_path, "victim")
    create_commit, sent = gitrepo.create_commit, []

    def create_commit_after_a_sigterm(*args, **kwargs):
        sent.append(getattr(signal.getsignal(signal.SIGTERM), "__name__", ""))
        os.kill(os.getpid(), signal.SIGTERM)  # held by apply: the branch is still written
        return create_commit(*args, **kwargs)

    monkeypatch.setattr(gitrepo, "create_commit", create_commit_after_a_sigterm)
    result = rollout("apply", "--manifest", manifest, "--yes")
    said = result.stdout + result.stderr
    assert sent == ["first_interrupt"], said
    assert "victim: created" in result.stdout, said
    assert _branches(tmp_path, "victim") == ["chore/sops-age-rollout"]
    assert result.code == 130, said
    assert "interrupted" in result.stderr, said


# --- the way out of a worded name (`stripe-webhook-secret`) says what it is: no credential ---------

CASCOR = "juniper-cascor"
WORDED = "stripe-webhook-secret"


def test_a_committed_worded_name_without_the_plaintext_is_kept_under_a_variable_name(fleet):
    """Pass 27d kept the value of a name `.env` cannot hold but made of words (a teammate's `sops set
    stripe-webhook-secret`): a real variable's, not a pasted token. With no `.env` in the clone, plan
    still called it "shaped like a credential … rotate that credential, then … delete that line",
    which would drop the value. Now the refusal says what it is (words joined by '.' or '-', not
    shown) and to give that line a variable name; followed (its command pasted from another folder,
    the line renamed), plan says the name is dropped because `.env` holds its value, apply carries the
    value under the new name, and verify passes the secret-files check."""
    repo = fleet.repo(CASCOR)
    value = f"whsec_{CANARY}-worded"
    encrypted_by_hand(fleet, repo, (repo / ".env").read_bytes() + f"{WORDED}={value}\n".encode())
    (repo / ".env").unlink()
    said = " ".join(rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR).stdout.split())
    assert "holds 1 name that is no variable name (words joined by '.' or '-'; not shown)" in said
    assert "give that line a variable name there" in said, said
    assert "credential" not in said and WORDED not in said and CANARY not in said, said
    commands = [c for c in said.split("`") if c.startswith("git -C ")]
    assert len(commands) == 1, said
    paste_each(commands, fleet.root.parent)
    written = (repo / ".env").read_text()
    assert f"{WORDED}={value}\n" in written, "the committed values were not written"
    (repo / ".env").write_text(written.replace(f"{WORDED}=", "STRIPE_WEBHOOK_SECRET="))
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    shown = " ".join(plan.stdout.split())
    assert plan.code == 0, shown
    assert "drops 1 name of words joined by '.' or '-' (not shown), whose value .env holds" in shown
    assert "credential" not in shown, shown
    assert apply(fleet, CASCOR).code == 0
    held = git(repo, "show", f"{BRANCH}:.env.enc")
    assert "STRIPE_WEBHOOK_SECRET=" in held and WORDED not in held


def test_verifys_line_for_a_committed_worded_name_keeps_its_value(fleet):
    """verify of a `.env.enc` on main holding a worded name: the line says what it is and to keep its
    value under a variable name (never "rotate what it holds"); followed, verify passes the check."""
    repo = fleet.repo(CASCOR)
    env = (repo / ".env").read_text()
    value = f"whsec_{CANARY}-verify"
    encrypted_by_hand(fleet, repo, (env + f"{WORDED}={value}\n").encode())
    result = rollout("verify", "--manifest", fleet.manifest, "--repo", CASCOR, "--ref", "main")
    said = " ".join((result.stdout + result.stderr).split())
    assert result.code == 1, said
    assert "holds 1 name that is no variable name (words joined by '.' or '-'; not shown)" in said
    assert "put its value in .env under a variable name" in said, said
    assert "rotate" not in said and WORDED not in said, said
    (repo / ".env").write_text(env + f"STRIPE_WEBHOOK_SECRET={value}\n")
    assert apply(fleet, CASCOR).code == 0
    result = rollout("verify", "--manifest", fleet.manifest, "--repo", CASCOR, "--ref", BRANCH)
    said = " ".join((result.stdout + result.stderr).split())
    assert "no variable name" not in said, said
