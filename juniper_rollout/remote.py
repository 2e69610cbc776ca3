"""The git side of the review loop: origin, fetch, clone, branch state, deleting a merged branch.

Nothing here touches a working tree, the index or HEAD: fetch writes remote-tracking refs,
``git branch -D`` refuses a branch checked out in any worktree (and so does this module),
deleting on origin is a push with a lease on the commit the tool expects there.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from juniper_rollout import proctree, reffiles
from juniper_rollout.errors import RepoError
from juniper_rollout.gitenv import no_repo_code
from juniper_rollout.urls import ORIGIN_URLS, network_git_env, origin_urls, redact, strip_userinfo
from juniper_rollout.wording import shell_word

TOOL_ENV = network_git_env()  # never wait for a password prompt, nor on a stalled server


NETWORK_TIMEOUT = 600.0  # seconds any git here may take (a fetch from a remote gone silent)
CLONE_TIMEOUT = 1800.0  # seconds a clone may take (a whole repository comes down)
# what `sync` fetches: origin's branches onto its remote-tracking refs, the only refs a fetch moves
ORIGIN_BRANCHES = "+refs/heads/*:refs/remotes/origin/*"


def _git(
    path: Path, *args: str, check: bool = True, timeout: float | None = None, whole: bool = False
) -> subprocess.CompletedProcess:
    """``git -C path ARGS``; what it prints kept to its first and last half MB per stream, or all of it
    (``whole``) for a local git whose output is parsed to its end."""
    env = {**no_repo_code(), **TOOL_ENV}
    limit = timeout or NETWORK_TIMEOUT
    try:
        # pass 12a: stopped with its children (ssh to an ssh:// remote was left running for ever)
        out = proctree.run(
            ["git", "-C", str(path), *args],
            env=env,
            timeout=limit,
            keep=None if whole else proctree.MAX_KEPT,
        )
    except subprocess.TimeoutExpired:
        # pass 11a: an ssh:// or git:// remote that never answers (git's low-speed limit is http's)
        # ended sync with "unexpected TimeoutExpired; please report this" and a crash log
        verb = next((a for a in args if not a.startswith("-") and "=" not in a), "")
        raise RepoError(
            f"git {verb} did not finish in {limit:g} s (the remote stopped answering?); "
            "check the connection, then run it again"
        ) from None
    if check and out.returncode != 0:
        text = redact_origin(path, " ".join(out.stderr.split()))
        raise RepoError(f"git {args[0]} failed: {text[:200]}")
    return out


def redact_origin(path: Path, text: str) -> str:
    """``text`` without the credentials of origin's URLs (git repeats a query-string token in its errors)."""
    found = subprocess.run(
        ["git", "-C", str(path), "config", "--get-regexp", ORIGIN_URLS],
        capture_output=True,
        text=True,
        errors="replace",  # decoded as git's messages are (proctree.run): a Latin-1 URL (pass 12a)
        env={**no_repo_code(), **TOOL_ENV},
        preexec_fn=proctree.dies_with_us(),
    ).stdout
    return redact(text, *origin_urls(found))


def origin_url(path: Path) -> str | None:
    out = _git(path, "remote", "get-url", "origin", check=False)
    return out.stdout.strip() or None


