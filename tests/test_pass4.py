"""Pass 4 of the outside adversary (issue 13): each test failed on main before its fix.

The attempts, held and broken, are logged in the pass-4 log; SECURITY.md lists each guarantee.
"""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys

import pytest

from tests.helpers import git, rollout
from tests.test_adversary import apply, run_cli
from tests.test_hostile import KEY
from tests.test_pass3 import (
    BRANCH,
    commit_on,
    main_moves_to,
    signal_the_group_mid_apply,
    templates_manifest,
)

# --- a branch's .sops.yaml never makes sops use the user's credentials ------------------------------


def _contrib_sops_yaml(fleet, tmp_path, rewrite) -> None:
    """refs/heads/contrib: the rollout branch with its .sops.yaml passed through ``rewrite(config,
    age_line, recipients)``."""
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    config = git(repo, "show", f"{BRANCH}:.sops.yaml")
    found = re.search(r"\n    age: '([^']+)'", config)
    assert found
    evil = rewrite(config, found.group(0), found.group(1))
    assert evil != config
    git(
        repo,
        "update-ref",
        "refs/heads/contrib",
        commit_on(repo, BRANCH, {".sops.yaml": evil}, tmp_path),
    )


@pytest.mark.parametrize("shape", ["merged into an age group", "merged beside an age group"])
def test_a_vault_in_a_merge_key_group_is_refused_before_sops(
    fleet, tmp_path, vault, monkeypatch, shape
):
    """sops 3.11 merges a key group's ``merge:`` list into it; the check looked at a group's own keys
    only, so verify's rules check ran sops with the branch's Vault and the user's token."""
    address, seen = vault
    uri = f"'{address}/v1/transit/keys/x'"
    if shape == "merged into an age group":
        groups = (
            "\n    key_groups:\n      - age: [{r}]\n        merge:\n          - hc_vault: [{u}]"
        )
    else:
        groups = (
            "\n    key_groups:\n      - merge:\n          - age: [{r}]\n          - hc_vault: [{u}]"
        )
    _contrib_sops_yaml(
        fleet, tmp_path, lambda c, line, r: c.replace(line, groups.format(r=r, u=uri), 1)
    )
    monkeypatch.setenv("VAULT_TOKEN", "hvs.users-own-vault-token")
    result = rollout(
        "verify", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--ref", "contrib"
    )
    assert result.code == 1
    assert seen == [], "sops sent the user's Vault token to the address the branch chose"
    assert "names hc_vault besides age" in result.stdout


def test_a_huaweicloud_kms_key_is_refused_before_sops(fleet, tmp_path, monkeypatch):
    """``hckms`` (HuaweiCloud KMS, sops 3.11) was in none of the tool's lists: sops ran with the
    branch's rule and reached out to the region's IAM endpoint with the user's AK/SK."""
    _contrib_sops_yaml(
        fleet,
        tmp_path,
        lambda c, line, r: c.replace(
            line, f"{line}\n    hckms: ['tr-west-1:11111111-2222-3333-4444-555555555555']", 1
        ),
    )
    monkeypatch.setenv("HUAWEICLOUD_SDK_AK", "users-own-access-key")
    result = rollout(
        "verify", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--ref", "contrib"
    )
    assert result.code == 1
    assert "names hckms besides age" in result.stdout
    assert "myhuaweicloud" not in result.stdout  # sops never ran: it would name the endpoint


@pytest.mark.parametrize(
    "text, others",
    [
        (
            "key_groups:\n      - age: [a]\n        merge:\n          - hc_vault: [h]\n",
            ["hc_vault"],
        ),
        (
            "key_groups:\n      - merge:\n          - age: [a]\n          - merge: [{kms: [k]}]\n",
            ["kms"],
        ),
        ("key_groups:\n      - merge:\n          - age: [a]\n", []),
        ("hckms: ['r:k']\n", ["hckms"]),
        ("key_groups:\n      - hckms: ['r:k']\n", ["hckms"]),
        (
            "key_groups: [" + "{merge: [" * 40 + "{age: [a]}" + "]}" * 40 + "]\n",
            ["merge (nested too deep to read)"],
        ),
    ],
)
def test_master_keys_besides_age_inside_merge_groups_and_hckms(text, others):
    from juniper_rollout import sopsmeta

    assert (
        sopsmeta.config_other_keys(f"creation_rules:\n  - path_regex: '.*'\n    {text}") == others
    )


