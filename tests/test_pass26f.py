"""Issue 13, pass 26f: a third verification pass over items 5-8 (the leaks), session 30, after passes
26b and 26e.

Each finding's test fails on the main this pass started from (f31aee4, checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import git, rollout
from tests.leakshapes import template_and_message_refused, token_name_refused

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

# a GitLab runner registration token (`GR1348941` and 20): an identifier 6% of the time that passed as
# a name (192 of 3,000 random ones, measured); this one did
_GITLAB_RUNNER = "GR1348941HK_ifxi5C_vQUSHL8iLc"


def test_a_gitlab_runner_registration_token_before_an_equals_sign_is_refused(tmp_path, monkeypatch):
    """ON-LIST 13.8: a GitLab runner registration token (gitleaks' `gitlab-rrt`) on a `.env` line
    before an `=` passed as a variable name: plan printed it, apply committed it in `.env.example`.
    Its shape was known to values and prose only. Now refused with the line number, never echoed."""
    token = _GITLAB_RUNNER
    token_name_refused(tmp_path, monkeypatch, token, token[9:20])


# random, in each issuer's shape as gitleaks' default rules give it (`hashicorp-tf-api-token`,
# `grafana-api-key`, `aws-amazon-bedrock-api-key-*`, `microsoft-teams-webhook`, `clojars-api-token`),
# Grafana's legacy key being base64 of `{"k":…,"n":…,"id":…}` and a Bedrock long-term key base64 of
# `BedrockAPIKey-…` as the issuers make them
_ISSUED = {
    "Terraform Cloud": "0ughq09zno7knk.atlasv1.c87TJZrmQ2VPs1e71zym-7P3uxWeunWNl9IKKEdIb547-bUOjvw"
    "UsqnRUxmS6hL9KkZ",
    "Grafana API key": "eyJrIjoic0lJOTJrb1BDWjY0ejIzNXUxd3JZREQxVm5QUmpZeWkiLCJuIjoiY2ktZGVwbG95Ii"
    "wiaWQiOjF9",
    "Amazon Bedrock long-term": "ABSKQmVkcm9ja0FQSUtleS13ZHJpLWF0LTEyMzQ1Njc4OTAxMjpDeVpsUXhDRGVQeV"
    "ZsL1JpNWEwUUNYUVc5d2NlSnpjUWJ0dUU4ZEhDWEswZ0FmOExIWGluQXFWcmxBUmQ=",
    "Amazon Bedrock short-term": "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29tLz9BY3Rpb249Q2FsbFdp"
    "dGhCZWFyZXJUb2tlbiZYLUFtei1BbGdvcml0aG09QVdTNC1ITUFDLVNIQTI1NiZYLUFtei1DcmVkZW50aWFsPUtCSk1Z"
    "QVVBRkNaTEtEWUxYVExRJlZlcnNpb249MQ==",
    "Microsoft Teams webhook": "https://acme.webhook.office.com/webhookb2/951670e0-bc5c-19fb-4c1c-"
    "04f972487dd3@39480543-e944-a176-929c-4de25f4d9994/IncomingWebhook/26a23db98f7c41e636292cd1a2"
    "90ee21/3eeee1cf-d4c6-4b1d-e5a0-1b4276011b67",
    "Clojars": "CLOJARS_557u32onva2xfblx7kfsqomqyrov5pnusjjbu8o0pyyr6dt9gcqnco9nih2p",
}


@pytest.mark.parametrize("issuer", list(_ISSUED))
def test_a_template_or_commit_message_holding_these_issuers_tokens_is_refused(tmp_path, issuer):
    """ON-LIST 13.6 (passes 26b/26e's finding, issuers among gitleaks' default rules they did not
    reach): a template holding a Terraform Cloud API token, a Grafana API key, an Amazon Bedrock API
    key (long- or short-term), a Microsoft Teams incoming webhook or a Clojars token was rendered:
    `rollout plan` showed it in the diff, apply committed it; the manifest's commit message holding
    one was committed. Now both are refused in one line, never echoed."""
    template_and_message_refused(tmp_path, _ISSUED[issuer], "chore: deploy with {token}")


def test_words_and_files_like_these_shapes_are_still_no_tokens():
    """Control: names, words and public text like the new shapes are no tokens."""
    from juniper_rollout.dotenv import is_credential_name
    from juniper_rollout.secretshape import holds_full_token, template_credential

    for name in ("GR1348941_RUNNER_TAGS", "CLOJARS_USERNAME", "CLOJARS_PASSWORD", "ABSK_REGION"):
        assert not is_credential_name(name), name
    for text in (
        "terraform login stores app.terraform.io's token (…atlasv1…) in credentials.tfrc.json",
        "grafana keys start eyJrIjoi; bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t is the prefix",
        "ABSK is the prefix of a Bedrock key; CLOJARS_ and 60 letters a Clojars token",
        "see https://acme.webhook.office.com/webhookb2/ for the Teams connector",
        # a base64 blob starting ABSK, shorter than a key
        "data: ABSKQmVkcm9ja0FQSUtleS13ZHJp\n",
    ):
        assert not holds_full_token(text) and not template_credential(text), text


_UNITS = {
    # ExecStart=: `$` and `%` doubled in one line
    "dollar and percent": ("Zq$7%kX2#v9!Lm", lambda p: p.replace("$", "$$").replace("%", "%%")),
    # and in a double-quoted word, its `"` backslash-escaped (held before the fix: a control)
    "dollar and quote": (
        'Zq$7"kX2#v9!Lm',
        lambda p: '"' + p.replace("$", "$$").replace('"', '\\"') + '"',
    ),
}


@pytest.mark.parametrize("case", list(_UNITS))
def test_a_value_with_both_its_dollar_and_percent_doubled_is_never_shown(tmp_path, case):
    """ON-LIST 13.6 (pass 26b's `$$`/`%%` readings): systemd's ExecStart= writes a literal `$` as
    `$$` and a literal `%` as `%%` in the same line; a `.env` password holding both (its runs of
    letters and digits under 8), so written in a unit the templates render, was read with one or the
    other undone, never both: `rollout plan` showed it in the diff. Now refused, never echoed. (With
    a `$` and a backslash-escaped `"` it was refused before: the control case.)"""
    from tests.test_pass11b import _one_repo_with_a_template

    password, spelled = _UNITS[case]
    unit = spelled(password)
    manifest = _one_repo_with_a_template(
        tmp_path,
        f"DB_PASSWORD={password}\n".encode(),
        f"[Service]\nExecStart=/usr/bin/app --db-password={unit}\n",
    )
    result = rollout("plan", "--manifest", manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and "plaintext" in out, out
    assert "kX2#v9" not in out, out


def verify_a_branch_config_beginning(fleet, top: str):
    """Apply juniper-cascor, then `rollout verify --ref` a contributor's branch whose
    `.pre-commit-config.yaml` is the tool's with ``top`` written above it."""
    from tests.test_findings import BRANCH
    from tests.test_verify import branch_with

    assert (
        rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes").code
        == 0
    )
    cascor = fleet.repo("juniper-cascor")
    config = git(cascor, "show", f"{BRANCH}:.pre-commit-config.yaml")
    ref = branch_with(
        cascor, "contrib/odd-config", {".pre-commit-config.yaml": f"{top}\n{config}".encode()}
    )
    return rollout("verify", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--ref", ref)


@pytest.mark.parametrize(
    ("top", "reason"),
    [
        ("files: '(?#'", "is not a valid python regex"),
        ("default_stages: [deploy]", "Expected one of"),
    ],
)
def test_verifys_line_for_a_config_pre_commit_refuses_says_why_not_a_removed_log(
    fleet, top, reason
):
    """NEW (13.5's verify, a way out that fails): a branch whose `.pre-commit-config.yaml` holds a
    top-level `files:` pre-commit cannot compile, or a stage it does not know, failed verify with
    "pre-commit could not run the managed hooks: Check the log at /tmp/rollout-verify-…/pre-commit-
    home/pre-commit.log", a file in the throwaway verify had already removed (pasted: no such file);
    pre-commit's own reason, on the line before, was left out. Now that reason is the line."""
    result = verify_a_branch_config_beginning(fleet, top)
    out = result.stdout + result.stderr
    assert result.code == 1 and reason in out, out
    assert "Check the log at" not in out, out
