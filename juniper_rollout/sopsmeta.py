"""What "sops-encrypted" means, as one regex: the hook, verify, drift and plan all use it. Pure.

sops 3.11 writes its metadata in the file's own format (measured, docs/SOPS_NOTES.md):

- dotenv: a line ``sops_mac=ENC[AES256_GCM,data:…,iv:…,tag:…,type:str]``
- YAML:   a top-level ``sops:`` mapping with an indented ``mac: ENC[…]`` line
- JSON (also ``binary`` output): a ``"sops": {`` object with a ``"mac": "ENC[…]"`` member
- INI:    a ``[sops]`` section with a ``mac = ENC[…]`` line

Each alternative is anchored to that shape, so a plaintext file holding ``sops:``,
``sops_mac=x`` or ``# "sops": x`` is not taken for an encrypted one. The pattern is
searched over the whole file with ``re.MULTILINE | re.DOTALL`` (pre-commit's pygrep
``--multiline``), so it never uses ``.``.
"""
from __future__ import annotations

import re

_B64 = r"[A-Za-z0-9+/]+={0,2}"
MAC = rf"ENC\[AES256_GCM,data:{_B64},iv:{_B64},tag:{_B64},type:str\]"
FORMATS = ("dotenv", "yaml", "json", "ini")
PATTERN = (
    rf"(?P<dotenv>^sops_mac={MAC}\r?$)"
    rf"|(?P<yaml>^sops:\r?\n(?:[ \t][^\n]*\n)*?[ \t]+mac: {MAC}\r?$)"
    rf"|(?P<json>^[ \t]*\"sops\": ?\{{\r?\n(?:[ \t][^\n]*\n)*?[ \t]+\"mac\": \"{MAC}\",?\r?$)"
    rf"|(?P<ini>^\[sops\]\r?\n(?:[^\[\n][^\n]*\n|\n)*?mac[ \t]*=[ \t]*{MAC}\r?$)"
)
_COMPILED = re.compile(PATTERN.encode(), re.MULTILINE | re.DOTALL)


def sops_format(blob: bytes) -> str | None:
    """The sops store format of ``blob`` (dotenv, yaml, json, ini), or None when it carries no sops metadata."""
    found = _COMPILED.search(blob[3:] if blob.startswith(b"\xef\xbb\xbf") else blob)
    if found is None:
        return None
    return next(name for name in FORMATS if found.group(name) is not None)
