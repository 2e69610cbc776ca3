"""The pre-commit hooks: the managed hooks as the manifest renders them, run by id with the real
pre-commit in a throwaway repo, with no key material in reach."""

from __future__ import annotations

import json
from typing import Any

from juniper_rollout import planner, render, throwaway
from juniper_rollout.checks.base import APPLY, Check, RefFiles, failed, lfs_pointer, passed
from juniper_rollout.edits.precommit import hooks_state, load_data
from juniper_rollout.errors import RolloutError
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.paths import PRECOMMIT
from juniper_rollout.wording import inert

NAME = "precommit-hook"
VALIDATE = "fix .pre-commit-config.yaml (`pre-commit validate-config`)"


def check_hook(
    manifest: Manifest, repo: RepoSpec, snap: RefFiles, trial: throwaway.HookTrial
) -> Check:
    """The managed hooks, exactly as the manifest renders them, run by id with the real pre-commit.

    The ref's config is read, never run: it must hold the managed hooks as rendered and no
    hand-written .env blocker beside them. What runs is a config the tool renders itself
    (the managed hooks, and the ref's top-level files/exclude/default_stages, which decide
    whether they see a file), in a throwaway repo, with an environment holding no key material.
    A branch's other hooks (its own tests, or a hostile `cp "$SOPS_AGE_KEY_FILE" …`) never run.
    """
    if repo.precommit_hook == "skip":
        return passed(NAME, "precommit_hook: skip", applies=False)
    stored = lfs_pointer(NAME, PRECOMMIT, snap)
    if stored is not None:
        return stored
    text = snap.files.get(PRECOMMIT)
    if text is None:
        if repo.precommit_hook == "create":
            return failed(NAME, f"no .pre-commit-config.yaml at {snap.ref}", APPLY)
        return passed(NAME, "no pre-commit config (not applicable)", applies=False)
    config_text = text.decode("utf-8", "replace")
    try:
        data = load_data(config_text)
    except RolloutError as err:
        return failed(NAME, str(err), VALIDATE)
    if not isinstance(data, dict):
        return failed(
            NAME,
            ".pre-commit-config.yaml is not a mapping",
            "fix it (`pre-commit validate-config`)",
        )
    managed = planner.hook_definitions(manifest, repo)
    wrong = _as_rendered(manifest, repo, snap, config_text, data, managed)
    if wrong is not None:
        return wrong
    unsafe = _runs_a_program(managed)
    if unsafe is not None:
        return failed(
            NAME,
            f"{unsafe}; verify runs only hooks of language {' or '.join(TRIAL_LANGUAGES)} with no "
            "log_file (as the shipped ones): nothing run",
            f"check {render.PRECOMMIT_HOOKS_TEMPLATE} in the manifest's templates folder",
        )
    config = _trial_config(data, managed)
    ids = [h["id"] for h in managed]
    refused = _run(trial, config, ids, snap)
    if refused is not None:
        return refused
    others = len(
        [
            h
            for r in data.get("repos") or []
            if isinstance(r, dict)
            for h in r.get("hooks") or []
            if isinstance(h, dict) and h.get("id") not in ids
        ]
    )
    return passed(
        NAME,
        f"pre-commit ran {', '.join(ids)} by id: refuses .env, a plaintext .enc and plaintext "
        "added to a real .enc, accepts "
        f".env.example and .env.enc (the repo's {others} other hook{'s' if others != 1 else ''} "
        "not run)",
    )


# what verify lets pre-commit run: the languages of templates/precommit-hooks.yaml.j2, which start no
# program (`fail` prints its entry, `pygrep` is a regular expression matched inside pre-commit)
TRIAL_LANGUAGES = ("fail", "pygrep")


def _runs_a_program(managed: list[dict[str, Any]]) -> str | None:
    """Why a managed hook, as the manifest's templates render it, may not run in verify's trial (None
    when each may). Pass 20d (13.5): verify ran whatever the templates folder made of the hooks before
    anyone reviewed it: `language: system` ran any command (the age key file at its usual path, the
    user's files in reach), and pre-commit appends a failing hook's output, i.e. the template's
    `entry` text, to its `log_file`, any path (`~/.bashrc`)."""
    for hook in managed:
        if not isinstance(hook, dict):
            return "a managed hook is not a mapping"
        hook_id = inert(str(hook.get("id")))[:60]
        language = hook.get("language")
        if language not in TRIAL_LANGUAGES:
            shown = inert(str(language))[:40]
            return f"the managed hook {hook_id} is language {shown}, which starts a program"
        if "log_file" in hook:
            return f"the managed hook {hook_id} sets log_file (pre-commit writes its output there)"
        args = hook.get("args", [])
        if language == "pygrep" and (
            not isinstance(args, list) or any(a not in PYGREP_FLAGS for a in args)
        ):
            # pass 21b (13.5): pre-commit runs `pygrep ARGS ENTRY FILES`, so a word in `args` is the
            # pattern and each one after it a file pygrep reads and prints matches of: `args:
            # [AGE-SECRET-KEY-1, ~/.config/sops/age/keys.txt]` printed the private key in verify's line
            return (
                f"the managed hook {hook_id} gives pygrep arguments besides its flags "
                f"({', '.join(PYGREP_FLAGS)}): pygrep reads such a word as a pattern or a file"
            )
    return None


