"""Issue 13, pass 21d: a second adversarial pass over items 1-4 and the branch items of "smaller, same
standard", after pass 21a. Each test fails on the main this pass started from (checked by undoing its
fix)."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.demofleet import CANARY
from tests.fleet import BRANCH
from tests.helpers import git, rollout
from tests.test_adversary import apply, move_main
from tests.test_pass21a import _reviewers_commit_on_top


def _pasted(command: str, repo, env=None) -> subprocess.CompletedProcess:
    """``command`` as a user pastes it into bash in the clone."""
    return subprocess.run(
        ["bash", "-c", command], cwd=repo, capture_output=True, text=True, env=env
    )


def blocked_words(fleet) -> str:
    """apply of juniper-cascor, which must be blocked: its output as one line."""
    result = apply(fleet, "juniper-cascor")
    assert result.code == 1 and "juniper-cascor: blocked" in result.stdout, result.stdout
    return " ".join(result.stdout.split())


def _commands(said: str) -> list[str]:
    return re.findall(r"`((?:mkdir -p -- \S+ && )?git -C \S+ show [^`]*)`", said)


def _second_encrypt_entry(fleet) -> None:
    """juniper-cascor encrypts a `.env.prod` too (a second `encrypt:` entry)."""
    repo = fleet.repo("juniper-cascor")
    (repo / ".env.prod").write_text(f"PROD_TOKEN=prod-{CANARY}\nPROD_DSN=dsn-{CANARY}\n")
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(
        text.replace(
            "        target: .env.enc\n",
            "        target: .env.enc\n      - source: .env.prod\n        target: .env.prod.enc\n",
            1,
        )
    )


def test_a_blocked_branch_holding_two_only_ciphertexts_names_both_with_commands_that_work(
    fleet, tmp_path
):
    """13.1 after pass 21a: the branch holds `.env.enc` and `.env.prod.enc` (two `encrypt:` entries),
    both plaintexts moved away, a reviewer's commit on top, main moved: the blocked line named only
    `.env.enc` and gave its one command; following the advice (restore it, delete the branch) lost
    `.env.prod.enc`'s values. Each file is named, and each pasted command brings its values back."""
    repo = fleet.repo("juniper-cascor")
    _second_encrypt_entry(fleet)
    assert apply(fleet, "juniper-cascor").code == 0
    assert ".env.prod.enc" in git(repo, "ls-tree", "--name-only", BRANCH).split()
    moved = {}
    for name in (".env", ".env.prod"):
        moved[name] = (repo / name).read_text()
        (repo / name).rename(tmp_path / f"moved-away{name}")
    _reviewers_commit_on_top(repo, tmp_path)
    move_main(repo)
    said = blocked_words(fleet)
    assert ".env.prod.enc (main lacks it and there is no .env.prod in the clone)" in said, said
    commands = _commands(said)
    assert len(commands) == 2, said
    for command in commands:
        pasted = _pasted(command, repo)
        assert pasted.returncode == 0, pasted.stderr
    for name, text in moved.items():
        assert sorted((repo / name).read_text().splitlines()) == sorted(text.splitlines()), name
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert "only cop" not in plan.stdout  # both plaintexts are at hand again


def test_a_renamed_target_never_offers_a_command_that_writes_over_the_plaintext_in_the_clone(
    fleet, tmp_path
):
    """13.1 after pass 21a: `target: .env.enc` renamed to `config/.env.enc`, the `.env` still in the
    clone and edited since (a new name), a reviewer's commit on top: the blocked line said the branch
    "holds the only copy of .env.enc" and offered `git show …:.env.enc | sops decrypt … > .env`;
    pasted, it wrote the branch's older values over the `.env`, and the new name was gone. The
    plaintext is at hand: nothing is lost by deleting the branch, and no command is offered."""
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(text.replace("target: .env.enc", "target: config/.env.enc", 1))
    with (repo / ".env").open("a") as env:
        env.write(f"NEWER_TOKEN=newer-{CANARY}\n")
    _reviewers_commit_on_top(repo, tmp_path)
    move_main(repo)
    said = blocked_words(fleet)
    for command in _commands(said):
        _pasted(command, repo)
    assert "NEWER_TOKEN=newer-" in (repo / ".env").read_text(), said
    assert "only copy" not in said, said


