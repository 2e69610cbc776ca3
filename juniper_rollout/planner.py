"""Manifest + a repository's state at its base commit -> the file changes. Pure: no I/O.

The edge (``gitrepo``) reads exactly the paths :func:`wanted_paths` names, hands
them over as a :class:`Snapshot`, and gets back the changes to write.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from juniper_rollout import adopt, artifacts, dotenv, render, sopsmeta
from juniper_rollout.changes import (
    DELETE,
    FILE_KEPT,
    FILE_REPLACED,
    HOOK_REPLACED,
    NAME_ADDED,
    NAME_STALE,
    Adoption,
    FileChange,
    change,
    skip,
)
from juniper_rollout.discover import EnvVar
from juniper_rollout.edits import blocks, envexample, gitignore, precommit, yamlentry
from juniper_rollout.envfiles import DEFAULT as DEFAULT_ENV_FILES
from juniper_rollout.errors import RepoError
from juniper_rollout.manifest import EnvGroup, EnvVarSpec, FileSpec, Manifest, RepoSpec
from juniper_rollout.paths import AGENTS, GITIGNORE, PRECOMMIT, SOPS_CONFIG
from juniper_rollout.secretshape import looks_secret
from juniper_rollout.sopsmeta import is_lfs_pointer
from juniper_rollout.wording import filter_path, git_in
from juniper_rollout.yamlio import YamlSyntaxError, load_plain


@dataclass(frozen=True)
class Snapshot:
    """What the planner may know of a repo: blobs at the base commit, and a few facts."""

    files: Mapping[str, bytes]  # wanted path -> content at base (absent paths are missing)
    symlinks: frozenset[str] = frozenset()  # wanted paths that are, or sit under, a symlink at base
    code_vars: tuple[EnvVar, ...] = ()  # names discovered in the code (for `from: code`)
    dotenv_names: Mapping[str, tuple[str, ...]] = field(
        default_factory=dict
    )  # plaintext source -> names
    tracked_plaintext: tuple[
        str, ...
    ] = ()  # plaintext env files tracked at base (paths only, never contents)
    history: Mapping[str, tuple[tuple[str, str], ...]] = field(
        default_factory=dict
    )  # path -> (short sha, subject)
    code_unresolved: tuple[
        str, ...
    ] = ()  # "path:line" of env reads whose name discovery could not fold
    facts: artifacts.RepoFacts | None = (
        None  # for templates and `when:` (None: only what `files` shows)
    )
    # read only in place of another name (a legacy alias, NAME_FILE)
    code_also_read: tuple[str, ...] = ()
    # compared with the rollout branch: wanted paths it holds that its base lacks (the tool's
    # commits made them: no person's file, rendered again rather than merged or kept) (pass 8)
    tool_written: frozenset[str] = frozenset()
    # wanted paths .gitattributes stores through Git LFS (`filter=lfs`), pointer or not (pass 16b)
    lfs_tracked: frozenset[str] = frozenset()


def facts_of(repo: RepoSpec, snap: Snapshot) -> artifacts.RepoFacts:
    return snap.facts or artifacts.RepoFacts(frozenset(snap.files), repo.base)


def wanted_paths(repo: RepoSpec) -> list[str]:
    paths = [spec.path for spec in repo.files] + [e.target for e in repo.encrypt]
    return paths + [GITIGNORE, PRECOMMIT, AGENTS] if repo.sops else paths


def hook_definitions(manifest: Manifest, repo: RepoSpec) -> list[dict[str, Any]]:
    text = render.render(
        manifest, render.PRECOMMIT_HOOKS_TEMPLATE, render.base_context(manifest, repo)
    )
    try:
        return copy.deepcopy(_parsed_hooks(text))
    except YamlSyntaxError as err:
        # pass 23b: "unexpected YamlSyntaxError while planning (a damaged repository? run `git fsck`
        # …; please report this)" and a crash log, for every repo. The reader's own words are left
        # out: they quote the rendered text (`found undefined alias 'X'`), which a template fills
        at = f" at line {err.line} of its output" if err.line else ""
        raise RepoError(
            f"template {render.PRECOMMIT_HOOKS_TEMPLATE} renders text YAML cannot read{at}; fix the "
            "template (render it with `rollout plan` after each change)"
        ) from None


@lru_cache(maxsize=8)
def _parsed_hooks(text: str) -> list[dict[str, Any]]:
    return load_plain(text)


def _opt_outs(repo: RepoSpec) -> dict[str, str]:
    """The SOPS rollout's fleet-wide files of ``repo`` (none a `files:` or `encrypt:` path of its own),
    each with the entry's key that leaves it alone."""
    if not repo.sops:
        return {}
    own = {spec.path for spec in repo.files} | {e.target for e in repo.encrypt}
    keys = {
        GITIGNORE: "gitignore: false",
        PRECOMMIT: "precommit_hook: skip",
        AGENTS: "agents_md: skip",
    }
    return {path: key for path, key in keys.items() if path not in own}


