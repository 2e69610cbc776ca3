"""A value a teammate changed on main with `sops edit` is never put back by the user's `.env`
(issue 13, item 1; pass 13a left it open): the user edited another name in `.env`, so `.env` was the
later file, the time rule of pass 6 said nothing, and apply encrypted the old value over the new."""

from __future__ import annotations

import subprocess
from pathlib import Path

from juniper_rollout.sops import sops_path
from tests.demofleet import CANARY
from tests.helpers import git, rollout
from tests.test_blanked_values import _pasted, _quoted_command
from tests.test_pass3 import BRANCH
from tests.test_pass10a import _apply, _decrypted

CASCOR = "juniper-cascor"


def _teammate_sets_on_main(repo: Path, tmp: Path, name: str, value: str) -> None:
    """`sops edit` on main by someone else: one value changed, encrypted again, committed."""
    work = tmp / "teammate"
    work.mkdir()
    (work / ".sops.yaml").write_text(git(repo, "show", "main:.sops.yaml"))
    (work / "old.enc").write_text(git(repo, "show", "main:.env.enc"))
    decrypt = [sops_path(), "decrypt", "--input-type", "dotenv", "--output-type", "dotenv"]
    plain = subprocess.run(
        [*decrypt, "old.enc"], cwd=work, check=True, capture_output=True, text=True
    )
    lines = [
        f"{name}={value}" if line.startswith(f"{name}=") else line
        for line in plain.stdout.splitlines()
    ]
    (work / "new.env").write_text("\n".join(lines) + "\n")
    encrypt = [sops_path(), "encrypt", "--input-type", "dotenv", "--output-type", "dotenv"]
    done = subprocess.run(
        [*encrypt, "--filename-override", ".env.enc", "new.env"],
        cwd=work,
        check=True,
        capture_output=True,
    )
    (repo / ".env.enc").write_bytes(done.stdout)
    git(repo, "commit", "-qm", f"rotate {name}", "--", ".env.enc")


def test_a_teammates_value_on_main_is_never_put_back_by_a_later_env(fleet, tmp_path):
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "merge", "-q", "--ff-only", BRANCH)  # the review merged; the clone is on main
    _teammate_sets_on_main(repo, tmp_path, "HF_TOKEN", f"teammate-{CANARY}")
    env = repo / ".env"
    env.write_text(
        env.read_text() + "NEW_SETTING=on\n"
    )  # the user edits another name: the later file
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    assert "changed the value of 1 name since" in planned.stdout and "(HF_TOKEN)" in planned.stdout
    tip = git(repo, "rev-parse", BRANCH).strip()
    assert _apply(fleet, CASCOR).code == 1
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    # the line's own command prints main's values; brought into .env, the plan goes through
    shown = _pasted(_quoted_command(planned.stdout, f"git -C {repo} show"), repo)
    assert shown.returncode == 0 and f"HF_TOKEN=teammate-{CANARY}" in shown.stdout
    env.write_text(shown.stdout + "NEW_SETTING=on\n")
    result = _apply(fleet, CASCOR)
    assert result.code == 0, result.stdout
    assert f"HF_TOKEN=teammate-{CANARY}" in _decrypted(repo, BRANCH, tmp_path)


def test_a_value_the_user_rotated_on_the_branch_is_not_taken_for_a_revert(fleet, tmp_path):
    """The user's own rotation is no teammate's: main unchanged since the branch was built."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "merge", "-q", "--ff-only", BRANCH)
    env = repo / ".env"
    env.write_text(env.read_text().replace("HF_TOKEN=", f"HF_TOKEN=rotated-{CANARY}-", 1))
    result = _apply(fleet, CASCOR)
    assert result.code == 0 and "changed the value" not in result.stdout, result.stdout
    assert f"HF_TOKEN=rotated-{CANARY}-" in _decrypted(repo, BRANCH, tmp_path)
