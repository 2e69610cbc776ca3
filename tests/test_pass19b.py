"""Issue 13, pass 19b: the adversarial pass over items 5-9 and the smaller list, round nine
(main b5af6a7).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time

import pytest

from tests.helpers import git, rollout

KEY_LINE = re.compile(r"AGE-SECRET-KEY-1[0-9A-Z]+")

# --- 13.9: what origin once held, newest first across all remote-tracking reflogs ----------------------


def test_drift_keeps_the_newest_commits_origin_held_across_all_remote_tracking_reflogs(
    fleet, tmp_path
):
    """A teammate pushes `feat` holding `.env.local`, the clone fetches it, `feat` is force-pushed
    clean and fetched again: drift finds the leak through origin/feat's reflog (pass 16b). The same
    clone also follows a busy bot branch: 5,100 fetched fast-forwards, all older than the leak.
    The 5,000 commits kept were the last ones in the order the folder lists the reflog files, not
    the newest: origin/feat's file was read first, its commits dropped, and drift said "0 findings"
    (pass 19b, 13.9)."""
    repo = fleet.repo("juniper-data")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True)
    git(work, "checkout", "-q", "-b", "feat")
    (work / ".env.local").write_text("API_TOKEN=Zq19bPushedThenGone-77aa\n")
    git(work, "add", "-f", ".env.local")
    git(work, "commit", "-qm", "local settings")
    git(work, "push", "-q", "origin", "feat")
    git(repo, "fetch", "-q", "origin")
    git(work, "reset", "-q", "--hard", "HEAD~1")
    git(work, "commit", "-q", "--allow-empty", "-m", "clean")
    git(work, "push", "-q", "-f", "origin", "feat")
    git(repo, "fetch", "-q", "origin")
    # a bot's branch origin served 5,100 times, a day before the leak (a sub-folder of the reflogs:
    # read after origin/feat's file whatever order the file system lists a folder in)
    start = int(time.time()) - 86_400
    stream = "".join(
        f"commit refs/remotes/origin/bots/busy\ncommitter Bot <bot@x.invalid> {start + i} +0000\n"
        f"data 7\nbump {i % 10}\n\n"  # each commit on the one before (fast-import's branch)
        for i in range(5100)
    )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream, text=True, check=True)
    shas = git(repo, "rev-list", "--reverse", "refs/remotes/origin/bots/busy").split()
    assert len(shas) == 5100
    previous, lines = "0" * 40, []
    for i, sha in enumerate(shas):
        lines.append(
            f"{previous} {sha} Bot <bot@x.invalid> {start + i} +0000\tfetch: fast-forward\n"
        )
        previous = sha
    log = repo / ".git" / "logs" / "refs" / "remotes" / "origin" / "bots" / "busy"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("".join(lines))
    result = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-data", "--format", "json"
    )
    found = [f for r in json.loads(result.stdout)["repos"] for f in r["findings"]]
    paths = [f["path"] for f in found if f["id"] == "plaintext-env-in-history"]
    assert paths == [".env.local"], found
    assert "Zq19b" not in result.stdout + result.stderr


# --- 13.6: templates from a home folder: credential files under hidden names ----------------------------

PASSWORD = (
    "Zq19bHorsebattery"  # letters and digits under no known shape: only a name rule can stop it
)
CREDENTIAL_FILES = {
    ".vault-token": f"hvs.{PASSWORD}\n",
    ".cargo/credentials.toml": f'[registry]\ntoken = "cio{PASSWORD}"\n',
    # podman's and skopeo's docker-style auth file: base64 of jane:PASSWORD
    ".config/containers/auth.json": '{"auths": {"ghcr.io": {"auth": "amFuZTpacTE5YkhvcnNlYmF0dGVyeQ=="}}}\n',
    ".config/gcloud/application_default_credentials.json": (
        f'{{"client_secret": "{PASSWORD}", "refresh_token": "1//0g{PASSWORD}", "type": "authorized_user"}}\n'
    ),
    ".m2/settings.xml": f"<settings><servers><server><password>{PASSWORD}</password></server></servers></settings>\n",
    ".terraform.d/credentials.tfrc.json": f'{{"credentials": {{"app.terraform.io": {{"token": "x.atlasv1.{PASSWORD}"}}}}}}\n',
}


@pytest.mark.parametrize("name", list(CREDENTIAL_FILES))
def test_a_template_under_a_hidden_name_is_refused(tmp_path, name):
    """`templates:` a home folder (or a copy of one), `template: .vault-token`: pass 16b refused ten
    credential files by name; a dozen more tools keep theirs elsewhere (Vault, cargo, podman, gcloud,
    Maven, Terraform, …), and the plan printed each password in its diff. Every one sits under a hidden
    name, as tools' state does: a template under one is refused (pass 19b, 13.6)."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "x\n")
    held = tmp_path / "tpl" / name
    held.parent.mkdir(parents=True, exist_ok=True)
    held.write_text(CREDENTIAL_FILES[name])
    manifest.write_text(manifest.read_text().replace("template: notes.j2", f"template: {name}"))
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "is under the hidden name ." in result.stderr, result.stderr
    assert PASSWORD not in result.stdout + result.stderr and "amFuZ" not in result.stdout