def _left_alone(repo: RepoSpec, path: str) -> bool:
    """Whether the plan neither reads nor writes the fleet-wide file ``path`` when it is a symlink: its
    opt-out is set, or it is AGENTS.md (an optional section: skipped with a note, `_agents`)."""
    return (
        path == AGENTS
        or (path == GITIGNORE and not repo.gitignore)
        or (path == PRECOMMIT and repo.precommit_hook == "skip")
    )


def plan_repo(manifest: Manifest, repo: RepoSpec, snap: Snapshot) -> list[FileChange]:
    """Every managed file of ``repo`` with its action; raises RepoError for what the user must fix."""
    opt_outs = _opt_outs(repo)
    for path in sorted(snap.symlinks & set(wanted_paths(repo))):
        # pass 27a: `agents_md: skip` (or `precommit_hook: skip`, `gitignore: false`) still refused
        # the repo for a symlinked AGENTS.md (`-> CLAUDE.md`), a file the tool was told to leave alone
        if path in opt_outs and _left_alone(repo, path):
            continue
        also = f", or `{opt_outs[path]}` in its entry to leave it alone" if path in opt_outs else ""
        raise RepoError(
            f"{path} is a symlink, or in a folder that is one, at {repo.base}; the tool never "
            f"follows symlinks (replace the link with a regular file or folder{also})"
        )
    lfs = {path for path, data in snap.files.items() if is_lfs_pointer(data)} | snap.lfs_tracked

    def unless_lfs(path: str, make) -> FileChange:
        return _lfs_skip(path, snap) if path in lfs else make()

    for spec in repo.files:  # a rendered file or edit over sops ciphertext loses it (pass 8)
        held = snap.files.get(spec.path)
        fmt = sopsmeta.sops_format(held) if held is not None else None
        if fmt is not None and not (spec.kind == "file" and spec.policy == "create-only"):
            raise RepoError(
                f"{spec.path} at {repo.base} is sops-encrypted ({fmt}): a rendered file or edit "
                "there would replace or break the ciphertext; take it out of the rollout's files "
                f"for this repo ({_skip_advice(repo, spec.path)})"
            )
    facts = facts_of(repo, snap)
    out = []
    for spec in repo.files:
        why = artifacts.unmet(spec, facts)
        if why:
            out.append(skip(spec.path, why, snap.files.get(spec.path)))
        elif spec.path in lfs:
            out.append(_lfs_skip(spec.path, snap))
        elif spec.kind == "block":
            out.append(_block(manifest, repo, spec, snap, facts))
        elif spec.kind == "yaml-entry":
            out.append(_yaml_entry(manifest, repo, spec, snap, facts))
        elif spec.kind == "precommit-hook":
            out.append(_hooks(manifest, repo, spec, snap, facts))
        else:
            out.append(_rendered(manifest, repo, spec, snap, facts))
    for_the_manifests_recipients(manifest, out)
    if not repo.sops:  # the SOPS artifacts belong to the SOPS rollout only
        return out
    out.append(
        unless_lfs(GITIGNORE, lambda: _gitignore(manifest, repo, snap))
        if repo.gitignore
        else skip(GITIGNORE, "gitignore: false")
    )
    out.append(unless_lfs(PRECOMMIT, lambda: _precommit(manifest, repo, snap)))
    out.append(unless_lfs(AGENTS, lambda: _agents(manifest, repo, snap)))
    out += [_untrack(repo, path, snap.history.get(path, ())) for path in snap.tracked_plaintext]
    return out


