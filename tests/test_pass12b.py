"""Issue 13, pass 12b: a third adversarial pass over items 5-9 and the smaller list, against main (3da00d8).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import shutil

import pytest

from tests.demofleet import CANARY
from tests.helpers import rollout
from tests.test_pass11b import _one_repo_with_a_template

# --- 13.6: parts of a value as the app reads them ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "part"),
    [
        # urllib (redis-py, httpx, requests) splits user-info at the LAST `@`: an unencoded `@` in a password
        (f"REDIS_URL=redis://:p@ss-{CANARY}@redis:6379/0", f"p@ss-{CANARY}"),
        (f"DATABASE_URL=postgres://app:Sum@r-{CANARY}@db:5432/app", f"Sum@r-{CANARY}"),
        # python-dotenv starts a binding after any whitespace, a form feed included
        (f'\x0cAPI_TOKEN="{CANARY}-ff" # note', f"{CANARY}-ff"),
        # a JSON member's number (pydantic-settings parses JSON): the app reads 48213579 on its own
        ('SIGNING_CONFIG={"key_id": "k1", "pin": 48213579}', "48213579"),
        # an OAuth redirect's token travels in the fragment (`#access_token=`)
        (
            f"OAUTH_CALLBACK=https://app.example.invalid/cb#access_token={CANARY}-frag&state=x",
            f"{CANARY}-frag",
        ),
    ],
    ids=[
        "redis-at-in-password",
        "pg-at-in-password",
        "form-feed",
        "json-number",
        "fragment-parameter",
    ],
)
def test_a_part_the_app_reads_is_checked_in_more_shapes(tmp_path, line, part):
    """urllib ends a URL's user-info at its last `@` (the guard took the password up to the first),
    python-dotenv reads a binding after a form feed, a JSON member's number is a value, and a
    fragment's first parameter is a parameter: a template holding that value was printed
    in the plan (pass 12b, 13.6)."""
    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"secret: {part}\n")
    result = rollout("plan", "--manifest", manifest)  # the helper fails on the canary in the output
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout


# --- 13.5/13.9: a `.sops.yaml` read as sops reads it ---------------------------------------------------


def test_drift_names_a_recipient_a_sops_yaml_gives_as_a_binary_value(tmp_path):
    """yaml.v3 reads `age: !!binary <base64>` as the text it encodes: sops encrypts to each recipient
    it names (measured with sops 3.11). Drift read no recipients there: it said the manifest's key was
    missing and never named the one added (pass 12b, 13.9)."""
    import base64

    from pyrage import x25519

    from juniper_rollout import agekey, audit
    from juniper_rollout.manifest import load_manifest
    from tests.test_core import KEY

    (tmp_path / "repos.yaml").write_text(
        f"version: 1\nworkspace: .\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n  - name: svc\n"
    )
    manifest = load_manifest(tmp_path / "repos.yaml")
    added = str(x25519.Identity.generate().to_public())
    encoded = base64.b64encode(f"{KEY},{added}".encode()).decode()
    config = f"creation_rules:\n  - path_regex: '.*'\n    age: !!binary {encoded}\n".encode()
    assert audit.sops_recipients(config) == {KEY, added}
    (finding,) = audit._recipients(manifest, config)
    assert f"extra {agekey.short(added)}" in finding.message and "missing" not in finding.message


# --- 13.6: a symlinked plaintext env file's values are values --------------------------------------


def test_a_template_holding_a_value_of_a_symlinked_env_file_is_never_rendered(tmp_path):
    """`.env.production -> /srv/secrets/prod.env` (a symlinked env file the repo does not encrypt) was
    skipped by the leak guard: a template hard-linked to the same file was printed in the plan
    (pass 12b, 13.6; pass 11b covered regular files only)."""
    import os

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "x\n")
    secret = tmp_path / "secrets" / "prod.env"
    secret.parent.mkdir()
    secret.write_text(f"API_TOKEN={CANARY}-sym\n")
    os.symlink(secret, tmp_path / "ws" / "victim" / ".env.production")
    (tmp_path / "tpl" / "notes.j2").unlink()
    # a copy: a hard link is refused before it is read (test_template_links)
    shutil.copyfile(secret, tmp_path / "tpl" / "notes.j2")
    result = rollout("plan", "--manifest", manifest)  # the helper fails on the canary in the output
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env.production" in result.stdout, result.stdout


@pytest.mark.parametrize(
    "line",
    [
        "DATABASE_URL=postgres://app:Correcthorse@db:5432/app",  # a password of 8-15 letters
        "SVC_URL=https://api.example.invalid/v1?api_key=Correcthorse&x=1",
    ],
    ids=["url-password-word", "query-api-key-word"],
)
def test_a_url_password_is_checked_whatever_the_variables_name(tmp_path, line):
    """A value of 8-15 letters is checked only under a secret-looking name, and `DATABASE_URL` is none:
    a template holding the URL's password `Correcthorse` (or an `?api_key=` of letters) was printed in
    the plan (pass 12b, 13.6)."""
    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), "secret: Correcthorse\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout
    assert "Correcthorse" not in result.stdout + result.stderr


# --- 13.9: a note holding a .env saved with a UTF-8 BOM ----------------------------------------------


def test_drift_finds_a_note_holding_a_dotenv_saved_with_a_bom(fleet, tmp_path):
    """Windows Notepad saves a `.env` with a UTF-8 BOM; `git notes add -F .env main` of it was
    "0 findings": the BOM made the first name no name (pass 12b, 13.9)."""
    import json

    from tests.helpers import git

    repo = fleet.repo("juniper-cascor")
    note = tmp_path / "note.env"
    note.write_bytes(b"\xef\xbb\xbfAPI_TOKEN=note-bom-value-3e7d1a\r\nDEBUG=0\r\n")
    git(repo, "notes", "add", "-F", str(note), "main")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor", "--format", "json")
    result = rollout("drift", *only)
    found = [f for r in json.loads(result.stdout)["repos"] for f in r["findings"]]
    assert [f["path"] for f in found] == ["refs/notes/commits"], found
    assert "note-bom" not in result.stdout


@pytest.mark.parametrize("name", ["MYSQL_PWD", "DB_PWD", "SMTP_PW"])
def test_a_password_of_letters_under_a_pwd_name_is_checked(tmp_path, name):
    """`MYSQL_PWD` is the mysql client's own password variable: a password of 8-15 letters under it (or
    `DB_PWD`, `SMTP_PW`) was no secret to the guard, and a template holding it was printed in the
    plan (pass 12b, 13.6)."""
    manifest = _one_repo_with_a_template(
        tmp_path, f"{name}=Correcthorse\n".encode(), "secret: Correcthorse\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout
    assert "Correcthorse" not in result.stdout + result.stderr


# --- 13.7: a password holding both an '@' and a '/' --------------------------------------------------

PASSWORD = "p@ssw0rd/SECRETatslash7"  # generated passwords hold symbols; git ends the host at '/'


def test_sync_and_push_never_print_a_password_holding_an_at_sign_and_a_slash(fleet, monkeypatch):
    """origin `https://u:p@ssw0rd/SECRET…@127.0.0.1:1/…`: git reads the host as `ssw0rd` and prints
    "unable to access 'https://ssw0rd/SECRET…@…'"; the redaction took the password as `p` (too short
    to redact) and sync and apply --push printed the rest of it (pass 12b, 13.7)."""
    from tests.helpers import git

    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https")
    repo = fleet.repo("juniper-ml")
    git(repo, "remote", "add", "origin", f"https://u:{PASSWORD}@127.0.0.1:1/o/r.git")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-ml")
    for result in (rollout("sync", *only), rollout("apply", *only, "--push", "--yes")):
        assert result.code == 1, result.stdout
        assert "SECRETatslash" not in result.stdout + result.stderr, result.stdout


# --- false refusal: a value the tool's own shipped templates spell out ----------------------------------


def test_a_dotenv_naming_the_usual_age_key_file_is_planned_not_refused(fleet):
    """`SOPS_AGE_KEY_FILE=~/.config/sops/age/keys.txt` in a `.env` (a common sops setup: a path, no
    secret) refused the repo: "template SOPS_USAGE_GUIDE.md.j2 holds the value on line 16 of the
    plaintext .env". Text the tool ships is public: a value found in it is no new leak (pass 12b)."""
    repo = fleet.repo("juniper-cascor")
    env = repo / ".env"
    env.write_bytes(env.read_bytes() + b"SOPS_AGE_KEY_FILE=~/.config/sops/age/keys.txt\n")
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert result.code == 0, result.stdout
    assert "holds the value" not in result.stdout
