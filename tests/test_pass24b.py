"""Issue 13, pass 24b: an adversarial pass over items 5-8 (the leaks), session 28.

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.demofleet import CANARY, make_repo
from tests.helpers import git, rollout
from tests.test_hostile import KEY
from tests.test_pass23b import SHIPPED_TEMPLATES

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

SECRET = f"{CANARY}-Zq81Lm0pWx42Rt"  # runs of 6, 6 and 14 letters and digits


def _template_beside_a_dotenv(tmp_path: Path, dotenv: str, path: str, template: str) -> Path:
    """One repo whose untracked `.env` is ``dotenv``, and a manifest whose templates folder (the shipped
    one, copied) renders ``path`` from a template holding ``template``."""
    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    (tmp_path / "ws" / "victim" / ".env").write_text(dotenv)
    folder = tmp_path / "tpl"
    shutil.copytree(
        SHIPPED_TEMPLATES, folder, ignore=shutil.ignore_patterns("__pycache__", "__init__.py")
    )
    (folder / "app.j2").write_text(template)
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        "repos:\n  - name: victim\n    precommit_hook: skip\n    agents_md: skip\n"
        f"    files:\n      - {{path: {path}, template: app.j2}}\n"
    )
    return manifest


def objects(repo: Path) -> bytes:
    """Every object of ``repo``'s database, loose and packed, as `git cat-file --batch` prints them."""
    return subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout


def refused_in_plan_and_apply(tmp_path: Path, case: tuple[str, str, str, str], *said_too: str):
    """``case`` (dotenv, path, template, shown): plan, `plan --json` and apply refuse the repo, each
    saying ``said_too`` and never ``shown``; no branch is written and no object holds ``shown``."""
    dotenv, path, template, shown = case
    manifest = _template_beside_a_dotenv(tmp_path, dotenv, path, template)
    for args in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.code == 1, said
        assert shown not in said, said
        assert all(words in said for words in said_too), said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()
    assert shown.encode() not in objects(repo)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _wrapped_b64(text: str) -> str:
    """``base64`` as the command line tool writes it: lines of 76 characters, here in a YAML block."""
    encoded = _b64(text)
    return "\n".join("    " + encoded[i : i + 76] for i in range(0, len(encoded), 76))


# (.env, path, template, what must not be printed): the template spells the value so that the bytes
# hold it in no form the check looked for, and the file's reader reads it
_SPELLED = {
    "kubernetes secret, base64": (
        f"API_TOKEN={SECRET}\n",
        "deploy/secret.yaml",
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ndata:\n  API_TOKEN: {_b64(SECRET)}\n",
        _b64(SECRET),
    ),
    "base64 after a prefix, url-safe": (
        f"API_TOKEN={SECRET}?>\n",
        "deploy/token.txt",
        base64.urlsafe_b64encode(f"Bearer {SECRET}?>".encode()).decode() + "\n",
        base64.urlsafe_b64encode(f"Bearer {SECRET}?>".encode()).decode()[:24],
    ),
    "base64 wrapped at 76 columns": (
        f"API_TOKEN={SECRET * 3}\n",
        "deploy/secret.yaml",
        f"data:\n  API_TOKEN: |\n{_wrapped_b64(SECRET * 3)}\n",
        _b64(SECRET * 3)[:76],
    ),
    "YAML \\x escapes": (
        f"API_TOKEN={SECRET}\n",
        "config/app.yaml",
        'token: "CANARY\\x2d7f3a9c\\x2dZq81Lm0\\x70Wx42Rt"\n',
        "Zq81Lm0\\x70Wx42Rt",
    ),
    "JSON \\u escapes": (
        f"API_TOKEN={SECRET}\n",
        "config/app.json",
        '{"token": "CANARY-7f3a9c-Zq81Lm0\\u0070Wx42Rt"}\n',
        "Zq81Lm0\\u0070Wx42Rt",
    ),
    "YAML escaped line break": (
        f"API_TOKEN={SECRET}\n",
        "config/app.yaml",
        'token: "CANARY-7f3a9c-Zq81Lm0\\\n  pWx42Rt"\n',
        "Zq81Lm0\\",
    ),
    "URL %XX": (
        f"API_TOKEN={SECRET}\n",
        "config/app.env.example",
        "URL=https://api.example/v1?t=CANARY-7f3a9c-Zq81Lm0%70Wx42Rt\n",
        "Zq81Lm0%70Wx42Rt",
    ),
    "HTML character reference": (
        f"API_TOKEN={SECRET}\n",
        "docs/SETUP.md",
        "Use the token <code>CANARY&#45;7f3a9c&#45;Zq81Lm0&#112;Wx42Rt</code>.\n",
        "Zq81Lm0&#112;Wx42Rt",
    ),
    "YAML plain scalar folded over two lines (a passphrase)": (
        'DB_PASSWORD="correct horse battery staple"\n',
        "config/db.yaml",
        "database:\n  password: correct horse\n    battery staple\n",
        "correct horse",
    ),
}


