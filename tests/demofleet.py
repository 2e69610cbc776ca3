"""A demo fleet: seven local repos shaped like the Juniper ones, a throwaway age key,
and a manifest for them made from the shipped one. Used by ``make demo`` and the tests.

Shapes follow the plan's table and what the real rollout found: juniper-cascor has a
plaintext .env it does not ignore and a pre-commit config; juniper-deploy ignores
.env* and has a hand-written .env.example; juniper-ml has neither pre-commit config
nor app variables; juniper-data's clone is dirty and on another branch.
The code is written as the real repos write it: settings prefixes, names and defaults held in
constants, often in a constants module imported under another name; tests, conftest.py and a CI
workflow that mention variables the application never reads.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from juniper_rollout import keys

PLACEHOLDER = "age1<PUBLIC_KEY_HERE>"
CANARY = "CANARY-7f3a9c"  # in every demo secret value: must never appear in any output

CASCOR_ENV_NAMES = [
    "HF_TOKEN",
    "ALPHA_VANTAGE_TOKEN",
    "SCOUT_TOKEN",
    "EXA_API_KEY",
    "KAGGLE_API_TOKEN",
    "ANTHROPIC_API_KEY",
    "SENTRY_SDK_DSN",
    "JUNIPER_ML_PYPI",
    "JUNIPER_ML_TEST_PYPI",
    "JUNIPER_ML_USERNAME",
    "JUNIPER_ML_TEST_USERNAME",
    "TWINE_PASSWORD",
    "TWINE_USERNAME",
    "TEST_TWINE_PASSWORD",
    "TEST_TWINE_USERNAME",
]

PRECOMMIT_REMOTE = """\
# ==========================================================
#  pre-commit hooks for {name}
#  Run `pre-commit install` once after cloning.
# ==========================================================
repos:
  - repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0
    hooks:
      - id: trailing-whitespace
      - id: end-of-file-fixer
      - id: check-yaml
        args: ["--allow-multiple-documents"]
  - repo: https://github.com/psf/black
    rev: "24.4.2"   # pinned
    hooks:
      - id: black
        language_version: python3.11
"""

PRECOMMIT_WITH_LOCAL = (
    PRECOMMIT_REMOTE
    + """\
  - repo: local
    hooks:
      - id: mypy-local
        name: mypy (local)
        entry: >-
          python -m mypy
          --strict
        language: system
        types: [python]
"""
)

DATA_CONSTANTS = '''\
"""Defaults for juniper-data, in one place."""
from typing import Final

JUNIPER_DATA_ENV_PREFIX: Final[str] = "JUNIPER_DATA_"

_HOST_LOCAL: Final[str] = "127.0.0.1"
HOST_DEFAULT: Final[str] = _HOST_LOCAL
PORT_DEFAULT: Final[int] = 8100
LOG_LEVEL_INFO: Final[str] = "INFO"
LOG_LEVEL_DEFAULT: Final[str] = LOG_LEVEL_INFO
STORAGE_PATH_DEFAULT: Final[str] = "./data/datasets"
RATE_LIMIT_PER_MINUTE_DEFAULT: Final[int] = 60
'''

SETTINGS_DATA = '''\
"""API settings for juniper-data (pydantic-settings)."""
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from juniper_data import constants as c

_ENV_PREFIX_DEFAULT: str = c.JUNIPER_DATA_ENV_PREFIX
_API_KEYS_DEFAULT: list[str] | None = None


class Settings(BaseSettings):
    """Settings read from JUNIPER_DATA_* environment variables."""

    model_config = SettingsConfigDict(env_prefix=_ENV_PREFIX_DEFAULT, env_file=".env", extra="ignore")

    host: str = c.HOST_DEFAULT
    port: int = c.PORT_DEFAULT
    storage_path: str = Field(c.STORAGE_PATH_DEFAULT, description="Where datasets are stored")
    api_keys: list[str] | None = Field(_API_KEYS_DEFAULT, description="API keys; authentication is off when unset")
    rate_limit_enabled: bool = False
    rate_limit_requests_per_minute: int = c.RATE_LIMIT_PER_MINUTE_DEFAULT


@lru_cache
def get_settings() -> Settings:
    return Settings()
'''

DATA_TESTS = """\
import os


def test_settings_read_the_environment(monkeypatch):
    monkeypatch.setenv("JUNIPER_DATA_TEST_ONLY", "1")
    assert os.environ.get("PYTEST_ONLY_FLAG") is None
"""

DATA_CONFTEST = """\
import os

