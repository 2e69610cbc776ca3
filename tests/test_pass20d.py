"""Issue 13, pass 20d: a confirmation pass over items 5-8 after pass 20b's fixes (main 8591b78).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from juniper_rollout.urls import redact, strip_userinfo
from tests.demofleet import CANARY
from tests.helpers import rollout, sync_a_new_entry_at
from tests.test_pass11b import _one_repo_with_a_template

TOKEN = "Zq20dTokAbCdEfGh42xy"  # no known prefix: only the URL's shape tells it is a credential

# --- 13.7: git's `<transport>::<address>`, spelled as git reads it ----------------------------------------

SPELLED = [
    f"1::https://x-access-token:{TOKEN}@127.0.0.1:1/o/r.git",  # git's is_urlschemechar: a digit first
    f"0x::https://{TOKEN}@127.0.0.1:1/o/r.git",
    f"  https::https://x-access-token:{TOKEN}@127.0.0.1:1/o/r.git",  # blanks Python's urlsplit drops
]
SPELLED_IDS = ["digit", "digit-user", "leading-blanks"]


@pytest.mark.parametrize("url", SPELLED, ids=SPELLED_IDS)
def test_a_transport_starting_with_a_digit_or_a_blank_is_read_through_its_address(url):
    """`_transport` took a transport to start with a letter (git takes a digit too) and to start the
    text (urlsplit drops leading blanks first, then reads ` https` as the scheme and no host): no
    reading saw the credential (pass 20d, 13.7)."""
    assert TOKEN not in strip_userinfo(url)
    assert TOKEN not in redact(f"git clone {url} failed", url)


@pytest.mark.parametrize("url", SPELLED, ids=SPELLED_IDS)
def test_a_manifest_url_with_such_a_transport_is_refused(fleet, tmp_path, monkeypatch, url):
    """Taken by the manifest, sync printed it whole: "git clone 1::https://x-access-token:TOKEN@…
    failed: fatal: transport '1' not allowed" (pass 20d, 13.7)."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https")
    result = sync_a_new_entry_at(fleet, tmp_path, url)
    assert result.code == 1
    assert "newrepo.url holds credentials" in result.stderr
    assert TOKEN not in result.stdout + result.stderr


# --- 13.6: the leak guard reads the default plaintext env files whatever the manifest defines -------------

NARROWED = {
    "include-dotenv-only": "  plaintext_env: {include: [.env]}\n",
    "exclude-local": "  plaintext_env: {exclude: ['*.local', '*.example']}\n",
}


@pytest.mark.parametrize("narrowing", NARROWED.values(), ids=NARROWED.keys())
@pytest.mark.parametrize("env_file", [".env.local", "backend/.env.local"])
def test_the_leak_guard_reads_default_env_files_a_narrowed_definition_leaves_out(
    tmp_path, narrowing, env_file
):
    """A manifest narrowing `defaults.plaintext_env` left `.env.local` (at the top, in a folder) unread
    by the leak guard: a template holding its token was printed in the plan's diff, and apply would
    commit it. Item 6: "whatever the manifest says" (pass 20d, 13.6; pass 20b's 6.5)."""
    value = f"{CANARY}-narrowed"
    manifest = _one_repo_with_a_template(tmp_path, b"", f"ops notes: {value}\n")
    manifest.write_text(manifest.read_text().replace("defaults:\n", "defaults:\n" + narrowing))
    victim = tmp_path / "ws" / "victim"
    (victim / env_file).parent.mkdir(exist_ok=True)
    (victim / env_file).write_text(f"API_TOKEN={value}\n")
    result = rollout("plan", "--manifest", manifest)  # the helper fails on the canary in the output
    assert result.code == 1, result.stdout
    assert f"of the plaintext {env_file}" in result.stdout, result.stdout


