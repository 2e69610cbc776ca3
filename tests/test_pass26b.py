"""Issue 13, pass 26b: a verification pass over items 5-8 (the leaks), session 30, after pass 25j.

Each finding's test fails on the main this pass started from (d10b97b, checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import rollout
from tests.leakshapes import token_name_refused
from tests.test_pass24b import objects

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

# random, in each issuer's documented shape; each one passed as a name before the fix
_TOKENS = {
    "Replicate": "r8_tTHHzVJNplmPCPkP1lWJgprteVXKSNGF7Ehkv",  # r8_ and 37 of [A-Za-z0-9]
    "Adafruit IO": "aio_cpdPDyCLUrzKeesb1YmCg8NvdAQu",  # aio_ and 28
    "Supabase": "sb_secret_UjPfSOwNsEB2gkGrNCEYOY_ABxSKgUt",  # sb_secret_ and base64url
    "Alibaba Cloud": "LTAIBAFeWtfMMZVToRbEWJPz",  # LTAI and 12 or 20
    "Prefect": "pnu_bJKDXRycDi4fcnRBElqedHGzWhyrpPAIR4WN",  # pnu_ and 36
    "Databricks": "dapi333c31af43ca13198e36cffda51dfbaa",  # dapi and 32 hex
    "Tencent Cloud": "AKIDOofdRDKJcmcpMmdFD1QOiWbRYPmSi6Dm",  # AKID and 32
    "crates.io": "cio6ODeegYPftgDFCCWoOPrO0OObujWaxLh",  # cio and 32
}


@pytest.mark.parametrize("issuer", list(_TOKENS))
def test_an_issued_token_before_an_equals_sign_is_refused_never_echoed(
    tmp_path, monkeypatch, issuer
):
    """ON-LIST 13.8 (pass 25h's and 25j's finding, for more issued prefixes): a token of a real
    issuer's documented shape on a `.env` line before an `=` passed as a variable name (measured,
    300 random each: Alibaba 36%, Supabase 9%, Adafruit 7%, Replicate 2%, Prefect 1.7%, Tencent,
    crates.io and Databricks 1%): plan printed it among the names and `apply --yes` stored it as a
    plaintext key in the committed `.env.enc` and in `.env.example`. They join the known token
    shapes: refused with the line number, never echoed, nothing committed."""
    token = _TOKENS[issuer]
    token_name_refused(tmp_path, monkeypatch, token, token[5:15])


def test_names_with_these_issuers_words_are_still_names():
    """Control: variable names about these services, and their prefixes as words, are no tokens."""
    from juniper_rollout.dotenv import is_credential_name
    from juniper_rollout.secretshape import holds_full_token, names_credential

    names = (
        "REPLICATE_API_TOKEN",
        "r8_enabled",
        "ADAFRUIT_IO_KEY",
        "aio_sessions",
        "aio_MAX_CONNECTIONS_PER_HOST",
        "SUPABASE_SECRET_KEY",
        "sb_secret_key_for_the_local_stack",
        "sb_secret_service_role_key_local",
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "LTAIMPORTANT",
        "PREFECT_API_KEY",
        "pnu_retries",
        "DATABRICKS_TOKEN",
        "dapi_host",
        "dapiClientConnectionTimeoutMillis",
        "TENCENTCLOUD_SECRET_ID",
        "AKID_ROTATION_DAYS",
        "CARGO_REGISTRY_TOKEN",
        "cioConnectionPoolMaxIdleTimeoutMs",
        "HF_TOKEN_PATH",
        "SK_LEARN_SEED",
        "GHP_MODE",
    )
    for name in names:
        assert not is_credential_name(name), name
    prose = "pin aio_sessions, precociousnessAndMoreWordsInCamelCaseHere, dapi_host and r8_enabled"
    assert not holds_full_token(prose) and not names_credential(prose)


_DEPLOY_VALUE = "Zq26bDeployValue42"


@pytest.mark.parametrize("how", ["template", "include", "symlink"])
def test_a_file_the_manifest_calls_a_plaintext_env_file_is_never_a_template(tmp_path, how):
    """ON-LIST 13.6 ("templates come from inside the templates folder only", and never a plaintext
    env file): the manifest's `plaintext_env.include` names `*.env.local` plaintext env files, and
    the templates folder holds one (`deploy.env.local`, a deploy's values): `template:
    deploy.env.local`, a template that includes it or a symlink to it rendered it, so `rollout plan`
    showed its values in the diff and apply committed them. The name check knew the default
    definition only (`.env`, `.env.*`, `*.env`), and the leak guard reads the target clone's env
    files, not the templates folder's. Now the loader refuses a name either definition calls a
    plaintext env file, never showing what it holds."""
    import os

    from tests.helpers import git
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "notes\n")
    tpl = tmp_path / "tpl"
    (tpl / "deploy.env.local").write_text(f"DEPLOY_TOKEN={_DEPLOY_VALUE}\n")
    name = {"template": "deploy.env.local", "include": "notes.j2", "symlink": "deploy.md.j2"}[how]
    if how == "include":
        (tpl / "notes.j2").write_text('{% include "deploy.env.local" %}\n')
    if how == "symlink":
        os.symlink("deploy.env.local", tpl / "deploy.md.j2")
    text = manifest.read_text().replace("template: notes.j2", f"template: {name}")
    text = text.replace(
        "defaults:\n",
        'defaults:\n  plaintext_env: {include: [.env, .env.*, "*.env", "*.env.local"]}\n',
    )
    manifest.write_text(text)
    for command in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*command, "--manifest", manifest)
        out = result.stdout + result.stderr
        assert result.code == 1 and "named like a plaintext env file" in out, out
        assert _DEPLOY_VALUE not in out, out
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "branch", "--list").strip() == "* main"
    assert _DEPLOY_VALUE.encode() not in objects(repo)


def test_templates_the_manifests_plaintext_env_does_not_name_still_render(tmp_path):
    """Control: with `*.env.local` plaintext, a template named otherwise (`local.md.j2`, `env.j2`)
    still renders, and the shipped templates with it."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "notes {{ 1 + 1 }}\n")
    text = manifest.read_text().replace(
        "defaults:\n",
        'defaults:\n  plaintext_env: {include: [.env, .env.*, "*.env", "*.env.local"]}\n',
    )
    manifest.write_text(text)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0 and "+notes 2" in result.stdout, result.stdout + result.stderr


# (.env, path, template, what must not be printed): a password holding `$` or `%` (runs of letters
# and digits under 8), written as the file's reader wants a literal one
_DOUBLED = {
    "compose $$": (
        "DB_PASSWORD='Zq26b$ecretPa%ss'\n",
        "compose.yaml",
        'services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: "Zq26b$$ecretPa%ss"\n',
        "ecretPa",
    ),
    "systemd %%": (
        "DB_PASSWORD='Zq26b%ecretPa%ss'\n",
        "deploy/app.service",
        "[Service]\nEnvironment=DB_PASSWORD=Zq26b%%ecretPa%%ss\n",
        "ecretPa",
    ),
    "configparser %%": (
        "DB_PASSWORD='Zq26b%ecretPa%ss'\n",
        "app.ini",
        "[db]\npassword = Zq26b%%ecretPa%%ss\n",
        "ecretPa",
    ),
}


@pytest.mark.parametrize("case", list(_DOUBLED))
def test_a_value_with_its_dollar_or_percent_doubled_is_never_shown(tmp_path, case):
    """ON-LIST 13.6 ("a value from any plaintext env file ... in any spelling a real config format
    uses"): docker compose reads `$$` as one `$`, systemd units and Python's configparser read `%%`
    as one `%`, so a password holding them is written so in a compose file, a unit or an INI file.
    The leak guard read the text as written only, and the password's runs of letters and digits are
    under 8: `rollout plan` showed it in the diff and apply committed it. Now each doubled
    character is read as its one character too."""
    from tests.test_pass24b import refused_in_plan_and_apply

    refused_in_plan_and_apply(tmp_path, _DOUBLED[case], "would contain the value on line 1")


def test_doubled_dollars_and_percents_of_public_text_still_plan(tmp_path):
    """Control: a compose file's `$$HOME`, a unit's `%%h` and a crontab's `%%` beside a `.env` whose
    values they do not spell still plan."""
    from tests.leakshapes import plan_beside

    template = 'command: ["sh", "-c", "echo $$HOME"]\n# ExecStart=/bin/date +%%Y-%%m-%%d\n'
    result = plan_beside(tmp_path, "DB_PASSWORD='Zq26b$ecretPa%ss'", template, public=template)
    assert result.code == 0, result.stdout + result.stderr


# random, in each issuer's documented shape (gitleaks' rules): none was a shape the tool knew
_ISSUED = {
    "GitLab runner": "glrt-VmQnBMIdiXWEcURNGk63",
    "GitLab deploy": "gldt-VATmYSbQojinME-Wyx39",
    "Google OAuth client secret": "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",
    "Slack refresh": "xoxe-1-Y17JDGEI89CD0NXF8UG0C03ECWGPFIRW1W74YCCJA7H4CLCB1DS1KESKGECB18BR5U9ZBGHN2P"
    "TOJ6YZUF6EJCBJZPUEMRU14N5PA7GGBNNGJ9IC8KK7DDY58H0NVKOD9ATQ0M725UQRS4DQZD",
    "SendGrid": "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",
    "Sentry": "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",
    "Shopify": "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",
    "Vault": "hvs.EB9zikUty9Rh-GEM2veWzfhRRyUX0LgkkPTj7aIdHpG7UM4M4QMHuNI-bSniVhlfWE-h1j0CD_L8nKvlcn"
    "dLstRMcBwgM4C",
}


@pytest.mark.parametrize("issuer", list(_ISSUED))
def test_a_template_holding_an_issued_token_is_refused_never_shown(tmp_path, issuer):
    """ON-LIST 13.6 ("whatever the manifest says": a templates folder never holds a credential of a
    known shape, pass 16b/24b) with issuers' prefixes the list lacked: a template holding a GitLab
    runner or deploy token, a Google OAuth client secret, a Slack refresh token, a SendGrid key, a
    Sentry or Shopify token or a Vault token was rendered: `rollout plan` showed it in the diff and
    apply committed it into every repo. Now refused in one line, never echoed."""
    from tests.helpers import git
    from tests.test_pass11b import _one_repo_with_a_template

    token = _ISSUED[issuer]
    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", f"ci token: {token}\n")
    for command in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*command, "--manifest", manifest)
        out = result.stdout + result.stderr
        assert result.code == 1 and "holds a credential" in out, out
        assert token[8:20] not in out, out
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "branch", "--list").strip() == "* main"
    assert token[8:20].encode() not in objects(repo)


@pytest.mark.parametrize("issuer", ["GitLab runner", "Google OAuth client secret"])
def test_a_commit_message_or_code_default_holding_an_issued_token_is_never_committed(
    tmp_path, issuer
):
    """The same shapes in the manifest's commit message (now refused at its line; it was committed)
    and as a code default under a name that does not look secret (`discover.carries_credential`:
    `env_example: {from: code}` wrote it into `.env.example`, the value check asking for three
    digits, which a GitLab token of 20 characters lacks a third of the time)."""
    from juniper_rollout.discover import carries_credential
    from tests.test_pass11b import _one_repo_with_a_template

    token = _ISSUED[issuer]
    assert carries_credential(token)
    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "notes\n")
    manifest.write_text(
        manifest.read_text().replace(
            "defaults:\n", f'defaults:\n  commit_message: "chore: runner {token}"\n'
        )
    )
    result = rollout("plan", "--manifest", manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and "repos.yaml:" in out and token[8:20] not in out, out


def test_words_like_these_prefixes_are_still_no_tokens():
    """Control: prose and template text naming these prefixes or like them are no credential."""
    from juniper_rollout.secretshape import holds_full_token, names_credential

    for text in (
        "register the runner: its token starts with glrt-",
        "A3-LAYOUT-PORTRAIT-PRINT",
        "cache-key-0123456789abcdef0123456789abcdef",
        "SG.settings.value, hvs.token, dp.st.dev, pul-request, xoxe",
        "uses: pypa/gh-action-pypi-publish@release/v1",
    ):
        assert not holds_full_token(text) and not names_credential(text), text
