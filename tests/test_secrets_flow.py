"""The issue's "done when", end to end on the demo fleet with the real sops and pre-commit:
apply encrypts juniper-cascor's .env; a second key is added with a grace period (both keys
decrypt), then the old one is removed (only the new one decrypts); values never change and
no plaintext shows up anywhere (helpers.rollout checks outputs, conftest git objects and temp files).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from juniper_rollout import keys, sops
from tests import demofleet as demo
from tests import fleet as fleets
from tests.helpers import git, rollout

BRANCH = fleets.BRANCH
PLAINTEXT = demo.cascor_dotenv().encode()


def enc_on_branch(fleet) -> bytes:
    return git(fleet.repo("juniper-cascor"), "show", f"{BRANCH}:.env.enc").encode()


def decrypts_with(blob: bytes, key_file: Path, monkeypatch) -> bool:
    """Whether ``key_file`` alone opens ``blob`` to the original plaintext (compared, never shown)."""
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    try:
        return sops.decrypt_dotenv(blob, filename=".env.enc") == PLAINTEXT
    except sops.SopsError as err:
        assert "matches no recipient" in str(err)
        return False


def value_lines(blob: bytes) -> list[bytes]:
    return [line for line in blob.splitlines() if not line.startswith(b"sops_")]


def plan_json(fleet) -> dict[str, dict[str, dict]]:
    result = rollout("plan", "--manifest", fleet.manifest, "--json")
    assert result.code == 0, result.stderr
    return {
        r["name"]: {f["path"]: f for f in r["files"]} for r in json.loads(result.stdout)["repos"]
    }


def test_encrypt_then_rotate_with_a_grace_period(tmp_path, monkeypatch):
    fleet = fleets.build(tmp_path / "demo")
    old_only = tmp_path / "old-only.txt"
    old_only.write_bytes(fleet.key_file.read_bytes())
    old_only.chmod(0o600)
    [old] = keys.public_keys_in(fleet.key_file)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(fleet.key_file))

    # apply encrypts the plaintext .env of juniper-cascor into .env.enc on the rollout branch
    assert rollout("apply", "--manifest", fleet.manifest, "--yes").code == 0
    first = enc_on_branch(fleet)
    assert sops.read_metadata(first).recipients == (old,)
    assert decrypts_with(first, old_only, monkeypatch)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(fleet.key_file))
    fleet.merge_all()

    # a second key; its identity goes into the key file beside the old one (grace period)
    new_only = tmp_path / "keys-new.txt"
    new = keys.generate_key_file(new_only)
    with fleet.key_file.open("a") as handle:
        handle.write(new_only.read_text())
    assert keys.public_keys_in(fleet.key_file) == [old, new]
    result = rollout("rotate", "--manifest", fleet.manifest, "--add", new)
    assert result.code == 0, result.stderr
    assert f"+ {new}" in result.stdout

    # without a private key the re-key cannot happen: one clear line naming SOPS_AGE_KEY_FILE
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert (
        result.code == 1
        and "SOPS_AGE_KEY_FILE" in result.stdout
        and "Traceback" not in result.stdout
    )
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(fleet.key_file))

    plans = plan_json(fleet)
    assert plans["juniper-cascor"][".env.enc"]["action"] == "update"
    assert (
        plans["juniper-cascor"][".env.enc"]["reason"]
        == f"re-key with sops updatekeys (+{new[:12]}…): same data key"
    )
    assert all(files[".sops.yaml"]["action"] == "update" for files in plans.values())
    assert rollout("apply", "--manifest", fleet.manifest, "--yes").code == 0
    both = enc_on_branch(fleet)
    assert set(sops.read_metadata(both).recipients) == {old, new}
    assert value_lines(both) == value_lines(first)  # sops updatekeys: values untouched
    assert decrypts_with(both, old_only, monkeypatch) and decrypts_with(both, new_only, monkeypatch)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(fleet.key_file))
    for name in fleet.names:
        sops_yaml = git(fleet.repo(name), "show", f"{BRANCH}:.sops.yaml")
        assert old in sops_yaml and new in sops_yaml, name
    fleet.merge_all()

    # later: the old key goes; only the new one opens the new version
    result = rollout("rotate", "--manifest", fleet.manifest, "--remove", old)
    assert result.code == 0 and f"- {old}" in result.stdout
    plans = plan_json(fleet)
    assert plans["juniper-cascor"][".env.enc"]["reason"] == (
        f"re-key with sops updatekeys (-{old[:12]}…): same data key; a removed key that kept an earlier copy "
        "still decrypts it: `rollout rotate --data-key`"
    )
    assert rollout("apply", "--manifest", fleet.manifest, "--yes").code == 0
    last = enc_on_branch(fleet)
    assert sops.read_metadata(last).recipients == (new,)
    assert value_lines(last) == value_lines(first)
    assert decrypts_with(last, new_only, monkeypatch)
    assert not decrypts_with(last, old_only, monkeypatch)

    # and the rotated branch passes the whole verification list with the new key alone
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(new_only))
    result = rollout(
        "verify",
        "--manifest",
        fleet.manifest,
        "--ref",
        BRANCH,
        "--repo",
        "juniper-cascor",
        "--json",
    )
    data = json.loads(result.stdout)
    assert result.code == 0, [c for r in data["repos"] for c in r["checks"] if not c["ok"]]


@pytest.fixture(autouse=True)
def _no_plaintext_in_temp(tmp_path):
    yield
    for path in tmp_path.rglob("*"):
        if path.is_file() and ".git" not in path.parts and path.name != ".env":
            assert demo.CANARY.encode() not in path.read_bytes(), path
