"""The plan's verification list, per repo, on a ref. Read-only, offline, never in the clone.

What a repo holds is read from git objects. The two checks that need files on disk
(``git check-ignore``, ``pre-commit run``) work in a throwaway repo (``throwaway``)
holding only test files. Decrypted values are compared in memory and dropped:
nothing here prints or stores one.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from juniper_rollout import (
    dotenv,
    envfiles,
    gitrepo,
    keys,
    planner,
    secrets_plan,
    sops,
    sopsmeta,
    throwaway,
)
from juniper_rollout.agekey import short
from juniper_rollout.edits.envexample import listed_names
from juniper_rollout.edits.precommit import hooks_state, load_data
from juniper_rollout.errors import RolloutError
from juniper_rollout.keys import AgeKeys
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.paths import GITIGNORE, PRECOMMIT, SOPS_CONFIG
from juniper_rollout.pool import default_jobs
from juniper_rollout.refreader import guarded, read_at
from juniper_rollout.yamlio import YamlSyntaxError

CHECKS = ("plaintext-env", "sops-config", "sops-rules", "encrypted-files", "gitignore", "precommit-hook", "age-key")
APPLY = "run `rollout plan`, then `rollout apply` and merge the rollout branch"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    applies: bool = True  # False: ok because there is nothing to check here

    def as_json(self) -> dict[str, Any]:
        detail = self.detail if self.ok or not self.fix else f"{self.detail} (fix: {self.fix})"
        return {"name": self.name, "ok": self.ok, "detail": detail}


def passed(name: str, detail: str, *, applies: bool = True) -> Check:
    return Check(name, True, detail, applies=applies)


def failed(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, False, detail, fix)


@dataclass(frozen=True)
class RepoReport:
    name: str
    ref: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


@dataclass(frozen=True)
class RefFiles:
    """What verify reads of one repo at one ref: a few blobs and the committed *.enc paths."""

    ref: str
    files: Mapping[str, bytes]
    encrypted: tuple[str, ...]
    plaintext: tuple[str, ...] = ()  # tracked plaintext env files (envfiles definition)


# --- where sops finds the age key ----------------------------------------------------------


find_age_keys = keys.find_age_keys  # where sops 3.11 finds identities: keys.py


# --- reading a repo at a ref ---------------------------------------------------------------


def read_ref(repo: RepoSpec, ref: str | None, env: envfiles.EnvFiles = envfiles.DEFAULT) -> RefFiles:
    def read(clone, commit) -> RefFiles:
        paths = gitrepo.list_paths(commit)
        encrypted = tuple(sorted(p for p in paths if p.endswith(".enc")))
        sources = {e.source for e in repo.encrypt}
        plaintext = tuple(sorted(p for p in paths if env.is_plaintext(p) or p in sources))
        wanted = [SOPS_CONFIG, GITIGNORE, PRECOMMIT, ".env.example", *encrypted,
                  *(example_path(p) for p in encrypted)]
        files, _ = gitrepo.read_files(commit, list(dict.fromkeys(wanted)))
        return RefFiles(ref or repo.base, files, encrypted, plaintext)

    return read_at(repo, ref, read)


def example_path(encrypted: str) -> str:
    """``.env.enc`` -> ``.env.example``; ``sub/.env.secrets.enc`` -> ``sub/.env.secrets.example``."""
    return encrypted.removesuffix(".enc") + ".example"


def example_names(text: bytes) -> list[str]:
    """Names an example file documents: ``NAME=…`` lines and optional ones commented out (``# NAME=…``)."""
    return listed_names(text.decode("utf-8", "replace"))


# --- the checks ------------------------------------------------------------------------------


def check_plaintext(snap: RefFiles) -> Check:
    """No plaintext env file may be tracked at the ref: its values are in git for anyone with the repo."""
    name = "plaintext-env"
    if snap.plaintext:
        first = snap.plaintext[0]
        return failed(name, f"{', '.join(snap.plaintext)} tracked in git at {snap.ref}: plaintext secrets in the repository",
                      f"{APPLY} (its commit removes them; or `git rm --cached {first}`), rotate every value they held, "
                      f"and consider `git filter-repo --invert-paths --path {first}` (rewrites history: the owner's call)")
    return passed(name, "no plaintext env file tracked")



def check_sops_config(manifest: Manifest, snap: RefFiles) -> Check:
    name = "sops-config"
    text = snap.files.get(SOPS_CONFIG)
    if text is None:
        return failed(name, f"no .sops.yaml at {snap.ref}", APPLY)
    try:
        found = sopsmeta.config_recipients(text.decode("utf-8"))
    except (YamlSyntaxError, UnicodeDecodeError) as err:
        return failed(name, f".sops.yaml does not parse: {err}", APPLY)
    if not found:
        return failed(name, ".sops.yaml does not parse: it has no creation_rules", APPLY)
    wanted = list(manifest.recipients)
    extra = [k for k in found if k not in wanted]
    missing = [k for k in wanted if k not in found]
    if extra or missing:
        parts = ([f"extra {', '.join(map(short, extra))}"] if extra else []) + (
            [f"missing {', '.join(map(short, missing))}"] if missing else [])
        return failed(name, f".sops.yaml recipients differ from the manifest: {'; '.join(parts)}",
                      APPLY + " (or `rollout rotate` if the manifest is what is wrong)")
    return passed(name, f"{len(found)} recipient{'s' if len(found) != 1 else ''}, as in the manifest")


def check_sops_rules(repo: RepoSpec, snap: RefFiles, manifest: Manifest | None = None) -> Check:
    """sops matches path_regex against the path it is given: every plaintext env file and its .enc must match."""
    name = "sops-rules"
    env = manifest.env_files if manifest is not None else envfiles.DEFAULT
    text = snap.files.get(SOPS_CONFIG)
    if text is None:
        return failed(name, f"no .sops.yaml at {snap.ref}", APPLY)
    samples = env.samples()[0]
    paths = [*samples, *(p + ".enc" for p in samples), *(p for s in repo.encrypt for p in (s.source, s.target)),
             *snap.encrypted]
    unmatched = []
    try:
        config = text.decode("utf-8")
        for path in dict.fromkeys(paths):
            if not _rule_matches(config, path):
                unmatched.append(path)
    except (sops.SopsError, UnicodeDecodeError) as err:
        return failed(name, str(err), APPLY)
    if unmatched:
        return failed(name, f"no creation rule matches {', '.join(unmatched)} (sops matches path_regex "
                            "against the path it is given)", f"use path_regex '{env.sops_path_regex()}': {APPLY}")
    return passed(name, f"a rule matches {', '.join(dict.fromkeys(paths))}")


@functools.lru_cache(maxsize=256)
def _rule_matches(config: str, path: str) -> bool:
    """Asked of sops once per (config, path): fleets share one .sops.yaml."""
    return sops.rule_matches(config, path)


def check_encrypted(manifest: Manifest, repo: RepoSpec, snap: RefFiles, age: AgeKeys) -> Check:
    """Every committed *.enc: really sops-encrypted, for the manifest's recipients, decrypts, same names."""
    name = "encrypted-files"
    expected = [s for s in repo.encrypt if s.enabled and s.target not in snap.encrypted]
    if expected:
        spec = expected[0]
        return failed(name, f"no {spec.target} at {snap.ref} (the manifest encrypts {spec.source})",
                      f"put {spec.source} in the clone, then {APPLY}")
    if not snap.encrypted:
        return passed(name, "no *.enc files committed", applies=False)
    checks = [_encrypted_file(manifest, repo, path, snap, age) for path in snap.encrypted]
    return next((c for c in checks if not c.ok), None) or passed(name, "; ".join(c.detail for c in checks))


def _encrypted_file(manifest: Manifest, repo: RepoSpec, path: str, snap: RefFiles, age: AgeKeys) -> Check:
    name = "encrypted-files"
    blob = snap.files[path]
    meta = sops.read_metadata(blob)
    if meta is None or not sops.is_encrypted(blob, filename=path):
        return failed(name, f"{path} is not sops-encrypted (no sops metadata): it may be plaintext in git",
                      "remove it from git and its history, rotate those secrets, then encrypt with sops")
    if meta.format != "dotenv":
        return failed(name, f"{path} is sops-encrypted in {meta.format} format, not dotenv: the documented commands "
                            "(--input-type dotenv) cannot read it", APPLY + " (re-encrypts it as dotenv)")
    if set(meta.recipients) != set(manifest.recipients):
        now = ", ".join(map(short, meta.recipients))
        return failed(name, f"{path} is encrypted for {now}, not the manifest's recipients",
                      APPLY + " (re-keys it with sops updatekeys)")
    said = [f"{path}: {len(meta.names)} variables"]
    source = next((s.source for s in repo.encrypt if s.target == path), None)
    if not set(age.public) & set(meta.recipients):
        said.append(f"not decrypted ({'your key is not a recipient' if age.public else 'no age key found'})")
    else:
        try:
            same = _decrypts_to_clone_copy(repo, blob, path, source)
        except RolloutError as err:
            return failed(name, str(err))
        if same is False:
            return failed(name, f"{path} decrypts, but not to the {source} in your clone",
                          f"{APPLY} (re-encrypts {source}), or decrypt {path} over {source} if git is right")
        said.append("decrypts" + (f" to {source} in the clone" if same is True and source else ""))
    example = snap.files.get(example_path(path))
    if example is None:
        said.append(f"no {example_path(path)} to compare names with")
    else:
        listed = example_names(example)
        undocumented = [n for n in meta.names if n not in listed]
        optional = [n for n in listed if n not in meta.names]
        if undocumented:  # a secret nobody can learn the name of from the example
            return failed(name, f"{path} holds {', '.join(undocumented)}, which {example_path(path)} does not list",
                          f"add {'them' if len(undocumented) > 1 else 'it'} to {example_path(path)} "
                          f"(or the manifest's env_example), then {APPLY}")
        said.append(f"every name documented in {example_path(path)}"
                    + (f" ({len(optional)} optional name{'s' if len(optional) != 1 else ''} there not set: fine)"
                       if optional else ""))
    return passed(name, ", ".join(said))


def _decrypts_to_clone_copy(repo: RepoSpec, blob: bytes, path: str, source: str | None) -> bool | None:
    """Decrypt (sops finds the key) and compare with the clone's plaintext: None when there is none."""
    plaintext = sops.decrypt_dotenv(blob, filename=path)
    clone_copy = _clone_plaintext(repo, source) if source else None
    return None if clone_copy is None else clone_copy == plaintext


def _clone_plaintext(repo: RepoSpec, source: str) -> bytes | None:
    try:
        data = secrets_plan.read_plaintext(repo, source)
    except RolloutError:
        return None
    return None if data is None else dotenv.sops_form(data)[0]


def check_gitignore(snap: RefFiles, manifest: Manifest | None = None) -> Check:
    """git's own check-ignore, in a throwaway repo holding only the ref's .gitignore."""
    name = "gitignore"
    MUST_IGNORE, MUST_TRACK = (manifest.env_files if manifest is not None else envfiles.DEFAULT).samples()
    gitignore = snap.files.get(GITIGNORE)
    with throwaway.scratch_repo({GITIGNORE: gitignore} if gitignore is not None else None) as scratch:
        ignored = throwaway.ignored(scratch, [*MUST_IGNORE, *MUST_TRACK])
    not_ignored = [p for p in MUST_IGNORE if p not in ignored]
    wrongly = [p for p in MUST_TRACK if p in ignored]
    if not_ignored or wrongly:
        parts = ([f"not ignored: {', '.join(not_ignored)}"] if not_ignored else []) + (
            [f"ignored: {', '.join(wrongly)}"] if wrongly else [])
        return failed(name, f"git check-ignore at {snap.ref}: {'; '.join(parts)}", APPLY + " (fixes .gitignore)")
    return passed(name, f"ignores {', '.join(MUST_IGNORE)}; tracks {', '.join(MUST_TRACK)}")


def check_hook(manifest: Manifest, repo: RepoSpec, snap: RefFiles, trial: throwaway.HookTrial) -> Check:
    """The managed hooks, exactly as the manifest renders them, run by id with the real pre-commit.

    The ref's config is read, never run: it must hold the managed hooks as rendered and no
    hand-written .env blocker beside them. What runs is a config the tool renders itself
    (the managed hooks, and the ref's top-level files/exclude/default_stages, which decide
    whether they see a file), in a throwaway repo, with an environment holding no key material.
    A branch's other hooks (its own tests, or a hostile `cp "$SOPS_AGE_KEY_FILE" …`) never run.
    """
    name = "precommit-hook"
    if repo.precommit_hook == "skip":
        return passed(name, "precommit_hook: skip", applies=False)
    text = snap.files.get(PRECOMMIT)
    if text is None:
        if repo.precommit_hook == "create":
            return failed(name, f"no .pre-commit-config.yaml at {snap.ref}", APPLY)
        return passed(name, "no pre-commit config (not applicable)", applies=False)
    try:
        config_text = text.decode("utf-8", "replace")
        data = load_data(config_text)
    except RolloutError as err:
        return failed(name, str(err), "fix .pre-commit-config.yaml (`pre-commit validate-config`)")
    if not isinstance(data, dict):
        return failed(name, ".pre-commit-config.yaml is not a mapping", "fix it (`pre-commit validate-config`)")
    managed = planner.hook_definitions(manifest, repo)
    ids = [h["id"] for h in managed]
    try:
        states = hooks_state(config_text, managed, data=data)
    except (AttributeError, TypeError):
        return failed(name, ".pre-commit-config.yaml has no readable `repos:` list", "fix it (`pre-commit validate-config`)")
    missing = [i for i in ids if states[i] == "missing"]
    changed = [i for i in ids if states[i] == "modified"]
    if missing or changed:
        parts = ([f"{', '.join(missing)} missing"] if missing else []) + (
            [f"{', '.join(changed)} not as the manifest renders it (edited by hand?)"] if changed else [])
        return failed(name, f".pre-commit-config.yaml at {snap.ref}: {'; '.join(parts)}",
                      f"{APPLY} (adds {' and '.join(missing + changed)} as rendered)")
    hand = planner.hand_written_hooks(repo, config_text, managed, manifest)
    if hand:
        return failed(name, f".pre-commit-config.yaml at {snap.ref}: hand-written hook "
                            f"{', '.join(h.id for h in hand)} still blocks .env beside {ids[0]}",
                      f"{APPLY} (replaces it with {ids[0]})")
    config: dict[str, Any] = {k: v for k, v in data.items() if k in ("files", "exclude") and isinstance(v, str)}
    if isinstance(data.get("default_stages"), list):
        config["default_stages"] = [str(v) for v in data["default_stages"]]
    config["repos"] = [{"repo": "local", "hooks": managed}]
    blocker, sealer = ids[0], ids[1] if len(ids) > 1 else None
    wanted = [(blocker, throwaway.HookTrial.PLAINTEXT_ENV, True), (blocker, throwaway.HookTrial.ACCEPT, False)]
    if sealer:
        wanted += [(sealer, throwaway.HookTrial.PLAINTEXT_ENC, True), (sealer, throwaway.HookTrial.ACCEPT, False)]
    runs = trial.run(json.dumps(config, sort_keys=True), [(hook, files) for hook, files, _ in wanted])
    if isinstance(runs, str):
        return failed(name, runs, "fix the manifest's age_recipients")
    broken = next((run for run in runs if run.broken), None)
    if broken is not None:
        return failed(name, f"pre-commit could not run the managed hooks: {throwaway.last_line(broken.output)}",
                      "fix .pre-commit-config.yaml (`pre-commit validate-config`)")
    problems = []
    for (hook, files, refuse), run in zip(wanted, runs, strict=False):
        if refuse and not run.refused:
            what = "a plaintext .env" if files == throwaway.HookTrial.PLAINTEXT_ENV else \
                "a plaintext file named .env.secrets.enc"
            problems.append(f"{hook} accepts {what}")
        elif not refuse and run.code != 0:
            problems.append(f"{hook} refuses {' and '.join(files)} ({throwaway.last_line(run.output)})")
    if problems:
        scope = [k for k in ("files", "exclude", "default_stages") if k in config]
        at_fault = (f"the config's top-level {', '.join(scope)} at {snap.ref}" if scope
                    else "the managed hook definitions (templates/precommit-hooks.yaml.j2)")
        return failed(name, f"pre-commit: {'; '.join(problems)}", f"check {at_fault}")
    others = len([h for r in data.get("repos") or [] if isinstance(r, dict)
                  for h in r.get("hooks") or [] if isinstance(h, dict) and h.get("id") not in ids])
    return passed(name, f"pre-commit ran {', '.join(ids)} by id: refuses .env and a plaintext .enc, accepts "
                        f".env.example and .env.enc (the repo's {others} other hook{'s' if others != 1 else ''} "
                        "not run)")


def check_age_key(manifest: Manifest, age: AgeKeys) -> Check:
    """As sops: a source that cannot be read is skipped, so it fails the check only when no key is a recipient."""
    name = "age-key"
    if age.loose:
        return failed(name, age.loose[0])
    if not age.public and age.problems:
        return failed(name, age.problems[0])
    if not age.public:  # nothing that needs the key was checked; each check said so
        return passed(name, f"no age key where sops looks ({', '.join(age.looked)}): decryption not checked "
                            "(to check it: copy the team's key file there, or set SOPS_AGE_KEY_FILE)", applies=False)
    mine = [k for k in age.public if k in manifest.recipients]
    if not mine:
        return failed(name, f"your age key{'s' if len(age.public) > 1 else ''} "
                            f"({', '.join(map(short, age.public))}) {'are' if len(age.public) > 1 else 'is'} "
                            "not a recipient",
                      "get the team's key file, or add yours with `rollout rotate --add age1…`, then plan and apply")
    skipped = f" ({age.problems[0]}; sops skips it)" if age.problems else ""
    return passed(name, f"{short(mine[0])} in {', '.join(age.found)} is a recipient{skipped}")


# --- the fleet ---------------------------------------------------------------------------------


def verify_repo(manifest: Manifest, repo: RepoSpec, ref: str | None, age: AgeKeys,
                trial: throwaway.HookTrial) -> RepoReport:
    def checks() -> RepoReport:
        snap = read_ref(repo, ref, manifest.env_files)
        return RepoReport(repo.name, ref or repo.base, (
            check_plaintext(snap), check_sops_config(manifest, snap), check_sops_rules(repo, snap, manifest),
            check_encrypted(manifest, repo, snap, age), check_gitignore(snap, manifest),
            check_hook(manifest, repo, snap, trial), check_age_key(manifest, age)))

    return guarded(repo, "verifying", checks,
                   lambda error: RepoReport(repo.name, ref or repo.base, (failed("repo", error),)))


def verify_fleet(manifest: Manifest, repos: list[RepoSpec] | tuple[RepoSpec, ...], *, ref: str | None,
                 jobs: int | None = None) -> list[RepoReport]:
    age = find_age_keys()
    trial = throwaway.HookTrial(manifest.recipients)
    workers = max(1, min(jobs or default_jobs(), len(repos) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda r: verify_repo(manifest, r, ref, age, trial), repos))
