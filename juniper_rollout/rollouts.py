"""Named rollouts: one manifest lists the repos once and any number of rollouts by name.

The SOPS rollout is the default (``sops``): what a manifest without ``rollouts:`` describes,
built by ``manifest``. Each named rollout has its own branch, commit message, variables
and artifacts (``files:``, see ``artifacts``), which apply to every repo unless a repo
opts out (``rollouts: {NAME: false}``), skips some (``skip_files:``) or adds its own::

    rollouts:
      repo-hygiene:
        branch: chore/repo-hygiene
        commit_message: "chore: fleet repo hygiene"
        vars: {owners: "@juniper/maintainers"}
        files:
          - {path: .github/CODEOWNERS, template: hygiene/CODEOWNERS.j2}
    repos:
      - name: juniper-ml
        rollouts:
          repo-hygiene: {skip_files: [.github/CODEOWNERS]}

A named rollout never carries the SOPS artifacts, so it needs no age key.
Every mistake is a ``ManifestError`` at its line, like the rest of the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from juniper_rollout.fleetspec import (
    REPO_NAME,
    SOPS_ROLLOUT,
    EncryptSpec,
    FileSpec,
    RepoSpec,
    _kind,
    _plain,
)
from juniper_rollout.paths import base_clash, ref_folder_clash, same_on_macos

if TYPE_CHECKING:
    from juniper_rollout.manifest import _Validator

_ROLLOUT_KEYS = {
    "branch": str,
    "base": str,
    "commit_message": str,
    "vars": dict,
    "files": list,
    "encrypt": list,
}
_REPO_ROLLOUT_KEYS = {
    "branch": str,
    "commit_message": str,
    "vars": dict,
    "files": list,
    "skip_files": list,
    "encrypt": list,
}


@dataclass(frozen=True)
class RolloutSpec:
    name: str
    branch: str
    base: str | None
    commit_message: str
    vars: Mapping[str, Any]
    files: tuple[FileSpec, ...]
    line: int | None = None
    branch_line: int | None = None  # where `branch:` is, or the rollout's own line
    encrypt: tuple[
        EncryptSpec, ...
    ] = ()  # kind "encrypted file": needs the age recipients and the repo's .sops.yaml


def parse(v: _Validator, node: Any, line: int | None) -> dict[str, RolloutSpec]:
    """The ``rollouts:`` mapping, every entry checked (whichever rollout this run is for)."""
    if not isinstance(node, dict):
        raise v.fail(line, f"rollouts must be a mapping of rollout names, not {_kind(node)}")
    out: dict[str, RolloutSpec] = {}
    branches: dict[str, str] = {}
    for name, entry in node.items():
        at = v.key_line(node, name)
        if not isinstance(name, str) or not REPO_NAME.match(name):
            raise v.fail(
                at, f"{name!r} is not a valid rollout name (letters, digits, '.', '_', '-')"
            )
        if name == SOPS_ROLLOUT:
            raise v.fail(
                at,
                f"{SOPS_ROLLOUT!r} is the built-in SOPS rollout (configured by defaults and repos); "
                "give this rollout another name",
            )
        where = f"rollout {name}"
        v.shaped(entry, where, at, _ROLLOUT_KEYS, where)
        branch = v.typed(entry, "branch", str, where, f"chore/{name}")
        v._check_ref_name(entry, "branch", branch, where)
        if branch in branches:  # pass 7: two rollouts on one branch undo each other's commits
            raise v.fail(
                v.key_line(entry, "branch") if "branch" in entry else at,
                f"{where}: branch {branch!r} is rollout {branches[branch]}'s too; each rollout "
                "needs a branch of its own",
            )
        branches[branch] = name
        base = v.typed(entry, "base", str, where)
        if base is not None:
            v._check_ref_name(entry, "base", base, where)
        files = v._files(entry, where)
        _unique(v, files, where)
        out[name] = RolloutSpec(
            name,
            branch,
            base,
            v.typed(entry, "commit_message", str, where, f"chore: roll out {name}"),
            _plain(dict(entry.get("vars") or {})),
            tuple(files),
            at,
            v.key_line(entry, "branch") if "branch" in entry else at,
            _encrypt(v, entry, where),
        )
    return out


def check_repo_entry(v: _Validator, node: Mapping, where: str) -> None:
    """A repo's ``rollouts:`` names only declared rollouts, each ``false`` or a mapping of its keys."""
    own = node.get("rollouts")
    if own is None:
        return
    for name, entry in own.items():
        at = v.key_line(own, name)
        if name not in v.named:
            raise v.fail(
                at,
                f"{where}.rollouts names {name!r}, which is not declared under the top-level "
                f"`rollouts:` (declared: {', '.join(v.named) or 'none'})",
            )
        if isinstance(entry, bool):
            continue
        here = f"{where}.rollouts.{name}"
        v.shaped(entry, here, at, _REPO_ROLLOUT_KEYS, here)
        _unique(
            v,
            v._with_defaults(list(v.named[name].files), v._files(entry, here), entry, here),
            here,
            _encrypt(v, entry, here),
        )


