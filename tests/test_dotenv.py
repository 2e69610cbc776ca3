"""juniper_rollout.dotenv: each edge case, checked against what the real sops 3.11 does."""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from juniper_rollout import keys, sops
from juniper_rollout.dotenv import DotenvError, bare_name, parse_names
from juniper_rollout.errors import RolloutError

C = b"CANARY-7f3a9c"

# name: (plaintext, names parse_names returns, or the start of its refusal reason)
ACCEPTED: dict[str, tuple[bytes, list[str]]] = {
    "plain": (b"A=" + C + b"\nB=2\n", ["A", "B"]),
    "export prefix": (b"export A=" + C + b"\n", ["A"]),
    "single quotes": (b"A='" + C + b" x'\n", ["A"]),
    "double quotes": (b'A="' + C + b' x"\n', ["A"]),
    "escaped newline in quotes": (b'A="' + C + b'\\nx"\n', ["A"]),
    "= in value": (b"A=" + C + b"=x==\n", ["A"]),
    "empty value": (b"A=\n", ["A"]),
    "comments": (b"# c\n#\n# X=" + C + b"\nA=1\n", ["A"]),
    "inline comment": (b"A=" + C + b" # c\n", ["A"]),
    "quoted then comment": (b'A="' + C + b'" # c\n', ["A"]),
    "CRLF": (b"# c\r\nA=" + C + b"\r\nB=2\r\n", ["A", "B"]),
    "UTF-8 BOM": (b"\xef\xbb\xbfA=" + C + b"\n", ["A"]),
    "non-UTF-8 value": (b"A=" + C + b"\xff\xfe\n", ["A"]),
    "spaces around =": (b"A = " + C + b"\n", ["A"]),
    "indented name": (b"  A=" + C + b"\n", ["A"]),
    "lowercase name": (b"a_b=" + C + b"\n", ["a_b"]),
    "empty file": (b"", []),
    "only a comment": (b"# c\n", []),
}
REFUSED: dict[str, tuple[bytes, str]] = {
    "blank line": (b"A=" + C + b"\n\nB=2\n", "2: blank line"),
    "leading blank line": (b"\nA=" + C + b"\n", "1: blank line"),
    "trailing blank line": (b"A=" + C + b"\n\n", "2: blank line"),
    "CRLF blank line": (b"A=" + C + b"\r\n\r\nB=2\r\n", "2: whitespace-only line"),
    "whitespace-only line": (b"A=" + C + b"\n  \n", "2: whitespace-only line"),
    "no final newline": (b"A=" + C, "1: no newline at end of file"),
    "multi-line double quotes": (b'A="' + C + b"\nmore" + C + b'"\n', "1: quote not closed"),
    "no =": (C + b"\n", "1: line has no '='"),
    "indented comment": (b"  # " + C + b"\n", "1: indented comment"),
    "BOM before a comment": (b"\xef\xbb\xbf# " + C + b"\n", "1: byte-order mark before a comment"),
}
# Round-trip in sops but refused on purpose (why in each reason).
POLICY: dict[str, tuple[bytes, str]] = {
    "multi-line with = inside": (b"A='" + C + b"\nx=" + C + b"'\n", "1: quote not closed"),
    "duplicate name": (b"A=" + C + b"\nA=2\n", "2: duplicate name A (also on line 1)"),
    "_unencrypted suffix": (b"A_unencrypted=" + C + b"\n", "1: name A_unencrypted ends with"),
    "empty name": (b"=" + C + b"\n", "1: no name before '='"),
    "indented comment with =": (b"  # X=" + C + b"\n", "1: indented comment with '='"),
    "space in name": (b"MY VAR=" + C + b"\n", "1: name contains spaces"),
    "non-UTF-8 name": (b"\xffA=" + C + b"\n", "1: name is not valid UTF-8"),
    "sops_ prefix": (b"sops_x=" + C + b"\n", "1: name sops_x starts with sops_"),
    # a name is an identifier: anything else may be a pasted secret, stored by sops as a plaintext name
    "BOM before a comment with =": (
        b"\xef\xbb\xbf# X=" + C + b"\n",
        "1: byte-order mark before a comment",
    ),
    "dots and dashes in name": (
        b"A=1\na.b-" + C + b"=1\n",
        "2: text before '=' is not a variable name",
    ),
    "token with base64 padding": (
        C + b"dG9rZW4+/x==\n",
        "1: text before '=' is not a variable name",
    ),
    "bare GitHub token, padded": (
        b"A=1\nghp_" + C.replace(b"-", b"") + b"0123456789abcdef=\n",
        "2: text before '=' is not a variable name",
    ),
    "API key with dashes": (b"sk-ant-" + C + b"=x\n", "1: text before '=' is not a variable name"),
}


