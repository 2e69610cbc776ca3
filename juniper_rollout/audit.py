"""Drift: how a repo at a ref differs from what the manifest renders today. Pure: no I/O.

The planner renders what the manifest asks for (``planner.plan_repo``); this module
only judges its result, artifact by artifact, and looks for secret hazards in
what the edge read (:class:`Facts`). Each managed artifact gets one state:

- ``in-sync``: what the manifest asks for is there;
- ``missing``: it is not there;
- ``modified``: it is there, but means something else;
- ``extra``: the tool's own block is there although the manifest no longer asks for it.

Artifacts the manifest does not manage in a repo (hooks where there is no
pre-commit config and ``precommit_hook: auto``, a section where there is no
AGENTS.md, a disabled encryption whose target is absent) are left out: not drift.

Equivalence rules, so that harmless re-formatting by a human is not drift and
any change of meaning is:

- YAML files rendered whole (``.sops.yaml``, ``files:`` entries ending in .yaml/.yml):
  in sync iff they load to the same data. sops and pre-commit read data, so
  comments, quoting and indentation are style; a re-quoted entry is in sync.
- Other whole files (``.env.example``, ``.env.secrets.example``, ``files:`` entries):
  byte-identical to the rendering, because ``apply`` would rewrite any other byte.
  ``policy: create-only`` files are in sync whenever they exist.
- The hooks in ``.pre-commit-config.yaml``: each hook's loaded data equals the
  rendered hook (``edits.precommit.hooks_state``): position, quoting and key order
  do not matter; a changed ``entry`` does. Missing if none of the tool's hook ids
  is there, modified if some are absent or differ; extra if present under
  ``precommit_hook: skip``.
- ``.gitignore``: judged by git's rules, not by text: in sync iff ``.env`` and
  ``.env.secrets`` are ignored and their example and encrypted forms are not
  (``edits.gitignore.problems``), with or without the tool's block; extra if the
  block is there but the rest of the file already does its job, or
  ``gitignore: false``.
- The AGENTS.md section: its body exactly as rendered.
- Encrypted files are never decrypted: in sync iff present with sops metadata
  for exactly the manifest's recipients.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from juniper_rollout import agekey, artifacts, planner, sopsmeta, wording
from juniper_rollout.changes import (
    CREATE,
    DELETE,
    EXTRA,
    HOOK_REPLACED,
    IN_SYNC,
    MISSING,
    MODIFIED,
    NAME_STALE,
    SKIP,
    UNCHANGED,
    FileChange,
)
from juniper_rollout.edits import blocks, gitignore, precommit
from juniper_rollout.envfiles import DEFAULT as DEFAULT_ENV_FILES
from juniper_rollout.errors import RolloutError
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.paths import SOPS_CONFIG
from juniper_rollout.secretshape import carries_credential, looks_secret, names_credential
from juniper_rollout.wording import clip, filter_path, git_in, path_word, shell_word
from juniper_rollout.yamlio import YamlSyntaxError, load_plain

MAX_COMMITS_NAMED = 5


@dataclass(frozen=True)
class Rule:
    """A kind of result, as SARIF and the docs describe it."""

    id: str
    name: str
    short: str
    help: str
    level: str  # SARIF: error | warning | note
    security_severity: str | None = None  # GitHub code scanning's 0.0-10.0 scale


DRIFT = "drift"
TRACKED_ENV, ENV_IN_HISTORY, ENC_WITHOUT_SOPS, SOPS_RECIPIENTS = (
    "tracked-plaintext-env",
    "plaintext-env-in-history",
    "enc-without-sops",
    "sops-recipients",
)
ENC_PLAINTEXT_VALUE = "plaintext-value-in-enc"
SECRET_IN_MESSAGE = "secret-in-message"
HAND_WRITTEN_HOOK, STALE_EXAMPLE_NAME = "hand-written-hook", "stale-example-name"
RULES = (
    Rule(
        DRIFT,
        "ArtifactDrift",
        "A managed file differs from what the manifest renders",
        "Run `rollout plan --repo REPO` to see the difference and `rollout apply` to write the fix "
        "on the rollout branch; or change the manifest if the repo is right.",
        "warning",
    ),
    Rule(
        TRACKED_ENV,
        "TrackedPlaintextEnv",
        "A plaintext env file is tracked by git",
        "A .gitignore line does not untrack a file: `rollout apply` removes it on the rollout branch (or run "
        "`git rm --cached PATH`), and rotate the secrets it held (they stay in history; purging it with "
        "`git filter-repo --invert-paths --path PATH` is the owner's call).",
        "error",
        "9.0",
    ),
    Rule(
        ENV_IN_HISTORY,
        "PlaintextEnvInHistory",
        "A plaintext env file was committed in the past",
        "Its values are still readable in those commits: rotate them; purging the file from history "
        "(`git filter-repo --invert-paths --path PATH`) is the owner's call.",
        "error",
        "7.5",
    ),
    Rule(
        ENC_WITHOUT_SOPS,
        "EncWithoutSopsMetadata",
        "A committed .enc file has no sops metadata",
        "It may be plaintext under an encrypted name: remove it from git, rotate what it held, "
        "and encrypt again with sops.",
        "error",
        "8.0",
    ),
    Rule(
        ENC_PLAINTEXT_VALUE,
        "PlaintextValueInEnc",
        "A committed dotenv .enc file holds a value sops did not encrypt",
        "A line was added to the encrypted file by hand (`echo NAME=value >> .env.enc` keeps the sops metadata): "
        "remove it, put the value in the plaintext file and re-encrypt, and rotate it: it is in history.",
        "error",
        "8.0",
    ),
    Rule(
        SECRET_IN_MESSAGE,
        "SecretInCommitMessage",
        "A commit or annotated tag message holds a secret",
        "A message is history too, readable by everyone who can read the repository: rotate the "
        "secret; rewriting that history is the owner's call.",
        "error",
        "7.5",
    ),
    Rule(
        SOPS_RECIPIENTS,
        "SopsRecipientsDiffer",
        ".sops.yaml recipients differ from the manifest",
        "Run `rollout plan` and `rollout apply` to rewrite .sops.yaml from the manifest, or add the "
        "key to defaults.age_recipients (`rollout rotate --add`) if it belongs.",
        "warning",
        "5.0",
    ),
    Rule(
        HAND_WRITTEN_HOOK,
        "HandWrittenEnvHook",
        "A hand-written hook does the managed .env hook's job",
        "The same job in another spelling drifts from the fleet: `rollout apply` replaces it in place with "
        "the managed hook, keeping every other line of the config.",
        "warning",
    ),
    Rule(
        STALE_EXAMPLE_NAME,
        "StaleExampleName",
        ".env.example lists a name the code no longer reads",
        "The tool never deletes a name a person wrote: remove it by hand if it is really gone, or keep it.",
        "note",
    ),
)


@dataclass(frozen=True)
class Artifact:
    path: str
    state: str
    change: FileChange | None = None  # the plan's change for it: what `--diff` shows


@dataclass(frozen=True)
class Finding:
    id: str
    path: str
    message: str


@dataclass(frozen=True)
class Facts:
    """What the edge read besides the planner's snapshot: names and metadata, never plaintext values."""

    paths: tuple[str, ...] = ()  # every file at the ref
    encrypted: Mapping[str, bytes] = field(default_factory=dict)  # every *.enc blob at the ref
    # the *.enc files at the ref larger than the tool reads: in ``encrypted`` by their first and last
    # lines only, whose line numbers are not the file's
    cut: frozenset[str] = frozenset()
    sops_config: bytes | None = None  # .sops.yaml at the ref
    read_at: str = ""  # the ref as git names what was read: ``origin/main`` when the clone has it
    env_commits: tuple[
        tuple[str, str, tuple[str, ...]], ...
    ] = ()  # (short sha, subject, env paths), any ref
    enc_history: tuple[
        tuple[str, str, str, bytes], ...
    ] = ()  # (short sha, subject, path, blob) of every *.enc ever committed
    # (ref, path, blob): env and *.enc files of trees refs point at outside every commit (a tag of
    # a tree), and (ref, "", blob) for a ref to a blob
    outside: tuple[tuple[str, str, bytes], ...] = ()
    # (short sha, subject, path, blob) of every file named like a git note (a 40-hex object id, flat
    # or nested `ab/cdef…`) ever committed on a branch or tag: a notes tree pushed as a branch
    note_history: tuple[tuple[str, str, str, bytes], ...] = ()
    # (notes ref, short sha, subject, path, blob) of every note ever added on a refs/notes/* ref's history
    notes_ref_history: tuple[tuple[str, str, str, str, bytes], ...] = ()
    # (where, what) of each message of history holding a secret (`commit abc1234`, "the value on line
    # 3 of the plaintext .env"): found by the edge, which reads the values; never the text itself
    messages: tuple[tuple[str, str], ...] = ()
    # (ref, object id) of each ref a finding offers to delete, as read: the delete's expected old value
    ref_tips: tuple[tuple[str, str], ...] = ()


