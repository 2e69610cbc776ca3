"""`env_example: {from: code}` end to end: repos written as the real ones are, planned by `rollout plan`."""

from __future__ import annotations

import base64
import json
import textwrap

import pyrage
import pytest

from tests.demofleet import make_repo
from tests.helpers import rollout
from tests.test_discover_fold import KILN

KEY = str(pyrage.x25519.Identity.generate().to_public())


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


ORCHARD = {
    "ws/orchard/orchard/__init__.py": "",
    "ws/orchard/orchard/constants.py": src('''
        """Defaults, in one place."""
        from typing import Final
        ORCHARD_ENV_PREFIX: Final[str] = "ORCHARD_"
        BIND_DEFAULT: Final[str] = "0.0.0.0"
        PORT_DEFAULT: Final[int] = 9100
        UPSTREAM_URL_ENV: Final[str] = ORCHARD_ENV_PREFIX + "UPSTREAM_URL"
        '''),
    "ws/orchard/orchard/api/__init__.py": "",
    "ws/orchard/orchard/api/settings.py": src('''
        from pydantic import Field
        from pydantic_settings import BaseSettings, SettingsConfigDict
        from orchard import constants as c
        _PREFIX: str = c.ORCHARD_ENV_PREFIX
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix=_PREFIX, env_file=".env")
            host: str = c.BIND_DEFAULT
            port: int = c.PORT_DEFAULT
            database_url: str = "postgres://orchard:hunter2@db/orchard"
            api_token: str = Field("", description="Bearer token for the admin API")
            storage_path: str
            """Where the orchard keeps its fruit."""
        '''),
    "ws/orchard/orchard/upstream.py": src("""
        import os
        from orchard.constants import UPSTREAM_URL_ENV
        def url():
            return os.getenv(UPSTREAM_URL_ENV, "http://localhost:9200")
        def anything(pick):
            return os.environ[pick().upper()]
        """),
    "ws/orchard/tests/test_settings.py": "import os\ndef test(monkeypatch):\n    monkeypatch.setenv('ORCHARD_IN_TESTS', '1')\n"
    "    os.environ.get('PYTEST_XDIST_WORKER')\n",
    "ws/orchard/conftest.py": "import os\nos.environ.setdefault('CONFTEST_ONLY', '1')\n",
    "ws/orchard/.github/workflows/ci.yml": "env:\n  A: ${{ env.CI_ONLY }}\njobs: {}\n",
    "ws/orchard/docs/conf.py": "import os\nos.getenv('SPHINX_ONLY')\n",
    "ws/orchard/scripts/seed.py": "import os\nos.getenv('SEED_COUNT', '10')\n",
    "ws/orchard/docker-compose.yml": "services:\n  app:\n    environment:\n      TAG: ${ORCHARD_TAG:-latest}\n",
}

EXPECTED = src("""
    # Environment variables for orchard.
    # Copy to .env and fill in. .env is ignored by git; share it encrypted:
    #   sops -e --input-type dotenv --output-type dotenv .env > .env.enc
    # Commented-out names are optional: the code falls back to the value shown.

    # docker-compose.yml
    # ORCHARD_TAG=latest

    # orchard/api/settings.py: Settings (prefix ORCHARD_)
    # ORCHARD_HOST=0.0.0.0
    # ORCHARD_PORT=9100
    # ORCHARD_DATABASE_URL=
    # Bearer token for the admin API
    # ORCHARD_API_TOKEN=
    # Where the orchard keeps its fruit.
    ORCHARD_STORAGE_PATH=

    # orchard/upstream.py
    # ORCHARD_UPSTREAM_URL=http://localhost:9200
    """)


def planned_example(tmp_files, entry: str) -> tuple[str, str]:
    make_repo(
        tmp_files / "ws" / "orchard", {"README.md": "orchard\n"}
    )  # commits what tmp_files laid out too
    manifest = tmp_files / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n"
        f"  - name: orchard\n    env_example: {entry}\n"
    )
    result = rollout("plan", "--manifest", manifest, "--out", tmp_files / "plan.json")
    assert result.code == 0, result.stderr
    files = json.loads((tmp_files / "plan.json").read_text())["repos"][0]["files"]
    example = next(f for f in files if f["path"] == ".env.example")
    return base64.b64decode(example["content"]).decode(), example["reason"]


@pytest.mark.parametrize("tmp_files", [ORCHARD], indirect=True)
def test_fresh_example_is_laid_out_as_a_person_would(tmp_files):
    text, reason = planned_example(tmp_files, "{from: code, exclude: ['scripts/*']}")
    assert text == EXPECTED
    assert "hunter2" not in text and "not resolved: orchard/upstream.py:6" in reason


