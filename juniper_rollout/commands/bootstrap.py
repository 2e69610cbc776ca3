"""``rollout bootstrap NAME``: a new repo joins the fleet in one command.

1. The manifest gains an entry for NAME, spliced into its text (every other line kept)
   and validated as a whole before anything is written.
2. Without a clone at the repo's path: ``--url`` is cloned there, or a new repository
   is initialised with its base branch and a first commit (a README.md).
3. The baseline is planned and applied for that repo alone: it leaves with its rollout branch.

A name that is invalid or already in the manifest is refused before anything is written.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rich.markup import escape

from juniper_rollout import gitrepo, report
from juniper_rollout.branches import OK, apply_plans
from juniper_rollout.edits.manifest_entry import add_entry
from juniper_rollout.errors import ManifestError, RolloutError
from juniper_rollout.fleet import plan_fleet
from juniper_rollout.manifest import REPO_NAME, Manifest, load_manifest
from juniper_rollout.urls import redact, strip_userinfo

FIRST_COMMIT = "Initial commit"


def bootstrap(*, manifest: Path, workspace: Path | None, name: str, path: Path | None, url: str | None,
              like: str | None) -> int:
    if not REPO_NAME.match(name) or name in (".", ".."):
        raise RolloutError(f"{name!r} is not a valid repository name (letters, digits, '.', '_', '-'; "
                           "at most 100, starting with a letter or digit)")
    current = load_manifest(manifest, workspace=workspace)
    known = {r.name: r for r in current.repos}
    if name in known:
        raise RolloutError(f"{name} is already in the manifest ({manifest}:{known[name].line}); "
                           "pick another name, or edit its entry")
    if like is not None and like not in known:
        raise RolloutError(f"--like {like}: no such repo in the manifest (known: {', '.join(known)})")
    raw = manifest.read_bytes().decode("utf-8")
    shown_url = strip_userinfo(url) if url is not None else None  # what is stored and printed: never a token
    text = add_entry(raw, name=name, path=_manifest_path(manifest, path), url=shown_url, like=like, file=str(manifest))
    out = report.console()
    tmp, new = _validated_copy(manifest, text, workspace)
    try:
        spec = new.select([name])[0]
        try:
            created = _prepare_clone(spec.path, url, spec.base, name)
        except RolloutError as err:
            raise RolloutError(redact(str(err), url)) from None
        os.replace(tmp, manifest.resolve())  # a symlinked manifest stays a symlink
    finally:
        tmp.unlink(missing_ok=True)
    out.print(f"added [bold]{escape(name)}[/bold] to {escape(str(manifest))}")
    out.print(f"  {escape(created)}")
    loaded = load_manifest(manifest, workspace=workspace)
    repo = loaded.select([name])
    outcomes = apply_plans(loaded, plan_fleet(loaded, repo), saved=False, push=False)
    for outcome in outcomes:
        style = "green" if outcome.result in OK else "red"
        out.print(f"{escape(outcome.name)}: [{style}]{outcome.result}[/{style}]  {escape(outcome.message)}")
    if not all(o.result in OK for o in outcomes):
        return 1
    out.print(f"review and merge {repo[0].branch} in {repo[0].path}; `rollout drift --repo {name}` checks it after")
    return 0


def _manifest_path(manifest: Path, path: Path | None) -> str | None:
    """``--path`` as the manifest spells paths: relative to the manifest's folder unless given absolute."""
    if path is None:
        return None
    if path.is_absolute():
        return str(path)
    return os.path.relpath(path.resolve(), manifest.resolve().parent)


def _validated_copy(manifest: Path, text: str, workspace: Path | None) -> tuple[Path, Manifest]:
    """The new text in a temp file beside the manifest, validated as a whole (relative paths resolve the same)."""
    fd, name = tempfile.mkstemp(dir=manifest.resolve().parent, prefix=f".{manifest.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
        os.chmod(tmp, manifest.stat().st_mode & 0o777)
        return tmp, load_manifest(tmp, workspace=workspace)
    except ManifestError as err:
        tmp.unlink(missing_ok=True)
        raise ManifestError(str(manifest), err.line, str(err).split(": ", 1)[-1]) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _prepare_clone(path: Path, url: str | None, base: str, name: str) -> str:
    """Make sure a clone is at ``path``; says what was done."""
    if (path / ".git").exists():
        return f"using the existing clone at {path}" + (" (--url not needed)" if url else "")
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise RolloutError(f"{path} exists and is not a git clone; move it away or pass --path")
    if url is not None:
        gitrepo.clone_repo(url, path)
        return f"cloned {strip_userinfo(url)} into {path}"
    gitrepo.init_repo(path, base, {"README.md": f"# {name}\n".encode()}, FIRST_COMMIT)
    return f"initialised a new repository at {path} (branch {base}, first commit with a README.md)"
