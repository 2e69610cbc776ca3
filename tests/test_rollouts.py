"""Named rollouts next to the SOPS one, and the artifact kinds they are made of.

The fleet test runs both shipped rollouts on one demo fleet; the pure-core tests pin each
artifact kind (whole file, per-rollout block) and `when:` on its own; the manifest tests pin
that every mistake in the new keys is one line FILE:LINE.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from juniper_rollout import audit, planner
from juniper_rollout.artifacts import RepoFacts, requires_python
from juniper_rollout.changes import CREATE, SKIP, UNCHANGED, UPDATE
from juniper_rollout.errors import ManifestError, RepoError
from juniper_rollout.manifest import load_manifest
from juniper_rollout.yamlio import load_plain
from tests.fleet import BRANCH, SHIPPED
from tests.helpers import git, rollout
from tests.test_manifest import KEY

HYGIENE = "chore/repo-hygiene"
SOPS_BEGIN, HYGIENE_BEGIN = "# >>> juniper-rollout >>>", "# >>> juniper-rollout repo-hygiene >>>"


def show(repo: Path, ref: str, path: str) -> str:
    return git(repo, "show", f"{ref}:{path}")


def placeholder_manifest(fleet, tmp_path: Path) -> Path:
    """The shipped manifest as it is (placeholder age key), pointed at the fleet."""
    text = SHIPPED.read_text().replace("workspace: ../..", f"workspace: {fleet.workspace}")
    path = tmp_path / "shipped-as-is.yaml"
    path.write_text(text)
    return path


# --- both rollouts on one fleet ------------------------------------------------------------------


def test_both_rollouts_on_one_fleet(fleet, tmp_path, monkeypatch):
    cascor = fleet.repo("juniper-cascor")
    assert (
        rollout("apply", "--manifest", fleet.manifest, "--yes").code == 0
    )  # the SOPS rollout, with its key

    # the second rollout: the shipped placeholder key, and no private key anywhere
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    fleet.key_file.unlink()
    shipped = placeholder_manifest(fleet, tmp_path)
    deploy = fleet.repo("juniper-deploy")  # its maintainer keeps a Dependabot file by hand
    (deploy / ".github").mkdir()
    (deploy / ".github" / "dependabot.yml").write_text(HAND_DEPENDABOT)
    git(deploy, "add", ".github/dependabot.yml")
    git(deploy, "commit", "-q", "-m", "Dependabot for the web app")
    plan = rollout("plan", "--manifest", shipped, "--rollout", "repo-hygiene")
    assert plan.code == 0, plan.stderr
    assert ".sops.yaml" not in plan.stdout and "AGENTS.md" not in plan.stdout  # no SOPS skip rows
    assert ".pre-commit-config.yaml" not in plan.stdout
    assert "juniper-cascor  (main → chore/repo-hygiene)" in plan.stdout
    assert rollout("apply", "--manifest", shipped, "--rollout", "repo-hygiene", "--yes").code == 0

    # separate branches, each with only its own rollout's files
    assert show(cascor, HYGIENE, ".github/dependabot.yml").startswith(
        "# Dependabot for juniper-cascor"
    )
    assert "*" in show(cascor, HYGIENE, ".github/CODEOWNERS")
    kept = show(
        deploy, HYGIENE, ".github/dependabot.yml"
    )  # the person's file and npm entry kept, ours added
    assert (
        kept.startswith(HAND_DEPENDABOT)
        and "package-ecosystem: github-actions" in kept[len(HAND_DEPENDABOT) :]
    )
    assert ".github/dependabot.yml" not in git(cascor, "ls-tree", "-r", "--name-only", BRANCH)
    assert ".sops.yaml" not in git(cascor, "ls-tree", "-r", "--name-only", HYGIENE)
    assert "fleet repo hygiene" in git(cascor, "log", "-1", "--format=%s", HYGIENE)

    # the reviewer merges the SOPS branch; the hygiene rollout rebuilds on the new base: two blocks, one file
    git(cascor, "update-ref", "refs/heads/main", f"refs/heads/{BRANCH}")
    sops_gitignore = show(cascor, "main", ".gitignore")
    assert rollout("apply", "--manifest", shipped, "--rollout", "repo-hygiene", "--yes").code == 0
    shared = show(cascor, HYGIENE, ".gitignore")
    assert shared.startswith(
        sops_gitignore
    )  # every byte of the SOPS block and the person's lines kept
    assert shared.count(SOPS_BEGIN) == 1 and shared.count(HYGIENE_BEGIN) == 1
    assert shared.index(SOPS_BEGIN) < shared.index(HYGIENE_BEGIN)

    # drift for each rollout
    hygiene = rollout(
        "drift",
        "--manifest",
        shipped,
        "--rollout",
        "repo-hygiene",
        "--repo",
        "juniper-cascor",
        "--ref",
        HYGIENE,
        "--format",
        "json",
    )
    states = {a["path"]: a["state"] for a in json.loads(hygiene.stdout)["repos"][0]["artifacts"]}
    assert hygiene.code == 0 and states == {
        ".github/dependabot.yml": "in-sync",
        ".github/CODEOWNERS": "in-sync",
        ".gitignore": "in-sync",
    }
    at_base = rollout(
        "drift",
        "--manifest",
        shipped,
        "--rollout",
        "repo-hygiene",
        "--repo",
        "juniper-cascor",
        "--format",
        "json",
    )
    states = {a["path"]: a["state"] for a in json.loads(at_base.stdout)["repos"][0]["artifacts"]}
    assert (
        at_base.code == 2
        and states[".github/dependabot.yml"] == "missing"
        and states[".gitignore"] == "missing"
    )
    assert (
        rollout("verify", "--manifest", shipped, "--rollout", "repo-hygiene", "--ref", HYGIENE).code
        == 0
    )
    failing = rollout(
        "verify", "--manifest", shipped, "--rollout", "repo-hygiene", "--repo", "juniper-cascor"
    )
    said = " ".join(failing.stdout.split())  # the manifest's path may wrap the line
    assert (
        failing.code == 1 and "--rollout repo-hygiene --repo juniper-cascor` and merge" in said
    ), said
    assert f"`rollout apply --manifest {shipped}" in said, said

    monkeypatch.setenv(
        "SOPS_AGE_KEY_FILE", str(fleet.key_file)
    )  # the SOPS drift reads no key either
    sops = rollout(
        "drift",
        "--manifest",
        fleet.manifest,
        "--repo",
        "juniper-cascor",
        "--ref",
        HYGIENE,
        "--format",
        "json",
    )
    states = {a["path"]: a["state"] for a in json.loads(sops.stdout)["repos"][0]["artifacts"]}
    assert (
        states[".gitignore"] == "in-sync" and states[".sops.yaml"] == "in-sync"
    )  # the other block is no drift


def test_a_plan_saved_for_one_rollout_cannot_land_on_another(fleet, tmp_path):
    saved = tmp_path / "hygiene.plan.json"
    assert (
        rollout(
            "plan", "--manifest", fleet.manifest, "--rollout", "repo-hygiene", "--out", saved
        ).code
        == 0
    )
    result = rollout("apply", saved, "--manifest", fleet.manifest, "--yes")
    assert (
        result.code == 1 and "--rollout" in result.stderr and "chore/repo-hygiene" in result.stderr
    )
    assert not git(fleet.repo("juniper-cascor"), "branch", "--list", BRANCH).strip()


def test_unknown_rollout_is_one_line(fleet):
    result = rollout("plan", "--manifest", fleet.manifest, "--rollout", "hygeine")
    assert (
        result.code == 1
        and "no rollout named 'hygeine'" in result.stderr
        and "repo-hygiene" in result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1


# --- the pure core: each kind on its own -----------------------------------------------------------

ROLLOUTS = f"""\
version: 1
workspace: ws
defaults:
  age_recipients: [{KEY}]
