"""Pass 8 of the outside adversary (issue 13): each test failed on main before its fix.

The attempts, held and broken, are logged in the pass-8 log; SECURITY.md lists each guarantee.
Emphasis of this pass: regressions of passes 6 and 7, the issue's items recent passes covered least
(ciphertext without plaintext, checked-out branches, amended commits, verify, `.env` names, workers,
`--out`), and name discovery on real-shaped settings code.
"""

from __future__ import annotations

import json
import re
import subprocess

from juniper_rollout import sops
from juniper_rollout.discover import discover_all
from tests.helpers import git, rollout
from tests.test_pass3 import BRANCH, commit_on, main_moves_to
from tests.test_review import OWNER, apply_pr

# --- plan --out never replaces a file that is not a saved plan -----------------------------------


def test_plan_out_never_replaces_the_age_key_or_a_persons_ciphertext(fleet, tmp_path):
    """`plan --out $SOPS_AGE_KEY_FILE` replaced the fleet's private age key with the plan (every
    .enc of the fleet unreadable without another copy); `--out backup/prod.env.enc` a person's
    ciphertext (a name pass 6's plaintext-env check lets through)."""
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "prod.env.enc").write_text(
        "DB_PASSWORD=ENC[AES256_GCM,data:abc=,iv:x=,tag:y=,type:str]\n"
    )
    (backup / "notes.txt").write_text("a person's notes\n")
    cases = [fleet.key_file, backup / "prod.env.enc", backup / "notes.txt"]
    before = {path: path.read_bytes() for path in cases}
    for path in cases:
        result = rollout("plan", "--manifest", fleet.manifest, "--out", path)
        assert result.code == 1, (path, result.stdout)
        assert "is a file that is not a plan saved by `rollout plan --out`" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert {path: path.read_bytes() for path in cases} == before
    plan = tmp_path / "plan.json"
    plan.touch()  # an empty file (mktemp) may take the plan, and a plan saved before be replaced
    for _ in range(2):
        assert rollout("plan", "--manifest", fleet.manifest, "--out", plan).code in (0, 2)
        assert json.loads(plan.read_text())["format_version"] == 1


# --- a rendered file or edit never lands on sops ciphertext, whatever its name ---------------------


