"""The pure core on its own: plan_repo(Snapshot) and audit_repo(Facts), no git, no sops, no process.

The end-to-end tests drive the same functions through real repositories; these pin their
contracts directly and fast (each test is milliseconds).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from juniper_rollout import audit, planner
from juniper_rollout.changes import CREATE, NAME_STALE, UNCHANGED, UPDATE
from juniper_rollout.errors import RepoError
from juniper_rollout.manifest import load_manifest
from tests.test_manifest import KEY


@pytest.fixture
def fleet(tmp_path: Path):
    (tmp_path / "ws").mkdir()
    path = tmp_path / "repos.yaml"
    path.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n  - name: svc\n"
    )
    manifest = load_manifest(path)
    return manifest, manifest.repos[0]


def written(changes) -> dict[str, bytes]:
    return {c.path: c.after for c in changes if c.after is not None}


def test_an_empty_repo_gets_every_managed_file_created(fleet):
    manifest, repo = fleet
    changes = planner.plan_repo(manifest, repo, planner.Snapshot(files={}))
    actions = {c.path: c.action for c in changes}
    assert actions[".sops.yaml"] == CREATE and actions[".gitignore"] == CREATE
    assert KEY.encode() in written(changes)[".sops.yaml"]
    assert b".env" in written(changes)[".gitignore"]


def test_planning_what_it_planned_changes_nothing(fleet):
    manifest, repo = fleet
    first = planner.plan_repo(manifest, repo, planner.Snapshot(files={}))
    again = planner.plan_repo(manifest, repo, planner.Snapshot(files=written(first)))
    assert {c.path: c.action for c in again if c.writes} == {}
    assert all(c.action in (UNCHANGED, "skip") for c in again), [(c.path, c.action) for c in again]


def test_a_hand_edited_gitignore_keeps_its_lines_and_gains_the_block(fleet):
    manifest, repo = fleet
    mine = b"*.pyc\n# my own\nbuild/\n"
    changes = planner.plan_repo(manifest, repo, planner.Snapshot(files={".gitignore": mine}))
    gitignore = next(c for c in changes if c.path == ".gitignore")
    assert gitignore.action == UPDATE and gitignore.after.startswith(mine)


def test_a_symlinked_managed_path_is_refused(fleet):
    manifest, repo = fleet
    with pytest.raises(RepoError, match=r"\.gitignore is a symlink"):
        planner.plan_repo(
            manifest, repo, planner.Snapshot(files={}, symlinks=frozenset({".gitignore"}))
        )


def test_audit_of_what_the_planner_writes_is_in_sync(fleet):
    manifest, repo = fleet
    files = written(planner.plan_repo(manifest, repo, planner.Snapshot(files={})))
    facts = audit.Facts(paths=tuple(files), sops_config=files[".sops.yaml"])
    result = audit.audit_repo(manifest, repo, planner.Snapshot(files=files), facts, ref="main")
    assert result.status == audit.IN_SYNC and result.findings == ()
    assert {a.state for a in result.artifacts} == {audit.IN_SYNC}


def test_audit_names_missing_files_and_a_tracked_env(fleet):
    manifest, repo = fleet
    facts = audit.Facts(paths=("README.md", ".env"))
    result = audit.audit_repo(manifest, repo, planner.Snapshot(files={}), facts, ref="main")
    states = {a.path: a.state for a in result.artifacts}
    assert states[".sops.yaml"] == audit.MISSING and states[".gitignore"] == audit.MISSING
    assert [(f.id, f.path) for f in result.findings] == [("tracked-plaintext-env", ".env")]
    assert result.status == "drift"


def test_names_the_committed_encrypted_file_holds_are_not_stale(tmp_path: Path):
    """A hand-written example lists third-party tokens no code reads: the committed .env.enc holds
    them, so they are documented secrets, not stale names (sops keeps names in plaintext)."""
    from juniper_rollout.discover import EnvVar

    (tmp_path / "ws").mkdir()
    path = tmp_path / "repos.yaml"
    path.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n  - name: svc\n"
        "    env_example: {from: code}\n    encrypt: [{source: .env, target: .env.enc}]\n"
    )
    manifest = load_manifest(path)
    repo = manifest.repos[0]
    enc = (
        b"HF_TOKEN=ENC[AES256_GCM,data:AAAA,iv:BBBB,tag:CCCC,type:str]\n"
        b"sops_age__list_0__map_recipient=" + KEY.encode() + b"\n"
        b"sops_mac=ENC[AES256_GCM,data:DDDD,iv:EEEE,tag:FFFF,type:str]\nsops_version=3.11.0\n"
    )
    example = b"APP_PORT=8000\nHF_TOKEN=\nOLD_SETTING=1\n"
    snap = planner.Snapshot(
        files={".env.enc": enc, ".env.example": example},
        code_vars=(EnvVar("APP_PORT", "8000", None, "app.py:3"),),
    )
    changes = planner.plan_repo(manifest, repo, snap)
    stale = [a.subject for c in changes for a in c.adoptions if a.kind == NAME_STALE]
    assert stale == ["OLD_SETTING"]


KEY_GROUPS_CONFIG = (
    "creation_rules:\n  - path_regex: '.*'\n    key_groups:\n      - age:\n          - {key}\n"
)


@pytest.mark.parametrize("listed_is_manifests", [True, False])
def test_drift_and_verify_read_key_groups_recipients_alike(fleet, listed_is_manifests):
    """One reader of a .sops.yaml's recipients (sopsmeta.config_recipients): a key listed under
    key_groups counts for drift (audit) and verify alike, in agreement and in disagreement."""
    from pyrage import x25519

    from juniper_rollout import verify

    manifest, _ = fleet
    listed = KEY if listed_is_manifests else str(x25519.Identity.generate().to_public())
    config = KEY_GROUPS_CONFIG.format(key=listed).encode()
    assert audit.sops_recipients(config) == {listed}
    drift_differs = any(f.id == audit.SOPS_RECIPIENTS for f in audit._recipients(manifest, config))
    check = verify.check_sops_config(manifest, verify.RefFiles("main", {".sops.yaml": config}, ()))
    assert drift_differs == (not check.ok) == (not listed_is_manifests), check