@pytest.mark.parametrize("case", list(_SPELLED))
def test_a_rendered_file_holding_a_value_encoded_or_escaped_is_refused(tmp_path, case):
    """ON-LIST 13.6. The leak guard looked for each `.env` value in the rendered bytes (and the
    templates' sources) only as written: a Kubernetes Secret in the templates folder holding the value
    base64-encoded (as `kubectl get secret -o yaml` prints it), or a template spelling it with YAML or
    JSON escapes, `%XX`, an HTML character reference or a YAML scalar folded over two lines, was shown
    in the plan's diff and committed by apply, and every reader of that file (kubectl, a YAML or JSON
    parser, a browser) reads the value (pass 24b). Each text is now read as its readers decode it
    (`leakguard.readings`), and each value is looked for in its base64 spellings too."""
    path = _SPELLED[case][1]
    refused_in_plan_and_apply(
        tmp_path, _SPELLED[case], f"{path} would contain the value on line 1 of the plaintext .env"
    )


def test_plain_text_that_only_looks_encoded_is_still_written(tmp_path):
    """Control: escapes, `%XX`, HTML references, folded lines and base64 of other data pass."""
    template = (
        'greeting: "caf\\u00e9 \\x41"\nurl: https://example.org/a%20b?x=1&amp;y=2\n'
        f"blob: {_b64('not a secret at all, only a sentence')}\n"
        "note: a long line\n  folded in two\n"
    )
    manifest = _template_beside_a_dotenv(
        tmp_path,
        f"API_TOKEN={SECRET}\nDB_PASSWORD='correct horse battery staple'\n",
        "config/app.yaml",
        template,
    )
    result = rollout("apply", "--yes", "--manifest", manifest)
    assert result.code == 0, result.stdout
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "show", "chore/sops-age-rollout:config/app.yaml") == template


# --- 13.6: a rendered .sops.yaml asking for partial encryption ---------------------------------------


_OLD_AND_NEW = (
    f"# old: DB_PASSWORD={SECRET}-old\nAPI_TOKEN={SECRET}\n"  # a comment holds a value too
)


@pytest.mark.parametrize(
    "option",
    [
        "unencrypted_regex: '.*'",
        "encrypted_regex: '^NONE$'",
        "unencrypted_suffix: TOKEN",
        "unencrypted_comment_regex: '.*'",
    ],
)
def test_a_sops_template_asking_for_partial_encryption_never_commits_the_values(
    tmp_path, monkeypatch, option
):
    """ON-LIST 13.6. A `sops.yaml.j2` in the templates folder whose rule asks sops for partial
    encryption (`unencrypted_regex: '.*'`, an `encrypted_regex` no name matches, `unencrypted_suffix:
    TOKEN`, `unencrypted_comment_regex`) made sops write `.env.enc` holding the `.env` values (and
    comments) as they are: the round trip passed (it decrypts to the plaintext), the plan showed no
    diff of a ciphertext, and apply committed `API_TOKEN=<the value>` on the rollout branch, under a
    name `.gitignore` lets through (`--push` publishes it). Only a saved plan's apply looked for lines
    sops did not encrypt (pass 24b). What sops wrote is now checked before it is a planned file."""
    manifest, repo, _ = _encrypting_fleet(
        tmp_path,
        monkeypatch,
        '{{ recipients | join(",") }}',
        rule_extra=option,
        dotenv=_OLD_AND_NEW,
    )
    for args in (("plan",), ("plan", "--json"), ("apply", "--yes", "--push")):
        result = rollout(*args, "--manifest", manifest)
        assert result.code == 1, result.stdout
        assert ".env.enc:" in result.stdout and "sops left a value or comment unencrypted" in (
            result.stdout
        ), result.stdout
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()
    assert CANARY.encode() not in objects(repo)


