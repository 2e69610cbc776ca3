"""YAML nested past any real file's depth is refused at once, with its line (issue 13 item 11).

A manifest of 2,000 nested `[` was refused in one line, but only after ruamel's pure-Python scanner
had worked for 5 s (its cost grows with the square of the nesting; libyaml refuses past 1,000 levels,
which sent the file to it), and the line did not say where. libyaml's parser now finds the depth."""

from __future__ import annotations

import pytest

from tests.helpers import rollout

DEEP = [
    ("version: 1\nrepos: " + "[" * 2000 + "]" * 2000 + "\n", 2),  # past libyaml's own limit
    ("version: 1\nrepos: " + "[" * 300 + "]" * 300 + "\n", 2),  # within it, past any real file
    ("version: 1\nrepos:\n  - name: x\n    vars: " + "{a: " * 1500 + "1" + "}" * 1500 + "\n", 4),
    # block nesting, which no bracket count sees: said without a line until pass 17's note
    ("version: 1\nrepos:\n  " + "- " * 2000 + "x\n", 3),
    ("version: 1\nrepos:\n" + "".join("  " * i + "- \n" for i in range(1, 400)), 202),
]


@pytest.mark.parametrize(
    ("text", "line"),
    DEEP,
    ids=["2000-lists", "300-lists", "1500-mappings-line-4", "2000-block-lists", "400-block-lines"],
)
def test_a_manifest_nested_past_any_real_file_is_refused_with_its_line(tmp_path, text, line):
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    result = rollout("plan", "--manifest", path)
    assert result.code == 1, result.stdout
    assert result.stderr.startswith(f"error: {path}:{line}: invalid YAML: nested too deeply")
    assert len(result.stderr.splitlines()) == 1


def test_a_pre_commit_config_nested_past_any_real_file_is_one_line(tmp_path):
    from juniper_rollout import yamlio

    text = "repos:\n- repo: local\n  hooks: " + "[" * 1500 + "]" * 1500 + "\n"
    with pytest.raises(yamlio.YamlSyntaxError) as raised:
        yamlio.parse_events(text)
    assert raised.value.line == 3 and str(raised.value) == yamlio.TOO_DEEP


def test_ordinary_flow_collections_are_read_as_before():
    from juniper_rollout import yamlio

    text = "repos:\n" + "".join(
        f"- repo: local\n  hooks: [{{id: h{i}, files: [a, b], args: [--x]}}]\n" for i in range(150)
    )
    assert len(yamlio.load_plain(text)["repos"]) == 150
    assert len(yamlio.load_with_lines(text)["repos"]) == 150
