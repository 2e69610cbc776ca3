"""Rotation that tells the truth: updatekeys keeps the data key (a removed key that kept an old copy still
opens new versions); `rollout rotate --data-key` makes the next apply run `sops rotate`, after which it cannot.

"Still opens" is shown the hard way, as an attacker would: the removed key's wrapped data key, copied from
an old commit into the new file, decrypts it after updatekeys and fails after sops rotate.
"""

from __future__ import annotations

import os
import re

import pytest

from juniper_rollout import keys, sops
from juniper_rollout.edits import data_key
from juniper_rollout.edits.recipients import RecipientsEditError
from juniper_rollout.manifest import load_manifest
from tests import demofleet as demo
from tests import fleet as fleets
from tests.helpers import git, rollout

BRANCH = fleets.BRANCH
PLAINTEXT = demo.cascor_dotenv().encode()


def enc_on_branch(fleet) -> bytes:
    return git(fleet.repo("juniper-cascor"), "show", f"{BRANCH}:.env.enc").encode()


def transplant(new: bytes, old: bytes, recipient: str) -> bytes:
    """``new`` plus ``recipient``'s wrapped data key taken from ``old`` (metadata lines only)."""
    lines = old.decode().splitlines()
    index = next(
        re.search(r"__list_(\d+)__", line).group(1)
        for line in lines
        if line.endswith(f"__map_recipient={recipient}")
    )
    free = sum(
        1
        for line in new.decode().splitlines()
        if re.match(r"sops_age__list_\d+__map_recipient=", line)
    )  # sops reads the list by index
    taken = [
        line.replace(f"__list_{index}__", f"__list_{free}__")
        for line in lines
        if line.startswith(f"sops_age__list_{index}__")
    ]
    return ("\n".join(new.decode().splitlines() + taken) + "\n").encode()


def opens(blob: bytes, key_file, monkeypatch) -> bool:
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    try:
        return sops.decrypt_dotenv(blob, filename=".env.enc") == PLAINTEXT
    except sops.SopsError:
        return False


def apply_and_merge(fleet) -> None:
    result = rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes")
    assert result.code == 0, result.stdout + result.stderr
    fleet.merge_all()


def test_removing_a_key_needs_a_new_data_key_to_revoke_it(fleet, tmp_path, monkeypatch):
    team = fleet.key_file
    leaver_file = tmp_path / "leaver.txt"
    leaver = keys.generate_key_file(leaver_file)
    assert rollout("rotate", "--manifest", fleet.manifest, "--add", leaver).code == 0
    apply_and_merge(fleet)
    kept_by_leaver = enc_on_branch(fleet)  # an old commit the leaver can always read again

    removed = rollout("rotate", "--manifest", fleet.manifest, "--remove", leaver)
    assert (
        removed.code == 0
        and "same data key" in removed.stdout
        and "rotate --data-key" in removed.stdout
    )
    apply_and_merge(fleet)
    rekeyed = enc_on_branch(fleet)
    assert not opens(rekeyed, leaver_file, monkeypatch)  # not a recipient any more ...
    assert opens(
        transplant(rekeyed, kept_by_leaver, leaver), leaver_file, monkeypatch
    )  # ... yet it opens

    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(team))
    rotated = rollout("rotate", "--manifest", fleet.manifest, "--data-key")
    assert rotated.code == 0, rotated.stderr
    assert (
        "new data key (sops rotate)" in rotated.stdout
        and "rotate the secret values" in rotated.stdout
    )
    stamp = load_manifest(fleet.manifest).data_key_rotated
    assert stamp and f'data_key_rotated: "{stamp}"' in fleet.manifest.read_text()
    drift = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--format", "json"
    )
    assert (
        '"path": ".env.enc",\n          "state": "modified"' in drift.stdout
    )  # an old data key is drift
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    line = " ".join(
        next(
            line for line in plan.stdout.splitlines() if line.strip().startswith(".env.enc")
        ).split()
    )
    assert line.startswith(".env.enc update (") and "new data key (sops rotate" in line
    apply_and_merge(fleet)
    fresh = enc_on_branch(fleet)
    assert sops.read_metadata(fresh).lastmodified >= stamp
    assert opens(fresh, team, monkeypatch)
    assert not opens(transplant(fresh, kept_by_leaver, leaver), leaver_file, monkeypatch)  # revoked
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(team))
    again = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert (
        " ".join(
            next(
                line for line in again.stdout.splitlines() if line.strip().startswith(".env.enc")
            ).split()
        )
        == ".env.enc unchanged (decrypts to .env)"
    )  # once rotated, never again


def test_data_key_rotation_works_without_the_plaintext(fleet, monkeypatch):
    """The committed ciphertext is rotated as is: no .env in the clone is needed."""
    apply_and_merge(fleet)
    os.remove(fleet.repo("juniper-cascor") / ".env")
    before = enc_on_branch(fleet)
    assert rollout("rotate", "--manifest", fleet.manifest, "--data-key").code == 0
    apply_and_merge(fleet)
    after = enc_on_branch(fleet)
    assert after != before and sops.decrypt_dotenv(after, filename=".env.enc") == PLAINTEXT


def test_data_key_without_a_usable_key_is_refused_and_nothing_changes(fleet, monkeypatch, tmp_path):
    apply_and_merge(fleet)
    text = fleet.manifest.read_text()
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(tmp_path / "missing.txt"))
    result = rollout("rotate", "--manifest", fleet.manifest, "--data-key")
    assert result.code == 1 and "nothing changed" in result.stderr
    assert fleet.manifest.read_text() == text


def test_the_manifest_splice_adds_then_replaces_and_keeps_every_other_byte():
    text = (
        "version: 1\n# fleet\ndefaults:\n  base: main   # keep\n  age_recipients:\n    - age1x\n"
        "  # trailing comment\nrepos: []\n"
    )
    first = data_key.edit(text, "2026-01-01T00:00:00Z")
    assert first == text.replace(
        "    - age1x\n", '    - age1x\n  data_key_rotated: "2026-01-01T00:00:00Z"\n'
    )
    second = data_key.edit(first, "2026-02-02T00:00:00Z")
    assert second == first.replace("2026-01-01T00:00:00Z", "2026-02-02T00:00:00Z")
    crlf = data_key.edit(text.replace("\n", "\r\n"), "2026-01-01T00:00:00Z")
    assert crlf == first.replace("\n", "\r\n")
    with pytest.raises(RecipientsEditError):
        data_key.edit("version: 1\ndefaults: {base: main}\nrepos: []\n", "2026-01-01T00:00:00Z")
