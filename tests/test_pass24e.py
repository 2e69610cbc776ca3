"""Issue 13, pass 24e: a second adversarial pass over items 5-8 (the leaks), session 28, attacking
first what pass 24b added (the readings, the base64 spellings, the sealed-value and recipients checks).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import base64
import json
import shutil

import pytest

from tests.helpers import git, rollout
from tests.test_pass24b import (
    SECRET,
    _encrypting_fleet,
    _template_beside_a_dotenv,
    objects,
    refused_in_plan_and_apply,
)

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


def _b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def _wrapped(encoded: str, width: int, lead: str, joint: str) -> str:
    return joint.join(lead + encoded[i : i + width] for i in range(0, len(encoded), width))


# (.env, path, template, what must not be printed): each spelling passed pass 24b's check
_SPELLED = {
    "a word of the value, base64 (padding kept)": (
        f"API_TOKEN={SECRET}\n",
        "deploy/secret.yaml",
        f"data:\n  TOKEN_TAIL: {_b64('Zq81Lm0pWx42Rt')}\n",
        _b64("Zq81Lm0pWx42Rt"),
    ),
    "base64 twice (a .dockerconfigjson's auth)": (
        f"REGISTRY_PASSWORD={SECRET}\n",
        "deploy/pull-secret.yaml",
        "kind: Secret\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: "
        + _b64(json.dumps({"auths": {"ghcr.io": {"auth": _b64("ci:" + SECRET)}}}))
        + "\n",
        _b64(json.dumps({"auths": {"ghcr.io": {"auth": _b64("ci:" + SECRET)}}}))[:40],
    ),
    "base64 wrapped at 64 inside a JSON string": (
        f"API_TOKEN={SECRET * 3}\n",
        "config/app.json",
        '{"blob": "' + _wrapped(_b64(SECRET * 3), 64, "", "\\n") + '"}\n',
        _b64(SECRET * 3)[:64],
    ),
    "base64 wrapped at 64 in comment lines": (
        f"API_TOKEN={SECRET * 3}\n",
        "deploy/notes.sh",
        _wrapped(_b64(SECRET * 3), 64, "# ", "\n") + "\n",
        _b64(SECRET * 3)[:64],
    ),
    "C octal escapes (printf)": (
        f"API_TOKEN={SECRET}\n",
        "deploy/run.sh",
        "printf 'X-7f3a9c-Zq81Lm0\\160Wx42Rt' > token\n",
        "Zq81Lm0\\160Wx42Rt",
    ),
    "TOML line-ending backslash over a blank line": (
        f"API_TOKEN={SECRET}\n",
        "config/app.toml",
        'token = """CANARY-7f3a9c-Zq81Lm0\\\n\n    pWx42Rt"""\n',
        "Zq81Lm0\\",
    ),
    "a query's + for a blank": (
        'DB_PASSWORD="correct horse battery staple"\n',
        "config/app.env.example",
        "DATABASE_URL=https://db.example/?password=correct+horse+battery+staple\n",
        "correct+horse+battery+staple",
    ),
}


@pytest.mark.parametrize("case", list(_SPELLED))
def test_a_value_spelled_another_way_is_refused(tmp_path, case):
    """ON-LIST 13.6 (the same hole as pass 24b's F1, new spellings). A template holding a `.env` value
    (or a word of it) in a spelling pass 24b's readings did not decode was shown in the plan's diff
    and committed: a word base64-encoded (the words were looked for as written only, and the decoder
    dropped a run's last 2-3 characters), base64 of base64 (a Kubernetes pull secret), base64
    wrapped inside a JSON string or in `# ` comment lines, C/printf octal escapes, a query's `+` for a
    blank (pass 24e). Each base64 run of each reading is now decoded and looked in, the wrapped text
    is read per reading, and readings undo octal escapes and `+`."""
    path = _SPELLED[case][1]
    refused_in_plan_and_apply(
        tmp_path, _SPELLED[case], f"{path} would contain", "of the plaintext .env"
    )


def test_yaml_single_quotes_and_plain_base64_of_other_text_are_still_written(tmp_path):
    """Control: `''`, `+`, octal-looking text and base64 of other words (padding dropped) apply."""
    template = (
        "motd: 'it''s fine'\nquery: a+b=c\nmode: '\\0755'\n"
        f"blob: {_b64('only a sentence, nothing secret here').rstrip('=')}\n"
        f"# {_b64('another harmless sentence of text')}\n"
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


# --- 13.6: the age key file and credentials, escaped --------------------------------------------------

_ESCAPES = {
    "YAML \\x": lambda key, sep: '"' + key.replace(sep, f"\\x{ord(sep):02x}") + '"',
    "JSON \\u": lambda key, sep: '"' + key.replace(sep, f"\\u{ord(sep):04x}") + '"',
    "%XX": lambda key, sep: key.replace(sep, f"%{ord(sep):02X}"),
    "HTML reference": lambda key, sep: key.replace(sep, f"&#{ord(sep)};"),
}


@pytest.mark.parametrize("escape", list(_ESCAPES))
def test_the_age_key_escaped_in_a_template_is_refused(tmp_path, escape):
    """ON-LIST 13.6 ("the age key file … printed in the plan diff"). A template holding the team's
    age private key with its dashes escaped (`AGE\\x2dSECRET\\x2dKEY\\x2d1…` in a YAML string,
    `\\u002d` in JSON, `%2D`, `&#45;`) was shown in the plan's diff and committed: pass 24b's
    `holds_a_private_key` read the text as written and base64-decoded only, not as its readers decode
    it (pass 24e)."""
    from juniper_rollout import keys

    key_file = tmp_path / "team" / "keys.txt"
    keys.generate_key_file(key_file)
    key = next(line for line in key_file.read_text().splitlines() if line.startswith("AGE-"))
    spelled = _ESCAPES[escape](key, "-")
    manifest = _template_beside_a_dotenv(
        tmp_path, "LOG_LEVEL=debug\n", "clusters/key.yaml", f"age_key: {spelled}\n"
    )
    for args in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.code == 1, said
        assert spelled[-30:] not in said and key[-30:] not in said, said
        assert "clusters/key.yaml would contain an age private key" in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()
    assert key[-30:].encode() not in objects(repo)


@pytest.mark.parametrize("escape", list(_ESCAPES))
def test_a_credential_escaped_in_a_template_is_refused(tmp_path, escape):
    """ON-LIST 13.6 (pass 3's "a template is never a file holding a credential"). A template holding a
    GitHub token with its `_` escaped (`ghp\\x5f…`, `\\u005f`, `%5F`, `&#95;`), which every YAML or
    JSON reader reads as the token, was rendered, shown in the diff and committed: the template's
    source was read as written and base64-decoded only (pass 24e)."""
    token = "ghp_Zq81Lm0pWx42RtK7bN3cV9xY2wQ5eR8tU1iO"
    spelled = _ESCAPES[escape](token, "_")
    manifest = _template_beside_a_dotenv(
        tmp_path, "LOG_LEVEL=debug\n", "ci/creds.yaml", f"token: {spelled}\n"
    )
    for args in (("plan",), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.code == 1, said
        assert token[8:] not in said, said
        assert "app.j2 holds a credential" in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()


# --- 13.6's templates: a rendered .sops.yaml naming a key of another kind, or one the tool cannot read --

_RULES = {
    "pgp": "    age: '{{ recipients | join(\",\") }}'\n    pgp: 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4'\n",
    "kms": "    age: '{{ recipients | join(\",\") }}'\n"
    "    kms: 'arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d'\n",
    "hc_vault_transit_uri": "    age: '{{ recipients | join(\",\") }}'\n"
    "    hc_vault_transit_uri: 'https://vault.example:8200/v1/sops/keys/k'\n",
    "pgp in a key group": "    key_groups:\n      - age: ['{{ recipients | join(\"','\") }}']\n"
    "        pgp: ['FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4']\n",
    "a custom tag": "    age: !keys '{{ recipients | join(\",\") }},OTHER'\n",
    "a second document": "    age: '{{ recipients | join(\",\") }}'\n---\ncreation_rules:\n"
    "  - path_regex: '.*'\n    age: 'OTHER'\n",
}


@pytest.mark.parametrize("case", list(_RULES))
def test_a_sops_template_naming_a_key_of_another_kind_is_never_committed(
    tmp_path, monkeypatch, case
):
    """NEW (13.6's templates; pass 24b's recipients check, other key kinds). With nothing for the tool
    to encrypt, a `sops.yaml.j2` whose rule names a pgp, kms or Vault key beside the manifest's age
    recipients (in the rule or a key group) was committed: pass 24b checked age keys only, and only
    encrypting refused other kinds. Every later `sops -e` by a person (what the usage guide says)
    encrypted for that key too: sops fetches a pgp key it lacks from a keyserver, a kms ARN of
    another account takes the user's AWS identity. A rendering the tool could not read (a custom
    `!tag`, a second YAML document), which sops reads and which names another age key, was
    committed unchecked (pass 24e). Both are refused now, before anything is written."""
    from juniper_rollout import keys

    other = keys.generate_key_file(tmp_path / "theirs" / "keys.txt")
    manifest, repo, _ = _encrypting_fleet(tmp_path, monkeypatch, "unused")
    (tmp_path / "tpl" / "sops.yaml.j2").write_text(
        "creation_rules:\n  - path_regex: '(^|/)\\.env(\\.enc)?$'\n"
        + _RULES[case].replace("OTHER", other)
    )
    manifest.write_text(
        manifest.read_text().replace("    encrypt: [{source: .env, target: .env.enc}]\n", "")
    )
    for args in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        assert result.code == 1, result.stdout
        assert ".sops.yaml as the plan writes it " in result.stdout, result.stdout
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()


# --- the suite's own leak checks: the canary's spellings ------------------------------------------


def test_the_suites_leak_checks_see_the_canary_base64_encoded_or_escaped():
    """NEW (the test harness; pass 24b's "not fixed"). `tests/helpers.rollout` and conftest's checks
    (captured output, every git object, the tool's temp dir) looked for the canary as written only,
    so a test proved nothing about a value printed or committed base64-encoded or escaped (pass 24e).
    They look for every spelling of `tests.helpers.canary_spellings` now, in one pass."""
    from tests.demofleet import CANARY
    from tests.helpers import shows_canary

    value = f"demo-{CANARY}-1"
    for before in ("", "K=", "KEY=", "API_TOKEN="):  # each of the three alignments, and more
        for text in (f"{before}{value}\n", f"# env\n{before}{value}\nX=1\n"):
            assert shows_canary(_b64(text))
            assert shows_canary(base64.urlsafe_b64encode(text.encode()).rstrip(b"="))
    assert shows_canary(_b64(json.dumps({"data": {"API_TOKEN": value}})))
    for spelled in ("\\x2d", "\\u002d", "\\055", "%2D", "%2d", "&#45;", "&#x2d;"):
        assert shows_canary(value.replace("-", spelled).encode())
    for harmless in ("demo-value-1", _b64("API_TOKEN=demo-value-1\n"), "CANARY-", "7f3a9c"):
        assert not shows_canary(harmless)


def test_the_session_scan_reads_packed_objects_and_base64(tmp_path):
    """NEW (the test harness). conftest's session scan read loose objects only: an object in a pack
    (a push to a bare origin, a fetch, `git gc`) was never looked at (pass 24e). Both a loose and a
    packed object holding the canary base64-encoded are found now. The repository is removed before
    the session's own scan."""
    from tests.conftest import _git_objects_with_canary
    from tests.demofleet import CANARY

    repo = tmp_path / "scanned"
    try:
        repo.mkdir()
        git(repo, "init", "-q")
        (repo / "secret.yaml").write_text(f"data:\n  TOKEN: {_b64(f'demo-{CANARY}-9')}\n")
        git(repo, "add", "secret.yaml")
        git(repo, "commit", "-qm", "x")
        assert [p for p in _git_objects_with_canary(tmp_path) if "objects" in p.parts]
        git(repo, "gc", "-q", "--prune=now")
        assert not list((repo / ".git" / "objects").glob("[0-9a-f][0-9a-f]/*"))
        assert _git_objects_with_canary(tmp_path) == [repo / ".git" / "objects" / "pack"]
    finally:
        shutil.rmtree(repo, ignore_errors=True)


def test_rollout_helper_fails_a_test_whose_output_shows_the_canary_base64_encoded(tmp_path):
    """The in-process `rollout` helper fails on a spelling of the canary in the tool's output (here the
    tool prints the path it was given)."""
    from tests.helpers import canary_spellings

    shown = next(s for s in canary_spellings() if s.startswith("Q0"))
    with pytest.raises(AssertionError, match="plaintext secret leaked"):
        rollout("plan", "--manifest", tmp_path / f"{shown}.yaml")


# --- 13.6's templates: a gitignore block that no longer ignores the plaintext env files ------------

_BLOCKS = {
    "renders no pattern": "# Plaintext env files stay local.\n",
    "un-ignores .env": "{% for pattern in patterns %}\n{{ pattern }}\n{% endfor %}\n!.env\n",
    "comments the patterns out": "{% for pattern in patterns %}\n# {{ pattern }}\n{% endfor %}\n",
    "ignores the examples too": "{% for pattern in patterns %}\n{{ pattern }}\n{% endfor %}\n*.example\n",
}


@pytest.mark.parametrize("case", list(_BLOCKS))
def test_a_gitignore_block_that_no_longer_ignores_env_files_is_refused(tmp_path, case):
    """NEW (13.6's templates; pass 24b's "verify flags it, plan does not"). A `gitignore-block.j2`
    rendering a block that leaves `.env` (and the other plaintext env files) unignored, or ignores
    the `.env.example` the rollout commits, was written by apply: the rollout branch's `.gitignore`
    then let `git add .` stage the plaintext `.env` (the hook is the only guard left, and it is
    skipped with `--no-verify`); only a later `rollout verify` named it (pass 24e). The plan now
    refuses a `.gitignore` whose rules, with the rendered block, do not do the block's job."""
    manifest = _template_beside_a_dotenv(tmp_path, f"API_TOKEN={SECRET}\n", "x.txt", "x\n")
    (tmp_path / "tpl" / "gitignore-block.j2").write_text(_BLOCKS[case])
    for args in (("plan",), ("apply", "--yes")):
        result = rollout(*args, "--manifest", manifest)
        assert result.code == 1, result.stdout
        assert ".gitignore as the plan writes it (with gitignore-block.j2 rendered)" in (
            result.stdout
        ), result.stdout
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()


def test_a_gitignore_block_template_adding_rules_still_applies(tmp_path):
    """Control: a block template adding its own lines beside the patterns applies."""
    manifest = _template_beside_a_dotenv(tmp_path, f"API_TOKEN={SECRET}\n", "x.txt", "x\n")
    (tmp_path / "tpl" / "gitignore-block.j2").write_text(
        "# team rules\n{% for pattern in patterns %}\n{{ pattern }}\n{% endfor %}\n*.log\n"
    )
    assert rollout("apply", "--yes", "--manifest", manifest).code == 0


@pytest.mark.parametrize("edit", ["a pgp key", "another age key in .sops.yml", "a custom tag"])
def test_a_saved_plan_whose_sops_config_names_another_key_is_refused(tmp_path, monkeypatch, edit):
    """NEW (pass 24b's recipients check, the saved-plan path). A saved plan (`plan --out`, a CI
    artifact, `plan --out - | apply -`) whose `.sops.yaml` was edited to name a pgp key, or which
    gained a `.sops.yml` naming another age key, or a `.sops.yaml` the tool cannot read, was applied
    and committed: apply's stale-plan check read the top-level `.sops.yaml`'s age keys only, and the
    plan's own check ran at plan time (pass 24e). A saved plan's files are checked alike at apply."""
    from juniper_rollout import keys

    other = keys.generate_key_file(tmp_path / "theirs" / "keys.txt")
    manifest, repo, recipient = _encrypting_fleet(
        tmp_path, monkeypatch, '{{ recipients | join(",") }}'
    )
    manifest.write_text(
        manifest.read_text().replace("    encrypt: [{source: .env, target: .env.enc}]\n", "")
    )
    saved = tmp_path / "plan.json"
    assert rollout("plan", "--out", saved, "--manifest", manifest).code == 0
    data = json.loads(saved.read_text())
    files = data["repos"][0]["files"]
    entry = next(f for f in files if f["path"] == ".sops.yaml")
    text = base64.b64decode(entry["content"]).decode()
    if edit == "a pgp key":
        text += "    pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n"
    elif edit == "a custom tag":
        text = text.replace("age: '", "age: !keys '").replace(recipient, f"{recipient},{other}")
    else:
        entry = dict(entry, path=".sops.yml")
        files.append(entry)
        text = text.replace(recipient, other)
    entry["content"] = base64.b64encode(text.encode()).decode()
    saved.write_text(json.dumps(data))
    result = rollout("apply", "--yes", saved, "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "damaged plan file (repo victim: .sops.y" in result.stderr, result.stderr
    assert not git(repo, "branch", "--list", "chore/sops-age-rollout").strip()
