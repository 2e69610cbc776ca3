"""Issue 13, pass 21b: the second adversarial pass over items 5-8 (main 46e4bf7).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import re

import pytest

from tests.demofleet import CANARY
from tests.fleet import OWNER
from tests.helpers import encrypted_by_hand, git, rollout
from tests.test_review import apply_pr

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

# --- 13.7: cleanup's failed delete on origin never repeats the origin URL's token --------------------


def test_cleanups_failed_delete_on_origin_never_repeats_a_token_in_the_origin_url(
    loop, github, monkeypatch
):
    """`remote.delete_origin` (rollout cleanup) put git's error in its line as git printed it: a
    query-string token in origin's push URL (a CI runner's `?access_token=`, which git does not
    anonymise) was printed in "deleting origin/… failed: fatal: unable to access '…?access_token=…'"
    — every other git the tool runs against origin redacts it (`remote.redact_origin`; pass 21b,
    13.7)."""
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    ml = f"{OWNER}/juniper-ml"
    github.merge(ml, github.pulls(ml)[0].number)
    token = f"{CANARY}-pushurl"
    git(
        loop.repo("juniper-ml"),
        "config",
        "remote.origin.pushurl",
        f"https://127.0.0.1:9/o/juniper-ml.git?access_token={token}",
    )
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https")  # the conftest allows file:// only
    result = rollout("cleanup", "-m", loop.manifest, "--repo", "juniper-ml")
    assert "deleting origin/" in result.stdout and "failed" in result.stdout, result.stdout
    assert token not in result.stdout + result.stderr
    assert CANARY not in result.stdout + result.stderr


def test_a_partial_clones_lazy_fetch_never_repeats_a_token_in_its_remotes_url(
    tmp_path, monkeypatch
):
    """A partial clone (`git clone --filter=tree:0`) fetches the trees it lacks from its promisor
    remote while plan and drift read history; git's "unable to access '…?access_token=…'" was put
    in "cannot read history: …" as git printed it, token and all (pass 21b, 13.7)."""
    from tests.demofleet import make_repo
    from tests.test_hostile import KEY

    source = make_repo(tmp_path / "src", {"README.md": "x\n", "app/b/main.py": "print(1)\n"})
    (source / ".env.prod").write_text("APP_ENV=prod\n")  # a plaintext env file in history: read
    (source / "app" / "b" / "more.py").write_text("print(2)\n")
    git(source, "add", ".")
    git(source, "commit", "-q", "-m", "more")
    git(source, "config", "uploadpack.allowFilter", "true")
    git(tmp_path, "clone", "-q", "--filter=tree:0", f"file://{source}", "ws/victim")
    clone = tmp_path / "ws" / "victim"
    token = f"{CANARY}-promisor"
    git(
        clone,
        "config",
        "remote.origin.url",
        f"https://127.0.0.1:9/o/victim.git?access_token={token}",
    )
    git(clone, "config", "advice.graftFileDeprecated", "false")  # git 2.39's hint fills the line
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https")  # the conftest allows file:// only
    manifest = tmp_path / "repos.yaml"
    base = git(clone, "symbolic-ref", "--short", "HEAD").strip()
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"repos:\n  - name: victim\n    base: {base}\n"
    )
    for command in ("plan", "drift"):
        result = rollout(command, "-m", manifest)
        assert "unable to access 'https://127.0.0.1:9/o/victim.git?***" in result.stdout, (
            command + result.stdout
        )


# --- 13.6: a template of any form holding a plaintext value fails without quoting it ------------------

PIECE = CANARY.replace("-", "")  # one Jinja name: what Jinja quotes back


@pytest.mark.parametrize(
    ("where", "value", "said"),
    [
        (".env", f"Zq21b{{{{{PIECE}}}}}Tail", "'…' is undefined"),
        (".env", f"Zq21b{{{{ x {PIECE} }}}}Tail", "got '…'"),
        (".env", f"Zq21b{{% {PIECE} %}}Tail", "Encountered unknown tag '…'"),
        ("backend/.env.prod", f"Zq21b{{{{{PIECE}}}}}Tail", "'…' is undefined"),
    ],
    ids=["undefined", "syntax", "unknown-tag", "env-file-in-a-folder"],
)
def test_a_template_of_another_form_holding_a_value_fails_without_quoting_it(
    tmp_path, where, value, said
):
    """Pass 16b hid Jinja's quoted pieces when a template holds a `NAME=value` line (a copy of
    `.env`). A template of another form holding the same value (`db:\\n  password: VALUE`, the YAML
    of a compose file or a config) whose value holds `{{` or `{%` failed with the value's piece in
    the message: "'PieceCANARY…' is undefined", "got '…'", "Encountered unknown tag '…'" (pass 21b,
    13.6)."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"", f"db:\n  password: {value}\n")
    victim = tmp_path / "ws" / "victim"
    (victim / ".env").unlink()
    (victim / where).parent.mkdir(parents=True, exist_ok=True)
    (victim / where).write_text(f"APP_ENV=dev\nDB_PASSWORD={value}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert said in result.stderr, result.stderr
    assert PIECE not in result.stdout + result.stderr


def test_an_ordinary_templates_error_still_quotes_its_piece_beside_an_env_file(tmp_path):
    """The control: a name the env files do not hold is still named."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(
        tmp_path, b"DB_PASSWORD=Zq21bSomethingElse\n", "db:\n  password: {{ who_is_it }}\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1
    assert "'who_is_it' is undefined" in result.stderr, result.stderr


# --- 13.5: verify's pygrep hooks read no file of the user's -------------------------------------------


def test_verify_runs_no_pygrep_hook_whose_args_name_a_file_to_read(fleet, tmp_path):
    """pre-commit runs a pygrep hook as `python -m pre_commit.languages.pygrep ARGS ENTRY FILES`: a
    templates folder's managed hook with `args: [AGE-SECRET-KEY-1, /home/…/keys.txt]` made the key
    file one of the files pygrep reads (the pattern then `args`' first word, `entry` a file name),
    and verify printed pygrep's last line, "…/keys.txt:3:AGE-SECRET-KEY-1…", as the reason the hook
    refused the files it must accept (pass 21b, 13.5: the private key printed by verify)."""
    import os

    from tests.test_pass20d import _templates_with

    templates = _templates_with(tmp_path, "log_file", tmp_path / "unused")
    hooks = templates / "precommit-hooks.yaml.j2"
    key_file = os.environ["SOPS_AGE_KEY_FILE"]  # a guessable path: ~/.config/sops/age/keys.txt
    text = hooks.read_text().replace(
        f"  language: fail\n  log_file: {tmp_path / 'unused'}\n",
        f"  language: pygrep\n  always_run: true\n  args: [AGE-SECRET-KEY-1, '{key_file}']\n",
        1,
    )
    hooks.write_text(
        re.sub(r'(?m)^  entry: "Plaintext env file staged.*$', "  entry: /dev/null", text)
    )
    manifest = fleet.manifest
    manifest.write_text(
        manifest.read_text().replace("workspace:", f"templates: {templates}\nworkspace:", 1)
    )
    applied = rollout("apply", "--manifest", manifest, "--yes", "--repo", "juniper-cascor")
    assert applied.code == 0, applied.stdout + applied.stderr
    for args in ([], ["--json"]):
        result = rollout(
            "verify", "--manifest", manifest, "--repo", "juniper-cascor",
            "--ref", "chore/sops-age-rollout", *args,
        )  # fmt: skip
        out = result.stdout + result.stderr
        assert "AGE-SECRET-KEY-1" not in out.upper().replace("AGE-SECRET-KEY-1, ", ""), out
        assert "forbid-plaintext-env gives pygrep arguments" in out and "nothing run" in out, out


# --- 13.5: sops never gets a .sops.yaml naming another master key than age ---------------------------


class _Vault:
    """A stand-in Vault on 127.0.0.1 that records the token of every request and wraps any data key
    (its owner's: it answers whoever asks, so the tool's token-less probe of the rule passes)."""

    def __init__(self) -> None:
        import http.server
        import threading

        seen = self.tokens = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 (http.server's name)
                seen.append(self.headers.get("X-Vault-Token"))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = b'{"data": {"ciphertext": "vault:v1:AAAA"}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET = do_PUT  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1/transit/keys/rollout"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def plan_with_vault_in_the_rule(fleet, tmp_path, monkeypatch, where: str):
    """`rollout plan` of juniper-cascor under a templates folder whose `sops.yaml.j2` names an
    `hc_vault` key at a stand-in Vault (in a key group beside age, or as the rule's own): (result, the
    Vault, the VAULT_TOKEN set)."""
    import shutil

    from tests.test_pass20d import SHIPPED_TEMPLATES

    vault = _Vault()
    token = f"{CANARY}-vault"
    monkeypatch.setenv("VAULT_TOKEN", token)
    templates = tmp_path / "tpl"
    shutil.copytree(
        SHIPPED_TEMPLATES, templates, ignore=shutil.ignore_patterns("__pycache__", "__init__.py")
    )
    rule = templates / "sops.yaml.j2"
    age = "    age: '{{ recipients | join(\",\") }}'"
    assert age in rule.read_text()
    rule.write_text(
        rule.read_text().replace(
            age,
            f"    key_groups:\n      - age: {{{{ recipients | list }}}}\n"
            f"        hc_vault: [{vault.url}]"
            if where == "key-group"
            else f"{age}\n    hc_vault_transit_uri: {vault.url}",
        )
    )
    manifest = fleet.manifest
    manifest.write_text(
        manifest.read_text().replace("workspace:", f"templates: {templates}\nworkspace:", 1)
    )
    result = rollout("plan", "--manifest", manifest, "--repo", "juniper-cascor")
    vault.server.shutdown()
    return result, vault, token


@pytest.mark.parametrize("where", ["key-group", "rule"])
def test_a_rendered_sops_yaml_naming_vault_never_sends_the_users_vault_token(
    fleet, tmp_path, monkeypatch, where
):
    """The `.sops.yaml` the tool encrypts with is the one the manifest's templates render
    (`sops.yaml.j2`, anyone's to write): a creation rule naming an `hc_vault` key beside the age
    recipients made sops, at `rollout plan`, PUT the data key to that address with the user's
    `VAULT_TOKEN` (the same holds for kms, gcp_kms, azure_kv with the user's cloud identity). A
    committed `.enc` naming such keys never reached sops (`check_age_only`), the config did
    (pass 21b, 13.5)."""
    result, vault, token = plan_with_vault_in_the_rule(fleet, tmp_path, monkeypatch, where)
    assert token not in vault.tokens, result.stdout + result.stderr
    assert result.code == 1, result.stdout
    # refused before sops ever reads it: pass 24e's check of a rendered `.sops.yaml` (keys of another
    # kind, "nothing written") says so first; without it, sops' own check ("not handed to sops") does
    said = ("nothing written", "not handed to sops")
    assert "names hc_vault" in result.stdout and any(s in result.stdout for s in said), (
        result.stdout
    )


# --- 13.6: a named rollout's run reads the plaintext of every entry, as the SOPS rollout has it -------


@pytest.mark.parametrize("whose", ["opted-out-repo", "sops-only-encrypt-source"])
def test_a_named_rollouts_plan_never_shows_a_value_of_the_fleets_plaintext(tmp_path, whose):
    """The leak guard read the plaintext env files of the running rollout's repos, with that
    rollout's `encrypt:`: under `rollout plan --rollout docs` a template holding the `.env` value of
    a repo that opted out of docs (`rollouts: {docs: false}`), or of a source only the SOPS rollout
    encrypts (`config/app.secrets`), was shown in the diff, and apply would commit it (pass 21b, 13.6
    "whatever the manifest says")."""
    from tests.demofleet import make_repo
    from tests.test_hostile import KEY

    token = f"Zq21bRollout{CANARY}-{whose}"
    for name in ("alpha", "beta"):
        make_repo(tmp_path / "ws" / name, {"README.md": "x\n"})
    (tmp_path / "ws" / "beta" / ".env").write_text(f"APP_ENV=dev\nAPI_TOKEN={token}\n")
    (tmp_path / "ws" / "alpha" / "config").mkdir()
    (tmp_path / "ws" / "alpha" / "config" / "app.secrets").write_text(f"API_KEY={token}\n")
    if whose == "opted-out-repo":
        (tmp_path / "ws" / "alpha" / "config" / "app.secrets").write_text("API_KEY=\n")
    else:
        (tmp_path / "ws" / "beta" / ".env").write_text("APP_ENV=dev\n")
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "notes.j2").write_text(f"ops notes: {token}\n")
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        "rollouts:\n  docs:\n    branch: chore/docs\n"
        "    files:\n      - {path: NOTES.md, template: notes.j2}\n"
        "repos:\n  - name: alpha\n    sops_yaml: false\n    precommit_hook: skip\n"
        "    gitignore: false\n"
        "    encrypt:\n      - {source: config/app.secrets, target: config/app.secrets.enc}\n"
        "  - name: beta\n    rollouts: {docs: false}\n"
    )
    result = rollout("plan", "-m", manifest, "--rollout", "docs")
    assert result.code == 1, result.stdout
    source = ".env of beta" if whose == "opted-out-repo" else "config/app.secrets"
    assert "NOTES.md would contain the value on line" in result.stdout, result.stdout
    assert f"of the plaintext {source}" in result.stdout, result.stdout
    assert token not in result.stdout + result.stderr


def _alpha_with_a_template_holding_betas_token(
    tmp_path, token: str, beta_files: dict, beta_entry: str, alpha_files: dict | None = None
):
    """Two clones, alpha and beta, with beta's `.env` holding ``token`` and a template of alpha's
    (`NOTES.md`) holding it too: the manifest (its SOPS files off), beta's entry ending ``beta_entry``."""
    from tests.demofleet import make_repo
    from tests.test_hostile import KEY

    make_repo(tmp_path / "ws" / "alpha", {"README.md": "x\n", **(alpha_files or {})})
    beta = make_repo(tmp_path / "ws" / "beta", beta_files)
    (beta / ".env").write_text(f"APP_ENV=dev\nAPI_TOKEN={token}\n")
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "notes.j2").write_text(f"ops notes: {token}\n")
    off = "    sops_yaml: false\n    precommit_hook: skip\n    gitignore: false\n"
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"repos:\n  - name: alpha\n{off}    files:\n      - {{path: NOTES.md, template: notes.j2}}\n"
        f"  - name: beta\n{off}{beta_entry}"
    )
    return manifest


@pytest.mark.parametrize("source", ["docs", "linked.env"], ids=["a-folder", "a-symlink"])
def test_an_unreadable_encrypt_source_never_hides_the_rest_of_its_repos_values(tmp_path, source):
    """The fleet's values (`leakguard.fleet_values`) skipped a repo whole when one of its `encrypt:`
    sources could not be read (a folder, a symlink: a manifest entry's doing): `rollout plan --repo
    alpha` then showed beta's `.env` value from a template holding it (pass 21b, 13.6)."""
    token = f"Zq21bSkipped{CANARY}-beta"
    manifest = _alpha_with_a_template_holding_betas_token(
        tmp_path,
        token,
        {"README.md": "x\n", "docs/a.md": "x\n"},
        f"    encrypt:\n      - {{source: .env, target: .env.enc}}\n"
        f"      - {{source: {source}, target: other.enc}}\n",
    )
    (tmp_path / "ws" / "beta" / "linked.env").symlink_to(tmp_path / "ws" / "beta" / "README.md")
    result = rollout("plan", "-m", manifest, "--repo", "alpha")
    assert result.code == 1, result.stdout
    assert (
        "NOTES.md would contain the value on line 2 of the plaintext .env of beta" in result.stdout
    )
    assert token not in result.stdout + result.stderr


def test_drift_never_shows_another_repos_value_in_its_diff(tmp_path):
    """drift's leak check had the repo's own plaintext values only (plan has the fleet's since pass
    19c): `rollout drift --diff --repo alpha` printed beta's `.env` value from a template holding it,
    in the text diff and in `--format json` (pass 21b, 13.6)."""
    token = f"Zq21bDrift{CANARY}-beta"
    manifest = _alpha_with_a_template_holding_betas_token(
        tmp_path, token, {"README.md": "x\n"}, "", {"NOTES.md": "old notes\n"}
    )
    for extra in ([], ["--format", "json"]):
        result = rollout("drift", "-m", manifest, "--repo", "alpha", "--diff", *extra)
        assert "NOTES.md would contain the value on line 2 of the plaintext .env of beta" in (
            result.stdout
        ), result.stdout
        assert token not in result.stdout + result.stderr


# --- 13.8: names read from committed ciphertext are identifiers too -----------------------------------

PIECES = "sk-aB-3dE5-fG7h"  # a pasted token of short pieces: no known shape, no run of 8


def test_a_committed_ciphertexts_name_that_is_no_identifier_is_never_echoed(fleet):
    """`dotenv.held_names` read the names of a committed `.env.enc` (sops keeps them in clear) and
    refused only credential shapes: a name that is no identifier, such as a token of short pieces
    pasted as `sk-aB-3dE5-fG7h=…` into a `.env` that plain sops encrypted, was printed by `rollout
    plan` ("… holds 1 name that .env in the clone lacks (sk-aB-3dE5-fG7h)") and could be copied into
    `.env.example`; verify's check already refused it unnamed (pass 16b). Names read from a `.env`,
    in its plaintext or its ciphertext, are identifiers (pass 21b, 13.8)."""
    repo = fleet.repo("juniper-cascor")
    plaintext = (repo / ".env").read_bytes() + f"{PIECES}={CANARY}-pieces\n".encode()
    encrypted_by_hand(fleet, repo, plaintext)
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    said = " ".join(result.stdout.split())
    # lead 31: the clone's `.env` lacks it (and cannot hold it): dropped, said unnamed, not refused
    assert result.code == 0, result.stdout
    assert "drops 1 name shaped like a credential or no variable name" in said, said
    assert PIECES not in result.stdout + result.stderr
