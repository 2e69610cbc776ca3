"""Issue 13, pass 11b: a second adversarial pass over items 5-9 and the smaller list, against main.

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from contextlib import suppress
from pathlib import Path

import pytest

from tests.demofleet import CANARY, make_repo
from tests.helpers import git, rollout
from tests.test_hostile import KEY
from tests.test_pass3 import BARE
from tests.test_pass10b import drift_flags_the_unencrypted_value

# --- 13.6: a value as python-dotenv reads it, expansion and CR line ends included -----------------


def _one_repo_with_a_template(
    tmp_path: Path, dotenv: bytes, template: str, public: str = ""
) -> Path:
    """``public``: text the repo commits (a glossary), which makes its words no secret to the leak
    guard's word check (round nine): what ordinary repos do with `production` or a host's name."""
    make_repo(
        tmp_path / "ws" / "victim",
        {"README.md": "x\n", **({"GLOSSARY.md": public} if public else {})},
    )
    (tmp_path / "ws" / "victim" / ".env").write_bytes(dotenv)  # untracked, as .env is
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "notes.j2").write_text(template)
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"repos:\n  - name: victim\n{BARE}"
        "    files: [{path: NOTES.md, template: notes.j2}]\n"
    )
    return manifest


@pytest.mark.parametrize(
    ("dotenv", "line"),
    [
        # python-dotenv expands `${NAME:-default}` (the app reads the default when NAME is unset)
        (f"API_TOKEN=${{UNSET_IN_TESTS:-{CANARY}-dflt}}\n".encode(), 1),
        # and `${NAME}` with an earlier binding: two parts under 8 bytes, the whole one longer
        (
            f"P1={CANARY[:7]}\nP2=-x1y2z3\nAPI_TOKEN=${{P1}}${{P2}}\n".encode(),
            3,
        ),
        # old-Mac CR line ends: python-dotenv reads the second binding without its quotes and comment
        (f'A="first-value-77aa" # note\rB="{CANARY}-cr" # note\r'.encode(), 2),
    ],
    ids=["expansion-default", "expansion-parts", "cr-line-ends"],
)
def test_a_value_is_checked_as_python_dotenv_expands_and_splits_it(tmp_path, dotenv, line):
    """The leak guard read `${UNSET:-value}` and `${A}${B}` as written, and found no binding after a
    lone CR: a template holding the value the app reads was printed in the plan (pass 11b, 13.6)."""
    value = {1: f"{CANARY}-dflt", 3: f"{CANARY[:7]}-x1y2z3", 2: f"{CANARY}-cr"}[line]
    manifest = _one_repo_with_a_template(tmp_path, dotenv, f"ops notes: {value}\n")
    result = rollout("plan", "--manifest", manifest)  # the helper fails on the canary in the output
    assert result.code == 1, result.stdout
    assert f"value on line {line} of the plaintext .env" in result.stdout, result.stdout
    assert value not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("line", "part"),
    [
        (f"DATABASE_URL=postgres://app:{CANARY}-pw@db:5432/app", f"{CANARY}-pw"),  # a password
        (f"SVC_URL=https://api.example.invalid/v1?api_key={CANARY}-qk&x=1", f"{CANARY}-qk"),
        (f'DB_CONFIG={{"user": "app", "password": "{CANARY}-json"}}', f"{CANARY}-json"),
    ],
    ids=["url-password", "query-parameter", "json-member"],
)
def test_a_part_the_app_reads_on_its_own_is_checked_too(tmp_path, line, part):
    """The guard compared whole values: a template holding only the password of
    `DATABASE_URL=postgres://app:PASSWORD@db/x` (a `PGPASSWORD:` line), an `?api_key=` token or a
    JSON member's text (pydantic-settings parses JSON for complex fields) was printed in the plan
    (pass 11b, 13.6)."""
    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"secret: {part}\n")
    result = rollout("plan", "--manifest", manifest)  # the helper fails on the canary in the output
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout


def test_an_expansion_bomb_in_a_dotenv_is_read_in_bounded_time_and_memory():
    """`B=${A}${A}…` doubles at each line: the guard expands a value only up to a bound (and its
    search for `${…}` is linear: a quadratic one would not finish here)."""
    from juniper_rollout.leakguard import MAX_EXPANDED, _as_the_app_reads

    data = b"A=" + b"x" * 1000 + b"\n"
    data += b"".join(b"%c=%s\n" % (66 + i, b"${%c}" % (65 + i) * 10) for i in range(20))
    data += b"Z=" + b"${X:-" * 100_000 + b"}\n" + b"Y=" + b"${:" * 100_000 + b"\n"
    values = _as_the_app_reads(data)
    assert max(len(v) for _, _, v in values) <= max(MAX_EXPANDED, len(data))
    assert b"x" * 10_000 in b"".join(v for _, _, v in values)  # B: 10 x A, expanded


# --- 13.8: a 28+-character key with few digits, or in base32, is no variable name -----------------

KEYS_THAT_WERE_NAMES = [
    "RXx2nznYZEGZwOW9vPvIWzfOkcsfwbA=",  # base64 of 23 bytes: a 31-character name, one digit
    "opp7N2yWfGgdKIxHsYKcLiGcleqdzBHeBsQ=",  # URL-safe base64 of 26 bytes, two digits
    "WJFjjCGsaSPewT5TbjJaTgrbZnXpEhgxTubYKL0=",  # base64 of 29 bytes
    "ZVINAVTWY3MGXFSSDQZHKG2LLNJOJCSRDYDZUFY=",  # base32 of 24 bytes (upper case): 2.1% were names
]


@pytest.mark.parametrize("key", KEYS_THAT_WERE_NAMES)
def test_a_padded_key_of_28_to_39_characters_is_never_a_variable_name(fleet, key):
    """A padded base64/base32 key pasted alone on a `.env` line splits at its `=` padding into a
    28-39-character "name": with fewer than three digits, or in upper case, it passed as a variable
    NAME (23-byte base64 keys 4.3%, 26-byte 2.0%, 29-byte 1.3%, 24-byte base32 2.1%), printed by plan
    and --json, committed in clear in `.env.enc` (pass 11b, 13.8; pass 10b covered 40+ characters in
    mixed case, and noted 17-27 characters as a limit)."""
    env = fleet.repo("juniper-cascor") / ".env"
    env.write_text(env.read_text() + key + "\n")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    for result in (rollout("plan", *only), rollout("plan", *only, "--json")):
        assert result.code == 1, result.stdout
        assert ".env:16:" in result.stdout + result.stderr, result.stdout
        assert key.rstrip("=") not in result.stdout + result.stderr


def test_few_28_to_39_character_keys_pass_as_names_and_real_long_names_still_do():
    """Measured on seeded keys split as `NAME=` lines: before, 10% of `[A-Za-z0-9]{32}` runs and 5% of
    160-bit base32 runs were names; now about 1.3% and 0.2% (the rest are not separable from names by
    shape)."""
    import base64
    import random
    import string

    from juniper_rollout.dotenv import DotenvError, parse_names

    rng = random.Random(11)  # the same keys every run

    def share_named(keys: list[str]) -> float:
        named = 0
        for key in keys:
            try:
                named += key in parse_names(f"{key}=x\n".encode())
            except DotenvError:
                pass
        return named / len(keys)

    alnum = string.ascii_letters + string.digits
    keys = ["".join(rng.choice(alnum) for _ in range(32)) for _ in range(3000)]
    assert share_named([k for k in keys if k[0].isalpha()]) < 0.03
    b32 = [base64.b32encode(rng.randbytes(20)).decode() for _ in range(3000)]
    assert share_named([k for k in b32 if k[0].isalpha()]) < 0.01
    names = [
        "CNChangeHistoryAddMemberToGroupEvent",  # 4.46 bits a character: the highest measured
        "HTTPSProxyConnectionPoolMaxsizeSetting",
        "REACT_APP_googleMapsApiKeyForProduction",
        "JUNIPER_CASCOR_API_BASE_URL_OVERRIDE_2",
        "SpringDatasourceHikariMaximumPoolSize",
        "WebhookSecurityAndAnalysisPropChanges",
        "PYTHONDONTWRITEBYTECODE",
    ]
    assert parse_names("".join(f"{n}=x\n" for n in names).encode()) == names


# --- 13.7: a token given as the USER name, holding '/', '?' or '#' ---------------------------------

TOKEN_PIECES = ("ghpTOKENab", "SECRETuserpart9")


@pytest.mark.parametrize("sep", ["/", "?", "#"])
def test_bootstrap_refuses_a_user_name_token_holding_a_reserved_character(fleet, sep):
    """`https://TOKEN@host/…` is how a token is often given; one holding `/` (base64) was printed whole
    by bootstrap ("git clone https://ghpTOKENab/SECRET…@… failed") and by git's error; pass 10b
    covered `user:pa/ss@` only (pass 11b, 13.7)."""
    before = fleet.manifest.read_bytes()
    url = f"https://{sep.join(TOKEN_PIECES)}@127.0.0.1:1/o/r.git"
    result = rollout("bootstrap", "--yes", "newone", "--manifest", fleet.manifest, "--url", url)
    assert result.code == 1
    assert "percent-encode" in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not any(piece in result.stdout + result.stderr for piece in TOKEN_PIECES)
    assert fleet.manifest.read_bytes() == before
    assert not (fleet.workspace / "newone").exists()


def test_sync_and_push_never_print_a_user_name_token_holding_a_slash(fleet, monkeypatch):
    """origin `https://ghpAB/SECRET…@127.0.0.1:1/…`: git ends the host at the '/', and its error
    ("unable to access 'https://ghpAB/SECRET…@…'", "Could not resolve host: ghpAB") was printed by
    sync and apply --push."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https")  # git must read the URL to repeat it
    repo = fleet.repo("juniper-ml")
    git(repo, "remote", "add", "origin", f"https://{'/'.join(TOKEN_PIECES)}@127.0.0.1:1/o/r.git")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-ml")
    for result in (rollout("sync", *only), rollout("apply", *only, "--push", "--yes")):
        assert result.code == 1, result.stdout
        assert "Could not resolve host" in result.stdout, result.stdout
        assert not any(piece in result.stdout + result.stderr for piece in TOKEN_PIECES)


