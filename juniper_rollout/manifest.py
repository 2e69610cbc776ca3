"""Load and validate ``manifests/repos.yaml`` into frozen dataclasses.

Every problem is a :class:`ManifestError` reading ``FILE:LINE: what is wrong (how to fix)``.
The schema is data (``_REPO_KEYS`` and friends), checked in one pass with line numbers.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from juniper_rollout import agekey
from juniper_rollout.envfiles import DEFAULT as DEFAULT_ENV_FILES
from juniper_rollout.envfiles import EnvFiles, check_glob
from juniper_rollout.errors import ManifestError
from juniper_rollout.fleetspec import (  # the data a loaded manifest is: fleetspec.py
    AGENTS_MODES,
    ENV_NAME,
    ENV_POLICIES,
    ENV_SOURCES,
    GUIDE_TEMPLATE,
    HOOK_MODES,
    PLACEHOLDER_HINT,
    POLICIES,
    REPO_NAME,
    SOPS_ROLLOUT,
    EncryptSpec,
    EnvGroup,
    EnvVarSpec,
    FileSpec,
    Manifest,
    PullRequestSpec,
    RepoSpec,
    _as_tuple,
    _kind,
    _kind_name,
    _plain,
    default_templates_dir,
    guide_location,
)
from juniper_rollout.paths import (
    AGENTS,
    GITIGNORE,
    NAME_MAX,
    PRECOMMIT,
    PUSH_RECORDS,
    SOPS_CONFIG,
    base_clash,
    case_clash,
    case_clash_words,
    expand_home,
    fold,
    read_open,
    too_long,
)
from juniper_rollout.secretshape import (
    carries_credential,
    holds_full_token,
    holds_issued_token,
    looks_secret,
)
from juniper_rollout.urls import is_loopback, is_slug, runs_a_command, strip_userinfo
from juniper_rollout.wording import clip
from juniper_rollout.yamlio import (
    MAX_YAML_BYTES,
    YamlSyntaxError,
    first_alias_line,
    load_with_lines,
)

# remote names whose remote-tracking branches (refs/remotes/NAME/…) a rollout branch NAME/… would shadow
REMOTE_NAMESPACES = ("origin", "upstream", "remotes")
# git reads `heads/main` as refs/heads/main and `tags/v1` as refs/tags/v1 before refs/heads/<name> (pass 6)
GIT_NAMESPACES = ("heads/", "tags/", "notes/")
# and the namespaces git keeps for itself under refs/ (pass 10b: `branch: stash` made `git log stash`
# show the user's stash, `bisect/bad` git's bisect ref, not the rollout branch)
GIT_OWN = ("stash/", "bisect/", "replace/", "original/", "rewritten/", "worktree/", "prefetch/")
# and the tool's own records of its pushes (under refs/): git reads `juniper-rollout/pushed/x` as
# that record before refs/heads/… (pass 23c)
TOOL_OWN = PUSH_RECORDS
# and the files git keeps under .git that hold an object id: git's DWIM reads $GIT_DIR/NAME as a ref
# before refs/heads/NAME, and worktrees/ID/HEAD, main-worktree/HEAD as those worktrees' HEADs (pass 13b:
# `branch: logs/HEAD` was created, then `verify --ref logs/HEAD` said "not found": git read the reflog)
GIT_DIR_FILES = (
    "logs/",
    "worktrees/",
    "main-worktree/",
    "shallow/",
    "sequencer/",
    "rebase-merge/",
    "rebase-apply/",
    # pass 14b: `.git/info/refs` (`oid<TAB>ref` lines `git gc` writes in every clone: `verify --ref
    # info/refs` checked main), a submodule's git dir `.git/modules/NAME/` (its HEAD, refs, logs) and
    # `git fsck --lost-found`'s `.git/lost-found/commit/OID`
    "info/",
    "modules/",
    "lost-found/",
)
# the files git itself writes at the top of .git that it reads as refs (refs.c, git 2.39)
GIT_PSEUDOREFS = frozenset(
    (
        "HEAD",
        "FETCH_HEAD",
        "ORIG_HEAD",
        "MERGE_HEAD",
        "CHERRY_PICK_HEAD",
        "REVERT_HEAD",
        "BISECT_HEAD",
        "REBASE_HEAD",
        "AUTO_MERGE",
        "BISECT_EXPECTED_REV",
        "NOTES_MERGE_PARTIAL",
        "NOTES_MERGE_REF",
        "MERGE_AUTOSTASH",
    )
)
_SHADOWED = {
    "refs/": "a full ref name",
    "heads/": "the branch of that name (git reads heads/X as refs/heads/X first)",
    "tags/": "the tag of that name (git reads tags/X as refs/tags/X first)",
    "notes/": "git's notes of that name (git reads notes/X as refs/notes/X first)",
    TOOL_OWN: "the tool's record of a push of that name (git reads refs/juniper-rollout/pushed/X "
    "first: `git log X` and `rollout verify --ref X` read the record, not the branch)",
}

# --- reading nodes with their lines -------------------------------------------------


def _line_of(node: Any, position: Any) -> int | None:
    """The 1-based line ruamel kept for a key or item of ``node``, else the node's own line, else None."""
    try:
        return position(node.lc)[0] + 1
    except (
        AttributeError,
        KeyError,
        IndexError,
        TypeError,
    ):  # not a ruamel node, or no position kept
        return node.lc.line + 1 if hasattr(node, "lc") else None


