"""Pass 22e: the second adversarial pass over issue #13's items 5-8 after pass 22b (session 26)."""

from __future__ import annotations

import pytest

from tests.demofleet import CANARY
from tests.helpers import rollout

# --- 13.6: every spelling of compose's `env_file:` names a file the leak guard reads -----------------

_APP_CONF = {"config/app.conf": f"API_TOKEN={CANARY}\n"}


@pytest.mark.parametrize(
    ("files", "where"),
    [
        (
            {"docker-compose.yml": "services:\n  worker: {image: w, env_file: config/app.conf}\n"},
            "config/app.conf",
        ),
        (
            {
                "compose.yaml": "services:\n  worker:\n"
                "    env_file: {path: config/app.conf, required: false}\n"
            },
            "config/app.conf",
        ),
        (
            {
                "compose.yaml": "x-env: &env\n  - config/app.conf\n"
                "services:\n  worker:\n    env_file: *env\n"
            },
            "config/app.conf",
        ),
        (
            {
                "compose.yaml": "services:\n  worker:\n    env_file: !override [{path: config/app.conf}]\n"
            },
            "config/app.conf",
        ),
        (
            {"compose.yaml": "services:\n  worker:\n    env_file: >-\n      config/app.conf\n"},
            "config/app.conf",
        ),
        (
            {"compose.yaml": "services:\n  worker:\n    env_file: ${APP_ENV:-config/app.conf}\n"},
            "config/app.conf",
        ),
        (
            {
                "compose.yaml": "include:\n  - deploy/stack.yml\n",
                "deploy/stack.yml": "services:\n  worker:\n    env_file: ../config/app.conf\n",
            },
            "config/app.conf",
        ),
        (
            {
                "compose.yaml": "services:\n  api:\n    extends: {file: deploy/base.yml, service: w}\n",
                "deploy/base.yml": "services:\n  w:\n    env_file: [../config/app.conf]\n",
            },
            "config/app.conf",
        ),
    ],
    ids=[
        "flow-service",
        "flow-path-mapping",
        "alias",
        "override-tag",
        "block-scalar",
        "interpolated-default",
        "include",
        "extends",
    ],
)
def test_every_spelling_of_a_compose_env_file_is_read_by_the_leak_guard(tmp_path, files, where):
    """Pass 22b read `env_file:` line by line: a flow mapping, an alias, a tag, a block scalar, a
    `${X:-default}` and the compose files an `include:` or `extends:` names gave no name (or a wrong
    one), so the file compose hands the service was never read and a template holding its value
    was shown in the plan's diff (pass 22e)."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"PORT=8100\n", f"ops notes: {CANARY}\n")
    victim = tmp_path / "ws" / "victim"
    for name, text in {**files, **_APP_CONF}.items():
        (victim / name).parent.mkdir(parents=True, exist_ok=True)
        (victim / name).write_text(text)
    result = rollout("plan", "--manifest", manifest)
    assert CANARY not in result.stdout + result.stderr
    assert result.code == 1, result.stdout
    assert f"value on line 1 of the plaintext {where}" in result.stdout, result.stdout
