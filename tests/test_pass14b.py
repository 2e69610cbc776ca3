"""Issue 13, pass 14b: the confirmation pass over items 5-9 and the smaller list, after round four
(main 784a9d4).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from tests.helpers import git, rollout
from tests.test_pass11b import _one_repo_with_a_template

# --- smaller list: more files git keeps under .git and reads as refs --------------------------------


@pytest.mark.parametrize(
    "branch",
    ["info/refs", "modules/sub/HEAD", "lost-found/commit/x"],
)
def test_a_branch_git_reads_as_a_file_under_info_modules_or_lost_found_is_refused(fleet, branch):
    """git's DWIM reads `$GIT_DIR/NAME` before refs/heads/NAME: `.git/info/refs` (written by `git gc`'s
    repack in every clone: `oid<TAB>refname` lines), a submodule's git dir `.git/modules/NAME/HEAD`
    (its HEAD, refs and logs), `git fsck --lost-found`'s `.git/lost-found/commit/OID` (an object id):
    `git rev-parse info/refs` said "ambiguous" and gave another commit (measured with git 2.39; pass
    14b, smaller list)."""
    text = fleet.manifest.read_text()
    assert "branch: chore/sops-age-rollout" in text
    fleet.manifest.write_text(
        text.replace("branch: chore/sops-age-rollout", f"branch: {branch}", 1)
    )
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert "git's own file of that name" in result.stderr, result.stderr
    assert ":11:" in result.stderr
    assert result.stderr.count("\n") == 1
    fleet.manifest.write_text(
        text.replace("branch: chore/sops-age-rollout", "branch: chore/info", 1)
    )
    assert rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml").code == 0


# --- 13.8/13.9: a credential committed as a YAML/JSON key that no identifier can spell -------------------

GITLAB = "glpat-" + "Zq14bTok8aB3dE5fG7hJ"  # a GitLab token's shape: a `-`, so no dotenv name
DSN = "postgres://app:Zq14bHorsebattery@db/app"  # a password in a URL, letters only
HOOK = "https://hooks.example.com/in?token=Horsebatterystaple"  # a token in a query, letters


def _sops_yaml_keyed_by(recipient: str, fmt: str, name: str) -> bytes:
    from juniper_rollout import sops

    data = (
        json.dumps({"svc": {name: "x"}, "HF_TOKEN": "a"})
        if fmt == "json"
        else f"svc:\n  {json.dumps(name)}: x\nHF_TOKEN: a\n"
    )
    return subprocess.run(
        [
            sops.sops_path(),
            "encrypt",
            "--age",
            recipient,
            "--input-type",
            fmt,
            "--output-type",
            fmt,
            "/dev/stdin",
        ],
        input=data.encode(),
        capture_output=True,
        check=True,
        env={"SOPS_DISABLE_VERSION_CHECK": "1", "PATH": ""},
    ).stdout


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize(
    "name",
    [GITLAB, DSN, HOOK, "ghp_Zq14bToken8aB3dE5fG7hJ9kL1mN3pQ5rS7tU"],
    ids=["gitlab-token", "url-password", "url-query-token", "control"],
)
def test_drift_finds_a_credential_keying_a_yaml_or_json_sops_file(fleet, tmp_path, fmt, name):
    """A YAML or JSON key may hold any text: a GitLab token (`glpat-…`), an OpenAI key (`sk-proj-…`), a
    Slack token, a URL with its password: sops keeps it in clear, and drift asked only the identifier
    shapes of a dotenv name (pass 13b's fix), so "0 findings" (pass 14b, 13.8/13.9). Never echoed."""
    from juniper_rollout import keys
    from tests.test_pass3 import commit_on

    repo = fleet.repo("juniper-data")
    recipient = keys.public_keys_in(fleet.key_file)[0]
    held = _sops_yaml_keyed_by(recipient, fmt, name).decode()
    assert name in held  # sops kept the key in clear: the attack is real
    added = commit_on(repo, "main", {"svc/.env.enc": held}, tmp_path, "add svc secrets")
    git(repo, "update-ref", "refs/heads/held", added)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-data")
    tracked = rollout("drift", *only, "--ref", "held", "--format", "json")
    found = [
        f
        for r in json.loads(tracked.stdout)["repos"]
        for f in r["findings"]
        if f["path"] == "svc/.env.enc"
    ]
    assert found and "holds a name shaped like a credential" in found[0]["message"], tracked.stdout
    assert "Zq14b" not in tracked.stdout + tracked.stderr
    assert "Horsebattery" not in tracked.stdout + tracked.stderr


# --- 13.6: pieces of a value the leak guard did not split ----------------------------------------------


@pytest.mark.parametrize(
    ("line", "part"),
    [
        ("BASIC_AUTH=admin:Zq14bhorsebattery", "Zq14bhorsebattery"),
        ('MSSQL="Server=db;Password={Zq14bhorse;battery}"', "Zq14bhorse;battery"),
        ('MSSQL="Server=db;Password={Zq14bhorsebattery}"', "Zq14bhorsebattery"),
        ("JAVA_OPTS=-Djavax.net.ssl.keyStorePassword=Zq14bhorsebattery", "Zq14bhorsebattery"),
        ('MYSQL_ARGS="--user=app --password=Zq14bhorsebattery"', "Zq14bhorsebattery"),
    ],
    ids=["user-colon", "odbc-braced-semicolon", "odbc-braced", "java-property", "cli-flag"],
)
def test_more_pieces_of_a_value_are_checked(tmp_path, line, part):
    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"secret: {part}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout
    assert part not in result.stdout + result.stderr


# --- 13.6: a password of letters under a role-qualified or camelCase secret name ------------------------


@pytest.mark.parametrize(
    "name",
    [
        "DB_PASSWORD_REPLICA",
        "DB_PASSWORD_READONLY",
        "MYSQL_PASSWORD_ROOT",
        "SECRET_KEY_FALLBACKS",
        "dbPassword",
        "keyStorePassword",
    ],
)
def test_a_password_of_letters_under_a_role_qualified_or_camel_case_name_is_checked(tmp_path, name):
    """Round four's qualified names were numbers, versions and stages: a role (`_REPLICA`, `_READONLY`,
    `_ROOT`), Django's `SECRET_KEY_FALLBACKS` and camelCase (`dbPassword`) were no secret names, so a
    password of 8-15 letters under one was never checked and a template holding it was printed (pass
    14b, 13.6)."""
    manifest = _one_repo_with_a_template(
        tmp_path, f"{name}=Correcthorse\n".encode(), "secret: Correcthorse\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout
    assert "Correcthorse" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "name",
    [
        "passwordMinLength",
        "tokenExpiry",
        "KeyboardLayout",
        "DB_PASSWORD_FILE",
        "TOKEN_AUDIENCE",
        "ROOT_PATH",
    ],
)
def test_a_camel_case_or_qualified_name_of_no_secret_still_looks_no_secret(name):
    from juniper_rollout.secretshape import looks_secret

    assert not looks_secret(name)


# --- 13.9: a removed note stored under git's deeper fan-out -------------------------------------------


@pytest.mark.parametrize("levels", [2, 3])
def test_drift_finds_a_removed_note_stored_under_a_deeper_fan_out(fleet, levels):
    """git stores notes under `ab/cd/…` (two levels) once a notes tree grows past ~65,000 notes, and reads
    any depth of two-character folders (`git notes show` read a note at `ab/cd/<36 hex>`): round four's
    history walk asked `<40 hex>` and `ab/<38 hex>` only, so such a note, removed with `git notes
    remove`, left "0 findings" (pass 14b, 13.9)."""
    repo = fleet.repo("juniper-cascor")
    commit = git(repo, "rev-parse", "main").strip()
    env = "HF_TOKEN=Zq14bfanout-value-7d2e1c\n"
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=repo,
        input=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    cut = 2 * levels
    entry = f"100644 blob {blob}\t{commit[cut:]}\n"
    for i in reversed(range(levels)):
        tree = subprocess.run(
            ["git", "mktree"], cwd=repo, input=entry, capture_output=True, text=True, check=True
        ).stdout.strip()
        entry = f"040000 tree {tree}\t{commit[2 * i : 2 * i + 2]}\n"
    top = subprocess.run(
        ["git", "mktree"], cwd=repo, input=entry, capture_output=True, text=True, check=True
    )
    notes = git(
        repo, "commit-tree", "-m", "Notes added by 'git notes add'", top.stdout.strip()
    ).strip()
    git(repo, "update-ref", "refs/notes/commits", notes)
    assert "Zq14bfanout" in git(repo, "notes", "show", "main")  # git reads it: the note is real
    git(repo, "notes", "remove", "main")
    result = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--format", "json"
    )
    found = [f for r in json.loads(result.stdout)["repos"] for f in r["findings"]]
    assert [f["path"] for f in found] == ["refs/notes/commits"], found
    assert "the history of refs/notes/commits holds a note" in found[0]["message"]
    assert "Zq14bfanout" not in result.stdout


