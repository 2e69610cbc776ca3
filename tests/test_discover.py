"""juniper_rollout.discover: env names found in settings classes, os.getenv/os.environ and compose files."""

from __future__ import annotations

import sysconfig
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from juniper_rollout.discover import EnvVar, candidate_paths, discover
from juniper_rollout.secretshape import looks_secret


def src(text: str) -> str:
    """Dedented source whose first line is line 1."""
    return textwrap.dedent(text).lstrip("\n")


def found(files: dict[str, str]) -> list[tuple[str, str | None, str | None, str]]:
    return [(v.name, v.default, v.description, v.source) for v in discover(files)]


HEAD = "from pydantic import AliasChoices, AliasPath, BaseModel, Field\nfrom pydantic_settings import BaseSettings, SettingsConfigDict\n"

# name: (settings.py body after HEAD (which is lines 1-2), expected (name, default, description, line))
SETTINGS: dict[str, tuple[str, list[tuple[str, str | None, str | None, int]]]] = {
    "SettingsConfigDict prefix, literal defaults": (
        """
        class S(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="app_")
            debug: bool = False
            verbose: bool = True
            port: int = 8000
            ratio: float = 0.5
            name: str = "svc"
            offset: int = -1
            maybe: str | None = None
            tags: list[str] = ["a"]
            home: str = Path("x")
            required: str
            multi: str = "one\\ntwo"
        """,
        [
            ("APP_DEBUG", "false", None, 5),
            ("APP_VERBOSE", "true", None, 6),
            ("APP_PORT", "8000", None, 7),
            ("APP_RATIO", "0.5", None, 8),
            ("APP_NAME", "svc", None, 9),
            ("APP_OFFSET", "-1", None, 10),
            ("APP_MAYBE", None, None, 11),
            ("APP_TAGS", '["a"]', None, 12),
            ("APP_HOME", None, None, 13),
            ("APP_REQUIRED", None, None, 14),
            ("APP_MULTI", None, None, 15),
        ],
    ),
    "dict model_config prefix": (
        """
        class S(BaseSettings):
            model_config: dict = {"env_prefix": "DICT_"}
            level: str = "info"
        """,
        [("DICT_LEVEL", "info", None, 5)],
    ),
    "class Config prefix (pydantic v1 style, env=)": (
        """
        from pydantic import BaseSettings as V1Settings
        class S(V1Settings):
            host: str = "h"
            legacy: int = Field(1, env="LEGACY_NAME")
            class Config:
                env_prefix = "OLD_"
        """,
        [("OLD_HOST", "h", None, 5), ("LEGACY_NAME", "1", None, 6)],
    ),
    "class keyword prefix, attribute base": (
        """
        import pydantic_settings
        class S(pydantic_settings.BaseSettings, env_prefix="KW_"):
            x: int = 1
        """,
        [("KW_X", "1", None, 5)],
    ),
    "no prefix upper-cases; case_sensitive keeps case": (
        """
        class A(BaseSettings):
            log_level: str = "debug"
        class B(BaseSettings):
            model_config = SettingsConfigDict(case_sensitive=True, env_prefix="Pre_")
            mixedCase: int = 2
        """,
        [("LOG_LEVEL", "debug", None, 4), ("Pre_mixedCase", "2", None, 7)],
    ),
    "alias, validation_alias, AliasChoices ignore the prefix": (
        """
        class S(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="P_")
            a: str = Field("x", alias="SERVICE_NAME")
            b: str = Field(default="y", validation_alias="OTHER")
            c: str = Field("z", validation_alias=AliasChoices("REGION", AliasPath("r", 0), "AWS_REGION"))
            d: str = Field("w", alias="IGNORED", validation_alias="WINS")
            e: str = Field("v", validation_alias=AliasPath("only", 0))
        """,
        [
            ("SERVICE_NAME", "x", None, 5),
            ("OTHER", "y", None, 6),
            ("REGION", "z", None, 7),
            ("AWS_REGION", "z", None, 7),
            ("WINS", "w", None, 8),
            ("P_E", "v", None, 9),
        ],
    ),
    "descriptions and Field defaults": (
        """
        from typing import Annotated
        class S(BaseSettings):
            a: int = Field(3, description="how many")
            b: str = Field(default="q", description="two\\n   lines")
            c: Annotated[int, Field(description="annotated")] = 4
            d: Annotated[str, Field(default="ann")]
            e: str = "doc"
            \"\"\"Attribute docstring.\"\"\"
            f: str = Field(...)
            g: list[str] = Field(default_factory=list)
            h: str | None = Field(None, title="not a description")
        """,
        [
            ("A", "3", "how many", 5),
            ("B", "q", "two lines", 6),
            ("C", "4", "annotated", 7),
            ("D", "ann", None, 8),
            ("E", "doc", "Attribute docstring.", 9),
            ("F", None, None, 11),
            ("G", None, None, 12),
            ("H", None, None, 13),
        ],
    ),
    "ClassVar, private and non-pydantic classes are skipped": (
        """
        from dataclasses import dataclass
        from typing import ClassVar
        class S(BaseSettings):
            model_config: ClassVar[SettingsConfigDict] = SettingsConfigDict(env_prefix="S_")
            kept: int = 1
            counter: ClassVar[int] = 0
            other: "ClassVar[int]" = 0
            _private: int = 2
        @dataclass
        class NotSettings:
            nope: int = 1
        class Model(BaseModel):
            alone: int = 1
        """,
        [("S_KEPT", "1", None, 7)],
    ),
    "nested models with a delimiter, recursively": (
        """
        from typing import Optional, Union
        class Inner(BaseModel):
            z: int = 0
        class Db(BaseModel):
            host: str = Field("localhost", description="db host")
            inner: Inner = Inner()
            port: int = Field(5432, alias="portnum")
        class S(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="app_", env_nested_delimiter="__")
            db: Optional[Db] = None
            replica: "Db | None" = None
            dbs: list[Db] = []
            alt: Union[None, Db] = None
            either: Db | int = 0
        class Flat(BaseSettings):
            cache: Db = Db()
        """,
        [
            ("APP_DB__HOST", "localhost", "db host", 7),
            ("APP_REPLICA__HOST", "localhost", "db host", 7),
            ("APP_DB__INNER__Z", "0", None, 5),
            ("APP_REPLICA__INNER__Z", "0", None, 5),
            ("APP_DB__PORTNUM", "5432", None, 9),
            ("APP_REPLICA__PORTNUM", "5432", None, 9),
            ("APP_ALT__HOST", "localhost", "db host", 7),
            ("APP_ALT__INNER__Z", "0", None, 5),
            ("APP_ALT__PORTNUM", "5432", None, 9),
            ("APP_DBS", "[]", None, 14),
            ("APP_EITHER", "0", None, 16),
            ("CACHE", None, None, 18),
        ],
    ),
}