def _refs(path: Path, *wanted: str) -> dict[str, str]:
    """Ref name -> object of the refs ``wanted`` names (full names or prefixes ending in /): read from
    the clone's ref files in this process, else by one ``git for-each-ref``."""
    _clone_here(path)
    dotgit = reffiles.files_backend(path)
    if dotgit is not None:
        return reffiles.read_refs(dotgit, *wanted)
    out = _git(path, "for-each-ref", "--format=%(refname) %(objectname)", *wanted).stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def _clone_here(path: Path) -> None:
    """One line for a clone that is not there, or that the tool cannot read (pass 7: status said
    "git for-each-ref failed: fatal: cannot change to …", and of a SHA-256 clone that its branch was
    "absent": the in-process reader knows SHA-1 ids only)."""
    import re

    if not path.exists():
        raise RepoError(f"no clone at {path}: run `rollout sync` (it clones from `url:`)")
    try:  # as gitrepo._sha256 reads it, without importing GitPython here
        config = (path / ".git" / "config").read_text(errors="replace").lower()
    except OSError:
        config = ""
    sha256 = re.search(r"(?m)^\s*objectformat\s*=\s*sha256\s*$", config) is not None
    if not sha256 and "objectformat" in config:  # quoted, a comment after it: git's reading (16b)
        shown = _git(path, "rev-parse", "--show-object-format", check=False, timeout=60)
        sha256 = shown.stdout.strip() == "sha256"
    if sha256:
        raise RepoError(
            f"{path}: SHA-256 repositories are not supported (the tool reads and writes SHA-1 objects)"
        )


def count(path: Path, *revs: str) -> int:
    out = _git(path, "rev-list", "--count", *revs, "--")
    return int(out.stdout.strip() or 0)


def contains(path: Path, ancestor: str, descendant: str) -> bool:
    dotgit = reffiles.files_backend(path)
    if dotgit is not None and reffiles.reaches(dotgit, ancestor, descendant):
        return True  # read from the loose commits alone, without GitPython
    chain = _chain(path, ancestor, descendant)
    if chain is not None:
        return True
    return (
        _git(path, "merge-base", "--is-ancestor", ancestor, descendant, check=False).returncode == 0
    )


def commit_time(path: Path, sha: str) -> int | None:
    """The committer time of commit ``sha`` (seconds since the epoch); None when the clone lacks it."""
    out = _git(path, "show", "-s", "--format=%ct", f"{sha}^{{commit}}", "--", check=False)
    text = out.stdout.strip()
    return int(text) if out.returncode == 0 and text.isdigit() else None


def _chain(path: Path, ancestor: str, tip: str):
    """The tool's commits from ``tip`` down to ``ancestor`` when they form a short single-parent chain
    (read in-process); None: ask git."""
    from juniper_rollout import gitrepo

    if reffiles.files_backend(path) is None:
        return None
    try:
        with gitrepo.open_clone(path) as clone:
            return gitrepo.linear_chain(clone, ancestor, tip)
    except RepoError:
        return None


# --- sync ----------------------------------------------------------------------------------


def fetch(path: Path, base: str | None = None) -> tuple[int, str | None, str | None]:
    """``git fetch origin``: the number of commits that came new to origin's remote-tracking refs, and
    the tips of ``base`` here and on origin after the fetch (read with the same git call as the refs)."""
    if not (path / ".git").exists():
        raise RepoError(f"{path} is not a git clone (move it away, or fix `path:`)")
    before = _remote_tips(path, base)
    # no auto-maintenance: git would start `git maintenance run --auto` after every fetch (a process
    # per repo, ~2 ms of CPU even when there is nothing to do); the user's own git runs it
    out = _git(
        path,
        "-c",
        "maintenance.auto=false",
        "fetch",
        "--quiet",
        "--no-write-fetch-head",
        # no tag: the tool reads branches only (pass 24d: `remote.origin.tagOpt = --tags` and a
        # local tag that differs from origin's failed every sync, "would clobber existing tag")
        "--no-tags",
        # origin's branches land on its remote-tracking refs only, whatever `remote.origin.fetch`
        # maps them to (pass 24a: `+refs/heads/*:refs/heads/*`, a mirror set-up, force-moved the
        # local rollout branch back to origin's, its unpushed commit the only copy of a value)
        "--refmap=",
        "origin",
        ORIGIN_BRANCHES,
        check=False,
    )
    if out.returncode != 0:
        # pass 30d: `remote get-url` fails on it too: "no remote". Pass 30g: git's words about the
        # file (a ref name's parts never begin with a dot), not origin's branch `sec/packed-refs`
        # beside a stale `origin/sec` ("cannot lock ref"), which was told to mend a packed-refs
        if re.search(r"(^|[\s'\"/])\.git/packed-refs", out.stderr):
            from juniper_rollout import gitrepo

            raise RepoError(gitrepo.damaged_packed_at(path))
        if (
            origin_url(path) is None
        ):  # asked only now: one git process less per repo when all is well
            raise RepoError(f"{path} has no remote `origin` (git remote add origin URL)")
        said = " ".join(out.stderr.split()) or f"exit status {out.returncode}"
        raise RepoError(f"git fetch failed: {redact_origin(path, said)[:200]}")
    after = _remote_tips(path, base)
    tips = {sha for ref, sha in after.items() if ref.startswith("refs/remotes/origin/")}
    old = {sha for ref, sha in before.items() if ref.startswith("refs/remotes/origin/")}
    new = sorted(tips - old)
    local = after.get(f"refs/heads/{base}") if base else None
    origin = after.get(f"refs/remotes/origin/{base}") if base else None
    if not new:
        return 0, local, origin
    return count(path, *new, *(f"^{sha}" for sha in sorted(old))), local, origin


