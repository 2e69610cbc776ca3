"""Issue 13, third adversarial pass: what a fresh outside adversary still broke on main.

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests import fleet as fleets
from tests.demofleet import CANARY, make_repo
from tests.helpers import git, rollout
from tests.test_adversary import (
    apply,
    branch_tips,
    hostile_template,
    run_cli,
    start_apply,
    tree_with,
    wait_until_gone,
)
from tests.test_hostile import KEY
from tests.test_pool import with_branch

BRANCH = fleets.BRANCH


def commit_on(repo: Path, ref: str, files: dict[str, str], tmp: Path, message: str = "x") -> str:
    """A commit on top of ``ref`` holding ``files`` (plumbing only: the clone is untouched)."""
    tree = tree_with(repo, ref, files, tmp)
    return git(repo, "commit-tree", "-p", ref, "-m", message, tree).strip()


def main_moves_to(repo: Path, files: dict[str, str], tmp: Path) -> str:
    """``main`` moved on to a commit holding ``files`` (:func:`commit_on`; the checkout is untouched)."""
    commit = commit_on(repo, "main", files, tmp)
    git(repo, "update-ref", "refs/heads/main", commit)
    return commit


# --- sops never tries a master key the branch chose with the user's credentials ------------------


def _with_a_vault(real: str, address: str, fmt: str) -> str:
    """``real`` (a sops file for the manifest's recipient) with its age stanza made unusable and a
    Vault master key added: sops, failing with age, goes on to the Vault at ``address``."""
    garbled = re.sub(r"(-----BEGIN AGE ENCRYPTED FILE-----(?:\\n|\n\s*))YWdl", r"\1QWdl", real)
    assert garbled != real
    if fmt == "dotenv":
        return garbled + (
            f"sops_hc_vault__list_0__map_vault_address={address}\n"
            "sops_hc_vault__list_0__map_engine_path=transit\n"
            "sops_hc_vault__list_0__map_key_name=x\n"
            "sops_hc_vault__list_0__map_created_at=2026-12-01T17:49:33Z\n"
            "sops_hc_vault__list_0__map_enc=vault:v1:AAAA\n"
        )
    return garbled.replace(
        "sops:\n",
        f"sops:\n    hc_vault:\n        - vault_address: {address}\n          engine_path: transit\n"
        '          key_name: x\n          created_at: "2026-12-01T17:49:33Z"\n'
        "          enc: vault:v1:AAAA\n",
        1,
    )


@pytest.mark.parametrize("fmt", ["yaml", "dotenv"])
def test_verify_never_hands_sops_a_file_naming_a_vault_it_would_send_the_token_to(
    fleet, tmp_path, vault, monkeypatch, fmt
):
    from juniper_rollout import keys
    from tests.test_sops_formats import sops_output

    address, seen = vault
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    real = sops_output(keys.public_keys_in(fleet.key_file)[0], fmt).decode()
    evil = _with_a_vault(real, address, fmt)
    monkeypatch.setenv("VAULT_TOKEN", "hvs.users-own-vault-token")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    if fmt == "dotenv":  # on a contributor's branch, under verify --ref (which reads dotenv only)
        contrib = commit_on(repo, BRANCH, {".env.enc": evil}, tmp_path)
        git(repo, "update-ref", "refs/heads/contrib", contrib)
        result = rollout("verify", *only, "--ref", "contrib")
    else:  # merged into main: plan decrypts it to re-encrypt it as dotenv
        main_moves_to(repo, {".env.enc": evil}, tmp_path)
        result = rollout("plan", *only)
        assert "names hc_vault master keys besides age" in result.stdout, result.stdout
    assert result.code == 1
    assert seen == [], "sops sent the user's Vault token to the address the file chose"


MAC = "ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:str]"


@pytest.mark.parametrize(
    "text, others",
    [
        (f"A=ENC[x]\nsops_kms__list_0__map_arn=arn\nsops_mac={MAC}\n", ("kms",)),
        (
            f"A=x\nsops_key_groups__list_0__map_hc_vault__list_0__map_vault_address=h\nsops_mac={MAC}\n",
            ("hc_vault",),
        ),
        (f"a: x\nsops:\n    azure_kv:\n        - vault_url: h\n    mac: {MAC}\n", ("azure_kv",)),
        (
            f"a: x\nsops:\n    key_groups:\n        - gcp_kms:\n              - resource_id: r\n    mac: {MAC}\n",
            ("gcp_kms",),
        ),
        (
            f'{{\n\t"a": "x",\n\t"sops": {{\n\t\t"pgp": [{{"fp": "F"}}],\n\t\t"mac": "{MAC}"\n\t}}\n}}\n',
            ("pgp",),
        ),
        (
            f"[x]\na = b\n[sops]\nhc_vault__list_0__map_vault_address = h\nmac = {MAC}\n",
            ("hc_vault",),
        ),
        (f"a: x\nsops:\n    kms: []\n    age:\n        - recipient: {KEY}\n    mac: {MAC}\n", ()),
    ],
)
def test_master_keys_besides_age_are_read_in_every_format(text, others):
    from juniper_rollout import sops, sopsmeta

    meta = sopsmeta.read_metadata(text.encode())
    assert meta is not None and meta.others == others
    if others:
        with pytest.raises(sops.SopsError, match="besides age"):
            sops.check_age_only(text.encode(), ".env.enc")


# --- templates: a Python error in a template is one line naming where ------------------------------


@pytest.mark.parametrize(
    "outer, inner, words",
    [
        ("{{ 1/0 }}", None, "template evil.j2:1 fails: ZeroDivisionError"),
        ("a\n{{ 'a' + 1 }}", None, "template evil.j2:2 fails: TypeError"),
        ("{{ '%d' % 'x' }}", None, "template evil.j2:1 fails: TypeError"),
        ("{{ range(1, 2, 0) | list }}", None, "template evil.j2:1 fails: ValueError"),
        ("{{ '{0}{1}'.format(1) }}", None, "template evil.j2:1 fails: IndexError"),
        ("{{ [1, 'a'] | sort }}", None, "template evil.j2:1 fails: TypeError"),
        ("{{ [1] | slice(0) | list }}", None, "template evil.j2:1 fails: ZeroDivisionError"),
        ("{{ 'x' | truncate(-1) }}", None, "template evil.j2:1 fails: AssertionError"),
        ("{{ 'x' | wordwrap(0) }}", None, "template evil.j2:1 fails: ValueError"),
        (
            "{% include 'inner.j2' %}",
            "\n{{ 1 % 0 }}",
            "template inner.j2:2 (through 'evil.j2') fails: ZeroDivisionError",
        ),
        (
            "{% include 'inner.j2' %}",
            "{% include '../x' %}",
            "template 'inner.j2' (through 'evil.j2') includes '../x', which is not there",
        ),
        (
            "{% import 'inner.j2' as m %}{{ m.f() }}",
            "{% macro f() %}{{ 1 // 0 }}{% endmacro %}",
            "template inner.j2:1 (through 'evil.j2') fails: ZeroDivisionError",
        ),
    ],
)
def test_a_python_error_in_a_template_is_one_line_naming_the_template(
    tmp_path, outer, inner, words
):
    manifest = hostile_template(tmp_path, outer)
    if inner is not None:
        (tmp_path / "tpl" / "inner.j2").write_text(inner)
    result = run_cli("plan", "--manifest", manifest)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


# --- a token in the clone's own origin URL is never printed -------------------------------------

QUERY_TOKEN = "ghp_QueryT0kenInTheOriginUrl42"


@pytest.mark.parametrize(
    "origin",
    [
        f"https://127.0.0.1:1/o/r.git?access_token={QUERY_TOKEN}",
        f"https://github.com/o/r.git?access_token={QUERY_TOKEN}",
        f"git@github.com:o/r.git?x={QUERY_TOKEN}",
    ],
)
def test_a_token_in_origins_query_string_is_never_printed(fleet, monkeypatch, origin):
    """git repeats a query string in its own errors (it anonymizes user-info, not queries)."""
    repo = fleet.repo("juniper-ml")
    git(repo, "remote", "add", "origin", origin)
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("GITHUB_TOKEN", "x")
    monkeypatch.setenv("GIT_ALLOW_PROTOCOL", "file:https:ssh")
    monkeypatch.setenv("GIT_SSH_COMMAND", "false")  # never a real connection
    only = ("--manifest", fleet.manifest, "--repo", "juniper-ml")
    runs = [
        rollout("sync", *only),
        rollout("apply", *only, "--yes", "--push"),
        rollout("pr", *only),
        rollout("status", *only),
    ]
    for result in runs:
        assert QUERY_TOKEN not in result.stdout + result.stderr, result.stdout + result.stderr
    assert runs[0].code == 1 and runs[1].code == 1  # the failures were reported, without it
    assert "o/r" in runs[2].stdout + runs[2].stderr


# --- templates: SSH keys (sops' age identities) and symlinks to env-named files -------------------


def ssh_private_key(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path.read_text()


def test_an_ssh_private_key_sops_would_use_cannot_be_rendered(tmp_path):
    manifest = hostile_template(tmp_path, '{% include "id_ed25519" %}')
    secret = ssh_private_key(tmp_path / "tpl" / "id_ed25519")
    body = secret.splitlines()[1]
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1 and "holds an age private key (or an SSH/PEM one)" in result.stderr
    assert body not in result.stdout + result.stderr
    # nor through a variable
    (tmp_path / "tpl" / "var.j2").write_text("{{ k }}\n")
    named = tmp_path / "repos.yaml"
    named.write_text(
        named.read_text().replace(
            "template: evil.j2}", "template: var.j2, vars: {k: " + json.dumps(secret) + "}}"
        )
    )
    result = rollout("plan", "--manifest", named)
    assert result.code == 1 and "would contain an age private key" in result.stdout, result.stdout
    assert body not in result.stdout + result.stderr


def test_a_symlink_inside_the_templates_folder_to_an_env_named_file_is_refused(tmp_path):
    manifest = hostile_template(tmp_path, "x\n")
    (tmp_path / "tpl" / "prod.env").write_text(f"X_TOKEN={CANARY}-in-prod-env\n")
    os.symlink("prod.env", tmp_path / "tpl" / "alias.j2")
    manifest.write_text(manifest.read_text().replace("template: evil.j2", "template: alias.j2"))
    result = rollout("plan", "--manifest", manifest)  # the canary check covers the output
    assert result.code == 1 and "named like a plaintext env file" in result.stderr, result.stderr


# --- SIGTERM to the whole process group (kill -TERM -PGID, `timeout`, a CI runner's cancel) ----------


def test_sigterm_to_the_process_group_stops_apply_like_ctrl_c(tmp_path):
    """The forked workers are in the group too: each died of SIGTERM mid-repo, the pool broke, and a
    branch a worker had written was never reported ("a worker process died (out of memory?)")."""
    signal_the_group_mid_apply(tmp_path, signal.SIGTERM)


def signal_the_group_mid_apply(tmp_path: Path, sig: int) -> None:
    """Send ``sig`` to apply's process group once a branch is written: apply stops like Ctrl-C (exit
    130), every branch written is reported, no worker survives or writes afterwards."""
    for attempt in range(3):  # a run that finished before the signal landed is drawn again
        root = tmp_path / f"run{attempt}"
        root.mkdir()
        proc, names = start_apply(root, 40)
        heads = [root / "ws" / n / ".git" / "refs" / "heads" / "chore" for n in names]
        deadline = time.monotonic() + 120
        while not any(h.exists() for h in heads) and proc.poll() is None:
            assert time.monotonic() < deadline, "no branch was written"
            time.sleep(0.005)
        os.killpg(proc.pid, sig)
        code = proc.wait(timeout=300)
        survivors = wait_until_gone(proc.pid)
        for pid in survivors:
            os.kill(pid, signal.SIGKILL)
        output = (root / "out.txt").read_text()
        written = with_branch(root, names)
        if code == 0 and len(written) == len(names):
            continue  # it finished first
        assert code == 130 and "interrupted" in output, (code, output)
        assert "worker process died" not in output and "Traceback" not in output, output
        assert survivors == []
        for name in written:  # every branch written was reported
            assert f"{name}: created" in output, output
        tips = branch_tips(root, names)
        time.sleep(1)
        assert branch_tips(root, names) == tips  # nothing writes afterwards
        return
    pytest.fail("three runs finished before the signal landed")


# --- drift: a plaintext that came in as a type change (symlink -> file) ------------------------------


def commit_entries(
    repo: Path, parent: str, entries: list[tuple[str, str, str]], tmp: Path, message: str
) -> str:
    """A commit on ``parent`` whose tree is ``parent``'s with each (mode, path, content) set."""
    env = {**os.environ, "GIT_INDEX_FILE": str(tmp / "entries.index")}

    def run(*args: str, data: str | None = None) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args],
            input=data,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    run("read-tree", parent)
    for mode, path, content in entries:
        blob = run("hash-object", "-w", "--stdin", data=content)
        run("update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}")
    return run("commit-tree", "-p", parent, "-m", message, run("write-tree"))


