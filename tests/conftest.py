"""Test isolation and the suite-wide leak check.

Every test runs with its own HOME, git config and temp folder; git may only
use the file protocol. Every plaintext secret in the tests carries CANARY; the
hooks below fail a test whose captured output shows it, and the session fails
if it is found in any git object (loose or packed) or in a temp file left behind:
as written, base64-encoded or escaped (tests.helpers.canary_spellings).
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import zlib
from pathlib import Path

import pytest
from hypothesis import settings

from tests.fake_github import FakeGitHub
from tests.fleet import OWNER
from tests.helpers import git, shows_canary

# Hypothesis: random examples on a developer's machine (that is how new corners are found; keep each
# one as an @example), the same examples on every CI run (a red CI is a change, never a dice roll),
# and a wider random search under `make stress`. HYPOTHESIS_PROFILE picks one explicitly.
settings.register_profile("dev", max_examples=150)
settings.register_profile("ci", max_examples=150, derandomize=True, database=None, print_blob=True)
settings.register_profile("stress", max_examples=3000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE")
    or ("ci" if os.environ.get("CI", "").lower() in ("true", "1") else "dev")
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path_factory.getbasetemp() / "pre-commit-cache"))
    for name in (
        "SOPS_AGE_KEY_FILE",
        "SOPS_AGE_KEY",
        "JUNIPER_WORKSPACE",
        "JUNIPER_MANIFEST",
        "NO_COLOR",
        "GIT_DIR",
        "GIT_INDEX_FILE",
        "GIT_WORK_TREE",
    ):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture(scope="session")
def built_fleet(tmp_path_factory):
    """The seven-repo demo fleet, built once per worker; tests use copies of it."""
    from tests import fleet as fleets

    return fleets.build(tmp_path_factory.mktemp("fleet") / "demo")


@pytest.fixture
def fleet(built_fleet, tmp_path, monkeypatch):
    """A private copy of the demo fleet, with its throwaway age key in SOPS_AGE_KEY_FILE."""
    from tests import fleet as fleets

    copy = fleets.copy(built_fleet, tmp_path / "demo")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(copy.key_file))
    return copy


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    # the tool's own temp files go here, away from the tests' tmp_path trees
    basetemp = config._tmp_path_factory.getbasetemp()  # fixed before TMPDIR moves
    # session-scoped fixtures run before the per-test isolation: isolate them too
    session_home = basetemp / f"session-home-{os.getpid()}"
    session_home.mkdir(exist_ok=True)
    (session_home / ".gitconfig").write_text(
        "[user]\n\tname = Test User\n\temail = test@example.invalid\n"
    )
    os.environ.update(
        HOME=str(session_home),
        GIT_CONFIG_GLOBAL=str(session_home / ".gitconfig"),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_ALLOW_PROTOCOL="file",
        XDG_CONFIG_HOME=str(session_home / ".config"),
    )
    for name in ("SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY", "JUNIPER_WORKSPACE", "JUNIPER_MANIFEST"):
        os.environ.pop(name, None)
    leftovers = Path(tempfile.mkdtemp(prefix="rollout-tool-tmp-"))
    os.environ["TMPDIR"] = str(leftovers)
    tempfile.tempdir = None
    config._rollout_tmp = leftovers


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or report.failed:
        return
    for name, text in report.sections:
        if shows_canary(text):
            report.outcome = "failed"
            report.longrepr = f"plaintext canary leaked into {name}"
            return


def _git_objects_with_canary(root: Path) -> list[Path]:
    """The git objects under ``root`` that hold the canary in any spelling: each loose object, and
    (pass 24e) each object of a repository's packs, which the scan never read (a push to a bare
    origin, a fetch, `git gc` pack what they move), read through `git cat-file` with deltas resolved."""
    found = []
    for objects in root.rglob("objects"):
        if objects.parent.name != ".git" and not (objects.parent / "HEAD").exists():
            continue
        if any((objects / "pack").glob("*.pack")):
            listing = subprocess.run(
                [
                    "git",
                    "--git-dir",
                    str(objects.parent),
                    "cat-file",
                    "--batch-all-objects",
                    "--batch",
                ],
                capture_output=True,
                check=False,
            )
            if shows_canary(listing.stdout):
                found.append(objects / "pack")
            if listing.returncode == 0:
                continue  # the listing held its loose objects too (a damaged repository's may not)
        for loose in objects.glob("[0-9a-f][0-9a-f]/*"):
            try:
                if shows_canary(zlib.decompress(loose.read_bytes())):
                    found.append(loose)
            except (OSError, zlib.error):
                continue
    return found


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if hasattr(config, "workerinput"):
        # an xdist worker: its exit status is not the session's, and the controller scans all of it
        # (the workers' basetemps are below the controller's; their TMPDIR, inherited, is below its)
        return
    leftovers: Path = config._rollout_tmp
    leaked = [p for p in leftovers.rglob("*") if p.is_file() and shows_canary(p.read_bytes())]
    basetemp = (
        config._tmp_path_factory.getbasetemp() if hasattr(config, "_tmp_path_factory") else None
    )
    if basetemp is not None and basetemp.exists():
        leaked += _git_objects_with_canary(basetemp)
    if leaked:
        session.exitstatus = 1
        print(f"\nLEAK: the plaintext canary is in {len(leaked)} file(s), e.g. {leaked[0]}")
    else:  # scanned and clean: gone, as the tool's own temp files are (kept where it leaked)
        shutil.rmtree(leftovers, ignore_errors=True)


# --- the review loop: a fake GitHub on 127.0.0.1, the demo fleet with bare origins ------------------


@pytest.fixture
def loopback_only(monkeypatch):
    """Every connection goes to 127.0.0.1: a test that reached for github.com fails here."""
    real = socket.socket.connect
    reached: list = []

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1"):
            reached.append(address)
            raise AssertionError(f"a test tried to reach {address}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    yield
    assert not reached


@pytest.fixture
def github(monkeypatch, loopback_only):
    fake = FakeGitHub()
    url = fake.start()
    monkeypatch.setenv("GITHUB_API_URL", url)
    monkeypatch.setenv("GITHUB_TOKEN", fake.token)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setenv(
        "PATH", "/usr/bin:/bin:" + str(Path(__import__("sys").executable).parent)
    )  # no gh
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    yield fake
    fake.stop()
    assert not fake.violations, (
        "the fake GitHub saw requests or gave answers outside GitHub's API description:\n"
        + "\n".join(fake.violations)
    )


@pytest.fixture(scope="session")
def built_loop(built_fleet, tmp_path_factory):
    """The demo fleet with a bare origin per repo (cloned from it, fetched) and `github:`/`url:`
    entries in the manifest; built once per worker, copied per test by ``loop``."""
    from tests import fleet as fleets

    fleet = fleets.copy(built_fleet, tmp_path_factory.mktemp("loop") / "demo")
    remotes = fleet.root / "remotes"
    remotes.mkdir()
    text = fleet.manifest.read_text()
    for name in fleet.names:
        bare = remotes / f"{name}.git"
        subprocess.run(
            ["git", "clone", "-q", "--bare", str(fleet.repo(name)), str(bare)], check=True
        )
        git(fleet.repo(name), "remote", "add", "origin", str(bare))
        git(fleet.repo(name), "fetch", "-q", "origin")
        text = re.sub(
            rf"^  - name: {name}( .*)?$",
            rf"\g<0>\n    github: {OWNER}/{name}\n    url: {bare}",
            text,
            count=1,
            flags=re.M,
        )
    fleet.manifest.write_text(text)
    return fleet


@pytest.fixture
def loop(built_loop, github, tmp_path, monkeypatch):
    """A private copy of ``built_loop`` (origins registered in the fake GitHub), its age key in
    SOPS_AGE_KEY_FILE."""
    from tests import fleet as fleets

    fleet = fleets.copy(built_loop, tmp_path / "demo")
    for name in fleet.names:
        bare = fleet.root / "remotes" / f"{name}.git"
        # the paths git wrote (origin's URL, the bare clone's source) name the copy, as if built here
        for written in (
            fleet.repo(name) / ".git" / "config",
            fleet.repo(name) / ".git" / "FETCH_HEAD",
            bare / "config",
        ):
            if written.exists():
                written.write_text(
                    written.read_text().replace(str(built_loop.root), str(fleet.root))
                )
        github.add_repo(f"{OWNER}/{name}", bare)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(fleet.key_file))
    fleet.remotes = fleet.root / "remotes"
    return fleet


# --- a recording fake Vault (tests/test_pass3.py, test_pass4.py) -----------------------------------


class VaultRecorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def _any(self) -> None:
        self.seen.append(f"{self.command} {self.path} {self.headers.get('X-Vault-Token')}")
        # 403, as Vault answers a request without a valid token: sops' Vault client gives up at once
        # (on a 500 it asked twice more, after ~1.5 s and ~2.7 s; the first request is the one checked)
        self.send_response(403)
        self.end_headers()

    do_GET = do_PUT = do_POST = _any

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def vault():
    """A recording fake Vault on 127.0.0.1: (address, requests seen). A branch's `hc_vault` key must
    never make sops send the user's VAULT_TOKEN to it."""
    server = http.server.HTTPServer(("127.0.0.1", 0), VaultRecorder)
    VaultRecorder.seen = []
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )  # shutdown waits for the next poll (0.5 s by default)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", VaultRecorder.seen
    server.shutdown()
    server.server_close()