@pytest.mark.parametrize("where", ["home", "config"])
def test_a_templates_folder_that_is_your_home_or_config_folder_is_refused(
    tmp_path, monkeypatch, where
):
    """`templates:` the home folder, or `~/.config` itself (where gcloud keeps
    `gcloud/application_default_credentials.json`, no hidden name below the folder): refused, as a
    folder holding every tool's credentials (pass 19b, 13.6)."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "x\n")
    home = tmp_path / "tpl"  # the manifest's templates folder, made the home (or its config folder)
    monkeypatch.setenv("HOME", str(home if where == "home" else tmp_path / "elsewhere"))
    if where == "config":
        monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
        (home / "gcloud").mkdir()
        (home / "gcloud" / "application_default_credentials.json").write_text(
            CREDENTIAL_FILES[".config/gcloud/application_default_credentials.json"]
        )
        name = "gcloud/application_default_credentials.json"
        manifest.write_text(manifest.read_text().replace("template: notes.j2", f"template: {name}"))
    else:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "(your programs' settings and credentials)" in result.stderr, result.stderr
    assert PASSWORD not in result.stdout + result.stderr


def test_a_templates_folder_inside_your_home_still_renders(tmp_path, monkeypatch):
    """The control: a templates folder of its own inside the home (a fleet checkout in ~/src) renders."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "ops notes\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr
    assert "ops notes" in result.stdout


# --- 13.6: Jinja's messages about a template hard-linked to a .env python-dotenv reads ------------------