def drift_findings(fleet, name: str) -> list[dict]:
    result = rollout("drift", "--manifest", fleet.manifest, "--repo", name, "--format", "json")
    return json.loads(result.stdout)["repos"][0]["findings"]


def test_drift_finds_plaintext_that_came_in_as_a_type_change(fleet, tmp_path):
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    cipher = git(repo, "show", f"{BRANCH}:.env.enc")
    plaintext = (
        "HF_TOKEN=committed-by-mistake-not-the-canary\n"  # history is scanned for the canary
    )
    link = commit_entries(
        repo, BRANCH, [("120000", ".env.enc", "x")], tmp_path, "a symlink for now"
    )
    values = commit_entries(repo, link, [("100644", ".env.enc", plaintext)], tmp_path, "the values")
    back = commit_entries(
        repo, values, [("100644", ".env.enc", cipher)], tmp_path, "encrypted again"
    )
    git(repo, "update-ref", "refs/heads/main", back)
    found = [f for f in drift_findings(fleet, "juniper-cascor") if f["path"] == ".env.enc"]
    assert found and f'{values[:7]} "the values"' in found[0]["message"], found

    ml = fleet.repo("juniper-ml")
    link = commit_entries(
        ml, "main", [("120000", "config/.env.production", "/dev/null")], tmp_path, "link"
    )
    values = commit_entries(
        ml, link, [("100644", "config/.env.production", plaintext)], tmp_path, "values"
    )
    git(ml, "update-ref", "refs/heads/main", values)
    found = [
        f for f in drift_findings(fleet, "juniper-ml") if f["path"] == "config/.env.production"
    ]
    assert found and values[:7] in found[0]["message"], found  # the commit that holds the values


