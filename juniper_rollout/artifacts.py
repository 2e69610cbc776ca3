"""Artifact kinds: the engine's extension point. Pure: no I/O.

An artifact is one ``files:`` entry of a rollout (``manifest.FileSpec``): a path, a
template, and a ``kind`` saying how the rendered text meets the repo. Every kind
answers the same two questions, so plan, apply, drift and verify treat all alike:

- ``plan``: the file's bytes at the base -> the bytes the rollout branch gets
  (``planner.plan_repo`` turns them into a ``FileChange``; ``apply`` writes it);
- ``state``: the file at a ref -> in-sync / missing / modified / extra (``audit``;
  ``verify`` passes an artifact iff it is in sync).

Kinds (``KINDS``):

- ``file``: the whole file is rendered from the template (``policy: create-only``
  keeps a hand-written one). YAML files are in sync when they load to the same data.
- ``block``: a marked block in a file humans own (``.gitignore``, ``AGENTS.md``, any
  text file). The markers carry the rollout's name, so two rollouts own two
  separate blocks in one file; every byte outside the block is kept. In an ignore
  file the block holds only the patterns the person's lines lack (compared as text).
- ``yaml-entry``: entries of a list in a YAML file humans own (``key: updates``,
  ``match: [package-ecosystem, directory]`` sets dependabot.yml's pip entry), each spliced
  into the text and verified by loading (``edits.yamlentry``); the person's other entries
  stay, and so do the keys they added to ours. ``create: TEMPLATE`` renders the whole file
  where there is none. In sync when each entry holds every rendered key and value.
- ``precommit-hook``: local hooks (the template renders a YAML list of hooks) spliced into an
  existing ``.pre-commit-config.yaml`` by the SOPS rollout's own editor (``edits.precommit``:
  the file's own indentation, verified by pre-commit's loader and schema). In sync when each
  hook loads equal to the rendering.

The SOPS rollout's own artifacts (``.sops.yaml``, the ``.gitignore`` rules judged by
git's matching, the pre-commit hooks spliced into an existing config, the AGENTS.md
section, the encrypted files) are the same two answers written for their special
needs (``planner``, ``secrets_plan``, ``audit``). A new kind is a new entry in
``KINDS`` with its ``plan`` and ``state``.

``when:`` conditions are judged on the repo's real state at its base (:class:`RepoFacts`),
never on a table: an artifact whose conditions do not hold is not managed there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from juniper_rollout.changes import IN_SYNC, MISSING, MODIFIED
from juniper_rollout.edits import blocks, precommit, yamlentry
from juniper_rollout.errors import ManifestError, RepoError
from juniper_rollout.fleetspec import SOPS_ROLLOUT, FileSpec
from juniper_rollout.yamlio import YamlSyntaxError, load_plain

KINDS = {
    "file": "a whole file rendered from a template",
    "block": "a marked block, one per rollout, in a file humans own",
    "yaml-entry": "entries of a list in a YAML file humans own, each found by its match fields",
    "precommit-hook": "local hooks spliced into an existing .pre-commit-config.yaml",
}
WHEN_KEYS = ("exists", "missing", "language")
LANGUAGES = {  # language -> (file suffixes, file names) that show a repo uses it
    "python": ((".py",), ("pyproject.toml", "setup.py", "setup.cfg")),
    "shell": ((".sh", ".bash"), ()),
    "javascript": ((".js", ".mjs", ".ts"), ("package.json",)),
    "go": ((".go",), ("go.mod",)),
    "rust": ((".rs",), ("Cargo.toml",)),
    "docker": ((), ("Dockerfile", "docker-compose.yml", "docker-compose.yaml", "compose.yaml")),
}
MARKDOWN_SUFFIXES = (".md", ".markdown", ".html")


@dataclass(frozen=True)
class RepoFacts:
    """What templates and ``when:`` may know of a repo, read from it at its base (never from a table)."""

    paths: frozenset[str]  # every file at the base
    default_branch: str  # the remote's default branch (origin/HEAD), else the manifest's base
    requires_python: str | None = None  # [project] requires-python of pyproject.toml

    def exists(self, path: str) -> bool:
        """A file, or a folder holding files, at the base."""
        path = path.rstrip("/")
        return path in self.paths or any(p.startswith(path + "/") for p in self.paths)

    def uses(self, language: str) -> bool:
        suffixes, names = LANGUAGES[language]
        return any(
            PurePosixPath(p).suffix in suffixes or PurePosixPath(p).name in names
            for p in self.paths
        )

    @property
    def python_version(self) -> str | None:
        """The lowest Python ``requires-python`` allows, as ``3.11`` (None: not stated)."""
        found = re.search(r"(?:>=|~=|==|>)\s*(\d+\.\d+)", self.requires_python or "")
        return found.group(1) if found else None

    def template_context(self) -> dict[str, Any]:
        return {
            "facts": {
                "default_branch": self.default_branch,
                "requires_python": self.requires_python,
                "python_version": self.python_version,
                "languages": [name for name in LANGUAGES if self.uses(name)],
            },
            "exists": self.exists,
        }


def requires_python(pyproject: bytes | None) -> str | None:
    """``[project] requires-python`` of a pyproject.toml (None: absent or not readable TOML)."""
    import tomllib

    if pyproject is None:
        return None
    try:
        value = tomllib.loads(pyproject.decode("utf-8")).get("project", {}).get("requires-python")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def unmet(spec: FileSpec, facts: RepoFacts) -> str | None:
    """Why ``spec``'s ``when:`` does not hold for this repo (None: it holds, or there is none)."""
    for key, value in spec.when:
        if key == "exists" and not facts.exists(value):
            return f"when: exists {value} (not in the repo)"
        if key == "missing" and facts.exists(value):
            return f"when: missing {value} (it is in the repo)"
        if key == "language" and not facts.uses(value):
            return f"when: language {value} (no {value} files)"
    return None


