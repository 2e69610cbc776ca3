"""Issue 13, pass 16c: an adversarial pass over the lead's round-six code (b2769a5, 120a599, e6c7f44,
7e03f3a, a045380). Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.demofleet import make_repo
from tests.helpers import git, rollout

TOKEN = "SECRETstored9c4e"  # the bootstrap URL's credential
GITHUB_TOKEN = (
    "ghp_" + "Q7vK2mX9pL4rT8wZ1nB6cH3jF5gD0sA7eY2u"
)  # a token given as the user name alone


# --- 13.7: bootstrap's credentialed clone and the user's git credential helper ---------------------


def _git_http_server(root: Path, user: str, password: str) -> ThreadingHTTPServer:
    """git's smart HTTP (git http-backend) behind Basic auth: a clone with the right credential works."""
    wanted = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            if self.headers.get("Authorization") != wanted:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="git"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path, _, query = self.path.partition("?")
            size = int(self.headers.get("Content-Length") or 0)
            env = {
                **os.environ,
                "GIT_PROJECT_ROOT": str(root),
                "GIT_HTTP_EXPORT_ALL": "1",
                "PATH_INFO": path,
                "QUERY_STRING": query,
                "REQUEST_METHOD": self.command,
                "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                "REMOTE_USER": user,
            }
            if self.headers.get("Content-Encoding"):
                env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
            body = self.rfile.read(size) if size else b""
            out = subprocess.run(
                ["git", "http-backend"], input=body, env=env, capture_output=True, check=False
            ).stdout
            head, _, rest = out.partition(b"\r\n\r\n")
            status, headers = 200, []
            for line in head.decode().split("\r\n"):
                key, _, value = line.partition(":")
                if key.lower() == "status":
                    status = int(value.split()[0])
                elif key:
                    headers.append((key, value.strip()))
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(rest)))
            self.end_headers()
            self.wfile.write(rest)

        do_POST = do_GET

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.parametrize(
    "section", ["credential", 'credential "http://127.0.0.1:{port}"', "git -c credential.helper"]
)
def test_a_credentialed_clone_is_never_handed_to_the_users_credential_helper(
    fleet, tmp_path, monkeypatch, section
):
    """git hands a URL's credential that worked to the user's credential helpers (`credential.helper
    = store` writes it to ~/.git-credentials in plain text; `cache`, the OS keychain keep it): the
    token bootstrap was given for one clone outlived it, written where the tool said it never is."""
    root = tmp_path / "srv"
    make_repo(tmp_path / "seed", {"README.md": "# canopy\n"})
    git(root.parent, "clone", "-q", "--bare", str(tmp_path / "seed"), str(root / "canopy.git"))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "http")
    server = _git_http_server(root, "x-access-token", TOKEN)
    port = server.server_address[1]
    stored = tmp_path / "git-credentials"  # the user's helper, global or for that host only
    config = Path(os.environ["GIT_CONFIG_GLOBAL"])
    section = section.format(port=port)
    if section.startswith("git -c"):  # the tool run from a git alias: `git -c credential.helper=…`
        monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'credential.helper'='store --file {stored}'")
    else:
        config.write_text(config.read_text() + f"[{section}]\n\thelper = store --file {stored}\n")
    try:
        result = rollout(
            "bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest,
            "--url", f"http://x-access-token:{TOKEN}@127.0.0.1:{port}/canopy.git",
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert "cloned http://127.0.0.1" in result.stdout + result.stderr, result.stdout + result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert not stored.exists() or TOKEN not in stored.read_text(), "the token was stored"
    assert TOKEN not in fleet.manifest.read_text()
    clone = next(p for p in fleet.manifest.parent.rglob("juniper-canopy") if (p / ".git").is_dir())
    for path in clone.rglob("*"):
        assert not path.is_file() or TOKEN.encode() not in path.read_bytes(), path


def test_a_refused_credential_erases_nothing_the_user_stored(fleet, tmp_path, monkeypatch):
    """git erases a refused URL credential from the user's helpers: `store` dropped the user's own
    working login for that host (same user name) when bootstrap's token was wrong or expired."""
    root = tmp_path / "srv"
    make_repo(tmp_path / "seed", {"README.md": "# canopy\n"})
    git(root.parent, "clone", "-q", "--bare", str(tmp_path / "seed"), str(root / "canopy.git"))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "http")
    server = _git_http_server(root, "x-access-token", "users-own-login-1")
    port = server.server_address[1]
    stored = tmp_path / "git-credentials"
    stored.write_text(f"http://x-access-token:users-own-login-1@127.0.0.1%3a{port}\n")
    before = stored.read_text()
    config = Path(os.environ["GIT_CONFIG_GLOBAL"])
    config.write_text(config.read_text() + f"[credential]\n\thelper = store --file {stored}\n")
    try:
        result = rollout(
            "bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest,
            "--url", f"http://x-access-token:{TOKEN}@127.0.0.1:{port}/canopy.git",
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert result.code == 1 and "git clone http://127.0.0.1" in result.stderr, result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert stored.read_text() == before


# --- 13.6: the leak guard's wider names (may_be_secret) and the repo's own committed text -----------


@pytest.mark.parametrize(
    ("field", "description", "line"),
    [
        ("token_store", "Where issued tokens are kept: database or memory", "TOKEN_STORE=database"),
        (
            "secrets_backend",
            "Secrets come from the environment or keyvault",
            "SECRETS_BACKEND=keyvault",
        ),
        ("credentials_provider", "instance or profile", "CREDENTIALS_PROVIDER=instance"),
    ],
)
def test_a_word_the_codes_own_description_shows_is_no_leak(tmp_path, field, description, line):
    """120a599 checks a word of letters under any name holding a secret word (`TOKEN_STORE`): the
    `.env.example` shows each field's description from the committed code, so an ordinary repo whose
    `.env` picks an option its description names was refused on its first plan."""
    from tests.test_discover_plan import KEY

    code = (
        "from pydantic import Field\nfrom pydantic_settings import BaseSettings\n\n\n"
        f"class Settings(BaseSettings):\n    {field}: str = Field('memory', description='{description}')\n"
    )
    make_repo(tmp_path / "ws" / "app", {"README.md": "x\n", "app/settings.py": code})
    (tmp_path / "ws" / "app" / ".env").write_text(f"{line}\n")
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\n"
        "repos:\n  - name: app\n    env_example: {from: code}\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout
    assert f"# {description}" in result.stdout  # the description is what the diff shows


WORD = "Correcthorse"  # 12 letters: below the length at which any value of letters is checked


@pytest.mark.parametrize(
    "line",
    [
        f'GITLAB_HEADERS="PRIVATE-TOKEN: {WORD}"',
        f'EXTRA_HEADERS="X-Api-Key: {WORD}"',
        f'EXTRA_HEADERS="X-Auth-Token: {WORD}"',
        f'ES_HEADERS="Authorization: ApiKey {WORD}"',
        f'OKTA_HEADER="Authorization: SSWS {WORD}"',
        f'UPSTREAM_AUTH="Authorization: {WORD}"',
        f'HEADERS={{"X-Api-Key": "{WORD}"}}',
        f'DB_CONFIG={{"user": "app", "password": "{WORD}"}}',
        f'AUTH_HEADER="Authorization: Basic {base64.b64encode(f"app:{WORD}".encode()).decode().rstrip("=")}"',
        f'MYSQL_CMD="mysql -h db -p{WORD} appdb"',
        f'BACKUP_CMD="mysqldump -p{WORD} --all-databases"',
    ],
    ids=[
        "gitlab-private-token", "x-api-key", "x-auth-token", "authorization-apikey",
        "authorization-ssws", "authorization-bare", "json-header", "json-password",
        "basic-unpadded", "mysql-no-user", "mysqldump-no-user",
    ],
)  # fmt: skip
def test_a_credential_beside_round_six_shapes_is_checked(tmp_path, line):
    """Near shapes of 120a599's: a header under a secret name, an Authorization scheme other than
    Basic/Bearer/Token (or none), a JSON member named `password`, Basic without its `=` padding,
    and mysql's `-pX` where the command names mysql but no user. A 12-letter password there was
    printed through a template holding it."""
    from tests.leakshapes import refused

    refused(tmp_path, line, WORD)


@pytest.mark.parametrize(
    "line",
    [
        f'LOG_FORMAT="%(asctime)s level: {WORD}"',
        f'SERVICE_URL="https://api.example.com/{WORD}"',
        f'PYTEST_ADDOPTS="-p{WORD} --maxfail=1"',
        f'DOCS_NOTE="Authorization required: {WORD}s"',
        f'SETTINGS={{"region": "{WORD}"}}',
    ],
)
def test_ordinary_words_beside_the_new_shapes_are_no_finding(tmp_path, line):
    from tests.leakshapes import no_finding

    no_finding(tmp_path, line, f"notes: {WORD}\n")


@pytest.mark.parametrize("where", ["GIT_ASKPASS", "SSH_ASKPASS", "core.askPass"])
def test_a_token_as_the_user_name_is_never_shown_to_an_askpass_program(
    fleet, tmp_path, monkeypatch, where
):
    """`https://TOKEN@host/…` (a token as the user name alone) refused by the server: git asked the
    user's askpass program "Password for 'http://TOKEN@host'", token on its command line and in the
    dialog it shows (VS Code's terminal sets GIT_ASKPASS), although prompts are off."""
    root = tmp_path / "srv"
    make_repo(tmp_path / "seed", {"README.md": "# canopy\n"})
    git(root.parent, "clone", "-q", "--bare", str(tmp_path / "seed"), str(root / "canopy.git"))
    asked = tmp_path / "asked.log"
    askpass = tmp_path / "askpass.sh"
    askpass.write_text(f'#!/bin/sh\necho "$*" >> {asked}\nexit 1\n')
    askpass.chmod(0o755)
    if where == "core.askPass":
        config = Path(os.environ["GIT_CONFIG_GLOBAL"])
        config.write_text(config.read_text() + f"[core]\n\taskPass = {askpass}\n")
    else:
        monkeypatch.setenv(where, str(askpass))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "http")
    server = _git_http_server(root, "x-access-token", "the-right-one")
    port = server.server_address[1]
    try:
        result = rollout(
            "bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest,
            "--url", f"http://{GITHUB_TOKEN}@127.0.0.1:{port}/canopy.git",
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert result.code == 1 and "git clone http://127.0.0.1" in result.stderr, result.stderr
    assert GITHUB_TOKEN not in result.stdout + result.stderr
    assert not asked.exists() or GITHUB_TOKEN not in asked.read_text(), asked.read_text()


@pytest.mark.parametrize("token", ["SECRETline\nbroken9", "SECRETtab\tbed9x"])
def test_a_token_holding_whitespace_is_redacted_from_gits_message(fleet, monkeypatch, token):
    """git names the environment's config key whole when it refuses it ("invalid key (newline):
    url.http://x-access-token:TOKEN@….insteadOf"), newline and all, while urllib (what the redaction
    reads the token with) drops a newline or tab from a URL: the token was printed. Refused first."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "http")
    result = rollout(
        "bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest,
        "--url", f"http://x-access-token:{token}@127.0.0.1:9/canopy.git",
    )  # fmt: skip
    assert result.code == 1 and "git clone http://127.0.0.1:9/canopy.git" in result.stderr
    assert "the URL holds a control character" in result.stderr, result.stderr
    for piece in token.split():
        assert piece not in result.stdout + result.stderr, result.stderr


@pytest.mark.parametrize("name", ["KMS_KEY_REGION", "SECRETS_REGION"])
def test_the_region_a_key_or_secret_lives_in_may_carry_its_default(tmp_path, name):
    """120a599 made REGION a qualifier of a secret name, as EU and US are: `KMS_KEY_REGION` and
    `SECRETS_REGION` (where AWS KMS or Secrets Manager is asked: no secret) then looked secret, so a
    manifest giving their example default `us-east-1` was refused, and discovery hid the code's."""
    from tests.test_discover_plan import KEY

    code = (
        "from pydantic_settings import BaseSettings\n\n\n"
        f"class Settings(BaseSettings):\n    {name.lower()}: str = 'eu-west-1'\n"
    )
    make_repo(tmp_path / "ws" / "app", {"README.md": "x\n", "app/settings.py": code})
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n"
        "  - name: app\n    env_example: {from: code}\n"
        "  - name: other\n"
        f"    env_example: {{groups: [{{title: AWS, vars: [{{{name}: us-east-1}}]}}]}}\n"
    )
    make_repo(tmp_path / "ws" / "other", {"README.md": "x\n"})
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr
    assert f"# {name}=eu-west-1" in result.stdout and f"{name}=us-east-1" in result.stdout