# --- bounded memory: a huge file in the repo or the clone ---------------------------------------


def test_a_huge_managed_file_or_plaintext_env_is_one_line_and_never_read_whole(fleet, tmp_path):
    repo = fleet.repo("juniper-cascor")
    agents = git(repo, "show", "main:AGENTS.md") + "\n" * (17 << 20)
    main_moves_to(repo, {"AGENTS.md": agents}, tmp_path)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    result = run_cli("plan", *only)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "AGENTS.md at " in result.stdout and "the tool reads files up to 16 MB" in result.stdout
    assert len(result.stdout) < 5000  # no 17 MB diff
    git(repo, "update-ref", "refs/heads/main", "main~1")
    os.truncate(repo / ".env", 3 << 30)  # 3 GB (sparse); the child has 2 GB of address space
    result = run_cli("plan", *only)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert ".env in the clone is 3,072 MB; the tool reads files up to 16 MB" in result.stdout


# --- a repo's own regexes that would backtrack for hours are refused, never run ---------------------

SLOW = "^(.*)*(.*)*(.*)*(.*)*(.*)*(.*)*(.*)*(.*)*(.*)*x$"


@pytest.mark.parametrize(
    "path, text, words",
    [
        (
            ".pre-commit-config.yaml",
            "repos:\n  - repo: local\n    hooks:\n      - id: no-env\n        name: no env\n"
            f"        entry: nope\n        language: fail\n        files: '{SLOW}'\n",
            ".pre-commit-config.yaml: hook no-env's files",
        ),
        (
            ".pre-commit-config.yaml",
            f"exclude: '{SLOW}'\nrepos: []\n",
            ".pre-commit-config.yaml: the top-level exclude",
        ),
        (
            ".sops.yaml",
            f"creation_rules:\n  - path_regex: '{SLOW}'\n    age: {KEY}\n",
            ".sops.yaml: a creation rule's path_regex",
        ),
    ],
)
def test_a_catastrophic_regex_in_the_repo_is_one_line_not_a_hang(
    fleet, tmp_path, path, text, words
):
    repo = fleet.repo("juniper-cascor")
    main_moves_to(repo, {path: text}, tmp_path)
    for command in ("plan", "drift"):
        result = run_cli(
            command, "--manifest", fleet.manifest, "--repo", "juniper-cascor", timeout=60
        )
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert words in result.stdout and "repeats a repetition" in result.stdout, result.stdout