def markers(rollout: str, path: str) -> blocks.Markers:
    """The block markers of ``rollout`` in ``path``: comment syntax by file type, the rollout's name inside.
    The SOPS rollout keeps the markers it always had, so its blocks in existing repos stay recognised."""
    tag = "juniper-rollout" if rollout == SOPS_ROLLOUT else f"juniper-rollout {rollout}"
    if PurePosixPath(path).suffix.lower() in MARKDOWN_SUFFIXES:
        return blocks.Markers(f"<!-- >>> {tag} >>> -->", f"<!-- <<< {tag} <<< -->")
    return blocks.Markers(f"# >>> {tag} >>>", f"# <<< {tag} <<<")


# --- kind: block --------------------------------------------------------------------------------


def plan_block(text: str, body: str, rollout: str, path: str) -> str:
    """The file with the rollout's block set to ``body`` (kept in place, or appended); refuses broken markers.

    In an ignore file (``.gitignore``, ``.dockerignore``, …) a pattern the person's own lines already
    hold is not repeated in the block: the block adds what is missing (no block when nothing is)."""
    mark = markers(rollout, path)
    try:
        wanted: str | None = body
        if PurePosixPath(path).name.endswith("ignore"):
            wanted = _missing_lines(blocks.remove(text, mark, path=path), body)
        return blocks.put(text, wanted, mark, path=path)
    except blocks.BrokenMarkers as err:
        raise RepoError(str(err)) from None


def _missing_lines(own: str, body: str) -> str | None:
    """``body`` without the patterns ``own`` already has (its comments kept); None if no pattern is left."""
    have = {line.strip() for line in own.splitlines()}
    kept = [
        line
        for line in body.splitlines()
        if not line.strip() or line.lstrip().startswith("#") or line.strip() not in have
    ]
    if not any(line.strip() and not line.lstrip().startswith("#") for line in kept):
        return None
    return "\n".join(kept) + ("\n" if body.endswith("\n") else "")


