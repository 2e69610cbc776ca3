"""juniper_rollout.keys: key file location (checked against real sops) and generation (pyrage)."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pyrage import x25519

from juniper_rollout import keys, sops
from juniper_rollout.errors import RolloutError

H = "/home/u"


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({"SOPS_AGE_KEY_FILE": "/k.txt", "HOME": H}, "linux", "/k.txt"),
        ({"HOME": H}, "linux", f"{H}/.config/sops/age/keys.txt"),
        ({"HOME": H, "XDG_CONFIG_HOME": "/x"}, "linux", "/x/sops/age/keys.txt"),
        ({"HOME": H, "XDG_CONFIG_HOME": ""}, "linux", f"{H}/.config/sops/age/keys.txt"),
        ({"HOME": H, "SOPS_AGE_KEY_FILE": ""}, "linux", f"{H}/.config/sops/age/keys.txt"),
        ({"HOME": H}, "darwin", f"{H}/Library/Application Support/sops/age/keys.txt"),
        ({"HOME": H, "XDG_CONFIG_HOME": "/x"}, "darwin", "/x/sops/age/keys.txt"),
        ({"APPDATA": "/appdata"}, "win32", "/appdata/sops/age/keys.txt"),
    ],
)
def test_default_key_file(env: dict[str, str], platform: str, expected: str) -> None:
    assert keys.default_key_file(env, platform) == Path(expected)


@pytest.mark.parametrize(
    ("env", "platform"),
    [
        ({"HOME": H, "XDG_CONFIG_HOME": "rel"}, "linux"),
        ({}, "linux"),
        ({}, "darwin"),
        ({}, "win32"),
    ],
)
def test_default_key_file_undeterminable(env: dict[str, str], platform: str) -> None:
    with pytest.raises(RolloutError):
        keys.default_key_file(env, platform)


@pytest.mark.parametrize("use_xdg", [False, True])
def test_sops_reads_the_default_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use_xdg: bool
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY", "SOPS_AGE_KEY_CMD", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    if use_xdg:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    pub = keys.generate_key_file(keys.default_key_file())
    rules = f'creation_rules:\n  - age: "{pub}"\n'
    ciphertext = sops.encrypt_dotenv(b"A=CANARY-7f3a9c\n", sops_config=rules, filename=".env.enc")
    assert sops.decrypt_dotenv(ciphertext, filename=".env.enc") == b"A=CANARY-7f3a9c\n"


def test_generate_key_file_format_and_modes(tmp_path: Path) -> None:
    path = tmp_path / "new" / "sops" / "age" / "keys.txt"
    now = datetime(2024, 5, 1, 12, 30, 5, 999, tzinfo=UTC)
    public = keys.generate_key_file(path, now=now)
    created, pub_line, secret = path.read_text().splitlines()
    assert path.read_text().endswith("\n") and path.read_text().count("\n") == 3
    assert created == "# created: 2024-05-01T12:30:05Z"
    assert pub_line == f"# public key: {public}"
    assert re.fullmatch(r"AGE-SECRET-KEY-1[0-9A-Z]{58}", secret)
    assert str(x25519.Identity.from_str(secret).to_public()) == public
    assert "SECRET" not in public and keys.is_valid_recipient(public)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (tmp_path / "new", path.parent.parent, path.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["keys.txt"]  # no scratch file left


def test_generate_key_file_keeps_existing_dir_modes(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    keys.generate_key_file(tmp_path / "keys.txt")
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


@pytest.mark.parametrize(
    ("now", "line"),
    [
        (
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2024-01-02T03:04:05+02:00",
        ),
        (
            datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5))),
            "2024-01-02T03:04:05-05:00",
        ),
    ],
)
def test_created_line_is_rfc3339(tmp_path: Path, now: datetime, line: str) -> None:
    keys.generate_key_file(tmp_path / "k.txt", now=now)
    assert (tmp_path / "k.txt").read_text().splitlines()[0] == f"# created: {line}"


def test_created_line_defaults_to_local_now(tmp_path: Path) -> None:
    keys.generate_key_file(tmp_path / "k.txt")
    first = (tmp_path / "k.txt").read_text().splitlines()[0]
    assert re.fullmatch(r"# created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)", first)


def test_generate_key_file_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    keys.generate_key_file(path)
    before = path.read_bytes()
    with pytest.raises(RolloutError, match="already exists"):
        keys.generate_key_file(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys.txt"]


def test_generate_key_file_refuses_a_dangling_symlink(tmp_path: Path) -> None:
    (tmp_path / "keys.txt").symlink_to(tmp_path / "elsewhere.txt")
    with pytest.raises(RolloutError, match="already exists"):
        keys.generate_key_file(tmp_path / "keys.txt")
    assert not (tmp_path / "elsewhere.txt").exists()


def test_public_keys_in(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    pubs = [keys.generate_key_file(a), keys.generate_key_file(b)]
    both = tmp_path / "both.txt"
    both.write_text(a.read_text() + "\n" + b.read_text())
    assert keys.public_keys_in(both) == pubs


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("# only a comment\n", "holds no age identity"),
        ("AGE-SECRET-KEY-1SECRETLINE\n", r"bad\.txt:1: not an age identity"),
        (None, "cannot read age key file"),
    ],
)
def test_public_keys_in_errors(tmp_path: Path, content: str | None, match: str) -> None:
    path = tmp_path / "bad.txt"
    if content is not None:
        path.write_text(content)
    with pytest.raises(RolloutError, match=match) as info:
        keys.public_keys_in(path)
    assert "SECRETLINE" not in str(info.value)


def test_is_valid_recipient(tmp_path: Path) -> None:
    public = keys.generate_key_file(tmp_path / "k.txt")
    secret = (tmp_path / "k.txt").read_text().splitlines()[2]
    assert keys.is_valid_recipient(public)
    for bad in (
        public.upper(),
        public[:-1] + ("q" if public[-1] != "q" else "p"),
        public[:-3],
        " " + public,
        "age1",
        "",
        secret,
        "ssh-ed25519 AAAA",
    ):
        assert not keys.is_valid_recipient(bad), bad


def test_generate_key_file_under_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    with pytest.raises(RolloutError, match="cannot create"):
        keys.generate_key_file(tmp_path / "plain" / "keys.txt")
