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


# --- 13.6: a symlinked folder deep in a large clone is still read --------------------------------------


def test_an_env_file_in_a_symlinked_folder_past_the_walks_bound_is_read_by_the_leak_guard(tmp_path):
    """Pass 22b found folder links by walking the working tree, 20,000 entries, in name order: a
    clone with a folder of 20,000 files (fixtures, a dataset) sorting before `services/` stopped the
    walk before `services/api/conf -> /srv/secrets` was seen, so its `.env` was never read and a
    template holding its value was shown in the plan's diff (pass 22e: git lists every link)."""

    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"PORT=8100\n", f"ops notes: {CANARY}\n")
    _a_deep_link_to_an_env(tmp_path, "services/api/conf", f"API_TOKEN={CANARY}\n")
    result = rollout("plan", "--manifest", manifest)
    assert CANARY not in result.stdout + result.stderr
    assert result.code == 1, result.stdout
    assert "of the plaintext services/api/conf/.env" in result.stdout, result.stdout


def _a_deep_link_to_an_env(tmp_path, link: str, env: str) -> None:
    """In the clone `ws/victim`: a folder of 20,001 files, then ``link``, a symlink to a folder outside
    the clone whose `.env` holds ``env`` (`services/api/conf -> /srv/secrets`)."""
    import os

    victim = tmp_path / "ws" / "victim"
    (victim / "data").mkdir()
    for number in range(20_001):
        (victim / "data" / f"row{number}.csv").write_bytes(b"1\n")
    outside = tmp_path / "srv-secrets"
    outside.mkdir()
    (outside / ".env").write_text(env)
    (victim / link).parent.mkdir(parents=True)
    os.symlink(outside, victim / link)


# --- 13.6: Jinja's message never quotes a piece of a value of a file compose's `env_file:` names --------


@pytest.mark.parametrize("where", ["compose", "deep-link"])
def test_a_template_holding_a_value_the_guard_reads_fails_without_quoting_it(tmp_path, where):
    """Pass 21b hid Jinja's quoted pieces that the fleet's plaintext env files hold, read by the
    renderer's own walk of the clones: a file a compose `env_file:` names (`config/app.conf`) is no
    plaintext env file by name, and a folder link past the walk's 20,000 entries was never entered,
    so "'PieceCANARY…' is undefined" was printed (pass 22e: the renderer asks the guard's readers)."""

    from tests.test_pass11b import _one_repo_with_a_template

    piece = CANARY.replace("-", "")
    value = f"Zq22e{{{{{piece}}}}}Tail"
    manifest = _one_repo_with_a_template(tmp_path, b"PORT=8100\n", f"db:\n  password: {value}\n")
    victim = tmp_path / "ws" / "victim"
    if where == "compose":
        (victim / "compose.yaml").write_text("services:\n  w: {env_file: config/app.conf}\n")
        (victim / "config").mkdir()
        (victim / "config" / "app.conf").write_text(f"DB_PASSWORD={value}\n")
    else:
        _a_deep_link_to_an_env(tmp_path, "services/conf", f"DB_PASSWORD={value}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert piece not in result.stdout + result.stderr


# --- 13.6: a value compose builds in the compose file itself from the project's `.env` -----------------


@pytest.mark.parametrize(
    "compose",
    [
        "services:\n  w:\n    environment:\n      - API_TOKEN=${P1}${P2}\n",
        'services:\n  w:\n    environment:\n      API_TOKEN: "${P1}${P2}"\n',
        'services:\n  w:\n    command: ["run", "--token=${P1}$P2"]\n',
    ],
    ids=["list", "mapping", "command"],
)
def test_a_value_compose_builds_from_the_dotenv_in_the_compose_file_is_never_shown(
    tmp_path, compose
):
    """compose interpolates the compose file itself from the project's `.env` (the fleet's
    `${JUNIPER_DATA_API_KEYS}`): `API_TOKEN=${P1}${P2}` gives the container a value no env file holds
    whole (two pieces under 8 bytes), and a template holding it was shown in the plan's diff (pass
    22e)."""
    from tests.test_pass11b import _one_repo_with_a_template

    dotenv = f"P1={CANARY[:7]}\nP2={CANARY[7:]}\n".encode()
    manifest = _one_repo_with_a_template(tmp_path, dotenv, f"ops notes: {CANARY}\n")
    (tmp_path / "ws" / "victim" / "docker-compose.yml").write_text(compose)
    result = rollout("plan", "--manifest", manifest)
    assert CANARY not in result.stdout + result.stderr
    assert result.code == 1, result.stdout
    assert "of the plaintext docker-compose.yml" in result.stdout, result.stdout


def test_a_compose_file_interpolating_ordinary_values_still_plans(tmp_path):
    """Control: a compose file reading `.env`'s ordinary settings and its own defaults
    (`image: app:${TAG:-latest}`, `"${PORT}:8100"`) leaves a template writing them alone."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(
        tmp_path,
        b"PORT=8100\nTAG=2026.1\nLOG_LEVEL=info\n",
        "image: ghcr.io/juniper/app:latest\nports: 8100:8100\nlog: info\n",
    )
    (tmp_path / "ws" / "victim" / "docker-compose.yml").write_text(
        "services:\n  w:\n    image: ghcr.io/juniper/app:${TAG:-latest}\n"
        '    ports: ["${PORT}:8100"]\n    environment:\n      - LOG_LEVEL=${LOG_LEVEL}\n'
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout
