"""Pass 9 of the outside adversary (issue 13): each test failed on main before its fix.

The attempts, held and broken, are logged in the pass-9 log; SECURITY.md lists each guarantee.
"""

from __future__ import annotations

from pyrage import x25519

from tests.demofleet import CANARY
from tests.helpers import rollout

# --- keygen says what stands where it would write -----------------------------------------------


def test_keygen_says_what_the_existing_file_is_never_its_content(tmp_path):
    """keygen said "refusing to overwrite an age key" for any file in the way, a `.env` too."""
    env = tmp_path / ".env"
    env.write_text(f"DB_PASSWORD={CANARY}\n")
    key = tmp_path / "keys.txt"
    key.write_text(f"# created: now\n{x25519.Identity.generate()}\n")
    folder = tmp_path / "dir"
    folder.mkdir()
    cases = {
        env: "a file that is not an age key file",
        key: "an age key file",
        folder: "a folder",
    }
    for path, words in cases.items():
        before = path.read_bytes() if path.is_file() else None
        result = rollout("keygen", "--key-file", path)
        assert result.code == 1
        assert f"already exists ({words})" in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        if path != key:
            assert "an age key (" not in result.stderr and "not a key file" in result.stderr
        if before is not None:
            assert path.read_bytes() == before
