"""juniper_rollout.sops against the real sops 3.11 binary and real age keys (no mocks)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from juniper_rollout import keys, sops
from juniper_rollout.dotenv import DotenvError
from juniper_rollout.errors import RolloutError

CANARY = "CANARY-7f3a9c"
RULE = r"(^|/)\.env(\.secrets)?(\.enc)?$"
SEED_RULE = r"\.env\.enc$"  # the seed plan's rule
PLAIN = f"# tokens\nAPI_KEY={CANARY}-a\nexport OTHER='{CANARY} b'\n".encode()


def config(*recipients: str, rule: str = RULE) -> str:
    return f'creation_rules:\n  - path_regex: {rule}\n    age: "{",".join(recipients)}"\n'


@dataclass(frozen=True)
class Sandbox:
    root: Path
    tmp: Path  # tempfile.gettempdir() and $TMPDIR for this test
    key: Path
    pub: str

    def assert_clean(self) -> None:
        """Nothing left in the temp dir (so no plaintext there either)."""
        leftovers = list(self.tmp.rglob("*"))
        for path in leftovers:
            assert not path.is_file() or CANARY.encode() not in path.read_bytes()
        assert leftovers == []

    def second_key(self) -> tuple[Path, str]:
        path = self.root / "keys" / "b.txt"
        return path, keys.generate_key_file(path)


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    for var in (
        "XDG_CONFIG_HOME",
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_CMD",
        "SOPS_AGE_RECIPIENTS",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        "SOPS_CONFIG",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    key = tmp_path / "keys" / "a.txt"
    pub = keys.generate_key_file(key)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key))
    return Sandbox(tmp_path, tmp, key, pub)


def sops_error(box: Sandbox, call) -> str:
    with pytest.raises(sops.SopsError) as info:
        call()
    message = str(info.value)
    assert "\n" not in message and CANARY not in message
    box.assert_clean()
    return message


def encrypt(box: Sandbox, plaintext: bytes = PLAIN, filename: str = ".env.enc") -> bytes:
    return sops.encrypt_dotenv(plaintext, sops_config=config(box.pub), filename=filename)


def test_sops_path_is_the_wheel_binary_next_to_python() -> None:
    assert sops.sops_path() == str(Path(sys.executable).parent / "sops")


def test_sops_missing(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(box.root / "nowhere" / "python"))
    monkeypatch.setenv("PATH", str(box.root / "nowhere"))
    assert sops_error(box, sops.sops_path) == sops.NOT_FOUND
    assert sops_error(box, lambda: sops.decrypt_dotenv(b"", filename=".env.enc")) == sops.NOT_FOUND


def test_round_trip_keeps_plaintext_off_disk(box: Sandbox) -> None:
    ciphertext = encrypt(box)
    box.assert_clean()
    assert CANARY.encode() not in ciphertext
    assert sops.decrypt_dotenv(ciphertext, filename=".env.enc") == PLAIN
    box.assert_clean()


def test_read_metadata_of_real_output(box: Sandbox) -> None:
    meta = sops.read_metadata(encrypt(box))
    assert meta == sops.SopsMetadata(
        (box.pub,), ("API_KEY", "OTHER"), "3.11.0", "dotenv", meta.lastmodified
    )


def test_read_metadata_none_for_plaintext() -> None:
    assert sops.read_metadata(PLAIN) is None
    assert sops.read_metadata(b"") is None
    assert sops.read_metadata(b"a: 1\n") is None


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_read_metadata_of_sops_yaml_and_json(box: Sandbox, kind: str) -> None:
    plain = {"yaml": f"token: {CANARY}\nport: 1\n", "json": f'{{"token": "{CANARY}", "port": 1}}'}
    proc = subprocess.run(
        [
            sops.sops_path(),
            "encrypt",
            "--age",
            box.pub,
            "--input-type",
            kind,
            "--output-type",
            kind,
            "--filename-override",
            f"s.{kind}",
        ],
        input=plain[kind].encode(),
        capture_output=True,
        check=True,
    )
    meta = sops.read_metadata(proc.stdout)
    assert meta == sops.SopsMetadata(
        (box.pub,), ("token", "port"), "3.11.0", kind, meta.lastmodified
    )
    assert meta.lastmodified.endswith("Z")


@pytest.mark.parametrize(
    ("rule", "filename", "expected"),
    [
        (RULE, ".env", True),
        (RULE, ".env.enc", True),
        (RULE, ".env.secrets.enc", True),
        (RULE, "sub/.env.enc", True),
        (RULE, "x.env.enc", False),
        (SEED_RULE, ".env", False),  # matched against the path given, not the output
        (SEED_RULE, ".env.enc", True),
        (r"^\.env\.enc$", "sub/.env.enc", False),  # relative to the repo root
    ],
)
def test_rule_matches(box: Sandbox, rule: str, filename: str, expected: bool) -> None:
    assert sops.rule_matches(config(box.pub, rule=rule), filename) is expected
    box.assert_clean()


def test_rule_matches_reports_a_broken_config(box: Sandbox) -> None:
    bad_recipient = lambda: sops.rule_matches(config("age1x"), ".env")  # noqa: E731
    assert "invalid age recipient" in sops_error(box, bad_recipient)
    assert ".sops.yaml is invalid" in sops_error(box, lambda: sops.rule_matches("a: [", ".env"))
    assert sops.rule_matches("stores: {}\n", ".env") is False


def test_encrypt_ignores_recipients_from_the_environment(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, other = box.second_key()
    monkeypatch.setenv("SOPS_AGE_RECIPIENTS", other)
    assert sops.read_metadata(encrypt(box)).recipients == (box.pub,)


def test_decrypt_ignores_a_stray_sops_yaml(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    ciphertext = encrypt(box)
    (box.root / ".sops.yaml").write_text("creation_rules: [[[\n")
    monkeypatch.chdir(box.root)
    assert sops.decrypt_dotenv(ciphertext, filename=".env.enc") == PLAIN


def test_updatekeys_adds_a_recipient(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    ciphertext = encrypt(box, filename="svc/.env.enc")
    key_b, pub_b = box.second_key()
    both = sops.updatekeys(ciphertext, sops_config=config(box.pub, pub_b), filename="svc/.env.enc")
    box.assert_clean()
    assert sops.read_metadata(both).recipients == (box.pub, pub_b)
    values = [line for line in ciphertext.splitlines() if not line.startswith(b"sops_")]
    assert [line for line in both.splitlines() if not line.startswith(b"sops_")] == values
    assert sops.decrypt_dotenv(both, filename="svc/.env.enc") == PLAIN
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_b))
    assert sops.decrypt_dotenv(both, filename="svc/.env.enc") == PLAIN


def test_updatekeys_refuses_a_modified_file(box: Sandbox) -> None:
    lines = encrypt(box).splitlines()
    tampered = b"\n".join(line for line in lines if not line.startswith(b"API_KEY"))
    call = lambda: sops.updatekeys(  # noqa: E731
        tampered, sops_config=config(box.pub), filename=".env.enc"
    )
    assert sops_error(box, call) == f".env.enc: {sops.MODIFIED}"


def test_is_encrypted(box: Sandbox) -> None:
    assert sops.is_encrypted(encrypt(box), filename=".env.enc") is True
    assert sops.is_encrypted(PLAIN, filename=".env.enc") is False
    assert sops.is_encrypted(f"not dotenv {CANARY}\n".encode(), filename=".env.enc") is False
    box.assert_clean()


def test_error_no_key(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    ciphertext = encrypt(box)
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    decrypt = lambda: sops.decrypt_dotenv(ciphertext, filename=".env.enc")  # noqa: E731
    assert sops_error(box, decrypt) == sops.NO_KEY
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(box.root / "missing.txt"))
    message = sops_error(box, decrypt)
    assert message.startswith(sops.NO_KEY) and "missing.txt" in message


def test_error_key_not_a_recipient(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    ciphertext = encrypt(box)
    key_b, _ = box.second_key()
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_b))
    message = sops_error(box, lambda: sops.decrypt_dotenv(ciphertext, filename=".env.enc"))
    assert "matches no recipient" in message


def test_error_invalid_key_file(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    ciphertext = encrypt(box)
    bad = box.root / "bad.txt"
    bad.write_text("AGE-SECRET-KEY-1SECRETLINE\n")  # a key file is not plaintext: no canary on disk
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(bad))
    message = sops_error(box, lambda: sops.decrypt_dotenv(ciphertext, filename=".env.enc"))
    assert "is not valid" in message and "SECRETLINE" not in message


@pytest.mark.parametrize("how", ["drop a line", "flip a value byte"])
def test_error_mac_mismatch(box: Sandbox, how: str) -> None:
    lines = encrypt(box).splitlines(keepends=True)
    if how == "drop a line":
        lines = [line for line in lines if not line.startswith(b"API_KEY")]
    else:
        i = next(n for n, line in enumerate(lines) if line.startswith(b"API_KEY"))
        cut = lines[i].index(b"data:") + 8
        flipped = b"A" if lines[i][cut : cut + 1] != b"A" else b"B"
        lines[i] = lines[i][:cut] + flipped + lines[i][cut + 1 :]
    tampered = b"".join(lines)
    message = sops_error(box, lambda: sops.decrypt_dotenv(tampered, filename=".env.enc"))
    assert message == f".env.enc: {sops.MODIFIED}"


def test_error_no_creation_rule(box: Sandbox) -> None:
    seed_config = config(box.pub, rule=SEED_RULE)
    call = lambda: sops.encrypt_dotenv(PLAIN, sops_config=seed_config, filename=".env")  # noqa: E731
    assert sops_error(box, call).startswith("no creation rule in .sops.yaml matches .env:")


def test_error_not_encrypted(box: Sandbox) -> None:
    message = sops_error(box, lambda: sops.decrypt_dotenv(PLAIN, filename=".env.enc"))
    assert message == ".env.enc is not sops-encrypted (no sops metadata): encrypt it from plaintext"


def test_encrypt_refuses_what_sops_would_alter(box: Sandbox) -> None:
    with pytest.raises(DotenvError) as info:
        encrypt(box, plaintext=f"A={CANARY}\n\nB=1\n".encode())
    assert str(info.value).startswith(".env:2: blank line")
    assert CANARY not in str(info.value) and isinstance(info.value, RolloutError)
    box.assert_clean()


@pytest.mark.parametrize("filename", ["/abs/.env.enc", "../.env.enc", ""])
def test_filename_must_be_repo_relative(box: Sandbox, filename: str) -> None:
    with pytest.raises(ValueError):
        sops.rule_matches(config(box.pub), filename)


def test_no_network_for_version_check() -> None:
    env = dict(os.environ, SOPS_DISABLE_VERSION_CHECK="1")
    proc = subprocess.run([sops.sops_path(), "--version"], capture_output=True, env=env, check=True)
    assert proc.stdout.strip() == b"sops 3.11.0" and b"upstream" not in proc.stderr


def test_relative_key_file_path_still_works(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    ciphertext = encrypt(box)
    monkeypatch.chdir(box.key.parent)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", box.key.name)
    _, pub_b = box.second_key()
    both = sops.updatekeys(ciphertext, sops_config=config(box.pub, pub_b), filename=".env.enc")
    assert sops.decrypt_dotenv(both, filename=".env.enc") == PLAIN
