"""Hooks spliced into .pre-commit-config.yaml: every other byte kept, real pre-commit accepts it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from juniper_rollout.edits import precommit
from juniper_rollout.errors import RolloutError
from juniper_rollout.yamlio import load_plain

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HOOKS = load_plain((TEMPLATES / "precommit-hooks.yaml.j2").read_text())

BANNER = """\
# ============================================
#   pre-commit: run `pre-commit install`
# ============================================
repos:
-   repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0   # pinned
    hooks:
    -   id: check-yaml
        args: ["--allow-multiple-documents"]
# trailing banner
"""
BLOCK_SCALARS = """\
repos:
  - repo: local
    hooks:
      - id: lint
        name: lint
        entry: >-
          python -m lint
          --strict
        language: system
      - id: notes
        name: notes
        entry: |
          echo "a: b"
        language: system
"""
ANCHORS = """\
common: &args ["--fix"]
repos:
  - repo: https://github.com/astral-sh/ruff-pre-commit
    rev: v0.4.4
    hooks:
      - id: ruff
        args: *args
"""
FLOW = 'repos: [{repo: "https://github.com/psf/black", rev: "24.4.2", hooks: [{id: black}]}]\n'
NONE_LOCAL_CRLF = (
    "repos:\r\n- repo: https://github.com/psf/black\r\n  rev: 24.4.2\r\n  hooks:\r\n  - id: black"
)
EMPTY_FLOW = "repos: []\n"


def real_validate(tmp_path: Path, text: str) -> None:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(text, newline="")
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(cfg)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "original",
    [BANNER, BLOCK_SCALARS, ANCHORS, FLOW, NONE_LOCAL_CRLF, EMPTY_FLOW],
    ids=[
        "banner",
        "block-scalars+existing-local",
        "anchors",
        "flow",
        "crlf-no-final-newline",
        "empty",
    ],
)
def test_hooks_spliced_in(tmp_path, original):
    new = precommit.add_hooks(original, HOOKS)
    real_validate(tmp_path, new)
    data = precommit.load_data(new)
    local = [r for r in data["repos"] if r["repo"] == "local"]
    assert len(local) == 1 and [h["id"] for h in local[0]["hooks"]][-2:] == [h["id"] for h in HOOKS]
    assert precommit.add_hooks(new, HOOKS) == new  # idempotent
    # every original line survives verbatim, in order (the hooks are only added)
    old_lines = original.replace("\r\n", "\n").split("\n")
    new_lines = new.replace("\r\n", "\n").split("\n")
    if "[" not in original.split("repos:")[1][:3]:  # block style: whole lines kept
        it = iter(new_lines)
        assert all(any(line == n for n in it) for line in old_lines if line)
    if "\r\n" in original:
        assert new.count("\r\n") == new.count("\n")


def test_existing_local_entry_is_extended_not_duplicated():
    new = precommit.add_hooks(BLOCK_SCALARS, HOOKS)
    assert new.startswith(BLOCK_SCALARS)  # appended after the last hook of the same entry
    assert new.count("repo: local") == 1
    assert "      - id: forbid-plaintext-env\n        name:" in new  # the entry's own indentation


def test_changed_hook_is_brought_back(tmp_path):
    new = precommit.add_hooks(BANNER, HOOKS)
    edited = new.replace("language: fail", "language: system")
    assert precommit.hooks_state(edited, HOOKS)["forbid-plaintext-env"] == "modified"
    fixed = precommit.add_hooks(edited, HOOKS)
    assert fixed == new
    real_validate(tmp_path, fixed)


def test_hook_entry_with_colon_space_stays_valid_yaml():
    """Lesson 4: the plan's `entry: bash -c 'echo "ERROR: …"'` was broken YAML."""
    new = precommit.add_hooks(BANNER, HOOKS)
    entry = next(h for h in HOOKS if h["language"] == "fail")["entry"]
    assert ": " in entry
    assert load_plain(new)["repos"][-1]["hooks"][0]["entry"] == entry


@pytest.mark.parametrize(
    "text, words",
    [
        ("repos: [\n", "invalid YAML"),
        ("- a\n- b\n", "not a mapping"),
        ("x: 1\n", "no `repos:`"),
        (
            "base: &local {repo: local, hooks: []}\nrepos:\n  - *local\n",
            "anchor, alias or merge key",
        ),
        ("repos:\n  - <<: {repo: local}\n    hooks: []\n", "anchor, alias or merge key"),
    ],
)
def test_configs_it_will_not_edit(text, words):
    with pytest.raises(RolloutError, match=words):
        precommit.add_hooks(text, HOOKS)


def test_new_config_passes_real_validation(tmp_path):
    text = precommit.new_config("# header\n", HOOKS)
    real_validate(tmp_path, text)
    assert text.startswith("# header\nrepos:\n")


def test_a_bad_config_is_invalid_yaml_but_a_bug_is_not(monkeypatch):
    """load_data names what it catches: YAML errors and bad scalars are the user's file; a bug stays a bug."""
    with pytest.raises(
        precommit.PrecommitEditError, match=r"^\.pre-commit-config\.yaml:2: invalid YAML"
    ):
        precommit.load_data("repos: [\n")
    with pytest.raises(precommit.PrecommitEditError, match="invalid YAML"):
        precommit.load_data(
            "when: 2020-99-99\n"
        )  # PyYAML's ValueError for a timestamp out of range

    def broken(text):
        raise TypeError("a bug in the loader")

    monkeypatch.setattr(precommit, "yaml_load", broken)
    with pytest.raises(TypeError, match="a bug in the loader"):
        precommit.load_data("repos: []\n")