@pytest.mark.parametrize("body,expected", SETTINGS.values(), ids=SETTINGS.keys())
def test_settings_classes(body, expected):
    got = found({"pkg/settings.py": HEAD + src(body)})
    want = [(n, d, desc, f"pkg/settings.py:{line}") for n, d, desc, line in expected]
    assert sorted(got) == sorted(want)


def test_inheritance_across_files():
    files = {
        "svc/base.py": src("""
            from pydantic_settings import BaseSettings, SettingsConfigDict
            class Common(BaseSettings):
                model_config = SettingsConfigDict(env_prefix="SVC_")
                debug: bool = False
                region: str = "eu"
            """),
        "svc/app.py": src("""
            from pydantic_settings import SettingsConfigDict
            from svc.base import Common
            class AppSettings(Common):
                port: int = 80
                debug: bool = True
            class Worker(AppSettings):
                model_config = SettingsConfigDict(env_prefix="WORKER_")
            """),
    }
    # grouped by the class that reads them (files in path order), fields in MRO order
    assert [(v.name, v.default, v.source, v.group) for v in discover(files)] == [
        ("SVC_DEBUG", "true", "svc/app.py:5", "svc/app.py: AppSettings (prefix SVC_)"),
        ("SVC_REGION", "eu", "svc/base.py:5", "svc/app.py: AppSettings (prefix SVC_)"),
        ("SVC_PORT", "80", "svc/app.py:4", "svc/app.py: AppSettings (prefix SVC_)"),
        ("WORKER_DEBUG", "true", "svc/app.py:5", "svc/app.py: Worker (prefix WORKER_)"),
        ("WORKER_REGION", "eu", "svc/base.py:5", "svc/app.py: Worker (prefix WORKER_)"),
        ("WORKER_PORT", "80", "svc/app.py:4", "svc/app.py: Worker (prefix WORKER_)"),
    ]


def test_nested_model_from_another_file():
    files = {
        "a/models.py": "from pydantic import BaseModel\nclass Db(BaseModel):\n    url: str = 'sqlite://'\n",
        "a/settings.py": src("""
            from pydantic_settings import BaseSettings
            from a.models import Db
            class S(BaseSettings, env_nested_delimiter="__"):
                db: Db
            """),
    }
    assert found(files) == [("DB__URL", "sqlite://", None, "a/models.py:3")]