os.environ.setdefault("JUNIPER_DATA_CONFTEST_ONLY", "1")
"""

CI_WORKFLOW = """\
name: ci
on: [push]
env:
  PYTHON_VERSION: "3.11"
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ env.PYTHON_VERSION }} ${{ env.CI_ONLY_FLAG }}"
"""

CLIENT_CONSTANTS = '''\
"""Constants for the {service} client."""
from typing import Final

ENV_PREFIX: Final[str] = "{prefix}_"
URL_ENV_VAR: Final[str] = ENV_PREFIX + "URL"
API_KEY_ENV_VAR: Final[str] = f"{{ENV_PREFIX}}API_KEY"
TIMEOUT_ENV_VAR: Final[str] = "{{}}TIMEOUT".format(ENV_PREFIX)
DEFAULT_BASE_URL: Final[str] = "http://localhost:{port}"
DEFAULT_TIMEOUT: Final[int] = 30
'''

CLIENT = '''\
"""HTTP client for {service}."""
import os

from {package} import constants
from {package}.constants import API_KEY_ENV_VAR, DEFAULT_TIMEOUT


def base_url() -> str:
    return os.getenv(constants.URL_ENV_VAR, constants.DEFAULT_BASE_URL)


def api_key() -> str | None:
    return os.environ.get(API_KEY_ENV_VAR)


def timeout() -> float:
    return float(os.getenv(constants.TIMEOUT_ENV_VAR, str(DEFAULT_TIMEOUT)))
'''

WORKER_CONSTANTS = '''\
"""Constants for juniper-cascor-worker."""
from typing import Final

ENV_SERVICE_URL: Final[str] = "CASCOR_SERVICE_URL"
ENV_WORKER_TOKEN: Final[str] = "CASCOR_WORKER_TOKEN"  # nosec B105: a variable name
ENV_MANAGER_HOST: Final[str] = "CASCOR_MANAGER_HOST"
ENV_CONCURRENCY: Final[str] = "CASCOR_WORKER_CONCURRENCY"
DEFAULT_MANAGER_HOST: Final[str] = "127.0.0.1"
DEFAULT_CONCURRENCY: Final[int] = 2
'''

WORKER = '''\
"""Worker configuration, read from the environment."""
import os
from dataclasses import dataclass

from juniper_cascor_worker import constants as k


@dataclass
class WorkerConfig:
    service_url: str
    token: str | None
    manager_host: str
    concurrency: int

    @classmethod
    def from_env(cls) -> "WorkerConfig":
        return cls(
            service_url=os.environ[k.ENV_SERVICE_URL],
            token=os.getenv(k.ENV_WORKER_TOKEN),
            manager_host=os.getenv(k.ENV_MANAGER_HOST, k.DEFAULT_MANAGER_HOST),
            concurrency=int(os.getenv(k.ENV_CONCURRENCY, str(k.DEFAULT_CONCURRENCY))),
        )
'''

COMPOSE = """\
services:
  juniper-data:
    image: juniper-data:latest
    environment:
      - JUNIPER_DATA_PORT=${JUNIPER_DATA_PORT:-8100}
      - JUNIPER_DATA_API_KEYS=${JUNIPER_DATA_API_KEYS}
  juniper-cascor:
    image: juniper-cascor:latest
    environment:
      CASCOR_LOG_LEVEL: ${CASCOR_LOG_LEVEL:-INFO}
      JUNIPER_CASCOR_API_KEYS: ${JUNIPER_CASCOR_API_KEYS}
  canopy:
    image: juniper-canopy:latest
    environment:
      CANOPY_API_KEY: ${CANOPY_API_KEY}
"""

DEPLOY_ENV_EXAMPLE = """\
# Hand-written by the maintainer: copy to .env and adjust.
JUNIPER_DATA_PORT=8100
CASCOR_LOG_LEVEL=INFO
"""

AGENTS = """\
# AGENTS.md — {name}

Guidance for coding agents working in this repository.

## Tests