def test_an_env_enc_naming_a_huaweicloud_kms_key_never_reaches_sops():
    """A committed .enc naming an ``hckms`` master key: sops would try it with the user's credentials."""
    from juniper_rollout import sops, sopsmeta

    blob = (
        b"A=ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]\n"
        b"sops_hckms__list_0__map_key_id=tr-west-1:11111111-2222-3333-4444-555555555555\n"
        b"sops_hckms__list_0__map_enc=AAAA\n"
        b"sops_hckms__list_0__map_created_at=2026-12-01T17:49:33Z\n"
        b"sops_lastmodified=2026-12-01T17:49:33Z\n"
        b"sops_mac=ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]\n"
        b"sops_unencrypted_suffix=_unencrypted\n"
        b"sops_version=3.11.0\n"
    )
    meta = sopsmeta.read_metadata(blob)
    assert meta is not None and meta.others == ("hckms",)
    with pytest.raises(sops.SopsError, match="names hckms master keys besides age"):
        sops.check_age_only(blob, ".env.enc")


def test_the_rules_probe_runs_sops_without_any_credential(vault, monkeypatch):
    """Defence in depth: whatever key type a ref's .sops.yaml names (a new one the lists miss), the
    probe's sops has no credential to send: no VAULT_TOKEN, cloud variable or HOME of the user."""
    from juniper_rollout import sops

    address, seen = vault
    monkeypatch.setenv("VAULT_TOKEN", "hvs.users-own-vault-token")
    config = (
        "creation_rules:\n  - path_regex: '.*'\n"
        f"    hc_vault_transit_uri: '{address}/v1/transit/keys/x'\n"
    )
    with pytest.raises(sops.SopsError):
        sops.rule_matches(config, ".env")
    assert not any("hvs.users-own-vault-token" in s for s in seen), seen


# --- the tool never writes a file it then refuses to read ------------------------------------------


def test_a_rendering_larger_than_the_tool_reads_back_is_refused_before_anything_is_written(
    tmp_path,
):
    """5,000,000 characters were allowed, counted as characters; 18 MB of emoji were committed, and
    every later plan and drift of that repo failed: "the tool reads files up to 16 MB"."""
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "big.j2").write_text(
        "{% for i in range(5) %}{{ '\U0001f600' * 999999 }}{% endfor %}", encoding="utf-8"
    )
    manifest = templates_manifest(tmp_path, "tpl", "big.j2")
    victim = tmp_path / "ws" / "victim"
    before = git(victim, "for-each-ref")
    for command in ("plan", "apply"):
        result = run_cli(
            command, "--manifest", manifest, *(["--yes"] if command == "apply" else [])
        )
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert "more than 16 MB of output in UTF-8" in result.stderr, result.stderr
    assert git(victim, "for-each-ref") == before  # no branch written


# --- item 4: a replaced tool commit is not the tool's ------------------------------------------------