# snippet: expected (name, default, line)
OS_READS: dict[str, tuple[str, list[tuple[str, str | None, int]]]] = {
    "os.getenv": (
        "import os\nA = os.getenv('A')\nB = os.getenv('B', 'b')\nC = os.getenv('C', default='c')\n",
        [("A", None, 2), ("B", "b", 3), ("C", "c", 4)],
    ),
    "os.environ": (
        "import os\nA = os.environ['A']\nB = os.environ.get('B', 'b')\nC = os.environ.setdefault('C', '')\n"
        "if 'D' in os.environ: pass\nos.environ['SET_ONLY'] = '1'\n",
        [("A", None, 2), ("B", "b", 3), ("C", "", 4), ("D", None, 5)],
    ),
    "from os import": (
        "from os import getenv, environ as env\nA = getenv('A', 8)\nB = env['B']\nC = env.get('C', None)\n",
        [("A", "8", 2), ("B", None, 3), ("C", None, 4)],
    ),
    "import os as": ("import os as o\nA = o.getenv('A', False)\n", [("A", None, 2)]),
    "multi-line call: line of the name": (
        "import os\nx = os.getenv(\n    'LATE',\n    'd',\n)\n",
        [("LATE", "d", 3)],
    ),
    "folded names, valid names only": (
        "import os\nn = 'X'\nos.getenv(n)\nos.getenv(f'{n}_Y')\nos.getenv('my-var')\n"
        "other.getenv('NOT_OS')\nd.get('NOT_ENV')\n",
        [("X", None, 3), ("X_Y", None, 4)],
    ),
}


@pytest.mark.parametrize("code,expected", OS_READS.values(), ids=OS_READS.keys())
def test_os_reads(code, expected):
    assert found({"m.py": code}) == [(n, d, None, f"m.py:{line}") for n, d, line in expected]


COMPOSE = src("""
    services:
      web:
        image: "app:${TAG:-latest}"
        environment:
          PLAIN: ${PLAIN}
          DASH: ${DASH-fallback}
          REQUIRED: ${REQ:?set REQ}
          ALT: ${ALT:+on}
          BARE: $BARE and $$ESCAPED and $${ALSO_ESCAPED}
          NESTED: ${OUTER:-${INNER:-x}}
          EMPTY: ${EMPTY:-}
        # COMMENTED: ${COMMENTED}
    """)


def test_compose_interpolation():
    assert found({"deploy/docker-compose.prod.yaml": COMPOSE}) == [
        (n, d, None, f"deploy/docker-compose.prod.yaml:{line}")
        for n, d, line in [
            ("TAG", "latest", 3),
            ("PLAIN", None, 5),
            ("DASH", "fallback", 6),
            ("REQ", None, 7),
            ("ALT", None, 8),
            ("BARE", None, 9),
            ("OUTER", None, 10),
            ("INNER", "x", 10),
            ("EMPTY", "", 11),
        ]
    ]


def test_secret_names_never_carry_defaults():
    files = {
        "compose.yml": "x: ${DB_PASSWORD:-hunter2} ${PORT:-5432}\n",
        "m.py": "import os\nos.getenv('GITHUB_TOKEN', 'ghp_x')\n",
        "s.py": src("""
            from pydantic import SecretStr
            from pydantic_settings import BaseSettings
            class S(BaseSettings):
                api_key: str = "sk-live"
                signing: SecretStr = "not-by-name"
                twine_pypi: str = Field("pypi-x", description="upload")
            """),
    }
    assert found(files) == [
        ("DB_PASSWORD", None, None, "compose.yml:1"),
        ("PORT", "5432", None, "compose.yml:1"),
        ("GITHUB_TOKEN", None, None, "m.py:2"),
        ("API_KEY", None, None, "s.py:4"),
        ("SIGNING", None, None, "s.py:5"),
        ("TWINE_PYPI", None, "upload", "s.py:6"),
    ]


@pytest.mark.parametrize(
    "name,secret",
    [
        ("API_KEY", True),
        ("stripe_api_key", True),
        ("OPENAI_APIKEY", True),
        ("AWS_ACCESS_KEYS", True),
        ("GITHUB_TOKEN", True),
        ("DB_PASSWORD", True),
        ("SMTP_PASS", True),
        ("JWT_SECRET", True),
        ("SENTRY_DSN", True),
        ("TS_AUTHKEY", True),
        ("GOOGLE_CREDENTIALS", True),
        ("SSH_PRIVATE_KEY_PATH", True),
        ("TWINE_PYPI", True),
        ("app.secret", True),
        ("PASSWORD", True),
        ("PORT", False),
        ("MONKEY", False),
        ("BYPASS", False),
        ("KEYBOARD_LAYOUT", False),
        ("DATABASE_HOST", False),
        ("TOKENIZER", False),
        ("PASSTHROUGH", False),
    ],
)
def test_looks_secret(name, secret):
    assert looks_secret(name) is secret


