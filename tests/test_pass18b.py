"""Pass 18b (issue 13, items 5-9 and the smaller list): what this pass found, each with its fix."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.helpers import rollout

KEY_LINE = re.compile(r"AGE-SECRET-KEY-1[0-9A-Z]+")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["plan", "--repo", "{key}"], "no repo named '***'"),
        (["plan", "--rollout", "{key}"], "no rollout named '***'"),
        (["bootstrap", "newcomer", "--like", "{key}"], "--like ***:"),
        (["verify", "--ref", "{key}"], "--ref holds an age private key; nothing read"),
        (["drift", "--ref", "{key}"], "--ref holds an age private key; nothing read"),
        (["plan", "--repo", "{lower}"], "no repo named '***'"),
    ],
    ids=["repo", "rollout", "like", "verify-ref", "drift-ref", "repo-lower-case"],
)
def test_an_age_private_key_typed_as_an_option_is_never_repeated(fleet, args, said):
    """An age private key pasted where a name was wanted was quoted back whole in the error line
    (`--repo`, `--like`, `--rollout`), and `verify/drift --ref KEY` printed it as the run's title and
    in every repo's row: names_credential knows no age key shape."""
    key = KEY_LINE.search(fleet.key_file.read_text(encoding="utf-8"))[0]
    args = [a.format(key=key, lower=key.lower()) for a in args]
    result = rollout(*args, "--manifest", fleet.manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and said in result.stderr, out
    assert len(result.stderr.splitlines()) == 1 and not result.stdout, out
    assert key not in out.upper() and key[20:40] not in out.upper(), out


def test_a_template_raising_runtimeerror_is_one_line_never_a_traceback_of_its_text(tmp_path):
    """`{{ cycler().next() }}` (jinja2.utils raises RuntimeError for a cycler of no item) escaped
    render's error mapping: a Python traceback whose template frame printed the template's line; a
    template hard-linked to `.env` holding that text printed its password (items 6 and 11)."""
    from tests.test_pass11b import _one_repo_with_a_template

    dotenv = b"DB_PASSWORD=Zq18bHorse{{cycler().next()}}battery\n"
    manifest = _one_repo_with_a_template(tmp_path, dotenv, "x\n")
    template = tmp_path / "tpl" / "notes.j2"
    template.unlink()
    # a copy: a hard link is refused before it is read (test_template_links)
    shutil.copyfile(tmp_path / "ws" / "victim" / ".env", template)
    result = rollout("plan", "--manifest", manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and "Traceback" not in out, out
    assert "template notes.j2:1 fails: RuntimeError (fix the template)" in result.stderr, out
    assert len(result.stderr.splitlines()) == 1 and "Zq18b" not in out, out


TOKEN = "ghp_Zq18b" + "AbCdEfGhIjKlMnOpQrStUvWxYz012"


@pytest.mark.parametrize(
    ("where", "secret"),
    [
        ("commit_message", TOKEN),
        ("pull_request", "postgres://app:Zq18bHorse7battery@db.internal/app"),
    ],
    ids=["token-in-commit-message", "url-password-in-pr-body"],
)
def test_a_credential_in_a_commit_message_or_pull_request_text_is_refused_with_its_line(
    fleet, where, secret
):
    """Pass 16b refused a private key in `commit_message` and the pull request's text; a token
    (`chore: sops (CI token ghp_…)`) or a URL with its password passed: apply committed it to the
    repo's branch (pushed with --push; `pr` makes the message the title). Refused at load with its
    line, as the files the tool writes refuse them (13.6)."""
    from tests.helpers import git

    text = fleet.manifest.read_text()
    old = '  commit_message: "chore: manage secrets with SOPS + age"\n'
    assert old in text
    new = (
        f'  commit_message: "chore: manage secrets (CI token {secret})"\n'
        if where == "commit_message"
        else old + f"  pull_request:\n    body: |\n      CI database:\n      {secret}\n"
    )
    fleet.manifest.write_text(text.replace(old, new))
    line = (new.count("\n") if where == "pull_request" else 1) + text[: text.index(old)].count("\n")
    for command in (("plan",), ("apply", "--yes")):
        result = rollout(*command, "--manifest", fleet.manifest, "--repo", "juniper-ml")
        assert result.code == 1, result.stdout
        said = f"repos.yaml:{line}: a commit message or pull request text holds a credential"
        assert said in result.stderr, result.stderr
        assert "Zq18b" not in result.stdout + result.stderr
    assert not git(fleet.repo("juniper-ml"), "branch", "--list", "chore/sops-age-rollout").strip()


def test_a_commit_message_naming_a_plain_url_still_plans(fleet):
    text = fleet.manifest.read_text()
    old = '  commit_message: "chore: manage secrets with SOPS + age"\n'
    new = '  commit_message: "chore: manage secrets (see https://github.com/getsops/sops)"\n'
    fleet.manifest.write_text(text.replace(old, new))
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 0, result.stdout + result.stderr


def test_a_template_jinja_compiles_to_bad_python_is_one_line_never_its_lines(tmp_path):
    """`{% macro m(a, a) %}` passes Jinja's parser; Python's compile() of the generated code raised
    SyntaxError ("duplicate argument"), not mapped by render: a raw traceback printing the template
    file's line at the generated code's line number (a template hard-linked to `.env`: a value)."""
    from tests.test_pass11b import _one_repo_with_a_template

    values = "".join(f"V{i}=Zq18bSecret{i}\n" for i in range(1, 30))
    dotenv = ("{% macro m(a, a) %}{% endmacro %}\n" + values).encode()
    manifest = _one_repo_with_a_template(tmp_path, dotenv, "x\n")
    template = tmp_path / "tpl" / "notes.j2"
    template.unlink()
    # a copy: a hard link is refused before it is read (test_template_links)
    shutil.copyfile(tmp_path / "ws" / "victim" / ".env", template)
    result = rollout("plan", "--manifest", manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and "Traceback" not in out, out
    assert "template 'notes.j2' fails: SyntaxError (fix the template)" in result.stderr, out
    assert len(result.stderr.splitlines()) == 1 and "Zq18b" not in out, out


def test_keygen_refuses_sops_age_key_file_dash_too(tmp_path, monkeypatch):
    """`--key-file -` is refused since c4c3dd0; `SOPS_AGE_KEY_FILE=- rollout keygen` (where sops
    looks, by the variable) wrote the private key to a file named '-' in the current folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", "-")
    result = rollout("keygen")
    assert result.code == 1, result.stdout
    assert "SOPS_AGE_KEY_FILE=- would be a file named '-'" in result.stderr, result.stderr
    assert not (tmp_path / "-").exists() and "AGE-SECRET-KEY-1" not in result.stdout


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_drift_never_repeats_a_subject_that_is_a_bare_key(fleet, tmp_path, fmt):
    """`git commit -F .env.prod` whose first line is a bare random key (item 8: no NAME=, no known
    prefix), then a blank line: the subject is the key alone, and drift's finding about the very file
    printed it (pass 16b hid NAME=value and known token shapes only). An ordinary subject with a path
    stays shown."""
    from tests.helpers import git
    from tests.test_pass3 import commit_on

    repo = fleet.repo("juniper-data")
    key = "Zq9xK2mP7vL4nQ8wR3tY6uI1oA5sD0fG"
    added = commit_on(repo, "main", {".env.prod": f"{key}\n\nX=1\n"}, tmp_path, key)
    merged = commit_on(
        repo,
        added,
        {".env.staging": "Y=1\n"},
        tmp_path,
        "Merge pull request #12 from org/feature-2024",
    )
    git(repo, "update-ref", "refs/heads/side", merged)
    result = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-data", "--format", fmt
    )
    out = result.stdout + result.stderr
    assert key not in out and key[8:24] not in out, out
    assert "its subject holds NAME=value text or a credential: not shown" in out, out
    assert added[:7] in out and "org/feature-2024" in out, out


def test_installed_packages_env_files_never_push_a_services_env_file_past_the_limit(tmp_path):
    """The leak guard reads at most WORKTREE_PATHS plaintext env files from a clone's folders, in git's
    name order: 1,005 `.env` files under an ignored `node_modules/` (packages ship them) left
    `zz-service/.env.prod` unread, and a template hard-linked to it printed its token in the plan's
    diff (13.6). The clone's own files come first now, shallow ones first."""
    from juniper_rollout.gitrepo import WORKTREE_PATHS
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "x\n")
    clone = tmp_path / "ws" / "victim"
    (clone / ".gitignore").write_text("node_modules/\n")
    for i in range(WORKTREE_PATHS + 5):
        package = clone / "node_modules" / f"pkg{i:04d}"
        package.mkdir(parents=True)
        (package / ".env").write_text("X=1\n")
    env_file = clone / "zz-service" / ".env.prod"
    env_file.parent.mkdir()
    env_file.write_text("STAGING_API_TOKEN=stg-Zq18bFolderToken-77aa\n")
    linked = tmp_path / "tpl" / "notes.j2"
    linked.unlink()
    # a copy: a hard link is refused before it is read (test_template_links)
    shutil.copyfile(env_file, linked)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext zz-service/.env.prod" in result.stdout, result.stdout
    assert "Zq18b" not in result.stdout + result.stderr


def test_a_branch_on_origin_named_as_the_rollout_branchs_folder_is_said_at_plan_and_apply(loop):
    """Pass 16b's folder clash (a branch `chore` beside `chore/sops-age-rollout`), on origin: plan was
    silent, and `apply --push` failed in git's words ("[remote rejected] … cannot lock ref … 'refs/heads/
    chore' exists"). Plan says it now; apply --push says it in one line with a way out (the local
    branch is written and named, as before)."""
    from tests.helpers import git

    clone = loop.repo("juniper-ml")
    origin = loop.root / "remotes" / "juniper-ml.git"
    git(origin, "branch", "chore", "main")
    git(clone, "fetch", "-q", "origin")
    said = "origin has a branch chore, and git cannot keep a branch and a branch under its name"
    only = ("--manifest", loop.manifest, "--repo", "juniper-ml")
    planned = rollout("plan", *only)
    assert planned.code == 0 and f"apply --push will fail: {said}" in planned.stdout, planned.stdout
    applied = rollout("apply", *only, "--yes", "--push")
    assert applied.code == 1 and said in applied.stdout, applied.stdout + applied.stderr
    assert "remote rejected" not in applied.stdout + applied.stderr


def test_the_tools_own_hint_of_a_private_keys_shape_is_kept(fleet):
    """The redaction of a typed private key leaves the tool's own words about one whole: "that is a
    private key (AGE-SECRET-KEY-1…)" read "(***…)" in this pass's first version of the fix."""
    key = KEY_LINE.search(fleet.key_file.read_text(encoding="utf-8"))[0]
    result = rollout("rotate", "--add", key, "--manifest", fleet.manifest)
    assert result.code == 1 and "that is a private key (AGE-SECRET-KEY-1…)" in result.stderr
    assert key not in result.stdout + result.stderr
