"""Issue 13, pass 24g: a third adversarial pass over items 5-8 (the leaks), session 28, attacking
what passes 24b and 24e added (the readings, the base64 decoder, the recipients and gitignore-block
checks), both ways: what they still miss, and what they refuse that an ordinary fleet writes.

Each finding's test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.helpers import git, rollout
from tests.test_pass24b import SECRET, _template_beside_a_dotenv, objects

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


_LONG = (SECRET * 3).encode()
_TRAILING = "".join(f"  {_b64(_LONG)[i : i + 20]}  \n" for i in range(0, len(_b64(_LONG)), 20))


def _dump(group: int) -> str:
    """The value as a hex dump writes it: 16 bytes a line, ``group`` digits a group, an offset."""
    raw = SECRET.encode()
    out = []
    for at in range(0, len(raw), 16):
        digits = raw[at : at + 16].hex()
        groups = " ".join(digits[i : i + group] for i in range(0, len(digits), group))
        out.append(f"  {at:08x}: {groups}\n")
    return "".join(out)


def _commented(lead: str) -> str:
    """Base64 of a text holding the value across a line break, wrapped at 64 under ``lead``."""
    blob = _b64(b"x" * 72 + SECRET.encode() + b"y" * 50)
    return "".join(f"{lead}{blob[i : i + 64]}\n" for i in range(0, len(blob), 64))


# (template, what must not be printed): each spelling passed passes 24b and 24e's checks
_SPELLED = {
    "hex (xxd -p)": (f"token_hex: {SECRET.encode().hex()}\n", SECRET.encode().hex()[:40]),
    "hex, upper case": (
        f"TOKEN_HEX={SECRET.encode().hex().upper()}\n",
        SECRET.encode().hex().upper()[:40],
    ),
    "hex pairs split by colons": (
        "fingerprint: " + ":".join(f"{c:02x}" for c in SECRET.encode()) + "\n",
        ":".join(f"{c:02x}" for c in SECRET.encode())[:40],
    ),
    "a hex dump (od -An -tx1, two lines in a YAML block)": (
        "dump: |\n" + _dump(2),
        _dump(2).splitlines()[0].strip(),
    ),
    "a hex dump (xxd, groups of 4 digits)": (
        "dump: |\n" + _dump(4),
        _dump(4).splitlines()[0].strip(),
    ),
    "base64 wrapped in // comment lines": (
        "const a = 1;\n" + _commented("// "),
        _commented("// ").splitlines()[1][3:],
    ),
    "base64 wrapped in a /* */ comment's * lines": (
        "/*\n" + _commented(" * ") + " */\n",
        _commented(" * ").splitlines()[1][3:],
    ),
    "base64 of UTF-16 (PowerShell -EncodedCommand)": (
        f"powershell -EncodedCommand {_b64(('echo ' + SECRET).encode('utf-16-le'))}\n",
        _b64(("echo " + SECRET).encode("utf-16-le"))[:40],
    ),
    "base64 wrapped with trailing blanks": (f"blob: |\n{_TRAILING}", _TRAILING.split()[1]),
}


@pytest.mark.parametrize("case", list(_SPELLED))
def test_a_value_hex_encoded_or_in_utf16_base64_is_refused(tmp_path, case):
    """ON-LIST 13.6 (the same hole as passes 24b/24e's, new spellings). A template holding a `.env`
    value hex-encoded (as `xxd -p`, `od`, `printf %x` or a fingerprint's `aa:bb:…` write it),
    base64 of its UTF-16 (PowerShell's `-EncodedCommand`), or base64 wrapped in lines that end in
    blanks or under `// ` or ` * ` comment leaders (a value running from one line into the next) was
    shown in the plan's diff and committed: the readings decoded base64 only, as UTF-8
    only, and unwrapped a line break with the next line's indentation but not the line's trailing
    blanks (pass 24g). `secretshape.decoded_runs` now decodes hex runs too, and each decoded run
    that reads as UTF-16."""
    template, shown = _SPELLED[case]
    manifest = _template_beside_a_dotenv(
        tmp_path,
        f"API_TOKEN={SECRET * 3 if 'wrapped' in case else SECRET}\n",
        "ops/run.yaml",
        template,
    )
    for args in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.code == 1, said
        assert shown not in said, said
        assert "ops/run.yaml would contain" in said and "of the plaintext .env" in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()
    assert shown.encode() not in objects(repo)


def test_the_age_key_hex_encoded_in_a_template_is_refused(tmp_path):
    """ON-LIST 13.6 ("the age key file … printed in the plan diff"). The team's age private key
    hex-encoded in a template (`xxd -p keys.txt`) was shown in the plan's diff and committed:
    `holds_a_private_key` decoded base64 only (pass 24g)."""
    from juniper_rollout import keys

    key_file = tmp_path / "team" / "keys.txt"
    keys.generate_key_file(key_file)
    spelled = key_file.read_bytes().hex()
    manifest = _template_beside_a_dotenv(
        tmp_path, "LOG_LEVEL=debug\n", "clusters/key.yaml", f"age_key_hex: {spelled}\n"
    )
    for args in (("plan",), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.code == 1, said
        assert spelled[-40:] not in said, said
        assert "clusters/key.yaml would contain an age private key" in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()


def test_a_credential_hex_encoded_in_a_template_is_refused(tmp_path):
    """ON-LIST 13.6 (pass 3's "a template is never a file holding a credential"). A GitHub token
    hex-encoded in a template was rendered, shown in the diff and committed (pass 24g)."""
    token = "ghp_Zq81Lm0pWx42RtK7bN3cV9xY2wQ5eR8tU1iO"
    manifest = _template_beside_a_dotenv(
        tmp_path, "LOG_LEVEL=debug\n", "ci/creds.yaml", f"token_hex: {token.encode().hex()}\n"
    )
    for args in (("plan",), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.code == 1, said
        assert token.encode().hex()[16:] not in said, said
        assert "app.j2 holds a credential" in said, said


def test_hashes_fingerprints_and_badges_are_still_written(tmp_path):
    """Control: a lock file's sha256 hashes, git commit ids, an SSH fingerprint, UTF-16-looking
    base64 of other text and a README's base64 badge decode to no value: the plan writes them."""
    hashes = "".join(
        f"pkg{i}==1.0 --hash=sha256:{hashlib.sha256(str(i).encode()).hexdigest()}  \\\n"
        for i in range(200)
    )
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M12 0"/></svg>'
    template = (
        "{% raw %}"
        + hashes
        + "commit 5f489ce8e9788ebc5b408a29640c0ffee1234567\n"
        + "fingerprint: 43:51:43:f7:6b:c6:2e:8a:1d:49:c2:5f:9b:ee:01:aa\n"
        + "In 2024 we moved port 8080 to 5432, see ab cd ef 12 34 and face cafe beef dead.\n"
        + f"![ci](https://img.shields.io/badge/x-y-blue?logo=data:image/svg%2bxml;base64,{_b64(svg)})\n"
        + f"run: {_b64('echo hello, nothing secret here'.encode('utf-16-le'))}\n"
        + "{% endraw %}"
    )
    manifest = _template_beside_a_dotenv(
        tmp_path, f"API_TOKEN={SECRET}\n", "requirements.lock", template
    )
    result = rollout("apply", "--yes", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "show", "chore/sops-age-rollout:requirements.lock").startswith("pkg0==1.0")


def test_the_suites_leak_checks_see_the_canary_hex_encoded():
    """The harness (pass 24e's canary spellings): a test whose output or objects held the canary
    hex-encoded passed the suite's leak checks (pass 24g)."""
    from tests.demofleet import CANARY
    from tests.helpers import shows_canary

    assert shows_canary(f"x: {CANARY.encode().hex()}\n")
    assert shows_canary(CANARY.encode().hex().upper().encode())
    assert not shows_canary("x: 5f489ce8e9788ebc5b408a29640c0ffee1234567\n")