# --- 13.7: a URL whose host was forgotten: the token after the ':' read as a port -------------------------

HOSTLESS = "https://x-access-token:ghp_Zq14bHostless8aB3dE5fG7hJ9kL1mN3pQ5"


def test_a_token_after_the_colon_of_a_url_without_a_host_is_never_printed_nor_stored(
    fleet, monkeypatch
):
    """`--url "https://x-access-token:$TOKEN"` (the host forgotten or cut off): with no `@`, the token is
    read as a port, so nothing was stripped: bootstrap (even --dry-run) printed "git clone
    https://x-access-token:ghp_… failed", git's "unable to access '…ghp_…'" repeated it, a manifest
    `url:` of that shape was accepted and sync printed it (pass 14b, 13.7)."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-ml")
    before = fleet.manifest.read_bytes()
    for result in (
        rollout(
            "bootstrap", "newone", "--manifest", fleet.manifest, "--url", HOSTLESS, "--dry-run"
        ),
        rollout(
            "bootstrap",
            "newone",
            "--manifest",
            fleet.manifest,
            "--url",
            HOSTLESS + "/o/r.git",
            "--yes",
        ),
    ):
        assert result.code == 1, result.stdout
        assert "Zq14bHostless" not in result.stdout + result.stderr, result.stdout + result.stderr
        assert result.stderr.count("\n") == 1
    assert fleet.manifest.read_bytes() == before
    git(fleet.repo("juniper-ml"), "remote", "add", "origin", HOSTLESS)
    synced = rollout("sync", *only)
    assert "Zq14bHostless" not in synced.stdout + synced.stderr
    # a manifest url: of that shape is refused with its line, never echoed
    fleet.manifest.write_text(
        re.sub(
            r"(  - name: juniper-ml[^\n]*\n)", rf"\1    url: {HOSTLESS}\n", before.decode(), count=1
        )
    )
    refused = rollout("plan", *only)
    assert refused.code == 1
    assert "holds credentials" in refused.stderr, refused.stderr
    assert "Zq14bHostless" not in refused.stdout + refused.stderr


def test_a_malformed_url_with_a_dotted_host_is_not_taken_for_credentials():
    from juniper_rollout.urls import redact, strip_userinfo

    for url in ("https://github.com:org/r.git", "https://gitserver:8080/x", "ssh://git@h:22/x"):
        assert strip_userinfo(url) == url
        assert redact(f"cannot reach {url}", url) == f"cannot reach {url}"


@pytest.mark.parametrize(
    "api",
    [
        "https://x-access-token:Zq14bApiToken8aB3dE5/api/v3",
        "https://u:Zq14bApiToken8aB3dE5@api.example.invalid:x/",
    ],
    ids=["host-left-out", "port-no-number"],
)
def test_a_github_api_url_the_http_client_refuses_is_one_line(fleet, monkeypatch, api):
    """`GITHUB_API_URL` whose port is no number (the host left out: the token after the ':'): httpx's
    "Invalid port: '…'" was a traceback quoting the token, in pr and status (pass 14b, 13.7/13.11)."""
    monkeypatch.setenv("GITHUB_TOKEN", "dummy-token-for-the-test")
    monkeypatch.setenv("GITHUB_API_URL", api)
    for command in ("pr", "status"):
        result = rollout(command, "--manifest", fleet.manifest, "--repo", "juniper-ml")
        assert result.code == 1, result.stdout
        said = result.stdout + result.stderr
        assert "Traceback" not in said and "Zq14bApi" not in said, said
        assert "is not a URL the HTTP client can read" in result.stderr
        assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("line", "part"),
    [
        ("ORACLE_DSN=app/Zq14bhorsebattery@db:1521/orclpdb1", "Zq14bhorsebattery"),
        ('ORACLE_CONNECT="scott/Zq14bhorsebattery@//db.example:1521/svc"', "Zq14bhorsebattery"),
    ],
    ids=["ezconnect", "ezconnect-slashes"],
)
def test_the_password_of_an_oracle_connect_string_is_checked(tmp_path, line, part):
    """python-oracledb's `user/password@host:port/service` (EZConnect, SQL*Plus) has no `://`: its password
    was no part, so a template holding it was printed (pass 14b, 13.6)."""
    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"secret: {part}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout
    assert part not in result.stdout + result.stderr


# --- 13.9: a value added by hand inside sops' own metadata block -----------------------------------------


def _real_sops(recipient: str, fmt: str) -> str:
    from juniper_rollout import sops

    data = {"yaml": "HF_TOKEN: a\n", "json": '{"HF_TOKEN": "a"}', "ini": "[app]\nHF_TOKEN=a\n"}[fmt]
    return subprocess.run(
        [
            sops.sops_path(),
            "encrypt",
            "--age",
            recipient,
            "--input-type",
            fmt,
            "--output-type",
            fmt,
            "/dev/stdin",
        ],
        input=data.encode(),
        capture_output=True,
        check=True,
        env={"SOPS_DISABLE_VERSION_CHECK": "1", "PATH": ""},
    ).stdout.decode()


@pytest.mark.parametrize("fmt", ["yaml", "json", "ini"])
def test_drift_finds_a_value_added_by_hand_inside_the_sops_metadata_block(fleet, tmp_path, fmt):
    """`sops:\\n    note: <a password>` (YAML), `"note": "…"` in JSON's `"sops"` object, `note = …` in INI's
    `[sops]` section: sops decrypts the file as before (its MAC covers the data, not the metadata) and the
    value sits in clear in git; drift skipped sops' block whole, where the dotenv check refuses a `sops_`
    line sops did not write (pass 14b, 13.9). Never echoed; sops' own output is no finding."""
    from juniper_rollout import keys, sopsmeta
    from tests.test_pass3 import commit_on

    repo = fleet.repo("juniper-data")
    recipient = keys.public_keys_in(fleet.key_file)[0]
    real = _real_sops(recipient, fmt)
    assert (
        sopsmeta.plaintext_value_line(real.encode()) is None
    )  # no false finding on sops' own output
    held = {
        "yaml": real.replace("sops:\n", "sops:\n    note: Zq14bhorsebattery\n", 1),
        "json": real.replace('"sops": {', '"sops": {\n\t\t"note": "Zq14bhorsebattery",', 1),
        "ini": real.replace("[sops]\n", "[sops]\nnote = Zq14bhorsebattery\n", 1),
    }[fmt]
    assert held != real
    added = commit_on(repo, "main", {"svc/.env.enc": held}, tmp_path, "add svc secrets")
    git(repo, "update-ref", "refs/heads/held", added)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-data")
    tracked = rollout("drift", *only, "--ref", "held", "--format", "json")
    found = [
        f
        for r in json.loads(tracked.stdout)["repos"]
        for f in r["findings"]
        if f["path"] == "svc/.env.enc"
    ]
    assert found and "holds a value sops did not encrypt" in found[0]["message"], tracked.stdout
    assert "Zq14b" not in tracked.stdout + tracked.stderr


# --- 13.9: verify reads a tracked plaintext env file in any letter case, as drift does -------------------


@pytest.mark.parametrize("path", [".ENV", "Prod.Env", "config/.Env.Local"])
def test_verify_finds_a_tracked_plaintext_env_file_in_another_letter_case(fleet, tmp_path, path):
    """A committed `.ENV` or `Prod.Env` is the `.env` / `prod.env` python-dotenv loads on macOS and Windows;
    drift said "tracked in git" (the tool's reads of a repo use the definition in any case), while `verify
    --ref` said "no plaintext env file tracked" and passed that check (pass 14b, 13.9)."""
    from tests.test_pass3 import commit_on

    repo = fleet.repo("juniper-data")
    added = commit_on(repo, "main", {path: "API_TOKEN=Zq14bcase-value-1\n"}, tmp_path, "add env")
    git(repo, "update-ref", "refs/heads/upper", added)
    result = rollout(
        "verify", "--manifest", fleet.manifest, "--repo", "juniper-data", "--ref", "upper"
    )
    assert result.code == 1, result.stdout
    assert f"{path} tracked in git at upper" in result.stdout, result.stdout
    assert "Zq14b" not in result.stdout + result.stderr
