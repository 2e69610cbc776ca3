"""Issue 13, pass 22b: a second adversarial pass over items 5-8 (main f04183f).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.demofleet import CANARY
from tests.helpers import git, rollout
from tests.leakshapes import plan_beside

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

# --- 13.6: a `.env` value as docker compose reads it ---------------------------------------------------

P1, P2 = CANARY[:7], CANARY[7:]  # two pieces under 8 bytes: neither is checked on its own


@pytest.mark.parametrize(
    "dotenv",
    [
        f"P1={P1}\nP2={P2}\nAPI_TOKEN=$P1$P2",  # `$NAME` without braces
        f"API_TOKEN=${{UNSET_IN_TESTS-{CANARY}}}",  # a default without `:`
        f"P1=x\nAPI_TOKEN=${{P1:+{CANARY}}}",  # an alternative value
        f'P1={P1}\nAPI_TOKEN="${{P1?required}}{P2}"',  # a required one
        'API_TOKEN="\\0103' + CANARY[1:] + '"',  # an octal escape in double quotes (`C`)
        f"P1={P1}\nP2={P2}\nAPI_TOKEN: ${{P1}}$P2",  # a YAML-style `NAME: value`
    ],
    ids=["unbraced", "dash-default", "plus-alternative", "required", "octal-escape", "yaml-style"],
)
def test_a_value_docker_compose_reads_from_the_dotenv_is_never_shown(tmp_path, dotenv):
    """docker compose reads the project's `.env` with a parser of its own (the fleet's compose files
    interpolate `${JUNIPER_DATA_API_KEYS}` from it): `$P1$P2`, `${UNSET-value}`, `${SET:+value}`,
    `${SET?message}`, `"\\0103…"` and `NAME: value` are values to compose that python-dotenv reads
    otherwise (as written, empty, or not at all). The guard read the file as python-dotenv only, so a
    template holding the value compose gives the containers was shown in the plan's diff (pass 22b)."""
    result = plan_beside(tmp_path, dotenv, f"ops notes: {CANARY}\n")
    assert result.code == 1, result.stdout
    assert "NOTES.md would contain the value on line" in result.stdout, result.stdout


def test_a_compose_style_dotenv_with_ordinary_values_still_plans(tmp_path):
    """Control: a `.env` written for compose (`$NAME`, `${NAME:-default}`, `NAME: value`) beside a
    template holding none of its values plans as before."""
    dotenv = "PORT=8100\nHOST=db.internal\nURL=http://$HOST:${PORT:-80}/v1\nLEVEL: INFO"
    result = plan_beside(tmp_path, dotenv, "ops notes: see the runbook\n")
    assert result.code == 0, result.stdout


def test_the_compose_reader_reads_as_compose_go_does():
    """`envdialects.compose_bindings` on the shapes compose-go v2's parser and template code read
    (its `dotenv/parser.go`, `template/template.go`): the last form is the value compose binds."""
    from juniper_rollout.envdialects import compose_bindings

    def read(text: str) -> dict[bytes, bytes]:
        return {name: forms[-1] for _, name, forms in compose_bindings(text.encode())}

    assert read("A=ab\nB=$A-${A}") == {b"A": b"ab", b"B": b"ab-ab"}
    assert read("B=${U-d}${U:-e}${U+f}${U:+g}") == {b"B": b"de"}
    assert read("A=\nB=${A-d}|${A:-e}|${A+f}|${A:+g}")[b"B"] == b"|e|f|"
    assert read('A="x\\0101\\$A\\n"')[b"A"] == b"xA$A\n"  # octal, `\$` (no expansion), `\n`
    assert read("A='$B \\n'\nB: y # c")[b"A"] == b"$B \\n"  # single quotes: as written
    # ` #` only starts a comment
    assert read("B: y # c\nexport C=z#w") == {b"B": b"y", b"C": b"z#w"}
    assert read('A="x" B=y')[b"B"] == b"y"  # after a closing quote, a statement of its own
    assert read("\ufeffA=${B:-${C:-deep}}")[b"A"] == b"deep"  # a BOM is skipped; nested defaults
    assert list(compose_bindings(b"A=${B")) == [(1, b"A", [b"${B"])]  # compose refuses: as written


