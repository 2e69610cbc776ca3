"""What "sops-encrypted" means, as one regex the hook, verify, drift and plan all use; and what a sops
file's metadata says (recipients, names, format, lastmodified), read without decrypting. Pure.

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

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from juniper_rollout.dotenv import RESERVED_PREFIX, bare_name, is_credential_name
from juniper_rollout.secretshape import holds_url_password, looks_secret
from juniper_rollout.yamlio import YamlSyntaxError, leaves, load_plain

_B64 = r"[A-Za-z0-9+/]+={0,2}"
MAC = rf"ENC\[AES256_GCM,data:{_B64},iv:{_B64},tag:{_B64},type:str\]"
FORMATS = ("dotenv", "yaml", "json", "ini")
PATTERN = (
    rf"(?P<dotenv>^sops_mac={MAC}\r?$)"
    rf"|(?P<yaml>^sops:\r?\n(?:[ \t][^\n]*\n)*?[ \t]+mac: {MAC}\r?$)"
    rf"|(?P<json>^[ \t]*\"sops\": ?\{{\r?\n(?:[ \t][^\n]*\n)*?[ \t]+\"mac\": \"{MAC}\",?\r?$)"
    rf"|(?P<ini>^\[sops\]\r?\n(?:[^\[\n][^\n]*\n|\n)*?mac[ \t]*=[ \t]*{MAC}\r?$)"
)
# PATTERN in a form that runs in linear time, for the tool's own reads of blobs anyone may have
# committed: its JSON opening line may be indented, so every `"sops": {` line of a file starts a scan
# that PATTERN runs to the end of the file (20,000 such lines: 7 s; 2 MB: minutes). Here a scan stops
# at the next opening line. The same files match: a match that crosses an opening line has a match
# starting at that line (its rest is a valid match on its own). tests/test_pass3.py holds them together.
# Pass 20c: and in bounded memory. A lazy repeat of lines (`(?:LINE)*?END`) keeps one backtracking
# point per line in Python's `re`: a 15 MB `.env.enc` of `[sops]` and blank lines took 2.5 GB to read.
# Each is written `(?:(?!END)LINE)*+END`, the same match (the lazy form stops at the first line where
# END matches, and END ends the alternative), with none kept.
_JSON_START = r"[ \t]*\"sops\": ?\{"
_YAML_END = rf"[ \t]+mac: {MAC}\r?$"
_JSON_END = rf"[ \t]+\"mac\": \"{MAC}\",?\r?$"
_INI_END = rf"mac[ \t]*=[ \t]*{MAC}\r?$"
_LINEAR = (
    rf"(?P<dotenv>^sops_mac={MAC}\r?$)"
    rf"|(?P<yaml>^sops:\r?\n(?:(?!{_YAML_END})[ \t][^\n]*\n)*+{_YAML_END})"
    rf"|(?P<json>^{_JSON_START}\r?\n(?:(?!{_JSON_END}|{_JSON_START})[ \t][^\n]*\n)*+{_JSON_END})"
    rf"|(?P<ini>^\[sops\]\r?\n(?:(?!{_INI_END})(?:[^\[\n][^\n]*)?\n)*+{_INI_END})"
)
assert all(end in PATTERN for end in (_YAML_END, _JSON_END, _INI_END)), (
    "PATTERN changed: update _LINEAR with it"
)
_COMPILED = re.compile(_LINEAR.encode(), re.MULTILINE | re.DOTALL)

# What a line of a dotenv sops file may be (sops 3.11 writes, measured in docs/SOPS_NOTES.md): a value
# sops encrypted (``NAME=ENC[AES256_GCM,…,type:str]``), an empty value (``NAME=``: sops leaves it
# empty), a comment (sops encrypts it too: ``#ENC[AES256_GCM,…,type:comment]``; an empty one stays
# ``#``), a blank line, or one of
# sops' own metadata lines: a fixed set of keys, each with the one shape sops gives its value
# (:data:`METADATA`). Anything else is plaintext in an encrypted file: ``echo TOKEN=x >> .env.enc``,
# ``# a note``, ``sops_foo=x`` keep the metadata, so PATTERN alone passes them, and sops itself still
# decrypts a file with a plaintext comment (a warning) or an unknown ``sops_*`` line (silently). The
# alternatives are disjoint (no backtracking blow-up).
_B64_OR_EMPTY = r"[A-Za-z0-9+/=]*"
_GCM = rf"ENC\[AES256_GCM,data:{_B64_OR_EMPTY},iv:[A-Za-z0-9+/=]+,tag:[A-Za-z0-9+/=]+"
VALUE = rf"{_GCM},type:str\]"
COMMENT = rf"#(?:{_GCM},type:comment\])?"  # a bare '#' stays as it is: nothing to encrypt
_AGE_ARMOR = r"-----BEGIN AGE ENCRYPTED FILE-----(?:\\n[A-Za-z0-9+/=]+)+\\n-----END AGE ENCRYPTED FILE-----\\n"
_AGE_ENTRY = rf"age__list_\d+__map_(?:recipient=age1[0-9a-z]+|enc={_AGE_ARMOR})"
# every key sops 3.11 writes in a dotenv file for age recipients (alone or in key groups, with or
# without mac_only_encrypted): measured. Not here, so refused: the partial-encryption options
# (encrypted_regex, unencrypted_regex, their comment forms, encrypted_suffix, an unencrypted_suffix
# other than the default), which keep values or comments in plaintext by design, and other key types
# (pgp, kms, …): the tool writes none of them.
SINGLE_KEYS = {  # each once in a file (a second sops_mac= line is not sops'): key -> its value's shape
    "lastmodified": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z",
    "mac": MAC,
    "mac_only_encrypted": "(?:true|false)",
    "shamir_threshold": r"\d+",
    "unencrypted_suffix": "_unencrypted",
    "version": r"\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?",
}
METADATA = (
    rf"sops_(?:{_AGE_ENTRY}"
    rf"|key_groups__list_\d+__map_{_AGE_ENTRY}"
    + "".join(rf"|{key}={shape}\r?(?![\s\S]*^sops_{key}=)" for key, shape in SINGLE_KEYS.items())
    + ")"
)
DOTENV_LINE = rf"(?:[ \t\r]*|{COMMENT}\r?|{METADATA}\r?|(?!sops_)[^=\n#][^=\n]*=(?:{VALUE})?\r?)"
VALUES_PATTERN = rf"\A(?:{DOTENV_LINE}\n)*{DOTENV_LINE}\Z|\A(?![\s\S]*^sops_mac=)"
_VALUES = re.compile(VALUES_PATTERN.encode(), re.MULTILINE | re.DOTALL)
_LINE = re.compile(DOTENV_LINE.encode())


@dataclass(frozen=True)
class SopsMetadata:
    """What an encrypted file says about itself, without decrypting anything."""

    recipients: tuple[str, ...]
    names: tuple[str, ...]
    version: str
    format: str = "dotenv"  # the sops store format: dotenv, yaml, json or ini (FORMATS)
    lastmodified: str = ""  # sops' RFC 3339 UTC time of the last encryption (updatekeys keeps it)
    # master key types besides age the file names (kms, hc_vault, …): sops would try each on decrypt,
    # sending the user's cloud or Vault credentials to wherever the file says (see sops.check_age_only)
    others: tuple[str, ...] = ()


OTHER_KEY_TYPES = (
    "pgp",
    "kms",
    "gcp_kms",
    "azure_kv",
    "hc_vault",
    "hckms",
)  # hckms: HuaweiCloud (3.11)
_FLAT_OTHER = re.compile(rf"(?:^|__|__map_)({'|'.join(OTHER_KEY_TYPES)})__list_\d+__map_")


LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\n"


LFS_POINTED = "is a Git LFS pointer (the file lives in LFS storage, which the tool does not read)"


def lfs_way_out(ref: str, what: str = "the file") -> str:
    """How to mend a file read at ``ref`` that is a Git LFS pointer: where ``ref`` is origin's copy of
    the base (what the tool reads when the clone has it), the file committed must be pushed there
    too (pass 28a for plan; lead 33 for verify and drift, which said "commit the file itself" alone:
    followed, they read origin's pointer again)."""
    commit = f"commit {what} itself"
    if ref.startswith("origin/"):
        commit += f" on {ref.removeprefix('origin/')} and push it to origin"
    return f"stop tracking it with LFS (its filter=lfs line in .gitattributes), {commit}"


def lfs_note(ref: str) -> str:
    """What is said of a file read at ``ref`` that is a Git LFS pointer, with its way out."""
    return f"{LFS_POINTED}; {lfs_way_out(ref)}, then try again"


# the version lines git-lfs still reads as its v1 pointer: the pre-release and alpha spellings too
# (pass 10b: an AGENTS.md or .gitignore pointer written by an early git-lfs got a section appended)
LFS_VERSIONS = (
    LFS_POINTER,
    b"version https://hawser.github.com/spec/v1\n",
    b"version http://git-media.io/v/2\n",
)


def is_lfs_pointer(data: bytes) -> bool:
    """A Git LFS pointer file (the real content lives in LFS storage; editing the pointer corrupts it).
    As git-lfs reads one: the text trimmed of surrounding whitespace, a line ending in ``\n`` or
    ``\r\n`` (pass 11b: a CRLF pointer, or one after a blank line, is a pointer to git-lfs 3.3 —
    `git lfs pointer --check` — and got the tool's block appended)."""
    if len(data) >= 1024:
        return False
    first = data.strip().split(b"\n", 1)[0].rstrip(b"\r")
    return first + b"\n" in LFS_VERSIONS


def sops_format(blob: bytes) -> str | None:
    """The sops store format of ``blob`` (dotenv, yaml, json, ini), or None when it carries no sops metadata."""
    found = _COMPILED.search(blob[3:] if blob.startswith(b"\xef\xbb\xbf") else blob)
    if found is None:
        return None
    return next(name for name in FORMATS if found.group(name) is not None)


def plaintext_line(blob: bytes) -> int | None:
    """The first line (1-based) of a dotenv sops file that holds a value sops did not encrypt; None when
    there is none, or when ``blob`` is not a dotenv sops file. The same verdict as the hook's
    :data:`VALUES_PATTERN` (a test holds them together); the line itself is never returned."""
    if _VALUES.search(blob) is not None:
        return None
    seen: set[bytes] = set()
    for number, line in enumerate(blob.split(b"\n"), start=1):
        key = line.partition(b"=")[0]
        if _LINE.fullmatch(line) is None or key in seen:
            return number
        if key.removeprefix(b"sops_").decode("ascii", "replace") in SINGLE_KEYS:
            seen.add(key)
    return None  # unreachable while DOTENV_LINE and VALUES_PATTERN agree


# a value sops encrypted in a YAML/JSON/INI file (any of its types)
_ANY_VALUE = re.compile(rf"{_GCM},type:(?:str|int|float|bool|bytes|time|comment)\]")


def plaintext_value_line(blob: bytes) -> int | None:
    """Like :func:`plaintext_line`, for every sops format: in a YAML, JSON or INI sops file, the first
    line (1-based) holding a value sops did not encrypt (a key added by hand, `NEW_TOKEN: value`):
    sops writes every value outside its metadata as ``ENC[AES256_GCM,…]`` (pass 10b: drift said "0
    findings" for such a file, tracked and in history). None when there is none, or when ``blob``
    carries no sops metadata or cannot be read. The value itself is never returned."""
    fmt = sops_format(blob)
    if fmt is None or fmt == "dotenv":
        return plaintext_line(blob)
    text = blob.decode("utf-8", "replace").lstrip("\ufeff")
    comment = _plaintext_comment_line(text, fmt)
    value = _plaintext_leaf_line(text, fmt)
    extra = _metadata_extra_line(text, fmt)
    return min((n for n in (comment, value, extra) if n is not None), default=None)


# the fields sops writes in its metadata block (sops 3.x's stores.Metadata), and those of a key entry
_SOPS_FIELDS = frozenset(
    "shamir_threshold key_groups kms gcp_kms azure_kv hc_vault age lastmodified mac pgp "
    "unencrypted_suffix encrypted_suffix unencrypted_regex encrypted_regex unencrypted_comment_regex "
    "encrypted_comment_regex mac_only_encrypted version".split()
)
_INI_SOPS_KEY = re.compile(
    r"(?:key_groups__list_\d+__map_)?(?:age|pgp|kms|gcp_kms|azure_kv|hc_vault)__list_\d+__map_[a-z_]+"
    r"|" + "|".join(sorted(_SOPS_FIELDS))
)


def _metadata_extra_line(text: str, fmt: str) -> int | None:
    """The first line of a key in a YAML/JSON `sops:` block or an INI `[sops]` section that sops does not
    write (pass 14b: `sops:\n    note: <a password>` added by hand decrypts as before and sits in clear in
    git: drift said nothing, where the dotenv check refuses a `sops_` line sops did not write)."""
    lines = text.splitlines()
    if fmt == "ini":
        section = None
        for number, line in enumerate(lines, start=1):
            bare = line.strip()
            if bare.startswith("[") and bare.endswith("]"):
                section = bare[1:-1].strip()
            elif section == "sops" and bare and not bare.startswith((";", "#")):
                key = re.split(r"[=:]", bare, maxsplit=1)[0].strip()
                if _INI_SOPS_KEY.fullmatch(key) is None:
                    return number
        return None
    doc = _top_mapping(text, fmt)
    meta = doc.get("sops") if doc is not None else None
    if not isinstance(meta, dict):
        return None
    for key in meta:
        if str(key) not in _SOPS_FIELDS:
            where = f'"{key}"' if fmt == "json" else f"{key}:"
            top = next(
                (
                    n
                    for n, line in enumerate(lines, start=1)
                    if line.lstrip().startswith(('"sops"', "sops:"))
                ),
                1,
            )
            return next(
                (
                    n
                    for n, line in enumerate(lines[top:], start=top + 1)
                    if line.lstrip().startswith(where)
                ),
                top,
            )
    return None


def credential_name_line(blob: bytes) -> int | None:
    """The first line (1-based) of a sops file whose NAME (a dotenv or INI key, a YAML or JSON key at any
    depth, an INI section) is shaped like a credential: sops keeps names in clear, so a token pasted as
    a name (`ghp_…=`, `{"sk_live_…": "client"}`) is readable in git (pass 13b: drift said nothing of a
    `.enc` holding one, at a ref or in history; passes 6 and 11b had noted it). None when there is none,
    or when ``blob`` carries no sops metadata. The name itself is never returned."""
    fmt = sops_format(blob)
    if fmt is None:
        return None
    text = blob.decode("utf-8", "replace").lstrip("\ufeff")
    if fmt in ("dotenv", "ini"):
        for number, line in enumerate(text.splitlines(), start=1):
            bare = line.strip()
            if not bare or bare.startswith(("#", ";")):
                continue
            if fmt == "ini" and bare.startswith("[") and bare.endswith("]"):
                name = bare[1:-1].strip()
            else:
                name = re.split(r"=" if fmt == "dotenv" else r"[=:]", bare, maxsplit=1)[0].strip()
            if name != "sops" and not name.startswith(RESERVED_PREFIX) and _credential_named(name):
                return number
        return None
    doc = _top_mapping(text, fmt) or {}
    todo = [v for k, v in doc.items() if k != "sops"]
    names = [str(k) for k in doc if k != "sops"]
    seen: set[int] = set()
    while todo:  # every key at any depth (an explicit stack; a node YAML aliases share, once)
        node = todo.pop()
        if isinstance(node, dict | list):
            if id(node) in seen:
                continue
            seen.add(id(node))
        if isinstance(node, dict):
            names += [str(k) for k in node]
            todo += list(node.values())
        elif isinstance(node, list):
            todo += node
    for name in names:
        if _credential_named(name):
            lines = text.splitlines()
            return next((n for n, line in enumerate(lines, start=1) if name in line), 1)
    return None


def _credential_named(name: str) -> bool:
    """A name shaped like a credential: an identifier's shapes (a known token, a random run), or a URL
    holding a password (pass 14b: a YAML/JSON key may hold any text, and `postgres://app:PASSWORD@db/x`
    as a key, whose password is letters only, was no finding), or a URL query parameter named like a
    secret (`https://api/hook?token=…`)."""
    if is_credential_name(name) or holds_url_password(name):
        return True
    if "://" in name and "=" in name:
        from urllib.parse import parse_qsl

        query = re.split(r"[?#]", name, maxsplit=1)[1:]
        return any(
            looks_secret(key) and value
            for part in query
            for key, value in parse_qsl(
                part.replace(";", "&").replace("#", "&"), keep_blank_values=True
            )
        )
    return False


# a comment as sops writes it in a YAML (`#ENC[…]`) or INI (`; ENC[…]`) file: encrypted, like the values
_ENCRYPTED_COMMENT = re.compile(rf"[#;][ \t]*{_GCM},type:comment\][ \t]*")


def _plaintext_comment_line(text: str, fmt: str) -> int | None:
    """The first line holding a comment sops did not encrypt (pass 11b: `# staging token: value` added
    by hand to a sops YAML or INI file was no finding; sops encrypts every comment, and the dotenv
    check already refuses a plaintext one). A bare `#` holds nothing."""
    if fmt == "json":
        return None
    marks = ("#", ";") if fmt == "ini" else ("#",)
    for number, line in enumerate(text.splitlines(), start=1):
        bare = line.strip()
        if fmt == "yaml" and re.search(r"\][ \t]+#", bare):  # `key: ENC[…]  # a note`
            return number
        if bare.startswith(marks) and bare not in marks and not _ENCRYPTED_COMMENT.fullmatch(bare):
            return number
    return None


def _plaintext_leaf_line(text: str, fmt: str) -> int | None:
    """The first line of a YAML, JSON or INI sops file holding a value sops did not encrypt."""
    if fmt == "ini":
        section = None
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
            elif line and not line.startswith((";", "#")) and section != "sops":
                value = (
                    re.split(r"[=:]", line, maxsplit=1)[1].strip()
                    if re.search(r"[=:]", line)
                    else line
                )
                if _ANY_VALUE.fullmatch(value) is None:
                    return number
        return None
    doc = _top_mapping(text, fmt)
    if doc is None:
        return None
    for node in leaves(*(v for k, v in doc.items() if k != "sops")):
        if node is not None and not (isinstance(node, str) and _ANY_VALUE.fullmatch(node)):
            shown = json.dumps(node) if fmt == "json" else str(node)
            lines = text.splitlines()
            return next((n for n, line in enumerate(lines, start=1) if shown in line), 1)
    return None


def read_metadata(ciphertext: bytes) -> SopsMetadata | None:
    """Recipients, names, version and format of an encrypted file; None if it has no sops metadata.

    "Has sops metadata" is :data:`sopsmeta.PATTERN`, the regex the require-sops-encrypted hook uses.
    """
    fmt = sops_format(ciphertext)
    if fmt is None:
        return None
    text = ciphertext.decode("utf-8", errors="replace").lstrip("\ufeff")
    if fmt == "dotenv":
        meta = _dotenv_metadata(text)
    elif fmt == "ini":
        meta = _ini_metadata(text)
    else:
        meta = _structured_metadata(text, fmt)
    if meta is None:
        return None
    loose = _loose_others(text, fmt)
    if loose is None:
        return None
    others = set(meta.others) | loose
    return replace(meta, format=fmt, others=tuple(t for t in OTHER_KEY_TYPES if t in others))


# sops reads its metadata more loosely than the readers above (sops 3.11 source, measured with a fake
# Vault, pass 10b): the flattened dotenv/INI keys go through Go's encoding/json, whose field names
# match in any case (`sops_HC_VAULT__list_0__map_…`); a list position Go cannot read is 0
# (`__list_x`); go-ini also splits a key at `:`; JSON members match in any case (`"HC_VAULT"`, a
# second `"Sops"` object merged into the first); a YAML key may be `!!binary` (`aGNfdmF1bHQ=` is
# hc_vault). Each spelling made sops send the user's VAULT_TOKEN to the address the file chose.
# So a master key type is looked for as sops could read it: any case, any list position, any key
# delimiter, any depth of the metadata, duplicates and binary keys included. Refusing a look-alike
# costs nothing: sops never writes one for age recipients.
_LOOSE_FLAT = (
    re.compile(  # the separators are Go's exact `__map_`/`__list_`; the field name any case
        rf"(?:^[\s\"'`]*(?:sops_)?|__map_)((?i:{'|'.join(OTHER_KEY_TYPES)}))(?=__list_)"
    )
)


class _Pairs(list):
    """A JSON object as its members in order, duplicates kept (Go's decoder merges them)."""


def _loose_others(text: str, fmt: str) -> set[str] | None:
    """The master key types besides age that sops could find in ``text`` however it is spelled; None
    when a structured file cannot be read that way (it is then not handed to sops at all)."""
    if fmt in ("dotenv", "ini"):
        return {
            hit.group(1).casefold()
            for line in text.splitlines()
            # dotenv: sops reads only keys starting with `sops_` (exactly) as metadata
            if (fmt == "ini" or line.startswith("sops_"))
            and (hit := _LOOSE_FLAT.search(line)) is not None
        }
    try:
        doc: Any = json.loads(text, object_pairs_hook=_Pairs) if fmt == "json" else load_plain(text)
    except (ValueError, YamlSyntaxError, RecursionError):
        return None
    top = doc if isinstance(doc, _Pairs) else list(doc.items()) if isinstance(doc, dict) else []
    found: set[str] = set()
    stack = [value for key, value in top if _key_text(key) == "sops"]
    while stack:
        node = stack.pop()
        members = (
            node
            if isinstance(node, _Pairs)
            else list(node.items())
            if isinstance(node, dict)
            else None
        )
        if members is None:
            stack += node if isinstance(node, list) else []
            continue
        for key, value in members:
            if _key_text(key) in OTHER_KEY_TYPES and value:
                found.add(_key_text(key))
            stack.append(value)
    return found


def _key_text(key: Any) -> str:
    """A mapping key as Go would compare it with a field name: text (a YAML ``!!binary`` key decoded),
    case folded."""
    if isinstance(key, bytes):
        key = key.decode("utf-8", "replace")
    return str(key).casefold()


_HELD_VALUE = re.compile(r"ENC\[AES256_GCM,data:[^,\]]")


def names_with_values(blob: bytes) -> list[str]:
    """The top-level names a sops file holds a non-empty value for, read without a key: sops writes
    an empty value in clear (dotenv ``NAME=``, JSON and YAML ``""``; measured with sops 3.11). In
    dotenv, JSON, YAML or INI; nested values are no variables and are left out."""
    text = blob.decode("utf-8", "replace")
    fmt = sops_format(blob)
    if fmt in ("json", "yaml"):
        doc = _top_mapping(text, fmt)
        if doc is None:
            return []
        return [
            str(k)
            for k, v in doc.items()
            if k != "sops" and isinstance(v, str) and _HELD_VALUE.match(v)
        ]
    found, section = [], None
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if fmt == "ini" and line.strip().startswith("[") and line.strip().endswith("]"):
            section = line.strip()[1:-1]
            continue
        if not line or line.lstrip().startswith(("#", ";")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if key.startswith(RESERVED_PREFIX) or section == "sops":
            continue
        if _HELD_VALUE.match(value.strip()):
            found.append(bare_name(key))
    return found


def _dotenv_metadata(text: str) -> SopsMetadata | None:
    meta: dict[str, str] = {}
    names: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if key.startswith(RESERVED_PREFIX):
            meta[key[len(RESERVED_PREFIX) :]] = value
        else:
            names.append(bare_name(key))
    return _flat_metadata(meta, names)


def _flat_metadata(meta: dict[str, str], names: list[str]) -> SopsMetadata | None:
    if not meta:
        return None
    keys = [k for k in meta if re.search(r"(^|__)age__list_\d+__map_recipient$", k)]
    keys.sort(key=lambda k: [int(n) for n in re.findall(r"\d+", k)])
    others = {m.group(1) for k in meta if (m := _FLAT_OTHER.search(k))}
    return SopsMetadata(
        tuple(meta[k] for k in keys),
        tuple(names),
        meta.get("version", ""),
        lastmodified=meta.get("lastmodified", ""),
        others=tuple(t for t in OTHER_KEY_TYPES if t in others),
    )


def _ini_metadata(text: str) -> SopsMetadata | None:
    """sops' INI output: sections of ``key = value``; the metadata is the flattened ``[sops]`` section."""
    section, meta, names = None, {}, []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
        elif "=" in line and not line.startswith((";", "#")):
            key, value = (part.strip() for part in line.split("=", 1))
            if section == "sops":
                meta[key] = value
            else:
                names.append(key)
    return _flat_metadata(meta, names)


def _top_mapping(text: str, fmt: str) -> dict | None:
    """A JSON or YAML sops file's top-level mapping; None when it is not one, or cannot be read (not
    parseable, or JSON nested past Python's stack): no metadata or names are read from it then."""
    try:
        doc: Any = json.loads(text) if fmt == "json" else load_plain(text)
    except (ValueError, YamlSyntaxError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def _structured_metadata(text: str, fmt: str) -> SopsMetadata | None:
    doc = _top_mapping(text, fmt)
    sops = doc.get("sops") if doc is not None else None
    if doc is None or not isinstance(sops, dict):
        return None
    groups = [sops, *(g for g in sops.get("key_groups") or [] if isinstance(g, dict))]
    recipients = tuple(
        str(entry["recipient"])
        for group in groups
        for entry in group.get("age") or []
        if isinstance(entry, dict) and "recipient" in entry
    )
    names = tuple(str(k) for k in doc if k != "sops")
    others = tuple(t for t in OTHER_KEY_TYPES if any(group.get(t) for group in groups))
    return SopsMetadata(
        recipients,
        names,
        str(sops.get("version", "")),
        lastmodified=str(sops.get("lastmodified", "")),
        others=others,
    )


def config_recipients(text: str) -> list[str] | None:
    """The age recipients a ``.sops.yaml`` names, in order, each once: every creation rule's ``age``
    and the ``age`` of each of its ``key_groups`` (a comma-separated string or a list). None when it
    has no list of ``creation_rules``. YamlSyntaxError (a ValueError) when it is not YAML. The one
    reader of a config's recipients: drift and verify judge the same file alike."""
    data: Any = _load_config(text)
    rules = data.get("creation_rules") if isinstance(data, dict) else None
    if not isinstance(rules, list):
        return None
    return list(
        dict.fromkeys(
            key for rule in rules if isinstance(rule, dict) for key in rule_recipients(rule)
        )
    )


def _load_config(text: str) -> Any:
    """A ``.sops.yaml`` as sops' yaml.v3 reads its keys: a ``!!binary`` key is the text it encodes (pass
    11b: `!!binary aGNfdmF1bHRfdHJhbnNpdF91cmk=` is `hc_vault_transit_uri` to sops, so verify's rules
    check handed sops a branch's Vault address, and a `!!binary YWdl` (`age`) recipient was not
    counted). Shared nodes (YAML aliases) are converted once."""
    memo: dict[int, Any] = {}

    def text_keys(node: Any) -> Any:
        if id(node) in memo:
            return memo[id(node)]
        if isinstance(node, dict):
            out: Any = memo.setdefault(id(node), {})
            for key, value in node.items():
                out[key.decode("utf-8", "replace") if isinstance(key, bytes) else key] = text_keys(
                    value
                )
            return out
        if isinstance(node, list):
            out = memo.setdefault(id(node), [])
            out.extend(text_keys(item) for item in node)
            return out
        if isinstance(node, bytes):  # pass 12b: yaml.v3 reads a `!!binary` VALUE as the text it
            # encodes too (`age: !!binary <base64>`: sops encrypted to the recipients it names, which
            # drift never counted, so an added recipient went unnamed)
            return node.decode("utf-8", "replace")
        return node

    try:
        return text_keys(load_plain(text))
    except RecursionError:
        raise YamlSyntaxError(None, "nested too deep to read") from None


CONFIG_OTHER_KEYS = ("pgp", "kms", "gcp_kms", "azure_keyvault", "hc_vault_transit_uri", "hckms")
GROUP_OTHER_KEYS = ("pgp", "kms", "gcp_kms", "azure_keyvault", "hc_vault", "hckms")
MAX_MERGE_DEPTH = 32  # sops' `merge:` key groups nest; deeper than this is refused, not walked
_TOO_DEEP = "merge (nested too deep to read)"


MAX_GROUPS = 1000  # key groups walked in one rule, merges included (YAML aliases can repeat one)


def _groups(rule: dict) -> list[dict]:
    """The key groups of a creation rule, ``merge:`` groups included at any depth (sops merges each
    group's ``merge`` list into it: an hc_vault there is used like one at the top). Each group is
    walked once however often YAML aliases name it; a group nested deeper than
    :data:`MAX_MERGE_DEPTH`, or more than :data:`MAX_GROUPS` groups, is not walked: a
    ``{_TOO_DEEP: True}`` stands for it, which :func:`config_other_keys` refuses."""
    found: list[dict] = []
    seen: set[int] = set()
    todo = [(g, 0) for g in rule.get("key_groups") or [] if isinstance(g, dict)]
    for group, depth in todo:  # in order, each group before the ones it merges
        if id(group) in seen:  # `&g {merge: [*g, *g]}`: walked once, not 2**depth times
            continue
        seen.add(id(group))
        if len(found) >= MAX_GROUPS:
            found.append({_TOO_DEEP: True})
            break
        found.append(group)
        merged = group.get("merge")
        if isinstance(merged, list):
            if depth >= MAX_MERGE_DEPTH:
                found.append({_TOO_DEEP: True})
                continue
            todo += [(g, depth + 1) for g in merged if isinstance(g, dict)]
    return found


def config_other_keys(text: str) -> list[str]:
    """The master key kinds besides age a ``.sops.yaml``'s creation rules name (in a rule or its
    ``key_groups``, ``merge:`` groups included), each once: sops encrypting with such a rule uses the user's cloud or Vault
    credentials at the address the file gives. YamlSyntaxError when it is not YAML."""
    data: Any = _load_config(text)
    rules = data.get("creation_rules") if isinstance(data, dict) else None
    found: list[str] = []
    for rule in rules if isinstance(rules, list) else []:
        if not isinstance(rule, dict):
            continue
        found += [k for k in CONFIG_OTHER_KEYS if rule.get(k)]
        for group in _groups(rule):
            found += [k for k in (*GROUP_OTHER_KEYS, _TOO_DEEP) if group.get(k)]
    return list(dict.fromkeys(found))


def rule_recipients(rule: dict) -> list[str]:
    """The age recipients of one creation rule: its ``age`` and the ``age`` of each of its ``key_groups``
    (``merge:`` groups included)."""
    groups = [rule, *_groups(rule)]
    return [key for group in groups for key in _split_keys(group.get("age"))]


def _split_keys(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    return [str(k).strip() for k in items if str(k).strip()]
