"""Credentials in URLs (``https://x-access-token:TOKEN@host/…``, ``https://host/r.git?token=TOKEN``):
stripped before a URL is stored or printed, redacted from every message that might repeat them.
Pure, stdlib only. The public functions take a URL as git reads it, a ``<transport>::`` prefix and
all, and take that prefix off once; the private readers (``_userinfo``, ``_query``, …) read the address."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

from juniper_rollout.secretshape import carries_credential

# git's `<transport>::<address>` (a remote helper: `https::https://…`, `persistent-https::…`,
# `codecommit::…`): git hands the address to `git remote-<transport>`, credentials and all. The scheme's
# characters as git's is_urlschemechar reads them: a digit may come first (pass 20d: `1::https://x:TOKEN@…`
# was read as no URL, and sync printed it in "git clone … failed"), and leading blanks or control
# characters, which Python's urlsplit drops from a URL, are kept with the transport (` https::…`, quoted
# in the manifest, was read as a scheme `https` with no host)
# (all of them: `git::https::https://x:TOKEN@…` nests one in another)
_TRANSPORT = re.compile(r"((?:[\x00-\x20]*[A-Za-z0-9][A-Za-z0-9+.-]*::)+)(.*)", re.DOTALL)


def _transport(url: str) -> tuple[str, str]:
    """(``<transport>::``, the address) of a URL in git's remote-helper form; ('', ``url``) otherwise.
    A nested ``a::b::…`` gives (``a::b::``, what follows the last ``::``).
    Pass 20b (13.7): `url: https::https://x:TOKEN@host/r.git` passed the manifest's credential refusal
    (every reading here saw a URL with no host), and sync printed it in "git clone … failed"."""
    found = _TRANSPORT.fullmatch(url)
    return (found[1], found[2]) if found else ("", url)


def runs_a_command(url: str) -> bool:
    """True for a URL git hands its ``ext`` or ``fd`` remote helper (``ext::sh -c …``, ``ext://…``,
    ``fd::3``): a command to run, or file descriptors, instead of a repository's address."""
    helper, address = _transport(url)
    scheme = helper.strip().partition("::")[0] if helper else address.strip().partition("://")[0]
    if not helper and "://" not in address:
        return False
    return scheme.lower() in ("ext", "fd")


def misread_userinfo(url: str) -> str:
    """``_misread_userinfo`` of the URL's address (git's ``<transport>::`` taken off)."""
    return _misread_userinfo(_transport(url)[1])


def _misread_userinfo(url: str) -> str:
    """The ``user:password`` of ``scheme://user:pa/ss@host/…`` whose password holds an unencoded ``/``,
    ``?`` or ``#`` ('' if none): every URL parser (Python's, curl's, git's) ends the host there, so
    the password was printed whole ("git clone https://user:pa/ss@… failed", and git's own error) or
    in part (``https://user:pa`` for a ``?``), and a manifest ``url:`` holding it was not refused
    (pass 10b). A ``host:port`` (digits) before the ``/`` is no password. Likewise a token given as
    the user name (``scheme://to/ken@host/…``) when what follows its ``@`` is a host and what comes
    before the ``/`` is none (no dot)."""
    if "://" not in url:
        return ""
    rest = url.split("://", 1)[1]
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    head, at = rest[:cut], rest.find("@", cut)
    if at < 0 or head.startswith("["):
        return ""
    if "@" in head:
        # pass 12b: a password holding an '@' and then a '/' (`u:p@ssw0rd/SECRET@host`): git reads
        # `ssw0rd` as the host and printed the rest; a host after the '@' (`u:tok@github.com/r@v1.2`)
        # is the usual reading
        if ":" not in head.partition("@")[0] or _HOST.fullmatch(head.rpartition("@")[2]):
            return ""
        host_end = min((i for i in (rest.find(c, at) for c in "/?#") if i >= 0), default=len(rest))
        info, _, host = rest[:host_end].rpartition("@")
        return info if _HOST.fullmatch(host) else ""
    if head.partition(":")[2].isdigit():
        return ""
    host_end = min((i for i in (rest.find(c, at) for c in "/?#") if i >= 0), default=len(rest))
    info, _, host = rest[:host_end].rpartition("@")
    if ":" not in head and ("." in head or head == "localhost" or not _HOST.fullmatch(host)):
        # pass 11b: a token given as the user name (`https://ghpA/SECRET@github.com/…`) was printed
        # whole; `https://host/p@x` or `https://github.com/o/r@v1` names a host before the path
        return ""
    return info