# a git note's path in a notes tree: the annotated object's id, whole or split after 2 characters
# a note's path: its object's 40 hex digits, split by git into two-character folders at any depth (pass 14b:
# `ab/cd/<36 hex>`, git's fan-out past ~65,000 notes and read by `git notes show`, was not asked)
NOTE_PATHSPECS = [
    ":(glob)**/" + "[0-9a-f][0-9a-f]/" * depth + "[0-9a-f]" * (40 - 2 * depth)
    for depth in range(20)
]


@dataclass(frozen=True)
class RepoAudit:
    name: str
    ref: str | None = None
    commit: str | None = None
    artifacts: tuple[Artifact, ...] = ()
    findings: tuple[Finding, ...] = ()
    error: str | None = None

    @property
    def status(self) -> str:
        if self.error:
            return "error"
        drifted = any(a.state != IN_SYNC for a in self.artifacts)
        return "drift" if drifted or self.findings else IN_SYNC


def audit_repo(
    manifest: Manifest,
    repo: RepoSpec,
    snap: planner.Snapshot,
    facts: Facts,
    *,
    ref: str,
    commit: str | None = None,
) -> RepoAudit:
    """The artifacts' states and the hazards of ``repo`` at ``ref``; RepoError for what stops the planner."""
    judged = []
    specs = {spec.path: spec for spec in repo.files}
    for item in planner.plan_repo(manifest, repo, snap):
        if (
            item.action == DELETE
        ):  # a tracked plaintext env file: a finding (TRACKED_ENV), not an artifact
            continue
        spec = specs.get(item.path)
        if spec is not None and (spec.when or spec.kind != "file"):
            state = _artifact(manifest, repo, spec, item, snap)
        else:
            state = _state(manifest, repo, item, snap.files.get(item.path))
        if state is not None:
            judged.append(Artifact(item.path, state, item))
    judged += _encrypted(manifest, repo, facts)
    if (
        not repo.sops
    ):  # another rollout: its artifacts only; the secret hazards are the SOPS rollout's
        return RepoAudit(repo.name, ref, commit, tuple(judged))
    found = findings(manifest, repo, facts, ref) + _adoptions(
        [a.change for a in judged if a.change]
    )
    return RepoAudit(repo.name, ref, commit, tuple(judged), tuple(found))


