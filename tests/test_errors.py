"""The user-error types: one line each, and a ManifestError survives the trip back from a worker."""

from __future__ import annotations

import pickle

from juniper_rollout.errors import ManifestError, RolloutError


def test_a_manifest_error_keeps_its_parts_and_pickles_whole():
    err = ManifestError("repos.yaml", 7, "age_recipients: not a list (write `age_recipients: [age1…]`)")
    assert str(err) == "repos.yaml:7: age_recipients: not a list (write `age_recipients: [age1…]`)"
    assert err.message == "age_recipients: not a list (write `age_recipients: [age1…]`)"
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is ManifestError and isinstance(back, RolloutError)
    assert (back.file, back.line, back.message, str(back)) == (err.file, err.line, err.message, str(err))
    assert str(pickle.loads(pickle.dumps(ManifestError("m.yaml", None, "empty")))) == "m.yaml: empty"