@pytest.mark.parametrize(
    "pattern, slow",
    [
        ("(a+)+", True),
        ("(x|xy)*z", True),
        ("(a{1,2})*", True),
        (r"(\w+)\1*", True),
        (".*.*.*.*.*x", True),
        (".*.*.*.*x", False),
        (r"(^|/)(\.env|\.env\.[^/]*|[^/]*\.env)$", False),
        (r"^(src|tests)/.*\.py$", False),
        ("(a|b)*", False),
        (r"(?=.*x)(?!.*y)", False),
        ("[", False),  # not a regex: re.compile says so where it is used
    ],
)
def test_which_patterns_are_refused(pattern, slow):
    from juniper_rollout.adopt import _degree_or_none

    assert (_degree_or_none(pattern) is None) is slow


# --- a branch an ongoing `git rebase --update-refs` will move counts as checked out -----------------


def test_a_branch_listed_in_an_ongoing_rebase_update_refs_is_blocked(fleet, tmp_path):
    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    work = tmp_path / "feature"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(work), BRANCH)
    (work / "feature.txt").write_text("x\n")
    git(work, "add", "feature.txt")
    git(work, "commit", "-q", "-m", "feature on top of the rollout branch")
    git(
        repo,
        "update-ref",
        "refs/heads/main",
        git(repo, "commit-tree", "-p", "main", "-m", "moved", "main^{tree}").strip(),
    )
    subprocess.run(
        ["git", "-C", str(work), "rebase", "-i", "--update-refs", "main"],
        env={**os.environ, "GIT_SEQUENCE_EDITOR": "sed -i '1i break'"},
        check=True,
        capture_output=True,
    )  # stops at once: git will move the rollout branch when the rebase goes on
    assert (
        "refs/heads/" + BRANCH
        in (
            Path(git(work, "rev-parse", "--git-dir").strip()) / "rebase-merge" / "update-refs"
        ).read_text()
    )
    tip = git(repo, "rev-parse", BRANCH)
    result = apply(fleet, "juniper-ml")
    assert "juniper-ml: blocked" in result.stdout and str(work) in result.stdout, result.stdout
    assert git(repo, "rev-parse", BRANCH) == tip


