"""``rollout keygen``: an age key where sops looks, age-keygen's format, never printed."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from juniper_rollout import keys, sops
from tests.helpers import rollout

PUBLIC = re.compile(r"age1[0-9a-z]{58}")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_keygen_writes_where_sops_looks_and_sops_finds_it():
    default = Path(os.environ["XDG_CONFIG_HOME"]) / "sops" / "age" / "keys.txt"
    result = rollout("keygen")
    assert result.code == 0, result.stderr
    text = default.read_text()
    assert mode(default) == 0o600
    assert mode(default.parent) == 0o700 and mode(default.parent.parent) == 0o700
    lines = text.splitlines()
    assert re.fullmatch(r"# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", lines[0])
    public = lines[1].removeprefix("# public key: ")
    assert PUBLIC.fullmatch(public) and lines[2].startswith("AGE-SECRET-KEY-1") and len(lines) == 3
    # the public key and the manifest line are printed; the private key never is
    assert f"public key: {public}" in result.stdout
    assert f"\n    - {public}\n" in result.stdout
    assert "AGE-SECRET-KEY" not in result.stdout + result.stderr
    assert "sops does not look there" not in result.stdout
    # sops itself finds it, with no SOPS_AGE_KEY_FILE set
    rules = f"creation_rules:\n  - age: '{public}'\n"
    blob = sops.encrypt_dotenv(b"A=1\n", sops_config=rules, filename=".env.enc")
    assert sops.decrypt_dotenv(blob, filename=".env.enc") == b"A=1\n"


def test_keygen_honours_sops_age_key_file(tmp_path, monkeypatch):
    target = tmp_path / "keys" / "team.txt"
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(target))
    result = rollout("keygen")
    assert result.code == 0
    assert keys.public_keys_in(target) == [PUBLIC.search(result.stdout).group()]
    assert "sops does not look there" not in result.stdout


def test_keygen_elsewhere_says_how_sops_will_find_it(tmp_path):
    target = tmp_path / "keys-new.txt"
    result = rollout("keygen", "--key-file", target)
    assert result.code == 0
    assert mode(target) == 0o600
    assert f"export SOPS_AGE_KEY_FILE={target}" in result.stdout
    assert "append its AGE-SECRET-KEY-1… line to" in result.stdout


def test_keygen_refuses_to_overwrite(tmp_path):
    target = tmp_path / "keys.txt"
    target.write_text("# someone's key\n")
    target.chmod(0o640)
    result = rollout("keygen", "--key-file", target)
    assert result.code == 1
    assert "already exists" in result.stderr and "refusing to overwrite" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert target.read_text() == "# someone's key\n" and mode(target) == 0o640
    assert result.stdout == ""


def test_keygen_to_dash_is_refused_and_writes_nothing(tmp_path, monkeypatch):
    """`--key-file -` wrote a private key to a file named `-` in the current folder (pass 16b's note):
    the tool never prints a private key, so `-` is no standard output here."""
    monkeypatch.chdir(tmp_path)
    result = rollout("keygen", "--key-file", "-")
    assert result.code == 1 and "--key-file - would be a file named '-'" in result.stderr
    assert list(tmp_path.iterdir()) == []
    assert "AGE-SECRET-KEY" not in result.stdout + result.stderr