def hazards_only(
    manifest: Manifest, repo: RepoSpec, facts: Facts, *, ref: str, commit: str | None, error: str
) -> RepoAudit:
    """``repo`` at ``ref`` whose artifacts cannot be judged (``error``, what stopped the planner): its
    secret hazards still, which read history and the ref's paths, none of those artifacts."""
    return RepoAudit(repo.name, ref, commit, (), tuple(findings(manifest, repo, facts, ref)), error)


def _artifact(
    manifest: Manifest, repo: RepoSpec, spec: Any, item: FileChange, snap: planner.Snapshot
) -> str | None:
    """An artifact of a kind from ``artifacts``, or one with a ``when:``: not managed where it does not hold."""
    before = snap.files.get(item.path)
    if artifacts.unmet(spec, planner.facts_of(repo, snap)):
        if spec.kind == "block" and before is not None:
            return EXTRA if artifacts.has_block(_text(before), repo.rollout, spec.path) else None
        return None
    if spec.kind == "block":
        return artifacts.block_state(before, item.after, repo.rollout, spec.path)
    if spec.kind == "yaml-entry":
        entries = planner.yaml_entries_of(manifest, repo, spec, planner.facts_of(repo, snap))
        return artifacts.yaml_entries_state(before, entries, spec)
    if spec.kind == "precommit-hook":
        return artifacts.hooks_state(
            before, planner.hooks_of(manifest, repo, spec, planner.facts_of(repo, snap))
        )
    return _whole_file(item)


def _adoptions(changes: list[FileChange]) -> list[Finding]:
    """Hand-written spellings of the managed hook, and example names nothing reads any more."""
    out = []
    for item in changes:
        hooks = [a for a in item.adoptions if a.kind == HOOK_REPLACED]
        if hooks:
            each = "; ".join(f"{a.subject}: {a.detail}" for a in hooks)
            word = "hook does" if len(hooks) == 1 else "hooks do"
            out.append(
                Finding(
                    HAND_WRITTEN_HOOK,
                    item.path,
                    f"{item.path}: hand-written {word} the managed .env hook's job in another spelling "
                    f"({each}): `rollout apply` replaces it in place",
                )
            )
        stale = [a.subject for a in item.adoptions if a.kind == NAME_STALE]
        if stale:
            out.append(
                Finding(
                    STALE_EXAMPLE_NAME,
                    item.path,
                    f"{item.path} lists {', '.join(stale)}, which the code no longer reads "
                    "(kept: remove by hand if really gone)",
                )
            )
    return out


# --- artifacts ---------------------------------------------------------------------------------


def _state(
    manifest: Manifest, repo: RepoSpec, item: FileChange, before: bytes | None
) -> str | None:
    """``before``: the file at the ref (a skipped change may not carry it)."""
    if item.path == planner.GITIGNORE:
        return _gitignore(manifest, repo, before)
    if item.path == planner.PRECOMMIT:
        return _hooks(manifest, repo, before)
    if item.path == planner.AGENTS:
        return _agents(repo, item, before)
    return _whole_file(item)


