"""Issue 13, the lead's findings of session 30 (from session 29's notes). Each test fails on the main
it was written against (checked by undoing its fix)."""

from __future__ import annotations

from tests.helpers import git
from tests.pasting import paste, said_by

CASCOR = "juniper-cascor"


def test_the_restore_a_tracked_env_line_offers_leaves_no_empty_env_once_main_untracks_it(fleet):
    """13.1's kind (pass 25g's note): juniper-cascor's main tracks a plaintext `.env` the clone no
    longer has: "restore it (`(umask 077 && set -C && git -C CLONE show refs/heads/main:.env >
    CLONE/.env)`), then plan again". Pasted after main stopped tracking it (the user removed it from
    git first, as they should), git failed but the shell had made an empty `.env` already: the next
    plan refuses "holds no variables", and the user is left wondering where the values went. The line
    now checks the base holds the file before it makes one."""
    repo = fleet.repo(CASCOR)
    (repo / ".env").write_text("API_TOKEN=not-a-real-token-of-lead-30\n")  # committed: no canary
    git(repo, "add", "-f", ".env")
    git(repo, "commit", "-qm", "a plaintext .env, committed by mistake")
    (repo / ".env").unlink()
    said = said_by("plan", "-m", fleet.manifest, "--repo", CASCOR)
    commands = [c for c in said.split("`") if c.startswith(("git ", "(umask", "mkdir"))]
    assert commands, said
    git(repo, "rm", "-q", "--cached", ".env")
    git(repo, "commit", "-qm", "stop tracking .env")
    for command in commands:
        assert paste(command, repo).returncode != 0, command
    assert not (repo / ".env").exists(), f"{commands} left an empty .env"
    git(repo, "reset", "-q", "--soft", "HEAD~")  # as printed: main tracks it again
    git(repo, "restore", "-q", "--staged", ".env")
    for command in commands:
        assert paste(command, repo).returncode == 0, command
    assert (repo / ".env").read_text() == "API_TOKEN=not-a-real-token-of-lead-30\n"