def test_a_narrowed_definition_still_plans_without_such_a_value(tmp_path):
    """Control: the same narrowed manifest, `.env.local` holding a value no template prints."""
    manifest = _one_repo_with_a_template(tmp_path, b"", "ops notes\n")
    manifest.write_text(
        manifest.read_text().replace("defaults:\n", "defaults:\n" + NARROWED["include-dotenv-only"])
    )
    (tmp_path / "ws" / "victim" / ".env.local").write_text(f"API_TOKEN={CANARY}-narrowed\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr


# --- 13.5: verify runs no managed hook that starts a program or writes a file -----------------------------

SHIPPED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _templates_with(tmp_path: Path, change: str, loot: Path) -> Path:
    """A copy of the shipped templates whose first managed hook is changed by ``change``."""
    folder = tmp_path / "tpl"
    shutil.copytree(
        SHIPPED_TEMPLATES, folder, ignore=shutil.ignore_patterns("__pycache__", "__init__.py")
    )
    hooks = folder / "precommit-hooks.yaml.j2"
    text = hooks.read_text()
    if change == "system":
        text = text.replace(
            '  entry: "Plaintext env file staged',
            f'  entry: "sh -c \'env > {loot}; exit 1\'"\n  description: "',
            1,
        ).replace("  language: fail\n", "  language: system\n  pass_filenames: false\n", 1)
    else:
        text = text.replace("  language: fail\n", f"  language: fail\n  log_file: {loot}\n", 1)
    assert text != hooks.read_text()
    hooks.write_text(text)
    return folder


@pytest.mark.parametrize("change", ["system", "log_file"])
def test_verify_runs_no_managed_hook_that_starts_a_program_or_writes_a_file(
    fleet, tmp_path, change
):
    """verify ran the managed hooks as the manifest's templates render them, before anyone reviewed
    them: `language: system` ran any command as the user (the age key file at its usual path in
    reach), and pre-commit appends a failing `fail` hook's output (its `entry` text) to `log_file`,
    any path (`~/.bashrc`); verify even passed (pass 20d, 13.5; pass 20b's 5.8)."""
    loot = tmp_path / "loot"
    templates = _templates_with(tmp_path, change, loot)
    manifest = fleet.manifest
    manifest.write_text(
        manifest.read_text().replace("workspace:", f"templates: {templates}\nworkspace:", 1)
    )
    applied = rollout("apply", "--manifest", manifest, "--yes", "--repo", "juniper-cascor")
    assert applied.code == 0, applied.stdout + applied.stderr
    result = rollout(
        "verify", "--manifest", manifest, "--repo", "juniper-cascor",
        "--ref", "chore/sops-age-rollout", "--json",
    )  # fmt: skip
    assert not loot.exists()
    checks = {c["name"]: c for r in json.loads(result.stdout)["repos"] for c in r["checks"]}
    hook = checks["precommit-hook"]
    assert not hook["ok"], hook
    assert "the managed hook forbid-plaintext-env" in hook["detail"], hook
    assert "nothing run" in hook["detail"], hook


# --- 13.7: a query-string token of a URL the user's git config rewrites a clone's URL into ---------------

REWRITTEN = f"https://127.0.0.1:1/o/r.git?access_token={TOKEN}"
ASKED = "https://git.example.invalid/o/r.git"


def _rewritten_by_the_users_config(monkeypatch) -> None:
    """The user's git config (here its environment form, as `git -c` or CI sets it) sends ``ASKED`` to
    ``REWRITTEN`` (`url.<URL>.insteadOf`: a CI runner's way to give every clone its token)."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https")
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{REWRITTEN}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", ASKED)


def test_syncs_failed_clone_never_repeats_a_token_the_users_config_rewrote_into_the_url(
    fleet, tmp_path, monkeypatch
):
    """git names the rewritten URL, query string and all, in "unable to access '…'"; sync printed it
    (the existing clone's fetch redacted it: its origin's config is read, and there was no clone yet
    here) (pass 20d, 13.7)."""
    _rewritten_by_the_users_config(monkeypatch)
    manifest = tmp_path / "helper.yaml"
    manifest.write_text(
        fleet.manifest.read_text().replace(
            "  - name: juniper-ml", f"  - name: newrepo\n    url: {ASKED}\n  - name: juniper-ml"
        )
    )
    result = rollout("sync", "-m", manifest, "--repo", "newrepo")
    assert result.code == 1
    assert "unable to access" in result.stdout, result.stdout
    assert TOKEN not in result.stdout + result.stderr


def test_bootstraps_failed_clone_never_repeats_a_token_the_users_config_rewrote_into_the_url(
    fleet, monkeypatch
):
    """Control: bootstrap's clone held (its error line goes through the CLI's error redaction, which
    hides any `NAME=value`); sync's line is a repo's outcome, printed as it is."""
    _rewritten_by_the_users_config(monkeypatch)
    result = rollout(
        "bootstrap", "--yes", "newrepo", "--manifest", fleet.manifest, "--url", ASKED
    )  # fmt: skip
    assert result.code == 1
    assert "unable to access" in result.stderr, result.stderr
    assert TOKEN not in result.stdout + result.stderr


# --- 13.7: a URL typed without its `://`, or with no host before its path ---------------------------------

MISTYPED = [
    f"https:/x-access-token:{TOKEN}@127.0.0.1:1/o/r.git",  # one slash
    f"https//x-access-token:{TOKEN}@github.com/o/r.git",  # no colon
    f"//x-access-token:{TOKEN}@127.0.0.1:1/o/r.git",  # no scheme
    f"https:/{TOKEN}@127.0.0.1:1/o/r.git",  # the token as the user name
    f"https:///x-access-token:{TOKEN}@intranet/o/r.git",  # three slashes: curl's host is `intranet`
]
MISTYPED_IDS = ["one-slash", "no-colon", "no-scheme", "user", "three-slashes"]


@pytest.mark.parametrize("url", MISTYPED, ids=MISTYPED_IDS)
def test_a_mistyped_url_holding_a_credential_is_stripped_and_redacted(url):
    """No reading found user-info in a URL without `://` but for scp's `user:password@host:path`, nor
    in `https:///x:TOKEN@host/…` whose host has no dot (pass 20d, 13.7)."""
    assert TOKEN not in strip_userinfo(url)
    assert TOKEN not in redact(f"git clone {url} failed: unable to access '{url}/'", url)


@pytest.mark.parametrize("url", MISTYPED, ids=MISTYPED_IDS)
def test_a_manifest_url_mistyped_with_a_credential_is_refused(fleet, tmp_path, monkeypatch, url):
    """The manifest took it and sync printed it whole in "git clone … failed" (git read a path or an
    ssh host `https`; for three slashes curl used it, and git repeated it in "unable to access '…'")
    (pass 20d, 13.7)."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https:ssh")
    monkeypatch.setenv("GIT_SSH_COMMAND", "false")
    result = sync_a_new_entry_at(fleet, tmp_path, url)
    assert result.code == 1
    assert "newrepo.url holds credentials" in result.stderr, result.stdout + result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_a_mistyped_forge_api_url_holding_a_credential_is_never_printed(fleet):
    """`forge.api_url: https:/x:TOKEN@…` passed the credential check and was quoted whole in "is not an
    http(s) URL" (pass 20d, 13.7)."""
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(
        text.replace(
            "\ndefaults:",
            f"\nforge:\n  api_url: 'https:/x:{TOKEN}@ghe.example/api/v3'\ndefaults:",
            1,
        )
    )
    result = rollout("plan", "--manifest", fleet.manifest)
    assert result.code == 1
    assert "forge.api_url holds credentials" in result.stderr, result.stderr
    assert TOKEN not in result.stdout + result.stderr


