"""Pure parsing and validation of dotenv files, the way sops 3.11 sees them.

sops splits each line at the first ``=`` and keeps both sides byte for byte
(quotes, ``export``, spaces, ``\\r`` are all part of the name or value), so most
files round-trip exactly.  This module refuses the few shapes sops would alter
or mishandle (see docs/SOPS_NOTES.md).  It reports names only: no value ever
reaches a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from juniper_rollout.errors import RepoError, RolloutError
from juniper_rollout.secretshape import is_random_name, is_token_name, issued_tokens

BOM = b"\xef\xbb\xbf"
UNENCRYPTED_SUFFIX = "_unencrypted"  # sops' default unencrypted_suffix
RESERVED_PREFIX = "sops_"  # sops stores its metadata under this prefix
# What a variable name may be: a shell/Python identifier. Anything else on the left of '='
# (a pasted token with base64 padding, `sk-ant-…=x`) would be stored by sops as a plaintext
# name and printed as one, so it is refused and never echoed.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Identifiers that are really credentials (hf_…, sk_live_…, npm_…, AIza…, ghp_…, AKIA…) are refused the
# same way: juniper_rollout/secretshape.py holds the one list of token shapes (discovery uses it too).


class DotenvError(RolloutError):
    """A dotenv file sops would not round-trip faithfully: ``PATH:LINE: reason (fix)``."""

    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        super().__init__(f"{path}:{line}: {reason}")


def bare_name(raw: str) -> str:
    """The variable name in a raw sops key: without a BOM, ``export `` or surrounding blanks."""
    name = raw.lstrip("\ufeff").strip(" \t")
    if name.startswith(("export ", "export\t")):
        name = name[len("export") :].lstrip(" \t")
    return name


def sops_form(plaintext: bytes) -> tuple[bytes, tuple[str, ...]]:
    """The file as sops will store it, and what differs, said out loud (never silently).

    sops drops blank lines, rejects whitespace-only ones and ends the file with a
    newline; values are untouched. Encrypting this form round-trips exactly.
    """
    if not plaintext:
        return plaintext, ()
    lines = plaintext.split(b"\n")
    final = lines[-1] == b""
    body = lines[:-1] if final else lines
    kept = [line for line in body if line.strip(b" \t\r")]
    notes = []
    if len(kept) != len(body):
        dropped = len(body) - len(kept)
        notes.append(f"{dropped} blank line{'s' if dropped != 1 else ''} not kept by sops")
    if not final:
        notes.append("final newline added")
    return b"".join(line + b"\n" for line in kept), tuple(notes)


def parse_names(plaintext: bytes, *, path: str = ".env") -> list[str]:
    """Variable names in file order; DotenvError for anything sops would not round-trip."""
    if not plaintext:
        return []
    body = plaintext[len(BOM) :] if plaintext.startswith(BOM) else plaintext
    if body is not plaintext and body.startswith(b"#"):
        raise DotenvError(
            path,
            1,
            "byte-order mark before a comment (sops would read it as a name, "
            "or fail: save the file as UTF-8 without a BOM)",
        )
    lines = body.split(b"\n")
    for number, line in enumerate(lines, start=1):  # \r\n ends a line; a lone \r does for
        if b"\r" in line.removesuffix(b"\r"):  # python-dotenv, not for sops: other names
            raise DotenvError(
                path,
                number,
                "carriage return inside the line (old Mac line ends?): python-dotenv ends a line "
                "there, sops does not; save the file with \\n line ends",
            )
    if lines[-1] != b"":
        raise DotenvError(path, len(lines), "no newline at end of file (sops adds one: add it)")
    names: list[str] = []
    first_seen: dict[str, int] = {}
    for number, line in enumerate(lines[:-1], start=1):
        name = _line_name(line, path, number)
        if name is None:
            continue
        if name in first_seen:
            raise DotenvError(
                path,
                number,
                f"duplicate name {name} (also on line {first_seen[name]}): keep only one",
            )
        first_seen[name] = number
        names.append(name)
    return names


def _line_name(line: bytes, path: str, number: int) -> str | None:
    """The name a line defines, None for a comment; DotenvError otherwise."""
    if line.startswith(b"#"):
        return None
    if not line:
        raise DotenvError(path, number, "blank line (sops drops it: remove it or write #)")
    if not line.strip():
        raise DotenvError(path, number, "whitespace-only line (sops rejects it: remove it)")
    if b"=" not in line:
        if line.lstrip().startswith(b"#"):
            raise DotenvError(path, number, "indented comment (sops rejects it: put # first)")
        raise DotenvError(
            path,
            number,
            "line has no '=' (sops rejects it; a multi-line value? put it on one line with \\n)",
        )
    raw_name, value = line.split(b"=", 1)
    name = _checked_name(raw_name, path, number)
    _check_value(value, path, number)
    return name


def _checked_name(raw: bytes, path: str, number: int) -> str:
    try:
        name = bare_name(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise DotenvError(path, number, "name is not valid UTF-8 (rename it)") from None
    if name.startswith("#"):
        raise DotenvError(
            path, number, "indented comment with '=' (sops would store it as a name: put # first)"
        )
    if not name:
        raise DotenvError(path, number, "no name before '=' (add one or delete the line)")
    if not name.isprintable() or " " in name:
        raise DotenvError(path, number, "name contains spaces or control characters (rename it)")
    if not IDENTIFIER.fullmatch(name):  # never echoed: it may be a secret
        raise DotenvError(
            path,
            number,
            "text before '=' is not a variable name (letters, digits, _; not starting with a digit): "
            "a pasted secret? rename the variable or remove the line",
        )
    if is_credential_name(name):  # never echoed
        raise DotenvError(
            path,
            number,
            "text before '=' is shaped like a credential (a known token prefix and length, or a long "
            "random run), not a variable name: a pasted secret? remove the line (and "
            "rotate that credential)",
        )
    if name.startswith(RESERVED_PREFIX):
        raise DotenvError(
            path, number, f"name {name} starts with {RESERVED_PREFIX} (reserved by sops: rename it)"
        )
    if name.endswith(UNENCRYPTED_SUFFIX):
        raise DotenvError(
            path,
            number,
            f"name {name} ends with {UNENCRYPTED_SUFFIX}, so sops would store its value "
            "in plaintext (rename it)",
        )
    return name


def _check_value(value: bytes, path: str, number: int) -> None:
    """Refuse an opening quote never closed on its line (the start of a multi-line value), and a value
    of only ``=`` (padded base64 pasted on a line of its own, split by sops at its first ``=``)."""
    text = value.rstrip(b"\r").strip(b" \t")
    if text and not text.strip(b"="):  # never echoed: the name is the rest of a secret
        raise DotenvError(
            path,
            number,
            "line is text followed by only '=' (padded base64: a pasted secret?), not NAME=VALUE: "
            "remove the line (and rotate that credential)",
        )
    quote = text[:1]
    if quote in (b'"', b"'") and quote not in text[1:]:
        raise DotenvError(
            path,
            number,
            "quote not closed on this line (sops has no multi-line values: "
            "put the value on one line with \\n)",
        )


def is_credential_name(name: str) -> bool:
    """A "name" shaped like a credential (a known token, or a long random run): a pasted secret."""
    stem = name.removeprefix(RESERVED_PREFIX).removesuffix(UNENCRYPTED_SUFFIX)
    return _names_a_token(name) or is_random_name(stem)


def _names_a_token(name: str) -> bool:
    """A "name" holding a known token (an issuer's prefix and shape)."""
    stem = name.removeprefix(RESERVED_PREFIX).removesuffix(UNENCRYPTED_SUFFIX)
    # pass 30b: a name that is no identifier holding a token at its issued length (`glpat-` and 20,
    # `hvs.` and 24, `GOCSPX-` and 28: no identifiers, so no name shapes) was none: drift and verify
    # said nothing of it, and one in 10-70 read as words joined by '.' or '-', told "put its value
    # under a variable name", never "rotate that credential". A digit or capital in it: lower-case
    # words after a prefix (`slack.xoxb-token-for-workspace-bot`) are a teammate's name, not a token
    return (
        is_token_name(name)
        or is_token_name(stem)
        or (
            not IDENTIFIER.fullmatch(name)
            and any(re.search(r"[0-9A-Z]", token) for token in issued_tokens(name))
        )
    )


def _unnamed(name: str) -> bool:
    """A committed sops file's key that is no variable name or shaped like a credential: a token
    pasted as a name, which sops kept in clear (pass 6, pass 21b: 13.8)."""
    return not IDENTIFIER.fullmatch(name) or is_credential_name(name)


def unnamed(names: tuple[str, ...]) -> int:
    """How many of ``names`` are :func:`_unnamed`."""
    return sum(map(_unnamed, names))


def named(names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` without those :func:`unnamed` counts: never echoed nor copied anywhere."""
    return tuple(n for n in names if not _unnamed(n))


# a word, or words run together in camel case (`webhookSecret`, `driverClassName`, `apiURL`, pass
# 28a: Spring's and a YAML file's keys; they were dropped with their values), or digits and an acronym
# (`2FA`); pass 29a: or a word with digits between letters of one case (`e2e`, `k8s`, `i18n`,
# `log4j2`, `K8S`) or after a leading digit (`1password`, `2fa`, `4o`), and a version in camel case
# (`apiKeyV2`, `dbV2Password`); not a token's piece of one or two mixed-case letters and digits (`aB`,
# `fG7h`, `3dE5`). One group of digits inside a word: a UUID pasted as a name stays no words (but for 0.3%).
# Pass 29e: and camel case after a word led by digits (`2faSecret`, `3DSecure`) and an acronym with a
# digit inside (`AzureAdB2C`, `adB2C`): they were dropped with their values. Pass 30b: and an acronym
# of two or more capitals and digits before another word (`awsEC2InstanceId`, `jwtHS256Secret`),
# and a capitalised word with digits inside (`Neo4j`, `K8s`, `Log4j2`)
_WORD = re.compile(
    r"(?:[a-z]+(?:[0-9]+[a-z]+)?|[A-Z]+(?:[0-9]+[A-Z]+)?[a-z]*|[A-Z][a-z]*[0-9]+[a-z]+)[0-9]*"
    r"(?:[A-Z]+[a-z]+[0-9]*|[A-Z][0-9]+(?:[A-Z](?![a-z]))?|[A-Z]{2,}[0-9]+(?=[A-Z][a-z]))*"
    r"(?:[A-Z]{2,}[0-9]*)?"
    r"|(?:[0-9]+[A-Z]*|[0-9]+[a-z]+)(?:[A-Z]+[a-z]+[0-9]*)*"
)


def worded(name: str) -> bool:
    """A committed name that is no identifier but words joined by ``.`` or ``-``
    (``stripe-webhook-secret``, ``app.db.password``: node's and Ruby's dotenv and a YAML file read it
    as a variable), not a token pasted as a name (``sk-aB-3dE5-fG7h``: pieces, not words). Its value
    is a real one: it is dropped only once the plaintext holds it under a variable name (pass 27d)."""
    # pass 30b's note: words even where the whole reads as a random run (no `_` in 20+ characters:
    # `pricing.claude-3-5-sonnet-20241022`, `chacha20poly1305.key`), which were dropped with their
    # values as credentials; kept so, never shown. It is still "shaped like a credential" wherever
    # a value is looked for (drift's history scan): 1-7% of random runs joined by '.' or '-' are words
    return not _names_a_token(name) and _words(name)


def _words(name: str) -> bool:
    """``name`` is no identifier and each of its parts between ``.``, ``_`` and ``-`` is a word."""
    if IDENTIFIER.fullmatch(name):
        return False
    parts = re.split(r"[._-]", name)
    # a word is ASCII letters and digits, at most WORD_LONGEST of them: read by the expression alone,
    # a part of capitals ending in another character took time growing with the square of its
    # length (pass 29a's note: 5 s for 5,000, so a committed name of a megabyte held plan for hours)
    return len(parts) > 1 and all(
        len(part) <= WORD_LONGEST and part.isascii() and part.isalnum() and _WORD.fullmatch(part)
        for part in parts
    )


WORD_LONGEST = 64  # letters and digits in one word of a worded name (`stripe-webhook-secret`)


def held_names(
    names: tuple[str, ...], target: str, where: str, way_out: Callable[[bool | None], str]
) -> tuple[str, ...]:
    """``names`` read from a committed sops file's keys, refused (never echoed) when one is shaped like a
    credential: sops keeps names in clear, so printing or copying them into ``.env.example`` would
    spread the secret (pass 6). Pass 21b (13.8): and one that is no identifier, as verify's check
    refuses it (a token of short pieces pasted as a name, `sk-aB-3dE5-fG7h=`, which plain sops kept,
    was printed by plan as a name the clone's `.env` lacked). ``way_out(worded)`` says what removes it
    from where it is (pass 27b: a bare `sops edit TARGET` named no clone and no branch, and pasted in the
    clone found no such file while the file was on a branch only); ``worded``: every such name is
    :func:`worded`, a real variable's, whose value is kept under a variable name, not rotated; None:
    some are, beside others shaped like a credential."""
    bad = unnamed(names)
    if not bad:
        return names
    words = sum(map(worded, names))
    if bad == words:
        raise RepoError(
            f"{target} {where} holds {bad} name{'s' if bad != 1 else ''} that "
            f"{'is' if bad == 1 else 'are'} no variable name (words joined by '.' or '-'; not "
            f"shown): {way_out(True)}"
        )
    if words:
        # pass 28e: beside a token pasted as a name, a worded one was called a credential too, and
        # "delete that line" dropped its value: the next plan refused for the value `.env` lacked
        raise RepoError(
            f"{target} {where} holds {bad} names shaped like a credential or no variable name "
            f"(sops keeps names in clear: they are readable in git), {words} of them words joined "
            f"by '.' or '-' (a real variable's); not shown: rotate the other "
            f"{'one' if bad - words == 1 else 'ones'}, then {way_out(None)}"
        )
    raise RepoError(
        f"{target} {where} holds {bad} name{'s' if bad != 1 else ''} shaped like a credential "
        "or no variable name (sops keeps names in clear: it is readable in git); not shown: "
        f"rotate that credential, then {way_out(False)}"
    )
