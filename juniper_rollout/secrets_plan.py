"""Encrypted files in a plan: the only place that reads plaintext secrets.

The plaintext comes from the user's clone (it is ignored, never in git), is
encrypted with the real sops to the recipients of the rendered ``.sops.yaml``,
decrypted again and compared, and only the ciphertext goes into the plan.
Nothing here prints, logs or stores a plaintext value.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from juniper_rollout import agekey, appenv, dotenv, gitrepo, sops, sopsmeta, wording, yamlio
from juniper_rollout.changes import CREATE, DELETE, UNCHANGED, UPDATE, FileChange, RepoPlan, skip
from juniper_rollout.errors import RepoError, RolloutError
from juniper_rollout.manifest import EncryptSpec, Manifest, RepoSpec
from juniper_rollout.paths import SOPS_CONFIG
from juniper_rollout.wording import shell_word


def read_plaintext(repo: RepoSpec, source: str) -> bytes | None:
    """The plaintext file from the clone's working tree; None if absent. Never follows a symlink."""
    if "\0" in source:
        # no file has such a name (os.open raises ValueError): pass 28c, a compose file's `env_file:
        # "\x00"` (YAML's escape) ended every repo's plan and drift with "unexpected ValueError"
        return None
    try:
        # O_NONBLOCK: a FIFO opens at once (and is then refused) instead of waiting for a writer
        fd = _open_inside(
            repo.path,
            source,
            os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0),
        )
    except FileNotFoundError:
        return None
    except OSError as err:
        if err.errno == errno.ENAMETOOLONG:
            # no file has a name longer than the file system allows (each folder is opened on its
            # own): pass 28d, a compose file's 300-letter `env_file:` ended every repo's plan,
            # drift and verify with "unexpected OSError"
            return None
        linked = next(
            (
                p
                for p in [*reversed(Path(source).parents[:-1]), Path(source)]
                if (repo.path / p).is_symlink()
            ),
            None,
        )
        if linked is not None:
            raise RepoError(
                f"{linked} in the clone is a symlink; the tool never follows symlinks "
                f"(make {source} a regular file in the repository)"
            ) from None
        if _not_regular(repo.path / source):  # a socket cannot be opened (ENXIO) (pass 25i)
            raise RepoError(
                f"{source} in the clone is not a regular file (make it one, or remove it)"
            ) from None
        raise RepoError(
            f"cannot read {source} in the clone: {err.strerror} (check its permissions)"
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RepoError(
                f"{source} in the clone is not a regular file (make it one, or remove it)"
            )
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(gitrepo.MAX_FILE_BYTES + 1)
        if len(data) > gitrepo.MAX_FILE_BYTES:  # read no further: a 3 GB .env is not an env file
            raise gitrepo.too_big(source, os.fstat(fd).st_size, "in the clone")
        return data
    except OSError as err:
        raise RepoError(
            f"cannot read {source} in the clone: {err.strerror} (check its permissions)"
        ) from None
    finally:
        os.close(fd)


def _not_regular(path: Path) -> bool:
    """``path`` exists and is not a regular file (a socket's open fails before fstat can say so)."""
    try:
        return not stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _open_inside(root: Path, source: str, flags: int) -> int:
    """``os.open(root/source, flags)``, each folder on the way opened with O_NOFOLLOW: a symlinked
    folder (``config -> /somewhere/else``) never leads the read out of the clone."""
    parts = source.split("/")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        for part in parts[:-1]:
            inner = os.open(
                part,
                os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                dir_fd=fd,
            )
            os.close(fd)
            fd = inner
        return os.open(parts[-1], flags, dir_fd=fd)
    finally:
        os.close(fd)


def plaintext_names(repo: RepoSpec, source: str, *commits) -> tuple[str, ...]:
    """The names in the clone's plaintext ``source``; without it, those in its committed ciphertext
    (the first of ``commits`` holding one: the source of truth once the plaintext is gone)."""
    data = read_plaintext(repo, source)
    if data is not None:
        return tuple(dotenv.parse_names(dotenv.sops_form(data)[0], path=source))
    for spec in repo.encrypt:
        if spec.source != source:
            continue
        for commit in commits:
            blob = gitrepo.read_blob(commit, spec.target) if commit is not None else None
            meta = sops.read_metadata(blob) if blob is not None else None
            if meta is not None and blob is not None:
                return _committed_names(
                    repo, spec, blob, commit.hexsha, meta, where=f"at {commit.hexsha[:7]}"
                )
    return ()


def _names_detail(source: str, names: list[str], altered: tuple[str, ...] = ()) -> str:
    shown = _first(names, 3)
    text = (
        f"encrypt {source}: {len(names)} variable{'s' if len(names) != 1 else ''} {shown}".rstrip()
    )
    return text + "".join(f"; {note}" for note in altered)


def _rekey_detail(old: tuple[str, ...], new: tuple[str, ...]) -> str:
    added = [f"+{agekey.short(k)}" for k in new if k not in old]
    removed = [f"-{agekey.short(k)}" for k in old if k not in new]
    text = f"re-key with sops updatekeys ({', '.join(added + removed)}): same data key"
    if removed:
        text += "; a removed key that kept an earlier copy still decrypts it: `rollout rotate --data-key`"
    return text


def add_encrypted(
    manifest: Manifest, repo: RepoSpec, plan: RepoPlan, base, tip=None, *, foreign: bool = False
) -> RepoPlan:
    """``plan`` plus one change per encrypted file of ``repo``.

    ``tip`` is the rollout branch: ciphertext it already holds is reused when it still
    decrypts to the same plaintext for the same recipients (sops output is random, so
    encrypting again would make every apply a new commit). ``foreign``: it holds commits the tool
    did not make, so no line offers to delete it.
    """
    config = next(
        (f.after for f in plan.files if f.path == SOPS_CONFIG and f.after is not None), None
    )
    if config is None:
        config = gitrepo.read_blob(base, SOPS_CONFIG)
    if config is None:
        raise RepoError("files to encrypt but no .sops.yaml (set sops_yaml: true for this repo)")
    if sopsmeta.is_lfs_pointer(config):
        # pass 28a (the LFS bullet): the pointer was handed to sops as the config, and the repo
        # refused with ".sops.yaml is invalid (… cannot unmarshal !!str `version…`): fix it", a
        # file that is valid in every checkout git-lfs smudges
        raise RepoError(_lfs_pointer_at(SOPS_CONFIG, gitrepo.base_ref(base.repo, repo.base)))
    config_text = config.decode("utf-8")
    changes = []
    # the branch's tool commits are in the base already (merged): the base's ciphertext is the later one
    merged = tip is None or tip == base or tip.repo.is_ancestor(tip, base)
    base_name = gitrepo.base_ref(base.repo, repo.base)
    # no local branch: the lines name the copy the tool read (pushed, or origin's), one a pasted command finds
    elsewhere = gitrepo.known_branch_names(base.repo, repo.branch) if tip is not None else None
    shown = replace(repo, branch=elsewhere[0]) if elsewhere else repo
    # pass 24a: a reviewer's commit on the local branch went with the `git branch -D` a line offered
    keep = (
        f"take what else {repo.branch} holds elsewhere (it has commits the tool did not make: a "
        "reviewer's?), then delete it"
        if foreign and elsewhere is None
        else _delete_words(base.repo, repo.branch, "the rollout branch")
        if tip is not None and elsewhere is None
        else None
    )
    for spec in repo.encrypt:
        reuse = gitrepo.read_blob(tip, spec.target) if tip is not None else None
        before = gitrepo.read_blob(base, spec.target)
        # the branch's ciphertext reached the base's history (a squash merge, say): the base's is later
        landed = (
            merged
            or reuse is None
            or reuse == before
            or gitrepo.blob_in_history(base, spec.target, reuse)
        )
        # pass 11a: the base's ciphertext changed since the branch was built on it (a `sops edit` there)
        fork = gitrepo.blob_at_fork(tip, base, spec.target) if tip is not None else None
        base_edited = not landed and before != fork
        change = encrypted_change(
            manifest,
            shown,
            spec,
            config_text,
            before,
            reuse=reuse,
            branch_merged=landed,
            base_edited=base_edited,
            fork=fork,
            earlier=partial(gitrepo.earlier_versions, base, spec.target),
            at_base=(base_name, partial(_read_at_base, base, repo.base, spec.target)),
            forget=elsewhere[1] if elsewhere else keep,
            # on top of the rollout branch, "the base" read here is the branch itself (pass 11a)
            before_ref=repo.branch if tip is not None and tip == base else base_name,
        )
        if change.action not in (CREATE, UPDATE, UNCHANGED) and reuse is None and tip is not None:
            _never_drop_branch_ciphertext(shown, spec, base, tip)
        if change.action not in (CREATE, UPDATE, UNCHANGED) and reuse is None and spec.enabled:
            _never_leave_a_renamed_branch_behind(repo, spec, base)
        changes.append(fresh_data_key(manifest, spec, change, reuse))
    _never_lose_a_tracked_secret(repo, plan, changes)
    notes = tuple(c.detail for c in changes if c.action == UNCHANGED and c.detail)
    return replace(plan, files=plan.files + tuple(changes), notes=plan.notes + notes)


def encrypted_change(
    manifest: Manifest,
    repo: RepoSpec,
    spec: EncryptSpec,
    config: str,
    before: bytes | None,
    *,
    reuse: bytes | None = None,
    branch_merged: bool = True,
    base_edited: bool = False,
    before_ref: str | None = None,
    fork: bytes | None = None,
    earlier: Callable[[], list[tuple[bytes, bool]]] | None = None,
    at_base: tuple[str, Callable[[], bytes | None]] | None = None,
    forget: str | None = None,
) -> FileChange:
    _check_rules(config, spec)
    recipients = manifest.recipients
    plaintext = read_plaintext(repo, spec.source) if spec.enabled else None
    meta = (
        _committed_metadata(repo, spec, before, before_ref or repo.base)
        if before is not None
        else None
    )
    if plaintext is None:
        if before is None or meta is None:
            if reuse is not None and spec.enabled:
                _committed_names(repo, spec, reuse, repo.branch)
                return _kept_from_branch(repo, spec, config, reuse, recipients)
            why = (
                f"no {spec.source} in the clone to encrypt"
                if spec.enabled
                else "encryption is off (enabled: false)"
            )
            return skip(spec.target, why)
        if reuse is not None and reuse != before and not branch_merged:
            kept = _branch_ciphertext_first(
                repo, spec, config, before, meta, reuse, recipients, base_edited, before_ref, forget
            )
            if kept is not None:
                return kept
        if spec.enabled:
            _committed_names(repo, spec, before, before_ref or repo.base, meta)
        return _kept_without_plaintext(spec, config, before, meta, reuse, recipients)
    try:
        plaintext.decode("utf-8")
    except UnicodeDecodeError:
        raise RepoError(
            f"{spec.source} in the clone is not UTF-8 text (save it as UTF-8, then plan again)"
        ) from None
    plaintext, altered = dotenv.sops_form(plaintext)
    names = dotenv.parse_names(plaintext, path=spec.source)
    _refuse_ciphertext_values(
        repo,
        spec,
        plaintext,
        (repo.branch, reuse)
        if reuse is not None
        else (before_ref or repo.base, before)
        if before is not None
        else None,
    )
    if not names:
        _refuse_emptied(spec, before, reuse)
    holder = before_ref or repo.base
    if names:
        # a branch merged into the base holds no later values than the base (a value emptied there)
        _refuse_blanked(
            repo,
            spec,
            plaintext,
            (before, holder),
            None if branch_merged else reuse,
            at_base,
            forget,
        )
    # a merged branch holds no names the base dropped since (pass 14c: a teammate's `sops unset`)
    _refuse_dropped(
        repo, spec, before, None if branch_merged else reuse, names, (holder, repo.branch)
    )
    _refuse_worded_lost(
        repo, spec, plaintext, before, None if branch_merged else reuse, (holder, repo.branch)
    )
    altered = (*altered, *_dropped_unnamed(spec, before, None if branch_merged else reuse))
    mine = sops.read_metadata(reuse) if reuse is not None and reuse != before else None
    if reuse is not None and mine is not None:  # pass 11a: the branch's later values count too
        _refuse_older_values(repo, spec, reuse, mine, plaintext, repo.branch)
    if before is not None and meta is not None:
        kept = _same_values_as_committed(
            spec, config, before, meta, plaintext, names, reuse, recipients
        )
        if kept is not None:
            return kept
        # per name where the branch's fork is known (file times cannot tell a later `.env` edited
        # elsewhere from one saved to keep its values); pass 6's time rule where it is not
        _refuse_reverted(repo, spec, plaintext, before, fork, holder)
        if fork is None and earlier is not None:
            _refuse_known_stale(repo, spec, plaintext, before, earlier, holder)
        _refuse_older_values(repo, spec, before, meta, plaintext, holder)
        if meta.format != "dotenv":
            altered = (*altered, f"re-encrypted as dotenv (was sops {meta.format} format)")
    return _encrypted(spec, config, before, plaintext, names, altered, reuse, recipients)


def _check_rules(config: str, spec: EncryptSpec) -> None:
    for path in (spec.source, spec.target):
        if not sops.rule_matches(config, path):
            raise RepoError(
                f"no creation rule in .sops.yaml matches {path} (sops matches path_regex against the "
                "path it is given; fix the rule's path_regex)"
            )


_SOPS_VALUE = re.compile(rb"^[^#=\n]*=\s*['\"]?ENC\[AES256_GCM,data:", re.MULTILINE)


def _refuse_ciphertext_values(
    repo: RepoSpec, spec: EncryptSpec, plaintext: bytes, holder: tuple[str, bytes] | None
) -> None:
    """A "plaintext" file whose values are sops ciphertext (``NAME=ENC[AES256_GCM,…]``: the committed
    ``.env.enc`` copied without its ``sops_`` lines) would be encrypted again, and the real values lost
    with the data key that only the old file's metadata held (pass 10a). Line number only."""
    found = _SOPS_VALUE.search(plaintext)
    if found is not None:
        line = plaintext.count(b"\n", 0, found.start()) + 1
        # pass 25a: in the clone (pasted in another clone of the fleet, it wrote over that one's `.env`)
        how = (
            f" (`{_restore_command(replace(repo, branch=holder[0]), spec.target, _decrypt_stdin(holder[1], spec.target), spec.source)}`)"
            if holder
            else ""
        )
        raise RepoError(
            f"{spec.source}:{line}: the value is sops ciphertext (ENC[AES256_GCM,…]), not plaintext; "
            f"nothing replaced: put the decrypted values there{how}, or move {spec.source} away to "
            "keep the committed ciphertext as it is"
        )


def _refuse_emptied(spec: EncryptSpec, before: bytes | None, reuse: bytes | None) -> None:
    """A plaintext file with no variables is never taken as "the secrets are gone" when a committed
    ciphertext holds some: an emptied or truncated file (issue 13.1)."""
    metas = [sops.read_metadata(blob) for blob in (before, reuse) if blob is not None]
    held = max((len(m.names) for m in metas if m is not None), default=0)
    if held:
        raise RepoError(
            f"{spec.source} in the clone holds no variables, but the committed {spec.target} holds "
            f"{held}; nothing replaced (restore its values, or move it away to keep the committed "
            "ciphertext as it is)"
        )


# a value sops encrypted (an empty one has no data), on a line that is not sops' own MAC: dotenv
# `NAME=ENC[…]`, and (pass 12a) the JSON/YAML/INI a hand-made `.env.enc` may be in (`"NAME": "ENC[…]"`:
# a copy of .env.example encrypted 15 empty strings over a JSON .env.enc holding 15 values)
# (its line's spaces only: `\s*` ran on across every following blank line, so 1 MB of blank lines in a
# committed `.env.enc` held plan about an hour and a half, pass 22c's note)
_HELD_VALUE = re.compile(
    rb"^(?!sops_|[ \t]*\"?mac\"?[ \t]*[:=])[^\n]*ENC\[AES256_GCM,data:[^,\]]", re.MULTILINE
)


def _refuse_blanked(
    repo: RepoSpec,
    spec: EncryptSpec,
    plaintext: bytes,
    committed: tuple[bytes | None, str],
    reuse: bytes | None,
    at_base: tuple[str, Callable[[], bytes | None]] | None = None,
    forget: str | None = None,
) -> None:
    """A plaintext file whose every variable is empty (``.env.example`` copied to ``.env``, the step its
    own header asks for, before the values are filled in) never replaces a committed ciphertext that
    holds values: every secret would be encrypted as an empty string (pass 11a). sops leaves an empty
    value unencrypted (``NAME=``), so the committed file is read without a key.
    Round four: the same for a copy with SOME values filled in (the one being rotated): each name the
    committed ciphertext (any sops format) holds a value for and the plaintext leaves empty is named.
    ``committed`` is the base's ciphertext and the ref it was read at (the branch itself, when the
    branch is rebuilt on itself)."""
    before, before_ref = committed
    values = {name.strip(): value for name, value in _values(plaintext).items()}
    app = appenv.app_values(plaintext)  # what python-dotenv gives the app (round four)
    if all(_empty_to_the_app(value, name, app) for name, value in values.items()):
        counted = [
            (
                len(_HELD_VALUE.findall(blob)) - len(_stored_as_is(blob, values, spec.target)),
                ref,
                blob,
            )
            for blob, ref in ((reuse, repo.branch), (before, before_ref))
            if blob is not None
        ]
        held, holder, blob = max(counted, key=lambda c: c[0], default=(0, before_ref, b""))
        if held:
            raise RepoError(
                f"{spec.source} in the clone holds no values (every variable is empty or a bare `# …` placeholder: a copy of "
                f".env.example?), but the committed {spec.target} holds {held} value{'s' if held != 1 else ''}; "
                f"nothing replaced: fill them in (`{wording.git_in(repo.path)} show {_at(holder, spec.target)} | {_decrypt_stdin(blob, spec.target)}` prints the committed "
                f"ones), or move {spec.source} away to keep the committed ciphertext as it is"
            )
        return
    empty = {name for name, value in values.items() if _empty_to_the_app(value, name, app)}
    for held_blob, ref in ((before, before_ref), (reuse, repo.branch)):
        kept = _stored_as_is(held_blob, values, spec.target) if held_blob is not None else set()
        blanked = (
            [n for n in sopsmeta.names_with_values(held_blob) if n in empty and n not in kept]
            if held_blob is not None
            else []
        )
        if blanked and held_blob is not None:
            blanked = _held_for_the_app(spec.target, held_blob, blanked)
        if blanked:
            shown = _first(blanked)
            count = wording.count(len(blanked), "name")
            raise RepoError(
                f"{spec.source} in the clone leaves {count} empty (or a bare `# …` placeholder) that the committed {spec.target} on "
                f"{ref} holds values for ({shown}: a copy of .env.example not all filled in?); nothing "
                f"replaced: fill them in (`{wording.git_in(repo.path)} show {_at(ref, spec.target)} | {_decrypt_stdin(held_blob or b'')}` "
                f"prints the committed ones), or move {spec.source} away to keep the committed "
                f"ciphertext as it is; {_emptying_on_purpose(repo, spec, ref, blanked[0], held_blob, at_base, forget)}"
            )


def _held_for_the_app(target: str, blob: bytes, names: list[str]) -> list[str]:
    """``names`` less those whose committed value is empty to the app too, when a key can tell: sops
    stores `OPT=""` as the two bytes `""`, encrypted, which read without a key is a value (pass 14a
    left open: `OPT=""` written `OPT=` later was refused). No key: all of ``names`` (never guessed)."""
    try:
        committed = appenv.app_values(sops.decrypt_dotenv(blob, filename=target))
    except (ValueError, OSError, RolloutError):
        return names
    return [name for name in names if committed.get(name, b"x") != b""]


def _emptying_on_purpose(
    repo: RepoSpec,
    spec: EncryptSpec,
    ref: str,
    name: str,
    blob: bytes | None,
    at_base: tuple[str, Callable[[], bytes | None]] | None = None,
    forget: str | None = None,
) -> str:
    """How to empty a committed value on purpose, in a command that works where the file is: on the
    base it is in the clone's checkout (`sops set` writes it in place, in the file's own format:
    measured with sops 3.11 for dotenv, JSON and YAML); on the rollout branch alone, deleting the
    tool's branch lets the next apply encrypt the clone's file."""
    if ref != repo.branch:  # the base, or origin's copy of it
        index = shell_word(f'["{name}"]')
        fmt = sopsmeta.sops_format(blob or b"") or "dotenv"
        return (
            f"to empty one on purpose, run `sops set --input-type {fmt} --output-type {fmt} "
            f"{wording.path_word(spec.target)} {index} '\"\"'` in a checkout of {ref} and commit that"
        )
    delete = (
        forget
        or f"delete the rollout branch (`{wording.git_in(repo.path)} branch -D {shell_word(repo.branch)}`)"
    )
    if at_base is not None:
        # pass 14c: the branch merged (or built on a base holding the value too): deleting it alone
        # only moved the refusal to the base's copy
        base_name, read = at_base
        held = read()
        if held is not None and name in sopsmeta.names_with_values(held):
            on_base = _emptying_on_purpose(repo, spec, base_name, name, held)
            return f"{on_base}, then {delete} and apply again"
    return f"to empty them on purpose, {delete} and apply again"


_STORED_VALUE = re.compile(
    rb"^([^#=\n][^=\n]*)=ENC\[AES256_GCM,data:([A-Za-z0-9+/=]*),", re.MULTILINE
)


def _stored_as_is(blob: bytes, values: dict[str, bytes], filename: str) -> set[str]:
    """The names whose value in the plaintext is quotes alone, empty to the app but not to sops
    (``NAME=""``, ``NAME=''``: sops stores the text after ``=`` as it is, quotes included) and whose committed
    dotenv ciphertext is exactly as long (AES-GCM: as many bytes as the text): the same text, most
    likely, so not a value being blanked. Pass 14a: a `.env` with `OPTIONAL=""` was refused at every
    apply after the first ("leaves 1 name empty that the committed .env.enc holds values for"), and
    deleting the branch as advised only started the loop again. Pass 15: the length alone took a
    committed two-byte value (`42`, `ok`) blanked with `""` for the quotes kept as they were, so a
    length match is confirmed by decrypting the committed file (the key the apply's own round trip
    needs anyway); one that does not decrypt is not taken for the same text."""
    import base64
    import binascii

    raw = {name.strip(): value for name, value in values.items()}
    same: set[str] = set()
    for found in _STORED_VALUE.finditer(blob):
        name = found.group(1).decode("utf-8", "replace").strip()
        value = raw.get(name)
        if value is None or not value.strip() or value.strip().strip(b"\"'"):
            continue  # quotes alone: a self-reference or a comment could be a real value's length
        try:
            stored = len(base64.b64decode(found.group(2), validate=True))
        except (binascii.Error, ValueError):
            continue
        if stored == len(value):
            same.add(name)
    if same:
        committed = _decrypt_or_none(blob, filename)
        held = {n.strip(): v for n, v in _values(committed).items()} if committed else {}
        # `""` committed, `''` now (or the reverse): both empty to the app, neither a value blanked
        same = {name for name in same if _empty_to_the_app(held.get(name, b"x"), name)}
    return same


def _read_at_base(onto, base: str, path: str) -> bytes | None:
    """``path`` on the base branch itself (``onto`` is the rollout branch when it sits on the base)."""
    try:
        return gitrepo.read_blob(gitrepo.base_commit(onto.repo, base), path)
    except RolloutError:
        return None


def _empty_to_the_app(value: bytes, name: str = "", app: dict[str, bytes] | None = None) -> bool:
    """``value`` (as written after ``NAME=``) is empty to python-dotenv: blank, ``""`` or ``''``, and
    (pass 12a) a quoted empty value followed by a comment, ``NAME=""  # your token here``, the way a
    hand-written `.env.example` documents its names (15 of them were encrypted over the values).
    Round four: whatever python-dotenv reads as empty (``app``: :func:`appenv.app_values`):
    ``NAME=${NAME}``, ``NAME=${OTHER_UNSET}`` (an example's "taken from the environment", unset in a
    fresh shell); and the placeholder ``NAME=  # your token here``, whose comment text python-dotenv
    gives the app (no secret); sops would encrypt the literal text over the committed value."""
    text = value.strip()
    if not text.strip(b"\"'").strip():
        return True
    quote = text[:1]
    if quote in (b'"', b"'") and text[1:2] == quote:
        rest = text[2:].strip()
        if rest.startswith(b"#"):
            return True
    return app is not None and app.get(name) == b""


def _refuse_dropped(
    repo: RepoSpec,
    spec: EncryptSpec,
    before: bytes | None,
    reuse: bytes | None,
    names: tuple[str, ...] | list[str],
    refs: tuple[str, str],
) -> None:
    """A committed ciphertext holding names the clone's plaintext lacks is never replaced by it: a
    secret added with `sops edit` after the .env was written, or a truncated .env, would be lost
    (sops keeps names in plaintext, so this is read without a key)."""
    have = set(names)
    # pass 11a: the command names the ref holding the file (`sops decrypt .env.enc` in the clone found
    # no such file: the ciphertext is on a branch, not in the working tree)
    base_words = "on the base branch" if refs[0] != refs[1] else "on the rollout branch"
    places = ((base_words, before, refs[0]), ("on the rollout branch", reuse, refs[1]))
    for where, blob, ref in places:
        if blob is not None:  # a file naming a Vault or cloud key is refused as such first
            sops.check_age_only(blob, spec.target)
        meta = sops.read_metadata(blob) if blob is not None else None
        # pass 27b: a name shaped like a credential the clone's plaintext lacks is dropped, not
        # refused (it can be in no `.env`: its parser refuses it; `encrypted_change` says so)
        held = dotenv.named(meta.names) if meta is not None else ()
        lacking = [n for n in held if n not in have]
        if lacking:
            shown = _first(lacking)
            raise RepoError(
                f"{spec.target} {where} holds {len(lacking)} name"
                f"{'s' if len(lacking) != 1 else ''} that {spec.source} in the clone lacks "
                f"({shown}); nothing replaced: bring them into {spec.source} (`{wording.git_in(repo.path)} show "
                f"{_at(ref, spec.target)} | {_decrypt_stdin(blob or b'')}` prints the committed ones), or move "
                f"{spec.source} away to keep the committed ciphertext as it is"
            )


def _refuse_worded_lost(
    repo: RepoSpec,
    spec: EncryptSpec,
    plaintext: bytes,
    before: bytes | None,
    reuse: bytes | None,
    refs: tuple[str, str],
) -> None:
    """A committed name that is no identifier but words (`stripe-webhook-secret`, a teammate's `sops
    set`) holding a value the clone's plaintext lacks is never dropped: `.env` cannot hold that name,
    so its value must be there under a variable name first (pass 27d: lead 31's drop of names `.env`
    cannot hold took it for a pasted token and dropped it, "rotate that credential"). Never shown: a
    passphrase is words too. Without a key it cannot be compared, and counts as lacking."""
    # pass 28a: as written and as the app reads it: a value with a blank, added to `.env` quoted
    # (`DB_PASSWORD="p@ss word"`, as the refusal asked), was refused again and again
    apps = appenv.app_values(plaintext)
    mine = [*_values(plaintext).items(), *apps.items()]
    for blob, ref in ((before, refs[0]), (reuse, refs[1])):
        meta = sops.read_metadata(blob) if blob is not None else None
        if blob is None or meta is None:
            continue
        worded = [n for n in sopsmeta.names_with_values(blob) if dotenv.worded(n)]
        if not worded:
            continue
        try:
            committed = sops.decrypt_dotenv(blob, filename=spec.target)
            held, app = _values(committed), appenv.app_values(committed)
        except (ValueError, OSError, RolloutError):
            held, app = {}, {}
        # carried: under a name of the plaintext's that the committed file lacks, or holds with
        # another value (pass 29a: `twine.password`'s value set as `TWINE_PASSWORD`, the variable
        # it stands for, as the refusal asked, was refused the same every time); a value the same by
        # chance under a name both hold with it, `DEBUG=true` beside `feature.flag=true`, is no carry
        have = {
            value
            for name, value in mine
            if value and (name not in held or apps.get(name) != app.get(name))
        }
        lost = [
            n
            for n in worded
            if held.get(n, b"") not in have
            and app.get(n, b"") not in have
            and not _under_its_variable(n, app.get(n), apps)
        ]
        if lost:
            raise RepoError(
                f"{spec.target} on {ref} holds {wording.count(len(lost), 'name')} that "
                f"{spec.source} cannot hold (words joined by '.' or '-', not shown) with a value "
                f"{spec.source} in the clone lacks; nothing replaced: add "
                f"{'each value' if len(lost) != 1 else 'its value'} to {spec.source} under a "
                f"variable name (letters, digits, _; `{wording.git_in(repo.path)} show "
                f"{_at(ref, spec.target)} | {_decrypt_stdin(blob)}` prints the committed ones), "
                "then plan again"
            )


def _under_its_variable(name: str, value: bytes | None, apps: dict[str, bytes]) -> bool:
    """Whether the plaintext holds the worded ``name``'s ``value`` (as the app reads both) under the
    variable it stands for: its words upper-cased and joined by ``_`` (`twine.password`,
    `stripe.webhookSecret`: `TWINE_PASSWORD`, `STRIPE_WEBHOOK_SECRET`). Pass 29a: a teammate's
    alias beside that variable, with the same value, was refused for ever, "add its value to .env
    under a variable name" (it was there; a name both hold with one value was no carry)."""
    words = re.split(r"[.-]", name)
    variables = {
        "_".join(words).upper(),
        "_".join(re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", w) for w in words).upper(),
    }
    return bool(value) and any(apps.get(v) == value for v in variables)


def _refuse_older_values(
    repo: RepoSpec,
    spec: EncryptSpec,
    before: bytes,
    meta: sops.SopsMetadata,
    plaintext: bytes,
    holder: str | None = None,
) -> None:
    """The clone's plaintext holds other values than the base's ciphertext, and sops last wrote that
    ciphertext AFTER the plaintext file was last saved: a value changed with `sops edit` on the base (a
    rotated credential) would be put back to the stale one (pass 6). Names only, never a value.
    Pass 11a: the same for the rollout branch's ciphertext (``holder``: the ref holding ``before``; an
    older `.env` copied back with its time kept put a value rotated on the branch back), and the
    command given works when pasted (the file is on a branch, not in the working tree)."""
    holder = holder or repo.base
    try:
        written = datetime.fromisoformat(meta.lastmodified.replace("Z", "+00:00"))
        saved = datetime.fromtimestamp(os.lstat(repo.path / spec.source).st_mtime, UTC)
    except (ValueError, OSError):
        return  # no time to compare
    if written <= saved.replace(microsecond=0) or written > datetime.now(UTC):
        return  # the plaintext was saved later (its values are the newer ones), or a clock was wrong
    try:  # decrypted only now: one sops run less per repo when the plaintext is the later
        committed = sops.decrypt_dotenv(before, filename=spec.target)
    except (ValueError, OSError, RolloutError):
        return  # no key: the plan says the values could not be compared
    old, new = _values(committed), _values(plaintext)
    changed = [name for name in old if name in new and old[name] != new[name]]
    if not changed:
        return
    shown = _first(changed)
    raise RepoError(
        f"{spec.target} on {holder} was written by sops at {meta.lastmodified}, after {spec.source} "
        f"in the clone was last saved ({saved:%Y-%m-%dT%H:%M:%SZ}), and holds other values for "
        f"{wording.count(len(changed), 'name')} ({shown}); nothing replaced: bring the "
        f"newer values into {spec.source} (`{wording.git_in(repo.path)} show {_at(holder, spec.target)} | {_decrypt_stdin(before)}` prints "
        f"them), or, if the values in {spec.source} are the ones to keep, save it again "
        f"(`touch {spec.source}`)"
    )


def _refuse_reverted(
    repo: RepoSpec,
    spec: EncryptSpec,
    plaintext: bytes,
    before: bytes,
    fork: bytes | None,
    holder: str,
) -> None:
    """A value changed on the base since the branch was built on it (a teammate's `sops edit`, a
    rotation merged there) is never put back by a plaintext file that holds another value for it
    (round four, pass 13a: the user edited another name in `.env`, which was then the later file, so
    file times said nothing, and the teammate's value went back to the old one). Three-way, per
    name: the base's ciphertext now, the one the branch was built on (``fork``), the plaintext.
    Decrypted only when the base's file changed since; names only, never a value."""
    if fork is None or before == fork:
        return
    try:
        now = _values(sops.decrypt_dotenv(before, filename=spec.target))
        then = _values(sops.decrypt_dotenv(fork, filename=spec.target))
    except (ValueError, OSError, RolloutError):
        return  # no key: the values cannot be compared
    mine = {name.strip(): value for name, value in _values(plaintext).items()}
    changed = [
        name
        for name, value in now.items()
        if then.get(name) != value and name in mine and mine[name] != value
    ]
    # pass 14c: a name removed on the base since (a revoked secret, `sops unset`) came back from `.env`
    removed = [name for name in then if name not in now and name in mine]
    if removed and not changed:
        shown = _first(removed)
        count = wording.count(len(removed), "name")
        them = "them" if len(removed) != 1 else "it"
        raise RepoError(
            f"{spec.target} on {holder} removed {count} since {repo.branch} was built on it "
            f"({shown}), and {spec.source} in the clone still holds "
            f"{them}; nothing replaced: remove {them} from {spec.source}, or, to keep {them}, put "
            f"{them} back into {spec.target} on {holder} (`{_sops_edit(spec, before)}` in a checkout "
            "of it) and commit that"
        )
    if not changed:
        return
    shown = _first(changed)
    count = wording.count(len(changed), "name")
    raise RepoError(
        f"{spec.target} on {holder} changed the value of {count} since {repo.branch} was built on "
        f"it ({shown}), and {spec.source} in the clone holds another; nothing replaced: "
        f"{_bring_or_keep(repo, spec, holder, before)}"
    )


def _refuse_known_stale(
    repo: RepoSpec,
    spec: EncryptSpec,
    plaintext: bytes,
    before: bytes,
    earlier: Callable[[], list[tuple[bytes, bool]]],
    holder: str,
) -> None:
    """Where no fork is known (pass 14c: the rollout branch deleted after its merge, as `rollout cleanup`
    does, or squash-merged, so the fork predates the file), a plaintext value that an earlier commit of
    the base's ciphertext held, and a later one replaced, is a stale copy: a teammate's `sops edit` on
    the base would be put back. Read from the base's history of the file (bounded); names only.
    Pass 15: when every later commit that changed a name's value was yours through the tool (your own
    rotation, merged), the older value in `.env` is your own rollback, not a stale copy."""
    mine = {name.strip(): value for name, value in _values(plaintext).items()}
    try:
        now = _values(sops.decrypt_dotenv(before, filename=spec.target))
    except (ValueError, OSError, RolloutError):
        return  # no key: the values cannot be compared
    # a name the base removed since counts too (`sops unset` of a revoked secret)
    differ = {name for name, value in mine.items() if now.get(name) != value}
    stale: list[str] = []
    # per name, whether a later commit that changed its value was someone else's: newest first, each
    # version is compared with the one after it, written by `newer_yours`
    others: set[str] = set()
    newer: dict[str, bytes] | None = now
    newer_yours = False  # the writer of the base's version, until the history names it
    for blob, yours in earlier() if differ else []:
        if blob == before:
            newer, newer_yours = now, yours
            continue
        try:
            then = (
                _values(sops.decrypt_dotenv(blob, filename=spec.target))
                if sops.read_metadata(blob) is not None
                else None
            )
        except (ValueError, OSError, RolloutError):
            then = None  # an older recipient set: not this key's to read
        if not newer_yours:
            others |= {
                n for n in differ if newer is None or then is None or then.get(n) != newer.get(n)
            }
        if then is not None:
            stale += [
                n for n in differ if n in others and n not in stale and then.get(n) == mine[n]
            ]
            if len(stale) == len(differ):
                break
        newer, newer_yours = then, yours
    if not stale:
        return
    stale = [n for n in mine if n in stale]
    shown = _first(stale)
    count = wording.count(len(stale), "name")
    raise RepoError(
        f"{spec.source} in the clone holds, for {count} ({shown}), the value an earlier commit of "
        f"{spec.target} on {holder} held, and {holder} has changed or removed it since (a `sops edit` "
        f"there?); nothing replaced: {_bring_or_keep(repo, spec, holder, before)}"
    )


def _sops_edit(spec: EncryptSpec, blob: bytes) -> str:
    """The `sops edit` of ``spec.target`` in the format ``blob`` (the committed file) is in."""
    fmt = sopsmeta.sops_format(blob) or "dotenv"
    # a target starting with `-` was read by sops as an option ("flag provided but not defined")
    return f"sops edit --input-type {fmt} --output-type {fmt} {wording.path_word(spec.target)}"


def _bring_or_keep(repo: RepoSpec, spec: EncryptSpec, holder: str, before: bytes) -> str:
    """The two ways out of a refusal over values ``holder``'s ciphertext changed since: take them into
    the plaintext, or put the plaintext's into the ciphertext there."""
    return (
        f"bring the values from {holder} into {spec.source} (`{wording.git_in(repo.path)} show {_at(holder, spec.target)} | "
        f"{_decrypt_stdin(before)}` prints them), or, to keep yours, put them into {spec.target} on "
        f"{holder} (`{_sops_edit(spec, before)}` in a checkout of it) and commit that"
    )


def _first(names: list[str], most: int = 5) -> str:
    """The first ``most`` of ``names``, comma-separated, with ``…`` when there are more."""
    return ", ".join(names[:most]) + (", …" if len(names) > most else "")


def _values(text: bytes) -> dict[str, bytes]:
    """NAME -> value of a dotenv text as sops reads it (the first ``=`` splits; comments skipped), by
    the bare name (pass 14c: `export NAME=` in `.env` was another name than the committed `NAME`, so
    its empty value was encrypted over the committed one, and a stale one over a teammate's)."""
    out: dict[str, bytes] = {}
    for line in text.splitlines():
        if line and not line.startswith(b"#") and b"=" in line:
            name, _, value = line.partition(b"=")
            out[dotenv.bare_name(name.decode("utf-8", "replace"))] = value
    return out


def _committed_metadata(
    repo: RepoSpec, spec: EncryptSpec, before: bytes, ref: str
) -> sops.SopsMetadata:
    meta = sops.read_metadata(before)
    if meta is None and sopsmeta.is_lfs_pointer(before):
        raise RepoError(_lfs_pointer_at(spec.target, ref))
    if meta is None:
        raise RepoError(
            f"{spec.target} at {repo.base} has no sops metadata: it may be plaintext (remove it from git and rotate the secrets)"
        )
    return meta


def _lfs_pointer_at(path: str, ref: str) -> str:
    """``path`` at ``ref`` is a Git LFS pointer, with the way out; where ``ref`` is origin's copy of
    the base (what the tool builds on when the clone has it), the file committed must be pushed
    there too (pass 28a: committed on main alone, plan was refused the same)."""
    return f"{path} at {ref} {sopsmeta.lfs_note(ref)}"


def _kept_without_plaintext(
    spec: EncryptSpec,
    config: str,
    before: bytes,
    meta: sops.SopsMetadata,
    reuse: bytes | None,
    recipients: tuple[str, ...],
) -> FileChange:
    """No plaintext in the clone, the base holds the ciphertext: kept, converted to dotenv or re-keyed."""
    if meta.format != "dotenv" or set(meta.recipients) != set(recipients):
        # both need sops to open it: a file naming a Vault or cloud key is refused as such, never
        # "needs a private key" (the refusal was swallowed by _decrypt_or_none; pass 10b)
        sops.check_age_only(before, spec.target)
    if (
        meta.format != "dotenv"
    ):  # sops' YAML/JSON/INI output under a dotenv name: the same values, as dotenv
        return _as_dotenv(
            spec,
            config,
            before,
            meta.format,
            _decrypt_or_none(before, spec.target),
            reuse,
            recipients,
        )
    if set(meta.recipients) != set(recipients):
        previous = _decrypt_or_none(before, spec.target)
        if (
            previous is not None
            and reuse is not None
            and _same(reuse, previous, recipients, spec.target)
        ):
            return _rewrapped(spec, before, reuse, meta.recipients, recipients)
        return _rekeyed(spec, config, before, meta.recipients, recipients)
    why = f"no {spec.source} in the clone; {spec.target} kept as is"
    return FileChange(spec.target, UNCHANGED, before, before, why, secret=True, detail=why)


def _branch_ciphertext_first(
    repo: RepoSpec,
    spec: EncryptSpec,
    config: str,
    before: bytes,
    meta: sops.SopsMetadata,
    reuse: bytes,
    recipients: tuple[str, ...],
    base_edited: bool = False,
    before_ref: str | None = None,
    forget: str | None = None,
) -> FileChange | None:
    """No plaintext in the clone; the base and the rollout branch hold different ciphertexts, the
    branch's never in the base's history. ``forget``: how to make the tool forget the branch's
    copy, where `git branch -D` would not do (pass 24a: the branch deleted here, or holding a
    reviewer's commit).
    The branch's is kept when sops wrote it after the base's (a value changed in the .env, applied, and
    the .env then moved away); the repo is refused when the base's is the later one (the branch's never
    reached the base: each holds changes the other lacks). Pass 10a: the base's ciphertext was taken
    "as is", silently dropping the branch's values, the only committed copy of them. Pass 11a: the
    branch's later one is kept only when the base's did not change since the branch was built on it
    (``base_edited``): a teammate's `sops edit` on the base (a name added, a value rotated) was dropped."""
    mine = sops.read_metadata(reuse)
    if mine is None:
        return None
    sops.check_age_only(reuse, spec.target)
    later = _sops_time(mine.lastmodified) > _sops_time(meta.lastmodified)
    # refused on both paths, kept or not (pass 28a: a name shaped like a credential in the branch's
    # copy was carried silently into the commit rebuilt on a moved base, refused only once the
    # branch sat on it again); an entry `enabled: false` never reads the plaintext the way out
    # brings back, so it is kept as the base's is (pass 29b: "… delete that line there, and plan
    # again: .env.enc is then encrypted from .env", followed, was refused the same for ever)
    held = _committed_names(repo, spec, reuse, repo.branch, mine) if spec.enabled else mine.names
    if not base_edited:
        # the base's has not changed since the branch was built on it: the branch's is the newer
        # state, whatever sops' clock says (pass 11a: `updatekeys` keeps lastmodified, so a
        # `rotate --add` without the plaintext, then main moving on, was refused as "never on main")
        how = (
            f"sops wrote it after the one on {repo.base}"
            if later
            else f"built on {repo.base}, whose {spec.target} has not changed since"
        )
        why = f"no {spec.source} in the clone; {spec.target} kept from {repo.branch} ({how})"
        if set(mine.recipients) == set(recipients):
            return FileChange(spec.target, UPDATE, before, reuse, why, secret=True, detail=why)
        rekeyed = _rekeyed(spec, config, reuse, mine.recipients, recipients)
        return replace(rekeyed, before=before, detail=f"{rekeyed.detail}; {why}")
    lacking = [n for n in held if n not in set(meta.names)]
    what = (
        f"was written after the one on {repo.base}, but {spec.target} on {repo.base} changed too "
        f"since {repo.branch} was built on it (a `sops edit` there?): each holds changes the other lacks"
        if later
        else f"holds {wording.count(len(lacking), 'name')} that {spec.target} on {repo.base} lacks"
        if lacking
        else f"was never on {repo.base} (its values may differ from the later one there)"
    )
    # pass 29e: an entry `enabled: false` never reads the plaintext, so values brought into it
    # alone were refused the same for ever: the way out turns the entry on again too
    on_again = (
        ""
        if spec.enabled
        else f" and turn its `encrypt:` entry on again (`enabled: true`: off, {spec.source} is never read)"
    )
    raise RepoError(
        f"{spec.target} on {repo.branch} {what}, and there is no {spec.source} in the clone: "
        f"rebuilding on {repo.base} would drop it; nothing replaced: bring the values of both into "
        f"{spec.source}{on_again} (`{wording.git_in(repo.path)} show {_at(repo.branch, spec.target)} | {_decrypt_stdin(reuse)}` prints the "
        f"branch's, `{wording.git_in(repo.path)} show {_at(before_ref or repo.base, spec.target)} | {_decrypt_stdin(before)}` the base's), then plan "
        f"again; to keep only the base's, "
        + (
            forget
            or f"delete the branch (`{wording.git_in(repo.path)} branch -D {shell_word(repo.branch)}`)"
        )
    )


_DECRYPT_STDIN = "sops decrypt --input-type dotenv --output-type dotenv /dev/stdin"


def _rebuilt_without(
    repo: RepoSpec, spec: EncryptSpec, ref: str, blob: bytes, worded: bool | None = False
) -> str:
    """The way out of a committed ciphertext at ``ref`` holding a name shaped like a credential, with
    no plaintext in the clone: its values written into the plaintext, that line deleted there (a
    ``worded`` one, a real variable's: renamed there, its value kept; None: both kinds), and the
    ciphertext encrypted again without it (pass 27b: `sops edit TARGET` named no clone nor ref, and pasted in the clone
    failed while the file was on the rollout branch only)."""
    restore = _restore_command(
        replace(repo, branch=ref), spec.target, _decrypt_stdin(blob, spec.target), spec.source
    )
    edit = (
        "give that line a variable name there (letters, digits, _)"
        if worded
        else "delete that line there"
        if worded is False
        else "delete the credential's line there and give each line whose name is words joined by "
        "'.' or '-' a variable name (letters, digits, _)"
    )
    return (
        f"write its values into {spec.source} in the clone (`{restore}`), {edit}, "
        f"and plan again: {spec.target} is then encrypted from {spec.source}, without it"
    )


def _committed_names(
    repo: RepoSpec,
    spec: EncryptSpec,
    blob: bytes,
    ref: str,
    meta: sops.SopsMetadata | None = None,
    *,
    where: str = "",
) -> tuple[str, ...]:
    """The names of the committed ciphertext ``blob`` at ``ref`` (``meta``: its metadata, if read);
    one shaped like a credential or no variable name is refused with the way out that removes it
    (lead 31: a ciphertext kept as it is, with no plaintext in the clone, holding one, failed verify,
    and verify's way out, plan then apply, found the file "unchanged")."""
    meta = meta or sops.read_metadata(blob)
    if meta is None:
        return ()
    return dotenv.held_names(
        meta.names,
        spec.target,
        where or f"on {ref}",
        partial(_rebuilt_without, repo, spec, ref, blob),
    )


def _dropped_unnamed(spec: EncryptSpec, *blobs: bytes | None) -> tuple[str, ...]:
    """What the plan says of committed names shaped like a credential (or no variable name) that the
    clone's plaintext lacks: the ciphertext encrypted from it drops them (never shown)."""
    metas = [m for m in map(sops.read_metadata, filter(None, blobs)) if m is not None]
    most = max(metas, key=lambda m: dotenv.unnamed(m.names), default=None)
    dropped = dotenv.unnamed(most.names) if most is not None else 0
    if most is None or not dropped:
        return ()
    words = sum(map(dotenv.worded, most.names))
    if dropped == words:  # pass 27d: their values are in the source
        return (
            f"drops {wording.count(dropped, 'name')} of words joined by '.' or '-' (not shown), "
            f"whose value{'s' if dropped != 1 else ''} {spec.source} holds under a variable name",
        )
    if words:  # pass 28e: the worded ones beside a credential were called credentials too
        return (
            f"drops {wording.count(dropped, 'name')} shaped like a credential or no variable name "
            f"(not shown): {words} of words joined by '.' or '-', whose "
            f"value{'s' if words != 1 else ''} {spec.source} holds under a variable name, and "
            f"{dropped - words} {spec.source} lacks (sops kept "
            f"{'it' if dropped - words == 1 else 'them'} in clear, readable in git's history: "
            f"rotate {'that credential' if dropped - words == 1 else 'those credentials'})",
        )
    return (
        f"drops {wording.count(dropped, 'name')} shaped like a credential or no variable name, "
        f"which {spec.source} lacks (not shown; sops kept it in clear, readable in git's history: "
        "rotate that credential)",
    )


def _at(ref: str, path: str) -> str:
    """``REF:PATH`` as one shell word (pass 12a: a branch named `chore/x;id`, which git allows, made
    the printed `git show` run `id` when pasted), the ref named in full: ``refs/heads/`` for a branch,
    ``refs/remotes/`` for ``origin/…`` (the names the lines pass here). Pass 21d: git reads a short
    name as a tag before a branch (refs/tags/NAME first), and a tag named like the rollout branch,
    pushed by anyone who can push and fetched with the commit it names, made the pasted `git show
    chore/sops-age-rollout:.env.enc | sops decrypt … > .env` write that person's values into `.env`."""
    if not ref.startswith("refs/") and not _COMMIT_ID.fullmatch(ref):
        ref = ("refs/remotes/" if ref.startswith("origin/") else "refs/heads/") + ref
    return shell_word(f"{ref}:{path}")


_COMMIT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _decrypt_into(decrypt: str, path: str, *, only_new: bool = False) -> str:
    """``decrypt`` (a sops command reading /dev/stdin) writing ``path`` itself: sops writes ``--output``
    only once it has decrypted (measured, sops 3.11), where `> FILE` made an empty file first, left
    behind when sops failed (pass 21d's note: an empty `.env` then silenced the only-copy warning).
    Pass 22a: in a subshell with `umask 077`: sops creates the file with the shell's umask (0644 under
    the usual 022: the secrets readable by every account on the machine); the shell's own umask is
    left as it was. ``only_new``: sops writes only while no file (nor link) is at ``path`` (pass
    25d: printed while the clone had no `.env`, then a new one written with rotated values, the
    pasted line wrote the branch's older values over it)."""
    written = decrypt.replace(" /dev/stdin", f" --output={shell_word(path)} /dev/stdin")
    word = shell_word(path)
    # pass 25g: stopped by a file there now, the line said nothing (exit 1): the user took the
    # values for restored
    said = shell_word("a file is there now (written since this line was printed): nothing done")
    absent = f"test ! -e {word} && test ! -L {word} || ! echo >&2 {said} && " if only_new else ""
    return f"(umask 077 && {absent}{written})"


def _decrypt_stdin(blob: bytes, rel: str = "the committed ciphertext") -> str:
    """The sops command that prints ``blob`` piped in, in the format it is in (pass 12a: a JSON or YAML
    `.env.enc` piped to `--input-type dotenv` failed "invalid dotenv input line: {"). Pass 21e: never
    for a file naming master keys besides age (SopsError, as when the tool would hand it to sops): a
    `.env.enc` on origin's rollout branch (anyone who can push it) with an `hc_vault` key and a `.env`
    without values made `rollout plan` print "fill them in (`git show … | sops decrypt …`)", and the
    pasted command sent the user's VAULT_TOKEN to the address the file gave."""
    sops.check_age_only(blob, rel)
    fmt = sopsmeta.sops_format(blob) or "dotenv"
    return _DECRYPT_STDIN.replace("--input-type dotenv", f"--input-type {fmt}")


def _sops_time(stamp: str) -> datetime:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _same_values_as_committed(
    spec: EncryptSpec,
    config: str,
    before: bytes,
    meta: sops.SopsMetadata,
    plaintext: bytes,
    names: list[str],
    reuse: bytes | None,
    recipients: tuple[str, ...],
) -> FileChange | None:
    """The change when the committed ciphertext already holds ``plaintext``; None when the values differ."""
    try:
        same = sops.decrypt_dotenv(before, filename=spec.target) == plaintext
    except sops.SopsError as err:
        if set(meta.recipients) != set(recipients) or list(meta.names) != names:
            raise RepoError(f"{spec.target}: cannot compare with {spec.source}: {err}") from None
        why = f"same variable names and recipients; could not compare values ({err})"
        return FileChange(spec.target, UNCHANGED, before, before, why, secret=True, detail=why)
    if not same:
        return None
    if meta.format != "dotenv":
        return _as_dotenv(spec, config, before, meta.format, plaintext, reuse, recipients)
    if set(meta.recipients) == set(recipients):
        return FileChange(
            spec.target, UNCHANGED, before, before, f"decrypts to {spec.source}", secret=True
        )
    if reuse is not None and _same(reuse, plaintext, recipients, spec.target):
        return _rewrapped(spec, before, reuse, meta.recipients, recipients)
    return _rekeyed(spec, config, before, meta.recipients, recipients)


def _rewrapped(
    spec: EncryptSpec, before: bytes, reuse: bytes, old: tuple[str, ...], new: tuple[str, ...]
) -> FileChange:
    """The rollout branch already holds the same values wrapped for the manifest's recipients: reused."""
    return FileChange(
        spec.target,
        UPDATE,
        before,
        reuse,
        "re-wrapped for the manifest's recipients",
        secret=True,
        detail=_rekey_detail(old, new),
    )


def _encrypted(
    spec: EncryptSpec,
    config: str,
    before: bytes | None,
    plaintext: bytes,
    names: list[str],
    altered: tuple[str, ...],
    reuse: bytes | None,
    recipients: tuple[str, ...],
) -> FileChange:
    """``plaintext`` encrypted (or the rollout branch's ciphertext when it holds the same), checked by a round trip."""
    if _same(reuse, plaintext, recipients, spec.target):
        after = reuse
    else:
        after = sops.encrypt_dotenv(plaintext, sops_config=config, filename=spec.target)
        try:
            check = sops.decrypt_dotenv(after, filename=spec.target)
        except RolloutError as err:
            raise RepoError(f"{spec.target}: cannot verify the encryption ({err})") from None
        if check != plaintext:
            raise RepoError(
                f"{spec.target}: sops did not round-trip {spec.source} faithfully; nothing written"
            )
    _every_value_sealed(spec.target, after)
    return FileChange(
        spec.target,
        CREATE if before is None else UPDATE,
        before,
        after,
        f"encrypted from {spec.source}",
        secret=True,
        detail=_names_detail(spec.source, names, altered),
    )


def _kept_from_branch(
    repo: RepoSpec, spec: EncryptSpec, config: str, committed: bytes, recipients: tuple[str, ...]
) -> FileChange:
    """No plaintext in the clone, but the rollout branch holds the ciphertext: it is the source of
    truth, so the rebuilt branch keeps it (re-keyed with ``sops updatekeys`` if the recipients changed)."""
    meta = sops.read_metadata(committed)
    if meta is None:
        raise RepoError(
            f"{spec.target} on {repo.branch} has no sops metadata and there is no {spec.source} "
            "in the clone to encrypt again (put the plaintext back, or delete that branch)"
        )
    if set(meta.recipients) == set(recipients):
        why = f"no {spec.source} in the clone; {spec.target} kept from {repo.branch}"
        return FileChange(spec.target, CREATE, None, committed, why, secret=True, detail=why)
    rekeyed = _rekeyed(spec, config, committed, meta.recipients, recipients)
    return replace(
        rekeyed,
        action=CREATE,
        before=None,
        detail=f"{rekeyed.detail} of {spec.target} kept from {repo.branch} (no {spec.source} in the clone)",
    )


def _ciphertext_only_on(branch, skip: set[str], *bases) -> Iterator[str]:
    """The sops-encrypted ``.enc`` files of ``branch`` outside ``skip`` that none of ``bases`` holds:
    what rebuilding the branch on a base would drop."""
    for path in gitrepo.list_paths(branch):
        if not path.endswith(".enc") or path in skip:
            continue
        if any(gitrepo.read_blob(base, path) is not None for base in bases):
            continue
        blob = gitrepo.read_blob(branch, path)
        if blob is not None and sops.read_metadata(blob) is not None:
            yield path


def only_copy_words(repo: RepoSpec, tip, base, history=...) -> str:
    """What deleting the rollout branch ``tip`` would lose, said where a `blocked` line offers to delete
    it: each sops-encrypted file it holds that ``base`` does not (nor ever did, as is) and whose
    plaintext is not in the clone; "" when there is none. Pass 21a: after main was force-pushed back (or
    a reviewer's commit on top), "merge or delete that branch" was the way out, and deleting it left the
    ciphertext on no ref once the `.env` had been moved away. Pass 21d: only the first such file was
    named (a second `encrypt:` entry's ciphertext was lost by following the advice), and a file no
    `encrypt:` entry names (its target renamed) was offered with `> .env` though a `.env` was in the
    clone: pasted, it wrote the branch's older values over the user's plaintext; a reviewer's nested
    sops YAML file was offered `--output-type dotenv` (sops refuses nested values: the command failed
    and left an empty file), and a file in a folder the clone lacks `> folder/file` (no such file).
    ``history``: the commit whose history holds what is safe (``base`` unless given; None: none).
    Pass 23a: after a squash merge, cleanup compares with the merged PR's head (what the base got),
    whose own history never reached the base: a value the branch went back to (a reviewer's revert)
    was taken for "on the base", and `cleanup --force` deleted its only copy."""
    if history is ...:
        history = base
    sources = {e.target: e.source for e in repo.encrypt}
    held = _maybe_sops(tip, base)
    lost = []
    taken: set[str] = set()  # the files the commands write: each its own (pass 21e)
    for path in sorted(held | set(sources), key=lambda p: (p not in sources, p)):
        blob = _readable(tip, path)
        if blob is None or sopsmeta.sops_format(blob) is None:
            continue
        # no base (pass 22a: renamed, `base:` not yet following): nothing is on it
        at_base = _readable(base, path) if base is not None else None
        if at_base == blob or (
            history is not None and gitrepo.blob_in_history(history, path, blob)
        ):
            continue
        into = sources.get(path) or _plain_name(path)
        there = _plaintext_there(repo.path / into) or _leads_out(repo.path, into)
        left_out = _not_its_values(repo, into, path, blob) if there == "at hand" else ""
        if there == "at hand" and not left_out:
            # the plaintext is at hand (the next apply encrypts it again), or a file the command would
            # write over: never offered
            continue
        why = "lacks it" if at_base is None else "holds another version"
        if left_out:
            # pass 22a: a `.env` copied from .env.example (or a comment, or one value of several)
            # stood for the plaintext at hand: apply refuses it, and `cleanup --force` deleted the
            # branch's only copy; the values come back into a file of their own, never over it
            why += f" and {into} in the clone {left_out}"
        if into in taken or left_out:
            # pass 21e: the old target `.env.enc` (renamed to `config/.env.enc`) and the new one both
            # came back `> .env`: pasted in turn, the second wrote over the first's values
            into = _unused_name(repo.path, path, taken)
            there = _leads_out(repo.path, into)
        taken.add(into)
        if there:  # a folder, a symlink, …: not the plaintext, and nothing to write over
            lost.append(
                (
                    path,
                    f"{repo.base} {why} and {into} in the clone is {there}, not its plaintext; move "
                    "it away, and the command to bring the values back is offered",
                    "",
                )
            )
            continue
        if not left_out:
            why += f" and there is no {into} in the clone"
        others = _not_age_only(blob)
        if others:  # sops would try those keys with the user's credentials: no command offered
            lost.append((path, f"{repo.base} {why}; it names {others}", ""))
            continue
        decrypt = _decrypt_stdin(blob)
        if path not in sources:  # not a dotenv the tool encrypted: back in its own format
            decrypt = _in_its_format(decrypt, blob)
        lost.append((path, f"{repo.base} {why}", _restore_command(repo, path, decrypt, into)))
    if not lost:
        return ""
    commands = ", ".join(f"`{command}`" for _, _, command in lost if command)
    back = f"bring the values back: {commands}" if commands else "keep a copy of its files"
    if len(lost) == 1:
        [(path, why, _)] = lost
        return f" (it holds the only copy of {path}: {why}; before deleting it, {back})"
    files = ", ".join(f"{path} ({why})" for path, why, _ in lost)
    return f" (it holds the only copies of {files}; before deleting it, {back})"


def _maybe_sops(tip, base) -> set[str]:
    """The files of ``tip`` that may be a sops file ``base`` lacks: every ``.enc``, and every file
    added or changed since ``base`` whatever its name (every file when there is no base). Pass 23a: a
    reviewer's `deploy/secrets.sops.yaml` (sops' own naming, or `secrets.enc.yaml`) on the rollout
    branch was never looked at, and `cleanup --force` deleted the branch here and on origin, the only
    copy of those values with it."""
    listed = gitrepo.listed_paths(tip.repo, tip)
    held = {p for p in listed if p.endswith(".enc")}
    if base is None:
        return set(listed)
    changed = gitrepo.changed_paths(tip.repo, base.tree, tip.tree)
    return held | {p for p, code in changed if code != "D"}


def _plain_name(path: str) -> str:
    """Where the values of the sops file ``path`` come back: ``x`` for ``x.enc``; a file of its own
    beside any other (``secrets.sops.yaml.plain``), never the ciphertext's own name."""
    return path.removesuffix(".enc") if path.endswith(".enc") else f"{path}.plain"


def _readable(commit, path: str) -> bytes | None:
    """``path`` at ``commit``; None when absent. Larger than the tool reads, its first and last lines
    (sops writes its metadata at the end): pass 22a, a reviewer's 17 MB `data/model.bin.enc` (no sops
    file) beside the branch's `.env.enc` made the whole check fail, and `cleanup --force` deleted the
    branch's only copy of `.env.enc`; such a file was then passed over, and pass 23a: a reviewer's
    18 MB `assets/model.bin.enc` in sops' binary format, the only copy, was deleted with the branch;
    pass 23d: the same file named `assets/model.sops.json` (only `.enc` files were read by their
    ends). A file not named `.enc` whose head holds a NUL byte (no sops file) is not read through."""
    try:
        return gitrepo.read_blob(commit, path)
    except RepoError:  # pass 23d: any other name too (a binary file, never sops, by its head only)
        return gitrepo.read_blob_ends(commit, path, text_only=not path.endswith(".enc"))


def _unused_name(clone: Path, path: str, taken: set[str]) -> str:
    """A file for ``path``'s values that no other command writes and nothing in the clone holds."""
    stem = _plain_name(path)
    for n in range(1, 100):
        for name in (stem, f"{path}.plain") if n == 1 else (f"{path}.plain{n}",):
            if name not in taken and not _plaintext_there(clone / name):
                return name
    return f"{path}.plain100"


def _plaintext_there(path: Path) -> str:
    """ "at hand" when ``path`` is a regular file holding something, "" when nothing is there (or an
    empty file: the command writes over nothing), else what is there. Pass 21e: a `.env/` folder (a
    virtualenv named `.env`, a common habit), a symlink left pointing at the moved-away file, counted as
    the plaintext at hand: no only-copy words, and `cleanup --force` deleted the branch's only copy
    (apply refuses such a `.env`, so nothing else would ever encrypt it again)."""
    try:
        mode = os.lstat(path)
    except OSError:
        return ""
    if stat.S_ISREG(mode.st_mode):
        return "at hand" if mode.st_size else ""
    if stat.S_ISDIR(mode.st_mode):
        return "a folder"
    return "a symlink" if stat.S_ISLNK(mode.st_mode) else "not a regular file"


def _not_its_values(repo: RepoSpec, into: str, target: str, blob: bytes) -> str:
    """Why the clone's regular, non-empty ``into`` does not stand for the ciphertext ``blob``'s values,
    as a clause ("leaves 3 of its values out (empty or missing)"); "" when it does (or the ciphertext,
    not an `encrypt:` entry's, is in a format other than dotenv). Pass 22a: apply refuses such a `.env`
    (`_refuse_blanked`, `_refuse_dropped`, `_refuse_older_values`, a file too large), so nothing would encrypt those values
    again, yet a copy of .env.example, a comment alone, one value of several, a file too large to read,
    or an older backup copied back with its time kept stood for the plaintext at hand, and `cleanup
    --force` deleted the branch's only copy. Names and counts only, never a value."""
    if sopsmeta.sops_format(blob) != "dotenv" and target not in {e.target for e in repo.encrypt}:
        # pass 22d: an `encrypt:` entry's ciphertext in sops JSON or YAML (a reviewer's commit) is
        # read the same way (names without a key, values through sops' dotenv output)
        return _not_its_data(repo, into, target, blob)
    try:
        plaintext = read_plaintext(repo, into)
    except RolloutError:  # too large, unreadable: apply refuses it too (never a value in the words)
        return "cannot be read by the tool (apply refuses it too)"
    try:
        app = appenv.app_values(plaintext) if plaintext is not None else None
    except (ValueError, RolloutError):
        return ""
    if app is None:
        return ""
    if plaintext is not None and _SOPS_VALUE.search(plaintext):
        # pass 22d: the ciphertext's own lines copied to `.env` (`cp .env.enc .env`, its `sops_`
        # lines dropped): a value for every name, read without a key, and apply refuses it
        return "holds sops ciphertext for values, not plaintext (apply refuses it too)"
    age_only = not _not_age_only(blob)
    lacking = [name for name in sopsmeta.names_with_values(blob) if app.get(name, b"") == b""]
    if lacking and age_only:  # a committed `OPT=""` is empty to the app too
        lacking = _held_for_the_app(target, blob, lacking)
    if lacking:
        return f"leaves {len(lacking)} of its values out (empty or missing)"
    other, older = (
        _other_values(repo.path / into, target, blob, plaintext or b"") if age_only else (0, False)
    )
    if other and older:
        return (
            f"was last saved before sops wrote it and holds other values for "
            f"{wording.count(other, 'name')} (an older copy?)"
        )
    if other:
        return (
            f"holds other values for {wording.count(other, 'name')} (changed since, or an older "
            "copy copied back?)"
        )
    return ""


def _not_its_data(repo: RepoSpec, into: str, target: str, blob: bytes) -> str:
    """For a sops YAML, JSON or INI file no `encrypt:` entry names: why the clone's regular, non-empty
    ``into`` is not its plaintext, "" when it is, or when no key opens ``blob`` (nothing to compare
    with, as for a `.env`). Pass 23a: a reviewer's `config/secrets.yaml.enc` on the rollout branch and
    any `config/secrets.yaml` in the clone (a placeholder, a comment, another file of that name) stood
    for its plaintext at hand, and `cleanup --force` deleted the only copy of those values."""
    if _not_age_only(blob):
        return ""  # never handed to sops: as with no key
    try:
        plaintext = read_plaintext(repo, into)
    except RolloutError:
        return "cannot be read by the tool"
    try:
        theirs = sops.decrypt_as_is(blob, filename=target)
    except (ValueError, OSError, RolloutError):
        return ""
    if plaintext is None or _same_data(theirs, plaintext):
        return ""
    return "holds other data (changed since, or not its plaintext?)"


def _same_data(decrypted: bytes, plaintext: bytes) -> bool:
    """Whether ``plaintext`` holds what sops decrypted: the same bytes, the same YAML or JSON data (the
    same types: never `1` for `true`) with each comment sops decrypted, the same INI lines in the same
    order (blank lines aside, comments kept), or the bytes of sops' binary format (`data`). Pass 23d:
    Python's `==` (`1 == True`), INI lines compared sorted (two sections' values swapped) and
    comments left out (sops encrypts YAML and INI comments) took other values for the same, and
    `cleanup --force` deleted the only copy."""
    if decrypted == plaintext:
        return True

    def lines(text: bytes) -> list[bytes]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    try:
        theirs = yamlio.load_plain(decrypted.decode())
        if (
            isinstance(theirs, dict)
            and set(theirs) == {"data"}
            and theirs["data"] == plaintext.decode()
        ):
            return True
        # sops writes each comment on a line of its own; the clone's may end a line (`x: 1  # …`)
        ours = {line[i:].strip() for line in lines(plaintext) for i in _hashes(line)}
        comments = {line for line in lines(decrypted) if line.startswith(b"#")}
        return _same_typed(theirs, yamlio.load_plain(plaintext.decode())) and comments <= ours
    except (ValueError, RolloutError):
        return lines(decrypted) == lines(plaintext)


def _hashes(line: bytes) -> list[int]:
    return [i for i, byte in enumerate(line) if byte == ord("#")]


def _same_typed(a: object, b: object) -> bool:
    """``a == b`` with every value of the same type, mapping keys too (`{1: x}` is not `{True: x}`)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict) and isinstance(b, dict):
        keys = {(type(k), k) for k in a}
        return keys == {(type(k), k) for k in b} and all(_same_typed(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same_typed, a, b))
    return a == b


def _other_values(path: Path, target: str, blob: bytes, plaintext: bytes) -> tuple[int, bool]:
    """How many names ``plaintext`` (the file at ``path``) holds another value for than ``blob``, and
    whether sops wrote ``blob`` after the file was last saved (what `_refuse_older_values` refuses);
    (0, False) when no key opens ``blob``. Pass 22a asked only when the file was the older: pass 22d,
    an older backup copied back with plain `cp` (a new time), or a ciphertext whose `lastmodified` is
    ahead of this machine's clock, stood for the plaintext at hand, and `cleanup --force` deleted the
    branch's only copy of the newer values. The file times tell the two apart in the words only."""
    meta = sops.read_metadata(blob)
    try:
        committed = _values(sops.decrypt_dotenv(blob, filename=target))
    except (ValueError, OSError, RolloutError):
        return 0, False
    mine = _values(plaintext)
    other = sum(1 for name in committed if name in mine and committed[name] != mine[name])
    try:
        written = datetime.fromisoformat((meta.lastmodified if meta else "").replace("Z", "+00:00"))
        saved = datetime.fromtimestamp(os.lstat(path).st_mtime, UTC)
    except (ValueError, OSError):
        return other, False
    return other, written > saved.replace(microsecond=0)


def _leads_out(clone: Path, into: str) -> str:
    """What is wrong when writing ``into`` would leave the clone's files (a folder on the way is a
    symlink out of the clone, or into its .git), "" when it stays. Pass 21e: a symlink `link` in the
    clone (to `~/.config/autostart`, say) and a reviewer's `link/x.desktop.enc` on the branch: the
    pasted command wrote their values there, outside the repository."""
    top = os.path.realpath(clone)
    where = os.path.realpath(clone / into)
    if os.path.commonpath([top, where]) != top or os.path.commonpath(
        [os.path.join(top, ".git"), where]
    ) == os.path.join(top, ".git"):
        return "a path through a symlink out of the clone's files"
    return ""


def _not_age_only(blob: bytes) -> str:
    """Why no `sops decrypt` command is offered for ``blob``, "" when it names age recipients only.
    Pass 21e: a reviewer's `.enc` on the rollout branch (or anyone's on origin's, read by cleanup)
    naming an ``hc_vault`` key beside an age recipient not the user's was offered `git show … | sops
    decrypt …`; pasted, sops (age first, then the rest) sent the user's VAULT_TOKEN to the address the
    file gives. The tool never hands such a file to sops itself (:func:`sops.check_age_only`)."""
    meta = sopsmeta.read_metadata(blob)
    if meta is None:
        return "sops metadata the tool cannot read, so no command is offered"
    if meta.others:
        return (
            f"{', '.join(meta.others)} master keys besides age, so no command is offered (sops "
            "would try them with your Vault or cloud credentials)"
        )
    return ""


def _never_drop_branch_ciphertext(repo: RepoSpec, spec: EncryptSpec, base, tip) -> None:
    """Nothing to encrypt to ``spec.target`` (no plaintext at hand), yet the rollout branch holds
    ciphertext the base does not and no `encrypt:` entry names (the manifest's target renamed):
    rebuilding the branch would drop it, the only copy of those values in git (pass 5)."""
    path = next(_ciphertext_only_on(tip, {e.target for e in repo.encrypt}, base), None)
    if path is not None:
        raise RepoError(
            f"the rollout branch holds {path}, which no `encrypt:` entry names now, and there is no "
            f"{spec.source} in the clone to encrypt to {spec.target}: the branch would lose it; "
            f"bring {spec.source} back ({_restore(repo, path, gitrepo.read_blob(tip, path), spec.source)}), "
            f"or set the target back to {path}"
        )


def _never_leave_a_renamed_branch_behind(repo: RepoSpec, spec: EncryptSpec, base) -> None:
    """No plaintext to encrypt to ``spec.target`` and none of it on the rollout branch or the base, yet
    another local branch whose tip is this rollout's commit holds it (the manifest's `branch:`
    renamed): the new branch would be written without it. Pass 23a: apply, the `.env` moved away,
    `branch:` renamed; apply created the new branch without `.env.enc` ("skip (no .env in the clone
    to encrypt)"), its PR merged a rollout without the values, and the old branch, which the tool no
    longer names (cleanup, status), held their only copy."""
    # pass 23g: never the base itself (a local `main` the rollout was merged into, not pushed yet)
    skip = {repo.branch, repo.base}
    for name, commit in gitrepo.tool_branches(base.repo, repo.rollout, skip, base):
        old = replace(repo, branch=name)
        # pass 23g: `branch:` names the branch itself, never `origin/…` nor `refs/…` (refused there)
        held = name.removeprefix(gitrepo.PUSHED_REF)  # a push record: plan reads it as that branch
        back = (
            ""
            if held.startswith("refs/")
            else f"set `branch:` back to {held.removeprefix('origin/')}"
        )
        blob = _readable(commit, spec.target)
        if blob is None or sopsmeta.sops_format(blob) is None:
            # the target renamed too (`.env.enc` → `config/.env.enc`): whatever that branch alone holds
            left = only_copy_words(old, commit, base)
            if left:
                raise RepoError(
                    f"there is no {spec.source} in the clone to encrypt to {spec.target}, and {name} "
                    f"(this rollout's commits: was `branch:` renamed?) would be left behind{left}"
                    + (f"; or {back}" if back else "")
                )
            continue
        if gitrepo.blob_in_history(base, spec.target, blob):
            continue
        raise RepoError(
            f"there is no {spec.source} in the clone to encrypt, and {name} (this rollout's "
            f"commits: was `branch:` renamed?) holds {spec.target}, which {repo.base} lacks: "
            f"{repo.branch} would be written without it; bring {spec.source} back "
            f"({_restore(old, spec.target, blob, spec.source)})"
            + (f", or {back}" if back else "")
            + "; to leave those values behind on purpose, "
            + (
                f"delete that branch ({_forget_branch(name, base.repo)})"
                if gitrepo.is_tool_commit(commit, repo.rollout)
                # pass 23g's F7: a branch made from the old one (`feature/x`) holds someone's work
                # above the rollout's commits; `git branch -D` pasted deleted it
                else "take what else that branch holds elsewhere, then delete it (it has commits "
                "after this rollout's)"
            )
        )


def _forget_branch(name: str, repo) -> str:
    """The commands that delete the branch ``name`` (``origin/X``: origin's, as this clone last saw
    it; ``refs/juniper-rollout/pushed/X``: the tool's record of its push of X). Pass 23d: `git push
    origin --delete X` alone fails where origin no longer has it (deleted there, not yet pruned here:
    "remote ref does not exist"), and the refusal stayed for good. Pass 24a: the tool's record of a
    push of that branch goes with it (left, it held the values and refused the repo again)."""
    git_c = gitrepo.git_in(repo)
    if name.startswith(gitrepo.PUSHED_REF):
        return f"`{gitrepo.record_delete(repo, name.removeprefix(gitrepo.PUSHED_REF))}`"
    branch = name.removeprefix("origin/") if name.startswith("origin/") else name
    branch = branch.removeprefix("refs/heads/")
    record = (
        f" && {gitrepo.record_delete(repo, branch)}"
        if gitrepo.has_push_record(repo, branch)
        else ""
    )
    if not name.startswith("origin/"):
        return _delete_words(repo, branch, "", record)
    seen = repo.commit(f"refs/remotes/{name}").hexsha  # origin's tip as last fetched: the lease
    return (
        # pass 23g: `--` first, for a name git would take for an option (`-x`, which origin may hold)
        f"`{gitrepo.origin_delete(repo, branch, seen)}{record}`; gone from origin "
        f"already: `{git_c} branch -d -r {shell_word(name)}{record}`"
    )


def _delete_words(repo, branch: str, what: str, then: str = "") -> str:
    """ "delete WHAT (`git branch -D BRANCH` THEN)", with what frees it first when a worktree has it
    checked out (pass 24a: pasted, git refused, "Cannot delete branch … checked out at …", and the
    refusal stayed). ``what`` empty: the command alone."""
    command = f"`{gitrepo.branch_delete(repo, branch)}{then}`"
    where = gitrepo.checked_out_in(repo, branch)
    if where is not None:
        how = gitrepo.worktree_advice(repo, where, Path(repo.working_tree_dir or where))
        command = f"{branch} is checked out in {where}: {how}, then {command}"
    return f"delete {what} ({command})" if what else command


def _restore(repo: RepoSpec, path: str, blob: bytes | None, into: str) -> str:
    """The command that brings the values of ``path`` on the rollout branch back into ``into`` (a
    dotenv file; another format into a file of its own beside it), built as the only-copy advice
    builds it; or why none is offered. Pass 22a: the "no `encrypt:` entry names now" refusal printed
    `git show … > FILE`, then `sops decrypt FILE > .env`: a reviewer's `.enc` naming an `hc_vault`
    key sent the user's VAULT_TOKEN to their address when pasted, and `.env` was made with the
    shell's umask."""
    blob = blob or b""
    others = _not_age_only(blob)
    if others:
        return f"it names {others}"
    decrypt = _in_its_format(_decrypt_stdin(blob, path), blob)
    if (sopsmeta.sops_format(blob) or "dotenv") != "dotenv" or _plaintext_there(repo.path / into):
        into = _unused_name(repo.path, path, set())
    if out := _leads_out(repo.path, into):
        return f"{into} is {out}, so no command is offered"
    return f"`{_restore_command(repo, path, decrypt, into)}`"


def _in_its_format(decrypt: str, blob: bytes) -> str:
    """``decrypt`` (a `sops decrypt … --output-type dotenv` command) writing ``blob``'s own format."""
    fmt = sopsmeta.sops_format(blob) or "dotenv"
    return decrypt.replace("--output-type dotenv", f"--output-type {fmt}")


def _restore_command(repo: RepoSpec, path: str, decrypt: str, into: str) -> str:
    """The command that writes the values of ``path`` on the rollout branch into ``into`` through
    ``decrypt`` (its folder made first when the clone lacks it), as every restore line prints it."""
    # pass 24k: in the clone, wherever pasted (the user in another clone of the fleet, which has a
    # push record of the same branch name: pasted there, it wrote that clone's values over its `.env`)
    folder = os.path.dirname(into)
    make = (
        f"mkdir -p -- {wording.path_word(repo.path / folder)} && "
        if folder and not os.path.isdir(repo.path / folder)
        else ""
    )
    clone = wording.path_word(repo.path)
    # a file there now is what the line is about (values to replace); none, and one written later
    # is newer than what the branch holds
    written = _decrypt_into(
        decrypt, str(repo.path / into), only_new=not os.path.lexists(repo.path / into)
    )
    return f"{make}git -C {clone} show {_at(repo.branch, path)} | {written}"


def never_drop_committed_ciphertext(repo: RepoSpec, plan: RepoPlan, base, known, old_base) -> None:
    """The rollout branch (``known``: local, or as last pushed) is rebuilt on ``base``: every sops-encrypted
    ``.enc`` the tool's commits added to it (not in ``old_base``, the commit they were built on) that the
    base lacks must be written again by ``plan``, whatever the manifest says now (an entry `enabled:
    false`, or the repo's `encrypt:` block removed, dropped it silently: pass 6). One a person removed
    from the base is theirs to remove."""
    written = {f.path for f in plan.files if f.action in (CREATE, UPDATE)}
    path = next(
        (
            p
            for p in _ciphertext_only_on(known, written, base, old_base)
            if not _carried_over(repo, written, p, gitrepo.read_blob(known, p))
        ),
        None,
    )
    if path is not None:
        # pass 24a: deleted here, the branch is the tool's push record (or origin's): `git branch -D`
        # failed when pasted
        elsewhere = gitrepo.known_branch_names(base.repo, repo.branch)
        drop = elsewhere[1] if elsewhere else _delete_words(base.repo, repo.branch, "the branch")
        raise RepoError(
            f"the rollout branch holds {path}, which no enabled `encrypt:` entry of {repo.name} writes "
            f"now: rebuilding {repo.branch} on {repo.base} would drop it, the only copy of those values "
            f"in git; set the entry back (enabled, with its plaintext or without), or merge the branch "
            f"first; to drop it on purpose, {drop}"
        )


def _carried_over(repo: RepoSpec, written: set[str], path: str, blob: bytes | None) -> bool:
    """Whether the values of ``path`` (ciphertext on the rollout branch that no `encrypt:` entry
    writes now) are carried to an entry's new target that ``written`` holds: that entry's plaintext
    is at hand in the clone and holds each of them (names and counts only, as ``only_copy_words``
    reads it). Pass 26d (26a's note N3): the target renamed with no plaintext, the first refusal's
    way out brought `.env` back; apply then refused again, "the only copy of those values in git",
    though the plan wrote them to the new target."""
    if blob is None or sopsmeta.sops_format(blob) != "dotenv":
        return False
    return any(
        e.enabled
        and e.target in written
        and _plaintext_there(repo.path / e.source) == "at hand"
        and not _not_its_values(repo, e.source, path, blob)
        for e in repo.encrypt
    )


def _never_lose_a_tracked_secret(repo: RepoSpec, plan: RepoPlan, changes: list[FileChange]) -> None:
    """The rollout removes a tracked plaintext file: refuse when nothing holds its values encrypted."""
    deleted = {f.path for f in plan.files if f.action == DELETE}
    for spec, change in zip(repo.encrypt, changes, strict=False):
        if spec.enabled and spec.source in deleted and change.after is None:
            raise RepoError(
                f"{spec.source} is tracked at {repo.base} but not in the clone, so it cannot be encrypted "
                f"before the rollout removes it from git: restore it "
                f"(`{_show_into(repo, spec.source)}`), then plan again"
            )


def _show_into(repo: RepoSpec, path: str) -> str:
    """The command that writes ``path`` as committed on the base back into the clone, readable by
    its owner alone, where the clone has no such file and the base still holds it. Pass 25a:
    `git show main:.env > .env` named no clone: pasted in another clone of the fleet, whose main
    holds no `.env`, the shell emptied that clone's `.env` before git failed."""
    folder = os.path.dirname(path)
    make = (
        f"mkdir -p -- {wording.path_word(repo.path / folder)} && "
        if folder and not os.path.isdir(repo.path / folder)
        else ""
    )
    into = wording.path_word(repo.path / path)
    # pass 25d: `set -C` (noclobber): a `.env` written after the line was printed (newer values) is
    # never written over with the committed, older ones. Lead 30 (25g's note): `cat-file -e` first, so
    # a base that no longer tracks it leaves no empty file behind (the shell makes it before git fails)
    git, at = wording.git_in(repo.path), _at(repo.base, path)
    return f"{make}(umask 077 && set -C && {git} cat-file -e {at} && {git} show {at} > {into})"


NEW_DATA_KEY = (
    "new data key (sops rotate, `rollout rotate --data-key`): values edited from now on are out of "
    "reach of removed keys; old commits still open with them, so rotate the secret values too"
)


def fresh_data_key(
    manifest: Manifest, spec: EncryptSpec, change: FileChange, reuse: bytes | None
) -> FileChange:
    """``change`` with a new data key when the manifest asks for one (``defaults.data_key_rotated``) and the
    file's sops ``lastmodified`` is older: ``updatekeys`` keeps the data key, ``sops rotate`` replaces it."""
    stamp = manifest.data_key_rotated
    if not stamp or not change.secret or change.after is None:
        return change
    meta = sops.read_metadata(change.after)
    if meta is None or meta.lastmodified >= stamp:
        return change
    plaintext = _decrypt_or_none(change.after, spec.target)
    if plaintext is None:
        raise RepoError(
            f"a new data key for {spec.target} (rotate --data-key) needs a private key that opens it: "
            "set SOPS_AGE_KEY_FILE (or SOPS_AGE_KEY / SOPS_AGE_KEY_CMD)"
        )
    done = sops.read_metadata(reuse) if reuse is not None else None
    if (
        done is not None
        and done.lastmodified >= stamp
        and _same(reuse, plaintext, manifest.recipients, spec.target)
    ):
        after = reuse  # the rollout branch already holds it with a new data key
    else:
        after = sops.rotate(change.after, filename=spec.target)
        if _decrypt_or_none(after, spec.target) != plaintext:
            raise RepoError(f"{spec.target}: sops rotate did not keep its values; nothing written")
    detail = f"{change.detail or change.reason}; {NEW_DATA_KEY}"
    return FileChange(
        spec.target,
        UPDATE if change.before is not None else CREATE,
        change.before,
        after,
        change.reason,
        secret=True,
        detail=detail,
    )


def _decrypt_or_none(blob: bytes, filename: str) -> bytes | None:
    try:
        return sops.decrypt_dotenv(blob, filename=filename)
    except RolloutError:
        return None


def _same(blob: bytes | None, plaintext: bytes, recipients: tuple[str, ...], filename: str) -> bool:
    """Does ``blob`` (dotenv ciphertext) hold exactly ``plaintext`` for exactly ``recipients``?"""
    if blob is None:
        return False
    meta = sops.read_metadata(blob)
    if meta is None or meta.format != "dotenv" or set(meta.recipients) != set(recipients):
        return False
    return _decrypt_or_none(blob, filename) == plaintext


def _as_dotenv(
    spec: EncryptSpec,
    config: str,
    before: bytes,
    fmt: str,
    plaintext: bytes | None,
    reuse: bytes | None,
    recipients: tuple[str, ...],
) -> FileChange:
    """A sops file in another format, re-encrypted as dotenv (what every command here and the guide expect)."""
    why = f"re-encrypted as dotenv (was sops {fmt} format)"
    if plaintext is None:
        raise RepoError(
            f"{spec.target} is in sops {fmt} format and must be re-encrypted as dotenv, which needs "
            f"{spec.source} in the clone or a private key that opens it (set SOPS_AGE_KEY_FILE)"
        )
    if _same(reuse, plaintext, recipients, spec.target):
        return FileChange(spec.target, UPDATE, before, reuse, why, secret=True, detail=why)
    after = sops.encrypt_dotenv(plaintext, sops_config=config, filename=spec.target)
    if _decrypt_or_none(after, spec.target) != plaintext:
        raise RepoError(f"{spec.target}: sops did not round-trip it as dotenv; nothing written")
    _every_value_sealed(spec.target, after)
    return FileChange(spec.target, UPDATE, before, after, why, secret=True, detail=why)


def _every_value_sealed(target: str, ciphertext: bytes | None) -> None:
    """RepoError when the ciphertext sops wrote from the plaintext keeps a value (or a comment, or an
    option sops would keep values plain by) as it is. Pass 24b (13.6): a rendered `.sops.yaml` asking
    sops for partial encryption (`unencrypted_regex: '.*'`, an `encrypted_regex` no name matches,
    `unencrypted_suffix: TOKEN`) made sops write `.env.enc` holding the `.env` values in plaintext:
    the round trip passed (it decrypts to the plaintext), the plan showed no diff of a ciphertext,
    and apply committed the values under a name `.gitignore` lets through (only a saved plan's
    apply looked). Never the line itself."""
    line = sopsmeta.plaintext_line(ciphertext) if ciphertext is not None else None
    if line is not None:
        raise RepoError(
            f"{target}:{line}: sops left a value or comment unencrypted, or wrote an option that "
            "keeps values plain (the rendered .sops.yaml asks for partial encryption: "
            "encrypted_regex, unencrypted_regex, unencrypted_suffix or a comment form?); nothing "
            "written: remove that option from the manifest's sops.yaml template"
        )


def _rekeyed(
    spec: EncryptSpec, config: str, before: bytes, old: tuple[str, ...], new: tuple[str, ...]
) -> FileChange:
    try:
        after = sops.updatekeys(before, sops_config=config, filename=spec.target)
    except RolloutError as err:
        why = str(err) if "SOPS_AGE_KEY_FILE" in str(err) else f"{err} (set SOPS_AGE_KEY_FILE)"
        # pass 26a: a new key (`rollout keygen`, sops's generic advice) opens no committed file:
        # pasted, it made a key there and apply failed again; only a key that opens it re-keys it
        why = why.replace(
            sops.NO_KEY,
            "no age private key found: set SOPS_AGE_KEY_FILE to a key that opens it (a new key "
            "cannot)",
        )
        raise RepoError(f"re-keying {spec.target} needs the private key: {why}") from None
    return FileChange(
        spec.target,
        UPDATE,
        before,
        after,
        "re-wrapped for the manifest's recipients",
        secret=True,
        detail=_rekey_detail(old, new),
    )