# --- 13.5: a manifest `url:` that is a command ----------------------------------------------------------


@pytest.mark.parametrize("form", ["ext::sh -c touch% {loot}", "ext://sh -c touch% {loot}"])
def test_a_manifest_url_in_gits_ext_transport_is_refused_before_sync_runs_it(
    fleet, tmp_path, monkeypatch, form
):
    """git's `ext::` remote helper runs its address as a command. Where the user's config allows it
    (`protocol.allow = always`, set for submodules over file://), `rollout sync` ran the command a
    manifest entry gave, in the user's session (bootstrap refused such a URL already) (pass 20d, 13.5)."""
    loot = tmp_path / "loot"
    monkeypatch.delenv("GIT_ALLOW_PROTOCOL")  # the user's config decides, as outside the tests
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", "protocol.allow")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", "always")
    manifest = tmp_path / "helper.yaml"
    url = form.format(loot=loot)
    manifest.write_text(
        fleet.manifest.read_text().replace(
            "  - name: juniper-ml", f"  - name: newrepo\n    url: '{url}'\n  - name: juniper-ml"
        )
    )
    result = rollout("sync", "-m", manifest, "--repo", "newrepo")
    assert not loot.exists()
    assert result.code == 1
    assert "newrepo.url uses git's ext transport" in result.stderr, result.stdout + result.stderr
