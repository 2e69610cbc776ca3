"""Credentials in URLs (``https://x-access-token:TOKEN@host/…``): stripped before a URL is stored
or printed, redacted from every message that might repeat them. Pure, stdlib only."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def userinfo(url: str) -> str:
    """The ``user:password`` part of ``scheme://user:password@host/…`` ('' if none)."""
    if "://" not in url:
        return ""  # scp-like git@host:path names a login, not a credential
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        netloc = url.split("://", 1)[1].split("/", 1)[0]
    return netloc.rpartition("@")[0]


def strip_userinfo(url: str) -> str:
    """``url`` without its user-info (an ssh login without a password is kept: it is no secret)."""
    info = userinfo(url)
    if not info:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    user, has_password, _ = info.partition(":")
    keep = f"{user}@" if parts.scheme == "ssh" and not has_password else ""
    return urlunsplit(parts._replace(netloc=keep + host))


def redact(text: str, *urls: str | None) -> str:
    """``text`` with the user-info of ``urls`` (whole and in pieces) replaced by ``***``."""
    for url in urls:
        info = userinfo(url or "")
        if not info:
            continue
        pieces = sorted({info, *info.split(":")}, key=len, reverse=True)
        for piece in pieces:
            if len(piece) >= 3:
                text = text.replace(piece, "***")
    return text
