"""Issue 13, pass 25e: a sixth adversarial pass over items 5-8 (the leaks), session 29, after pass 25b.

Each finding's test fails on the main this pass started from (2342bd3, checked by undoing its fix)."""

from __future__ import annotations

import json

import pytest

from tests.helpers import git
from tests.test_pass24b import SECRET, objects
from tests.test_pass25b import _plain_rollout

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


def _one_repo(tmp_path, monkeypatch, files: dict[str, str], dotenv: str, extra: str = ""):
    """One repo committing ``files``, its untracked `.env` ``dotenv`` encrypted to `.env.enc` (a key of
    the test's own in SOPS_AGE_KEY_FILE); ``extra``: more of the repo's manifest entry."""
    from juniper_rollout.keys import generate_key_file
    from tests.demofleet import make_repo

    key = generate_key_file(tmp_path / "age" / "keys.txt")
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(tmp_path / "age" / "keys.txt"))
    make_repo(tmp_path / "ws" / "victim", files)
    (tmp_path / "ws" / "victim" / ".env").write_text(dotenv)
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{key}]\n"
        "repos:\n  - name: victim\n    precommit_hook: skip\n    agents_md: skip\n"
        "    env_example: {from: dotenv}\n    encrypt:\n      - {source: .env, target: .env.enc}\n"
        + extra
    )
    return manifest


_NAMED = {
    "the tracked file": "DOTENV_CONFIG_PATH=config/prod.env",
    "the clone": "APP_ROOT=CLONE",
}


@pytest.mark.parametrize("named", list(_NAMED))
def test_a_saved_plan_deleting_a_tracked_env_file_a_value_names_still_applies(
    tmp_path, monkeypatch, named
):
    """NEW (a false refusal of pass 25b's saved-plan words check, 13.6). A repo tracking a plaintext
    `config/prod.env` whose `.env` names that file (`DOTENV_CONFIG_PATH=config/prod.env`, dotenv's
    own variable): plan and `apply --yes` delete it, but `plan --out` then `apply PLAN` refused the
    unedited plan ("the error message would contain the value on line 1 … (was the plan file
    edited? plan again)"), and planning again never helps: the plan's words (the delete's path, and
    its `git filter-repo --path` advice) hold the value, a path the repo tracks at its base. A
    path the base tracks is no new leak: apply lets it through, as plan printed it. The same for a
    `.env` naming the clone itself (`APP_ROOT=/srv/app`), which the delete's advice names since pass
    25d (`git -C CLONE filter-repo …`)."""
    manifest = _one_repo(
        tmp_path,
        monkeypatch,
        {"README.md": "x\n", "config/prod.env": "LOG_LEVEL=warn\n"},
        f"{_NAMED[named]}\nAPI_TOKEN={SECRET}\n".replace("CLONE", str(tmp_path / "ws" / "victim")),
    )
    saved = tmp_path / "plan.json"
    planned = _plain_rollout("plan", "--manifest", manifest, "--out", saved)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "config/prod.env          delete" in planned.stdout, planned.stdout
    result = _plain_rollout("apply", saved, "--manifest", manifest, "--yes")
    said = result.stdout + result.stderr
    assert result.returncode == 0, said
    assert "created" in said, said
    repo = tmp_path / "ws" / "victim"
    tree = git(repo, "ls-tree", "-r", "--name-only", "chore/sops-age-rollout")
    assert "config/prod.env" not in tree.split(), tree
    assert "Zq81Lm0pWx42Rt" not in said
    assert b"Zq81Lm0pWx42Rt" not in objects(repo)