def test_a_tool_commit_that_git_replace_stands_in_for_is_not_rebuilt_over(fleet, tmp_path):
    """``git replace X Y`` (Y: the tool's commit X amended with a reviewer's file): git log, show and
    checkout of the branch show Y, but the object reader saw X, took it for the tool's own and
    rebuilt the branch without the reviewer's file when main moved."""
    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    tool = git(repo, "rev-parse", BRANCH).strip()
    tree = git(
        repo, "rev-parse", f"{commit_on(repo, BRANCH, {'REVIEW.md': 'kept'}, tmp_path)}^{{tree}}"
    )
    message = git(repo, "log", "-1", "--format=%B", tool)
    amended = subprocess.run(
        ["git", "-C", str(repo), "commit-tree", "-p", f"{tool}^", "-F", "-", tree.strip()],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(repo, "replace", tool, amended)
    assert "REVIEW.md" in git(repo, "ls-tree", "--name-only", BRANCH)  # what the user sees
    git(repo, "commit", "-q", "--allow-empty", "-m", "main moves")
    result = apply(fleet, "juniper-ml")
    assert "blocked" in result.stdout and "commits the tool did not make" in result.stdout, (
        result.stdout
    )
    assert git(repo, "rev-parse", BRANCH).strip() == tool  # not moved
    assert "REVIEW.md" in git(repo, "ls-tree", "--name-only", BRANCH)


# --- item 10: SIGHUP (a closed terminal) stops apply like Ctrl-C ------------------------------------


def test_sighup_to_the_process_group_stops_apply_like_ctrl_c(tmp_path):
    """A closed terminal or dropped ssh session sends SIGHUP to the group: apply died at once, nothing
    printed (output redirected to a file), two branches written and never reported."""
    signal_the_group_mid_apply(tmp_path, signal.SIGHUP)


# --- item 8: a random key pasted where a name goes, whatever its prefix -----------------------------


@pytest.mark.parametrize(
    "line",
    [
        "xK9mQ2vL8pR4tW7yZ1bN5cH3jF6gD0sAq7Re2Lw=",  # base64 with its padding: NAME= to sops
        "a3f9c2d41d8cd98f00b204e9800998ecf8427e11=",  # a 40-hex key
        "export Zt8Kq3Lm9Xw2Pv7Rb4Nc6Jd1Hf5Gs0Ay=1",
    ],
)
def test_a_random_key_without_a_known_prefix_is_never_a_variable_name(line):
    """No known token prefix: the line was a variable named by the key, printed by plan and --json,
    written in the commit message and stored by sops as a plaintext name."""
    from juniper_rollout import dotenv

    with pytest.raises(dotenv.DotenvError) as caught:
        dotenv.parse_names(f"HF_TOKEN=x\n{line}\n".encode(), path=".env")
    said = str(caught.value)
    assert ".env:2:" in said and "shaped like a credential" in said
    key = line.removeprefix("export ").split("=")[0]
    assert key[:8] not in said


@pytest.mark.parametrize(
    "name",
    [
        "JUNIPER_ML_TEST_PYPI",
        "AWS_SECRET_ACCESS_KEY",
        "PG16_PASSWORD_V2_2024",
        "DATABASEURLFORTESTS",
        "S3BUCKET2024ARCHIVE",
        "X",
    ],
)
def test_real_variable_names_are_still_names(name):
    from juniper_rollout import dotenv

    assert dotenv.parse_names(f"{name}=v\n".encode(), path=".env") == [name]


def test_a_pasted_random_key_in_the_clones_env_is_refused_by_plan_without_echo(fleet):
    key = "xK9mQ2vL8pR4tW7yZ1bN5cH3jF6gD0sAq7Re2Lw"
    env = fleet.repo("juniper-cascor") / ".env"
    env.write_text(env.read_text() + f"{key}=\n")
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--json")
    assert key[:8] not in result.stdout + result.stderr
    assert "shaped like a credential" in result.stdout + result.stderr


# --- item 8/11: a lone carriage return ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, line",
    [
        (b"HF_TOKEN=a\rEXA_API_KEY=b\rSCOUT_TOKEN=c\r", 1),  # old Mac line ends, no \n at all
        (b"HF_TOKEN=a\nEXA_API_KEY=b\rSCOUT_TOKEN=c\n", 2),
        (b"# note\rHF_TOKEN=a\n", 1),  # a comment to sops, a variable to python-dotenv
    ],
)
def test_a_lone_carriage_return_is_refused_with_its_line(text, line):
    """python-dotenv (1.2.4, measured) ends a line at a lone \\r, sops does not: a CR-only .env was
    planned as "1 variable HF_TOKEN" whose value held the 14 others, names and values."""
    from juniper_rollout import dotenv

    with pytest.raises(dotenv.DotenvError) as caught:
        dotenv.parse_names(text, path=".env")
    assert f".env:{line}: carriage return inside the line" in str(caught.value)
    assert b"=a" not in str(caught.value).encode()


def test_crlf_line_ends_are_still_read():
    from juniper_rollout import dotenv

    assert dotenv.parse_names(b"HF_TOKEN=a\r\nEXA_API_KEY=b\r\n", path=".env") == [
        "HF_TOKEN",
        "EXA_API_KEY",
    ]


# --- item 11: a big fleet is linear, not quadratic ----------------------------------------------------


