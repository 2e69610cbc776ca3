"""Issue 13, pass 13b: the second adversarial pass over items 5-9 and the smaller list, against main
(e7c7805).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json

import pytest

from juniper_rollout.secretshape import looks_secret
from tests.helpers import git, rollout
from tests.test_pass11b import _one_repo_with_a_template

# --- smaller list: branch names git reads as its own files under .git ------------------------------


@pytest.mark.parametrize(
    "branch",
    [
        "logs/HEAD",
        "worktrees/wt1/HEAD",
        "main-worktree/HEAD",
        "shallow",
        "sequencer/head",
        "rebase-merge/orig-head",
    ],
)
def test_a_branch_git_reads_as_a_file_of_its_own_is_refused_with_its_line(fleet, branch):
    """git's DWIM reads `$GIT_DIR/NAME` as a ref before refs/heads/NAME: `.git/logs/HEAD` is a reflog
    whose first field is an object id (`git rev-parse logs/HEAD` gave 0000000, "ambiguous"), `.git/shallow`
    names a commit in a shallow clone, `.git/sequencer/head` during a cherry-pick; `worktrees/ID/HEAD` and
    `main-worktree/HEAD` are those worktrees' HEADs (measured with git 2.39). `branch: logs/HEAD` was
    created by apply, then `verify --ref logs/HEAD` said "ref not found" (pass 13b, smaller list)."""
    text = fleet.manifest.read_text()
    assert "branch: chore/sops-age-rollout" in text
    fleet.manifest.write_text(
        text.replace("branch: chore/sops-age-rollout", f"branch: {branch}", 1)
    )
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert "git's own file of that name" in result.stderr, result.stderr
    assert ":11:" in result.stderr  # the branch's line
    assert result.stderr.count("\n") == 1
    # a name merely holding those words is still a branch
    fleet.manifest.write_text(
        text.replace("branch: chore/sops-age-rollout", "branch: chore/logs", 1)
    )
    assert rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml").code == 0


# --- 13.9: a note removed from a notes ref, still in its history ------------------------------------


@pytest.mark.parametrize("how", ["removed", "overwritten"])
def test_drift_finds_a_plaintext_env_note_removed_but_kept_in_the_notes_refs_history(fleet, how):
    """`git notes add -F .env main`, then `git notes remove main` (or `git notes add -f` with a review
    note): the notes ref's history keeps the `.env` blob, and `git push origin 'refs/notes/*'` pushes that
    history, like a file committed and then deleted (which drift flags): "0 findings" (pass 10b noted
    "older versions of a note are not read"; pass 13b, 13.9)."""
    repo = fleet.repo("juniper-cascor")
    env = "HF_TOKEN=note-gone-value-7d2e1c\nDB_PASSWORD=note-gone-pw-3b9a\n"
    git(repo, "notes", "add", "-m", env, "main")
    if how == "removed":
        git(repo, "notes", "remove", "main")
    else:
        git(repo, "notes", "add", "-f", "-m", "Reviewed-by: Ada <ada@example.com>", "main")
    result = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--format", "json"
    )
    found = [f for r in json.loads(result.stdout)["repos"] for f in r["findings"]]
    assert [f["path"] for f in found] == ["refs/notes/commits"], found
    assert (
        "the history of refs/notes/commits holds a note shaped like a plaintext env"
        in (found[0]["message"])
    )
    assert "note-gone" not in result.stdout
    # the note the ref holds now is reported once (by the rule for current notes), not twice
    git(repo, "notes", "add", "-f", "-m", env, "main")
    result = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--format", "json"
    )
    found = [f for r in json.loads(result.stdout)["repos"] for f in r["findings"]]
    assert [f["path"] for f in found] == ["refs/notes/commits"], found
    assert "holds a note shaped like a plaintext env file (`git notes`)" in found[0]["message"]


# --- 13.7: a password git reads a host out of, and a user name holding an '@' ---------------------------


@pytest.mark.parametrize(
    "url",
    [
        # git reads the host as `ssw0rd`; no host shape follows the last '@' (an intranet name)
        "https://u:p@ssw0rd/SECRETintra13b@gitserver:1/o/r.git",
        # a user name holding an '@': git prints the user-info from after its FIRST '@'
        "https://u@SECRETuserat13b:x@127.0.0.1:1/o/r.git",
    ],
    ids=["password-at-slash-intranet-host", "user-name-holding-an-at-sign"],
)
def test_sync_push_and_bootstrap_never_print_a_token_git_reads_out_of_place(
    fleet, monkeypatch, url
):
    """Pass 12b left `https://u:p@ssw0rd/SECRET@gitserver/…` unredacted (no dotted host after the last
    '@'): git's "unable to access 'https://ssw0rd/SECRET…@gitserver…'" was printed by sync, apply --push
    and bootstrap; `https://u@TOKEN:x@host` printed "'https://TOKEN:x@…'" (the redaction drops the user
    when a password is given, and `x` is too short) (pass 13b, 13.7)."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:1")  # no name lookup: git fails at once
    repo = fleet.repo("juniper-ml")
    git(repo, "remote", "add", "origin", url)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-ml")
    before = fleet.manifest.read_bytes()
    for result in (
        rollout("sync", *only),
        rollout("apply", *only, "--push", "--yes"),
        rollout("bootstrap", "newone", "--manifest", fleet.manifest, "--url", url, "--yes"),
    ):
        assert result.code == 1, result.stdout
        said = (result.stdout + result.stderr).lower()
        assert "unable to access" in said or "failed" in said, said
        assert "secretintra13b" not in said and "secretuserat13b" not in said, said
    assert fleet.manifest.read_bytes() == before


# --- 13.6: a password of letters under a numbered, versioned or per-stage secret name -----------------


@pytest.mark.parametrize(
    "name",
    ["DB_PASSWORD2", "DB_PASSWORD_PROD", "ADMIN_PASSWORD_OLD", "API_TOKEN_V2", "SECRET_KEY_BASE"],
)
def test_a_password_of_letters_under_a_qualified_secret_name_is_checked(tmp_path, name):
    """`DB_PASSWORD_PROD`, `DB_PASSWORD2`, `API_TOKEN_V2`, Rails' `SECRET_KEY_BASE`: the secret word was
    not the name's last, so the name looked no secret and a password of 8-15 letters under it was never
    checked by the leak guard: a template holding it was printed in the plan (pass 13b, 13.6; pass 12b's
    `MYSQL_PWD` family)."""
    manifest = _one_repo_with_a_template(
        tmp_path, f"{name}=Correcthorse\n".encode(), "secret: Correcthorse\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout
    assert "Correcthorse" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "name",
    ["PASSWORD_MIN_LENGTH", "TOKEN_EXPIRY", "KEY_PREFIX", "PASS_THROUGH_2", "BYPASS_2", "HOTKEY_1"],
)
def test_a_name_qualifying_no_secret_word_still_looks_no_secret(name):
    """The qualifiers are numbers, versions and stages after the secret word, nothing else."""
    assert not looks_secret(name)


# --- 13.6: pieces of a value its driver or the app reads on their own --------------------------------


@pytest.mark.parametrize(
    ("line", "part"),
    [
        # libpq's conninfo (psycopg.connect(os.environ["PG_DSN"])): space-separated key=value
        ('PG_DSN="host=db user=app password=S3cretPassw0rd13b dbname=x"', "S3cretPassw0rd13b"),
        ("PG_DSN='host=db port=5432 password=Correcthorse'", "Correcthorse"),
        # ODBC / ADO.NET with the password first (no `;` before it)
        ('MSSQL="Password=S3cretPassw0rd13b;Server=db;Database=x"', "S3cretPassw0rd13b"),
        # Kafka's sasl.jaas.config: a quoted password among words
        (
            'KAFKA_JAAS="org.apache.kafka.common.security.plain.PlainLoginModule required '
            'username=\\"u\\" password=\\"S3cretPassw0rd13b\\";"',
            "S3cretPassw0rd13b",
        ),
        # a header value, a user:password pair, a comma list of keys (rotation)
        ('AUTH_HEADER="Bearer S3cretPassw0rd13b"', "S3cretPassw0rd13b"),
        ("BASIC_AUTH=user:S3cretPassw0rd13b", "S3cretPassw0rd13b"),
        ("API_KEYS=S3cretPassw0rd13b,OtherTok3n99xyz", "S3cretPassw0rd13b"),
    ],
    ids=["libpq", "libpq-word", "odbc-first", "kafka-jaas", "bearer", "user-colon", "key-list"],
)
def test_a_piece_of_a_connection_string_or_list_is_checked(tmp_path, line, part):
    """The leak guard read a value whole, a URL's password and `?`/`&`/`;` parameters: libpq's
    `host=db password=X`, ODBC's `Password=X;…` first, Kafka's JAAS `password="X";`, `Bearer X`,
    `user:X` and `k1,k2` were no parts, so a template holding the password or key was printed in the
    plan (pass 13b, 13.6)."""
    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"secret: {part}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout
    assert part not in result.stdout + result.stderr


# --- 13.8/13.9: a token committed as a NAME in a sops file (sops keeps names in clear) ------------------

TOKEN_NAME = "ghp_" + "Zq13bToken8aB3dE5fG7hJ9kL1mN3pQ5rS7tU"  # a GitHub token's shape and length


def _sops_with_a_token_name(recipient: str, fmt: str) -> bytes:
    import subprocess

    from juniper_rollout import sops

    if fmt == "ini":
        args, data = ["--input-type", "ini", "--output-type", "ini"], f"[app]\n{TOKEN_NAME}=x\n"
    else:
        args, data = (
            ["--input-type", "dotenv", "--output-type", fmt],
            f"HF_TOKEN=a\n{TOKEN_NAME}=b\n",
        )
    return subprocess.run(
        [sops.sops_path(), "encrypt", "--age", recipient, *args, "/dev/stdin"],
        input=data.encode(),
        capture_output=True,
        check=True,
        env={"SOPS_DISABLE_VERSION_CHECK": "1", "PATH": ""},
    ).stdout


@pytest.mark.parametrize("fmt", ["dotenv", "yaml", "json", "ini"])
def test_drift_finds_a_token_committed_as_a_name_in_a_sops_file(fleet, tmp_path, fmt):
    """`sops -e` of a `.env` holding a pasted token as a NAME (`ghp_…=`: item 8's bare line, made by hand
    with sops instead of the tool), or a YAML/JSON/INI sops file keyed by a token: sops encrypts values
    only, so the token is readable in git; drift said nothing, tracked (`--ref`) or in history (passes
    6 and 11b had noted it; pass 13b, 13.9). Never echoed."""
    from juniper_rollout import keys
    from tests.test_pass3 import commit_on
    from tests.test_sops_formats import sops_output

    repo = fleet.repo("juniper-data")
    recipient = keys.public_keys_in(fleet.key_file)[0]
    real = sops_output(recipient, fmt).decode()
    held = _sops_with_a_token_name(recipient, fmt).decode()
    assert TOKEN_NAME in held  # sops kept the name in clear: the attack is real
    added = commit_on(repo, "main", {"svc/.env.enc": held}, tmp_path, "add svc secrets")
    fixed = commit_on(repo, added, {"svc/.env.enc": real}, tmp_path, "fix svc secrets")
    git(repo, "update-ref", "refs/heads/hist", fixed)
    git(repo, "update-ref", "refs/heads/held", added)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-data")
    history = rollout("drift", *only, "--format", "json")
    tracked = rollout("drift", *only, "--ref", "held", "--format", "json")
    for result, message in (
        (history, "or a name shaped like a credential (commit"),
        (tracked, "holds a name shaped like a credential"),
    ):
        found = [
            f
            for r in json.loads(result.stdout)["repos"]
            for f in r["findings"]
            if f["path"] == "svc/.env.enc"
        ]
        assert found and message in found[0]["message"], result.stdout
        assert "Zq13bToken" not in result.stdout + result.stderr
    assert "add svc secrets" in history.stdout and "fix svc secrets" not in history.stdout
    # the command the finding gives is the one sops needs for that file's format
    assert f"sops edit --input-type {fmt} --output-type {fmt} svc/.env.enc" in tracked.stdout


def test_real_sops_files_hold_no_name_shaped_like_a_credential(tmp_path):
    from juniper_rollout import keys, sopsmeta
    from tests.test_sops_formats import sops_output

    recipient = keys.generate_key_file(tmp_path / "keys.txt")
    for fmt in ("dotenv", "yaml", "json", "ini", "binary"):
        assert sopsmeta.credential_name_line(sops_output(recipient, fmt)) is None, fmt


# --- 13.6: a template named like a plaintext env file in another letter case ----------------------------


@pytest.mark.parametrize("name", [".ENV", "Prod.Env", ".Env.Local"])
def test_a_template_named_like_a_plaintext_env_file_in_any_case_is_refused(tmp_path, name):
    """On macOS's (and Windows') file systems `.ENV` opens `.env` itself: `{% include '.ENV' %}` (or
    `template: .ENV`) passed the loader's name check, case-sensitive, and rendered the templates
    folder's plaintext env file, whose values no guard knows (pass 13b, 13.6). Shown here on Linux
    with a file of that spelling: the name is refused before anything is read."""
    manifest = _one_repo_with_a_template(tmp_path, b"A=1\n", f"{{% include '{name}' %}}\n")
    (tmp_path / "tpl" / name).write_text("OWN_TOKEN=tpl-own-13b-value-77\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "is named like a plaintext env file" in result.stderr + result.stdout
    assert "tpl-own-13b" not in result.stdout + result.stderr


# --- 13.7 / 13.11: a URL whose user-info holds `[…]` (a guide's placeholder filled in) -----------------


@pytest.mark.parametrize(
    "url",
    [
        "https://[myuser]:[SECRETbracket13b]@127.0.0.1:1/o/r.git",
        "https://[u:SECRETbracket13b]@127.0.0.1:1/o/r.git",
    ],
    ids=["user-and-token-in-brackets", "user-info-in-brackets"],
)
def test_a_url_with_brackets_in_its_user_info_is_one_line_never_a_traceback(
    fleet, monkeypatch, url
):
    """`https://[USERNAME]:[TOKEN]@github.com/…`, a guide's placeholders filled in: Python's urlsplit
    reads the first `[…]` of the netloc as an IPv6 host even inside the user-info, so `bootstrap
    --url` and a manifest `url:` ended in a traceback whose last line was `ValueError: 'u:TOKEN' does
    not appear to be an IPv4 or IPv6 address` (pass 13b, 13.7 and 13.11)."""
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https")
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:1")  # no name lookup: git fails at once
    before = fleet.manifest.read_bytes()
    result = rollout("bootstrap", "newone", "--manifest", fleet.manifest, "--url", url, "--yes")
    assert result.code == 1
    assert result.stderr.startswith("error: ") and "SECRETbracket" not in result.stderr
    assert fleet.manifest.read_bytes() == before
    text = before.decode()
    assert "  - name: juniper-ml" in text
    fleet.manifest.write_text(
        text.replace("  - name: juniper-ml", f"  - name: juniper-ml\n    url: '{url}'", 1)
    )
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert "holds credentials" in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "SECRETbracket" not in result.stderr


def test_a_github_api_url_with_brackets_in_its_user_info_is_one_line(fleet, monkeypatch, tmp_path):
    """`GITHUB_API_URL=https://[u:TOKEN]@host/` with the token left to gh: the host gh keeps the token
    under was read with urlsplit, unguarded: a traceback quoting the token (pass 13b, 13.11)."""
    fake = tmp_path / "bin" / "gh"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho gho_fake_token_for_tests\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{__import__('os').environ['PATH']}")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setenv("GITHUB_API_URL", "https://[u:SECRETapi13b]@api.example.invalid/")
    result = rollout("pr", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert "is not a URL git or Python can read" in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "SECRETapi13b" not in result.stderr