# pre-commit's pygrep options (pre_commit/languages/pygrep.py), spelled out whole: nothing else in `args`
PYGREP_FLAGS = ("-i", "--ignore-case", "--multiline", "--negate")


def _as_rendered(
    manifest: Manifest,
    repo: RepoSpec,
    snap: RefFiles,
    config_text: str,
    data: dict,
    managed: list[dict[str, Any]],
) -> Check | None:
    """A failed check when the ref's config lacks a managed hook as rendered, or keeps a hand-written blocker."""
    ids = [h["id"] for h in managed]
    try:
        states = hooks_state(config_text, managed, data=data)
    except (AttributeError, TypeError):
        return failed(
            NAME,
            ".pre-commit-config.yaml has no readable `repos:` list",
            "fix it (`pre-commit validate-config`)",
        )
    missing = [i for i in ids if states[i] == "missing"]
    changed = [i for i in ids if states[i] == "modified"]
    if missing or changed:
        parts = ([f"{', '.join(missing)} missing"] if missing else []) + (
            [f"{', '.join(changed)} not as the manifest renders it (edited by hand?)"]
            if changed
            else []
        )
        return failed(
            NAME,
            f".pre-commit-config.yaml at {snap.ref}: {'; '.join(parts)}",
            f"{APPLY} (adds {' and '.join(missing + changed)} as rendered)",
        )
    hand = planner.hand_written_hooks(repo, config_text, managed, manifest)
    if hand:
        return failed(
            NAME,
            f".pre-commit-config.yaml at {snap.ref}: hand-written hook "
            f"{', '.join(h.id for h in hand)} still blocks .env beside {ids[0]}",
            f"{APPLY} (replaces it with {ids[0]})",
        )
    return None


def _trial_config(data: dict, managed: list[dict[str, Any]]) -> dict[str, Any]:
    """The config that runs: the managed hooks, with the ref's top-level files/exclude/default_stages."""
    config: dict[str, Any] = {
        k: v for k, v in data.items() if k in ("files", "exclude") and isinstance(v, str)
    }
    if isinstance(data.get("default_stages"), list):
        config["default_stages"] = [str(v) for v in data["default_stages"]]
    config["repos"] = [{"repo": "local", "hooks": managed}]
    return config


def _run(
    trial: throwaway.HookTrial, config: dict[str, Any], ids: list[str], snap: RefFiles
) -> Check | None:
    """Each managed hook on the files it must refuse and those it must accept; a failed check, or None."""
    blocker, sealer = ids[0], ids[1] if len(ids) > 1 else None
    # require-encrypted-values, third in templates/precommit-hooks.yaml.j2
    valuer = ids[2] if len(ids) > 2 else None
    wanted = [
        (blocker, throwaway.HookTrial.PLAINTEXT_ENV, True),
        (blocker, throwaway.HookTrial.ACCEPT, False),
    ]
    if sealer:
        wanted += [
            (sealer, throwaway.HookTrial.PLAINTEXT_ENC, True),
            (sealer, throwaway.HookTrial.ACCEPT, False),
        ]
    if valuer:
        wanted += [
            (valuer, throwaway.HookTrial.PLAINTEXT_ADDED, True),
            (valuer, throwaway.HookTrial.ACCEPT, False),
        ]
    runs = trial.run(
        json.dumps(config, sort_keys=True), [(hook, files) for hook, files, _ in wanted]
    )
    if isinstance(runs, str):
        return failed(NAME, runs, "fix the manifest's age_recipients")
    broken = next((run for run in runs if run.broken), None)
    if broken is not None:
        return failed(
            NAME,
            f"pre-commit could not run the managed hooks: {throwaway.last_line(broken.output)}",
            VALIDATE,
        )
    problems = []
    for (hook, files, refuse), run in zip(wanted, runs, strict=False):
        if refuse and not run.refused:
            trial_files = throwaway.HookTrial
            what = (
                "a plaintext .env"
                if files == trial_files.PLAINTEXT_ENV
                else "a plaintext line added to a real .env.enc"
                if files == trial_files.PLAINTEXT_ADDED
                else "a plaintext file named .env.secrets.enc"
            )
            problems.append(f"{hook} accepts {what}")
        elif not refuse and run.code != 0:
            problems.append(
                f"{hook} refuses {' and '.join(files)} ({throwaway.last_line(run.output)})"
            )
    if not problems:
        return None
    scope = [k for k in ("files", "exclude", "default_stages") if k in config]
    at_fault = (
        f"the config's top-level {', '.join(scope)} at {snap.ref}"
        if scope
        else "the managed hook definitions (templates/precommit-hooks.yaml.j2)"
    )
    return failed(NAME, f"pre-commit: {'; '.join(problems)}", f"check {at_fault}")