def test_the_fleet_wide_facts_are_worked_out_once_per_manifest_not_once_per_repo(
    tmp_path, monkeypatch
):
    """Each repo's rendering scanned every repo's files for the usage guide and listed every repo's
    name: 8,000 repos took 6 s, 16,000 took 25 s, 50,000 (a 739 KB manifest) ran past 5 minutes."""
    from juniper_rollout import fleetspec, render

    scans = []
    real = fleetspec.guide_location
    monkeypatch.setattr(render, "guide_location", lambda m: scans.append(1) or real(m))
    (tmp_path / "ws").mkdir()
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n"
        + "".join(f"- name: r{i}\n" for i in range(300))
    )
    result = rollout("plan", "--manifest", manifest)
    assert "no clone at" in result.stdout  # every repo was planned (none is cloned)
    assert 0 < len(scans) <= 2, f"{len(scans)} scans of the whole fleet for 300 repos"


# --- generated text is true: "1 repo" -------------------------------------------------------------------


def test_sync_cleanup_and_pr_say_1_repo_like_every_other_command(fleet):
    """sync, cleanup and pr said "1 repos: 1 up to date" where plan, apply, drift and verify say "1 repo"."""
    result = rollout("sync", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert "1 repo: " in result.stdout and "1 repos" not in result.stdout, result.stdout


# --- a disk that refuses the write is the user's situation, not a damaged repository ------------------


@pytest.mark.parametrize(
    "code, words",
    [
        (errno.EROFS, "is on a read-only file system"),
        (errno.ENOSPC, "is on a full disk"),
        (errno.EACCES, "is not writable by you"),
    ],
)
def test_a_disk_that_refuses_the_write_is_one_true_line_without_a_crash_log(
    fleet, tmp_path, monkeypatch, code, words
):
    """A fleet on a read-only mount (measured with a read-only bind mount): each repo said "unexpected
    OSError while writing the branch … (a damaged repository? run `git fsck` …)" and left a crash log.
    The refusal is injected at the object store's write point, where the real mount refused it."""
    from juniper_rollout import gitrepo

    def refused(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(fleet.repo("juniper-ml") / ".git/objects/tmp_x"))

    monkeypatch.setattr(gitrepo, "_store", refused)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = apply(fleet, "juniper-ml")
    assert result.code == 1
    assert f"cannot write to {fleet.repo('juniper-ml')}/.git: it {words}" in result.stdout, (
        result.stdout
    )
    assert "was not moved" in result.stdout and "git fsck" not in result.stdout
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("crash-*"))
    assert git(fleet.repo("juniper-ml"), "for-each-ref", "refs/heads/chore") == ""


# --- a saved plan encrypting to a key the manifest no longer names ----------------------------------


def test_a_saved_plan_encrypting_to_a_removed_key_is_refused_as_stale(fleet, tmp_path):
    """plan --out with recipients [A, B]; rotate --remove B (a leaked key); apply PLAN wrote every
    branch with .sops.yaml and .env.enc for B, without a word."""
    from juniper_rollout import keys

    second = tmp_path / "second.txt"
    assert rollout("keygen", "--key-file", second).code == 0
    key = keys.public_keys_in(second)[0]
    assert rollout("rotate", "--manifest", fleet.manifest, "--add", key).code == 0
    plan_file = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", fleet.manifest, "--out", plan_file).code == 0
    assert rollout("rotate", "--manifest", fleet.manifest, "--remove", key).code == 0
    result = rollout("apply", plan_file, "--manifest", fleet.manifest, "--yes")
    assert result.code == 1
    assert f"{plan_file} is stale: its " in result.stderr and key[:12] in result.stderr, (
        result.stderr
    )
    for name in ("juniper-cascor", "juniper-ml"):
        assert git(fleet.repo(name), "for-each-ref", "refs/heads/chore") == ""  # nothing written
    fresh = tmp_path / "fresh.json"
    assert rollout("plan", "--manifest", fleet.manifest, "--out", fresh).code == 0
    assert rollout("apply", fresh, "--manifest", fleet.manifest, "--yes").code == 0


# --- item 11: the output itself failing is one line, not a traceback ----------------------------------


