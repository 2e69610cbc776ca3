"""Issue 13, pass 29a: session 33's verification round over items 1-4 and the smaller list's first four
bullets, session 32's code for them first. Each test fails on the main before its fix."""

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
    "name",
    [
        "e2e-password",
        "k8s.namespace",
        "i18n.default-locale",
        "log4j2.level",
        "1password.token",
        "stripe.apiKeyV2",
        "models.gpt-4o.api-key",
        "cache.24h-ttl",  # pass 29e's N4, lead 33: digits then a unit, more than one digit
        "timeout.30s",
    ],
)
def test_a_teammates_name_with_a_numeronym_is_never_dropped_with_its_value(fleet, name):
    """ON-LIST (13.1: a value dropped on re-apply; pass 28a's camel-case fix missed these spellings).
    A teammate's value under a dotted or dashed name whose word holds digits between letters (`e2e`,
    `k8s`, `i18n`, `log4j2`) or starts with them (`1password`) was no word: plan exited 0 with "drops 1
    name shaped like a credential … rotate that credential", and apply wrote the branch without the
    value. Now it stops the repo as other worded names do, until `.env` holds the value."""
    worded_value_kept(fleet, name, f"{CANARY}-numeronym", "KEPT_VALUE")


def test_a_worded_value_moved_into_the_variable_it_stands_for_is_carried(fleet):
    """ON-LIST (13.1, a false refusal of pass 27d's carry): main's `.env.enc` holds a teammate's
    `twine.password` beside `TWINE_PASSWORD`; the refusal says "add its value to .env under a variable
    name", and the natural one is `TWINE_PASSWORD`, the same setting. Set there, plan refused the same,
    "with a value .env in the clone lacks", every time: a name the committed file holds never carried
    a value, even one changed to it. A value the same by chance under a name both hold (unchanged) is
    still no carry (pass 27d's control)."""
    repo = fleet.repo(CASCOR)
    env = (repo / ".env").read_text()
    value = f"{CANARY}-moved"
    encrypted_by_hand(fleet, repo, (env + f"twine.password={value}\n").encode())
    assert rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR).code == 1
    lines = [
        f"TWINE_PASSWORD={value}" if s.startswith("TWINE_PASSWORD=") else s for s in env.split("\n")
    ]
    (repo / ".env").write_text("\n".join(lines))
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((plan.stdout + plan.stderr).split())
    assert plan.code == 0 and "cannot hold" not in said and CANARY not in said, said
    assert apply(fleet, CASCOR).code == 0
    names = _names_on_branch(repo)
    assert "TWINE_PASSWORD" in names and "twine.password" not in names, names


@pytest.mark.parametrize("target", ["my app.env.enc", "[prod].env.enc"])
def test_the_lfs_line_for_a_target_named_with_a_blank_or_a_bracket_works(fleet, target):
    """ON-LIST (the smaller list's LFS bullet, pass 16b's, 27a's and 28a's way out): an encrypt
    target named `my app.env.enc` under `*.enc filter=lfs` was refused with "a line `/my app.env.enc
    !filter !diff !merge !text` at the end of the top .gitattributes, committed on main". git splits
    that line at the blank (the pattern `/my`), so committed as it reads, the repo was refused the
    same, every time; `/[prod].env.enc` is a glob matching `/p.env.enc`, never itself. The pattern
    is now quoted and escaped as git reads it; followed, the repo applies."""
    repo = fleet.repo(CASCOR)
    entry = "      - source: .env\n        target: .env.enc\n"
    text = fleet.manifest.read_text()
    assert entry in text
    fleet.manifest.write_text(text.replace(entry, entry.replace(".env.enc", f"'{target}'"), 1))
    only = ("--manifest", fleet.manifest, "--repo", CASCOR)
    (repo / ".gitattributes").write_text(f"*.enc {LFS_LINE}\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "-qm", "LFS for *.enc")
    said = " ".join(rollout("plan", *only).stdout.split())
    line = re.search(r"a line `([^`]*!filter[^`]*)` at the end of the top \.gitattributes", said)
    assert line, said
    (repo / ".gitattributes").write_text(f"*.enc {LFS_LINE}\n{line.group(1)}\n")
    git(repo, "commit", "-qam", "stop tracking the encrypted file with LFS")
    applied = rollout("apply", *only, "--yes")
    assert applied.code == 0, said + applied.stdout
    assert "sops_mac=" in git(repo, "show", f"{BRANCH}:{target}")


@pytest.mark.parametrize("name", ["twine.password", "twine-password"])
def test_a_worded_alias_of_a_variable_env_holds_with_its_value_is_carried(fleet, name):
    """ON-LIST (13.1, a false refusal of pass 27d's carry): a teammate adds `twine.password` to main's
    `.env.enc` as an alias of `TWINE_PASSWORD`, with the same value, which the clone's `.env` holds.
    plan refused "with a value .env in the clone lacks … add its value to .env under a variable
    name", for ever: the value was there, under the variable the name stands for, but a name both
    files hold with one value was no carry. Now a worded name whose value `.env` holds under its
    own variable (words upper-cased, joined by `_`) is carried; another name's equal value still is
    not (pass 27d's control)."""
    repo = fleet.repo(CASCOR)
    env = (repo / ".env").read_text()
    value = next(s for s in env.split("\n") if s.startswith("TWINE_PASSWORD=")).partition("=")[2]
    encrypted_by_hand(fleet, repo, (env + f"{name}={value}\n").encode())
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((plan.stdout + plan.stderr).split())
    assert plan.code == 0 and "cannot hold" not in said and name not in said, said
    assert apply(fleet, CASCOR).code == 0
    names = _names_on_branch(repo)
    assert "TWINE_PASSWORD" in names and name not in names, names
