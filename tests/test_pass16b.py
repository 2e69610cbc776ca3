"""Issue 13, pass 16b: the adversarial pass over items 5-9 and the smaller list, round seven
(main 2b9c619).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from tests.helpers import clone_state, git, rollout

BRANCH = "chore/sops-age-rollout"
TOKEN = "ghp_" + "Zq16bTokenAAAAbbbbCCCCddddEEEEffff1234"  # a GitHub token's shape


def _sops_dotenv(recipient: str, plaintext: bytes) -> str:
    """``plaintext`` encrypted by the real sops for ``recipient``, as dotenv (names stay in clear)."""
    from juniper_rollout import sops

    return subprocess.run(
        [
            sops.sops_path(),
            "encrypt",
            "--age",
            recipient,
            "--input-type",
            "dotenv",
            "--output-type",
            "dotenv",
            "/dev/stdin",
        ],
        input=plaintext,
        capture_output=True,
        check=True,
        env={"SOPS_DISABLE_VERSION_CHECK": "1", "PATH": ""},
    ).stdout.decode()


# --- 13.8: a token committed as a name, listed by verify ------------------------------------------------


@pytest.mark.parametrize(
    "name",
    # pass 30b made `Zq16b` a word (`Neo4j`'s shape), and `Zq16b-horse.battery` a worded name
    [TOKEN, "pw is Zq16bHorse battery", "Zq1x6b-horse.battery"],
    ids=["token-name", "words-with-spaces", "no-identifier"],
)
def test_verify_never_echoes_a_name_of_a_branchs_env_enc_that_is_a_credential_or_no_identifier(
    fleet, tmp_path, monkeypatch, name
):
    """A contributor's branch commits `.env.enc` (the real sops, the team's recipient) holding item 8's
    bare token line as a NAME, or text that is no variable name (sops keeps any text before `=`, in
    clear). `verify --ref` (CI: no key) listed it among the names `.env.example` does not document:
    "✗ encrypted-files: .env.enc holds ghp_…, which .env.example does not list" (pass 16b, 13.8)."""
    from juniper_rollout import keys
    from tests.test_pass3 import commit_on

    repo = fleet.repo("juniper-cascor")
    assert (
        rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes").code
        == 0
    )
    recipient = keys.public_keys_in(fleet.key_file)[0]
    plaintext = (repo / ".env").read_bytes() + f"{name}=x\n".encode()
    held = _sops_dotenv(recipient, plaintext)
    assert name in held  # sops kept the name in clear: the attack is real
    contrib = commit_on(repo, BRANCH, {".env.enc": held}, tmp_path, "contributor")
    git(repo, "update-ref", "refs/heads/contrib", contrib)
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")  # CI holds no key
    for extra in ((), ("--json",)):
        result = rollout(
            "verify",
            "--manifest",
            fleet.manifest,
            "--repo",
            "juniper-cascor",
            "--ref",
            "contrib",
            *extra,
        )
        assert result.code == 1
        out = result.stdout + result.stderr
        assert "Zq1" not in out, out
        assert "holds 1 name that is no variable name or shaped like a credential" in out, out
        assert "not shown" in out
    # the tool's own branch: no such name, every check passes
    ok = rollout(
        "verify", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--ref", BRANCH
    )
    assert ok.code == 0, ok.stdout + ok.stderr


# --- 13.6: a template hard-linked to a `.env` quoted in Jinja's error message ---------------------------

PASSWORD = "Zq16bHorsebatterystaple"  # letters: a generated password's words


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (
            f"DB_PASSWORD=x{{{{Zq9 {PASSWORD}}}}}",
            "expected token 'end of print statement', got '…'",
        ),
        (f"DB_PASSWORD={{{{{PASSWORD}}}}}", "'…' is undefined"),
        (f"DB_PASSWORD=ab{{%{PASSWORD}%}}", "Encountered unknown tag '…'"),
        # a multi-line value: the failing line holds no `NAME=`
        (f'SA_JSON="{{\n  \\"secret\\": \\"a{{{{b {PASSWORD}}}}}\\"\n}}"', "notes.j2:3: "),
        (f"DB_PASSWORD=x{{% include '{PASSWORD}' %}}", "includes '…', which is not there"),
        (f'DB_PASSWORD=x{{{{ "".__{PASSWORD} }}}}', "has no attribute '…'"),
    ],
    ids=["syntax", "undefined", "unknown-tag", "multi-line-value", "include", "attribute"],
)
def test_a_template_linked_to_a_dotenv_fails_without_quoting_its_values(tmp_path, line, said):
    """A template HARD-linked to a `.env` (item 6's `template: .env`, the spelling the loader cannot
    refuse by name or path) is refused when it renders: the leak guard reads the rendered bytes. But a
    password holding `{{` or `{%` (a generated one with symbols) makes Jinja fail first, and its message
    quoted the password: "template notes.j2:2: expected token 'end of print statement', got
    'Zq16bHorse…'", "'Zq16bHorse…' is undefined", "Encountered unknown tag …" (pass 16b, 13.6)."""
    from tests.test_pass11b import _one_repo_with_a_template

    dotenv = f"APP_ENV=dev\n{line}\n".encode()
    manifest = _one_repo_with_a_template(tmp_path, dotenv, "x\n")
    linked = tmp_path / "tpl" / "notes.j2"
    linked.unlink()
    # a copy: a hard link is refused before it is read (test_template_links)
    shutil.copyfile(tmp_path / "ws" / "victim" / ".env", linked)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert said in result.stderr, result.stderr
    assert "Zq16b" not in result.stdout + result.stderr


