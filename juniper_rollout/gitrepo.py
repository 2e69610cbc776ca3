"""The only module that talks to git (through GitPython).

Reading: blobs at the base commit, straight from the object database; the
working tree, index, HEAD and stash of the user's clone are never read or written.

Writing: new blobs, trees and one commit go into the object database, then the
rollout branch moves with a compare-and-swap ``git update-ref``. No checkout and
no index, not even a temporary one: the trees are built from the base tree,
rewriting only the directories on the path of a changed file, so the cost grows
with the files changed, not with the size of the repository.
"""

from __future__ import annotations

import codecs
import fcntl
import hashlib
import os
import re
import secrets
import shlex
import signal
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import NamedTuple, TypeVar

import git
import gitdb
from git.objects.fun import tree_entries_from_data, tree_to_stream
from git.objects.util import parse_date
from gitdb.base import IStream

from juniper_rollout import proctree
from juniper_rollout.errors import RepoError
from juniper_rollout.gitenv import config_env, no_repo_code, overrides
from juniper_rollout.paths import MAX_FILE_BYTES, PUSH_RECORDS, fold
from juniper_rollout.reffiles import files_backend, read_refs, ref_storage  # noqa: F401  (re-exported)
from juniper_rollout.urls import (
    ORIGIN_URLS,
    names_a_login_only,
    network_git_env,
    origin_urls,
    query,
    redact,
    strip_userinfo,
    userinfo,
)
from juniper_rollout.wording import git_in as git_in_folder
from juniper_rollout.wording import path_word, shell_word

TRAILER = "Rollout-Tool: juniper-rollout"
ROLLOUT_TRAILER = (
    "Rollout-Name: "  # which rollout wrote the commit (pass 20e), covered by the check line
)
CHECK_TRAILER = "Rollout-Check: "  # a digest of parent, tree and message: an amended commit no longer matches it
ZERO = "0" * 40
TREE_MODE, BLOB_MODE, LINK_MODE, EXEC_MODE, SUBMODULE_MODE = (
    0o040000,
    0o100644,
    0o120000,
    0o100755,
    0o160000,
)
PUSHED_REF = f"refs/{PUSH_RECORDS}"


WHOLE_LOOSE = 1 << 24  # bytes of a loose object inflated at once; a larger one is read as a stream


class InProcessObjects(git.GitCmdObjectDB):
    """Objects read and written by gitdb inside this process, not by git subprocesses.

    GitPython's default backend starts two ``git cat-file`` processes per clone to read
    and one ``git hash-object`` process per object written: more time than everything else
    a rollout does in a repo. gitdb reads loose objects and packs (and alternates) and
    writes loose objects as git does (temp file, then rename); refs still move with
    ``git update-ref``. Its reads are pure Python: fine for the few small files a rollout
    touches, slow for bulk reads. (GitPython deprecates selecting gitdb as a whole backend,
    citing performance and security; here it serves only the tool's own object reads and
    writes.) Clones that may lack objects (partial clones) keep the default backend, which
    lets git fetch them.
    """

    def __init__(self, root_path: str, git_cmd: git.Git) -> None:
        super().__init__(root_path, git_cmd)
        self._root = root_path
        self._objects = gitdb.GitDB(root_path)

    def _loose(self, binsha: bytes) -> str:
        hexsha = binsha.hex()
        return os.path.join(self._root, hexsha[:2], hexsha[2:])

    def info(self, binsha: bytes) -> gitdb.OInfo:
        """A loose object's type and size from its header (only the first bytes are inflated), else
        gitdb's answer (packs, alternates)."""
        try:
            with open(self._loose(binsha), "rb") as handle:
                head = zlib.decompressobj().decompress(handle.read(256), 64)
            kind, size = _header(head)
        except (OSError, ValueError, zlib.error):
            return self._objects.info(binsha)
        return gitdb.OInfo(binsha, kind, size)

    def stream(self, binsha: bytes) -> gitdb.OStream:
        """A loose object inflated by one zlib call (gitdb's stream readers cost four times as
        much, most of the reading a plan does), else gitdb's stream (packs, alternates, and a loose
        object larger than ``WHOLE_LOOSE``, which gitdb inflates as it is read: pass 23c, a blob of
        2.5 GB of zeros, 10 MB as a loose object, which a fetch of under 100 objects stores loose,
        was inflated whole by drift, held in memory, "unexpected MemoryError" under a cap). What
        is inflated here stops at the size its header says (pass 23f: a header saying `blob 10`
        over 2.2 GB of zeros, which git itself refuses as "garbage at end of loose object", was
        inflated whole, "unexpected MemoryError" again); gitdb reads no more than that either."""
        try:
            with open(self._loose(binsha), "rb") as handle:
                packed = handle.read()
            inflate = zlib.decompressobj()
            kind, size = _header(inflate.decompress(packed, 64))
            if size > WHOLE_LOOSE:
                return self._objects.stream(binsha)
            raw = zlib.decompressobj().decompress(packed, size + 64 + 1)
        except (OSError, ValueError, zlib.error):
            return self._objects.stream(binsha)
        body = raw[raw.index(b"\0") + 1 :]
        if len(body) != size:
            return self._objects.stream(binsha)  # gitdb says what is wrong with it
        return gitdb.OStream(binsha, kind, size, BytesIO(body))

    def store(self, istream: IStream) -> IStream:
        return self._objects.store(istream)


_KINDS = {b"blob": b"blob", b"tree": b"tree", b"commit": b"commit", b"tag": b"tag"}


def _header(data: bytes) -> tuple[bytes, int]:
    """``(type, size)`` of a loose object's inflated ``type SP size NUL`` header."""
    kind, _, size = data[: data.index(b"\0")].partition(b" ")
    if kind not in _KINDS or not size.isdigit():
        raise ValueError("not a git object header")
    return _KINDS[kind], int(size)


def _partial_clone(dotgit: Path) -> bool:
    try:
        config = (dotgit / "config").read_text(errors="replace").lower()
    except OSError:
        return False
    return "partialclone" in config or "promisor" in config