rollouts:
  hygiene:
    vars: {{who: "@team"}}
    files:
      - {{path: OWNERS, template: owners.j2}}
      - {{path: .gitignore, kind: block, template: ignore.j2}}
      - {{path: AGENTS.md, kind: block, template: agents.j2, when: {{exists: AGENTS.md}}}}
      - {{path: py.txt, template: py.j2, when: {{language: python}}}}
  lint:
    files:
      - {{path: .gitignore, kind: block, template: lint.j2}}
repos:
  - name: svc
"""


def core(tmp_path: Path, rollout_name: str, text: str = ROLLOUTS):
    (tmp_path / "ws").mkdir(exist_ok=True)
    templates = tmp_path / "templates"
    shutil.copytree(SHIPPED.parent.parent / "templates", templates, dirs_exist_ok=True)
    for name, body in {
        "owners.j2": "* {{ who }} ({{ repo.name }} on {{ facts.default_branch }})\n",
        "ignore.j2": "*.log\n",
        "agents.j2": "Run `make hygiene`.\n",
        "lint.j2": ".ruff_cache/\n",
        "py.j2": "python {{ facts.python_version }}\n",
    }.items():
        (templates / name).write_text(body)
    path = tmp_path / "repos.yaml"
    path.write_text(text.replace("workspace: ws\n", "workspace: ws\ntemplates: templates\n"))
    manifest = load_manifest(path, rollout=rollout_name)
    return manifest, manifest.repos[0]


def snap(files: dict[str, str], *, paths=None, requires: str | None = None) -> planner.Snapshot:
    data = {k: v.encode() for k, v in files.items()}
    facts = RepoFacts(frozenset(paths if paths is not None else files), "trunk", requires)
    return planner.Snapshot(files=data, facts=facts)


def by_path(changes):
    return {c.path: c for c in changes}


def test_whole_file_kind_renders_vars_and_facts_and_nothing_of_sops(tmp_path):
    manifest, repo = core(tmp_path, "hygiene")
    changes = by_path(planner.plan_repo(manifest, repo, snap({})))
    assert set(changes) == {
        "OWNERS",
        ".gitignore",
        "AGENTS.md",
        "py.txt",
    }  # no .sops.yaml, hook or skip rows
    assert (
        changes["OWNERS"].action == CREATE
        and changes["OWNERS"].after == b"* @team (svc on trunk)\n"
    )
    again = by_path(planner.plan_repo(manifest, repo, snap({"OWNERS": "* @team (svc on trunk)\n"})))
    assert again["OWNERS"].action == UNCHANGED
    assert manifest.recipients == () and repo.branch == "chore/hygiene"


def test_block_kind_keeps_every_other_byte_and_its_place(tmp_path):
    manifest, repo = core(tmp_path, "hygiene")
    human = "node_modules/\n# >>> juniper-rollout hygiene >>>\nold\n# <<< juniper-rollout hygiene <<<\ndist/"
    change = by_path(planner.plan_repo(manifest, repo, snap({".gitignore": human})))[".gitignore"]
    assert change.action == UPDATE
    assert change.after.decode() == human.replace("old\n", "*.log\n")
    fresh = by_path(planner.plan_repo(manifest, repo, snap({".gitignore": "dist/\n"})))[
        ".gitignore"
    ]
    assert fresh.after.decode() == (
        "dist/\n# >>> juniper-rollout hygiene >>>\n*.log\n# <<< juniper-rollout hygiene <<<\n"
    )


def test_an_ignore_block_adds_only_the_patterns_the_person_lacks(tmp_path):
    manifest, repo = core(tmp_path, "lint")
    (tmp_path / "templates" / "lint.j2").write_text("# caches\n.ruff_cache/\n.mypy_cache/\n")
    partly = by_path(
        planner.plan_repo(manifest, repo, snap({".gitignore": "dist/\n.mypy_cache/\n"}))
    )[".gitignore"]
    assert partly.after.decode() == (
        "dist/\n.mypy_cache/\n# >>> juniper-rollout lint >>>\n# caches\n.ruff_cache/\n"
        "# <<< juniper-rollout lint <<<\n"
    )  # not .mypy_cache/ a second time
    whole = "dist/\n.ruff_cache/\n  .mypy_cache/\n"
    held = by_path(planner.plan_repo(manifest, repo, snap({".gitignore": whole})))[".gitignore"]
    assert held.action == UNCHANGED  # every pattern is the person's already: no block at all
    found = audit.audit_repo(manifest, repo, snap({".gitignore": whole}), audit.Facts(), ref="main")
    assert {a.path: a.state for a in found.artifacts}[".gitignore"] == "in-sync"


def test_two_rollouts_own_separate_blocks_in_one_file(tmp_path):
    hygiene, h_repo = core(tmp_path, "hygiene")
    lint, l_repo = core(tmp_path, "lint")
    first = by_path(planner.plan_repo(hygiene, h_repo, snap({".gitignore": "dist/\n"})))[
        ".gitignore"
    ].after.decode()
    both = by_path(planner.plan_repo(lint, l_repo, snap({".gitignore": first})))[
        ".gitignore"
    ].after.decode()
    assert both.startswith(first) and "# >>> juniper-rollout lint >>>\n.ruff_cache/\n" in both
    again = by_path(planner.plan_repo(hygiene, h_repo, snap({".gitignore": both})))[".gitignore"]
    assert again.action == UNCHANGED  # the other rollout's block is not this rollout's business
    sops, s_repo = core(tmp_path, "sops")  # nor the SOPS rollout's: it keeps its own markers
    sops_ignore = by_path(planner.plan_repo(sops, s_repo, snap({".gitignore": both})))[
        ".gitignore"
    ].after.decode()
    assert sops_ignore.startswith(both) and sops_ignore.count("# >>> juniper-rollout >>>") == 1


def test_block_with_broken_markers_is_refused_with_the_line(tmp_path):
    manifest, repo = core(tmp_path, "hygiene")
    broken = "a\n# >>> juniper-rollout hygiene >>>\nb\n"
    with pytest.raises(RepoError, match=r"\.gitignore:2: .*no end marker"):
        planner.plan_repo(manifest, repo, snap({".gitignore": broken}))


def test_when_is_judged_on_the_repo_at_its_base(tmp_path):
    manifest, repo = core(tmp_path, "hygiene")
    bare = by_path(planner.plan_repo(manifest, repo, snap({})))
    assert bare["AGENTS.md"].action == SKIP and "exists AGENTS.md" in bare["AGENTS.md"].reason
    assert bare["py.txt"].action == SKIP and "language python" in bare["py.txt"].reason
    python = by_path(
        planner.plan_repo(
            manifest,
            repo,
            snap({"AGENTS.md": "# Agents\n"}, paths={"AGENTS.md", "src/app.py"}, requires=">=3.11"),
        )
    )
    assert python["py.txt"].after == b"python 3.11\n"
    assert (
        python["AGENTS.md"]
        .after.decode()
        .startswith("# Agents\n<!-- >>> juniper-rollout hygiene >>> -->\n")
    )


def test_drift_states_of_each_kind(tmp_path):
    manifest, repo = core(tmp_path, "hygiene")
    rendered = {
        c.path: c.after.decode()
        for c in planner.plan_repo(
            manifest,
            repo,
            snap({"AGENTS.md": "# A\n"}, paths={"AGENTS.md", "x.py"}, requires=">=3.12"),
        )
    }

    def states(files, paths=None):
        result = audit.audit_repo(
            manifest, repo, snap(files, paths=paths, requires=">=3.12"), audit.Facts(), ref="main"
        )
        assert result.findings == ()  # the SOPS hazards belong to the SOPS rollout
        return {a.path: a.state for a in result.artifacts}

    assert states(rendered, paths=set(rendered) | {"x.py"}) == dict.fromkeys(rendered, "in-sync")
    assert states({}) == {
        "OWNERS": "missing",
        ".gitignore": "missing",
    }  # when: unmet -> not managed
    edited = dict(
        rendered,
        OWNERS="* @someone-else\n",
        **{".gitignore": rendered[".gitignore"].replace("*.log", "*.tmp")},
    )
    assert states(edited, paths=set(rendered) | {"x.py"})["OWNERS"] == "modified"
    assert states(edited, paths=set(rendered) | {"x.py"})[".gitignore"] == "modified"
    no_block = states({".gitignore": "dist/\n"})
    assert no_block[".gitignore"] == "missing"
    # the block is there, but its when: no longer holds (AGENTS.md there, but the condition is on `exists`)
    stale = states({"AGENTS.md": rendered["AGENTS.md"]}, paths=set())
    assert stale.get("AGENTS.md") == "extra"


def test_facts_read_from_pyproject():
    assert requires_python(b'[project]\nname = "x"\nrequires-python = ">=3.11,<4"\n') == ">=3.11,<4"
    assert RepoFacts(frozenset(), "main", ">=3.11,<4").python_version == "3.11"
    assert RepoFacts(frozenset(), "main", "~= 3.10").python_version == "3.10"
    assert requires_python(b"not toml [") is None and requires_python(None) is None
    facts = RepoFacts(frozenset({"src/a/b.py", "Dockerfile"}), "main")
    assert facts.exists("src/a") and facts.exists("Dockerfile") and not facts.exists("src/b")
    assert facts.template_context()["facts"]["languages"] == ["python", "docker"]


def test_default_branch_comes_from_origin_head(fleet, tmp_path):
    from juniper_rollout import gitrepo

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(fleet.repo("juniper-ml")), str(clone))
    git(clone, "branch", "-q", "trunk")
    git(clone, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    with gitrepo.open_clone(clone) as repo:
        assert gitrepo.default_branch(repo) == "main"
    with gitrepo.open_clone(
        fleet.repo("juniper-ml")
    ) as repo:  # no remote: the manifest's base is used
        assert gitrepo.default_branch(repo) is None


# --- fleet-wide defaults ---------------------------------------------------------------------------


def test_defaults_files_apply_fleet_wide_with_opt_outs(tmp_path):
    text = ROLLOUTS.replace(
        "defaults:\n",
        "defaults:\n  files: [{path: NOTE.md, template: owners.j2, vars: {who: x}}]\n",
    )
    text = text.replace(
        "repos:\n  - name: svc\n",
        "repos:\n  - name: svc\n  - name: opt\n    skip_files: [NOTE.md]\n"
        "    rollouts: {hygiene: {skip_files: [OWNERS], files: [{path: MINE, template: lint.j2}]}}\n"
        "  - name: out\n    rollouts: {hygiene: false}\n",
    )
    manifest, _ = core(tmp_path, "sops", text)
    assert [("NOTE.md" in [f.path for f in r.files]) for r in manifest.repos] == [True, False, True]
    hygiene, _ = core(tmp_path, "hygiene", text)
    assert [r.name for r in hygiene.repos] == ["svc", "opt"]
    assert [f.path for f in hygiene.repos[1].files] == [".gitignore", "AGENTS.md", "py.txt", "MINE"]
    # --repo on the opted-out one says why it is not there (not "no repo named 'out'")
    with pytest.raises(
        ManifestError, match=r"repo 'out' opted out of the 'hygiene' rollout .*hygiene: false"
    ):
        hygiene.select(["out"])
    with pytest.raises(ManifestError, match="no repo named 'nope'"):
        hygiene.select(["nope"])
    assert [r.name for r in manifest.select(["out"])] == ["out"]


def test_a_rollout_without_secrets_needs_no_key():
    manifest = load_manifest(SHIPPED, rollout="repo-hygiene")  # the placeholder key, as shipped
    assert manifest.recipients == () and manifest.rollouts == ("sops", "repo-hygiene")
    assert {r.branch for r in manifest.repos} == {HYGIENE}
    assert all(not r.sops and not r.encrypt for r in manifest.repos)
    assert [f.path for f in manifest.repos[0].files] == [
        ".github/dependabot.yml",
        ".github/CODEOWNERS",
        ".gitignore",
    ]


# --- manifest mistakes in the new keys: one line FILE:LINE -----------------------------------------


@pytest.mark.parametrize(
    "old, new, line, words",
    [
        ("  hygiene:\n", "  sops:\n", 7, "built-in SOPS rollout"),
        ("  hygiene:\n", "  hy giene:\n", 7, "not a valid rollout name"),
        ("    vars: {who:", "    colour: red\n    vars: {who:", 8, "unknown key 'colour'"),
        (
            "kind: block, template: ignore.j2}",
            "kind: paragraph, template: ignore.j2}",
            11,
            "use one of: file, block",
        ),
        ("{language: python}", "{language: cobol}", 13, "not a language the tool detects"),
        ("{exists: AGENTS.md}", "{exists: ../AGENTS.md}", 12, "must stay inside the repository"),
        ("{exists: AGENTS.md}", "{present: AGENTS.md}", 12, "unknown key 'present'"),
        ("{exists: AGENTS.md}", "{}", 12, "when is empty"),
        (
            "kind: block, template: ignore.j2}",
            "kind: block, template: ignore.j2, policy: create-only}",
            11,
            "policy applies to whole files only",
        ),
        ("  - name: svc\n", "  - name: svc\n    rollouts: {hygeine: false}\n", 19, "not declared"),
        (
            "  - name: svc\n",
            "  - name: svc\n    skip_files: [OWNERS]\n",
            19,
            "not a fleet-wide file",
        ),
        (
            "  - name: svc\n",
            "  - name: svc\n    rollouts:\n      hygiene: {skip_files: [NOPE]}\n",
            20,
            "not a fleet-wide file",
        ),
        (
            "      - {path: py.txt,",
            "      - {path: OWNERS, template: lint.j2}\n      - {path: py.txt,",
            13,
            "renders OWNERS twice",
        ),
        ("  lint:\n", "  lint:\n    branch: main\n", 15, "cannot be the base branch"),
        (
            "template: owners.j2}",
            "template: ownrs.j2}",
            10,
            "unknown template 'ownrs.j2'",
        ),  # not the run's rollout
    ],
)
def test_rollout_mistakes_are_one_line(tmp_path, old, new, line, words):
    assert old in ROLLOUTS
    with pytest.raises(ManifestError) as err:
        core(tmp_path, "lint", ROLLOUTS.replace(old, new, 1))
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'repos.yaml'}:{line}: "), text
    assert words in text and "\n" not in text


# --- kind: yaml-entry ------------------------------------------------------------------------------

ENTRY = ROLLOUTS.replace(
    "  lint:\n    files:\n",
    """\
  lint:
    files:
      - {path: .github/dependabot.yml, kind: yaml-entry, key: updates, match: package-ecosystem, template: pip.j2}
