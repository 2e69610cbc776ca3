"""Issue 13, pass 25b: a fifth adversarial pass over items 5-8 (the leaks), session 29.

Each finding's test fails on the main this pass started from (77d6d17, checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import git
from tests.test_pass24b import SECRET, _template_beside_a_dotenv, objects

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


def _plain_rollout(*args):
    """The CLI, its output returned unchecked: a refusal here names no value, but the template's own
    text around the escaped letter holds the canary's prefix, which tests.helpers.rollout refuses."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    bin_dir = Path(sys.executable).parent
    return subprocess.run(
        [str(bin_dir / "rollout"), *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        timeout=300,
    )


assert SECRET.endswith("Zq81Lm0pWx42Rt")  # the run of 14 letters and digits each case escapes in

# (path, template, what must not be printed): the `p` of the value's 14-letter run escaped as a
# language whose reader decodes it writes it
_BRACED = {
    "JavaScript / Rust / Swift / Ruby \\u{70}": (
        "src/token.rs",
        'const T: &str = "CANARY-7f3a9c-Zq81Lm0\\u{70}Wx42Rt";\n',
        "Zq81Lm0\\u{70}Wx42Rt",
    ),
    "Perl \\x{70}": (
        "bin/token.pl",
        'my $t = "CANARY-7f3a9c-Zq81Lm0\\x{70}Wx42Rt";\n',
        "\\x{70}Wx42Rt",
    ),
    "Python \\N{…}": (
        "app/token.py",
        'T = "CANARY-7f3a9c-Zq81Lm0\\N{LATIN SMALL LETTER P}Wx42Rt"\n',
        "LETTER P}Wx42Rt",
    ),
    "CSS \\70 ": (
        "web/token.css",
        'a::after { content: "CANARY-7f3a9c-Zq81Lm0\\70 Wx42Rt"; }\n',
        "\\70 Wx42Rt",
    ),
    "CSS \\000070": (
        "web/token.css",
        'a::after { content: "CANARY-7f3a9c-Zq81Lm0\\000070Wx42Rt"; }\n',
        "\\000070Wx42Rt",
    ),
    "JavaScript unescape %u0070": (
        "web/token.js",
        'const t = unescape("CANARY-7f3a9c-Zq81Lm0%u0070Wx42Rt");\n',
        "%u0070Wx42Rt",
    ),
}


@pytest.mark.parametrize("case", list(_BRACED))
def test_a_value_escaped_with_braces_css_or_percent_u_is_refused(tmp_path, case):
    """ON-LIST 13.6 (pass 24b's readings, new spellings). A template holding a `.env` value with one
    letter written as JavaScript's, Rust's, Swift's or Ruby's braced escape (`\\u{70}`), Perl's
    `\\x{70}`, Python's named escape (`\\N{LATIN SMALL LETTER P}`), a CSS escape (`\\70 `,
    `\\000070`) or JavaScript's `unescape` form (`%u0070`) was shown in the plan's diff and committed:
    the readings knew `\\x70`, `\\u0070`, `\\U00000070`, octal, `%70` and `&#112;` only, so neither
    the value nor its 14-letter run was seen, and each of those languages reads the value."""
    path, template, shown = _BRACED[case]
    manifest = _template_beside_a_dotenv(
        tmp_path, f"API_TOKEN={SECRET}\n", path, "{% raw %}" + template + "{% endraw %}"
    )
    for args in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = _plain_rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.returncode == 1, said
        assert shown not in said, said
        assert f"{path} would contain" in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()
    assert shown.encode() not in objects(repo)


def test_the_age_key_with_a_braced_escape_in_a_template_is_refused(tmp_path):
    """ON-LIST 13.6 (the age key file in a template, pass 24e's escapes): an age private key whose
    dashes are written `\\u{2d}` (a JavaScript or Rust string) passed the template check and the
    written-file check, which read `\\u002d` only."""
    key = "AGE-SECRET-KEY-1" + "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" * 2
    escaped = key.replace("-", "\\u{2d}")
    manifest = _template_beside_a_dotenv(
        tmp_path, "APP_MODE=production\n", "src/key.js", f'const k = "{escaped}";\n'
    )
    for args in (("plan",), ("apply", "--yes")):
        result = _plain_rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.returncode == 1, said
        assert key[20:40] not in said, said
        assert "private key" in said, said
    repo = tmp_path / "ws" / "victim"
    assert key[20:40].encode() not in objects(repo)


def test_braces_css_and_percent_u_without_a_value_are_still_written(tmp_path):
    """Control: braced escapes, named escapes, CSS escapes and `%u` text of other letters are written."""
    template = (
        '{% raw %}const e = "caf\\u{e9} \\u{1F600}";\nmy $x = "\\x{41}";\n'
        'n = "\\N{EM DASH} \\N{NO SUCH NAME AT ALL}"\n'
        'a::before { content: "\\201C"; } .icon::after { content: "\\f101 "; }\n'
        'u = unescape("%u00e9t%u00e9");\n{% endraw %}'
    )
    manifest = _template_beside_a_dotenv(tmp_path, f"API_TOKEN={SECRET}\n", "web/app.js", template)
    result = _plain_rollout("apply", "--yes", "--manifest", manifest)
    assert result.returncode == 0, result.stdout + result.stderr
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "show", "chore/sops-age-rollout:web/app.js").startswith("const e")


