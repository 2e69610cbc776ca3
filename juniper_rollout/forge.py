"""GitHub, over its REST API (v3) only, through githubkit: where, who, and each call the tool makes.

* API base: ``$GITHUB_API_URL`` (as GitHub Actions sets it), else the manifest's ``forge.api_url``
  (GitHub Enterprise: ``https://HOST/api/v3``), else ``https://api.github.com``.
* Token, as gh chooses one: for github.com (and an API ``$GITHUB_API_URL`` names: the environment
  that holds the token says where it goes, as GitHub Actions sets both) ``$GITHUB_TOKEN``, else
  ``$GH_TOKEN``; for another host the manifest names, ``$GH_ENTERPRISE_TOKEN``, else
  ``$GITHUB_ENTERPRISE_TOKEN``; else ``gh auth token --hostname HOST`` when gh is installed. It is
  handed to the client and nowhere else: never printed, logged, or written.
* Repository: the manifest's ``github: OWNER/NAME``, else parsed from ``url``, else from origin's URL.
* Rate limits as GitHub answers them (githubkit reads ``Retry-After`` and
  ``x-ratelimit-remaining``/``x-ratelimit-reset``, primary and secondary): a wait up to
  ``MAX_WAIT`` seconds is waited out (at most ``RETRIES`` times), a longer one fails the repo
  with the time to come back. Concurrency is bounded by the client's throttler.
* A connection the server (or a proxy) closed as a request went out on it, kept alive from an
  earlier request, is retried once on a new one for requests that can be sent twice (GET, HEAD,
  PUT, PATCH); a POST or DELETE fails the repo with one line rather than risk doing it twice.
* Every failure becomes one :class:`ForgeError` line saying what to do.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from juniper_rollout import proctree
from juniper_rollout.errors import RepoError, RolloutError
from juniper_rollout.urls import is_loopback, is_slug, strip_userinfo

DEFAULT_API = "https://api.github.com"
MAX_WAIT = (
    60.0  # seconds of Retry-After the tool waits out; beyond that the repo fails with the time
)
RETRIES = 3
# requests sent again after the connection dropped without an answer (a kept-alive connection
# closed as the request went out): those that do the same when sent twice
RESENDABLE = frozenset({"GET", "HEAD", "PUT", "PATCH"})
PAGES = 10  # pages of 100 read of check runs, statuses and reviews (a PR's 1,000 checks)
CONCURRENCY = 4  # requests in flight at once (GitHub asks integrators not to send many in parallel)
# the largest answer read: GitHub's largest page (100 pull requests) is ~2 MB; a proxy or a server
# that is not GitHub could send gigabytes (pass 7: 300 MB held 990 MB of memory)
MAX_ANSWER_BYTES = 20_000_000


class ForgeError(RepoError):
    """One repository's GitHub call failed; the line says what to do."""


@dataclass(frozen=True)
class Forge:
    api_url: str
    token: str

    def __repr__(self) -> str:  # the token never shows, not even in a traceback
        return f"Forge(api_url={self.api_url!r})"