def test_a_sops_template_encrypting_everything_still_applies(tmp_path, monkeypatch):
    """Control: the same set-up with a rule that encrypts every value and comment applies."""
    from juniper_rollout import keys, sopsmeta

    key_file = tmp_path / "age" / "keys.txt"
    recipient = keys.generate_key_file(key_file)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    repo = tmp_path / "ws" / "victim"
    make_repo(repo, {"README.md": "x\n"})
    (repo / ".env").write_text(_OLD_AND_NEW)
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{recipient}]\n"
        "repos:\n  - name: victim\n    precommit_hook: skip\n    agents_md: skip\n"
        "    encrypt: [{source: .env, target: .env.enc}]\n"
    )
    assert rollout("apply", "--yes", "--manifest", manifest).code == 0
    committed = subprocess.run(
        ["git", "-C", str(repo), "show", "chore/sops-age-rollout:.env.enc"],
        capture_output=True,
        check=True,
    ).stdout
    assert sopsmeta.plaintext_line(committed) is None


# --- 13.6: a rendered .sops.yaml naming a key the manifest does not --------------------------------


def _encrypting_fleet(
    tmp_path: Path,
    monkeypatch,
    sops_rule_age: str,
    *,
    rule_extra: str = "",
    dotenv: str = f"API_TOKEN={SECRET}\n",
) -> tuple[Path, Path, str]:
    """(manifest, repo, recipient): one repo whose `.env` (``dotenv``) is encrypted by an `encrypt:`
    entry, a real key in SOPS_AGE_KEY_FILE, and a templates folder whose `sops.yaml.j2` rule's `age:`
    is ``sops_rule_age``, with ``rule_extra`` (one more line of the rule) after it."""
    from juniper_rollout import keys

    key_file = tmp_path / "age" / "keys.txt"
    recipient = keys.generate_key_file(key_file)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    repo = tmp_path / "ws" / "victim"
    make_repo(repo, {"README.md": "x\n"})
    (repo / ".env").write_text(dotenv)
    folder = tmp_path / "tpl"
    shutil.copytree(
        SHIPPED_TEMPLATES, folder, ignore=shutil.ignore_patterns("__pycache__", "__init__.py")
    )
    (folder / "sops.yaml.j2").write_text(
        f"creation_rules:\n  - path_regex: '(^|/)\\.env(\\.enc)?$'\n    age: '{sops_rule_age}'\n"
        + (f"    {rule_extra}\n" if rule_extra else "")
    )
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{recipient}]\n"
        "repos:\n  - name: victim\n    precommit_hook: skip\n    agents_md: skip\n"
        "    encrypt: [{source: .env, target: .env.enc}]\n"
    )
    return manifest, repo, recipient


def test_a_sops_template_naming_another_key_never_encrypts_for_it(tmp_path, monkeypatch):
    """NEW (13.6's templates, a leak by key). A `sops.yaml.j2` whose rule names one more age key than
    the manifest (`age: '{{ recipients | join(",") }},age1…'`) made apply commit `.env.enc` encrypted
    for that key too: its holder (whoever wrote the template) decrypts every value, though
    `defaults.age_recipients`, what `rotate` manages and the plan reads, never named it (pass 24b).
    A rendered `.sops.yaml` naming a key the manifest does not is refused before anything is
    encrypted with it (a saved plan's apply already refused it as stale)."""
    from juniper_rollout import keys

    other = keys.generate_key_file(tmp_path / "theirs" / "keys.txt")
    manifest, repo, _ = _encrypting_fleet(
        tmp_path, monkeypatch, '{{ recipients | join(",") }},' + other
    )
    for args in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        assert result.code == 1, result.stdout
        assert f".sops.yaml as the plan writes it names {other}, which" in result.stdout
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()


