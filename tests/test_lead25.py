"""Issue 13, the lead's changes of stop 25 beside passes 21a-21g. Each test fails without its fix
(checked by undoing it)."""

from __future__ import annotations

import shutil

import pytest

from tests.demofleet import CANARY
from tests.helpers import rollout


def test_more_own_env_files_than_the_guard_reads_refuse_the_repo(tmp_path):
    """The leak guard reads at most WORKTREE_PATHS plaintext env files from a clone's folders, its own
    before installed packages', shallow ones first: 1,001 decoy `dNNNN/.env` files (a checked-out
    branch can hold them) pushed `services/api/.env.prod` past the limit, unread, and a template
    holding its token was rendered into the plan's diff (pass 21b's note, 13.6). More own files than
    the guard reads now refuse the repo in one line."""
    from juniper_rollout.gitrepo import WORKTREE_PATHS
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", "x\n")
    clone = tmp_path / "ws" / "victim"
    for i in range(WORKTREE_PATHS + 1):
        decoy = clone / f"d{i:04d}"
        decoy.mkdir()
        (decoy / ".env").write_text("X=1\n")
    env_file = clone / "services" / "api" / ".env.prod"
    env_file.parent.mkdir(parents=True)
    env_file.write_text(f"API_TOKEN=tok-{CANARY}\n")
    template = tmp_path / "tpl" / "notes.j2"
    template.unlink()
    shutil.copyfile(env_file, template)  # a copy: a hard link is refused before it is read
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert (
        f"the clone holds {WORKTREE_PATHS + 2} plaintext env files in its folders" in result.stdout
    )
    said = " ".join(result.stdout.split())
    assert "-name .git -prune -o ! -type d '(' -iname .env -o" in said, said  # pass 29c: find


@pytest.mark.parametrize("where", ["key-group", "rule"])
def test_plan_never_connects_to_a_key_service_a_rendered_sops_yaml_names(
    fleet, tmp_path, monkeypatch, where
):
    """The rule probe (`sops.rule_matches`, run with no credentials) still encrypted a test value with
    the rule's keys, so `rollout plan` reached whatever Vault (or cloud) address a rendered
    `.sops.yaml` named: no token sent, but a connection to an address anyone who writes a template
    chooses (pass 21b's note). The probe now refuses such a config before sops runs."""
    from tests.test_pass21b import plan_with_vault_in_the_rule

    result, vault, _ = plan_with_vault_in_the_rule(fleet, tmp_path, monkeypatch, where)
    assert result.code == 1, result.stdout
    assert vault.tokens == [], "plan connected to the Vault the rendered .sops.yaml names"


def test_the_only_copy_command_pasted_without_a_key_leaves_no_empty_file(fleet, tmp_path):
    """The blocked line's restore command wrote `… | sops decrypt … > .env`: the shell made `.env`
    before sops ran, so pasted where the key was missing it left an empty `.env`, which silenced the
    only-copy warning (the plaintext was "at hand") while the branch still held the only values (pass
    21d's note, 13.1). sops writes `--output` only once it has decrypted."""
    import os

    from tests.test_adversary import apply, move_main
    from tests.test_pass21a import _reviewers_commit_on_top
    from tests.test_pass21d import _commands, _pasted

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    (repo / ".env").rename(tmp_path / "moved-away.env")
    _reviewers_commit_on_top(repo, tmp_path)
    move_main(repo)
    said = " ".join(apply(fleet, "juniper-cascor").stdout.split())
    [command] = _commands(said)
    keyless = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    pasted = _pasted(command, repo, env={**keyless, "HOME": str(tmp_path)})
    assert pasted.returncode != 0, pasted.stdout
    assert not (repo / ".env").exists(), "a failed decrypt left a .env behind"
    assert "only copy of .env.enc" in " ".join(apply(fleet, "juniper-cascor").stdout.split())


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--workspace", ""],
        ["apply", "--yes", "--workspace", ""],
        ["drift", "--manifest", ""],
        ["keygen", "--key-file", ""],
        ["bootstrap", "newrepo", "--path", "", "--dry-run"],
    ],
    ids=[
        "plan-workspace",
        "apply-workspace",
        "drift-manifest",
        "keygen-key-file",
        "bootstrap-path",
    ],
)
def test_an_empty_path_option_is_refused_not_read_as_the_current_folder(fleet, args):
    """`--workspace "$WS"` with WS unset gave `Path("")`, the current folder: the workspace became the
    folder the script ran in (pass 21c's note). An empty path is a usage mistake, in one line."""
    manifest = [] if "--manifest" in args or args[0] == "keygen" else ["-m", str(fleet.manifest)]
    result = rollout(*args, *manifest)
    assert result.code == 1, result.stdout + result.stderr
    assert "is empty (an unset variable?): give a path" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
