"""Save and load a plan (``rollout plan --out``): base commits and the exact bytes to write.

Encrypted files are stored as ciphertext only; plaintext never enters a plan file.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Any

from juniper_rollout import atomicfile, savepath
from juniper_rollout.changes import CREATE, DELETE, SKIP, UNCHANGED, UPDATE, FileChange, RepoPlan
from juniper_rollout.envfiles import DEFAULT as DEFAULT_ENV_FILES
from juniper_rollout.errors import RolloutError
from juniper_rollout.manifest import Manifest, safe_repo_path
from juniper_rollout.paths import read_open
from juniper_rollout.wording import path_word, unicode_only

FORMAT_VERSION = 1
ACTIONS = (
    CREATE,
    UPDATE,
    DELETE,
    UNCHANGED,
    SKIP,
)  # DELETE: only ever a tracked plaintext env file (checked at apply)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text, validate=True)


def to_json(plans: list[RepoPlan], *, contents: bool = False) -> dict[str, Any]:
    """The plan as JSON data; ``contents`` adds what a saved plan needs to apply it exactly. Without
    it (`plan --json`, read by other programs, never by apply) only valid Unicode: a path no UTF-8
    decodes is shown with its bytes as ``\\xff``, as drift and verify show it (pass 25f: its lone
    surrogates, ``\\udcff``, made strict readers refuse the whole report); a saved plan keeps them,
    which apply reads back into the exact bytes git stores."""

    def shown(text: Any) -> Any:
        return unicode_only(text) if isinstance(text, str) and not contents else text

    repos = []
    for plan in plans:
        entry: dict[str, Any] = {
            "name": plan.name,
            "status": plan.status,
            "error": shown(plan.error),
            "files": [],
        }
        if contents:
            entry.update(
                base=plan.base,
                branch=plan.branch,
                base_commit=plan.base_commit,
                branch_commit=plan.branch_commit,
                onto=plan.onto,
                cleared=list(plan.cleared),
            )
        for f in plan.files:
            item: dict[str, Any] = {
                "path": shown(f.path),
                "action": f.action,
                "reason": shown(f.detail or f.reason),
            }
            if f.adoptions:
                item["adoptions"] = [
                    {"kind": a.kind, "subject": shown(a.subject), "detail": shown(a.detail)}
                    for a in f.adoptions
                ]
            if contents and f.writes:
                item["content"] = _b64(f.after)
                item["secret"] = f.secret
            entry["files"].append(item)
        if plan.notes:
            entry["notes"] = [shown(note) for note in plan.notes]
        if plan.base_ref:
            entry["built_on"] = plan.base_ref
        repos.append(entry)
    return {"format_version": FORMAT_VERSION, "repos": repos}


STDOUT = Path("-")


def given(text: str) -> Path:
    """The path a ``--out`` or plan argument names: standard input or output only for ``-`` itself
    (pass 20c: ``./-`` is ``Path("-")`` too, so a file named ``-`` was never written nor read)."""
    if text != "-" and Path(text) == STDOUT:
        return Path(os.path.abspath(text))
    return Path(text)


def check_destination(path: Path) -> None:
    """Refuse, before any work, a ``--out`` the plan cannot be saved to as a regular file (the
    atomic rename would replace a symlink such as /dev/stdout, or a device, with a file; a folder
    on /proc takes no file): one line, what and how to fix (``savepath``)."""
    if path == STDOUT:
        return
    problem = savepath.problem(path)
    if problem is not None:
        raise RolloutError(_out_line(path, problem))
    if path.exists() and DEFAULT_ENV_FILES.is_plaintext_in_any_case(path.name):
        raise RolloutError(  # `--out clone/.env` replaced the only plaintext copy of the secrets (pass 6)
            _out_line(
                path,
                "is a plaintext env file, which holds secrets the tool never overwrites; give "
                f"another path, {savepath.STDOUT_HINT}",
            )
        )


def check_not_input(path: Path, manifest: Manifest) -> None:
    """Refuse a ``--out`` that would replace what the tool reads (pass 6): the manifest itself, or a file
    in a managed clone's working tree (the clones are the user's: a new file beside them is fine);
    then any existing file that is not a saved plan (``check_not_foreign``)."""
    if not path.exists():
        return
    real = Path(os.path.realpath(path))
    if real == Path(os.path.realpath(manifest.path)):
        raise RolloutError(
            _out_line(path, f"is the manifest; give another path, {savepath.STDOUT_HINT}")
        )
    for repo in manifest.repos:
        clone = Path(os.path.realpath(repo.path))
        if real.is_relative_to(clone) and not _is_saved_plan(real):  # a plan saved before: replaced
            raise RolloutError(
                _out_line(
                    path,
                    f"is a file in the clone of {repo.name}, whose working tree the tool never "
                    f"touches; give a path outside it, {savepath.STDOUT_HINT}",
                )
            )
    check_not_foreign(path)


def check_not_foreign(path: Path) -> None:
    """Refuse a ``--out`` that exists and is not a plan saved before (pass 8): `--out
    $SOPS_AGE_KEY_FILE` replaced the fleet's private age key, `--out backup/prod.env.enc` a person's
    ciphertext. Only the tool's own plan, or an empty file (``mktemp``), is replaced."""
    if path != STDOUT and path.exists() and not _is_saved_plan(path) and not _is_empty(path):
        raise RolloutError(
            _out_line(
                path,
                "is a file that is not a plan saved by `rollout plan --out` (an age key, "
                "ciphertext or any file of yours: the tool never replaces it); give a new path, "
                f"{savepath.STDOUT_HINT}",
            )
        )


