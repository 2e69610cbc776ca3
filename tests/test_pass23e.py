"""Issue 13, pass 23e: the second pass over pass 23b's fixes (items 5-8, the output channels), session 27.

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.demofleet import CANARY
from tests.helpers import rollout
from tests.test_pass23b import (
    _hooks_template_beside_a_dotenv,
    sops_template_beside_a_dotenv,
)

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


def _hooks_and_dotenv(tmp_path: Path, dotenv: str, hooks: str) -> Path:
    manifest = _hooks_template_beside_a_dotenv(tmp_path, hooks)
    (tmp_path / "ws" / "victim" / ".env").write_text(dotenv)
    return manifest


# --- 13.6: an error line quoting a value re-encoded ---------------------------------------------


@pytest.mark.parametrize("command", ["plan", "plan --json", "drift"])
def test_an_error_line_quoting_a_value_escaped_is_refused(tmp_path, command):
    """pre-commit's schema error quotes what it refuses as Python's repr (`but got: 'VALUE'`): a `.env`
    value holding a backslash is printed with it doubled, and the printed-text check of pass 23b looked
    for the value whole in vain, so a managed-hooks template holding it as `language:` printed it in
    plan, `--json` and drift (pass 23e). The line is read as its reader decodes it too (backslash
    escapes undone, shell quotes, `%XX`)."""
    hooks = f"- id: x\n  name: n\n  language: '{CANARY}\\pw'\n  entry: e\n"
    manifest = _hooks_and_dotenv(tmp_path, f"API_TOKEN='{CANARY}\\pw'\n", hooks)
    # the helper fails on the canary in the output, escaped or not
    result = rollout(*command.split(), "--manifest", manifest)
    assert result.code != 0, result.stdout
    assert "template precommit-hooks.yaml.j2 holds the value on line 1 of the plaintext .env" in (
        result.stdout
    ), result.stdout


# --- 13.6: sops quoted the rendered .sops.yaml, cut to a width --------------------------------------


@pytest.mark.parametrize("command", ["plan", "plan --json"])
def test_sops_never_reads_a_rendered_sops_config_holding_a_value(tmp_path, command):
    """Plan encrypts with the rendered `.sops.yaml`, and sops' error quotes it: pass 23b checked the
    printed line for the value whole, but the tool cuts sops' message at 200 characters, so a
    `path_regex` holding 115 letters and then the value printed its first part ("missing closing ):
    `(aaa…aCANARY-7f3a9c-Zq81"), which no check of the printed line sees whole (pass 23e). The guard
    reads the rendered `.sops.yaml` before sops does."""
    secret = f"{CANARY}-Zq81Lm0pWx42Rt"
    manifest = sops_template_beside_a_dotenv(tmp_path, secret, f"({'a' * 115}{secret}")
    result = rollout(*command.split(), "--manifest", manifest)  # fails on the canary in the output
    assert result.code == 1, result.stdout
    assert ".sops.yaml would contain the value on line 1 of the plaintext .env" in result.stdout
    assert "regexp" not in result.stdout, result.stdout


# --- 13.6: verify printed what the manifest renders, unguarded ---------------------------------------


@pytest.mark.parametrize("json", [False, True], ids=["text", "json"])
def test_verify_never_names_a_managed_hook_holding_a_value(tmp_path, json):
    """verify's hooks check names each managed hook the manifest renders that the ref lacks ("VALUE
    missing", "adds VALUE as rendered"): a managed-hooks template holding a `.env` value as a hook's
    `id` printed it, in text and `--json`; verify never ran the leak guard (pass 23e). Each check's
    line is checked as printed text."""
    hooks = f"- id: {CANARY}-Zq81Lm0pWx42Rt\n  name: n\n  language: fail\n  entry: e\n"
    manifest = _hooks_and_dotenv(tmp_path, f"API_TOKEN={CANARY}-Zq81Lm0pWx42Rt\n", hooks)
    result = rollout("verify", "--manifest", manifest, *(["--json"] if json else []))
    assert result.code == 1, result.stdout
    assert "template precommit-hooks.yaml.j2 holds the value on line 1 of the plaintext .env" in (
        result.stdout
    ), result.stdout


def test_verify_keeps_a_hook_line_holding_no_value(tmp_path):
    """Control: a managed hook the ref lacks is still named when it holds no value."""
    hooks = "- id: my-own-check\n  name: n\n  language: fail\n  entry: e\n"
    manifest = _hooks_and_dotenv(tmp_path, f"API_TOKEN={CANARY}-Zq81Lm0pWx42Rt\n", hooks)
    result = rollout("verify", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "my-own-check missing" in result.stdout, result.stdout
