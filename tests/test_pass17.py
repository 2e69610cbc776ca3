"""Issue 13, pass 17: an adversarial pass over the code merged since 2b9c619 that no pass had seen
(pass 16c's fixes and the lead's commits after it). Each test fails on the main this pass started
from (checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import rollout

# --- 13.11: yamlio's depth check (9dd4a46) -----------------------------------------------------------


def test_deep_nesting_after_a_text_libyaml_refuses_is_refused_at_once_with_its_line(tmp_path):
    """9dd4a46 finds lists nested past 200 levels with libyaml's parser; any other libyaml error was
    swallowed, so a manifest starting with a text libyaml refuses and ruamel reads (`x: [a:]`, the
    yamlio docstring's own example) sent 3,000 nested `[` to ruamel's pure scanner: 4 s, no line."""
    from juniper_rollout import yamlio

    text = "x: [a:]\nrepos:\n  - name: a\n    path: " + "[" * 3000 + "]" * 3000 + "\n"
    with pytest.raises(yamlio.YamlSyntaxError) as err:
        yamlio.check_size(text)  # before any pure-Python reader sees it
    assert err.value.line == 4 and str(err.value) == yamlio.TOO_DEEP
    manifest = tmp_path / "deep.yaml"
    manifest.write_text(text)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1
    assert f"deep.yaml:4: invalid YAML: {yamlio.TOO_DEEP}" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "x: [a:]\nlist: " + "[" * 150 + "]" * 150 + "\nmore: " + "[1], " * 300 + "\n",
        "x: [a:]\nnote: '" + "[" * 400 + "'\n",  # brackets inside a quoted text nest nothing
        'x: [a:]\nnote: "' + "{" * 400 + '"\n# ' + "[" * 300 + "\n",
    ],
    ids=["shallow", "in-single-quotes", "in-double-quotes-and-comment"],
)
def test_a_shallow_file_libyaml_refuses_is_not_called_too_deep(text):
    from juniper_rollout import yamlio

    yamlio.check_size(text)  # no error: ruamel says what it says about `[a:]`
