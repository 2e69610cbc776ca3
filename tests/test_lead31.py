"""Issue 13, lead 31: pass 27b's F3 (13.8, a way out that failed when pasted). A committed `.env.enc`
holding a name shaped like a credential (sops keeps names in clear) was refused with "remove that line
(`sops edit --input-type dotenv --output-type dotenv .env.enc`)": no clone, no ref. Pasted in the
clone while the file was on the rollout branch only, sops said "config file not found, or has no
creation rules"; with the plaintext `.env` at hand (which cannot hold such a name: its parser refuses
it) the repo was refused for ever. Each test fails on the main before the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fleet import BRANCH
from tests.helpers import CANARY, encrypted_by_hand, git, rollout
from tests.pasting import paste_each
from tests.test_adversary import apply
from tests.test_pass24b import objects

CASCOR = "juniper-cascor"
PIECES = "sk-aB-3dE5-fG7h"  # a token of short pieces pasted as a name: no variable name
MOLLIE = (
    "live_adLXOYgEbn9PAwjZvqEejoeIVvBZ0p"  # a Mollie key (pass 27b's F1), passed as a name before
)


def _applied_by_an_older_tool(fleet, monkeypatch, clean: str) -> None:
    """apply with `.env` holding ``clean`` and the Mollie key as a name, by a tool from before the
    key's shape was known (emulated): the rollout branch's `.env.enc` holds that name."""
    from juniper_rollout import dotenv

    repo = fleet.repo(CASCOR)
    (repo / ".env").write_text(clean + f"{MOLLIE}=\n")
    known = dotenv.is_credential_name
    with monkeypatch.context() as before:
        before.setattr(dotenv, "is_credential_name", lambda n: n != MOLLIE and known(n))
        assert apply(fleet, CASCOR).code == 0
    assert MOLLIE in _names_on_branch(repo)


def _names_on_branch(repo: Path) -> list[str]:
    held = git(repo, "show", f"{BRANCH}:.env.enc").splitlines()
    return [line.split("=", 1)[0] for line in held if "=" in line and not line.startswith("sops_")]


def test_a_committed_token_name_without_the_plaintext_has_a_way_out_that_works_when_pasted(fleet):
    """`.env.enc` on main (plain sops, by hand) holds `sk-aB-3dE5-fG7h=…`; the clone has no `.env` and
    its `.env.example` is read from `.env` (`from: dotenv`), so plan reads the names from the
    ciphertext and refuses (right: never echoed). The line now names the clone and the commit: its
    command writes the committed values into `.env` (owner-only, never over a file there); with that
    line deleted there, plan encrypts `.env` again without it, and says so without naming it."""
    repo = fleet.repo(CASCOR)
    encrypted_by_hand(
        fleet, repo, (repo / ".env").read_bytes() + f"{PIECES}={CANARY}-pieces\n".encode()
    )
    (repo / ".env").unlink()
    text = fleet.manifest.read_text()
    entry = text.index(f"  - name: {CASCOR}\n")
    fleet.manifest.write_text(  # its `.env.example` read from `.env` (the demo's lists groups)
        text[:entry]
        + f"  - name: {CASCOR}\n    env_example: {{from: dotenv}}\n"
        + text[text.index("    encrypt:", entry) :]
    )
    said = " ".join(rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR).stdout.split())
    assert "shaped like a credential or no variable name" in said and PIECES not in said, said
    assert "sops edit" not in said, said
    commands = [c for c in said.split("`") if c.startswith("git -C ")]
    assert len(commands) == 1, said
    paste_each(commands, fleet.root.parent)  # pasted anywhere: it names the clone
    written = (repo / ".env").read_text()
    assert f"{PIECES}=" in written and (repo / ".env").stat().st_mode & 0o077 == 0
    (repo / ".env").write_text(
        "".join(ln for ln in written.splitlines(keepends=True) if not ln.startswith(PIECES))
    )
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    shown = " ".join(plan.stdout.split())
    assert plan.code == 0, plan.stdout
    assert "drops 1 name shaped like a credential or no variable name" in shown, shown
    assert PIECES not in plan.stdout + plan.stderr
    assert apply(fleet, CASCOR).code == 0
    names = _names_on_branch(repo)
    assert PIECES not in names and "HF_TOKEN" in names, names
    assert PIECES.encode() not in objects(repo).replace(
        git(repo, "show", "main:.env.enc").encode(), b""
    )


def test_a_rollout_branch_holding_a_token_name_is_encrypted_again_from_env_without_it(
    fleet, monkeypatch
):
    """Pass 27b's repro (and verify's line for it): a rollout branch whose `.env.enc` holds a Mollie key as a name (written by
    a tool from before the key's shape was known, emulated here), the clone's `.env` without it.
    apply refused for ever: "remove that line (`sops edit … .env.enc`)", pasted in the clone
    (main checked out, the file on the branch only) failed; bringing the name into `.env` is
    refused by `.env`'s parser. `.env` is the source of truth: the branch's `.env.enc` is encrypted
    from it again, without that name, and the plan says so without naming it."""
    repo = fleet.repo(CASCOR)
    clean = (repo / ".env").read_text()
    _applied_by_an_older_tool(fleet, monkeypatch, clean)
    (repo / ".env").write_text(clean)
    verify = ("verify", "--manifest", fleet.manifest, "--repo", CASCOR, "--ref", BRANCH)
    checked = rollout(*verify)
    told = " ".join(checked.stdout.split())
    assert checked.code == 1 and "holds 1 name that is no variable name" in told, told
    assert "the tool encrypts .env again without it: run `rollout plan --manifest" in told, told
    assert "sops edit" not in told, told
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((plan.stdout + plan.stderr).split())
    assert plan.code == 0 and "drops 1 name shaped like a credential" in said, said
    applied = apply(fleet, CASCOR)
    assert applied.code == 0 and f"{CASCOR}: updated" in applied.stdout, applied.stdout
    assert MOLLIE not in said + applied.stdout + applied.stderr
    assert MOLLIE not in _names_on_branch(repo) and "HF_TOKEN" in _names_on_branch(repo)
    checked = rollout(*verify)
    assert checked.code == 0 and "all 7 checks passed" in checked.stdout, checked.stdout
    assert MOLLIE not in told + checked.stdout + checked.stderr


@pytest.mark.parametrize("name", [PIECES, MOLLIE])
def test_a_clone_env_lacking_a_good_name_the_ciphertext_holds_is_still_refused(fleet, name):
    """Control: the drop is for names shaped like a credential alone. A `.env` that lacks a real
    name the committed `.env.enc` holds (beside a token-shaped one) is still refused, naming the
    real one only: nothing replaced."""
    repo = fleet.repo(CASCOR)
    env = (repo / ".env").read_text()
    encrypted_by_hand(fleet, repo, (env + f"KEPT_ELSEWHERE=x\n{name}={CANARY}-named\n").encode())
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    out = " ".join((result.stdout + result.stderr).split())
    assert result.code == 1 and "(KEPT_ELSEWHERE); nothing replaced" in out, out
    assert name not in out, out


def test_a_branch_only_ciphertext_holding_a_token_name_has_a_way_out_without_the_plaintext(
    fleet, monkeypatch
):
    """The other refusal without `.env` (`secrets_plan._branch_ciphertext_first`): main holds a
    `.env.enc`; the rollout branch's later one holds a Mollie key as a name (a tool from before its
    shape, emulated); main's `.env.enc` is then edited (a teammate's `sops edit`) and `.env` moved
    away. The refusal's command, pasted from another folder, writes the branch's values into `.env`
    (never over a file there); with the name's line deleted and main's new name added (the next
    refusal's words), the branch is rebuilt without it."""
    repo = fleet.repo(CASCOR)
    clean = (repo / ".env").read_text()
    encrypted_by_hand(fleet, repo, clean.encode())
    _applied_by_an_older_tool(fleet, monkeypatch, clean)
    encrypted_by_hand(fleet, repo, (clean + "ADDED_ON_MAIN=x\n").encode())
    (repo / ".env").unlink()
    said = " ".join(rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR).stdout.split())
    assert "on chore/sops-age-rollout holds 1 name shaped like a credential" in said, said
    assert MOLLIE not in said and "sops edit" not in said, said
    commands = [c for c in said.split("`") if c.startswith("git -C ")]
    assert len(commands) == 1 and f"refs/heads/{BRANCH}:.env.enc" in commands[0], said
    paste_each(commands, fleet.root.parent)
    written = (repo / ".env").read_text()
    assert f"{MOLLIE}=" in written and (repo / ".env").stat().st_mode & 0o077 == 0
    (repo / ".env").write_text(
        "".join(ln for ln in written.splitlines(keepends=True) if not ln.startswith(MOLLIE))
    )
    said = " ".join(rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR).stdout.split())
    assert "holds 1 name that .env in the clone lacks (ADDED_ON_MAIN)" in said, said  # main's edit
    with (repo / ".env").open("a") as env:  # both sides' values in `.env`, as that line asks
        env.write("ADDED_ON_MAIN=x\n")
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    assert plan.code == 0 and MOLLIE not in plan.stdout + plan.stderr, plan.stdout
    assert apply(fleet, CASCOR).code == 0  # rebuilt on main, whose `.env.enc` `.env` now matches
    names = _names_on_branch(repo)
    assert MOLLIE not in names and "ADDED_ON_MAIN" in names, names