def _cli_with_stdout(args, stdout, tmp_path):
    """The CLI in a child with standard output ``stdout`` (a file object, or None for closed)."""
    code = "from juniper_rollout.cli import main; main()"
    shell = (
        f"exec {sys.executable} -c '{code}' \"$@\" >&-"
        if stdout is None
        else f"exec {sys.executable} -c '{code}' \"$@\""
    )
    return subprocess.run(
        ["sh", "-c", shell, "sh", *map(str, args)],
        stdout=stdout if stdout is not None else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    "args", [("plan", "--out", "-"), ("plan", "--json"), ("plan",), ("drift", "--format", "json")]
)
@pytest.mark.parametrize("where", ["a full disk", "closed"])
def test_a_full_or_closed_standard_output_is_one_line_not_a_traceback(fleet, tmp_path, args, where):
    """`rollout plan --out - > plan.json` on a full disk (/dev/full), or with standard output closed
    (`>&-`): a Python traceback (OSError ENOSPC in print; AttributeError on sys.stdout.buffer)."""
    full_args = (*args, "--manifest", fleet.manifest, "--repo", "juniper-ml")
    if where == "a full disk":
        with open("/dev/full", "w") as full:
            result = _cli_with_stdout(full_args, full, tmp_path)
        said = "error: cannot write the output: No space left on device"
    else:
        result = _cli_with_stdout(full_args, None, tmp_path)
        said = "error: standard output is closed"
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr, (
        result.stderr
    )
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


# --- OWNER/NAME from a remote URL is checked like the manifest's `github:` -----------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/../user.git",
        "https://github.com/o/..%2F..%2Fuser.git",
        "https://github.com/o/..",
        "https://github.com/./r",
        "ssh://git@github.com/o/../",
    ],
)
def test_a_remote_url_naming_no_repository_gives_no_slug(url):
    """The slug from `url:` or origin was not checked: `../user`, `o/..` went into the API paths
    (`/repos/../user/pulls`) called with the user's token."""
    from juniper_rollout import forge

    assert forge.slug_from_url(url) is None
    with pytest.raises(Exception, match="cannot tell which GitHub repository"):
        forge.slug(None, None, url, "victim")


def test_real_remote_urls_still_give_their_slug():
    from juniper_rollout import forge

    assert forge.slug_from_url("git@github.com:pcalnon/juniper-ml.git") == "pcalnon/juniper-ml"
    assert forge.slug_from_url("https://github.com/pcalnon/juniper.ml/") == "pcalnon/juniper.ml"


@pytest.mark.parametrize("value", ["o/..", "o/."])
def test_a_github_value_of_dots_is_refused_with_its_line(tmp_path, value):

    (tmp_path / "ws").mkdir()
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n"
        f"  - name: victim\n    github: '{value}'\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1
    assert f"repos.yaml:7: repo victim.github '{value}' is not OWNER/NAME" in result.stderr, (
        result.stderr
    )


