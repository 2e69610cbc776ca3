"""A rendering's time limit counts the rendering's own CPU time, not the wall clock (issue 13 item 11;
pass 14a's open item c): on a machine slowed by other work (a loaded CI runner, a laptop asleep
mid-run) an ordinary template was stopped as "more than 30 s of rendering"."""

from __future__ import annotations

import time

import pytest

from tests.test_adversary import hostile_template


class _Waiting:
    """A value whose text takes wall-clock time and no CPU: what a stalled machine looks like to the
    rendering (the template itself cannot wait)."""

    def __str__(self) -> str:
        time.sleep(0.5)
        return "waited"


def _render(tmp_path, body: str, context: dict) -> str:
    from juniper_rollout import manifest as manifest_module
    from juniper_rollout import render

    manifest = manifest_module.load_manifest(hostile_template(tmp_path, body), templates=False)
    return render.render(manifest, "evil.j2", context)


def test_a_rendering_held_up_without_working_is_not_stopped(tmp_path, monkeypatch):
    from juniper_rollout import render

    monkeypatch.setattr(render, "MAX_SECONDS", 0.2)
    body = "{{ waiting }}{% for i in range(3) %}{{ i }}{% endfor %}"
    assert _render(tmp_path, body, {"waiting": _Waiting()}) == "waited012"


def test_a_rendering_working_past_its_time_is_still_stopped(tmp_path, monkeypatch):
    from juniper_rollout import render
    from juniper_rollout.errors import ManifestError

    monkeypatch.setattr(render, "MAX_SECONDS", 0.2)
    body = "{% set l = ('x'*2000000)|list %}{% for i in range(1000000) %}{% if 'y' in l %}{% endif %}{% endfor %}"
    with pytest.raises(ManifestError, match=r"more than 0\.2 s of rendering"):
        _render(tmp_path, body, {})
