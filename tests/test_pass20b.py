"""Issue 13, pass 20b: the second adversarial pass over items 5-8 (main 3079123).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from juniper_rollout.urls import redact, strip_userinfo
from tests.demofleet import make_repo
from tests.helpers import git, rollout, sync_a_new_entry_at
from tests.test_pass11b import _one_repo_with_a_template

# --- 13.5: git's own hooks and fsmonitor, pointed into the working tree --------------------------------

HOOKS = ("reference-transaction", "pre-push", "post-checkout", "pre-auto-gc", "post-commit")


def _thief(folder: Path, name: str, loot: Path) -> None:
    """An executable ``folder/name`` that copies its environment and the age key file into ``loot``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / name
    script.write_text(
        "#!/bin/sh\n"
        f"env > '{loot}.{name}'\n"
        f"cat \"$SOPS_AGE_KEY_FILE\" >> '{loot}.{name}' 2>/dev/null\n"
        "exit 0\n"
    )
    script.chmod(0o755)


def _stolen(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.glob("loot*"))


def _bare_origin(repo: Path, tmp_path: Path) -> Path:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    return origin


def test_apply_and_its_push_run_no_hook_of_the_checked_out_branch(fleet, tmp_path):
    """`git config core.hooksPath .githooks` (a team's tracked hooks; husky's `.husky/_`) makes the
    checked-out branch's files git's hooks. apply's `git update-ref` ran `reference-transaction` and
    `--push` ran `pre-push`, with the tool's environment: the hook copied the private age key from
    `$SOPS_AGE_KEY_FILE` (pass 20b, 13.5). The tool writes objects, never commits through git: its
    ref updates and pushes now run no hook either."""
    repo = fleet.repo("juniper-cascor")
    _bare_origin(repo, tmp_path)
    for name in HOOKS:
        _thief(repo / ".githooks", name, tmp_path / "loot")
    git(repo, "config", "core.hooksPath", ".githooks")
    result = rollout("apply", "-m", fleet.manifest, "--repo", "juniper-cascor", "--yes", "--push")
    assert result.code == 0, result.stdout + result.stderr
    assert "created" in result.stdout and "pushed to origin" in result.stdout
    assert _stolen(tmp_path) == []


def test_a_pre_commit_pre_push_shim_never_runs_the_working_trees_config(fleet, tmp_path):
    """`pre-commit install -t pre-push` (the managed config's hooks at push time) puts a shim in
    `.git/hooks/pre-push` that runs the hooks of the working tree's `.pre-commit-config.yaml`: a
    contributor's `repo: local` hook at the pre-push stage ran at `apply --push` with the tool's
    environment and copied the age key (pass 20b, 13.5)."""
    repo = fleet.repo("juniper-ml")
    _bare_origin(repo, tmp_path)
    loot = tmp_path / "loot.pre-commit"
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: local\n  hooks:\n  - id: innocent\n    name: innocent\n"
        "    language: system\n    stages: [pre-push]\n    always_run: true\n"
        f"    pass_filenames: false\n    entry: sh -c 'cat \"$SOPS_AGE_KEY_FILE\" > {loot}'\n"
    )
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install", "-t", "pre-push"],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    result = rollout("apply", "-m", fleet.manifest, "--repo", "juniper-ml", "--yes", "--push")
    assert result.code == 0, result.stdout + result.stderr
    assert "pushed to origin" in result.stdout
    assert _stolen(tmp_path) == []


def test_plan_drift_and_verify_run_no_fsmonitor_of_the_clone(fleet, tmp_path):
    """`core.fsmonitor` naming a program in the working tree ran at `git ls-files --others` (the leak
    guard lists a clone's env files) with the tool's environment (pass 20b, 13.5)."""
    repo = fleet.repo("juniper-cascor")
    _thief(repo / "tools", "fsmonitor", tmp_path / "loot")
    git(repo, "config", "core.fsmonitor", "tools/fsmonitor")
    for command in ("plan", "drift", "verify"):
        result = rollout(command, "-m", fleet.manifest, "--repo", "juniper-cascor")
        assert "Traceback" not in result.stderr, result.stderr
        assert _stolen(tmp_path) == [], command


def test_sync_runs_no_hook_of_the_clone(fleet, tmp_path):
    """sync's fetch updates refs (`reference-transaction`) and may start `git gc --auto`
    (`pre-auto-gc`): hooks of the checked-out branch under `core.hooksPath` (pass 20b, 13.5)."""
    repo = fleet.repo("juniper-cascor")
    origin = _bare_origin(repo, tmp_path)
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(origin), str(other)], check=True)
    git(other, "commit", "-q", "--allow-empty", "-m", "teammate's work")
    git(other, "push", "-q", "origin", "main")
    for name in HOOKS:
        _thief(repo / ".githooks", name, tmp_path / "loot")
    git(repo, "config", "core.hooksPath", ".githooks")
    git(repo, "config", "gc.auto", "1")
    result = rollout("sync", "-m", fleet.manifest, "--repo", "juniper-cascor")
    assert result.code == 0, result.stdout + result.stderr
    assert "1 new commit" in result.stdout
    assert _stolen(tmp_path) == []


TOKEN = "ghs_" + "Hook20bToken" * 3


def test_bootstrap_and_sync_clones_run_no_hook_of_the_cloned_repository(fleet, tmp_path):
    """A relative `core.hooksPath` in the user's global config (`.githooks`: every repo's own
    tracked hooks) is, for a new clone, the cloned repository's folder: git clone ran its
    `post-checkout` with the tool's environment, which held `bootstrap --url`'s token (the
    `url.<whole URL>.insteadOf` rewrite "for this clone only") and `$SOPS_AGE_KEY_FILE`
    (pass 20b, 13.5/13.7)."""
    source = tmp_path / "src"
    make_repo(source, {"README.md": "# canopy\n"})
    for name in HOOKS:
        _thief(source / ".githooks", name, tmp_path / "loot")
    git(source, "add", ".githooks")
    git(source, "commit", "-q", "-m", "our hooks")
    bare = tmp_path / "juniper-canopy.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    gitconfig = Path(os.environ["GIT_CONFIG_GLOBAL"])
    gitconfig.write_text(gitconfig.read_text() + "[core]\n\thooksPath = .githooks\n")
    url = f"file://x-access-token:{TOKEN}@localhost{bare}"
    result = rollout(
        "bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest, "--url", url
    )
    assert result.code == 0, result.stdout + result.stderr
    assert _stolen(tmp_path) == []
    manifest = tmp_path / "sync.yaml"
    manifest.write_text(
        fleet.manifest.read_text().replace(
            "  - name: juniper-ml", f"  - name: newrepo\n    url: {bare}\n  - name: juniper-ml"
        )
    )
    result = rollout("sync", "-m", manifest, "--repo", "newrepo")
    assert result.code == 0, result.stdout + result.stderr
    assert _stolen(tmp_path) == []


# --- 13.6/13.8: a pasted token in a plaintext env file the leak guard reads -----------------------------

PASTED = "Zq20bPastedTokenAbCdEf42"  # no known prefix: a template's source check lets it through


@pytest.mark.parametrize(
    "dotenv",
    [
        f"APP_ENV=dev\n{PASTED}\n",  # item 8's line of its own
        f"APP_ENV=dev\nexport {PASTED}\n",
        f"APP_ENV=dev\n{PASTED}==\n",  # with base64 padding: python-dotenv binds it as a name
        f"APP_ENV=dev\n{PASTED}=\n",
    ],
    ids=["bare", "export", "padded", "empty-value"],
)
@pytest.mark.parametrize("env_file", [".env", ".env.local"])
def test_a_pasted_token_in_an_env_file_the_tool_does_not_encrypt_is_never_rendered(
    tmp_path, dotenv, env_file
):
    """The leak guard read a plaintext env file's bindings and comments: a token pasted on a line of
    its own (no `=`) was no value, and one before `=` a public name, so a template holding it was
    printed in the plan's diff (and committed by apply) in a repo that encrypts nothing (pass 20b,
    13.6/13.8; the secrets plan refuses such a line only in the files it encrypts)."""
    manifest = _one_repo_with_a_template(tmp_path, b"", f"ops notes: {PASTED}\n")
    victim = tmp_path / "ws" / "victim"
    (victim / ".env").unlink()
    (victim / env_file).write_text(dotenv)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert f"a word of the value on line 2 of the plaintext {env_file}" in result.stdout
    assert PASTED not in result.stdout + result.stderr


def test_ordinary_names_and_values_beside_a_bare_line_still_plan(tmp_path):
    """Control: a template printing the env file's names, and a bare line's word the repo commits
    (public, as any word of a comment), still plans."""
    manifest = _one_repo_with_a_template(
        tmp_path,
        b"DEPLOYMENT_REGION=eu-west\nsomething without equals\n",
        "set DEPLOYMENT_REGION before something\n",
        public="something\n",
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr


# --- 13.7: git's `<transport>::<address>` form ----------------------------------------------------------

HELPER_URLS = [
    f"https::https://x-access-token:{TOKEN}@127.0.0.1:1/o/r.git",
    f"https::https://{TOKEN}@127.0.0.1:1/o/r.git",
    f"persistent-https::https://oauth2:{TOKEN}@127.0.0.1:1/o/r.git",
    f"https::https://127.0.0.1:1/o/r.git?access_token={TOKEN}",
]


@pytest.mark.parametrize("url", HELPER_URLS, ids=["user-password", "user", "persistent", "query"])
def test_a_url_in_gits_remote_helper_form_is_stripped_and_redacted(url):
    """git takes `<transport>::<address>` and hands the address, credentials and all, to `git
    remote-<transport>`: every reading of a URL here saw no host in it, so nothing was stripped or
    redacted (pass 20b, 13.7)."""
    assert TOKEN not in strip_userinfo(url)
    assert strip_userinfo(url).startswith(url.split("::")[0] + "::https://")
    assert TOKEN not in redact(f"git clone {url} failed", url)
    assert strip_userinfo("codecommit::us-east-1://myrepo") == "codecommit::us-east-1://myrepo"


@pytest.mark.parametrize("url", HELPER_URLS, ids=["user-password", "user", "persistent", "query"])
def test_a_manifest_url_in_gits_remote_helper_form_holding_a_token_is_refused(
    fleet, tmp_path, monkeypatch, url
):
    """`url: https::https://x:TOKEN@host/r.git` passed the manifest's credential refusal: sync printed
    the token in "git clone … failed" (and a clone that worked kept it in `.git/config`'s
    remote.origin.url) (pass 20b, 13.7)."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https")
    result = sync_a_new_entry_at(fleet, tmp_path, url)
    assert result.code == 1
    assert "newrepo.url holds credentials" in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert not (fleet.workspace / "newrepo").exists()


# --- 13.7: the token on a command line every user of the machine can read ------------------------------


class _AuthGitServer:
    """git's smart HTTP (`git http-backend`) over 127.0.0.1, serving ``root`` to one Basic
    credential; while it answers a request it reads every process's command line, and keeps
    those holding ``secret``."""

    def __init__(self, root: Path, user: str, password: str, secret: str) -> None:
        import base64
        import http.server
        import threading

        wanted = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        seen = self.seen = []
        self.authenticated = 0
        server_self = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._serve(b"")

            def do_POST(self) -> None:
                self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _serve(self, body: bytes) -> None:
                seen.extend(_command_lines_holding(secret))
                if self.headers.get("Authorization") != wanted:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                server_self.authenticated += 1
                path, _, query = self.path.partition("?")
                env = {
                    "PATH": os.environ["PATH"],
                    "GIT_PROJECT_ROOT": str(root),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "REQUEST_METHOD": self.command,
                    "PATH_INFO": path,
                    "QUERY_STRING": query,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "GIT_CONFIG_NOSYSTEM": "1",
                    "HOME": str(root),
                }
                out = subprocess.run(
                    ["git", "http-backend"], input=body, env=env, capture_output=True, check=True
                ).stdout
                head, _, rest = out.partition(b"\r\n\r\n")
                status = 200
                self_headers = []
                for line in head.split(b"\r\n"):
                    name, _, value = line.decode().partition(": ")
                    if name.lower() == "status":
                        status = int(value.split()[0])
                    else:
                        self_headers.append((name, value))
                self.send_response(status)
                for name, value in self_headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(rest)))
                self.end_headers()
                self.wfile.write(rest)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _command_lines_holding(secret: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(secret.encode() in w for w in words):
            found.append(" ".join(w.decode(errors="replace") for w in words))
    return found


def test_bootstraps_clone_never_puts_the_token_on_a_command_line(fleet, tmp_path, monkeypatch):
    """`bootstrap --url https://x-access-token:TOKEN@…` gave git the credential as an `insteadOf`
    rewrite back to the whole URL, which git then hands to its transport helper on its command line
    (`git remote-https origin https://x-access-token:TOKEN@…`): readable by every user of the machine
    in `ps` for as long as the clone ran (SECURITY.md called it a limit of git's transports). It now
    reaches git through a credential helper reading it from the environment, for that protocol and
    host only (pass 20b, 13.7)."""
    source = make_repo(tmp_path / "src", {"README.md": "# canopy\n"})
    root = tmp_path / "served"
    root.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(source), str(root / "canopy.git"))
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:http")
    server = _AuthGitServer(root, "x-access-token", TOKEN, TOKEN)
    try:
        url = f"http://x-access-token:{TOKEN}@127.0.0.1:{server.port}/canopy.git"
        result = rollout(
            "bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest, "--url", url
        )
    finally:
        server.close()
    assert result.code == 0, result.stdout + result.stderr
    assert server.authenticated, "the clone never sent the credential"
    assert server.seen == [], server.seen
    clone = fleet.workspace / "juniper-canopy"
    assert (clone / "README.md").read_text() == "# canopy\n"
    assert TOKEN not in result.stdout + result.stderr + fleet.manifest.read_text()
    for stored in (p for p in (clone / ".git").rglob("*") if p.is_file()):
        assert TOKEN.encode() not in stored.read_bytes(), stored


def test_the_clones_credential_goes_to_its_own_host_only(tmp_path):
    """The helper answers git for the URL's protocol and host, nothing else."""
    from juniper_rollout.gitrepo import _CLONE_HELPER

    env = {
        **os.environ,
        "JUNIPER_ROLLOUT_CLONE_PROTOCOL": "https",
        "JUNIPER_ROLLOUT_CLONE_HOST": "git.example.org:8443",
        "JUNIPER_ROLLOUT_CLONE_USER": "x-access-token",
        "JUNIPER_ROLLOUT_CLONE_PASSWORD": TOKEN,
    }

    def ask(action: str, protocol: str, host: str) -> str:
        return subprocess.run(
            ["sh", "-c", _CLONE_HELPER[1:] + ' "$@"', "helper", action],
            input=f"protocol={protocol}\nhost={host}\n\n",
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert ask("get", "https", "git.example.org:8443") == (
        f"username=x-access-token\npassword={TOKEN}\n"
    )
    assert ask("get", "https", "evil.example.org") == ""
    assert ask("get", "http", "git.example.org:8443") == ""
    assert ask("store", "https", "git.example.org:8443") == ""


# --- NEW: a token given as the repository's name ----------------------------------------------------------

NAME_TOKEN = "ghp_" + "Zq20bNameTokenAbCdEf" + "GhIjKlMnOpQrStUv"


def test_a_token_given_as_bootstraps_repository_name_is_refused_and_never_written(fleet, tmp_path):
    """`rollout bootstrap "$GITHUB_TOKEN" --url …` (the arguments swapped) took the token for the
    repository's name: written into the manifest (`- name: ghp_…`), made the clone's folder name,
    printed in every line (pass 20b, found on the way: 13.7's bootstrap)."""
    source = make_repo(tmp_path / "src", {"README.md": "# x\n"})
    bare = tmp_path / "x.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    before = fleet.manifest.read_bytes()
    result = rollout(
        "bootstrap", "--yes", NAME_TOKEN, "--manifest", fleet.manifest, "--url", f"file://{bare}"
    )
    assert result.code == 1
    assert "a repository name shaped like a token" in result.stderr
    assert NAME_TOKEN not in result.stdout + result.stderr
    assert fleet.manifest.read_bytes() == before
    assert not (fleet.workspace / NAME_TOKEN).exists()


def test_a_manifest_repo_named_like_a_token_is_refused_with_its_line(fleet, tmp_path):
    manifest = tmp_path / "named.yaml"
    manifest.write_text(
        fleet.manifest.read_text().replace(
            "  - name: juniper-ml", f"  - name: {NAME_TOKEN}\n  - name: juniper-ml"
        )
    )
    result = rollout("plan", "-m", manifest)
    assert result.code == 1
    assert "a repository name shaped like a token" in result.stderr
    assert re.search(r"named\.yaml:\d+:", result.stderr)
    assert NAME_TOKEN not in result.stdout + result.stderr


def test_a_program_the_working_trees_config_names_never_sees_the_key(fleet, tmp_path, monkeypatch):
    """A team's tracked `.gitconfig` under `include.path` (`git config include.path ../.gitconfig`,
    for its diff and merge drivers) is the checked-out branch's config: its `core.sshCommand` ran at
    `apply --push` with the tool's environment, `$SOPS_AGE_KEY` and `$SOPS_AGE_KEY_FILE` in it. git
    never needs sops' variables: no git the tool starts gets them (pass 20b, 13.5)."""
    repo = fleet.repo("juniper-cascor")
    loot = tmp_path / "loot.ssh"
    script = repo / "tools" / "ssh.sh"
    script.parent.mkdir()
    script.write_text(
        f"#!/bin/sh\n{{ env; cat \"$SOPS_AGE_KEY_FILE\"; }} > '{loot}' 2>&1\nexit 1\n"
    )
    script.chmod(0o755)
    (repo / ".gitconfig").write_text(f"[core]\n\tsshCommand = {script}\n")
    git(repo, "config", "include.path", "../.gitconfig")
    git(repo, "remote", "add", "origin", "ssh://example.invalid/o/r.git")
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:ssh")
    monkeypatch.setenv("SOPS_AGE_KEY", fleet.key_file.read_text())
    result = rollout("apply", "-m", fleet.manifest, "--repo", "juniper-cascor", "--yes", "--push")
    assert "not pushed: push to origin failed" in result.stdout, result.stdout
    said = loot.read_text()  # the program ran: git's config is the user's to choose
    assert "AGE-SECRET-KEY" not in said
    assert str(fleet.key_file) not in said


def test_a_token_given_as_the_user_name_beside_a_password_is_redacted():
    """GitHub's `https://TOKEN:x-oauth-basic@github.com/…`: `redact` hid the password, a placeholder,
    and left the token (pass 20b, 13.7); a login name beside a password stays shown."""
    url = f"https://{TOKEN}:x-oauth-basic@github.com/o/r.git"
    said = redact(f"fatal: unable to access '{url}': The requested URL returned error: 403", url)
    assert TOKEN not in said and "x-oauth-basic" not in said
    assert strip_userinfo(url) == "https://github.com/o/r.git"
    login = "https://jane:s3cretPassw0rd@bitbucket.org/o/r.git"
    assert redact(f"as jane: {login}", login).startswith("as jane:")
