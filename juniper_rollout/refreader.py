"""One reader of a repository at a ref, for plan, drift and verify: open the clone, resolve the ref
(None: the repo's base branch), hand the clone and commit to the job; and one failure policy for a
repo's job, so that a repo that cannot be read is reported and the others go on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from juniper_rollout import crashlog, gitrepo
from juniper_rollout.errors import ManifestError, RolloutError
from juniper_rollout.manifest import RepoSpec

T = TypeVar("T")


def read_at(repo: RepoSpec, ref: str | None, read: Callable[[Any, Any], T]) -> T:
    """``read(clone, commit)`` with ``commit`` the repo at ``ref`` (None: its base branch). Read-only:
    git objects only, never the working tree, index or HEAD. RolloutError if the ref cannot be read."""
    with gitrepo.open_clone(repo.path) as clone:
        commit = gitrepo.resolve_ref(clone, ref) if ref else gitrepo.base_commit(clone, repo.base)
        return read(clone, commit)


def guarded(repo: RepoSpec, doing: str, job: Callable[[], T], failed: Callable[[str], T]) -> T:
    """``job()``, or ``failed(one line)`` when it fails for this repo only: a RolloutError's message; an
    unexpected exception's type (its message might quote what was being read), with the full traceback
    in a log file (crashlog: types and code lines only, no values) whose path the line ends with.
    A ManifestError is the user's manifest, not this repo: it propagates (one line, exit 1)."""
    try:
        return job()
    except ManifestError:
        raise
    except RolloutError as err:
        return failed(str(err))
    except Exception as err:  # a damaged object database: this repo fails, the others go on
        if isinstance(err, ValueError) and gitrepo.is_partial_clone(repo.path):
            return failed(  # git's own state, not damage: objects left on the remote (pass 6)
                f"an object {doing} needs is missing from {repo.path}, a partial clone (git clone "
                "--filter): its remote cannot be reached? run again when it can (git fetches what "
                "the read needs), or use a clone made without --filter"
            )
        if (said := gitrepo.unsafe_tree(err, repo.path)) is not None:
            return failed(said)  # what the tree holds, not damage
        if isinstance(err, OSError) and (said := too_many_open_files(err, doing)) is not None:
            return failed(said)  # the machine's limit, not damage
        return failed(
            f"unexpected {type(err).__name__} while {doing} (a damaged repository? run `git fsck` "
            f"in {repo.path}; if it is clean, please report this)"
            + crashlog.see(crashlog.record(err, f"{doing} {repo.name}"))
        )


def too_many_open_files(err: OSError, doing: str) -> str | None:
    """EMFILE/ENFILE in words that say what to do (pass 10a: under a low `ulimit -n` it was "unexpected
    OSError … a damaged repository? run git fsck" and a crash log); None for any other OSError."""
    import errno
    import resource

    if err.errno not in (errno.EMFILE, errno.ENFILE):
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return (
        f"too many open files while {doing} (this shell allows {soft} per process: `ulimit -n`); "
        "raise the limit "
        "(`ulimit -n 4096`) or pass fewer --jobs, then run again"
    )
