"""One definition of a plaintext env file: git, sops and pre-commit agree with it, name by name.

Each name in TABLE is checked four ways with the real tools: the predicate verify and drift
use (envfiles), real ``git check-ignore`` on the rendered .gitignore block, the real sops with
the rendered .sops.yaml, and the real pre-commit with the rendered hooks.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from juniper_rollout import keys, planner, render, sops
from juniper_rollout.edits import gitignore
from juniper_rollout.envfiles import DEFAULT, EnvFiles, check_glob
from juniper_rollout.manifest import Manifest
from tests.helpers import precommit_refuses

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# name: is it a plaintext env file?
TABLE = {
    ".env": True,
    "config/.env": True,
    ".env.local": True,
    ".env.production": True,
    ".env.secrets": True,
    "backend/.env.prod": True,
    "prod.env": True,
    "secrets.env": True,
    ".env.example": False,
    ".env.local.example": False,
    # hand-written committed templates (dotenv-safe, Symfony, dotenv-defaults, envsubst/gomplate): not secrets
    ".env.sample": False,
    ".env.template": False,
    ".env.dist": False,
    ".env.defaults": False,
    ".env.tmpl": False,
    ".env.tpl": False,
    "config/.env.local.sample": False,
    "prod.env.dist": False,
    ".env.enc": False,
    "config/.env.local.enc": False,
    "prod.env.enc": False,
    ".ENV": False,  # case-sensitive, as git (core.ignoreCase=false), sops and pre-commit on Linux
    ".envrc": False,  # direnv's shell file: add it to defaults.plaintext_env.include if it holds secrets
    "env.py": False,
    "README.env.md": False,
}


def manifest_with(recipient: str, env: EnvFiles = DEFAULT) -> Manifest:
    return Manifest(
        path=Path("repos.yaml"),
        workspace=Path("."),
        templates=TEMPLATES,
        recipients=(recipient,),
        usage_guide="notes/GUIDE.md",
        repos=(),
        env_files=env,
    )


def git(repo: Path, *args: str, ok=(0,)) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        ["git", "-C", str(repo), "-c", "core.ignoreCase=false", *args],
        capture_output=True,
        text=True,
    )
    assert proc.returncode in ok, proc.stderr
    return proc


def rendered_gitignore(manifest: Manifest) -> str:
    def block(patterns):
        return render.render(
            manifest, render.GITIGNORE_BLOCK_TEMPLATE, {"patterns": list(patterns)}
        )

    return gitignore.edit("", block, env=manifest.env_files).text


def git_ignored(tmp_path: Path, text: str, names: list[str]) -> set[str]:
    repo = tmp_path / "ignore-probe"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / ".gitignore").write_text(text)
    return set(git(repo, "check-ignore", "--no-index", "--", *names, ok=(0, 1)).stdout.split())


def sops_rule_matches(config: str, names: list[str]) -> dict[str, bool]:
    return {name: sops.rule_matches(config, name) for name in names}


def hooks_refuse(tmp_path: Path, manifest: Manifest, files: dict[str, bytes]) -> dict[str, bool]:
    """Stage each file in a fresh repo and run the real pre-commit with the rendered hooks: refused?"""
    hooks = planner.hook_definitions(manifest, manifest_repo())
    config = tmp_path / "pre-commit.json"
    config.write_text(json.dumps({"repos": [{"repo": "local", "hooks": hooks}]}))
    repo = tmp_path / "hook-probe"
    repo.mkdir()
    git(repo, "init", "-q")
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    git(repo, "add", "-f", "--", *files)
    return precommit_refuses(repo, config, list(files))[0]


def manifest_repo():
    from juniper_rollout.manifest import RepoSpec

    return RepoSpec(
        name="probe",
        path=Path("."),
        url=None,
        base="main",
        branch="b",
        commit_message="m",
        files=(),
        gitignore=True,
        precommit_hook="create",
        agents_md="skip",
        encrypt=(),
    )


def matched_by_an_include(path: str) -> bool:
    from fnmatch import fnmatchcase

    return any(fnmatchcase(Path(path).name, g) for g in DEFAULT.include)


def test_the_predicate_is_the_table():
    assert {name: DEFAULT.is_plaintext(name) for name in TABLE} == TABLE


def test_git_sops_and_pre_commit_agree_with_the_definition(tmp_path):
    key = tmp_path / "keys.txt"
    recipient = keys.generate_key_file(key)
    manifest = manifest_with(recipient)
    names = list(TABLE)

    ignored = git_ignored(tmp_path, rendered_gitignore(manifest), names)
    assert {n: n in ignored for n in names} == TABLE

    config = render.render(manifest, "sops.yaml.j2", render.base_context(manifest, manifest_repo()))
    matches = sops_rule_matches(config, names + [n + ".enc" for n in names if TABLE[n]])
    for name, plaintext in TABLE.items():
        if plaintext:  # sops can encrypt it, and matches the .enc it is encrypted into
            assert matches[name] and matches[name + ".enc"], name
        else:  # RE2 has no lookahead (envfiles.sops_path_regex): sops' rule matches every name an include
            # glob matches, the excluded .env.example/.env.sample/... too, and their .enc forms; no other
            assert matches[name] == (
                matched_by_an_include(name)
                or (name.endswith(".enc") and matched_by_an_include(name[: -len(".enc")]))
            ), name

    # plaintext content under every name: forbid-plaintext-env refuses exactly the plaintext env files;
    # require-sops-encrypted refuses the .enc ones (plaintext under an encrypted name)
    plain = b"ROLLOUT_PROBE=not-a-secret\n"
    refused = hooks_refuse(tmp_path, manifest, {name: plain for name in names})
    assert {n: refused[n] for n in names if not n.endswith(".enc")} == {
        n: v for n, v in TABLE.items() if not n.endswith(".enc")
    }
    assert all(refused[n] for n in names if n.endswith(".enc"))


def test_real_ciphertext_under_an_encrypted_name_passes_the_hooks(tmp_path):
    key = tmp_path / "keys.txt"
    recipient = keys.generate_key_file(key)
    manifest = manifest_with(recipient)
    config = render.render(manifest, "sops.yaml.j2", render.base_context(manifest, manifest_repo()))
    names = [n + ".enc" for n, plaintext in TABLE.items() if plaintext][:4]
    files = {
        n: sops.encrypt_dotenv(b"ROLLOUT_PROBE=x\n", sops_config=config, filename=n) for n in names
    }
    assert not any(hooks_refuse(tmp_path, manifest, files).values())


def test_a_manifest_definition_changes_all_four(tmp_path):
    """.envrc added to the definition: now ignored, encryptable and refused, like any other."""
    recipient = keys.generate_key_file(tmp_path / "keys.txt")
    env = EnvFiles(include=(*DEFAULT.include, ".envrc"))
    manifest = manifest_with(recipient, env)
    assert ".envrc" in git_ignored(tmp_path, rendered_gitignore(manifest), [".envrc"])
    config = render.render(manifest, "sops.yaml.j2", render.base_context(manifest, manifest_repo()))
    assert sops.rule_matches(config, ".envrc") and sops.rule_matches(config, ".envrc.enc")
    assert hooks_refuse(tmp_path, manifest, {".envrc": b"A=1\n"}) == {".envrc": True}


@pytest.mark.parametrize(
    "glob, exclude",
    [
        ("a/.env", False),
        (".e*v*", False),
        ("x*y", False),
        (".env.example", True),
        ("'.env", False),
        ("", False),
    ],
)
def test_globs_the_rules_cannot_express_are_refused(glob, exclude):
    assert check_glob(glob, exclude=exclude)


def test_the_manifest_setting_is_checked_with_its_line(tmp_path):
    from juniper_rollout.errors import ManifestError
    from juniper_rollout.manifest import load_manifest

    key = keys.generate_key_file(tmp_path / "keys.txt")
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: .\ndefaults:\n  age_recipients: [{key}]\n  plaintext_env:\n"
        "    include: [.env, config/.env]\nrepos: []\n"
    )
    with pytest.raises(ManifestError) as info:
        load_manifest(manifest)
    assert str(info.value).startswith(
        f"{manifest}:6: defaults.plaintext_env.include: 'config/.env' must be"
    )
    manifest.write_text(
        f"version: 1\nworkspace: .\ndefaults:\n  age_recipients: [{key}]\n  plaintext_env:\n"
        "    include: [.env, .envrc]\nrepos: []\n"
    )
    assert load_manifest(manifest).env_files == EnvFiles(include=(".env", ".envrc"))
    manifest.write_text(
        f"version: 1\nworkspace: .\ndefaults:\n  age_recipients: [{key}]\n"
        "  data_key_rotated: yesterday\nrepos: []\n"
    )
    with pytest.raises(ManifestError) as info:
        load_manifest(manifest)
    assert str(info.value).startswith(f"{manifest}:5: defaults.data_key_rotated must be a UTC time")