_CODES = SECRET.encode()
# (path, template, what must not be printed): the value in decimal, or one letter escaped as `echo -e`
# or RTF writes it
_DECIMAL = {
    "Python bytes([…])": (
        "app/token.py",
        "T = bytes([" + ", ".join(map(str, _CODES)) + "])\n",
        ", ".join(map(str, _CODES))[-40:],
    ),
    "Java byte[] with signed bytes, over two lines": (
        "src/Token.java",
        "byte[] t = {"
        + ", ".join(map(str, _CODES[:12]))
        + ",\n    "
        + ", ".join(map(str, _CODES[12:]))
        + ", -61, -87};\n",
        ", ".join(map(str, _CODES[12:]))[:40],
    ),
    "JavaScript String.fromCharCode": (
        "web/token.js",
        "const t = String.fromCharCode(" + ",".join(map(str, _CODES)) + ", 8364);\n",
        ",".join(map(str, _CODES))[-40:],
    ),
    "echo -e \\0160": (
        "bin/token.sh",
        'echo -e "CANARY-7f3a9c-Zq81Lm0\\0160Wx42Rt"\n',
        "\\0160Wx42Rt",
    ),
    "RTF \\'70": ("doc/token.rtf", "{\\rtf1 CANARY-7f3a9c-Zq81Lm0\\'70Wx42Rt}\n", "\\'70Wx42Rt"),
}


@pytest.mark.parametrize("case", list(_DECIMAL))
def test_a_value_as_decimal_codes_or_an_echo_or_rtf_escape_is_refused(tmp_path, case):
    """ON-LIST 13.6 (pass 24j's byte arrays, in decimal; pass 24e's octal, as `echo -e` writes it).
    A template holding a `.env` value as a decimal byte array (Python's `bytes([67, 65, …])`, Java's
    `byte[]` with its signed bytes, over two lines) or as JavaScript's `String.fromCharCode(67, …)`,
    or with a letter written as `echo -e` (`\\0160`) or RTF (`\\'70`) write it, was shown in the plan's
    diff and committed: byte arrays were read in hex only, `\\0160` as C's `\\016` and a `0`."""
    path, template, shown = _DECIMAL[case]
    manifest = _template_beside_a_dotenv(
        tmp_path, f"API_TOKEN={SECRET}\n", path, "{% raw %}" + template + "{% endraw %}"
    )
    for args in (("plan",), ("apply", "--yes")):
        result = _plain_rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.returncode == 1, said
        assert shown not in said, said
        assert f"{path} would contain" in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()
    assert shown.encode() not in objects(repo)


