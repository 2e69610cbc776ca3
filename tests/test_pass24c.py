"""Pass 24c (issue 13 items 9-12, bad arguments and the environment the tool inherits, another
adversarial pass): what still broke. Each test here fails without its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import git, rollout
from tests.test_adversary import run_cli
from tests.test_drift_messages import _victim
from tests.test_pass22c import env_prod_in_history


def _cli(*args, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from juniper_rollout.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env=env,
    )


@pytest.mark.parametrize("command", ["plan", "drift", "verify", "status", "sync"])
@pytest.mark.parametrize("broken", ["no git on PATH", "GIT_PYTHON_GIT_EXECUTABLE=/bin/false"])
def test_without_a_git_that_runs_each_command_says_so_in_one_line(tmp_path, command, broken):
    """NEW (13.11's standard, the environment the tool inherits): with no git on PATH (a fresh
    container, a CI image without git) every command but keygen was GitPython's 60-line ImportError
    traceback ("Bad git executable … export GIT_PYTHON_REFRESH=quiet"), exit 1; so was a
    GIT_PYTHON_GIT_EXECUTABLE naming a program that fails. The tool runs `git` from PATH itself as
    well, so GitPython's variables are dropped and a missing git is one line."""
    manifest, _ = _victim(tmp_path)
    env = {**os.environ}
    if broken == "no git on PATH":
        env["PATH"] = str(tmp_path / "nothing-here")
    else:
        env["GIT_PYTHON_GIT_EXECUTABLE"] = "/bin/false"
        env["GIT_PYTHON_REFRESH"] = "error"
    result = _cli(command, "--manifest", manifest, env=env)
    assert "Traceback" not in result.stderr and "ImportError" not in result.stderr, result.stderr
    if broken == "no git on PATH":
        assert result.returncode == 1 and result.stdout == "", result.stdout
        assert result.stderr.startswith("error: git not found on PATH"), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("verify", "--ref", ""),
        ("drift", "--ref", ""),
        ("plan", "--rollout", ""),
        ("plan", "--repo", ""),
        ("bootstrap", "newrepo", "--dry-run", "--url", ""),
        ("bootstrap", "newrepo", "--dry-run", "--like", ""),
        ("rotate", "--remove", ""),
    ],
)
def test_an_empty_name_option_is_refused_as_empty(tmp_path, args):
    """NEW beside pass 23c's empty paths (bad arguments): `rollout verify --ref "$BRANCH"` with the
    variable unset checked each repo's base branch instead of the branch (a CI job then judged the
    wrong ref), `drift --ref ""` audited the base, `--rollout ""` took the default rollout,
    `bootstrap --url ""` ran `git clone ''` and `--like ""` / `rotate --remove ""` quoted nothing
    ("--like : no such repo", " is not in defaults.age_recipients"). Each is refused as empty, as
    `--manifest ""` and `--out ""` are."""
    manifest, _ = _victim(tmp_path)
    before = manifest.read_bytes()
    result = rollout(*args, "--manifest", manifest)
    assert result.code == 1 and result.stdout == "", result.stdout
    assert "is empty (an unset variable?)" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert manifest.read_bytes() == before


def test_drift_sarif_over_a_history_path_no_utf8_decodes(tmp_path):
    """ON-LIST 13.9 (the history audit's output) / 13.11 (no crash on bad input): a `.env.prod`
    committed once in a folder whose name is not UTF-8 (`x\\xffy/`, any byte git stores) made
    `rollout drift --format sarif` "unexpected UnicodeEncodeError … please report this", exit 1 and
    no log at all, so a code-scanning job that uploads it saw no finding. The path's bytes are
    percent-encoded in the URI (a path holding a line break or a tab was written raw, no valid URI)
    and shown as escapes in the message."""
    manifest, repo = _victim(tmp_path)
    folder = repo / os.fsdecode(b"x\xffy")
    folder.mkdir()
    (folder / ".env.prod").write_text("API_TOKEN=not-a-real-one-but-long\n")
    (repo / "a\tb").mkdir()
    (repo / "a\tb" / "secrets.env").write_text("P=also-not-real-but-long\n")
    git(repo, "checkout", "-qb", "side")
    git(repo, "add", "-f", "--", os.fsdecode(b"x\xffy/.env.prod"), "a\tb/secrets.env")
    git(repo, "commit", "-qm", "add")
    git(repo, "rm", "-rq", "--cached", "--", os.fsdecode(b"x\xffy"), "a\tb")
    git(repo, "commit", "-qm", "remove")
    git(repo, "checkout", "-q", "main")
    result = rollout("drift", "--manifest", manifest, "--repo", "victim", "--format", "sarif")
    assert result.code == 2 and "unexpected" not in result.stderr, result.stderr
    run = json.loads(result.stdout)["runs"][0]
    found = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["message"]["text"]
        for r in run["results"]
        if r["ruleId"] == "plaintext-env-in-history"
    }
    assert set(found) == {"x%FFy/.env.prod", "a%09b/secrets.env"}, found
    assert found["x%FFy/.env.prod"].startswith("victim: x\\xffy/.env.prod was committed"), found
    json.dumps(run, ensure_ascii=False).encode()  # no lone surrogate left in the log


