"""An error line never repeats a credential the user typed where the tool wanted something else
(pass 16b's note, issue 13 item 7): `--manifest URL`, `--repo TOKEN` quoted it back."""

from __future__ import annotations

import pytest

from tests.helpers import rollout

TOKEN = "ghp_" + "Ab1" * 12


REFUSED = "--ref holds a URL with a password or a token; nothing read"


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["plan", "--manifest", f"https://x-access-token:{TOKEN}@github.com/o/r"], "error: ***:"),
        (["plan", "--repo", TOKEN], "no repo named '***'"),
        (["verify", "--ref", f"https://bot:{TOKEN}@example.invalid/r.git"], REFUSED),
        (["drift", "--ref", TOKEN], REFUSED),
    ],
    ids=["manifest-url", "repo-token", "verify-ref-url", "drift-ref-token"],
)
def test_an_error_never_repeats_a_credential_typed_as_an_option(fleet, args, said):
    if "--manifest" not in args:
        args = [*args, "--manifest", str(fleet.manifest)]
    result = rollout(*args)
    assert result.code == 1 and result.stderr.startswith("error: "), result.stderr
    assert said in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_an_ordinary_error_keeps_its_words(fleet):
    result = rollout("plan", "--repo", "no-such-repo", "--manifest", fleet.manifest)
    assert result.code == 1 and "no repo named 'no-such-repo'" in result.stderr
