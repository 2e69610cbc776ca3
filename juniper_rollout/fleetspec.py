"""What a loaded manifest is: the fleet (Manifest), each repo (RepoSpec), its files, encrypted files,
env example groups and pull request settings, as frozen dataclasses, and the vocabulary of their
values. Pure data: manifest.py reads and validates the file into these; render, artifacts, rollouts
and the edits build on them without importing the loader."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from juniper_rollout.envfiles import DEFAULT as DEFAULT_ENV_FILES
from juniper_rollout.envfiles import EnvFiles
from juniper_rollout.errors import ManifestError
from juniper_rollout.wording import rollout_command

HOOK_MODES = ("auto", "create", "skip")
AGENTS_MODES = ("auto", "skip")
POLICIES = ("replace", "create-only")
ENV_POLICIES = (
    "merge",
    "replace",
    "create-only",
)  # merge: a hand-written file kept, missing names added
ENV_SOURCES = ("manifest", "code", "dotenv")
REPO_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PLACEHOLDER_HINT = "run `rollout keygen` and paste the public key it prints"
SOPS_ROLLOUT = "sops"  # the default rollout: what a manifest without `rollouts:` describes


@dataclass(frozen=True)
class EnvVarSpec:
    name: str
    default: str | None = None
    source: str | None = None  # where a discovered name came from, e.g. "settings.py:12"
    description: str | None = None  # the field's description or docstring (discovered names)
    optional: bool = False  # the code has a default: the example shows it commented out


@dataclass(frozen=True)
class EnvGroup:
    title: str | None
    vars: tuple[EnvVarSpec, ...]


@dataclass(frozen=True)
class FileSpec:
    """A whole file the tool renders from a template and owns."""

    path: str
    template: str
    policy: str = "replace"
    context: Mapping[str, Any] = field(default_factory=dict)
    env_from: str | None = None  # for .env examples: manifest | code | dotenv
    line: int | None = None
    include: tuple[
        str, ...
    ] = ()  # from: code: globs of repo paths read besides the application code
    exclude: tuple[str, ...] = ()  # from: code: globs of repo paths not read
    kind: str = "file"  # an artifact kind (juniper_rollout.artifacts): file | block | yaml-entry
    entry: tuple[str, tuple[str, ...], str | None] | None = (
        None  # yaml-entry: (list key, match fields, create template)
    )
    when: tuple[
        tuple[str, str], ...
    ] = ()  # all must hold at the base: (exists|missing|language, value)


@dataclass(frozen=True)
class EncryptSpec:
    source: str  # plaintext in the user's clone, never in git
    target: str  # the committed, encrypted file
    enabled: bool = True
    line: int | None = None


@dataclass(frozen=True)
class RepoSpec:
    name: str
    path: Path
    url: str | None
    base: str
    branch: str
    commit_message: str
    files: tuple[FileSpec, ...]
    gitignore: bool
    precommit_hook: str
    agents_md: str
    encrypt: tuple[EncryptSpec, ...]
    line: int | None = None
    github: str | None = None  # OWNER/NAME on GitHub (else from `url`, else from origin's URL)
    rollout: str = "sops"  # the named rollout this spec belongs to (SOPS: the default one)

    @property
    def sops(self) -> bool:
        """Whether the SOPS artifacts (.sops.yaml, ignore rules, hook, AGENTS.md section, *.enc) belong here."""
        return self.rollout == SOPS_ROLLOUT


@dataclass(frozen=True)
class PullRequestSpec:
    """What ``rollout pr`` puts on each pull request (``defaults.pull_request``)."""

    title: str | None = None  # default: the commit message's first line
    body: str = ""  # an introduction above the list of files
    labels: tuple[str, ...] = ()
    reviewers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    path: Path
    workspace: Path
    templates: Path
    recipients: tuple[str, ...]
    usage_guide: (
        str | None
    )  # as written in defaults; None: where a `files:` entry renders the guide
    repos: tuple[RepoSpec, ...]
    env_files: EnvFiles = DEFAULT_ENV_FILES  # what a plaintext env file is (defaults.plaintext_env)
    data_key_rotated: str | None = (
        None  # `rotate --data-key`: .enc files last modified before this get a new data key
    )
    forge_api_url: str | None = None  # `forge: {api_url: ...}`: GitHub Enterprise's API base
    pull_request: PullRequestSpec = PullRequestSpec()
    rollout: str = "sops"  # the rollout these repo specs are for
    rollouts: tuple[str, ...] = ("sops",)  # every rollout the manifest declares, the SOPS one first
    opted_out: tuple[str, ...] = ()  # repos whose entry says `rollouts: {<this rollout>: false}`
    # every entry as the SOPS rollout has it (its `encrypt:` sources), whatever rollout runs: the leak
    # guard reads their plaintext env files too (pass 21b: a named rollout's repos were all it read)
    guarded: tuple[RepoSpec, ...] = ()
    given_workspace: Path | None = None  # the `--workspace` the running command was given

    def command(self, *words: str, repo: str | None = None) -> str:
        """``rollout WORDS`` (shell words already) as a line to paste: with the ``--manifest``,
        ``--workspace`` and ``--rollout`` this manifest was loaded with (pass 24d: `status --rollout
        repo-hygiene` said "push: `rollout apply --push`", and pasted it pushed the SOPS rollout)."""
        return rollout_command(
            *words,
            manifest=self.path,
            workspace=self.given_workspace,
            rollout=None if self.rollout == SOPS_ROLLOUT else self.rollout,
            repo=repo,
        )

    def commands_said(self, text: str, repo: str | None = None) -> str:
        """``text`` with each `` `rollout WORDS` `` in it as :meth:`command` says it (the pure checks
        name `rollout plan`, `rollout apply` or `rollout rotate` for any manifest: pass 24d, pasted
        after `verify -m M` they read the default manifest)."""
        return _ROLLOUT_COMMAND.sub(lambda m: f"`{self.command(m.group(1), repo=repo)}`", text)

    def select(self, names: list[str] | tuple[str, ...] | None) -> tuple[RepoSpec, ...]:
        if not names:
            return self.repos
        known = {r.name: r for r in self.repos}
        unknown = [n for n in names if n not in known]
        out = [n for n in unknown if n in self.opted_out]
        if out:
            raise ManifestError(
                str(self.path),
                None,
                f"repo {out[0]!r} opted out of the {self.rollout!r} rollout (its entry says "
                f"`rollouts: {{{self.rollout}: false}}`; remove that line to include it)",
            )
        if unknown:
            raise ManifestError(
                str(self.path),
                None,
                f"no repo named {unknown[0]!r} in the manifest (known: {', '.join(known)})",
            )
        return tuple(r for r in self.repos if r.name in names)


# a command a line offers, in backticks; a single-quoted word is read whole (pass 24k: a plan file
# named `my`p.json` split at its backtick, the options went inside the quoted name, pasted it failed),
# and so are shlex's `"'"` and bash's `$'…'` (pass 26i: a plan named `it's.json`, quoted
# `'it'"'"'s.json'`, was no command to this, and apply's refusal offered `rollout plan --out` of it
# without the `--manifest` apply was given: pasted, it read the default manifest and failed)
# Lead 30: the pieces never overlap (a `$` or `"` is plain only where it starts no quoted piece): with
# `$` also a plain character, a line of 30 unclosed `$'x'` took minutes to search (each split tried)
_ROLLOUT_COMMAND = re.compile(
    r"`rollout ([a-z](?:\$'(?:[^'\\]|\\.)*'|'[^']*'|\"'\"|\$(?!')|\"(?!'\")|[^`'$\"])*)`"
)
GUIDE_TEMPLATE = "SOPS_USAGE_GUIDE.md.j2"


def guide_location(manifest: Manifest) -> tuple[str, str] | None:
    """(repo name, path) of the first `files:` entry that renders the usage guide, if any."""
    for repo in manifest.repos:
        for spec in repo.files:
            if spec.template == GUIDE_TEMPLATE:
                return repo.name, spec.path
    return None


def default_templates_dir() -> Path:
    """The templates shipped with the package (``templates/`` of the repository, installed as the
    package ``juniper_rollout.templates``), wherever it is installed: a manifest's ``templates:`` beats it."""
    import importlib.resources

    from juniper_rollout.errors import RolloutError

    found = importlib.resources.files("juniper_rollout.templates")
    if not isinstance(found, Path):  # only a zipped install would do this; pip installs are folders
        raise RolloutError(
            f"the templates shipped with juniper-rollout are not in a folder ({found}); "
            "install it with pip, or name a templates folder in the manifest (templates:)"
        )
    return found


