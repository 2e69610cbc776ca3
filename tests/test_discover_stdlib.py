"""No crash, ever, on any Python file: discovery over CPython's own standard library (a sample in
`make test`, every file in `make stress`), and over shapes built to break a static folder."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

import pytest

from juniper_rollout.discover import Discovery, discover_all

STRESS = bool(os.environ.get("JUNIPER_STRESS"))
STEP = 1 if STRESS else 15


def stdlib_files() -> dict[str, str]:
    root = Path(sysconfig.get_paths()["stdlib"])
    paths = [
        p for p in sorted(root.rglob("*.py")) if "site-packages" not in p.relative_to(root).parts
    ]
    out = {}
    for p in paths[::STEP]:
        try:
            out[p.relative_to(root).as_posix()] = p.read_bytes().decode("utf-8", "replace")
        except OSError:  # an unreadable file is not what this test is about
            continue
    return out


def test_stdlib_never_crashes_discovery():
    files = stdlib_files()
    assert len(files) > (1000 if STRESS else 80)
    found = discover_all(files, include=["*"])  # tests and all: every file is read
    assert isinstance(found, Discovery)
    names = {v.name for v in found.vars}
    assert "PYTHONSTARTUP" in names or not STRESS  # site.py/… read it: discovery saw real code
    assert all(":" in u for u in found.unresolved)


HOSTILE = {
    "deep_concat": "import os\nX = " + " + ".join(["'a'"] * 3000) + "\nos.getenv(X)\n",
    "deep_parens": "import os\nos.getenv(" + "(" * 190 + "'A'" + ")" * 190 + ")\n",
    "deep_attr": "import os\nos.getenv(" + ".".join(["a"] * 2000) + ")\n",
    "deep_fstring": "import os\nA = 'x'\nos.getenv(f'{A}' " + "f'{A}' " * 2000 + ")\n",
    "self_base": "from pydantic_settings import BaseSettings\nclass S(S, BaseSettings):\n    a: int = 1\n",
    "cycle_bases": "from pydantic import BaseModel\nclass A(B):\n    x: int = 1\nclass B(A):\n    y: int = 2\n",
    "nested_cycle": "from pydantic import BaseModel\nfrom pydantic_settings import BaseSettings\n"
    "class M(BaseModel):\n    m: 'M' = None\nclass S(BaseSettings, env_nested_delimiter='__'):\n    m: M\n",
    "huge_format": "import os\nos.getenv('X', '{:>999999999}'.format(1))\nos.getenv('{0:{1}}'.format('a', 9))\n",
    "huge_int": "import os\nos.getenv('N', " + "9" * 5000 + ")\n",
    "star_import": "from os import *\nfrom . import *\nenviron.get('STAR')\n",
    "relative_too_far": "from ....... import x\nimport os\nos.getenv(x.NAME)\n",
    "walrus_and_match": "import os\nif (k := 'A'):\n    os.getenv(k)\nmatch 1:\n    case 1:\n        K = 'B'\nos.getenv(K)\n",
    "bytes_and_none": "import os\nos.getenv(b'X')\nos.environ[None]\nos.getenv(1.5)\n",
    "annotation_strings": "from pydantic_settings import BaseSettings\nclass S(BaseSettings):\n"
    "    a: '((((((((((((((((((((((((((((((((((((((((int))))))))))))))))))))))))))))))))))))))))' = 1\n"
    "    b: 'Optional[' = 2\n    c: 'x\\x00' = 3\n",
    "alias_weird": "from pydantic import Field, AliasChoices\nfrom pydantic_settings import BaseSettings\n"
    "class S(BaseSettings):\n    a: int = Field(1, validation_alias=AliasChoices())\n"
    "    b: int = Field(2, alias=3)\n    c: int = Field(3, validation_alias=AliasChoices(AliasChoices('C')))\n",
    "model_config_junk": "from pydantic_settings import BaseSettings\nclass S(BaseSettings):\n"
    "    model_config = {**{}, 1: 2, 'env_prefix': 3}\n    a: int = 1\n",
}


@pytest.mark.parametrize("code", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_shapes_never_crash(code):
    found = discover_all({"pkg/m.py": code, "pkg/__init__.py": ""})
    assert isinstance(found, Discovery)


def test_the_analysed_code_s_own_warnings_are_not_printed():
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = discover_all({"m.py": "import os\nx = '\\d'\nif x is 'a': pass\nos.getenv('A')\n"})
    assert [str(w.message) for w in caught] == [] and [v.name for v in found.vars] == ["A"]
