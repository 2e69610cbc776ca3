"""``rollout rotate``: splice defaults.age_recipients, keep every other byte, refuse what would hurt."""

from __future__ import annotations

import difflib
import stat
from pathlib import Path

import pytest
from pyrage import x25519

from juniper_rollout import keys
from juniper_rollout.edits import recipients
from juniper_rollout.edits.recipients import RecipientsEditError
from juniper_rollout.yamlio import load_plain
from tests.helpers import rollout

SHIPPED = Path(__file__).resolve().parent.parent / "manifests" / "repos.yaml"
# fixed keys (public, made for these tests): parametrized ids must be the same on every xdist worker
A = "age16rxdm0wu7xt3ggrtf6zf3hecx76ulxunxch40sa368r46alevu4q0w0zgr"
B = "age17nsuhg4jusey4g8sgsxvpfqm70p8m4lc9t6q82ephcnmezwhhy4s5e7lhl"
C = "age15cnz0gp0mrq8w5tu9w3a92t40569jugl29yjylyzfvlkry6yhc4qeykwf5"


def changed_lines(old: str, new: str) -> list[str]:
    return [
        line
        for line in difflib.ndiff(old.splitlines(True), new.splitlines(True))
        if line[:1] in "+-"
    ]


def only_recipients_changed(old: str, new: str, expected: list[str]) -> None:
    before, after = load_plain(old), load_plain(new)
    assert after["defaults"].pop("age_recipients") == expected
    before["defaults"].pop("age_recipients")
    assert after == before


# --- splicing ----------------------------------------------------------------------------------


def test_placeholder_is_replaced_in_place_and_nothing_else_moves():
    old = SHIPPED.read_text()
    result = recipients.edit(old, add=[A], remove=[])
    assert changed_lines(old, result.text) == ["-     - age1<PUBLIC_KEY_HERE>\n", f"+     - {A}\n"]
    assert result.placeholders == ("age1<PUBLIC_KEY_HERE>",) and result.after == (A,)
    only_recipients_changed(old, result.text, [A])


def test_add_then_remove_in_a_block_list_with_comments():
    old = (
        "defaults:\n  # the fleet's keys\n  age_recipients:\n    - " + A + "   # laptop\n"
        "    # retired keys go below\n  precommit_hook: auto  # where configs exist\nrepos: []\n"
    )
    added = recipients.edit(old, add=[B, C], remove=[]).text
    assert changed_lines(old, added) == [f"+     - {B}\n", f"+     - {C}\n"]
    assert added.index(B) < added.index("# retired keys")  # right after the last item
    only_recipients_changed(old, added, [A, B, C])
    removed = recipients.edit(added, add=[], remove=[A]).text
    assert changed_lines(added, removed) == [f"-     - {A}   # laptop\n"]
    only_recipients_changed(old, removed, [B, C])


def test_indentless_list_quoting_and_no_final_newline():
    old = f'defaults:\n  base: main\n  age_recipients:\n  - "{A}"'
    new = recipients.edit(old, add=[B], remove=[]).text
    assert new == f'defaults:\n  base: main\n  age_recipients:\n  - "{A}"\n  - "{B}"\n'
    only_recipients_changed(old, new, [A, B])
    assert (
        recipients.edit(new, add=[], remove=[A]).text
        == f'defaults:\n  base: main\n  age_recipients:\n  - "{B}"\n'
    )


def test_flow_list_and_crlf_are_kept():
    old = f"version: 1\r\ndefaults:\r\n  age_recipients: ['{A}']   # team\r\n  base: main\r\nrepos: []\r\n"
    new = recipients.edit(old, add=[B], remove=[]).text
    assert (
        new
        == f"version: 1\r\ndefaults:\r\n  age_recipients: ['{A}', '{B}']   # team\r\n  base: main\r\nrepos: []\r\n"
    )
    assert recipients.edit(new, add=[C], remove=[A, B]).text == old.replace(A, C)
    block = f"defaults:\r\n  age_recipients:\r\n    - {A}\r\nrepos: []\r\n"
    assert recipients.edit(block, add=[B], remove=[]).text == block.replace(
        f"{A}\r\n", f"{A}\r\n    - {B}\r\n"
    )


REFUSALS = [
    (f"defaults:\n  age_recipients: [{A}]\n", [], [A], "refusing to remove the last recipient"),
    (f"defaults:\n  age_recipients: [{A}]\n", [], [B], "is not in defaults.age_recipients"),
    (f"defaults:\n  age_recipients: [{A}]\n", [A], [], "already in defaults.age_recipients"),
    (f"defaults:\n  age_recipients: [{A}]\n", ["age1notakey"], [], "not a valid age public key"),
    (f"defaults:\n  age_recipients: [{A}]\n", [], [], "nothing to change"),
    (f"defaults:\n  age_recipients: [{A}]\n", [B, B], [], "given twice"),
    (f"defaults:\n  age_recipients: [{A}]\n", [B], [B], "both --add and --remove"),
    (f"defaults:\n  age_recipients: [{A}, age1typo]\n", [B], [], "--remove age1typo"),
    (f"defaults:\n  age_recipients: {A}\n", [B], [], "is not a list"),
    (f"x: &k [{A}]\ndefaults:\n  age_recipients: *k\n", [B], [], "anchor or alias"),
    ("version: 1\nrepos: []\n", [B], [], "no defaults.age_recipients"),
    (f"defaults:\n  age_recipients: [{A},  # c\n    {C}]\n", [B], [], "comments inside"),
    ("defaults:\n  age_recipients: [\n", [B], [], "invalid YAML"),
]


