"""Issue 13, pass 28a: session 32's verification round over items 1-4 and the smaller list's first four
bullets, session 31's code for them first. Each test fails on the main before its fix."""

from __future__ import annotations

import re

import pytest

from tests.fleet import BRANCH
from tests.helpers import CANARY, encrypted_by_hand, git, rollout
from tests.pasting import git_commands, paste
from tests.test_adversary import apply
from tests.test_pass16b import LFS_LINE
from tests.test_pass27a import follow_rollout_lines, linked_repo, nested_target
from tests.test_pass27d import _names_on_branch

CASCOR = "juniper-cascor"


@pytest.mark.parametrize(
    "name",
    ["stripe.webhookSecret", "spring.datasource.driverClassName", "stripe.apiURL", "2FA-secret"],
)
def test_a_teammates_camel_case_name_is_never_dropped_with_its_value(fleet, name):
    """ON-LIST (13.1: a value dropped on re-apply; pass 27d's fix missed these spellings). A
    teammate's value under a dotted or dashed name with a camelCase or acronym part (Spring's
    `spring.datasource.driverClassName`, a YAML key `stripe.webhookSecret`), which node's dotenv and
    a YAML `.env.enc` read as a variable, was taken for a token of pieces: plan said "drops 1 name
    shaped like a credential … rotate that credential", and apply wrote the branch without the
    value. Now it stops the repo as pass 27d's worded names do, until `.env` holds the value."""
    worded_value_kept(fleet, name, f"whsec_{CANARY}-camel", "STRIPE_SECRET")


@pytest.mark.parametrize(("folder", "origin"), [("", False), ("config/", False), ("", True)])
def test_the_lfs_line_followed_in_the_clone_as_it_reads_works(fleet, tmp_path, folder, origin):
    """ON-LIST (the smaller list's LFS bullet, pass 16b's and 27a's way out): an encrypt target git
    would store through LFS is refused with "stop tracking it with LFS (a line `/.env.enc !filter …`
    at the end of the top .gitattributes), then try again". Followed as it reads, in the clone (the
    line added to that file), and tried again: refused the same, every time, as the tool reads the
    commit it builds on. The line now says where it must be committed; followed, the repo applies."""
    repo, only = nested_target(fleet) if folder else (fleet.repo(CASCOR), ("--repo", CASCOR))
    only = ("--manifest", fleet.manifest, *only[-2:])
    (repo / folder).mkdir(exist_ok=True)
    (repo / folder / ".gitattributes").write_text(f"*.enc {LFS_LINE}\n")
    git(repo, "add", f"{folder}.gitattributes")
    git(repo, "commit", "-qm", "LFS for *.enc")
    if origin:  # the tool builds on origin's main when the clone has it
        git(repo, "init", "-q", "--bare", str(tmp_path / "origin.git"))
        git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
        git(repo, "push", "-q", "origin", "main")
        git(repo, "fetch", "-q", "origin")
    said = " ".join(rollout("plan", *only).stdout.split())
    line, where, told = re.search(
        r"`(/[^`]*!filter[^`]*)` at the end of (the top \.gitattributes|\S+)(.*)", said
    ).groups()
    file = repo / (".gitattributes" if where == "the top .gitattributes" else where)
    file.write_text(file.read_text() + f"{line}\n")  # where it says, in the clone
    commit = re.match(
        r"(?: \(make it if there is none\))?, committed on (\S+?)( and pushed to origin)?\)", told
    )
    if commit:  # and where it says that line must be committed
        assert git(repo, "symbolic-ref", "--short", "HEAD").strip() == commit.group(1)
        git(repo, "commit", "-qam", "stop tracking the encrypted file with LFS")
    if commit and commit.group(2):
        git(repo, "push", "-q", "origin", "main")
    applied = rollout("apply", *only, "--yes")
    assert applied.code == 0, said + applied.stdout
    assert "sops_mac=" in git(repo, "show", f"{BRANCH}:{folder}.env.enc")