Run `pytest` before every commit.
"""


def _git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout


def make_repo(path: Path, files: dict[str, str], *, message: str = "Initial commit") -> Path:
    """A git repo at ``path`` whose ``main`` holds ``files`` in one commit."""
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "-q", "-b", "main")
    for name, text in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    _git(path, "add", "-A")
    _git(
        path,
        "-c",
        "user.name=Juniper Dev",
        "-c",
        "user.email=dev@juniper.invalid",
        "commit",
        "-q",
        "-m",
        message,
    )
    return path


def fleet_files() -> dict[str, dict[str, str]]:
    py = "__pycache__/\n*.pyc\n.venv/\n"
    return {
        "juniper-cascor": {
            ".gitignore": "# no .env rule here: the real repo lacked one\n" + py,
            ".pre-commit-config.yaml": PRECOMMIT_REMOTE.format(name="juniper-cascor"),
            "AGENTS.md": AGENTS.format(name="juniper-cascor"),
            "src/cascor/__init__.py": "",
        },
        "juniper-deploy": {
            ".gitignore": ".env*\n!.env.example\n",
            ".env.example": DEPLOY_ENV_EXAMPLE,
            "docker-compose.yml": COMPOSE,
        },
        "juniper-data": {
            ".gitignore": py + ".env\n",
            ".pre-commit-config.yaml": PRECOMMIT_REMOTE.format(name="juniper-data"),
            "juniper_data/__init__.py": "",
            "juniper_data/constants.py": DATA_CONSTANTS,
            "juniper_data/api/__init__.py": "",
            "juniper_data/api/settings.py": SETTINGS_DATA,
            "tests/test_settings.py": DATA_TESTS,
            "conftest.py": DATA_CONFTEST,
            ".github/workflows/ci.yml": CI_WORKFLOW,
        },
        "juniper-data-client": {
            ".gitignore": py + ".env\n",
            ".pre-commit-config.yaml": PRECOMMIT_REMOTE.format(name="juniper-data-client"),
            "juniper_data_client/__init__.py": "",
            "juniper_data_client/constants.py": CLIENT_CONSTANTS.format(
                service="juniper-data", prefix="JUNIPER_DATA", port=8100
            ),
            "juniper_data_client/client.py": CLIENT.format(
                service="juniper-data", package="juniper_data_client"
            ),
        },
        "juniper-cascor-client": {
            ".gitignore": py + ".env\n",
            ".pre-commit-config.yaml": PRECOMMIT_REMOTE.format(name="juniper-cascor-client"),
            "juniper_cascor_client/__init__.py": "",
            "juniper_cascor_client/constants.py": CLIENT_CONSTANTS.format(
                service="juniper-cascor", prefix="JUNIPER_CASCOR", port=8200
            ),
            "juniper_cascor_client/client.py": CLIENT.format(
                service="juniper-cascor", package="juniper_cascor_client"
            ),
        },
        "juniper-cascor-worker": {
            ".gitignore": py + ".env\n",
            ".pre-commit-config.yaml": PRECOMMIT_WITH_LOCAL.format(name="juniper-cascor-worker"),
            "juniper_cascor_worker/__init__.py": "",
            "juniper_cascor_worker/constants.py": WORKER_CONSTANTS,
            "juniper_cascor_worker/config.py": WORKER,
        },
        "juniper-ml": {
            ".gitignore": py + ".env\n",
            "AGENTS.md": AGENTS.format(name="juniper-ml"),
            "notes/SECRETS_MANAGEMENT_ANALYSIS.md": "# Secrets management analysis\n",
        },
    }


def cascor_dotenv() -> str:
    return "".join(f"{name}=demo-{CANARY}-{i}\n" for i, name in enumerate(CASCOR_ENV_NAMES))


def build_fleet(workspace: Path) -> None:
    """The seven repos under ``workspace``, plus the users' local state (an untracked .env, dirty work)."""
    for name, files in fleet_files().items():
        make_repo(workspace / name, files)
    (workspace / "juniper-cascor" / ".env").write_text(cascor_dotenv(), encoding="utf-8")
    data = workspace / "juniper-data"
    _git(data, "checkout", "-q", "-b", "feature/wip")
    (data / "juniper_data" / "api" / "settings.py").write_text(
        SETTINGS_DATA + "# work in progress\n", encoding="utf-8"
    )
    (data / "scratch.txt").write_text("untracked notes\n", encoding="utf-8")


def demo_manifest(shipped: Path, workspace: Path, recipient: str) -> str:
    """The shipped manifest, pointed at ``workspace`` and the demo key."""
    text = shipped.read_text(encoding="utf-8")
    if PLACEHOLDER in text:
        text = text.replace(PLACEHOLDER, recipient)
    lines = [
        f"workspace: {workspace}" if line.startswith("workspace:") else line
        for line in text.splitlines()
    ]
    return "\n".join(lines) + "\n"


def setup(root: Path, shipped: Path) -> tuple[Path, Path]:
    """Build the demo under ``root``: returns (manifest path, key file path)."""
    if root.exists() and any(root.iterdir()):
        raise SystemExit(f"{root} is not empty; remove it first")
    workspace = root / "fleet"
    workspace.mkdir(parents=True)
    key_file = root / "age" / "keys.txt"
    recipient = keys.generate_key_file(key_file)
    build_fleet(workspace)
    manifest = root / "repos.yaml"
    manifest.write_text(demo_manifest(shipped, workspace, recipient), encoding="utf-8")
    return manifest, key_file


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0] if argv else "build/demo").resolve()
    shipped = Path(__file__).resolve().parent.parent / "manifests" / "repos.yaml"
    manifest, key_file = setup(root, shipped)
    print(
        f"demo fleet: {root / 'fleet'}\nmanifest:   {manifest}\nage key:    {key_file} (throwaway)"
    )
    print(f"export SOPS_AGE_KEY_FILE={key_file}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