def _whole_file(item: FileChange) -> str:
    if item.action in (UNCHANGED, SKIP):  # skip: an existing create-only file
        return IN_SYNC
    if item.action == CREATE:
        return MISSING
    if PurePosixPath(item.path).suffix in (".yaml", ".yml") and _same_yaml(item.before, item.after):
        return IN_SYNC
    return MODIFIED


def _same_yaml(a: bytes | None, b: bytes | None) -> bool:
    try:
        return load_plain((a or b"").decode("utf-8")) == load_plain((b or b"").decode("utf-8"))
    except (UnicodeDecodeError, YamlSyntaxError):
        return False


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", "replace")


def _gitignore(manifest: Manifest, repo: RepoSpec, before: bytes | None) -> str | None:
    text = _text(before)
    try:
        has_block = blocks.split(text, blocks.GITIGNORE, path=planner.GITIGNORE).block is not None
        outside = blocks.remove(text, blocks.GITIGNORE, path=planner.GITIGNORE)
    except blocks.BrokenMarkers:
        return MODIFIED
    if not repo.gitignore:
        return EXTRA if has_block else None
    if gitignore.problems(text, manifest.env_files):
        return MODIFIED if has_block else MISSING
    if has_block and not gitignore.needed_patterns(outside, manifest.env_files):
        return EXTRA
    return IN_SYNC


def _hooks(manifest: Manifest, repo: RepoSpec, before: bytes | None) -> str | None:
    if before is None:
        return MISSING if repo.precommit_hook == "create" else None
    try:
        states = set(
            precommit.hooks_state(_text(before), planner.hook_definitions(manifest, repo)).values()
        )
    except (RolloutError, AttributeError, TypeError):  # not a config pre-commit could read
        return None if repo.precommit_hook == "skip" else MODIFIED
    if repo.precommit_hook == "skip":
        return EXTRA if states - {MISSING} else None
    if states == {IN_SYNC}:
        return IN_SYNC
    return MISSING if states == {MISSING} else MODIFIED


def _agents(repo: RepoSpec, item: FileChange, before: bytes | None) -> str | None:
    if before is None:
        return None
    try:
        has_block = (
            blocks.split(_text(before), blocks.MARKDOWN, path=planner.AGENTS).block is not None
        )
    except blocks.BrokenMarkers:
        return MODIFIED
    if repo.agents_md == "skip":
        return EXTRA if has_block else None
    if item.action == UNCHANGED:
        return IN_SYNC
    return MODIFIED if has_block else MISSING


def _encrypted(manifest: Manifest, repo: RepoSpec, facts: Facts) -> list[Artifact]:
    out = []
    for spec in repo.encrypt:
        blob = facts.encrypted.get(spec.target)
        if blob is None:
            if spec.enabled:
                out.append(Artifact(spec.target, MISSING))
            continue
        meta = sopsmeta.read_metadata(blob)
        same = (
            meta is not None
            and meta.format == "dotenv"
            and set(meta.recipients) == set(manifest.recipients)
        )
        if (
            same
            and meta is not None
            and manifest.data_key_rotated
            and meta.lastmodified < manifest.data_key_rotated
        ):
            same = False  # `rotate --data-key` asked for a new data key it does not have yet
        out.append(Artifact(spec.target, IN_SYNC if same else MODIFIED))
    return out


# --- findings ----------------------------------------------------------------------------------


def is_plaintext_env(path: str, repo: RepoSpec, manifest: Manifest | None = None) -> bool:
    """The one definition (manifest's ``plaintext_env``, juniper_rollout.envfiles), plus the repo's encrypt sources."""
    return planner.is_plaintext_env(repo, manifest)(path)


def plaintext_pathspecs(repo: RepoSpec, manifest: Manifest | None = None) -> list[str]:
    """git pathspecs covering the plaintext env files of ``repo``, anywhere in the tree (filtered by
    :func:`is_plaintext_env` afterwards: pathspecs cannot exclude ``*.example``)."""
    env = manifest.env_files if manifest is not None else DEFAULT_ENV_FILES
    # icase: .ENV too (see EnvFiles.is_plaintext_in_any_case)
    specs = [f":(glob,icase)**/{glob}" for glob in env.include]
    return specs + [f":(literal){e.source}" for e in repo.encrypt]


