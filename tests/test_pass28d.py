"""Pass 28d: verification of session 32's code (interrupts, 28a's and 28c's fixes), items 1–4, 9–12."""

from __future__ import annotations

import os
import signal

import pytest

from juniper_rollout import gitrepo
from tests.helpers import rollout
from tests.test_lead32 import _branches, _fleet


def test_a_background_apply_that_ignores_ctrl_c_keeps_ignoring_it_while_it_writes(
    tmp_path, monkeypatch
):
    """A job started in the background by a script (`rollout apply --yes &`) ignores SIGINT: a Ctrl-C
    at the terminal is for the script, not for it. Apply's write phase set its own handler on
    SIGINT anyway, so that Ctrl-C stopped it between repos: exit 130 after 8 of 20 branches (a real
    process, SIGINT ignored, sent 3.9 s in). Now it writes every branch, exit 0, and SIGINT is still
    ignored afterwards."""
    names = ("r1", "r2", "r3")
    manifest = _fleet(tmp_path, *names)
    create_commit, sent = gitrepo.create_commit, []

    def create_commit_after_a_ctrl_c(*args, **kwargs):
        sent.append(signal.getsignal(signal.SIGINT))
        os.kill(os.getpid(), signal.SIGINT)
        return create_commit(*args, **kwargs)

    monkeypatch.setattr(gitrepo, "create_commit", create_commit_after_a_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        result = rollout("apply", "--manifest", manifest, "--yes", "--jobs", "1")
        still = signal.getsignal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, previous)
    said = result.stdout + result.stderr
    assert len(sent) == 3, said
    assert result.code == 0, said
    assert "interrupted" not in said, said
    assert _branches(tmp_path, *names) == ["chore/sops-age-rollout"] * 3
    assert still == signal.SIG_IGN


@pytest.mark.parametrize("command", ["plan", "drift", "verify"])
def test_a_compose_file_naming_a_file_longer_than_any_name_stops_nothing(tmp_path, command):
    """Item 11 (a variant of pass 28c's NUL byte): a compose file whose `env_file:` names a file of
    300 letters (a contributor's commit in one repo) made the leak guard's read of it fail
    ENAMETOOLONG, and every plan, drift and verify of the whole fleet ended "unexpected OSError …
    please report this": no repo planned or audited. No file has such a name: it is none."""
    manifest = _fleet(tmp_path, "victim", "other")
    (tmp_path / "ws" / "victim" / "compose.yaml").write_text(
        f"services:\n  app:\n    env_file: [{'a' * 300}, {'b' * 300}/.env]\n"
    )
    result = rollout(command, "--manifest", manifest)
    said = result.stdout + result.stderr
    assert "unexpected" not in said, said
    assert result.code != 1 or command == "verify", said
    assert "other" in result.stdout, said
