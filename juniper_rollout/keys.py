"""The age key file: where sops 3.11 looks for it, and making a new one (via pyrage).

The private key never leaves the key file: nothing here prints or returns it.
"""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pyrage import x25519

from juniper_rollout import agekey, atomicfile, proctree
from juniper_rollout.errors import RolloutError
from juniper_rollout.paths import read_open

KEY_FILE_ENV = "SOPS_AGE_KEY_FILE"
KEY_ENV, KEY_CMD_ENV, SSH_KEY_FILE_ENV = (
    "SOPS_AGE_KEY",
    "SOPS_AGE_KEY_CMD",
    "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
)
CMD_TIMEOUT = 60
MAX_KEY_BYTES = 1_000_000  # an age key file of a thousand keys is under 100 KB
_KEYS_TXT = ("sops", "age", "keys.txt")


def holds_a_key(value: str) -> bool:
    """``value`` (what should be a path) holds a private key itself: an age one, or a PEM/OpenSSH one
    (pass 19b: ``export SOPS_AGE_KEY_FILE=AGE-SECRET-KEY-1…``, the key where its file was meant, was
    printed in plan's and verify's lines, and keygen wrote a new key into a file named as the old)."""
    from juniper_rollout.secretshape import AGE_PRIVATE_KEY

    return bool(AGE_PRIVATE_KEY.search(value) or "PRIVATE KEY-----" in value.upper())


def is_a_key(value: str) -> bool:
    """``value`` (what should be a command) is a private key and nothing else (`SOPS_AGE_KEY_CMD=KEY`:
    sops said "failed to execute command KEY"); a command that prints one (`echo KEY`) is left alone."""
    from juniper_rollout.secretshape import AGE_PRIVATE_KEY

    text = value.strip()
    return bool(AGE_PRIVATE_KEY.fullmatch(text) or text.upper().startswith("-----BEGIN"))


def key_in_place_of_a_path(name: str) -> str:
    return (
        f"{name} holds a private key itself, not the path of a file (never shown): put the key in "
        "SOPS_AGE_KEY, or in a file that variable names"
    )


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
        if holds_a_key(env[KEY_FILE_ENV]):
            raise RolloutError(key_in_place_of_a_path(KEY_FILE_ENV))
        if env[KEY_FILE_ENV].startswith("~"):
            raise RolloutError(_tilde(env[KEY_FILE_ENV]))
        return Path(env[KEY_FILE_ENV])
    return _user_config_dir(env, platform).joinpath(*_KEYS_TXT)