# --- smaller ones ------------------------------------------------------------------------------------


def test_plan_out_with_a_trailing_slash_names_a_folder_and_writes_no_file(fleet, tmp_path):
    for out in (tmp_path / "nodir", tmp_path / "plan.json"):
        result = rollout(
            "plan", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--out", f"{out}/"
        )
        assert result.code == 1 and f"--out {out}/ names a folder" in result.stderr, result.stderr
        assert not out.exists()


@pytest.mark.parametrize(
    "name", ["FETCH_HEAD", "ORIG_HEAD", "MERGE_HEAD", "CHERRY_PICK_HEAD", "AUTO_MERGE"]
)
def test_a_branch_named_like_one_of_gits_own_refs_is_refused_with_its_line(tmp_path, name):
    from tests.test_hostile import manifest_for

    manifest = manifest_for(tmp_path, f"  - name: victim\n    branch: {name}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1 and f"{manifest}:8:" in result.stderr
    assert f"'{name}' is a name git keeps for its own" in result.stderr


def test_an_env_enc_stored_in_git_lfs_is_named_as_such_not_as_plaintext(fleet, tmp_path):
    repo = fleet.repo("juniper-cascor")
    pointer = (
        "version https://git-lfs.github.com/spec/v1\noid sha256:" + "4d" * 32 + "\nsize 12345\n"
    )
    files = {".env.enc": pointer, ".gitattributes": "*.enc filter=lfs diff=lfs merge=lfs -text\n"}
    main_moves_to(repo, files, tmp_path)
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    plan = rollout("plan", *only)
    drift = rollout("drift", *only)
    verify = rollout("verify", *only, "--ref", "main")
    for result in (plan, drift, verify):
        text = result.stdout + result.stderr
        assert ".env.enc" in text and "is a Git LFS pointer" in text, text
        assert "may be plaintext" not in text, text
    assert plan.code == 1 and verify.code == 1


@pytest.mark.parametrize(
    "line",
    [
        "ghp_" + "a" * 36 + "_unencrypted=1",
        "sops_ghp_" + "a" * 36 + "=1",
        "sops_hf_" + "b" * 34 + "_unencrypted=1",
    ],
)
def test_a_token_behind_a_reserved_prefix_or_suffix_is_never_echoed(line):
    from juniper_rollout import dotenv

    with pytest.raises(dotenv.DotenvError) as caught:
        dotenv.parse_names(f"{line}\n".encode(), path=".env")
    assert "shaped like a credential" in str(caught.value)
    assert line.split("=")[0].removeprefix("sops_")[:12] not in str(caught.value)


@pytest.mark.parametrize(
    "url, shown, secrets",
    [
        ("x-access-token:ghp_Tok3nValue99@host:o/r.git", "host:o/r.git", ["ghp_Tok3nValue99"]),
        (
            "https://u:ghp_SECRET@TOKEN1234@host/o/r.git",
            "https://host/o/r.git",
            ["ghp_SECRET", "TOKEN1234"],
        ),
        ("https://x:ghp%5FTok3nValue99@host/o/r.git", "https://host/o/r.git", ["ghp_Tok3nValue99"]),
        ("ssh://git:ghp_Tok3nValue99@host/o/r.git", "ssh://host/o/r.git", ["ghp_Tok3nValue99"]),
        ("ssh://git@host/o/r.git", "ssh://git@host/o/r.git", []),
        ("git@host:o/r.git", "git@host:o/r.git", []),
    ],
)
def test_credentials_in_every_url_spelling_are_stripped_and_redacted(url, shown, secrets):
    from juniper_rollout.urls import redact, strip_userinfo

    assert strip_userinfo(url) == shown
    # what git prints: the URL as given, its pieces, %-escapes decoded; and the words around it intact
    said = f"git clone {url} failed: unable to access {' '.join(secrets)} for git@host"
    redacted = redact(said, url)
    for secret in secrets:
        assert secret not in redacted, redacted
    assert redacted.startswith("git clone ") and redacted.endswith("for git@host"), redacted


def test_bootstrap_never_prints_the_password_of_an_scp_like_url(fleet, tmp_path):
    token = "ghp_ScpT0kenValue4242"
    url = f"x-access-token:{token}@127.0.0.1:o/r.git"
    result = rollout("bootstrap", "newrepo", "--manifest", fleet.manifest, "--url", url, "--yes")
    assert result.code == 1
    assert token not in result.stdout + result.stderr + fleet.manifest.read_text()


def test_a_plaintext_source_under_a_symlinked_folder_is_never_read(tmp_path):
    from tests.test_hostile import manifest_for, plan_error

    repo = make_repo(tmp_path / "ws" / "victim", {".gitignore": ".env\n"})
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / ".env").write_text(f"OUTSIDE_TOKEN={CANARY}-outside\n")
    os.symlink(tmp_path / "outside", repo / "config")
    manifest = manifest_for(
        tmp_path,
        "  - name: victim\n    encrypt: [{source: config/.env, target: config/.env.enc}]\n",
    )
    error = plan_error(manifest)
    assert "config in the clone is a symlink; the tool never follows symlinks" in error, error


# --- "has sops metadata" in linear time on any committed blob ------------------------------------

MACLINE = "ENC[AES256_GCM,data:eA==,iv:eA==,tag:eA==,type:str]"


def _shapes(real: dict[str, bytes]) -> list[bytes]:
    from tests.test_sops_formats import BYPASSES

    json_real = real["json"].decode()
    return [
        *real.values(),
        *BYPASSES.values(),
        # the JSON opening line repeated, nested, indented, before and inside the metadata block
        ('{\n\t"sops": {\n\t"sops": {\n\t\t"mac": "' + MACLINE + '"\n\t}\n}\n').encode(),
        (
            '{\n  "a": {\n    "sops": {\n      "x": 1\n    }\n  },\n\t"sops": {\n\t\t"mac": "'
            + MACLINE
            + '"\n}\n'
        ).encode(),
        json_real.replace('\t"sops": {', '\t"sops": {\n\t"sops": {', 1).encode(),
        json_real.replace('"sops": {', '"sops":{', 1).encode(),
        ('\t"sops": {\n' * 50 + "x\n" + '\t"sops": {\n\t\t"mac": "' + MACLINE + '",\n').encode(),
        ('\t"sops": {\n' * 50 + "}\n").encode(),
        b"",
    ]


def test_the_tools_linear_form_of_the_metadata_regex_agrees_with_the_hooks(tmp_path):
    from juniper_rollout import keys, sopsmeta
    from tests.test_sops_formats import sops_output

    recipient = keys.generate_key_file(tmp_path / "keys.txt")
    real = {fmt: sops_output(recipient, fmt) for fmt in ("dotenv", "yaml", "json", "ini", "binary")}
    hook = re.compile(sopsmeta.PATTERN.encode(), re.MULTILINE | re.DOTALL)  # what the hook runs
    for blob in _shapes(real):
        found = hook.search(blob)
        expected = None if found is None else next(f for f in sopsmeta.FORMATS if found.group(f))
        assert sopsmeta.sops_format(blob) == expected, blob[:200]
    assert sopsmeta.sops_format(real["json"]) == "json"


def test_verify_of_a_branch_with_many_json_opening_lines_is_not_a_hang(fleet, tmp_path):
    """2 MB of `\\t"sops": {` lines: the hook's form of the regex needs about n**2 steps (hours)."""
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    evil = "{\n" + '\t"sops": {\n' * 200_000 + "}\n"
    git(
        repo,
        "update-ref",
        "refs/heads/contrib",
        commit_on(repo, BRANCH, {".env.enc": evil}, tmp_path),
    )
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    result = run_cli("verify", *only, "--ref", "contrib", timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert ".env.enc is not sops-encrypted" in result.stdout, result.stdout
    git(repo, "update-ref", "refs/heads/main", "contrib")
    result = run_cli("drift", *only, timeout=120)
    assert "Traceback" not in result.stderr and ".env.enc" in result.stdout, result.stdout


def test_two_manifest_entries_on_one_clone_are_refused_with_the_line(fleet):
    text = fleet.manifest.read_text()
    fleet.manifest.write_text(
        text.replace(
            "  - name: juniper-cascor-client\n",
            f"  - name: juniper-cascor-client\n  - name: second-ml\n    path: {fleet.repo('juniper-ml')}\n",
            1,
        )
    )
    result = rollout("plan", "--manifest", fleet.manifest)
    assert result.code == 1 and "has the same clone as" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- a templates folder pointed at a home folder or /proc never renders a credential -------------------

BARE = "    sops_yaml: false\n    gitignore: false\n    precommit_hook: skip\n    agents_md: skip\n"


def templates_manifest(tmp_path: Path, folder: str, template: str) -> Path:
    if not (tmp_path / "ws" / "victim").exists():
        make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    path = tmp_path / "repos.yaml"
    path.write_text(
        f"version: 1\nworkspace: ws\ntemplates: {folder}\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"repos:\n  - name: victim\n{BARE}    files: [{{path: out.txt, template: {template}}}]\n"
    )
    return path


def test_the_process_environment_cannot_be_rendered_through_proc(tmp_path, monkeypatch):
    token = "ghp_EnvT0kenValue0123456789abcdefABCD"
    monkeypatch.setenv("GITHUB_TOKEN", token)
    result = run_cli("plan", "--manifest", templates_manifest(tmp_path, "/proc/self", "environ"))
    assert result.returncode == 1 and "is not a file on disk" in result.stderr, result.stderr
    assert token not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "name, text",
    [
        (".git-credentials", "https://pcalnon:ghp_CredT0kenValue0123456789abcdef@github.com\n"),
        (
            "hosts.yml",
            "github.com:\n    oauth_token: gho_CredT0kenValue0123456789abcdef\n    user: me\n",
        ),
        (
            "credentials",
            "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n",
        ),
    ],
)
def test_a_credentials_file_in_the_templates_folder_cannot_be_rendered(tmp_path, name, text):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / name).write_text(text)
    result = rollout("plan", "--manifest", templates_manifest(tmp_path, "home", name))
    assert result.code == 1 and "holds a credential" in result.stderr, result.stderr
    assert text.splitlines()[0] not in result.stdout + result.stderr