""",
)
HAND_DEPENDABOT = """\
version: 2
# ours: npm daily, reviewed by the web team
updates:
    -   package-ecosystem: npm
        directory: "/web"
        schedule: {interval: daily}
"""


def entry_core(tmp_path: Path, text: str = ENTRY):
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "pip.j2").write_text(
        "package-ecosystem: pip\ndirectory: /\nschedule:\n  interval: weekly\n"
    )
    return core(tmp_path, "lint", text)


def test_yaml_entry_is_spliced_into_the_persons_file(tmp_path):
    manifest, repo = entry_core(tmp_path)
    item = by_path(
        planner.plan_repo(manifest, repo, snap({".github/dependabot.yml": HAND_DEPENDABOT}))
    )
    after = item[".github/dependabot.yml"].after.decode()
    assert item[".github/dependabot.yml"].action == UPDATE and after.startswith(
        HAND_DEPENDABOT
    )  # every byte kept
    assert after[len(HAND_DEPENDABOT) :] == (
        "    -   package-ecosystem: pip\n        directory: /\n"
        "        schedule:\n          interval: weekly\n"
    )  # its own indentation
    again = by_path(planner.plan_repo(manifest, repo, snap({".github/dependabot.yml": after})))
    assert again[".github/dependabot.yml"].action == UNCHANGED


def test_yaml_entry_replaces_only_its_own_entry(tmp_path):
    manifest, repo = entry_core(tmp_path)
    stale = (
        HAND_DEPENDABOT
        + "    # pip, by hand\n    -   package-ecosystem: pip\n        directory: /\n"
        "        schedule: {interval: monthly}\n    -   package-ecosystem: docker\n"
        "        directory: /\n        schedule: {interval: daily}\n"
    )
    after = by_path(planner.plan_repo(manifest, repo, snap({".github/dependabot.yml": stale})))[
        ".github/dependabot.yml"
    ].after.decode()
    assert "interval: monthly" not in after and after.startswith(
        HAND_DEPENDABOT + "    # pip, by hand\n"
    )
    assert after.endswith(
        "    -   package-ecosystem: docker\n        directory: /\n        schedule: {interval: daily}\n"
    )
    assert after.count("package-ecosystem: pip") == 1


# the real fleet's shape: a hand-written pip entry with a day, a time zone, labels and groups
HAND_PIP = """\
version: 2
updates:
  - package-ecosystem: "pip"
    directory: "/"
    schedule:
      interval: "weekly"
      day: "monday"
      timezone: "America/New_York"
    labels:
      - "dependencies"
    groups:
      python-minor:
        patterns: ["*"]
