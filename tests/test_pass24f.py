"""Pass 24f (issue 13 items 9-12 and bad input, a second-round pass over pass 24c's code): what
still broke. Each test here fails without its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import jsonschema
import pytest

from tests.helpers import git, rollout
from tests.test_drift import SCHEMA
from tests.test_drift_messages import _victim
from tests.test_pass24c import victim_with_env_prod_in_history


@pytest.mark.parametrize(
    ("path", "data", "said"),
    [
        # a NUL byte: pre-commit's loader refuses it (its own error type, not a RepoError)
        (".pre-commit-config.yaml", b"repos: []\n\0\n", "invalid YAML"),
        # UTF-16 without a byte order mark: NUL bytes to a UTF-8 reader
        (".pre-commit-config.yaml", "repos: []\n".encode("utf-16-le"), "invalid YAML"),
        # over 16 MB, an encrypted file (read before the managed files, for the hazards)
        (".env.enc", b"A=b\n" * 4_500_000, "is 17 MB"),
    ],
)
def test_no_managed_file_drift_cannot_judge_hides_the_secret_hazards(tmp_path, path, data, said):
    """ON-LIST 13.9 (a blind audit), pass 24c's fix in other spellings: it kept the secret hazards
    beside a managed file drift cannot judge only when that failure was a RepoError. A
    `.pre-commit-config.yaml` holding a NUL byte (or saved as UTF-16 without a byte order mark) is
    pre-commit's own error type, and a `.env.enc` over 16 MB failed before the managed files were
    read: each was still one error line and "0 findings" beside a `.env.prod` history holds. Now any
    failure of that judgement is the error line, beside the hazards (a 17 MB plaintext `.env.enc`
    is judged on its first and last lines: no sops metadata)."""
    manifest, repo = victim_with_env_prod_in_history(tmp_path)
    (repo / path).write_bytes(data)
    git(repo, "add", "-f", path)
    git(repo, "commit", "-qm", "a file drift cannot judge")
    result = rollout("drift", "--manifest", manifest, "--repo", "victim", "--format", "json")
    assert result.code == 1, result.stdout + result.stderr
    [victim] = json.loads(result.stdout)["repos"]
    assert said in victim["error"], victim
    found = {f["id"] for f in victim["findings"]}
    assert "plaintext-env-in-history" in found, victim
    if path == ".env.enc":
        assert "enc-without-sops" in found, victim
    table = rollout("drift", "--manifest", manifest, "--repo", "victim")
    assert "plaintext-env-in-history  .env.prod was committed" in table.stdout, table.stdout
    assert "0 findings" not in table.stdout, table.stdout


def _line_break_path(tmp_path):
    manifest, repo = _victim(tmp_path)
    path = "a\nb/.env.prod"
    (repo / "a\nb").mkdir()
    (repo / path).write_text("DB_PASSWORD=not-real-but-long-enough\n")
    git(repo, "add", "-f", "--", path)
    git(repo, "commit", "-qm", "commit the env file")
    return manifest, repo, path


def test_a_path_holding_a_line_break_is_printed_on_its_line(tmp_path):
    """NEW (left by pass 24c, 13.11's bad input): plan, verify and drift printed a path's line break
    as is: `a\\nb/.env.prod`, committed, made one plan row, one verify failure and one drift finding
    span two lines (a reader, or a `grep`, saw a line `b/.env.prod …` of no repo). Each printed
    path stays on its line, the break shown as `\\x0a` as the commit message shows it; ordinary
    paths look as they did."""
    manifest, repo, path = _line_break_path(tmp_path)
    plan = rollout("plan", "--manifest", manifest, "--repo", "victim")
    assert plan.code == 0, plan.stderr
    rows = [line for line in plan.stdout.splitlines() if ".env.prod" in line]
    assert rows and all("a\\x0ab/.env.prod" in row for row in rows), rows
    assert not any(line.startswith("b/.env.prod") for line in plan.stdout.splitlines())
    assert "  .sops.yaml               create" in plan.stdout, plan.stdout  # width as before
    verify = rollout("verify", "--manifest", manifest, "--repo", "victim")
    assert "plaintext-env: a\\x0ab/.env.prod tracked in git" in verify.stdout, verify.stdout
    assert not any(line.startswith("b/.env.prod") for line in verify.stdout.splitlines())
    git(repo, "rm", "-q", "--cached", "--", path)
    git(repo, "commit", "-qm", "untrack it")
    drift = rollout("drift", "--manifest", manifest, "--repo", "victim")
    assert "plaintext-env-in-history  a\\x0ab/.env.prod was committed" in drift.stdout, drift.stdout
    assert not any(line.startswith("b/.env.prod") for line in drift.stdout.splitlines())


def test_a_plan_on_standard_input_past_the_bound_is_said_so(tmp_path):
    """NEW (13.11's bounded input, left by pass 24c): `rollout apply - < /dev/zero` read 200 MB and
    said "not a plan file (Expecting value …)" where the same bytes in a file are "larger than 200
    MB: not a plan file": the bound held, its words did not."""
    manifest, _ = _victim(tmp_path)
    with open("/dev/zero", "rb") as zero:
        result = subprocess.run(
            [sys.executable, "-m", "juniper_rollout.cli", "apply", "-", "--manifest", manifest],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1, result.stderr
    assert result.stderr == "error: standard input is larger than 200 MB: not a plan file\n", (
        result.stderr
    )


def test_bootstrap_shortens_a_long_name_it_refuses(tmp_path):
    """NEW (wording, left by pass 24c): `rollout bootstrap NAME` with a 5,000-character name echoed it
    whole in its refusal (5 KB on one line); it is cut, as other long echoes are. So is a manifest
    entry's."""
    manifest, _ = _victim(tmp_path)
    result = rollout("bootstrap", "n" * 4999 + "!", "--manifest", manifest, "--dry-run")
    assert result.code == 1, result.stderr
    assert "is not a valid repository name" in result.stderr and len(result.stderr) < 300, (
        result.stderr
    )
    manifest.write_text(manifest.read_text().replace("name: victim", "name: " + "v" * 4999 + "!"))
    result = rollout("plan", "--manifest", manifest)
    assert "is not a valid repository name" in result.stderr and len(result.stderr) < 300


def test_a_git_error_is_said_in_gits_words(tmp_path, monkeypatch):
    """NEW (wording, left by pass 24c): under a broken `GIT_CONFIG_COUNT=1` (no key) drift's line
    read "cannot read history: stderr: 'error: missing config key …" with GitPython's framing (and
    its closing quote) left in; every git error the tool words now gives git's own message."""
    manifest, _ = _victim(tmp_path)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    result = rollout("drift", "--manifest", manifest, "--repo", "victim", "--format", "json")
    [victim] = json.loads(result.stdout)["repos"]
    assert victim["error"].startswith("cannot read history: error: missing config key"), victim
    assert "stderr:" not in victim["error"] and not victim["error"].endswith("'"), victim


def test_drift_sarif_says_an_error_naming_a_path_no_utf8_decodes_as_escapes(tmp_path):
    """ON-LIST 13.9 / 13.11 (pass 24c fixed the results' messages, not the errors'): an error
    naming a path git stores that is not UTF-8 (a 19 MB `x\\xffy/.env.enc`) went into the SARIF
    log's notification as a lone surrogate (`\\udcff`), no Unicode character: strict JSON readers
    refuse the whole log. It is shown as its escape (`\\xff`), as the results are."""
    manifest, repo = victim_with_env_prod_in_history(tmp_path)
    folder = os.fsdecode(b"x\xffy")
    (repo / folder).mkdir()
    (repo / folder / ".env.enc").write_bytes(b"A=b\n" * 4_500_000)
    git(repo, "add", "-f", "--", f"{folder}/.env.enc")
    git(repo, "commit", "-qm", "big")
    result = rollout("drift", "--manifest", manifest, "--repo", "victim", "--format", "sarif")
    assert result.code == 1, result.stderr
    assert "\\udc" not in result.stdout, result.stdout
    log = json.loads(result.stdout)
    [note] = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith("victim: x\\xffy/.env.enc at "), note
    jsonschema.validate(
        log, SCHEMA, cls=jsonschema.Draft4Validator, format_checker=jsonschema.FormatChecker()
    )


def _bomb(first_line: str) -> str:
    """A `.sops.yaml` whose aliases expand to 10**9 recipients, after ``first_line``."""
    lines = [first_line, "a0: &a0 [" + ", ".join(["age1x"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    return "\n".join([*lines, "creation_rules:", "  - path_regex: '.*'", "    age: *a8", ""])


@pytest.mark.parametrize("first_line", ["x: [a:]", "x: [a: b, c:]", "? [a:]\n: 1"])
def test_a_yaml_bomb_after_a_line_libyaml_refuses_is_counted(tmp_path, first_line):
    """ON-LIST 13.11 (hangs and memory), pass 24c's count in another spelling: the values of a repo
    YAML file were counted on libyaml's events only, and a text libyaml refuses ended the count
    ("the loader says so"), but ruamel's pure readers, which read `.sops.yaml` (and `dependabot.yml`,
    a saved `.pre-commit-config.yaml` edit), take some such texts (`x: [a:]` on the first line). A
    YAML bomb after that line in a committed `.sops.yaml` took `rollout drift`, `plan` and `verify`
    each past 120 s and 2 to 9 GB. The count goes on with the events of the reader that follows."""
    from juniper_rollout import yamlio

    text = _bomb(first_line)
    with pytest.raises(yamlio.YamlSyntaxError, match="a YAML bomb"):
        yamlio.load_plain(text)
    manifest, repo = _victim(tmp_path)
    (repo / ".sops.yaml").write_text(text)
    git(repo, "add", ".sops.yaml")
    git(repo, "commit", "-qm", "a bomb")
    result = rollout("verify", "--manifest", manifest, "--repo", "victim")
    assert "sops-config: .sops.yaml does not parse: its aliases (*name) expand" in result.stdout, (
        result.stdout
    )


def test_a_token_gh_prints_on_more_than_one_line_is_refused_in_one_line(
    loop, github, monkeypatch, tmp_path
):
    """NEW beside pass 24c's token shape (the environment the tool inherits): 24c refused a
    GITHUB_TOKEN holding a line break, but not what `gh auth token` printed: a `gh` (a wrapper, a
    shim) printing a notice before the token sent both lines, and each repo was "cannot reach
    GitHub …: LocalProtocolError; check the network". It is refused in one line naming gh, never
    quoting what it printed. Unusual valid tokens (fine-grained `github_pat_…`, `ghs_…`, a classic
    40-hex one) with a trailing line break (`$(cat file)` of a CRLF file, a `.env` line) still work."""
    from tests.test_adversary import run_cli

    for token in (
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
        "ghs_16C7e42F292c6912E7710c838347Ae178B4a",
        "0123456789abcdef0123456789abcdef01234567",
    ):
        github.token = token
        monkeypatch.setenv("GITHUB_TOKEN", token + "\r\n")
        fine = run_cli("status", "-m", loop.manifest, "--repo", "juniper-ml")
        assert fine.returncode == 0, fine.stdout + fine.stderr
    gh = tmp_path / "bin" / "gh"
    gh.parent.mkdir()
    gh.write_text(f"#!/bin/sh\necho 'notice: a new release of gh'\necho {github.token}\n")
    gh.chmod(0o755)
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.setenv("PATH", f"{gh.parent}:{os.environ['PATH']}")
    result = run_cli("status", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.returncode == 1 and result.stdout == "", result.stdout
    assert result.stderr.startswith("error: what `gh auth token` printed holds a space"), (
        result.stderr
    )
    assert github.token not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_saved_plan_never_creates_a_file_whose_name_is_not_utf8(tmp_path):
    """ON-LIST 13.12's saved plan (pass 24c's change in another spelling): 24c let a saved plan spell
    a byte no UTF-8 decodes (`\\udcff`, as a path git stores is kept) so that a tracked
    `x\\xffy/.env.prod` can be deleted; a hand-edited plan then *created* `a\\xffb.txt` on the
    rollout branch, a name the tool never plans and macOS and Windows cannot check out. A path a
    plan writes is refused as damaged when it holds such a byte; one it deletes is still taken."""
    manifest, repo = _victim(tmp_path)
    saved = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", manifest, "--out", saved).code == 0
    data = json.loads(saved.read_text())
    [victim] = [r for r in data["repos"] if r["name"] == "victim"]
    victim["files"][0]["path"] = "a\udcffb.txt"
    saved.write_text(json.dumps(data))
    result = rollout("apply", saved, "--manifest", manifest, "--yes", "--repo", "victim")
    assert result.code == 1 and "damaged plan file" in result.stderr, result.stdout + result.stderr
    assert "holds a byte no UTF-8 decodes" in result.stderr, result.stderr
    assert "chore/sops-age-rollout" not in git(repo, "branch", "--list")


@pytest.mark.parametrize(
    "text",
    [
        "repos: " + "[" * 990 + "]" * 990 + "\n",  # flow, under libyaml's own 1,000
        "repos:\n" + "".join(" " * i + "- \n" for i in range(1, 600)) + " " * 600 + "- x\n",
    ],
)
def test_a_precommit_config_nested_hundreds_deep_is_one_line(tmp_path, text):
    """ON-LIST 13.11 (a RecursionError, the manifest's in another file): a committed
    `.pre-commit-config.yaml` of lists nested 600 to 990 levels (libyaml itself stops at 1,000;
    pre-commit's loader reads them) reached the tool's own walk of the config's events: `plan` and
    `drift` said "unexpected RecursionError … a damaged repository? run `git fsck`" with a crash
    log. It is "nested too deeply" with its line, as the other YAML files are."""
    manifest, repo = _victim(tmp_path)
    (repo / ".pre-commit-config.yaml").write_text(text)
    git(repo, "add", ".pre-commit-config.yaml")
    git(repo, "commit", "-qm", "deep")
    for command in ("plan", "drift"):
        result = rollout(command, "--manifest", manifest, "--repo", "victim")
        assert "unexpected" not in result.stdout + result.stderr, result.stdout + result.stderr
        assert ".pre-commit-config.yaml:" in result.stdout, result.stdout
        assert "nested too deeply" in result.stdout, result.stdout
