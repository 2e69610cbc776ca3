"""The age key file: where sops 3.11 looks for it, and making a new one (via pyrage).

The private key never leaves the key file: nothing here prints or returns it.
"""
from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from pyrage import x25519

from juniper_rollout.errors import RolloutError

KEY_FILE_ENV = "SOPS_AGE_KEY_FILE"
_KEYS_TXT = ("sops", "age", "keys.txt")


def default_key_file(env: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The key file sops reads: $SOPS_AGE_KEY_FILE, else ``<user config dir>/sops/age/keys.txt``.

    The config dir follows sops 3.11 (age/keysource.go ``getUserConfigDir``):
    macOS uses $XDG_CONFIG_HOME when set, else ``~/Library/Application Support``;
    Windows uses %AppData%; other systems use Go's ``os.UserConfigDir``:
    $XDG_CONFIG_HOME (must be absolute) or ``~/.config``.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if env.get(KEY_FILE_ENV):
        return Path(env[KEY_FILE_ENV])
    return _user_config_dir(env, platform).joinpath(*_KEYS_TXT)


def _user_config_dir(env: Mapping[str, str], platform: str) -> Path:
    xdg = env.get("XDG_CONFIG_HOME", "")
    home = env.get("HOME", "")
    if platform == "win32":
        if not env.get("APPDATA"):
            raise RolloutError("%AppData% is not set: set it or set SOPS_AGE_KEY_FILE")
        return Path(env["APPDATA"])
    if platform == "darwin":
        if xdg:
            return Path(xdg)
        if not home:
            raise RolloutError("HOME is not set: set it or set SOPS_AGE_KEY_FILE")
        return Path(home, "Library", "Application Support")
    if xdg:
        if not os.path.isabs(xdg):
            raise RolloutError(
                f"XDG_CONFIG_HOME={xdg} is relative, so sops ignores it: make it absolute"
            )
        return Path(xdg)
    if not home:
        raise RolloutError("neither XDG_CONFIG_HOME nor HOME is set: set one or SOPS_AGE_KEY_FILE")
    return Path(home, ".config")


def _rfc3339(now: datetime | None) -> str:
    """``now`` as Go's time.RFC3339 (age-keygen's ``# created:`` line): seconds, ``Z`` for UTC."""
    moment = now or datetime.now()
    if moment.tzinfo is None:  # naive: local time, as age-keygen writes it
        moment = moment.astimezone()
    moment = moment.replace(microsecond=0)
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _make_private_dirs(directory: Path) -> None:
    """Create missing ancestors of a key file, each 0700; existing ones are left alone."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:  # made meanwhile by someone else: theirs, left alone
            continue
        os.chmod(path, 0o700)


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a new 0600 file; FileExistsError if ``path`` exists (then untouched)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    os.close(fd)


def generate_key_file(path: Path, *, now: datetime | None = None) -> str:
    """Write a new age identity to ``path`` in age-keygen's format; return its public key.

    The file is complete before it appears (written aside, then hard-linked in,
    which fails if ``path`` exists): mode 0600, new parent directories 0700.
    """
    path = Path(path)
    identity = x25519.Identity.generate()
    public = str(identity.to_public())
    text = f"# created: {_rfc3339(now)}\n# public key: {public}\n{identity}\n"
    if path.exists() or path.is_symlink():
        raise _exists(path)
    try:
        _make_private_dirs(path.parent)
        _publish(path, text.encode())
    except FileExistsError:
        raise _exists(path) from None
    except OSError as exc:
        raise RolloutError(f"cannot create {path}: {exc.strerror or exc}") from None
    return public


def _publish(path: Path, data: bytes) -> None:
    """Write aside, then hard-link into place (fails if ``path`` exists): never half a file."""
    scratch = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    _write_new(scratch, data)
    try:
        os.link(scratch, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this filesystem: exclusive create in place
        _write_new(path, data)
    finally:
        os.unlink(scratch)


def _exists(path: Path) -> RolloutError:
    return RolloutError(
        f"{path} already exists: refusing to overwrite an age key "
        "(use it, or move it away first)"
    )


def public_keys_in(path: Path) -> list[str]:
    """Public keys (age1…) of the identities in a key file, in file order."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise RolloutError(f"cannot read age key file {path}: {reason}") from None
    keys = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            keys.append(str(x25519.Identity.from_str(line).to_public()))
        except Exception:  # pyrage.IdentityError; the line itself is secret: never shown
            raise RolloutError(
                f"{path}:{number}: not an age identity (expected AGE-SECRET-KEY-1…): "
                "fix the file or run `rollout keygen`"
            ) from None
    if not keys:
        raise RolloutError(f"{path} holds no age identity: run `rollout keygen`")
    return keys


def is_valid_recipient(s: str) -> bool:
    """Whether ``s`` is an age X25519 public key sops accepts (lowercase ``age1`` + bech32)."""
    if not s.startswith("age1"):
        return False
    try:
        x25519.Recipient.from_str(s)
    except Exception:  # pyrage.RecipientError
        return False
    return True
