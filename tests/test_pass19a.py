"""Issue 13, pass 19a: items 1-4 and 10-12 again (the issue's own attacks, every logged variant, then new
ones). Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import rollout

# --- item 11: deep nesting after a text libyaml refuses, as ruamel's own parser reads it ---------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # `x '` is a plain scalar (a quote inside one is a character), then the nested lists
        (b"x: [a:]\nz: [x ' , " + b"[" * 3000 + b"]" * 3000 + b" , 'q']\n", 2),
        (b'x: [a:]\nz: [x " , ' + b"[" * 3000 + b"]" * 3000 + b' , "q"]\n', 2),
        # a quoted text going on over two lines (pass 18a's open item)
        (b'x: [a:]\nz: [ "abc\n  " , ' + b"[" * 3000 + b"]" * 3000 + b' , "q"]\n', 3),
        (b"x: [a:]\nz: [ 'abc\n  ' , " + b"[" * 3000 + b"]" * 3000 + b" , 'q']\n", 3),
    ],
    ids=["plain-then-single-quote", "plain-then-double-quote", "double-over-two-lines",
         "single-over-two-lines"],
)  # fmt: skip
def test_deep_nesting_that_a_quote_pattern_would_skip_is_refused_with_its_line(
    tmp_path, text, line
):
    """After a text libyaml refuses (`x: [a:]`), the nesting was counted by a pattern that skipped
    quoted texts line by line: a quote inside a plain scalar (`[x ' , [[[…]]] , 'q']`) or a quoted text
    closed on the next line hid 3,000 nested lists from it, and ruamel's pure scanner took 5 s to say
    "nested too deeply" without a line. Now counted by ruamel's own parser, stopped past MAX_DEPTH."""
    from juniper_rollout import yamlio

    with pytest.raises(yamlio.YamlSyntaxError) as err:
        yamlio.check_size(text.decode())
    assert err.value.line == line and str(err.value) == yamlio.TOO_DEEP
    path = tmp_path / "deep.yaml"
    path.write_bytes(text)
    result = rollout("plan", "--manifest", path)
    assert result.code == 1
    assert result.stderr.startswith(f"error: {path}:{line}: invalid YAML: nested too deeply"), (
        result.stderr
    )
