"""Credentials in URLs (``https://x-access-token:TOKEN@host/…``, ``https://host/r.git?token=TOKEN``):
stripped before a URL is stored or printed, redacted from every message that might repeat them.
Pure, stdlib only."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit, urlunsplit


def userinfo(url: str) -> str:
    """The ``user:password`` part of ``scheme://user:password@host/…`` ('' if none)."""
    if "://" not in url:
        return ""  # scp-like git@host:path names a login, not a credential
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        netloc = url.split("://", 1)[1].split("/", 1)[0]
    return netloc.rpartition("@")[0]


def query(url: str) -> str:
    """The query string and fragment of ``scheme://host/path?query#fragment`` ('' if none): a token
    passed as ``?token=…`` or ``?access_token=…`` travels there."""
    if "://" not in url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        rest = url.split("://", 1)[1]
        cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=-1)
        return rest[cut + 1 :] if cut >= 0 else ""
    return "#".join(p for p in (parts.query, parts.fragment) if p)


def strip_userinfo(url: str) -> str:
    """``url`` without its user-info, query string and fragment (an ssh login without a password is
    kept: it is no secret)."""
    info = userinfo(url)
    if not info and not query(url):
        return url
    parts = urlsplit(url)._replace(query="", fragment="")
    if not info:
        return urlunsplit(parts)
    host = parts.netloc.rpartition("@")[2]
    user, has_password, _ = info.partition(":")
    keep = f"{user}@" if parts.scheme == "ssh" and not has_password else ""
    return urlunsplit(parts._replace(netloc=keep + host))


def redact(text: str, *urls: str | None) -> str:
    """``text`` with the user-info and query string of ``urls`` (whole and in pieces) replaced by ``***``."""
    for url in urls:
        info, extra = userinfo(url or ""), query(url or "")
        if not info and not extra:
            continue
        pieces = {info, *info.split(":"), extra, *extra.split("#")}
        for part in extra.split("#"):
            pieces |= {v for _, v in parse_qsl(part, keep_blank_values=True)}
            pieces |= set(part.replace(";", "&").split("&"))
        for piece in sorted(pieces, key=len, reverse=True):
            if len(piece) >= 3:
                text = text.replace(piece, "***")
    return text