@pytest.mark.parametrize("tmp_files", [ORCHARD], indirect=True)
def test_manifest_globs_add_and_remove_paths(tmp_files):
    text, _ = planned_example(tmp_files, "{from: code, include: ['docs/*']}")
    assert "SEED_COUNT=10" in text and "SPHINX_ONLY=" in text
    for name in ("ORCHARD_IN_TESTS", "PYTEST_XDIST_WORKER", "CONFTEST_ONLY", "CI_ONLY"):
        assert name not in text


@pytest.mark.parametrize(
    "tmp_files",
    [{**ORCHARD, "ws/orchard/.env.example": "# by hand\nORCHARD_HOST=0.0.0.0\n"}],
    indirect=True,
)
def test_a_hand_written_example_also_hears_what_was_not_resolved(tmp_files):
    text, reason = planned_example(tmp_files, "{from: code}")
    assert text.startswith("# by hand\nORCHARD_HOST=0.0.0.0\n") and "ORCHARD_PORT=9100" in text
    assert "hunter2" not in text and reason.endswith("; not resolved: orchard/upstream.py:6")


def test_demo_fleet_shows_prefixed_names_with_defaults_and_nothing_from_tests_or_ci(
    fleet, tmp_path
):
    result = rollout(
        "plan",
        "--manifest",
        fleet.manifest,
        "--repo",
        "juniper-data",
        "--repo",
        "juniper-data-client",
        "--repo",
        "juniper-cascor-worker",
        "--out",
        tmp_path / "plan.json",
    )
    assert result.code == 0, result.stderr
    examples = {
        repo["name"]: base64.b64decode(f["content"]).decode()
        for repo in json.loads((tmp_path / "plan.json").read_text())["repos"]
        for f in repo["files"]
        if f["path"] == ".env.example"
    }
    data = examples["juniper-data"]
    assert "# juniper_data/api/settings.py: Settings (prefix JUNIPER_DATA_)\n" in data
    for line in (
        "# JUNIPER_DATA_HOST=127.0.0.1",
        "# JUNIPER_DATA_PORT=8100",
        "# JUNIPER_DATA_STORAGE_PATH=./data/datasets",
        "# JUNIPER_DATA_API_KEYS=",
    ):
        assert line + "\n" in data
    for name in (
        "JUNIPER_DATA_TEST_ONLY",
        "PYTEST_ONLY_FLAG",
        "JUNIPER_DATA_CONFTEST_ONLY",
        "PYTHON_VERSION",
        "CI_ONLY_FLAG",
        "\nHOST=",
        "\nPORT=",
    ):
        assert name not in data
    assert (
        "# JUNIPER_DATA_URL=http://localhost:8100\nJUNIPER_DATA_API_KEY=\n# JUNIPER_DATA_TIMEOUT=30\n"
        in examples["juniper-data-client"]
    )
    assert (
        "CASCOR_SERVICE_URL=\nCASCOR_WORKER_TOKEN=\n# CASCOR_MANAGER_HOST=127.0.0.1\n"
        in examples["juniper-cascor-worker"]
    )


# juniper-cascor-worker's shape: the hand-written example lists the deprecated names the code still
# reads as a fallback; the canonical names it lacks are added, the deprecated ones are not stale
KILN_REPO = {
    **{f"ws/kiln/{path}": text for path, text in KILN.items()},
    "ws/kiln/.env.example": "# kiln worker\nKILN_BROKER=amqp://localhost\nKILN_TOKEN=\n",
}


@pytest.mark.parametrize("tmp_files", [KILN_REPO], indirect=True)
def test_deprecated_names_a_resolver_still_reads_are_not_stale(tmp_files):
    make_repo(tmp_files / "ws" / "kiln", {"README.md": "kiln\n"})
    manifest = tmp_files / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n"
        "  - name: kiln\n    env_example: {from: code}\n"
    )
    result = rollout("plan", "--manifest", manifest, "--out", tmp_files / "plan.json")
    assert result.code == 0, result.stderr
    assert "stale" not in result.stdout and "no longer reads" not in result.stdout
    files = json.loads((tmp_files / "plan.json").read_text())["repos"][0]["files"]
    example = next(f for f in files if f["path"] == ".env.example")
    text = base64.b64decode(example["content"]).decode()
    assert text.startswith("# kiln worker\nKILN_BROKER=amqp://localhost\nKILN_TOKEN=\n")
    block = text.split("# >>> juniper-rollout >>>", 1)[1]
    assert "# KILN_WORKER_BROKER=amqp://localhost" in block and "\nKILN_WORKER_TOKEN=\n" in block
    assert "# KILN_WORKER_SLOTS=4" in block
    assert "_FILE" not in block and "KILN_API_KEY" not in block