"""


def test_yaml_entry_that_holds_what_is_rendered_is_the_persons_byte_for_byte(tmp_path):
    manifest, repo = entry_core(tmp_path)
    item = by_path(planner.plan_repo(manifest, repo, snap({".github/dependabot.yml": HAND_PIP})))
    assert (
        item[".github/dependabot.yml"].action == UNCHANGED
    )  # labels, groups, day: theirs, and kept

    def state(text):
        found = audit.audit_repo(
            manifest, repo, snap({".github/dependabot.yml": text}), audit.Facts(), ref="main"
        )
        return {a.path: a.state for a in found.artifacts}.get(".github/dependabot.yml")

    assert state(HAND_PIP) == "in-sync"
    monthly = HAND_PIP.replace('"weekly"', '"monthly"')
    assert state(monthly) == "modified"
    after = by_path(planner.plan_repo(manifest, repo, snap({".github/dependabot.yml": monthly})))[
        ".github/dependabot.yml"
    ].after.decode()
    data = load_plain(after)["updates"][0]
    assert data["schedule"] == {
        "interval": "weekly",
        "day": "monday",
        "timezone": "America/New_York",
    }
    assert data["labels"] == ["dependencies"] and data["groups"] == {
        "python-minor": {"patterns": ["*"]}
    }


def test_yaml_entry_adds_the_list_or_refuses_what_it_cannot_edit(tmp_path):
    manifest, repo = entry_core(tmp_path)
    added = by_path(
        planner.plan_repo(manifest, repo, snap({".github/dependabot.yml": "version: 2\n"}))
    )
    assert (
        added[".github/dependabot.yml"]
        .after.decode()
        .startswith("version: 2\nupdates:\n- package-ecosystem: pip\n")
    )
    flow = by_path(
        planner.plan_repo(
            manifest, repo, snap({".github/dependabot.yml": "version: 2\nupdates: []\n"})
        )
    )
    assert "updates: [{package-ecosystem: pip" in flow[".github/dependabot.yml"].after.decode()
    with pytest.raises(
        RepoError, match=r"^\.github/dependabot\.yml:2: updates is not a plain list"
    ):
        planner.plan_repo(
            manifest, repo, snap({".github/dependabot.yml": "version: 2\nupdates: 5\n"})
        )
    absent = by_path(planner.plan_repo(manifest, repo, snap({})))[".github/dependabot.yml"]
    assert absent.action == SKIP and "existing file" in absent.reason


def test_yaml_entry_drift_states(tmp_path):
    manifest, repo = entry_core(tmp_path)

    def state(text):
        files = {".github/dependabot.yml": text} if text is not None else {}
        found = audit.audit_repo(manifest, repo, snap(files), audit.Facts(), ref="main")
        return {a.path: a.state for a in found.artifacts}.get(".github/dependabot.yml")

    assert state(HAND_DEPENDABOT) == "missing" and state(None) is None
    synced = (
        HAND_DEPENDABOT
        + "    - {package-ecosystem: pip, directory: /, schedule: {interval: weekly}}\n"
    )
    assert state(synced) == "in-sync"  # judged by data: the person's flow style is style
    assert state(synced.replace("weekly", "daily")) == "modified"


def test_yaml_entry_template_must_render_a_mapping_with_the_field(tmp_path):
    manifest, repo = entry_core(tmp_path)
    (tmp_path / "templates" / "pip.j2").write_text("- just a list\n")
    with pytest.raises(
        ManifestError,
        match=r"repos\.yaml:16: .*must render a YAML mapping, or a list of them, each with `package-ecosystem:`",
    ):
        planner.plan_repo(manifest, repo, snap({".github/dependabot.yml": HAND_DEPENDABOT}))


@pytest.mark.parametrize(
    "old, new, words",
    [
        ("key: updates, ", "", "needs `key`"),
        ("match: package-ecosystem, ", "", "needs `match`"),
        ("kind: yaml-entry, ", "", "belongs to kind: yaml-entry only"),
    ],
)
def test_yaml_entry_mistakes_are_one_line(tmp_path, old, new, words):
    with pytest.raises(ManifestError) as err:
        entry_core(tmp_path, ENTRY.replace(old, new, 1))
    assert str(err.value).startswith(f"{tmp_path / 'repos.yaml'}:16: ") and words in str(err.value)


# --- kind: precommit-hook --------------------------------------------------------------------------

HOOKS = ROLLOUTS.replace(
    "  lint:\n    files:\n",
    """\
  lint:
    files:
      - {path: .pre-commit-config.yaml, kind: precommit-hook, template: hooks.j2}
