"""Issue 13, pass 23a: a second adversarial pass over items 1-4 and the branch items of "smaller, same
standard", on what passes 22a and 22d added (the only-copy check of `cleanup --force` and the
`blocked` lines). Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.demofleet import CANARY
from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_adversary import tree_with
from tests.test_pass21d import _commands, _pasted
from tests.test_pass21e import _age_recipient


def _sops(fleet, fmt_in: str, fmt_out: str, data: bytes, tmp_path) -> str:
    """``data`` encrypted by sops (``fmt_in`` → ``fmt_out``) to the fleet's public recipient."""
    return subprocess.run(
        ["sops", "--config", os.devnull, "encrypt", "--input-type", fmt_in]
        + ["--output-type", fmt_out, "--age", _age_recipient(fleet), "/dev/stdin"],
        input=data,
        capture_output=True,
        check=True,
        cwd=tmp_path,
    ).stdout.decode()


def _reviewers_files_pushed(repo, files: dict[str, str], tmp_path) -> str:
    """A reviewer's commit adding ``files`` on top of the rollout branch, pushed to origin's: its id."""
    tree = tree_with(repo, BRANCH, files, tmp_path)
    commit = git(repo, "commit-tree", "-p", BRANCH, "-m", "review: secrets", tree).strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", commit)
    git(repo, "push", "-q", "origin", BRANCH)
    return commit


def _kept_by_cleanup_force(repo, only, path: str) -> str:
    """`rollout cleanup --force`, which must keep the branch (here and on origin) for ``path``."""
    tip = git(repo, "rev-parse", BRANCH).strip()
    said = " ".join(rollout("cleanup", *only, "--force").stdout.split())
    assert "juniper-cascor: kept" in said and f"only copy of {path}" in said, said
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    assert git(repo, "ls-remote", "origin", BRANCH).strip()
    return said