# --- 13.6: a `.env` value as systemd's EnvironmentFile= reads it -----------------------------------


@pytest.mark.parametrize(
    "dotenv",
    [
        f"API_TOKEN={P1}\\{P2}",  # a backslash escapes the next character of a plain value
        f"API_TOKEN={P1}\\\n{P2}",  # a backslash before the line end joins the lines
        f'API_TOKEN="{P1}"{P2}',  # a quoted piece and plain text next to it are one value
        f"API_TOKEN='{P1}' '{P2}'",  # two quoted pieces, blanks between them dropped
        f'API_TOKEN="{P1}\\\n{P2}"',  # a continued line inside double quotes
    ],
    ids=[
        "escaped-character",
        "continued-line",
        "quote-then-plain",
        "two-quoted-pieces",
        "quoted-continuation",
    ],
)
def test_a_value_systemd_reads_from_the_dotenv_is_never_shown(tmp_path, dotenv):
    """systemd reads a unit's `EnvironmentFile=` (juniper-cascor-worker's service names its `.env`)
    with a state machine of its own: each of these lines gives the service `CANARY-7f3a9c`, and
    python-dotenv reads another value or none (an error line). The guard read the file as python-dotenv
    only, so a template holding the value the service gets was shown in the plan's diff (pass 22b)."""
    result = plan_beside(tmp_path, dotenv, f"ops notes: {CANARY}\n")
    assert result.code == 1, result.stdout
    assert "NOTES.md would contain the value on line 1 of the plaintext .env" in result.stdout


# --- 13.6 through drift: a commit's subject holding a value of the clone's plaintext env files ---------


@pytest.mark.parametrize("fmt", ["table", "json", "sarif"])
@pytest.mark.parametrize(
    "subject",
    ["db: rotate the password to {value}", "DB_PASSWORD: {value}"],
    ids=["prose", "compose-yaml-style"],
)
def test_drift_never_names_a_commit_by_a_subject_holding_a_plaintext_value(
    fleet, tmp_path, fmt, subject
):
    """drift names the commits that added a plaintext env file by their subjects, and hid only a
    `NAME=value` or credential-shaped one (pass 16b): `git commit -m "db: rotate the password to
    VALUE"` or a first line `DB_PASSWORD: VALUE` (compose's YAML-style binding, `git commit -F`)
    holding the `DB_PASSWORD` of the clone's `.env.local` was printed in text, JSON and SARIF. The
    value is no credential shape and must be committed (in the subject), so it is not the CANARY, as
    in pass 16b's test (pass 22b). The commit is still named by its id."""
    from tests.test_pass3 import commit_on

    repo = fleet.repo("juniper-data")
    value = "orchid-lantern-9741"
    files = {".env.local": f"DB_PASSWORD={value}\n"}
    added = commit_on(repo, "main", files, tmp_path, subject.format(value=value))
    git(repo, "update-ref", "refs/heads/main", added)
    (repo / ".env.local").write_text(files[".env.local"])  # the clone's file, as the user has it
    result = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-data", "--format", fmt
    )
    out = result.stdout + result.stderr
    assert value not in out, out
    assert "its subject holds a value of the clone's plaintext env files: not shown" in out, out
    assert added[:7] in out


# --- 13.6: a file a compose file names under `env_file:` -----------------------------------------------