def test_urls_strip_a_user_name_token_and_keep_an_at_sign_in_a_path():
    from juniper_rollout.urls import redact, strip_userinfo

    # ssh says the host it could not resolve in lower case; a `to/ken@` user is no ssh login
    url = "ssh://ghpTOKENab/SECRETssh15@127.0.0.1:1/o/r.git"
    said = redact("ssh: Could not resolve hostname ghptokenab: Name or service not known", url)
    assert "ghptokenab" not in said.lower(), said
    login = "ssh://git@127.0.0.1:1/o/r.git"
    assert redact("git clone ssh://git@127.0.0.1:1/o/r.git failed", login).startswith("git clone")

    for url, stored in (
        ("https://ghpA/SECRET@127.0.0.1:1/o/r.git", "https://127.0.0.1:1/o/r.git"),
        ("https://ghpA?SECRET@github.com/o/r.git", "https://github.com/o/r.git"),
        ("https://tok#en@git.example.org:8443/r", "https://git.example.org:8443/r"),
        ("https://host/p@x", "https://host/p@x"),  # an '@' in a path (pass 10b)
        ("https://github.com/o/r@v1", "https://github.com/o/r@v1"),
        ("https://gitserver/r@v1.0", "https://gitserver/r@v1.0"),
        ("https://host:8443/pkg@1.0", "https://host:8443/pkg@1.0"),
    ):
        assert strip_userinfo(url) == stored, url


# --- 13.9: a plaintext comment in a sops YAML or INI file -----------------------------------------


def _with_a_plaintext_comment(real: str, fmt: str) -> str:
    if fmt == "yaml":
        return real.replace("sops:\n", "# staging token: plain-comment-value-6c2\nsops:\n", 1)
    if fmt == "yaml-trailing":
        return re.sub(r"(type:str\])\n", r"\1  # was plain-comment-value-6c2\n", real, count=1)
    return real.replace("[app]\n", "[app]\n; old token plain-comment-value-6c2\n", 1)


@pytest.mark.parametrize("fmt", ["yaml", "yaml-trailing", "ini"])
def test_drift_finds_a_plaintext_comment_in_a_yaml_or_ini_sops_file(fleet, tmp_path, fmt):
    """sops encrypts every comment (`#ENC[…,type:comment]`, `; ENC[…]`), and the dotenv values check
    refuses a plaintext one; a comment added by hand to a sops YAML or INI file (`# staging token:
    value`) was "0 findings", tracked and in history: pass 10b's reader dropped comments
    (pass 11b, 13.9)."""
    from juniper_rollout import keys
    from tests.test_sops_formats import sops_output

    repo = fleet.repo("juniper-data")
    real = sops_output(keys.public_keys_in(fleet.key_file)[0], fmt.split("-")[0]).decode()
    plain = _with_a_plaintext_comment(real, fmt)
    assert plain != real
    drift_flags_the_unencrypted_value(fleet, repo, tmp_path, real, plain, "plain-comment-value")


def test_real_sops_yaml_and_ini_comments_are_no_plaintext(tmp_path):
    import subprocess

    from juniper_rollout import keys, sops, sopsmeta

    recipient = keys.generate_key_file(tmp_path / "keys.txt")
    for fmt, data in (
        ("yaml", b"# a comment\nTOKEN: x  # trailing\nlist:\n  # inner\n  - a\n"),
        ("ini", b"; a comment\n[app]\n# another\nTOKEN = x\n"),
    ):
        blob = subprocess.run(
            [sops.sops_path(), "encrypt", "--age", recipient, "--input-type", fmt]
            + ["--output-type", fmt, "/dev/stdin"],
            input=data,
            capture_output=True,
            check=True,
            env={"SOPS_DISABLE_VERSION_CHECK": "1", "PATH": ""},
        ).stdout
        assert b"type:comment]" in blob, blob
        assert sopsmeta.plaintext_value_line(blob) is None, blob.decode()


# --- 13.5: a branch's .sops.yaml keys as sops' yaml.v3 reads them ----------------------------------


@pytest.mark.parametrize("where", ["rule", "key-group"])
def test_verify_never_hands_sops_a_branchs_sops_yaml_naming_a_vault_under_a_binary_key(
    fleet, tmp_path, vault, monkeypatch, where
):
    """yaml.v3 decodes a `!!binary` key (`aGNfdmF1bHRfdHJhbnNpdF91cmk=` is hc_vault_transit_uri):
    the other-key check read it as bytes, so verify's rules check ran sops with the branch's Vault
    address, and sops called it (no token: the bare environment held) from a command documented as
    offline (pass 11b, 13.5)."""
    import base64

    from tests.test_pass3 import BRANCH, apply, commit_on

    address, seen = vault
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    config = git(repo, "show", f"{BRANCH}:.sops.yaml")
    if where == "rule":
        key = base64.b64encode(b"hc_vault_transit_uri").decode()
        added = f"\n    !!binary {key}: '{address}/v1/transit/keys/x'"
    else:
        key = base64.b64encode(b"hc_vault").decode()
        added = f"\n    key_groups:\n      - !!binary {key}: ['{address}/v1/transit/keys/x']"
    evil = re.sub(r"(\n    age: '[^']+')", rf"\1{added}", config, count=1)
    assert evil != config
    contrib = commit_on(repo, BRANCH, {".sops.yaml": evil}, tmp_path)
    git(repo, "update-ref", "refs/heads/contrib", contrib)
    monkeypatch.setenv("VAULT_TOKEN", "hvs.users-own-vault-token")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    result = rollout("verify", *only, "--ref", "contrib")
    assert result.code == 1
    assert seen == [], "sops called the Vault address the branch chose"
    assert "besides age" in result.stdout, result.stdout


