"""Issue 13, the lead's findings of session 30 (from session 29's notes). Each test fails on the main
it was written against (checked by undoing its fix)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

from tests.helpers import git, rollout
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


def test_a_stale_saved_plans_refusal_names_the_plan_to_make_again(fleet, tmp_path, monkeypatch):
    """A printed command that fails when pasted (pass 26a's note N5): `rollout plan --out p.json`,
    then `rollout rotate --remove` of a recipient the plan encrypted to, then `rollout apply p.json`:
    "p.json is stale: …; run `rollout plan --out FILE` again". Pasted, that wrote a file named FILE
    and the user applied p.json, still stale. The refusal names the plan's own path (and the
    manifest), so pasting it and applying p.json again works."""
    import pyrage

    from juniper_rollout import keys

    monkeypatch.chdir(tmp_path)
    other = str(pyrage.x25519.Identity.generate().to_public())
    m = str(fleet.manifest)
    assert rollout("rotate", "-m", m, "--add", other).code == 0
    assert rollout("plan", "-m", m, "--out", "p.json").code in (0, 2)
    assert rollout("rotate", "-m", m, "--remove", other).code == 0
    said = rollout("apply", "p.json", "-m", m, "--yes")
    assert said.code == 1 and "is stale" in said.stdout + said.stderr, said.stdout + said.stderr
    text = " ".join((said.stdout + said.stderr).split())
    [again] = set(re.findall(r"`(rollout plan --out[^`]*)`", text))
    assert "FILE" not in again, again
    tool = f"{shlex.quote(sys.executable)} -c 'from juniper_rollout.cli import main; main()'"
    pasted = subprocess.run(
        ["bash", "-c", again.replace("rollout", tool, 1)], cwd=tmp_path, capture_output=True
    )
    assert pasted.returncode in (0, 2), pasted.stderr
    assert not (tmp_path / "FILE").exists()
    done = rollout("apply", "p.json", "-m", m, "--yes")
    assert done.code == 0, done.stdout + done.stderr
    blob = git(fleet.repo(CASCOR), "show", "chore/sops-age-rollout:.env.enc")
    assert other not in blob and keys.public_keys_in(fleet.key_file)[0] in blob


def test_a_line_of_unclosed_quoted_pieces_is_read_in_bounded_time():
    """Pass 26i's reading of bash's `$'…'` in an offered `rollout …` command (the options apply was
    given are added to each) let a `$` be a plain character and the start of a quoted piece: a text
    of unclosed `$'x'` pieces after "`rollout " was searched in every split of them, doubling per
    piece (20: 0.4 s, 40: days). The pieces never overlap now; the same text is read at once, and a
    closed command is still found whole."""
    code = (
        "from juniper_rollout.fleetspec import _ROLLOUT_COMMAND as R\n"
        "assert not R.findall('`rollout plan ' + \"$'x'\" * 40 + ' and more')\n"
        "said = R.findall(\"`rollout plan --out $'a\\\\'b\\\\x1b.json'` and `rollout apply 'it'\\\"'\\\"'s'`\")\n"
        "assert said == [\"plan --out $'a\\\\'b\\\\x1b.json'\", \"apply 'it'\\\"'\\\"'s'\"], said\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