def test_numbers_lists_and_rtf_without_a_value_are_still_written(tmp_path):
    """Control: lists of numbers (ports, a matrix, character codes of other text, a CSV row), RTF
    and `echo -e` text of other letters are written."""
    template = (
        "PORTS = [80, 443, 8080, 8443, 9000, 9090, 5432, 6379, 27017]\n"
        "M = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [2, 3, 4]]\n"
        "GREETING = bytes([104, 101, 108, 108, 111, 32, 119, 111, 114, 108, 100])\n"
        "row = 1,2,3,4,5,6,7,8,9,10,11,12\n"
        '{\\rtf1 caf\\\'e9}\necho -e "tab\\0011"\n'
    )
    manifest = _template_beside_a_dotenv(
        tmp_path, f"API_TOKEN={SECRET}\n", "app/consts.py", "{% raw %}" + template + "{% endraw %}"
    )
    result = _plain_rollout("apply", "--yes", "--manifest", manifest)
    assert result.returncode == 0, result.stdout + result.stderr
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "show", "chore/sops-age-rollout:app/consts.py").startswith("PORTS")


def _encrypting_one_repo(tmp_path, dotenv: str, monkeypatch):
    """One repo whose untracked `.env` is ``dotenv``, encrypted to `.env.enc`, its names in `.env.example`
    (a key of the test's own in SOPS_AGE_KEY_FILE)."""
    from juniper_rollout.keys import generate_key_file
    from tests.demofleet import make_repo

    KEY = generate_key_file(tmp_path / "age" / "keys.txt")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(tmp_path / "age" / "keys.txt"))
    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    (tmp_path / "ws" / "victim" / ".env").write_text(dotenv)
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\n"
        "repos:\n  - name: victim\n    precommit_hook: skip\n    agents_md: skip\n"
        "    env_example: {from: dotenv}\n    encrypt:\n      - {source: .env, target: .env.enc}\n"
    )
    return manifest


# random hex keys each of which passed as a name (the first, 20 digits, is a Pusher secret's shape)
HEX_KEYS = [
    "ab50d6c712e664141bf1",
    "c09f551957d3280c5665dc6a",
    "a8f03f9e9c317077",
    "E1E834EBD6C68B439438",
]


@pytest.mark.parametrize("key", HEX_KEYS)
def test_a_hex_key_pasted_before_an_equals_sign_is_refused_and_never_echoed(
    tmp_path, key, monkeypatch
):
    """ON-LIST 13.8, worse than the Known limit says. A hex key of 16-27 digits pasted where a name goes
    (`ab50d6c712e664141bf1=`, or `=value`) passed as a variable name 60-100% of the time (hex spreads
    over 16 characters, under the random-run check's bar; the limit's figures, 41% at 20 characters,
    are base62's): plan and `--json` printed it, apply committed it in `.env.example` and as a
    plaintext name in `.env.enc`. A name of 16+ hex digits with a digit among them is refused with
    its line number, never echoed."""
    manifest = _encrypting_one_repo(tmp_path, f"APP_ENV=dev\n{key}=1\n", monkeypatch)
    for args in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = _plain_rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.returncode == 1, said
        assert key not in said, said
        assert ".env:2: text before '=' is shaped like a credential" in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()
    assert key.encode() not in objects(repo)


def test_names_made_of_hex_letters_without_a_digit_or_short_still_apply(tmp_path, monkeypatch):
    """Control: names spelled with the letters a-f only (no digit), short hex-looking names and
    ordinary UPPER_SNAKE names with digits are names."""
    manifest = _encrypting_one_repo(
        tmp_path,
        "DEADBEEFCAFEBABE=1\nCAFEBABE12=2\nFEED_ADDED_2024=3\nS3_BUCKET_ABCDEF0123=4\nDB2=5\n",
        monkeypatch,
    )
    result = _plain_rollout("apply", "--yes", "--manifest", manifest)
    assert result.returncode == 0, result.stdout + result.stderr
    example = git(tmp_path / "ws" / "victim", "show", "chore/sops-age-rollout:.env.example")
    assert "DEADBEEFCAFEBABE=" in example and "S3_BUCKET_ABCDEF0123=" in example