def check_branches(v: _Validator, node: Mapping, where: str, sops_branch: str) -> None:
    """No two rollouts of one repo write one branch, whichever rollout this run is for: a repo's own
    ``branch:`` or a ``rollouts: {NAME: {branch: …}}`` override equal to another rollout's branch for
    that repo (pass 20a: each run took the other's commit for its own and, once the base moved, rebuilt
    the branch without it; pass 7 compared the rollouts' own ``branch:`` lines alone). Compared as a
    case-insensitive file system compares them (macOS, Windows: one loose ref file for both). The line
    blamed is the repo's override, else the rollout's own ``branch:``."""
    own_rollouts = node.get("rollouts") or {}
    sops_line = v.key_line(node, "branch") if "branch" in node else None
    # whose branch, the branch, where it is set, its line, and whether this repo's entry set it
    taken = [_Branch("the SOPS rollout's", sops_branch, where, sops_line, sops_line is not None)]
    for name, spec in v.named.items():
        own = own_rollouts.get(name, True)
        if own is False:
            continue
        own = {} if own is True else own
        if "branch" in own:
            mine = _Branch(
                f"rollout {name}'s",
                own["branch"],
                f"{where}.rollouts.{name}",
                v.key_line(own, "branch"),
                True,
            )
        else:
            mine = _Branch(f"rollout {name}'s", spec.branch, where, spec.branch_line, False)
        for other in taken:
            if same_on_macos(mine.branch, other.branch) is not None or ref_folder_clash(
                mine.branch, other.branch
            ):
                blamed, kept = (other, mine) if other.own and not mine.own else (mine, other)
                raise v.fail(blamed.line, blamed.clash(kept))
        taken.append(mine)


@dataclass(frozen=True)
class _Branch:
    """One rollout's branch for one repo, as check_branches compares them."""

    whose: str
    branch: str
    where: str
    line: int | None
    own: bool  # set by the repo's own entry (its line is the one to blame)

    def clash(self, other: _Branch) -> str:
        if ref_folder_clash(self.branch, other.branch):
            # pass 20e: the second rollout's apply failed, advising to rename the first one's branch
            # (`git branch -m`), which left that rollout without its branch
            return (
                f"{self.where}: branch {self.branch!r} and {other.whose} branch {other.branch!r} "
                "cannot both exist (git keeps a branch as a file, so one cannot be a folder of the "
                "other); each rollout needs a branch of its own, beside the others"
            )
        case = same_on_macos(self.branch, other.branch) or ""
        return (
            f"{self.where}: branch {self.branch!r} is {other.whose} too{case}; each rollout needs "
            "a branch of its own"
        )