def findings(manifest: Manifest, repo: RepoSpec, facts: Facts, ref: str) -> list[Finding]:
    out = [
        Finding(
            TRACKED_ENV,
            path,
            f"{path} is tracked in git at {ref}; a .gitignore line does not untrack it: "
            f"`rollout apply` removes it on the rollout branch (or `{git_in(repo.path)} rm --cached -- {shell_word(path)}`); "
            f"rotate the secrets it held: they stay in history{_commits_of(path, facts)}; "
            f"purging them is the owner's call: `{git_in(repo.path)} filter-repo --invert-paths {filter_path(path)}`",
        )
        for path in facts.paths
        if is_plaintext_env(path, repo, manifest)
    ]
    out += _history(manifest, repo, facts)
    out += _enc_history(repo, facts)
    out += [
        Finding(
            SECRET_IN_MESSAGE,
            ".",  # no file: the repository's history
            f"the message of {where} holds {what}: it is history, readable by everyone who can "
            "read the repository: rotate it (rewriting that history is the owner's call)",
        )
        for where, what in facts.messages
    ]
    out += _outside_commits(manifest, repo, facts)
    out += _notes_on_a_branch(repo, facts)
    out += _notes_removed(repo, facts)
    out += [
        Finding(
            ENC_WITHOUT_SOPS,
            path,
            f"{path} {sopsmeta.lfs_note(facts.read_at or ref)}"
            if sopsmeta.is_lfs_pointer(blob)
            else f"{path} has no sops metadata: it may be plaintext; remove it "
            f"(`{git_in(repo.path)} rm --cached -- {shell_word(path)}`), rotate what it held, and encrypt again with sops",
        )
        for path, blob in sorted(facts.encrypted.items())
        if sopsmeta.read_metadata(blob) is None
    ]
    out += [
        Finding(
            ENC_PLAINTEXT_VALUE,
            path,
            f"{_line_of(facts, path, line)} holds a value sops did not encrypt, or a comment or sops_ "
            "line sops "
            "did not write (added by hand?): "
            f"remove that line, put the value in the plaintext file and re-encrypt "
            "(`rollout apply`), and rotate it: it stays readable in history",
        )
        for path, blob in sorted(facts.encrypted.items())
        if (line := sopsmeta.plaintext_value_line(blob)) is not None
    ]
    out += [
        Finding(
            ENC_PLAINTEXT_VALUE,
            path,
            f"{_line_of(facts, path, line)} holds a name shaped like a credential (a token pasted as a name? sops "
            "keeps names in clear, so it is readable in git); not shown: remove that line "
            f"(`sops edit --input-type {fmt} --output-type {fmt} {path_word(path)}`), and rotate "
            "that credential: it stays readable in history",
        )
        for path, blob in sorted(facts.encrypted.items())
        if sopsmeta.plaintext_value_line(blob) is None
        and (line := sopsmeta.credential_name_line(blob)) is not None
        and (fmt := sopsmeta.sops_format(blob))
    ]
    out += _recipients(manifest, facts.sops_config)
    return out


def _line_of(facts: Facts, path: str, line: int) -> str:
    """``path:line``, or ``path`` near its start or end when it was read by those lines only (pass
    24i: line 160,006 of a 17 MB `.env.enc` was named line 1110, counted in what was read)."""
    return f"{path} (near its start or end)" if path in facts.cut else f"{path}:{line}"


def history_commits(
    paths: tuple[tuple[str, str, tuple[str, ...]], ...], path: str
) -> list[tuple[str, str]]:
    return [(short, subject) for short, subject, touched in paths if path in touched]


def _bare_key(subject: str) -> bool:
    """A word of ``subject`` shaped like a key with no known prefix (item 8's bare line: `git commit -F
    .env.prod` whose first line is a random key, then a blank line, made it the whole subject; pass
    18b). A path's words (`org/feature-2024`) are no key unless long as a base64 key is."""
    from juniper_rollout.dotenv import is_credential_name

    words = (w.strip("\"'`()[]{}<>,;:!?") for w in subject.split())
    return any(("/" not in w or len(w) >= 32) and is_credential_name(w) for w in words)


# a subject holding a binding (`git commit -F .env.local`: its first line is `API_TOKEN=…`; `-m "add
# API_TOKEN=…"`) or a credential's shape is not repeated (pass 16b: drift printed the token in the
# finding about the very file that held it, in text, JSON and SARIF)
_BINDING = re.compile(r"(?:^|[\s\"'`(])(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*\S")


# a subject the edge found holding a value of the clone's plaintext env files (pass 22b): hidden by it
HIDDEN_SUBJECT = "\0(a value of a plaintext env file)"
# pass 26i: a subject the edge could not check, a plaintext env file of the clone being unreadable (a
# FIFO `.env`, as 1Password's mounted environments make one): hidden by it, every one
UNCHECKED_SUBJECT = "\0(a plaintext env file unread)"


def _subject(subject: str) -> str:
    if subject == HIDDEN_SUBJECT:
        return "(its subject holds a value of the clone's plaintext env files: not shown)"
    if subject == UNCHECKED_SUBJECT:
        return "(its subject not shown: a plaintext env file of the clone could not be read to check it)"
    if _BINDING.search(subject) or names_credential(subject) or _bare_key(subject):
        return "(its subject holds NAME=value text or a credential: not shown)"
    return f'"{clip(subject)}"'


