"""Issue 13, pass 10b: fresh variants of items 5-9 and the smaller list, against main.

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import rollout
from tests.test_pass3 import main_moves_to

# --- sops reads a master key however Go spells it: the tool must look the same way ---------------

_VAULT = {
    "engine_path": "transit",
    "key_name": "x",
    "created_at": "2026-12-01T17:49:33Z",
    "enc": "vault:v1:AAAA",
}


def _garbled(real: str) -> str:
    """``real`` with its age stanza unusable: sops, failing with age, goes on to the next master key."""
    garbled = re.sub(r"(-----BEGIN AGE ENCRYPTED FILE-----(?:\\n|\n\s*))YWdl", r"\1QWdl", real)
    assert garbled != real
    return garbled


def _dotenv_spelling(prefix: str):
    def make(real: str, address: str) -> str:
        fields = {"vault_address": address, **_VAULT}
        return _garbled(real) + "".join(f"{prefix}{k}={v}\n" for k, v in fields.items())

    return make


def _json_member(text: str):
    def make(real: str, address: str) -> str:
        vault = json.dumps([{"vault_address": address, **_VAULT}])
        return _garbled(real).replace(text[0], text[1].format(vault=vault), 1)

    return make


def _yaml_key(key: str):
    def make(real: str, address: str) -> str:
        body = "".join(
            f"          {k}: {json.dumps(v)}\n" for k, v in _VAULT.items()
        )  # JSON strings are YAML strings
        return _garbled(real).replace(
            "sops:\n", f"sops:\n    {key}:\n        - vault_address: {address}\n{body}", 1
        )

    return make


def _ini_delimiter(sep: str):
    def make(real: str, address: str) -> str:
        fields = {"vault_address": address, **_VAULT}
        lines = "".join(f"hc_vault__list_0__map_{k}{sep}{v}\n" for k, v in fields.items())
        return _garbled(real).replace("[sops]\n", "[sops]\n" + lines, 1)

    return make


SPELLINGS = {
    # Go's encoding/json (which sops' unflattened dotenv/INI metadata goes through) matches a field
    # name in any case; a list position it cannot read is 0
    "dotenv, upper case": ("dotenv", _dotenv_spelling("sops_HC_VAULT__list_0__map_")),
    "dotenv, a list position that is no number": (
        "dotenv",
        _dotenv_spelling("sops_hc_vault__list_x__map_"),
    ),
    "dotenv, an empty list position": ("dotenv", _dotenv_spelling("sops_hc_vault__list___map_")),
    # JSON: members match in any case, and a second object for the metadata merges into the first
    "json, upper case": (
        "json",
        _json_member(('"sops": {', '"sops": {{\n\t\t"HC_VAULT": {vault},')),
    ),
    "json, a second Sops object": (
        "json",
        _json_member(("{\n", '{{\n"Sops": {{"hc_vault": {vault}}},\n')),
    ),
    # YAML: yaml.v3 decodes a !!binary key to the field name (aGNfdmF1bHQ= is hc_vault)
    "yaml, a !!binary key": ("yaml", _yaml_key("!!binary aGNfdmF1bHQ=")),
    # INI: go-ini splits a key at `:` as well as `=`
    "ini, a colon": ("ini", _ini_delimiter(": ")),
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_a_vault_master_key_spelled_as_only_sops_reads_it_is_never_handed_to_sops(
    tmp_path, vault, monkeypatch, spelling
):
    """Pass 3 refused a committed `.enc` naming `hc_vault`, read as Python reads it. sops reads the
    metadata more loosely: each spelling here made it send the user's VAULT_TOKEN to the address the
    file chose (the real sops, as verify --ref and plan run it to decrypt a committed file)."""
    from juniper_rollout import keys, sops
    from tests.test_sops_formats import sops_output

    fmt, make = SPELLINGS[spelling]
    address, seen = vault
    key_file = tmp_path / "keys.txt"
    evil = make(sops_output(keys.generate_key_file(key_file), fmt).decode(), address).encode()
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    monkeypatch.setenv("VAULT_TOKEN", "hvs.users-own-vault-token")
    with pytest.raises(sops.SopsError, match="names hc_vault master keys besides age"):
        sops.decrypt_dotenv(evil, filename=".env.enc")
    assert seen == [], "sops sent the user's Vault token to the address the file chose"


@pytest.mark.parametrize("spelling", ["json, upper case", "yaml, a !!binary key", "ini, a colon"])
def test_plan_never_hands_sops_such_a_file(fleet, tmp_path, vault, monkeypatch, spelling):
    """The same through the CLI: a main holding such a `.env.enc` (merged from a contributor's
    branch), the plaintext moved away: plan decrypts the committed file to re-encrypt it as dotenv."""
    from juniper_rollout import keys
    from tests.test_sops_formats import sops_output

    fmt, make = SPELLINGS[spelling]
    address, seen = vault
    repo = fleet.repo("juniper-cascor")
    evil = make(sops_output(keys.public_keys_in(fleet.key_file)[0], fmt).decode(), address)
    main_moves_to(repo, {".env.enc": evil}, tmp_path)
    (repo / ".env").rename(tmp_path / "env.moved")
    monkeypatch.setenv("VAULT_TOKEN", "hvs.users-own-vault-token")
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert seen == [], "sops sent the user's Vault token to the address the file chose"
    assert result.code == 1
    assert "names hc_vault master keys besides age" in result.stdout, result.stdout


def test_every_real_sops_format_still_names_no_other_master_key(tmp_path):
    """The loose reading refuses nothing sops writes for age recipients."""
    from juniper_rollout import keys, sopsmeta
    from tests.test_sops_formats import sops_output

    recipient = keys.generate_key_file(tmp_path / "keys.txt")
    for fmt in ("dotenv", "yaml", "json", "ini", "binary"):
        meta = sopsmeta.read_metadata(sops_output(recipient, fmt))
        assert meta is not None and meta.others == (), fmt
