""".gitignore, judged by git's own check-ignore in a throwaway repo holding only the ref's .gitignore."""

from __future__ import annotations

from juniper_rollout import envfiles, throwaway
from juniper_rollout.checks.base import APPLY, Check, RefFiles, failed, lfs_pointer, passed
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.paths import GITIGNORE


def check_gitignore(
    snap: RefFiles, manifest: Manifest | None = None, repo: RepoSpec | None = None
) -> Check:
    """git's own check-ignore, in a throwaway repo holding only the ref's .gitignore. Where the repo's
    entry says `gitignore: false` the way out is the user's own lines or the setting dropped (pass
    27a: "run plan, then apply (fixes .gitignore)", followed, wrote nothing to .gitignore)."""
    name = "gitignore"
    MUST_IGNORE, MUST_TRACK = (
        manifest.env_files if manifest is not None else envfiles.DEFAULT
    ).samples()
    stored = lfs_pointer(name, GITIGNORE, snap)
    if stored is not None:
        return stored
    if GITIGNORE in snap.links:
        # pass 28a: git reads no .gitignore that is a symlink (2.32+: "unable to access '.gitignore':
        # Too many levels of symbolic links"), so `.env` is not ignored whatever the file it names
        # says; "add lines … to .gitignore yourself" wrote them there, and the check failed the same
        return failed(
            name,
            f"{GITIGNORE} at {snap.ref} is a symlink, and git never reads a symlinked {GITIGNORE}: "
            f"nothing is ignored by it",
            "replace the link with a regular file"
            + (
                f" whose lines ignore {', '.join(MUST_IGNORE)} and not their examples "
                "(`gitignore: false` in this repo's entry leaves them to you)"
                if repo is not None and not repo.gitignore
                else ""
            )
            + f", commit it on the base branch, then {APPLY}",
        )
    gitignore = snap.files.get(GITIGNORE)
    with throwaway.scratch_repo(
        {GITIGNORE: gitignore} if gitignore is not None else None
    ) as scratch:
        ignored = throwaway.ignored(scratch, [*MUST_IGNORE, *MUST_TRACK])
    not_ignored = [p for p in MUST_IGNORE if p not in ignored]
    wrongly = [p for p in MUST_TRACK if p in ignored]
    if not_ignored or wrongly:
        parts = ([f"not ignored: {', '.join(not_ignored)}"] if not_ignored else []) + (
            [f"ignored: {', '.join(wrongly)}"] if wrongly else []
        )
        return failed(
            name,
            f"git check-ignore at {snap.ref}: {'; '.join(parts)}",
            APPLY + " (fixes .gitignore)"
            if repo is None or repo.gitignore
            else f"add lines that do it to {GITIGNORE} yourself (`gitignore: false` in this repo's "
            f"entry leaves it to you), or drop that setting, then {APPLY}",
        )
    return passed(name, f"ignores {', '.join(MUST_IGNORE)}; tracks {', '.join(MUST_TRACK)}")