@pytest.mark.parametrize("where", ["the clone", "a linked worktree"])
@pytest.mark.parametrize("orphan", ["switch --orphan", "checkout --orphan"])
def test_a_branch_not_made_yet_but_checked_out_has_a_way_out_that_works(
    fleet, tmp_path, where, orphan
):
    """ON-LIST (13.3's way out): HEAD on the rollout branch before it has a commit (`git switch
    --orphan chore/sops-age-rollout`, in the clone or a linked worktree). apply is blocked (right:
    git 2.39 would let the branch be made under that HEAD) with "switch that worktree off the branch
    (`git -C … switch --detach`)", which failed pasted: "fatal: You are on a branch yet to be
    born". The line now detaches it at the commit the tool builds on; pasted from another folder, it
    works, and apply then writes the branch."""
    repo = fleet.repo(CASCOR)
    top = repo
    if where == "a linked worktree":
        top = tmp_path / "review wt"
        git(repo, "worktree", "add", "-q", "--detach", str(top), "main")
    git(top, *orphan.split(), BRANCH)
    applied = rollout("apply", "--manifest", fleet.manifest, "--repo", CASCOR, "--yes")
    said = " ".join(applied.stdout.split())
    assert applied.code != 0 and "blocked" in said and f"is checked out in {top}" in said, said
    [command] = git_commands(said)
    pasted = paste(command, tmp_path)
    assert pasted.returncode == 0, (command, pasted.stderr)
    assert git(top, "rev-parse", "HEAD").strip() == git(repo, "rev-parse", "main").strip()
    applied = rollout("apply", "--manifest", fleet.manifest, "--repo", CASCOR, "--yes")
    assert applied.code == 0 and "created" in applied.stdout, applied.stdout


@pytest.mark.parametrize("origin", [False, True])
def test_a_sops_config_stored_in_git_lfs_is_named_as_such_with_a_way_out_that_works(
    fleet, tmp_path, origin
):
    """ON-LIST (the smaller list's LFS bullet, plan's side of pass 27a's F5): `.sops.yaml` committed
    as a Git LFS pointer (`.sops.yaml filter=lfs` in .gitattributes). The plan skipped writing it
    (right) but handed the pointer to sops as the config: the repo was refused with ".sops.yaml is
    invalid (… cannot unmarshal !!str `version…`): fix it", a file valid in every checkout git-lfs
    smudges. The refusal names the pointer; followed (the LFS line dropped, the file itself
    committed), the repo applies."""
    repo = fleet.repo(CASCOR)
    real = "creation_rules:\n  - path_regex: '(^|/)\\.env(\\.enc)?$'\n    age: age1x\n"
    pointer = (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{'a' * 64}\nsize {len(real)}\n"
    )
    (repo / ".sops.yaml").write_text(pointer)
    (repo / ".gitattributes").write_text(".sops.yaml filter=lfs diff=lfs merge=lfs -text\n")
    git(repo, "add", ".sops.yaml", ".gitattributes")
    git(repo, "commit", "-qm", "the sops config in LFS")
    if origin:  # the tool builds on origin's main when the clone has it
        git(repo, "init", "-q", "--bare", str(tmp_path / "origin.git"))
        git(repo, "remote", "add", "origin", str(tmp_path / "origin.git"))
        git(repo, "push", "-q", "origin", "main")
        git(repo, "fetch", "-q", "origin")
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join(plan.stdout.split())
    assert plan.code == 1 and "/.sops.yaml " not in said, said
    assert re.search(r"\.sops\.yaml at (origin/)?main is a Git LFS pointer", said), said
    (repo / ".gitattributes").write_text("")  # stop tracking it with LFS
    (repo / ".sops.yaml").write_text(real)  # the file itself, as git-lfs would have smudged it
    git(repo, "commit", "-qam", "the sops config out of LFS")
    if "push it to origin" in said:  # as the words say
        git(repo, "push", "-q", "origin", "main")
    assert apply(fleet, CASCOR).code == 0
    assert "sops_mac=" in git(repo, "show", f"{BRANCH}:.env.enc")


def test_verifys_way_out_for_a_symlinked_gitignore_works_when_followed(tmp_path):
    """NEW (pass 27a's F1 and F4 together): `.gitignore` a symlink to `ci/gitignore`, with
    `gitignore: false` (the repo keeps its own, which 27a's F1 let it do). git never reads a
    symlinked .gitignore (2.32+), so `.env` is not ignored, and verify fails the check (right) with
    "add lines that do it to .gitignore yourself …, or drop that setting": followed, the lines went
    through the link into `ci/gitignore` and the check failed the same; the setting dropped, plan
    refused the symlink and named `gitignore: false` again. The check now names the link, and its
    way out, followed, passes."""
    repo, manifest = linked_repo(tmp_path, ".gitignore", "ci/gitignore", "    gitignore: false\n")
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    verify = ("verify", "--manifest", manifest, "--repo", "victim", "--ref", BRANCH)
    said = " ".join(rollout(*verify).stdout.split()).split("✗ victim gitignore", 1)[1]
    kept = ("example", "sample", "template", "dist", "defaults", "tmpl", "tpl", "enc")
    lines = ".env\n.env.*\n*.env\n" + "".join(f"!.env.{k}\n!.env.*.{k}\n" for k in kept)
    if "replace the link with a regular file" in said:
        (repo / ".gitignore").unlink()
        (repo / ".gitignore").write_text((repo / "ci" / "gitignore").read_text() + lines)
    else:  # "add lines that do it to .gitignore yourself"
        with (repo / ".gitignore").open("a") as ignore:
            ignore.write(lines)
    git(repo, "add", "-A", ".gitignore", "ci")
    git(repo, "commit", "-qm", "ignore the env files")
    follow_rollout_lines(said.split("✗", 1)[0])
    again = " ".join(rollout(*verify).stdout.split())
    assert "✗ victim gitignore" not in again, again


