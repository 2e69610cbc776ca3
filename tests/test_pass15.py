"""Pass 15 of the outside adversary (issue 13, confirmation of round five's new code): each test
failed on main (5c657a7) before its fix. The attempts are logged in the pass-15 log; SECURITY.md
lists each guarantee."""

from __future__ import annotations

import pytest

# --- item 1: the quoted-empty match by length (7a5106a, fcec401) -----------------------------------


@pytest.mark.parametrize("held, blank", [("42", '""'), ("ok", "''"), ("eu", '""')])
def test_a_two_byte_value_blanked_with_quotes_is_still_refused(fleet, held, blank):
    """A committed value exactly as long as the quotes that blank it (`SENTRY_SAMPLE=42` then
    `SENTRY_SAMPLE=""`) was taken for the quoted-empty text kept as it was, by its length alone, and
    encrypted over silently. The ciphertext of a quoted-empty text is told apart by the tool's own
    record of what it stored, not by its length."""
    from tests.helpers import git, rollout
    from tests.test_pass3 import BRANCH
    from tests.test_pass10a import _apply

    repo = fleet.repo("juniper-cascor")
    env = repo / ".env"
    env.write_text(env.read_text() + f"SHORT_SETTING={held}\n")
    assert _apply(fleet, "juniper-cascor").code == 0
    assert "SHORT_SETTING=ENC[AES256_GCM,data:" in git(repo, "show", f"{BRANCH}:.env.enc")
    env.write_text(env.read_text().replace(f"SHORT_SETTING={held}\n", f"SHORT_SETTING={blank}\n"))
    planned = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor")
    assert planned.code == 1 and "leaves 1 name empty" in planned.stdout, planned.stdout
    assert "(SHORT_SETTING:" in planned.stdout