def test_a_template_holding_no_dotenv_line_still_quotes_what_fails(tmp_path):
    """The control: an ordinary template's error still names what is undefined."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "ops: {{ who_is_it }}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1
    assert "'who_is_it' is undefined" in result.stderr, result.stderr


# --- 13.6: a plaintext env file in one of the clone's folders ------------------------------------------


@pytest.mark.parametrize("where", ["backend/.env.prod", "deploy/staging/secrets.env", "api/.ENV"])
def test_a_template_linked_to_an_env_file_in_a_folder_of_a_clone_is_never_rendered(tmp_path, where):
    """The leak guard read the plaintext env files at a clone's top and its encrypt sources, not those
    in its folders: a template hard-linked to an untracked `backend/.env.prod` (a service's own env
    file, next to its code) was rendered and its token printed in the plan's diff (passes 11b and 13b
    noted it; pass 16b, 13.6)."""
    from tests.test_pass11b import _one_repo_with_a_template

    token = "stg-Zq16bFolderToken-77aa"
    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "x\n")
    env_file = tmp_path / "ws" / "victim" / where
    env_file.parent.mkdir(parents=True)
    env_file.write_text(f"STAGING_API_TOKEN={token}\n")
    linked = tmp_path / "tpl" / "notes.j2"
    linked.unlink()
    # a copy: a hard link is refused before it is read (test_template_links)
    shutil.copyfile(env_file, linked)
    for extra in ((), ("--json",)):
        result = rollout("plan", "--manifest", manifest, *extra)
        assert result.code == 1, result.stdout
        assert f"value on line 1 of the plaintext {where}" in result.stdout, result.stdout
        assert "Zq16b" not in result.stdout + result.stderr


# --- 13.6/13.11: a Python error Jinja's own filters raise ---------------------------------------------


@pytest.mark.parametrize("expression", ["1|xmlattr", "1|dictsort", "1|wordwrap", "[]|indent"])
def test_an_attribute_error_in_a_template_is_one_line_and_quotes_no_line_of_it(
    tmp_path, expression
):
    """`{{ 1|xmlattr }}` (and `1|dictsort`, `1|wordwrap`, `[]|indent`) raise AttributeError inside
    Jinja's filter: it was no error the tool tells in one line, so `plan` ended in a Python traceback,
    whose frame of the template printed its line. A template hard-linked to a `.env` whose password
    holds `{{ … }}` printed the password that way (pass 16b, 13.6/13.11)."""
    from tests.test_pass11b import _one_repo_with_a_template

    dotenv = f"APP_ENV=dev\nDB_PASSWORD=Zq16bHorsebatterystaple{{{{ {expression} }}}}\n".encode()
    manifest = _one_repo_with_a_template(tmp_path, dotenv, "x\n")
    linked = tmp_path / "tpl" / "notes.j2"
    linked.unlink()
    # a copy: a hard link is refused before it is read (test_template_links)
    shutil.copyfile(tmp_path / "ws" / "victim" / ".env", linked)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1
    assert "template notes.j2:2 fails: AttributeError (fix the template)" in result.stderr, (
        result.stderr
    )
    assert result.stderr.count("\n") == 1
    assert "Zq16b" not in result.stdout + result.stderr


# --- smaller list: a path .gitattributes stores through Git LFS, the tool's file not yet there ---------

LFS_LINE = "filter=lfs diff=lfs merge=lfs -text"


@pytest.mark.parametrize(("pattern", "stored"), [("*.md", True), ("*.png", False)])
def test_a_file_the_tool_creates_where_gitattributes_says_lfs_is_skipped_with_a_note(
    fleet, tmp_path, pattern, stored
):
    """A repo tracking `*.md` with Git LFS: the tool created `notes/SOPS_USAGE_GUIDE.md` as a plain blob
    (a pointer is only skipped when the commit already holds one), so after `git checkout` of the
    branch git-lfs said "Encountered 1 file that should have been a pointer, but wasn't" and `git
    status` showed it modified in every clone (measured with git-lfs 3.3). Skipped with the LFS note,
    as a pointer is (pass 16b, smaller list)."""
    from tests.test_pass3 import main_moves_to

    repo = fleet.repo("juniper-ml")
    main_moves_to(repo, {".gitattributes": f"{pattern} {LFS_LINE}\n"}, tmp_path)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-ml")
    before = clone_state(repo)
    result = rollout("plan", *only, "--json")
    assert clone_state(repo) == before  # git check-attr read a throwaway index, never the clone's
    entry = next(
        f
        for r in json.loads(result.stdout)["repos"]
        for f in r["files"]
        if f["path"] == "notes/SOPS_USAGE_GUIDE.md"
    )
    assert (entry["action"] == "skip") is stored, entry
    assert ("filter=lfs" in entry["reason"]) is stored, entry
    assert rollout("apply", *only, "--yes").code == 0
    written = git(repo, "ls-tree", "-r", "--name-only", BRANCH).split()
    assert ("notes/SOPS_USAGE_GUIDE.md" in written) is not stored, written


def test_an_encrypted_file_gitattributes_stores_through_lfs_is_refused_with_a_line_that_works(
    fleet, tmp_path
):
    """`*.enc filter=lfs` (a repo keeping every `.enc` in LFS): the tool wrote `.env.enc` as a plain
    blob where git-lfs wants a pointer. Refused in one line; its `.gitattributes` line works when
    added (pass 16b, smaller list)."""
    from tests.test_pass3 import main_moves_to

    repo = fleet.repo("juniper-cascor")
    main_moves_to(repo, {".gitattributes": f"*.enc {LFS_LINE}\n"}, tmp_path)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    result = rollout("plan", *only)
    assert result.code == 1
    assert ".env.enc would be stored in Git LFS" in result.stdout, result.stdout
    line = re.search(r"`(/\.env\.enc [^`]*)`", result.stdout)[1]
    main_moves_to(repo, {".gitattributes": f"*.enc {LFS_LINE}\n{line}\n"}, tmp_path)
    again = rollout("plan", *only)
    assert again.code == 0, again.stdout
    assert ".env.enc                 create" in again.stdout


# --- smaller list: a manifest path the tool's own hook and verify refuse --------------------------------


@pytest.mark.parametrize("path", [".env.enc", "config/app.enc", "notes/KEYS.ENC"])
def test_a_rendered_file_named_like_a_sops_file_is_refused_with_its_line(fleet, path):
    """`files: - path: .env.enc` with a template, in a repo that encrypts nothing (juniper-ml): the
    manifest passed, apply committed the rendered text as `.env.enc`, and the tool's own checks then
    called its branch a leak: verify "✗ .env.enc is not sops-encrypted … it may be plaintext in git",
    drift "enc-without-sops … rotate what it held", and the managed require-sops-encrypted hook fails
    on it (pass 7 refused it in a named rollout only; pass 16b, smaller list)."""
    text = fleet.manifest.read_text()
    anchor = "        template: SOPS_USAGE_GUIDE.md.j2\n"
    assert anchor in text
    fleet.manifest.write_text(
        text.replace(anchor, anchor + f"      - path: {path}\n        template: CODEOWNERS.j2\n", 1)
    )
    line = text[: text.index(anchor)].count("\n") + 2
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert f"repos.yaml:{line}: repo juniper-ml: {path} is named like a sops-encrypted file" in (
        result.stderr
    ), result.stderr
    assert result.stderr.count("\n") == 1


# --- 13.6: an age private key in the texts the tool commits but the leak guard never reads --------------


@pytest.mark.parametrize("where", ["commit_message", "pull_request"])
def test_a_private_key_in_a_commit_message_or_pull_request_text_is_refused_with_its_line(
    fleet, where
):
    """The leak guard reads the files the tool writes; the commit message and the pull request's
    title and body are written too. `commit_message: "chore: … AGE-SECRET-KEY-1…"` passed: apply
    committed the private key in the commit message (with --push, on origin; `pr`, its title). The
    manifest refused a private key in `age_recipients:` only (pass 16b, 13.6)."""
    import pyrage

    secret = str(pyrage.x25519.Identity.generate())
    text = fleet.manifest.read_text()
    old = '  commit_message: "chore: manage secrets with SOPS + age"\n'
    assert old in text
    new = (
        f'  commit_message: "chore: manage secrets ({secret})"\n'
        if where == "commit_message"
        else old + f"  pull_request:\n    body: |\n      CI key:\n      {secret}\n"
    )
    fleet.manifest.write_text(text.replace(old, new))
    line = (new.count("\n") if where == "pull_request" else 1) + text[: text.index(old)].count("\n")
    for command in (("plan",), ("apply", "--yes")):
        result = rollout(*command, "--manifest", fleet.manifest, "--repo", "juniper-ml")
        assert result.code == 1
        assert f"repos.yaml:{line}: a commit message or pull request text holds a private key" in (
            result.stderr
        ), result.stderr
        assert secret[20:] not in result.stdout + result.stderr
    assert not git(fleet.repo("juniper-ml"), "branch", "--list", BRANCH).strip()


# --- 13.9: a plaintext env file pushed, then force-pushed away ----------------------------------------


def test_drift_finds_a_plaintext_env_file_origin_held_before_a_force_push(fleet, tmp_path):
    """`.env.local` committed and pushed, then taken back with `git reset --hard HEAD~1` and
    `git push -f` (the usual "undo"): no ref holds the commit any more, so drift said "0 findings";
    but origin served it (a host keeps it, reachable by its id) and the clone's remote-tracking
    reflog says so. A commit amended away before any push stays unreported: only the local
    reflogs hold it (pass 16b, 13.9)."""
    repo = fleet.repo("juniper-data")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True)
    (work / ".env.local").write_text("API_TOKEN=Zq16bPushedThenGone-77aa\n")
    git(work, "add", "-f", ".env.local")
    git(work, "commit", "-qm", "local settings")
    git(work, "push", "-q", "origin", "HEAD:main")
    git(repo, "fetch", "-q", "origin")
    git(work, "reset", "-q", "--hard", "HEAD~1")
    git(work, "push", "-q", "-f", "origin", "HEAD:main")
    git(repo, "fetch", "-q", "origin")  # origin/main moves back: its reflog keeps the old tip
    assert "local settings" not in git(repo, "log", "--all", "--format=%s")
    # the control: a commit of the clone's own, taken back before any push (its branch's reflog only)
    from tests.test_pass3 import commit_on

    staged = commit_on(repo, "main", {".env.staging": "API_TOKEN=Zq16bNeverPushed\n"}, tmp_path)
    git(repo, "update-ref", "refs/heads/wip", staged)
    git(repo, "update-ref", "refs/heads/wip", "main")
    result = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-data", "--format", "json"
    )
    found = [f for r in json.loads(result.stdout)["repos"] for f in r["findings"]]
    paths = [f["path"] for f in found if f["id"] == "plaintext-env-in-history"]
    assert paths == [".env.local"], found
    assert "Zq16b" not in result.stdout + result.stderr


# --- smaller list: a SHA-256 repository whose config spells the format as git also reads it ------------


@pytest.mark.parametrize(
    "spelling",
    ['objectformat = "sha256"', "objectFormat = sha256 ; set by hand", "objectformat = sha2\\\n56"],
    ids=["quoted", "comment", "continued"],
)
def test_a_sha256_repository_is_named_as_such_however_its_config_spells_it(
    fleet, tmp_path, spelling
):
    """`git init --object-format=sha256` writes `objectformat = sha256`; git reads the value quoted,
    with a comment after it, or continued over two lines just as well. The tool's text match missed
    those and the issue's own symptom came back: "base branch 'main' not found" (plan, verify) and
    sync's branch "absent" (pass 16b, smaller list)."""
    repo = fleet.workspace / "sharepo"
    subprocess.run(
        ["git", "init", "-q", "--object-format=sha256", "-b", "main", str(repo)], check=True
    )
    git(repo, "commit", "-q", "--allow-empty", "-m", "init")
    config = repo / ".git" / "config"
    text = config.read_text()
    assert "objectformat = sha256" in text
    config.write_text(text.replace("objectformat = sha256", spelling))
    assert git(repo, "rev-parse", "--show-object-format").strip() == "sha256"  # git reads it so
    fleet.manifest.write_text(fleet.manifest.read_text() + "\n  - name: sharepo\n")
    for command in ("plan", "verify", "sync"):
        result = rollout(command, "--manifest", fleet.manifest, "--repo", "sharepo")
        said = result.stdout + result.stderr
        assert "SHA-256 repositories are not supported" in said, (command, said)
        assert "not found" not in said


