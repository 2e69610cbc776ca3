"""Save and load a plan (``rollout plan --out``): base commits and the exact bytes to write.

Encrypted files are stored as ciphertext only; plaintext never enters a plan file.
"""
from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from juniper_rollout.changes import FileChange, RepoPlan
from juniper_rollout.errors import RolloutError

FORMAT_VERSION = 1


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def to_json(plans: list[RepoPlan], *, contents: bool = False) -> dict[str, Any]:
    """The plan as JSON data; ``contents`` adds what a saved plan needs to apply it exactly."""
    repos = []
    for plan in plans:
        entry: dict[str, Any] = {"name": plan.name, "status": plan.status, "error": plan.error, "files": []}
        if contents:
            entry.update(base=plan.base, branch=plan.branch, base_commit=plan.base_commit,
                         branch_commit=plan.branch_commit, onto=plan.onto)
        for f in plan.files:
            item: dict[str, Any] = {"path": f.path, "action": f.action, "reason": f.detail or f.reason}
            if f.adoptions:
                item["adoptions"] = [{"kind": a.kind, "subject": a.subject, "detail": a.detail} for a in f.adoptions]
            if contents and f.writes:
                item["content"] = _b64(f.after)
                item["secret"] = f.secret
            entry["files"].append(item)
        if plan.notes:
            entry["notes"] = list(plan.notes)
        if plan.base_ref:
            entry["built_on"] = plan.base_ref
        repos.append(entry)
    return {"format_version": FORMAT_VERSION, "repos": repos}


def save(plans: list[RepoPlan], path: Path) -> None:
    """Write atomically (temp file in the same folder, 0600, then rename)."""
    data = json.dumps(to_json(plans, contents=True), indent=1) + "\n"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> list[RepoPlan]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RolloutError(f"{path}: plan file not found (run `rollout plan --out {path}`)") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise RolloutError(f"{path}: not a plan file ({err}); run `rollout plan --out {path}` again") from None
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise RolloutError(f"{path}: unsupported plan format (run `rollout plan --out {path}` again)")
    plans = []
    try:
        for repo in data["repos"]:
            files = tuple(
                FileChange(f["path"], f["action"], None, _unb64(f.get("content")), f.get("reason"),
                           secret=bool(f.get("secret")))
                for f in repo["files"]
            )
            plans.append(RepoPlan(repo["name"], repo["base"], repo["branch"], repo["base_commit"],
                                  repo["branch_commit"], files, repo.get("error"), onto=repo.get("onto")))
    except (KeyError, TypeError, ValueError) as err:
        raise RolloutError(f"{path}: damaged plan file ({err!r} missing or wrong); run plan again") from None
    return plans