def repo_specs(
    v: _Validator, spec: RolloutSpec, entries: list, sops_repos: tuple[RepoSpec, ...]
) -> tuple[RepoSpec, ...]:
    """The repo specs of rollout ``spec``: each repo's place, with the rollout's branch, message and files."""
    out: list[RepoSpec] = []
    for entry, repo in zip(entries, sops_repos, strict=False):
        own: Any = (entry.get("rollouts") or {}).get(spec.name, True)
        if own is False:
            continue
        own = {} if own is True else own
        where = f"repo {repo.name}.rollouts.{spec.name}" if own else f"repo {repo.name}"
        files = v._with_defaults(list(spec.files), v._files(own, where), own, where)
        variables = {**spec.vars, **_plain(dict(own.get("vars") or {}))}
        files = [replace(f, context={**variables, **f.context}) for f in files]
        encrypt = _encrypt(v, own, where) if "encrypt" in own else spec.encrypt
        _unique(v, files, where, encrypt)
        branch = own.get("branch", spec.branch)
        base = spec.base or repo.base
        if "branch" in own:
            v._check_ref_name(own, "branch", branch, where)
        if (why := base_clash(branch, base)) is not None:
            raise v.fail(
                v.key_line(own, "branch") if "branch" in own else spec.branch_line,
                f"{where}: {why}",
            )
        if branch == repo.branch:  # pass 7: the SOPS rollout's branch
            raise v.fail(
                v.key_line(own, "branch") if "branch" in own else spec.branch_line,
                f"{where}: branch {branch!r} is the SOPS rollout's too; each rollout needs a "
                "branch of its own",
            )
        out.append(
            replace(
                repo,
                base=base,
                branch=branch,
                commit_message=own.get("commit_message", spec.commit_message),
                files=tuple(files),
                gitignore=False,
                precommit_hook="skip",
                agents_md="skip",
                encrypt=encrypt,
                rollout=spec.name,
            )
        )
    return tuple(out)


def needs_key(named: dict[str, RolloutSpec], rollout: str, entries: Any) -> bool:
    """Whether ``rollout`` encrypts anything (then, and only then, it needs the age recipients)."""
    if rollout == SOPS_ROLLOUT:
        return True
    own = (
        [
            (e.get("rollouts") or {}).get(rollout)
            for e in entries or []
            if isinstance(e, dict) and isinstance(e.get("rollouts") or {}, dict)
        ]
        if isinstance(entries, list)
        else []
    )
    return bool(named[rollout].encrypt) or any(
        isinstance(o, dict) and o.get("encrypt") for o in own
    )


def _encrypt(v: _Validator, node: Any, where: str) -> tuple[EncryptSpec, ...]:
    raw = v.typed(node, "encrypt", list, where, [])
    return tuple(v._encrypt(e, where, v.item_line(raw, i)) for i, e in enumerate(raw))


def _unique(
    v: _Validator, files: list[FileSpec], where: str, encrypt: tuple[EncryptSpec, ...] = ()
) -> None:
    for f in files:
        why = _sops_owned(f)
        if why:
            raise v.fail(f.line, f"{where}: {why}")
    seen: dict[str, int | None] = {}
    for path, line in [(f.path, f.line) for f in files] + [(e.target, e.line) for e in encrypt]:
        if path in seen:
            raise v.fail(
                line, f"{where} renders {path} twice (each path may have one source in a rollout)"
            )
        v._no_case_clash(path, line, seen, where)
        seen[path] = line


# files people own that hold a SOPS artifact: another rollout edits them only in a way that keeps
# every other byte (a block, a hook or a list entry of its own), never whole
_SHARED_WITH_SOPS = (".gitignore", ".pre-commit-config.yaml", "AGENTS.md")


def _sops_owned(f: FileSpec) -> str | None:
    """Why a named rollout may not render ``f`` (pass 7): ``.sops.yaml`` and ``*.enc`` belong to the
    SOPS rollout alone (a template's text over the committed ciphertext loses the secrets when the PR
    merges), and a whole-file rendering of a file the SOPS rollout shares would drop its block or hook."""
    name = f.path.rsplit("/", 1)[-1]
    if name == ".sops.yaml" or name.lower().endswith(".enc"):
        return (
            f"{f.path} belongs to the SOPS rollout alone (its rules and ciphertext: a rendered file "
            "there would replace them); encrypt with the rollout's `encrypt:` instead, or pick another path"
        )
    if f.path in _SHARED_WITH_SOPS and f.kind == "file":
        return (
            f"{f.path} holds the SOPS rollout's part and the person's: another rollout edits it "
            "(`kind: block`, `precommit-hook` or `yaml-entry`), never renders it whole"
        )
    return None


def check_template_names(manifest: Any, named: dict[str, RolloutSpec]) -> None:
    """Every template a rollout names exists and compiles, whichever rollout this run is for
    (the selected one's are also rendered for every repo, by ``render.check_templates``)."""
    from juniper_rollout import render

    for spec in named.values():
        for f, name in [
            (fs, t)
            for fs in spec.files
            for t in (fs.template, fs.entry[2] if fs.entry else None)
            if t
        ]:
            render.compile_template(manifest, name, line=f.line)