def test_a_saved_plans_delete_path_holding_a_value_the_base_does_not_track_is_refused(
    tmp_path, monkeypatch
):
    """Control for the test above: a hand-edited plan whose delete names a plaintext env file the base
    does not track, its path holding a `.env` value, is still refused and never printed."""
    manifest = _one_repo(
        tmp_path,
        monkeypatch,
        {"README.md": "x\n", "config/prod.env": "LOG_LEVEL=warn\n"},
        f"API_TOKEN={SECRET}\n",
    )
    saved = tmp_path / "plan.json"
    assert _plain_rollout("plan", "--manifest", manifest, "--out", saved).returncode == 0
    plan = json.loads(saved.read_text())
    [deleted] = [f for f in plan["repos"][0]["files"] if f["action"] == "delete"]
    deleted["path"] = f"config/{SECRET}.env"
    saved.write_text(json.dumps(plan))
    result = _plain_rollout("apply", saved, "--manifest", manifest, "--yes")
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "Zq81Lm0pWx42Rt" not in said, said
    assert b"Zq81Lm0pWx42Rt" not in objects(tmp_path / "ws" / "victim")


@pytest.mark.parametrize("named", list(_NAMED))
def test_verify_names_a_tracked_env_file_a_value_names(tmp_path, monkeypatch, named):
    """NEW (a false refusal of the printed-text guard, pass 23e's verify lines, 13.6). A repo tracking a
    plaintext `config/prod.env` whose `.env` names it (`DOTENV_CONFIG_PATH=config/prod.env`): verify's
    plaintext-env check, whose line says which tracked file holds plaintext, printed "the error
    message would contain the value on line 1 of the plaintext .env" in its place (text and
    `--json`), so the user was never told which file to untrack. A path the base tracks is no value
    to hide: the line is shown; the canary never is."""
    manifest = _one_repo(
        tmp_path,
        monkeypatch,
        {"README.md": "x\n", "config/prod.env": "LOG_LEVEL=warn\n"},
        f"{_NAMED[named]}\nAPI_TOKEN={SECRET}\n".replace("CLONE", str(tmp_path / "ws" / "victim")),
    )
    for args in (("verify",), ("verify", "--json")):
        result = _plain_rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.returncode == 1, said
        assert "config/prod.env tracked in git at main" in said, said
        assert "would contain the value" not in said, said
        assert "filter-repo --invert-paths --path config/prod.env" in said, said
        assert "Zq81Lm0pWx42Rt" not in said


_AGE_KEY = "AGE-SECRET-KEY-1" + ("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L" * 2)[:58]
_TOKEN = "ghp_Zq81Lm0pWx42RtAbCdEfGhIjKlMnOpQrSt"


@pytest.mark.parametrize(
    "args",
    [
        (_AGE_KEY,),
        ("newrepo", "--path", _AGE_KEY),
        ("newrepo", "--path", f"ws/{_TOKEN}"),
    ],
    ids=["the age key as the name", "the age key as --path", "a token in --path"],
)
def test_bootstrap_never_writes_or_prints_a_key_or_token_pasted_as_the_name_or_path(tmp_path, args):
    """ON-LIST 13.7 (pass 18b's "a key pasted where a name was wanted", for bootstrap's own words).
    `rollout bootstrap AGE-SECRET-KEY-1…` (the private key pasted as the new repo's name) or
    `--path KEY` / `--path ws/ghp_…` printed the key or token in the manifest diff and "will
    initialise a new repository at …", and with `--yes` wrote it into the manifest (the manifest
    loader refused a name shaped like a token, not the age key, and read `path:` unchecked); the
    manifest now refuses both, with its line, never echoed."""
    from tests.test_hostile import KEY

    manifest = tmp_path / "repos.yaml"
    before = f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos: []\n"
    manifest.write_text(before)
    for mode in ("--dry-run", "--yes"):
        result = _plain_rollout("bootstrap", *args, mode, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.returncode == 1, said
        assert _AGE_KEY[16:40] not in said and _TOKEN[4:20] not in said, said
        assert manifest.read_text() == before
    left = [p.name for p in tmp_path.rglob("*")]
    assert not any(_AGE_KEY[16:40] in n or _TOKEN[4:20] in n for n in left), left


def test_repos_named_or_placed_like_a_tokens_prefix_are_no_tokens(tmp_path):
    """NEW (a false refusal of pass 20b's name check, 13.7 area). A repo named `hf_transformers`,
    `npm_packages` or `sk-learn-fork` was refused as "a repository name shaped like a token (a known
    prefix at its issued length)": the check asked for a token's prefix only (`hf_` and 8 letters,
    `sk-` and 2), what discovery asks of a value. A name (and now a `path:`) is refused for a token at
    its issued length or a private key, as the message says."""
    from tests.demofleet import make_repo
    from tests.test_hostile import KEY

    names = ["hf_transformers", "npm_packages", "sk-learn-fork"]
    for name in names:
        make_repo(tmp_path / "ws" / name, {"README.md": "x\n"})
    make_repo(tmp_path / "code" / "sk-tools", {"README.md": "x\n"})
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n"
        + "".join(f"  - name: {n}\n" for n in names)
        + "  - {name: tools, path: code/sk-tools}\n"
    )
    result = _plain_rollout("plan", "--manifest", manifest)
    said = result.stdout + result.stderr
    assert result.returncode == 0, said
    assert all(f"{n}  (main" in said for n in [*names, "tools"]), said


