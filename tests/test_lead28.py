"""Lead, stop 28: the passes' notes."""

from __future__ import annotations

import pytest

from tests.helpers import rollout
from tests.test_pass24b import _template_beside_a_dotenv

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


@pytest.mark.parametrize(
    "prose",
    [
        "See [the release steps](pypi-publish-procedure.md).\n",
        "      - name: pypi-publish-release\n        uses: pypa/gh-action-pypi-publish@release/v1\n",
    ],
)
def test_a_template_naming_a_pypi_step_is_no_credential(tmp_path, prose):
    """Pass 24g's note: the template-credential check took `pypi-` and any 8 letters for a PyPI
    token, so a notes template linking `pypi-publish-procedure.md`, or a workflow template with a
    step named `pypi-publish-release`, was refused as "holds a credential" and the repo could not be
    planned. A PyPI API token is a macaroon: it always starts `pypi-AgE` (pypi.org and test.pypi.org
    alike), and only that shape is a token now."""
    manifest = _template_beside_a_dotenv(tmp_path, "APP_ENV=dev\n", "notes/RELEASE.md", prose)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr
    assert "notes/RELEASE.md" in result.stdout and "create" in result.stdout, result.stdout


def test_a_template_holding_a_pypi_token_is_still_refused(tmp_path):
    """Control: a real-shaped PyPI token (`pypi-AgEIcHlwaS5vcmc…`) in a template is refused."""
    token = "pypi-AgEIcHlwaS5vcmcCJGQ4Zjk3NzBhLTRiNWMtNDQ2Ni1iNWE3LTM2ZDU5ZmU2MDE5ZQ"
    manifest = _template_beside_a_dotenv(
        tmp_path, "APP_ENV=dev\n", "notes/RELEASE.md", f"twine upload -p {token}\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout + result.stderr
    assert "holds a credential" in result.stdout + result.stderr
    assert token not in result.stdout + result.stderr