def _skip_advice(repo: RepoSpec, path: str) -> str:
    """Where a repo's entry opts out of one fleet-wide file of ``repo.rollout``."""
    if repo.sops:
        return (
            "`policy: create-only` on its entry keeps the file as it is; a fleet-wide file: "
            f"`skip_files: [{path}]` in the repo's entry"
        )
    return f"`rollouts: {{{repo.rollout}: {{skip_files: [{path}]}}}}` in its entry"


def _lfs_skip(path: str, snap: Snapshot) -> FileChange:
    return skip(
        path,
        "stored in Git LFS (the commit holds only a pointer, or .gitattributes says filter=lfs): "
        "not written; make the change by hand, or stop tracking it with LFS",
        snap.files.get(path),
    )


def tracked_plaintext(manifest: Manifest, repo: RepoSpec, paths: list[str]) -> tuple[str, ...]:
    """The plaintext env files among ``paths`` (the one definition, plus the repo's encrypt sources)."""
    return tuple(sorted(filter(is_plaintext_env(repo, manifest), paths)))


def _untrack(repo: RepoSpec, path: str, commits: tuple[tuple[str, str], ...]) -> FileChange:
    """A tracked plaintext env file leaves the branch's tree; the clone's copy is never touched."""
    target = next((e.target for e in repo.encrypt if e.source == path and e.enabled), None)
    why = (
        f"plaintext secret, encrypted into {target}"
        if target
        else "plaintext secret, must not be in git"
    )
    shown = ", ".join(f"{short}" for short, _ in commits[:5]) + (
        f" and {len(commits) - 5} more" if len(commits) > 5 else ""
    )
    history = (
        f"history still holds it ({'commit' if len(commits) == 1 else 'commits'} {shown}): rotate every value "
        f"it held; purging history is the owner's call: {git_in(repo.path)} filter-repo "
        f"--invert-paths {filter_path(path)}"
    )
    return FileChange(path, DELETE, None, None, why, secret=True, detail=f"{why}; {history}")


def _text(snap: Snapshot, path: str) -> str | None:
    data = snap.files.get(path)
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RepoError(
            f"{path} is not UTF-8 text (convert it to UTF-8, then plan again)"
        ) from None


def _block(
    manifest: Manifest, repo: RepoSpec, spec: FileSpec, snap: Snapshot, facts: artifacts.RepoFacts
) -> FileChange:
    """kind: block: the rollout's own marked block in a file a person owns; every other byte kept."""
    body = render.render_file(manifest, repo, spec, facts.template_context())
    before = snap.files.get(spec.path)
    after = artifacts.plan_block(_text(snap, spec.path) or "", body, repo.rollout, spec.path)
    return change(
        spec.path, before, after.encode("utf-8"), f"{repo.rollout} block from {spec.template}"
    )


def yaml_entries_of(
    manifest: Manifest, repo: RepoSpec, spec: FileSpec, facts: artifacts.RepoFacts
) -> list[dict]:
    text = render.render_file(manifest, repo, spec, facts.template_context())
    return artifacts.rendered_entries(text, spec, str(manifest.path))


def _yaml_entry(
    manifest: Manifest, repo: RepoSpec, spec: FileSpec, snap: Snapshot, facts: artifacts.RepoFacts
) -> FileChange:
    """kind: yaml-entry: list entries set in a YAML file a person owns; every other byte and entry kept."""
    assert spec.entry is not None
    before = snap.files.get(spec.path)
    key, match, create = spec.entry
    entries = yaml_entries_of(manifest, repo, spec, facts)
    text = _text(snap, spec.path)
    if text is None:
        if not create:
            return skip(
                spec.path,
                f"no {spec.path} in the repo (kind: yaml-entry sets entries in an existing file; "
                "`create:` names a template for the whole file)",
            )
        context = {
            **render.base_context(manifest, repo),
            **spec.context,
            **facts.template_context(),
        }
        text = render.render(manifest, create, context, line=spec.line)
    after = artifacts.plan_yaml_entries(text, entries, spec)
    names = "; ".join(yamlentry.name_of(e, match) for e in entries)
    reason = f"rendered from {create}" if before is None else f"{key} entries {names or 'none'}"
    return change(spec.path, before, after.encode("utf-8"), reason)