# what follows the `@` of a token given as the user name: a dotted host name, an IPv4 address,
# localhost, or a bracketed IPv6 address, with a port or not
_HOST = re.compile(
    r"(?:(?:[A-Za-z0-9-]+\.)+[A-Za-z][A-Za-z0-9-]*|\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9A-Fa-f:.]+\])"
    r"(?::\d*)?"
)


# a URL typed without its `://` (`https:/x:TOKEN@host/…`, `https//…`, `//x:TOKEN@host/…`): git reads it
# as a path or an ssh host and its error says so, but what comes before the `@` of the first segment is
# the credential typed for it (pass 20d, 13.7: the manifest took it and sync printed it whole)
# as is one with no host before its path (`https:///x:TOKEN@intranet/…`), which curl reads as the host
# `intranet` with that user-info, and git repeated whole in "unable to access '…'"
_MISTYPED = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+:?)?/+([^/?#]*)@")
_SSH_SCHEMES = ("ssh", "git+ssh", "ssh+git")


def _mistyped(url: str) -> re.Match[str] | None:
    """``_MISTYPED``'s match for a URL with no ``://``, or with nothing between it and the next ``/``."""
    if "://" in url and not re.match(r"[^/?#]*:///", url):
        return None
    return _MISTYPED.match(url)


def userinfo(url: str) -> str:
    """The ``user:password`` part of ``scheme://user:password@host/…`` ('' if none); in scp-like
    syntax only a ``user:password@`` (``git@host:path`` names a login, not a credential)."""
    return _userinfo(_transport(url)[1])


def _userinfo(url: str) -> str:
    misread = _misread_userinfo(url)
    if misread:
        return misread
    mistyped = _mistyped(url)
    if "://" not in url or mistyped:
        if mistyped:
            scheme, info = (mistyped[1] or "").rstrip(":").lower(), mistyped[2]
            secret = ":" in info or carries_credential(unquote(info))
            return info if secret or scheme not in ("", *_SSH_SCHEMES) else ""
        head = url.split("/", 1)[0]
        info = head.rpartition("@")[0] if "@" in head else ""
        return info if ":" in info else ""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        netloc = url.split("://", 1)[1].split("/", 1)[0]
    return netloc.rpartition("@")[0]


def query(url: str) -> str:
    """The query string and fragment of ``scheme://host/path?query#fragment`` ('' if none): a token
    passed as ``?token=…`` or ``?access_token=…`` travels there."""
    return _query(_transport(url)[1])


def _query(url: str) -> str:
    if "://" not in url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        rest = url.split("://", 1)[1]
        cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=-1)
        return rest[cut + 1 :] if cut >= 0 else ""
    return "#".join(p for p in (parts.query, parts.fragment) if p)


def _hostless_password(url: str) -> str:
    """For ``scheme://user:TOKEN`` with no ``@`` before the path (the host forgotten, or cut off: ``--url
    "https://x-access-token:$TOKEN"``): the text after the ``:``, which no parser reads as a port ('' for a
    port of digits, a bracketed host, or a URL with an ``@``). git printed it whole ("unable to access
    'https://x-access-token:ghp_…/'") and the manifest took it as a host (pass 14b)."""
    if "://" not in url:
        return ""
    rest = url.split("://", 1)[1]
    authority = rest[: min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))]
    if "@" in rest or authority.startswith("["):
        return ""
    host, _, port = authority.partition(":")
    if not port or port.isdigit():
        return ""
    if ("." in host or host.lower() == "localhost") and not carries_credential(port):
        # `https://github.com:org/r.git`: a malformed URL, no secret (pass 15: but a token after a
        # dotted user name, `https://jane.doe:ghp_…`, was printed whole)
        return ""
    # the password runs on past a `/` it holds (`https://u:abc/def`: "/def" was printed)
    return rest[len(host) + 1 :]


