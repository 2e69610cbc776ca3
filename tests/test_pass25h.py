"""Issue 13, pass 25h: a verification pass over items 5-8 (the leaks), session 29, after passes 25b
and 25e.

Each finding's test fails on the main this pass started from (c423806, checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import rollout
from tests.test_pass24b import objects
from tests.test_pass25e import _one_repo

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1

TOKEN = "ghp_Zq25h" + "AbCdEfGhIjKlMnOpQrStUvWxYz012"  # a GitHub token at its issued length


@pytest.mark.parametrize(
    ("how", "refused"),
    [
        ("--workspace sk-projects", False),
        ("--workspace hf_transformers", False),
        ("commit message hf_transformers", False),
        ("pr title sk-learn", False),
        ("--workspace TOKEN", True),
        ("commit message TOKEN", True),
    ],
)
def test_a_workspace_or_commit_message_naming_a_tokens_prefix_is_no_token(
    tmp_path, monkeypatch, how, refused
):
    """NEW (a false refusal, the one pass 25e fixed for repo names, left in two places): the
    `--workspace` check and the manifest's commit-message / pull-request-text check looked for a
    token's prefix only (`sk-` + 2 letters, `hf_` + 8): `rollout plan --workspace ~/sk-projects`
    was refused as "holds a private key, a token or a URL with a password, not a folder", and
    `commit_message: "chore: secrets for hf_transformers"` as "holds a credential" (pointing at the
    wrong line). A token at its issued length (and the age key) is still refused, never printed."""
    manifest = _one_repo(tmp_path, monkeypatch, {"README.md": "x\n"}, "APP_ENV=dev\n")
    text = manifest.read_text()
    args = ["plan", "--manifest", str(manifest)]
    word = how.split()[-1].replace("TOKEN", TOKEN)
    if how.startswith("--workspace"):
        (tmp_path / word).mkdir()
        (tmp_path / "ws" / "victim").rename(tmp_path / word / "victim")
        args += ["--workspace", str(tmp_path / word)]
    elif how.startswith("commit"):
        manifest.write_text(
            text.replace(
                "    precommit_hook",
                f'    commit_message: "chore: secrets for {word}"\n    precommit_hook',
            )
        )
    else:
        pr = f'defaults:\n  pull_request:\n    title: "chore: secrets for {word}"\n'
        manifest.write_text(text.replace("defaults:\n", pr))
    result = rollout(*args)
    out = result.stdout + result.stderr
    assert TOKEN not in out, out
    if refused:
        assert result.code == 1 and ("holds a credential" in out or "holds a private key" in out), (
            out
        )
    else:
        assert result.code == 0 and "1 with changes" in result.stdout, out


_IN_THE_MANIFEST = {
    "a group's title": (
        '    env_example:\n      groups:\n        - title: "CI keys TOKEN"\n'
        "          vars: [APP_ENV]\n"
    ),
    "a file's vars": '    files:\n      - {path: NOTES.md, template: n.j2, vars: {note: "TOKEN"}}\n',
    "a file's vars named url": (
        '    files:\n      - {path: NOTES.md, template: n.j2, vars: {note: x, url: "TOKEN"}}\n'
    ),
    "a plaintext_env pattern": "PLAINTEXT",
}


@pytest.mark.parametrize("where", list(_IN_THE_MANIFEST))
def test_a_token_in_a_groups_title_a_files_vars_or_a_plaintext_env_pattern_is_refused(
    tmp_path, monkeypatch, where
):
    """ON-LIST 13.6 ("whatever the manifest says"; pass 25e's check of the manifest's names, in more
    of its texts): a token at its issued length in an `env_example` group's `title:` (written as a
    comment into `.env.example`), in a file's `vars:` (rendered into the file) or in a
    `plaintext_env` pattern (written into `.gitignore` and `.sops.yaml`) was printed in the plan's
    diff and committed by `apply --yes`: pass 18b and 25e checked commit messages, branches, bases and
    paths only. Refused at load with its line, never echoed, nothing committed."""
    from tests.helpers import git
    from tests.test_pass25e import _one_repo

    extra = _IN_THE_MANIFEST[where].replace("TOKEN", TOKEN)
    manifest = _one_repo(tmp_path, monkeypatch, {"README.md": "x\n"}, "APP_ENV=dev\n")
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "n.j2").write_text("hello {{ note }}{% if url is defined %} {{ url }}{% endif %}\n")
    text = manifest.read_text().replace("workspace: ws\n", "workspace: ws\ntemplates: tpl\n")
    import shutil
    from pathlib import Path

    import juniper_rollout

    for shipped in (Path(juniper_rollout.__file__).parent.parent / "templates").glob("*.j2"):
        shutil.copyfile(shipped, tpl / shipped.name)
    if extra == "PLAINTEXT":
        text = text.replace(
            "defaults:\n", f'defaults:\n  plaintext_env: {{include: [.env, "{TOKEN}"]}}\n'
        )
    else:
        text = text.replace("    env_example: {from: dotenv}\n", "") + extra
    manifest.write_text(text)
    for command in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*command, "--manifest", manifest)
        out = result.stdout + result.stderr
        assert result.code == 1 and "the manifest holds a token" in result.stderr, out
        assert TOKEN not in out and "Zq25h" not in out, out
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "branch", "--list").strip() == "* main"


DOCKER = "dckr_pat_YIWeFemxZUGjliLzGWfbkPTKN2U"  # a Docker Hub access token's shape, random


@pytest.mark.parametrize("line", [f"{DOCKER}=", f"{DOCKER}=1", f"export {DOCKER}="])
def test_a_docker_hub_token_pasted_before_an_equals_sign_is_refused_never_echoed(
    tmp_path, monkeypatch, line
):
    """ON-LIST 13.8 (a token's known prefix the list lacked): a Docker Hub access token
    (`dckr_pat_` and 27 characters of `[A-Za-z0-9_-]`, Docker's documented shape) on a `.env` line
    before an `=` passed as a variable name one time in ten (measured: 21 of 200): plan printed it
    in the names it found and the `.env.enc` line, `apply --yes` committed it in `.env.example` and
    as a plaintext key in `.env.enc`. `dckr_pat_`/`dckr_oat_` join the known token shapes: refused
    with its line number, never echoed, nothing committed."""
    from tests.helpers import git
    from tests.test_pass25e import _one_repo

    manifest = _one_repo(
        tmp_path, monkeypatch, {"README.md": "x\n"}, f"APP_ENV=dev\nAPI_TOKEN=Zq25hValue9\n{line}\n"
    )
    for command in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*command, "--manifest", manifest)
        out = result.stdout + result.stderr
        assert result.code == 1 and ".env:3:" in out, out
        assert "YIWe" not in out and "Zq25hValue9" not in out, out
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "branch", "--list").strip() == "* main"
    assert b"YIWe" not in objects(repo)


def test_names_with_docker_words_are_still_names():
    """Control: variable names about Docker are no tokens."""
    from juniper_rollout.dotenv import is_credential_name

    for name in ("DOCKER_PAT", "dckr_pat", "DCKR_PAT_TOKEN", "dckr_pat_for_ci", "DOCKERHUB_TOKEN"):
        assert not is_credential_name(name), name