# --- bootstrap stopped mid-clone: git's helpers, token in their command line, stop with it ---------


def test_bootstrap_stopped_mid_clone_leaves_no_git_process_holding_the_token(fleet, monkeypatch):
    """SIGTERM to bootstrap while it clones from a server that never answers: it said "interrupted"
    and removed its staging folder, but `git remote-http origin http://x:TOKEN@…` (git's transport
    helper, the whole URL on its command line, readable in `ps`) went on for ever, reparented to
    PID 1 (pass 11b, 13.7 / bootstrap writes nothing)."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import threading
    import time

    token = "SECRETmidclone5d1"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []

    def accept_and_never_answer() -> None:
        with suppress(OSError):  # the server is closed when the test ends
            while True:
                held.append(server.accept()[0])

    threading.Thread(target=accept_and_never_answer, daemon=True).start()
    url = f"http://x:{token}@127.0.0.1:{server.getsockname()[1]}/src.git"
    env = dict(os.environ, GIT_ALLOW_PROTOCOL="file:http")

    address = f"127.0.0.1:{server.getsockname()[1]}"

    def holding_the_token() -> list[str]:
        """git's transport helpers of this clone: the credential in their environment (pass 20b: no
        longer on their command line, which no line of `ps` may show)."""
        out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
        assert token not in out, "the token on a command line"
        return [line for line in out.splitlines() if address in line and "remote-http" in line]

    proc = subprocess.Popen(
        [sys.executable, "-m", "juniper_rollout.cli", "bootstrap", "newone", "--yes"]
        + ["--manifest", str(fleet.manifest), "--url", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(600):  # until git's helper is connected (it never gets an answer)
            if holding_the_token() and held:
                break
            time.sleep(0.1)
        assert holding_the_token(), "the clone never started"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        for _ in range(50):  # the kill is sent before bootstrap exits; ps may lag a little
            if not holding_the_token():
                break
            time.sleep(0.1)
        assert holding_the_token() == [], out
        assert token not in out.decode()
        assert not [p for p in fleet.workspace.iterdir() if "bootstrap" in p.name]
    finally:
        for pid in [int(line.split()[0]) for line in holding_the_token()]:
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        server.close()
        for connection in held:
            connection.close()


# --- 13.9: a note holding a .env with a line of prose above it, or a multi-line value ------------


@pytest.mark.parametrize(
    "note",
    [
        # `git notes add -m "Deployed to staging with:" -F .env main`
        "Deployed to staging with:\n\nHF_TOKEN=note-held-value-9f8e2d\nDB_PASSWORD=note-pw-4c1b\n",
        # a .env holding a multi-line value: its inner lines are no assignments
        'SA_JSON="{\n  \\"client_secret\\": \\"note-sa-5a6b\\"\n}"\nAPI_TOKEN=note-held-value-9f8e2d\n',
    ],
    ids=["prose-above", "multi-line-value"],
)
def test_drift_finds_a_note_holding_a_dotenv_among_other_lines(fleet, note):
    """pass 10b's shape test asked every line to be `NAME=value`: one line of prose (`-m` and `-F`
    together) or the inner lines of a multi-line value made the note "0 findings" (pass 11b, 13.9).
    A review note mentioning `DEBUG=1` stays no finding."""
    repo = fleet.repo("juniper-cascor")
    git(repo, "notes", "add", "-m", note, "main")
    prose = "Reviewed-by: Ada <ada@example.com>\n\nWe ran it with DEBUG=1 and TIMEOUT=30."
    git(repo, "notes", "--ref", "review", "add", "-m", prose, "main")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor", "--format", "json")
    result = rollout("drift", *only)
    found = [f for r in json.loads(result.stdout)["repos"] for f in r["findings"]]
    assert [f["path"] for f in found] == ["refs/notes/commits"], found
    assert "holds a note shaped like a plaintext env file" in found[0]["message"]
    assert "note-held" not in result.stdout and "note-sa" not in result.stdout


# --- smaller list: git's pseudorefs that are no *_HEAD ---------------------------------------------


@pytest.mark.parametrize(
    "branch", ["NOTES_MERGE_PARTIAL", "NOTES_MERGE_REF", "BISECT_EXPECTED_REV", "MERGE_AUTOSTASH"]
)
def test_a_branch_named_like_a_pseudoref_of_git_is_refused_with_its_line(fleet, branch):
    """git reads `.git/NOTES_MERGE_PARTIAL` (during `git notes merge`), `BISECT_EXPECTED_REV` (during a
    bisect) and `MERGE_AUTOSTASH` before refs/heads/ ("refname … is ambiguous"): pass 3 refused the
    *_HEAD names and AUTO_MERGE only (pass 11b, smaller list)."""
    text = fleet.manifest.read_text()
    assert "branch: chore/sops-age-rollout" in text
    fleet.manifest.write_text(
        text.replace("branch: chore/sops-age-rollout", f"branch: {branch}", 1)
    )
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert "is a name git keeps for its own" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1


# --- smaller list: a Git LFS pointer as git-lfs reads it (CRLF, surrounding whitespace) -----------


@pytest.mark.parametrize(
    "pointer",
    [
        "version https://git-lfs.github.com/spec/v1\r\noid sha256:{oid}\r\nsize 1234\r\n",
        "\nversion https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 1234\n",
    ],
    ids=["crlf", "blank-line-first"],
)
@pytest.mark.parametrize("path", ["AGENTS.md", ".gitignore"])
def test_an_lfs_pointer_with_crlf_or_a_blank_line_first_is_skipped_not_edited(
    tmp_path, pointer, path
):
    """git-lfs trims a pointer's surrounding whitespace and reads `\\r\\n` line ends (measured with
    git-lfs 3.3: `git lfs pointer --check` accepts both, and rejects them once the tool's block is
    appended); the tool asked for the exact first line, so it edited such a pointer (pass 11b,
    smaller list)."""
    from tests.test_adversary import make_repo, manifest_for

    pointer = pointer.format(oid="a" * 64)
    attributes = f"{path} filter=lfs diff=lfs merge=lfs -text\n"
    repo = make_repo(tmp_path / "ws" / "victim", {path: pointer, ".gitattributes": attributes})
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    result = rollout("plan", "--manifest", manifest, "--json")
    assert result.code == 0, result.stderr
    victim = next(r for r in json.loads(result.stdout)["repos"] if r["name"] == "victim")
    entry = next(f for f in victim["files"] if f["path"] == path)
    assert entry["action"] == "skip" and "Git LFS" in entry["reason"], entry
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    shown = subprocess.run(
        ["git", "-C", str(repo), "show", f"chore/sops-age-rollout:{path}"],
        capture_output=True,
        check=True,
    ).stdout
    assert shown == pointer.encode()  # bytes: CRLF kept


# --- 13.6: every plaintext env file at the clone's top is read by the guard ------------------------


@pytest.mark.parametrize("name", [".env.production", ".env.local", "staging.env"])
def test_a_template_linked_to_another_plaintext_env_file_is_never_rendered(tmp_path, name):
    """The guard read `.env`, `.env.secrets` and the encrypt sources only: a template hard-linked to
    another repo's ignored `.env.production` (a plaintext env file by the tool's own definition) was
    rendered, printed and would be committed (pass 9 held the same for `.env`) (pass 11b, 13.6)."""

    make_repo(tmp_path / "ws" / "holder", {"README.md": "x\n"})
    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    held = tmp_path / "ws" / "holder" / name
    held.write_text(f"STAGING_API_TOKEN=stg-{CANARY}-42\n")  # untracked, as env files are
    (tmp_path / "tpl").mkdir()
    # a copy: a hard link is refused before it is read (test_template_links)
    shutil.copyfile(held, tmp_path / "tpl" / "ops.j2")
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"repos:\n  - name: holder\n{BARE}  - name: victim\n{BARE}"
        "    files: [{path: OPS.md, template: ops.j2}]\n"
    )
    result = rollout("plan", "--manifest", manifest, "--repo", "victim")  # fails on the canary
    assert result.code == 1, result.stdout
    assert f"of the plaintext {name} of holder" in result.stdout, result.stdout


@pytest.mark.parametrize("sep", ["/", "?", "#"])
def test_a_manifest_url_with_a_user_name_token_holding_a_reserved_character_is_refused(fleet, sep):
    """`url: https://ghpTOKENab/SECRET…@github.com/o/r.git` passed the "no credentials in url:"
    check: `sync` would clone it and print it (pass 11b, 13.7)."""
    text = fleet.manifest.read_text()
    text, found = re.subn(
        r"(  - name: juniper-ml[^\n]*\n)",
        rf"\1    url: https://{sep.join(TOKEN_PIECES)}@github.com/o/r.git\n",
        text,
        count=1,
    )
    assert found == 1
    fleet.manifest.write_text(text)
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert "url holds credentials" in result.stderr, result.stderr
    assert not any(piece in result.stdout + result.stderr for piece in TOKEN_PIECES)


# --- 13.9: a notes tree kept on a branch (notes pushed where `refs/notes/*` is hidden) -------------


@pytest.mark.parametrize("fanout", [False, True])
def test_drift_finds_a_note_shaped_like_a_dotenv_in_a_notes_tree_kept_on_a_branch(fleet, fanout):
    """`git push origin refs/notes/commits:refs/heads/notes` (a host that hides refs/notes): the
    branch's tree holds the plaintext `.env` as a blob named by the annotated commit's id, so the
    history scan (by env-file names) passed it by: "0 findings" (pass 11b, 13.9). With many notes git
    nests them (`ab/cdef…`)."""
    repo = fleet.repo("juniper-cascor")
    env = "HF_TOKEN=branch-note-value-7a3c\nDB_PASSWORD=branch-note-pw-2b9d\n"
    git(repo, "notes", "add", "-m", env, "main")
    if fanout:  # a nested notes tree, as git writes one past a few hundred notes
        tree = git(repo, "rev-parse", "refs/notes/commits^{tree}").strip()
        entry = git(repo, "ls-tree", tree).split()
        blob, name = entry[2], entry[3]
        inner = _mktree(repo, f"100644 blob {blob}\t{name[2:]}\n")
        outer = _mktree(repo, f"040000 tree {inner}\t{name[:2]}\n")
        commit = git(repo, "commit-tree", outer, "-m", "Notes added by 'git notes add'").strip()
        git(repo, "update-ref", "refs/notes/commits", commit)
    git(repo, "update-ref", "refs/heads/notes", "refs/notes/commits")
    git(repo, "update-ref", "-d", "refs/notes/commits")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor", "--format", "json")
    result = rollout("drift", *only)
    found = [f for r in json.loads(result.stdout)["repos"] for f in r["findings"]]
    assert [f["id"] for f in found] == ["plaintext-env-in-history"], found
    assert "shaped like a plaintext env file" in found[0]["message"], found
    assert "branch-note" not in result.stdout


def _mktree(repo: Path, listing: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "mktree"],
        input=listing,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