def strip_userinfo(url: str) -> str:
    """``url`` without its user-info, query string and fragment (an ssh login without a password is
    kept: it is no secret)."""
    helper, address = _transport(url)
    if helper:
        return helper + strip_userinfo(address)
    hostless = _hostless_password(url)
    if hostless:
        return strip_userinfo(url.replace(":" + hostless, "", 1))
    info = _userinfo(url)
    if not info and not _query(url):
        return url
    if "://" not in url:  # scp-like: user:password@host:path
        return url.replace(info + "@", "", 1)
    if info and _mistyped(url) and info != _misread_userinfo(url):  # `https:///x:TOKEN@intranet/…`
        return strip_userinfo(url.replace(info + "@", "", 1))
    if info and info == _misread_userinfo(url):  # the host is what follows the password
        return strip_userinfo(url.replace(info + "@", "", 1))
    try:
        parts = urlsplit(url)._replace(query="", fragment="")
    except ValueError:
        # pass 13b: urlsplit checks the first `[…]` of the netloc as an IPv6 host even in the
        # user-info (`https://[user]:[TOKEN]@host/…`, a filled-in placeholder from a guide): a
        # traceback, `ValueError: 'u:TOKEN' does not appear to be an IPv4 or IPv6 address`
        scheme, _, rest = url.partition("://")
        rest = rest.replace(info + "@", "", 1) if info else rest
        cut = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
        return f"{scheme}://{rest[:cut]}"
    if not info:
        return urlunsplit(parts)
    host = parts.netloc.rpartition("@")[2]
    user, has_password, _ = info.partition(":")
    keep = f"{user}@" if parts.scheme == "ssh" and not has_password else ""
    return urlunsplit(parts._replace(netloc=keep + host))


def names_a_login_only(url: str) -> bool:
    """True for ``scheme://user@host/…`` whose user is a login name, not a credential (Bitbucket's own
    clone URLs, ``https://jane@bitbucket.org/…``): no password, no query, and a user name that is no
    token shape nor a long random run. Its password is the user's credential helper's to give."""
    url = _transport(url)[1]
    info = _userinfo(url)
    return bool(
        info
        and ":" not in info
        and not _query(url)
        and not _hostless_password(url)
        and not carries_credential(unquote(info))
    )


def redact(text: str, *urls: str | None) -> str:
    """``text`` with the user-info and query string of ``urls`` (whole and in pieces) replaced by ``***``."""
    for url in (_transport(u or "")[1] for u in urls):
        info, extra = _userinfo(url), _query(url)
        hostless = _hostless_password(url)
        if hostless:
            text = re.sub(re.escape(hostless), "***", text, flags=re.IGNORECASE)
        if not info and not extra:
            continue
        user, has_password, password = info.partition(":")
        # the password, or a token given as the user name; an ssh login alone is no secret (and
        # redacting a user such as `git` would garble every "git clone" in the message)
        login = _scheme(url) == "ssh" and not re.search(r"[/?#]", user)
        secret = password if has_password else "" if login else user  # `to/ken@` is no ssh login
        secrets = {secret, unquote(secret)}  # as written, and as git decodes %-escapes
        # pass 13b: git prints a user-info from after its FIRST '@' (`https://u@TOKEN:x@host` gave
        # "unable to access 'https://TOKEN:x@host/…'"), and reads `u:p@ssw0rd/TOKEN@gitserver` as the
        # host `ssw0rd` (no host shape after the last '@' for misread_userinfo to go by): those are secret too
        if has_password and "@" in user:
            secrets.add(user.partition("@")[2])
        # pass 20b: a token given as the user name beside a placeholder password (GitHub's
        # `https://TOKEN:x-oauth-basic@…`): the password alone was redacted
        if has_password and carries_credential(unquote(user)):
            secrets |= {user, unquote(user)}
        secrets.add(_ambiguous_password(url))
        # in pieces too: git's "Could not resolve host: PART" names the part before a '/' (pass 11b)
        pieces = {*secrets, *(p for s in secrets for p in re.split(r"[@/?#\[\]]", s)), extra}
        pieces |= set(extra.split("#"))
        for part in extra.split("#"):
            pieces |= {v for _, v in parse_qsl(part, keep_blank_values=True)}
            pieces |= set(part.replace(";", "&").split("&"))
        for piece in sorted(pieces, key=len, reverse=True):
            if len(piece) >= 3:  # in any case: ssh says "Could not resolve hostname" in lower case
                text = re.sub(re.escape(piece), "***", text, flags=re.IGNORECASE)
    return text