def _remote_tips(path: Path, base: str | None = None) -> dict[str, str]:
    """Ref name -> commit of origin's remote-tracking refs (and of the local ``base`` branch)."""
    return _refs(path, "refs/remotes/origin/", *([f"refs/heads/{base}"] if base else []))


def clone(url: str, path: Path) -> None:
    """``git clone`` into a folder of this run's own beside ``path`` (the same file system), renamed
    to ``path`` only once complete. A clone stopped part-way (git failing, Ctrl-C, the tool killed)
    never leaves a half-made folder at ``path``, and nothing at ``path`` is removed, whatever put it
    there meanwhile (a concurrent sync, the user): a failure removes this run's folder only. An
    empty folder at ``path`` (sync's "no clone yet") is replaced by the clone in that one rename,
    which the kernel does only while the folder is still empty; its mode is kept."""
    if path.is_symlink():  # a link to the folder meant for the clone: clone beside where it points
        if not path.exists():
            raise RepoError(f"{path} is a link to nothing: fix the link, or `path:`")
        path = Path(os.path.realpath(path))
    if path.exists() and any(path.iterdir()):
        raise RepoError(f"{path} exists and is not a clone; move it away first")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # pass 7: "unexpected FileExistsError; please report this"
        raise RepoError(
            f"cannot make the folder {path.parent} for the clone: {err.strerror} (fix `path:`)"
        ) from None
    try:
        # the name's start only: a name near the 255-byte limit git clones into would make the
        # folder's name too long for the file system (pass 19d)
        stage = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name[:48]}.sync-"))
    except OSError as err:
        if path.is_dir():  # an empty folder made for the clone, in a folder sync may not write to
            # (pass 19d: git clones into it, sync said "fix `path:`")
            raise RepoError(
                f"cannot make a folder beside {path} in {path.parent} ({err.strerror}), where sync "
                "clones before renaming the finished clone into place: clone into the empty folder "
                f"yourself ({_clone_yourself(url, path)}), then run sync again"
            ) from None
        raise RepoError(f"cannot clone into {path.parent}: {err.strerror} (fix `path:`)") from None
    staged = stage / path.name
    try:
        _group_of_the_folder(stage, path, url)
        try:
            # stopped with its children, as fetch is (pass 16a: at the time limit, or a second
            # Ctrl-C, git alone was killed and its ssh ran on for ever; the limit's end was
            # "unexpected TimeoutExpired; please report this" and a crash log)
            out = proctree.run(
                ["git", "clone", "--quiet", "--", url, str(staged)],
                env={**no_repo_code(), **TOOL_ENV},
                timeout=CLONE_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            raise RepoError(
                f"git clone did not finish in {CLONE_TIMEOUT:g} s (the remote stopped answering?); "
                "check the connection, then run it again"
            ) from None
        if out.returncode != 0:
            said = " ".join(out.stderr.replace(str(staged), str(path)).split())
            # the URL's own credentials, and those of a URL git rewrote it into: the user's config
            # (`url.<URL?access_token=…>.insteadOf`) is read with no clone yet (pass 20d, 13.7)
            said = redact_origin(stage, redact(said, url))[:200]
            # the URL as stored and printed everywhere (the manifest refuses one with credentials;
            # one it reads none in is still never printed but stripped, pass 20d)
            raise RepoError(f"git clone {strip_userinfo(url)} failed: {said}")
        _into_place(staged, path, url)
    finally:
        shutil.rmtree(stage, ignore_errors=True)  # this run's own folder, whatever is left in it


def _clone_yourself(url: str, path: Path) -> str:
    """The ``git clone`` that fills the empty folder ``path``, as one pasteable command (no
    credentials: the manifest refuses them, a credential helper supplies them)."""
    return f"`git clone {shell_word(strip_userinfo(url))} {shell_word(str(path))}`"


def _group_of_the_folder(stage: Path, path: Path, url: str) -> None:
    """The group an empty folder waiting at ``path`` gives what git writes into it, given to the
    stage first (pass 19d): a team's folder (group ``team``, setgid) gave the clone the group of
    the folder it was made in, and a folder kept to one group (mode 2770) then opened the clone to
    the parent's group. Kept by the rename with :func:`_into_place`."""
    try:
        waiting = os.stat(path)
    except FileNotFoundError:
        return
    _set_group(stage, waiting.st_gid, path, url)
    if waiting.st_mode & stat.S_ISGID:  # git's files and folders inherit the group, as in `path`
        os.chmod(stage, 0o700 | stat.S_ISGID)


def _set_group(folder: Path, gid: int, path: Path, url: str) -> None:
    if os.stat(folder).st_gid == gid:
        return
    try:
        os.chown(folder, -1, gid)
    except OSError as err:
        raise RepoError(
            f"cannot give the clone the group of the empty folder {path} ({err.strerror}): clone "
            f"into it yourself ({_clone_yourself(url, path)}), then run sync again"
        ) from None


def _into_place(staged: Path, path: Path, url: str) -> None:
    """Rename the finished clone to ``path``: absent, or an empty folder (its group and mode kept)."""
    try:
        waiting = os.stat(path)
    except FileNotFoundError:
        pass
    else:
        _set_group(staged, waiting.st_gid, path, url)  # before the mode: chown may clear setgid
        os.chmod(staged, stat.S_IMODE(waiting.st_mode))
    try:
        os.rename(staged, path)
    except OSError as err:
        if err.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise RepoError(
                f"{path} appeared while sync was cloning into it (another sync, or someone else): "
                "left as it is and the new clone not kept; look at it, then run sync again"
            ) from None
        if err.errno == errno.EBUSY:
            raise RepoError(
                f"{path} is a mount point, which sync cannot rename a finished clone onto: "
                f"clone into it yourself ({_clone_yourself(url, path)}), then run sync again"
            ) from None
        raise RepoError(f"cannot move the clone to {path}: {err.strerror}") from None


# --- branch state ----------------------------------------------------------------------------

ABSENT, LOCAL_ONLY, PUSHED, BEHIND, UNPUSHED = (
    "absent",
    "local only",
    "pushed",
    "behind base",
    "not pushed yet",
)


@dataclass(frozen=True)
class BranchState:
    state: str
    local: str | None
    origin: str | None
    base: str | None  # the base commit the branch should contain (origin's, else the local one)


def branch_state(path: Path, branch: str, base: str) -> BranchState:
    wanted = [
        f"refs/heads/{branch}",
        f"refs/remotes/origin/{branch}",
        f"refs/remotes/origin/{base}",
        f"refs/heads/{base}",
    ]
    refs = _refs(path, *wanted)
    local, remote = refs.get(wanted[0]), refs.get(wanted[1])
    base_sha = refs.get(wanted[2]) or refs.get(wanted[3])
    tip = remote or local
    if tip is None:
        state = ABSENT
    elif base_sha is not None and not contains(path, base_sha, tip):
        state = BEHIND
    elif remote is None:
        state = LOCAL_ONLY
    elif local is not None and local != remote:
        state = UNPUSHED
    else:
        state = PUSHED
    return BranchState(state, local, remote, base_sha)


def changes(
    path: Path, base: str, tip: str
) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """What ``tip`` brings since its merge base with ``base``, for the pull request's description:

    * (path, action, why) of each file it changes; the why comes from the tool's commit messages on
      the branch (``- PATH: ACTION (WHY)``);
    * (sha, subject) of each commit on ``tip`` since ``base``, oldest first: the full commit id
      (GitHub shows it short, as a link; a short one may stop being unique).

    When ``tip`` is a short single-parent chain on ``base`` (the tool's commits), all of it is read
    in-process (``base`` is then the merge base, the chain is ``base..tip``, the files are the two
    trees compared); else by ``git diff`` and one ``git log``."""
    found = _in_process(path, base, tip)
    if found is None:
        status = _git(
            path, "diff", "--no-renames", "--name-status", "-z", f"{base}...{tip}", whole=True
        ).stdout.split("\0")
        found = (
            [(status[i + 1], status[i]) for i in range(0, len(status) - 1, 2) if status[i]],
            _log(path, base, tip),
        )
    status, log = found
    actions = {"A": "create", "M": "update", "D": "delete", "T": "update"}
    files = [(name, actions.get(code[:1], "update")) for name, code in status]
    why: dict[str, str] = {}
    for _, _, message in log:  # newest first: the newest reason for a path wins
        for line in message.splitlines():
            if line.startswith("- ") and ": " in line:
                name, _, rest = line[2:].partition(": ")
                reason = rest.partition(" (")[2].rstrip(")") if " (" in rest else ""
                why.setdefault(name, reason)
    commits = [(sha, subject) for sha, subject, _ in reversed(log)]
    return [(name, action, why.get(name, "")) for name, action in files], commits


def _log(path: Path, base: str, tip: str) -> list[tuple[str, str, str]]:
    """(sha, subject, message) of each commit of ``base..tip``, newest first (``git log``)."""
    fields = _git(
        path, "log", "--format=%H%x00%s%x00%B%x00", f"{base}..{tip}", whole=True
    ).stdout.split("\0")
    return [
        (fields[i].lstrip("\n"), fields[i + 1], fields[i + 2]) for i in range(0, len(fields) - 2, 3)
    ]


def subject(message: str) -> str:
    """A commit's subject as git's ``%s`` says it: its first paragraph on one line."""
    first: list[str] = []
    started = False
    for line in message.split("\n"):
        if not line.strip():
            if started:
                break
            continue  # blank lines before the subject are skipped
        started = True
        first.append(line.rstrip())
    return " ".join(first)


def _in_process(
    path: Path, base: str, tip: str
) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]] | None:
    """``changes``' files (path, A/M/D/T) and log, read in-process; None: ask git."""
    from juniper_rollout import gitrepo

    if reffiles.files_backend(path) is None:
        return None
    try:
        with gitrepo.open_clone(path) as clone:
            chain = gitrepo.linear_chain(clone, base, tip)
            if chain is None:
                return None
            files = gitrepo.changed_paths(clone, clone.commit(base).tree, clone.commit(tip).tree)
            log = []
            for commit in chain:
                message = commit.message
                if not isinstance(message, str):
                    message = message.decode("utf-8", "replace")
                log.append((commit.hexsha, subject(message), message))
            return files, log
    except RepoError:
        return None


