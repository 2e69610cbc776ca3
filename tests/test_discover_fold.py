"""Discovery on code written as real settings modules are: names, prefixes and defaults held in constants,
often in other modules, reached through imports, concatenation, f-strings and .format."""

from __future__ import annotations

import textwrap

import pytest

from juniper_rollout.discover import discover, discover_all
from juniper_rollout.secretshape import carries_credential


def src(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def names(files: dict[str, str], **kw) -> dict[str, str | None]:
    return {v.name: v.default for v in discover(files, **kw)}


SETTINGS_HEAD = "from pydantic import AliasChoices, BaseModel, Field\nfrom pydantic_settings import BaseSettings, SettingsConfigDict\n"


def test_prefix_and_defaults_from_module_constants():
    files = {
        "orchard/api/settings.py": SETTINGS_HEAD
        + src("""
        _ORCHARD_ENV_PREFIX: str = "ORCHARD_"
        _ORCHARD_ENV_PREFIX_DEFAULT: str = _ORCHARD_ENV_PREFIX
        _BIND_ALL: str = "0.0.0.0"
        _BIND_DEFAULT: str = _BIND_ALL
        _PORT: int = 9100
        _PORT_DEFAULT: int = _PORT
        _ORIGINS_DEFAULT: list[str] = ["*"]
        _KEYS_DEFAULT: list[str] | None = None
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix=_ORCHARD_ENV_PREFIX_DEFAULT, env_file=".env")
            host: str = _BIND_DEFAULT
            port: int = _PORT_DEFAULT
            cors_origins: list[str] = _ORIGINS_DEFAULT
            api_keys: list[str] | None = _KEYS_DEFAULT
            storage: str = Field(default=_BIND_DEFAULT + "/x", description="where blobs go")
        """)
    }
    got = discover(files)
    assert [(v.name, v.default, v.optional) for v in got] == [
        ("ORCHARD_HOST", "0.0.0.0", True),
        ("ORCHARD_PORT", "9100", True),
        ("ORCHARD_CORS_ORIGINS", '["*"]', True),
        ("ORCHARD_API_KEYS", None, True),
        ("ORCHARD_STORAGE", "0.0.0.0/x", True),
    ]
    assert {v.group for v in got} == {"orchard/api/settings.py: Settings (prefix ORCHARD_)"}
    assert got[-1].description == "where blobs go"


def test_names_from_a_constants_module_every_import_spelling():
    files = {
        "orchard_client/__init__.py": "",
        "orchard_client/constants.py": src("""
            from typing import Final
            ENV_PREFIX: Final[str] = "ORCHARD_"
            API_KEY_ENV_VAR: Final[str] = ENV_PREFIX + "API_KEY"
            URL_ENV: Final = f"{ENV_PREFIX}URL"
            DEFAULT_URL: Final[str] = "http://localhost:9100"
            TIMEOUT_ENV = "{}TIMEOUT".format(ENV_PREFIX)
            DEFAULT_TIMEOUT: Final[int] = 30
            class Env:
                RETRIES = ENV_PREFIX + "RETRIES"
            """),
        "orchard_client/client.py": src("""
            import os
            from orchard_client.constants import API_KEY_ENV_VAR
            from orchard_client import constants
            from . import constants as c
            import orchard_client.constants as k
            from .constants import Env, DEFAULT_TIMEOUT
            key = os.environ.get(API_KEY_ENV_VAR)
            url = os.getenv(constants.URL_ENV, constants.DEFAULT_URL)
            timeout = os.getenv(c.TIMEOUT_ENV, str(DEFAULT_TIMEOUT))
            retries = os.environ.get(Env.RETRIES, "3")
            level = os.getenv(k.ENV_PREFIX + "LOG_LEVEL", "INFO")
            port = os.getenv(f"{c.ENV_PREFIX}PORT")
            """),
    }
    assert names(files) == {
        "ORCHARD_API_KEY": None,
        "ORCHARD_URL": "http://localhost:9100",
        "ORCHARD_TIMEOUT": "30",
        "ORCHARD_RETRIES": "3",
        "ORCHARD_LOG_LEVEL": "INFO",
        "ORCHARD_PORT": None,
    }


def test_src_layout_and_relative_imports():
    files = {
        "src/grove_constants/constants.py": "PREFIX = 'GROVE_'\nLEVEL_ENV = PREFIX + 'LOG_LEVEL'\n",
        "src/grove/api/settings.py": SETTINGS_HEAD
        + src("""
            from grove_constants.constants import PREFIX
            from ..defaults import PORT
            class Settings(BaseSettings):
                model_config = SettingsConfigDict(env_prefix=PREFIX)
                port: int = PORT
            """),
        "src/grove/defaults.py": "PORT = 8200\n",
        "src/grove/main.py": "import os\nfrom src.grove_constants import constants\nos.environ.get(constants.LEVEL_ENV, 'INFO')\n",
    }
    assert names(files) == {"GROVE_PORT": "8200", "GROVE_LOG_LEVEL": "INFO"}


def test_function_local_constants_and_class_config():
    files = {
        "w/config.py": src("""
        import os
        from pydantic import BaseSettings
        PREFIX = "WORKER_"
        class Legacy(BaseSettings):
            threads: int = 4
            class Config:
                env_prefix = PREFIX
        def from_env():
            name = PREFIX + "HOST"
            return os.getenv(name, "127.0.0.1")
        """)
    }
    assert names(files) == {"WORKER_HOST": "127.0.0.1", "WORKER_THREADS": "4"}


def test_model_config_shared_through_constants():
    files = {
        "svc/config_base.py": src("""
            from pydantic_settings import SettingsConfigDict
            BASE = SettingsConfigDict(env_file=".env", extra="ignore", env_nested_delimiter="__")
            COMMON = SettingsConfigDict(**BASE, env_prefix="SVC_")
            """),
        "svc/settings.py": SETTINGS_HEAD
        + src("""
            from svc import config_base
            from svc.config_base import BASE
            class Inner(BaseModel):
                level: int = 1
            class A(BaseSettings):
                model_config = config_base.COMMON
                inner: Inner = Inner()
            class B(BaseSettings):
                model_config = SettingsConfigDict(**BASE, env_prefix="B_")
                inner: Inner = Inner(level=2)
            class C(BaseSettings):
                model_config = {**BASE, "env_prefix": "C_"}
                x: int = 3
            class D(BaseSettings):
                model_config = make_config("D_")
                y: int = 4
            """),
    }
    got = discover_all(files)
    assert {v.name: v.default for v in got.vars} == {
        "SVC_INNER__LEVEL": "1",
        "B_INNER__LEVEL": "2",
        "C_X": "3",
    }
    assert got.unresolved == (
        "svc/settings.py:17",
    )  # D: a call of an unknown function, said, not guessed


def test_aliases_given_by_constants():
    files = {
        "a/settings.py": SETTINGS_HEAD
        + src("""
        LEGACY = "OLD_REGION"
        NAMES = ["SVC_ZONE", "ZONE"]
        class S(BaseSettings, env_prefix="SVC_"):
            region: str = Field("eu", validation_alias=AliasChoices("SVC_REGION", LEGACY))
            zone: str = Field("a", validation_alias=AliasChoices(*NAMES))
            mode: str = Field("x", alias=LEGACY.lower() + "_mode")
        """)
    }
    got = discover_all(files)
    assert {v.name: v.default for v in got.vars} == {
        "SVC_REGION": "eu",
        "OLD_REGION": "eu",
        "SVC_ZONE": "a",  # AliasChoices(*NAMES): the list the constant holds
        "ZONE": "a",
        "old_region_mode": "x",
    }
    assert got.unresolved == ()


def test_nested_models_with_delimiter_from_a_constant_and_instance_defaults():
    files = {
        "c/settings.py": SETTINGS_HEAD
        + src("""
        DELIM = "__"
        class Param(BaseModel):
            low: float
            high: float
            default: float
        class Training(BaseModel):
            epochs: Param = Param(low=10, high=1000, default=500)
            rate: Param = Param(low=0.0001, high=1.0, default=0.01)
        class Server(BaseModel):
            host: str = "127.0.0.1"
            port: int = 8050
        class Settings(BaseSettings):
            model_config = SettingsConfigDict(env_prefix="CANOPY_", env_nested_delimiter=DELIM)
            server: Server = Server(port=8051)
            training: Training = Training()
        """)
    }
    assert names(files) == {
        "CANOPY_SERVER__HOST": "127.0.0.1",
        "CANOPY_SERVER__PORT": "8051",
        "CANOPY_TRAINING__EPOCHS__LOW": "10",
        "CANOPY_TRAINING__EPOCHS__HIGH": "1000",
        "CANOPY_TRAINING__EPOCHS__DEFAULT": "500",
        "CANOPY_TRAINING__RATE__LOW": "0.0001",
        "CANOPY_TRAINING__RATE__HIGH": "1.0",
        "CANOPY_TRAINING__RATE__DEFAULT": "0.01",
    }


def test_unresolved_reads_are_reported_once_never_guessed():
    files = {
        "app/env.py": src("""
            import os
            from somewhere_else import NAME
            def read(key, default=None):
                return os.environ.get(key, default)
            os.getenv(NAME)
            os.getenv(NAME)
            x = os.environ[NAME + "_2"]
            PREFIX = os.environ.get("BASE", "A") + "_"
            os.getenv(PREFIX + "LEVEL")
            for k in ("ONE", "TWO"):
                os.getenv(k)
            """),
        "app/comp.py": "import os\nK = 'THREE'\nos.getenv(K)\n[os.getenv(K) for K in ('FOUR',)]\n",
        "app/settings.py": SETTINGS_HEAD
        + "from other import P\nclass S(BaseSettings, env_prefix=P):\n    x: int = 1\n",
    }
    got = discover_all(files)
    assert [v.name for v in got.vars] == ["THREE", "BASE"]
    # env.py:4 reads its caller's name: a wrapper, followed at its call sites (none here);
    # comp.py:4: the comprehension's own K, not the module's
    assert got.unresolved == (
        "app/comp.py:4",
        "app/env.py:5",
        "app/env.py:6",
        "app/env.py:7",
        "app/env.py:9",
        "app/env.py:11",
        "app/settings.py:4",
    )


def test_wrapper_functions_are_followed_to_their_callers():
    files = {
        "svc/envtools.py": src("""
            import os
            ENV = os.environ
            def env(name, default=None):
                return ENV.get(name, default)
            def env_flag(name, *, fallback="false"):
                return os.getenv(name, fallback).lower() == "true"
            def env_int(name):
                return int(env(name, "0"))
            def env_str(name):
                return env(name)
            def env_mode(name):
                return env_flag(name)
            def env_in_class(name):
                return ENV.get(name, DEFAULT_MODE)
            DEFAULT_MODE = "fast"
            """),
        "svc/app.py": src("""
            from svc import envtools
            from svc.envtools import env, env_int
            PREFIX = "SVC_"
            HOST = env(PREFIX + "HOST", "localhost")
            DEBUG = envtools.env_flag(f"{PREFIX}DEBUG")
            STRICT = envtools.env_flag("SVC_STRICT", fallback="true")
            PORT = env_int(name=PREFIX + "PORT")
            WHO = env(whoever())
            NAME = envtools.env_str("SVC_NAME")
            MODE = envtools.env_mode("SVC_MODE")
            SPEED = envtools.env_in_class("SVC_SPEED")
            """),
    }
    got = discover_all(files)
    assert {v.name: (v.default, v.optional) for v in got.vars} == {
        "SVC_HOST": ("localhost", True),
        "SVC_DEBUG": ("false", True),
        "SVC_STRICT": ("true", True),
        "SVC_PORT": ("0", True),
        "SVC_NAME": (None, False),
        "SVC_MODE": ("false", True),
        "SVC_SPEED": ("fast", True),
    }
    assert got.unresolved == ("svc/app.py:8",)


def test_defaults_that_fold_to_something_else_are_left_out():
    files = {
        "m.py": src("""
        import os
        from pathlib import Path
        HOME = Path("/srv")
        os.getenv("A", HOME)
        os.getenv("B", str(HOME))
        os.getenv("C", 3 + 4)
        os.getenv("D", "x" + "y")
        os.getenv("E", "{:>99999999}".format(1))
        os.getenv("F", "{0.real}".format(1))
        os.getenv("G", None)
        os.getenv("H_%s" % "PORT", "%d" % 8080)
        os.getenv("%(app)s_MODE" % {"app": "SVC"}, "%s-%s" % ("a", "b"))
        os.getenv("I", "%099999999d" % 1)
        os.getenv("J", "%s" % HOME)
        """)
    }
    got = {v.name: (v.default, v.optional) for v in discover(files)}
    assert got == {
        "H_PORT": ("8080", True),  # printf-style % with plain conversions folds
        "SVC_MODE": ("a-b", True),
        "I": (None, True),  # a width could ask for gigabytes: not folded
        "J": (None, True),
        "A": (None, True),
        "B": (None, True),
        "C": ("7", True),
        "D": ("xy", True),
        "E": (None, True),
        "F": (None, True),
        "G": (None, False),
    }


def test_self_referencing_and_deep_constants_do_not_hang():
    chain = "".join(f"C{i} = C{i + 1} + C{i + 1}\n" for i in range(60)) + "C60 = 'ab'\n"
    files = {
        "m.py": "import os\nA = B\nB = A\n"
        + chain
        + "os.getenv(A)\nos.getenv(C0)\nos.getenv(C58)\n"
    }
    got = discover_all(files)
    assert [v.name for v in got.vars] == ["abababab"]  # C58; C0 would be 2**61 characters
    assert got.unresolved == ("m.py:65", "m.py:66")
    files = {
        "m.py": "import os\n"
        + "".join(f"N{i} = N{i + 1}\n" for i in range(200))
        + "N200 = 'DEEP'\nos.getenv(N0)\n"
    }
    assert discover_all(files).unresolved == ("m.py:203",)


@pytest.mark.parametrize(
    "value",
    [
        "postgres://admin:secret@db/app",
        "https://x-access-token:abc@github.com/o/r.git",
        "redis://:pw@cache:6379/0",
        "ghp_" + "a1B2" * 9,
        "github_pat_11ABCDEFG0123456789",
        "sk-proj-abcdef123456",
        "sk_live_51Habc",
        "xoxb-1234-5678-abcd",
        "whsec_abc123def456",
        "AKIAIOSFODNN7EXAMPLE",
        "glpat-abcdefghij",
        "d41d8cd98f00b204e9800998ecf8427e",
        "k3J9sL0qPz8XvB2mN7tR4wY6",
        "pypi-AgEIcHlwaS5vcmcCJ",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
    ],
)
def test_values_that_carry_credentials(value):
    assert carries_credential(value)
    files = {
        "m.py": f"import os\nos.getenv('DATABASE_URL', {value!r})\n",
        "compose.yml": f"x: ${{HOST_URL:-{value}}}\n",
    }
    assert names(files) == {"DATABASE_URL": None, "HOST_URL": None}


@pytest.mark.parametrize(
    "value",
    [
        "postgres://db/app",
        "http://localhost:8100",
        "0.0.0.0",
        "./data/datasets",
        "INFO",
        "forkserver",
        "juniper_data.api.settings",
        "http://localhost:8100/api/v1/datasets",
        "sqlite:///./local.db",
        "a@example.com",
        "%(asctime)s %(levelname)s %(message)s",
        '["*"]',
        "2024-01-01T00:00:00Z",
        "skip-ci",
        "skeleton",
        "123e4567",
    ],
)
def test_ordinary_values_do_not(value):
    assert not carries_credential(value)


def test_scope_application_code_only_and_manifest_globs():
    read = "import os\nos.getenv('{}')\n"
    files = {
        "app/main.py": read.format("APP_PORT"),
        "tests/test_main.py": read.format("FROM_TESTS"),
        "app/tests/helpers.py": read.format("FROM_NESTED_TESTS"),
        "conftest.py": "def f(monkeypatch):\n    monkeypatch.setenv('FROM_CONFTEST', '1')\n",
        "docs/conf.py": read.format("FROM_DOCS"),
        ".github/scripts/release.py": read.format("FROM_CI"),
        ".github/workflows/ci.yml": "env:\n  X: ${{ env.FROM_WORKFLOW }}\n",
        "scripts/dev_only.py": read.format("FROM_SCRIPTS"),
        "deploy/docker-compose.yml": "x: ${COMPOSE_VAR:-1}\n",
    }
    assert names(files) == {"APP_PORT": None, "FROM_SCRIPTS": None, "COMPOSE_VAR": "1"}
    assert names(files, exclude=["scripts/*"], include=["docs/*"]) == {
        "APP_PORT": None,
        "FROM_DOCS": None,
        "COMPOSE_VAR": "1",
    }


# A resolver as a hand-grown worker config writes it: the canonical name and a deprecated one passed
# as two parameters, each also read as NAME_FILE (a Docker secret's path), through a local alias of
# os.environ that a test can replace, and the default returned when nothing was read.
KILN = {
    "kiln/names.py": src("""
        from typing import Final
        ENV_BROKER: Final[str] = "KILN_WORKER_BROKER"
        ENV_TOKEN: Final[str] = "KILN_WORKER_TOKEN"
        ENV_SLOTS: Final[str] = "KILN_WORKER_SLOTS"
        OLD_BROKER: Final[str] = "KILN_BROKER"
        OLD_TOKEN: Final[str] = "KILN_TOKEN"
        OLD_API_KEY: Final[str] = "KILN_API_KEY"
        DEFAULT_SLOTS: Final[int] = 4
        """),
    "kiln/settings.py": src("""
        import os
        from typing import Mapping
        from kiln.names import ENV_BROKER, ENV_SLOTS, ENV_TOKEN, OLD_API_KEY, OLD_BROKER, OLD_TOKEN
        from kiln.names import DEFAULT_SLOTS

        def _pick(env: Mapping[str, str] | None, name: str, old: str | None, default: str | None = None):
            source: Mapping[str, str] = os.environ if env is None else env
            path = source.get(f"{name}_FILE")
            if path:
                return open(path).read().strip()
            if name in source:
                return source[name]
            if old is not None:
                if source.get(old + "_FILE"):
                    return open(source[old + "_FILE"]).read()
                value = source.get(old)
                if value is not None:
                    return value
            return default

        def load(env=None):
            token = _pick(env, ENV_TOKEN, None) or _pick(env, ENV_TOKEN, OLD_API_KEY, "")
            return dict(
                broker=_pick(env, ENV_BROKER, OLD_BROKER, "amqp://localhost"),
                token=token or _pick(env, ENV_TOKEN, OLD_TOKEN),
                slots=int(_pick(env, ENV_SLOTS, None, str(DEFAULT_SLOTS))),
            )

        def lookup(thing):  # a dict named like the environment elsewhere is not it
            source = {"a": 1}
            return source.get(thing)
        """),
    "kiln/cli.py": src("""
        from kiln import settings
        BROKER = settings._pick(None, "KILN_WORKER_BROKER", "KILN_BROKER", "amqp://localhost")
        SHAPE = settings.lookup("KILN_NOT_AN_ENV_READ")
        """),
}


def test_a_resolver_with_a_legacy_name_and_file_indirection_is_followed():
    got = discover_all(KILN)
    assert {v.name: (v.default, v.optional) for v in got.vars} == {
        "KILN_WORKER_BROKER": ("amqp://localhost", True),  # first read in kiln/cli.py
        "KILN_WORKER_TOKEN": (None, False),
        "KILN_WORKER_SLOTS": ("4", True),
    }
    # read only in place of those: a hand-written file listing them is not stale; never added
    assert set(got.also_read) == {
        "KILN_WORKER_BROKER_FILE",
        "KILN_WORKER_TOKEN_FILE",
        "KILN_WORKER_SLOTS_FILE",
        "KILN_BROKER",
        "KILN_BROKER_FILE",
        "KILN_TOKEN",
        "KILN_TOKEN_FILE",
        "KILN_API_KEY",
        "KILN_API_KEY_FILE",
    }
    assert got.unresolved == ()


def test_a_method_wrapper_takes_its_callers_arguments_after_self_or_cls():
    """`self`/`cls` is bound, not passed: Config.env("DB_HOST", "localhost") was read as a variable
    named "localhost" (and a token-shaped default became a name)."""
    files = {
        "app/config.py": src("""
            import os
            class Config:
                @classmethod
                def env(cls, name, default=None):
                    return os.getenv(name, default)
                def get(self, name, fallback="x"):
                    return os.environ.get(name, fallback)
                @staticmethod
                def raw(name):
                    return os.environ[name]
            HOST = Config.env("DB_HOST", "localhost")
            TOKEN = Config.env("API_TOKEN", "ghp_" + "a" * 36)
            MODE = Config().get("APP_MODE")
            RAW = Config.raw("APP_RAW")
            """),
    }
    got = discover_all(files)
    assert {v.name: (v.default, v.optional) for v in got.vars} == {
        "DB_HOST": ("localhost", True),
        "API_TOKEN": (None, True),  # secret-looking: never a value
        "APP_RAW": (None, False),
    }  # Config().get(...): an instance's method is not followed (nor misread)


def test_a_pathological_key_expression_in_a_wrapper_is_skipped_not_a_crash():
    chain = "+".join(["'A'"] * 1500)
    files = {
        "app/deep.py": f"import os\ndef f(name):\n    return os.getenv({chain} + name)\n",
        "app/ok.py": "import os\nos.getenv('APP_OK', '1')\n",
    }
    got = discover_all(files)
    assert [v.name for v in got.vars] == ["APP_OK"]
