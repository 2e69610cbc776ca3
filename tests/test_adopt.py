"""Adopting a fleet rolled out by hand: hooks recognised by what they do and replaced in place,
hand-written .env.example files kept with the missing names added, hand-written .sops.yaml judged,
and on a fleet shaped like today's Juniper heads: plan, apply, verify --ref."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from juniper_rollout import adopt, audit, keys, planner, render, sops
from juniper_rollout.edits import envexample, precommit
from juniper_rollout.manifest import EnvGroup, EnvVarSpec, load_manifest
from tests import juniper_shapes as shapes
from tests.helpers import clone_state, git, rollout

BRANCH = "chore/sops-age-rollout"
RECIPIENT = (
    "age13egv0gfjtllz9fz35yt26hnnmwwpukqffuzewlgxxev0xzw46ylslaa6cv"  # a public key: no secret
)


def _manifest(tmp: Path):
    path = tmp / "repos.yaml"
    path.write_text(
        f"version: 1\nworkspace: .\ndefaults: {{age_recipients: [{RECIPIENT}]}}\nrepos: [{{name: x}}]\n"
    )
    manifest = load_manifest(path)
    return manifest, manifest.repos[0]


def _rendered() -> tuple[list, str]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        manifest, repo = _manifest(Path(tmp))
        sops_spec = next(f for f in repo.files if f.path == ".sops.yaml")
        return planner.hook_definitions(manifest, repo), render.render_file(
            manifest, repo, sops_spec
        )


MANAGED, RENDERED_SOPS_YAML = (
    _rendered()
)  # what the manifest renders today, whatever the templates say
BLOCKER = MANAGED[0]["id"]


def is_plaintext(path: str) -> bool:
    return audit.is_plaintext_env(path, _NoEncrypt())


class _NoEncrypt:
    encrypt = ()


def env_blockers(data) -> list[str]:
    """Ids of the local hooks that refuse a staged .env: the managed one by its data, others by what they do."""
    found = [h.id for h in adopt.find(data, MANAGED[0], is_plaintext)]
    return found + [h["id"] for _, _, h in precommit._local_hooks(data) if h == MANAGED[0]]


def adopted(text: str) -> str:
    hand = adopt.find(precommit.load_data(text), MANAGED[0], is_plaintext)
    return precommit.add_hooks(
        text, MANAGED, adopt=tuple((h.repo_index, h.hook_index) for h in hand)
    )


# --- recognising a hand-written blocker ----------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "spelling"), list(itertools.product(shapes.SHAPES, shapes.SPELLINGS))
)
def test_each_spelling_in_each_shape_is_replaced_in_place_and_nothing_else_moves(shape, spelling):
    text = shape("juniper-x", spelling)
    before = precommit.load_data(text)
    [hand] = adopt.find(before, MANAGED[0], is_plaintext)
    assert hand.id == "no-unencrypted-env" and hand.selects[:2] == (".env", ".env.secrets")
    new = adopted(text)
    after = precommit.load_data(new)
    # exactly one hook blocks .env, where the hand-written one was, the other managed hooks right after it
    assert env_blockers(after) == [BLOCKER]
    hooks = after["repos"][hand.repo_index]["hooks"]
    assert hooks[hand.hook_index : hand.hook_index + len(MANAGED)] == MANAGED
    # every other entry and hook loads the same
    others = [r for r in before["repos"]]
    others[hand.repo_index] = dict(
        others[hand.repo_index],
        hooks=[
            *before["repos"][hand.repo_index]["hooks"][: hand.hook_index],
            *MANAGED,
            *before["repos"][hand.repo_index]["hooks"][hand.hook_index + 1 :],
        ],
    )
    assert after == dict(before, repos=others)
    # every line outside the hand-written hook is still there, in order, comments included
    hook_lines = set(
        shapes.blocker(spelling).splitlines()
        + shapes.blocker(spelling, files=r"'^\.env(\.secrets)?$'").splitlines()
    ) - {"        # an earlier try: entry: sh -c 'exit 1'"}
    kept = [line for line in text.splitlines() if line not in hook_lines]
    remaining = iter(new.splitlines())
    assert all(any(line == other for other in remaining) for line in kept)
    # pre-commit's own schema accepts it, and a second plan finds nothing left to adopt
    precommit.validate(after)
    assert adopt.find(after, MANAGED[0], is_plaintext) == [] and adopted(new) == new


@pytest.mark.parametrize(
    ("hook", "why"),
    [
        (
            {
                "language": "system",
                "entry": "bash -c 'cd src && python -m pytest'",
                "files": r"^\.env$",
            },
            "may pass",
        ),
        (
            {"language": "system", "entry": "bash -c 'echo no || exit 1'", "files": r"^\.env$"},
            "|| may pass",
        ),
        (
            {
                "language": "system",
                "entry": "bash -c 'echo $(cat .env) && exit 1'",
                "files": r"^\.env$",
            },
            "substitution",
        ),
        (
            {"language": "system", "entry": "bash -c 'echo done && exit 0'", "files": r"^\.env$"},
            "exits 0",
        ),
        ({"language": "python", "entry": "check-env", "files": r"^\.env$"}, "runs a program"),
        ({"language": "fail", "entry": "no", "files": r"\.py$"}, "never sees .env"),
        # pass 22c's note: a hook failing on every file (a freeze) blocks more than .env: the person's
        ({"language": "fail", "entry": "repository frozen"}, "fails on every file"),
        ({"language": "fail", "entry": "no", "files": r"\.env|\.md$"}, "fails on README.md too"),
        (
            {"language": "fail", "entry": "no", "files": r"^\.env$", "exclude": r"^\.env$"},
            "excludes .env",
        ),
        (
            {"language": "fail", "entry": "no", "files": r"^\.env$", "types": ["python"]},
            "types exclude .env",
        ),
        (
            {"language": "fail", "entry": "no", "files": r"^\.env$", "stages": ["pre-push"]},
            "only on push",
        ),
        (
            {
                "language": "system",
                "entry": "bash -c 'exit 1'",
                "always_run": True,
                "pass_filenames": False,
            },
            "always_run",
        ),
    ],
)
def test_hooks_that_do_not_do_the_job_are_left_alone(hook, why):
    data = {"repos": [{"repo": "local", "hooks": [dict(id="x", name="x", **hook)]}]}
    assert adopt.find(data, MANAGED[0], is_plaintext) == [], why


@pytest.mark.parametrize(
    "hook",
    [
        {"language": "fail", "entry": "plaintext .env: encrypt it", "files": r"\.env$"},
        {
            "language": "system",
            "entry": "sh -c 'echo refused >&2; exit 2'",
            "files": r"(^|/)\.env(\.secrets)?$",
        },
        {
            "language": "script",
            "entry": "bash -c 'printf %s blocked && false'",
            "files": r"^\.env\.secrets$",
        },
        {"language": "system", "entry": "false", "files": r"^\.env$"},
    ],
)
def test_other_spellings_of_the_job_are_recognised(hook):
    data = {"repos": [{"repo": "local", "hooks": [dict(id="whatever-name", name="x", **hook)]}]}
    [found] = adopt.find(data, MANAGED[0], is_plaintext)
    assert found.id == "whatever-name"


def test_two_hand_written_blockers_become_one_managed_hook():
    text = shapes.data_like("juniper-x", shapes.SPELLING_YAML_SINGLE).replace(
        "      - id: coverage-gate\n",
        shapes.blocker(shapes.SPELLING_PLAIN_SINGLE).replace("no-unencrypted-env", "block-env")
        + "      - id: coverage-gate\n",
    )
    data = precommit.load_data(text)
    assert [h.id for h in adopt.find(data, MANAGED[0], is_plaintext)] == [
        "block-env",
        "no-unencrypted-env",
    ]
    new = adopted(text)
    after = precommit.load_data(new)
    assert env_blockers(after) == [BLOCKER]
    assert [h["id"] for h in after["repos"][1]["hooks"]] == [
        BLOCKER,
        *(h["id"] for h in MANAGED[1:]),
        "coverage-gate",
    ]
    assert (
        "  # ---- secrets: never commit a plaintext .env ----\n" in new
    )  # the section's comment stays


def test_a_hand_written_blocker_beside_the_managed_hook_is_removed():
    once = precommit.add_hooks(
        shapes.HEADER.format(name="x"), MANAGED
    )  # an earlier apply that only added
    text = once + "  - repo: local\n    hooks:\n" + shapes.blocker(shapes.SPELLING_YAML_DOUBLE)
    assert len(env_blockers(precommit.load_data(text))) == 2
    new = adopted(text)
    assert env_blockers(precommit.load_data(new)) == [BLOCKER]
    assert "no-unencrypted-env" not in new and new.startswith(once)


# --- a hand-written .env.example ---------------------------------------------------------------


def test_listed_names_count_prefixed_exported_and_commented_out_ones():
    text = (
        shapes.DATA_ENV_EXAMPLE + "export EXPORTED=1\n# not a name: see README\n# === Section ===\n"
    )
    assert envexample.listed_names(text) == [
        "JUNIPER_DATA_HOST",
        "JUNIPER_DATA_PORT",
        "JUNIPER_DATA_LOG_LEVEL",
        "JUNIPER_DATA_STORAGE_PATH",
        "JUNIPER_DATA_API_KEYS",
        "JUNIPER_DATA_RATE_LIMIT_PER_MINUTE",
        "EXPORTED",
    ]


def test_merge_keeps_every_byte_adds_what_is_missing_and_reports_what_is_stale():
    text = shapes.DATA_ENV_EXAMPLE
    wanted = [
        EnvVarSpec("JUNIPER_DATA_HOST", "0.0.0.0", "settings.py:9"),
        EnvVarSpec("JUNIPER_DATA_API_KEYS", None, "settings.py:13"),
        EnvVarSpec("JUNIPER_DATA_CACHE_TTL_SEC", "300", "settings.py:14"),
    ]
    groups = (EnvGroup("settings.py: Settings (prefix JUNIPER_DATA_)", tuple(wanted)),)
    merged = envexample.merge(text, groups, path=".env.example", read={v.name for v in wanted})
    assert merged.text.startswith(text)  # every byte of the person's file, first
    assert [v.name for v in merged.added] == [
        "JUNIPER_DATA_CACHE_TTL_SEC"
    ]  # the commented key counts as listed
    assert merged.text[len(text) :] == (
        "# >>> juniper-rollout >>>\n" + envexample.HEADER + "\n"
        "# settings.py: Settings (prefix JUNIPER_DATA_)\nJUNIPER_DATA_CACHE_TTL_SEC=300\n# <<< juniper-rollout <<<\n"
    )
    assert merged.stale == (
        "JUNIPER_DATA_PORT",
        "JUNIPER_DATA_LOG_LEVEL",
        "JUNIPER_DATA_STORAGE_PATH",
        "JUNIPER_DATA_RATE_LIMIT_PER_MINUTE",
    )
    # again: the same file; once the person lists the name, the block goes and the file is theirs again
    assert envexample.merge(merged.text, groups, path=".env.example").text == merged.text
    by_hand = merged.text + "JUNIPER_DATA_CACHE_TTL_SEC=600\n"
    assert (
        envexample.merge(by_hand, groups, path=".env.example").text
        == text + "JUNIPER_DATA_CACHE_TTL_SEC=600\n"
    )
    assert (
        envexample.merge(text, groups, path=".env.example").stale == ()
    )  # nothing known read: nothing stale


# --- a hand-written .sops.yaml -----------------------------------------------------------------


def test_the_hand_written_sops_yaml_reason_is_what_sops_itself_says():
    hand = shapes.HAND_SOPS_YAML.format(recipient=RECIPIENT) + (
        "    encrypted_regex: ^(password|token)$\n"
        "  - path_regex: secrets/.*\\.yaml$\n"
        f"    age: {RECIPIENT}\n"
    )
    after = RENDERED_SOPS_YAML
    why = adopt.judge_sops(hand, after)
    assert (
        "its path_regex '\\.env(\\.secrets)?$', 'secrets/.*\\.yaml$' matches no .env.enc, .env.secrets.enc"
        in why
    )
    assert f"recipients kept ({RECIPIENT[:12]}…)" in why
    assert "drops encrypted_regex: ^(password|token)$ of rule '\\.env(\\.secrets)?$'" in why
    assert "rules for other files ('secrets/.*\\.yaml$')" in why
    # measured with sops: the hand-written rule misses .env.enc, the rendered one matches
    assert sops.rule_matches(hand, ".env") and not sops.rule_matches(hand, ".env.enc")
    assert sops.rule_matches(after, ".env.enc") and sops.rule_matches(after, ".env")


# --- a fleet shaped like today's Juniper heads --------------------------------------------------


def make_repo(path: Path, files: dict[str, str | bytes]) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for name, data in files.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data if isinstance(data, bytes) else data.encode())
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "hand rollout")
    return path


CASCOR_EXAMPLE = """\
########################################
# juniper-cascor environment
#   cp .env.example .env, then: sops -e .env > .env.enc
########################################

# === Application (JUNIPER_CASCOR_ prefix) ===
JUNIPER_CASCOR_HOST=127.0.0.1
JUNIPER_CASCOR_PORT=8200
# JUNIPER_CASCOR_SENTRY_DSN=

# === External API tokens ===
HF_TOKEN=
EXA_API_KEY=
"""

WORKER_EXAMPLE = """\
# juniper-cascor-worker: copy to .env
CASCOR_MANAGER_HOST=127.0.0.1
CASCOR_MANAGER_PORT=50000
"""

WORKER_CODE = """\
import os

HOST = os.getenv("CASCOR_MANAGER_HOST", "127.0.0.1")
PORT = int(os.getenv("CASCOR_MANAGER_PORT", "50000"))
WORKERS = int(os.getenv("CASCOR_NUM_WORKERS", "1"))
"""


@pytest.fixture
def hand_fleet(tmp_path, monkeypatch):
    key_file = tmp_path / "maintainer" / "keys.txt"
    recipient = keys.generate_key_file(key_file)
    sops_yaml = shapes.HAND_SOPS_YAML.format(recipient=recipient)
    gitignore = "__pycache__/\n.env\n.env.secrets\n"
    secret = b"HF_TOKEN=hf-CANARY-7f3a9c-1\nEXA_API_KEY=exa-CANARY-7f3a9c-2\n"
    enc = sops.encrypt_dotenv(
        secret, sops_config=sops_yaml.replace("\\.env(\\.secrets)?$", ".*"), filename=".env.enc"
    )
    ws = tmp_path / "fleet"
    repos = {
        "juniper-data": {
            ".pre-commit-config.yaml": shapes.data_like(
                "juniper-data", shapes.SPELLING_PLAIN_ESCAPED
            ),
            ".env.example": shapes.DATA_ENV_EXAMPLE,
            "juniper_data/settings.py": shapes.DATA_SETTINGS,
        },
        "juniper-cascor": {
            ".pre-commit-config.yaml": shapes.cascor_like(
                "juniper-cascor", shapes.SPELLING_YAML_DOUBLE
            ),
            ".env.example": CASCOR_EXAMPLE,
            ".env.enc": enc,
            "src/main.py": "print('hi')\n",
        },
        "juniper-cascor-worker": {
            ".pre-commit-config.yaml": shapes.worker_like(
                "juniper-cascor-worker", shapes.SPELLING_YAML_SINGLE
            ),
            ".env.example": WORKER_EXAMPLE,
            "juniper_cascor_worker/config.py": WORKER_CODE,
        },
        "juniper-ml": {
            ".pre-commit-config.yaml": shapes.ml_like("juniper-ml", shapes.SPELLING_PLAIN_SINGLE)
        },
    }
    for name, files in repos.items():
        make_repo(ws / name, {".sops.yaml": sops_yaml, ".gitignore": gitignore, **files})
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(f"""\
version: 1
workspace: {ws}
defaults:
  age_recipients: [{recipient}]
repos:
  - name: juniper-data
    env_example: {{from: code}}
  - name: juniper-cascor
    env_example:
      groups:
        - title: External API tokens
          vars: [HF_TOKEN, EXA_API_KEY, SCOUT_TOKEN]
    encrypt:
      - source: .env
        target: .env.enc
  - name: juniper-cascor-worker
    env_example: {{from: code}}
  - name: juniper-ml
""")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    return manifest, ws, repos


def test_a_hand_rolled_fleet_is_adopted_and_verifies(hand_fleet, monkeypatch, tmp_path):
    manifest, ws, repos = hand_fleet
    states = {name: clone_state(ws / name) for name in repos}
    plan = rollout("plan", "--manifest", manifest)
    assert plan.code == 0, plan.stdout + plan.stderr
    out = plan.stdout
    # each adoption is listed, with its reason
    assert (
        out.count(
            "    replace hand-written hook no-unencrypted-env (language system with entry `bash -c"
        )
        == 4
    )
    assert (
        "lets through sub/.env, sub/.env.secrets" in out
        and "forbid-plaintext-env takes its place" in out
    )
    assert out.count("    keep hand-written file .env.example (every line kept") == 3
    assert (
        out.count(
            "    replace hand-written file .sops.yaml (its path_regex '\\.env(\\.secrets)?$' matches no "
            ".env.enc, .env.secrets.enc"
        )
        == 4
    )
    assert (
        "1 missing name added in a marked block: JUNIPER_DATA_CACHE_TTL_SEC (juniper_data/settings.py:14)"
        in out
    )
    assert (
        "    report stale name JUNIPER_DATA_RATE_LIMIT_PER_MINUTE (.env.example lists it, the code no longer "
        "reads it; kept)"
    ) in out
    assert "files '^\\.env(\\.secrets)?$'; lets through" in out
    # the fleet summary, at the end
    summary = out[out.index("Adopting what was rolled out by hand") :]
    assert "hooks replaced: 4 hand-written .env blockers (no-unencrypted-env) in 4 repos" in summary
    assert "spellings unified: 4 hand-written spellings → 1" in summary
    assert "files kept: 3 hand-written .env.example in 3 repos, every line as written" in summary
    assert (
        "names added: 3 (juniper-data: JUNIPER_DATA_CACHE_TTL_SEC, juniper-cascor: SCOUT_TOKEN, "
        "juniper-cascor-worker: CASCOR_NUM_WORKERS)"
    ) in summary
    assert (
        "names the code no longer reads: 1, kept and reported (juniper-data: JUNIPER_DATA_RATE_LIMIT_PER_MINUTE)"
        in summary
    )
    assert (  # the tool's marked blocks are its own: said so, never "nothing of yours" about them
        "nothing else of yours outside the tool's marked blocks is removed; replaced: the "
        "hand-written hooks and files listed as replaced"
    ) in summary
    assert summary.rstrip().endswith("4 repos: 4 with changes, 0 unchanged, 0 with errors")
    data = json.loads(rollout("plan", "--manifest", manifest, "--json").stdout)
    hook = next(f for f in data["repos"][0]["files"] if f["path"] == ".pre-commit-config.yaml")
    assert (
        hook["adoptions"][0]["kind"] == "hook-replaced"
        and hook["adoptions"][0]["subject"] == "no-unencrypted-env"
    )

    drift = rollout("drift", "--manifest", manifest, "--format", "json")
    findings = {
        (r["name"], f["id"]): f["message"]
        for r in json.loads(drift.stdout)["repos"]
        for f in r["findings"]
    }
    for name in repos:
        message = findings[(name, "hand-written-hook")]
        assert message.startswith(
            ".pre-commit-config.yaml: hand-written hook does the managed .env hook's job"
        )
        assert "no-unencrypted-env: language system with entry `bash -c" in message
    assert (
        shapes.SPELLING_YAML_SINGLE.split("'")[1][:40]
        in findings[("juniper-cascor-worker", "hand-written-hook")]
    )
    assert "JUNIPER_DATA_RATE_LIMIT_PER_MINUTE" in findings[("juniper-data", "stale-example-name")]

    applied = rollout("apply", "--manifest", manifest, "--yes")
    assert applied.code == 0, applied.stdout + applied.stderr
    for name, files in repos.items():
        repo = ws / name
        config = precommit.load_data(git(repo, "show", f"{BRANCH}:.pre-commit-config.yaml"))
        assert env_blockers(config) == [BLOCKER], name
        if ".env.example" in files:
            example = git(repo, "show", f"{BRANCH}:.env.example")
            assert example.startswith(files[".env.example"]), (
                name
            )  # every hand-written line and comment
    assert git(ws / "juniper-data", "show", f"{BRANCH}:.env.example").endswith(
        "# juniper_data/settings.py: Settings (prefix JUNIPER_DATA_)\n# JUNIPER_DATA_CACHE_TTL_SEC=300\n"
        "# <<< juniper-rollout <<<\n"
    )  # grouped by where it is read; optional: commented out with its default
    assert git(ws / "juniper-cascor", "show", f"{BRANCH}:.env.example").endswith(
        "# External API tokens\nSCOUT_TOKEN=\n# <<< juniper-rollout <<<\n"
    )
    assert (
        git(ws / "juniper-cascor", "show", f"{BRANCH}:.env.enc")
        == repos["juniper-cascor"][".env.enc"].decode()
    )
    assert {name: clone_state(ws / name) for name in repos} == states
    again = rollout("apply", "--manifest", manifest, "--yes")
    assert again.code == 0 and again.stdout.count("already up to date  ") == len(repos), (
        again.stdout
    )

    result = rollout("verify", "--manifest", manifest, "--ref", BRANCH, "--json")
    checks = {
        (r["name"], c["name"]): c for r in json.loads(result.stdout)["repos"] for c in r["checks"]
    }
    assert result.code == 0, [c for c in checks.values() if not c["ok"]]
    assert "decrypts" in checks[("juniper-cascor", "encrypted-files")]["detail"]
    assert (
        "the repo's 3 other hooks not run" in checks[("juniper-cascor", "precommit-hook")]["detail"]
    )
    # without the private key: what needs it says so, and nothing fails for it
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    monkeypatch.setenv("HOME", str(tmp_path / "no-key-home"))
    result = rollout("verify", "--manifest", manifest, "--ref", BRANCH, "--json")
    checks = {
        (r["name"], c["name"]): c for r in json.loads(result.stdout)["repos"] for c in r["checks"]
    }
    assert result.code == 0, [c for c in checks.values() if not c["ok"]]
    assert (
        "not decrypted (no age key found)"
        in checks[("juniper-cascor", "encrypted-files")]["detail"]
    )
    assert "decryption not checked" in checks[("juniper-cascor", "age-key")]["detail"]
    # and the plan after apply, on the branch, has nothing left to adopt
    again = rollout("drift", "--manifest", manifest, "--ref", BRANCH, "--format", "json")
    ids = {f["id"] for r in json.loads(again.stdout)["repos"] for f in r["findings"]}
    assert "hand-written-hook" not in ids


def test_policy_replace_renders_the_example_whole_when_asked(hand_fleet):
    manifest, ws, repos = hand_fleet
    text = manifest.read_text().replace(
        "    env_example: {from: code}\n  - name: juniper-cascor\n",
        "    env_example: {from: code, policy: replace}\n  - name: juniper-cascor\n",
    )
    manifest.write_text(text)
    data = json.loads(
        rollout("plan", "--manifest", manifest, "--repo", "juniper-data", "--json").stdout
    )
    example = next(f for f in data["repos"][0]["files"] if f["path"] == ".env.example")
    assert example["action"] == "update" and example["reason"].startswith(
        "rendered from env.example.j2"
    )
    assert "adoptions" not in example
