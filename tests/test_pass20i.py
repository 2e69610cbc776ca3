"""Pass 20i (issue 13 items 6 and 8, confirmation pass on the `.env` reader after 20c and 20f): the
leak guard against the values python-dotenv 1.2.2 gives the app. Each test here fails without its fix."""

from __future__ import annotations

import pytest

from tests.demofleet import CANARY
from tests.helpers import rollout
from tests.test_pass11b import _one_repo_with_a_template


@pytest.mark.parametrize(
    ("line", "app_reads"),
    [
        # python-dotenv 1.2.2 reads `NAME= # …` as the text `# …`, `${…}` expanded: the default
        (f"API_TOKEN= # ${{UNSET_IN_TESTS:-{CANARY}}}", f"# {CANARY}"),
        # an unset variable between two pieces of the secret (each under 8 bytes, none a run of 8)
        (f"API_TOKEN=  #{CANARY[:6]}${{UNSET_IN_TESTS}}{CANARY[6:]}", f"#{CANARY}"),
    ],
    ids=["default", "unset-between"],
)
def test_a_value_python_dotenv_reads_after_name_space_hash_is_expanded_for_the_guard(
    tmp_path, line, app_reads
):
    """`NAME= # ${UNSET:-X}`: the tool took the `# …` for a comment (the value empty, as some
    python-dotenv versions read it) and kept the text as written; python-dotenv 1.2.2 gives the app
    `# X`, which none of the guard's forms held, so a template holding it was rendered and shown by
    `rollout plan` (pass 20i). The CANARY alone has no run of 8 letters, so only the whole value guards it."""
    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"token: {app_reads}\n")
    result = rollout("plan", "--manifest", manifest)  # the helper fails on the canary in the output
    assert result.code == 1, result.stdout
    assert "of the plaintext .env" in result.stdout, result.stdout