@pytest.mark.parametrize(
    ("text", "add", "remove", "message"), [pytest.param(*c, id=c[3]) for c in REFUSALS]
)
def test_refusals(text, add, remove, message):
    with pytest.raises(RecipientsEditError, match=message):
        recipients.edit(text, add=add, remove=remove)


def test_a_private_key_is_refused_without_echoing_it():
    secret = str(x25519.Identity.generate())
    with pytest.raises(RecipientsEditError) as info:
        recipients.edit(f"defaults:\n  age_recipients: [{A}]\n", add=[secret], remove=[])
    assert "private key" in str(info.value) and secret[16:] not in str(info.value)


# --- the command -------------------------------------------------------------------------------


@pytest.fixture
def key(tmp_path, monkeypatch):
    """A fresh key file where sops looks (SOPS_AGE_KEY_FILE): (path, public key)."""
    path = tmp_path / "age" / "keys.txt"
    public = keys.generate_key_file(path)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(path))
    return path, public


def manifest_with(tmp_path: Path, *recipients_: str) -> Path:
    path = tmp_path / "repos.yaml"
    items = "".join(f"    - {k}\n" for k in recipients_)
    path.write_text(
        f"version: 1\n# fleet\ndefaults:\n  age_recipients:\n{items}  base: main\nrepos: []\n"
    )
    path.chmod(0o640)
    return path


def test_rotate_adds_and_removes_atomically_keeping_the_mode(tmp_path, key):
    _, mine = key
    manifest = manifest_with(tmp_path, mine)
    result = rollout("rotate", "--manifest", manifest, "--add", B)
    assert result.code == 0, result.stderr
    assert (
        f"+ {B}" in result.stdout
        and "rollout plan" in result.stdout
        and "rollout apply" in result.stdout
    )
    assert load_plain(manifest.read_text())["defaults"]["age_recipients"] == [mine, B]
    assert stat.S_IMODE(manifest.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["age", "repos.yaml"]  # no temp file left
    result = rollout("rotate", "--manifest", manifest, "--remove", B)
    assert result.code == 0 and f"- {B}" in result.stdout
    assert load_plain(manifest.read_text())["defaults"]["age_recipients"] == [mine]


def test_first_key_replaces_the_placeholder_with_no_private_key(tmp_path):
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(SHIPPED.read_text())
    result = rollout("rotate", "--manifest", manifest, "--add", A)
    assert result.code == 0, result.stderr
    assert "age1<PUBLIC_KEY_HERE>  (placeholder)" in result.stdout
    assert manifest.read_text() == SHIPPED.read_text().replace("age1<PUBLIC_KEY_HERE>", A)


def unchanged_after(manifest: Path, *args: str) -> str:
    before = manifest.read_bytes()
    result = rollout("rotate", "--manifest", manifest, *args)
    assert result.code == 1 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert manifest.read_bytes() == before
    return result.stderr


def test_refusals_leave_the_file_untouched(tmp_path, key):
    _, mine = key
    manifest = manifest_with(tmp_path, mine)
    assert "last recipient" in unchanged_after(manifest, "--remove", mine)
    assert "not in defaults.age_recipients" in unchanged_after(manifest, "--remove", A)
    assert "already in" in unchanged_after(manifest, "--add", mine)
    assert "not a valid age public key" in unchanged_after(manifest, "--add", "age1nope")


def test_without_a_private_key_rotate_names_sops_age_key_file(tmp_path):
    manifest = manifest_with(tmp_path, A)
    assert "SOPS_AGE_KEY_FILE" in unchanged_after(manifest, "--add", B)


def test_a_key_that_opens_nothing_today_is_refused(tmp_path, key):
    manifest = manifest_with(tmp_path, A)  # your key is not a current recipient
    assert "none of your age keys" in unchanged_after(manifest, "--add", B)


def test_removing_every_key_you_hold_is_refused(tmp_path, key):
    _, mine = key
    manifest = manifest_with(tmp_path, mine, B)
    message = unchanged_after(manifest, "--remove", mine)
    assert "none of the recipients is a key you hold" in message and "SOPS_AGE_KEY_FILE" in message


def test_missing_manifest(tmp_path):
    result = rollout("rotate", "--manifest", tmp_path / "nope.yaml", "--add", A)
    assert result.code == 1 and "manifest not found" in result.stderr