def hooks_of(
    manifest: Manifest, repo: RepoSpec, spec: FileSpec, facts: artifacts.RepoFacts
) -> list[dict]:
    text = render.render_file(manifest, repo, spec, facts.template_context())
    return artifacts.rendered_hooks(text, spec, str(manifest.path))


def _hooks(
    manifest: Manifest, repo: RepoSpec, spec: FileSpec, snap: Snapshot, facts: artifacts.RepoFacts
) -> FileChange:
    """kind: precommit-hook: a rollout's local hooks spliced into the config a person keeps."""
    hooks = hooks_of(manifest, repo, spec, facts)
    before = snap.files.get(spec.path)
    if before is None:
        return skip(
            spec.path, f"no {spec.path} (kind: precommit-hook adds hooks only where one exists)"
        )
    after = artifacts.plan_hooks(_text(snap, spec.path) or "", hooks)
    return change(
        spec.path, before, after.encode("utf-8"), f"local hooks {', '.join(h['id'] for h in hooks)}"
    )


# the names sops reads its config under, in each folder from the one it runs in up (sops 3.11)
SOPS_CONFIG_NAMES = (".sops.yaml", ".sops.yml")


def for_the_manifests_recipients(manifest: Manifest, files: Iterable[FileChange]) -> None:
    """RepoError when a `.sops.yaml` the plan writes (rendered, an entry set in one, in any folder)
    names an age key the manifest's recipients do not. Pass 24b (13.6's templates): a `sops.yaml.j2`
    rule naming one more key (`age: '{{ recipients | join(",") }},age1…'`) was committed, so the
    tool's own `.env.enc` and every value anyone encrypted with it later opened with a key
    `defaults.age_recipients`, `rotate` and the plan never named (a saved plan's apply refused it as
    stale; a fresh apply wrote it); a `files:` entry rendering `deploy/.sops.yaml`, or setting a
    `creation_rules` entry in the repo's own, did the same for `sops` run in that folder. Pass 24e:
    any master key besides age, and a config the tool cannot read, are refused too, and a saved plan's
    files are checked alike at apply (a hand-edited plan applied them: apply's stale-plan check read
    the top-level `.sops.yaml`'s age keys only)."""
    for f in files:
        if f.after is None or not f.writes:
            continue
        if f.path.rpartition("/")[2].lower() not in SOPS_CONFIG_NAMES:
            continue
        try:
            text = f.after.decode("utf-8")
            found = sopsmeta.config_recipients(text) or []
            others = sopsmeta.config_other_keys(text)
        except (UnicodeDecodeError, ValueError):
            # pass 24e: sops read what the tool did not (a `!tag`, a second document) and named
            # another key; with nothing to encrypt, it was committed
            raise RepoError(
                f"{f.path} as the plan writes it is not UTF-8 YAML of one document the tool can read "
                "(a custom tag, a second document, a duplicate key?), so the keys it names cannot be "
                "checked; nothing written: fix the template that renders it"
            ) from None
        if others:
            # pass 24e: a pgp, kms, gcp_kms, azure_keyvault or hc_vault key beside the manifest's
            # was committed when the tool encrypted nothing itself (only encrypting refused it):
            # every later `sops -e` by a person encrypted for it too
            raise RepoError(
                f"{f.path} as the plan writes it names {', '.join(others)} master keys besides "
                "age, which defaults.age_recipients cannot name (their holder could read every "
                "value encrypted with it); nothing written: give its rules' keys as age: only, the "
                'manifest\'s (`{{ recipients | join(",") }}` in the template)'
            )
        extra = [key for key in found if key not in manifest.recipients]
        if extra:
            raise RepoError(
                f"{f.path} as the plan writes it names {', '.join(extra)}, which "
                "defaults.age_recipients does not name (its holder could read every value "
                "encrypted with it); nothing written: give its rules' age: only the manifest's "
                '(`{{ recipients | join(",") }}` in the template), or add the key with '
                "`rollout rotate --add age1…`"
            )