# --- 13.6: curl's `-u user:password` ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "part", "refused"),
    [
        ("CURL_OPTS=-u admin:Horsebatteryz", "Horsebatteryz", True),
        ("CURL_OPTS=--user admin:Horsebatteryz -s", "Horsebatteryz", True),
        ("CURL_OPTS=-uadmin:Horsebatteryz", "Horsebatteryz", True),
        ('CURL_OPTS="--user=admin:Horsebatteryz"', "Horsebatteryz", True),
        # controls: a `key:value` label, and a user given alone, are no password
        ("LABELS=team:platformteam", "platformteam", False),
        ("CURL_OPTS=-u admin --max-time 30 -H Accept:information", "information", False),
    ],
    ids=["dash-u", "long-user", "glued", "user-equals", "label", "user-alone"],
)
def test_the_password_of_curls_user_option_is_checked(tmp_path, line, part, refused):
    """`CURL_OPTS=-u admin:PASSWORD` (curl's basic auth, `--user` alike): the text after `:` was a part
    under no name, so a password of 8-15 letters under a name that looks no secret went unchecked and
    a template holding it was printed (the `user:X` piece of pass 13b, round six's Basic header; pass
    16b, 13.6)."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(
        tmp_path, f"{line}\n".encode(), f"ops: {part}\n", public=f"ops: {part}\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert ("value on line 1 of the plaintext .env" in result.stdout) is refused, result.stdout
    assert (f"+ops: {part}" in result.stdout) is not refused


# --- 13.9: drift repeating a commit's subject that holds the value -------------------------------------


@pytest.mark.parametrize("fmt", ["table", "json", "sarif"])
@pytest.mark.parametrize("ref", [(), ("--ref", "side")], ids=["history", "tracked"])
def test_drift_never_repeats_a_commit_subject_holding_a_value(fleet, tmp_path, fmt, ref):
    """`git commit -F .env.local` (the file given as the message by mistake: the subject is its first
    line, `API_TOKEN=…`) or `-m "add SECRET_KEY=…"`: drift named the commits that added the plaintext
    env files with their subjects, so the finding about the leak printed the token, in text, JSON and
    SARIF (an upload to code scanning) alike (pass 16b, 13.9). The commits are still named by id."""
    from tests.test_pass3 import commit_on

    repo = fleet.repo("juniper-data")
    token = "Zq16bSubjectTok-77aa"
    files = {".env.local": f"API_TOKEN={token}\n"}
    added = commit_on(repo, "main", files, tmp_path, f"API_TOKEN={token}")
    more = {".env.production": "X=1\n"}
    tracked = commit_on(repo, added, more, tmp_path, f"deploy: add SECRET_KEY={token}")
    git(repo, "update-ref", "refs/heads/side", tracked)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-data", *ref)
    result = rollout("drift", *only, "--format", fmt)
    out = result.stdout + result.stderr
    assert token not in out, out
    assert "its subject holds NAME=value text or a credential: not shown" in out, out
    assert added[:7] in out and tracked[:7] in out


# --- 13.6: a template read from a clone's .git (a CI checkout's credential) ----------------------------

CHECKOUT_HEADER = "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX1pxMTZiQWN0aW9uc1Rva2VuMTIzNA=="
# base64 of `x-access-token:ghs_Zq16bActionsToken1234`: what actions/checkout writes into .git/config


@pytest.mark.parametrize("how", ["path", "symlink", "hard-link", "copy"])
def test_a_template_from_a_clones_git_folder_or_holding_a_basic_credential_is_refused(
    tmp_path, how
):
    """`templates:` a folder holding a clone (a CI workspace), `template: clone/.git/config`: a CI
    checkout keeps its token there as an `http.<url>.extraheader` Basic header (base64 of
    `x-access-token:TOKEN`), which no credential shape matched: the plan printed the header and apply
    would commit it (pass 16b, 13.6). A template is never read through a `.git` folder (by its name or
    where a symlink inside leads), and a Basic credential is a credential wherever it is."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "x\n")
    clone = tmp_path / "tpl" / "checkout"
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    git(clone, "config", "http.https://github.com/.extraheader", CHECKOUT_HEADER)
    name = {"path": "checkout/.git/config", "symlink": "cfg.j2"}.get(how, "cfg.j2")
    if how == "symlink":
        (tmp_path / "tpl" / "cfg.j2").symlink_to(clone / ".git" / "config")
    elif how == "hard-link":
        (tmp_path / "tpl" / "cfg.j2").hardlink_to(clone / ".git" / "config")
    elif how == "copy":
        shutil.copyfile(clone / ".git" / "config", tmp_path / "tpl" / "cfg.j2")
    manifest.write_text(manifest.read_text().replace("template: notes.j2", f"template: {name}"))
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    said = {"hard-link": "is one file under 2 names", "copy": "holds a credential"}.get(
        how, "is inside a .git folder"
    )
    assert said in result.stderr, result.stderr
    assert "eC1hY2Nlc3MtdG9rZW46" not in result.stdout + result.stderr