def _sealed_field(text: str, field: str, secret: str) -> str:
    """``text`` (a dotenv sops file) with the first ``field:`` of an ENC[…] (or the MAC's data) holding
    ``secret`` base64-encoded in place of sops' bytes."""
    import base64
    import re

    encoded = base64.b64encode(secret.encode()).decode()
    if field == "mac":
        return re.sub(r"(sops_mac=ENC\[AES256_GCM,data:)[^,]*", rf"\g<1>{encoded}", text, count=1)
    return re.sub(rf"({field}:)[^,\]]*", rf"\g<1>{encoded}", text, count=1)


@pytest.mark.parametrize("field", ["data", "iv", "tag", "mac"])
def test_a_saved_plans_ciphertext_holding_a_value_base64_encoded_is_refused(
    tmp_path, monkeypatch, field
):
    """ON-LIST 13.6, worse than the Known limit says ("editing that record by hand is the one way past
    the check"). A saved plan's `.env.enc` whose `ENC[…]` field (`data:`, `iv:`, `tag:`, or the MAC's)
    held a `.env` value base64-encoded in place of sops' bytes kept every line sops' shape, so the
    check of encrypted files (sops metadata, no plaintext line) passed it and the leak guard never read
    encrypted files: apply committed the value (and `--push` publishes it). A saved plan's encrypted
    files are now read for the values and the age key as any other file."""
    import base64
    import json

    manifest = _encrypting_one_repo(tmp_path, f"API_TOKEN={SECRET}\n", monkeypatch)
    saved = tmp_path / "plan.json"
    result = _plain_rollout("plan", "--manifest", manifest, "--out", saved)
    assert result.returncode == 0, result.stdout + result.stderr
    plan = json.loads(saved.read_text())
    [enc] = [f for f in plan["repos"][0]["files"] if f["path"] == ".env.enc"]
    text = base64.b64decode(enc["content"]).decode()
    edited = _sealed_field(text, field, SECRET)
    assert edited != text
    enc["content"] = base64.b64encode(edited.encode()).decode()
    saved.write_text(json.dumps(plan))
    result = _plain_rollout("apply", saved, "--manifest", manifest, "--yes")
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert ".env.enc would contain the value on line 1 of the plaintext .env" in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()
    assert base64.b64encode(SECRET.encode()) not in objects(repo)