def test_a_rollouts_file_over_sops_encrypted_yaml_is_refused_with_the_opt_out(fleet, tmp_path):
    """A named rollout's `files: - path: config/secrets.yaml` planned "update" with the template's
    text over a sops-encrypted YAML file on main (sops encrypts YAML, JSON, INI under any name;
    pass 7 refused only `.enc` and `.sops.yaml`): the only copy of those secrets in git, gone when
    the PR merged. The repo is refused, naming the opt-out that works; other repos go on."""
    data = fleet.repo("juniper-data")
    recipient = re.search(r"age1[0-9a-z]+", fleet.manifest.read_text()).group(0)
    plain = tmp_path / "secrets.yaml"
    plain.write_text("db:\n  password: not-the-canary-but-secret\n")
    encrypted = subprocess.run(
        [sops.sops_path(), "-e", "--age", recipient, str(plain)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    assert "sops:" in encrypted
    main_moves_to(data, {"config/secrets.yaml": encrypted}, tmp_path)
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(
        text.replace(
            "rollouts:\n",
            "rollouts:\n  x:\n    branch: chore/x\n    vars: {code_owners: ['@a']}\n"
            "    files:\n      - {path: config/secrets.yaml, template: CODEOWNERS.j2}\n",
            1,
        )
    )
    result = rollout("plan", "--manifest", fleet.manifest, "--rollout", "x")
    assert result.code == 1, result.stdout
    assert (
        "config/secrets.yaml at main is sops-encrypted (yaml): a rendered file or edit there would "
        "replace or break the ciphertext" in result.stdout
    ), result.stdout
    assert "not-the-canary" not in result.stdout
    assert "create     (rendered from CODEOWNERS.j2)" in result.stdout  # the other repos
    result = rollout("apply", "--manifest", fleet.manifest, "--rollout", "x", "--yes")
    assert not git(data, "branch", "--list", "chore/x").strip()
    advice = "rollouts: {x: {skip_files: [config/secrets.yaml]}}"
    assert advice in result.stdout
    fleet.manifest.write_text(
        fleet.manifest.read_text().replace(
            "  - name: juniper-data\n", f"  - name: juniper-data\n    {advice}\n", 1
        )
    )
    assert (
        rollout(
            "plan", "--manifest", fleet.manifest, "--rollout", "x", "--repo", "juniper-data"
        ).code
        == 0
    )


# --- discovery never lists a name pydantic-settings does not read ----------------------------------


def test_an_alias_generator_is_said_not_resolved_never_prefixed():
    """`SettingsConfigDict(env_prefix="GEN_", alias_generator=str.upper)`: pydantic-settings reads
    `LOWER_NAME` (a generated alias replaces the prefix, measured with pydantic-settings 2.x), but
    `.env.example` listed `GEN_LOWER_NAME`, a name nothing reads. Now the class is "not resolved"
    (its line), never guessed; `alias_generator=None` changes nothing."""
    head = (
        "from pydantic.alias_generators import to_camel\n"
        "from pydantic_settings import BaseSettings, SettingsConfigDict\n"
    )
    files = {
        "app/settings.py": head
        + "class Gen(BaseSettings):\n"
        + '    model_config = SettingsConfigDict(env_prefix="GEN_", alias_generator=str.upper)\n'
        + '    lower_name: str = "q"\n'
        + "class Old(BaseSettings):\n"
        + "    class Config:\n"
        + '        env_prefix = "OLD_"\n'
        + "        alias_generator = to_camel\n"
        + '    some_thing: str = "s"\n'
        + "class Plain(BaseSettings):\n"
        + '    model_config = SettingsConfigDict(env_prefix="P_", alias_generator=None)\n'
        + '    kept: str = "k"\n'
    }
    got = discover_all(files)
    assert [v.name for v in got.vars] == ["P_KEPT"]
    assert got.unresolved == ("app/settings.py:4", "app/settings.py:9")


# --- compared with the branch, the tool's own file is not a person's -------------------------------


def test_on_top_the_tools_own_env_example_is_rendered_again_not_kept_as_hand_written(fleet):
    """With the rollout branch on the current base, the `.env.example` the tool's commit added (main
    has none) was taken for a hand-written file: a manifest change (a group's title) planned
    "unchanged (hand-written file kept)", the adoption summary counted it as a person's file, and the
    change waited until main moved. Now it is rendered again, a new commit on top."""
    cascor = fleet.repo("juniper-cascor")
    assert rollout("apply", "--manifest", fleet.manifest, "--yes").code == 0
    assert "Third-party API keys" in git(cascor, "show", f"{BRANCH}:.env.example")
    text = fleet.manifest.read_text()
    assert text.count("title: Third-party API keys") == 1
    fleet.manifest.write_text(text.replace("title: Third-party API keys", "title: External APIs"))
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert "compared with the branch" in result.stdout
    assert "hand-written" not in result.stdout, result.stdout
    assert ".env.example             update     (rendered from env.example.j2)" in result.stdout
    assert rollout("apply", "--manifest", fleet.manifest, "--yes").code == 0
    assert "# External APIs" in git(cascor, "show", f"{BRANCH}:.env.example")
    assert git(cascor, "rev-list", "--count", f"main..{BRANCH}").strip() == "2"  # on top


# --- the review loop keeps a person's text above the tool's part of a PR body ----------------------


def test_a_note_a_person_typed_above_the_tools_table_is_kept(loop, github):
    """A reviewer typing a note at the top of the PR description (GitHub's editor opens there) lost
    it at the next `pr`: only text below the tool's marker was kept, the part above taken for the
    tool's own. Now text before the tool's first line is kept above it, at every later run too."""
    full = f"{OWNER}/juniper-ml"
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    note = "Reviewer: hold until the ops key ceremony (ticket 42).\n\n"
    github.pulls(full)[0].body = note + github.pulls(full)[0].body
    result = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.code == 0
    body = github.pulls(full)[0].body
    assert body.startswith(note) and "| `.sops.yaml` | create |" in body, body
    again = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert "unchanged #1" in again.stdout and github.pulls(full)[0].body == body


def test_a_manifest_introduction_quoting_the_marker_does_not_grow_the_pr_body(loop, github):
    """`defaults.pull_request.body` holding the tool's marker (a copied PR description): every `pr`
    took the rest of the tool's body for a person's text below the marker and appended it again."""
    full = f"{OWNER}/juniper-ml"
    text = loop.manifest.read_text()
    intro = "    body: 'Part of the fleet rollout <!-- juniper-rollout --> see the wiki.'\n"
    loop.manifest.write_text(text.replace("defaults:\n", "defaults:\n  pull_request:\n" + intro, 1))
    assert apply_pr(loop, "--repo", "juniper-ml").code == 0
    body = github.pulls(full)[0].body
    assert body.count("<!-- juniper-rollout -->") == 1, body
    for _ in range(2):
        again = rollout("pr", "-m", loop.manifest, "--repo", "juniper-ml")
        assert "unchanged #1" in again.stdout, again.stdout
    assert github.pulls(full)[0].body == body


# --- keygen never leaves a private key where git would commit it ----------------------------------


def test_keygen_refuses_a_key_file_inside_a_git_working_tree_that_does_not_ignore_it(
    fleet, tmp_path
):
    """`rollout keygen --key-file clone/keys.txt` wrote the private age key into a clone, untracked
    and not ignored: one `git add -A` from being committed and pushed. Refused (nothing written);
    a path git ignores there, or one outside any repository, is still fine."""
    ml = fleet.repo("juniper-ml")
    for rel in ("keys.txt", "secrets/age/keys.txt"):
        result = rollout("keygen", "--key-file", ml / rel)
        assert result.code == 1, result.stdout
        assert f"is inside the git working tree {ml}, which does not ignore it" in result.stderr
        assert "AGE-SECRET-KEY" not in result.stdout + result.stderr
    assert not (ml / "keys.txt").exists() and not (ml / "secrets").exists()
    assert git(ml, "status", "--porcelain") == ""
    (ml / ".git" / "info" / "exclude").write_text("/private/\n")
    assert rollout("keygen", "--key-file", ml / "private" / "keys.txt").code == 0
    assert rollout("keygen", "--key-file", tmp_path / "keys" / "keys.txt").code == 0


# --- a private age key pasted into the manifest is never printed ------------------------------------


def test_a_private_age_key_in_the_manifests_recipients_is_never_printed(fleet):
    """`age_recipients: [AGE-SECRET-KEY-1…]` (the wrong line of keys.txt pasted): plan, drift and
    verify printed the whole private key in their one line ("'AGE-SECRET-KEY-1…' is not a valid age
    public key"), into terminals and CI logs; `rotate --add` already refused it without echoing."""
    secret = next(
        line for line in fleet.key_file.read_text().splitlines() if line.startswith("AGE-SECRET")
    )
    text = fleet.manifest.read_text()
    recipient = re.search(r"age1[0-9a-z]{58}", text).group(0)
    for pasted in (secret, secret.lower()):
        fleet.manifest.write_text(text.replace(recipient, pasted, 1))
        for command in ("plan", "drift", "verify"):
            result = rollout(command, "--manifest", fleet.manifest)
            assert result.code == 1, (command, result.stdout)
            out = result.stdout + result.stderr
            assert secret[20:40].upper() not in out.upper(), (command, out)
            assert "that is a private age key (AGE-SECRET-KEY-1…)" in result.stderr


def test_the_sops_rollouts_example_merge_never_edits_a_sops_encrypted_file(fleet, tmp_path):
    """A `.env.example` on main that is a sops-encrypted dotenv file (someone encrypted the example):
    the merge appended "missing" names to it in a marked block (sops then refuses the file: MAC
    mismatch) and reported sops' own metadata lines as stale names. Now refused with the way out;
    `policy: create-only` keeps it as it is."""
    client = fleet.repo("juniper-data-client")
    plain = tmp_path / "example.env"
    plain.write_text("A=1\n")
    recipient = re.search(r"age1[0-9a-z]{58}", fleet.manifest.read_text()).group(0)
    encrypted = subprocess.run(
        [sops.sops_path(), "-e", "--input-type", "dotenv", "--output-type", "dotenv"]
        + ["--age", recipient, str(plain)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    new = commit_on(client, "main", {".env.example": encrypted}, tmp_path)
    git(client, "update-ref", "refs/heads/main", new)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-data-client")
    result = rollout("plan", *only)
    assert result.code == 1, result.stdout
    assert ".env.example at main is sops-encrypted (dotenv)" in result.stdout
    assert "sops_mac" not in result.stdout
    assert rollout("apply", *only, "--yes").code == 1
    assert not git(client, "branch", "--list", BRANCH).strip()
    text = fleet.manifest.read_text()
    entry = "  - name: juniper-data-client\n    env_example: {from: code}\n"
    assert text.count(entry) == 1
    fleet.manifest.write_text(
        text.replace(entry, entry.replace("{from: code}", "{from: code, policy: create-only}"))
    )
    assert rollout("apply", *only, "--yes").code == 0
    assert git(client, "show", f"{BRANCH}:.env.example") == encrypted


# --- a token pasted as a name into a hand-written .env.example is never echoed as a "stale name" ---


def test_a_credential_shaped_name_in_a_hand_written_example_is_not_echoed_as_stale(fleet, tmp_path):
    """A hand-written `.env.example` holding a pasted token as a name (`ghp_…=`): plan (text and
    --json) and drift listed it as a stale name, spreading the credential into terminals and CI
    logs. Now counted, never shown, with what to do (pass 6 did the same for names in ciphertext)."""
    worker = fleet.repo("juniper-cascor-worker")
    token = "ghp_Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz9Xc8V"
    example = f"# hand-written\nWORKER_URL=\n{token}=\n"
    main_moves_to(worker, {".env.example": example}, tmp_path)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor-worker")
    result = rollout("plan", *only, "--json")
    assert token not in result.stdout + result.stderr
    assert "1 name shaped like a credential (not shown)" in result.stdout
    assert "WORKER_URL" in result.stdout  # an ordinary stale name is still reported
    text = rollout("plan", *only)
    diff = ("     ", "    +", "    -", "    @")  # the diff shows the committed file as it is
    shown = [line for line in text.stdout.splitlines() if not line.startswith(diff)]
    assert any(line.startswith("    report stale name WORKER_URL") for line in shown)
    assert token not in "\n".join(shown) + text.stderr
    drift = rollout("drift", *only)
    assert token not in drift.stdout + drift.stderr and "WORKER_URL" in drift.stdout