def _as_tuple(kind: type | tuple) -> tuple:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind(value: Any) -> str:
    """What a YAML value is, in words for "must be X, not <this>" (pass 20c: a date, `!!binary`,
    `!!set` and a tagged scalar such as `!!str main` were named by their Python class: "not date",
    "not CommentedSet", "must be a string, not TaggedScalar")."""
    if value is None:
        return "empty"
    tag = getattr(value, "tag", None)
    if type(value).__name__ == "TaggedScalar" and tag is not None:
        spelled = str(getattr(tag, "value", tag))
        core = "tag:yaml.org,2002:"
        said = f"the tag !!{spelled[len(core) :]}" if spelled.startswith(core) else "a local tag"
        return f"a value with {said} (write it without the tag)"
    if isinstance(value, datetime.datetime):
        return "a date and time"
    if isinstance(value, datetime.date):
        return "a date"
    for kind, name in (
        (bytes, "binary data (!!binary)"),
        (AbstractSet, "a set (!!set)"),
        (bool, "true/false"),
        (dict, "a mapping"),
        (list, "a list"),
        (str, "a string"),
        (int, "a whole number"),
        (float, f"the decimal number {value!r}"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _kind_name(kind: type | tuple) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "true or false",
        int: "a whole number",
    }
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def _plain(value: Any) -> Any:
    """ruamel's commented containers -> plain dicts and lists (templates see plain data)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