def _sha256(dotgit: Path) -> bool:
    """Does the clone use SHA-256 object names (``extensions.objectFormat = sha256``)?"""
    try:
        config = (dotgit / "config").read_text(errors="replace").lower()
    except OSError:
        return False
    if re.search(r"(?m)^\s*objectformat\s*=\s*sha256\s*$", config):
        return True
    if "objectformat" not in config:
        return False
    # pass 16b: spelled as git also reads it (`"sha256"` quoted, a `; comment` after it, a `\`
    # line continuation), it was missed and the plan said "base branch 'main' not found": ask git
    try:
        shown = subprocess.run(
            ["git", "--git-dir", str(dotgit), "rev-parse", "--show-object-format"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            preexec_fn=proctree.dies_with_us(),
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return False
    return shown == "sha256"


def _ref_storage(dotgit: Path) -> str | None:
    try:
        return ref_storage((dotgit / "config").read_text(errors="replace"))
    except OSError:
        return None


def _no_repository(path: Path) -> str:
    """Why the folder ``path`` is no clone, and the way to make it one. Pass 28c (13.9: drift's
    line for a folder whose `.git` is gone): "run `git clone` there" named no URL, and git clones
    into no folder holding files ("destination path already exists"), so it failed pasted."""
    try:
        with os.scandir(path) as entries:
            held = next(entries, None) is not None
    except OSError:  # a file, a FIFO: in the way as much as a folder holding files
        held = True
    how = "move it away, then clone the repo at its path" if held else "clone the repo into it"
    return f"{path} is not a git repository ({how}, or fix `path:`)"


def _damaged_head(path: Path, dotgit: Path) -> str | None:
    """Why the clone at ``path``, whose ``.git`` holds objects and refs, is no repository to git when its
    ``HEAD`` is empty or damaged (a power loss mid-write), and how to write it back; None when HEAD
    reads as a ref or commit id. Pass 28c's note: it was "not a git repository (move it away, then
    clone the repo at its path …)", which a clone holding uncommitted work should never follow."""
    head = dotgit / "HEAD"
    try:
        text = _ref_file_text(head) if head.is_file() else ""  # a FIFO is never opened
    except OSError:
        text = ""
    if not (dotgit / "objects").is_dir() or not (dotgit / "refs").is_dir():
        return None
    if _HEAD_TEXT.fullmatch(text):
        return None
    said = f"{path}/.git/HEAD is empty or damaged (a power loss?), so git cannot read the clone either; "
    branch, commit, tip = _last_checked_out(dotgit)
    if commit is not None:
        # pass 29d: a clone left on a commit (`git checkout HEAD~2`, a bisect) was told to write back
        # its only branch: pasted, `git status` showed the newer commits undone in the work tree,
        # which a `git commit -a` then commits onto that branch
        return said + (
            f"write back the commit it last had checked out (on no branch), `printf '%s\\n' "
            f"{commit} > {path_word(head)}`, then run again"
        )
    if branch is None:
        return said + (
            f"write the branch it had checked out back into it (`printf 'ref: refs/heads/%s\\n' "
            f"BRANCH > {path_word(head)}`, BRANCH that branch's name), then run again"
        )
    if tip is not None and _index_holds(dotgit, tip) is False:
        # pass 29h: `git switch --orphan fresh` writes no reflog entry, so an empty HEAD there was
        # told to write back main, the branch before it; pasted, `git commit` put the new branch's
        # files onto main. The staged files tell: they are not main's last commit
        return said + (
            f"write the branch it had checked out back into it (`printf 'ref: refs/heads/%s\\n' "
            f"BRANCH > {path_word(head)}`, BRANCH that branch's name), then run again; its reflog "
            f"last shows {shell_word(branch)}, but the files it has staged are not that branch's "
            "last commit (changes staged, or a new branch with no commit yet, as `git switch "
            "--orphan` makes): if it was that branch, check `git status` before you commit"
        )
    return said + (
        f"write back the branch it last had checked out, `printf 'ref: refs/heads/%s\\n' "
        f"{shell_word(branch)} > {path_word(head)}`, then run again"
    )


def _last_checked_out(dotgit: Path) -> tuple[str | None, str | None, str | None]:
    """The branch HEAD's reflog last moved to (``checkout: moving from A to B``), when it still exists
    (loose or packed); else the clone's only branch; else None. Second, the commit HEAD was last on
    when no branch is at it, HEAD then on no branch: the new value of its reflog's last entry.
    Third, the first one's tip, when it is known."""
    tail = _reflog_tail(dotgit / "logs" / "HEAD", 65536)
    moves = re.findall(rb"\tcheckout: moving from \S+ to (\S+)\n", tail)
    last = re.match(
        rb"[0-9a-f]{40,64} ([0-9a-f]{40}|[0-9a-f]{64}) ", (tail.splitlines() or [b""])[-1]
    )
    at = last.group(1) if last is not None and set(last.group(1)) != {ord("0")} else None
    if (dotgit / "rebase-merge").is_dir() or (
        (dotgit / "rebase-apply").is_dir() and not (dotgit / "rebase-apply" / "applying").exists()
    ):
        # pass 29g: a rebase runs on no branch; a conflict stopped on the new base's tip (`git
        # rebase main` from feat) was told to write back `ref: refs/heads/main`, and pasted,
        # `git rebase --continue` committed feat's commits onto main
        return None, (at.decode() if at is not None else None), None
    try:
        packed = (dotgit / "packed-refs").read_bytes()
    except OSError:
        packed = b""
    tips: dict[str, bytes] = {
        m[1].decode(errors="surrogateescape"): m[0]
        for m in re.findall(rb"(?m)^([0-9a-f]{40,64}) refs/heads/(\S+)$", packed)
    }
    for file in (dotgit / "refs" / "heads").rglob("*"):
        if file.is_file() and not file.name.endswith(
            ".lock"
        ):  # a write cut short leaves `main.lock`
            try:
                words = file.read_bytes()[:80].split()  # git reads "SHA comment" as SHA
            except OSError:
                words = []
            tips[str(file.relative_to(dotgit / "refs" / "heads"))] = b"".join(words[:1])
    if moves and (moved := moves[-1].decode(errors="surrogateescape")) in tips:
        if at is None or tips[moved] == at:
            return moved, None, _sha_text(tips[moved])
    if at is not None:
        on = [branch for branch, tip in tips.items() if tip == at]
        if not on:  # pass 29d: on a commit, no branch at it (`git checkout HEAD~2`, a bisect)
            return None, at.decode(), None
        return (on[0], None, at.decode()) if len(on) == 1 else (None, None, None)
    if len(tips) != 1:
        return None, None, None
    ((only, tip),) = tips.items()
    return only, None, _sha_text(tip)


def _sha_text(sha: bytes) -> str | None:
    return sha.decode() if re.fullmatch(rb"[0-9a-f]{40}|[0-9a-f]{64}", sha) else None


def _reflog_tail(log: Path, size: int) -> bytes:
    """The last ``size`` bytes of the reflog ``log``; empty when there is none. A FIFO is no reflog,
    never opened (pass 29h: one at `.git/logs/HEAD` held plan for ever)."""
    if not log.is_file():
        return b""
    try:
        with log.open("rb") as f:
            f.seek(max(0, log.stat().st_size - size))
            return f.read()
    except OSError:
        return b""


def _index_holds(dotgit: Path, commit: str) -> bool | None:
    """Whether the clone's index stages exactly ``commit``'s files, as git reads it through a throwaway
    empty repository (git refuses the clone itself while its HEAD is damaged); None when that cannot
    be told (no index, a FIFO there, a split index, git failing). No object, index or config of
    the clone is written (git may refresh the time of a tree object the clone has)."""
    index = dotgit / "index"
    if not index.is_file():
        return None
    with tempfile.TemporaryDirectory(prefix="rollout-index-") as empty:
        gitdir = os.path.join(empty, "git")

        def run(args: list[str], **env: str) -> int:
            return subprocess.run(
                ["git", *args],
                env={**no_repo_code(), **env},
                capture_output=True,
                timeout=60,
                check=False,
                preexec_fn=proctree.dies_with_us(),
            ).returncode

        # its own objects, the clone's read as an alternate only: pass 30a, a sparse index (`git
        # sparse-checkout --sparse-index`) with changes staged had git write the trees it built into
        # the clone's objects. Its format is the commit's, not $GIT_DEFAULT_HASH's (pass 30a: that
        # exported as sha256, git failed, and after `git switch --orphan` main was named again)
        made = "sha256" if len(commit) == 64 else "sha1"
        try:
            if run(["init", "-q", "--bare", "--template=", f"--object-format={made}", gitdir]) != 0:
                return None
            differs = run(
                ["--git-dir", gitdir, "diff-index", "--cached", "--quiet", commit, "--"],
                GIT_ALTERNATE_OBJECT_DIRECTORIES=_c_quoted(os.path.abspath(dotgit / "objects")),
                GIT_INDEX_FILE=os.path.abspath(index),
            )
        except (OSError, subprocess.SubprocessError):
            return None
    return {0: True, 1: False}.get(differs)


def _c_quoted(path: str) -> str:
    """``path`` as one entry of ``GIT_ALTERNATE_OBJECT_DIRECTORIES``, which git splits at ``:``
    unless the entry is C-quoted: every byte but printable ASCII as an octal escape."""
    quoted = (
        chr(b) if 32 <= b < 127 and b not in b'"\\' else f"\\{b:03o}" for b in os.fsencode(path)
    )
    return '"' + "".join(quoted) + '"'


def _not_owned(path: Path, dotgit: Path) -> str | None:
    """Why git refuses the clone at ``path`` when another user owns it (git's "dubious ownership":
    no git command runs there until ``safe.directory`` names it), with git's own way out whole; None
    when git reads it. Asked of git only where the clone's folder or its ``.git`` is not this user's.
    Pass 28c (13.9): git's refusal, said in its own words cut at 200 characters, lost its
    `git config --global --add safe.directory '…'` mid-path at a real clone's path, and drift's
    line was that alone, "0 findings" beside a `.env.prod` in history (`verify --ref` said
    "ref 'main' not found (fetch it …)")."""
    me = os.geteuid()
    try:
        if path.stat().st_uid == me and dotgit.stat().st_uid == me:
            return None
        asked = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--git-dir"],
            capture_output=True,
            env={**no_repo_code(), "LC_ALL": "C", "LANGUAGE": ""},  # git's words, to read them
            timeout=60,
            check=False,
            preexec_fn=proctree.dies_with_us(),
        )
    except (OSError, subprocess.SubprocessError):
        return None
    said = asked.stderr.decode("utf-8", "surrogateescape")
    if asked.returncode == 0 or "dubious ownership" not in said:
        return None
    offered = next(
        (
            line.strip()
            for line in said.splitlines()
            if line.strip().startswith("git config --global --add safe.directory ")
            and _one_command(line)
        ),
        # pass 29c: git's line for a path holding a line break is cut at it (`safe.directory
        # '/ws/vic` with no closing quote: pasted, the shell waits for the rest)
        f"git config --global --add safe.directory {shell_word(os.path.realpath(path))}",
    )
    return (
        f'git refuses to read {path}: another user owns it (git\'s "dubious ownership" check); '
        f"if you trust that clone: `{offered}`, then run this again"
    )


def _one_command(line: str) -> bool:
    """Whether ``line`` is a whole shell command of git's `safe.directory` way out (its quotes
    closed, one path), printable as it is (pass 29d: git's line for a path holding bytes that are not
    UTF-8 was printed `'/ws/caf\\xe9/app'`, a backslash and three letters, so pasted, git still refused
    the clone)."""
    if not line.isprintable():
        return False
    try:
        return len(shlex.split(line)) == 6
    except ValueError:
        return False


def _unset_worktree(dotgit: Path) -> str:
    """The `git config --file F --unset-all core.worktree` for each of the clone's config files that
    sets it. Pass 30g: only `.git/config` was named, with `--unset`: pasted, it failed (rc 5) where
    `core.worktree` is in `config.worktree` (`extensions.worktreeConfig`, where git's worktree docs
    move it) or set twice ("has multiple values"), and the clone stayed unread."""
    unsets = []
    for name in ("config", "config.worktree"):
        try:
            asked = subprocess.run(
                ["git", "config", "--file", str(dotgit / name), "--get-all", "core.worktree"],
                env=no_repo_code(),
                capture_output=True,
                timeout=60,
                check=False,
                preexec_fn=proctree.dies_with_us(),
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if asked.returncode == 0:
            unsets.append(f"git config --file {path_word(dotgit / name)} --unset-all core.worktree")
    return " && ".join(unsets) or (
        f"git config --file {path_word(dotgit / 'config')} --unset-all core.worktree"
    )


def _gitdir_file(path: Path, dotgit: Path) -> str:
    """Why a clone whose ``.git`` is a file (``gitdir: X``) is refused, saying which kind it is: a
    linked worktree (X under ``worktrees/``), a submodule (under ``modules/``) or a clone that keeps
    its git directory elsewhere (``git clone --separate-git-dir``, the ``repo`` tool)."""
    try:
        target = dotgit.read_text(errors="replace").strip().removeprefix("gitdir:").strip()
    except OSError:
        target = ""
    parts = Path(target).parts
    if len(parts) >= 3 and parts[-2] == "worktrees":
        main = Path(*parts[:-2])
        main = main.parent if main.name == ".git" else main
        return f"{path} is a linked worktree of {main}; point the manifest at {main}"
    if "modules" in parts:
        return f"{path} is a submodule (.git is a file); point the manifest at a clone of it of its own"
    return (
        f"{path} keeps its git directory elsewhere ({target or '.git is a file'}: git clone "
        "--separate-git-dir, or a tool like repo), which the tool does not support; point the "
        "manifest at a clone whose .git is a folder"
    )


@contextmanager
def open_clone(path: Path) -> Iterator[git.Repo]:
    """The user's clone, checked, closed afterwards (GitPython leaks processes otherwise)."""
    if not path.exists():
        raise RepoError(f"no clone at {path} (clone it there, or set `path:` in the manifest)")
    dotgit = path / ".git"
    if dotgit.is_file():
        raise RepoError(_gitdir_file(path, dotgit))
    if not dotgit.is_dir():
        if (path / "HEAD").is_file() and (path / "objects").is_dir():
            raise RepoError(
                f"{path} is a bare repository; point the manifest at a clone with a working tree"
            )
        raise RepoError(_no_repository(path))
    refused = _not_owned(path, dotgit)
    if refused is not None:
        raise RepoError(refused)
    packed = dotgit / "packed-refs"
    if packed.exists() and not packed.is_file():
        # pass 30d: a FIFO there held plan (and every git in the clone) for ever; it holds no refs.
        # Pass 30h: asked before the git below, which waited on it for its 60 s timeout
        moved = path_word(f"{packed}.moved")
        raise RepoError(
            f"{path_word(packed)} is not a regular file (a FIFO, a folder or a device?): git waits on "
            f"it or cannot read it; move it away (`mv {path_word(packed)} {moved}`), then run again"
        )
    if _sha256(dotgit):
        raise RepoError(
            f"{path}: SHA-256 repositories are not supported (the tool reads and writes SHA-1 objects)"
        )
    if _ref_storage(dotgit) not in (None, "files"):
        # before git is asked below: a git older than 2.45 calls the extension unknown (pass 30g's line).
        # Pass 20a: GitPython reads refs as files; a reftable clone (git 2.45+) has none, and plan said
        # "base branch 'main' not found", the issue's SHA-256 symptom
        raise RepoError(
            f"{path}: repositories that keep their refs in the {_ref_storage(dotgit)} format are not "
            "supported (the tool reads refs as files); use a clone made with git's default "
            "(`git clone --ref-format=files`)"
        )
    unread = _git_unread_head(dotgit)
    if unread is not None and _CONFIG_UNREAD.search(unread):
        # pass 30e: a `.git/config` cut short (a power loss) was "unexpected GitCommandError", a crash log
        raise RepoError(
            f"git cannot read {path} ({unread.strip()}); mend that config file, then run again"
        )
    if unread is not None and unread.startswith("fatal: Invalid path '"):
        # pass 30e: so was a `core.worktree` naming a folder not there (the clone moved since)
        raise RepoError(
            f"git cannot read {path} ({unread.strip()}): its `core.worktree` names a folder that "
            f"is not there; unset it (`{_unset_worktree(dotgit)}`), then run again"
        )
    if unread is not None and _FORMAT_UNREAD.search(unread):
        # pass 30g: a clone a newer git made or changed (an extension this git does not know) was
        # "its HEAD file … is empty or damaged", and the printf way out wrote back the same HEAD
        raise RepoError(
            f"git cannot read {path} ({unread.strip()}): its .git/config asks for a repository "
            "format this git does not know (written by a newer git?); run the tool with a git that "
            "reads it (`git --version`)"
        )
    if (dotgit / "shallow").exists():
        raise RepoError(
            # pass 28c: the fetch names the clone (pasted where drift's line was read, a bare `git
            # fetch --unshallow` failed "not a git repository", and drift named nothing of history)
            f"{path} is a shallow clone; history is incomplete (run "
            f"`{git_in_folder(path)} fetch --unshallow`)"
        )
    partial = _partial_clone(dotgit)
    try:
        repo = _quiet(git.Repo(path, odbt=git.GitCmdObjectDB if partial else InProcessObjects))
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise RepoError(_damaged_head(path, dotgit) or _no_repository(path)) from None
    try:
        if partial:
            # pass 19a: git fetches a partial clone's missing objects from origin by itself, as GitPython's
            # git reads them: with no prompt and git's low-speed limit, as every git the tool runs against
            # a remote, and stopped after LAZY_FETCH_TIMEOUT (a git:// or ssh:// origin that accepts and
            # never answers held plan for ever); the read then fails in one line (refreader.guarded)
            repo.git.update_environment(**NO_PROMPT)
            with _lazy_fetches_bounded(path):
                yield repo
        else:
            yield repo
    finally:
        repo.close()


def _quiet(repo: git.Repo) -> git.Repo:
    """``repo`` whose git runs no hook and no fsmonitor of the clone's, and sees no key material
    (``gitenv``, pass 20b)."""
    repo.git.update_environment(**overrides())
    return repo


LAZY_FETCH_TIMEOUT = 600.0  # seconds a partial clone's own fetch of missing objects may take


@contextmanager
def _lazy_fetches_bounded(clone: Path) -> Iterator[None]:
    """While it lasts, a `git fetch` that a git run by this process started in ``clone`` (a partial
    clone fetching the objects it lacks) is killed with its children (ssh) once it has run
    LAZY_FETCH_TIMEOUT seconds, and any still running when it ends (a Ctrl-C or SIGTERM stopped the
    read: the fetch ran on for ever, reparented to PID 1). The tool's own fetches are its direct
    children, bound by their own limits, and never touched."""
    import threading
    import time

    done = threading.Event()
    me = os.getpid()

    def watch() -> None:
        seen: dict[int, float] = {}
        while not done.wait(0.5):
            now = time.monotonic()
            for pid in _lazy_fetches(me, clone):
                if now - seen.setdefault(pid, now) > LAZY_FETCH_TIMEOUT:
                    proctree.kill_tree(pid)

    watcher = threading.Thread(target=watch, name="lazy-fetch-limit", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        for pid in _lazy_fetches(me, clone):
            proctree.kill_tree(pid)


def _lazy_fetches(me: int, clone: Path) -> list[int]:
    """`git fetch` processes below ``me`` working in ``clone`` whose parent is not ``me`` (started by a
    git, not the tool)."""
    found = []
    top = os.path.realpath(clone)
    for pid in proctree.descendants(me):
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                parent = int(handle.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                words = handle.read().split(b"\0")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except (OSError, ValueError, IndexError):
            continue
        if parent != me and b"fetch" in words and (cwd == top or cwd.startswith(top + os.sep)):
            found.append(pid)
    return found


def resolve(repo: git.Repo, branch: str) -> git.Commit | None:
    """The commit a local branch (or, failing that, origin's) points at; None if neither exists."""
    for ref in (f"refs/heads/{branch}", f"refs/remotes/origin/{branch}"):
        commit = _commit_at(repo, ref)
        if commit is not None:
            return commit
    return None


def _commit_at(repo: git.Repo, ref: str) -> git.Commit | None:
    """The commit the full ref name ``ref`` points at, or None. Reads that one ref (loose, then
    packed), not the six places ``rev-parse`` would try for a short name that is missing."""
    try:
        sha = git.SymbolicReference.dereference_recursive(repo, ref)
    except (git.BadName, git.BadObject):
        return None
    except ValueError as err:
        if str(err).startswith("Reference at ") and str(err).endswith("does not exist"):
            return None
    except (
        AssertionError,
        IndexError,
    ):  # GitPython's reading of an empty ref file (`assert tokens`)
        pass
    else:
        return _commit_of(repo, ref, sha)
    # pass 29h: git first, a loose file too. An alias (`git symbolic-ref refs/heads/master
    # refs/heads/x`) whose target is packed, beside a packed line GitPython cannot take, was called
    # damaged, and its way out turned the alias into a plain branch; git reads it
    commit = _git_commit_at(repo, ref)
    if commit is None and (Path(repo.common_dir) / ref).is_file():
        raise RepoError(_damaged_ref(repo, ref))
    return commit


def _git_commit_at(repo: git.Repo, ref: str) -> git.Commit | None:
    """The commit of ``ref`` as git reads it; None when git has no such ref (or cannot read its file).
    Pass 29d: GitPython reads packed-refs whole, as text, and stops at any line it cannot take, so
    a clone whose packed-refs holds a line of another ref cut short, or a tag named in bytes that
    are not UTF-8 (which git reads), was "the ref refs/remotes/origin/main cannot be read: its line
    … is damaged" for a ref it does not have, with a `grep` that found nothing; git, which finds a
    ref in a sorted packed-refs without reading the other lines, reads it. Pass 29g: by `show-ref
    --verify`, which takes ``ref`` as the full name it is; `rev-parse` guessed on when it was
    missing (refs/tags/refs/heads/dev for refs/heads/dev), so `base: dev`, no branch dev, planned
    onto a tag named `refs/heads/dev` beside a non-UTF-8 tag, where it is "not found" otherwise."""
    try:
        sha = repo.git.show_ref("--verify", "--hash", "--end-of-options", ref)
    except git.GitCommandError as err:
        if "packed-refs" in str(err.stderr) or _packed_line_damaged(repo, ref):
            raise RepoError(_damaged_packed(repo, "the clone's refs")) from None
        return None
    return _commit_of(repo, ref, sha)


def _commit_of(repo: git.Repo, ref: str, sha: str) -> git.Commit | None:
    """The commit ``sha`` that ``ref`` holds; None when it is no commit. Pass 30a: one git cannot read
    (its object file emptied by a power loss, or missing) was "the ref … cannot be read (… its file
    is empty or damaged)", told to be written back from its reflog, the same id (pasted, nothing
    changed), or "base branch 'main' not found (create it …)" for a branch that exists."""
    try:
        return repo.commit(sha)
    except (git.BadName, git.BadObject, ValueError, zlib.error):
        pass  # pass 30e: zlib.error, an object file of other bytes (not a zlib stream) was a crash log
    try:
        repo.git.cat_file("-t", sha)
        return None  # git reads it: no commit (a ref at a tree or a blob)
    except git.GitCommandError:
        pass
    loose = Path(repo.common_dir) / "objects" / sha[:2] / sha[2:]
    what = (
        f"its object file {path_word(loose)} is empty or damaged (a power loss?)"
        if loose.exists()
        else "it is missing from the clone's objects"
    )
    clone = Path(repo.working_tree_dir or repo.common_dir)
    raise RepoError(
        f"the commit {ref} points at, {sha}, cannot be read: {what}; git cannot read it either "
        f"(`{git_in_folder(clone)} fsck` lists what else is damaged): mend the clone from another "
        "clone of the repo, or clone it again, then run again"
    )


def _packed_line_damaged(repo: git.Repo, ref: str) -> bool:
    """Whether packed-refs names ``ref`` on a line git cannot read. Pass 30c: git's lookup of one
    ref in a sorted packed-refs skips such a line ("not a valid ref"), so a rollout branch whose own
    line was cut short was planned "create", and apply failed with git's "unexpected line"; its
    listing, and every write, stops there. Only asked when git has no such ref."""
    try:
        packed = (Path(repo.common_dir) / "packed-refs").read_bytes()
    except OSError:
        return False
    name = b" " + os.fsencode(ref)
    return any(
        line.endswith(name) and not _PACKED_LINE.fullmatch(line) for line in packed.split(b"\n")
    )


_PACKED_LINE = re.compile(
    rb"#.*|\^[0-9a-f]{40}|\^[0-9a-f]{64}|[0-9a-f]{40} \S.*|[0-9a-f]{64} \S.*|"
)


def _damaged_packed(repo: git.Repo, what: str) -> str:
    """``what`` cannot be read as packed-refs holds a line git cannot read: which line, and how to
    see it (its number, not the ref's name: the line cut short at a power loss may be another ref's,
    or have lost its name)."""
    packed = Path(repo.common_dir) / "packed-refs"
    try:
        lines = packed.read_bytes().split(b"\n")
    except OSError:
        lines = []
    where = next(
        (
            n
            for n, line in enumerate(lines, 1)
            if not _PACKED_LINE.fullmatch(line) or n == len(lines) and line
        ),
        None,
    )
    if where is None:
        return f"{what} cannot be read: git cannot read {path_word(packed)} either; mend it, then run again"
    said = (
        f"{what} cannot be read: line {where} of {path_word(packed)} is damaged (git cannot read "
        f"it either; `sed -n {where}p {path_word(packed)}` shows it); "
    )
    held, _, named = lines[where - 1].partition(b" ")
    common = Path(repo.common_dir)
    last = _logged_at(common, named.strip())
    if (
        last is not None
        and not (common / last[0]).is_file()
        and not last[1].encode().startswith(held)
    ):
        # pass 30d: a ref moved with no reflog entry (GitPython's `head.commit = …`, a `git reflog
        # delete`) was told its reflog's older commit, and written back so, lost its last commits.
        # A loose file of that name is the ref (its packed line is shadowed): its reflog's is told
        if not re.fullmatch(rb"[0-9a-f]{4,63}", held):
            return said + "mend or delete that line, then run again"
        return said + (
            f"its ref {last[0]} is at a commit beginning {held.decode()}, not at {last[1]}, its "
            f"reflog's last (it moved with no reflog entry): `{git_in(repo)} rev-parse "
            f"--disambiguate={held.decode()}` lists the commits beginning so; write the line back as "
            f'"COMMIT {last[0]}" with the one it was, then run again'
        )
    if last is None:
        return said + "mend or delete that line, then run again"
    # pass 30c's and note 33's: deleted as told, a line cut short within its commit id lost its ref
    # (the base branch, the rollout branch), though the ref's reflog still held the commit
    name, sha = last
    return said + (
        f'its ref {name} was last at {sha}, as its reflog says: write the line back as "{sha} '
        f'{name}" (deleting it deletes that ref), then run again'
    )


def damaged_packed_at(path: Path) -> str:
    """:func:`_damaged_packed` for the clone at ``path``, where git failed on its packed-refs."""
    try:
        with git.Repo(path) as repo:
            return _damaged_packed(repo, "the clone's refs")
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, OSError, ValueError):
        packed = path_word(path / ".git" / "packed-refs")
        return f"the clone's refs cannot be read: git cannot read {packed}; mend it, then run again"


def _logged_at(common: Path, name: bytes) -> tuple[str, str] | None:
    """(``name``, the commit its reflog's last entry moved it to), for a ref named on a damaged
    packed-refs line; None when the name is no ref's or no reflog says where it was."""
    if not re.fullmatch(rb"refs/[!-~]+", name) or b".." in name or b"//" in name:
        return None
    sha = _last_logged(common / "logs" / name.decode())
    return None if sha is None else (name.decode(), sha)


def _damaged_ref(repo: git.Repo, ref: str) -> str:
    """Why ``ref``, which exists, cannot be read, and how to mend it. Pass 28c: a zero-byte loose ref
    (a power loss mid-write) was "unexpected AssertionError … run git fsck" and a crash log, or "an
    error message the leak guard could not check"; git itself cannot read or update such a ref
    ("reference broken"), so the way out writes the file back from the ref's reflog."""
    common = Path(repo.common_dir)
    file, log = common / ref, common / "logs" / ref
    said = f"the ref {ref} cannot be read (git cannot read it either: its file is empty or damaged, a power loss?); "
    if not file.is_file():  # packed: git stops at the line ("unexpected line in .git/packed-refs")
        return _damaged_packed(repo, "the clone's refs")
    if _last_logged(log):
        return said + (
            f"put back its last commit from its reflog, `tail -n 1 {path_word(log)} | cut -d ' ' -f 2 "
            f"> {path_word(file)}`, or move {path_word(file)} away, then run again"
        )
    return (
        said + f"move {path_word(file)} away (it has no reflog to restore it from), then run again"
    )


def _last_logged(log: Path) -> str | None:
    """The commit id the reflog ``log``'s last entry moved its ref to; None when it has none, or its
    last entry is a deletion."""
    last = _reflog_tail(log, 4096).splitlines()[-1:]
    words = last[0].split(b" ", 2) if last else []
    if len(words) < 2 or not re.fullmatch(rb"[0-9a-f]{40}|[0-9a-f]{64}", words[1]):
        return None
    return None if set(words[1]) == {ord("0")} else words[1].decode()


def base_commit(repo: git.Repo, base: str) -> git.Commit:
    """Where the rollout branch starts: ``origin/<base>`` when the clone has it (what a pull request
    merges into; ``rollout sync`` fetches it), else the local ``<base>``."""
    commit = _commit_at(repo, f"refs/remotes/origin/{base}") or _commit_at(
        repo, f"refs/heads/{base}"
    )
    if commit is None:
        try:
            empty = not any(True for _ in repo.references) and not repo.head.is_valid()
        except (
            ValueError,
            OSError,
            git.GitCommandError,
        ):  # refs git itself cannot read: not "empty"
            empty = False
        if empty:
            raise RepoError(
                "repository has no commits yet (commit something to its base branch first)"
            )
        raise RepoError(f"base branch {base!r} not found (create it, or set `base:` for this repo)")
    return commit


def base_ref(repo: git.Repo, base: str) -> str:
    """The name that shows the commit ``base_commit`` reads, for a command to paste: ``origin/<base>``
    when the clone has it (pass 14c: `git show main:.env.enc` printed local main's older values after
    `rollout sync` fetched a teammate's change into origin/main), else ``base``."""
    return f"origin/{base}" if _commit_at(repo, f"refs/remotes/origin/{base}") is not None else base


def base_label(repo: git.Repo, base: str) -> str:
    """Which ``base`` a plan builds on, said plainly: ``main``, or ``origin/main`` and how the local one differs."""
    remote, local = (
        _commit_at(repo, f"refs/remotes/origin/{base}"),
        _commit_at(repo, f"refs/heads/{base}"),
    )
    if remote is None:
        return base
    if local is None or local == remote:
        return f"origin/{base}"
    if repo.is_ancestor(local, remote):
        behind = int(repo.git.rev_list("--count", f"{local.hexsha}..{remote.hexsha}"))
        return f"origin/{base}; local {base} is {behind} behind"
    return f"origin/{base}; local {base} differs from it"


def _sha_at(repo: git.Repo, ref: str) -> str | None:
    """What the full ref name ``ref`` points at (loose, then packed), without reading the object."""
    try:
        return git.SymbolicReference.dereference_recursive(repo, ref)
    except ValueError:
        return None


def branch_tip(repo: git.Repo, branch: str) -> git.Commit | None:
    return _commit_at(repo, f"refs/heads/{branch}")


def tool_branches(
    repo: git.Repo, rollout: str | None, skip: set[str], base: git.Commit
) -> list[tuple[str, git.Commit]]:
    """The branches but those named in ``skip``, local (``NAME``; ``refs/heads/origin/X`` in full) and
    origin's (``origin/NAME``), that hold a commit
    the tool wrote for ``rollout`` which ``base`` lacks, with their tips: where a `branch:` renamed in
    the manifest left the rollout's earlier branch (here, or on origin only once this clone pushed it:
    another machine's push is not told from anyone's).
    Pass 23d: the tip alone was asked, so a reviewer's commit on top of the old branch hid it and the
    new branch was written without the only copy that branch held. Three git processes whatever the
    number of branches and commits: the commits the branches add to the base, those of them whose
    message holds a check line (read by the tool), and the branches' tips; which tips hold one of the
    rollout's commits is found in one pass over that graph, parents first."""
    try:
        listed = repo.git.rev_list(
            "--branches", "--remotes=origin", f"--glob={PUSHED_REF}*", "--fixed-strings",
            f"--grep={CHECK_TRAILER}", "--not", base.hexsha, "--",
        ).split()  # fmt: skip
        ours = {sha for sha in listed if is_tool_commit(repo.commit(sha), rollout)}
        if not ours:
            return []
        graph = repo.git.rev_list(
            "--branches", "--remotes=origin", f"--glob={PUSHED_REF}*", "--topo-order", "--reverse",
            "--parents", "--not", base.hexsha, "--",
        ).splitlines()  # fmt: skip
        refs = repo.git.for_each_ref(  # pass 23g: never an alias (a symbolic ref): its target is listed
            "--format=%(if)%(symref)%(then)-%(else)%(objectname)%(end) %(refname)",
            "refs/heads/",
            "refs/remotes/origin/",
            PUSHED_REF,
        ).splitlines()
    except git.GitCommandError as err:
        raise RepoError(f"cannot read the branches: {git_said(repo, err)}") from None
    # session 27 (pass 23g's F6): origin's branches are anyone's who can push one, and a forged tool
    # commit holding a `.env.enc` to the fleet's public key refused every clone without a `.env`, its
    # way out decrypting that person's values into `.env` for apply to encrypt: only a branch this
    # clone pushed itself (its push record) counts
    pushed = {
        path.removeprefix(PUSHED_REF)
        for _, _, path in (line.partition(" ") for line in refs)
        if path.startswith(PUSHED_REF)
    }
    tips_at = {path: sha for sha, _, path in (line.partition(" ") for line in refs) if sha != "-"}
    holds: dict[str, bool] = {}  # commit → it or a commit below it (the base's aside) is ours
    for line in graph:
        sha, *parents = line.split()
        holds[sha] = sha in ours or any(holds.get(p, False) for p in parents)
    found: list[tuple[str, git.Commit]] = []
    records: list[tuple[str, git.Commit]] = []
    for line in refs:
        sha, _, path = line.partition(" ")
        if path.startswith("refs/heads/"):
            name = path.removeprefix("refs/heads/")
            # pass 23g: a local `origin/X` in full, never taken for origin's X
            shown = path if name.startswith("origin/") else name
        elif path.startswith("refs/remotes/origin/"):
            name = path.removeprefix("refs/remotes/origin/")
            shown = f"origin/{name}"
            if name not in pushed:
                continue
        else:  # a push record: the branch itself when neither this clone nor origin has it
            # (pass 24a: local branch deleted, origin's deleted after a closed PR and pruned here;
            # plan reads the record as the branch then, and it held the only copy of .env.enc)
            name = path.removeprefix(PUSHED_REF)
            # pass 24d: a branch of that name counts only while it holds the pushed commit (one moved
            # back to main left the record, the only copy, behind a renamed `branch:`)
            if any(
                repo.is_ancestor(sha, tips_at[ref])
                for ref in (f"refs/heads/{name}", f"refs/remotes/origin/{name}")
                if ref in tips_at
            ):
                continue
            shown = path
        if holds.get(sha, False) and name not in {*skip, "HEAD"}:
            (records if shown == path else found).append((shown, repo.commit(sha)))
    # a record after the branches, and only where no branch found has its commit (that one is named)
    tips = {commit.hexsha for _, commit in found}
    return found + [(shown, commit) for shown, commit in records if commit.hexsha not in tips]


def ref_tips(repo: git.Repo, refs: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """(ref, the object id it holds) of each of ``refs`` that exists (a tag's own object, not its commit)."""
    return tuple((ref, sha) for ref in dict.fromkeys(refs) if (sha := _sha_at(repo, ref)))


def has_push_record(repo: git.Repo, branch: str) -> bool:
    """Does the tool keep a record of a push of ``branch`` (``refs/juniper-rollout/pushed/BRANCH``)?"""
    return _sha_at(repo, PUSHED_REF + branch) is not None


def git_in(repo: git.Repo) -> str:
    """``git -C CLONE``, the clone's folder as one shell word: what a line offers to paste runs in that
    clone wherever it is pasted. Pass 25a (pass 24k's note): the branch name is the fleet's, so `git
    branch -D BRANCH` (or `git update-ref -d RECORD`) offered for one repo and pasted in another clone
    of the fleet deleted THAT clone's rollout branch."""
    return git_in_folder(Path(repo.working_tree_dir or repo.git_dir))


def branch_delete(repo: git.Repo, branch: str) -> str:
    """``git -C CLONE branch -D BRANCH``, run only while the branch is at the tip it has now (git's
    branch delete takes no expected old value; `update-ref -d` would, but deletes a checked-out
    branch). Pass 25d (25a's note): printed, then a reviewer's commit pulled onto the branch, the
    pasted delete took that commit with it, a commit the line never saw."""
    delete = f"{git_in(repo)} branch -D {shell_word(branch)}"
    tip = branch_tip(repo, branch)
    return delete if tip is None else _while_at(repo, branch, tip.hexsha) + delete


def branch_move(repo: git.Repo, branch: str, tip: str, to: str) -> str:
    """``git -C CLONE branch -f BRANCH TO`` (``to`` a shell word), run only while the branch is at
    ``tip``. Pass 25d: printed, then a developer's commit made on the branch, the pasted move left
    that commit on no branch (pass 24h's hole, after the line was printed)."""
    return _while_at(repo, branch, tip) + f"{git_in(repo)} branch -f {shell_word(branch)} {to}"


def _while_at(repo: git.Repo, branch: str, tip: str) -> str:
    """The start of a pasted command that goes on only while ``branch`` is at ``tip`` (git's branch
    delete and move take no expected old value), and says so when it stops (bash, zsh and sh read
    ``A | B || ! C && D`` as ``((A | B) || ! C) && D``)."""
    ref = shell_word(f"refs/heads/{branch}")
    # pass 25g: stopped, the line said nothing (exit 1, no output): the user took it for done
    said = shell_word(
        f"{branch} moved (or is gone) since this line was printed: nothing done; plan again"
    )
    return f"{git_in(repo)} rev-parse -q --verify {ref} | grep -qx {tip} || ! echo >&2 {said} && "


def record_delete(repo: git.Repo, branch: str) -> str:
    """``git -C CLONE update-ref -d RECORD OLD``: the tool's record of its push of ``branch``, deleted
    only while it names the commit it names now (git's own lease). Pass 25d (25a's note): printed,
    then `apply --push` again, the pasted delete took the newer record, the tool's only memory of
    what it pushed last."""
    record = PUSHED_REF + branch
    held = _commit_at(repo, record)
    return f"{git_in(repo)} update-ref -d {shell_word(record)}" + (
        f" {held.hexsha}" if held is not None else ""
    )


def known_branch_names(repo: git.Repo, branch: str) -> tuple[str, str] | None:
    """Where ``last_known_branch`` read the rollout branch when the clone has no local one: a name
    ``git show NAME:PATH`` resolves, and how to make the tool forget that copy, in words whose
    commands work when pasted (pass 14c: the lines said `git show BRANCH:…` and `git branch -D BRANCH`
    for a branch deleted locally, and both failed when pasted). None while the local branch exists,
    or when neither copy does. Pass 24a: origin's branch is offered for deletion only when its tip is
    the tool's own commit: a reviewer's commit pushed on top of it was deleted with it when pasted."""
    if branch_tip(repo, branch) is not None:
        return None
    pushed = _commit_at(repo, PUSHED_REF + branch)
    remote = _commit_at(repo, f"refs/remotes/origin/{branch}")
    if pushed is None and remote is None:
        return None
    name = PUSHED_REF + branch if pushed is not None else f"origin/{branch}"
    git_c = git_in(repo)
    record = record_delete(repo, branch) if pushed is not None else ""
    if remote is not None and not is_tool_commit(remote):
        return name, (
            f"origin/{branch} holds commits the tool did not make (a reviewer's?), so no command "
            "here deletes it: merge or delete them there"
            + (f", then forget the tool's last pushed copy (`{record}`)" if record else "")
        )
    if remote is None:
        return name, f"forget the rollout branch's last pushed copy (`{record}`)"
    # origin's leased delete first: refused ("stale info": a reviewer pushed since), the record stays,
    # the tool's memory of its last push (pass 25g's note: deleted first, it went alone)
    both = " && ".join([origin_delete(repo, branch, remote.hexsha), *([record] if record else [])])
    return name, (
        f"forget the rollout branch's last pushed copy (`{both}`; gone from origin already: "
        f"`{git_c} branch -d -r {shell_word('origin/' + branch)}`)"
    )


def pushed_ahead(repo: git.Repo, branch: str, tip: git.Commit) -> git.Commit | None:
    """The tool's last push of ``branch`` (its record) when the local branch at ``tip`` was moved back
    from it: ``tip`` lacks the pushed commit and is below it, or holds no commit of the tool at all (a
    `git branch -f BRANCH main` to start over); None otherwise (a rebuild on a newer base is neither).
    Pass 24d: the next `apply --push` pushed a commit on ``tip`` over the pushed one on origin and
    moved the record, and the pushed `.env.enc`, the only copy of its values, was on no ref."""
    pushed = _commit_at(repo, PUSHED_REF + branch)
    if pushed is None or pushed == tip or repo.is_ancestor(pushed, tip):
        return None
    if repo.is_ancestor(tip, pushed) or tool_chain_root(repo, tip) == tip:
        return pushed
    return None


def held_elsewhere(repo: git.Repo, branch: str, tip: git.Commit) -> bool:
    """Is every commit of ``branch`` (at ``tip``) on another branch, tag, remote-tracking branch or push
    record, so that moving the branch (`git branch -f`) leaves none of them on no ref? Pass 24h: a
    developer deleted the rollout branch and made one of that name for other work; the refusal offered
    `git branch -f BRANCH RECORD`, and pasted, the developer's commit was on no branch."""
    try:
        left = repo.git.rev_list(
            "-n1", tip.hexsha, "--not", f"--exclude={branch}", "--branches", "--remotes",
            "--tags", f"--glob={PUSHED_REF}*", "--",
        )  # fmt: skip
    except git.GitCommandError as err:
        raise RepoError(f"cannot read the branches: {git_said(repo, err)}") from None
    return not left.strip()


def origin_delete(repo: git.Repo, branch: str, tip: str) -> str:
    """``git push … origin --delete -- BRANCH`` leased on ``tip``, origin's tip as last fetched, that a
    line judged safe to delete: pasted after a reviewer pushed onto it, git refuses ("stale info").
    Pass 24d: without the lease, the pasted delete took the reviewer's newer commit with it."""
    lease = shell_word(f"--force-with-lease=refs/heads/{branch}:{tip}")
    return f"{git_in(repo)} push {lease} origin --delete -- {shell_word(branch)}"


def last_known_branch(repo: git.Repo, branch: str) -> git.Commit | None:
    """The rollout branch as the tool last pushed it, or as origin has it; None if neither exists."""
    return _commit_at(repo, PUSHED_REF + branch) or _commit_at(
        repo, f"refs/remotes/origin/{branch}"
    )


def read_files(commit: git.Commit, paths: list[str]) -> tuple[dict[str, bytes], frozenset[str]]:
    """Blobs at ``commit`` for those of ``paths`` that exist; and which of them are symlinks.

    Only the directories on the way to each path are read, each once (no tree listing):
    the cost grows with the paths asked for and their depth, not with the repository.
    """
    files: dict[str, bytes] = {}
    links: set[str] = set()
    dirs: dict[str, git.Tree | bool | None] = {"": commit.tree}
    for path in paths:
        head, _, name = path.rpartition("/")
        parent = _directory(dirs, head)
        if parent is _UNDER_SYMLINK:
            links.add(path)
            continue
        node = _child(parent, name) if isinstance(parent, git.Tree) else None
        if isinstance(node, git.Blob):
            if node.mode == LINK_MODE:
                links.add(path)
            else:
                files[path] = _bounded_read(node, path, commit)
    return files, frozenset(links)


# pass 23g: a sops dotenv or INI file keeps the values `--unencrypted-suffix` names as written, a
# NUL byte too: a head holding one that opens as those files do (a name and `=`, a comment, a
# section) may be a sops file all the same
_SOPS_TEXT_START = re.compile(rb"\s*(?:[#;\[]|[A-Za-z_][A-Za-z0-9_.-]*\s*=)")


def read_blob_ends(
    commit: git.Commit, path: str, limit: int = 1 << 16, *, text_only: bool = False
) -> bytes | None:
    """``path`` at ``commit`` (None when absent or a symlink): whole when it holds at most ``limit``
    bytes, else its first and last lines (:func:`_head_and_tail`), read through once in bounded
    memory. sops writes its metadata at the end, so a file larger than the tool reads still shows
    whether it is sops-encrypted (pass 23a: the only-copy check passed such a file over).
    ``text_only``: None, read no further, when its first ``limit`` bytes hold a NUL byte (sops writes
    text only: a binary file is no sops file, and is never read through), unless that head opens as
    a dotenv or INI file does (:data:`_SOPS_TEXT_START`)."""
    head, _, name = path.rpartition("/")
    parent = _directory({"": commit.tree}, head)
    node = _child(parent, name) if isinstance(parent, git.Tree) else None
    if not isinstance(node, git.Blob) or node.mode == LINK_MODE:
        return None
    if text_only and node.size > limit:
        first = node.data_stream.read(limit)
        if b"\0" in first and not _SOPS_TEXT_START.match(first):
            return None
    return _head_and_tail(node.data_stream, limit)


def blob_size(commit: git.Commit, path: str) -> int | None:
    """The size in bytes of the file ``path`` at ``commit`` (None when absent, a symlink or no file)."""
    head, _, name = path.rpartition("/")
    parent = _directory({"": commit.tree}, head)
    node = _child(parent, name) if isinstance(parent, git.Tree) else None
    return node.size if isinstance(node, git.Blob) and node.mode != LINK_MODE else None


def tracked_at_base(clone: Path, base: str, paths: list[str]) -> tuple[str, ...]:
    """Those of ``paths`` that are files at ``clone``'s base commit (none when it cannot be read)."""
    try:
        with open_clone(clone) as repo:
            commit = base_commit(repo, base)
            return tuple(p for p in dict.fromkeys(paths) if blob_size(commit, p) is not None)
    except (RepoError, ValueError, OSError, git.GitError):
        return ()


def too_big(path: str, size: int, where: str) -> RepoError:
    return RepoError(
        f"{path} {where} is {size / (1 << 20):,.0f} MB; the tool reads files up to "
        f"{MAX_FILE_BYTES >> 20} MB (is that really the file it manages? check what is there)"
    )


def _bounded_read(blob: git.Blob, path: str, commit: git.Commit) -> bytes:
    """The blob's bytes; RepoError (before reading anything) when it is larger than MAX_FILE_BYTES."""
    if blob.size > MAX_FILE_BYTES:  # the object's header: nothing is inflated
        raise too_big(path, blob.size, f"at {commit.hexsha[:7]}")
    return blob.data_stream.read()


_UNDER_SYMLINK = True  # in read_files' directory cache: the directory is, or is under, a symlink


def _directory(dirs: dict[str, git.Tree | bool | None], path: str) -> git.Tree | bool | None:
    """The tree at directory ``path`` (None if absent or not a directory), read once per call of read_files."""
    if path in dirs:
        return dirs[path]
    head, _, name = path.rpartition("/")
    parent = _directory(dirs, head)
    node: git.Tree | git.Blob | bool | None = None
    if parent is _UNDER_SYMLINK:
        node = _UNDER_SYMLINK
    elif isinstance(parent, git.Tree):
        node = _child(parent, name)
        if isinstance(node, git.Blob):
            node = _UNDER_SYMLINK if node.mode == LINK_MODE else None
    dirs[path] = node
    return node


def _child(tree: git.Tree, name: str) -> git.Tree | git.Blob | None:
    """The entry ``name`` of ``tree``: one scan of its raw entries, one object made (not one per entry)."""
    try:
        item = tree / name
    except KeyError:
        return None
    return item if isinstance(item, (git.Tree, git.Blob)) else None


def list_paths(commit: git.Commit) -> list[str]:
    """Every blob path at ``commit`` (only for discovery from code, which needs the listing)."""
    return [
        str(item.path)
        for item in commit.tree.traverse()
        if isinstance(item, git.Blob) and item.mode != LINK_MODE
    ]


def default_branch(repo: git.Repo) -> str | None:
    """The remote's default branch as the clone knows it (``origin/HEAD``), or None."""
    try:
        target = repo.git.symbolic_ref("-q", "refs/remotes/origin/HEAD")
    except git.GitCommandError:
        return None
    prefix = "refs/remotes/origin/"
    return target[len(prefix) :] if target.startswith(prefix) else None


LISTING_BUDGET = 2000  # tree entries read in-process before a listing is left to `git ls-tree`...
LISTING_TREES = 64  # ...or trees (each read costs; a large repo's listing wastes at most these)


def listed_paths(repo: git.Repo, commit: git.Commit) -> list[str]:
    """Every regular-file path at ``commit``, in ``git ls-tree -r`` order: read in-process for a
    tree of up to ``LISTING_BUDGET`` entries in ``LISTING_TREES`` trees (a git process costs more
    than reading a few trees), else listed by one ``git ls-tree`` (C speed, for large repos)."""
    small = _listed_in_process(repo, commit.tree.binsha)
    if small is not None:
        return small
    try:
        out = repo.git.ls_tree("-r", "-z", "--full-tree", commit.hexsha)
    except git.GitCommandError as err:
        raise RepoError(f"cannot list files: {git_said(repo, err)}") from None
    paths = []
    for record in out.split("\0"):
        info, _, path = record.partition("\t")
        if path and info.split(" ", 1)[0] in ("100644", "100755"):
            paths.append(path)
    return paths


def _listed_in_process(repo: git.Repo, root: bytes) -> list[str] | None:
    """``listed_paths`` by reading the trees here, depth first in each tree's own order as ls-tree
    walks them, modes read as git reads them (any regular file is one); None past the budget or for
    a tree that cannot be read here (git then says what is wrong)."""
    paths: list[str] = []
    budget, trees = LISTING_BUDGET, LISTING_TREES

    def entries(binsha: bytes) -> Iterator[tuple[bytes, int, str]] | None:
        nonlocal budget, trees
        trees -= 1
        if trees < 0:
            return None
        found = tree_entries_from_data(repo.odb.stream(binsha).read())
        budget -= len(found)
        return iter(found) if budget >= 0 else None

    try:
        first = entries(root)
        if first is None:
            return None
        stack = [("", first)]
        while stack:
            prefix, rest = stack[-1]
            for binsha, mode, name in rest:
                kind = mode & 0o170000
                if kind == 0o100000:
                    paths.append(prefix + name)
                elif kind == TREE_MODE:
                    below = entries(binsha)
                    if below is None:
                        return None
                    stack.append((f"{prefix}{name}/", below))
                    break
            else:
                stack.pop()
    except (ValueError, OSError, gitdb.exc.BadObject):
        return None
    return paths


def read_blob(commit: git.Commit, path: str) -> bytes | None:
    files, _ = read_files(commit, [path])
    return files.get(path)


# --- writing ---------------------------------------------------------------------------


def _store(repo: git.Repo, kind: bytes, data: bytes) -> bytes:
    binsha = repo.odb.store(IStream(kind, len(data), BytesIO(data))).binsha
    return binsha


def _sort_key(entry: tuple[bytes, int, str]) -> bytes:
    _, mode, name = entry
    return _name_bytes(name) + (b"/" if mode == TREE_MODE else b"")


def _name_bytes(name: str) -> bytes:
    """A tree entry's name as git stores it: GitPython reads names that are not UTF-8 (``caf\\xe9.txt``)
    with surrogate escapes, so they go back byte for byte."""
    return name.encode("utf-8", "surrogateescape")


class InTheWay(RepoError):
    """A path the tool would write is, or sits under, something it must not replace."""


def write_tree(
    repo: git.Repo, tree: git.Tree | None, changes: Mapping[str, bytes | None], prefix: str = ""
) -> bytes | None:
    """The binsha of ``tree`` with ``changes`` (path -> content, None deletes); None if it ends up empty.

    Only files are written or deleted: a directory, a submodule or a file standing where the
    change needs a file or a directory raises :class:`InTheWay`, never is replaced.
    """
    entries: dict[str, tuple[bytes, int, str]] = {}
    if tree is not None:
        for binsha, mode, name in tree._cache:
            if name in entries:  # pass 10a: the dict kept one of the two, the other was dropped
                raise InTheWay(
                    f"{prefix}{name}: the repository's tree holds two entries named {name} (a damaged "
                    "tree: `git fsck` says duplicateEntries); the tool never rewrites it, so as to "
                    "drop neither: repair that tree on the base branch first"
                )
            entries[name] = (binsha, mode, name)
    nested: dict[str, dict[str, bytes | None]] = {}
    folded: dict[str, str] = {}  # fold(name) -> name, for the names the tree already has
    for name in entries:
        folded.setdefault(fold(name), name)
    for path, content in changes.items():
        head, _, rest = path.partition("/")
        variant = folded.get(fold(head), head) if content is not None else head
        if variant != head and head not in entries:  # a hand-edited plan adding a second spelling
            raise InTheWay(case_variant_message(prefix + path, prefix + head, prefix + variant))
        if rest:
            nested.setdefault(head, {})[rest] = content
            continue
        old_mode = entries.get(head, (b"", BLOB_MODE, head))[1]
        if old_mode not in (BLOB_MODE, EXEC_MODE):
            raise InTheWay(
                in_the_way_message(prefix + path, prefix + head, old_mode, file_wanted=True)
            )
        if content is None:
            entries.pop(head, None)
        else:
            entries[head] = (_store(repo, b"blob", content), old_mode, head)
    for name, sub in nested.items():
        current = entries.get(name)
        if current and current[1] != TREE_MODE:
            first = next(iter(sub))
            raise InTheWay(
                in_the_way_message(
                    f"{prefix}{name}/{first}", prefix + name, current[1], file_wanted=False
                )
            )
        subtree = git.Tree(repo, current[0], TREE_MODE, name) if current else None
        written = write_tree(repo, subtree, sub, f"{prefix}{name}/")
        if written is None:
            entries.pop(name, None)
        else:
            entries[name] = (written, TREE_MODE, name)
    if not entries:
        return None
    stream = BytesIO()
    tree_to_stream(
        [
            (binsha, mode, _name_bytes(name))  # type: ignore[misc]  # bytes names are written as they are
            for binsha, mode, name in sorted(entries.values(), key=_sort_key)
        ],
        stream.write,
    )
    return _store(repo, b"tree", stream.getvalue())


def in_the_way_message(path: str, where: str, mode: int, *, file_wanted: bool) -> str:
    kind = {TREE_MODE: "a directory", SUBMODULE_MODE: "a submodule", LINK_MODE: "a symlink"}.get(
        mode, "a file"
    )
    if file_wanted and where == path:
        return (
            f"{path} is {kind} in the repository, where the tool would write a file; the tool never "
            "replaces it (rename or remove it, or change the path in the manifest)"
        )
    return (
        f"{where} is {kind} in the repository, in the way of {path}; the tool never replaces it "
        "(rename or remove it, or change the path in the manifest)"
    )


def case_variant_message(path: str, here: str, variant: str) -> str:
    """``path`` would add ``here`` beside ``variant``, the same name but for case."""
    name, other = here.rsplit("/", 1)[-1], variant.rsplit("/", 1)[-1]
    but = "case" if name.casefold() == other.casefold() else "how an accent is composed"
    if here == path:
        what = (
            f"the repository has {variant}, the same name but for {but}: on a case-insensitive "
            f"checkout (macOS, Windows) the two are one file, and git keeps only one of them in "
            f"the working tree"
        )
    else:
        what = (
            f"the repository has {variant}, the same name as {here} but for {but}: on a "
            f"case-insensitive checkout (macOS, Windows) the two are one folder, spelled two ways"
        )
    return (
        f"{path}: {what}; the tool does not write {path} there (rename {variant} in the "
        "repository to one spelling, or change the path in the manifest)"
    )


def in_the_way(commit: git.Commit, paths: list[str]) -> str | None:
    """Why writing a file at one of ``paths`` would replace something that is not a file; None if nothing is in the way."""
    for path in paths:
        node: git.Tree = commit.tree
        parts = path.split("/")
        for depth, name in enumerate(parts):
            here = "/".join(parts[: depth + 1])
            variant = next(
                (n for _, _, n in node._cache if n != name and fold(n) == fold(name)), None
            )
            if variant is not None:
                return case_variant_message(path, here, "/".join([*parts[:depth], variant]))
            entry = next(((b, m) for b, m, n in node._cache if n == name), None)
            if entry is None:
                break
            last = depth == len(parts) - 1
            if last:
                if entry[1] not in (BLOB_MODE, EXEC_MODE):
                    return in_the_way_message(path, here, entry[1], file_wanted=True)
            elif entry[1] != TREE_MODE:
                return in_the_way_message(path, here, entry[1], file_wanted=False)
            else:
                node = git.Tree(commit.repo, entry[0], TREE_MODE, here)
    return None


def _digest(parent: str, tree: str, message: str) -> str:
    return hashlib.sha256(f"{parent}\n{tree}\n{message}".encode()).hexdigest()[:40]


def _one_identity(commit: git.Commit) -> bool:
    """The tool writes its author and committer as one identity at one moment; ``git commit --amend``
    (with or without ``--author``) stamps a new committer time, so an amended commit never passes."""
    return (
        commit.author.name,
        commit.author.email,
        commit.authored_date,
        commit.author_tz_offset,
    ) == (
        commit.committer.name,
        commit.committer.email,
        commit.committed_date,
        commit.committer_tz_offset,
    )


def is_tool_commit(commit: git.Commit, rollout: str | None = None) -> bool:
    """A commit exactly as the tool wrote it: its check line matches its parent, tree and message; and,
    given ``rollout``, written for that rollout (or written before commits named their rollout).

    A trailer alone would not do: ``git commit --amend`` keeps it, so a reviewer's amended
    commit would pass for the tool's and be overwritten.
    """
    if not _tool_written(commit):
        return False
    written_for = commit_rollout(commit)
    return rollout is None or written_for is None or written_for == rollout


def commit_rollout(commit: git.Commit) -> str | None:
    """The rollout a commit's ``Rollout-Name:`` line names (the last line above its check line), None
    when it names none (the tool's commits before pass 20e, or not the tool's)."""
    body = _message(commit).rstrip("\n").rpartition("\n" + CHECK_TRAILER)[0]
    last = body.rpartition("\n")[2]
    return last.removeprefix(ROLLOUT_TRAILER).strip() if last.startswith(ROLLOUT_TRAILER) else None


def _message(commit: git.Commit) -> str:
    return (
        commit.message
        if isinstance(commit.message, str)
        else commit.message.decode("utf-8", "replace")
    )


def _tool_written(commit: git.Commit) -> bool:
    if len(commit.parents) != 1:
        return False
    message = _message(commit)
    if commit.gpgsig or not _one_identity(commit):  # signed, or re-authored: a person's commit now
        return False
    body, sep, check = message.rstrip("\n").rpartition("\n" + CHECK_TRAILER)
    if not sep or TRAILER not in body:
        return False
    return check == _digest(commit.parents[0].hexsha, commit.tree.hexsha, body + "\n")


# a path given to git as that one file's name (pass 18a: `git log -- '[ab].env.enc'` read `[ab]` as a
# wildcard, so another file's versions, `a.env.enc`'s, were taken for this one's history)
LITERAL = {"GIT_LITERAL_PATHSPECS": "1"}
# one file's history as stored and to its first commit: `--root` whatever `log.showRoot` says (pass
# 20f: set to false, the version a root commit wrote was not in it), no replace refs nor grafts
ONE_FILE_LOG = ("--root",)
ONE_FILE_ENV = {**LITERAL, "GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": os.devnull}


def _file_log(commit: git.Commit, path: str, *limit: str) -> list[tuple[str, list[str]]] | None:
    """(commit id, the blob ids it wrote) for each commit in the history of ``commit`` that wrote
    ``path`` (newest first; a deletion writes no blob and is left out); None when git cannot say."""
    try:
        out = commit.repo.git.log(
            *limit,
            "--format=%x1e%H",
            "--raw",
            "--no-abbrev",
            *ONE_FILE_LOG,
            commit.hexsha,
            "--",
            path,
            env=ONE_FILE_ENV,
        )
    except git.GitCommandError:
        return None
    writes = []
    for record in out.split("\x1e")[1:]:
        head, _, raw = record.partition("\n")
        shas = [
            parts[3]
            for parts in (line.split() for line in raw.splitlines() if line.startswith(":"))
            if len(parts) > 3 and set(parts[3]) != {"0"}
        ]
        if shas:
            writes.append((head.strip(), shas))
    return writes


def blob_in_history(commit: git.Commit, path: str, blob: bytes) -> bool:
    """Did ``path`` ever hold exactly ``blob`` in the history of ``commit`` (a squash merge leaves no
    ancestry, but the file it brought is there)? False when git cannot say."""
    sha = hashlib.sha1(b"blob %d\0" % len(blob) + blob).hexdigest()
    return any(sha in written for _, written in _file_log(commit, path) or [])


def earlier_versions(commit: git.Commit, path: str, limit: int = 20) -> list[tuple[bytes, bool]]:
    """The versions ``path`` held in the history of ``commit``, newest first (the one it holds now among
    them; at most ``limit`` + 1, none larger than MAX_FILE_BYTES), each with True when the commit that
    wrote it is yours through the tool: a commit exactly as the tool wrote it (:func:`is_tool_commit`)
    under this clone's own identity, the one the tool commits as. [] when git cannot say."""
    writes = _file_log(commit, path, f"-n{limit + 1}")
    if not writes:
        return []
    try:
        me = git.Actor.committer(commit.repo.config_reader()).email
    except (ValueError, OSError):  # no identity: no commit of the tool's is known to be yours
        me = None
    versions: list[tuple[bytes, bool]] = []
    seen: set[str] = set()
    for wrote_id, (sha, *_) in writes:
        if sha in seen:
            continue
        seen.add(sha)
        try:
            info = commit.repo.odb.info(bytes.fromhex(sha))
            if info.size > MAX_FILE_BYTES:
                continue
            blob = commit.repo.odb.stream(bytes.fromhex(sha)).read()
            wrote = commit.repo.commit(wrote_id)
        except (ValueError, OSError, git.GitCommandError):
            continue
        yours = me is not None and wrote.author.email == me and is_tool_commit(wrote)
        versions.append((blob, yours))
    return versions


def blob_at_fork(tip: git.Commit | None, base: git.Commit, path: str) -> bytes | None:
    """``path`` in the commit the branch ``tip`` was built on (its merge base with ``base``); None when
    there is none (or git cannot say), or no such file there."""
    if tip is None:
        return None
    try:
        forks = tip.repo.merge_base(tip, base)
    except git.GitCommandError:
        return None
    return read_blob(forks[0], path) if forks else None


def tool_chain_root(
    repo: git.Repo, tip: git.Commit, rollout: str | None = None, limit: int = 1000
) -> git.Commit:
    """The first commit below ``tip`` (first parents) that the tool did not make (for ``rollout``, when
    given: another rollout's commit is not this one's); ``tip`` if it is one.

    A commit that a ``git replace`` stands in for is not the tool's either: git log, show and checkout
    show the replacement (a reviewer's edit, say), while the object reader here sees the original."""
    replaced = _replaced(repo)
    commit = tip
    for _ in range(limit):
        if commit.hexsha in replaced or not is_tool_commit(commit, rollout):
            return commit
        commit = commit.parents[0]
    return commit


def foreign_words(
    repo: git.Repo, branch: str, tip: git.Commit, rollout: str, base: str
) -> tuple[str, str]:
    """What a branch ``branch_mode`` calls foreign holds, in words, and the way out: another rollout's
    commits (a `branch:` renamed to the one another rollout wrote), the tool's own commits on a commit
    ``base`` no longer holds, or commits the tool did not make."""
    root = tool_chain_root(repo, tip, rollout)
    other = commit_rollout(root) if is_tool_commit(root) else None
    if other is not None and other != rollout:
        return (
            f"{branch} holds commits of the {other} rollout (was a `branch:` renamed to one it "
            "wrote?)",
            "merge or delete that branch",
        )
    if root != tip and other is None and root.hexsha not in _replaced(repo):
        # the tool writes on its base or on its own commits only: the first commit below them that is
        # not its own was the base it built on. Pass 21a: after a force-push of main back past it, the
        # line said "commits the tool did not make; merge or delete", as if merging were harmless: it
        # brings that commit back (deleting drops it, and with it any reviewer's commit on main then)
        return (
            f"{branch} holds the tool's commits on {root.hexsha[:7]}, which is not on {base} (was "
            f"{base} force-pushed back, its history rewritten, or `base:` changed?)",
            f"delete that branch or merge it (merging brings {root.hexsha[:7]} back to {base})",
        )
    return f"{branch} holds commits the tool did not make", "merge or delete that branch"


def _replaced(repo: git.Repo) -> frozenset[str]:
    """The object names ``refs/replace/`` stands in for (what git shows instead of them)."""
    try:
        out = repo.git.for_each_ref("--format=%(refname)", "refs/replace/")
    except git.GitCommandError:
        return frozenset()
    return frozenset(line.rsplit("/", 1)[-1] for line in out.splitlines() if line.strip())


def branch_mode(
    repo: git.Repo, tip: git.Commit | None, base: git.Commit, rollout: str | None = None
) -> str | None:
    """How the rollout branch relates to ``base``: ``"on top"`` (only the tool's commits on the current
    base: the next change is a commit on top), ``"rebuild"`` (the tool's commits on an older base),
    ``"foreign"`` (someone else's commits on it, or another rollout's than ``rollout``: pass 20e, the
    manifest's branch names swapped between rollouts over time), or None (no branch)."""
    if tip is None:
        return None
    root = tool_chain_root(repo, tip, rollout)
    if root != base and not repo.is_ancestor(root, base):
        return "foreign"
    return "on top" if repo.is_ancestor(base, tip) else "rebuild"


def create_commit(repo: git.Repo, base: git.Commit, tree_sha: bytes, message: str) -> git.Commit:
    """The tool's commit on ``base``; its message ends with the check line :func:`is_tool_commit` reads."""
    tree = git.Tree(repo, tree_sha, TREE_MODE, "")
    body = message.rstrip("\n") + "\n"
    signed = f"{body}{CHECK_TRAILER}{_digest(base.hexsha, tree.hexsha, body)}\n"
    who = git.Actor.committer(repo.config_reader())  # one identity, one moment: see _one_identity
    now = datetime.now(UTC).astimezone().replace(microsecond=0)
    when, offset = parse_date(now)
    # always UTF-8, git's default, whatever `i18n.commitEncoding` says (pass 19a: GitPython's
    # create_from_tree encodes the message in it: ISO-8859-1 there, and a message holding `→`, or the
    # `…` of a re-key line, was "unexpected UnicodeEncodeError … a damaged repository?" and no branch)
    commit = git.Commit(
        repo,
        git.Commit.NULL_BIN_SHA,
        tree,
        who,
        when,
        offset,
        who,
        when,
        offset,
        signed,
        [base],
        "UTF-8",
    )
    commit.binsha = git.Commit._calculate_sha_(repo, commit)
    return commit


def checked_out_in(repo: git.Repo, branch: str) -> Path | None:
    """The worktree (the clone itself, or a linked one) that has ``branch`` checked out, or is
    rebasing or bisecting it, or will move it at the end of a ``rebase --update-refs``; None if none
    has. git refuses to move such a branch; so does the tool."""
    ref = f"refs/heads/{branch}"
    common = Path(repo.common_dir)
    places = [(common, Path(repo.working_tree_dir or common))]
    # pass 20a: where git keeps loose refs on a case-insensitive file system (core.ignorecase, set by
    # git on macOS and Windows), `git switch CHORE/x` checks the branch out under that spelling
    same = _spelling_blind(repo)
    for admin in sorted((common / "worktrees").glob("*")):
        places.append((admin, _worktree_top(admin) or admin))
    for admin, top in places:
        for name in ("HEAD", "rebase-merge/head-name", "rebase-apply/head-name", "BISECT_START"):
            try:
                text = _ref_file_text(admin / name)
            except OSError:
                continue
            unread = (
                _git_unread_head(admin)
                if name == "HEAD" and not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", text)
                else None
            )
            if unread is not None and "packed-refs" in unread:
                # pass 30d: git stops at a damaged packed-refs line (a sound HEAD was called "empty
                # or damaged", and the line not named)
                raise RepoError(_damaged_packed(repo, "the clone's refs"))
            if unread is not None and _CONFIG_UNREAD.search(unread):
                # pass 30e: git reads no HEAD where it cannot read the config (a linked worktree's
                # config.worktree cut short): that was "its HEAD file … is empty or damaged",
                # and its way out, pasted, wrote back the same HEAD and changed nothing
                which = "the linked worktree" if admin != common else "the clone"
                raise RepoError(
                    f"git cannot read {which} {top} ({unread.strip()}), so whether it has "
                    f"{branch} checked out is unknown; nothing is done: mend that config file, "
                    "then run again"
                )
            if unread is not None and admin != common and not _commondir_sound(admin, common):
                # pass 30h: its `commondir` emptied (a power loss) or gone: git reads no HEAD there
                # and moves no branch; that was "its HEAD file … is empty or damaged", and its way
                # out, pasted, wrote back the same HEAD and changed nothing
                told = path_word(admin / "commondir")
                raise RepoError(
                    f"git cannot read the linked worktree {top} ({unread.strip()}): its file {told} "
                    f"is empty, damaged or missing, so whether it has {branch} checked out is "
                    f"unknown; nothing is done: write it back (`printf '../..\\n' > {told}`), "
                    "then run again"
                )
            if unread is not None:
                # pass 29h (13.3): a linked worktree whose HEAD a power loss emptied was read as
                # holding no branch, and apply moved the one it had checked out under it. Pass 30a:
                # so was a HEAD naming a ref git refuses (`refs/heads//x`, `x/`, `x.lock`), in the
                # clone too, where git itself moves no branch ("Failed to resolve HEAD"); and one
                # read as the branch but not by git (NULs after its line) got a way out that failed
                which = "the linked worktree" if admin != common else "the clone"
                raise RepoError(
                    f"{which} {top} cannot be read: its HEAD file {path_word(admin / 'HEAD')} "
                    f"is empty or damaged (git cannot read it either), so whether it has {branch} "
                    "checked out is unknown; nothing is done: write back the branch it had checked "
                    f"out (`printf 'ref: refs/heads/%s\\n' BRANCH > {path_word(admin / 'HEAD')}`, "
                    "BRANCH that branch's name), then run again"
                )
            if same(text) in (same(ref), same(branch)) or same(ref) in map(
                same, _symref_chain(common, text, admin)
            ):
                return top
        try:  # `git rebase --update-refs` moves these at its end: git counts them as checked out
            listed = (admin / "rebase-merge" / "update-refs").read_text(errors="replace")
        except OSError:
            continue
        if same(ref) in map(same, listed.splitlines()[::3]):
            return top
    return None


def _commondir_sound(admin: Path, common: Path) -> bool:
    """Whether the linked worktree's git folder ``admin`` names the clone's ``common`` folder in its
    ``commondir`` file (git writes ``../..``), as git needs to read anything there."""
    try:  # a FIFO there is never opened
        told = admin / "commondir"
        named = told.read_text(errors="replace").strip() if told.is_file() else ""
    except OSError:
        return False
    return bool(named) and os.path.realpath(admin / named) == os.path.realpath(common)


_CONFIG_UNREAD = re.compile(
    r"(fatal|error): (bad (\w+ )?config |unknown error occurred while reading the configuration)"
)
_FORMAT_UNREAD = re.compile(
    r"fatal: (unknown repository extensions? found|Expected git repo version)"
)
_HEAD_TEXT = re.compile(r"ref: ?refs/\S+|[0-9a-f]{40}|[0-9a-f]{64}")


def _git_unread_head(admin: Path) -> str | None:
    """None when git reads the HEAD of the worktree whose git folder is ``admin`` (the clone's
    ``.git``, or ``.git/worktrees/NAME``) as a branch or a commit; else git's last line saying why."""
    try:
        asked = subprocess.run(
            ["git", "--git-dir", str(admin), "symbolic-ref", "-q", "HEAD"],
            env={**no_repo_code(), "LC_ALL": "C", "LANGUAGE": ""},  # git's words, to read them
            capture_output=True,
            timeout=60,
            check=False,
            preexec_fn=proctree.dies_with_us(),
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    if asked.returncode in (0, 1):  # 1: on no branch
        return None
    said = asked.stderr.decode("utf-8", "replace").strip().splitlines()
    # git's own: its last line is the fatal one, with the tab lines after it (pass 30g: "unknown
    # repository extensions found:" and one tab line for each)
    last = len(said) - 1
    while last > 0 and said[last][:1].isspace():
        last -= 1
    return " ".join(line.strip() for line in said[last:])


def _spelling_blind(repo: git.Repo) -> Callable[[str], str]:
    """How the clone's file system compares ref names: folded when git says it ignores case."""
    # git's own reading of the value (pass 20e: GitPython gives `ignorecase = 1` as the number 1 and a
    # bare `ignorecase` line as "", both true to git, and the branch was moved under the user)
    try:
        said = repo.git.config("--type=bool", "--get", "core.ignorecase")
    except git.GitCommandError:  # not set (or no boolean git reads): compared as written
        said = "false"
    return fold if said.strip() == "true" else str


def worktree_advice(repo: git.Repo, top: Path, clone_path: Path, base: str | None = None) -> str:
    """What frees a branch checked out in the worktree at ``top``, in words that work when pasted:
    switch it, or prune it when its folder is gone (unlocking it first when it is locked). Pass 24a:
    `git switch -` failed in a worktree made on the branch (`git worktree add ../review BRANCH`: no
    previous branch, "invalid reference: @{-1}"); `git switch --detach` frees the branch anywhere,
    the worktree's files and changes left as they are. Pass 25a: each command names the worktree
    (or clone) it is for, `git -C WORKTREE …`: `git rebase --abort` pasted where the user stood (in
    another clone of the fleet, mid-rebase too) dropped that rebase and its resolved conflicts."""
    there = git_in_folder(top)
    clone = git_in_folder(clone_path)
    detach = f"`{there} switch --detach`"
    state = _worktree_admin(repo, top) if top.exists() else None
    if state is not None and base is not None and _unborn(repo, state):
        # pass 28a: the branch not made yet, HEAD there on it (`git switch --orphan BRANCH`):
        # `git switch --detach` failed pasted ("You are on a branch yet to be born"); detached at
        # the commit the tool builds on, named in full (a tag of that name is never taken)
        full = next(
            (
                r
                for r in (f"refs/remotes/origin/{base}", f"refs/heads/{base}")
                if _commit_at(repo, r)
            ),
            None,
        )
        if full is not None:
            detach = f"`{there} switch --detach {shell_word(full)}`"
    link, link_line = (
        _link(top, state) if state is not None and state != Path(repo.common_dir) else ("ok", "")
    )
    if link == "other":
        # pass 26d: the worktree's folder deleted by hand and the path taken since by another
        # repository (or another clone's worktree): `git -C FOLDER switch --detach` detached that
        # repository's HEAD, and `worktree repair` re-pointed the other clone's worktree at this
        # clone. git keeps the record (with any rebase or bisect it was in) while a `.git` is at
        # that path: prune drops it with the folder moved aside, and the folder goes back as it was
        aside = path_word(top.with_name(top.name + ".aside"))
        # a locked record stays through prune: unlocked first (its files are gone already)
        unlock = (
            f"{clone} worktree unlock {path_word(top)} && " if worktree_locked(repo, top) else ""
        )
        return (
            "that worktree's folder holds another repository now (its .git is not that "
            "worktree's: deleted by hand and the path used again?), and git keeps the worktree's "
            "record with the branch checked out: drop the record with that folder moved aside "
            f"for a moment (`{unlock}test ! -e {aside} && mv {path_word(top)} {aside} && "
            f"{{ {clone} worktree prune; mv {aside} {path_word(top)}; }}`)"
        )
    if top.exists() and link != "gone":
        advice = _advice_in_place(state, there, detach)
        if link == "moved":
            # pass 26a: the clone moved (`mv`) after the worktree was made: git here still counts
            # the branch as checked out there, but every git command run there failed ("not a git
            # repository: OLD/.git/worktrees/…") until git's own repair rewrites the link
            # pass 26g: pasted after the path was used again by another clone's worktree, the
            # repair re-pointed that worktree at this clone: it runs while the link is still the
            # one read here
            guard = (
                f"grep -qxF -e {shell_word(link_line)} {path_word(top / '.git')} && "
                if link_line
                else ""
            )
            return (
                "that worktree's link to the clone is broken (was the clone moved?): run "
                f"`{guard}{clone} worktree repair` first; then {advice}"
            )
        return advice
    # pass 26d: a folder there without its `.git` file is gone to git too ("prunable: gitdir file
    # points to non-existent location"): `git -C FOLDER switch --detach` ran in whatever repository
    # holds that folder, or failed
    if worktree_locked(repo, top):
        # pass 16a: a lock says "its folder comes back" (a removable drive, a network share); unlock
        # and prune alone cut that worktree, and its work on the branch, off from the clone
        return (
            "that worktree is locked and its folder is not there now (a removable drive or a "
            f"network share?): bring it back and switch it to another branch there ({detach}); "
            f"if it is gone for good, run `{clone} worktree unlock {path_word(top)}` and "
            f"`{clone} worktree prune`"
        )
    # pass 10a: a worktree MOVED by hand (not `git worktree move`) looks gone here and still works
    # there; prune would cut it off from the clone: repair first
    return (
        f"that worktree is gone: run `{clone} worktree prune` (if you moved it "
        "instead, run `git worktree repair` in its new folder: prune would cut it off)"
    )


def _unborn(repo: git.Repo, state: Path) -> bool:
    """Whether the worktree whose admin folder is ``state`` has HEAD on a branch with no commit yet."""
    try:
        text = _ref_file_text(state / "HEAD")
    except OSError:
        return False
    return text.startswith("ref: refs/heads/") and _commit_at(repo, text[5:].strip()) is None


def _advice_in_place(state: Path | None, there: str, detach: str) -> str:
    """What frees the branch in a worktree whose folder is there (``state``: its admin folder)."""
    if state is not None and (state / "rebase-apply" / "applying").is_file():
        # pass 26a: git keeps a `git am` session in rebase-apply/ too; `git rebase --abort` and
        # `git switch` both refuse while it is under way ("'git am' is in progress")
        return (
            f"a git am session is under way in that worktree: finish it (`{there} am --continue`) or "
            f"drop it (`{there} am --abort`), then switch it off the branch ({detach})"
        )
    if state is not None and any((state / d).is_dir() for d in ("rebase-merge", "rebase-apply")):
        # pass 9: mid-rebase HEAD is detached; `git switch -` there leaves the rebase running
        return (
            f"a rebase is under way in that worktree: finish it (`{there} rebase --continue`) or "
            f"drop it (`{there} rebase --abort`), then switch it off the branch ({detach})"
        )
    under_way = next(
        (
            (what, verb)
            for head, what, verb in _UNDER_WAY
            if state is not None and (state / head).is_file()
        ),
        _sequence_under_way(state),
    )
    if under_way is not None:
        # pass 24d: git switches no branch while a merge, cherry-pick or revert is under way
        # ("fatal: cannot switch branch while merging"): the advice failed when pasted there
        what, verb = under_way
        return (
            f"a {what} is under way in that worktree: finish it (`{there} {verb} --continue`) or "
            f"drop it (`{there} {verb} --abort`), then switch it off the branch ({detach})"
        )
    if state is not None and (state / "BISECT_START").is_file():
        return (
            f"that worktree is bisecting it: end the bisect (`{there} bisect reset`), "
            f"then switch it off the branch ({detach})"
        )
    return f"switch that worktree off the branch ({detach})"


def _link(top: Path, state: Path) -> tuple[str, str]:
    """How the folder ``top`` of a linked worktree leads to its admin folder ``state``, with the line
    its `.git` file holds (the guard of the "moved" advice's repair): "ok"; "moved"
    (its `.git` file names a folder that is not there: the clone moved since the worktree was made,
    `git worktree repair` mends it); "gone" (no `.git` there: git prunes such a worktree); "other"
    (a `.git` folder, or a file naming an admin folder that leads back to it: the path used again;
    one whose admin leads elsewhere is a stale link, "moved": pass 26g)."""
    dot_git = top / ".git"
    if not os.path.lexists(dot_git):
        return "gone", ""
    try:
        line = dot_git.read_text(errors="replace").strip()
    except OSError:  # a folder: another repository's
        return ("other" if dot_git.is_dir() else "ok"), ""
    named = line.removeprefix("gitdir:").strip()
    if named and os.path.realpath(top / named) == os.path.realpath(state):
        return "ok", line
    if not named or not os.path.isdir(top / named):
        return "moved", line
    # pass 26g: the clone moved and its old path cloned again, that clone with a worktree of the
    # same name: the admin folder named is another worktree's (its `gitdir` leads elsewhere), not
    # this folder's; the link is stale ("moved"), and prune with the folder aside dropped the
    # reviewer's record (index, HEAD) and left the folder on the other clone's admin
    try:
        back = (Path(top / named) / "gitdir").read_text(errors="replace").strip()
    except OSError:
        return "other", line
    return ("other" if os.path.realpath(back) == os.path.realpath(dot_git) else "moved"), line


# what git leaves in a worktree's admin folder while an operation that stops `git switch` is under way
_UNDER_WAY = (
    ("MERGE_HEAD", "merge", "merge"),
    ("CHERRY_PICK_HEAD", "cherry-pick", "cherry-pick"),
    ("REVERT_HEAD", "revert", "revert"),
)


def _sequence_under_way(state: Path | None) -> tuple[str, str] | None:
    """A cherry-pick or revert of several commits that git still counts as under way with no
    CHERRY_PICK_HEAD/REVERT_HEAD (given up with `git reset`, not `--abort`): the first command of
    ``sequencer/todo``, read as git reads it. Pass 26a: `git switch` refused there ("cannot switch
    branch while cherry-picking") and the advice, a bare `git switch --detach`, failed when pasted."""
    try:
        todo = (state / "sequencer" / "todo").read_text(errors="replace") if state else ""
    except OSError:
        return None
    first = todo.lstrip(" \t\r\n").split(None, 1)[:1]
    if first in (["pick"], ["p"]):
        return ("cherry-pick", "cherry-pick")
    if first == ["revert"]:
        return ("revert", "revert")
    return None


def _worktree_admin(repo: git.Repo, top: Path) -> Path | None:
    """The git admin folder of the worktree at ``top`` (the common dir for the main one)."""
    common = Path(repo.common_dir)
    if repo.working_tree_dir and Path(repo.working_tree_dir) == top:
        return common
    for admin in (common / "worktrees").glob("*"):
        if _worktree_top(admin) == top:
            return admin
    return None


def _worktree_top(admin: Path) -> Path | None:
    """The folder of the linked worktree whose admin folder is ``admin`` (where its ``gitdir`` file
    says its ``.git`` is), None when unreadable. git 2.48's ``worktree.useRelativePaths`` writes that
    path relative to ``admin`` (pass 20a: read from the tool's folder, a live worktree was named
    `../../../../../wt` and called gone, with `git worktree prune` as the way out)."""
    try:
        text = (admin / "gitdir").read_text(errors="replace").strip()
    except OSError:
        return None
    return Path(os.path.normpath(admin / text)).parent


def worktree_locked(repo: git.Repo, top: Path) -> bool:
    """True when the linked worktree at ``top`` is locked (`git worktree add --lock`, `git worktree lock`):
    `git worktree prune` keeps a locked one even when its folder is gone."""
    admin = _worktree_admin(repo, top)
    return admin is not None and (admin / "locked").exists()


def _symref_chain(common: Path, text: str, admin: Path | None = None) -> list[str]:
    """The refs a ``ref: X`` line leads to, following symbolic refs (``refs/heads/alias`` -> the rollout
    branch): git commits through the whole chain, so a branch reached that way is checked out too.
    A worktree's own refs (``refs/worktree/``, ``refs/bisect/``, ``refs/rewritten/``) are read in its
    git folder ``admin`` (pass 30e: a linked worktree's HEAD at `refs/worktree/alias`, an alias of
    the rollout branch, was read in the clone's folder, found nowhere, and apply moved the branch
    git calls checked out there)."""
    chain: list[str] = []
    while text.startswith("ref:") and len(chain) < 10:
        name = text[4:].strip()
        chain.append(name)
        own = name.startswith(("refs/worktree/", "refs/bisect/", "refs/rewritten/"))
        # pass 30g: git reads `main-worktree/X` as the clone's own X (`worktrees/NAME/X` is that
        # file's path already); a worktree's alias to `main-worktree/refs/bisect/m`, an alias of the
        # rollout branch, was found nowhere, and apply moved the branch git calls checked out there
        main = name.removeprefix("main-worktree/")
        try:
            text = _ref_file_text(
                common / main
                if main != name
                else (admin if own and admin is not None else common) / name
            )
        except (OSError, ValueError):
            break
    return chain


def _ref_file_text(path: Path) -> str:
    """A ref file's text as git reads it: a symlink to ``refs/...`` is a symbolic ref (git writes HEAD
    so under ``core.preferSymlinkRefs``; pass 10a: such a HEAD hid a checked-out rollout branch), and
    it ends at a NUL byte (pass 30a: git read `ref: refs/heads/BRANCH` followed by NULs, a power
    loss's padding, as that branch checked out, and apply moved it)."""
    if path.is_symlink():
        target = os.readlink(path)
        if target.startswith("refs/"):
            return f"ref: {target}"
    return path.read_text(errors="replace").split("\0", 1)[0].strip()


def move_branch(repo: git.Repo, branch: str, new: str, old: str | None, reason: str) -> None:
    """Compare-and-swap the branch to ``new`` (git's own ref locking; fails if it moved meanwhile).

    Logged in the branch's reflog whatever ``core.logAllRefUpdates`` says (``--create-reflog``): the
    push reads its ``juniper-rollout:`` entries to know the tool's own commits (pass 14a; with the
    setting off, a push cut short after origin took it was later called a reviewer's)."""
    refuse_alias(repo, branch, "moved")
    try:
        repo.git.update_ref(
            "--no-deref",  # an alias made after the check is replaced, its branch never moved
            "--create-reflog",
            "-m",
            f"juniper-rollout: {reason}",
            f"refs/heads/{branch}",
            new,
            old or ZERO,
        )
    except git.GitCommandError as err:
        if _sha_at(repo, f"refs/heads/{branch}") == new:
            # git wrote the ref, then died (a Ctrl-C in the terminal reaches the tool's git children
            # too): the branch was moved, and is reported so (pass 10a: "failed … exit code(-2)")
            return
        raise RepoError(_ref_failure(repo, branch, err)) from None


def refuse_alias(repo: git.Repo, branch: str, what: str) -> None:
    """RepoError when ``refs/heads/branch`` is a symbolic ref (a branch alias, `git symbolic-ref`):
    git's update-ref follows it, so the tool's update moved, and cleanup's delete deleted, the branch
    it names (pass 17: `chore/sops-age-rollout -> develop` put the rollout commit on develop)."""
    target = alias_of(repo, branch)
    if target is not None:
        raise RepoError(f"branch {branch} {alias_advice(branch, target)}; nothing {what}")


def alias_of(repo: git.Repo, branch: str) -> str | None:
    """The ref ``refs/heads/branch`` names when it is a symbolic ref, else None."""
    try:
        return repo.git.symbolic_ref("-q", f"refs/heads/{branch}").strip() or None
    except git.GitCommandError:  # not a symbolic ref (or none)
        return None


def alias_advice(branch: str, target: str) -> str:
    ref = shell_word(f"refs/heads/{branch}")
    return (
        f"is a symbolic ref to {target} (an alias): the tool never updates or deletes a branch "
        f"through one (remove the alias: `git symbolic-ref --delete {ref}`, or name another branch "
        "in the manifest's `branch:`)"
    )


def _ref_failure(repo: git.Repo, branch: str, err: git.GitCommandError) -> str:
    text = str(err.stderr or err)
    if ".lock" in text and ("exists" in text or "lock" in text):
        held = re.search(r"Unable to create '([^']+\.lock)'", text)
        where = shell_word(held.group(1)) if held else "the .lock file"
        return (  # a crashed git leaves it for ever: retrying alone never helps (pass 6)
            f"branch {branch} is locked by another git command ({where} exists); try again when it "
            f"finishes; if no git command is running, a crashed one left it: remove it (`rm {where}`)"
        )
    if "but expected" in text or "is at" in text:
        return f"branch {branch} moved while the rollout ran; run plan again"
    clash = re.search(r"'refs/heads/([^']+)' exists; cannot create", text)
    if clash:  # pass 16b: git's own words only, no way out
        return branch_clash(repo, branch, clash.group(1))
    # pass 30d: another ref's damaged line ("unexpected line in …"); pass 30g: git's words about the
    # file, not the branch's own name (`sec/packed-refs` beside a branch `sec` was told to mend a
    # packed-refs git reads, not the rename that frees the name)
    if "packed-refs" in text.replace(f"refs/heads/{branch}", ""):
        return _damaged_packed(repo, f"branch {branch} was not moved: the clone's refs")
    return f"could not update branch {branch}: {' '.join(text.split())[:200]}"


def branch_clash(repo: git.Repo, branch: str, other: str) -> str:
    """Why ``branch`` cannot be created beside the existing branch ``other`` (one is a folder of the
    other). Pass 25d: the rename named no clone; pasted in another clone of the fleet that has a
    ``chore`` of its own, it renamed that clone's branch (checked out: its HEAD moved with it)."""
    return (
        f"branch {branch} cannot be created: the branch {other} exists, and git cannot keep a branch "
        f"and a branch under its name as a folder (refs/heads/{other}); rename {other} "
        f"(`{git_in(repo)} branch -m {shell_word(other)} {shell_word(other.replace('/', '-') + '-old')}`) or set "
        "another `branch:` "
        "in the manifest"
    )


def origin_clash(branch: str, other: str) -> str:
    """Why ``branch`` cannot be pushed beside origin's branch ``other`` (one is a folder of the other)."""
    return (
        f"origin has a branch {other}, and git cannot keep a branch and a branch under its name as a "
        f"folder: {branch} cannot be pushed there; set another `branch:` in the manifest, or rename "
        f"{other} on origin"
    )


def branch_in_the_way(repo: git.Repo, branch: str, where: str = "refs/heads/") -> str | None:
    """An existing branch under ``where`` (local ones; ``refs/remotes/origin/``: origin's, as last
    fetched) that stops ``branch`` from being created (``chore`` for ``chore/x``, or ``chore/x/y``), or None."""
    try:
        out = repo.git.for_each_ref("--format=%(refname)", f"{where}{branch.split('/')[0]}")
    except git.GitCommandError:
        return None
    for ref in out.split():
        name = ref.removeprefix(where)
        if name != branch and (branch.startswith(name + "/") or name.startswith(branch + "/")):
            return name
    return None


@contextmanager
def rollout_lock(repo: git.Repo, name: str) -> Iterator[None]:
    """One rollout per repository at a time.

    An advisory ``flock`` on the ``.git`` directory itself: no lock file is created,
    so a killed run leaves nothing behind, and the kernel releases it with the process.
    """
    gitdir = Path(repo.git_dir)
    if (gitdir / "index.lock").exists():
        lock = shell_word(str(gitdir / "index.lock"))
        raise RepoError(  # a crashed git leaves it for ever: retrying alone never helps (pass 6)
            f"git is running in {name} ({lock} exists); try again when it finishes; if no git "
            f"command is running, a crashed one left it: remove it (`rm {lock}`)"
        )
    fd = os.open(gitdir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RepoError(
                f"another rollout is running on {name}; try again when it finishes"
            ) from None
        _sweep_object_temp_files(gitdir)
        yield
    finally:
        os.close(fd)  # releases the lock


def _sweep_object_temp_files(gitdir: Path) -> None:
    """Remove half-written object files a killed run left (gitdb writes ``objects/objXXXXXXXX`` then renames)."""
    for leftover in (gitdir / "objects").glob("obj????????"):
        if leftover.is_file():
            leftover.unlink(missing_ok=True)


NO_PROMPT = network_git_env()  # a push never waits at a prompt, nor on a stalled server
# pass 11a: git's low-speed limit covers http(s) only; an ssh:// or git:// remote that accepts the
# connection and never answers held `apply --push` for ever. Every git talking to origin here ends
# after this long, like sync's fetch (killed with its children: ssh included).
PUSH_TIMEOUT = 600.0


def push(repo: git.Repo, branch: str, rollout: str | None = None) -> str:
    """Push the branch to origin only if the remote is where the tool last left it (for ``rollout``,
    when given: what it pushed there for another rollout is not pushed over)."""
    ref = f"refs/heads/{branch}"
    record = PUSHED_REF + branch
    refuse_alias(repo, branch, "pushed")  # its push would send the aliased branch's commits
    # the two refs read here, not by two `git rev-parse` processes (the push is the one git process)
    expected = _sha_at(repo, record) or ""
    other = _pushed_for(repo, expected) if expected and rollout is not None else None
    if other is not None and other != rollout:
        # pass 20e: the hygiene rollout's pull request branch, deleted here, its name then given to the
        # SOPS rollout: the lease (the tool's own record) let the SOPS branch replace it on origin
        raise RepoError(
            f"origin/{branch} holds what the tool pushed for the {other} rollout (was a `branch:` "
            f"renamed to one it wrote?): not pushed over; merge or delete that remote branch (or give "
            "this rollout another branch), then push again"
        )
    tip = _sha_at(repo, ref)
    if tip is None:
        raise RepoError(f"branch {branch} is gone; run apply again")
    try:
        try:
            _to_origin(
                repo,
                "push",
                "--porcelain",
                f"--force-with-lease={ref}:{expected}",
                "origin",
                f"{ref}:{ref}",
            )
        except git.GitCommandError as first:
            stopped = isinstance(first.status, int) and first.status < 0  # by a signal
            if stopped:
                raise
            if expected and _absent_on_origin(repo, ref):
                # deleted on origin since the tool pushed (a reviewer merged it, say): push it anew,
                # on the condition that it is still absent
                _to_origin(
                    repo,
                    "push",
                    "--porcelain",
                    f"--force-with-lease={ref}:",
                    "origin",
                    f"{ref}:{ref}",
                )
            else:
                found = _own_tip_on_origin(repo, ref, first, expected)
                if found is None:
                    raise
                landed, since_the_record = found
                if not since_the_record:
                    raise RepoError(
                        f"origin/{branch} was moved back to {landed[:12]}, a commit the tool pushed "
                        "before its last push (a reviewer's reset?); fetch and check it, then delete "
                        "the remote branch to push again"
                    ) from None
                # the tool's own earlier push landed, unrecorded: pushed on the condition that
                # origin still holds that commit
                _to_origin(
                    repo,
                    "push",
                    "--porcelain",
                    f"--force-with-lease={ref}:{landed}",
                    "origin",
                    f"{ref}:{ref}",
                )
    except git.GitCommandError as err:
        text = " ".join(f"{err.stdout} {err.stderr}".split())
        if isinstance(err.status, int) and err.status < 0 and not text.strip():
            # pass 11a: a Ctrl-C reaches the push too: "push to origin failed: " with no reason
            raise RepoError(
                f"its push to origin was interrupted (git stopped by signal {-err.status}); run "
                "apply --push again to push it"
            ) from None
        # `[rejected]` (a lease or a fast-forward refused), not `[remote rejected]`: origin's own hook
        # declining the push was called "commits the tool did not push" for a branch origin lacks (pass 12a)
        if "stale info" in text or "[rejected]" in text or "fetch first" in text:
            raise RepoError(
                f"origin/{branch} has commits the tool did not push (a reviewer's?); fetch and review "
                "them, then delete or merge the remote branch before pushing again"
            ) from None
        clash = re.search(r"'refs/heads/([^']+)' exists", text)
        # pass 18b: origin keeps a branch named as a folder of this one (git's words only)
        if clash:
            raise RepoError(origin_clash(branch, clash.group(1))) from None
        raise RepoError(f"push to origin failed: {redact_origin(repo, text)[:200]}") from None
    _forget_records_in_the_way(repo, branch)
    _write_record(repo, record, tip)
    return tip


def _pushed_for(repo: git.Repo, sha: str) -> str | None:
    """The rollout the tool's commit ``sha`` names (None: not the tool's, none named, or unreadable)."""
    try:
        commit = repo.commit(sha)
        return commit_rollout(commit) if is_tool_commit(commit) else None
    except (ValueError, git.BadName, git.GitCommandError):
        return None


def _forget_records_in_the_way(repo: git.Repo, branch: str) -> None:
    """Delete the tool's push records of branches git cannot keep beside ``branch`` (``chore/x/v1``
    for ``chore/x``, or ``chore`` for ``chore/x``): ``branch`` now exists here and on origin, so
    neither can those, and the record (a file or a folder where this one goes) stopped it being
    written (pass 20a: a `branch:` renamed from chore/sops/v1 to chore/sops was pushed, then "failed
    unexpected IsADirectoryError … a damaged repository?" at every later push)."""
    for _ in range(100):
        other = branch_in_the_way(repo, branch, PUSHED_REF)
        if other is None:
            return
        try:
            repo.git.update_ref("--no-deref", "-d", PUSHED_REF + other)
        except git.GitCommandError:  # then writing the record says why
            return


def _to_origin(repo: git.Repo, *args: str) -> str:
    """``git ARGS`` against origin, with no prompt and within ``PUSH_TIMEOUT`` (pass 11a: git's
    low-speed limit covers http(s) only, and an ssh:// or git:// remote gone silent held the push for
    ever). subprocess stops git when the time is up, and on any exception in this process (a second
    Ctrl-C): GitPython's own time limit left a watchdog thread that kept the tool from exiting."""
    try:
        # pass 12a: stopped with its children (ssh to an ssh:// remote was left running for ever)
        out = proctree.run(
            ["git", *args],
            cwd=repo.git.working_dir,
            # English messages, as GitPython runs git: "rejected", "stale info" are read below
            env={**no_repo_code(), **NO_PROMPT, "LANGUAGE": "C", "LC_ALL": "C"},
            timeout=PUSH_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise RepoError(
            f"git {args[0]} to origin did not finish in {PUSH_TIMEOUT:g} s (the remote stopped "
            "answering?); nothing was recorded as pushed: check the connection, then run apply "
            "--push again"
        ) from None
    if out.returncode != 0:
        raise git.GitCommandError(["git", *args], out.returncode, out.stderr, out.stdout)
    return out.stdout


def _write_record(repo: git.Repo, record: str, tip: str) -> None:
    """The tool's record of what it pushed (its own ref namespace, no reflog), written as git writes a
    loose ref: a ``.lock`` file created exclusively, then renamed over the ref (a loose ref beats a
    packed one). One git process less per pushed repo; ``git update-ref`` where the refs are not plain
    files or the lock cannot be taken (git then says why)."""
    dotgit = files_backend(Path(repo.working_tree_dir)) if repo.working_tree_dir else None
    if dotgit is None:
        repo.git.update_ref("--no-deref", record, tip)
        return
    path = dotgit / record
    lock = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:
        repo.git.update_ref("--no-deref", record, tip)
        return
    try:
        os.write(fd, f"{tip}\n".encode())
    finally:
        os.close(fd)
    os.replace(lock, path)


def redact_origin(repo: git.Repo, text: str) -> str:
    """``text`` (git's own words) without the credentials of origin's URLs: git repeats a URL's query
    string (``?access_token=…``) in its errors, and a clone's origin may carry one."""
    try:
        found = repo.git.config("--get-regexp", ORIGIN_URLS)
    except git.GitCommandError:
        return text
    return redact(text, *origin_urls(found))


def git_said(repo: git.Repo, err: git.GitCommandError) -> str:
    """git's error, on one line of at most 200 characters, without the credentials of the clone's
    remote URLs. Pass 21b (13.7): a partial clone fetches what it lacks from its promisor remote
    while the tool reads history or a tree, and git's "unable to access '…?access_token=…'" was
    printed whole in plan and drift ("cannot read history: …"). Git's advice (``hint:`` lines) is
    left out: the eight lines of its hint that grafts are deprecated, which every git run with
    ``GIT_GRAFT_FILE`` prints, filled the 200 characters, and the error itself was never shown (pass
    23c)."""
    # git's own words, without GitPython's `stderr: '…'` framing (pass 24f: "cannot read history:
    # stderr: 'error: missing config key …" under a broken GIT_CONFIG_COUNT)
    text = str(err.stderr)
    _, framed, said = text.partition("stderr: '")
    said = said.rstrip().removesuffix("'") if framed else text
    said = "\n".join(line for line in said.split("\n") if not line.startswith("hint:"))
    return redact_origin(repo, " ".join(said.split()))[:200]


def _own_tip_on_origin(
    repo: git.Repo, ref: str, refused: git.GitCommandError, expected: str
) -> tuple[str, bool] | None:
    """The commit origin holds at ``ref`` when the lease refused the push (``stale info``) and that
    commit is one the tool itself set the local branch to (its ``juniper-rollout:`` reflog entries),
    with True when the tool set it after the commit of its last recorded push (``expected``); else
    None. Pass 14a: a push stopped after origin had taken it (a second SIGTERM while origin's
    post-receive hook ran, or the 600 s limit) left no record, and every later push after a rebuild
    said "origin/… has commits the tool did not push (a reviewer's?)" of the tool's own commit.
    Pass 15: only a commit newer than the record is pushed over; origin moved back to an older one
    of the tool's is someone's reset, said as such."""
    if "stale info" not in f"{refused.stdout} {refused.stderr}":
        return None
    try:
        listed = _to_origin(repo, "ls-remote", "origin", ref)
        written = repo.git.reflog("show", "--format=%H %gs", ref, "--")
    except (git.GitCommandError, RepoError):
        return None
    remote = next(
        (line.split("\t")[0] for line in listed.splitlines() if line.endswith(f"\t{ref}")), None
    )
    if remote is None:
        return None
    since_the_record = True  # the reflog lists the newest entry first
    for sha, _, why in (line.partition(" ") for line in written.splitlines()):
        if expected and sha == expected:
            since_the_record = False
        if sha == remote and why.startswith("juniper-rollout: "):
            return remote, since_the_record
    return None


def _absent_on_origin(repo: git.Repo, ref: str) -> bool:
    """Whether the repository `git push origin` sends to has no ``ref``, asked as a push asks it (a dry
    run whose lease wants it absent). Pass 21a: `ls-remote origin` reads the fetch URL, and where a
    `remote.origin.pushurl` names another repository (a fork) holding no such branch any more (merged
    and deleted there), a branch of that name in the fetch URL's repository refused every later push."""
    try:
        _to_origin(
            repo,
            "push",
            "--dry-run",
            "--porcelain",
            f"--force-with-lease={ref}:",
            "origin",
            f"{ref}:{ref}",
        )
    except git.GitCommandError:
        return False
    return True


# --- read-only helpers for drift, and the two creators bootstrap needs ------------------


def resolve_ref(repo: git.Repo, ref: str) -> git.Commit:
    """The commit any ref name or commit id names (branch, tag, ``origin/x``, full or short sha)."""
    if not ref or ref.startswith("-") or any(c in ref for c in "\0\n"):
        raise RepoError(f"{ref!r} is not a ref or commit id")
    try:
        sha = repo.git.rev_parse(
            "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"
        ).strip()
        return repo.commit(sha)
    except (git.GitCommandError, git.BadName, ValueError):
        pass
    try:  # it names something, but no commit (`git tag snap TREE`): say what it names
        kind = repo.git.cat_file("-t", "--end-of-options", f"{ref}^{{}}").strip()
    except git.GitCommandError:
        kind = ""
    if kind in ("tree", "blob"):
        raise RepoError(
            f"ref {ref!r} names a {kind}, not a commit; pass a branch, a tag of a commit or a "
            "commit id as --ref"
        )
    raise RepoError(f"ref {ref!r} not found (fetch it, or pass another --ref)")


def commits_touching(
    repo: git.Repo, pathspecs: list[str], budget: HistoryBudget | None = None
) -> list[tuple[str, str, tuple[str, ...]]]:
    """Commits on any ref that add or change a path matching ``pathspecs``: (short sha, subject, paths).

    Only names and subjects are read, never file contents; git's listing is held within ``budget``.
    Newest first.
    """
    commits = []
    for head, names in _history_log(
        repo, pathspecs, "--name-only", budget=budget or HistoryBudget()
    ):
        short, _, subject = head.partition("\x1f")
        paths = tuple(unquote_path(line) for line in names.split("\n") if line)
        if paths:
            commits.append((short, subject, paths))
    return commits


def _history_log(
    repo: git.Repo,
    pathspecs: list[str],
    *how: str,
    skip: tuple[str, ...] = (),
    revs: tuple[str, ...] = ("--all",),
    budget: HistoryBudget,
) -> list[tuple[str, str]]:
    """``git log`` over every ref but the stash (and ``skip``) for commits adding or changing ``pathspecs``,
    one record per commit: (short sha ``\x1f`` subject, then what ``how`` asks for: names or raw entries,
    one a line), git's output held within ``budget``. Records are framed by a mark made for this run:
    a subject holds any byte but a newline (pass 22c: one holding the ``\x1e`` the records were
    framed by named the commit that added `.env.prod` as ``deadbee "docs"``, text of its own)."""
    mark = _record_mark()
    if revs == ("--all",):  # pass 16b: and what origin once held, then lost to a force-push
        revs = ("--all", "--ignore-missing", *origin_once_held(repo))
    try:
        out = budget.git(
            repo,
            "log",
            # a stash (`git stash -u` with an untracked .env) is the user's local work, like the
            # .env itself: never pushed, not history to rotate values for or rewrite
            "--exclude=refs/stash",
            *(f"--exclude={ref}" for ref in skip),
            *revs,
            "--no-show-signature",
            "--no-color",
            "--diff-filter=ACMRT",  # T: a symlink turned into a file (with values) is a change too
            *how,
            "--diff-merges=first-parent",  # a file added in a merge commit is seen too
            # a root commit's files too, whatever `log.showRoot` says (pass 20c: set to false in the
            # user's config, the .env.prod of a branch's first commit was "0 findings")
            "--root",
            f"--format={mark}%h%x1f%s",
            "--",
            *pathspecs,
            # history as stored: a `git replace` of the commit that added .env hid it from the scan,
            # and so did .git/info/grafts (their older form, still honoured by git) (pass 6)
            env={"GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": os.devnull},
        )
    except git.GitCommandError as err:
        raise _history_unread(repo, err) from None
    return [record.partition("\n")[::2] for record in out.split(mark.replace("%x1e", "\x1e"))[1:]]


def _history_unread(repo: git.Repo, err: git.GitCommandError) -> RepoError:
    """Why history cannot be read, in git's words; for a ref git calls a bad object whose file is
    damaged (a zero-byte loose ref), how to mend it (lead 33: drift said "fatal: bad object
    refs/heads/main" and no more)."""
    said = git_said(repo, err)
    if "packed-refs" in said:  # pass 29d: "fatal: unexpected line in .git/packed-refs: …"
        return RepoError(_damaged_packed(repo, "history"))
    bad = re.search(r"fatal: bad object (refs/\S+)", said)
    if bad is not None:
        try:
            _commit_at(repo, bad.group(1))
        except RepoError as damaged:
            return damaged
    return RepoError(f"cannot read history: {said}")


def _record_mark() -> str:
    """A `--format` text opening each record of a listing (``%x1e`` and 24 random hex digits), which no
    commit's text can hold but by chance: records split where it stands are git's own."""
    return "%x1e" + secrets.token_hex(12)


MESSAGES_READ = 20_000  # commit messages drift reads, newest first (and every annotated tag's)


def history_messages(repo: git.Repo, budget: HistoryBudget | None = None) -> list[tuple[str, str]]:
    """(where, text) of the commits of history as ``_history_log`` reads it (every ref but the
    stash, and what origin once held), newest first, at most ``MESSAGES_READ``, then of every
    annotated tag any ref reaches: ``commit abc1234`` or ``annotated tag abc1234`` (the tag object's
    id: a name or subject may hold what was pasted). Each text is the object as stored, read with
    ``git cat-file`` (:func:`_object_text`), never as `git log` renders it (pass 22c: a message
    holding the ``\x1e`` that framed the records hid what followed it). Git's output is held
    within ``budget``."""
    revs = ("--all", "--ignore-missing", *origin_once_held(repo))
    budget = budget or HistoryBudget()
    try:
        log = budget.git(
            repo,
            "log",
            "--exclude=refs/stash",
            *revs,
            "--no-show-signature",
            "--no-color",
            f"--max-count={MESSAGES_READ}",
            "--format=%H %h",
            env={"GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": os.devnull},
        )
        commits = [line.split() for line in log.split("\n") if line]
        objects = budget.objects(repo, [full for full, _ in commits])
        refs = repo.git.for_each_ref("--format=%(objecttype) %(objectname) %(refname)")
    except git.GitCommandError as err:
        raise _history_unread(repo, err) from None
    out = [(f"commit {short}", _object_text(objects.get(full, b""))) for full, short in commits]
    width = min((len(short) for _, short in commits), default=7)  # git's abbreviation for this repo
    for tag, data in _tag_objects(repo, refs, budget):
        out.append((f"annotated tag {tag[:width]}", _object_text(data)))
    return out


def _tag_objects(repo: git.Repo, refs: str, budget: HistoryBudget) -> list[tuple[str, bytes]]:
    """(id, raw object) of every annotated tag a ref (but the stash) reaches, each read once: the tags
    refs point at, and the tags those point at, to the end of each chain. Pass 22c: `git tag -a outer
    inner`, then `git tag -d inner`, left the inner tag's message in the chain `outer` names (pushed
    with it), and drift read only the outer one's."""
    found: dict[str, bytes] = {}
    for line in refs.split("\n"):
        kind, _, rest = line.partition(" ")
        sha, _, ref = rest.partition(" ")
        while kind == "tag" and ref != "refs/stash" and sha not in found:
            try:
                data = budget.blob(repo, bytes.fromhex(sha), HISTORY_BYTES + 1, tail=False)
            except (ValueError, gitdb.exc.BadObject, gitdb.exc.BadName):
                break  # a ref to a missing object: git itself reports that
            found[sha] = data
            head = data.partition(b"\n\n")[0].split(b"\n")
            sha = next((h[7:].decode() for h in head if h.startswith(b"object ")), "")
            kind = next((h[5:].decode() for h in head if h.startswith(b"type ")), "")
    return list(found.items())


def _object_text(data: bytes) -> str:
    """A commit or tag object as text, to search for secrets: the whole object as stored (its headers
    too: an author's name, a merged tag's message kept in `mergetag`, any header git does not show;
    a tag's signature-shaped lines), and its message as the `encoding` header says it is written.
    Pass 22c: `git log` gave the message as git renders it, empty for an `encoding IBM037` commit
    whose bytes held a token in ASCII; and `%(contents:body)` stopped at the last line shaped like a
    signature's first, so a token after `-----BEGIN PGP SIGNATURE-----` was not read."""
    head, _, message = data.partition(b"\n\n")
    text = data.decode("utf-8", "replace")
    for line in head.split(b"\n"):
        if line.startswith(b"encoding "):
            with suppress(LookupError, ValueError):
                codec = codecs.lookup(line[9:].decode("ascii", "replace").strip())
                # not punycode and idna: Python decodes them in time quadratic in the length (a
                # 3 MB message under `encoding punycode` held drift for minutes)
                if codec.name not in ("punycode", "idna"):
                    text += "\n" + message.decode(codec.name, "replace")
    return text


ORIGIN_ONCE_HELD = (
    5000  # commits read from the remote-tracking refs' reflogs, at most (newest kept)
)


def origin_once_held(repo: git.Repo) -> list[str]:
    """Every commit a remote-tracking ref once pointed at, by its reflog (``logs/refs/remotes/``:
    each fetch and push records what origin held): a `.env` pushed, then force-pushed away, is no
    longer on any ref, but origin served it (the host keeps it, reachable by its id) and the clone
    still has it until git expires that reflog entry: 30 days for a commit no ref reaches
    (`gc.reflogExpireUnreachable`), at the next `git gc` (pass 19b measured it). Local-only commits
    (an amend before any push) are in the local branches' reflogs, not read. Newest last, at most
    ``ORIGIN_ONCE_HELD``."""
    found: dict[str, int] = {}  # commit -> the newest time a reflog line names it
    root = Path(repo.common_dir) / "logs" / "refs" / "remotes"
    for top, _dirs, files in os.walk(root):
        for name in files:
            if not (Path(top) / name).is_file():  # a FIFO would block the read
                continue
            try:  # the newest 4 MB of each (a reflog grows with every fetch)
                with open(Path(top) / name, "rb") as handle:
                    handle.seek(max(0, os.fstat(handle.fileno()).st_size - (1 << 22)))
                    text = handle.read(1 << 22)
            except OSError:
                continue
            for line in text.decode("ascii", "replace").splitlines():
                # pass 19b: newest by each line's time, across all the refs' files: kept in the order
                # the folder lists them, a busy origin/* read after origin/feat pushed its force-pushed
                # `.env.local` out of the 5,000 (drift "0 findings")
                when = _REFLOG_TIME.search(line)
                stamp = int(when.group(1)) if when else 0
                for sha in line.split(" ", 2)[:2]:
                    if re.fullmatch(r"[0-9a-f]{40}", sha) and sha.strip("0"):
                        found[sha] = max(stamp, found.get(sha, stamp))
    return sorted(found, key=found.__getitem__)[-ORIGIN_ONCE_HELD:]


# a reflog line: OLD NEW NAME <EMAIL> SECONDS ZONE<TAB>MESSAGE
_REFLOG_TIME = re.compile(r"> (\d+) [+-]\d{4}(?:\t|$)")


def lfs_tracked(
    repo: git.Repo, commit: git.Commit, paths: Sequence[str], listed: Sequence[str]
) -> frozenset[str]:
    """The ``paths`` git would store through Git LFS in a commit on ``commit``: `filter=lfs` by that
    commit's .gitattributes files (and the clone's own .git/info/attributes), asked of git itself
    through a throwaway index (git 2.39 has no `check-attr --source`). Only when the commit holds a
    .gitattributes (``listed``: its paths) or the clone an info/attributes file (no git process
    otherwise)."""
    info = Path(repo.git_dir) / "info" / "attributes"
    if not paths or not (
        info.is_file() or any(p.rsplit("/", 1)[-1] == ".gitattributes" for p in listed)
    ):
        return frozenset()
    with tempfile.TemporaryDirectory(prefix="rollout-attributes-") as folder:
        env = {"GIT_INDEX_FILE": os.path.join(folder, "index")}
        try:
            repo.git.read_tree(commit.hexsha, env=env)
            out = repo.git.check_attr(
                "-z", "--cached", "filter", "--", *paths, env=env, strip_newline_in_stdout=False
            )
        except git.GitCommandError as err:
            raise RepoError(f"cannot read .gitattributes: {git_said(repo, err)}") from None
    fields = out.split("\0")
    return frozenset(fields[i] for i in range(0, len(fields) - 2, 3) if fields[i + 2] == "lfs")


def lfs_by_info_attributes(repo: git.Repo, path: str) -> bool:
    """Whether the clone's own ``.git/info/attributes``, which beats every ``.gitattributes`` of the
    tree, says `filter=lfs` for ``path``: asked of git with an empty index (no ``.gitattributes`` read)
    and no global or system attributes file."""
    with tempfile.TemporaryDirectory(prefix="rollout-attributes-") as folder:
        env = {"GIT_INDEX_FILE": os.path.join(folder, "index"), "GIT_ATTR_NOSYSTEM": "1"}
        try:
            out = repo.git(c="core.attributesFile=/dev/null").check_attr(
                "-z",
                "--cached",
                "filter",
                "--",
                path,
                env=env,
                strip_newline_in_stdout=False,
            )
        except git.GitCommandError:
            return False
    return out.split("\0")[2:3] == ["lfs"]


WORKTREE_PATHS = 1000  # plaintext env files read from one clone's folders, at most


def worktree_paths(path: Path, pathspecs: Sequence[str], *, unindexed: bool = False) -> list[str]:
    """Paths in the working tree of the clone at ``path`` that ``pathspecs`` match, at any depth:
    tracked, untracked and ignored alike (``git ls-files --cached --others``, no exclude rules; git
    walks the folders at C speed), the clone's own first, shallow ones first (the leak guard reads at
    most ``WORKTREE_PATHS`` of them); none where there is no clone or no working tree. A clone
    whose files git cannot list (a damaged `.git/index`) is a RepoError: read as none, a
    `backend/.env.prod` there was no value to the leak guard, and drift printed a commit subject
    holding its value (pass 27c). ``unindexed``: the folder's files as :func:`_folder_paths` lists
    them, for the reading of what can be read where the clone's own index or refs cannot be read
    (pass 27e: a damaged index, a reftable clone: its folders' env files were no values to another
    repo's guard); nothing of the clone's is read as git's, its index untouched."""
    if unindexed:
        return _folder_paths(path, pathspecs)
    try:
        repo = git.Repo(path)
    except Exception:  # noqa: BLE001 (no clone, or not one git can read: the plan says why)
        # pass 27e: its files are still files (a folder that is no clone, a worktree whose clone
        # moved): read as none, another repo's template holding its `backend/.env.prod` value was
        # shown in that repo's plan diff
        return _folder_paths(path, pathspecs)
    with _quiet(repo):
        # pass 28b: the folder itself is the working tree listed; a clone whose config says
        # `core.bare = true`, or names another folder as `core.worktree`, was listed as no files or
        # as that other folder's, so its `backend/.env.prod` was no value, and a template holding it
        # was shown in the plan's diff and committed (its own plan's and every other repo's)
        if repo.bare:  # a bare repository has no working tree, so no file (the plan says so)
            return _folder_paths(path, pathspecs) if (path / ".git").exists() else []
        try:
            lister = repo.git(work_tree=str(path))
            out = lister.ls_files(
                "-z",
                "--cached",
                "--others",
                "--",
                *_and_nested(pathspecs),
                strip_newline_in_stdout=False,
            )
            staged = lister.ls_files("-z", "--stage", strip_newline_in_stdout=False)
        except git.GitCommandError as err:
            said = git_said(repo, err)
            with open_clone(path):  # a repository the tool refuses anyway says why (a reftable one)
                pass
            raise RepoError(
                f"cannot list the files of the clone ({said}), so its plaintext env files cannot "
                f"be read; nothing is done for it: repair the clone (`{git_in(repo)} status` says "
                "what is wrong)"
            ) from None
    gitlinks = [  # a submodule's folder holding anything (one not initialized is empty)
        link
        for entry in staged.split("\0")
        if entry.startswith("160000 ") and _holds_files(path / (link := entry.partition("\t")[2]))
    ]
    return _with_nested(path, out.split("\0"), gitlinks, pathspecs)


def _holds_files(folder: Path) -> bool:
    """Whether ``folder`` (a gitlink's) is a folder holding anything: a submodule checked out, or
    files where its `.git` is gone (pass 28e, 13.6: `rm -rf api/.git` or files copied over a
    submodule's folder were never listed, git taking the gitlink for the whole folder, so a `.env`
    there was no value and a template holding it was shown in another repo's plan diff)."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    try:
        with os.scandir(folder) as entries:
            return next(entries, None) is not None
    except OSError:
        return False


NESTED_CLONES = 100  # repositories inside one clone's working tree whose files are listed, at most
_NESTED = ":(glob)**/*/"  # what git lists for a repository inside the tree it never enters: `DIR/`


def _and_nested(pathspecs: Sequence[str]) -> list[str]:
    """``pathspecs`` and the one that has git list each repository it never enters (none given:
    git lists every path, those repositories too)."""
    return [*pathspecs, _NESTED] if pathspecs else []


def _with_nested(
    path: Path,
    listed: list[str],
    gitlinks: list[str],
    pathspecs: Sequence[str],
    listing: Callable[[Path], list[str] | None] | None = None,
) -> list[str]:
    """``listed`` as :func:`worktree_paths` orders it, with the paths ``pathspecs`` match inside each
    repository git lists as one entry and never enters: an untracked clone inside the tree (listed
    as `DIR/`) and a submodule's checkout (a gitlink), each listed as a folder through one throwaway
    repository (``listing``, or one made here), at any depth, ``NESTED_CLONES`` in all.
    Pass 28b (13.6): a `.env` in a submodule's or a nested clone's folder was no value to the leak
    guard, and a template holding it was shown in the plan's diff and committed.
    pass 18b: the clone's own files before what installed packages ship, shallow ones first: 1,005
    `.env` files under an ignored node_modules/ (git lists paths in name order) pushed a service's
    `zz-service/.env.prod` past the limit, unread, and a template hard-linked to it was rendered."""
    found = [p for p in listed if p and not p.endswith("/")]
    nested = [p.rstrip("/") for p in listed if p.endswith("/")] + gitlinks
    if nested:
        if listing is None:
            with _folder_lister(pathspecs) as made:
                found += _inside(path, nested, made, [NESTED_CLONES])
        else:
            found += _inside(path, nested, listing, [NESTED_CLONES])
    return sorted(dict.fromkeys(found), key=_order)


def _inside(
    path: Path,
    roots: list[str],
    listing: Callable[[Path], list[str] | None],
    left: list[int],
) -> list[str]:
    """The paths ``listing`` gives inside each of ``roots`` (folders under ``path``), and inside the
    repositories each holds, at any depth, shallow ones first (the clone's own before installed
    packages'), while ``left[0]`` of them may be listed. Pass 28e (13.6): three deep at most, a
    `.env` in a repository four deep was no value (`a/b/c/d/.env`) and a template holding it was
    shown in another repo's plan diff; ``NESTED_CLONES`` bounds the walk alone."""
    found: list[str] = []
    waiting = list(dict.fromkeys(roots))
    while waiting and left[0] > 0:
        level, waiting = sorted(waiting, key=_order), []
        for root in level:
            if left[0] <= 0:
                break
            left[0] -= 1
            listed = listing(path / root)
            if listed is None:
                continue
            found += [f"{root}/{p}" for p in listed if p and not p.endswith("/")]
            waiting += [f"{root}/{p.rstrip('/')}" for p in listed if p.endswith("/")]
    return found


def _order(path: str) -> tuple[bool, int, str]:
    """The guard's reading order: the clone's own files before installed packages', shallow first."""
    return in_installed_folder(path), path.count("/"), path


@contextmanager
def _folder_lister(pathspecs: Sequence[str]) -> Iterator[Callable[[Path], list[str] | None]]:
    """What lists the paths ``pathspecs`` match in a folder (and the repositories in it, as
    `DIR/`), by git through one throwaway empty repository (nothing of the folder's read as git's:
    no config, no hook); None for a folder it cannot list."""
    with tempfile.TemporaryDirectory(prefix="rollout-list-") as empty:
        gitdir = os.path.join(empty, "git")
        env = {**no_repo_code(), "GIT_INDEX_FILE": os.path.join(empty, "index")}

        def run(args: list[str]) -> bytes:
            return subprocess.run(
                ["git", *args],
                capture_output=True,
                env=env,
                timeout=600,
                check=True,
                preexec_fn=proctree.dies_with_us(),
            ).stdout

        try:
            run(["init", "-q", "--bare", "--template=", gitdir])
            made = True
        except (OSError, subprocess.SubprocessError):
            made = False

        def listing(folder: Path) -> list[str] | None:
            if not made or not folder.is_dir():
                return None
            try:
                out = run(
                    ["--git-dir", gitdir, "--work-tree", str(folder), "ls-files", "-z", "--others"]
                    + ["--", *_and_nested(pathspecs)]
                )
            except (OSError, subprocess.SubprocessError):
                return None
            return out.decode("utf-8", "surrogateescape").split("\0")

        yield listing


def _folder_paths(path: Path, pathspecs: Sequence[str]) -> list[str]:
    """Paths in the folder ``path`` (no clone git can open) that ``pathspecs`` match, as
    :func:`worktree_paths` orders them, listed by git through a throwaway empty repository (nothing
    of the folder's read as git's: no config, no hook); none where there is no such folder."""
    with _folder_lister(pathspecs) as listing:
        listed = listing(path)
        return [] if listed is None else _with_nested(path, listed, [], pathspecs, listing)


LINKS_LOOKED_AT = 200_000  # paths of a clone's working tree asked whether they are a symlink


def worktree_links(path: Path, *, unindexed: bool = False) -> list[str]:
    """The symlinks of the clone's working tree at any depth, as git lists them (tracked, untracked
    and ignored alike; git never enters a folder link, it lists the link as a path): its own first,
    shallow ones first, at most ``LINKS_LOOKED_AT`` paths asked. Pass 22e: the leak guard's walk of
    the tree stopped after 20,000 entries, so a link past a large folder was never seen."""
    paths = [p for p in worktree_paths(path, [], unindexed=unindexed) if not in_installed_folder(p)]
    return [p for p in paths[:LINKS_LOOKED_AT] if os.path.islink(path / p)]


def in_installed_folder(path: str) -> bool:
    """Whether ``path`` lies in a folder of installed packages or a tool cache (``node_modules``, …)."""
    return any(part in INSTALLED_FOLDERS for part in path.split("/")[:-1])


# folders of installed packages and tool caches, read last (a package's own `.env` files are no values
# of this clone's services)
INSTALLED_FOLDERS = frozenset(
    {"node_modules", ".venv", "venv", "site-packages", ".tox", ".nox", "vendor", "bower_components"}
)


# all the `git grep` runs of one search of a commit's tree for the leak guard's words (pass 19c: it was
# each run's, and 20,000 words took 65 runs, 12.8 s on juniper-canopy, 2,000 took 16.5 s on a 10,000-file
# repo: a `.env` and a template sharing 250,000 words would have searched for an hour)
GREP_TIMEOUT = 120.0


def committed_words(
    repo: git.Repo, commit: git.Commit, words: Sequence[bytes], skip: Callable[[str], bool]
) -> set[bytes]:
    """The ``words`` (runs of letters and digits) some file of ``commit`` holds, but for the paths ``skip``
    names: text already committed, so no new leak (the leak guard asks it for a word of a plaintext
    value it found in what the tool writes). ``git grep -F``, the words given on its standard input
    (never on its command line, which ``ps`` shows); a word git cannot be asked, or whose match falls
    in output past ``proctree.MAX_KEPT``, is counted as not held."""
    held: set[bytes] = set()
    batch: list[bytes] = []
    size = 0  # the bytes of ``batch`` on git's standard input
    deadline = time.monotonic() + GREP_TIMEOUT  # for the whole search: words left then are not held
    # a word longer than one pipe page cannot be asked (pass 19c: a 5,000-digit hex run reached
    # proctree's ValueError, "unexpected ValueError … a damaged repository?"): not held
    askable = (w for w in words if w and b"\n" not in w and b"\0" not in w)
    for word in [*dict.fromkeys(w for w in askable if len(w) < proctree.PIPE_ROOM), None]:
        if word is not None and size + len(word) + 1 <= proctree.PIPE_ROOM:
            batch.append(word)
            size += len(word) + 1
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if batch:
            held |= _grep_batch(repo, commit, batch, skip, left)
        batch = [word] if word is not None else []
        size = len(word) + 1 if word is not None else 0
    return held


def _grep_batch(
    repo: git.Repo,
    commit: git.Commit,
    words: list[bytes],
    skip: Callable[[str], bool],
    timeout: float = GREP_TIMEOUT,
) -> set[bytes]:
    # never the network (pass 19c: in a partial clone, a blob outside a sparse cone was fetched from
    # the promisor remote during a read-only plan; a remote asking for a password would prompt):
    # a blob not here ends the search, and its words count as not held
    args = ["git", "-c", "protocol.allow=never", "-c", "grep.lineNumber=false"]
    args += ["-c", "grep.column=false", "grep", "-z", "-o"]
    args += ["-I", "-F", "--no-color", "--no-recurse-submodules", "-f", "-", commit.hexsha, "--"]
    try:
        out = proctree.run(
            args,
            cwd=repo.git.working_dir,
            env={
                **no_repo_code(),
                "LC_ALL": "C",
                "GIT_NO_REPLACE_OBJECTS": "1",
                "GIT_NO_LAZY_FETCH": "1",
                "GIT_TERMINAL_PROMPT": "0",
            },
            timeout=timeout,
            stdin=b"".join(w + b"\n" for w in words),
            seam=b"\n",  # past MAX_KEPT: no line made of one match's path and another's text
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    if out.returncode not in (0, 1):  # 1: no file holds any of them
        return set()
    prefix = commit.hexsha + ":"
    held = set()
    for line in out.stdout.split("\n"):
        path, nul, match = line.partition("\0")
        if nul and path.startswith(prefix) and not skip(path[len(prefix) :]):
            held.add(match.encode())
    wanted = set(words)
    # a word inside another one git printed is held too (`-o` goes on after the longer match)
    return {w for w in wanted if w in held or any(w in h for h in held)}


def is_partial_clone(path: Path) -> bool:
    """True for a clone made with ``git clone --filter`` (some objects stay on its promisor remote)."""
    try:
        with git.Repo(path) as repo:
            reader = repo.config_reader()
            if reader.has_option("extensions", "partialclone"):
                return True
            return any(
                reader.get_value(section, "promisor", False) is True
                for section in reader.sections()
                if section.startswith("remote ")
            )
    except Exception:  # noqa: BLE001 (cannot tell: not a partial clone)
        return False


# GitPython's refusals to read a tree entry git itself calls unsafe (git.util._validate_repo_path)
_UNSAFE_ENTRY = (
    "Invalid repository path",
    "Repository path aliases Git metadata",
    "Symbolic link aliases the submodule configuration",
)


def unsafe_tree(err: BaseException, where: object) -> str | None:
    """One line for GitPython's refusal to read a tree holding an entry git calls unsafe (``..``,
    ``.git`` or a name that aliases it: `git mktree` writes them, a fetch without fsck brings them);
    None for any other error. Pass 21e's F6: such a commit on the rollout branch was "unexpected
    ValueError … a damaged repository?" in plan and apply, "please report this" in cleanup. The
    entry's name is not repeated: `git fsck` names the tree."""
    if not isinstance(err, ValueError) or not str(err).startswith(_UNSAFE_ENTRY):
        return None
    return (
        f"a commit in {where} holds a tree entry git calls unsafe (`..`, `.git` or a name that "
        f"aliases it), which is not read: `git -C {shell_word(str(where))} fsck` names the tree "
        "(hasDotdot, hasDotgit); delete or rebuild the branch that holds it"
    )


def unquote_path(path: str) -> str:
    """A path as git prints it (``"d\\303\\251/.env"``: C-quoted when it holds non-ASCII bytes, a tab, a quote…)
    back to the path itself, so it is judged and named as what it is."""
    if len(path) < 2 or not (path.startswith('"') and path.endswith('"')):
        return path
    raw, _ = codecs.escape_decode(path[1:-1].encode("ascii", "backslashreplace"))
    return raw.decode("utf-8", "surrogateescape")


HISTORY_BLOB_LIMIT = 1 << 20  # a history blob larger is read by its ends (blobs_in_history)


def blobs_in_history(
    repo: git.Repo,
    pathspecs: list[str],
    *,
    limit: int = HISTORY_BLOB_LIMIT,
    skip: tuple[str, ...] = (),
    revs: tuple[str, ...] = ("--all",),
    budget: HistoryBudget | None = None,
) -> list[tuple[str, str, str, bytes]]:
    """Every version of a path matching ``pathspecs`` ever committed on any ref (or on ``revs``):
    (short sha, subject, path, blob).

    For drift's audit of ``*.enc`` files: their blobs are ciphertext, or exactly what must be found.
    A blob larger than ``limit`` bytes is read as its first and last lines (see :func:`_head_and_tail`):
    sops writes its metadata at the end. All the blobs read are held within ``budget``
    (:class:`HistoryBudget`). Newest first.
    """
    budget = budget or HistoryBudget()
    records = _history_log(
        repo, pathspecs, "--raw", "--no-abbrev", "--no-renames", skip=skip, revs=revs, budget=budget
    )
    listed = []
    for head, rest in records:
        full, _, subject = head.partition("\x1f")
        short = full[:7]  # --no-abbrev makes %h full length
        listed += [(short, subject, path, binsha) for path, binsha in _raw_entries(rest)]
    found = []
    # all commits' blobs together (see _raw_blobs)
    for short, subject, path, binsha in budget.fetching(repo, listed, lambda entry: entry[3]):
        blob = _listed_blob(repo, binsha, path, limit, f"committed in {short}", budget)
        found.append((short, subject, path, blob))
    return found


HISTORY_BYTES = 128_000_000  # what drift holds of history's blobs for one repo (HistoryBudget)
FETCH_BATCH = 1000  # blobs a partial clone fetches in one `git fetch` before drift reads them
_Item = TypeVar("_Item")


def _promisor_remote(repo: git.Repo) -> str:
    """The remote a partial clone fetches its missing objects from, "" for a clone that has all."""
    reader = repo.config_reader()
    named = reader.get_value("extensions", "partialclone", "")
    if named:
        return str(named)
    for section in reader.sections():
        if section.startswith('remote "') and reader.get_value(section, "promisor", False) is True:
            return section[len('remote "') : -1]
    return ""


class Peeled(NamedTuple):
    """An object a ref reaches through its tags: its type (``tree``, ``blob``, …) and id."""

    type: str
    binsha: bytes

    @property
    def hexsha(self) -> str:
        return self.binsha.hex()


class HistoryBudget:
    """The blobs of history one repo's audit holds, at most ``HISTORY_BYTES`` together, each distinct
    blob read once. Pass 21c: drift read every version of every ``*.enc`` file (and note, and tagged
    file) ever committed, each up to 1 MB, and held them all: 3,000 versions of a 1 MB ``big.enc``
    differing by a line (a pack of 1 MB, made in 10 s) held drift at 3 GB for over two minutes (its
    checks read about 10 MB a second); a larger history ran out of memory. Past the budget the repo
    is one line: the audit stops rather than say less than it read."""

    def __init__(self, limit: int = HISTORY_BYTES) -> None:
        self.left = limit
        self._read: dict[tuple[bytes, int, bool], bytes] = {}
        self._partial: str | None = None  # the promisor remote; "" when the clone has none
        self._objects: gitdb.GitDB | None = None
        self._fetched: set[bytes] = set()
        self._peeled: dict[bytes, Peeled] = {}  # what each tag read leads to

    def blob(self, repo: git.Repo, binsha: bytes, limit: int, *, tail: bool = True) -> bytes:
        """The blob ``binsha`` up to ``limit`` bytes (its head and tail with ``tail``); raises
        ``ValueError`` for a missing object, as ``odb.stream`` does."""
        key = (binsha, limit, tail)
        if key in self._read:
            return self._read[key]
        stream = self._stream(repo, binsha)
        blob = _head_and_tail(stream, limit) if tail else stream.read(limit)
        self.left -= len(blob)
        if self.left < 0:
            raise RepoError(
                f"history holds more than {HISTORY_BYTES // 1_000_000} MB of versions of *.enc "
                "files, git notes and tagged files (a file rewritten many times?), more than drift "
                "audits; check that history with git itself: `git log --all --stat -- '*.enc'`"
            )
        self._read[key] = blob
        return blob

    def _stream(self, repo: git.Repo, binsha: bytes) -> gitdb.OStream:
        """The object ``binsha`` as stored, replace refs ignored as `git log` ignores them for drift
        (``GIT_NO_REPLACE_OBJECTS``): a partial clone's is read by gitdb once fetched (pass 23c: its
        default backend, `git cat-file`, gave a `git replace`'s ciphertext for a plaintext
        ``s.enc`` of history, "0 findings"); any other clone's backend is gitdb already."""
        self._open(repo)
        if not self._partial or self._objects is None:
            return repo.odb.stream(binsha)
        self.fetch_missing(repo, [binsha])
        try:
            return self._objects.stream(binsha)
        except (gitdb.exc.BadObject, gitdb.exc.BadName):
            raise ValueError(f"no object {binsha.hex()}") from None

    def peeled(self, repo: git.Repo, binsha: bytes) -> Peeled:
        """The object ``binsha`` names, a tag of a tag of … followed to the end, as git peels (pass
        7: a chain of 21 hid its tree; the chain is finite: an object names only objects that existed
        before it), each read as stored (:meth:`_stream`): pass 23f, in a partial clone GitPython's
        reader (`git cat-file`, which follows `git replace`) read a tag of a tree holding a
        plaintext `s.enc` as the tag of the empty tree that replaced it, "0 findings". Each tag is
        read once, whatever number of refs reach it (pass 23f: a chain of 2,000 tags, a ref to each,
        was 2 million reads, 26 s; 10,000, which anyone who can push tags sends in 1.5 MB, about 10
        minutes)."""
        chain = []
        while True:
            if binsha in self._peeled:
                found = self._peeled[binsha]
                break
            chain.append(binsha)
            stream = self._stream(repo, binsha)
            kind = stream.type.decode() if isinstance(stream.type, bytes) else str(stream.type)
            if kind != "tag":
                found = Peeled(kind, binsha)
                break
            first = stream.read(min(stream.size, 128)).split(b"\n", 1)[0]
            field, _, target = first.partition(b" ")
            if field != b"object":
                raise ValueError(f"tag {binsha.hex()} names no object")
            binsha = bytes.fromhex(target.decode("ascii", "replace"))
        self._peeled.update(dict.fromkeys(chain, found))
        return found

    def _open(self, repo: git.Repo) -> None:
        if self._partial is None:
            self._partial = _promisor_remote(repo)
            # gitdb reads loose objects, packs and alternates, and never fetches (git's readers
            # fetch what a partial clone lacks, one object each)
            self._objects = gitdb.GitDB(os.path.join(repo.common_dir, "objects"))

    def fetching(
        self, repo: git.Repo, items: Sequence[_Item], binsha: Callable[[_Item], bytes]
    ) -> Iterator[_Item]:
        """``items`` in order, each batch of ``FETCH_BATCH`` handed out once the blobs they name
        (``binsha`` of each) that a partial clone lacks are fetched (:meth:`fetch_missing`)."""
        for start in range(0, len(items), FETCH_BATCH):
            batch = items[start : start + FETCH_BATCH]
            self.fetch_missing(repo, [binsha(item) for item in batch])
            yield from batch

    def fetch_missing(self, repo: git.Repo, binshas: Sequence[bytes]) -> None:
        """In a partial clone (``git clone --filter``), fetch those of ``binshas`` it lacks from its
        promisor remote in one ``git fetch``, as git's own prefetch does, before they are read. Pass
        21g: each old version was fetched by git alone, one fetch each as it was read (300 tiny
        versions of one ``s.enc``: 13.5 s over file://; 30,000: ~20 min locally, hours over a
        network). :meth:`fetching` hands it at most ``FETCH_BATCH`` at once, so what is fetched past the budget is
        one batch. A fetch that fails is one line: the remote that would be asked for each object
        in turn does not answer."""
        self._open(repo)
        objects = self._objects
        if not self._partial or objects is None:
            return
        missing = [
            b
            for b in dict.fromkeys(binshas)
            if b not in self._fetched and not objects.has_object(b)
        ]
        if not missing:
            return
        args = ["git", "-c", "fetch.negotiationAlgorithm=noop", "fetch", "--no-tags"]
        args += ["--no-write-fetch-head", "--recurse-submodules=no", "--filter=blob:none"]
        args += ["--no-auto-gc", "--stdin", self._partial]  # a read-only audit starts no repack
        try:
            out = proctree.run(
                args,
                cwd=repo.git.working_dir,
                env={**no_repo_code(), **NO_PROMPT, "LANGUAGE": "C", "LC_ALL": "C"},
                timeout=LAZY_FETCH_TIMEOUT,
                stdin=b"".join(b.hex().encode() + b"\n" for b in missing),
                public_stdin=True,  # object ids
            )
        except subprocess.TimeoutExpired:
            said = f"no answer in {LAZY_FETCH_TIMEOUT:g} s"
        else:
            if out.returncode == 0:
                self._fetched.update(missing)
                objects.update_cache(force=True)  # the pack the fetch wrote
                return
            said = git_said(repo, git.GitCommandError(args, out.returncode, out.stderr))
        raise RepoError(
            f"{len(missing)} old version(s) of the files drift audits are missing from "
            f"{repo.working_dir}, a partial clone (git clone --filter), and its remote "
            f"{self._partial!r} did not send them ({said}); run drift again when it answers, or "
            "audit a clone made without --filter"
        )

    def objects(self, repo: git.Repo, shas: Sequence[str]) -> dict[str, bytes]:
        """The raw objects ``shas`` name, as stored (``git cat-file --batch``, replace refs ignored),
        held within the budget; a missing one is left out."""
        data = self.output(
            repo,
            "cat-file",
            "--batch",
            stdin="".join(f"{s}\n" for s in shas).encode(),
            # as stored, as the listing that named them: a `git replace` of the commit whose message
            # held a token gave the replacement's text for its id (pass 23c)
            env={"GIT_NO_REPLACE_OBJECTS": "1"},
        )
        found: dict[str, bytes] = {}
        at = 0
        while (eol := data.find(b"\n", at)) >= 0:
            header = data[at:eol].split()
            at = eol + 1
            if len(header) == 3 and header[2].isdigit():  # else `SHA missing`: nothing follows
                found[header[0].decode()] = data[at : at + int(header[2])]
                at += int(header[2]) + 1
        return found

    def output(
        self,
        repo: git.Repo,
        command: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        stdin: bytes = b"",
    ) -> bytes:
        """What ``git COMMAND ARGS`` prints (given ``stdin``), as ``repo.git`` runs it (its environment,
        ``LC_ALL=C``), read in pieces and counted against the budget: past it git is killed and
        the repo is one line. Pass 21g: git's own listings were held whole, unbounded: a tree of 20,000
        ``*.enc`` names (all one blob) and a second one, committed in turn 1,000 times (5 MB of objects),
        made `git log --raw` print 110 GB: drift died of a MemoryError at its 4 GB cap; a commit message
        of a repeated GB is a few MB in a pack. Raises ``git.GitCommandError`` as ``repo.git`` does."""
        argv = [git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", command, *args]
        full_env = {**os.environ, **repo.git.environment(), "LANGUAGE": "C", "LC_ALL": "C"}
        with tempfile.TemporaryFile() as errors, tempfile.TemporaryFile() as given:
            given.write(stdin)  # a file, not a pipe: git reads it while we read what it prints
            given.seek(0)
            proc = subprocess.Popen(
                argv,
                cwd=repo.working_dir,
                env={**full_env, **(env or {})},
                stdin=given,
                stdout=subprocess.PIPE,
                stderr=errors,
                preexec_fn=proctree.dies_with_us(),
            )
            assert proc.stdout is not None
            out = bytearray()
            try:
                while chunk := os.read(proc.stdout.fileno(), 1 << 20):
                    out += chunk
                    if len(out) > self.left:
                        raise RepoError(
                            f"history's listing (`git {command}`) is larger than the "
                            f"{HISTORY_BYTES // 1_000_000} MB drift audits (many commits, many files "
                            "changed at once, or long messages?); check that history with git "
                            "itself: `git log --all --stat`"
                        )
            except BaseException:
                proctree.kill_tree(proc.pid)
                raise
            finally:
                proc.stdout.close()
                proc.wait()
            self.left -= len(out)
            if proc.returncode != 0:
                errors.seek(0)
                raise git.GitCommandError(argv, proc.returncode, errors.read(1 << 16))
        return bytes(out)

    def git(
        self, repo: git.Repo, command: str, *args: str, env: Mapping[str, str] | None = None
    ) -> str:
        """What ``git COMMAND ARGS`` prints, as text (see :meth:`output`), the last newline dropped."""
        text = self.output(repo, command, *args, env=env).decode("utf-8", "surrogateescape")
        return text[:-1] if text.endswith("\n") else text


def _raw_blobs(
    repo: git.Repo, raw: str, limit: int, where: str, budget: HistoryBudget
) -> Iterator[tuple[str, bytes]]:
    """(path, blob) for each file a ``--raw --no-abbrev`` listing adds or changes (:func:`_raw_entries`),
    read with :func:`_head_and_tail`; in a partial clone, each batch's missing blobs fetched first in
    one fetch (:meth:`HistoryBudget.fetch_missing`)."""
    for path, binsha in budget.fetching(repo, _raw_entries(raw), lambda entry: entry[1]):
        yield path, _listed_blob(repo, binsha, path, limit, where, budget)


def _raw_entries(raw: str) -> list[tuple[str, bytes]]:
    """(path, blob id) for each file a ``--raw --no-abbrev`` listing adds or changes (symlinks and
    submodules have no content of their own)."""
    listed = []
    for line in raw.split("\n"):  # not splitlines: a path git prints unquoted may hold U+2028
        if not line.startswith(":") or "\t" not in line:
            continue
        fields, _, quoted = line.partition("\t")
        parts = fields.split()
        if len(parts) < 5 or parts[1] in ("120000", "160000"):
            continue
        listed.append((unquote_path(quoted), bytes.fromhex(parts[3])))
    return listed


def _listed_blob(
    repo: git.Repo, binsha: bytes, path: str, limit: int, where: str, budget: HistoryBudget
) -> bytes:
    try:
        return budget.blob(repo, binsha, limit)
    except ValueError:  # git has no such object: a partial clone whose remote is gone (pass 6)
        raise RepoError(
            f"cannot read {path} as {where}: the object is missing (a partial clone whose "
            "remote cannot be reached? fetch it, or clone without --filter)"
        ) from None


def _head_and_tail(stream, limit: int, tail: int = 1 << 16) -> bytes:
    """A blob whole when it holds at most ``limit`` bytes; else its whole lines within the first
    ``limit`` bytes and within the last ``tail`` bytes, joined (read through once, in bounded memory).
    For the history of ``.enc`` files: sops writes its metadata at the end, so a large ciphertext
    still shows it (it was read as "no sops metadata"); every line kept is a whole line."""
    head = stream.read(limit + 1)
    if len(head) <= limit:
        return head
    head, last = head[:limit], head[limit:]
    while chunk := stream.read(1 << 20):
        last = (last + chunk)[-tail:]
    cut = last.find(b"\n")
    return head[: head.rfind(b"\n") + 1] + (last[cut + 1 :] if cut >= 0 else b"")


EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git knows it without storing it

# different trees and notes commits that refs outside every commit point at, read one git process
# each, at most (pass 21g: 5,000 tags of one tree, a few hundred KB of packed-refs anyone who can push
# tags sends, held drift of one repo for 80 s: a million for hours)
OUTSIDE_LISTINGS = 1000


def outside_commits(
    repo: git.Repo,
    pathspecs: list[str],
    *,
    limit: int = 1 << 20,
    budget: HistoryBudget | None = None,
) -> list[tuple[str, str, bytes]]:
    """What refs hold outside every commit, which ``git log --all`` never walks: (ref, path, blob)
    for each file matching ``pathspecs`` in a tree a ref points at (``git tag snap TREE``, pushed
    with ``--tags``), and (ref, "", blob) for a ref to a blob. Tags of tags are followed; the
    stash is the user's local work (see :func:`_history_log`). Blobs are read up to ``limit``."""
    try:
        listing = repo.git.for_each_ref("--format=%(refname)%00%(objectname)")
    except git.GitCommandError as err:
        raise RepoError(f"cannot read refs: {git_said(repo, err)}") from None
    budget = budget or HistoryBudget()
    found: list[tuple[str, str, bytes]] = []
    # what each tree or notes commit holds, read once (one git process each), at most OUTSIDE_LISTINGS
    listed: dict[bytes, list[tuple[str, bytes]]] = {}
    for line in listing.splitlines():
        ref, _, sha = line.partition("\0")
        if ref == "refs/stash" or not sha:
            continue
        try:
            obj = budget.peeled(repo, bytes.fromhex(sha))
        except (ValueError, gitdb.exc.BadObject, gitdb.exc.BadName):
            continue  # a ref to a missing object: git itself reports that
        if obj.type == "blob":
            found.append((ref, "", budget.blob(repo, obj.binsha, limit, tail=False)))
        elif obj.type == "tree" or (obj.type == "commit" and ref.startswith("refs/notes/")):
            if obj.binsha not in listed:
                _outside_listing_allowed(len(listed))
                listed[obj.binsha] = _outside_listing(repo, ref, obj, pathspecs, limit, budget)
            found += [(ref, path, blob) for path, blob in listed[obj.binsha]]
    return found


def _outside_listing_allowed(listed: int) -> None:
    if listed >= OUTSIDE_LISTINGS:
        raise RepoError(
            f"refs outside every commit (tags of trees, notes refs) point at more than "
            f"{OUTSIDE_LISTINGS:,} different trees and notes, more than drift audits; check them "
            "with git itself: `git for-each-ref --format='%(objecttype) %(refname)'`"
        )


def _outside_listing(
    repo: git.Repo,
    ref: str,
    obj: Peeled,
    pathspecs: list[str],
    limit: int,
    budget: HistoryBudget,
) -> list[tuple[str, bytes]]:
    """(path, blob) of the files matching ``pathspecs`` in a tree ``ref`` points at, or ("", note) for
    each note of a notes commit."""
    if obj.type == "commit":
        # `git notes add -F .env`: each note is a blob named by the commit it annotates, never by
        # an env file's name, so the history scan's pathspecs pass it by (pass 10b)
        return [("", blob) for blob in _note_blobs(repo, obj.hexsha, limit, budget)]
    try:
        raw = budget.git(
            repo, "diff-tree", "-r", "--raw", "--no-abbrev", "--no-renames", EMPTY_TREE, obj.hexsha,
            "--", *pathspecs,
            env={"GIT_NO_REPLACE_OBJECTS": "1"},
        )  # fmt: skip
    except git.GitCommandError as err:
        raise RepoError(f"cannot read the tree {ref} points at: {git_said(repo, err)}") from None
    return list(_raw_blobs(repo, raw, limit, f"tagged by {ref}", budget))


def notes_refs_history(
    repo: git.Repo, pathspecs: list[str], budget: HistoryBudget | None = None
) -> list[tuple[str, str, str, str, bytes]]:
    """(notes ref, short sha, subject, path, blob) for every note ever added on a ``refs/notes/*`` ref's
    history: a note removed with `git notes remove` (or overwritten) stays there, and
    `git push origin 'refs/notes/*'` pushes that history (pass 13b)."""
    try:
        listing = repo.git.for_each_ref("--format=%(objectname) %(refname)", "refs/notes/")
    except git.GitCommandError as err:
        raise RepoError(f"cannot read refs: {git_said(repo, err)}") from None
    budget = budget or HistoryBudget()
    # each history read once (one `git log` each; pass 21g: 5,000 refs took minutes), at most
    # OUTSIDE_LISTINGS different ones
    read: dict[str, list[tuple[str, str, str, bytes]]] = {}
    out = []
    for sha, _, ref in (line.partition(" ") for line in listing.splitlines()):
        if sha not in read:
            _outside_listing_allowed(len(read))
            read[sha] = blobs_in_history(repo, pathspecs, revs=(ref,), budget=budget)
        out += [(ref, *found) for found in read[sha]]
    return out


def _note_blobs(repo: git.Repo, commit: str, limit: int, budget: HistoryBudget) -> list[bytes]:
    """The notes a notes ref holds now (the blobs of its commit's tree), each read up to ``limit``."""
    try:
        listing = budget.git(
            repo, "ls-tree", "-r", "--full-tree", commit, env={"GIT_NO_REPLACE_OBJECTS": "1"}
        )
    except git.GitCommandError as err:
        raise RepoError(f"cannot read the notes at {commit[:12]}: {git_said(repo, err)}") from None
    listed = []
    for line in listing.splitlines():
        meta, _, _path = line.partition("\t")
        parts = meta.split()
        if len(parts) == 3 and parts[1] == "blob":
            listed.append(bytes.fromhex(parts[2]))
    blobs = []
    for binsha in budget.fetching(repo, listed, lambda binsha: binsha):
        try:
            blobs.append(budget.blob(repo, binsha, limit, tail=False))
        except (ValueError, gitdb.exc.BadObject, gitdb.exc.BadName):
            continue
    return blobs


def init_repo(path: Path, branch: str, files: Mapping[str, bytes], message: str) -> None:
    """A new repository at ``path`` whose ``branch`` holds ``files`` (also written to its tree) in one commit."""
    try:
        repo = _quiet(git.Repo.init(path, mkdir=True, initial_branch=branch))
    except git.GitCommandError as err:
        raise RepoError(
            f"git init {path} failed: {' '.join(str(err.stderr).split())[:200]}"
        ) from None
    with repo:
        for name, data in files.items():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_bytes(data)
        try:
            repo.git.add("--", *files)
            repo.git.commit("-q", "--no-verify", "-m", message)
        except git.GitCommandError as err:
            text = " ".join(str(err.stderr).split())
            hint = (
                " (set git config user.name and user.email)"
                if "identity" in text or "name" in text
                else ""
            )
            raise RepoError(f"first commit in {path} failed: {text[:200]}{hint}") from None


CLONE_TIMEOUT = 1800.0  # seconds bootstrap's clone may take (sync's: remote.CLONE_TIMEOUT)


# git's traces record a transfer's whole URL (`run_command: git remote-http origin http://x:TOKEN@…`) to
# the file or stream they name, whether set in the environment or by the user's `trace2.*Target`
# config (measured with git 2.39: GIT_TRACE, GIT_TRACE2, GIT_TRACE2_EVENT, GIT_TRACE_CURL each wrote the
# token; the environment's "0" overrides the config). A clone given a credential runs untraced.
NO_TRACE = {
    name: "0"
    for name in (
        "GIT_TRACE",
        "GIT_TRACE2",
        "GIT_TRACE2_EVENT",
        "GIT_TRACE2_PERF",
        "GIT_TRACE_CURL",
        "GIT_TRACE_PACKET",
        "GIT_TRACE_PACKFILE",
        "GIT_TRACE_SETUP",
        "GIT_TRACE_PERFORMANCE",
    )
} | {"GIT_TRACE_REDACT": "1"}


def _no_credential_keepers(env: Mapping[str, str]) -> dict[str, str]:
    """The environment that keeps a clone's URL credential from the user's helpers and askpass.

    Pass 16c: git hands a URL's credential that worked to the user's credential helpers (`store`
    wrote it to ~/.git-credentials in plain text; `cache`, a keychain keep it), and erases one refused
    from them (the user's own stored login for that host with it): an empty helper, read last (after
    the config files, and after a `git -c credential.helper=…` above the tool), empties the list. A
    token given as the user name alone (`https://TOKEN@host/…`) and refused was handed to the user's
    askpass program (GIT_ASKPASS, core.askPass, SSH_ASKPASS: an editor's input box, a GUI dialog, its
    command line) in "Password for 'https://TOKEN@host'": GIT_ASKPASS set but empty asks none."""
    return {**config_env(env, (("credential.helper", ""),)), "GIT_ASKPASS": ""}


# pass 20b (13.7): the credential of a curl transport's URL, given to git by a credential helper that
# reads it from the environment, for the URL's own protocol and host only: rewritten back into the URL
# (`url.<whole>.insteadOf`), it was on the command line of git's transport helper (`git remote-https
# origin https://x:TOKEN@…`), which `ps` shows every user of the machine for as long as the clone runs
_CLONE_HELPER = (
    '!f() { test "$1" = get || return 0; p=; h=; '
    "while IFS= read -r line; do "
    'test "$line" = "protocol=$JUNIPER_ROLLOUT_CLONE_PROTOCOL" && p=1; '
    'test "$line" = "host=$JUNIPER_ROLLOUT_CLONE_HOST" && h=1; '
    "done; "
    'test -n "$p" && test -n "$h" || return 0; '
    "printf 'username=%s\\npassword=%s\\n' \"$JUNIPER_ROLLOUT_CLONE_USER\" "
    '"$JUNIPER_ROLLOUT_CLONE_PASSWORD"; }; f'
)


def _by_credential_helper(
    url: str, stored: str
) -> Callable[[Mapping[str, str]], dict[str, str]] | None:
    """For a curl transport's URL (http, https, ftp, ftps) whose only credential is its user-info:
    the environment (given the clone's, its helpers emptied) that hands it to git through
    ``_CLONE_HELPER``; None for any other URL (a query-string token travels in the URL)."""
    from urllib.parse import unquote, urlsplit

    if "::" in stored.partition("://")[0] or query(url) or stored != strip_userinfo(stored):
        return None
    try:
        parts = urlsplit(stored)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https", "ftp", "ftps") or not parts.netloc:
        return None
    user, _, password = userinfo(url).partition(":")

    def environment(env: Mapping[str, str]) -> dict[str, str]:
        return {
            **config_env(env, (("credential.helper", _CLONE_HELPER),)),
            "JUNIPER_ROLLOUT_CLONE_PROTOCOL": parts.scheme.lower(),
            "JUNIPER_ROLLOUT_CLONE_HOST": parts.netloc,
            "JUNIPER_ROLLOUT_CLONE_USER": unquote(user),
            "JUNIPER_ROLLOUT_CLONE_PASSWORD": unquote(password),
        }

    return environment


def clone_repo(url: str, path: Path) -> None:
    """``git clone url path``; git's own protocol rules (GIT_ALLOW_PROTOCOL) apply.

    A credential in the URL (user-info, or a ``?token=`` query) is used for this clone only and
    never written: git clones the stripped URL, rewritten back to the whole one for the transfer by
    an ``url.<whole>.insteadOf`` given through the environment (``GIT_CONFIG_COUNT``), so neither
    the clone's ``.git/config`` nor the command line holds it."""
    # no prompt, no stall; no hook of the clone's (a global `core.hooksPath = .githooks` is the new
    # clone's own folder: its post-checkout ran, the URL's credential in its environment; pass 20b)
    stored, env = strip_userinfo(url), {**no_repo_code(), **network_git_env()}
    if re.search(r"[\x00-\x1f\x7f]", url):
        # pass 16c: urllib drops a newline or tab from a URL, git does not: a token holding one was
        # printed whole in git's "invalid key (newline): url.http://x:TOKEN….insteadOf", unredacted
        raise RepoError(
            f"git clone {stored} refused: the URL holds a control character (a line break or tab "
            "pasted with it?); nothing cloned: pass the URL on one line"
        )
    try:
        git.Git.check_unsafe_protocols(stored)
        git.Git.check_unsafe_protocols(url)
    except git.UnsafeProtocolError as err:
        raise RepoError(f"git clone {stored} failed: {redact(str(err), url)[:200]}") from None
    if stored != url:
        # a login name alone (`https://jane@bitbucket.org/…`) gets its password from the user's helper
        login_only = names_a_login_only(url)
        by_helper = None if login_only else _by_credential_helper(url, stored)
        if by_helper is None:
            env.update(config_env(env, ((f"url.{url}.insteadOf", stored),)))
        env.update(NO_TRACE)
        env.pop("GIT_CURL_VERBOSE", None)
        if not login_only:
            env.update(_no_credential_keepers(env))
            if by_helper is not None:
                env.update(by_helper(env))
    # git's transport helper (`git remote-https origin URL`) holds the whole URL on its command line:
    # in a session of its own, the clone and its helpers are killed with it when bootstrap stops (a
    # SIGTERM left them running for ever against a server that never answered, token in `ps`; pass 11b)
    proc = subprocess.Popen(
        ["git", "clone", "-q", "--", stored, str(path)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
        # pass 19a: and it dies with the tool: `kill -9` of bootstrap left git clone waiting on a
        # silent git:// server for ever (reparented to PID 1, the URL's token in its environment)
        preexec_fn=proctree.dies_with_us(),
    )
    try:
        _, said = proc.communicate(timeout=CLONE_TIMEOUT)
    except BaseException as err:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if isinstance(err, subprocess.TimeoutExpired):  # pass 16a: a silent git:// or ssh:// server
            raise RepoError(  # held bootstrap for ever (http has git's low-speed limit)
                f"git clone {strip_userinfo(url)} did not finish in {CLONE_TIMEOUT:g} s (the remote "
                "stopped answering?); check the URL and the connection, then run it again"
            ) from None
        raise
    if proc.returncode != 0:
        text = redact(" ".join(said.decode("utf-8", "replace").split()), url)
        raise RepoError(f"git clone {strip_userinfo(url)} failed: {text[:200]}")


# --- in-process reads for the review loop (remote.py asks git itself when these answer None) ------


def linear_chain(
    repo: git.Repo, ancestor: str, tip: str, limit: int = 100
) -> list[git.Commit] | None:
    """The commits from ``tip`` down to ``ancestor`` (excluded), newest first, when ``tip`` reaches it
    through at most ``limit`` single-parent commits (a rollout branch: the tool's commits on its base);
    ``[]`` when they are the same commit. None when it cannot tell that way (a merge commit, the root,
    a longer way, an object missing): then ask git."""
    chain: list[git.Commit] = []
    try:
        commit = repo.commit(tip)
        for _ in range(limit):
            if commit.hexsha == ancestor:
                return chain
            if len(commit.parents) != 1:
                return None
            chain.append(commit)
            commit = commit.parents[0]
    except (ValueError, git.BadName, git.BadObject, OSError):
        return None
    return None


def changed_paths(repo: git.Repo, old: git.Tree, new: git.Tree) -> list[tuple[str, str]]:
    """(path, A/M/D/T) for each file that differs between two trees, as ``git diff --no-renames
    --name-status`` says it (a mode change is M, a change of kind, e.g. file to symlink, is T; a file
    replaced by a directory is D and the directory's files A). Only directories whose ids differ are
    read."""
    out: list[tuple[str, str]] = []

    def kind(mode: int) -> int:
        return mode if mode in (LINK_MODE, SUBMODULE_MODE) else BLOB_MODE

    def walk(prefix: str, a: bytes | None, b: bytes | None) -> None:
        # git's tree order: a directory sorts as its name with a slash, so a file and a directory of
        # the same name are two entries (the file is deleted or added, the directory's files too)
        both: dict[bytes, list] = {}
        for side, tree in ((0, a), (1, b)):
            for name, (sha, mode) in _tree_entries(repo, tree).items():
                key = _name_bytes(name) + (b"/" if mode == TREE_MODE else b"")
                both.setdefault(key, [name, None, None])[side + 1] = (sha, mode)
        for key in sorted(both):
            name, left, right = both[key]
            if left == right:
                continue
            if key.endswith(b"/"):
                walk(prefix + name + "/", left and left[0], right and right[0])
            elif left is None:
                out.append((prefix + name, "A"))
            elif right is None:
                out.append((prefix + name, "D"))
            else:
                out.append((prefix + name, "M" if kind(left[1]) == kind(right[1]) else "T"))

    walk("", old.binsha, new.binsha)
    return out


def _tree_entries(repo: git.Repo, binsha: bytes | None) -> dict[str, tuple[bytes, int]]:
    """name -> (id, mode) of one tree object, read in-process; {} for None."""
    if binsha is None:
        return {}
    return {name: (sha, mode) for sha, mode, name in git.Tree(repo, binsha, TREE_MODE, "")._cache}