def tips(path: Path, branch: str) -> tuple[str | None, str | None]:
    """The commits of ``branch`` here and on origin (remote-tracking), None where absent; one git call."""
    refs = _refs(path, f"refs/heads/{branch}", f"refs/remotes/origin/{branch}")
    return refs.get(f"refs/heads/{branch}"), refs.get(f"refs/remotes/origin/{branch}")


# --- cleanup -----------------------------------------------------------------------------------


def delete_local(path: Path, branch: str, expected: str) -> None:
    from juniper_rollout import gitrepo

    with gitrepo.open_clone(
        path
    ) as clone:  # the one check apply uses too: checked out, rebasing or bisecting
        where = gitrepo.checked_out_in(clone, branch)
        how = gitrepo.worktree_advice(clone, where, path) if where is not None else ""
        gitrepo.refuse_alias(clone, branch, "deleted")  # update-ref -d deletes what it names
    if where is not None:
        raise RepoError(f"{branch} is checked out in {where}; {how}, then clean up again")
    # update-ref with the old value: deletes only the commit we looked at, never a newer one
    out = _git(
        path, "update-ref", "--no-deref", "-d", f"refs/heads/{branch}", expected, check=False
    )
    if out.returncode != 0:
        raise RepoError(f"{branch} moved while cleaning up; run cleanup again")
    _git(
        path, "update-ref", "--no-deref", "-d", f"refs/juniper-rollout/pushed/{branch}", check=False
    )