@pytest.mark.parametrize(
    "dotenv",
    [
        "\ufeffDB_PASSWORD=ab{{Zq19bBomPass}}\n",  # a one-line .env saved by Notepad (UTF-8 with BOM)
        "\x0cDB_PASSWORD=ab{{Zq19bFormFeed}}\n",
        "\u00a0DB_PASSWORD=ab{{Zq19bNoBreak}}\n",
        "'DB_PASSWORD'=ab{{Zq19bQuotedKey}}\n",  # python-dotenv reads a single-quoted key
        "DB:PASSWORD=ab{{Zq19bColonName}}\n",  # and any name without `=`, `#` or a blank
    ],
    ids=["bom", "form-feed", "no-break-space", "quoted-key", "colon-name"],
)
def test_a_template_linked_to_a_dotenv_of_any_spelling_fails_without_quoting_its_values(
    tmp_path, dotenv
):
    """Pass 16b hid the quoted pieces of Jinja's messages when a template read holds a `NAME=value`
    line (a template that is a copy of `.env`, whose password holds `{{`): a line starting with an
    identifier. python-dotenv reads more: a BOM before the first name, any blank before a name, a
    quoted key, a name of other characters. A one-line `.env` of those shapes had its password
    printed whole: "template 'notes.j2': 'Zq19b…' is undefined" (pass 19b, 13.6)."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, dotenv.encode(), "x\n")
    linked = tmp_path / "tpl" / "notes.j2"
    linked.unlink()
    # a copy: a hard link is refused before it is read since main's fecd9de (test_template_links)
    shutil.copyfile(tmp_path / "ws" / "victim" / ".env", linked)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "'…' is undefined" in result.stderr, result.stderr
    assert "Zq19b" not in result.stdout + result.stderr


# --- smaller list: a template's error names the template it is in ---------------------------------------


@pytest.mark.parametrize(
    ("included", "said"),
    [
        ("\n{% if %}", "template c.j2:2 (through 'notes.j2'): Expected an expression"),
        ("\n\n{{ nope }}", "template c.j2:3 (through 'notes.j2'): 'nope' is undefined"),
    ],
    ids=["syntax", "undefined"],
)
def test_an_error_in_an_included_template_names_that_template(tmp_path, included, said):
    """The issue's smaller list: "a failing `{% include '../x' %}` reports the wrong template name".
    A syntax error or an undefined name inside an included template was said to be in the including
    one: "template notes.j2:2: Expected an expression …" (notes.j2's line 2 is the include itself),
    "template 'notes.j2': 'nope' is undefined" (pass 19b, smaller list)."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "ok\n{% include 'c.j2' %}\n")
    (tmp_path / "tpl" / "c.j2").write_text(included)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert said in result.stderr, result.stderr


# --- 13.7: an SSH private key typed as an option is never quoted back ------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["plan", "--repo", "{key}"], "no repo named '***'"),
        (["bootstrap", "newone", "--like", "{key}"], "--like ***: no such repo"),
        # the key's base64 holds `/`: parts under 255 bytes made it a path, printed in each repo's line
        (["plan", "--workspace", "{key}"], "--workspace holds a private key"),
        (["plan", "--out", "{key}"], "--out ***"),
    ],
    ids=["repo", "like", "workspace", "out"],
)
def test_an_ssh_private_key_typed_as_an_option_is_never_repeated(fleet, tmp_path, args, said):
    """Pass 18b hid an age private key pasted where a name was wanted; an OpenSSH private key (sops
    takes one as an age identity: SOPS_AGE_SSH_PRIVATE_KEY_FILE) was quoted back whole but its first
    word: "no repo named '*** OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAA…'"
    (pass 19b, 13.7)."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id")], check=True
    )
    key = (tmp_path / "id").read_text()
    body = key.splitlines()[1]
    result = rollout(*[a.format(key=key) for a in args], "--manifest", fleet.manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and said in result.stderr, out
    assert body[:40] not in out and body[-30:] not in out, out


# --- 5/13.11: a YAML bomb in a contributor branch's pre-commit config -----------------------------------

BOMB = "x0: &a0 [m, m, m, m, m, m, m, m, m, m]\n" + "".join(
    f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 5)
)  # 111,111 values once expanded, from 5 lines (eight levels: 111,111,111)


def test_verify_refuses_a_yaml_bomb_in_a_branchs_precommit_config_before_expanding_it(
    fleet, tmp_path
):
    """A contributor branch keeps the managed hooks as rendered and adds eight levels of aliases
    (`&aN [*aN-1 × 10]`) under `default_stages:`; verify copies that setting into the config it runs
    and turned each value into text: `verify --ref` went past 15 GB (killed by the kernel), and each
    pre-commit it had started loaded the result at 5 GB. The aliases are now counted from the parser's
    events, never expanded: more than 100,000 values is one line naming the file and line (pass 19b,
    item 5 / 13.11). Four levels here: what they would expand to is small, what is said is the same."""
    from tests.test_pass3 import commit_on

    assert (
        rollout("apply", "--manifest", fleet.manifest, "--yes", "--repo", "juniper-cascor").code
        == 0
    )
    repo = fleet.repo("juniper-cascor")
    config = git(repo, "show", "chore/sops-age-rollout:.pre-commit-config.yaml")
    bombed = BOMB + "default_stages: [pre-commit, *a4]\n" + config
    branch = commit_on(
        repo, "chore/sops-age-rollout", {".pre-commit-config.yaml": bombed}, tmp_path
    )
    git(repo, "update-ref", "refs/heads/contrib", branch)
    result = rollout(
        "verify",
        "--manifest",
        fleet.manifest,
        "--repo",
        "juniper-cascor",
        "--ref",
        "contrib",
        "--json",
    )
    checks = {c["name"]: c for r in json.loads(result.stdout)["repos"] for c in r["checks"]}
    hook = checks["precommit-hook"]
    assert not hook["ok"], hook
    assert (
        ".pre-commit-config.yaml:5: invalid YAML: its aliases (*name) expand to more than"
        in (hook["detail"])
    ), hook


def test_a_config_with_a_few_aliases_still_loads():
    """The control: anchors people use (one exclude pattern shared by hooks) read as before."""
    from juniper_rollout.edits.precommit import load_data
    from juniper_rollout.yamlio import check_aliases, load_plain

    text = (
        "exclude: &skip '^vendor/'\nrepos:\n  - repo: local\n    hooks:\n"
        "      - {id: a, name: a, entry: a, language: fail, exclude: *skip}\n"
        "      - {id: b, name: b, entry: b, language: fail, exclude: *skip}\n"
    )
    check_aliases(text)
    assert load_data(text)["repos"][0]["hooks"][1]["exclude"] == "^vendor/"
    assert load_plain(text)["repos"][0]["hooks"][0]["exclude"] == "^vendor/"


# --- 13.7/13.6: a .env pasted where a name was wanted -------------------------------------------------


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["plan", "--repo", "{env}"], "no repo named 'HF_TOKEN=***"),
        (["plan", "--rollout", "{env}"], "no rollout named 'HF_TOKEN=***"),
        (["verify", "--ref", "{env}"], "--ref holds a line break or NAME=value text"),
        (["drift", "--ref", "{env}"], "--ref holds a line break or NAME=value text"),
        (
            ["verify", "--ref", "API_TOKEN={canary}-one-line"],
            "--ref holds a line break or NAME=value",
        ),
        (["plan", "{env}"], "got unexpected extra argument(s) (HF_TOKEN=***"),
    ],
    ids=["repo", "rollout", "verify-ref", "drift-ref", "one-line-ref", "stray-argument"],
)
def test_a_dotenv_pasted_as_an_option_is_never_repeated(fleet, args, said):
    """`rollout plan --repo "$(cat .env)"` (a paste into the wrong place, as 18b's age key and 16b's
    token were) quoted the whole file back, values and all; `verify --ref "$(cat .env)"` printed it
    as the run's title and in every repo's row (22 times). Each value of 8+ characters after a NAME=
    is now `***` in an error line, and `--ref` holding a line break or NAME=value is refused before
    any repo is read (pass 19b, 13.7). helpers.rollout asserts the canary is in no output."""
    from tests.demofleet import CANARY

    env = (fleet.repo("juniper-cascor") / ".env").read_text()
    assert CANARY in env
    result = rollout(
        *[a.format(env=env, canary=CANARY) for a in args], "--manifest", fleet.manifest
    )
    assert result.code in (1, 2) and said in result.stderr, result.stdout + result.stderr


# --- smaller list (keygen) / 13.6: the key itself where its file's path was meant -----------------------


@pytest.mark.parametrize("variable", ["SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY_CMD"])
@pytest.mark.parametrize("command", ["plan", "verify"])
def test_a_private_key_put_in_sops_age_key_file_is_never_printed(
    fleet, monkeypatch, command, variable
):
    """`export SOPS_AGE_KEY_FILE=AGE-SECRET-KEY-1…` (the key itself, where SOPS_AGE_KEY was meant):
    plan printed "(SOPS_AGE_KEY_FILE=AGE-SECRET-KEY-1… cannot be opened)" in juniper-cascor's line
    (sops's own "failed to open … file: open KEY") and verify's key check
    "SOPS_AGE_KEY_FILE=AGE-SECRET-KEY-1… does not exist"; `SOPS_AGE_KEY_CMD=KEY` the same through
    sops's "failed to execute command KEY" (pass 19b)."""
    key = KEY_LINE.search(fleet.key_file.read_text(encoding="utf-8"))[0]
    if (
        variable == "SOPS_AGE_KEY_CMD"
    ):  # set but empty: sops then names the command it failed to run
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", "")
    monkeypatch.setenv(variable, key)
    result = rollout(command, "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    out = result.stdout + result.stderr
    assert key[20:40] not in out.upper(), out
    if (
        command == "verify" and variable == "SOPS_AGE_KEY_FILE"
    ):  # the first problem is the one shown
        assert "SOPS_AGE_KEY_FILE holds a private key itself" in out, out


@pytest.mark.parametrize("where", ["env", "option"])
def test_keygen_never_writes_a_file_named_as_a_private_key(fleet, tmp_path, monkeypatch, where):
    """`SOPS_AGE_KEY_FILE=AGE-SECRET-KEY-1… rollout keygen` wrote a NEW key into a file named as the
    old one, in the current folder, and printed "created AGE-SECRET-KEY-1…" (18b refused only `-`)."""
    key = KEY_LINE.search(fleet.key_file.read_text(encoding="utf-8"))[0]
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    args = ["keygen"]
    if where == "env":
        monkeypatch.setenv("SOPS_AGE_KEY_FILE", key)
    else:
        args += ["--key-file", key]
    result = rollout(*args)
    out = result.stdout + result.stderr
    assert result.code == 1 and "holds a private key itself" in result.stderr, out
    assert key[20:40] not in out.upper() and not list(here.iterdir()), out