def name_commits(commits: list[tuple[str, str]]) -> str:
    """``1 commit abc1234 "subject"`` / ``3 commits a, b, c and 2 more``."""
    named = ", ".join(
        f"{short} {_subject(subject)}" for short, subject in commits[:MAX_COMMITS_NAMED]
    )
    more = (
        f" and {len(commits) - MAX_COMMITS_NAMED} more" if len(commits) > MAX_COMMITS_NAMED else ""
    )
    return f"{'commit' if len(commits) == 1 else 'commits'} {named}{more}"


def _commits_of(path: str, facts: Facts) -> str:
    commits = history_commits(facts.env_commits, path)
    return f" ({name_commits(commits)})" if commits else ""


def _history(manifest: Manifest, repo: RepoSpec, facts: Facts) -> list[Finding]:
    tracked = set(facts.paths)
    by_path: dict[str, list[tuple[str, str]]] = {}
    for short, subject, paths in facts.env_commits:
        for path in paths:
            if (
                is_plaintext_env(path, repo, manifest) and path not in tracked
            ):  # tracked ones have their own finding
                by_path.setdefault(path, []).append((short, subject))
    out = []
    for path, commits in sorted(by_path.items()):
        out.append(
            Finding(
                ENV_IN_HISTORY,
                path,
                f"{path} was committed in the past ({name_commits(commits)}); "
                "its values are still readable there: rotate them; purging the file "
                "is the owner's call (rewrites history): "
                f"`{git_in(repo.path)} filter-repo --invert-paths {filter_path(path)}`",
            )
        )
    return out


def _enc_verdict(blob: bytes) -> str | None:
    """An ``.enc`` blob of history: ``ENC_WITHOUT_SOPS`` (no sops metadata), ``ENC_PLAINTEXT_VALUE``
    (a value or a line sops did not write), or None (what sops wrote)."""
    if sopsmeta.read_metadata(blob) is None:
        return ENC_WITHOUT_SOPS
    if (
        sopsmeta.plaintext_value_line(blob) is not None
        or sopsmeta.credential_name_line(blob) is not None
    ):
        return ENC_PLAINTEXT_VALUE
    return None


def _enc_history(repo: RepoSpec, facts: Facts) -> list[Finding]:
    """Every ``.enc`` blob ever committed without sops metadata (a plaintext file under an encrypted
    name), or with a line sops did not write (``echo NAME=value >> .env.enc``, re-encrypted later:
    the value stays readable in that commit). The blob at the ref has findings of its own."""
    current = set(facts.encrypted)
    found: dict[str, dict[str, list[tuple[str, str]]]] = {
        ENC_WITHOUT_SOPS: {},
        ENC_PLAINTEXT_VALUE: {},
    }
    # each distinct blob judged once (a file flipped between two 1 MB versions 300 times was judged
    # 300 times: 26 s of drift)
    verdicts: dict[bytes, str | None] = {}
    for short, subject, path, blob in facts.enc_history:
        if path in current and facts.encrypted[path] == blob:
            continue
        if blob not in verdicts:
            verdicts[blob] = _enc_verdict(blob)
        verdict = verdicts[blob]
        if verdict is not None:
            found[verdict].setdefault(path, []).append((short, subject))
    bare, added = found[ENC_WITHOUT_SOPS], found[ENC_PLAINTEXT_VALUE]
    return [
        Finding(
            ENC_WITHOUT_SOPS,
            path,
            f"{path} was once committed without sops metadata ({name_commits(commits)}): "
            "it may have held plaintext, still readable there: rotate what it held; "
            "purging it is the owner's call: "
            f"`{git_in(repo.path)} filter-repo --invert-paths {filter_path(path)}`",
        )
        for path, commits in sorted(bare.items())
    ] + [
        Finding(
            ENC_PLAINTEXT_VALUE,
            path,
            f"{path} was once committed with a value sops did not encrypt, a line sops did not "
            f"write, or a name shaped like a credential ({name_commits(commits)}): the value is "
            "still readable there: rotate it; "
            "purging it is the owner's call: "
            f"`{git_in(repo.path)} filter-repo --invert-paths {filter_path(path)}`",
        )
        for path, commits in sorted(added.items())
    ]