""",
)


def hooks_core(tmp_path: Path, rollout_name: str = "lint"):
    (tmp_path / "templates").mkdir(exist_ok=True)
    (tmp_path / "templates" / "hooks.j2").write_text(
        "- id: no-todo\n  name: no TODO in {{ repo.name }}\n  entry: TODO\n  language: pygrep\n  types: [python]\n"
    )
    return core(tmp_path, rollout_name, HOOKS)


def test_precommit_hook_is_spliced_into_an_existing_config(tmp_path):
    from tests.demofleet import PRECOMMIT_REMOTE

    manifest, repo = hooks_core(tmp_path)
    config = PRECOMMIT_REMOTE.format(name="svc")
    change = by_path(planner.plan_repo(manifest, repo, snap({".pre-commit-config.yaml": config})))[
        ".pre-commit-config.yaml"
    ]
    after = change.after.decode()
    assert change.action == UPDATE and after.startswith(
        config
    )  # every byte of the person's config kept
    assert (
        "  - repo: local\n    hooks:\n      - id: no-todo\n        name: no TODO in svc\n" in after
    )
    absent = by_path(planner.plan_repo(manifest, repo, snap({})))[".pre-commit-config.yaml"]
    assert absent.action == SKIP and "only where one exists" in absent.reason

    def state(text):
        files = {".pre-commit-config.yaml": text} if text is not None else {}
        found = audit.audit_repo(manifest, repo, snap(files), audit.Facts(), ref="main")
        return {a.path: a.state for a in found.artifacts}.get(".pre-commit-config.yaml")

    assert (state(config), state(after), state(None)) == ("missing", "in-sync", None)
    assert state(after.replace("entry: TODO", "entry: FIXME")) == "modified"
    # the SOPS rollout's hook joins the same local entry: the lint hooks stay in sync
    sops, s_repo = core(tmp_path, "sops", HOOKS)
    both = by_path(planner.plan_repo(sops, s_repo, snap({".pre-commit-config.yaml": after})))[
        ".pre-commit-config.yaml"
    ].after.decode()
    assert state(both) == "in-sync" and both.startswith(after.split("      - id: no-todo")[0])


def test_precommit_hook_template_and_path_mistakes(tmp_path):
    manifest, repo = hooks_core(tmp_path)
    (tmp_path / "templates" / "hooks.j2").write_text("id: not-a-list\n")
    with pytest.raises(ManifestError, match=r"repos\.yaml:16: .*must render a YAML list of hooks"):
        planner.plan_repo(manifest, repo, snap({".pre-commit-config.yaml": "repos: []\n"}))
    with pytest.raises(ManifestError) as err:
        core(
            tmp_path,
            "lint",
            HOOKS.replace(
                "{path: .pre-commit-config.yaml, kind: precommit-hook",
                "{path: hooks.yaml, kind: precommit-hook",
            ),
        )
    assert str(err.value).startswith(f"{tmp_path / 'repos.yaml'}:16: ") and "goes into" in str(
        err.value
    )


# --- kind: encrypted file, in a named rollout -------------------------------------------------------

VAULT = """\
rollouts:
  vault:
    files: []
    encrypt:
      - {source: .env, target: deploy/.env.enc}
