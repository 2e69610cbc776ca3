"""``rollout bootstrap NAME``: a new repo joins the fleet in one command.

1. The manifest gains an entry for NAME, spliced into its text (every other line kept)
   and validated as a whole before anything is written.
2. Without a clone at the repo's path: ``--url`` is cloned there, or a new repository
   is initialised with its base branch and a first commit (a README.md).
3. The baseline is planned for that repo alone and shown, like ``rollout apply`` shows it; on
   confirmation (or ``--yes``) the manifest and the clone are put in place and the plan is
   applied: the repo leaves with its rollout branch (pushed with ``--push``).

Nothing is written before the confirmation: a new repository is initialised or cloned into a
staging folder beside its path, planned there, and moved into place only when confirmed
(``--dry-run`` shows all and removes it). A name that is invalid or already in the manifest is
refused before anything is written.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from rich.markup import escape

from juniper_rollout import atomicfile, report
from juniper_rollout.branches import OK, apply_plans
from juniper_rollout.clonestage import Stage, stage_clone
from juniper_rollout.edits.manifest_entry import add_entry
from juniper_rollout.errors import ManifestError, RolloutError
from juniper_rollout.fleet import plan_fleet
from juniper_rollout.manifest import (
    CREDENTIAL_NAME,
    REPO_NAME,
    Manifest,
    load_manifest,
)
from juniper_rollout.secretshape import holds_full_token
from juniper_rollout.urls import misread_userinfo, redact, strip_userinfo
from juniper_rollout.wording import clip, rollout_command, shell_word


def bootstrap(
    *,
    manifest: Path,
    workspace: Path | None,
    name: str,
    path: Path | None,
    url: str | None,
    like: str | None,
    yes: bool = False,
    dry_run: bool = False,
    push: bool = False,
    confirm: Callable[[str], bool] | None = None,
) -> int:
    if not REPO_NAME.match(name) or name in (".", ".."):
        raise RolloutError(
            # pass 24f: a 5,000-character name was echoed whole
            f"{clip(name)!r} is not a valid repository name (letters, digits, '.', '_', '-'; "
            "at most 100, starting with a letter or digit)"
        )
    if holds_full_token(name):  # pass 25e: the age key too, and no token's prefix alone
        raise RolloutError(f"{CREDENTIAL_NAME}; nothing written")
    if url is not None and misread_userinfo(url):  # never echoed: it is the password
        raise RolloutError(
            "--url: the password (or token) in it holds an unencoded '/', '?' or '#', where git's URL "
            "parser ends the host: percent-encode them (%2F, %3F, %23); nothing written"
        )
    current = load_manifest(manifest, workspace=workspace)
    known = {r.name: r for r in current.repos}
    if name in known:
        raise RolloutError(
            f"{name} is already in the manifest ({manifest}:{known[name].line}); "
            "pick another name, or edit its entry"
        )
    if like is not None and like not in known:
        raise RolloutError(
            f"--like {like}: no such repo in the manifest (known: {', '.join(known)})"
        )
    if not (yes or dry_run) and (confirm is None or not sys.stdin.isatty()):
        raise RolloutError(
            "bootstrap needs confirmation: run it from a terminal, or pass --yes (or --dry-run)"
        )
    read = manifest.read_bytes()
    raw = read.decode("utf-8")
    shown_url = (
        strip_userinfo(url) if url is not None else None
    )  # what is stored and printed: never a token
    text = add_entry(
        raw,
        name=name,
        path=_manifest_path(manifest, path),
        url=shown_url,
        like=like,
        file=str(manifest),
    )
    out = report.console()
    tmp, new = _validated_copy(manifest, text, workspace)
    stage: Stage | None = None
    try:
        spec = new.select([name])[0]
        try:
            stage = stage_clone(spec.path, url, spec.base, name)
        except RolloutError as err:  # a failed clone's error may repeat the URL's credentials
            raise RolloutError(redact(str(err), url)) from None
        out.print(f"[bold]{escape(str(manifest))}[/bold]: add")
        report.print_diff(
            out, "\n".join("+" + line for line in text[len(raw) :].strip("\n").split("\n"))
        )
        out.print(f"[bold]{escape(name)}[/bold]: {escape(stage.will)}")
        out.print()
        plans = plan_fleet(new, [dataclasses.replace(spec, path=stage.clone)])
        report.print_plan(out, plans)
        if dry_run:
            out.print("dry run: nothing written")
            return 0
        if any(plan.error for plan in plans):
            # pass 10b: a SHA-256 repository (or any repo the plan refuses) was added to the
            # manifest and moved into place anyway, and its apply then failed
            out.print(f"nothing written: {escape(name)} cannot be planned (the error above)")
            return 1
        if not yes and not confirm(f"Add {name} to {manifest} and write its rollout branch?"):  # type: ignore[misc]
            out.print("nothing written")
            return 0
        try:
            now: bytes | None = manifest.read_bytes()
        except OSError:  # moved or deleted meanwhile
            now = None
        if now != read:
            # pass 20a: the new text was made from the manifest as read before the clone and the
            # confirmation; a `rollout rotate --remove` (or an editor's save) meanwhile was reverted
            raise RolloutError(
                f"{manifest} changed while bootstrap ran (another rollout command, or an editor?): "
                "nothing written, so as not to undo that change; run bootstrap again"
            )
        if stage.root is not None:
            spec.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(stage.clone, spec.path)  # refuses a path that was filled meanwhile
            except OSError as err:  # pass 20a: it was "unexpected OSError" and a crash log
                raise RolloutError(
                    f"cannot move the new clone to {spec.path}: {err.strerror} (filled while "
                    "bootstrap ran?); left as it is, nothing written: look at it, then run "
                    "bootstrap again"
                ) from None
        os.replace(tmp, manifest.resolve())  # a symlinked manifest stays a symlink
    finally:
        tmp.unlink(missing_ok=True)
        if stage is not None and stage.root is not None:
            shutil.rmtree(stage.root, ignore_errors=True)
    out.print(f"added [bold]{escape(name)}[/bold] to {escape(str(manifest))}")
    out.print(f"  {escape(stage.done)}")
    loaded = load_manifest(manifest, workspace=workspace)
    repo = loaded.select([name])
    outcomes = apply_plans(loaded, plans, saved=False, push=push)
    for outcome in outcomes:
        style = "green" if outcome.result in OK else "red"
        out.print(
            f"{escape(outcome.name)}: [{style}]{outcome.result}[/{style}]  {escape(outcome.message)}"
        )
    if not all(o.result in OK for o in outcomes):
        return 1
    drift = rollout_command(
        "drift", "--repo", shell_word(name), manifest=manifest, workspace=workspace
    )
    out.print(
        escape(f"review and merge {repo[0].branch} in {repo[0].path}; `{drift}` checks it after")
    )
    for other in loaded.rollouts[
        1:
    ]:  # the named rollouts apply to every repo: the new one joins each on its branch
        again = rollout_command(
            "apply",
            "--repo",
            shell_word(name),
            manifest=manifest,
            workspace=workspace,
            rollout=other,
        )
        out.print(escape(f"and the {other} rollout: `{again}`"))
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
    try:
        tmp = atomicfile.write_aside(
            manifest.resolve(), text.encode("utf-8"), mode=manifest.stat().st_mode & 0o777
        )
    except OSError as err:  # a read-only folder, a full disk: the user's situation, one line
        raise RolloutError(atomicfile.cannot_rewrite(manifest.resolve(), err)) from None
    try:
        return tmp, load_manifest(tmp, workspace=workspace)
    except ManifestError as err:
        tmp.unlink(missing_ok=True)
        raise ManifestError(str(manifest), err.line, err.message) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
