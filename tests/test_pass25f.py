"""Pass 25f (issue 13 items 9-12 and the bad-input items, a fifth-round pass over pass 25c's new
code): what still broke. Each test here fails without its fix."""

from __future__ import annotations

import json

import pytest

from tests.helpers import git, rollout
from tests.test_drift_messages import _victim

_PLAIN = "DB_PASSWORD=Zq25fPlainValue-47\n"


def _drift(manifest) -> tuple[int, list[tuple[str, str]], str]:
    result = rollout("drift", "--manifest", manifest, "--repo", "victim", "--format", "json")
    assert "Zq25fPlainValue" not in result.stdout + result.stderr
    [victim] = json.loads(result.stdout)["repos"]
    hazards = [
        (f["id"], f["path"])
        for f in victim["findings"]
        if f["id"] not in ("missing", "modified", "extra", "not-managed")
    ]
    return result.code, hazards, result.stdout


@pytest.mark.parametrize(
    "blob",
    [
        (_PLAIN + "\0").encode(),  # a byte-wide .env ending in a NUL
        ("APP_ENV=production\n\0\n" + _PLAIN).encode(),
        (_PLAIN + "\0").encode("utf-16-le"),  # a wide .env holding a U+0000
        (_PLAIN + "\0").encode("utf-16-be") + b"\n",
    ],
    ids=["utf8-nul-end", "utf8-nul-line", "utf16le-u0000", "utf16be-u0000-note-byte"],
)
@pytest.mark.parametrize("how", ["note", "replace", "tag"])
def test_an_env_text_holding_a_nul_is_found_as_a_note_or_outside_blob(tmp_path, blob, how):
    """ON-LIST 13.9, a regression of pass 25c's wide-text reading: a `.env` text with one NUL byte
    in it (a byte-wide `.env` padded by a crash or a `printf '\\0'`, a UTF-16 `.env` holding a
    U+0000) kept as a git note, behind a `git replace`, or under a tag of a blob, was "0 findings":
    any NUL made the shape check read the blob as UTF-16/UTF-32, and a reading holding a NUL was
    dropped, so the byte-wide text was read as CJK garbage (before 25c, the byte-wide one was
    found). Now the reading that is most ASCII text wins, the byte-wide one among them."""
    manifest, repo = _victim(tmp_path)
    saved = tmp_path / "env-as-saved"
    saved.write_bytes(blob)
    sha = git(repo, "hash-object", "-w", str(saved)).strip()
    if how == "note":
        git(repo, "notes", "add", "-C", sha, "HEAD")
        ref = "refs/notes/commits"
    elif how == "replace":
        old = git(repo, "rev-parse", "HEAD:README.md").strip()
        git(repo, "replace", "-f", old, sha)
        ref = f"refs/replace/{old}"
    else:
        git(repo, "tag", "deploy-env", sha)
        ref = "refs/tags/deploy-env"
    code, hazards, _ = _drift(manifest)
    assert ("plaintext-env-in-history", ref) in hazards, hazards
    assert code != 0
