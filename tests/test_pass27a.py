"""Issue 13, pass 27a: a verification pass over items 1-4 and the smaller list's first four bullets
(deleted remote branch, LFS pointer, SHA-256, `.git` paths and `branch: HEAD`) on the code after
session 30. Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import os

import pytest

from tests.demofleet import make_repo
from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_hostile import manifest_for


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
