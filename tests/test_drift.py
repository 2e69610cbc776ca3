"""rollout drift on the demo fleet after apply and merge, then after the hand edits the audit exists to catch."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pyrage
import pytest

from juniper_rollout import audit
from juniper_rollout.commands.apply import apply
from juniper_rollout.envfiles import DEFAULT as DEFAULT_ENV_FILES
from tests import fleet as fleets
from tests.helpers import clone_state, git, git_any, rollout

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif-schema-2.1.0.json").read_text())
FAKE_ENV = (
    "WORKER_TOKEN=not-a-real-token\n"  # deliberately committed plaintext: a fake, not the canary
)
STALE = pyrage.x25519.Identity.generate().to_public().__str__()

# After the edits: (repo, path) -> state, for every cell that is not in sync.
EXPECTED_DRIFT = {
    ("juniper-data", ".sops.yaml"): "modified",
    ("juniper-data-client", ".pre-commit-config.yaml"): "modified",
    ("juniper-ml", ".sops.yaml"): "missing",
}
EXPECTED_FINDINGS = {
    ("juniper-data", "sops-recipients", ".sops.yaml"),
    ("juniper-cascor-worker", "tracked-plaintext-env", ".env"),
    ("juniper-cascor-client", "plaintext-env-in-history", ".env"),
    ("juniper-ml", "enc-without-sops", "config/app.env.enc"),
}


def commit_on_main(repo: Path, files: dict[str, str | None], message: str) -> str:
    """A commit on main changing ``files`` (None deletes), made with plumbing: no checkout is touched."""
    index = repo / ".git" / "test-index"
    env = dict(os.environ, GIT_INDEX_FILE=str(index))

    def run(*args: str, data: str | None = None) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            env=env,
            input=data,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    run("read-tree", "main")
    for path, text in files.items():
        if text is None:
            run("update-index", "--force-remove", path)
        else:
            run(
                "update-index",
                "--add",
                "--cacheinfo",
                f"100644,{run('hash-object', '-w', '--stdin', data=text)},{path}",
            )
    commit = run("commit-tree", run("write-tree"), "-p", "main", "-m", message)
    run("update-ref", "refs/heads/main", commit)
    index.unlink()
    return commit


def show(repo: Path, path: str) -> str:
    return git(repo, "show", f"main:{path}")


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    """The demo fleet, applied, each rollout branch merged into main."""
    root = tmp_path_factory.mktemp("drift")
    home = root / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Test User\n\temail = test@example.invalid\n")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in (
            ("HOME", home),
            ("GIT_CONFIG_GLOBAL", home / ".gitconfig"),
            ("GIT_CONFIG_NOSYSTEM", "1"),
            ("GIT_ALLOW_PROTOCOL", "file"),
        ):
            mp.setenv(name, str(value))
        built = fleets.build(root / "demo")
        mp.setenv("SOPS_AGE_KEY_FILE", str(built.key_file))
        assert apply(manifest=built.manifest, yes=True) == 0
        built.merge_all()
        yield built


@pytest.fixture(scope="module")
def edited(merged, tmp_path_factory):
    """A copy of ``merged`` with the hand edits of the issue committed on main."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GIT_CONFIG_GLOBAL", str(merged.root.parent / "home" / ".gitconfig"))
        fleet = fleets.copy(merged, tmp_path_factory.mktemp("edited") / "demo")
        data_client = fleet.repo("juniper-data-client")
        hooks = show(data_client, ".pre-commit-config.yaml")
        old_entry = next(
            line for line in hooks.splitlines() if "entry: 'Plaintext env file staged" in line
        )
        commit_on_main(
            data_client,
            {
                ".pre-commit-config.yaml": hooks.replace(
                    old_entry, "        entry: Unencrypted .env file detected, use sops"
                )
            },
            "hand-edit the env hook",
        )
        # equivalent re-spellings: in sync
        client = fleet.repo("juniper-cascor-client")
        hooks = show(client, ".pre-commit-config.yaml")
        regex = DEFAULT_ENV_FILES.hook_files_regex()
        line = next(
            line
            for line in hooks.splitlines()
            if line.strip().startswith("files:") and regex in line
        )
        requoted_line = line.split("files:")[0] + "files: " + json.dumps(regex)
        assert requoted_line != line
        commit_on_main(
            client,
            {".pre-commit-config.yaml": hooks.replace(line, requoted_line)},
            "re-quote a hook",
        )
        worker = fleet.repo("juniper-cascor-worker")
        sops_yaml = show(worker, ".sops.yaml")
        requoted = "\n".join(
            line.replace("'", '"').replace("\\", "\\\\")
            for line in sops_yaml.splitlines()
            if not line.startswith("#")
        )
        commit_on_main(worker, {".sops.yaml": requoted + "\n"}, "tidy .sops.yaml")
        # the hazards
        commit_on_main(fleet.repo("juniper-ml"), {".sops.yaml": None}, "remove sops config")
        commit_on_main(
            fleet.repo("juniper-ml"),
            {"config/app.env.enc": "API_URL=http://localhost\n"},
            "add config",
        )
        data = fleet.repo("juniper-data")
        sops_yaml = show(data, ".sops.yaml")
        key = next(line for line in sops_yaml.splitlines() if "age:" in line).split("'")[1]
        commit_on_main(
            data, {".sops.yaml": sops_yaml.replace(key, f"{key},{STALE}")}, "add Bob's key"
        )
        commit_on_main(worker, {".env": FAKE_ENV}, "track local env")
        fleet.added = commit_on_main(client, {".env": FAKE_ENV}, "add local settings")
        fleet.removed = commit_on_main(client, {".env": None}, "remove local settings")
        yield fleet


def drift_json(fleet, *args) -> tuple[int, dict]:
    result = rollout("drift", "--manifest", fleet.manifest, "--format", "json", *args)
    return result.code, json.loads(result.stdout)


def not_in_sync(data: dict) -> dict[tuple[str, str], str]:
    return {
        (r["name"], a["path"]): a["state"]
        for r in data["repos"]
        for a in r["artifacts"]
        if a["state"] != "in-sync"
    }


def table_cells(stdout: str) -> dict[str, dict[str, str]]:
    """repo -> {artifact path or "status": cell}, read from the grid and its numbered legend."""
    lines = stdout.splitlines()
    header = next(line for line in lines if line.startswith("repo ")).split()
    legend = {}
    for line in lines:
        if line[:1].isdigit():
            legend.update(item.split(" ", 1) for item in line.split("   "))
    names = [legend.get(h, h) for h in header]
    rows = {}
    for line in lines[lines.index(next(line for line in lines if line.startswith("repo "))) + 1 :]:
        cells = line.split()
        if len(cells) != len(names):
            break
        rows[cells[0]] = dict(zip(names[1:], cells[1:], strict=False))
    return rows


def test_merged_fleet_is_in_sync_in_every_cell(merged):
    code, data = drift_json(merged)
    assert code == 0
    assert [r["name"] for r in data["repos"]] == merged.names
    for repo in data["repos"]:
        assert set(repo) == {"name", "status", "artifacts", "findings"}
        assert repo["status"] == "in-sync" and repo["findings"] == []
        assert repo["artifacts"] and all(a["state"] == "in-sync" for a in repo["artifacts"])
    cascor = {a["path"] for a in data["repos"][0]["artifacts"]}
    assert cascor == {
        ".sops.yaml",
        ".env.example",
        ".gitignore",
        ".pre-commit-config.yaml",
        "AGENTS.md",
        ".env.enc",
    }
    table = rollout("drift", "--manifest", merged.manifest)
    assert table.code == 0
    cells = table_cells(table.stdout)
    assert set(cells) == set(merged.names)
    assert {mark for row in cells.values() for mark in row.values()} == {"✓", "·", "in-sync"}
    assert (
        cells["juniper-deploy"][".pre-commit-config.yaml"] == "·"
    )  # no config, precommit_hook: auto
    assert "7 repos: 7 in sync" in table.stdout


def test_before_merge_everything_is_missing_on_main_and_in_sync_on_the_branch(merged, tmp_path):
    code, data = drift_json(merged, "--ref", fleets.BRANCH, "--repo", "juniper-cascor")
    assert code == 0 and data["repos"][0]["status"] == "in-sync"
    sha = git(
        merged.repo("juniper-ml"), "rev-parse", "--short", "main~1"
    ).strip()  # the commit before the merge
    code, data = drift_json(merged, "--ref", sha, "--repo", "juniper-ml")
    assert code == 2, data["repos"][0].get("error")
    assert {a["path"]: a["state"] for a in data["repos"][0]["artifacts"]} == {
        ".sops.yaml": "missing",
        "notes/SOPS_USAGE_GUIDE.md": "missing",
        ".gitignore": "missing",
        "AGENTS.md": "missing",
    }


def test_hand_edits_are_named_in_json(edited):
    states = {name: clone_state(edited.repo(name)) for name in edited.names}
    code, data = drift_json(edited)
    assert code == 2
    assert not_in_sync(data) == EXPECTED_DRIFT
    found = {(r["name"], f["id"], f["path"]) for r in data["repos"] for f in r["findings"]}
    assert found == EXPECTED_FINDINGS
    status = {r["name"]: r["status"] for r in data["repos"]}
    assert status["juniper-cascor"] == status["juniper-deploy"] == "in-sync"
    assert {s for n, s in status.items() if n not in ("juniper-cascor", "juniper-deploy")} == {
        "drift"
    }
    messages = {(r["name"], f["id"]): f["message"] for r in data["repos"] for f in r["findings"]}
    # pass 25d: the command names the clone (`git -C CLONE rm --cached -- .env`)
    assert git_any(
        messages["juniper-cascor-worker", "tracked-plaintext-env"], "rm --cached -- .env"
    )
    history = messages["juniper-cascor-client", "plaintext-env-in-history"]
    assert (
        f'{edited.added[:7]} "add local settings"' in history and edited.removed[:7] not in history
    )
    assert "not-a-real-token" not in json.dumps(data)  # names commits, never contents
    recipients = messages["juniper-data", "sops-recipients"]
    assert f"extra {STALE[:12]}…" in recipients and "missing" not in recipients
    assert {
        name: clone_state(edited.repo(name)) for name in edited.names
    } == states  # clones untouched


def test_equivalent_respellings_are_in_sync(edited):
    code, data = drift_json(
        edited, "--repo", "juniper-cascor-client", "--repo", "juniper-cascor-worker"
    )
    assert code == 2  # both have findings
    by_name = {r["name"]: {a["path"]: a["state"] for a in r["artifacts"]} for r in data["repos"]}
    assert (
        by_name["juniper-cascor-client"][".pre-commit-config.yaml"] == "in-sync"
    )  # re-quoted hook
    assert (
        by_name["juniper-cascor-worker"][".sops.yaml"] == "in-sync"
    )  # re-quoted, comments dropped
    assert show(edited.repo("juniper-cascor-worker"), ".sops.yaml").startswith("creation_rules:")


def test_hand_edits_are_named_in_the_table(edited):
    result = rollout("drift", "--manifest", edited.manifest)
    assert result.code == 2
    cells = table_cells(result.stdout)
    marks = {"modified": "~", "missing": "✗"}
    for (name, path), state in EXPECTED_DRIFT.items():
        assert cells[name][path] == marks[state], (name, path)
    assert (
        cells["juniper-cascor"]["status"] == "in-sync" and cells["juniper-ml"]["status"] == "drift"
    )
    assert sum(mark in ("~", "✗", "+") for row in cells.values() for mark in row.values()) == len(
        EXPECTED_DRIFT
    )
    findings = result.stdout.split("Findings", 1)[1]
    for name, rule, path in EXPECTED_FINDINGS:
        assert any(
            name in line and rule in line and path in line for line in findings.splitlines()
        ), rule
    assert "7 repos: 2 in sync, 5 drifted, 0 with errors; 4 findings" in result.stdout


def test_the_table_fits_80_columns_with_every_name_whole(edited, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    result = rollout("drift", "--manifest", edited.manifest)
    table = result.stdout.split("Findings")[0]
    assert max(len(line) for line in table.splitlines()) <= 80
    assert "…" not in table
    cells = table_cells(result.stdout)
    assert list(cells) == edited.names  # every name whole
    assert {p for row in cells.values() for p in row} >= {
        p for _, p in EXPECTED_DRIFT
    }  # every column named
    for (name, path), state in EXPECTED_DRIFT.items():
        assert cells[name][path] == {"modified": "~", "missing": "✗"}[state]


def test_a_table_too_wide_for_the_terminal_becomes_a_list(edited, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    result = rollout("drift", "--manifest", edited.manifest)
    assert result.code == 2
    listing = result.stdout.split("✓ in-sync")[0]
    assert max(len(line) for line in listing.splitlines()) <= 40 and "…" not in listing
    repos = [line.split()[0] for line in listing.splitlines() if not line.startswith(" ")]
    assert repos == edited.names
    assert "juniper-data  drift\n  ~ .sops.yaml\n" in result.stdout
    assert "juniper-ml  drift\n  ✗ .sops.yaml\n" in result.stdout


def test_hand_edits_are_named_in_valid_sarif(edited):
    result = rollout("drift", "--manifest", edited.manifest, "--format", "sarif")
    assert result.code == 2
    log = json.loads(result.stdout)
    jsonschema.validate(
        log, SCHEMA, cls=jsonschema.Draft4Validator, format_checker=jsonschema.FormatChecker()
    )
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "juniper-rollout"
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert set(rules) == {rule.id for rule in audit.RULES}
    assert set(run["originalUriBaseIds"]) == set(edited.names)
    assert (
        run["originalUriBaseIds"]["juniper-ml"]["uri"] == edited.repo("juniper-ml").as_uri() + "/"
    )
    got = set()
    for res in run["results"]:
        loc = res["locations"][0]["physicalLocation"]["artifactLocation"]
        assert rules[res["ruleIndex"]] == res["ruleId"]
        assert res["message"]["text"].startswith(loc["uriBaseId"] + ": ")
        got.add((loc["uriBaseId"], res["ruleId"], loc["uri"]))
    drift = {(name, "drift", path) for name, path in EXPECTED_DRIFT}
    assert got == drift | EXPECTED_FINDINGS
    levels = {res["ruleId"]: res["level"] for res in run["results"]}
    assert levels["tracked-plaintext-env"] == "error" and levels["drift"] == "warning"
    assert run["invocations"][0]["executionSuccessful"] is True


def test_diff_shows_how_a_modified_artifact_differs(edited):
    result = rollout(
        "drift", "--manifest", edited.manifest, "--repo", "juniper-data-client", "--diff"
    )
    assert result.code == 2
    assert "-        entry: Unencrypted .env file detected, use sops" in result.stdout
    assert "+        entry: 'Plaintext env file staged" in result.stdout
    sarif = rollout(
        "drift",
        "--manifest",
        edited.manifest,
        "--repo",
        "juniper-data-client",
        "--format",
        "sarif",
        "--diff",
    )
    json.loads(sarif.stdout)  # diffs go to stderr: stdout stays one document
    assert "entry: Unencrypted" in sarif.stderr


def test_unreadable_repo_is_reported_and_the_others_are_audited(merged, tmp_path):
    fleet = fleets.copy(merged, tmp_path / "demo")
    shutil.rmtree(fleet.repo("juniper-deploy"))
    code, data = drift_json(fleet)
    assert code == 1
    by_name = {r["name"]: r for r in data["repos"]}
    deploy = by_name.pop("juniper-deploy")
    assert (
        deploy["status"] == "error"
        and "no clone at" in deploy["error"]
        and deploy["artifacts"] == []
    )
    assert len(by_name) == 6 and {r["status"] for r in by_name.values()} == {"in-sync"}
    table = rollout("drift", "--manifest", fleet.manifest)
    assert table.code == 1
    row = table_cells(table.stdout)["juniper-deploy"]
    assert row["status"] == "error" and set(row.values()) == {"!", "error"}
    assert "juniper-deploy  error  no clone at" in table.stdout
    sarif = rollout("drift", "--manifest", fleet.manifest, "--format", "sarif")
    log = json.loads(sarif.stdout)
    jsonschema.validate(log, SCHEMA, cls=jsonschema.Draft4Validator)
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"].startswith(
        "juniper-deploy: no clone at"
    )
    code, data = drift_json(fleet, "--ref", "no-such-ref", "--repo", "juniper-ml")
    assert code == 1 and "ref 'no-such-ref' not found" in data["repos"][0]["error"]


def test_blocks_the_manifest_no_longer_asks_for_are_extra(merged, tmp_path):
    fleet = fleets.copy(merged, tmp_path / "demo")
    text = fleet.manifest.read_text()
    entry = "  - name: juniper-data-client\n    env_example: {from: code}\n"
    assert entry in text
    fleet.manifest.write_text(
        text.replace(entry, entry + "    precommit_hook: skip\n    gitignore: false\n").replace(
            "  - name: juniper-ml ", "  - name: juniper-ml\n    agents_md: skip\n   "
        )
    )
    code, data = drift_json(fleet)
    assert code == 2
    assert not_in_sync(data) == {
        ("juniper-data-client", ".pre-commit-config.yaml"): "extra",
        ("juniper-data-client", ".gitignore"): "extra",
        ("juniper-ml", "AGENTS.md"): "extra",
    }


def test_gitignore_is_judged_by_git_rules(merged, tmp_path):
    fleet = fleets.copy(merged, tmp_path / "demo")
    ml, data_repo = fleet.repo("juniper-ml"), fleet.repo("juniper-data")
    # the rules hold without the block: the block is extra
    templates = "".join(
        f"!.env.{t}\n!.env.*.{t}\n"
        for t in ("sample", "template", "dist", "defaults", "tmpl", "tpl")
    )
    commit_on_main(
        ml,
        {
            ".gitignore": show(ml, ".gitignore") + ".env.*\n*.env\n!.env.example\n!.env.*.example\n"
            "!.env.enc\n!.env.*.enc\n" + templates
        },
        "ignore env files by hand",
    )
    # the block was edited so that .env.local is no longer ignored: modified
    text = show(data_repo, ".gitignore")
    commit_on_main(data_repo, {".gitignore": text.replace("\n.env.*\n", "\n.env.secret\n")}, "typo")
    code, data = drift_json(fleet, "--repo", "juniper-ml", "--repo", "juniper-data")
    assert code == 2
    assert not_in_sync(data) == {
        ("juniper-ml", ".gitignore"): "extra",
        ("juniper-data", ".gitignore"): "modified",
    }


def test_bad_format_is_refused(merged):
    result = rollout("drift", "--manifest", merged.manifest, "--format", "xml")
    assert result.code == 1 and "unknown --format 'xml'" in result.stderr


def test_code_change_makes_the_discovered_example_drift(merged, tmp_path):
    fleet = fleets.copy(merged, tmp_path / "demo")
    data_repo = fleet.repo("juniper-data")
    path = "juniper_data/api/settings.py"
    settings = show(data_repo, path)
    anchor = "    port: int = c.PORT_DEFAULT\n"
    assert anchor in settings
    commit_on_main(
        data_repo,
        {path: settings.replace(anchor, anchor + "    log_level: str = c.LOG_LEVEL_DEFAULT\n")},
        "log level",
    )
    result = rollout("drift", "--manifest", fleet.manifest, "--repo", "juniper-data", "--diff")
    assert result.code == 2
    assert table_cells(result.stdout)["juniper-data"][".env.example"] == "~"
    assert (
        f"+# {path}: Settings (prefix JUNIPER_DATA_)\n    +# JUNIPER_DATA_LOG_LEVEL=INFO\n"
        in result.stdout
    )
    plan = json.loads(
        rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-data", "--json").stdout
    )
    reason = next(f["reason"] for f in plan["repos"][0]["files"] if f["path"] == ".env.example")
    # the merged file is kept as it is; the new name goes in the tool's block, with where it was found
    assert f"1 missing name added in a marked block: JUNIPER_DATA_LOG_LEVEL ({path}:20)" in reason