def _rendered(
    manifest: Manifest,
    repo: RepoSpec,
    spec: FileSpec,
    snap: Snapshot,
    facts: artifacts.RepoFacts | None = None,
) -> FileChange:
    groups = _groups(spec, snap) if spec.env_from else None
    extra = {
        **(facts or facts_of(repo, snap)).template_context(),
        **({"groups": groups} if groups is not None else {}),
    }
    before = snap.files.get(spec.path)
    persons = before is not None and spec.path not in snap.tool_written
    if persons and before is not None and groups is not None and spec.policy == "merge":
        return _merged(spec, snap, before, groups, _held_names(repo, snap))
    after = render.render_file(manifest, repo, spec, extra).encode("utf-8")
    if persons and before != after and spec.policy == "create-only":
        return skip(spec.path, "exists; policy create-only keeps the hand-written file", before)
    result = change(spec.path, before, after, f"rendered from {spec.template}")
    if spec.path == SOPS_CONFIG and result.writes and before is not None:
        text = _text(snap, spec.path) or ""
        if adopt.is_hand_written_sops(text):
            why = adopt.judge_sops(text, after.decode("utf-8"))
            return replace(
                result,
                detail=f"{result.reason}; replaces the hand-written file",
                adoptions=(Adoption(FILE_REPLACED, spec.path, why),),
            )
    found = [v for g in (extra or {}).get("groups", ()) for v in g.vars if v.source]
    detail = result.reason or ""
    if found:  # say where each discovered name came from
        shown = ", ".join(f"{v.name} ({v.source})" for v in found[:4]) + (
            ", …" if len(found) > 4 else ""
        )
        detail += f"; {len(found)} names found: {shown}"
    detail += _unresolved(spec, snap)
    return replace(result, detail=detail) if detail != result.reason else result


def _unresolved(spec: FileSpec, snap: Snapshot) -> str:
    """ "; not resolved: a.py:3, …": env reads whose name discovery could not fold (never guessed)."""
    if spec.env_from != "code" or not snap.code_unresolved:
        return ""
    return (
        "; not resolved: "
        + ", ".join(snap.code_unresolved[:6])
        + (", …" if len(snap.code_unresolved) > 6 else "")
    )


def _held_names(repo: RepoSpec, snap: Snapshot) -> tuple[str, ...]:
    """Names the repo's committed encrypted files hold (sops keeps names in plaintext: no key needed)."""
    names: list[str] = []
    for target in (e.target for e in repo.encrypt):
        meta = sopsmeta.read_metadata(snap.files[target]) if target in snap.files else None
        # never echoed: a name shaped like a credential is no name any code reads (secrets_plan
        # refuses it, or drops it with a note where the clone's plaintext lacks it: pass 27b)
        names += dotenv.named(meta.names) if meta else ()
    return tuple(names)


