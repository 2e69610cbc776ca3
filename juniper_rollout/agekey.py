"""What an age key looks like, in one place: a recipient (public key) sops accepts, an identity line
(private key) and its public key, a placeholder, a key shortened for a message. Pure: pyrage parses,
nothing is read or written (finding keys on the machine is keys.py)."""

from __future__ import annotations

import pyrage
from pyrage import x25519


def is_valid_recipient(s: str) -> bool:
    """Whether ``s`` is an age X25519 public key sops accepts (lowercase ``age1`` + bech32)."""
    if not s.startswith("age1"):
        return False
    try:
        x25519.Recipient.from_str(s)
    except pyrage.RecipientError:
        return False
    return True


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
            out.append(str(x25519.Identity.from_str(line).to_public()))
        except pyrage.IdentityError:
            raise NotAnIdentity(number) from None
    return out