def test_a_rekey_through_a_sops_template_naming_another_key_is_refused(tmp_path, monkeypatch):
    """NEW (13.6's templates). The same on the `sops updatekeys` path: a recipient added with `rotate
    --add`, no plaintext at hand, and a `sops.yaml.j2` naming one more key re-wrapped the branch's
    data key for it."""
    from juniper_rollout import keys

    manifest, repo, _ = _encrypting_fleet(tmp_path, monkeypatch, '{{ recipients | join(",") }}')
    assert rollout("apply", "--yes", "--manifest", manifest).code == 0
    tip = git(repo, "rev-parse", "chore/sops-age-rollout")
    (repo / ".env").rename(tmp_path / "env-moved-away")
    added = keys.generate_key_file(tmp_path / "teammate" / "keys.txt")
    assert rollout("rotate", "--add", added, "--manifest", manifest).code == 0
    other = keys.generate_key_file(tmp_path / "theirs" / "keys.txt")
    (tmp_path / "tpl" / "sops.yaml.j2").write_text(
        "creation_rules:\n  - path_regex: '(^|/)\\.env(\\.enc)?$'\n"
        f"    age: '{{{{ recipients | join(\",\") }}}},{other}'\n"
    )
    result = rollout("apply", "--yes", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert f".sops.yaml as the plan writes it names {other}, which" in result.stdout
    assert git(repo, "rev-parse", "chore/sops-age-rollout") == tip


def test_a_sops_template_naming_another_key_is_never_committed_even_with_nothing_to_encrypt(
    tmp_path, monkeypatch
):
    """NEW (13.6's templates). With no `encrypt:` entry the tool encrypts nothing itself, but the
    rendered `.sops.yaml` naming one more key was committed: every value a person later encrypts with
    `sops -e` (what the usage guide says to do) opened with that key (pass 24b). A saved plan's apply
    refused it as stale; a fresh plan and apply wrote it."""
    from juniper_rollout import keys

    other = keys.generate_key_file(tmp_path / "theirs" / "keys.txt")
    manifest, repo, _ = _encrypting_fleet(
        tmp_path, monkeypatch, '{{ recipients | join(",") }},' + other
    )
    manifest.write_text(
        manifest.read_text().replace("    encrypt: [{source: .env, target: .env.enc}]\n", "")
    )
    for args in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        assert result.code == 1, result.stdout
        assert f".sops.yaml as the plan writes it names {other}, which" in result.stdout
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()


@pytest.mark.parametrize("how", ["a sops config in a folder", "a rule set in the repo's own"])
def test_a_files_entry_writing_a_sops_config_for_another_key_is_refused(tmp_path, monkeypatch, how):
    """NEW (13.6's templates). The same key through a `files:` entry: rendering `deploy/.sops.yaml`
    (sops reads the `.sops.yaml` of the folder it runs in first), or setting a `creation_rules` entry
    in the repo's own `.sops.yaml` (`kind: yaml-entry`), was committed: `sops -e` there encrypted for
    that key (pass 24b)."""
    from juniper_rollout import keys

    other = keys.generate_key_file(tmp_path / "theirs" / "keys.txt")
    manifest, repo, recipient = _encrypting_fleet(
        tmp_path, monkeypatch, '{{ recipients | join(",") }}'
    )
    text = manifest.read_text().replace("    encrypt: [{source: .env, target: .env.enc}]\n", "")
    if how == "a sops config in a folder":
        (tmp_path / "tpl" / "nested.j2").write_text(
            f"creation_rules:\n  - path_regex: '.*'\n    age: '{other}'\n"
        )
        path, entry = "deploy/.sops.yaml", "{path: deploy/.sops.yaml, template: nested.j2}"
    else:
        (repo / ".sops.yaml").write_text(
            f"creation_rules:\n  - path_regex: '.*'\n    age: '{recipient}'\n"
        )
        git(repo, "add", ".sops.yaml")  # the repo's own config, committed (its `.env` never)
        git(repo, "commit", "-qm", "sops config")
        (tmp_path / "tpl" / "rule.j2").write_text(f"- path_regex: 'secrets/.*'\n  age: '{other}'\n")
        text = text.replace("    agents_md: skip\n", "    agents_md: skip\n    sops_yaml: false\n")
        path = ".sops.yaml"
        entry = (
            "{path: .sops.yaml, kind: yaml-entry, key: creation_rules, match: [path_regex], "
            "template: rule.j2}"
        )
    manifest.write_text(text + f"    files:\n      - {entry}\n")
    for args in (("plan",), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        assert result.code == 1, result.stdout
        assert f"{path} as the plan writes it names {other}, which" in result.stdout, result.stdout
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()


# --- 13.6: the age key file, base64-encoded -------------------------------------------------------


def _flux_secret(data: str, wrapped: bool) -> str:
    """A Kubernetes Secret as Flux's guide has one made for sops (`--from-file=age.agekey=keys.txt`)."""
    encoded = _wrapped_b64(data) if wrapped else "    " + _b64(data)
    return (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-age\n  namespace: flux-system\n"
        f"data:\n  age.agekey: |\n{encoded}\n"
    )


@pytest.mark.parametrize("wrapped", [False, True], ids=["one line", "76 columns"])
def test_the_age_key_file_base64_encoded_in_a_template_is_refused(tmp_path, wrapped):
    """ON-LIST 13.6 ("the age key file … printed in the plan diff"). A Kubernetes Secret in the
    templates folder holding the team's `keys.txt` base64-encoded (Flux decrypts with such a Secret,
    made with `kubectl create secret generic sops-age --from-file=age.agekey=…`) was shown in the
    plan's diff and committed to every repo: the check looked for `AGE-SECRET-KEY-1…` as written only
    (pass 24b). Each run of base64 is decoded and looked in too."""
    from juniper_rollout import keys

    key_file = tmp_path / "team" / "keys.txt"
    keys.generate_key_file(key_file)
    secret = key_file.read_text()
    manifest = _template_beside_a_dotenv(
        tmp_path, "LOG_LEVEL=debug\n", "clusters/sops-age.yaml", _flux_secret(secret, wrapped)
    )
    for args in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.code == 1, said
        assert _b64(secret)[:40] not in said, said
        assert "clusters/sops-age.yaml would contain an age private key" in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()


def test_a_public_key_base64_encoded_in_a_template_is_still_written(tmp_path):
    """Control: the same Secret holding only the public key (and long base64 of other text) applies."""
    from juniper_rollout import keys

    public = keys.generate_key_file(tmp_path / "team" / "keys.txt")
    manifest = _template_beside_a_dotenv(
        tmp_path,
        "LOG_LEVEL=debug\n",
        "clusters/sops-age.yaml",
        _flux_secret(f"# public key: {public}\n" + "not a key at all, " * 20, wrapped=True),
    )
    assert rollout("apply", "--yes", "--manifest", manifest).code == 0


@pytest.mark.parametrize(
    "secret",
    [
        "ghp_Zq81Lm0pWx42RtK7bN3cV9xY2wQ5eR8tU1iO",
        "https://ci:Zq81-Lm0p-Wx42@git.example.org/o/r.git",
    ],
    ids=["token", "url with a password"],
)
def test_a_template_holding_a_credential_base64_encoded_is_refused(tmp_path, secret):
    """ON-LIST 13.6 (pass 3's "a template is never a file holding a credential"). An ArgoCD repository
    Secret in the templates folder holding a GitHub token, or a clone URL with its password,
    base64-encoded (`data: {password: …}`) was rendered, shown in the plan's diff and committed: the
    template's source was looked at as written only (pass 24b). Its base64 runs are decoded too."""
    manifest = _template_beside_a_dotenv(
        tmp_path,
        "LOG_LEVEL=debug\n",
        "argocd/repo-creds.yaml",
        f"apiVersion: v1\nkind: Secret\ndata:\n  password: {_b64(secret)}\n",
    )
    for args in (("plan",), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.code == 1, said
        assert _b64(secret) not in said, said
        assert "app.j2 holds a credential" in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()