def test_a_saved_plan_whose_env_holds_its_recipient_still_applies(tmp_path, monkeypatch):
    """Control: a `.env` holding the fleet's public key (`SOPS_AGE_RECIPIENTS=age1…`, which sops writes
    into `.env.enc`'s metadata) applies from a saved plan: the manifest names it; and values that are
    words sops writes into every such file (`unencrypted`, `encryption` of its age header)."""
    from pathlib import Path

    manifest = _encrypting_one_repo(tmp_path, "APP_MODE=production-eu-west\n", monkeypatch)
    key_line = Path(tmp_path / "age" / "keys.txt").read_text().split("public key: ")[1].split()[0]
    (tmp_path / "ws" / "victim" / ".env").write_text(
        f"SOPS_AGE_RECIPIENTS={key_line}\nDB_PASSWORD=unencrypted\nSECRET_KIND=encryption\n"
    )
    saved = tmp_path / "plan.json"
    result = _plain_rollout("plan", "--manifest", manifest, "--out", saved)
    assert result.returncode == 0, result.stdout + result.stderr
    result = _plain_rollout("apply", saved, "--manifest", manifest, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_saved_plans_ciphertext_holding_the_age_key_is_refused(tmp_path, monkeypatch):
    """ON-LIST 13.6 (the age key file, on the saved-plan path): the team's private key base64-encoded
    in a saved plan's `.env.enc` (`data:` of a value) was committed as the value's ciphertext."""
    import base64
    import json

    manifest = _encrypting_one_repo(tmp_path, "APP_MODE=production-eu-west\n", monkeypatch)
    key = (tmp_path / "age" / "keys.txt").read_text()
    saved = tmp_path / "plan.json"
    assert _plain_rollout("plan", "--manifest", manifest, "--out", saved).returncode == 0
    plan = json.loads(saved.read_text())
    [enc] = [f for f in plan["repos"][0]["files"] if f["path"] == ".env.enc"]
    text = _sealed_field(base64.b64decode(enc["content"]).decode(), "data", key)
    enc["content"] = base64.b64encode(text.encode()).decode()
    saved.write_text(json.dumps(plan))
    result = _plain_rollout("apply", saved, "--manifest", manifest, "--yes")
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "holds an age private key" in said, said
    assert not git(tmp_path / "ws" / "victim", "branch", "--list", "chore/sops-age-rollout").strip()


def _edit_reason(repo, value):
    [example] = [f for f in repo["files"] if f["path"] == ".env.example"]
    example["reason"] = f"rendered from env.example.j2; {value}"


def _edit_path(repo, value):
    [example] = [f for f in repo["files"] if f["path"] == ".env.example"]
    example["path"] = f"docs/{value}.md"


def _edit_skip_reason(repo, value):
    [skipped] = [f for f in repo["files"] if f["action"] == "skip"][:1]
    skipped["reason"] = f"precommit_hook: skip ({value})"


def _edit_error(repo, value):
    repo["status"], repo["error"] = "error", f"cannot read {value}"


def _edit_branch(repo, value):
    repo["branch"] = f"chore/{value}"


def _edit_action(repo, value):
    [example] = [f for f in repo["files"] if f["path"] == ".env.example"]
    example["action"] = value


def _edit_unsafe_path(repo, value):
    [example] = [f for f in repo["files"] if f["path"] == ".env.example"]
    example["path"] = f"../{value}"


@pytest.mark.parametrize(
    "edit",
    [
        _edit_reason,
        _edit_path,
        _edit_skip_reason,
        _edit_error,
        _edit_branch,
        _edit_action,
        _edit_unsafe_path,
    ],
)
def test_a_saved_plans_words_holding_a_value_are_never_printed_or_committed(
    tmp_path, monkeypatch, edit
):
    """ON-LIST 13.6, worse than the Known limit says (a saved plan's bytes are checked again at
    apply). A hand-edited saved plan's text besides the files' bytes was taken as written: a file's
    reason (the commit message's `- PATH: ACTION (WHY)` line), a path (the tree), a skipped file's
    reason, holding a `.env` value, was committed; the plan's error line and a branch name holding one
    were printed, as was a damaged plan's refusal quoting an action or an unsafe path holding one. apply
    now reads a saved plan's error, paths, reasons and details, and a refusal of the plan file, with
    the printed-text guard, and quotes a plan's branch only when the manifest names it."""
    import json

    manifest = _encrypting_one_repo(tmp_path, f"API_TOKEN={SECRET}\n", monkeypatch)
    saved = tmp_path / "plan.json"
    assert _plain_rollout("plan", "--manifest", manifest, "--out", saved).returncode == 0
    plan = json.loads(saved.read_text())
    edit(plan["repos"][0], SECRET)
    saved.write_text(json.dumps(plan))
    result = _plain_rollout("apply", saved, "--manifest", manifest, "--yes")
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "Zq81Lm0pWx42Rt" not in said, said
    repo = tmp_path / "ws" / "victim"
    assert b"Zq81Lm0pWx42Rt" not in objects(repo)
