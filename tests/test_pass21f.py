"""Issue 13, pass 21f: the last adversarial pass over items 5-8 (main 0009973).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.demofleet import CANARY
from tests.leakshapes import plan_beside

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