def has_block(text: str, rollout: str, path: str) -> bool | None:
    """Whether the rollout's block is in ``text`` (None: its markers are broken)."""
    try:
        return blocks.split(text, markers(rollout, path), path=path).block is not None
    except blocks.BrokenMarkers:
        return None


def block_state(before: bytes | None, after: bytes | None, rollout: str, path: str) -> str:
    """In sync iff the block holds exactly what the template renders; the rest of the file is the person's."""
    if before is None:
        return MISSING
    present = has_block(before.decode("utf-8", "replace"), rollout, path)
    if present is None:
        return MODIFIED
    if before == after:
        return IN_SYNC
    return MODIFIED if present else MISSING


# --- kind: yaml-entry ---------------------------------------------------------------------------


def rendered_entries(text: str, spec: FileSpec, manifest_path: str) -> list[dict]:
    """The template's rendering as the entries it must be: one YAML mapping, or a list of them,
    each holding the ``match`` fields (a list may render empty where no entry applies)."""
    assert spec.entry is not None
    match = spec.entry[1]
    try:
        data = load_plain(text)
    except YamlSyntaxError:
        data = None
    entries = [data] if isinstance(data, dict) else data if isinstance(data, list) else None
    if entries is None or not all(
        isinstance(e, dict) and all(f in e for f in match) for e in entries
    ):
        raise ManifestError(
            manifest_path,
            spec.line,
            f"template {spec.template!r} of kind: yaml-entry must render "
            f"a YAML mapping, or a list of them, each with "
            f"{', '.join(f'`{f}:`' for f in match)} (fix the template)",
        )
    return entries


def plan_yaml_entries(text: str, entries: list[dict], spec: FileSpec) -> str:
    assert spec.entry is not None
    for entry in entries:
        text = yamlentry.set_entry(text, spec.entry[0], spec.entry[1], entry, path=spec.path)
    return text


def yaml_entries_state(before: bytes | None, entries: list[dict], spec: FileSpec) -> str | None:
    """Where the file is absent: missing if the rollout creates it (``create:``), else not managed."""
    assert spec.entry is not None
    if before is None:
        return MISSING if spec.entry[2] else None
    text = before.decode("utf-8", "replace")
    states = {yamlentry.state(text, spec.entry[0], spec.entry[1], e) for e in entries} or {IN_SYNC}
    if states == {IN_SYNC}:
        return IN_SYNC
    return MISSING if states == {MISSING} else MODIFIED


# --- kind: precommit-hook -----------------------------------------------------------------------


def rendered_hooks(text: str, spec: FileSpec, manifest_path: str) -> list[dict]:
    """The template's rendering as the list of hooks (each a mapping with an ``id``) it must be."""
    try:
        hooks = load_plain(text)
    except YamlSyntaxError:
        hooks = None
    if (
        not isinstance(hooks, list)
        or not hooks
        or not all(isinstance(h, dict) and "id" in h for h in hooks)
    ):
        raise ManifestError(
            manifest_path,
            spec.line,
            f"template {spec.template!r} of kind: precommit-hook must "
            "render a YAML list of hooks, each with an `id:` (fix the template)",
        )
    return hooks


def plan_hooks(text: str, hooks: list[dict]) -> str:
    return precommit.add_hooks(text, hooks)


def hooks_state(before: bytes | None, hooks: list[dict]) -> str | None:
    """None where there is no config: hooks go only into a config people already keep."""
    if before is None:
        return None
    try:
        states = set(precommit.hooks_state(before.decode("utf-8", "replace"), hooks).values())
    except (RepoError, precommit.PrecommitEditError, AttributeError, TypeError):
        return MODIFIED
    if states == {IN_SYNC}:
        return IN_SYNC
    return MISSING if states == {MISSING} else MODIFIED
