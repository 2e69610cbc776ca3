"""The one sandboxed Jinja environment: templates -> text, strictly.

Undefined variables are errors (StrictUndefined) and templates run in Jinja's
sandbox, so a template cannot reach Python internals.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from juniper_rollout import sopsmeta
from juniper_rollout.envfiles import DEFAULT as DEFAULT_ENV_FILES
from juniper_rollout.errors import ManifestError
from juniper_rollout.manifest import FileSpec, Manifest, RepoSpec, guide_location

SOPS_PATH_REGEX = DEFAULT_ENV_FILES.sops_path_regex()  # the default; a manifest may define its own
GITIGNORE_BLOCK_TEMPLATE = "gitignore-block.j2"
PRECOMMIT_HOOKS_TEMPLATE = "precommit-hooks.yaml.j2"
PRECOMMIT_CONFIG_TEMPLATE = "pre-commit-config.yaml.j2"
AGENTS_SECTION_TEMPLATE = "agents-section.md.j2"


@lru_cache(maxsize=8)
def environment(templates: Path) -> SandboxedEnvironment:
    """One environment per templates folder: templates compile once per run, not per repo."""
    return SandboxedEnvironment(
        loader=FileSystemLoader(str(templates)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def base_context(manifest: Manifest, repo: RepoSpec) -> dict[str, Any]:
    return {
        "repo": {"name": repo.name, "base": repo.base, "branch": repo.branch, "url": repo.url},
        "recipients": list(manifest.recipients),
        "sops_path_regex": manifest.env_files.sops_path_regex(),
        "sops_metadata_regex": sopsmeta.PATTERN,
        "plaintext_env": {"include": list(manifest.env_files.include), "exclude": list(manifest.env_files.exclude),
                          "files_regex": manifest.env_files.hook_files_regex(),
                          "exclude_regex": manifest.env_files.hook_exclude_regex()},
        "usage_guide": usage_guide(manifest, repo),
        "fleet": [r.name for r in manifest.repos],
        "encrypt": [{"source": e.source, "target": e.target} for e in repo.encrypt if e.enabled],
    }


def usage_guide(manifest: Manifest, repo: RepoSpec) -> str | None:
    """Where the guide is, as seen from ``repo``: the manifest's own words, else where `files:` renders it."""
    if manifest.usage_guide:
        return manifest.usage_guide
    found = guide_location(manifest)
    if found is None:
        return None
    host, path = found
    return path if host == repo.name else f"{host}/{path}"


def render(manifest: Manifest, name: str, context: Mapping[str, Any], *, line: int | None = None) -> str:
    """Render template ``name``; every failure is a ManifestError at the manifest line that asked for it."""
    where = str(manifest.path)
    try:
        return environment(manifest.templates).get_template(name).render(**context)
    except TemplateNotFound:
        available = ", ".join(sorted(environment(manifest.templates).list_templates())) or "none"
        raise ManifestError(where, line, f"unknown template {name!r} (available in {manifest.templates}: {available})") from None
    except SecurityError as err:
        raise ManifestError(where, line, f"template {name!r} is not allowed to do that: {err}") from None
    except TemplateSyntaxError as err:
        raise ManifestError(where, line, f"template {name}:{err.lineno}: {err.message} (fix the template)") from None
    except TemplateError as err:
        message = " ".join(str(err).split())
        raise ManifestError(where, line, f"template {name!r}: {message} (define it under the file's `vars:` or fix the template)") from None


def render_file(manifest: Manifest, repo: RepoSpec, spec: FileSpec, extra: Mapping[str, Any] | None = None) -> str:
    context = {**base_context(manifest, repo), **spec.context, **(extra or {})}
    return render(manifest, spec.template, context, line=spec.line)


def check_templates(manifest: Manifest) -> None:
    """Render every file of every repo once, so template errors stop the run before anything is read or written."""
    from juniper_rollout.artifacts import RepoFacts

    for repo in manifest.repos:
        for spec in repo.files:  # facts as of an empty repo: templates must render for any repo
            render_file(manifest, repo, spec, RepoFacts(frozenset(), repo.base).template_context())