def test_a_template_naming_basic_auth_with_a_placeholder_still_renders(tmp_path):
    """The control: a guide showing the header with a placeholder or a variable is no credential."""
    from tests.test_pass11b import _one_repo_with_a_template

    text = 'curl -H "Authorization: Basic YOUR_BASE64_HERE" (basic settings)\n'
    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", text)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr
    assert "YOUR_BASE64_HERE" in result.stdout


# --- 13.6: well-known credentials files whose passwords have no shape ----------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (".netrc", "machine github.com\n  login jane\n  password Zq16bHorsebattery\n"),
        (".pgpass", "db.example:5432:app:app:Zq16bHorsebattery\n"),
        (".docker/config.json", '{"auths": {"ghcr.io": {"auth": "amFuZTpacTE2YkhvcnNl"}}}\n'),
        (".aws/credentials", "[default]\naws_secret_access_key = Zq16bwJalrXUtnFEMIK7MDENGbPxRf\n"),
    ],
)
def test_a_template_named_like_a_credentials_file_is_refused(tmp_path, name, text):
    """`templates:` a home folder or a CI workspace, `template: .netrc`: a password of letters, the last
    field of `.pgpass`, docker's base64 `auth`, `aws_secret_access_key` match no credential shape, so
    the plan printed them (the loader's own docstring named `.netrc` as refused). Refused by name, as
    a plaintext env file is (pass 16b, 13.6)."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "x\n")
    held = tmp_path / "tpl" / name
    held.parent.mkdir(parents=True, exist_ok=True)
    held.write_text(text)
    manifest.write_text(manifest.read_text().replace("template: notes.j2", f"template: {name}"))
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "is named like a credentials file" in result.stderr, result.stderr
    assert "Zq16b" not in result.stdout + result.stderr and "amFuZ" not in result.stdout


def test_a_template_named_config_json_elsewhere_still_renders(tmp_path):
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "x\n")
    (tmp_path / "tpl" / "config.json").write_text('{"log_level": "info"}\n')
    manifest.write_text(manifest.read_text().replace("template: notes.j2", "template: config.json"))
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout + result.stderr


# --- smaller list: a branch name git cannot create beside an existing branch -----------------------------


@pytest.mark.parametrize("existing", ["chore", f"{BRANCH}/wip"], ids=["a-folder", "under-it"])
def test_a_branch_beside_a_branch_named_as_its_folder_is_said_at_plan_and_apply_with_a_way_out(
    fleet, existing
):
    """A clone with a branch `chore` (or `chore/sops-age-rollout/wip`): git cannot create
    `chore/sops-age-rollout` beside it. Plan said "1 with changes", then apply failed in git's words:
    "could not update branch …: stderr: 'fatal: update_ref failed … 'refs/heads/chore' exists; cannot
    create …'", with no way out (pass 16b, smaller list: branch names). Now plan says apply will refuse
    it, apply says why in one line, and its `git branch -m` works when pasted."""
    repo = fleet.repo("juniper-ml")
    git(repo, "branch", existing)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-ml")
    plan = rollout("plan", *only)
    assert f"apply will refuse it: branch {BRANCH} cannot be created: the branch {existing}" in (
        plan.stdout
    ), plan.stdout
    apply = rollout("apply", *only, "--yes")
    assert apply.code == 1
    assert f"branch {BRANCH} cannot be created: the branch {existing} exists" in apply.stdout
    assert "stderr" not in apply.stdout and "fatal" not in apply.stdout
    pasted = re.search(r"`(git -C \S+ branch -m [^`]*)`", apply.stdout)[1]  # pass 25d: -C CLONE
    subprocess.run(pasted, shell=True, cwd=repo, check=True)
    again = rollout("apply", *only, "--yes")
    assert again.code == 0 and "created" in again.stdout, again.stdout


# --- 13.7: a usage error quoting a URL's token ---------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("bootstrap", "newone", f"https://x-access-token:{TOKEN}@github.com/o/r.git"),
        ("bootstrap", "newone", f"https://{TOKEN}@github.com/o/r.git"),
        ("bootstrap", "newone", TOKEN),
        ("plan", f"https://github.com/o/r.git?access_token={TOKEN}"),
    ],
    ids=["user-info", "user-token", "bare-token", "query"],
)
def test_a_usage_error_never_repeats_a_token_typed_on_the_command_line(args):
    """`rollout bootstrap NAME https://x-access-token:TOKEN@…` (the `--url` forgotten: an easy slip)
    said "got unexpected extra argument(s) (https://x-access-token:ghp_…@github.com/o/r.git)": click's
    usage errors quote what was typed, and bootstrap's own URL checks never saw it (pass 16b, 13.7)."""
    result = rollout(*args)
    assert result.code == 1
    assert "unexpected extra argument" in result.stderr, result.stderr
    assert "Zq16b" not in result.stdout + result.stderr, result.stderr
    assert result.stderr.count("\n") == 1
