"""From pushed branch to merged pull request: ``sync``, ``pr``, ``status``, ``cleanup`` per repo.

Each repo ends with a named outcome; one failing never stops the others. Network work (git
fetch, GitHub calls) runs in a bounded thread pool; results come back in manifest order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from typing import TypeVar

from juniper_rollout import forge as forges
from juniper_rollout import gitrepo, interrupts, proctree, remote
from juniper_rollout.errors import RepoError, RolloutError
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.wording import count, one_line

T = TypeVar("T")
R = TypeVar("R")

NETWORK_JOBS = 8
MARKER = "<!-- juniper-rollout -->"

# outcomes of `rollout pr`
OPENED, UPDATED, UNCHANGED, MERGED, CLOSED, NOT_PUSHED, FAILED = (
    "opened",
    "updated",
    "unchanged",
    "merged",
    "closed by a person",
    "not pushed",
    "failed",
)
# outcomes of `rollout sync`
CLONED, FETCHED, UP_TO_DATE = "cloned", "fetched", "up to date"
# outcomes of `rollout cleanup`
DELETED, KEPT, NOTHING = "deleted", "kept", "nothing to clean"


@dataclass(frozen=True)
class Outcome:
    name: str
    result: str
    message: str = ""
    number: int | None = None

    @property
    def failed(self) -> bool:
        return self.result == FAILED

    def line(self) -> str:
        head = (
            f"{self.result} #{self.number}"
            if self.number and self.result in (OPENED, UPDATED, UNCHANGED, MERGED, CLOSED)
            else self.result
        )
        return f"{self.name}: {head}" + (f"  {self.message}" if self.message else "")


def in_parallel(
    job: Callable[[T], R],
    items: Sequence[T],
    jobs: int | None,
    on_result: Callable[[R], None] = lambda r: None,
) -> list[R]:
    """``[job(i) for i in items]`` in a bounded thread pool (network-bound work), in order."""
    if not items:
        return []
    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs or NETWORK_JOBS, len(items))))
    futures = [pool.submit(job, item) for item in items]
    results: list[R] = []
    try:
        for future in futures:
            results.append(future.result())
            on_result(results[-1])
            interrupts.check()  # one a finalizer swallowed: no more waiting on the network
        return results
    except KeyboardInterrupt:
        # Ctrl-C: no repo is started any more; the ones under way finish, and every finished one
        # is reported (a second Ctrl-C stops the wait at once, and what the threads run with it:
        # pass 16a, git fetch and clone went on for ever as orphans of a tool that had stopped)
        try:
            pool.shutdown(wait=True, cancel_futures=True)
        except BaseException:
            proctree.kill_children()
            # the jobs end once their git is gone, and clean up (a half-made clone); waited on through
            # their futures: Python 3.11 takes a thread whose join a Ctrl-C cut short for ended
            wait(futures, timeout=10)
            raise
        for future in futures[len(results) :]:
            if future.done() and not future.cancelled() and future.exception() is None:
                on_result(future.result())
        raise
    finally:
        pool.shutdown(wait=True)


def _guard(manifest: Manifest, spec: RepoSpec, fn: Callable[[], T]) -> T | Outcome:
    name = spec.name
    try:
        return fn()
    except RolloutError as err:
        # pass 24d: "no clone at …: run `rollout sync`" after `status -m M` read the default manifest
        return Outcome(name, FAILED, manifest.commands_said(str(err), name))
    except (
        Exception
    ) as err:  # one repo's surprise never stops the fleet; never a message that could hold data
        from juniper_rollout import crashlog

        if (said := gitrepo.unsafe_tree(err, spec.path)) is not None:
            return Outcome(name, FAILED, said)  # what a tree holds, not a bug
        return Outcome(
            name,
            FAILED,
            f"unexpected {type(err).__name__}; please report this"
            + crashlog.see(crashlog.record(err, f"the review loop on {name}")),
        )


def summary(outcomes: Iterable[Outcome]) -> str:
    outcomes = list(outcomes)
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.result] = counts.get(o.result, 0) + 1
    return f"{count(len(outcomes), 'repo')}: " + ", ".join(f"{n} {r}" for r, n in counts.items())


# --- sync ----------------------------------------------------------------------------------------


def sync(
    manifest: Manifest,
    repos: Sequence[RepoSpec],
    jobs: int | None = None,
    on_result: Callable[[Outcome], None] = lambda o: None,
) -> list[Outcome]:
    return in_parallel(
        lambda spec: _guard(manifest, spec, lambda: sync_one(spec)), repos, jobs, on_result
    )


def sync_one(spec: RepoSpec) -> Outcome:
    if not spec.path.exists() or (spec.path.is_dir() and not any(spec.path.iterdir())):
        if not spec.url:
            return Outcome(
                spec.name,
                FAILED,
                f"no clone at {spec.path} and no `url:` to clone it from (add `url:`)",
            )
        remote.clone(spec.url, spec.path)
        return Outcome(spec.name, CLONED, f"from {spec.url}")
    new, local, origin = remote.fetch(spec.path, spec.base)
    note = _base_note(spec, local, origin)
    if new:
        return Outcome(
            spec.name,
            FETCHED,
            f"{new} new commit{'s' if new != 1 else ''}" + (f"; {note}" if note else ""),
        )
    return Outcome(spec.name, UP_TO_DATE, note)


def _base_note(spec: RepoSpec, local: str | None, origin: str | None) -> str:
    if local and origin and local != origin and remote.contains(spec.path, local, origin):
        behind = remote.count(spec.path, origin, f"^{local}")
        return f"local {spec.base} is {behind} behind origin/{spec.base}; plan builds on origin/{spec.base}"
    return ""


# --- pull requests -----------------------------------------------------------------------------


def title(manifest: Manifest, spec: RepoSpec) -> str:
    return manifest.pull_request.title or spec.commit_message.strip().splitlines()[0]


def body(
    manifest: Manifest,
    spec: RepoSpec,
    files: list[tuple[str, str, str]],
    commits: Sequence[tuple[str, str]] = (),
) -> str:
    """The PR description: the manifest's introduction, each file with its action and why, the commits."""

    def cell(text: str) -> str:
        # `<` as `&lt;` (shown the same): a commit subject quoting the tool's marker made every later
        # `pr` take the rest of the body for a person's text and grow it (pass 7)
        # a path of bytes no UTF-8 decodes (`x\\xffy/.env.prod`, deleted on the branch) as escapes: its
        # surrogates could not be sent, and every `pr` failed as GitHub's "answer that cannot be
        # read" (pass 24c); a line break in a path as `\\x0a`, not a space
        text = one_line(text)
        return " ".join(text.replace("|", "\\|").replace("<", "&lt;").split())

    # the marker quoted in the manifest's introduction: shown, not a second marker (pass 8)
    intro = manifest.pull_request.body.strip().replace(MARKER, MARKER.replace("<", "&lt;"))
    lines = [intro, ""] if intro else []
    lines += ["| file | action | why |", "| --- | --- | --- |"]
    lines += [f"| `{cell(path)}` | {action} | {cell(why) or '-'} |" for path, action, why in files]
    if commits:
        lines += ["", "Commits:", *(f"- {sha} {cell(subject)}" for sha, subject in commits)]
    lines += [
        "",
        f"Written by juniper-rollout from `{manifest.path.name}`; "
        "`rollout status` shows the whole fleet.",
        MARKER,
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class PrOptions:
    draft: bool = False
    reopen: bool = False


def open_pulls(
    manifest: Manifest,
    repos: Sequence[RepoSpec],
    options: PrOptions,
    *,
    forge: forges.Forge,
    jobs: int | None = None,
    on_result: Callable[[Outcome], None] = lambda o: None,
) -> list[Outcome]:
    # one client for the fleet: one connection pool kept alive across repos, shared by the workers;
    # the throttler: at most CONCURRENCY requests in flight for the whole fleet
    with forges.Client(forge, forges.throttler()) as client:
        return in_parallel(
            lambda spec: _guard(manifest, spec, lambda: pr_one(manifest, spec, client, options)),
            repos,
            jobs,
            on_result,
        )


def _head_gone(spec: RepoSpec) -> bool:
    """Whether origin has no rollout branch any more, asked of origin itself (`sync` leaves a
    remote-tracking ref of a branch deleted there): GitHub reopens no pull request whose head branch
    is gone (pass 27a: closed by a person and its branch deleted, `rollout pr --reopen`, offered
    by status, failed with "422: Validation Failed head branch was deleted")."""
    return remote.on_origin(spec.path, spec.branch) is False


def _push_first(manifest: Manifest, spec: RepoSpec) -> str:
    push = manifest.command("apply", "--push", repo=spec.name)
    reopen = manifest.command("pr", "--reopen", repo=spec.name)
    return (
        f"origin no longer has {spec.branch} (deleted with the closed pull request?), and GitHub "
        f"reopens none without it: push it again (`{push}`), then `{reopen}`"
    )


def pr_one(
    manifest: Manifest, spec: RepoSpec, client: forges.Client, options: PrOptions
) -> Outcome:
    full = _slug(spec)
    owner = full.split("/")[0]
    pull = client.find_pull(full, owner, spec.branch, spec.base)
    state = remote.branch_state(spec.path, spec.branch, spec.base)
    if pull is not None and pull.get("merged_at"):
        if not _after_merge(spec, pull, state):
            return Outcome(spec.name, MERGED, "", pull["number"])
        pull = None  # a PR of an earlier round: the branch's new commits get a PR of their own
    if pull is not None and pull["state"] == "closed" and options.reopen and _head_gone(spec):
        return Outcome(spec.name, NOT_PUSHED, _push_first(manifest, spec), pull["number"])
    if state.origin is None:
        if pull is not None and pull["state"] == "closed":
            return Outcome(spec.name, CLOSED, "", pull["number"])
        return Outcome(
            spec.name,
            NOT_PUSHED,
            f"origin has no {spec.branch}; run `{manifest.command('apply', '--push', repo=spec.name)}` first",
        )
    want_title = title(manifest, spec)
    base = state.base or spec.base
    want_body = body(manifest, spec, *remote.changes(spec.path, base, state.origin))
    if pull is None:
        pull = client.create_pull(
            full, owner, spec.branch, spec.base, want_title, want_body, options.draft
        )
        number = pull["number"]
        if manifest.pull_request.labels:
            client.add_labels(full, number, list(manifest.pull_request.labels))
        if manifest.pull_request.reviewers:
            client.request_reviewers(full, number, list(manifest.pull_request.reviewers))
        return Outcome(spec.name, OPENED, pull.get("html_url") or "", number)
    number = pull["number"]
    changes: dict[str, object] = {}
    if pull["state"] == "closed":
        if not options.reopen:
            return Outcome(spec.name, CLOSED, "not reopened (pass --reopen to reopen it)", number)
        changes["state"] = "open"
    if pull.get("title") != want_title:
        changes["title"] = want_title
    have_body = pull.get("body") or ""
    # pass 7: a body without the tool's marker is a person's rewrite (the tool always writes the
    # marker): their text is kept whole, below the tool's table, never replaced by it
    rewritten = bool(have_body.strip()) and MARKER not in have_body
    if MARKER in have_body:  # what a person added below the tool's part is theirs: kept
        head, tail = have_body.split(MARKER, 1)
        # and what they typed above its first line (GitHub's editor opens at the top) (pass 8)
        at = head.find(want_body.split("\n", 1)[0])
        want_body = (head[:at] if at > 0 else "") + want_body + tail.removeprefix("\n")
    elif rewritten:
        want_body += "\n" + have_body
    if have_body != want_body:
        changes["body"] = want_body
    have = {label["name"] for label in pull.get("labels") or []}
    missing = [label for label in manifest.pull_request.labels if label not in have]
    unasked = _unasked_reviewers(manifest, client, full, pull)
    if changes:
        client.update_pull(full, number, **changes)
    if missing:
        client.add_labels(full, number, missing)
    if unasked:
        client.request_reviewers(full, number, unasked)
    if not changes and not missing and not unasked:
        return Outcome(spec.name, UNCHANGED, "", number)
    what = [
        "reopened" if "state" in changes else "",
        "title" if "title" in changes else "",
        "body (a person's text kept below the table)" if rewritten else "",
        "body" if "body" in changes and not rewritten else "",
        "labels" if missing else "",
        "reviewers" if unasked else "",
    ]
    return Outcome(spec.name, UPDATED, ", ".join(w for w in what if w), number)


def _unasked_reviewers(
    manifest: Manifest, client: forges.Client, full: str, pull: dict
) -> list[str]:
    """The manifest's reviewers neither asked nor heard from on an open PR (pass 7: a request that
    failed when the PR was opened, a 422 or a network error, was never made again). The reviews are
    read only when one is not pending; the PR's author is never asked (GitHub refuses that)."""
    wanted = [r for r in manifest.pull_request.reviewers if "/" not in r]
    if pull.get("state") != "open" or not wanted:
        return []
    author = ((pull.get("user") or {}).get("login") or "").lower()
    asked = {(u.get("login") or "").lower() for u in pull.get("requested_reviewers") or []}
    left = [r for r in wanted if r.lower() not in asked and r.lower() != author]
    if not left:
        return []
    heard = {
        ((r.get("user") or {}).get("login") or "").lower()
        for r in client.reviews(full, pull["number"])
    }
    return [r for r in left if r.lower() not in heard]


def _after_merge(spec: RepoSpec, pull: dict, state: remote.BranchState) -> bool:
    """Whether the branch holds commits the merged ``pull`` did not (pass 7): the rollout ran again
    after an earlier PR was merged (a key rotation, a new file), so that PR says nothing about them."""
    merged = (pull.get("head") or {}).get("sha")
    tip = state.origin or state.local
    if not tip or not merged or tip == merged:
        return False
    if remote.commit_time(spec.path, merged) is not None:
        return not remote.contains(spec.path, tip, merged)
    # the merged head never reached this clone (GitHub's "Update branch" made it, and the branch
    # was deleted with the merge): a tip committed after the merge is a new round, an older one is
    # what was merged
    tip_time = remote.commit_time(spec.path, tip)
    merged_at = _timestamp(pull.get("merged_at"))
    return tip_time is not None and merged_at is not None and tip_time > merged_at


def _timestamp(text: object) -> float | None:
    from datetime import datetime

    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _slug(spec: RepoSpec) -> str:
    """OWNER/NAME: ``github:``, else from ``url:``, else from origin's URL (read only when needed)."""
    if spec.github or forges.slug_from_url(spec.url):
        return forges.slug(spec.github, spec.url, None, spec.name)
    origin = remote.origin_url(spec.path) if (spec.path / ".git").exists() else None
    return forges.slug(None, None, origin, spec.name)


# --- status ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    branch: str
    pr: int | None = None
    pr_state: str | None = None  # open, draft, merged, closed
    review: str | None = None  # approved, changes requested, review required, none
    checks: str | None = None  # passing, failing, pending, none
    next: str = ""
    error: str | None = None
    url: str | None = None
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("extra")
        return data


def status(
    manifest: Manifest, repos: Sequence[RepoSpec], *, forge: forges.Forge, jobs: int | None = None
) -> list[Row]:
    with forges.Client(forge, forges.throttler()) as client:  # one for the fleet, as in open_pulls

        def job(spec: RepoSpec) -> Row:
            outcome = _guard(manifest, spec, lambda: _StatusRow(status_one(manifest, spec, client)))
            if isinstance(outcome, _StatusRow):
                return outcome.row
            return Row(spec.name, "?", next="fix the error", error=outcome.message)

        return in_parallel(job, repos, jobs)


@dataclass(frozen=True)
class _StatusRow:
    row: Row


def status_one(manifest: Manifest, spec: RepoSpec, client: forges.Client) -> Row:
    def say(*words: str) -> str:
        """pass 24d: each next step with the options status was given; pass 24h: and the row's repo
        (`rollout pr --reopen`, pasted from one row, reopened every closed pull request of the fleet)"""
        return manifest.command(*words, repo=spec.name)

    state = remote.branch_state(spec.path, spec.branch, spec.base)
    full = _slug(spec)
    pull = client.find_pull(full, full.split("/")[0], spec.branch, spec.base)
    if pull is not None and pull.get("merged_at") and _after_merge(spec, pull, state):
        pull = None  # an earlier round's PR: these commits have none yet
    if pull is None:
        step = {
            remote.ABSENT: f"run `{say('apply', '--push', '--pr')}`",
            remote.LOCAL_ONLY: f"push: `{say('apply', '--push')}`",
            remote.UNPUSHED: f"push: `{say('apply', '--push')}`",
            remote.PUSHED: f"open PR: `{say('pr')}`",
            remote.BEHIND: f"rebase: base moved (`{say('apply', '--push')}`)",
        }[state.state]
        return Row(spec.name, state.state, next=step)
    number = pull["number"]
    if pull.get("merged_at"):
        left = state.local or state.origin
        return Row(
            spec.name,
            state.state,
            number,
            "merged",
            next=f"merged — run `{say('cleanup')}`"
            if left
            else f"merged — nothing left (`{say('plan')}` confirms)",
            url=pull.get("html_url"),
        )
    if pull["state"] == "closed":
        return Row(
            spec.name,
            state.state,
            number,
            "closed",
            next=f"closed by a person; {_push_first(manifest, spec)}"
            if _head_gone(spec)
            else f"closed by a person (`{say('pr', '--reopen')}`)",
            url=pull.get("html_url"),
        )
    sha = pull["head"]["sha"]
    review = _review(client.reviews(full, number), bool(pull.get("requested_reviewers")))
    checks = _checks(client.combined_status(full, sha), client.check_runs(full, sha))
    if state.state == remote.BEHIND:
        step = f"rebase: base moved (`{say('apply', '--push')}`)"
    elif state.state in (remote.LOCAL_ONLY, remote.UNPUSHED):
        step = f"push: `{say('apply', '--push')}`"
    elif checks == "failing":
        step = "checks failing"
    elif review == "changes requested":
        step = "changes requested"
    elif review == "approved" and checks in ("passing", "none"):
        # pass 7: GitHub never merges a draft: "merge it" was advice that could not be followed
        step = (
            "approved — mark it ready for review, then merge"
            if pull.get("draft")
            else "approved — merge it"
        )
    elif checks == "pending":
        step = "checks pending"
    else:
        step = "waiting for review"
    return Row(
        spec.name,
        state.state,
        number,
        "draft" if pull.get("draft") else "open",
        review,
        checks,
        step,
        url=pull.get("html_url"),
    )


def _review(reviews: list[dict], requested: bool) -> str:
    latest: dict[str, str] = {}
    for review in reviews:  # oldest first: the latest verdict of each reviewer counts
        login = (review.get("user") or {}).get("login") or "?"
        if review.get("state") in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            latest[login] = review["state"]
    verdicts = set(latest.values())
    if "CHANGES_REQUESTED" in verdicts:
        return "changes requested"
    if "APPROVED" in verdicts:
        return "approved"
    return "review required" if requested else "none"


def _checks(combined: dict, runs: dict) -> str:
    states = [s.get("state") for s in combined.get("statuses") or []]
    for answer, key in ((combined, "statuses"), (runs, "check_runs")):
        total = answer.get("total_count")
        if isinstance(total, int) and total > len(answer.get(key) or []):
            states.append("pending")  # pass 7: some were not read: never "passing" without them
    for run in runs.get("check_runs") or []:
        if run.get("status") != "completed":
            states.append("pending")
        elif run.get("conclusion") in ("success", "neutral", "skipped"):
            states.append("success")
        else:
            states.append("failure")
    if not states:
        return "none"
    if any(s in ("failure", "error") for s in states):
        return "failing"
    if any(s == "pending" for s in states):
        return "pending"
    return "passing"


def fleet_line(rows: Sequence[Row]) -> str:
    return f"{sum(r.pr_state == 'merged' for r in rows)} of {len(rows)} merged"


# --- cleanup -----------------------------------------------------------------------------------


def cleanup(
    manifest: Manifest,
    repos: Sequence[RepoSpec],
    *,
    forge: forges.Forge,
    force: bool = False,
    jobs: int | None = None,
    on_result: Callable[[Outcome], None] = lambda o: None,
) -> list[Outcome]:
    with forges.Client(forge, forges.throttler()) as client:  # one for the fleet, as in open_pulls
        return in_parallel(
            lambda spec: _guard(manifest, spec, lambda: cleanup_one(manifest, spec, client, force)),
            repos,
            jobs,
            on_result,
        )


def cleanup_one(manifest: Manifest, spec: RepoSpec, client: forges.Client, force: bool) -> Outcome:
    # pass 25a: the way past a kept branch names the repo (`rollout cleanup --force --repo NAME`):
    # "--force deletes the branch anyway" alone led to `rollout cleanup --force`, which deleted every
    # repo's unmerged rollout branch, a reviewer's commits on another repo's open pull request too
    forced = f"`{manifest.command('cleanup', '--force', repo=spec.name)}`"
    local, origin = remote.tips(spec.path, spec.branch)
    if local is None and origin is None:
        return Outcome(spec.name, NOTHING, f"no {spec.branch} here or on origin")
    full = _slug(spec)
    pull = client.find_pull(full, full.split("/")[0], spec.branch, spec.base)
    merged = pull is not None and bool(pull.get("merged_at"))
    if merged and pull is not None:  # only what the merged PR did not hold can be lost (pass 21e)
        merged_sha = pull["head"]["sha"]
        newer = [
            sha
            for sha in (local, origin)
            if sha and sha != merged_sha and not remote.contains(spec.path, sha, merged_sha)
        ]
        lost = _only_copy(
            spec,
            local if local in newer else None,
            origin if origin in newer else None,
            merged_sha,
        )
    else:
        lost = _only_copy(spec, local, origin)
    if lost or (not merged and not force):
        why = f"PR #{pull['number']} is {pull['state']}, not merged" if pull else "no pull request"
        if merged and pull is not None:
            why = f"{spec.branch} has commits after the merged PR #{pull['number']}"
        # --force or not, a branch holding the only copy of values is kept (pass 21d)
        way = (
            f"not deleted, even with --force{lost}"
            if lost
            else f"{forced} deletes the branch anyway" + _unpushed(spec, local)
        )
        return Outcome(spec.name, KEPT, f"{why}; {way}", pull["number"] if pull else None)
    if merged and not force and pull is not None:
        merged_sha = pull["head"]["sha"]
        newer = [
            sha
            for sha in (local, origin)
            if sha and sha != merged_sha and not remote.contains(spec.path, sha, merged_sha)
        ]
        if newer:
            return Outcome(
                spec.name,
                KEPT,
                f"{spec.branch} has commits after the merged PR #{pull['number']}; "
                f"{forced} deletes them too",
                pull["number"],
            )
    done = []
    if local is not None:
        remote.delete_local(spec.path, spec.branch, local)
        done.append("local")
    if origin is not None:
        gone = not remote.delete_origin(spec.path, spec.branch, origin)
        done.append("origin (already deleted there)" if gone else "origin")
    return Outcome(
        spec.name,
        DELETED,
        f"{spec.branch} ({' and '.join(done)})",
        pull["number"] if pull else None,
    )


def _unpushed(spec: RepoSpec, local: str | None) -> str:
    """ ", and with it N commits origin lacks" for a local branch holding commits no ref of origin
    (as last fetched) holds, "" for none. Pass 24a: a reviewer's commit on the local branch, never
    pushed, went with `cleanup --force` after "--force deletes the branch anyway" alone."""
    if local is None:
        return ""
    lacking = remote.count(spec.path, local, "--not", "--remotes=origin")
    return f", and with it {count(lacking, 'commit')} origin lacks" if lacking else ""


def _only_copy(
    spec: RepoSpec, local: str | None, origin: str | None, merged: str | None = None
) -> str:
    """The only-copy words of ``secrets_plan.only_copy_words`` for the branch's copies cleanup would
    delete (local, then origin's), "" when neither holds a ciphertext the base lacks and whose
    plaintext is not in the clone. Pass 21d (13.1 by another command): apply, the `.env` moved away
    (encrypted now), no pull request: cleanup said "--force deletes the branch anyway", and `cleanup
    --force` deleted it here and on origin, the ciphertext with it ("skip (no .env in the clone)").
    Pass 21e: after a merged PR, a value rotated and applied again, the `.env` moved away: "has commits
    after the merged PR; --force deletes them too" deleted the only copy of the new value. There
    ``merged`` (the merged PR's head) is what is compared with when the clone has it: what it held is
    on the base, fetched or not."""
    from juniper_rollout import gitrepo, secrets_plan

    try:
        with gitrepo.open_clone(spec.path) as clone:
            base = history = _base_or_none(clone, spec.base)
            if merged is not None and remote.commit_time(spec.path, merged) is not None:
                # what the base got; pass 23a: the merged head's own history is not the base's (a
                # squash merge), so what is safe in history is asked of the base itself
                base = clone.commit(merged)
            for sha, shown in (
                (local, spec),
                (
                    origin if origin != local else None,
                    replace(spec, branch=f"origin/{spec.branch}"),
                ),
            ):
                words = (
                    secrets_plan.only_copy_words(shown, clone.commit(sha), base, history)
                    if sha
                    else ""
                )
                if words:
                    return words
    except RepoError as err:
        # pass 22a: a check that could not be made is no "nothing to lose": a file the check could
        # not read made it say "", and `cleanup --force` deleted the branch's only copy of .env.enc
        return (
            f" (cannot tell whether it holds the only copy of a ciphertext: {err}; delete it by "
            "hand once you know)"
        )
    return ""


def _base_or_none(clone, base: str):  # a git.Commit, or None (only gitrepo imports GitPython)
    """The base commit, None when the base cannot be found (pass 22a: the base renamed, `base:` not
    yet following, answered "" and `cleanup --force` deleted the only copy; with no base, nothing
    is on it)."""
    from juniper_rollout import gitrepo

    try:
        return gitrepo.base_commit(clone, base)
    except RepoError:
        return None


def check_forge(manifest: Manifest) -> forges.Forge:
    return forges.connect(manifest.forge_api_url)