@pytest.mark.parametrize(
    "entry",
    [
        f"    branch: chore/{_TOKEN}\n",
        f"    branch: chore/{_AGE_KEY}\n",
        f"    base: {_TOKEN}\n",
        f"    files:\n      - {{path: docs/{_TOKEN}.md, template: SOPS_USAGE_GUIDE.md.j2}}\n",
        f"    encrypt:\n      - {{source: .env, target: .env.{_TOKEN}.enc}}\n",
    ],
    ids=[
        "a token in branch",
        "the age key in branch",
        "a token in base",
        "a file path",
        "a target",
    ],
)
def test_a_token_or_key_in_a_manifests_branch_base_or_path_is_refused_never_printed(
    tmp_path, entry
):
    """ON-LIST 13.6 ("whatever the manifest says"; pass 18b's refusal of a credential in the texts the
    tool commits, in more of them). A manifest whose `branch:`, `base:`, a file's `path:` or an
    `encrypt:` target held a token or the age private key was printed in every plan line (`main →
    chore/ghp_…`, "base branch 'ghp_…' not found") and would be committed as a path and pushed as a
    ref name to every repo's origin: only commit_message and the pull request's texts were checked.
    The manifest refuses them, with the line, never echoed."""
    from tests.demofleet import make_repo
    from tests.test_hostile import KEY

    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\n"
        "repos:\n  - name: victim\n" + entry
    )
    for args in (("plan",), ("apply", "--yes")):
        result = _plain_rollout(*args, "--manifest", manifest)
        said = result.stdout + result.stderr
        assert result.returncode == 1, said
        assert "repos.yaml:" in said, said
        assert _TOKEN[4:20] not in said and _AGE_KEY[16:40] not in said, said
    repo = tmp_path / "ws" / "victim"
    assert not git(repo, "branch", "--list", "chore/*").strip()


def test_a_rollout_named_like_a_token_is_refused_never_committed(tmp_path):
    """ON-LIST 13.6 (as the test above): a named rollout whose name is a token (`rollouts: {ghp_…:
    …}`) was redacted in the lines that list rollouts, but `apply --rollout ghp_…` committed it in
    each commit's `Rollout-Name:` line (pushed with --push)."""
    from tests.demofleet import make_repo
    from tests.test_hostile import KEY

    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "x.j2").write_text("hi\n")
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ntemplates: tpl\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"rollouts:\n  {_TOKEN}:\n    branch: chore/hygiene\n    commit_message: 'chore: hygiene'\n"
        "    files:\n      - {path: X.md, template: x.j2}\n"
        "repos:\n  - name: victim\n"
    )
    result = _plain_rollout("apply", "--yes", "--rollout", _TOKEN, "--manifest", manifest)
    said = result.stdout + result.stderr
    assert result.returncode == 1, said
    assert "a branch name or a file path holds a private key or a token" in said, said
    assert _TOKEN[4:20] not in said, said
    assert _TOKEN[4:20].encode() not in objects(tmp_path / "ws" / "victim")