# --- rotate and bootstrap on a manifest they cannot rewrite ------------------------------------------


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC, errno.EACCES])
@pytest.mark.parametrize("command", ["rotate --add", "rotate --data-key", "bootstrap"])
def test_a_manifest_that_cannot_be_rewritten_is_one_line_not_a_traceback(
    fleet, tmp_path, monkeypatch, code, command
):
    """A manifest in a read-only folder (measured with a read-only bind mount): rotate and bootstrap
    raised OSError from the temp file beside it, a traceback. The refusal is injected where the
    real mount refused it: creating that temp file."""
    from juniper_rollout import atomicfile

    def refused(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    before = fleet.manifest.read_bytes()
    monkeypatch.setattr(atomicfile.tempfile, "mkstemp", refused)
    if command == "rotate --add":
        args = ["rotate", "--manifest", fleet.manifest, "--add", KEY]
    elif command == "rotate --data-key":
        args = ["rotate", "--manifest", fleet.manifest, "--data-key"]
    else:
        args = ["bootstrap", "newrepo", "--manifest", fleet.manifest, "--yes"]
    result = rollout(*args)
    assert result.code == 1, result.stdout + result.stderr
    assert f"error: cannot rewrite {fleet.manifest.resolve()}: " in result.stderr, result.stderr
    assert "nothing changed" in result.stderr
    assert fleet.manifest.read_bytes() == before


# --- a clone whose .git is a file is named for what it is ---------------------------------------------


def test_a_separate_git_dir_clone_is_not_called_a_linked_worktree(tmp_path):
    """`git clone --separate-git-dir` (or the repo tool) makes a main clone whose .git is a file: it
    was refused as "a linked worktree or submodule … point the manifest at the main clone", which
    it is, and there is no other."""
    from tests.demofleet import make_repo
    from tests.test_hostile import manifest_for, plan_error

    origin = make_repo(tmp_path / "origin", {"a": "1\n"})
    subprocess.run(
        [
            "git",
            "clone",
            "-q",
            "--separate-git-dir",
            str(tmp_path / "gitdir"),
            str(origin),
            str(tmp_path / "ws" / "victim"),
        ],
        check=True,
    )
    error = plan_error(manifest_for(tmp_path, "  - name: victim\n"))
    assert "keeps its git directory elsewhere" in error and str(tmp_path / "gitdir") in error, error
    assert "linked worktree" not in error


# --- git's repository variables in the environment ------------------------------------------------


def test_git_variables_naming_one_repository_are_not_followed(fleet, tmp_path, monkeypatch):
    """Started from a git hook (GIT_DIR set) or a shell exporting GIT_OBJECT_DIRECTORY/GIT_COMMON_DIR,
    the tool still reads and writes each clone the manifest names (was: "base branch 'main' not
    found" and "is not a git repository", nothing written)."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(["git", "init", "-q", str(elsewhere)], check=True)
    before = {n: git(fleet.repo(n), "for-each-ref", "refs/heads/") for n in fleet.names}
    monkeypatch.setenv("GIT_DIR", str(elsewhere / ".git"))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(tmp_path / "no-objects"))
    monkeypatch.setenv("GIT_COMMON_DIR", str(elsewhere / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "index"))
    result = run_cli("apply", "--manifest", fleet.manifest, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "created" in result.stdout and "not found" not in result.stdout + result.stderr
    for name in ("GIT_DIR", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name)
    for name in fleet.names:
        assert git(fleet.repo(name), "rev-parse", "--verify", "-q", f"refs/heads/{BRANCH}").strip()
        assert before[name] != git(fleet.repo(name), "for-each-ref", "refs/heads/")
    assert not (tmp_path / "index").exists()
    assert git(elsewhere, "for-each-ref") == ""  # the repository the variables named: untouched


# --- plaintext env files in another case ----------------------------------------------------------


def test_a_plaintext_env_file_in_another_case_is_found_in_history_and_untracked(fleet, tmp_path):
    """On macOS and Windows `.ENV` is the `.env` python-dotenv loads, and `cfg/Prod.Env` a `*.env`:
    committed with values then removed, drift said "0 findings"; tracked, apply kept it."""
    from tests.test_pass3 import commit_on, drift_findings

    repo = fleet.repo("juniper-ml")
    added = commit_on(
        repo,
        "main",
        {
            ".ENV": "API_TOKEN=upper-case-not-the-canary\n",
            "cfg/Prod.Env": "B=also-not-it\n",
            ".env.ENC": "C=not-sops-output\n",  # excluded forms count only as spelled
        },
        tmp_path,
        "oops",
    )
    removed = git(repo, "commit-tree", "-p", added, "-m", "remove them", "main^{tree}").strip()
    git(repo, "update-ref", "refs/heads/main", removed)
    found = drift_findings(fleet, "juniper-ml")
    assert sorted(f["path"] for f in found if f["id"] == "plaintext-env-in-history") == [
        ".ENV",
        ".env.ENC",
        "cfg/Prod.Env",
    ]
    git(repo, "update-ref", "refs/heads/main", added)  # still tracked: apply untracks it
    assert rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--yes").code == 0
    on_branch = git(repo, "ls-tree", "-r", "--name-only", BRANCH).split()
    assert (
        ".ENV" not in on_branch and "cfg/Prod.Env" not in on_branch and ".env.ENC" not in on_branch
    )


# --- review findings --------------------------------------------------------------------------------


def test_key_groups_named_again_through_yaml_aliases_are_walked_once():
    """`&g {merge: [*g, *g]}` named a group 2**depth times: an 80-byte .sops.yaml hung verify --ref,
    drift and apply's stale-plan check (review of pass 4)."""
    from juniper_rollout import sopsmeta
    from juniper_rollout.yamlio import load_plain

    loop = "creation_rules:\n  - key_groups: [&g {age: [x], merge: [*g, *g]}]\n"
    levels = ["&g0 {age: [x]}"] + [f"&g{i} {{merge: [*g{i - 1}, *g{i - 1}]}}" for i in range(1, 25)]
    ladder = "defs: [" + ", ".join(levels) + "]\ncreation_rules:\n  - key_groups: [*g24]\n"
    vault = ladder.replace("&g0 {age: [x]}", "&g0 {hc_vault: [h]}")
    rule = load_plain(loop)["creation_rules"][0]
    assert len(sopsmeta._groups(rule)) <= 26  # each distinct group once
    assert sopsmeta.config_other_keys(loop) == []
    # pass 19b: a ladder expanding to 2**24 groups is refused as a YAML bomb by every reader of a repo's
    # YAML (yamlio.check_aliases), so the checks fail closed; the walk itself still takes each group once
    from ruamel.yaml import YAML

    from juniper_rollout.yamlio import YamlSyntaxError

    for text in (ladder, vault):
        with pytest.raises(YamlSyntaxError, match="YAML bomb"):
            load_plain(text)
        with pytest.raises(YamlSyntaxError, match="YAML bomb"):
            sopsmeta.config_other_keys(text)
        rule = YAML(typ="safe", pure=True).load(text)["creation_rules"][0]
        assert len(sopsmeta._groups(rule)) <= 26


# --- pass 5 ---------------------------------------------------------------------------------------


def test_a_dotenv_lacking_names_the_committed_ciphertext_holds_never_replaces_it(fleet, tmp_path):
    """A secret added with `sops edit` on main after the clone's .env was written: plan said
    "update (encrypt .env: …)" and the rebuilt branch lost it (pass 5)."""
    from juniper_rollout import keys, sops

    repo = fleet.repo("juniper-cascor")
    assert (
        rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes").code
        == 0
    )
    fleet.merge_all()
    newer = (repo / ".env").read_bytes() + b"ADDED_LATER=added-with-sops-edit\n"
    cipher = subprocess.run(
        [
            sops.sops_path(),
            "encrypt",
            "--age",
            keys.public_keys_in(fleet.key_file)[0],
            "--input-type",
            "dotenv",
            "--output-type",
            "dotenv",
            "/dev/stdin",
        ],
        input=newer,
        capture_output=True,
        check=True,
        env={"SOPS_DISABLE_VERSION_CHECK": "1", "PATH": ""},
    ).stdout.decode()
    main_moves_to(repo, {".env.enc": cipher}, tmp_path)
    tip = git(repo, "rev-parse", BRANCH)
    result = rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes")
    assert result.code == 1
    assert (
        ".env.enc on the base branch holds 1 name that .env in the clone lacks (ADDED_LATER)"
        in (result.stdout)
    ), result.stdout
    assert git(repo, "rev-parse", BRANCH) == tip  # nothing replaced


@pytest.mark.parametrize(
    "value", ["2024-02-30", "!!bool maybe", "!!int abc", "!!float x", "9" * 5000]
)
def test_a_manifest_value_yaml_cannot_build_is_one_line_with_its_line(tmp_path, value):
    """An unquoted impossible date, a wrong tag, 5,000 digits: a traceback from the YAML constructor
    (pass 5)."""
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  commit_message: {value}\nrepos: []\n"
    )
    result = run_cli("plan", "--manifest", manifest)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"{manifest}:4: " in result.stderr and "cannot read as its type" in result.stderr