"""


def test_a_named_rollout_encrypts_with_the_real_sops_and_needs_the_key(fleet, tmp_path):
    from juniper_rollout import sops as sops_tool

    cascor = fleet.repo("juniper-cascor")
    assert (
        rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes").code
        == 0
    )
    fleet.merge_all()  # the repo's .sops.yaml (from the SOPS rollout) names the recipients
    text = fleet.manifest.read_text()
    manifest = tmp_path / "vault.yaml"
    manifest.write_text(text.replace("\nrollouts:\n", "\n" + VAULT, 1))
    plan = rollout("plan", "--manifest", manifest, "--rollout", "vault", "--repo", "juniper-cascor")
    assert plan.code == 0 and "deploy/.env.enc" in plan.stdout and ".sops.yaml" not in plan.stdout
    assert (
        rollout(
            "apply",
            "--manifest",
            manifest,
            "--rollout",
            "vault",
            "--repo",
            "juniper-cascor",
            "--yes",
        ).code
        == 0
    )
    blob = git(cascor, "show", "chore/vault:deploy/.env.enc").encode()
    assert (
        sops_tool.read_metadata(blob) is not None
    )  # ciphertext, made by sops (the canary check covers leaks)
    drift = rollout(
        "drift",
        "--manifest",
        manifest,
        "--rollout",
        "vault",
        "--repo",
        "juniper-cascor",
        "--ref",
        "chore/vault",
        "--format",
        "json",
    )
    assert json.loads(drift.stdout)["repos"][0]["artifacts"] == [
        {"path": "deploy/.env.enc", "state": "in-sync"}
    ]
    # a rollout that encrypts needs real recipients: the placeholder is refused at its line
    placeholder = tmp_path / "placeholder.yaml"
    placeholder.write_text(SHIPPED.read_text().replace("\nrollouts:\n", "\n" + VAULT, 1))
    with pytest.raises(ManifestError, match="placeholder"):
        load_manifest(placeholder, rollout="vault")
    assert load_manifest(placeholder, rollout="repo-hygiene").recipients == ()


def test_a_bootstrapped_repo_joins_the_other_rollouts_with_the_command_it_prints(fleet, tmp_path):
    result = rollout("bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest)
    assert result.code == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if "repo-hygiene rollout" in x)
    command = line.split("`")[1].split()
    assert command[:2] == ["rollout", "apply"]
    joined = rollout(
        *command[1:], "--yes"
    )  # as printed (the canopy clone is brand new: a README only)
    assert joined.code == 0, joined.stderr
    canopy = fleet.repo("juniper-canopy")
    assert "dependabot.yml" in git(canopy, "ls-tree", "-r", "--name-only", HYGIENE)


def test_yaml_entries_found_by_several_fields_and_a_file_created_where_there_is_none(tmp_path):
    text = ENTRY.replace(
        "match: package-ecosystem, template: pip.j2}",
        "match: [package-ecosystem, directory], template: pip.j2, create: new.j2}",
    )
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "new.j2").write_text(
        "# made for {{ repo.name }}\nversion: 2\nupdates:\n"
        "  - {package-ecosystem: pip, directory: /, schedule: {interval: weekly}}\n"
    )
    manifest, repo = entry_core(tmp_path, text)
    (tmp_path / "templates" / "pip.j2").write_text(
        "- {package-ecosystem: pip, directory: /, schedule: {interval: weekly}}\n"
        "- {package-ecosystem: github-actions, directory: /, schedule: {interval: weekly}}\n"
    )
    docs = (
        HAND_DEPENDABOT
        + "    -   package-ecosystem: pip\n        directory: /docs\n        schedule: {interval: daily}\n"
    )
    after = by_path(planner.plan_repo(manifest, repo, snap({".github/dependabot.yml": docs})))[
        ".github/dependabot.yml"
    ].after.decode()
    assert after.startswith(docs)  # pip in /docs is another entry: kept as the person wrote it
    assert (
        after.count("package-ecosystem: pip") == 2
        and after.count("package-ecosystem: github-actions") == 1
    )
    created = by_path(planner.plan_repo(manifest, repo, snap({})))[".github/dependabot.yml"]
    assert created.action == CREATE and created.after.decode() == (
        "# made for svc\nversion: 2\nupdates:\n  - {package-ecosystem: pip, directory: /, schedule: {interval: weekly}}\n"
        "  - package-ecosystem: github-actions\n    directory: /\n    schedule:\n      interval: weekly\n"
    )

    def state(files):
        found = audit.audit_repo(manifest, repo, snap(files), audit.Facts(), ref="main")
        return {a.path: a.state for a in found.artifacts}.get(".github/dependabot.yml")

    assert (state({}), state({".github/dependabot.yml": after})) == ("missing", "in-sync")
    assert state({".github/dependabot.yml": docs}) == "missing"
    half = (
        HAND_DEPENDABOT
        + "    - {package-ecosystem: pip, directory: /, schedule: {interval: weekly}}\n"
    )
    assert (
        state({".github/dependabot.yml": half}) == "modified"
    )  # one of the two entries is missing


# --- property: two rollouts' blocks in any file ---------------------------------------------------

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from juniper_rollout.artifacts import markers, plan_block  # noqa: E402
from juniper_rollout.edits import blocks as block_edits  # noqa: E402

human_line = st.sampled_from(
    ["", "# note", "*.log", "dist/", "# >>> juniper-rollout >>>x", "ünï ✓", "  ", "\r"]
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(human_line, max_size=8),
    crlf=st.booleans(),
    final=st.booleans(),
    a=st.text("abc*/\n", max_size=20),
    b=st.text("xyz!.\n", max_size=20),
)
@example(lines=["dist/"], crlf=False, final=False, a="a", b="x")
def test_two_rollouts_blocks_are_independent(lines, crlf, final, a, b):
    nl = "\r\n" if crlf else "\n"
    text = nl.join(line.replace("\r", "") for line in lines) + (nl if final and lines else "")
    one = plan_block(text, a, "hygiene", ".gitignore")
    both = plan_block(one, b, "lint", ".gitignore")
    assert (
        plan_block(both, a, "hygiene", ".gitignore") == both
    )  # idempotent with the other block there
    without_one = block_edits.remove(both, markers("hygiene", ".gitignore"), path=".gitignore")
    assert without_one == plan_block(
        text, b, "lint", ".gitignore"
    )  # removing one leaves the other as alone
    assert block_edits.remove(without_one, markers("lint", ".gitignore"), path=".gitignore") == text