def _tilde(value: str) -> str:
    return (
        f"{KEY_FILE_ENV}={value} starts with '~', which sops does not expand (it opens a folder named '~' "
        'in the current directory): set it to an absolute path, e.g. "$HOME/..." unquoted ~ in your shell'
    )


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
    try:
        if path.exists() or path.is_symlink():
            raise _exists(path)
    except OSError as exc:  # a folder on the way the user may not search
        raise RolloutError(f"cannot create {path}: {exc.strerror or exc}") from None
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
    scratch = atomicfile.write_aside(path, data, mode=0o600)
    try:
        os.link(scratch, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links on this filesystem: exclusive create in place
        _write_new(path, data)
    finally:
        os.unlink(scratch)


def _exists(path: Path) -> RolloutError:
    what = _what_is(path)
    if what == "an age key file":
        how = "use it, or move it away first"
    else:
        how = "it is not a key file: pass another --key-file, or move it away first"
    return RolloutError(f"{path} already exists ({what}): refusing to overwrite it ({how})")


def _what_is(path: Path) -> str:
    """What stands at ``path``, in words (pass 9): never its content, which may be a secret."""
    if path.is_symlink():
        return "a symbolic link"
    if path.is_dir():
        return "a folder"
    if not path.is_file():
        return "not a regular file"
    try:  # without blocking: /proc/kmsg is a regular file whose read waits (pass 25c: keygen hung)
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced since
            os.close(fd)
            return "not a regular file"
        text = read_open(fd, 1 << 16).decode("utf-8")
        keys = agekey.public_keys_of(text, strip=True)
    except (OSError, UnicodeDecodeError, ValueError):
        return "a file that is not an age key file"
    plugin = any(line.strip().startswith("AGE-PLUGIN-") for line in text.splitlines())
    return "an age key file" if keys or plugin else "a file that holds no age key"


def public_keys_in(path: Path) -> list[str]:
    """Public keys (age1…) of the identities in a key file, in file order."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise RolloutError(f"cannot read age key file {path}: {reason}") from None
    try:
        keys = agekey.public_keys_of(text, strip=True)
    except agekey.NotAnIdentity as err:  # the line itself is secret: never shown
        raise RolloutError(
            f"{path}:{err.line}: not an age identity (expected AGE-SECRET-KEY-1…): "
            "fix the file or run `rollout keygen`"
        ) from None
    if not keys:
        raise RolloutError(f"{path} holds no age identity: run `rollout keygen`")
    return keys


is_valid_recipient = agekey.is_valid_recipient  # the one recipient check: agekey.py


# --- where sops 3.11 finds identities (age/keysource.go loadIdentities; measured in docs/SOPS_NOTES.md) ---


@dataclass(frozen=True)
class AgeKeys:
    """The age identities sops would load here (public keys only: private keys never leave this module)."""

    public: tuple[str, ...]
    found: tuple[str, ...]  # where identities were found
    looked: tuple[str, ...]  # where sops looks
    problems: tuple[str, ...]  # sources sops would fail to read (it goes on with the others)
    loose: tuple[str, ...] = ()  # key files readable by others
    ssh: tuple[str, ...] = ()  # SSH keys sops loads: they decrypt only for ssh-… recipients


def find_age_keys(
    env: Mapping[str, str] | None = None, *, platform: str | None = None, cwd: Path | None = None
) -> AgeKeys:
    """Every source sops 3.11 reads, all at once, as sops reads them.

    SSH keys (``SOPS_AGE_SSH_PRIVATE_KEY_FILE``, else none; plus ``~/.ssh/id_ed25519`` and ``~/.ssh/id_rsa``),
    ``SOPS_AGE_KEY``, ``SOPS_AGE_KEY_FILE`` (opened as given: ``~`` is not expanded, a relative path is
    relative to the current directory), ``SOPS_AGE_KEY_CMD`` (split like a shell line, run without a shell)
    and ``<config dir>/sops/age/keys.txt`` (read even when ``SOPS_AGE_KEY_FILE`` is set). A source that
    fails is a problem, and sops goes on with the others: decryption works if any identity matches.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    cwd = Path.cwd() if cwd is None else cwd
    public: list[str] = []
    found: list[str] = []
    looked: list[str] = []
    problems: list[str] = []
    loose: list[str] = []
    ssh: list[str] = []
    home = env.get("HOME", "")
    ssh_paths = [env[SSH_KEY_FILE_ENV]] if SSH_KEY_FILE_ENV in env else []
    if ssh_paths and holds_a_key(ssh_paths[0]):
        problems.append(key_in_place_of_a_path(SSH_KEY_FILE_ENV))
        ssh_paths = []
    ssh_paths += [os.path.join(home, ".ssh", n) for n in ("id_ed25519", "id_rsa")] if home else []
    for index, path in enumerate(ssh_paths):
        explicit = index == 0 and SSH_KEY_FILE_ENV in env
        if explicit or os.path.exists(path):
            looked.append(path)
            if os.path.isfile(cwd / path):
                ssh.append(path)
            elif explicit:
                problems.append(f"{SSH_KEY_FILE_ENV}={path} cannot be opened: fix it, or unset it")
    readers = 0

    def take(location: str, text: str | None, error: str | None) -> None:
        nonlocal readers
        looked.append(location)
        if error is not None:
            problems.append(error)
            return
        readers += 1
        try:
            keys = agekey.public_keys_of(text or "")
        except agekey.NotAnIdentity as err:
            problems.append(
                f"{location}: {err} (expected AGE-SECRET-KEY-1… lines, nothing before them): fix it"
            )
            return
        if keys:
            public.extend(keys)
            found.append(location)

    if KEY_ENV in env:
        take("$SOPS_AGE_KEY", env[KEY_ENV], None)
    if KEY_FILE_ENV in env and holds_a_key(env[KEY_FILE_ENV]):
        take(f"${KEY_FILE_ENV}", None, key_in_place_of_a_path(KEY_FILE_ENV))
    elif KEY_FILE_ENV in env:
        value = env[KEY_FILE_ENV]
        text, error = _read_key_file(cwd / value if value else None, value, loose)
        if error is not None:
            error = (
                _tilde(value)
                if value.startswith("~")
                else f"{KEY_FILE_ENV}={value} {error}: fix it, or unset it"
            )
        take(value or "$SOPS_AGE_KEY_FILE (empty)", text, error)
    if KEY_CMD_ENV in env and is_a_key(env[KEY_CMD_ENV]):
        take(
            "$SOPS_AGE_KEY_CMD",
            None,
            f"{KEY_CMD_ENV} holds a private key itself, not a command (never shown): put the key in "
            "SOPS_AGE_KEY, or a command that prints it in SOPS_AGE_KEY_CMD",
        )
    elif KEY_CMD_ENV in env:
        text, error = _run_key_cmd(env[KEY_CMD_ENV], env, cwd)
        take("$SOPS_AGE_KEY_CMD", text, error)
    try:
        config_dir = _user_config_dir(env, platform)
    except RolloutError as err:
        if not readers and not ssh:
            problems.append(str(err))
    else:
        keys_txt = config_dir.joinpath(*_KEYS_TXT)
        if keys_txt.exists():
            text, error = _read_key_file(keys_txt, str(keys_txt), loose)
            take(str(keys_txt), text, error and f"{keys_txt} {error}")
        else:
            looked.append(str(keys_txt))
    return AgeKeys(
        tuple(dict.fromkeys(public)),
        tuple(found),
        tuple(looked),
        tuple(problems),
        tuple(loose),
        tuple(ssh),
    )


def _read_key_file(
    path: Path | None, shown: str, loose: list[str]
) -> tuple[str | None, str | None]:
    if path is None:
        return None, "cannot be opened (it is empty)"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO would block, /dev/zero never ends
            os.close(fd)
            return None, "is not a regular file (point it at the key file itself)"
        data = read_open(fd, MAX_KEY_BYTES + 1)  # /proc/kmsg: regular, but waits (pass 25c)
    except FileNotFoundError:
        return None, "does not exist"
    except OSError as err:
        return None, f"cannot be opened ({err.strerror})"
    if len(data) > MAX_KEY_BYTES:
        return None, f"is larger than {MAX_KEY_BYTES // 1_000_000} MB: not an age key file"
    if data.startswith((b"age-encryption", b"-----BEGIN AGE")):
        return (
            "",
            None,
        )  # passphrase-protected: sops asks for the passphrase; its public key is unknown here
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        loose.append(f"{shown} is readable by others (mode {mode:04o}): run `chmod 600 {shown}`")
    return data.decode("utf-8", "replace"), None


def _run_key_cmd(command: str, env: Mapping[str, str], cwd: Path) -> tuple[str | None, str | None]:
    """``SOPS_AGE_KEY_CMD`` as sops runs it: split into words (no shell, so no pipes), stdout read."""
    try:
        args = shlex.split(command)
    except ValueError:
        return None, f"{KEY_CMD_ENV} cannot be split into words (unbalanced quotes): fix it"
    if not args:
        return None, f"{KEY_CMD_ENV} is empty: set it to a command, or unset it"
    try:
        proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(env),
            cwd=cwd,
            # pass 19a: it dies with the tool (`kill -9` of verify left it waiting for ever)
            preexec_fn=proctree.dies_with_us(),
        )
    except OSError as err:
        why = err.strerror or "cannot run"
        return None, f"{KEY_CMD_ENV} {args[0]}: {why} (sops runs it without a shell: no pipes or ~)"
    try:
        out = _bounded_read(proc, MAX_KEY_BYTES + 1, CMD_TIMEOUT)
    except BaseException:  # Ctrl-C / SIGTERM while it waits: the command stops with the tool
        proctree.kill_tree(proc.pid)
        raise
    if out is None or len(out) > MAX_KEY_BYTES:
        why = "timed out" if out is None else f"printed more than {MAX_KEY_BYTES // 1_000_000} MB"
        return None, f"{KEY_CMD_ENV} {args[0]}: {why} (sops runs it without a shell: no pipes or ~)"
    if proc.returncode != 0:
        return (
            None,
            f"{KEY_CMD_ENV} {args[0]} exited {proc.returncode} (sops runs it without a shell: no pipes or ~)",
        )
    return out.decode("utf-8", "replace"), None


def _bounded_read(proc: subprocess.Popen, limit: int, timeout: float) -> bytes | None:
    """At most ``limit`` bytes of ``proc``'s stdout, then its exit; None when it takes longer than
    ``timeout``. A command printing without end (`cat /dev/zero`) is killed at the limit."""
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(proc.stdout.read(limit)), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    timed_out = reader.is_alive()
    if timed_out or (got and len(got[0]) >= limit):
        # the command with what it started (pass 16a: a script's `sleep`, a password manager's
        # helper ran on, holding the pipe, and closing it below waited for them: a hang)
        proctree.kill_tree(proc.pid)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    reader.join(1)
    if not reader.is_alive():  # a pipe still read by the thread cannot be closed without waiting
        proc.stdout.close()  # type: ignore[union-attr]
    return None if timed_out or not got else got[0]
