"""Files shaped like the Juniper repos' heads after the hand rollout (written for these tests).

Each repo already has a hand-written local hook blocking .env, in one of four
spellings of its `bash -c "echo … && exit 1"` entry; hand-written .env.example files
with prefixed names, groups, comments and optional keys commented out; a hand-written
.sops.yaml whose path_regex misses .env.enc; and configs full of unrelated local hooks
that cannot run in a throwaway repo (`cd src && …`, hooks needing the repo's install).
"""

from __future__ import annotations

HEADER = """\
# pre-commit configuration for {name}
# Install once: pre-commit install
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0
    hooks:
      - id: check-yaml
      - id: end-of-file-fixer
"""

# 1. a plain scalar holding a double-quoted bash script with escaped quotes inside
SPELLING_PLAIN_ESCAPED = r'''entry: bash -c "echo \"ERROR plaintext env staged; encrypt it with sops first\" && exit 1"'''
# 2. the whole entry double-quoted in YAML, the script single-quoted for bash
SPELLING_YAML_DOUBLE = r'''entry: "bash -c 'echo \"ERROR plaintext env staged; encrypt it with sops first\" && exit 1'"'''
# 3. the whole entry single-quoted in YAML, the script double-quoted with no inner quotes
SPELLING_YAML_SINGLE = (
    """entry: 'bash -c "echo ERROR: plaintext env staged, encrypt it with sops first && exit 1"\'"""
)
# 4. a plain scalar holding a single-quoted script
SPELLING_PLAIN_SINGLE = """entry: bash -c 'echo "ERROR - plaintext env staged, encrypt it with sops first" && exit 1\'"""
SPELLINGS = (
    SPELLING_PLAIN_ESCAPED,
    SPELLING_YAML_DOUBLE,
    SPELLING_YAML_SINGLE,
    SPELLING_PLAIN_SINGLE,
)


def blocker(spelling: str, *, files: str = r"^\.env(\.secrets)?$", comment: bool = False) -> str:
    inner = "        # an earlier try: entry: sh -c 'exit 1'\n" if comment else ""
    return (
        "      - id: no-unencrypted-env\n"
        "        name: Refuse plaintext env files\n"
        f"{inner}"
        f"        {spelling}\n"
        "        language: system\n"
        f"        files: {files}\n"
        "        types: [file]\n"
    )


def data_like(name: str, spelling: str) -> str:
    """A pre-push coverage hook in one local entry; the blocker in its own commented section; a ci: tail."""
    return (
        HEADER.format(name=name)
        + (
            "  # ---- coverage, on push only ----\n"
            "  - repo: local\n"
            "    hooks:\n"
            "      - id: coverage-gate\n"
            "        name: Coverage gate\n"
            "        entry: python scripts/check_coverage.py --min 90\n"
            "        language: system\n"
            "        pass_filenames: false\n"
            "        always_run: true\n"
            "        stages: [pre-push]\n"
            "\n"
            "  # ---- secrets: never commit a plaintext .env ----\n"
            "  - repo: local\n"
            "    hooks:\n"
        )
        + blocker(spelling, comment=True)
        + ("\n# settings for the hosted service\nci:\n  autoupdate_schedule: monthly\n")
    )


def cascor_like(name: str, spelling: str) -> str:
    """Unit tests run from src/ (fails anywhere but the real repo); the blocker quoted in a later entry."""
    return (
        HEADER.format(name=name)
        + (
            "  - repo: local\n"
            "    hooks:\n"
            "      - id: unit-tests\n"
            "        name: Unit tests\n"
            "        entry: bash -c 'cd src && python -m pytest -q tests/unit'\n"
            "        language: system\n"
            "        pass_filenames: false\n"
            "        always_run: true\n"
            "  - repo: local\n"
            "    hooks:\n"
        )
        + blocker(spelling, files=r"'^\.env(\.secrets)?$'")
    )


def worker_like(name: str, spelling: str) -> str:
    """The blocker shares its entry with a hook that needs the repo's own install; a remote repo after it."""
    return (
        HEADER.format(name=name)
        + ("  - repo: local\n    hooks:\n")
        + blocker(spelling, files=r"'^\.env(\.secrets)?$'")
        + (
            "      - id: lockfile-present\n"
            "        name: requirements.lock exists\n"
            "        entry: python -m juniper_tools.check_lock\n"
            "        language: python\n"
            "        additional_dependencies: [juniper-tools==0.1.0]\n"
            "        pass_filenames: false\n"
            "  - repo: https://github.com/psf/black\n"
            "    rev: 24.4.2\n"
            "    hooks:\n"
            "      - id: black\n"
        )
    )


def ml_like(name: str, spelling: str) -> str:
    """The blocker after a hook with a python environment, in the same entry."""
    return (
        HEADER.format(name=name)
        + (
            "  - repo: local\n"
            "    hooks:\n"
            "      - id: doc-links\n"
            "        name: Documentation links\n"
            "        entry: check-doc-links\n"
            "        language: python\n"
            '        additional_dependencies: ["juniper-doc-tools>=0.1,<0.2"]\n'
        )
        + blocker(spelling, files=r"'^\.env(\.secrets)?$'")
    )


SHAPES = (data_like, cascor_like, worker_like, ml_like)

HAND_SOPS_YAML = """\
creation_rules:
  - path_regex: \\.env(\\.secrets)?$
    age: "{recipient}"
"""

DATA_SETTINGS = '''\
"""Service settings, read from JUNIPER_DATA_* variables."""
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JUNIPER_DATA_")

    host: str = "0.0.0.0"
    port: int = 8100
    log_level: str = "INFO"
    storage_path: str = "./data/datasets"
    api_keys: str = Field("", description="Comma-separated API keys; auth is off when empty")
    cache_ttl_sec: int = 300
'''

DATA_ENV_EXAMPLE = """\
# ----------------------------------------------------------------
#  juniper-data settings (all prefixed JUNIPER_DATA_)
#  Copy to .env and adjust.
# ----------------------------------------------------------------

# Server
JUNIPER_DATA_HOST=0.0.0.0
JUNIPER_DATA_PORT=8100
JUNIPER_DATA_LOG_LEVEL=INFO
JUNIPER_DATA_STORAGE_PATH=./data/datasets

# Security (optional: authentication is off while unset)
# JUNIPER_DATA_API_KEYS=first-key,second-key
# JUNIPER_DATA_RATE_LIMIT_PER_MINUTE=60
"""