def _notes_on_a_branch(repo: RepoSpec, facts: Facts) -> list[Finding]:
    """A notes tree kept on a branch or tag (`git push origin refs/notes/commits:refs/heads/notes`, for a
    host that hides refs/notes): a note shaped like a plaintext env file is a blob named by the
    annotated commit's id, which the history scan by env-file names passes by (pass 11b)."""
    held: dict[str, list[tuple[str, str]]] = {}
    for short, subject, path, blob in facts.note_history:
        if sopsmeta.read_metadata(blob) is None and _dotenv_shaped(blob):
            held.setdefault(path, []).append((short, subject))
    return [
        Finding(
            ENV_IN_HISTORY,
            path,
            f"{path} is a git note shaped like a plaintext env file, committed on a branch or tag "
            f"({name_commits(commits)}: a notes tree pushed as a branch?): its values are readable "
            "there: rotate them; purging it is the owner's call: "
            f"`{git_in(repo.path)} filter-repo --invert-paths {filter_path(path)}`",
        )
        for path, commits in sorted(held.items())
    ]


def _notes_removed(repo: RepoSpec, facts: Facts) -> list[Finding]:
    """A note shaped like a plaintext env file that a notes ref no longer holds but its history does
    (`git notes add -F .env`, then `git notes remove`): pushed with `git push origin 'refs/notes/*'` like
    a file committed and then deleted (pass 13b: "0 findings"). A note the ref holds now is reported
    once, by :func:`_outside_commits`."""
    now = {blob for ref, path, blob in facts.outside if ref.startswith("refs/notes/") and not path}
    held: dict[str, list[tuple[str, str]]] = {}
    for ref, short, subject, _path, blob in facts.notes_ref_history:
        if blob in now or sopsmeta.read_metadata(blob) is not None or not _dotenv_shaped(blob):
            continue
        held.setdefault(ref, []).append((short, subject))
    return [
        Finding(
            ENV_IN_HISTORY,
            ref,
            f"the history of {ref} holds a note shaped like a plaintext env file, removed since "
            f"({name_commits(commits)}; `git push origin 'refs/notes/*'` pushes it): its values are "
            "readable there: rotate them; deleting that notes ref (and its history) is the owner's "
            f"call: `{_ref_delete(repo, facts, ref)}`",
        )
        for ref, commits in sorted(held.items())
    ]


def _ref_delete(repo: RepoSpec, facts: Facts, ref: str) -> str:
    """``git -C CLONE update-ref -d REF OLD``: deleted only while it holds what drift read (pass 25d:
    printed, then a reviewer's note added, the pasted delete took the newer note with the ref)."""
    old = dict(facts.ref_tips).get(ref)
    return f"{git_in(repo.path)} update-ref -d {shell_word(ref)}" + (f" {old}" if old else "")


def _outside_commits(manifest: Manifest, repo: RepoSpec, facts: Facts) -> list[Finding]:
    """Plaintext kept by a ref outside every commit: a tag of a tree holding an env file, or of a
    blob shaped like one; a tagged ``.enc`` without sops metadata or with a line sops did not write."""
    out = []
    for ref, path, blob in facts.outside:
        drop = f"deleting that ref is the owner's call: `{_ref_delete(repo, facts, ref)}`"
        held = f"{path} in the tree {ref} points at (outside every commit)"
        if not path:
            if sopsmeta.read_metadata(blob) is None and _dotenv_shaped(blob):
                what = (
                    "holds a note shaped like a plaintext env file (`git notes`)"
                    if ref.startswith("refs/notes/")
                    else "points at a file shaped like a plaintext env file"
                )
                out.append(
                    Finding(
                        ENV_IN_HISTORY,
                        ref,
                        f"{ref} {what} (outside every "
                        f"commit): its values are readable there: rotate them; {drop}",
                    )
                )
        elif path.lower().endswith(".enc") and sopsmeta.read_metadata(blob) is None:
            if not sopsmeta.is_lfs_pointer(blob):
                out.append(
                    Finding(
                        ENC_WITHOUT_SOPS,
                        path,
                        f"{held} has no sops metadata: it may hold plaintext, readable there: "
                        f"rotate what it held; {drop}",
                    )
                )
        elif path.lower().endswith(".enc"):
            if (
                sopsmeta.plaintext_value_line(blob) is not None
                or sopsmeta.credential_name_line(blob) is not None
            ):
                out.append(
                    Finding(
                        ENC_PLAINTEXT_VALUE,
                        path,
                        f"{held} has a value sops did not encrypt, a line sops did not write, or a "
                        "name shaped like a credential: "
                        f"it is readable there: rotate it; {drop}",
                    )
                )
        elif is_plaintext_env(path, repo, manifest):
            out.append(
                Finding(
                    ENV_IN_HISTORY,
                    path,
                    f"{held} is a plaintext env file: its values are readable there: rotate "
                    f"them; {drop}",
                )
            )
    return out


_ASSIGNMENT = re.compile(rb"\s*(export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=\s*\S")


_NAMED = re.compile(rb"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(\S.*)")


_BOMS = {
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
}