def _is_empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:
        return False


def _is_saved_plan(path: Path) -> bool:
    """True when ``path`` starts as :func:`save` writes a plan (so `plan --out` may write it again)."""
    try:
        with path.open("rb") as handle:
            return handle.read(32).startswith(b'{\n "format_version": ')
    except OSError:
        return False


def save(plans: list[RepoPlan], path: Path) -> None:
    """Write atomically (temp file in the same folder, 0600, then rename); ``-``: standard output."""
    data = json.dumps(to_json(plans, contents=True), indent=1) + "\n"
    if path == STDOUT:
        sys.stdout.write(data)
        sys.stdout.flush()
        return
    check_destination(path)
    check_not_foreign(path)
    try:
        atomicfile.replace(path, data.encode("utf-8"), mode=0o600)
    except OSError as err:
        raise RolloutError(_out_line(path, savepath.write_error(path, err))) from None


def _out_line(path: Path, problem: str) -> str:
    """``--out X is a symlink; ...`` or ``--out X: no folder ...``."""
    return f"--out {path} {problem}" if problem.startswith("is ") else f"--out {path}: {problem}"


MAX_PLAN_BYTES = 200_000_000


def _read(path: Path) -> bytes:
    """A saved plan: a regular file (never a FIFO that would hang), or ``-`` for standard input."""
    if path == STDOUT:  # bounded, and the bound said, as for a file (pass 24f: `apply - <
        # /dev/zero` was "not a plan file (Expecting value …)")
        try:
            return _bounded(sys.stdin.buffer.read(MAX_PLAN_BYTES + 1), "standard input")
        except OSError as err:  # `apply - < folder`: EISDIR
            raise RolloutError(
                f"cannot read the plan from standard input: {err.strerror}"
            ) from None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise RolloutError(
            f"{path}: plan file not found (run `rollout plan --out {path_word(path)}`)"
        ) from None
    except OSError as err:
        if err.errno == errno.ENXIO:  # a socket cannot be opened: "No such device or address"
            raise RolloutError(_not_regular(path)) from None
        raise RolloutError(f"{path}: cannot read the plan file: {err.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RolloutError(_not_regular(path))
    try:  # a regular file may fail to read (EIO: a failing disk, a network file system, /proc's
        # files): said of the plan, not "cannot write the output" (pass 23c)
        data = read_open(fd, MAX_PLAN_BYTES + 1)
    except OSError as err:
        raise RolloutError(f"{path}: cannot read the plan file: {err.strerror}") from None
    return _bounded(data, str(path))


def _not_regular(path: Path) -> str:
    return (
        f"{path} is not a regular file (a folder, FIFO, socket or device?); pass a plan saved by "
        "`rollout plan --out FILE`"
    )


def _bounded(data: bytes, where: str) -> bytes:
    if len(data) > MAX_PLAN_BYTES:
        raise RolloutError(
            f"{where} is larger than {MAX_PLAN_BYTES // 1_000_000} MB: not a plan file"
        )
    return data


def plan_again(path: Path) -> str:
    """How to make the plan again, in words that work when pasted: a plan read from standard input
    (`apply -`) was offered `rollout plan --out ./-`, which writes a file named `-` that `apply -`
    never reads (lead, stop 28, pass 24i's note). Lead 30 (pass 26a's note): apply's refusals of a
    stale or damaged plan said `rollout plan --out FILE`, a placeholder pasted as a file named FILE."""
    if str(path) == "-":
        return "run `rollout plan --out -` again, piped to `rollout apply -`"
    if path.is_symlink() and savepath.problem(path) is not None:
        # pass 26i: a plan read through a symlink (`apply current.json`, /dev/stdin redirected from
        # the file) was offered `rollout plan --out current.json`, which plan refuses ("is a
        # symlink"): the file it leads to, which the same `apply` then reads
        real = Path(os.path.realpath(path))
        if savepath.problem(real) is None:
            path = real
    if (
        path.is_file()
        and not path.is_symlink()
        and not _is_saved_plan(path)
        and not _is_empty(path)
    ):
        # pass 29c: a file no plan was saved in (`rollout apply repos.yaml`, the manifest itself;
        # notes) was offered `rollout plan --out repos.yaml`, which plan refuses (it never
        # replaces a file of yours): a new file beside it
        fresh = next(
            each
            for each in (path.with_name(f"plan{n or ''}.json") for n in range(1_000_000))
            if not os.path.lexists(each)
        )
        return (
            f"it holds no plan the tool saved: save one with `rollout plan --out "
            f"{path_word(fresh)}`, then `rollout apply {path_word(fresh)}`"
        )
    return f"run `rollout plan --out {path_word(path)}` again"


def load(path: Path) -> list[RepoPlan]:
    try:
        data = json.loads(_read(path).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise RolloutError(f"{path}: not a plan file ({err}); {plan_again(path)}") from None
    except RecursionError:
        raise RolloutError(
            f"{path}: not a plan file (nested too deeply); {plan_again(path)}"
        ) from None
    # `true` and `1.0` equal 1 in Python: the version is the number the tool writes (pass 20f)
    version = data.get("format_version") if isinstance(data, dict) else None
    if type(version) is not int or version != FORMAT_VERSION:
        raise RolloutError(f"{path}: unsupported plan format ({plan_again(path)})")
    try:  # JSON may spell a lone surrogate (\ud800), which no git object can hold (pass 10a: a crash log)
        # but \udc80-\udcff: a byte of a path git stores that is not UTF-8, as the plan writes it
        # (pass 24c: a tracked `x\xffy/.env.prod` made every saved plan "damaged", "run plan again")
        json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as err:
        raise RolloutError(
            f"{path}: damaged plan file (a string holds {err.object[err.start : err.end]!r}, a lone "
            "surrogate escape, which is not text); run plan again"
        ) from None
    wrong = _wrong_shape(data)
    if wrong is not None:  # pass 20c: "TypeError(...) missing or wrong", or a crash log
        raise RolloutError(f"{path}: damaged plan file ({wrong}); run plan again")
    plans: list[RepoPlan] = []
    seen: set[str] = set()
    try:
        for repo in data["repos"]:
            files = tuple(
                FileChange(
                    f["path"],
                    f["action"],
                    None,
                    _unb64(f.get("content")),
                    f.get("reason"),
                    secret=bool(f.get("secret")),
                )
                for f in repo["files"]
            )
            for f in files:
                why = (
                    safe_repo_path(f.path, new=f.action != DELETE)
                    if isinstance(f.path, str)
                    else "is not a string"
                )
                if not why and f.action not in ACTIONS:
                    why = f"has the action {f.action!r}, which the tool never plans"
                if not why and f.action in (CREATE, UPDATE) and f.after is None:
                    why = "is written without content"  # write_tree would read that as a deletion
                if not why and f.reason is not None and not _one_line_of_text(f.reason):
                    # pass 12a: the reason goes into the commit message: a NUL was committed (git
                    # fsck: nulInCommit), an ESC or C1 CSI reached the terminal in `git log`
                    why = "has a reason that is not one line of text (a control character)"
                if why:
                    raise RolloutError(
                        f"{path}: damaged plan file (repo {repo['name']}: path {f.path!r} "
                        f"{why}); run plan again"
                    )
            if (
                repo["name"] in seen
            ):  # each repo once: a copy would be applied again and counted twice
                raise RolloutError(
                    f"{path}: damaged plan file (repo {repo['name']!r} appears twice); run plan again"
                )
            plans.append(
                RepoPlan(
                    repo["name"],
                    repo["base"],
                    repo["branch"],
                    repo["base_commit"],
                    repo["branch_commit"],
                    files,
                    _one_line(repo.get("error")),
                    onto=repo.get("onto"),
                    cleared=tuple(str(d) for d in repo.get("cleared") or ()),
                )
            )
            seen.add(repo["name"])
    except (KeyError, TypeError, ValueError) as err:
        raise RolloutError(
            f"{path}: damaged plan file ({err!r} missing or wrong); run plan again"
        ) from None
    return plans


# the JSON types of a saved plan's fields, as `to_json(contents=True)` writes them (None: null allowed)
_REPO_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "base": (str,),
    "branch": (str,),
    "base_commit": (str, type(None)),  # null: a repo that failed before its base was read (below)
    "branch_commit": (str, type(None)),
    "error": (str, type(None)),
    "onto": (str, type(None)),
    "files": (list,),
}
_FILE_FIELDS: dict[str, tuple[type, ...]] = {
    "path": (str,),
    "action": (str,),
}
_OPTIONAL_FILE_FIELDS: dict[str, tuple[type, ...]] = {
    "reason": (str, type(None)),
    "content": (str, type(None)),
    "secret": (bool,),
}
_TYPE_NAMES = {str: "a string", list: "a list", bool: "true or false", type(None): "null"}


_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _wrong_shape(data: dict) -> str | None:
    """What in a saved plan has a JSON type :func:`to_json` never writes, in words (None: all right).
    Pass 20c: `"error": 7` was a crash log ("unexpected TypeError while running `rollout apply`"),
    `"base_commit": 5` "a damaged repository? run `git fsck`", `"repos": 5` or `"files": "x"` a
    Python exception's repr in the line."""
    repos = data.get("repos")
    if not isinstance(repos, list):
        return '"repos" must be a list'
    for index, repo in enumerate(repos):
        if not isinstance(repo, dict):
            return f"repos[{index}] must be an object"
        name = repo.get("name")
        where = f"repo {name}" if isinstance(name, str) else f"repos[{index}]"
        wrong = _wrong_fields(repo, _REPO_FIELDS, {"cleared": (list,)})
        if wrong is not None:
            return f"{where}: {wrong}"
        if repo["base_commit"] is None and repo["error"] is None:
            # pass 22c: null is how a repo that failed to plan is saved (its clone gone, its base
            # missing); refused as a string alone, no plan with such a repo could be applied
            return f'{where}: "base_commit" must be a string (null only where "error" says why)'
        if not all(isinstance(each, str) for each in repo.get("cleared") or ()):
            return f'{where}: "cleared" must be a list of strings'
        for field in ("base_commit", "branch_commit"):
            # pass 20f: `"base_commit": "bf92897"` (a short id) said "main moved from bf92897 to
            # bf92897", and `"zz"` was compared as if it named a commit
            commit = repo.get(field)
            if commit is not None and not _OBJECT_ID.fullmatch(commit):
                return f'{where}: "{field}" must be a full commit id (40 or 64 hex digits)'
        for number, item in enumerate(repo["files"]):
            if not isinstance(item, dict):
                return f"{where}: files[{number}] must be an object"
            wrong = _wrong_fields(item, _FILE_FIELDS, _OPTIONAL_FILE_FIELDS)
            if wrong is not None:
                return f"{where}: files[{number}]: {wrong}"
            try:
                _unb64(item.get("content"))
            except ValueError:
                return f'{where}: files[{number}]: "content" is not base64'
    return None


def _wrong_fields(
    entry: dict, required: dict[str, tuple[type, ...]], optional: dict[str, tuple[type, ...]]
) -> str | None:
    for key, kinds in (*required.items(), *optional.items()):
        if key not in entry:
            if key in required:
                return f'"{key}" is missing'
            continue
        if not isinstance(entry[key], kinds) or (  # JSON's true is no number here, 1 no bool
            bool not in kinds and isinstance(entry[key], bool)
        ):
            return f'"{key}" must be {" or ".join(_TYPE_NAMES[k] for k in kinds)}'
    return None


def _one_line(error: str | None) -> str | None:
    """A saved plan's error, printed by apply as the repo's outcome, on one line: the tool's own are,
    and a newline in a hand-edited one printed a line of the file's choosing (pass 21c: `"error":
    "boom\\njuniper-ml: created …"` showed a repo created that failed; other control characters are
    already shown as escapes)."""
    return None if error is None else error.replace("\r", "\\r").replace("\n", "\\n")


def _one_line_of_text(reason: object) -> bool:
    """A plan's reason as the tool writes it: a string with no control character (C0, DEL, C1)."""
    return isinstance(reason, str) and re.search(r"[\x00-\x1f\x7f-\x9f]", reason) is None