def test_first_occurrence_wins_and_order_is_path_then_numeric_line():
    files = {
        "b.py": "import os\nos.getenv('SHARED', 'from-b')\n",
        "a.py": "import os\n"
        + "\n" * 7
        + "os.getenv('NINE')\nos.getenv('TEN')\nos.getenv('SHARED', 'from-a')\n"
        "os.getenv('NINE', 'later')\n",
    }
    assert [(v.name, v.default, v.source) for v in discover(files)] == [
        ("NINE", None, "a.py:9"),
        ("TEN", None, "a.py:10"),
        ("SHARED", "from-a", "a.py:11"),
    ]
    assert all(isinstance(v, EnvVar) for v in discover(files))


def test_unparsable_files_are_skipped():
    files = {
        "bad.py": "def broken(:\n    os.getenv('NO')\n",
        "nul.py": "x = 1\0\n",
        "bom.py": "\ufeffimport os\nos.getenv('BOM')\n",
        "ok.py": "import os\nos.getenv('OK')\n",
        "huge.py": f"import os\nos.getenv('HUGE', 0x{'f' * 5000})\n",
        "weird.py": "from pydantic_settings import BaseSettings\nclass S(BaseSettings):\n    a: 'x\\0' = 1\n",
    }
    assert found(files) == [
        ("BOM", None, None, "bom.py:2"),
        ("HUGE", None, None, "huge.py:2"),
        ("OK", None, None, "ok.py:2"),
        ("A", "1", None, "weird.py:3"),
    ]


def test_only_candidate_files_are_read():
    files = {
        "README.md": "${DOC}",
        "tests/test_s.py": "import os\nos.getenv('T')\n",
        "conftest.py": "os.getenv('C')",
        ".venv/lib/x.py": "os.getenv('V')",
        "compose.yaml": "a: $REAL\n",
    }
    assert found(files) == [("REAL", None, None, "compose.yaml:1")]


@pytest.mark.parametrize(
    "path,kept",
    [
        ("app.py", True),
        ("src/pkg/settings.py", True),
        ("build.py", True),
        ("docker-compose.yml", True),
        ("deploy/docker-compose.override.yaml", True),
        ("compose.yaml", True),
        ("compose.dev.yml", True),
        ("README.md", False),
        ("pyproject.toml", False),
        ("docker-compose.json", False),
        ("my-compose.yml", False),
        ("settings.pyc", False),
        ("tests/test_app.py", False),
        ("test/helpers.py", False),
        ("pkg/tests/util.py", False),
        ("test_app.py", False),
        ("pkg/app_test.py", False),
        ("conftest.py", False),
        (".venv/lib/x.py", False),
        ("venv/x.py", False),
        ("node_modules/a/compose.yml", False),
        (".git/hooks/x.py", False),
        ("build/lib/x.py", False),
        ("dist/x.py", False),
        ("lib/python3.11/site-packages/x.py", False),
        ("pkg/__pycache__/x.py", False),
        ("x.egg-info/y.py", False),
    ],
)
def test_candidate_paths(path, kept):
    assert candidate_paths([path]) == ([path] if kept else [])


def test_candidate_paths_sorted_and_unique():
    assert candidate_paths(["b.py", "a.py", "b.py", "compose.yml"]) == [
        "a.py",
        "b.py",
        "compose.yml",
    ]


class _GilReleasingGarbage:
    """Cyclic garbage whose finalizer releases the GIL, as GitPython's objects do while plan reads repos:
    the collector runs it in whichever thread allocates next, often in the middle of ast.parse."""

    def __init__(self):
        self.cycle = self

    def __del__(self):
        time.sleep(0.0005)


def test_discover_on_many_threads_at_once():
    """CPython 3.11's AST converter counts recursion per interpreter: two threads inside ast.parse at
    once raised "SystemError: AST constructor recursion depth mismatch" (about one plan in six)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = {p.name: p.read_text("utf-8", "replace") for p in sorted(stdlib.glob("*.py"))[:12]}
    expected = discover(files)

    def job(_):
        for _ in range(200):
            _GilReleasingGarbage()
        return discover(files)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(job, range(16)))
    assert results == [expected] * 16
