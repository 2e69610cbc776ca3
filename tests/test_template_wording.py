"""A template asking for one that is not there is said as it asked: `extends`, `imports` or
`includes` (pass 16b's note: a missing `{% extends %}` was said to be included; issue 13's smaller
list: a failing include reported the wrong template name)."""

from __future__ import annotations

import pytest

from tests.helpers import rollout
from tests.test_adversary import hostile_template


@pytest.mark.parametrize(
    ("body", "verb"),
    [
        ("{% extends 'base.j2' %}", "extends"),
        ("{%- extends 'base.j2' -%}", "extends"),
        ("{% import 'base.j2' as b %}{{ b.x }}", "imports"),
        ("{% from 'base.j2' import x %}{{ x }}", "imports"),
        ("{% include 'base.j2' %}", "includes"),
    ],
)
def test_a_missing_template_is_said_as_it_was_asked_for(tmp_path, body, verb):
    manifest = hostile_template(tmp_path, body, name="outer.j2")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert f"template 'outer.j2' {verb} 'base.j2', which is not there" in result.stderr