def _someone_elses_ciphertext(fleet, repo, tmp_path) -> str:
    """A commit of someone else's holding a `.env.enc` of their own values, sops-encrypted to the
    fleet's public recipient (anyone can), on top of main."""
    from tests.test_adversary import tree_with

    public = next(
        line.split(": ", 1)[1]
        for line in fleet.key_file.read_text().splitlines()
        if line.startswith("# public key: ")
    )
    theirs = subprocess.run(
        [
            "sops",
            "encrypt",
            "--input-type",
            "dotenv",
            "--output-type",
            "dotenv",
            "--age",
            public,
            "/dev/stdin",
        ],
        input="HF_TOKEN=chosen-by-someone-else\n",
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    tree = tree_with(repo, "main", {".env.enc": theirs}, tmp_path)
    return git(repo, "commit-tree", "-p", "main", "-m", "theirs", tree).strip()


def test_a_tag_named_like_the_rollout_branch_never_answers_the_pasted_restore_command(
    fleet, tmp_path
):
    """13.1 after pass 21a, with a tag: someone pushes a tag named like the rollout branch (a
    contributor can; `git fetch` and `rollout sync` bring it along with the commit it names), on a
    commit holding a `.env.enc` of their own values, encrypted to the fleet's public recipient. git
    reads `NAME:PATH` as the tag's before the branch's (refs/tags/ before refs/heads/), so the blocked
    line's `git show chore/sops-age-rollout:.env.enc | sops decrypt … > .env`, pasted, wrote their
    values into `.env`, and deleting the branch as advised then lost the real ones. The commands
    name the branch in full (refs/heads/…)."""
    repo = fleet.repo("juniper-cascor")
    origin, elsewhere = tmp_path / "origin.git", tmp_path / "someone"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "push", "-q", str(origin), "main")
    git(repo, "remote", "add", "origin", str(origin))
    assert apply(fleet, "juniper-cascor").code == 0
    moved = (repo / ".env").read_text()
    (repo / ".env").rename(tmp_path / "moved-away.env")
    _reviewers_commit_on_top(repo, tmp_path)
    move_main(repo)
    # someone else's tag, on origin, fetched as any `git fetch` fetches it
    subprocess.run(["git", "clone", "-q", str(origin), str(elsewhere)], check=True)
    theirs = _someone_elses_ciphertext(fleet, elsewhere, tmp_path)
    git(elsewhere, "push", "-q", "origin", f"{theirs}:refs/heads/their-work")
    git(elsewhere, "push", "-q", "origin", f"{theirs}:refs/tags/{BRANCH}")
    git(repo, "fetch", "-q", "origin")
    assert git(repo, "rev-parse", f"refs/tags/{BRANCH}").strip() == theirs
    said = blocked_words(fleet)
    [command] = _commands(said)
    pasted = _pasted(command, repo)
    assert pasted.returncode == 0, pasted.stderr
    restored = (repo / ".env").read_text()
    assert "chosen-by-someone-else" not in restored, command
    assert sorted(restored.splitlines()) == sorted(moved.splitlines())


@pytest.mark.parametrize("folder", ["deploy", "-deploy"])
def test_a_held_yaml_ciphertext_is_offered_a_command_that_brings_it_back_as_yaml(
    fleet, tmp_path, folder
):
    """13.1 after pass 21a, another sops format: a reviewer's commit on the rollout branch adds
    `deploy/secrets.yaml.enc` (sops YAML, nested), main lacks it; main moves: blocked, "it holds the
    only copy of deploy/secrets.yaml.enc", with `… --input-type yaml --output-type dotenv …`, which
    pasted failed ("cannot use complex value in dotenv file") and left an empty file (and where the
    clone has no `deploy/` folder, `> deploy/secrets.yaml` failed first). A file no `encrypt:` entry
    names comes back in its own format, its folder made (`mkdir -p -- …`: a folder named `-deploy` was
    read as an option)."""
    from tests.test_adversary import tree_with

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    public = next(
        line.split(": ", 1)[1]
        for line in fleet.key_file.read_text().splitlines()
        if line.startswith("# public key: ")
    )
    plain = f"db:\n    password: pw-{CANARY}\n    port: 5432\n"
    encrypted = subprocess.run(
        [
            "sops",
            "encrypt",
            "--input-type",
            "yaml",
            "--output-type",
            "yaml",
            "--age",
            public,
            "/dev/stdin",
        ],
        input=plain,
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    tree = tree_with(repo, BRANCH, {f"{folder}/secrets.yaml.enc": encrypted}, tmp_path)
    commit = git(repo, "commit-tree", "-p", BRANCH, "-m", "review: deploy secrets", tree).strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", commit)
    move_main(repo)
    said = blocked_words(fleet)
    assert f"only copy of {folder}/secrets.yaml.enc" in said, said
    [command] = _commands(said)
    pasted = _pasted(command, repo)
    assert pasted.returncode == 0, (command, pasted.stderr)
    import yaml

    assert yaml.safe_load((repo / folder / "secrets.yaml").read_text()) == yaml.safe_load(plain)


def test_cleanup_never_deletes_the_only_copy_of_a_ciphertext_even_with_force(
    loop, github, tmp_path
):
    """13.1 by another command: apply --push (no pull request yet), the `.env` moved away (it is
    encrypted now): `rollout cleanup` said "kept no pull request; --force deletes the branch anyway",
    and `cleanup --force` deleted the branch here and on origin: the next plan said ".env.enc skip (no
    .env in the clone to encrypt)", the values gone. cleanup keeps it, even with --force, and says how
    to bring the values back; with them back, --force deletes it."""
    repo = loop.repo("juniper-cascor")
    only = ("-m", loop.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes", "--push").code == 0
    moved = (repo / ".env").read_text()
    (repo / ".env").rename(tmp_path / "moved-away.env")
    tip = git(repo, "rev-parse", BRANCH).strip()
    for force in ((), ("--force",)):
        kept = rollout("cleanup", *only, *force)
        said = " ".join(kept.stdout.split())
        assert "juniper-cascor: kept" in said and "holds the only copy of .env.enc" in said, said
        assert git(repo, "rev-parse", BRANCH).strip() == tip
        assert git(repo, "rev-parse", f"refs/remotes/origin/{BRANCH}").strip() == tip
    [command] = _commands(said)
    assert _pasted(command, repo).returncode == 0
    assert sorted((repo / ".env").read_text().splitlines()) == sorted(moved.splitlines())
    forced = rollout("cleanup", *only, "--force")
    assert "juniper-cascor: deleted" in forced.stdout, forced.stdout