@pytest.mark.parametrize("source", ["/dev/zero", "fifo", "big file", "cat /dev/zero"])
def test_an_age_key_source_without_end_is_one_problem_not_unbounded(tmp_path, source):
    """SOPS_AGE_KEY_FILE=/dev/zero grew to 24 GB, a FIFO hung verify, SOPS_AGE_KEY_CMD='cat
    /dev/zero' to 23 GB (pass 5). Each is now a problem in one line, read within 1 MB."""
    from juniper_rollout import keys

    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config")}
    if source == "cat /dev/zero":
        env["SOPS_AGE_KEY_CMD"] = source
    elif source == "fifo":
        os.mkfifo(tmp_path / "k.fifo")
        env["SOPS_AGE_KEY_FILE"] = str(tmp_path / "k.fifo")
    elif source == "big file":
        (tmp_path / "k.txt").write_bytes(b"#" * 2_000_000)
        env["SOPS_AGE_KEY_FILE"] = str(tmp_path / "k.txt")
    else:
        env["SOPS_AGE_KEY_FILE"] = source
    found = keys.find_age_keys(env, cwd=tmp_path)
    assert not found.public
    said = " ".join(found.problems)
    expected = {
        "/dev/zero": "is not a regular file",
        "fifo": "is not a regular file",
        "big file": "is larger than 1 MB",
        "cat /dev/zero": "printed more than 1 MB",
    }[source]
    assert expected in said, found.problems