def _ambiguous_password(url: str) -> str:
    """For ``scheme://user:pass@word/…@host…`` whose host (after the first segment's last ``@``) has no
    host shape: the password as read up to the URL's LAST ``@`` ('' otherwise). git reads ``word`` as
    the host and prints the rest; redacting it too costs only a path piece of a rare URL."""
    if "://" not in url:
        return ""
    rest = url.split("://", 1)[1]
    rest = rest[: min((i for i in (rest.find(c) for c in "?#") if i >= 0), default=len(rest))]
    head = rest.split("/", 1)[0]
    if "@" not in head or ":" not in head.partition("@")[0] or "@" not in rest[len(head) :]:
        return ""
    if _HOST.fullmatch(head.rpartition("@")[2]):
        return ""
    return rest.rpartition("@")[0].partition(":")[2]


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine: ``localhost``, or a loopback address (``127.0.0.1``,
    ``::1``). Pass 20g: a name starting ``127.`` passed (``http://127.evil.example/api/v3``, any host
    its owner points there), so the GitHub token went in clear to it."""
    import ipaddress

    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _scheme(url: str) -> str:
    """The URL's scheme in lower case ('' for scp-like syntax or a URL urlsplit cannot read)."""
    try:
        return urlsplit(url).scheme.lower() if "://" in url else ""
    except ValueError:
        return ""


# GitHub's own rules for OWNER/NAME: what `github:` in the manifest must be, and what a remote URL
# must give (`https://github.com/../user.git` names no repository: its `..` would be a path in the
# API call made with the user's token)
SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")


def is_slug(text: str) -> bool:
    """True for a GitHub OWNER/NAME (a name is never ``.`` or ``..``)."""
    # fullmatch: `$` alone also matches before a final newline ("owner/name\n" passed, pass 7)
    return SLUG.fullmatch(text) is not None and text.split("/", 1)[1] not in (".", "..")


def network_git_env() -> dict[str, str]:
    """What every git that talks to a remote gets: no password prompt (a push or fetch never waits at
    "Username for …"), and an http(s) transfer that stalls (less than 1 byte a second for 60 s: a server
    that accepts and never answers) ends with git's own one-line error instead of waiting for ever
    (pass 10a: `apply --push` and `sync` hung). A limit the user set in the environment is kept."""
    import os

    env = {"GIT_TERMINAL_PROMPT": "0"}
    for name, value in (("GIT_HTTP_LOW_SPEED_LIMIT", "1"), ("GIT_HTTP_LOW_SPEED_TIME", "60")):
        if name not in os.environ:
            env[name] = value
    return env


# origin's URLs, and the URLs git rewrites them into (`url.<URL>.insteadOf`: git repeats the rewritten
# URL, query-string token included, in its errors; pass 10b); every remote's (pass 21b: a partial
# clone's promisor remote, which git fetches from while the tool reads, need not be origin)
ORIGIN_URLS = r"^remote\..*\.(push)?url$|^url\..*\.(push)?insteadof$"


def origin_urls(config: str) -> list[str]:
    """The URLs in ``git config --get-regexp ORIGIN_URLS`` output: values, and insteadOf keys' URLs."""
    urls = []
    for line in config.splitlines():
        key, _, value = line.partition(" ")
        if key.startswith("url.") and key.endswith(("insteadof", "insteadOf")):
            urls.append(key[len("url.") :].rpartition(".")[0])
        else:
            urls.append(value)
    return urls


def refuse_credential(option: str, value: str | None) -> None:
    """RolloutError, quoting nothing, for an option's ``value`` holding a URL with a password or a
    token shape where no URL belongs (pass 16b's note: a clone URL pasted as `--ref` was repeated in
    every repo's line)."""
    from juniper_rollout.errors import RolloutError
    from juniper_rollout.secretshape import AGE_PRIVATE_KEY, template_credential

    if value is not None and AGE_PRIVATE_KEY.search(value):  # the run's title printed it (pass 18b)
        raise RolloutError(
            f"{option} holds an age private key; nothing read (pass a branch, a tag or a commit id)"
        )
    if value is not None and re.search(
        r"[\x00-\x1f\x7f]|^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*=", value
    ):
        raise RolloutError(  # pass 19b: `--ref "$(cat .env)"` was the run's title, values and all
            f"{option} holds a line break or NAME=value text (a .env pasted?), which no ref name "
            "holds; nothing read (pass a branch, a tag or a commit id)"
        )
    # pass 26e: a token at its issued length (a branch `feat/hf_transfer` was refused as a token)
    if value is not None and template_credential(value):
        raise RolloutError(
            f"{option} holds a URL with a password or a token; nothing read (pass a branch, a tag or "
            "a commit id)"
        )