@pytest.mark.usefixtures("loopback_only")
@pytest.mark.parametrize("name", ["deploy/secrets.sops.yaml", "deploy/secrets.enc.yaml"])
def test_cleanup_force_keeps_the_only_copy_of_a_sops_file_not_named_enc(
    loop, github, tmp_path, name
):
    """13.1 by `cleanup --force` after pass 22d (ON-LIST, another spelling): apply --push, then a
    reviewer's commit on the rollout branch adding a sops YAML file under sops' own naming
    (`secrets.sops.yaml`, `secrets.enc.yaml`), pushed to the PR branch; no PR merged. The only-copy
    check looked at `*.enc` files alone: `cleanup --force` deleted the branch here and on origin, the
    only copy of those values with it. It is kept, and the pasted command brings the values back into
    a file of their own (never the ciphertext's name)."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    values = f"db:\n    password: theirs-{CANARY}\n"
    _reviewers_files_pushed(
        repo, {name: _sops(loop, "yaml", "yaml", values.encode(), tmp_path)}, tmp_path
    )
    said = _kept_by_cleanup_force(repo, only, name)
    [command] = _commands(said)
    assert "--input-type yaml --output-type yaml" in command, command
    assert _pasted(command, repo).returncode == 0, command
    assert (repo / f"{name}.plain").read_text() == values
    assert not (repo / name).exists()  # the ciphertext's own name is never written
    assert "juniper-cascor: deleted" in rollout("cleanup", *only, "--force").stdout


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_force_keeps_the_only_copy_of_a_sops_file_larger_than_the_tool_reads(
    loop, github, tmp_path
):
    """13.1 by `cleanup --force` after pass 22a (ON-LIST, a large ciphertext): apply --push, then a
    reviewer's commit adding `assets/model.bin.enc`, an 18 MB file sops encrypted in its binary
    format (a model or data set kept encrypted), pushed to the PR branch. Pass 22a passed every file
    larger than the tool reads over as "no ciphertext the tool wrote": `cleanup --force` deleted the
    branch here and on origin, the only copy of it. The file's end shows sops' metadata: kept."""
    large_sops_file_kept_by_cleanup_force(loop, tmp_path, "assets/model.bin.enc")


def large_sops_file_kept_by_cleanup_force(loop, tmp_path: Path, name: str) -> None:
    """apply --push, a reviewer's commit adding ``name`` (13 MB sops encrypted in its binary format:
    over 16 MB of JSON) pushed; `cleanup --force` keeps the branch."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    large = _sops(loop, "binary", "json", os.urandom(13 << 20), tmp_path)
    assert len(large) > 16 << 20
    _reviewers_files_pushed(repo, {name: large}, tmp_path)
    _kept_by_cleanup_force(repo, only, name)


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_force_keeps_a_sops_yaml_file_whose_name_sake_in_the_clone_holds_other_data(
    loop, github, tmp_path
):
    """13.1 by `cleanup --force` after pass 22d (ON-LIST, 22a's rule for a file no `encrypt:` entry
    names): apply --push, then a reviewer's commit adding `config/secrets.yaml.enc` (sops YAML, the
    fleet's recipient), pushed to the PR branch, while the clone holds a `config/secrets.yaml` of its
    own (a placeholder). Any non-empty file of that name stood for the plaintext at hand, and
    `cleanup --force` deleted the branch here and on origin, the only copy of those values with it.
    With a key that opens it, the data is compared: kept, and the command writes a file of its own;
    once the file holds that data, cleanup deletes the branch."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    values = f"db:\n    password: theirs-{CANARY}\n"
    encrypted = _sops(loop, "yaml", "yaml", values.encode(), tmp_path)
    _reviewers_files_pushed(repo, {"config/secrets.yaml.enc": encrypted}, tmp_path)
    (repo / "config").mkdir(exist_ok=True)
    placeholder = "# fill in from the vault\ndb:\n    password: changeme\n"
    (repo / "config" / "secrets.yaml").write_text(placeholder)
    said = _kept_by_cleanup_force(repo, only, "config/secrets.yaml.enc")
    assert "holds other data" in said, said
    [command] = _commands(said)
    assert _pasted(command, repo).returncode == 0, command
    assert (repo / "config" / "secrets.yaml").read_text() == placeholder  # never written over
    restored = (repo / "config" / "secrets.yaml.enc.plain").read_text()
    assert restored == values
    (repo / "config" / "secrets.yaml").write_text(f"# from the branch\n{restored}")
    assert "juniper-cascor: deleted" in rollout("cleanup", *only, "--force").stdout


def _squash_merge(github, repo, full: str, number: int) -> None:
    """Merge PR ``number`` the way GitHub's "Squash and merge" does: one new commit on the base with
    the head's tree; the branch's own commits are on no ref of origin but the branch."""
    from tests.fake_github import NOW

    pull = github.pull(full, number)
    bare = github.repo(full).bare
    head = github.repo(full).sha(pull.head_ref)

    def bare_git(*args: str) -> str:
        return subprocess.run(
            ["git", "--git-dir", str(bare), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    squash = bare_git("commit-tree", "-p", "refs/heads/main", "-m", "squashed", f"{head}^{{tree}}")
    bare_git("update-ref", "refs/heads/main", squash)
    pull.head_sha, pull.state, pull.merged_at, pull.closed_at = head, "closed", NOW, NOW
    git(repo, "fetch", "-q", "origin")


@pytest.mark.usefixtures("loopback_only")
def test_cleanup_force_after_a_squash_merge_keeps_a_value_the_branch_went_back_to(
    loop, github, tmp_path
):
    """13.1 by `cleanup --force` after pass 21e (ON-LIST, another merge): apply --push (V1), a value
    rotated and applied again (V2, a commit on top), the PR squash-merged (main holds V2 alone), then a
    reviewer's revert on the branch taking `.env.enc` back to V1 (V2 broke something), pushed; the
    `.env` moved away. cleanup compared with the merged head and took V1 for "on the base" because the
    merged head's history holds it: but a squash merge brings none of that history to main, so
    `cleanup --force` deleted the only copy of V1 here and on origin. Kept now: what the base's own
    history holds is what is safe."""
    from tests.test_review import OWNER

    full = f"{OWNER}/juniper-cascor"
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push", "--pr").code == 0
    first = git(repo, "rev-parse", BRANCH).strip()
    env = (repo / ".env").read_text()
    name = env.splitlines()[0].split("=", 1)[0]
    (repo / ".env").write_text(env.replace(f"{name}=", f"{name}=rotated-{CANARY}-", 1))
    assert "juniper-cascor: updated" in rollout("apply", *only, "--yes", "--push").stdout
    _squash_merge(github, repo, full, github.pulls(full)[0].number)
    revert = git(
        repo, "commit-tree", "-p", BRANCH, "-m", "Revert the rotation", f"{first}^{{tree}}"
    ).strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", revert)
    git(repo, "push", "-q", "origin", BRANCH)
    (repo / ".env").rename(tmp_path / "moved-away.env")
    said = _kept_by_cleanup_force(repo, only, ".env.enc")
    [command] = _commands(said)
    assert _pasted(command, repo).returncode == 0, command
    assert sorted((repo / ".env").read_text().splitlines()) == sorted(env.splitlines())


@pytest.mark.parametrize("where", ["here", "on origin only", "its target renamed too"])
def test_a_renamed_branch_never_leaves_the_only_copy_behind_on_the_old_one(fleet, tmp_path, where):
    """13.1 by a manifest change (ON-LIST, "the rebuilt commit has no .env.enc"): apply (the branch
    holds `.env.enc`), the `.env` moved away, then the manifest's `branch:` renamed
    (`chore/sops-age-rollout` → `chore/secrets`). apply created the new branch without `.env.enc`
    ("skip (no .env in the clone to encrypt)") and `.env.example` without its names: merged, the
    rollout lands without the values, and the old branch, which no command of the tool names any
    more, holds their only copy (here, or on origin only: another machine's clone). plan and apply now
    refuse that repo in one line naming the old branch, with the command that brings `.env` back;
    nothing is written."""
    from tests.test_adversary import apply

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    moved = (repo / ".env").read_text()
    (repo / ".env").rename(tmp_path / "moved-away.env")
    old = BRANCH
    if where == "on origin only":
        tip = git(repo, "rev-parse", BRANCH).strip()
        git(repo, "update-ref", f"refs/remotes/origin/{BRANCH}", tip)
        git(
            repo, "update-ref", f"refs/juniper-rollout/pushed/{BRANCH}", tip
        )  # this clone pushed it
        git(repo, "branch", "-D", BRANCH)
        old = f"origin/{BRANCH}"
    words = "would be left behind" if where == "its target renamed too" else "holds .env.enc"
    renamed_branch_refused(fleet, old, words, moved, target_too=where == "its target renamed too")
    created = apply(fleet, "juniper-cascor")
    assert created.code == 0 and "juniper-cascor: created" in created.stdout, created.stdout
    target = "config/.env.enc" if where == "its target renamed too" else ".env.enc"
    assert target in git(repo, "ls-tree", "-r", "--name-only", "chore/secrets").split()


def renamed_branch_refused(fleet, old: str, words: str, moved: str, *, target_too=False) -> None:
    """`branch:` renamed in the manifest (and the `encrypt:` target with ``target_too``): plan says
    ``old`` is left behind (``words``), apply refuses the repo and writes nothing, and the command it
    names brings the ``moved`` values back into `.env`."""
    from tests.test_adversary import apply

    repo = fleet.repo("juniper-cascor")
    text = fleet.manifest.read_text()
    assert "  branch: chore/sops-age-rollout\n" in text
    text = text.replace("  branch: chore/sops-age-rollout\n", "  branch: chore/secrets\n", 1)
    if target_too:
        assert "target: .env.enc" in text
        text = text.replace("target: .env.enc", "target: config/.env.enc", 1)
    fleet.manifest.write_text(text)
    planned = " ".join(
        rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor").stdout.split()
    )
    assert f" {old} (this rollout's commits: was `branch:` renamed?) {words}" in planned, planned
    result = apply(fleet, "juniper-cascor")
    said = " ".join(result.stdout.split())
    assert result.code == 1 and "juniper-cascor: failed" in said, said
    assert not git(repo, "branch", "--list", "chore/secrets").strip()  # nothing written
    [command] = _commands(said)
    assert _pasted(command, repo).returncode == 0, command
    assert sorted((repo / ".env").read_text().splitlines()) == sorted(moved.splitlines())