def test_renaming_the_encrypt_target_with_no_plaintext_at_hand_never_drops_the_ciphertext(
    fleet, tmp_path
):
    """apply, move .env away, `target: .env.enc` -> `config/.env.enc`: plan said "skip" and the
    rebuilt branch had no .enc at all (pass 5)."""

    repo = fleet.repo("juniper-cascor")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes").code == 0
    (repo / ".env").rename(tmp_path / "env-moved-away")
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(text.replace("target: .env.enc", "target: config/.env.enc", 1))
    main_moves_to(repo, {"NEWS": "x\n"}, tmp_path)
    tip = git(repo, "rev-parse", BRANCH)
    result = rollout("apply", *only, "--yes")
    assert result.code == 1, result.stdout
    assert "the rollout branch holds .env.enc, which no `encrypt:` entry names now" in result.stdout
    assert git(repo, "rev-parse", BRANCH) == tip  # the only copy of the values in git: kept


def test_drift_finds_plaintext_once_appended_to_an_enc_file_in_history(fleet, tmp_path):
    """`echo NAME=value >> .env.enc`, committed, then the clean ciphertext committed again: drift said
    "0 findings" although that commit keeps the value readable (pass 5)."""
    from tests.test_pass3 import commit_on, drift_findings

    repo = fleet.repo("juniper-cascor")
    assert (
        rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes").code
        == 0
    )
    fleet.merge_all()
    clean = git(repo, "show", "main:.env.enc")
    leaked = commit_on(
        repo, "main", {".env.enc": clean + "EXTRA_KEY=appended-not-the-canary\n"}, tmp_path
    )
    git(repo, "update-ref", "refs/heads/main", leaked)
    main_moves_to(repo, {".env.enc": clean}, tmp_path)
    found = [
        f for f in drift_findings(fleet, "juniper-cascor") if f["id"] == "plaintext-value-in-enc"
    ]
    assert [f["path"] for f in found] == [".env.enc"], found
    assert "was once committed with a value sops did not encrypt" in found[0]["message"]
    assert "appended-not-the-canary" not in found[0]["message"]


def test_another_repos_plaintext_value_is_never_rendered_into_this_one(tmp_path):
    """The leak guard compared a repo's rendered files only with its own plaintext env files: a
    template holding juniper-cascor's .env value was printed and committed into juniper-ml (pass 5)."""
    from tests.demofleet import make_repo
    from tests.test_pass3 import BARE

    secret = "cross-repo-value-7d1c9b2e"
    make_repo(tmp_path / "ws" / "holder", {"README.md": "x\n"})
    (tmp_path / "ws" / "holder" / ".env").write_text(
        f"API_TOKEN={secret}\n"
    )  # untracked, as .env is
    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "notes.j2").write_text(f"ops notes: {secret}\n")
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"repos:\n  - name: holder\n{BARE}  - name: victim\n{BARE}"
        "    files: [{path: NOTES.md, template: notes.j2}]\n"
    )
    result = run_cli("plan", "--manifest", manifest)
    assert result.returncode == 1, result.stdout
    assert "of the plaintext .env of holder" in result.stdout, result.stdout
    assert secret not in result.stdout + result.stderr
    assert run_cli("apply", "--manifest", manifest, "--yes").returncode == 1
    assert (
        git(tmp_path / "ws" / "victim", "for-each-ref", "refs/heads/").count("\n") == 1
    )  # main only
