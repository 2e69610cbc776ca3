"""A local fake GitHub for tests: an HTTP server on 127.0.0.1, stateful, checked against the API.

It serves the few REST operations the tool calls (pull requests, labels, reviewers, reviews,
combined status, check runs) with GitHub's semantics where they matter to the tool: a ``head``
filter without ``OWNER:`` is ignored (every PR comes back), a second PR for the same head is 422,
a PR needs its head branch pushed (read from a real bare repository), secondary rate limits are
403/429 with ``Retry-After``. Every request and every response is validated against GitHub's
official OpenAPI description (tests.github_api); a mismatch is recorded in ``violations`` and the
``github`` fixture fails the test.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests import github_api

DOCS = "https://docs.github.com/rest"
NOW = "2026-01-01T00:00:00Z"


@dataclass
class Fault:
    method: str
    path: re.Pattern
    status: int
    headers: dict[str, str]
    body: Any
    times: int


@dataclass
class Pull:
    number: int
    head_owner: str
    head_ref: str
    base_ref: str
    title: str
    body: str | None
    draft: bool = False
    state: str = "open"
    merged_at: str | None = None
    closed_at: str | None = None
    head_sha: str | None = None  # frozen when merged or closed; else read from the bare repo
    user: str = "rollout-bot"
    labels: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    reviews: list[tuple[str, str]] = field(
        default_factory=list
    )  # (login, APPROVED|CHANGES_REQUESTED|...)


@dataclass
class Repo:
    owner: str
    name: str
    bare: Path | None
    default_branch: str = "main"
    next_number: int = 1
    pulls: list[Pull] = field(default_factory=list)
    statuses: dict[str, list[tuple[str, str]]] = field(
        default_factory=dict
    )  # sha -> [(context, state)]
    checks: dict[str, list[tuple[str, str, str | None]]] = field(
        default_factory=dict
    )  # sha -> [(name, status, conclusion)]

    @property
    def full(self) -> str:
        return f"{self.owner}/{self.name}"

    def sha(self, ref: str) -> str | None:
        if self.bare is None:
            return None
        out = subprocess.run(
            [
                "git",
                "--git-dir",
                str(self.bare),
                "rev-parse",
                "--verify",
                "--quiet",
                f"refs/heads/{ref}^{{commit}}",
            ],
            capture_output=True,
            text=True,
        )
        return out.stdout.strip() or None


class FakeGitHub:
    def __init__(self, token: str = "ghp_FAKEtoken0123456789abcdefSECRET") -> None:
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str, int]] = []
        self.violations: list[str] = []
        self.latency = 0.0
        # False only in the benchmark (benchmarks/review_loop.py): the pydantic checks of every request
        # and response cost the fake CPU on the cores the tool runs on; the tests always validate
        self.validate = True
        self.in_flight = self.max_in_flight = (
            0  # requests being answered at once, and the most seen
        )
        # TCP connections clients opened (keep-alive: one serves many requests)
        self.connections = 0
        self.lock = threading.RLock()
        github_api.operations()  # read from the description once, before any request thread
        self._server: ThreadingHTTPServer | None = None

    # --- set-up and state changes a test makes --------------------------------------------

    def add_repo(self, full: str, bare: Path | None = None, default_branch: str = "main") -> Repo:
        owner, name = full.split("/")
        repo = Repo(owner, name, bare, default_branch)
        self.repos[full.lower()] = repo
        return repo

    def repo(self, full: str) -> Repo:
        return self.repos[full.lower()]

    def add_pull(
        self,
        full: str,
        head: str,
        *,
        head_owner: str | None = None,
        base: str = "main",
        title: str = "a pull request",
        user: str = "dependabot[bot]",
    ) -> Pull:
        repo = self.repo(full)
        with self.lock:
            pull = Pull(
                repo.next_number, head_owner or repo.owner, head, base, title, None, user=user
            )
            repo.next_number += 1
            repo.pulls.append(pull)
        return pull

    def pull(self, full: str, number: int) -> Pull:
        return next(p for p in self.repo(full).pulls if p.number == number)

    def pulls(self, full: str) -> list[Pull]:
        return list(self.repo(full).pulls)

    def merge(self, full: str, number: int) -> None:
        """Merge the way GitHub's merge button does (fast-forward here): base moves to the head."""
        repo = self.repo(full)
        pull = self.pull(full, number)
        sha = repo.sha(pull.head_ref)
        subprocess.run(
            ["git", "--git-dir", str(repo.bare), "update-ref", f"refs/heads/{pull.base_ref}", sha],
            check=True,
        )
        pull.head_sha, pull.state, pull.merged_at, pull.closed_at = sha, "closed", NOW, NOW

    def close(self, full: str, number: int) -> None:
        """A person closes the PR without merging."""
        repo = self.repo(full)
        pull = self.pull(full, number)
        pull.head_sha, pull.state, pull.closed_at = repo.sha(pull.head_ref), "closed", NOW

    def inject(
        self,
        method: str,
        path: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` requests ``method path-regex`` get this answer instead."""
        if body is None:
            body = {"message": f"fault {status}", "documentation_url": DOCS, "status": str(status)}
        self.faults.append(Fault(method, re.compile(path), status, headers or {}, body, times))

    def paths(self, method: str | None = None) -> list[str]:
        return [p for m, p, _ in self.requests if method is None or m == method]

    # --- the server ---------------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: with Nagle on, the body waits for the client's
            # delayed ACK (~40 ms on Linux), a stall GitHub does not have; latency is simulated on purpose
            disable_nagle_algorithm = True

            def log_message(self, *args) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with fake.lock:
                    fake.connections += 1

            def _serve(self) -> None:
                fake._handle(self)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # shutdown() waits for the loop's next poll: the default 0.5 s would cost every test half a second
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            answer = self._serve(h)
        finally:
            with (
                self.lock
            ):  # before the answer goes out: the client may send its next request at once
                self.in_flight -= 1
        if answer is not None:
            self._write(h, *answer)

    def _serve(self, h: BaseHTTPRequestHandler) -> tuple[int, dict, Any] | None:
        if self.latency:
            time.sleep(self.latency)
        url = urlsplit(h.path)
        path, query = url.path, {k: v[-1] for k, v in parse_qs(url.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        method = h.command
        try:
            status, headers, body = self._answer(h, method, path, query, raw)
        except Exception as err:  # a bug in the fake: the test fails on it, the client sees a 500
            self._violation(f"{method} {path}: the fake failed: {type(err).__name__}: {err}")
            status, headers, body = (
                500,
                {},
                {"message": "fake failed", "documentation_url": DOCS, "status": "500"},
            )
        if status == 0:  # an injected network failure: the connection drops without an answer
            with self.lock:
                self.requests.append((method, path, 0))
            h.close_connection = True
            return None
        with self.lock:
            self.requests.append((method, path + (f"?{url.query}" if url.query else ""), status))
        return status, headers, body

    def _write(self, h: BaseHTTPRequestHandler, status: int, headers: dict, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("x-ratelimit-limit", "5000")
        h.send_header("x-ratelimit-resource", "core")
        if "x-ratelimit-remaining" not in {k.lower() for k in headers}:
            h.send_header("x-ratelimit-remaining", "4999")
            h.send_header("x-ratelimit-reset", str(int(time.time()) + 3600))
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(data)

    def _answer(self, h, method: str, path: str, query: dict, raw: bytes) -> tuple[int, dict, Any]:
        auth = h.headers.get("Authorization", "")
        if auth not in (f"token {self.token}", f"Bearer {self.token}"):
            return (
                401,
                {},
                {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"},
            )
        op = github_api.find(method, path)
        if op is None:
            self._violation(f"{method} {path}: no such operation in GitHub's API description")
            return 404, {}, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}
        unknown = set(query) - op.params
        if unknown:
            self._violation(
                f"{op.name}: query parameters {sorted(unknown)} are not in the description"
            )
        payload = None
        if raw:
            try:
                payload = json.loads(raw)
            except ValueError:
                self._violation(f"{op.name}: request body is not JSON")
        if op.body is not None and payload is not None and self.validate:
            wrong = github_api.problems(op.body, payload)
            if wrong:
                self._violation(f"{op.name}: request body does not fit {op.body}: {wrong}")
        elif op.body is None and payload is not None:
            self._violation(f"{op.name}: takes no request body")
        fault = self._fault(method, path)
        if fault is not None:
            if fault.status == 0:
                return 0, {}, None
            status, headers, body = fault.status, fault.headers, fault.body
        else:
            params = op.pattern.match(path).groups()
            repo = self.repos.get(f"{params[0]}/{params[1]}".lower())
            if repo is None:
                return 404, {}, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}
            with self.lock:
                status, headers, body = self._dispatch(
                    op.name, repo, params[2:], query, payload or {}
                )
        if self.validate:
            self._check_response(op, status, body)
        return status, headers, body

    def _fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and fault.path.search(path):
                    fault.times -= 1
                    return fault
        return None

    def _violation(self, text: str) -> None:
        with self.lock:
            self.violations.append(text)

    def _check_response(self, op: github_api.Operation, status: int, body: Any) -> None:
        if 200 <= status < 300:
            model = op.response
            if model is None:
                if body is not None:
                    self._violation(
                        f"{op.name}: {status} with a body the description does not have"
                    )
                return
        else:
            # GitHub answers 401/403/404/429 on any operation with its basic-error schema,
            # whether or not the operation lists the status
            model = op.errors.get(str(status), "BasicError")
        wrong = github_api.problems(model, body)
        if wrong:
            self._violation(f"{op.name}: {status} response does not fit {model}: {wrong}")

    # --- the operations --------------------------------------------------------------------

    def _dispatch(
        self, name: str, repo: Repo, args: tuple, query: dict, body: dict
    ) -> tuple[int, dict, Any]:
        if name == "pulls/list":
            return 200, {}, [self._pull_json(repo, p, simple=True) for p in self._list(repo, query)]
        if name == "pulls/create":
            return self._create(repo, body)
        if name.startswith(("pulls/", "issues/")):
            pull = next((p for p in repo.pulls if str(p.number) == args[0]), None)
            if pull is None:
                return 404, {}, {"message": "Not Found", "documentation_url": DOCS, "status": "404"}
            if name == "pulls/get":
                return 200, {}, self._pull_json(repo, pull)
            if name == "pulls/update":
                return self._update(repo, pull, body)
            if name == "issues/add-labels":
                names = body.get("labels", []) if isinstance(body, dict) else body
                pull.labels += [n for n in names if n not in pull.labels]
                return 200, {}, [self._label(repo, n) for n in pull.labels]
            if name == "pulls/request-reviewers":
                pull.reviewers += [r for r in body.get("reviewers", []) if r not in pull.reviewers]
                return 201, {}, self._pull_json(repo, pull, simple=True)
            if name == "pulls/list-reviews":
                return (
                    200,
                    {},
                    [
                        github_api.filled(
                            "PullRequestReview",
                            {
                                "id": i + 1,
                                "user": self._user(login),
                                "state": state,
                                "body": "",
                                "commit_id": pull.head_sha or repo.sha(pull.head_ref),
                            },
                        )
                        for i, (login, state) in enumerate(pull.reviews)
                    ],
                )
        if name == "repos/get-combined-status-for-ref":
            sha = repo.sha(args[0]) or args[0]
            statuses = repo.statuses.get(sha, [])
            states = {s for _, s in statuses}
            state = (
                "failure"
                if states & {"failure", "error"}
                else "pending"
                if "pending" in states or not states
                else "success"
            )
            return (
                200,
                {},
                github_api.filled(
                    "CombinedCommitStatus",
                    {
                        "state": state,
                        "sha": sha,
                        "total_count": len(statuses),
                        "statuses": [
                            github_api.filled("SimpleCommitStatus", {"context": c, "state": s})
                            for c, s in statuses
                        ],
                    },
                ),
            )
        if name == "checks/list-for-ref":
            sha = repo.sha(args[0]) or args[0]
            runs = repo.checks.get(sha, [])
            return (
                200,
                {},
                github_api.filled(
                    "ReposOwnerRepoCommitsRefCheckRunsGetResponse200",
                    {
                        "total_count": len(runs),
                        "check_runs": [
                            github_api.filled(
                                "CheckRun",
                                {
                                    "id": i + 1,
                                    "name": n,
                                    "status": s,
                                    "conclusion": c,
                                    "head_sha": sha,
                                },
                            )
                            for i, (n, s, c) in enumerate(runs)
                        ],
                    },
                ),
            )
        return (
            501,
            {},
            {
                "message": f"the fake does not serve {name}",
                "documentation_url": DOCS,
                "status": "501",
            },
        )

    def _list(self, repo: Repo, query: dict) -> list[Pull]:
        state = query.get("state", "open")
        out = [p for p in repo.pulls if state == "all" or p.state == state]
        head = query.get("head")
        if head and ":" in head:  # GitHub ignores a head filter without the owner
            owner, ref = head.split(":", 1)
            out = [p for p in out if p.head_owner.lower() == owner.lower() and p.head_ref == ref]
        if query.get("base"):
            out = [p for p in out if p.base_ref == query["base"]]
        return out

    def _invalid(
        self, message: str, field_name: str = "head", code: str = "custom"
    ) -> tuple[int, dict, Any]:
        return (
            422,
            {},
            {
                "message": "Validation Failed",
                "documentation_url": DOCS,
                "status": "422",
                "errors": [
                    {
                        "resource": "PullRequest",
                        "field": field_name,
                        "code": code,
                        "message": message,
                    }
                ],
            },
        )

    def _create(self, repo: Repo, body: dict) -> tuple[int, dict, Any]:
        head = body["head"]
        owner, ref = head.split(":", 1) if ":" in head else (repo.owner, head)
        base = body["base"]
        head_sha, base_sha = repo.sha(ref), repo.sha(base)
        if head_sha is None:
            return self._invalid(f"head {head} does not exist", code="invalid")
        if base_sha is None:
            return self._invalid(f"base {base} does not exist", field_name="base", code="invalid")
        if any(
            p.state == "open" and p.head_ref == ref and p.head_owner == owner and p.base_ref == base
            for p in repo.pulls
        ):
            return self._invalid(f"A pull request already exists for {owner}:{ref}.")
        if head_sha == base_sha:
            return self._invalid(f"No commits between {base} and {ref}")
        pull = Pull(
            repo.next_number,
            owner,
            ref,
            base,
            body.get("title") or ref,
            body.get("body"),
            bool(body.get("draft")),
        )
        repo.next_number += 1
        repo.pulls.append(pull)
        return 201, {}, self._pull_json(repo, pull)

    def _update(self, repo: Repo, pull: Pull, body: dict) -> tuple[int, dict, Any]:
        if body.get("state") == "open" and pull.state == "closed":
            if pull.merged_at:
                return self._invalid("cannot reopen a merged pull request", field_name="state")
            if repo.sha(pull.head_ref) is None:
                return self._invalid("head branch was deleted", field_name="state")
            pull.state, pull.closed_at, pull.head_sha = "open", None, None
        elif body.get("state") == "closed" and pull.state == "open":
            self.close(repo.full, pull.number)
        if "title" in body:
            pull.title = body["title"]
        if "body" in body:
            pull.body = body["body"]
        return 200, {}, self._pull_json(repo, pull)

    def _user(self, login: str) -> dict:
        return github_api.filled(
            "SimpleUser", {"login": login, "id": abs(hash(login)) % 100000, "type": "User"}
        )

    def _label(self, repo: Repo, name: str) -> dict:
        return github_api.filled(
            "Label",
            {
                "name": name,
                "id": abs(hash(name)) % 100000,
                "color": "ededed",
                "default": False,
                "description": None,
            },
        )

    def _pull_json(self, repo: Repo, pull: Pull, *, simple: bool = False) -> dict:
        sha = pull.head_sha or repo.sha(pull.head_ref) or "0" * 40
        base_sha = repo.sha(pull.base_ref) or "0" * 40
        api = f"https://api.github.com/repos/{repo.full}"
        repo_json = github_api.filled(
            "Repository",
            {
                "name": repo.name,
                "full_name": repo.full,
                "owner": self._user(repo.owner),
                "default_branch": repo.default_branch,
            },
        )
        data = {
            "url": f"{api}/pulls/{pull.number}",
            "id": pull.number,
            "node_id": f"PR_{pull.number}",
            "html_url": f"https://github.com/{repo.full}/pull/{pull.number}",
            "number": pull.number,
            "state": pull.state,
            "locked": False,
            "title": pull.title,
            "body": pull.body,
            "draft": pull.draft,
            "user": self._user(pull.user),
            "labels": [self._label(repo, n) for n in pull.labels],
            "requested_reviewers": [self._user(r) for r in pull.reviewers],
            "requested_teams": [],
            "created_at": NOW,
            "updated_at": NOW,
            "closed_at": pull.closed_at,
            "merged_at": pull.merged_at,
            "merge_commit_sha": sha if pull.merged_at else None,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "author_association": "CONTRIBUTOR",
            "auto_merge": None,
            "active_lock_reason": None,
            "head": {
                "label": f"{pull.head_owner}:{pull.head_ref}",
                "ref": pull.head_ref,
                "sha": sha,
                "user": self._user(pull.head_owner),
                "repo": repo_json,
            },
            "base": {
                "label": f"{repo.owner}:{pull.base_ref}",
                "ref": pull.base_ref,
                "sha": base_sha,
                "user": self._user(repo.owner),
                "repo": repo_json,
            },
        }
        if not simple:
            data.update(
                {
                    "merged": bool(pull.merged_at),
                    "mergeable": None,
                    "rebaseable": None,
                    "mergeable_state": "unknown",
                    "merged_by": None,
                    "comments": 0,
                    "review_comments": 0,
                    "maintainer_can_modify": False,
                    "commits": 1,
                    "additions": 1,
                    "deletions": 0,
                    "changed_files": 1,
                }
            )
        return github_api.filled("PullRequestSimple" if simple else "PullRequest", data)