def victim_with_env_prod_in_history(tmp_path):
    """The victim repo with a `.env.prod` committed once on a side branch, then untracked."""
    manifest, repo = _victim(tmp_path)
    git(repo, "checkout", "-qb", "side")
    env_prod_in_history(repo, "DB_PASSWORD=not-real-but-long-enough\n", "add")
    git(repo, "checkout", "-q", "main")
    return manifest, repo


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (".gitignore", b"\xff\xfe.\x00e\x00n\x00v\x00\n\x00"),  # saved as UTF-16 (Notepad)
        ("AGENTS.md", b"# notes\n" * 2_200_000),  # 17.6 MB, over what the tool reads
        (".sops.yaml", b"# notes\n" * 2_200_000),
    ],
)
def test_a_managed_file_drift_cannot_judge_never_hides_the_secret_hazards(tmp_path, path, data):
    """ON-LIST 13.9 (a blind audit, another spelling): a managed file drift cannot judge at the
    audited ref (a `.gitignore` saved as UTF-16, an `AGENTS.md` or `.sops.yaml` over 16 MB) made the whole repo one
    error line, and its secret hazards were never looked for: "0 findings" while history held a
    committed `.env.prod`. The error is still said (exit 1); the hazards, which read history and the
    ref's paths, not that file, are found beside it, in every format."""
    manifest, repo = victim_with_env_prod_in_history(tmp_path)
    (repo / path).write_bytes(data)
    git(repo, "add", path)
    git(repo, "commit", "-qm", "a file drift cannot judge")
    result = rollout("drift", "--manifest", manifest, "--repo", "victim", "--format", "json")
    assert result.code == 1, result.stdout
    [victim] = json.loads(result.stdout)["repos"]
    assert path in victim["error"], victim
    assert [f["id"] for f in victim["findings"]] == ["plaintext-env-in-history"], victim
    table = rollout("drift", "--manifest", manifest, "--repo", "victim")
    assert "plaintext-env-in-history  .env.prod was committed" in table.stdout, table.stdout
    assert "1 with errors; 1 finding" in table.stdout, table.stdout
    sarif = json.loads(rollout("drift", "--manifest", manifest, "--format", "sarif").stdout)
    assert [
        r["ruleId"] for r in sarif["runs"][0]["results"] if r["properties"]["repo"] == "victim"
    ] == ["plaintext-env-in-history"]