@pytest.mark.parametrize("written", ['"{}"', "'{}'", '"{}"  # the database'])
def test_a_worded_value_added_to_env_quoted_is_carried(fleet, written):
    """ON-LIST (13.1, a false refusal in pass 27d's fix): a teammate's `db-password=p@ss word`
    on main, which `.env` cannot hold under that name. The refusal asks to "add its value to .env
    under a variable name"; added quoted, as `.env` files write a value with a blank
    (`DB_PASSWORD="p@ss word"`, the value python-dotenv gives the app), it was refused again, every
    time, as only the text after `=` was compared. Now the value as the app reads it counts too; a
    different value is still refused."""
    repo = fleet.repo(CASCOR)
    env = (repo / ".env").read_text()
    value = f"p@ss word {CANARY}"
    encrypted_by_hand(fleet, repo, (env + f"db-password={value}\n").encode())
    (repo / ".env").write_text(env + f"DB_PASSWORD={written.format(value + 'x')}\n")
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    assert plan.code == 1 and "holds 1 name that .env cannot hold" in plan.stdout, plan.stdout
    (repo / ".env").write_text(env + f"DB_PASSWORD={written.format(value)}\n")
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    assert plan.code == 0, plan.stdout
    assert apply(fleet, CASCOR).code == 0
    names = _names_on_branch(repo)
    assert "DB_PASSWORD" in names and "db-password" not in names, names


def test_a_branch_ciphertext_kept_on_a_moved_base_with_a_token_name_is_refused(fleet, monkeypatch):
    """Lead 31's refusal of a kept-as-is `.env.enc` holding a name shaped like a credential, on the
    path it missed: main holds a `.env.enc`; the rollout branch's later one holds a Mollie key as a
    name (a tool from before its shape, emulated); `.env` moved away; main moves (not its
    `.env.enc`). plan said nothing and apply rebuilt the branch on main with that name, a new commit
    holding it (refused only by the next plan, once the branch sat on main again). Now the first plan
    refuses it with the restore line, and apply writes nothing."""
    from tests.test_lead31 import MOLLIE, _applied_by_an_older_tool

    repo = fleet.repo(CASCOR)
    clean = (repo / ".env").read_text()
    encrypted_by_hand(fleet, repo, clean.encode())
    _applied_by_an_older_tool(fleet, monkeypatch, clean)
    tip = git(repo, "rev-parse", BRANCH).strip()
    (repo / ".env").unlink()
    (repo / "NOTES.md").write_text("main moves\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-qm", "main moves")
    said = " ".join(rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR).stdout.split())
    assert "on chore/sops-age-rollout holds 1 name shaped like a credential" in said, said
    assert MOLLIE not in said and len(git_commands(said)) == 1, said
    assert apply(fleet, CASCOR).code != 0
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    [command] = git_commands(said)
    assert paste(command, fleet.root.parent).returncode == 0
    written = (repo / ".env").read_text()
    (repo / ".env").write_text(
        "".join(ln for ln in written.splitlines(keepends=True) if not ln.startswith(MOLLIE))
    )
    assert apply(fleet, CASCOR).code == 0
    assert MOLLIE not in _names_on_branch(repo)


def worded_value_kept(fleet, name: str, value: str, variable: str) -> None:
    """A teammate's ``value`` under the worded ``name`` in main's `.env.enc` (plain sops, `.env`
    lacking it) stops cascor's plan, neither shown; the printed command shows it; once `.env` holds it
    under ``variable``, apply carries it there and ``name`` is gone from the branch."""
    repo = fleet.repo(CASCOR)
    env = (repo / ".env").read_text()
    encrypted_by_hand(fleet, repo, (env + f"{name}={value}\n").encode())
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", CASCOR)
    said = " ".join((plan.stdout + plan.stderr).split())
    assert plan.code == 1 and "holds 1 name that .env cannot hold" in said, said
    assert name not in said and CANARY not in said, said
    [command] = git_commands(said)
    printed = paste(command, fleet.root.parent)
    assert printed.returncode == 0 and f"{name}={value}" in printed.stdout, printed.stderr
    (repo / ".env").write_text(env + f"{variable}={value}\n")
    assert apply(fleet, CASCOR).code == 0
    names = _names_on_branch(repo)
    assert variable in names and name not in names, names
