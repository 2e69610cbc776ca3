"""Issue 13, pass 23b: a second adversarial pass over items 5-8, on the output channels (session 27).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.demofleet import CANARY, make_repo
from tests.helpers import rollout
from tests.test_adversary import run_cli
from tests.test_hostile import KEY

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

SHIPPED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _hooks_template_beside_a_dotenv(tmp_path: Path, hooks: str) -> Path:
    """One repo keeping a pre-commit config, its untracked `.env` holding the CANARY, and a manifest
    whose templates folder (the shipped one, copied) renders the managed hooks as ``hooks``."""
    make_repo(
        tmp_path / "ws" / "victim", {"README.md": "x\n", ".pre-commit-config.yaml": "repos: []\n"}
    )
    (tmp_path / "ws" / "victim" / ".env").write_text(f"API_TOKEN={CANARY}\n")
    folder = tmp_path / "tpl"
    shutil.copytree(
        SHIPPED_TEMPLATES, folder, ignore=shutil.ignore_patterns("__pycache__", "__init__.py")
    )
    (folder / "precommit-hooks.yaml.j2").write_text(hooks)
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        "repos:\n  - name: victim\n    precommit_hook: create\n    agents_md: skip\n"
    )
    return manifest


def sops_template_beside_a_dotenv(tmp_path: Path, value: str, path_regex: str) -> Path:
    """One repo whose untracked `.env` holds ``value`` (encrypted by an `encrypt:` entry), and a
    manifest whose templates folder (the shipped one, copied) renders `.sops.yaml` with one rule of
    ``path_regex``."""
    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    (tmp_path / "ws" / "victim" / ".env").write_text(f"API_TOKEN={value}\n")
    folder = tmp_path / "tpl"
    shutil.copytree(
        SHIPPED_TEMPLATES, folder, ignore=shutil.ignore_patterns("__pycache__", "__init__.py")
    )
    (folder / "sops.yaml.j2").write_text(
        f"creation_rules:\n  - path_regex: '{path_regex}'\n"
        "    age: '{{ recipients | join(\",\") }}'\n"
    )
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        "repos:\n  - name: victim\n    precommit_hook: skip\n    agents_md: skip\n"
        "    encrypt: [{source: .env, target: .env.enc}]\n"
    )
    return manifest


# --- 13.6: a library's warning quoted the rendered text ---------------------------------------------


def test_a_yaml_readers_warning_never_prints_a_rendered_value(tmp_path):
    """ruamel warns about an anchor defined twice (ReusedAnchorWarning) with both lines of the text it
    read: a managed-hooks template holding a `.env` value as anchors (`&VALUE`) had the value printed on
    stderr by Python's warning machinery, before the leak guard refused the template in one line (pass
    23b). The CLI shows no library's warning."""
    hooks = f"- id: x\n  entry: &{CANARY} y\n  name: &{CANARY} z\n"
    manifest = _hooks_template_beside_a_dotenv(tmp_path, hooks)
    result = run_cli("plan", "--manifest", manifest)
    said = result.stdout + result.stderr
    assert CANARY not in said, said
    assert result.returncode == 1, said


# --- 13.6: an error raised before the guard's check quoted the rendered text ------------------------


@pytest.mark.parametrize(
    "hooks",
    [
        f"- id: x\n  name: n\n  language: {CANARY}\n  entry: e\n",  # "Expected one of … but got: 'V'"
        f"- id: {CANARY}\n  language: fail\n  entry: e\n",  # "At Hook(id='V')"
        f"- id: x\n  name: n\n  language: fail\n  entry: e\n  files: '({CANARY}'\n",  # "'(V' is not a valid python regex"
        f"- id: x\n  name: n\n  language: fail\n  entry: e\n  stages: [{CANARY}]\n",
    ],
    ids=["language", "id", "regex", "stage"],
)
@pytest.mark.parametrize("command", ["plan", "drift"])
def test_an_error_line_never_quotes_a_value_a_template_renders(tmp_path, hooks, command):
    """pre-commit's schema check of the edited config quotes what it refuses (`but got: 'VALUE'`,
    `At Hook(id='VALUE')`, `'(VALUE' is not a valid python regex`): a managed-hooks template holding a
    `.env` value failed that check before the leak guard looked at the templates, and the repo's error
    line printed the value in plan, `--json`, apply and drift (pass 23b). A repo's error line is
    checked as what the tool prints: one holding a value becomes the guard's own verdict."""
    manifest = _hooks_template_beside_a_dotenv(tmp_path, hooks)
    # the helper fails on the canary in the output
    result = rollout(command, "--manifest", manifest)
    assert result.code != 0, result.stdout
    assert "template precommit-hooks.yaml.j2 holds the value on line 1 of the plaintext .env" in (
        result.stdout + result.stderr
    ), result.stdout


def test_an_error_line_holding_no_value_is_kept(tmp_path):
    """Control: a managed-hooks template that pre-commit refuses for a reason holding no value keeps
    pre-commit's own words."""
    hooks = "- id: x\n  name: n\n  language: not-a-language\n  entry: e\n"
    manifest = _hooks_template_beside_a_dotenv(tmp_path, hooks)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "but got: 'not-a-language'" in result.stdout, result.stdout


# --- new: a managed-hooks template rendering no YAML ----------------------------------------------


def test_a_hooks_template_rendering_no_yaml_is_one_line_naming_it(tmp_path):
    """A managed-hooks template whose output YAML cannot read (an alias never defined) ended every
    repo's plan with "unexpected YamlSyntaxError while planning (a damaged repository? run `git fsck`
    …; please report this)" and a crash log (pass 23b). It is one line naming the template and the
    line of its output, without the reader's words (they quote the rendered text)."""
    manifest = _hooks_template_beside_a_dotenv(tmp_path, "- id: x\n  entry: *nothere\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert (
        "template precommit-hooks.yaml.j2 renders text YAML cannot read at line 2 of its output"
        in result.stdout
    ), result.stdout
    assert "unexpected" not in result.stdout and "nothere" not in result.stdout, result.stdout


def test_sops_error_text_never_quotes_a_value_a_sops_template_renders(tmp_path):
    """sops reads the `.sops.yaml` the manifest's templates render when it encrypts during plan, before
    the leak guard's check, and its error quotes the config: a `sops.yaml.j2` holding a `.env` value
    in a `path_regex` printed "can not compile regexp: … missing closing ): `(VALUE`" in the repo's
    error line (pass 23b, 13.6)."""
    manifest = sops_template_beside_a_dotenv(tmp_path, CANARY, f"({CANARY}")
    result = rollout("plan", "--manifest", manifest)  # the helper fails on the canary in the output
    assert result.code == 1, result.stdout
    # pass 23e: the guard reads the rendered `.sops.yaml` before sops does, and says so in its words
    assert ".sops.yaml would contain the value on line 1 of the plaintext .env" in result.stdout