@pytest.mark.parametrize(
    ("inner", "said"),
    [
        (
            "a\n{{ range(10**9) | list }}\n",
            "template inc.j2:2 (through 'outer.j2') asks for too much: ",
        ),
        ("a\n{{ 'x' * 10**10 }}\n", "template inc.j2:2 (through 'outer.j2') asks for too much: "),
        (
            "a\n{% include 'inc.j2' %}\n",
            "template inc.j2:2 (through 'outer.j2') asks for too much: ",
        ),
    ],
)
def test_an_include_that_asks_for_too_much_is_named(tmp_path, inner, said):
    """ON-LIST smaller list ("a failing include reports the wrong template name"), another spelling:
    pass 19b named an included template for an undefined name, a syntax error or a Python error, but
    a bound met inside it (`range(10**9)`, `'x' * 10**10`, an include of itself: RecursionError)
    was said of the including template ("template 'outer.j2' asks for too much"), which holds only
    the include."""
    from tests.test_adversary import hostile_template

    manifest = hostile_template(tmp_path, "{% include 'inc.j2' %}", name="outer.j2")
    (tmp_path / "tpl" / "inc.j2").write_text(inner)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1 and said in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    "token",
    [
        "ghp_FirstTokenOfTwo\nghp_SecondTokenOfTwo",
        "ghp_Crlf\r\nghp_Next",
        "ghp_A ghp_B",
        "g" * 5000,
    ],
)
@pytest.mark.parametrize("command", ["status", "pr", "cleanup"])
def test_a_token_that_no_token_is_shaped_like_is_refused_in_one_line(
    tmp_path, monkeypatch, token, command
):
    """NEW beside the smaller list's wording (the environment the tool inherits): a GITHUB_TOKEN
    holding a line break (`GITHUB_TOKEN="$(cat tokens.txt)"` of a file of two lines) was sent,
    refused by the HTTP library and said "cannot reach GitHub …: LocalProtocolError; check the
    network" for each repo; one of 100 KB was "GitHub answered 431 …; try again later". It is
    refused before anything is sent, in one line that names the variable, never the token."""
    manifest, _ = _victim(tmp_path)
    monkeypatch.setenv("GITHUB_TOKEN", token)
    result = rollout(command, "--manifest", manifest)
    assert result.code == 1 and result.stdout == "", result.stdout
    assert result.stderr.startswith("error: GITHUB_TOKEN holds a space, a line break"), (
        result.stderr
    )
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "ghp_" not in result.stderr and "ggggggggg" not in result.stderr


def _tracked_plaintext(tmp_path, *folders: bytes):
    """The victim repo with a `.env.prod` committed on main in each of ``folders`` ("" the top)."""
    manifest, repo = _victim(tmp_path)
    paths = []
    for folder in folders:
        path = os.fsdecode(folder + b"/.env.prod") if folder else ".env.prod"
        (repo / path).parent.mkdir(exist_ok=True)
        (repo / path).write_text("DB_PASSWORD=not-real-but-long-enough\n")
        paths.append(path)
    git(repo, "add", "-f", "--", *paths)
    git(repo, "commit", "-qm", "commit the env files")
    return manifest, repo


def test_a_saved_plan_that_untracks_a_committed_env_file_is_applied(tmp_path):
    """NEW (13.12's saved plan, `plan --out - | apply -`): a saved plan of a repo with a committed
    `.env.prod` (what the tool exists for: the plan deletes it on the rollout branch) was refused at
    apply as "damaged plan file (… .env.prod is a plaintext env file …: name it like
    .env.prod.example …)", the check meant for a hand-edited plan that *writes* one: the whole fleet's
    saved plan was refused, and planning again saved the same plan. A plan writing one is still
    refused (`tests/test_adversary.py`)."""
    manifest, repo = _tracked_plaintext(tmp_path, b"")
    saved = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", manifest, "--out", saved).code == 0
    result = rollout("apply", saved, "--manifest", manifest, "--yes")
    assert result.code == 0 and "damaged" not in result.stderr, result.stdout + result.stderr
    tree = git(repo, "ls-tree", "-r", "--name-only", "chore/sops-age-rollout").split("\n")
    assert ".sops.yaml" in tree and ".env.prod" not in tree, tree
    assert (repo / ".env.prod").exists()  # the clone's copy untouched


