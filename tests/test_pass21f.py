"""Issue 13, pass 21f: the last adversarial pass over items 5-8 (main 0009973).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.demofleet import CANARY
from tests.helpers import git, rollout
from tests.leakshapes import plan_beside
from tests.test_adversary import run_cli
from tests.test_pass11b import _one_repo_with_a_template

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

# --- 13.6: a quoted name holding a carriage return is the name the app reads -------------------------


@pytest.mark.parametrize("line_end", ["\r", "\r\n"])
def test_a_quoted_names_carriage_return_is_read_as_the_apps_line_feed(tmp_path, line_end):
    """python-dotenv opens the file as text, so a quoted name's `\\r` or `\\r\\n` is `\\n` to it, and
    `"${P1\\n}"` (an escaped line feed) is that name's value. The guard kept the `\\r`, so `${P1\\n}`
    was unset to it: `API_TOKEN`'s value as the app gets it, two pieces under 8 bytes joined, was no
    form the guard checked, and a template holding it was printed in the plan's diff (pass 21f)."""
    first, second = CANARY[:7], CANARY[7:]
    dotenv = f"'P1{line_end}'={first}\nP2={second}\nAPI_TOKEN=\"${{P1\\n}}${{P2}}\"\n"
    result = plan_beside(tmp_path, dotenv.rstrip("\n"), f"ops notes: {CANARY}\n")
    assert result.code == 1, result.stdout
    assert "would contain the value on line" in result.stdout, result.stdout


# --- 13.6: another env file's `${…}` growth never leaves a value unexpanded ---------------------------


def _budget_decoy() -> str:
    """A `.env.ci` a contributor can commit, holding no secret: `${A}` lines that grow by 16 MB in
    all (the guard's shared budget, `appenv.MAX_EXPANDED_TOTAL`), all but 9 bytes of it."""
    lines = ["A=" + "x" * 65000, *(f"B{i}=${{A}}" for i in range(258)), "A9=" + "y" * 6170]
    return "\n".join([*lines, "Y=${A9}", ""])


def test_a_decoy_env_files_growth_never_hides_another_files_value(tmp_path):
    """The guard's `${…}` budget is shared by a clone's env files; spent by a committed decoy read
    first (`.env.ci` before `.env.local`), the later file's `API_TOKEN=${P1}${P2}` was left as
    written, so the value the app gets, two pieces under 8 bytes joined, was no form the guard
    checked, and a template holding it was shown in the plan's diff (pass 21f)."""
    manifest = _one_repo_with_a_template(tmp_path, b"", f"ops notes: {CANARY}\n")
    victim = tmp_path / "ws" / "victim"
    (victim / ".env").unlink()
    (victim / ".env.ci").write_text(_budget_decoy())
    git(victim, "add", ".env.ci")
    git(victim, "commit", "-qm", "ci defaults")
    first, second = CANARY[:7], CANARY[7:]
    (victim / ".env.local").write_text(f"P1={first}\nP2={second}\nAPI_TOKEN=${{P1}}${{P2}}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 3 of the plaintext .env.local" in result.stdout, result.stdout


# --- 13.6 read in bounded time: an unquoted value's run of spaces ------------------------------------


def test_a_value_holding_a_million_spaces_is_read_in_bounded_time(fleet):
    """python-dotenv's inline-comment cut, `re.sub(r"\\s+#.*", …)`, rescans a run of spaces from each
    of them: a 1 MB `tools/ci.env` (any env file of the clone, which the leak guard reads, tracked
    or not) holding `A=x`, a million spaces and `y` held `rollout plan` for half an hour (0.6 s for
    20,000 spaces, 10 s for 80,000). The same cut is found in one pass (pass 21f)."""
    repo = fleet.repo("juniper-cascor")
    (repo / "tools").mkdir()
    (repo / "tools" / "ci.env").write_bytes(b"A=x" + b" " * 1_000_000 + b"y\n")
    plan = run_cli("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor", timeout=120)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "Traceback" not in plan.stderr