def test_an_unknown_template_in_a_huge_templates_folder_is_a_short_line(tmp_path):
    folder = tmp_path / "big"
    for i in range(60):
        (folder / f"d{i:02d}").mkdir(parents=True)
        for j in range(100):
            (folder / f"d{i:02d}" / f"f{j:03d}.txt").touch()
    (folder / "real.j2").write_text("x\n")
    result = rollout("plan", "--manifest", templates_manifest(tmp_path, "big", "missing.j2"))
    assert result.code == 1 and "unknown template 'missing.j2'" in result.stderr, result.stderr
    assert "real.j2" in result.stderr and "…" in result.stderr
    assert len(result.stderr) < 2000, len(result.stderr)  # not the 6,000 names of the folder


def test_verify_never_runs_sops_with_a_branchs_sops_yaml_naming_a_vault(
    fleet, tmp_path, vault, monkeypatch
):
    """The sops-rules check encrypts a probe with the ref's .sops.yaml: an hc_vault_transit_uri rule
    beside the manifest's age key made sops send the user's Vault token there."""
    address, seen = vault
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    config = git(repo, "show", f"{BRANCH}:.sops.yaml")
    evil = re.sub(
        r"(\n    age: '[^']+')",
        rf"\1\n    hc_vault_transit_uri: '{address}/v1/transit/keys/x'",
        config,
        count=1,
    )
    assert evil != config
    git(
        repo,
        "update-ref",
        "refs/heads/contrib",
        commit_on(repo, BRANCH, {".sops.yaml": evil}, tmp_path),
    )
    monkeypatch.setenv("VAULT_TOKEN", "hvs.users-own-vault-token")
    result = rollout(
        "verify", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--ref", "contrib"
    )
    assert result.code == 1
    assert seen == [], "sops sent the user's Vault token to the address the branch chose"
    assert "names hc_vault_transit_uri besides age" in result.stdout


@pytest.mark.parametrize(
    "rule, others",
    [
        ("    kms: arn:aws:kms:us-east-1:1:key/x\n", ["kms"]),
        ("    pgp: ABCDEF\n", ["pgp"]),
        (
            "    key_groups:\n      - hc_vault: [http://v/v1/transit/keys/x]\n        age: [a]\n",
            ["hc_vault"],
        ),
        ("    azure_keyvault: https://v.vault.azure.net/keys/k/1\n", ["azure_keyvault"]),
        ("    gcp_kms: projects/p/locations/l/keyRings/r/cryptoKeys/k\n", ["gcp_kms"]),
        ("    age: age1x\n", []),
    ],
)
def test_master_keys_besides_age_in_a_sops_yaml(rule, others):
    from juniper_rollout import sopsmeta

    text = f"creation_rules:\n  - path_regex: '.*'\n{rule}"
    assert sopsmeta.config_other_keys(text) == others


def test_a_manifest_naming_one_big_template_many_times_is_bounded_too(tmp_path):
    """Each rendering is bounded (5,000,000 characters); 30 files of 4,000,000 each were 120 MB,
    30,000 of them (a 1 MB manifest) would be 120 GB."""
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "big.j2").write_text("{% for i in range(4) %}{{ 'x' * 1000000 }}{% endfor %}")
    manifest = templates_manifest(tmp_path, "tpl", "big.j2")
    many = ", ".join(f"{{path: f{i}.txt, template: big.j2}}" for i in range(30))
    manifest.write_text(manifest.read_text().replace("{path: out.txt, template: big.j2}", many))
    result = run_cli("plan", "--manifest", manifest)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "characters rendered in this run, all files together" in result.stderr, result.stderr