@pytest.mark.parametrize("saved", [False, True])
def test_a_committed_env_file_whose_path_is_not_one_line_of_utf8_is_untracked(tmp_path, saved):
    """NEW (13.11, bad input: bytes git stores): a committed `.env.prod` in a folder whose name is not
    UTF-8 (`x\\xffy/`) made apply "unexpected UnicodeEncodeError while writing the branch … a damaged
    repository? run `git fsck`" (the commit message could not be written as text), and a saved plan
    of it was "damaged plan file (a string holds '\\udcff' …); run plan again" for ever; one in a
    folder holding a line break (`a\\nb/`) split its line of the commit message, and its saved plan
    was refused as a path "git on Windows cannot check out" though the plan deletes it. Each is
    untracked on the branch; the commit message names each on one line, as escapes."""
    manifest, repo = _tracked_plaintext(tmp_path, b"x\xffy", b"a\nb")
    if saved:
        plan = tmp_path / "plan.json"
        assert run_cli("plan", "--manifest", manifest, "--out", plan).returncode == 0
        result = run_cli("apply", plan, "--manifest", manifest, "--yes")
    else:  # the CLI's own streams (a path no UTF-8 decodes is printed with escapes)
        result = run_cli("apply", "--manifest", manifest, "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "unexpected" not in result.stdout + result.stderr
    tree = git(repo, "ls-tree", "-r", "-z", "--name-only", "chore/sops-age-rollout").split("\0")
    assert not [p for p in tree if p.endswith(".env.prod")], tree
    message = subprocess.run(
        ["git", "-C", str(repo), "log", "-1", "--format=%B", "chore/sops-age-rollout"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")  # text, every byte of it
    lines = message.split("\n")
    assert any(line.startswith("- x\\xffy/.env.prod: delete") for line in lines), message
    assert any(line.startswith("- a\\x0ab/.env.prod: delete") for line in lines), message
    again = run_cli("apply", "--manifest", manifest, "--yes")  # its own commit, recognised
    assert again.returncode == 0 and "already up to date" in again.stdout, again.stdout


def test_a_pull_request_is_opened_for_a_branch_untracking_a_path_no_utf8_decodes(loop, github):
    """NEW (13.11, bad input: bytes git stores, through `apply --push --pr` and `pr`): a committed
    `x\\xffy/.env.prod` on main, deleted on the rollout branch, put its surrogates into the pull
    request's description, which could not be sent: every `pr` failed with "GitHub … gave an answer
    … that cannot be read (UnicodeEncodeError): is it GitHub's API? try again later", and no pull
    request was ever opened. The description names such a path as escapes, a line break too."""
    from tests.fleet import OWNER

    repo = loop.repo("juniper-ml")
    for folder in (b"x\xffy", b"a\nb"):
        path = os.fsdecode(folder + b"/.env.prod")
        (repo / path).parent.mkdir()
        (repo / path).write_text("DB_PASSWORD=not-real-but-long-enough\n")
        git(repo, "add", "-f", "--", path)
    git(repo, "commit", "-qm", "commit the env files")
    git(repo, "push", "-q", "origin", "HEAD:main")
    result = run_cli(
        "apply", "-m", loop.manifest, "--yes", "--push", "--pr", "--repo", "juniper-ml"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [pull] = github.pulls(f"{OWNER}/juniper-ml")
    assert "| `x\\xffy/.env.prod` | delete |" in pull.body, pull.body
    assert "| `a\\x0ab/.env.prod` | delete |" in pull.body, pull.body
    again = run_cli("pr", "-m", loop.manifest, "--repo", "juniper-ml")
    assert again.returncode == 0 and "unchanged" in again.stdout, again.stdout + again.stderr


def test_a_huge_precommit_config_is_refused_before_any_reader_takes_it(tmp_path, monkeypatch):
    """ON-LIST 13.11 (huge inputs, bounded time and memory) and the smaller list's wording: a
    committed `.pre-commit-config.yaml` of 60,000 hooks (5 MB, no alias in it; anyone who can push a
    branch sends one to `drift --ref`/`verify --ref`) was loaded by pre-commit's own loader and the
    tool's readers first (38 s, 900 MB; 16 MB: minutes and gigabytes), then refused as "its aliases
    (*name) expand to more than 100,000 values (a YAML bomb?)": a `*` in the tool's own hooks was
    taken for an alias. Every text's values are now counted as libyaml reads them, before any loader,
    and said as what they are. (Counted, not timed: pre-commit's loader is never reached.)"""
    from juniper_rollout.edits import precommit

    manifest, repo = _victim(tmp_path)
    hooks = "".join(
        f"- repo: local\n  hooks:\n  - id: h{i}\n    name: h{i}\n    entry: x\n    language: fail\n"
        for i in range(9_000)
    )
    (repo / ".pre-commit-config.yaml").write_text("repos:\n" + hooks)
    git(repo, "add", ".pre-commit-config.yaml")
    git(repo, "commit", "-qm", "a config of 9,000 hooks")
    loads = []
    real = precommit.yaml_load
    monkeypatch.setattr(precommit, "yaml_load", lambda text: loads.append(1) or real(text))
    result = rollout("plan", "--manifest", manifest, "--repo", "victim", "--json")
    [victim] = json.loads(result.stdout)["repos"]
    assert ".pre-commit-config.yaml:" in victim["error"], victim
    assert "holds more than 100,000 values" in victim["error"], victim
    assert "aliases" not in victim["error"], victim
    assert loads == [], "pre-commit's loader read the file before the count refused it"