def _merged(
    spec: FileSpec,
    snap: Snapshot,
    before: bytes,
    groups: tuple[EnvGroup, ...],
    held: tuple[str, ...] = (),
) -> FileChange:
    """A hand-written env example: every byte kept, the names it lacks added in the tool's block."""
    text = _text(snap, spec.path) or ""
    groups = tuple(g if g.title else replace(g, title="Listed in the manifest") for g in groups)
    wanted = [v if v.source else replace(v, source="the manifest") for g in groups for v in g.vars]
    # what still reads or holds a name: the code (or .env), the manifest, the committed encrypted files
    read = (
        {v.name for v in wanted} | set(held) | set(snap.code_also_read)
        if spec.env_from in ("code", "dotenv")
        else None
    )
    try:
        merged = envexample.merge(text, groups, path=spec.path, read=read)
    except blocks.BrokenMarkers as err:
        raise RepoError(str(err)) from None
    # a "name" shaped like a credential (a token pasted into the example) is never echoed (pass 8)
    pasted = sum(dotenv.is_credential_name(n) for n in merged.stale)
    merged = replace(
        merged, stale=tuple(n for n in merged.stale if not dotenv.is_credential_name(n))
    )
    result = change(spec.path, before, merged.text.encode("utf-8"), "hand-written file kept")
    adoptions = [
        Adoption(FILE_KEPT, spec.path, "every line kept; set policy: replace to have it rendered")
    ]
    adoptions += [Adoption(NAME_ADDED, v.name, f"found in {v.source}") for v in merged.added]
    where = "the code" if spec.env_from == "code" else ".env"
    adoptions += [
        Adoption(NAME_STALE, n, f"{spec.path} lists it, {where} no longer reads it; kept")
        for n in merged.stale
    ]
    shown = ", ".join(f"{v.name} ({v.source})" for v in merged.added[:4])
    shown += ", …" if len(merged.added) > 4 else ""
    parts = [
        f"{len(merged.added)} missing name{'s' if len(merged.added) != 1 else ''} added in a marked block: "
        f"{shown}"
        if merged.added
        else "no name missing"
    ]
    if merged.stale:
        parts.append(f"not in {where} (kept, reported): {', '.join(merged.stale)}")
    if pasted:
        parts.append(
            f"{pasted} name{'s' if pasted != 1 else ''} shaped like a credential (not shown): "
            f"remove {'those lines' if pasted != 1 else 'that line'} from {spec.path} by hand and "
            "rotate the credential (it is readable in git)"
        )
    return replace(
        result,
        detail=f"{result.reason}; {'; '.join(parts)}{_unresolved(spec, snap)}",
        adoptions=tuple(adoptions),
    )


def _groups(spec: FileSpec, snap: Snapshot) -> tuple[EnvGroup, ...]:
    groups: tuple[EnvGroup, ...] = tuple(spec.context.get("groups", ()))
    known = {v.name for g in groups for v in g.vars}
    if spec.env_from == "code":
        by_group: dict[str, list[EnvVarSpec]] = {}
        for v in snap.code_vars:
            if v.name not in known:
                by_group.setdefault(v.group or v.source.rsplit(":", 1)[0], []).append(
                    EnvVarSpec(
                        v.name,
                        None if looks_secret(v.name) else v.default,
                        v.source,
                        v.description,
                        v.optional,
                    )
                )
        return groups + tuple(EnvGroup(title, tuple(found)) for title, found in by_group.items())
    elif spec.env_from == "dotenv":
        names = snap.dotenv_names.get(".env", ())
        found = [EnvVarSpec(n, None, ".env") for n in names if n not in known]
        title = "Found in .env (names only)"
    else:
        return groups
    return groups + ((EnvGroup(title, tuple(found)),) if found else ())


def _gitignore(manifest: Manifest, repo: RepoSpec, snap: Snapshot) -> FileChange:
    text = _text(snap, GITIGNORE) or ""

    def block(patterns: tuple[str, ...]) -> str:
        return render.render(
            manifest, render.GITIGNORE_BLOCK_TEMPLATE, {"patterns": list(patterns)}
        )

    try:
        result = gitignore.edit(text, block, env=manifest.env_files)
        wrong = gitignore.problems(result.text, manifest.env_files) if result.patterns else []
        if wrong and not gitignore.problems(
            gitignore.edit(text, _bare_block, env=manifest.env_files).text, manifest.env_files
        ):
            # pass 24e (13.6's templates): a block template dropping the patterns, commenting them
            # out or un-ignoring `.env` was committed; `git add .` then staged the plaintext `.env`
            raise RepoError(
                f"{GITIGNORE} as the plan writes it (with {render.GITIGNORE_BLOCK_TEMPLATE} rendered) "
                f"does not do the block's job: {'; '.join(wrong)}; nothing written: the template "
                "must write each of its `patterns` as a line of its own, and nothing that undoes one"
            )
    except blocks.BrokenMarkers as err:
        raise RepoError(str(err)) from None
    before = snap.files.get(GITIGNORE)
    after = result.text.encode("utf-8") if (result.text or before is not None) else None
    reason = (
        f"ignore rules: {', '.join(result.patterns)}"
        if result.patterns
        else "ignore rules already right"
    )
    return change(GITIGNORE, before, after, reason)