def _byte_wide(blob: bytes) -> bytes:
    """A text saved as UTF-16 or UTF-32 (PowerShell's `Out-File` writes UTF-16 with a byte order mark),
    as UTF-8; any other blob as it is. Pass 25c: `git notes add -F .env` of such a `.env`, or a
    `git replace` of a blob by it, was "0 findings" (its values readable with `iconv`). A text
    with no byte order mark is read in the width and order that decode it with no NUL and most
    of it ASCII."""
    if b"\0" not in blob:
        return blob
    for codec, bom in _BOMS.items():  # UTF-32-LE's mark starts with UTF-16-LE's: it comes first
        if blob.startswith(bom):
            return blob[len(bom) :].decode(codec, "replace").encode()
    # the reading that is most ASCII text, NULs counted against it, the byte-wide one among them
    # (pass 25f: a reading holding a NUL was dropped, so a byte-wide `.env` ending in a NUL, or a
    # UTF-16 one holding a U+0000, was read as CJK garbage: "0 findings")
    read = [blob.decode(codec, "replace") for codec in ("utf-8", *_BOMS)]  # `git notes` adds a byte
    best = max(range(len(read)), key=lambda i: _ascii_text(read[i]))
    return blob if best == 0 else read[best].encode()


def _ascii_text(text: str) -> int:
    nuls = text.count("\0")
    return sum(c.isascii() for c in text) - 2 * nuls


def _dotenv_shaped(blob: bytes) -> bool:
    """At least one ``NAME=value`` line, and no line that is neither that, a comment nor blank; or any
    ``NAME=value`` line whose name looks secret or whose value carries a credential, whatever else the
    text holds (pass 11b: `git notes add -m "Deployed with:" -F .env`, and a `.env` holding a
    multi-line value, were "0 findings": a line of prose or of the value is no assignment)."""
    # a `.env` saved by Windows Notepad starts with a UTF-8 BOM (python-dotenv reads past it): pass 12b,
    # `git notes add -F .env` of such a file was "0 findings"
    blob = _byte_wide(blob).removeprefix(b"\xef\xbb\xbf")
    lines = [
        line for line in blob.splitlines() if line.strip() and not line.lstrip().startswith(b"#")
    ]
    if lines and all(_ASSIGNMENT.match(line) for line in lines):
        return True
    for line in lines:
        found = _NAMED.match(line)
        if found is not None:
            name, value = (part.decode("utf-8", "replace") for part in found.groups())
            if looks_secret(name) or carries_credential(value):
                return True
    return False


def sops_recipients(config: bytes) -> set[str] | None:
    """Every age recipient the creation rules of a ``.sops.yaml`` name; None if it cannot be read."""
    try:
        found = sopsmeta.config_recipients(config.decode("utf-8"))
    except (UnicodeDecodeError, YamlSyntaxError):
        return None
    return None if found is None else set(found)


def _recipients(manifest: Manifest, config: bytes | None) -> list[Finding]:
    found = sops_recipients(config) if config is not None else None
    if found is None:
        return []
    wanted = set(manifest.recipients)
    extra = sorted(found - wanted)
    missing = [k for k in manifest.recipients if k not in found]
    if not extra and not missing:
        return []
    parts = ([f"extra {', '.join(map(agekey.short, extra))}"] if extra else []) + (
        [f"missing {', '.join(map(agekey.short, missing))}"] if missing else []
    )
    return [
        Finding(
            SOPS_RECIPIENTS,
            SOPS_CONFIG,
            f".sops.yaml recipients differ from the manifest ({'; '.join(parts)}): run `rollout apply` "
            "to rewrite it from the manifest, or `rollout rotate --add KEY` if the key belongs",
        )
    ]


# --- output data -------------------------------------------------------------------------------


def to_json(audits: list[RepoAudit]) -> dict[str, Any]:
    """drift's JSON, valid Unicode throughout: a path no UTF-8 decodes is shown with its bytes as
    ``\\xff`` (:func:`wording.unicode_only`), as the table and SARIF show it (pass 25c: its lone
    surrogates, ``\\udcff``, made strict readers refuse the whole report). A saved plan keeps them:
    apply reads the plan back into the exact bytes git stores, no other program does."""
    shown = wording.unicode_only
    repos = []
    for audit in audits:
        entry: dict[str, Any] = {
            "name": audit.name,
            "status": audit.status,
            "artifacts": [{"path": a.path, "state": a.state} for a in audit.artifacts],
            "findings": [
                {"id": f.id, "path": shown(f.path), "message": shown(f.message)}
                for f in audit.findings
            ],
        }
        if audit.error:
            entry["error"] = shown(audit.error)
        repos.append(entry)
    return {"repos": repos}


def exit_code(audits: list[RepoAudit]) -> int:
    """1 if a repo could not be read, else 2 if anything drifted or a hazard was found, else 0."""
    if any(a.status == "error" for a in audits):
        return 1
    return 2 if any(a.status == "drift" for a in audits) else 0