def _gone_from_origin(path: Path, branch: str, expected: str) -> bool:
    """Whether the repository `git push origin` sends to answers and has no ``branch``, asked as a push
    asks it: a dry run whose lease wants the branch absent. Pass 22a's note: `ls-remote origin` reads
    the fetch URL, and where `remote.origin.pushurl` names a fork, a fork's branch moved by someone
    else (the delete refused) was said to be "already deleted there" because upstream had none."""
    out = _git(
        path,
        "push",
        "--dry-run",
        "--porcelain",
        f"--force-with-lease=refs/heads/{branch}:",
        "origin",
        f"{expected}:refs/heads/{branch}",
        check=False,
    )
    return out.returncode == 0


def on_origin(path: Path, branch: str) -> bool | None:
    """Whether the repository `git push origin` sends to has ``branch`` now, asked as a push asks it: a
    dry-run delete leased on its absence (refused, "stale info", when it is there); None when origin
    does not say. The remote-tracking ref cannot tell: `sync` leaves one of a branch deleted there."""
    ref = f"refs/heads/{branch}"
    out = _git(
        path,
        "push",
        "--dry-run",
        "--porcelain",
        f"--force-with-lease={ref}:",
        "origin",
        f":{ref}",
        check=False,
    )
    if out.returncode == 0:
        return False
    return True if "stale info" in out.stdout else None