def test_verifys_way_out_for_a_token_name_on_main_without_the_plaintext_works_when_followed(fleet):
    """`.env.enc` on main (plain sops, by hand) holds a token of pieces as a name and the clone has no
    `.env`: verify fails (right) and says "rotate what it holds; the tool encrypts .env again
    without it: run `rollout plan …`, then `rollout apply …`". Followed, plan kept the file
    "unchanged (no .env in the clone)" and verify failed the same. Plan now refuses it with the
    line that writes `.env` from it; followed to the end, the rollout branch passes verify."""
    repo = fleet.repo(CASCOR)
    encrypted_by_hand(
        fleet, repo, (repo / ".env").read_bytes() + f"{PIECES}={CANARY}-pieces\n".encode()
    )
    (repo / ".env").unlink()
    told = " ".join(
        rollout("verify", "--manifest", fleet.manifest, "--repo", CASCOR).stdout.split()
    )
    assert "the tool encrypts .env again without it: run `rollout plan" in told, told
    said = " ".join(rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR).stdout.split())
    assert ".env.enc on main holds 1 name shaped like a credential" in said, said
    commands = [c for c in said.split("`") if c.startswith("git -C ")]
    assert len(commands) == 1 and PIECES not in said, said
    paste_each(commands, fleet.root.parent)
    written = (repo / ".env").read_text()
    (repo / ".env").write_text(
        "".join(ln for ln in written.splitlines(keepends=True) if not ln.startswith(PIECES))
    )
    assert apply(fleet, CASCOR).code == 0
    verify = ("verify", "--manifest", fleet.manifest, "--repo", CASCOR, "--ref", BRANCH)
    checked = rollout(*verify)
    assert checked.code == 0 and "all 7 checks passed" in checked.stdout, checked.stdout
    assert PIECES not in told + said + checked.stdout
