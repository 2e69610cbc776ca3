"""Lead, stop 28: the passes' notes."""

from __future__ import annotations

import shlex
import subprocess
import sys

import pytest

from tests.helpers import git, rollout
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


def test_a_bad_plan_on_standard_input_offers_a_plan_piped_to_apply(fleet):
    """Pass 24i's note: `rollout plan --out - -m M | rollout apply - -m M`, with the plan damaged on the
    way, said "run `rollout plan --out ./- …` again": pasted, that writes a file named `-`, which
    `apply -` never reads (it reads standard input again). It offers the pipe it came from, each half
    with the options apply was given, and the offer works when pasted."""
    run = [sys.executable, "-c", "from juniper_rollout.cli import main; main()"]
    said = subprocess.run(
        [*run, "apply", "-", "--manifest", str(fleet.manifest)],
        input=b"not a plan\n",
        capture_output=True,
        cwd=fleet.root,
    )
    assert said.returncode == 1, said.stderr
    line = said.stderr.decode()
    assert "./-" not in line, line
    assert "`rollout plan --out - --manifest " in line and ", piped to `rollout apply - " in line, (
        line
    )
    plan, apply = (line.split("`")[i] for i in (1, 3))
    # pasted (with this interpreter for `rollout`): the piped plan applies
    tool = " ".join(shlex.quote(w) for w in run)
    pasted = f"{plan.replace('rollout', tool, 1)} | {apply.replace('rollout', tool, 1)} --yes"
    done = subprocess.run(pasted, shell=True, capture_output=True, cwd=fleet.root)
    assert done.returncode == 0, done.stderr
    assert not (fleet.root / "-").exists()
    assert git(fleet.repo("juniper-cascor"), "branch", "--list", "chore/sops-age-rollout").strip()
