"""Issue 13, pass 11b: a second adversarial pass over items 5-9 and the smaller list, against main.

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.demofleet import CANARY, make_repo
from tests.helpers import rollout
from tests.test_hostile import KEY
from tests.test_pass3 import BARE

# --- 13.6: a value as python-dotenv reads it, expansion and CR line ends included -----------------


def _one_repo_with_a_template(tmp_path: Path, dotenv: bytes, template: str) -> Path:
    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    (tmp_path / "ws" / "victim" / ".env").write_bytes(dotenv)  # untracked, as .env is
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "notes.j2").write_text(template)
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"repos:\n  - name: victim\n{BARE}"
        "    files: [{path: NOTES.md, template: notes.j2}]\n"
    )
    return manifest


@pytest.mark.parametrize(
    ("dotenv", "line"),
    [
        # python-dotenv expands `${NAME:-default}` (the app reads the default when NAME is unset)
        (f"API_TOKEN=${{UNSET_IN_TESTS:-{CANARY}-dflt}}\n".encode(), 1),
        # and `${NAME}` with an earlier binding: two parts under 8 bytes, the whole one longer
        (
            f"P1={CANARY[:7]}\nP2=-x1y2z3\nAPI_TOKEN=${{P1}}${{P2}}\n".encode(),
            3,
        ),
        # old-Mac CR line ends: python-dotenv reads the second binding without its quotes and comment
        (f'A="first-value-77aa" # note\rB="{CANARY}-cr" # note\r'.encode(), 2),
    ],
    ids=["expansion-default", "expansion-parts", "cr-line-ends"],
)
def test_a_value_is_checked_as_python_dotenv_expands_and_splits_it(tmp_path, dotenv, line):
    """The leak guard read `${UNSET:-value}` and `${A}${B}` as written, and found no binding after a
    lone CR: a template holding the value the app reads was printed in the plan (pass 11b, 13.6)."""
    value = {1: f"{CANARY}-dflt", 3: f"{CANARY[:7]}-x1y2z3", 2: f"{CANARY}-cr"}[line]
    manifest = _one_repo_with_a_template(tmp_path, dotenv, f"ops notes: {value}\n")
    result = rollout("plan", "--manifest", manifest)  # the helper fails on the canary in the output
    assert result.code == 1, result.stdout
    assert f"value on line {line} of the plaintext .env" in result.stdout, result.stdout
    assert value not in result.stdout + result.stderr


def test_an_expansion_bomb_in_a_dotenv_is_read_in_bounded_time_and_memory():
    """`B=${A}${A}…` doubles at each line: the guard expands a value only up to a bound (and its
    search for `${…}` is linear: a quadratic one would not finish here)."""
    from juniper_rollout.leakguard import MAX_EXPANDED, _as_the_app_reads

    data = b"A=" + b"x" * 1000 + b"\n"
    data += b"".join(b"%c=%s\n" % (66 + i, b"${%c}" % (65 + i) * 10) for i in range(20))
    data += b"Z=" + b"${X:-" * 100_000 + b"}\n" + b"Y=" + b"${:" * 100_000 + b"\n"
    values = _as_the_app_reads(data)
    assert max(len(v) for _, _, v in values) <= max(MAX_EXPANDED, len(data))
    assert b"x" * 10_000 in b"".join(v for _, _, v in values)  # B: 10 x A, expanded
