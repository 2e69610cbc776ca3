"""refreader: the one reader of a repository at a ref and the one failure policy of a repo's job
(plan, drift and verify all go through it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from juniper_rollout import refreader
from juniper_rollout.errors import ManifestError, RepoError
from juniper_rollout.fleetspec import RepoSpec
from tests.demofleet import make_repo


def spec(path: Path) -> RepoSpec:
    return RepoSpec("svc", path, None, "main", "chore/x", "msg", (), True, "auto", "auto", ())


def test_a_repos_own_failure_is_its_result_and_the_manifests_is_raised(tmp_path):
    repo = spec(tmp_path)
    assert refreader.guarded(repo, "reading", lambda: "done", lambda e: f"failed: {e}") == "done"

    def unreadable():
        raise RepoError("base branch 'main' not found")

    assert refreader.guarded(repo, "reading", unreadable, lambda e: f"failed: {e}") == (
        "failed: base branch 'main' not found"
    )

    def bad_manifest():
        raise ManifestError("repos.yaml", 3, "bad")

    with pytest.raises(ManifestError):
        refreader.guarded(repo, "reading", bad_manifest, lambda e: e)


def test_an_unexpected_error_is_one_line_with_a_crash_log_and_no_message(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def bug():
        raise KeyError(
            "-".join(("SECRET", "VALUE", "42"))
        )  # the log keeps code lines: not this spelling

    line = refreader.guarded(spec(tmp_path), "verifying", bug, lambda e: e)
    assert line.startswith(
        "unexpected KeyError while verifying (a damaged repository? run `git fsck`"
    )
    assert "SECRET-VALUE-42" not in line
    logs = list((tmp_path / "cache" / "juniper-rollout").iterdir())
    assert len(logs) == 1 and str(logs[0]) in line
    text = logs[0].read_text()
    assert "KeyError" in text and "SECRET-VALUE-42" not in text


def test_read_at_hands_the_job_the_base_or_the_ref(tmp_path):
    repo = make_repo(tmp_path / "svc", {"README.md": "# svc\n"})
    (repo / "README.md").write_text("# changed in the working tree, never read\n")
    read = refreader.read_at(
        spec(repo), None, lambda clone, commit: commit.tree["README.md"].data_stream.read()
    )
    assert read == b"# svc\n"
    with pytest.raises(RepoError):
        refreader.read_at(spec(repo), "no-such-ref", lambda clone, commit: commit)
