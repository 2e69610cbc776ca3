"""Issue 13, pass 29e: session 33's second look at passes 29a's and 29b's fixes (worded names, the
worded carry, the LFS `!filter` line, GitLab's and Vault's shapes, a disabled encrypt entry)."""

from __future__ import annotations

import re

import pytest

from tests.fleet import BRANCH
from tests.helpers import CANARY, encrypted_by_hand, git, rollout
from tests.test_adversary import apply
from tests.test_pass16b import LFS_LINE
from tests.test_pass27d import _names_on_branch
from tests.test_pass28a import worded_value_kept

CASCOR = "juniper-cascor"


@pytest.mark.parametrize(
    "target",
    [
        "a  b.env.enc",
        "#x.env.enc",
        "!x.env.enc",
        "café.env.enc",
        "a\u00a0b.env.enc",
        "trail .env.enc",
        "x].env.enc",
    ],
)
def test_the_lfs_line_works_committed_as_printed_for_names_the_manifest_takes(fleet, target):
    """HELD (the LFS bullet, pass 29a's `_attributes_pattern`): for each target name the manifest
    takes (two blanks, a leading `#` or `!`, non-ASCII, a no-break space, a blank before the
    extension, a lone `]`; `*`, `?`, a backslash, a tab, `"` and leading blanks are refused at the
    manifest's line), the `!filter` line the refusal prints, committed as printed, ends the refusal."""
    repo = fleet.repo(CASCOR)
    entry = "      - source: .env\n        target: .env.enc\n"
    text = fleet.manifest.read_text()
    quoted = '"' + target.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'
    fleet.manifest.write_text(text.replace(entry, entry.replace(".env.enc", quoted), 1))
    only = ("--manifest", fleet.manifest, "--repo", CASCOR)
    (repo / ".gitattributes").write_text(f"*.enc {LFS_LINE}\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-qm", "LFS for *.enc")
    plan = rollout("plan", *only)
    said = plan.stdout + plan.stderr
    line = re.search(r"a line `([^`]*!filter[^`]*)` at the end", said, re.S)
    assert line, said
    (repo / ".gitattributes").write_text(f"*.enc {LFS_LINE}\n{line.group(1)}\n")
    git(repo, "commit", "-qam", "stop tracking the encrypted file with LFS")
    applied = rollout("apply", *only, "--yes")
    assert applied.code == 0, said + applied.stdout + applied.stderr
    assert "sops_mac=" in git(repo, "show", f"{BRANCH}:{target}")


def _edited_on_main_then_disabled(fleet, repo, clean: str) -> str:
    """`.env` moved away, main's `.env.enc` edited by a teammate (a name the branch lacks), and the
    repo's `encrypt:` entry turned off; the manifest's text before that, to turn it on again."""
    (repo / ".env").unlink()
    encrypted_by_hand(fleet, repo, (clean + f"ADDED_ON_MAIN={CANARY}-main\n").encode())
    text = fleet.manifest.read_text()
    at = text.index(f"  - name: {CASCOR}")
    end = text.index("        target: .env.enc\n", at) + len("        target: .env.enc\n")
    fleet.manifest.write_text(text[:end] + "        enabled: false\n" + text[end:])
    return text


def test_a_disabled_entrys_refusal_of_a_branch_and_an_edited_base_has_a_way_out_that_works(fleet):
    """ON-LIST (13.1, a way out that fails when followed; pass 29b's note): with the repo's `encrypt:`
    entry `enabled: false`, `.env` moved away, the rollout branch's `.env.enc` holding a name main's
    lacks and main's edited too (a teammate's `sops` edit), plan refused "bring the values of both into
    .env …, then plan again". A disabled entry never reads `.env`: followed, plan refused the same,
    for ever (only deleting the branch, and its values with it, got past). The way out now turns the
    entry on again too; followed, both values reach the branch."""
    repo = fleet.repo(CASCOR)
    clean = (repo / ".env").read_text()
    encrypted_by_hand(fleet, repo, clean.encode())
    (repo / ".env").write_text(clean + f"ADDED_ON_BRANCH={CANARY}-branch\n")
    assert apply(fleet, CASCOR).code == 0
    text = _edited_on_main_then_disabled(fleet, repo, clean)
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((plan.stdout + plan.stderr).split())
    assert plan.code != 0 and "bring the values of both into .env" in said, said
    assert "`enabled: true`" in said, said
    (repo / ".env").write_text(
        clean + f"ADDED_ON_BRANCH={CANARY}-branch\nADDED_ON_MAIN={CANARY}-main\n"
    )
    fleet.manifest.write_text(text)  # the entry on again, as the refusal says
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    assert plan.code == 0, " ".join((plan.stdout + plan.stderr).split())
    assert apply(fleet, CASCOR).code == 0
    names = _names_on_branch(repo)
    assert "ADDED_ON_BRANCH" in names and "ADDED_ON_MAIN" in names, names


@pytest.mark.parametrize(
    "name",
    ["AzureAdB2C.ClientSecret", "azure.adB2C.secret", "app.2faSecret", "stripe.3DSecure-key"],
)
def test_a_teammates_name_with_a_digit_led_or_b2c_word_is_never_dropped_with_its_value(fleet, name):
    """ON-LIST (13.1: a value dropped on re-apply; spellings passes 29a's and 29b's `_WORD` missed).
    A teammate's value under a dotted name with ASP.NET's `AzureAdB2C` section (an acronym with a
    digit inside, `B2C`) or camel case after a word led by digits (`2faSecret`, `3DSecure`) was no
    word: plan exited 0 with "drops 1 name shaped like a credential … rotate that credential", and
    apply wrote the branch without the value. Now it stops the repo as other worded names do, until
    `.env` holds the value; the printed command shows it, carried under a variable it reaches the branch."""
    worded_value_kept(fleet, name, f"{CANARY}-b2c", "KEPT_VALUE")


def test_that_way_out_followed_with_a_token_name_on_the_branch_drops_the_token_alone(
    fleet, monkeypatch
):
    """HELD (13.8 beside F1): the same refusal where the branch's `.env.enc` holds a key pasted as a
    name (an older tool's apply): never shown; followed (the entry on again, the values of both in
    `.env`, the token's line left out as dotenv demands), the branch keeps every value but the token."""
    from tests.test_lead31 import MOLLIE, _applied_by_an_older_tool

    repo = fleet.repo(CASCOR)
    clean = (repo / ".env").read_text()
    encrypted_by_hand(fleet, repo, clean.encode())
    _applied_by_an_older_tool(fleet, monkeypatch, clean + f"ADDED_ON_BRANCH={CANARY}-branch\n")
    text = _edited_on_main_then_disabled(fleet, repo, clean)
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((plan.stdout + plan.stderr).split())
    assert plan.code != 0 and "`enabled: true`" in said and MOLLIE not in said, said
    (repo / ".env").write_text(
        clean + f"ADDED_ON_BRANCH={CANARY}-branch\nADDED_ON_MAIN={CANARY}-main\n"
    )
    fleet.manifest.write_text(text)
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((plan.stdout + plan.stderr).split())
    assert plan.code == 0 and MOLLIE not in said, said
    assert apply(fleet, CASCOR).code == 0
    names = _names_on_branch(repo)
    assert "ADDED_ON_BRANCH" in names and "ADDED_ON_MAIN" in names and MOLLIE not in names, names