def delete_origin(path: Path, branch: str, expected: str) -> bool:
    """Delete ``branch`` on origin if it is still at ``expected``: True; False when origin had
    already deleted it (then only the stale remote-tracking ref is removed)."""
    out = _git(
        path,
        "push",
        "--porcelain",
        f"--force-with-lease=refs/heads/{branch}:{expected}",
        "origin",
        f":refs/heads/{branch}",
        check=False,
    )
    if out.returncode != 0:
        text = " ".join(f"{out.stdout} {out.stderr}".split())
        refused = "stale info" in text or "rejected" in text
        if refused and _gone_from_origin(path, branch, expected):
            # pass 7: GitHub deleted the merged head branch itself ("Automatically delete head
            # branches"); only the stale remote-tracking ref is left, which `sync` does not prune
            _git(
                path,
                "update-ref",
                "--no-deref",
                "-d",
                f"refs/remotes/origin/{branch}",
                expected,
                check=False,
            )
            return False
        if refused:
            raise RepoError(
                f"origin/{branch} has commits the tool did not see; fetch (rollout sync) and look at them"
            )
        # pass 21b (13.7): git repeats a query-string token of origin's URL ("unable to access '…'")
        raise RepoError(f"deleting origin/{branch} failed: {redact_origin(path, text)[:200]}")
    return True