def test_a_stash_holding_the_untracked_env_is_not_history(fleet):
    """`git stash -u` with the plaintext .env untracked (before the rollout ignores it) keeps it in a
    local stash commit: drift called that "committed in the past" and said to rotate every value and
    rewrite history with git filter-repo."""
    repo = fleet.repo("juniper-cascor")
    (repo / ".env").write_text(
        "HF_TOKEN=stashed-not-the-canary\n"
    )  # the session scans objects for it
    git(repo, "stash", "push", "-q", "-u", "-m", "work in progress")
    git(repo, "stash", "apply", "-q")
    findings = drift_findings(fleet, "juniper-cascor")
    assert not [f for f in findings if f["id"] == "plaintext-env-in-history"], findings
    side = commit_on(repo, "main", {".env": "A=committed-on-a-side-branch\n"}, fleet.root)
    git(repo, "update-ref", "refs/heads/side", side)  # a real commit on any branch still counts
    findings = drift_findings(fleet, "juniper-cascor")
    assert [f["path"] for f in findings if f["id"] == "plaintext-env-in-history"] == [".env"]


# --- a push never waits at git's password prompt ------------------------------------------------------


class _AskForPassword(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="x"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


def test_apply_push_never_waits_at_a_password_prompt_in_a_terminal(fleet):
    """sync and cleanup set GIT_TERMINAL_PROMPT=0; the push did not, and waited at "Username for"."""
    import pty
    import select
    import sys

    server = http.server.HTTPServer(("127.0.0.1", 0), _AskForPassword)
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()
    try:
        repo = fleet.repo("juniper-ml")
        git(repo, "remote", "add", "origin", f"http://127.0.0.1:{server.server_address[1]}/o/r.git")
        args = [
            "apply",
            "--manifest",
            str(fleet.manifest),
            "--repo",
            "juniper-ml",
            "--yes",
            "--push",
        ]
        pid, fd = pty.fork()  # the child's controlling terminal is this pty: git could prompt there
        if pid == 0:
            env = {**os.environ, "GIT_ALLOW_PROTOCOL": "file:http"}
            os.execve(sys.executable, [sys.executable, "-m", "juniper_rollout.cli", *args], env)
        seen, deadline = b"", time.monotonic() + 60
        while time.monotonic() < deadline:  # wait-until: the run ends, or sits at a prompt
            if select.select([fd], [], [], 0.5)[0]:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                seen += chunk
        done, _ = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
        text = seen.decode("utf-8", "replace")
        assert not text.rstrip().endswith(":"), f"waiting at a prompt: {text[-200:]}"
        assert "push to origin failed" in text and "terminal prompts disabled" in text, text
    finally:
        server.shutdown()
        server.server_close()


def test_a_replace_ref_does_not_hide_a_plaintext_commit_from_drift(fleet, tmp_path):
    repo = fleet.repo("juniper-ml")
    added = commit_on(
        repo, "main", {".env": "A=committed-by-mistake-not-the-canary\n"}, tmp_path, "oops"
    )
    removed = git(repo, "commit-tree", "-p", added, "-m", "remove it", "main^{tree}").strip()
    git(repo, "update-ref", "refs/heads/main", removed)
    assert [
        f["path"]
        for f in drift_findings(fleet, "juniper-ml")
        if f["id"] == "plaintext-env-in-history"
    ] == [".env"]
    innocent = git(
        repo, "commit-tree", "-p", f"{added}^", "-m", "oops", f"{added}^^{{tree}}"
    ).strip()
    git(repo, "replace", added, innocent)  # `git log` now shows the innocent commit in its place
    found = [
        f for f in drift_findings(fleet, "juniper-ml") if f["id"] == "plaintext-env-in-history"
    ]
    assert [f["path"] for f in found] == [".env"] and added[:7] in found[0]["message"], found


@pytest.mark.parametrize("where", ["--workspace", "JUNIPER_WORKSPACE", "workspace:", "path:"])
def test_a_symlink_loop_as_workspace_or_repo_path_is_one_line(fleet, tmp_path, where):
    loop = tmp_path / "loop-a"
    os.symlink(tmp_path / "loop-b", loop)
    os.symlink(loop, tmp_path / "loop-b")
    args = ["plan", "--manifest", str(fleet.manifest)]
    env = dict(os.environ)
    if where == "--workspace":
        args += ["--workspace", str(loop)]
    elif where == "JUNIPER_WORKSPACE":
        env["JUNIPER_WORKSPACE"] = str(loop)
    else:
        text = fleet.manifest.read_text()
        if where == "workspace:":
            text = re.sub(r"(?m)^workspace: .*$", f"workspace: {loop}", text)
        else:
            text = text.replace(
                "  - name: juniper-ml", f"  - name: juniper-ml\n    path: {loop}  #", 1
            )
        fleet.manifest.write_text(text)
    result = subprocess.run(
        [sys.executable, "-m", "juniper_rollout.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert "is a symlink loop" in result.stderr and len(result.stderr.strip().splitlines()) == 1
