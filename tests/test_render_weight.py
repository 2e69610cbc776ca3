"""The template bounds weigh a list of plain scalars in bulk (render._flat_weight) exactly as walking
it item by item does: the same verdicts, the same numbers in the messages (issue 13 item 11)."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st


def _walked(value) -> int:
    """render._weight's rule, item by item, with no limit."""
    if isinstance(value, (str, bytes)):
        return len(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return len(value) + sum(_walked(v) for v in value)
    if isinstance(value, dict):
        return len(value) + sum(_walked(k) + _walked(v) for k, v in value.items())
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() // 3 + 1
    return 1


SCALAR_LISTS = st.one_of(
    st.lists(st.text(max_size=20), max_size=50),
    st.lists(st.integers(min_value=-(2**200), max_value=2**200), max_size=50),
    st.lists(st.one_of(st.booleans(), st.floats(), st.none()), max_size=50),
    st.lists(st.one_of(st.integers(), st.booleans(), st.text(max_size=5)), max_size=50),
)


@given(SCALAR_LISTS.flatmap(lambda xs: st.sampled_from([xs, tuple(xs), [xs, xs], {"k": xs}])))
@example([1, True, 2**100])
@example([["a", "bc"], [0, -1, 2**64]])
def test_a_flat_list_weighs_what_walking_it_does(value):
    from juniper_rollout import render

    assert render._weight(value, limit=10**12) == _walked(value)