def test_a_secret_qualified_by_region_words_is_still_checked(tmp_path):
    """REGION as the last word is where a key lives; the words before a password still make it one."""
    from juniper_rollout.secretshape import looks_secret, may_be_secret

    assert not looks_secret("KMS_KEY_REGION") and not looks_secret("SECRETS_REGION")
    for name in ("DB_PASSWORD_EU", "API_TOKEN_US_EAST_1", "DB_PASSWORD_REGION_EU"):
        assert may_be_secret(name), name
    assert looks_secret("DB_PASSWORD_EU") and looks_secret("API_TOKEN_US_EAST_1")


def test_a_login_name_alone_still_gets_its_password_from_the_users_helper(
    fleet, tmp_path, monkeypatch
):
    """`https://jane@bitbucket.org/team/repo.git` (Bitbucket's own clone URL) names a login, not a
    credential: its password comes from the user's credential helper, as it did before the helpers
    were emptied for a URL holding a credential."""
    root = tmp_path / "srv"
    make_repo(tmp_path / "seed", {"README.md": "# canopy\n"})
    git(root.parent, "clone", "-q", "--bare", str(tmp_path / "seed"), str(root / "canopy.git"))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "http")
    server = _git_http_server(root, "jane", "janes-app-password")
    port = server.server_address[1]
    stored = tmp_path / "git-credentials"
    stored.write_text(f"http://jane:janes-app-password@127.0.0.1%3a{port}\n")
    config = Path(os.environ["GIT_CONFIG_GLOBAL"])
    config.write_text(config.read_text() + f"[credential]\n\thelper = store --file {stored}\n")
    try:
        result = rollout(
            "bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest,
            "--url", f"http://jane@127.0.0.1:{port}/canopy.git",
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert "cloned http://127.0.0.1" in result.stdout + result.stderr, result.stdout + result.stderr