@pytest.mark.parametrize(
    "compose",
    [
        "services:\n  worker:\n    image: w\n    env_file: config/app.conf\n",
        "services:\n  worker:\n    env_file:\n      - path: ./config/app.conf\n        required: true\n",
    ],
    ids=["scalar", "list-of-paths"],
)
def test_a_file_a_compose_env_file_names_is_read_by_the_leak_guard(tmp_path, compose):
    """docker compose gives a service the values of any file its `env_file:` names, under any name
    (`config/app.conf` matches no plaintext env definition): the guard never read it, so a template
    holding its value was shown in the plan's diff (pass 22b)."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"PORT=8100\n", f"ops notes: {CANARY}\n")
    victim = tmp_path / "ws" / "victim"
    (victim / "docker-compose.yml").write_text(compose)
    (victim / "config").mkdir()
    (victim / "config" / "app.conf").write_text(f"API_TOKEN={CANARY}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext config/app.conf" in result.stdout, result.stdout


# --- 13.6: plaintext env files inside a folder the clone reaches through a symlink --------------------


@pytest.mark.parametrize("name", [".env", "prod.env", "api/.env.production"])
def test_an_env_file_in_a_symlinked_folder_is_read_by_the_leak_guard(tmp_path, name):
    """`conf -> /srv/secrets` (a mounted secrets folder) holding `.env`: git lists no file under a
    symlinked folder, so the guard never read it, and the app reads it (`env_file="conf/.env"`): a
    template holding its value was shown in the plan's diff (pass 22b)."""
    import os

    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"PORT=8100\n", f"ops notes: {CANARY}\n")
    outside = tmp_path / "srv-secrets"
    (outside / name).parent.mkdir(parents=True)
    (outside / name).write_text(f"API_TOKEN={CANARY}\n")
    os.symlink(outside, tmp_path / "ws" / "victim" / "conf")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert f"value on line 1 of the plaintext conf/{name}" in result.stdout, result.stdout


# --- 13.6: Jinja's message never quotes a piece of a value in a symlinked folder's env file ----------


def test_a_template_holding_a_value_of_a_symlinked_folders_env_file_fails_without_quoting_it(
    tmp_path,
):
    """Pass 21b hid Jinja's quoted pieces that the fleet's plaintext env files hold, read by the
    renderer's own walk of the clones, which did not enter a folder reached through a symlink
    (`conf -> /srv/secrets`): "'PieceCANARY…' is undefined" was printed (pass 22b)."""
    import os

    from tests.test_pass11b import _one_repo_with_a_template

    piece = CANARY.replace("-", "")
    value = f"Zq22b{{{{{piece}}}}}Tail"
    manifest = _one_repo_with_a_template(tmp_path, b"PORT=8100\n", f"db:\n  password: {value}\n")
    outside = tmp_path / "srv-secrets"
    outside.mkdir()
    (outside / ".env").write_text(f"APP_ENV=dev\nDB_PASSWORD={value}\n")
    os.symlink(outside, tmp_path / "ws" / "victim" / "conf")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "'…' is undefined" in result.stderr, result.stderr
    assert piece not in result.stdout + result.stderr


# --- 13.6: `${NAME}` bound by another env file the app loaded first -----------------------------------


@pytest.mark.parametrize("other", [".env.local", "backend/.env.shared"])
def test_a_value_expanded_from_another_env_files_binding_is_never_shown(tmp_path, other):
    """`load_dotenv(".env.local"); load_dotenv(".env")`: python-dotenv expands `.env`'s `${P1}` from
    `os.environ`, which the first file set, so `API_TOKEN=${P1}7f3a9c` gives the app the whole value
    (two pieces under 8 bytes). The guard read each file on its own (`${P1}` unset: `7f3a9c`), and a
    template holding the value the app gets was shown in the plan's diff (pass 22b)."""
    from tests.test_pass11b import _one_repo_with_a_template

    dotenv = f"API_TOKEN=${{P1}}{P2}\n".encode()
    manifest = _one_repo_with_a_template(tmp_path, dotenv, f"ops notes: {CANARY}\n")
    (tmp_path / "ws" / "victim" / other).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "ws" / "victim" / other).write_text(f"P1={P1}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout
