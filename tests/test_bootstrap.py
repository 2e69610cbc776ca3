"""rollout bootstrap: a new repo joins the fleet in one command; the manifest's other lines stay byte-identical."""

from __future__ import annotations

import json

import pytest

from juniper_rollout.edits.manifest_entry import ManifestEditError, add_entry
from juniper_rollout.yamlio import load_plain
from tests import demofleet as demo
from tests import fleet as fleets
from tests.helpers import git, rollout, rollout_in_a_terminal

BRANCH = fleets.BRANCH


def entries(manifest) -> list[dict]:
    return load_plain(manifest.read_text())["repos"]


def branch_files(repo, ref=BRANCH) -> set[str]:
    return set(git(repo, "ls-tree", "-r", "--name-only", ref).split())


def test_new_repo_in_a_new_path_joins_with_its_rollout_branch(fleet):
    before = fleet.manifest.read_bytes()
    result = rollout("bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest)
    assert result.code == 0, result.stderr
    after = fleet.manifest.read_bytes()
    assert (
        after == before + b"\n  - name: juniper-canopy\n"
    )  # every other byte kept, in the file's own style
    repo = fleet.repo("juniper-canopy")
    assert (
        "initialised a new repository" in result.stdout
        and "juniper-canopy: created" in result.stdout
    )
    assert git(repo, "log", "--format=%s", "main").split("\n")[0] == "Initial commit"
    assert branch_files(repo, "main") == {"README.md"}
    assert branch_files(repo) == {"README.md", ".sops.yaml", ".gitignore"}
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"
    # an eighth repo: the whole fleet plans, and drift sees the new one in sync on its branch
    plan = rollout("plan", "--manifest", fleet.manifest, "--json")
    assert [r["name"] for r in json.loads(plan.stdout)["repos"]][-1] == "juniper-canopy"
    audit = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-canopy", "--ref", BRANCH
    )
    assert audit.code == 0, audit.stdout


def test_existing_clone_is_used_as_it_is(fleet):
    repo = demo.make_repo(
        fleet.repo("juniper-canopy"),
        {
            ".pre-commit-config.yaml": demo.PRECOMMIT_REMOTE.format(name="juniper-canopy"),
            "AGENTS.md": demo.AGENTS.format(name="juniper-canopy"),
        },
    )
    main = git(repo, "rev-parse", "main")
    result = rollout("bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest)
    assert result.code == 0, result.stderr
    assert "using the existing clone" in result.stdout
    assert git(repo, "rev-parse", "main") == main
    assert {".pre-commit-config.yaml", "AGENTS.md", ".sops.yaml", ".gitignore"} <= branch_files(
        repo
    )
    assert git(repo, "status", "--porcelain") == ""


def test_like_copies_settings_and_path_is_written_relative_to_the_manifest(fleet):
    before = fleet.manifest.read_text()
    target = fleet.root / "elsewhere" / "canopy"
    result = rollout(
        "bootstrap",
        "--yes",
        "juniper-canopy",
        "--manifest",
        fleet.manifest,
        "--like",
        "juniper-deploy",
        "--path",
        target,
    )
    assert result.code == 0, result.stderr
    after = fleet.manifest.read_text()
    assert after.startswith(before)
    old, new = entries(fleet.manifest)[1], entries(fleet.manifest)[-1]
    assert new == {
        "name": "juniper-canopy",
        "path": str(target),
        **{k: v for k, v in old.items() if k != "name"},
    }
    added = after[len(before) :]
    assert (
        "policy: create-only       # the hand-written .env.example stays as it is" in added
    )  # copied as text
    assert branch_files(target) == {
        "README.md",
        ".sops.yaml",
        ".gitignore",
        ".env.secrets.example",
        ".env.example",
    }


def test_relative_path_is_relative_to_the_manifest(fleet, monkeypatch):
    monkeypatch.chdir(fleet.root / "fleet")
    result = rollout(
        "bootstrap",
        "--yes",
        "juniper-canopy",
        "--manifest",
        fleet.manifest,
        "--path",
        "../canopy-here",
    )
    assert result.code == 0, result.stderr
    assert entries(fleet.manifest)[-1] == {"name": "juniper-canopy", "path": "canopy-here"}
    assert (fleet.root / "canopy-here" / ".git").is_dir()


def test_url_is_cloned_from_a_local_bare_repo(fleet, tmp_path):
    source = demo.make_repo(tmp_path / "src", {"README.md": "# canopy\n", "app.py": "import os\n"})
    bare = tmp_path / "juniper-canopy.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    url = bare.as_uri()
    result = rollout(
        "bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest, "--url", url
    )
    assert result.code == 0, result.stderr
    assert entries(fleet.manifest)[-1] == {"name": "juniper-canopy", "url": url}
    repo = fleet.repo("juniper-canopy")
    assert git(repo, "remote", "get-url", "origin").strip() == url
    assert branch_files(repo) == {"README.md", "app.py", ".sops.yaml", ".gitignore"}
    assert f"cloned {url}" in result.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["juniper-data"], "already in the manifest"),
        (["bad name"], "not a valid repository name"),
        (["../escape"], "not a valid repository name"),
        ([".."], "not a valid repository name"),
        (["juniper-canopy", "--like", "juniper-nope"], "no such repo"),
    ],
)
def test_refusals_write_nothing(fleet, args, words):
    before = fleet.manifest.read_bytes()
    listing = sorted(p.name for p in fleet.workspace.iterdir())
    result = rollout("bootstrap", "--yes", *args, "--manifest", fleet.manifest)
    assert result.code == 1 and words in result.stderr
    assert fleet.manifest.read_bytes() == before
    assert sorted(p.name for p in fleet.workspace.iterdir()) == listing
    assert sorted(p.name for p in fleet.root.iterdir()) == [
        "age",
        "fleet",
        "repos.yaml",
    ]  # no temp file left


def test_a_non_git_folder_in_the_way_is_refused(fleet):
    before = fleet.manifest.read_bytes()
    (fleet.repo("juniper-canopy")).mkdir()
    (fleet.repo("juniper-canopy") / "notes.txt").write_text("mine\n")
    result = rollout("bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest)
    assert result.code == 1 and "is not a git clone" in result.stderr
    assert fleet.manifest.read_bytes() == before


# --- the splice itself -------------------------------------------------------------------------

CRLF = (
    "# fleet\r\nversion: 1\r\nrepos:\r\n"
    "-   name: a          # first\r\n"
    "    env_example:\r\n"
    "        groups:\r\n"
    "        -   title: Keys\r\n"
    "            vars: [A_KEY]   # keep\r\n"
    "    url: https://example.invalid/a.git\r\n"
    "# trailing comment\r\n"
)


def test_splice_keeps_crlf_columns_and_comments():
    new = add_entry(CRLF, name="b", like="a", path="../b")
    assert new.startswith(CRLF[: CRLF.index("# trailing")])
    assert new.endswith("# trailing comment\r\n") and "\n" not in new.replace("\r\n", "")
    added = new[CRLF.index("# trailing") : -len("# trailing comment\r\n")]
    assert added == (
        "-   name: b\r\n    path: ../b\r\n    env_example:\r\n        groups:\r\n"
        "        -   title: Keys\r\n            vars: [A_KEY]   # keep\r\n"
    )
    assert "# first" not in added  # the name line's comment was about the other repo


def test_splice_quotes_what_yaml_would_misread_and_fills_an_empty_list():
    new = add_entry("version: 1\nrepos: []\n", name="123")
    assert load_plain(new)["repos"] == [{"name": "123"}]
    assert new == "version: 1\nrepos:\n  - name: '123'\n"


def test_splice_refuses_what_it_cannot_do_safely():
    with pytest.raises(ManifestEditError, match="flow list"):
        add_entry("version: 1\nrepos: [{name: a}]\n", name="b")
    with pytest.raises(ManifestEditError, match="no `repos:` list"):
        add_entry("version: 1\n", name="b")


def nothing_written(fleet, before: bytes) -> None:
    assert fleet.manifest.read_bytes() == before
    assert not fleet.repo("juniper-canopy").exists()
    assert sorted(p.name for p in fleet.root.iterdir()) == ["age", "fleet", "repos.yaml"]
    assert not [
        p for p in fleet.workspace.iterdir() if p.name.startswith(".")
    ]  # no staging folder left


def test_dry_run_shows_the_entry_the_clone_and_the_plan_and_writes_nothing(fleet):
    before = fleet.manifest.read_bytes()
    result = rollout("bootstrap", "juniper-canopy", "--manifest", fleet.manifest, "--dry-run")
    assert result.code == 0, result.stderr
    assert "+  - name: juniper-canopy" in result.stdout
    assert "will initialise a new repository at" in result.stdout
    assert (
        ".sops.yaml" in result.stdout and "create" in result.stdout
    )  # the plan, as apply shows it
    assert result.stdout.rstrip().endswith("dry run: nothing written")
    nothing_written(fleet, before)


def test_without_yes_it_needs_a_terminal(fleet):
    before = fleet.manifest.read_bytes()
    result = rollout("bootstrap", "juniper-canopy", "--manifest", fleet.manifest)
    assert result.code == 1 and "pass --yes" in result.stderr
    nothing_written(fleet, before)


def test_declining_in_a_terminal_writes_nothing(fleet):
    before = fleet.manifest.read_bytes()
    result = rollout_in_a_terminal(
        "bootstrap", "juniper-canopy", "--manifest", fleet.manifest, answer="n"
    )
    assert "will initialise a new repository" in result.stdout and ".sops.yaml" in result.stdout
    assert result.code == 0 and result.stdout.rstrip().endswith("nothing written")
    nothing_written(fleet, before)


def test_confirming_in_a_terminal_and_push(fleet, tmp_path):
    source = demo.make_repo(tmp_path / "src", {"README.md": "# canopy\n"})
    bare = tmp_path / "juniper-canopy.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    result = rollout_in_a_terminal(
        "bootstrap",
        "juniper-canopy",
        "--manifest",
        fleet.manifest,
        "--url",
        bare.as_uri(),
        "--push",
        answer="y",
    )
    assert result.code == 0, result.stdout
    assert "will clone" in result.stdout and "juniper-canopy: created" in result.stdout
    assert branch_files(bare) == {"README.md", ".sops.yaml", ".gitignore"}  # the branch was pushed
    assert branch_files(fleet.repo("juniper-canopy")) == branch_files(bare)