@pytest.mark.parametrize("case", ACCEPTED)
def test_accepted(case: str) -> None:
    plaintext, names = ACCEPTED[case]
    assert parse_names(plaintext) == names


@pytest.mark.parametrize("case", [*REFUSED, *POLICY])
def test_refused(case: str) -> None:
    plaintext, reason = {**REFUSED, **POLICY}[case]
    with pytest.raises(DotenvError) as info:
        parse_names(plaintext, path="svc/.env")
    message = str(info.value)
    assert message.startswith(f"svc/.env:{reason}"), message
    assert "(" in message and C.decode() not in message and "\n" not in message
    assert isinstance(info.value, RolloutError)


def test_bare_name() -> None:
    assert bare_name("export\tA ") == "A"
    assert bare_name("\ufeffexport A") == "A"
    assert bare_name("exportA") == "exportA"


def _sops_round_trip(plaintext: bytes, env: dict[str, str], config: Path) -> bytes | None:
    """decrypt(encrypt(plaintext)) by the real sops, or None if sops refuses."""
    common = ["--input-type", "dotenv", "--output-type", "dotenv", "--filename-override", ".env"]
    enc = subprocess.run(
        [sops.sops_path(), "--config", str(config), "encrypt", *common],
        input=plaintext,
        capture_output=True,
        env=env,
    )
    if enc.returncode != 0:
        return None
    dec = subprocess.run(
        [sops.sops_path(), "--config", os.devnull, "decrypt", *common],
        input=enc.stdout,
        capture_output=True,
        env=env,
        check=True,
    )
    return dec.stdout


def test_verdicts_match_real_sops(tmp_path: Path) -> None:
    """Accepted cases round-trip byte for byte in sops; REFUSED ones do not; POLICY ones do."""
    key = tmp_path / "keys.txt"
    pub = keys.generate_key_file(key)
    config = tmp_path / ".sops.yaml"
    config.write_text(f'creation_rules:\n  - age: "{pub}"\n')
    env = dict(
        os.environ, HOME=str(tmp_path), SOPS_AGE_KEY_FILE=str(key), SOPS_DISABLE_VERSION_CHECK="1"
    )
    env.pop("SOPS_AGE_RECIPIENTS", None)
    cases = {name: text for name, (text, _) in {**ACCEPTED, **REFUSED, **POLICY}.items()}
    with ThreadPoolExecutor(8) as pool:
        outputs = pool.map(lambda text: _sops_round_trip(text, env, config), cases.values())
        results = dict(zip(cases, outputs, strict=True))
    faithful = {name for name, out in results.items() if out == cases[name]}
    assert faithful - set(ACCEPTED) - {"sops_ prefix"} == set(POLICY) - {"sops_ prefix"}
    assert set(ACCEPTED) <= faithful
    assert not faithful & set(REFUSED)
    assert results["sops_ prefix"] is None  # sops: "file already encrypted"


def test_a_pasted_token_in_env_stops_the_repo_by_line_and_is_never_echoed(fleet) -> None:
    """A bare token line (with base64 padding, so it holds '=') is not a variable name anywhere."""
    from tests.helpers import git, rollout

    token = "ghp_" + "Zx9" * 12
    env = fleet.repo("juniper-cascor") / ".env"
    lines = env.read_bytes().splitlines(keepends=True)
    env.write_bytes(b"".join(lines[:2]) + token.encode() + b"=\n" + b"".join(lines[2:]))
    for args in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*args, "--manifest", fleet.manifest, "--repo", "juniper-cascor")
        assert result.code == 1
        assert token not in result.stdout + result.stderr
        assert ".env:3: text before '=' is not a variable name" in " ".join(
            (result.stdout + result.stderr).split()
        )
    assert not git(
        fleet.repo("juniper-cascor"), "branch", "--list", "chore/sops-age-rollout"
    ).strip()