def api_url(manifest_url: str | None, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return (env.get("GITHUB_API_URL") or manifest_url or DEFAULT_API).rstrip("/")


GITHUB_COM_TOKENS = ("GITHUB_TOKEN", "GH_TOKEN")
ENTERPRISE_TOKENS = ("GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN")


def find_token(env: Mapping[str, str] | None = None, api: str = DEFAULT_API) -> str:
    """The token for the host of ``api``, as gh picks it: github.com's variables for github.com, or for
    the API ``$GITHUB_API_URL`` names; the enterprise variables for a host only the manifest names
    (pass 20d: a manifest's `forge.api_url` received `$GITHUB_TOKEN`, github.com's token); else gh's
    token for that host (never github.com's for another host: pass 6)."""
    env = os.environ if env is None else env
    host = gh_host(api)
    own = host == "github.com" or host.endswith(".ghe.com") or bool(env.get("GITHUB_API_URL"))
    for name in GITHUB_COM_TOKENS if own else ENTERPRISE_TOKENS:
        if env.get(name, "").strip():
            return _one_token(name, env[name].strip())
    gh = shutil.which("gh", path=env.get("PATH"))
    if gh:
        said = _gh_token_output(
            [gh, "auth", "token", "--hostname", host],
            dict(env) if own else _without_githubs_token(env),
        )
        if said:
            return _one_token(
                "what `gh auth token` printed",
                said,
                "check what it prints (a wrapper of gh printing more?)",
            )
    if own:
        raise RolloutError(
            "no GitHub token: set GITHUB_TOKEN (or GH_TOKEN) to a token with pull-requests: write, "
            "or log in with `gh auth login`"
        )
    held = [name for name in GITHUB_COM_TOKENS if env.get(name, "").strip()]
    raise RolloutError(
        f"no token for {host} (the manifest's forge.api_url)"
        + (f": {held[0]} is github.com's and is not sent there" if held else "")
        + "; set GH_ENTERPRISE_TOKEN to a token of that host with pull-requests: write, or log in "
        f"with `gh auth login --hostname {host}`"
    )


def _gh_token_output(command: list[str], env: dict[str, str]) -> str | None:
    """What ``command`` (`gh auth token`) prints, stripped, when it succeeds within 20 s; at most
    :data:`MAX_TOKEN` characters and a few more, then it is stopped (pass 24i: a `gh` printing
    without end was read whole, 1.5 GB in 1.4 s, until the machine's memory ran out). A byte no
    UTF-8 decodes is U+FFFD, which :func:`_one_token` refuses (it was "unexpected
    UnicodeDecodeError … please report this")."""
    try:
        proc = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            preexec_fn=proctree.dies_with_us(),
        )
    except OSError:
        return None
    timer = threading.Timer(20, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        raw = proc.stdout.read(MAX_TOKEN + 64)
        more = len(raw) > MAX_TOKEN + 63
        if more:
            proc.kill()
        code = proc.wait()
    finally:
        timer.cancel()
        if proc.stdout is not None:
            proc.stdout.close()
    if code != 0 and not more:
        return None
    return raw.decode("utf-8", "replace").strip() or None


def _one_token(where: str, token: str, fix: str = "set it to the token alone") -> str:
    """``token``, unless it holds a space, a line break or another control character, which no token
    holds (pass 24c: `GITHUB_TOKEN="$(cat tokens.txt)"` of a file of two lines was sent, refused by the
    HTTP library, and said "cannot reach GitHub …: LocalProtocolError; check the network"; a token
    of 100 KB was "GitHub answered 431 …; try again later"; pass 24f: so was what `gh auth token`
    printed, a wrapper's notice on its first line; pass 24i: a byte of it no UTF-8 decodes was
    "unexpected UnicodeDecodeError … please report this", and a character outside ASCII, which no
    token holds (a byte order mark, a zero-width space pasted with it), was sent). Never quoted."""
    if len(token) > MAX_TOKEN or re.search(r"[^\x21-\x7e]", token):
        raise RolloutError(
            f"{where} holds a space, a line break, a control character or one outside ASCII, or "
            f"is over {MAX_TOKEN:,} characters: no GitHub token does (two tokens, or a whole file?); {fix}"
        )
    return token


MAX_TOKEN = 4096  # GitHub's tokens are 40 to a few hundred characters (a fine-grained PAT: 93)


# what gh reads as github.com's token for another host: GH_TOKEN/GITHUB_TOKEN for a host it counts as
# github.com's (`*.github.com`, `*.ghe.com`), and GITHUB_TOKEN for any host when CODESPACES is true
GH_READS_AS_GITHUBS = (*GITHUB_COM_TOKENS, "CODESPACES")


def _without_githubs_token(env: Mapping[str, str]) -> dict[str, str]:
    """gh's environment when asked for the token of a host only the manifest names. Pass 20g: gh
    answered `gh auth token --hostname HOST` with $GITHUB_TOKEN in a Codespace (CODESPACES=true, as
    GitHub sets it there), for any HOST, so github.com's token went to the manifest's host anyway."""
    return {k: v for k, v in env.items() if k not in GH_READS_AS_GITHUBS}


def gh_host(api: str) -> str:
    """The host gh keeps the token of ``api`` under: github.com for api.github.com, else the API's host."""
    from urllib.parse import urlsplit

    try:
        host = urlsplit(api).hostname or "github.com"
    except ValueError:  # pass 13b: `https://[u:TOKEN]@…` was a traceback quoting the token
        raise RolloutError(
            f"GitHub API URL {strip_userinfo(api)!r} is not a URL git or Python can read (a '[…]' "
            "that is no IPv6 address?): set GITHUB_API_URL (or forge.api_url) to https://HOST/…"
        ) from None
    return "github.com" if host == "api.github.com" else host


def connect(manifest_url: str | None, env: Mapping[str, str] | None = None) -> Forge:
    api = api_url(manifest_url, env)
    _no_clear_text(api)
    _readable(api)
    return Forge(api, find_token(env, api))


def _readable(api: str) -> None:
    """One line for an API URL the HTTP client refuses (pass 14b: `GITHUB_API_URL=https://x-access-token:TOKEN`,
    the host forgotten, or a port that is no number: httpx's "Invalid port: 'TOKEN'" was a traceback
    quoting the token, in pr, status and cleanup). The client's reason is not repeated: it quotes the URL."""
    import httpx

    try:
        httpx.URL(api + "/")
    except (httpx.InvalidURL, ValueError, TypeError):
        raise RolloutError(
            f"GitHub API URL {strip_userinfo(api)!r} is not a URL the HTTP client can read (a port that "
            "is no number? a host left out?): set GITHUB_API_URL (or forge.api_url) to https://HOST/…"
        ) from None


def _no_clear_text(api: str) -> None:
    """The token goes with every call: never over plain http to another host (pass 6 checked the
    manifest's ``forge.api_url``; pass 7: ``$GITHUB_API_URL`` overrides it, so it is checked here)."""
    if not api.lower().startswith("https://") and not is_loopback(api):
        raise RolloutError(
            f"GitHub API URL {strip_userinfo(api)!r} is not https: the GitHub token would travel in "
            "clear; set GITHUB_API_URL (or forge.api_url) to https://…"
        )


_URL = re.compile(
    r"^(?:[a-z+]+://(?:[^@/]+@)?[^/]+/|[^@/:]+@[^:/]+:)(?P<owner>[^/?#]+)/(?P<name>[^/?#]+?)(?:\.git)?/?(?:[?#].*)?$"
)


def slug_from_url(url: str | None) -> str | None:
    """``OWNER/NAME`` of an https/ssh/scp-style remote URL; None for a local path or file:// URL."""
    if not url or url.startswith("file:") or url.startswith(("/", ".")):
        return None
    match = _URL.match(url.strip())
    found = f"{match['owner']}/{match['name']}" if match else None
    return found if found is not None and is_slug(found) else None


def slug(github: str | None, url: str | None, origin_url: str | None, name: str) -> str:
    found = github or slug_from_url(url) or slug_from_url(origin_url)
    if not found:
        raise RolloutError(
            f"cannot tell which GitHub repository {name} is: add `github: OWNER/NAME` to its "
            "manifest entry"
        )
    return found


# --- the client -------------------------------------------------------------------------------


class AnswerTooLarge(Exception):
    """An answer over MAX_ANSWER_BYTES, or compressed though the tool asked for none."""


def _bound_answer(response) -> None:
    """httpx response hook, run before the body is read: the body is read at most to
    MAX_ANSWER_BYTES. The tool asks for no compression (``Accept-Encoding: identity``), so what
    is counted is what is decoded; an answer compressed anyway is refused (a small gzip can
    inflate to gigabytes)."""
    import httpx

    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_ANSWER_BYTES:
        raise AnswerTooLarge(f"{int(length) // 1_000_000} MB")
    if response.headers.get("content-encoding", "identity").lower() not in ("", "identity"):
        raise AnswerTooLarge("compressed, though the tool asked for no compression")
    raw = response.stream

    class Bounded(httpx.SyncByteStream):
        def __iter__(self):
            seen = 0
            for chunk in raw:
                seen += len(chunk)
                if seen > MAX_ANSWER_BYTES:
                    raise AnswerTooLarge(f"over {MAX_ANSWER_BYTES // 1_000_000} MB")
                yield chunk

        def close(self) -> None:
            raw.close()

    response.stream = Bounded()


# One HTTP exchange (headers and body) ends within this many seconds however its bytes trickle:
# githubkit's timeout is per read, and a server or proxy sending one header line every 5 s held
# `rollout status` for ever (pass 16a). Each request sets its deadline (the "request" event hook,
# run again for each retry); every read and write on the connection is capped by what is left.
REQUEST_DEADLINE = 120.0
_exchange = threading.local()


def _start_exchange(request) -> None:
    _exchange.deadline = time.monotonic() + REQUEST_DEADLINE


def _capped(timeout: float | None) -> float | None:
    import httpcore

    deadline = getattr(_exchange, "deadline", None)
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout(f"no whole answer in {REQUEST_DEADLINE:g} s")
    return left if timeout is None else min(timeout, left)


def _deadline_transport():
    """httpx's own transport, its connections' every read, write and connect capped by the
    exchange's deadline (:data:`REQUEST_DEADLINE`)."""
    import httpcore
    import httpx

    class Stream(httpcore.NetworkStream):
        def __init__(self, inner: httpcore.NetworkStream) -> None:
            self._inner = inner

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._inner.read(max_bytes, _capped(timeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._inner.write(buffer, _capped(timeout))

        def close(self) -> None:
            self._inner.close()

        def start_tls(self, ssl_context, server_hostname=None, timeout=None):
            return Stream(self._inner.start_tls(ssl_context, server_hostname, _capped(timeout)))

        def get_extra_info(self, info: str) -> Any:
            return self._inner.get_extra_info(info)

    class Backend(httpcore.NetworkBackend):
        def __init__(self, inner: httpcore.NetworkBackend) -> None:
            self._inner = inner

        def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
            return Stream(
                self._inner.connect_tcp(host, port, _capped(timeout), local_address, socket_options)
            )

        def connect_unix_socket(self, path, timeout=None, socket_options=None):
            return Stream(self._inner.connect_unix_socket(path, _capped(timeout), socket_options))

        def sleep(self, seconds: float) -> None:
            self._inner.sleep(seconds)

    transport = httpx.HTTPTransport()
    pool = transport._pool  # httpx builds httpcore's pool with no way to pass a network backend
    pool._network_backend = Backend(pool._network_backend)
    return transport


def _retry(exc, count: int):
    from githubkit.exception import RateLimitExceeded, RequestError, RequestFailed
    from githubkit.typing import RetryOption

    if (
        isinstance(exc, RateLimitExceeded)
        and count < RETRIES
        and exc.retry_after.total_seconds() <= MAX_WAIT
    ):
        # never a zero wait: githubkit reads a zero timedelta as "no wait given" and sleeps 60 s
        # (a reset that passed while the answer was on its way, or a clock a second ahead)
        return RetryOption(True, max(exc.retry_after, timedelta(seconds=1)))
    if isinstance(exc, RequestFailed) and exc.response.status_code >= 500 and count < 2:
        return RetryOption(True, timedelta(seconds=count + 1))
    if isinstance(exc, RequestError) and count < 1 and _dropped_unanswered(exc.exc):
        return RetryOption(
            True, timedelta(milliseconds=100)
        )  # not zero: githubkit reads it as 60 s
    return RetryOption(False)


def _dropped_unanswered(err: BaseException) -> bool:
    """True when the connection closed before any answer to a request that can be sent twice."""
    import httpx

    if not isinstance(err, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return False
    try:
        return err.request.method in RESENDABLE
    except RuntimeError:  # httpx raised it without its request
        return False


class Client:
    """The pull-request calls of one command run, shared by its worker threads.

    One HTTP client (one connection pool, kept alive across repos) serves the whole fleet: creating
    one costs ~30 ms (its TLS context), and a new connection per repo adds a handshake per repo.
    Enter it once, in the thread that runs the command; the workers then call it from any thread
    (httpx's client and connection pool are thread-safe; the throttler bounds the calls in flight).
    """

    def __init__(self, forge: Forge, throttler=None) -> None:
        import logging

        # githubkit's own retry decisions log with a traceback (ours, _retry, do not); Python's
        # last-resort handler would print such a record on stderr. The outcome line says what happened.
        logging.getLogger("githubkit").addHandler(logging.NullHandler())
        logging.getLogger("githubkit").propagate = False

        from githubkit.versions import LATEST_VERSION

        self.forge = forge
        # the REST API version githubkit's typed operations would send
        self._headers = {"X-GitHub-Api-Version": LATEST_VERSION, "Accept-Encoding": "identity"}
        self._gh = _shared_github()(
            forge.token,
            base_url=forge.api_url + "/",
            auto_retry=_retry,
            timeout=30.0,
            throttler=throttler,
            http_cache=False,
            event_hooks={"request": [_start_exchange], "response": [_bound_answer]},
            transport=_deadline_transport(),
        )

    def __enter__(self) -> Client:
        self._gh.__enter__()  # githubkit opens the client, in a context variable of this thread...
        self._gh.share()  # ...and every thread uses it
        return self

    def __exit__(self, *exc) -> None:
        self._gh.shared = None
        self._gh.__exit__(*exc)

    def call(
        self,
        full: str,
        what: str,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        expect: type | None = None,
    ) -> Any:
        """One REST operation of GitHub's description (``path`` under ``/repos/OWNER/NAME``), sent by
        githubkit's core ``request`` (auth, throttling, rate limits and retries as for its typed
        operations, which only add request models: building them cost ~80 ms at the first call of
        each operation, and ~0.3 ms per call); the JSON answer as it came, which must be an
        ``expect`` (a list or an object) when given."""
        owner, name = (quote(part, safe="") for part in full.split("/"))
        try:
            answer = self._gh.request(
                method,
                f"/repos/{owner}/{name}{path}",
                params=params,
                json=body,
                headers=self._headers,
            ).json()
        except Exception as err:  # every failure is one line naming what to do
            raise ForgeError(
                explain(err, full, what, self.forge.api_url, self.forge.token)
            ) from None
        if expect is not None and not isinstance(answer, expect):
            raise ForgeError(
                f"GitHub at {strip_userinfo(self.forge.api_url)} answered {what} on {full} with "
                f"{_json_kind(answer)} where its API gives {_json_kind(expect())}: is it GitHub's "
                "API? check `forge.api_url` and $GITHUB_API_URL"
            )
        return answer

    # the calls, each a REST operation of GitHub's description (the fake GitHub validates each
    # request and answer against it)

    def find_pull(self, full: str, owner: str, branch: str, base: str) -> dict | None:
        """The newest PR whose head is ``OWNER:BRANCH`` (an open one first). GitHub ignores a head
        filter without the owner and answers every PR: that would be someone else's.
        (pulls/list: GET /repos/{owner}/{repo}/pulls)"""
        pulls = self.call(
            full,
            "list pull requests",
            "GET",
            "/pulls",
            params={"state": "all", "head": f"{owner}:{branch}", "base": base, "per_page": 100},
            expect=list,
        )
        mine = [
            p
            for p in pulls
            if isinstance(p, dict)
            and isinstance(p.get("number"), int)
            and isinstance(p.get("head"), dict)
            and p["head"].get("ref") == branch
            and str(p["head"].get("label") or "").lower() == f"{owner}:{branch}".lower()
        ]
        mine.sort(key=lambda p: (p["state"] == "open", p["number"]), reverse=True)
        return mine[0] if mine else None

    def create_pull(
        self, full: str, owner: str, branch: str, base: str, title: str, body: str, draft: bool
    ) -> dict:
        """pulls/create: POST /repos/{owner}/{repo}/pulls"""
        return self.call(
            full,
            "open a pull request",
            "POST",
            "/pulls",
            body={
                "head": f"{owner}:{branch}",
                "base": base,
                "title": title,
                "body": body,
                "draft": draft,
            },
            expect=dict,
        )

    def update_pull(self, full: str, number: int, **fields) -> dict:
        """pulls/update: PATCH /repos/{owner}/{repo}/pulls/{pull_number}"""
        return self.call(
            full,
            f"update pull request #{number}",
            "PATCH",
            f"/pulls/{number}",
            body=fields,
            expect=dict,
        )

    def add_labels(self, full: str, number: int, labels: list[str]) -> None:
        """issues/add-labels: POST /repos/{owner}/{repo}/issues/{issue_number}/labels"""
        self.call(
            full,
            f"label pull request #{number}",
            "POST",
            f"/issues/{number}/labels",
            body={"labels": labels},
        )

    def request_reviewers(self, full: str, number: int, reviewers: list[str]) -> None:
        """pulls/request-reviewers: POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers"""
        self.call(
            full,
            f"request reviewers on #{number}",
            "POST",
            f"/pulls/{number}/requested_reviewers",
            body={"reviewers": reviewers},
        )

    def reviews(self, full: str, number: int) -> list[dict]:
        """pulls/list-reviews: GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews; every page
        (oldest first), not the first 100 (pass 7)"""
        out: list[dict] = []
        for page in range(1, PAGES + 1):
            got = self.call(
                full,
                f"read reviews of #{number}",
                "GET",
                f"/pulls/{number}/reviews",
                params={"per_page": 100, "page": page},
            )
            out += got if isinstance(got, list) else []
            if not isinstance(got, list) or len(got) < 100:
                break
        return out

    def combined_status(self, full: str, ref: str) -> dict:
        """repos/get-combined-status-for-ref: GET /repos/{owner}/{repo}/commits/{ref}/status"""
        return self._pages(
            full, "read commit statuses", "statuses", f"/commits/{quote(ref, safe='')}/status"
        )

    def check_runs(self, full: str, ref: str) -> dict:
        """checks/list-for-ref: GET /repos/{owner}/{repo}/commits/{ref}/check-runs"""
        return self._pages(
            full, "read check runs", "check_runs", f"/commits/{quote(ref, safe='')}/check-runs"
        )

    def _pages(self, full: str, what: str, key: str, path: str) -> dict:
        """A ``{total_count, KEY: [...]}`` answer with the items of every page (pass 7: a failing check
        on page 2 was never seen); at most PAGES pages, the answer's ``total_count`` kept so that
        a caller sees when some were not read."""
        first = self.call(full, what, "GET", path, params={"per_page": 100, "page": 1}, expect=dict)
        if not isinstance(first.get(key), list):
            return first
        items = list(first[key])
        total = first.get("total_count")
        page = 1
        while isinstance(total, int) and len(items) < total and page < PAGES:
            page += 1
            more = self.call(full, what, "GET", path, params={"per_page": 100, "page": page})
            more = more.get(key) if isinstance(more, dict) else None
            if not more:
                break
            items += more
        return {**first, key: items}


def _shared_github():
    """githubkit's GitHub, with the HTTP client the command opened used from every thread (githubkit
    itself looks for it in a context variable, which a worker thread does not see, and would open
    a new client, TLS context and connection for each call)."""
    from contextlib import nullcontext

    from githubkit import GitHub

    class SharedGitHub(GitHub):
        shared = None

        def share(self) -> None:
            with super().get_sync_client() as http:  # the one __enter__ opened
                self.shared = http

        def get_sync_client(self):
            return (
                nullcontext(self.shared) if self.shared is not None else super().get_sync_client()
            )

    return SharedGitHub


def throttler(concurrency: int = CONCURRENCY):
    from githubkit.throttling import LocalThrottler

    return LocalThrottler(concurrency)


def explain(err: Exception, full: str, what: str, api: str, token: str = "") -> str:
    """One line for a failed call: what happened and what to do. Never the token (pass 7: not even
    when the server's message repeats it), nor credentials in ``$GITHUB_API_URL``."""
    api = strip_userinfo(api)
    from githubkit.exception import RateLimitExceeded, RequestError, RequestFailed, RequestTimeout

    if isinstance(err, RateLimitExceeded):
        when = datetime.now(UTC) + err.retry_after
        kind = "secondary rate limit" if "Secondary" in type(err).__name__ else "rate limit"
        return (
            f"GitHub {kind} hit on {full} ({what}): try again after {when:%H:%M:%S} UTC "
            f"(GitHub asked to wait {int(err.retry_after.total_seconds())} s)"
        )
    if isinstance(err, RequestFailed):
        status = err.response.status_code
        message = _message(err, token)
        if status == 401:
            return (
                f"GitHub token rejected ({what} on {full}): set GITHUB_TOKEN to a valid token with "
                f"pull-requests: write on {full}"
            )
        if status == 403:
            return (
                f"GitHub refused to {what} on {full} (403{': ' + message if message else ''}): the token needs "
                f"pull-requests: write (and contents: read) on {full}"
            )
        if status == 404:
            return (
                f"{full} not found at {api} ({what}): check `github:` for this repo in the manifest, and that "
                "the token can see the repository"
            )
        if status == 422:
            return f"GitHub rejected the request to {what} on {full} (422: {message or 'validation failed'})"
        return f"GitHub answered {status} to {what} on {full}{': ' + message if message else ''}; try again later"
    if isinstance(err, RequestTimeout):
        return f"GitHub at {api} did not answer in time ({what} on {full}); try again"
    if isinstance(err, RequestError) and isinstance(err.exc, AnswerTooLarge):
        return (
            f"GitHub at {api} answered {what} on {full} with more than the tool reads ({err.exc}): "
            "is it GitHub's API? check `forge.api_url` and $GITHUB_API_URL"
        )
    if isinstance(err, RequestError):
        return f"cannot reach GitHub at {api} ({what} on {full}): {type(err.exc).__name__}; check the network"
    # what is left went wrong reading the answer (not JSON, a Retry-After or rate-limit reset no
    # date can hold): say so, not a Python type alone
    return (
        f"GitHub at {api} gave an answer to {what} on {full} that cannot be read "
        f"({type(err).__name__}): is it GitHub's API? try again later"
    )


def _json_kind(value: Any) -> str:
    """What a JSON value is, in JSON's words (never the value: an answer may hold anything)."""
    if value is None:
        return "null"
    for kind, name in ((bool, "a boolean"), ((int, float), "a number"), (str, "a string")):
        if isinstance(value, kind):
            return name
    return "a list" if isinstance(value, list) else "an object"


def _message(err, token: str = "") -> str:
    try:
        data = err.response.json()
    except Exception:
        return ""
    if not isinstance(data, dict):
        return ""
    parts = [str(data.get("message") or "")]
    for item in data.get("errors") or []:
        if isinstance(item, dict) and item.get("message"):
            parts.append(str(item["message"]))
    text = " ".join(" ".join(p for p in parts if p).split())
    return (text.replace(token, "***") if token else text)[:200]
