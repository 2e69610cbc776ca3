"""Issue 13, pass 27a: a verification pass over items 1-4 and the smaller list's first four bullets
(deleted remote branch, LFS pointer, SHA-256, `.git` paths and `branch: HEAD`) on the code after
session 30. Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import os
import re
import shlex

import pytest

from tests.demofleet import make_repo
from tests.fleet import BRANCH, OWNER
from tests.helpers import git, rollout, rollout_in_a_terminal
from tests.test_hostile import manifest_for
from tests.test_pass3 import main_moves_to
from tests.test_pass16b import LFS_LINE


def linked_repo(tmp_path, path: str, target: str, entry: str = ""):
    """A repo whose ``path`` is a committed symlink to ``target``, a file of its own; its manifest."""
    repo = make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n", target: "the real file\n"})
    os.symlink(target, repo / path)
    git(repo, "add", path)
    git(repo, "commit", "-qm", f"{path} -> {target}")
    return repo, manifest_for(tmp_path, f"  - name: victim\n{entry}")


def planned(manifest, name: str = "victim") -> dict:
    result = rollout("plan", "--manifest", manifest, "--json")
    return next(r for r in json.loads(result.stdout)["repos"] if r["name"] == name)


def follow_rollout_lines(said: str) -> None:
    """Run each `rollout …` command ``said`` quotes, as a person would (apply answered "y")."""
    for command in [c for c in said.split("`") if c.startswith("rollout ")]:
        args = shlex.split(command)[1:]
        asks = args[0] == "apply"
        pasted = rollout_in_a_terminal(*args, answer="y") if asks else rollout(*args)
        assert pasted.code == 0, (command, pasted.stdout)


@pytest.mark.parametrize(
    ("path", "target", "entry"),
    [
        ("AGENTS.md", "CLAUDE.md", "    agents_md: skip\n"),
        (".pre-commit-config.yaml", "ci/pre-commit.yaml", "    precommit_hook: skip\n"),
        (".gitignore", "ci/gitignore", "    gitignore: false\n"),
    ],
)
def test_a_symlinked_file_the_entry_leaves_alone_refuses_nothing(tmp_path, path, target, entry):
    """NEW (a false refusal; the LFS bullet's neighbour): a repo whose AGENTS.md is a symlink to
    CLAUDE.md (a common way to keep one file for two agents), with `agents_md: skip` in its entry,
    was refused whole: "AGENTS.md is a symlink … (replace the link with a regular file or folder)",
    a file the manifest told the tool to leave alone, and a way out that breaks the repo's own set-up;
    the same for `precommit_hook: skip` and `gitignore: false`. Such a file is now neither read nor
    written: the repo is planned and applied, the link kept as it is."""
    repo, manifest = linked_repo(tmp_path, path, target, entry)
    victim = planned(manifest)
    assert victim["status"] == "changes", victim.get("error")
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    mode, _, blob = git(repo, "ls-tree", BRANCH, "--", path).split(maxsplit=3)[:3]
    assert mode == "120000" and git(repo, "cat-file", "blob", blob) == target


def test_a_symlinked_agents_md_is_skipped_with_a_note(tmp_path):
    """NEW (the same, `agents_md: auto`, the default): a symlinked AGENTS.md refused the repo, while
    one stored in Git LFS or as a submodule is skipped with a note (the section is optional). It is
    skipped with a note now, never followed: the file it names is left as it is."""
    repo, manifest = linked_repo(tmp_path, "AGENTS.md", "CLAUDE.md")
    victim = planned(manifest)
    agents = next(f for f in victim["files"] if f["path"] == "AGENTS.md")
    assert agents["action"] == "skip" and "symlink" in agents["reason"], agents
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    assert git(repo, "show", f"{BRANCH}:CLAUDE.md") == "the real file\n"
    assert git(repo, "ls-tree", BRANCH, "--", "AGENTS.md").startswith("120000 ")


def test_a_symlinked_gitignore_the_tool_edits_is_still_refused_and_names_the_opt_out(tmp_path):
    """The refusal kept where the tool would edit the file, its way out now naming the opt-out."""
    repo, manifest = linked_repo(tmp_path, ".gitignore", "ci/gitignore")
    victim = planned(manifest)
    assert victim["status"] == "error", victim
    assert "symlink" in victim["error"] and "`gitignore: false`" in victim["error"], victim["error"]


def nested_target(fleet) -> tuple:
    """juniper-cascor encrypting `.env` into `config/.env.enc` (a target in a folder of its own)."""
    entry = "      - source: .env\n        target: .env.enc\n"
    text = fleet.manifest.read_text()
    assert entry in text
    fleet.manifest.write_text(text.replace(entry, entry.replace(".env.enc", "config/.env.enc"), 1))
    return fleet.repo("juniper-cascor"), ("--manifest", fleet.manifest, "--repo", "juniper-cascor")


def test_the_lfs_line_for_a_target_in_a_folder_works_where_it_is_said_to_go(fleet, tmp_path):
    """ON-LIST (the smaller list's LFS bullet, pass 16b's way out): `*.enc filter=lfs` in
    `config/.gitattributes` and an encrypt target `config/.env.enc`: refused (right), with "a line
    `/config/.env.enc !filter !diff !merge !text` at the end of the top .gitattributes". Added there
    and committed, nothing changed (a deeper .gitattributes beats the top one: git check-attr still
    said lfs), and the refusal stayed. The line now goes to the target's own folder's
    .gitattributes; added where it says, the repo plans and applies."""
    repo, only = nested_target(fleet)
    main_moves_to(repo, {"config/.gitattributes": f"*.enc {LFS_LINE}\n"}, tmp_path)
    said = " ".join(rollout("plan", *only).stdout.split())
    assert "config/.env.enc would be stored in Git LFS" in said, said
    line, where = re.search(
        r"`(/[^`]*!filter[^`]*)` at the end of (the top \.gitattributes|\S+)", said
    ).groups()
    file = ".gitattributes" if where == "the top .gitattributes" else where
    files = {"config/.gitattributes": f"*.enc {LFS_LINE}\n"}  # the LFS rule kept where it was
    files[file] = files.get(file, "") + f"{line}\n"  # the line added where it says
    main_moves_to(repo, files, tmp_path)
    applied = rollout("apply", *only, "--yes")
    assert applied.code == 0, applied.stdout
    assert "sops_mac=" in git(repo, "show", f"{BRANCH}:config/.env.enc")


def test_the_lfs_refusal_names_the_clones_info_attributes_when_that_file_decides(fleet, tmp_path):
    """The same refusal where the clone's own `.git/info/attributes` says `*.enc filter=lfs`: that
    file beats every .gitattributes, so the line offered for the top one could never work. The
    refusal names that file; with its line removed the repo applies."""
    repo, only = nested_target(fleet)
    info = repo / ".git" / "info" / "attributes"
    info.parent.mkdir(exist_ok=True)
    info.write_text(f"*.enc {LFS_LINE}\n")
    said = " ".join(rollout("plan", *only).stdout.split())
    assert "would be stored in Git LFS" in said and f"{info} that says so" in said, said
    assert "!filter" not in said, said
    info.write_text("")
    assert rollout("apply", *only, "--yes").code == 0


def test_a_closed_pull_request_whose_branch_was_deleted_gets_a_way_to_reopen_that_works(
    loop, github
):
    """ON-LIST (the smaller list's deleted remote branch, another spelling): a person closes the pull
    request and presses GitHub's "Delete branch"; the user syncs (sync leaves origin's stale
    remote-tracking ref). `rollout status` said "closed by a person (`rollout pr --reopen …`)":
    pasted, "failed  GitHub rejected the request to update pull request #1 (422: Validation Failed
    head branch was deleted)", and so every time. The step now says the branch is gone and offers
    `apply --push`, then `pr --reopen`; pasted in turn, the pull request is open again."""
    name = "juniper-cascor"
    full, only = f"{OWNER}/{name}", ("--manifest", loop.manifest, "--repo", name)
    assert rollout("apply", *only, "--yes", "--push").code == 0
    assert rollout("pr", *only).code == 0
    [pull] = github.pulls(full)
    github.close(full, pull.number)
    git(loop.remotes / f"{name}.git", "update-ref", "-d", f"refs/heads/{BRANCH}")
    assert rollout("sync", *only).code == 0
    [row] = json.loads(rollout("status", *only, "--json").stdout)["repos"]
    commands = [c for c in row["next"].split("`") if c.startswith("rollout ")]
    assert commands and "pr --reopen" in commands[-1], row
    for command in commands:  # apply asks [y/N] when pasted in a terminal
        args = shlex.split(command)[1:]
        asks = args[0] == "apply"
        pasted = rollout_in_a_terminal(*args, answer="y") if asks else rollout(*args)
        assert pasted.code == 0, (command, pasted.stdout)
    assert github.pull(full, pull.number).state == "open"


def test_verifys_way_out_for_the_ignore_rules_works_where_the_entry_says_gitignore_false(tmp_path):
    """NEW (verify's way out, the symlink finding's neighbour): an entry with `gitignore: false` (the
    repo keeps its own .gitignore) whose rules miss `.env`: `rollout verify` fails the check (right)
    and said "fix: run `rollout plan …`, then `rollout apply …` and merge the rollout branch (fixes
    .gitignore)": followed, apply leaves that .gitignore alone (as the entry says) and the check fails
    the same. The line now names the setting; followed as it reads, the check passes."""
    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n", ".gitignore": "node_modules\n"})
    manifest = manifest_for(tmp_path, "  - name: victim\n    gitignore: false\n")
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    verify = ("verify", "--manifest", manifest, "--repo", "victim", "--ref", BRANCH)
    said = " ".join(rollout(*verify).stdout.split())
    assert "✗ victim gitignore" in said, said
    said = said.split("✗ victim gitignore", 1)[1]  # the check's line and its fix
    if "`gitignore: false`" in said:  # "… or drop that setting, then …"
        manifest.write_text(manifest.read_text().replace("    gitignore: false\n", ""))
    follow_rollout_lines(said)
    again = " ".join(rollout(*verify).stdout.split())
    assert "✗ victim gitignore" not in again, again


def test_verifys_way_out_for_a_file_stored_in_git_lfs_works_when_followed(tmp_path):
    """ON-LIST (the smaller list's LFS bullet, verify's side): a `.gitignore` (or pre-commit config,
    or `.sops.yaml`) committed as a Git LFS pointer is skipped by apply with a note (right), but `rollout verify`
    said "fix: run `rollout plan …`, then `rollout apply …` … (fixes .gitignore)": followed, apply
    skips it again and the check fails the same; for the pre-commit config "is not a mapping; fix it
    (`pre-commit validate-config`)", about a file it never read; for `.sops.yaml` "does not parse"
    with the same plan and apply. Each now says it is an LFS pointer
    and what works: the file itself committed, then plan and apply."""
    from tests.test_adversary import LFS

    repo = make_repo(
        tmp_path / "ws" / "victim",
        {"README.md": "x\n", ".gitignore": LFS, ".pre-commit-config.yaml": LFS},
    )
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    verify = ("verify", "--manifest", manifest, "--repo", "victim", "--ref", BRANCH)
    said = " ".join(rollout(*verify).stdout.split())
    assert "Git LFS pointer" in said.split("✗ victim precommit-hook", 1)[1], said
    said = said.split("✗ victim gitignore", 1)[1].split("✗ victim", 1)[0]
    if "Git LFS pointer" in said:  # "… commit the file itself, then …"
        (repo / ".gitignore").write_text("node_modules\n")
        git(repo, "commit", "-qm", "the .gitignore itself, not in LFS", "--", ".gitignore")
    follow_rollout_lines(said)
    again = " ".join(rollout(*verify).stdout.split())
    assert "✗ victim gitignore" not in again, again

    sops = make_repo(tmp_path / "ws" / "other", {"README.md": "x\n", ".sops.yaml": LFS})
    (tmp_path / "second").mkdir()
    other = manifest_for(tmp_path / "second", f"  - name: other\n    path: {sops}\n")
    said = " ".join(rollout("verify", "--manifest", other, "--repo", "other").stdout.split())
    for check in ("sops-config", "sops-rules"):
        assert "Git LFS pointer" in said.split(f"✗ other {check}", 1)[1].split("✗")[0], said


def test_verifys_way_out_for_an_env_example_stored_in_git_lfs_works_when_followed(fleet, tmp_path):
    """The same for the `.env.example` beside `.env.enc`: committed as an LFS pointer (apply skips it),
    verify said "holds HF_TOKEN, …, which .env.example does not list; fix: add them to .env.example
    …, then plan and apply": an edit of the file LFS stores leaves a pointer in git, and the check
    fails the same. It now says the file is an LFS pointer; followed, the check passes."""
    from tests.test_adversary import LFS

    repo = fleet.repo("juniper-cascor")
    main_moves_to(repo, {".env.example": LFS}, tmp_path)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes").code == 0
    verify = ("verify", *only, "--ref", BRANCH)
    said = " ".join(rollout(*verify).stdout.split())
    said = said.split("✗ juniper-cascor encrypted-files", 1)[1]
    if "Git LFS pointer" in said:  # "… commit the file itself, then …"
        main_moves_to(repo, {".env.example": "# the example, no longer in LFS\n"}, tmp_path)
    follow_rollout_lines(said)
    again = " ".join(rollout(*verify).stdout.split())
    assert "✗ juniper-cascor encrypted-files" not in again, again
