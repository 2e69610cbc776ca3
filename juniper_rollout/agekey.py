"""What an age key looks like, in one place: a recipient (public key) sops accepts, an identity line
(private key) and its public key, a placeholder, a key shortened for a message. Pure: pyrage parses,
nothing is read or written (finding keys on the machine is keys.py)."""

from __future__ import annotations

import pyrage
from pyrage import x25519


def is_valid_recipient(s: str) -> bool:
    """Whether ``s`` is an age X25519 public key sops accepts (lowercase ``age1`` + bech32, and not
    a point of small order, which sops refuses: "bad X25519 remote ECDH input: low order point")."""
    if not (
        s.startswith("age1") and s.isascii()
    ):  # pass 22c: pyrage cannot encode a lone surrogate
        return False
    try:
        x25519.Recipient.from_str(s)
    except pyrage.RecipientError:
        return False
    return not is_low_order(_bech32_bytes(s))


_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_P = 2**255 - 19
# the u-coordinates of X25519's points of order 1, 2, 4 and 8 (RFC 7748; the list libsodium and Go's
# crypto/ecdh refuse): every key encoding one of them, however spelled, shares an all-zero secret
_LOW_ORDER = frozenset(
    (
        0,
        1,
        _P - 1,
        0x00B8495F16056286FDB1329CEB8D09DA6AC49FF1FAE35616AEB8413B7C7AEBE0,
        0x57119FD0DD4E22D8868E1C58C45C44045BEF839C55B1D0B1248C50A3BC959C5F,
    )
)


SMALL_ORDER = (
    'is an age key of small order: sops refuses to encrypt to it ("low order point"), and no '
    "one holds its private key; use a key made by `rollout keygen`"
)


def is_small_order_recipient(s: str) -> bool:
    """A well-formed age recipient whose point has small order (see :data:`SMALL_ORDER`)."""
    if not (s.startswith("age1") and s.isascii()):  # bytes no UTF-8 decodes (`--add $'\xff'`)
        return False
    try:
        x25519.Recipient.from_str(s)
    except pyrage.RecipientError:
        return False
    return s.startswith("age1") and is_low_order(_bech32_bytes(s))


def is_low_order(key: bytes) -> bool:
    """Whether a 32-byte X25519 public key is a point of small order (top bit ignored, as X25519 does)."""
    u = int.from_bytes(key, "little") & ((1 << 255) - 1)
    return u % _P in _LOW_ORDER


def _bech32_bytes(s: str) -> bytes:
    """The 32 bytes a recipient's bech32 data part holds (its checksum already checked by pyrage)."""
    data = s.rpartition("1")[2][:-6]  # the data part without the 6-character checksum
    bits = "".join(format(_BECH32.index(c), "05b") for c in data.lower())
    return int(bits[: len(bits) // 8 * 8], 2).to_bytes(len(bits) // 8, "big")


def is_placeholder(value: str) -> bool:
    """A recipient slot not filled in yet (``age1<PUBLIC_KEY_HERE>``, ``<your key>``)."""
    return "<" in value or "PUBLIC_KEY" in value.upper()


def short(key: str) -> str:
    """A key as messages show it: the first 12 characters and an ellipsis (short values whole)."""
    return key if len(key) <= 16 else key[:12] + "…"


class NotAnIdentity(ValueError):
    """A line of an identity file that is not an age identity (the line is secret: only its number is kept)."""

    def __init__(self, line: int) -> None:
        super().__init__(f"line {line} is not an age identity")
        self.line = line


def public_keys_of(text: str, *, strip: bool = False) -> list[str]:
    """Public keys of the age identities in ``text``, in order, read line by line as sops does (no
    trimming; ``strip`` trims each line, for a file the tool wrote itself). Comments, blank lines and
    plugin identities (``AGE-PLUGIN-…``: their recipient is known only to the plugin) are passed over.
    NotAnIdentity (a ValueError) naming the line number when a line is not an identity; the line itself
    is secret and never shown."""
    out = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip() if strip else line.removesuffix("\r")
        if not line or line.startswith("#") or line.startswith("AGE-PLUGIN-"):
            continue
        try:
            if (
                not line.isascii()
            ):  # pass 22c: `SOPS_AGE_KEY=$'…\xff'` reached pyrage as a lone surrogate
                raise NotAnIdentity(number)
            out.append(str(x25519.Identity.from_str(line).to_public()))
        except pyrage.IdentityError:
            raise NotAnIdentity(number) from None
    return out
