"""Issue 13, pass 29b: session 33's verification round over items 5-8, session 32's code for them
first. Each test fails on the main before its fix."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import CANARY, encrypted_by_hand, rollout
from tests.test_adversary import apply
from tests.test_pass28a import worded_value_kept

CASCOR = "juniper-cascor"


@pytest.mark.parametrize(
    "name", ["log4j.rootLogger", "i18n.defaultLocale", "k8s.namespace", "2fa-secret", "e2e.baseUrl"]
)
def test_a_teammates_name_with_a_numeronym_is_never_dropped_with_its_value(fleet, name):
    """ON-LIST (13.1/13.8: pass 28a's camelCase spellings, with a word holding digits inside). A
    teammate's value under a dotted or dashed name with a part like `log4j`, `i18n`, `k8s`, `2fa` or
    `e2e` (log4j's own `log4j.rootLogger`) was taken for a token of pieces: plan said "drops 1 name
    shaped like a credential … rotate that credential", and apply wrote the branch without the
    value. Now it stops the repo as the other worded names do, until `.env` holds the value."""
    worded_value_kept(fleet, name, f"v-{CANARY}-numeronym", "APP_SETTING")


@pytest.mark.parametrize(
    "token",
    [
        "acme-glrt-t1_Zq3Lm8Pq2Rs5Tu7Vw9Xy",  # GitLab's "Instance token prefix" before a runner's
        "my-company-name-glwt-Zq3Lm8Pq2Rs5Tu7Vw9Xy",  # … a workspace token's
        "mycompanynameglptt-6f2a9c3b1d8e4f7a0b5c9d2e1f3a4b6c7d8e9f0a",  # … run into a trigger token's
        "acme-glcbt-64_Zq3Lm8Pq2Rs5Tu7Vw9Xy",  # … a CI/CD job token's
    ],
)
def test_a_gitlab_token_after_an_instance_token_prefix_is_refused(tmp_path, token):
    """ON-LIST 13.6: GitLab's "Instance token prefix" setting (Admin area, Account and limit) puts
    the instance's prefix before every token type's (`acme-glrt-…`, `mycompanynameglptt-…`); the
    shape asked for nothing before `gl`, so a template or the manifest's commit message holding one
    was shown in the plan's diff and committed. Refused now in one line, never echoed, nothing in
    git."""
    from tests.leakshapes import template_and_message_refused

    template_and_message_refused(tmp_path, token, "ci: runner {token}", token[-18:-4])


def test_gitlab_prefixes_after_a_word_in_prose_are_no_tokens():
    """Control: prose naming the prefixes, with a word before them, is no token."""
    from juniper_rollout.secretshape import holds_full_token, template_credential

    for text in (
        "instance-prefixed runner tokens start acme-glrt- or acme-glrtr-",
        "see docs.gitlab.com/ee/security/tokens/#instance-glpat-prefix",
        "set the instance prefix (mycompanyname) before glptt-",
    ):
        assert not holds_full_token(text) and not template_credential(text), text


def test_a_vault_root_token_in_a_template_or_commit_message_is_refused(tmp_path):
    """ON-LIST 13.6: a Vault root token is `hvs.` and 24 letters and digits (what `vault operator
    init` and `vault server -dev` print: "Root Token: hvs.6j4c…" in HashiCorp's tutorials); the
    shape asked `hvs.` for 90 (a service token's length) and `hvr.` alone for 24, so a template or
    the manifest's commit message holding a root token was shown in the plan's diff and committed.
    Refused now in one line, never echoed, nothing in git; a placeholder (`hvs.XXXX…`) stays text."""
    from juniper_rollout.secretshape import holds_full_token, template_credential
    from tests.leakshapes import template_and_message_refused

    token = "hvs.Qm7rTzW2kLpX9vNcB4hJdY6s"
    template_and_message_refused(tmp_path, token, "ops: vault {token}", token[-18:-4])
    placeholder = "VAULT_TOKEN: hvs.XXXXXXXXXXXXXXXXXXXXXXXX"
    assert not holds_full_token(placeholder) and not template_credential(placeholder)


def test_a_committed_name_of_a_long_run_of_capitals_is_read_in_bounded_time():
    """Pass 29b (13.8's worded names; a hang on bad input): `dotenv._WORD` tries every split of a run
    of capitals, so a committed `.env.enc` holding a name like `a.AAAA…ab!` (plain sops keeps it)
    took `rollout plan` two minutes at 40,000 capitals (measured) and hours at a megabyte, for
    every plan, verify and drift of that repo. No word is that long: it is read at once now, and
    real worded names are still words."""
    code = (
        "from juniper_rollout import dotenv\n"
        "name = 'a.' + 'A' * 1_000_000 + 'ab!'\n"
        "assert not dotenv.worded(name) and dotenv.unnamed((name,)) == 1\n"
        "assert dotenv.worded('spring.datasource.driverClassName')\n"
        "assert dotenv.worded('log4j.rootLogger')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_a_token_name_on_the_branch_of_a_disabled_entry_is_no_refusal_for_ever(fleet, monkeypatch):
    """ON-LIST 13.8 (pass 28a's refusal of a branch ciphertext holding a name shaped like a
    credential): with the repo's `encrypt:` entry `enabled: false`, `.env` moved away and main
    moved, plan refused "… write its values into .env in the clone (`…`), delete that line there,
    and plan again: .env.enc is then encrypted from .env", which a disabled entry never does:
    followed, plan and apply refused the same, for ever. A disabled entry's ciphertext is kept as it
    is now, as the base's already was (lead 31): never shown, never dropped; verify still names it."""
    from tests.fleet import BRANCH
    from tests.helpers import git
    from tests.test_lead31 import MOLLIE, _applied_by_an_older_tool

    repo = fleet.repo(CASCOR)
    clean = (repo / ".env").read_text()
    encrypted_by_hand(fleet, repo, clean.encode())
    _applied_by_an_older_tool(fleet, monkeypatch, clean)
    kept = git(repo, "rev-parse", f"{BRANCH}:.env.enc").strip()
    (repo / ".env").unlink()
    text = fleet.manifest.read_text()
    at = text.index("  - name: juniper-cascor")
    end = text.index("        target: .env.enc\n", at) + len("        target: .env.enc\n")
    fleet.manifest.write_text(text[:end] + "        enabled: false\n" + text[end:])
    (repo / "NOTES.md").write_text("main moves\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-qm", "main moves")
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((plan.stdout + plan.stderr).split())
    assert "shaped like a credential" not in said and MOLLIE not in said, said
    applied = apply(fleet, CASCOR)
    assert applied.code == 0 and MOLLIE not in applied.stdout + applied.stderr, applied.stdout
    assert git(repo, "rev-parse", f"{BRANCH}:.env.enc").strip() == kept
    assert git(repo, "merge-base", "--is-ancestor", "main", BRANCH) == ""
    verify = rollout("verify", "--manifest", fleet.manifest, "--repo", CASCOR, "--ref", BRANCH)
    told = " ".join(verify.stdout.split())
    assert verify.code != 0 and "shaped like a credential" in told and MOLLIE not in told, told
