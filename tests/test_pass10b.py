"""Issue 13, pass 10b: fresh variants of items 5-9 and the smaller list, against main.

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import git, rollout
from tests.test_pass3 import BRANCH, main_moves_to

# --- sops reads a master key however Go spells it: the tool must look the same way ---------------

_VAULT = {
    "engine_path": "transit",
    "key_name": "x",
    "created_at": "2026-12-01T17:49:33Z",
    "enc": "vault:v1:AAAA",
}


def _garbled(real: str) -> str:
    """``real`` with its age stanza unusable: sops, failing with age, goes on to the next master key."""
    garbled = re.sub(r"(-----BEGIN AGE ENCRYPTED FILE-----(?:\\n|\n\s*))YWdl", r"\1QWdl", real)
    assert garbled != real
    return garbled


def _dotenv_spelling(prefix: str):
    def make(real: str, address: str) -> str:
        fields = {"vault_address": address, **_VAULT}
        return _garbled(real) + "".join(f"{prefix}{k}={v}\n" for k, v in fields.items())

    return make


def _json_member(text: str):
    def make(real: str, address: str) -> str:
        vault = json.dumps([{"vault_address": address, **_VAULT}])
        return _garbled(real).replace(text[0], text[1].format(vault=vault), 1)

    return make


def _yaml_key(key: str):
    def make(real: str, address: str) -> str:
        body = "".join(
            f"          {k}: {json.dumps(v)}\n" for k, v in _VAULT.items()
        )  # JSON strings are YAML strings
        return _garbled(real).replace(
            "sops:\n", f"sops:\n    {key}:\n        - vault_address: {address}\n{body}", 1
        )

    return make


def _ini_delimiter(sep: str):
    def make(real: str, address: str) -> str:
        fields = {"vault_address": address, **_VAULT}
        lines = "".join(f"hc_vault__list_0__map_{k}{sep}{v}\n" for k, v in fields.items())
        return _garbled(real).replace("[sops]\n", "[sops]\n" + lines, 1)

    return make


SPELLINGS = {
    # Go's encoding/json (which sops' unflattened dotenv/INI metadata goes through) matches a field
    # name in any case; a list position it cannot read is 0
    "dotenv, upper case": ("dotenv", _dotenv_spelling("sops_HC_VAULT__list_0__map_")),
    "dotenv, a list position that is no number": (
        "dotenv",
        _dotenv_spelling("sops_hc_vault__list_x__map_"),
    ),
    "dotenv, an empty list position": ("dotenv", _dotenv_spelling("sops_hc_vault__list___map_")),
    # JSON: members match in any case, and a second object for the metadata merges into the first
    "json, upper case": (
        "json",
        _json_member(('"sops": {', '"sops": {{\n\t\t"HC_VAULT": {vault},')),
    ),
    "json, a second Sops object": (
        "json",
        _json_member(("{\n", '{{\n"Sops": {{"hc_vault": {vault}}},\n')),
    ),
    # YAML: yaml.v3 decodes a !!binary key to the field name (aGNfdmF1bHQ= is hc_vault)
    "yaml, a !!binary key": ("yaml", _yaml_key("!!binary aGNfdmF1bHQ=")),
    # INI: go-ini splits a key at `:` as well as `=`
    "ini, a colon": ("ini", _ini_delimiter(": ")),
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_a_vault_master_key_spelled_as_only_sops_reads_it_is_never_handed_to_sops(
    tmp_path, vault, monkeypatch, spelling
):
    """Pass 3 refused a committed `.enc` naming `hc_vault`, read as Python reads it. sops reads the
    metadata more loosely: each spelling here made it send the user's VAULT_TOKEN to the address the
    file chose (the real sops, as verify --ref and plan run it to decrypt a committed file)."""
    from juniper_rollout import keys, sops
    from tests.test_sops_formats import sops_output

    fmt, make = SPELLINGS[spelling]
    address, seen = vault
    key_file = tmp_path / "keys.txt"
    evil = make(sops_output(keys.generate_key_file(key_file), fmt).decode(), address).encode()
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    monkeypatch.setenv("VAULT_TOKEN", "hvs.users-own-vault-token")
    with pytest.raises(sops.SopsError, match="names hc_vault master keys besides age"):
        sops.decrypt_dotenv(evil, filename=".env.enc")
    assert seen == [], "sops sent the user's Vault token to the address the file chose"


@pytest.mark.parametrize("spelling", ["json, upper case", "yaml, a !!binary key", "ini, a colon"])
def test_plan_never_hands_sops_such_a_file(fleet, tmp_path, vault, monkeypatch, spelling):
    """The same through the CLI: a main holding such a `.env.enc` (merged from a contributor's
    branch), the plaintext moved away: plan decrypts the committed file to re-encrypt it as dotenv."""
    from juniper_rollout import keys
    from tests.test_sops_formats import sops_output

    fmt, make = SPELLINGS[spelling]
    address, seen = vault
    repo = fleet.repo("juniper-cascor")
    evil = make(sops_output(keys.public_keys_in(fleet.key_file)[0], fmt).decode(), address)
    main_moves_to(repo, {".env.enc": evil}, tmp_path)
    (repo / ".env").rename(tmp_path / "env.moved")
    monkeypatch.setenv("VAULT_TOKEN", "hvs.users-own-vault-token")
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert seen == [], "sops sent the user's Vault token to the address the file chose"
    assert result.code == 1
    assert "names hc_vault master keys besides age" in result.stdout, result.stdout


def test_every_real_sops_format_still_names_no_other_master_key(tmp_path):
    """The loose reading refuses nothing sops writes for age recipients."""
    from juniper_rollout import keys, sopsmeta
    from tests.test_sops_formats import sops_output

    recipient = keys.generate_key_file(tmp_path / "keys.txt")
    for fmt in ("dotenv", "yaml", "json", "ini", "binary"):
        meta = sopsmeta.read_metadata(sops_output(recipient, fmt))
        assert meta is not None and meta.others == (), fmt


# --- a plaintext value as the app reads it, not only as the raw line spells it -------------------

SECRET = "app-reads-this-7d1c9b2e"


@pytest.mark.parametrize(
    "line",
    [
        f"API_TOKEN={SECRET} # staging",  # python-dotenv ends an unquoted value before ` #`
        f'API_TOKEN="{SECRET}"  # rotated 2026',
        f"API_TOKEN='{SECRET}' # note",
        f"export API_TOKEN={SECRET}   #x",
        'API_TOKEN="app-reads-\\"this\\"-7d1c9b2e"',  # the app reads app-reads-"this"-7d1c9b2e
    ],
)
def test_a_value_with_an_inline_comment_or_quotes_is_checked_as_the_app_reads_it(tmp_path, line):
    """The leak guard took the raw text after `=` (`value # staging`) as the value: a template
    holding the value itself was printed in the plan and committed (pass 10b, 13.6)."""
    from tests.demofleet import make_repo
    from tests.test_adversary import run_cli
    from tests.test_hostile import KEY
    from tests.test_pass3 import BARE

    value = SECRET if "\\" not in line else 'app-reads-"this"-7d1c9b2e'
    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    (tmp_path / "ws" / "victim" / ".env").write_text(line + "\n")  # untracked, as .env is
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "notes.j2").write_text(f"ops notes: {value}\n")
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"repos:\n  - name: victim\n{BARE}"
        "    files: [{path: NOTES.md, template: notes.j2}]\n"
    )
    result = run_cli("plan", "--manifest", manifest)
    assert result.returncode == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout
    assert value not in result.stdout + result.stderr


def test_the_lines_of_a_multi_line_value_in_another_repo_are_never_rendered(tmp_path):
    """A multi-line value (a service account's JSON, a PEM body) in one repo's `.env`: its lines were
    never values to the leak guard (no `=`), so a template carrying one was rendered into another
    repo, printed and committed (pass 10b, 13.6)."""
    from tests.demofleet import make_repo
    from tests.test_adversary import run_cli
    from tests.test_hostile import KEY
    from tests.test_pass3 import BARE

    inner = '"client_secret": "sa-secret-0b9e4c1a77"'
    make_repo(tmp_path / "ws" / "holder", {"README.md": "x\n"})
    (tmp_path / "ws" / "holder" / ".env").write_text(f"SA_JSON='{{\n  {inner}\n}}'\n")
    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "notes.j2").write_text(f"ops notes:\n  {inner}\n")
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"repos:\n  - name: holder\n{BARE}  - name: victim\n{BARE}"
        "    files: [{path: NOTES.md, template: notes.j2}]\n"
    )
    result = run_cli("apply", "--manifest", manifest, "--repo", "victim", "--yes")
    assert result.returncode == 1, result.stdout
    assert "of the plaintext .env of holder" in result.stdout, result.stdout
    assert "sa-secret-0b9e4c1a77" not in result.stdout + result.stderr
    assert git(tmp_path / "ws" / "victim", "for-each-ref", "refs/heads/").count("\n") == 1


# --- a password holding '/', '?' or '#' unencoded (the URL parsers end the host there) -----------

PIECES = ("ghpA", "SECRETb64tok3n")


@pytest.mark.parametrize("sep", ["/", "?", "#"])
def test_bootstrap_refuses_a_password_holding_a_reserved_character_and_never_prints_it(fleet, sep):
    """`https://x-access-token:ghpA/SECRET…@host/…` (a base64 token holds `/`): the tool printed
    "git clone https://x-access-token:ghpA/SECRET…@… failed" and git's own error repeated it; with
    `?` or `#` the first part of the password was printed (pass 10b, 13.7)."""
    before = fleet.manifest.read_bytes()
    url = f"https://x-access-token:{sep.join(PIECES)}@127.0.0.1:1/o/r.git"
    result = rollout("bootstrap", "--yes", "newone", "--manifest", fleet.manifest, "--url", url)
    assert result.code == 1
    assert "percent-encode" in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert not any(piece in result.stdout + result.stderr for piece in PIECES)
    assert fleet.manifest.read_bytes() == before
    assert not (fleet.workspace / "newone").exists()


@pytest.mark.parametrize("sep", ["/", "?", "#"])
def test_a_manifest_url_whose_password_holds_a_reserved_character_is_refused(fleet, sep):
    """Such a `url:` passed the "no credentials in url:" check (the parser saw no user-info, or took
    the rest for a query): `sync` would clone it and print it."""
    text = fleet.manifest.read_text()
    text = text.replace(
        "  - name: juniper-ml",
        f"  - name: juniper-ml\n    url: https://u:{sep.join(PIECES)}@127.0.0.1:1/o/r.git",
        1,
    )
    fleet.manifest.write_text(text)
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1
    assert "url holds credentials" in result.stderr, result.stderr
    assert not any(piece in result.stdout + result.stderr for piece in PIECES)


def test_urls_strip_and_redact_a_password_holding_a_reserved_character():
    from juniper_rollout.urls import redact, strip_userinfo

    for url, stored in (
        ("https://u:pa/ss@host/o/r.git", "https://host/o/r.git"),
        ("https://u:pa?ss@host:8443/o/r.git", "https://host:8443/o/r.git"),
        ("ssh://git:pa#ss@host/o/r.git", "ssh://host/o/r.git"),
        ("https://u:p/a@ss@host/r.git", "https://host/r.git"),  # '/' and '@' in one password
        ("https://host:8443/pkg@1.0", "https://host:8443/pkg@1.0"),  # a port, then '@' in a path
        ("https://host/p@x", "https://host/p@x"),
    ):
        assert strip_userinfo(url) == stored, url
    url = "https://x-access-token:ghpA/SECRETb64tok3n@127.0.0.1:1/o/r.git"
    assert "SECRET" not in redact(f"fatal: unable to access '{url}/': bad", url)


# --- a token in the URL an insteadOf rewrites origin into ----------------------------------------


@pytest.mark.parametrize("kind", ["insteadOf", "pushInsteadOf"])
def test_a_query_token_in_an_insteadof_rewrite_of_origin_is_never_printed(fleet, kind):
    """origin `gh:o/r.git` and `url.https://host/x?access_token=TOKEN&y=/.insteadOf gh:` in the clone's
    config: git's error repeats the rewritten URL, token included, and the tool redacted only origin's
    own URLs (pass 3's fix): sync and apply --push printed it (pass 10b, 13.7)."""
    token = "SECRETinsteadof4d2b"
    repo = fleet.repo("juniper-ml")
    git(repo, "remote", "add", "origin", "gh:o/r.git")
    git(repo, "config", f"url.file:///nonexistent/x?access_token={token}&y=/.{kind}", "gh:")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-ml")
    runs = [rollout("apply", *only, "--push", "--yes")]
    if kind == "insteadOf":
        runs.append(rollout("sync", *only))
    for result in runs:
        assert result.code == 1, result.stdout
        assert "does not appear to be a git repository" in result.stdout, result.stdout
        assert token not in result.stdout + result.stderr, result.stdout


# --- a 32-byte key pasted on a line of its own, with fewer than three digits ---------------------

KEYS_WITH_FEW_DIGITS = [
    "bNnprdHyQmcmieuDkn6zUxZHDsywLmzlEkTwBKIWzUI=",  # `openssl rand -base64 32`: one digit
    "wo2bpMl_lEijywRutwLvfkJySDZfWFHnXADCkHyLanU=",  # a Fernet key: one digit
]


@pytest.mark.parametrize("key", KEYS_WITH_FEW_DIGITS)
def test_a_32_byte_key_with_few_digits_is_never_a_variable_name(fleet, key):
    """The entropy test asked for three digits: 0.5% of `openssl rand -base64 32` keys and 1.3% of
    Fernet keys have fewer, and such a key pasted alone on a line became a variable NAME: printed by
    plan and --json, committed in clear in `.env.enc` (sops keeps names in clear) (pass 10b, 13.8)."""
    env = fleet.repo("juniper-cascor") / ".env"
    env.write_text(env.read_text() + key + "\n")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    for result in (rollout("plan", *only), rollout("plan", *only, "--json")):
        assert result.code == 1, result.stdout
        assert ".env:16:" in result.stdout + result.stderr, result.stdout
        assert key.rstrip("=") not in result.stdout + result.stderr


def test_no_32_byte_key_passes_as_a_name_and_long_camel_case_names_still_do():
    import base64
    import random

    from juniper_rollout.dotenv import DotenvError, parse_names

    rng = random.Random(10)  # seeded: the same 2,000 keys every run
    for _ in range(1000):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            key = encode(bytes(rng.getrandbits(8) for _ in range(32))).decode()
            with pytest.raises(DotenvError):
                parse_names(f"{key}\n".encode())
    names = [
        "SpringDatasourceHikariMaximumPoolSizeOverride",
        "ThisIsAVeryLongCamelCaseVariableNameForTesting",
        "ElasticsearchClusterPasswordForKibanaDashboards",
        "AzureStorageAccountConnectionStringPrimary",
        "myApp_DbConnection_StringForProd_Region",
        "AWS_SECRET_ACCESS_KEY_ID_FOR_PROD_2024",
    ]
    assert parse_names("".join(f"{n}=x\n" for n in names).encode()) == names


# --- drift: a plaintext value in a YAML, JSON or INI sops file -----------------------------------


def _with_a_plaintext_value(real: str, fmt: str) -> str:
    if fmt == "yaml":
        return real.replace("sops:\n", "NEW_TOKEN: plain-yaml-value-5e1\nsops:\n", 1)
    if fmt == "json":
        return real.replace("{\n", '{\n\t"NEW_TOKEN": "plain-json-value-5e1",\n', 1)
    return real.replace("[app]\n", "[app]\nNEW_TOKEN = plain-ini-value-5e1\n", 1)


@pytest.mark.parametrize("fmt", ["yaml", "json", "ini"])
def test_drift_finds_a_plaintext_value_in_a_yaml_json_or_ini_sops_file(fleet, tmp_path, fmt):
    """A value added by hand to a sops YAML/JSON/INI file (`NEW_TOKEN: value` beside the ENC[…]
    values; the metadata intact) was "0 findings" tracked (`drift --ref`) and in history: the values
    check read dotenv files only (pass 10b, 13.9)."""
    from juniper_rollout import keys
    from tests.test_sops_formats import sops_output

    repo = fleet.repo("juniper-data")
    real = sops_output(keys.public_keys_in(fleet.key_file)[0], fmt).decode()
    plain = _with_a_plaintext_value(real, fmt)
    history = drift_flags_the_unencrypted_value(fleet, repo, tmp_path, real, plain, "-value-5e1")
    assert "add svc secrets" in history.stdout and "fix svc secrets" not in history.stdout


def test_every_real_sops_format_has_no_plaintext_value(tmp_path):
    from juniper_rollout import keys, sopsmeta
    from tests.test_sops_formats import sops_output

    recipient = keys.generate_key_file(tmp_path / "keys.txt")
    for fmt in ("dotenv", "yaml", "json", "ini", "binary"):
        assert sopsmeta.plaintext_value_line(sops_output(recipient, fmt)) is None, fmt


# --- smaller list: a Git LFS pointer in the spellings git-lfs still reads ------------------------


@pytest.mark.parametrize(
    "version", ["https://hawser.github.com/spec/v1", "http://git-media.io/v/2"]
)
@pytest.mark.parametrize("path", ["AGENTS.md", ".gitignore"])
def test_an_lfs_pointer_of_an_early_git_lfs_is_skipped_not_edited(tmp_path, version, path):
    """git-lfs reads its pre-release (`hawser`) and alpha (`git-media`) version lines as v1 pointers;
    the tool knew only `git-lfs.github.com`, so such an AGENTS.md or .gitignore got the tool's block
    appended and the pointer was corrupted (pass 10b, smaller list)."""
    from tests.test_adversary import make_repo, manifest_for

    pointer = f"version {version}\noid sha256:{'a' * 64}\nsize 1234\n"
    attributes = f"{path} filter=lfs diff=lfs merge=lfs -text\n"
    repo = make_repo(tmp_path / "ws" / "victim", {path: pointer, ".gitattributes": attributes})
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    result = rollout("plan", "--manifest", manifest, "--json")
    assert result.code == 0, result.stderr
    victim = next(r for r in json.loads(result.stdout)["repos"] if r["name"] == "victim")
    entry = next(f for f in victim["files"] if f["path"] == path)
    assert entry["action"] == "skip" and "Git LFS" in entry["reason"], entry
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    assert git(repo, "show", f"{BRANCH}:{path}") == pointer


# --- smaller list: branch names git refuses, or reads as its own refs ----------------------------


@pytest.mark.parametrize(
    "branch, words",
    [
        ("chore/.hidden", "is not a valid git branch name"),  # a component starting with '.'
        (".dotfirst", "is not a valid git branch name"),
        ("x.lock/y", "is not a valid git branch name"),  # a component ending with '.lock'
        ("stash", "shadowing git's own ref"),  # refs/stash is read before refs/heads/stash
        ("bisect/bad", "shadowing git's own ref"),
        ("replace/x", "shadowing git's own ref"),
    ],
)
def test_a_branch_git_refuses_or_reads_as_its_own_ref_is_refused_with_its_line(
    fleet, branch, words
):
    """`chore/.hidden` and `.x` passed the manifest and failed in every repo at apply with git's
    "refusing to update ref with bad name"; `x.lock/y` was called "locked by another git command …
    remove it"; `stash` and `bisect/bad` were created, and `git log stash` then shows the user's
    stash, not the rollout branch (pass 10b, smaller list)."""
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(
        text.replace("  branch: chore/sops-age-rollout", f"  branch: {branch}", 1)
    )
    line = 1 + fleet.manifest.read_text().split(f"  branch: {branch}")[0].count("\n")
    result = rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--yes")
    assert result.code == 1
    assert f"repos.yaml:{line}: defaults.branch" in result.stderr and words in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert git(fleet.repo("juniper-ml"), "for-each-ref", "refs/heads/").count("\n") == 1  # main


# --- drift: a plaintext env file kept as a git note -----------------------------------------------


def test_drift_finds_a_plaintext_env_file_kept_as_a_git_note(fleet):
    """`git notes add -F .env main` (or `-m` with its text): the note is a blob named by the commit it annotates, in a
    commit `git log --all` walks, so the history scan (by env-file names) passed it by; pushed with
    `git push origin refs/notes/*` it is readable there: "0 findings" (pass 10b, 13.9)."""
    repo = fleet.repo("juniper-cascor")
    env = "HF_TOKEN=note-held-value-9f8e2d\nDB_PASSWORD=note-held-pw-4c1b\n"  # a .env's shape
    git(repo, "notes", "add", "-m", env, "main")
    git(repo, "notes", "--ref", "review", "add", "-m", "Reviewed-by: Ada <ada@example.com>", "main")
    result = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--format", "json"
    )
    found = [f for r in json.loads(result.stdout)["repos"] for f in r["findings"]]
    assert [f["path"] for f in found] == ["refs/notes/commits"], found
    assert "holds a note shaped like a plaintext env file" in found[0]["message"]
    assert (
        f"git -C {fleet.repo('juniper-cascor')} update-ref -d refs/notes/commits"
        in found[0]["message"]
    )


# --- smaller list: bootstrap of a SHA-256 repository --------------------------------------------


def test_bootstrap_of_a_sha256_repository_writes_nothing(fleet, tmp_path):
    """The plan said "SHA-256 repositories are not supported", then `bootstrap --yes` added the repo
    to the manifest and moved the clone into place anyway, and its apply failed naming the staging
    folder (pass 10b, smaller list)."""
    import subprocess

    source = tmp_path / "src"
    subprocess.run(
        ["git", "init", "-q", "--object-format=sha256", "-b", "main", str(source)], check=True
    )
    git(source, "commit", "-q", "--allow-empty", "-m", "init")
    before = fleet.manifest.read_bytes()
    result = rollout(
        "bootstrap", "--yes", "shanew", "--manifest", fleet.manifest, "--url", f"file://{source}"
    )
    assert result.code == 1
    assert "SHA-256 repositories are not supported" in result.stdout, result.stdout
    assert "nothing written" in result.stdout and "added shanew" not in result.stdout
    assert fleet.manifest.read_bytes() == before
    assert not (fleet.workspace / "shanew").exists()
    assert not [p for p in fleet.workspace.iterdir() if "bootstrap" in p.name]


def test_the_loose_reading_follows_sops_own_tokens_not_any_look_alike():
    """Go's separators are exact (`__list_`, `__map_`) and a dotenv key is metadata only after an exact
    `sops_`: a variable named `PGP__LIST_KEYS` is data to sops, and no master key."""
    from juniper_rollout.sopsmeta import _loose_others

    assert _loose_others("PGP__LIST_KEYS=x\nKMS__list_0=y\nsops_kms__LIST_0=z\n", "dotenv") == set()
    assert _loose_others("sops_Hc_Vault__list_7__map_x=1\n", "dotenv") == {"hc_vault"}
    assert _loose_others("[sops]\nPGP__list_0__map_fp: F\n", "ini") == {"pgp"}


def drift_flags_the_unencrypted_value(fleet, repo, tmp_path, real: str, plain: str, canary: str):
    """``plain`` (a sops file with something sops did not encrypt) committed as svc/.env.enc, then
    ``real`` over it: drift names it in history and at ``--ref`` that commit, never showing
    ``canary``. Returns the history run."""
    from tests.test_pass3 import commit_on

    added = commit_on(repo, "main", {"svc/.env.enc": plain}, tmp_path, "add svc secrets")
    fixed = commit_on(repo, added, {"svc/.env.enc": real}, tmp_path, "fix svc secrets")
    git(repo, "update-ref", "refs/heads/hist", fixed)
    git(repo, "update-ref", "refs/heads/plain", added)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-data")
    history = rollout("drift", *only, "--format", "json")
    tracked = rollout("drift", *only, "--ref", "plain", "--format", "json")
    for result, message in (
        (history, "was once committed with a value sops did not encrypt"),
        (tracked, "holds a value sops did not encrypt"),
    ):
        found = [
            f
            for r in json.loads(result.stdout)["repos"]
            for f in r["findings"]
            if f["path"] == "svc/.env.enc"
        ]
        assert found and message in found[0]["message"], result.stdout
        assert canary not in result.stdout + result.stderr
    return history