class _Reader:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, line: int | None, message: str) -> ManifestError:
        return ManifestError(self.file, line, message)

    @staticmethod
    def key_line(node: Any, key: str) -> int | None:
        return _line_of(node, lambda lc: lc.key(key))

    @staticmethod
    def item_line(node: Any, index: int) -> int | None:
        return _line_of(node, lambda lc: lc.item(index))

    def mapping(self, node: Any, where: str, line: int | None, allowed: Mapping[str, Any]) -> dict:
        if not isinstance(node, dict):
            raise self.fail(line, f"{where} must be a mapping, not {_kind(node)}")
        for key in node:
            if key not in allowed:
                raise self.fail(
                    self.key_line(node, key),
                    f"unknown key {key!r} in {where} (allowed: {', '.join(allowed)})",
                )
        return node

    def shaped(
        self, node: Any, what: str, line: int | None, keys: Mapping[str, Any], where: str
    ) -> dict:
        """``node`` as a mapping of only ``keys``, each value of its kind (errors say ``where.key``)."""
        self.mapping(node, what, line, keys)
        for key, kind in keys.items():
            self.typed(node, key, kind, where)
        return node

    def required(self, node: dict, keys: tuple[str, ...], what: str, line: int | None) -> None:
        for key in keys:
            if key not in node:
                raise self.fail(line, f"{what} needs `{key}`")

    def typed(
        self, node: Any, key: str, kind: type | tuple, where: str, default: Any = None
    ) -> Any:
        if key not in node:
            return default
        value = node[key]
        wrong_bool = isinstance(value, bool) and bool not in _as_tuple(kind)
        if not isinstance(value, kind) or wrong_bool:
            raise self.fail(
                self.key_line(node, key),
                f"{where}.{key} must be {_kind_name(kind)}, not {_kind(value)}",
            )
        if (
            key == "commit_message"
            and isinstance(value, str)
            and (bad := re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", value))
        ):
            # pass 10a: a NUL was written into the commit (git fsck: nulInCommit); pass 11a: the C1
            # controls too (U+009B is CSI to a terminal reading UTF-8, in `git log`)
            raise self.fail(
                self.key_line(node, key),
                f"{where}.{key} holds the control character {bad.group()!r}: a commit message is "
                "text (only line breaks and tabs)",
            )
        if key == "commit_message" and isinstance(value, str) and not value.split("\n")[0].strip():
            # pass 13a: "" was committed with an empty subject, and `pr` then failed with
            # "unexpected IndexError; please report this" (the title is the first line)
            raise self.fail(
                self.key_line(node, key),
                f"{where}.{key} must start with a subject line (its first line is empty): the first "
                "line is the commit's subject and the pull request's title",
            )
        return value

    def choice(
        self, node: Any, key: str, choices: tuple[str, ...], where: str, default: str
    ) -> str:
        value = self.typed(node, key, str, where, default)
        if value not in choices:
            raise self.fail(
                self.key_line(node, key),
                f"{where}.{key} is {value!r}; use one of: {', '.join(choices)}",
            )
        return value


# --- validation of the pieces ----------------------------------------------------------


def safe_repo_path(value: str, *, new: bool = True) -> str | None:
    """None when ``value`` is a clean relative POSIX path inside a repo; else why not. A path the repo
    already holds (``new=False``: a tracked plaintext env file a saved plan deletes) need not be one
    every file system can check out (pass 24c: `a\\nb/.env.prod`, tracked, made every saved plan
    "damaged … run plan again", though apply deletes it)."""
    if not value or value.strip() != value:
        return "is empty or has surrounding spaces"
    if "\\" in value or "\0" in value:
        return "must use '/' and no backslashes or NUL bytes"
    pure = PurePosixPath(value)
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", value):
        return "is absolute; give a path relative to the repository root"
    if (
        any(part in ("..", ".") for part in value.split("/"))
        or "//" in value
        or value.endswith("/")
    ):
        return "must stay inside the repository (no '..', '.', empty parts or trailing '/')"
    if any(_is_dotgit(part) for part in pure.parts):
        return "points into a .git folder (git reads .GIT, '.git.' and 'git~1' as .git on some filesystems)"
    if not new:
        return None
    if re.search("[\udc80-\udcff]", value):  # a path git stores, kept by a saved plan for deletes
        # pass 24f: since 24c a saved plan may spell such bytes, and a hand-edited one created a
        # file `a\xffb.txt` on the branch (macOS and Windows check out UTF-8 names only)
        return "holds a byte no UTF-8 decodes: macOS and Windows cannot check such a file out"
    # pass 10a: a name no file system holds was committed, and the branch then checked out nowhere
    longest = max(len(part.encode("utf-8", "surrogateescape")) for part in pure.parts)
    if longest > NAME_MAX:
        return (
            f"has a name of {longest} bytes: no file system takes more than {NAME_MAX} (git "
            "cannot check such a file out; shorten it)"
        )
    windows = _windows_problem(pure.parts)
    if windows:  # the branch could not be checked out there, nor main once it is merged (pass 6)
        return f"{windows}: git on Windows cannot check such a file out (rename it)"
    return None


_WINDOWS_RESERVED = re.compile(r"(?i)CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]")


def _windows_problem(parts: tuple[str, ...]) -> str | None:
    """What makes a path impossible on Windows (as git for Windows checks it), or None."""
    for part in parts:
        bad = sorted({c for c in part if c in '<>:"|?*' or ord(c) < 32})
        if bad:
            return f"holds {''.join(bad)!r}"
        if part.endswith((".", " ")):
            return f"has a name ending in a dot or a space ({part!r})"
        if _WINDOWS_RESERVED.fullmatch(part.split(".")[0].rstrip(" ")):  # CON, nul.tar.gz, COM1.txt
            return f"uses the reserved device name {part!r}"
    return None


# pass 20b: `rollout bootstrap "$GITHUB_TOKEN" --url …` (the arguments swapped) took the token for the
# repository's name: written into the manifest, the clone's folder name, every line printed
CREDENTIAL_NAME = (
    "a repository name shaped like a token (a known prefix at its issued length); not shown: a "
    "pasted secret? give the repository's name (and rotate that credential if it was shared)"
)


def plaintext_env_path(env_files: EnvFiles, path: str) -> str | None:
    """Why the tool must not write ``path`` (None: it may): a plaintext env file by the manifest's definition."""
    if not env_files.is_plaintext_in_any_case(path):
        return None
    return (
        f"{path} is a plaintext env file (defaults.plaintext_env): the tool never commits one, and git "
        "would overwrite the ignored copy in every clone on the next pull; name it like "
        f"{path}.example, or change defaults.plaintext_env"
    )


def _is_dotgit(part: str) -> bool:
    """``.git`` as git's ``is_ntfs_dotgit``/``is_hfs_dotgit`` checks see it: any case, trailing dots and
    spaces, the 8.3 short name ``git~1``."""
    name = part.split(":", 1)[0]  # NTFS: '.git::$INDEX_ALLOCATION' is the .git folder itself
    name = "".join(c for c in name if not _HFS_IGNORED(c))  # HFS+: '.g\u200cit' is '.git'
    name = name.lower().rstrip(". ")
    return name in (".git", "git~1")


def _HFS_IGNORED(char: str) -> bool:  # noqa: N802 (a predicate over git's table, is_hfs_dotgit in utf8.c)
    code = ord(char)
    return (
        code in (0x200C, 0x200D, 0x200E, 0x200F, 0xFEFF)
        or 0x202A <= code <= 0x202E
        or 0x206A <= code <= 0x206F
    )


_DEFAULTS_KEYS = {
    "base": str,
    "branch": str,
    "commit_message": str,
    "age_recipients": list,
    "precommit_hook": str,
    "agents_md": str,
    "usage_guide": str,
    "plaintext_env": dict,
    "data_key_rotated": str,
    "pull_request": dict,
    "files": list,
}
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_PLAINTEXT_ENV_KEYS = {"include": list, "exclude": list}
_TOP_KEYS = {
    "version": int,
    "workspace": str,
    "templates": str,
    "defaults": dict,
    "repos": list,
    "forge": dict,
    "rollouts": dict,
}
_FORGE_KEYS = {"api_url": str}
_PULL_REQUEST_KEYS = {"title": str, "body": str, "labels": list, "reviewers": list}
_REPO_KEYS = {
    "name": str,
    "path": str,
    "url": str,
    "base": str,
    "branch": str,
    "commit_message": str,
    "sops_yaml": bool,
    "gitignore": bool,
    "precommit_hook": str,
    "agents_md": str,
    "env_example": dict,
    "env_secrets_example": dict,
    "files": list,
    "encrypt": list,
    "github": str,
    "skip_files": list,
    "rollouts": dict,
}
_ENV_EXAMPLE_KEYS = {"groups": list, "policy": str, "from": str, "include": list, "exclude": list}
_GROUP_KEYS = {"title": str, "vars": list}
_FILE_KEYS = {
    "path": str,
    "template": str,
    "policy": str,
    "vars": dict,
    "kind": str,
    "when": dict,
    "key": str,
    "match": (str, list),
    "create": str,
}
_ENCRYPT_KEYS = {"source": str, "target": str, "enabled": bool}

DEFAULT_COMMIT_MESSAGE = "chore: manage secrets with SOPS + age"


def load_manifest(
    path: Path,
    *,
    workspace: Path | None = None,
    env: Mapping[str, str] | None = None,
    require_recipients: bool = True,
    rollout: str | None = None,
    templates: bool = True,
) -> Manifest:
    """Read and validate the manifest; ``--workspace`` beats ``$JUNIPER_WORKSPACE`` beats the file.

    ``rollout`` names the rollout to build repo specs for (None: the SOPS one, the default).
    ``templates=False``: the templates are not rendered for every repo at load (for the commands that
    render nothing: sync, pr, status, cleanup; the ones that render check them first)."""
    env = os.environ if env is None else env
    file = str(path)
    text = read_manifest_text(path)
    try:
        alias_line = first_alias_line(text)
        if alias_line:
            raise ManifestError(
                file,
                alias_line,
                "YAML aliases are not allowed in the manifest (write the values out)",
            )
        data = load_with_lines(text)
    except YamlSyntaxError as err:
        raise ManifestError(file, err.line, f"invalid YAML: {err} (fix the syntax)") from None
    try:
        manifest = _Validator(
            path, env, workspace, require_recipients, rollout or SOPS_ROLLOUT, templates
        ).manifest(data)
    except RecursionError:
        raise ManifestError(
            file, None, "invalid YAML: nested too deeply (fix the manifest)"
        ) from None
    from juniper_rollout.render import AGE_KEY  # late: render uses manifest types

    # pass 16b: the texts the tool writes that the leak guard does not read (it reads files): a
    # private key in commit_message was committed (and pushed, and made a pull request's title)
    written = [r.commit_message for r in manifest.repos]
    written += [manifest.pull_request.title or "", manifest.pull_request.body]
    held = next((m for w in written if (m := AGE_KEY.search(w.encode("utf-8", "replace")))), None)
    if held:
        at = text.encode("utf-8", "surrogatepass").find(held.group())
        raise ManifestError(
            file,
            text.encode("utf-8", "surrogatepass").count(b"\n", 0, at) + 1 if at >= 0 else None,
            "a commit message or pull request text holds a private key (AGE-SECRET-KEY-1…, or an "
            "SSH/PEM one sops takes as an age identity): the tool would commit and push it; remove "
            "it, and if this file was committed or shared, make a new key (`rollout keygen`) and "
            "rotate to it",
        )
    # pass 25e: and the names it prints, commits and pushes: a branch, a base, a file's path, an
    # `encrypt:` file holding a token or the age key was printed in every plan line and pushed as a ref
    # name or committed as a path to every repo
    # (and the rollout's name, each commit's `Rollout-Name:` line)
    named = [n for r in manifest.repos for n in (r.branch, r.base, r.rollout)]
    named += [f.path for r in manifest.repos for f in r.files]
    named += [n for r in manifest.repos for e in r.encrypt for n in (e.source, e.target)]
    _refuse_held(
        named,
        holds_full_token,
        (file, text),
        "a branch name or a file path holds a private key or a token: the tool would print it, "
        "commit it and push it; remove it, and rotate it if this file was committed or shared",
    )
    # pass 18b: and a token or a URL's password (`commit_message: "… token ghp_…"`): committed to
    # every repo, pushed, made a pull request's title; as the files the tool writes refuse them
    # (pass 25h: a token at its issued length, not its prefix: "secrets for hf_transformers" is prose)
    _refuse_held(
        written,
        holds_full_token,
        (file, text),
        "a commit message or pull request text holds a credential (a token, a URL with a "
        "password): the tool would commit and push it; remove it, and rotate it if this file was "
        "committed or shared",
    )
    # pass 25h: and every other text of the manifest (a group's title written into .env.example, a
    # file's `vars:` rendered into it, a plaintext_env pattern written into .gitignore and .sops.yaml):
    # a token there was printed in the plan's diff and committed (a `url:`'s user-info is refused
    # before: "holds credentials")
    _refuse_held(
        _manifest_strings(data),
        holds_issued_token,
        (file, text),
        "the manifest holds a token (a known token at its issued length): the tool would print "
        "it and commit it; remove it, and rotate it if this file was committed or shared",
    )
    return manifest


def _refuse_held(
    texts: Iterable[str], held: Callable[[str], bool], where: tuple[str, str], message: str
) -> None:
    """``message`` at the first manifest line ``held`` is true of, when it is of any of ``texts``
    (never the text itself: it holds a credential)."""
    if any(held(t) for t in texts):
        file, text = where
        at_line = next((n for n, t in enumerate(text.splitlines(), 1) if held(t)), None)
        raise ManifestError(file, at_line, message)


def _manifest_strings(node: Any) -> Iterator[str]:
    """Every key and text of the loaded manifest."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield str(key)
            yield from _manifest_strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _manifest_strings(item)
    elif isinstance(node, str):
        yield node


_NOT_REGULAR = "not a regular file (a folder, FIFO, socket or device?); pass the manifest file"


def read_manifest_text(path: Path) -> str:
    """The manifest's text: a regular file (a FIFO or device would hang or never end), read up to the limit."""
    file = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ManifestError(file, None, "manifest not found (pass --manifest FILE)") from None
    except OSError as err:
        if err.errno == errno.ENXIO:  # a socket cannot be opened: "No such device or address"
            raise ManifestError(file, None, _NOT_REGULAR) from None
        raise ManifestError(file, None, f"cannot read manifest: {err.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ManifestError(file, None, _NOT_REGULAR)
        data = read_open(fd, MAX_YAML_BYTES + 1)
    except OSError as err:
        raise ManifestError(file, None, f"cannot read manifest: {err.strerror}") from None
    if len(data) > MAX_YAML_BYTES:
        raise ManifestError(
            file,
            None,
            f"manifest is larger than {MAX_YAML_BYTES // 1_000_000} MB (pass the right file)",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ManifestError(file, None, "manifest is not UTF-8 text (save it as UTF-8)") from None


def _git_folder(path: Path) -> str:
    """Where the clone at ``path`` keeps its git folder, every symlink on the way followed (pass 20e: a
    workspace entry's folder is not resolved like a `path:`, so `fleet/ml-link -> juniper-ml` was a
    second entry on one clone, and each entry's rebuild replaced the other's commit on one branch; a
    `.git` that is a symlink to another clone's is that clone too)."""
    return os.path.realpath(path / ".git")


def _clone_keys(path: Path) -> tuple[str, ...]:
    """The names under which the clone at ``path`` is one clone: its git folder's path (symlinks
    followed, case folded), and, when it exists, the folder itself as the file system knows it (pass
    20h: a bind mount, as a container or devcontainer makes, shows one clone at a second path that no
    symlink leads to, and two entries on it each rebuilt the one branch without the other's commit)."""
    keys = [_one_folder(_git_folder(path))]
    try:
        found = os.stat(path / ".git")
    except OSError:  # no clone there yet (sync clones it): its path is all there is
        return tuple(keys)
    keys.append(f"inode:{found.st_dev}:{found.st_ino}")
    return tuple(keys)


def _one_folder(name: str) -> str:
    """``name`` as a case-insensitive file system tells folders apart: letter case folded, and one
    Unicode form (pass 18a: `café` typed precomposed and decomposed is one folder on macOS, and was
    two manifest entries on one clone)."""
    return unicodedata.normalize("NFC", name).casefold()


class _Validator(_Reader):
    def __init__(
        self,
        path: Path,
        env: Mapping[str, str],
        workspace: Path | None,
        require_recipients: bool,
        rollout: str = SOPS_ROLLOUT,
        templates: bool = True,
    ):
        super().__init__(str(path))
        self.templates = templates
        self.rollout = rollout
        self.path = path
        self.env = env
        self.workspace_override = workspace
        self.require_recipients = require_recipients

    def manifest(self, data: Any) -> Manifest:
        top = self.shaped(data, "the manifest", 1, _TOP_KEYS, "manifest")
        if top.get("version") != 1:
            # pass 29f's note: `version: 2` was told to add a version line it already had
            raise self.fail(
                self.key_line(top, "version") if "version" in top else 1,
                "version must be 1 (make that line `version: 1`)"
                if "version" in top
                else "version must be 1 (add `version: 1` at the top)",
            )
        here = self.path.resolve().parent
        workspace = self._workspace(top, here)
        templates_dir = (here / top["templates"]) if "templates" in top else default_templates_dir()
        if "\0" in str(templates_dir):  # pass 7: "ValueError: embedded null byte", a traceback
            raise self.fail(
                self.key_line(top, "templates"),
                f"templates {str(top['templates'])!r} holds a NUL byte (no path can)",
            )
        if "templates" in top:
            self._not_too_long(templates_dir, "templates", self.key_line(top, "templates"))
        from juniper_rollout import rollouts  # late: rollouts builds on this module's types

        self.named = rollouts.parse(self, top.get("rollouts") or {}, self.key_line(top, "rollouts"))
        if self.rollout != SOPS_ROLLOUT and self.rollout not in self.named:
            raise self.fail(
                None,
                f"no rollout named {self.rollout!r} in the manifest "
                f"(known: {', '.join((SOPS_ROLLOUT, *self.named))}; add it under `rollouts:`)",
            )
        self.needs_key = rollouts.needs_key(self.named, self.rollout, top.get("repos"))
        defaults = self._defaults(top.get("defaults") or {}, self.key_line(top, "defaults"))
        if "repos" not in top:
            raise self.fail(1, "no `repos:` list (add the repositories to manage)")
        sops_repos = repos = self._repos(
            top["repos"], defaults, workspace, self.key_line(top, "repos")
        )
        if self.rollout != SOPS_ROLLOUT:
            repos = rollouts.repo_specs(self, self.named[self.rollout], top["repos"], repos)
        manifest = Manifest(
            path=self.path,
            workspace=workspace,
            templates=templates_dir,
            recipients=defaults["age_recipients"],
            usage_guide=defaults["usage_guide"],
            repos=repos,
            env_files=defaults["plaintext_env"],
            data_key_rotated=defaults["data_key_rotated"],
            forge_api_url=self._forge(top.get("forge") or {}, self.key_line(top, "forge")),
            # another rollout's pull requests keep the fleet's labels and reviewers; title and body are its own
            pull_request=defaults["pull_request"]
            if self.rollout == SOPS_ROLLOUT
            else PullRequestSpec(
                labels=defaults["pull_request"].labels, reviewers=defaults["pull_request"].reviewers
            ),
            rollout=self.rollout,
            rollouts=(SOPS_ROLLOUT, *self.named),
            opted_out=tuple(sorted({r.name for r in sops_repos} - {r.name for r in repos})),
            guarded=sops_repos,
            given_workspace=self.workspace_override,
        )
        self._check_usage_guide(top.get("defaults") or {}, manifest)
        self._no_plaintext_env_paths(manifest)
        if self.templates:
            from juniper_rollout.render import check_templates  # late: render uses manifest types

            check_templates(manifest)
            rollouts.check_template_names(manifest, self.named)
        return manifest

    def _no_plaintext_env_paths(self, manifest: Manifest) -> None:
        """A rendered file never has the name of a plaintext env file (pass 6): committed, it is what the
        hook forbids, and git overwrites an ignored file on checkout, so the next `git pull` after the
        merge would replace the plaintext `.env` in every clone."""
        for repo in manifest.repos:
            for spec in repo.files:
                why = plaintext_env_path(manifest.env_files, spec.path)
                if why:
                    raise self.fail(spec.line, f"repo {repo.name}: {why}")
                if spec.path.lower().endswith(".enc"):  # pass 16b: rendered text under a sops name
                    raise self.fail(
                        spec.line,
                        f"repo {repo.name}: {spec.path} is named like a sops-encrypted file (.enc): a "
                        "rendered file is plaintext, which the managed require-sops-encrypted hook "
                        "refuses and verify and drift take for a leak; encrypt a file with `encrypt:` "
                        "(source and target), or give this one another name",
                    )

    def _check_usage_guide(self, defaults: Any, manifest: Manifest) -> None:
        """An explicit ``usage_guide`` naming a repo of this manifest must be where that repo renders the guide."""
        given = manifest.usage_guide
        if not given or "/" not in given:
            return
        host, _, path = given.partition("/")
        repo = next((r for r in manifest.repos if r.name == host), None)
        if repo is None:
            return
        rendered = [f.path for f in repo.files if f.template == GUIDE_TEMPLATE]
        if path not in rendered:
            found = guide_location(manifest)
            where = f"{found[0]}/{found[1]}" if found else "nowhere"
            raise self.fail(
                self.key_line(defaults, "usage_guide"),
                f"defaults.usage_guide is {given}, but {host} renders no guide there (the guide is "
                f"rendered at {where}): remove usage_guide to derive it, or fix it",
            )

    def _workspace(self, top: Mapping, here: Path) -> Path:
        if self.workspace_override is not None:
            self._no_secret(str(self.workspace_override), "--workspace")
            return self._resolved(self.workspace_override, "--workspace", None)
        if self.env.get("JUNIPER_WORKSPACE"):
            self._no_secret(self.env["JUNIPER_WORKSPACE"], "$JUNIPER_WORKSPACE")
            return self._resolved(
                self._home(self.env["JUNIPER_WORKSPACE"], "$JUNIPER_WORKSPACE", None),
                "$JUNIPER_WORKSPACE",
                None,
            )
        line = self.key_line(top, "workspace") if "workspace" in top else None
        return self._resolved(here / top.get("workspace", ".."), "workspace", line)

    def _no_secret(self, typed: str, what: str) -> None:
        """A workspace typed as a key or token is refused before any repo is read (pass 19b: each repo's
        line, "no clone at WORKSPACE/NAME", printed an OpenSSH private key pasted as `--workspace`)."""
        # pass 25h: a token at its issued length (holds_full_token: the age key and PEM blocks too),
        # not its prefix: `--workspace ~/sk-projects` is a folder
        if holds_full_token(typed):
            raise self.fail(
                None,
                f"{what} holds a private key, a token or a URL with a password, not a folder; nothing "
                "read (give the folder that holds the clones)",
            )

    def _resolved(self, path: Path, what: str, line: int | None) -> Path:
        """``path.resolve()``; a symlink loop on the way is one line (Python raises RuntimeError); a
        NUL byte too (pass 7: "ValueError: embedded null byte", a traceback)."""
        if "\0" in str(path):
            raise self.fail(line, f"{what} {str(path)!r} holds a NUL byte (no path can)")
        self._not_too_long(path, what, line)
        try:
            resolved = path.resolve()
        except (RuntimeError, OSError):
            raise self.fail(
                line, f"{what} {path} is a symlink loop (fix or remove the symlink)"
            ) from None
        self._not_too_long(resolved, what, line)
        return resolved

    def _home(self, text: str, what: str, line: int | None) -> Path:
        """``text`` with ``~``/``~user`` expanded; a user without a home is one line (pass 10a: a typo
        like ``~jdoe/fleet`` was a Python traceback, "Could not determine home directory")."""
        expanded, why = expand_home(str(text))
        if why is not None:
            raise self.fail(
                line, f"{what} {text}: {why} (check the name after ~, or write the path out)"
            )
        return Path(expanded)

    def _not_too_long(self, path: Path, what: str, line: int | None) -> None:
        """A path no file can have is one line with its line (pass 10a: Python's ``exists()`` raised
        "File name too long" later, a traceback in plan, apply and keygen)."""
        if (why := too_long(path)) is not None:
            raise self.fail(line, f"{what} {path} {why} (shorten it)")

    def _forge(self, node: Any, line: int | None) -> str | None:
        self.shaped(node, "forge", line, _FORGE_KEYS, "forge")
        url = node.get("api_url")
        if isinstance(url, str) and strip_userinfo(url) != url:
            raise self.fail(  # pass 7: it was printed in every failed call's line
                self.key_line(node, "api_url"),
                "forge.api_url holds credentials (user-info before '@', or a query string): remove "
                "them; the tool sends GITHUB_TOKEN (or GH_TOKEN, or gh's token) itself",
            )
        if url is not None and not re.match(r"^https?://[^/\s]+(/\S*)?$", url):
            raise self.fail(
                self.key_line(node, "api_url"),
                f"forge.api_url {url!r} is not an http(s) URL (e.g. https://github.example.com/api/v3)",
            )
        if url is not None and url.startswith("http://") and not is_loopback(url):
            raise self.fail(  # the token goes with every call: never in clear over a network (pass 6)
                self.key_line(node, "api_url"),
                f"forge.api_url {url!r} is plain http: the GitHub token would travel in clear; "
                "use https (plain http is for 127.0.0.1 / localhost only)",
            )
        return url.rstrip("/") if url else None

    def _pull_request(self, node: Any, line: int | None) -> PullRequestSpec:
        self.shaped(
            node, "defaults.pull_request", line, _PULL_REQUEST_KEYS, "defaults.pull_request"
        )
        lists = {}
        for key in ("labels", "reviewers"):
            values = node.get(key, [])
            for i, value in enumerate(values):
                if not isinstance(value, str) or not value.strip():
                    raise self.fail(
                        self.item_line(values, i),
                        f"defaults.pull_request.{key} must list names (strings)",
                    )
            lists[key] = tuple(values)
        return PullRequestSpec(
            node.get("title"), node.get("body", ""), lists["labels"], lists["reviewers"]
        )

    def _defaults(self, node: Any, line: int | None) -> dict:
        self.mapping(node, "defaults", line, _DEFAULTS_KEYS)
        out = {
            "base": self.typed(node, "base", str, "defaults", "main"),
            "branch": self.typed(node, "branch", str, "defaults", "chore/sops-age-rollout"),
            "commit_message": self.typed(
                node, "commit_message", str, "defaults", DEFAULT_COMMIT_MESSAGE
            ),
            "precommit_hook": self.choice(node, "precommit_hook", HOOK_MODES, "defaults", "auto"),
            "agents_md": self.choice(node, "agents_md", AGENTS_MODES, "defaults", "auto"),
            "usage_guide": self.typed(
                node, "usage_guide", str, "defaults"
            ),  # None: derived from files:
            "pull_request": self._pull_request(
                node.get("pull_request") or {}, self.key_line(node, "pull_request")
            ),
        }
        for key in ("base", "branch"):
            self._check_ref_name(node, key, out[key], "defaults")
        out["files"] = self._files(node, "defaults")
        out["plaintext_env"] = self._plaintext_env(node)
        out["data_key_rotated"] = self.typed(node, "data_key_rotated", str, "defaults")
        if out["data_key_rotated"] is not None and not STAMP.fullmatch(out["data_key_rotated"]):
            raise self.fail(
                self.key_line(node, "data_key_rotated"),
                'defaults.data_key_rotated must be a UTC time like "2026-01-31T12:00:00Z" '
                "(set it with `rollout rotate --data-key`)",
            )
        recipients = self.typed(node, "age_recipients", list, "defaults", [])
        if not getattr(
            self, "needs_key", True
        ):  # a rollout without secrets needs no key (a placeholder is fine)
            out["age_recipients"] = ()
            return out
        if not recipients and self.require_recipients:
            raise self.fail(line, f"defaults.age_recipients is empty ({PLACEHOLDER_HINT})")
        seen: set[str] = set()
        for i, value in enumerate(recipients):
            where = self.item_line(recipients, i)
            if not isinstance(value, str):
                raise self.fail(where, f"age recipient must be a string, not {_kind(value)}")
            if agekey.is_placeholder(value):
                raise self.fail(
                    where, f"age recipient {value!r} is a placeholder ({PLACEHOLDER_HINT})"
                )
            if agekey.is_small_order_recipient(value):
                raise self.fail(
                    where, f"age recipient {agekey.short(value)!r} {agekey.SMALL_ORDER}"
                )
            if value.strip().upper().startswith("AGE-SECRET-KEY-"):  # never echoed (pass 8)
                raise self.fail(
                    where,
                    "that is a private age key (AGE-SECRET-KEY-1…), never to be in the manifest: "
                    "put its public key (age1…) here; if this file was committed or shared, make a "
                    "new key (`rollout keygen`) and rotate to it",
                )
            if not agekey.is_valid_recipient(value):
                raise self.fail(
                    where,
                    f"{agekey.short(value)!r} is not a valid age public key (age1…, bech32; "
                    f"{PLACEHOLDER_HINT})",
                )
            if value in seen:
                raise self.fail(
                    where, f"age recipient {agekey.short(value)} is listed twice (remove one)"
                )
            seen.add(value)
        out["age_recipients"] = tuple(recipients)
        return out

    def _plaintext_env(self, defaults: Any) -> EnvFiles:
        if "plaintext_env" not in defaults:
            return DEFAULT_ENV_FILES
        node = self.shaped(
            defaults["plaintext_env"],
            "defaults.plaintext_env",
            self.key_line(defaults, "plaintext_env"),
            _PLAINTEXT_ENV_KEYS,
            "defaults.plaintext_env",
        )
        out = {}
        for key, fallback in (
            ("include", DEFAULT_ENV_FILES.include),
            ("exclude", DEFAULT_ENV_FILES.exclude),
        ):
            globs = node.get(key, list(fallback))
            for i, glob in enumerate(globs):
                why = (
                    check_glob(glob, exclude=key == "exclude")
                    if isinstance(glob, str)
                    else "must be a string"
                )
                if why:
                    raise self.fail(
                        self.item_line(globs, i) if key in node else self.key_line(node, key),
                        f"defaults.plaintext_env.{key}: {glob!r} {why}",
                    )
            if key == "include" and not globs:
                raise self.fail(
                    self.key_line(node, key),
                    "defaults.plaintext_env.include is empty (list at least .env)",
                )
            out[key] = tuple(globs)
        return EnvFiles(out["include"], out["exclude"])

    def _check_ref_name(self, node: Any, key: str, value: str, where: str) -> None:
        bad = (
            not value
            or value in ("HEAD", "@")
            or value.startswith(("-", "/"))
            or value.endswith(("/", ".lock", "."))
            or ".." in value
            or "//" in value
            or "@{" in value
            or any(c in value for c in " ~^:?*[\\\t\n")
            or any(ord(c) < 32 or ord(c) == 127 for c in value)
            # git check-ref-format: no component starts with '.' or ends with '.lock' (pass 10b:
            # `chore/.x` failed in every repo at apply; `x.lock/y` was called "locked by a git command")
            or any(part.startswith(".") or part.endswith(".lock") for part in value.split("/"))
        )
        if bad:
            raise self.fail(
                self.key_line(node, key), f"{where}.{key} {value!r} is not a valid git branch name"
            )
        # any *_HEAD, and git's own pseudorefs besides them (GIT_PSEUDOREFS; pass 11b:
        # NOTES_MERGE_PARTIAL, BISECT_EXPECTED_REV and MERGE_AUTOSTASH passed), those in any letter
        # case: on macOS and Windows `head` is the file .git/HEAD (pass 20a; `ahead` is no file of git's)
        if key == "branch" and (
            re.fullmatch(r"[A-Z_]*HEAD", value) or value.upper() in GIT_PSEUDOREFS
        ):
            raise self.fail(  # FETCH_HEAD, ORIG_HEAD, MERGE_HEAD…: git reads .git/NAME before refs/heads/
                self.key_line(node, key),
                f"{where}.{key} {value!r} is a name git keeps for its own (like FETCH_HEAD or "
                f"ORIG_HEAD{'' if value.isupper() else ', in any letter case on macOS and Windows'}): git "
                f"would find its {value} first and call the branch ambiguous; "
                "name the branch itself, like juniper-rollout/sops",
            )
        shadow = next(
            (
                p
                for p in (
                    "refs/",
                    *GIT_NAMESPACES,
                    *(f"{r}/" for r in REMOTE_NAMESPACES),
                    *GIT_OWN,
                    TOOL_OWN,
                    *GIT_DIR_FILES,
                )
                if fold(value).startswith(p) or fold(value) == p.rstrip("/")
            ),
            None,
        )
        # pass 21d's note: `base: origin/x` is read as a local branch named `origin/x` (the tool
        # builds on origin/<base> itself), so the printed `git show refs/remotes/origin/x:…` of the
        # only-copy advice named a ref that is not there
        # pass 29f: `origin/HEAD` (and `refs/heads/HEAD`) were told to name the branch 'HEAD', which
        # this check refuses: origin's HEAD names its default branch, to be written by its own name
        if key == "base" and fold(value).startswith("origin/") and value[7:] in ("HEAD", "@"):
            raise self.fail(
                self.key_line(node, key),
                f"{where}.base {value!r} names origin's default branch: name that branch itself, "
                "like main (`git symbolic-ref --short refs/remotes/origin/HEAD` in a clone "
                "prints origin/ and its name)"
                if value[7:] == "HEAD"
                else f"{where}.base {value!r} names no branch: base names the branch the rollout "
                "branch starts from, like main",
            )
        if key == "base" and fold(value).startswith("origin/"):
            raise self.fail(
                self.key_line(node, key),
                f"{where}.base {value!r} names origin's copy: name the branch itself "
                f"({value.split('/', 1)[1]!r}); the tool builds on origin's copy of it when the "
                "clone has one (`rollout sync` fetches it), else on the local branch",
            )
        # pass 28a's note: `base: refs/heads/main` was read as the branch `refs/heads/refs/heads/main`,
        # and each repo said "base branch … not found" (the manifest's line never named)
        if key == "base" and fold(value).startswith("refs/"):
            named = value.split("/", 2)[2] if fold(value).startswith("refs/heads/") else ""
            named = "" if named in ("HEAD", "@") else named  # a name this check refuses (pass 29f)
            raise self.fail(
                self.key_line(node, key),
                f"{where}.base {value!r} is a full ref name: name the branch itself ({named!r})"
                if named
                else f"{where}.base {value!r} is a ref that is no branch: base names the branch "
                "the rollout branch starts from, like main",
            )
        # refs/heads/origin/main would shadow origin's remote-tracking branch
        if key == "branch" and shadow:
            what = (
                "git's own ref of that name (git reads refs/NAME before refs/heads/NAME)"
                if shadow in GIT_OWN
                else "git's own file of that name (git reads .git/NAME, or a worktree's HEAD, "
                "before refs/heads/NAME)"
                if shadow in GIT_DIR_FILES
                else _SHADOWED.get(shadow, "a remote-tracking branch")
            )
            raise self.fail(
                self.key_line(node, key),
                f"{where}.{key} {value!r} starts with {value[: len(shadow)] if fold(value).startswith(shadow) else value!r}: the branch "
                f"would be refs/heads/{value}, shadowing {what} "
                "(name the branch itself, like juniper-rollout/sops)",
            )

    def _repos(
        self, node: Any, defaults: dict, workspace: Path, line: int | None
    ) -> tuple[RepoSpec, ...]:
        if not isinstance(node, list):
            raise self.fail(line, f"repos must be a list, not {_kind(node)}")
        repos: list[RepoSpec] = []
        names: dict[str, tuple[str, int | None]] = {}  # by the name case-folded
        paths: dict[str, tuple[str, int | None]] = {}
        slugs: dict[str, tuple[str, int | None]] = {}
        for i, entry in enumerate(node):
            entry_line = self.item_line(node, i)
            repo = self._repo(entry, defaults, workspace, entry_line)
            key = _one_folder(repo.name)
            if key in names:
                first, first_line = names[key]
                raise self.fail(
                    entry_line,
                    f"repo {repo.name!r} is listed twice (first at line {first_line}; remove one)"
                    if first == repo.name
                    # pass 16b's note: on macOS and Windows, and to GitHub, the two are one repository
                    else f"repo {repo.name!r} differs from {first!r} (line {first_line}) only in "
                    "letter case: on macOS and Windows their clones are one folder, and GitHub "
                    "takes them for one repository; rename or remove one",
                )
            names[key] = (repo.name, entry_line)
            # a case-insensitive file system (macOS, Windows) holds one folder for both spellings
            clones = _clone_keys(repo.path)
            for clone in clones:  # two entries writing one branch of one clone, each planned alone
                if clone in paths:
                    first, first_line = paths[clone]
                    raise self.fail(
                        entry_line,
                        f"repo {repo.name!r} has the same clone as {first!r} (line {first_line}): "
                        f"{repo.path}; give each entry its own clone, or remove one",
                    )
            paths.update(dict.fromkeys(clones, (repo.name, entry_line)))
            self._one_repo_per_slug(repo, entry, slugs)
            repos.append(repo)
        return tuple(repos)

    def _one_repo_per_slug(self, repo: RepoSpec, entry: Any, slugs: dict) -> None:
        """Two entries naming one GitHub repository (pass 7: a copied `github:` left unchanged) would
        share its pull request: `rollout pr` of one rewrote the other's PR body with its own files."""
        from juniper_rollout.forge import slug_from_url

        slug = repo.github or slug_from_url(repo.url)
        if not slug:
            return
        key = slug.lower()
        if key in slugs:
            first, first_line = slugs[key]
            raise self.fail(
                self.key_line(entry, "github")
                if "github" in entry
                else self.key_line(entry, "url"),
                f"repo {repo.name!r} names the GitHub repository {slug} of {first!r} (line "
                f"{first_line}): each entry is its own repository; fix `github:` (or `url:`)",
            )
        slugs[key] = (repo.name, self.key_line(entry, "name"))

    def _repo(self, node: Any, defaults: dict, workspace: Path, line: int | None) -> RepoSpec:
        self.shaped(node, "a repos entry", line, _REPO_KEYS, "repo")
        if "name" not in node:
            raise self.fail(line, "repo entry has no `name` (add `name: REPO`)")
        name = node["name"]
        where = f"repo {name}"
        if not REPO_NAME.match(name) or name in (".", ".."):
            raise self.fail(
                self.key_line(node, "name"),
                f"{clip(name)!r} is not a valid repository name (letters, digits, '.', '_', '-')",
            )
        # pass 25e: a token at its issued length, or the age private key (`rollout bootstrap
        # AGE-SECRET-KEY-1…` wrote and printed it); not a token's prefix alone (`hf_transformers`,
        # `npm_packages`, `sk-learn-fork` were refused as tokens)
        if holds_full_token(name):  # never echoed: it is the token
            raise self.fail(self.key_line(node, "name"), CREDENTIAL_NAME)
        from juniper_rollout import rollouts

        rollouts.check_repo_entry(self, node, where)
        path = workspace / name
        self._not_too_long(path, f"{where} (in the workspace)", self.key_line(node, "name"))
        if "path" in node:
            # pass 25e: a key or token typed as the clone's path (`bootstrap --path KEY`) was written
            # and printed ("will initialise a new repository at …"), as `workspace:` refuses it
            if holds_full_token(str(node["path"])):
                raise self.fail(
                    self.key_line(node, "path"),
                    f"{where}.path holds a private key, a token or a URL with a password, not a "
                    "folder; nothing read (give the clone's folder)",
                )
            path = self._resolved(
                self.path.resolve().parent
                / self._home(node["path"], f"{where}.path", self.key_line(node, "path")),
                f"{where}.path",
                self.key_line(node, "path"),
            )
        files: list[FileSpec] = []
        if node.get("sops_yaml", True):
            files.append(FileSpec(SOPS_CONFIG, "sops.yaml.j2", "replace", {}, None, line))
        for key, target, template in (
            ("env_example", ".env.example", "env.example.j2"),
            ("env_secrets_example", ".env.secrets.example", "env.secrets.example.j2"),
        ):
            if key in node:
                files.append(
                    self._env_example(
                        node[key], target, template, f"{where}.{key}", self.key_line(node, key)
                    )
                )
        files += self._with_defaults(defaults["files"], self._files(node, where), node, where)
        encrypt = tuple(
            self._encrypt(e, where, self.item_line(node["encrypt"], i))
            for i, e in enumerate(node.get("encrypt", []))
        )
        seen: dict[str, int | None] = {}
        specs: list[FileSpec | EncryptSpec] = [*files, *encrypt]
        for spec in specs:
            target = spec.path if isinstance(spec, FileSpec) else spec.target
            if target in seen or target in (GITIGNORE, PRECOMMIT, AGENTS):
                raise self.fail(
                    spec.line, f"{where} renders {target} twice (each path may have one source)"
                )
            self._no_case_clash(target, spec.line, seen, where)
            seen[target] = spec.line
        if "url" in node and strip_userinfo(node["url"]) != node["url"]:
            raise self.fail(
                self.key_line(node, "url"),
                f"{where}.url holds credentials (user-info before '@', "
                "or a query string): remove them, and let a git credential "
                "helper supply them",
            )
        if "url" in node and runs_a_command(node["url"]):
            # pass 20d (13.5): sync cloned it, and git ran the manifest's command wherever the user's
            # config allows the transport (`protocol.allow = always`); bootstrap refused it already
            raise self.fail(
                self.key_line(node, "url"),
                f"{where}.url uses git's ext transport (ext::…), which runs a command instead of "
                "reaching a repository: give the repository's address",
            )
        branch = self.typed(node, "branch", str, where, defaults["branch"])
        base = self.typed(node, "base", str, where, defaults["base"])
        self._check_ref_name(node, "branch", branch, where)
        self._check_ref_name(node, "base", base, where)
        if (why := base_clash(branch, base)) is not None:
            raise self.fail(
                self.key_line(node, "branch") if "branch" in node else line, f"{where}: {why}"
            )
        rollouts.check_branches(self, node, where, branch)
        return RepoSpec(
            name=name,
            path=path,
            url=node.get("url"),
            base=base,
            branch=branch,
            commit_message=self.typed(
                node, "commit_message", str, where, defaults["commit_message"]
            ),
            files=tuple(files),
            gitignore=node.get("gitignore", True),
            precommit_hook=self.choice(
                node, "precommit_hook", HOOK_MODES, where, defaults["precommit_hook"]
            ),
            agents_md=self.choice(node, "agents_md", AGENTS_MODES, where, defaults["agents_md"]),
            encrypt=encrypt,
            line=line,
            github=self._github(node, where),
        )

    def _no_case_clash(
        self, target: str, line: int | None, seen: Mapping[str, int | None], where: str
    ) -> None:
        """Refuse two paths one case-insensitive file system takes for one (``NOTES/GUIDE.md`` and
        ``notes/GUIDE.md``, or ``.GITIGNORE`` and the tool's own ``.gitignore``)."""
        own = {GITIGNORE: None, PRECOMMIT: None, AGENTS: None}
        for other, other_line in [*seen.items(), *own.items()]:
            clash = case_clash(target, other)
            source = f"line {other_line}" if other_line else "the tool's own file"
            inner, outer = sorted((target.lower(), other.lower()), key=len, reverse=True)
            if inner.startswith(outer + "/"):
                # pass 11a: `.sops.yaml/x` beside the tool's `.sops.yaml`: plan said "create" for both,
                # apply failed naming the tool's own file as "a file in the repository"
                raise self.fail(
                    line,
                    f"{where} renders {target}, and {other} ({source}): a file cannot also be a "
                    "folder holding the other; change one of the paths",
                )
            if clash is not None:
                raise self.fail(
                    line,
                    f"{where} renders {target}, and {other} ({source}): "
                    f"{case_clash_words(target, other, clash)}; spell them the same",
                )

    def _github(self, node: Any, where: str) -> str | None:
        value = node.get("github")
        if value is not None and not (isinstance(value, str) and is_slug(value)):
            raise self.fail(
                self.key_line(node, "github"),
                f"{where}.github {value!r} is not OWNER/NAME (e.g. pcalnon/{node['name']})",
            )
        return value

    def _target(self, node: Any, key: str, where: str) -> str:
        value = node[key]
        why = safe_repo_path(value)
        if why:
            raise self.fail(self.key_line(node, key), f"{where}.{key} {value!r} {why}")
        return value

    def _env_example(
        self, node: Any, target: str, template: str, where: str, line: int | None
    ) -> FileSpec:
        self.shaped(node, where, line, _ENV_EXAMPLE_KEYS, where)
        groups = tuple(
            self._group(g, where, self.item_line(node["groups"], i))
            for i, g in enumerate(node.get("groups", []))
        )
        return FileSpec(
            path=target,
            template=template,
            policy=self.choice(node, "policy", ENV_POLICIES, where, "merge"),
            context={"groups": groups},
            env_from=self.choice(node, "from", ENV_SOURCES, where, "manifest"),
            line=line,
            include=self._globs(node, "include", where),
            exclude=self._globs(node, "exclude", where),
        )

    def _globs(self, node: Any, key: str, where: str) -> tuple[str, ...]:
        globs = node.get(key, [])
        for i, glob in enumerate(globs):
            if not isinstance(glob, str) or not glob:
                raise self.fail(
                    self.item_line(globs, i),
                    f"{where}.{key} entries are path globs such as 'scripts/*'",
                )
        return tuple(globs)

    def _group(self, node: Any, where: str, line: int | None) -> EnvGroup:
        self.mapping(node, f"a group in {where}", line, _GROUP_KEYS)
        title = self.typed(node, "title", str, where)
        raw = self.typed(node, "vars", list, where, [])
        out: list[EnvVarSpec] = []
        for i, item in enumerate(raw):
            item_line = self.item_line(raw, i)
            if isinstance(item, str):
                name, default = item, None
            elif isinstance(item, dict) and len(item) == 1:
                name, default = next(iter(item.items()))
                default = None if default is None else str(default)
            else:
                raise self.fail(
                    item_line, f"a variable in {where} must be NAME or {{NAME: default}}"
                )
            if not isinstance(name, str) or not ENV_NAME.match(name):
                raise self.fail(item_line, f"{name!r} is not a valid environment variable name")
            if default is not None and looks_secret(name):
                raise self.fail(
                    item_line,
                    f"{name} looks secret and may not carry a default in an example (remove the value)",
                )
            # pass 26e: a token at its issued length (`sk-SK`, a locale, was refused as `sk-…`)
            if default is not None and carries_credential(default, prefix=False):
                raise self.fail(
                    item_line,
                    f"{name}'s default carries a credential (user-info in a URL, a token); an example "
                    "may not hold one (remove it, or write the value without the credential)",
                )
            if default is not None and ("\n" in default or "\r" in default):
                raise self.fail(item_line, f"default of {name} spans lines (use one line)")
            out.append(EnvVarSpec(name, default))
        return EnvGroup(title, tuple(out))

    def _file(self, node: Any, where: str, line: int | None) -> FileSpec:
        self.shaped(node, f"a files entry of {where}", line, _FILE_KEYS, where)
        self.required(node, ("path", "template"), f"a files entry of {where}", line)
        context = dict(node.get("vars") or {})
        from juniper_rollout.artifacts import KINDS  # late: artifacts builds on this module's types

        kind = self.choice(node, "kind", tuple(KINDS), where, "file")
        if kind != "file" and "policy" in node:
            raise self.fail(
                self.key_line(node, "policy"),
                f"{where}: policy applies to whole files only "
                f"(remove it from this kind: {kind} entry)",
            )
        if kind == "precommit-hook" and node.get("path") != PRECOMMIT:
            raise self.fail(
                self.key_line(node, "path"),
                f"{where}: kind: precommit-hook goes into "
                "path: .pre-commit-config.yaml (fix the path)",
            )
        for key in ("key", "match", "create"):
            if kind == "yaml-entry" and key not in node and key != "create":
                raise self.fail(
                    line,
                    f"{where}: a kind: yaml-entry entry needs `{key}` "
                    "(key: the list, e.g. updates; match: the fields naming an entry)",
                )
            if kind != "yaml-entry" and key in node:
                raise self.fail(
                    self.key_line(node, key),
                    f"{where}: `{key}` belongs to kind: yaml-entry only (remove it)",
                )
        return FileSpec(
            path=self._target(node, "path", where),
            template=node["template"],
            policy=self.choice(node, "policy", POLICIES, where, "replace"),
            context=_plain(context),
            line=line,
            kind=kind,
            entry=(node["key"], self._match(node, where), node.get("create"))
            if kind == "yaml-entry"
            else None,
            when=self._when(node["when"], where, self.key_line(node, "when"))
            if "when" in node
            else (),
        )

    def _match(self, node: Any, where: str) -> tuple[str, ...]:
        fields = [node["match"]] if isinstance(node["match"], str) else node["match"]
        if not fields or not all(isinstance(f, str) and f for f in fields):
            raise self.fail(
                self.key_line(node, "match"), f"{where}.match must name a field or a list of fields"
            )
        return tuple(fields)

    def _files(self, node: Any, where: str) -> list[FileSpec]:
        """The ``files:`` list of ``node`` (a repo entry, defaults, a rollout), each entry checked."""
        raw = self.typed(node, "files", list, where, [])
        return [self._file(entry, where, self.item_line(raw, i)) for i, entry in enumerate(raw)]

    def _when(self, node: Any, where: str, line: int | None) -> tuple[tuple[str, str], ...]:
        """``when: {exists: PATH, missing: PATH, language: python}``: conditions on the repo at its base."""
        from juniper_rollout.artifacts import LANGUAGES, WHEN_KEYS

        self.shaped(
            node, f"{where}.when", line, {k: (str, list) for k in WHEN_KEYS}, f"{where}.when"
        )
        out: list[tuple[str, str]] = []
        for key in WHEN_KEYS:
            values = node.get(key, [])
            for value in [values] if isinstance(values, str) else values:
                if not isinstance(value, str):
                    raise self.fail(
                        self.key_line(node, key),
                        f"{where}.when.{key} must list strings, not {_kind(value)}",
                    )
                why = (
                    safe_repo_path(value)
                    if key != "language"
                    else (
                        None
                        if value in LANGUAGES
                        else f"is not a language the tool detects (use one of: {', '.join(LANGUAGES)})"
                    )
                )
                if why:
                    raise self.fail(self.key_line(node, key), f"{where}.when.{key} {value!r} {why}")
                out.append((key, value))
        if not out:
            raise self.fail(
                line, f"{where}.when is empty (give exists:, missing: or language:, or remove it)"
            )
        return tuple(out)

    def _with_defaults(
        self, defaults: list[FileSpec], own: list[FileSpec], node: Any, where: str
    ) -> list[FileSpec]:
        """The fleet-wide files, minus the repo's ``skip_files:`` opt-outs, plus (or replaced by) its own."""
        skipped = self.typed(node, "skip_files", list, where, [])
        known = {d.path for d in defaults}
        for i, path in enumerate(skipped):
            if path not in known:
                raise self.fail(
                    self.item_line(skipped, i),
                    f"{where}.skip_files names {path!r}, which is not a "
                    f"fleet-wide file (known: {', '.join(sorted(known)) or 'none'}; remove it)",
                )
        mine = {f.path for f in own}
        return [d for d in defaults if d.path not in skipped and d.path not in mine] + own

    def _encrypt(self, node: Any, where: str, line: int | None) -> EncryptSpec:
        self.shaped(node, f"an encrypt entry of {where}", line, _ENCRYPT_KEYS, where)
        self.required(node, ("source", "target"), f"an encrypt entry of {where}", line)
        source, target = self._target(node, "source", where), self._target(node, "target", where)
        if not target.endswith(".enc") or source == target:
            raise self.fail(
                self.key_line(node, "target"),
                f"{where}: encrypted target {target!r} must end in .enc and differ from the source",
            )
        return EncryptSpec(source, target, node.get("enabled", True), line)