def _bare_block(patterns: tuple[str, ...]) -> str:
    """The block as the shipped template writes it, without its comment: what a template's block is
    compared with (a repo whose own lines keep even this from working is left as before)."""
    return "".join(f"{pattern}\n" for pattern in patterns)


def _precommit(manifest: Manifest, repo: RepoSpec, snap: Snapshot) -> FileChange:
    mode = repo.precommit_hook
    before = snap.files.get(PRECOMMIT)
    if mode == "skip":
        return skip(PRECOMMIT, "precommit_hook: skip", before)
    hooks = hook_definitions(manifest, repo)
    if before is None:
        if mode == "auto":
            return skip(
                PRECOMMIT,
                "no .pre-commit-config.yaml (precommit_hook: auto adds hooks only where one exists)",
            )
        header = render.render(
            manifest, render.PRECOMMIT_CONFIG_TEMPLATE, render.base_context(manifest, repo)
        )
        return change(
            PRECOMMIT,
            None,
            precommit.new_config(header, hooks).encode("utf-8"),
            "new config with the local hooks",
        )
    text = _text(snap, PRECOMMIT) or ""
    hand = hand_written_hooks(repo, text, hooks, manifest)
    after = precommit.add_hooks(
        text, hooks, adopt=tuple((h.repo_index, h.hook_index) for h in hand)
    ).encode("utf-8")
    ids = ", ".join(h["id"] for h in hooks)
    result = change(PRECOMMIT, before, after, f"local hooks {ids}")
    if hand:
        adopted = tuple(
            Adoption(
                HOOK_REPLACED,
                h.id,
                f"{h.how_it_differs(hooks[0])}; {hooks[0]['id']} takes its place",
                h.spelling,
            )
            for h in hand
        )
        result = replace(
            result,
            adoptions=adopted,
            detail=f"{result.reason}; replaces hand-written {', '.join(h.id for h in hand)} in place",
        )
    return result


def is_plaintext_env(repo: RepoSpec, manifest: Manifest | None = None) -> Callable[[str], bool]:
    """The code's one definition of a plaintext env file (the manifest's ``plaintext_env``, juniper_rollout.envfiles),
    plus the files ``repo`` encrypts, as a predicate on repo-relative paths."""
    env = manifest.env_files if manifest is not None else DEFAULT_ENV_FILES
    sources = {e.source for e in repo.encrypt}
    return lambda path: env.is_plaintext_in_any_case(path) or path in sources


def hand_written_hooks(
    repo: RepoSpec, text: str, hooks: list[dict[str, Any]], manifest: Manifest | None = None
) -> list[adopt.HandHook]:
    """The config's hand-written local hooks that do the managed .env blocker's job."""
    return adopt.find(precommit.load_data(text), hooks[0], is_plaintext_env(repo, manifest))


def _agents(manifest: Manifest, repo: RepoSpec, snap: Snapshot) -> FileChange:
    before = snap.files.get(AGENTS)
    if repo.agents_md == "skip":
        return skip(AGENTS, "agents_md: skip", before)
    if AGENTS in snap.symlinks:  # as an AGENTS.md stored in Git LFS is (the smaller list)
        return skip(
            AGENTS,
            "a symlink: the tool never follows symlinks; add the section to the file it names by "
            "hand, or set `agents_md: skip`",
            before,
        )
    if before is None:
        return skip(AGENTS, "no AGENTS.md in the repo")
    text = _text(snap, AGENTS) or ""
    body = render.render(
        manifest, render.AGENTS_SECTION_TEMPLATE, render.base_context(manifest, repo)
    )
    try:
        after = blocks.put(text, body, blocks.MARKDOWN, path=AGENTS)
    except blocks.BrokenMarkers as err:
        raise RepoError(str(err)) from None
    return change(AGENTS, before, after.encode("utf-8"), "section pointing to the SOPS usage guide")
