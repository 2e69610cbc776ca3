"""``rollout verify`` on the demo fleet: every check passes on the rollout branches, and fails
with its fix named before the rollout. The fleet is built and applied once for the module;
verify is read-only, so the tests share it (the few that need other commits add their own branch).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from juniper_rollout import keys, verify
from juniper_rollout.commands import verify as verify_command
from juniper_rollout.edits.precommit import load_data
from juniper_rollout.manifest import load_manifest
from tests import fleet as fleets
from tests.demofleet import CANARY
from tests.helpers import clone_state, git, rollout

BRANCH = fleets.BRANCH


@contextmanager
def isolated(root: Path):
    """What conftest's isolated_env does, for a module-scoped fixture (it runs before that one)."""
    home = root / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Test User\n\temail = test@example.invalid\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        mp.setenv("XDG_CONFIG_HOME", str(home / ".config"))
        mp.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
        mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
        for name in (
            "SOPS_AGE_KEY",
            "JUNIPER_WORKSPACE",
            "GIT_DIR",
            "GIT_INDEX_FILE",
            "GIT_WORK_TREE",
        ):
            mp.delenv(name, raising=False)
        yield mp


@pytest.fixture(scope="module")
def applied(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify")
    built = fleets.build(root / "demo")
    with isolated(root) as mp:
        mp.setenv("SOPS_AGE_KEY_FILE", str(built.key_file))
        result = rollout("apply", "--manifest", built.manifest, "--yes")
        assert result.code == 0, result.stdout + result.stderr
    return built


@pytest.fixture
def fleet(applied, monkeypatch):
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(applied.key_file))
    return applied


def verify_json(fleet, *args: str) -> tuple[int, dict]:
    result = rollout("verify", "--manifest", fleet.manifest, "--json", *args)
    return result.code, json.loads(result.stdout)  # stdout holds only the JSON


def checks_of(data: dict, repo: str) -> dict[str, dict]:
    entry = next(r for r in data["repos"] if r["name"] == repo)
    return {c["name"]: c for c in entry["checks"]}


def branch_with(repo: Path, name: str, files: dict[str, bytes], start: str = BRANCH) -> str:
    """A new branch: ``start`` with ``files`` replaced, made with plumbing (no checkout)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GIT_INDEX_FILE=str(Path(tmp) / "index"))

        def run(*args: str, data: bytes | None = None) -> str:
            return (
                subprocess.run(
                    ["git", "-C", str(repo), *args],
                    input=data,
                    env=env,
                    check=True,
                    capture_output=True,
                )
                .stdout.decode()
                .strip()
            )

        run("read-tree", start)
        for path, data in files.items():
            sha = run("hash-object", "-w", "--stdin", data=data)
            run("update-index", "--add", "--cacheinfo", f"100644,{sha},{path}")
        commit = run("commit-tree", run("write-tree"), "-p", start, "-m", "test change")
        run("update-ref", f"refs/heads/{name}", commit)
    return name


def test_rollout_branches_pass_every_check_and_json_has_the_exact_shape(fleet):
    code, data = verify_json(fleet, "--ref", BRANCH)
    assert set(data) == {"repos"}
    assert [r["name"] for r in data["repos"]] == fleet.names
    for repo in data["repos"]:
        assert set(repo) == {"name", "checks"}
        assert [c["name"] for c in repo["checks"]] == list(verify.CHECKS)
        for check in repo["checks"]:
            assert set(check) == {"name", "ok", "detail"}
            assert (
                isinstance(check["ok"], bool)
                and isinstance(check["detail"], str)
                and check["detail"]
            )
            assert check["ok"], (repo["name"], check)
    assert code == 0
    cascor = checks_of(data, "juniper-cascor")
    assert "decrypts to .env in the clone" in cascor["encrypted-files"]["detail"]
    assert "every name documented in .env.example" in cascor["encrypted-files"]["detail"]
    assert (
        "ran forbid-plaintext-env, require-sops-encrypted, require-encrypted-values by id"
        in cascor["precommit-hook"]["detail"]
    )
    assert "not applicable" in checks_of(data, "juniper-ml")["precommit-hook"]["detail"]


def test_the_table_marks_passed_and_not_applicable_checks(fleet):
    result = rollout(
        "verify", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--ref", BRANCH
    )
    assert result.code == 0, result.stdout
    row = next(line for line in result.stdout.splitlines() if "juniper-ml" in line)
    assert row.split() == ["juniper-ml", "✓", "✓", "✓", "n/a", "✓", "n/a", "✓"]
    assert (
        result.stdout.rstrip().endswith("1 repo: all 7 checks passed")
        and "fix:" not in result.stdout
    )


def test_before_the_rollout_verify_fails_with_the_fixes_named(fleet):
    states = {name: clone_state(fleet.repo(name)) for name in fleet.names}
    # another test of this worker may have killed a verify mid-run (its folder is that test's)
    earlier = set(Path(tempfile.gettempdir()).glob("rollout-verify-*"))
    result = rollout("verify", "--manifest", fleet.manifest)
    assert result.code == 1
    out = result.stdout
    assert "rollout verify on each repo's base branch" in out and "✗" in out
    for name in fleet.names:
        assert f"✗ {name} sops-config: no .sops.yaml at main" in out
    assert (
        "✗ juniper-cascor encrypted-files: no .env.enc at main (the manifest encrypts .env)" in out
    )
    assert (
        "✗ juniper-cascor gitignore: git check-ignore at main: not ignored: .env, .env.local, prod.env"
        in out
    )
    assert (
        "✗ juniper-deploy gitignore: git check-ignore at main: not ignored: prod.env; "
        "ignored: .env.sample, .env.template, .env.dist, .env.defaults, .env.tmpl, .env.tpl, .env.enc, "
        ".env.local.example, .env.local.sample, .env.local.template, .env.local.dist, .env.local.defaults, "
        ".env.local.tmpl, .env.local.tpl, .env.local.enc"
    ) in out
    missing = "precommit-hook: .pre-commit-config.yaml at main: forbid-plaintext-env, require-sops-encrypted, require-encrypted-values missing"
    assert f"✗ juniper-cascor {missing}" in out
    # juniper-cascor-worker has a local hook of its own: it is not a managed hook, and is never run
    assert f"✗ juniper-cascor-worker {missing}" in out
    assert out.count("\n    fix: ") == out.count("✗ juniper") == 27
    m = f"--manifest {fleet.manifest}"
    m = re.escape(m)  # pass 24h: each fix names its repo
    assert re.search(
        rf"    fix: put \.env in the clone, then run `rollout plan {m} --repo ([\w-]+)`, "
        rf"then `rollout apply {m} --repo \1`",
        out,
    )
    assert "7 repos: 7 failed" in out
    # nothing ran in, or changed, the users' clones; no throwaway repo is left behind
    assert {name: clone_state(fleet.repo(name)) for name in fleet.names} == states
    assert set(Path(tempfile.gettempdir()).glob("rollout-verify-*")) - earlier == set()


@pytest.mark.parametrize(
    ("removed", "symptom", "fix"),
    [
        ("forbid-plaintext-env", ": forbid-plaintext-env missing", "adds forbid-plaintext-env"),
        (
            "require-sops-encrypted",
            ": require-sops-encrypted missing",
            "adds require-sops-encrypted",
        ),
        (
            "require-encrypted-values",
            ": require-encrypted-values missing",
            "adds require-encrypted-values",
        ),
    ],
)
def test_the_hook_check_fails_when_a_hook_is_removed(fleet, removed, symptom, fix):
    repo = fleet.repo("juniper-data")
    config = load_data(git(repo, "show", f"{BRANCH}:.pre-commit-config.yaml"))
    for entry in config["repos"]:
        entry["hooks"] = [h for h in entry["hooks"] if h["id"] != removed]
    ref = branch_with(
        repo, f"test/no-{removed}", {".pre-commit-config.yaml": json.dumps(config).encode()}
    )
    code, data = verify_json(fleet, "--repo", "juniper-data", "--ref", ref)
    checks = checks_of(data, "juniper-data")
    assert code == 1
    assert not checks["precommit-hook"]["ok"]
    assert (
        symptom in checks["precommit-hook"]["detail"] and fix in checks["precommit-hook"]["detail"]
    )
    assert all(c["ok"] for n, c in checks.items() if n != "precommit-hook")


def encrypted_check(fleet, ref: str, age: verify.AgeKeys) -> verify.Check:
    manifest = load_manifest(fleet.manifest)
    repo = manifest.select(["juniper-cascor"])[0]
    return verify.check_encrypted(manifest, repo, verify.read_ref(repo, ref), age)


def test_a_plaintext_file_named_enc_fails(fleet):
    ref = branch_with(
        fleet.repo("juniper-cascor"),
        "test/plaintext-enc",
        {".env.enc": b"HF_TOKEN=not-encrypted\n"},
    )
    check = encrypted_check(fleet, ref, verify.find_age_keys())
    assert (
        not check.ok
        and check.detail
        == ".env.enc is not sops-encrypted (no sops metadata): it may be plaintext in git"
    )
    assert "rotate those secrets" in check.fix


def test_a_secret_the_example_does_not_list_is_the_gap(fleet):
    example = git(fleet.repo("juniper-cascor"), "show", f"{BRANCH}:.env.example").replace(
        "HF_TOKEN=\n", ""
    )
    ref = branch_with(
        fleet.repo("juniper-cascor"),
        "test/example",
        {".env.example": (example + "EXTRA=\n").encode()},
    )
    check = encrypted_check(fleet, ref, verify.find_age_keys())
    assert not check.ok
    assert check.detail == ".env.enc holds HF_TOKEN, which .env.example does not list"
    assert check.fix.startswith("add it to .env.example")


def test_optional_names_only_in_the_example_are_fine_and_commented_ones_count(fleet):
    example = git(fleet.repo("juniper-cascor"), "show", f"{BRANCH}:.env.example").replace(
        "HF_TOKEN=\n", ""
    )
    example += "# HF_TOKEN=hf_your_token_here\n# OPTIONAL_ONE=1\nOPTIONAL_TWO=\n"
    ref = branch_with(
        fleet.repo("juniper-cascor"), "test/optional", {".env.example": example.encode()}
    )
    check = encrypted_check(fleet, ref, verify.find_age_keys())
    assert check.ok, check.detail
    assert (
        "every name documented in .env.example (2 optional names there not set: fine)"
        in check.detail
    )


def test_without_a_key_the_values_are_not_decrypted_and_that_is_said(fleet, tmp_path):
    no_key = verify.find_age_keys({"HOME": str(tmp_path)})
    check = encrypted_check(fleet, BRANCH, no_key)
    assert check.ok and "not decrypted (no age key found)" in check.detail


def test_a_stale_encrypted_copy_is_named(fleet, tmp_path):
    copy = fleets.copy(fleet, tmp_path / "copy")
    dotenv = copy.repo("juniper-cascor") / ".env"
    dotenv.write_bytes(dotenv.read_bytes().replace(b"-0\n", b"-changed\n", 1))
    check = encrypted_check(copy, BRANCH, verify.find_age_keys())
    assert not check.ok and check.detail == ".env.enc decrypts, but not to the .env in your clone"


def test_an_unreadable_repo_fails_and_the_others_go_on(fleet, tmp_path):
    copy = fleets.copy(fleet, tmp_path / "copy")
    subprocess.run(["rm", "-rf", str(copy.repo("juniper-ml"))], check=True)
    code, data = verify_json(
        copy, "--repo", "juniper-ml", "--repo", "juniper-deploy", "--ref", BRANCH
    )
    assert code == 1
    assert [r["name"] for r in data["repos"]] == ["juniper-deploy", "juniper-ml"]  # manifest order
    [problem] = data["repos"][1]["checks"]
    assert problem["name"] == "repo" and not problem["ok"]
    assert "no clone at" in problem["detail"]
    assert all(c["ok"] for c in checks_of(data, "juniper-deploy").values())
    code, data = verify_json(fleet, "--repo", "juniper-ml", "--ref", "no-such-ref")
    assert code == 1 and "ref 'no-such-ref' not found" in data["repos"][0]["checks"][0]["detail"]


# --- the age key ------------------------------------------------------------------------------


def age_check(fleet, env: dict[str, str]) -> verify.Check:
    manifest = load_manifest(fleet.manifest)
    return verify.check_age_key(manifest, verify.find_age_keys(env))


def test_the_key_is_found_where_sops_looks(fleet, tmp_path):
    home = tmp_path / "home"
    default = home / ".config" / "sops" / "age" / "keys.txt"
    default.parent.mkdir(parents=True)
    default.write_bytes(fleet.key_file.read_bytes())
    default.chmod(0o600)
    check = age_check(fleet, {"HOME": str(home)})  # no env var needed
    assert check.ok and str(default) in check.detail
    assert age_check(fleet, {"HOME": str(tmp_path), "SOPS_AGE_KEY_FILE": str(fleet.key_file)}).ok
    identity = fleet.key_file.read_text().splitlines()[-1]
    assert age_check(fleet, {"HOME": str(tmp_path), "SOPS_AGE_KEY": identity}).ok
    default.chmod(0o644)
    check = age_check(fleet, {"HOME": str(home)})
    assert not check.ok and "chmod 600" in check.detail


def test_no_key_is_said_and_not_a_failure_a_stranger_key_fails_with_the_fix(fleet, tmp_path):
    check = age_check(fleet, {"HOME": str(tmp_path)})
    assert check.ok and not check.applies
    assert (
        "no age key where sops looks" in check.detail and "decryption not checked" in check.detail
    )
    stranger = tmp_path / "stranger.txt"
    keys.generate_key_file(stranger)
    check = age_check(fleet, {"HOME": str(tmp_path), "SOPS_AGE_KEY_FILE": str(stranger)})
    assert not check.ok and "is not a recipient" in check.detail and "rotate --add" in check.fix
    check = age_check(
        fleet, {"HOME": str(tmp_path), "SOPS_AGE_KEY_FILE": str(tmp_path / "gone.txt")}
    )
    assert not check.ok and "does not exist" in check.detail


# --- verify runs only the managed hooks, by id, with no key material ------------------------------


def with_local_hook(fleet, repo_name: str, branch: str, hook: dict, **top) -> str:
    """A branch whose config adds ``hook`` to the local entry holding the managed hooks (and ``top`` keys)."""
    repo = fleet.repo(repo_name)
    config = load_data(git(repo, "show", f"{BRANCH}:.pre-commit-config.yaml"))
    local = next(r for r in config["repos"] if r.get("repo") == "local")
    local["hooks"].insert(0, hook)
    config.update(top)
    return branch_with(repo, branch, {".pre-commit-config.yaml": json.dumps(config).encode()})


def test_a_branchs_own_hostile_hook_is_never_run_and_sees_no_key(fleet, tmp_path, monkeypatch):
    loot = tmp_path / "loot"
    stolen = loot / "stolen-key"
    # on .env and every other file, whatever the staged files: it would run in any config-wide run
    hostile = {
        "id": "helpful-check",
        "name": "helpful check",
        "language": "system",
        "always_run": True,
        "pass_filenames": False,
        "entry": f'sh -c \'mkdir -p {loot}; cp "$SOPS_AGE_KEY_FILE" {stolen}; '
        f'cp "$HOME/.config/sops/age/keys.txt" {loot}/home-key; env > {loot}/env; exit 0\'',
    }
    ref = with_local_hook(fleet, "juniper-data", "test/hostile", hostile)
    home_key = Path(os.environ["HOME"]) / ".config" / "sops" / "age" / "keys.txt"
    home_key.parent.mkdir(parents=True, exist_ok=True)
    home_key.write_bytes(fleet.key_file.read_bytes())
    home_key.chmod(0o600)
    monkeypatch.setenv("SOPS_AGE_KEY", fleet.key_file.read_text().splitlines()[-1])
    code, data = verify_json(fleet, "--repo", "juniper-data", "--ref", ref)
    assert not loot.exists(), "verify ran a hook of the branch's own config"
    checks = checks_of(data, "juniper-data")
    assert code == 0 and checks["precommit-hook"]["ok"], [c for c in checks.values() if not c["ok"]]
    assert "(the repo's 5 other hooks not run)" in checks["precommit-hook"]["detail"]


def test_the_hooks_run_with_no_key_material_in_their_environment(tmp_path, monkeypatch):
    """Even the managed hooks (or what pre-commit starts) get no SOPS_* variable, a private HOME, and
    no other variable of the user's beyond PATH, the locale and Python's own: no token (pass 20b)."""
    from juniper_rollout import throwaway

    key_file = tmp_path / "keys.txt"
    recipient = keys.generate_key_file(key_file)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(key_file))
    monkeypatch.setenv("SOPS_AGE_KEY", "AGE-SECRET-KEY-1NOTREAL")
    for name in ("GITHUB_TOKEN", "VAULT_TOKEN", "AWS_SECRET_ACCESS_KEY", "PRE_COMMIT_HOME"):
        monkeypatch.setenv(name, f"{CANARY}-{name}")
    out = tmp_path / "env.txt"
    probe = {
        "id": "probe",
        "name": "probe",
        "language": "system",
        "pass_filenames": False,
        "always_run": True,
        "entry": f"sh -c 'env > {out}'",
    }
    runs = throwaway.HookTrial((recipient,)).run(
        json.dumps({"repos": [{"repo": "local", "hooks": [probe]}]}), [("probe", [".env.example"])]
    )
    assert not isinstance(runs, str) and runs[0].code == 0, runs
    seen = dict(line.split("=", 1) for line in out.read_text().splitlines() if "=" in line)
    assert not [k for k in seen if k.startswith("SOPS_")]
    assert seen["HOME"] != os.environ["HOME"] and "rollout-verify-" in seen["HOME"]
    assert str(key_file) not in out.read_text()
    assert CANARY not in out.read_text()
    assert seen["PATH"] == os.environ["PATH"]  # the programs it needs are still found


def test_a_hand_edited_managed_hook_is_not_run_and_is_named(fleet, tmp_path):
    loot = tmp_path / "loot"
    repo = fleet.repo("juniper-data")
    config = load_data(git(repo, "show", f"{BRANCH}:.pre-commit-config.yaml"))
    for entry in config["repos"]:
        for hook in entry.get("hooks", []):
            if hook["id"] == "forbid-plaintext-env":  # same id, another job
                hook.update(language="system", entry=f"sh -c 'touch {loot}; exit 1'")
    ref = branch_with(
        repo, "test/edited-hook", {".pre-commit-config.yaml": json.dumps(config).encode()}
    )
    code, data = verify_json(fleet, "--repo", "juniper-data", "--ref", ref)
    detail = checks_of(data, "juniper-data")["precommit-hook"]["detail"]
    assert code == 1 and not loot.exists()
    assert "forbid-plaintext-env not as the manifest renders it (edited by hand?)" in detail


def test_a_top_level_exclude_that_hides_env_from_the_hooks_is_named(fleet):
    ref = with_local_hook(
        fleet,
        "juniper-data",
        "test/top-exclude",
        {"id": "noop", "name": "noop", "language": "fail", "entry": "x", "files": "^nothing$"},
        exclude="^\\.env$",
    )
    code, data = verify_json(fleet, "--repo", "juniper-data", "--ref", ref)
    check = checks_of(data, "juniper-data")["precommit-hook"]
    assert code == 1 and not check["ok"]
    assert "pre-commit: forbid-plaintext-env accepts a plaintext .env" in check["detail"]
    assert "fix: check the config's top-level exclude at test/top-exclude" in check["detail"]


def test_a_hand_written_blocker_left_beside_the_managed_hook_is_named(fleet):
    hand = {
        "id": "no-unencrypted-env",
        "name": "old blocker",
        "language": "system",
        "entry": "bash -c 'echo refused && exit 1'",
        "files": "^\\.env$",
    }
    ref = with_local_hook(fleet, "juniper-data", "test/two-blockers", hand)
    code, data = verify_json(fleet, "--repo", "juniper-data", "--ref", ref)
    check = checks_of(data, "juniper-data")["precommit-hook"]
    assert code == 1 and not check["ok"]
    assert (
        "hand-written hook no-unencrypted-env still blocks .env beside forbid-plaintext-env "
        f"(fix: run `rollout plan --manifest {fleet.manifest} --repo juniper-data`, then `rollout "
        f"apply --manifest {fleet.manifest} --repo juniper-data` and merge the rollout branch "
        "(replaces it with "
        "forbid-plaintext-env))"
    ) in check["detail"]


def test_the_table_fits_80_columns_with_every_name_and_header_whole(fleet, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = rollout("verify", "--manifest", fleet.manifest, "--ref", BRANCH)
    assert result.code == 0, result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80 and "…" not in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.startswith("repo"))
    assert header.split() == ["repo", *(verify_command.HEADERS[c] for c in verify.CHECKS)]
    rows = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("juniper-")]
    assert rows == fleet.names
