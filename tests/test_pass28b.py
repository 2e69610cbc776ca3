"""Issue 13, pass 28b: session 32's verification round over items 5-8 (the leaks), on main at
d4c5fb9 (session 31's code attacked first: the leak guard's folder listing, the new token shapes,
render's `_given`, verify's secret-files and hooks checks).

Each finding's test fails on that main (checked by undoing its fix)."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers import rollout
from tests.leakshapes import template_and_message_refused, token_name_refused
from tests.test_pass27e import other_repo_rendering

pytestmark = pytest.mark.usefixtures("loopback_only")  # conftest.py: no test reaches past 127.0.0.1


@pytest.mark.parametrize("setting", ["core.bare=true", "core.worktree=elsewhere"])
def test_a_clone_whose_config_names_no_working_tree_or_another_still_guards_its_folders(
    tmp_path, setting
):
    """ON-LIST 13.6: a clone whose `.git/config` says `core.bare = true` (a working tree beside it)
    or names another folder as `core.worktree` was listed by git as no files, or as that other
    folder's: a value in its `backend/.env.prod` was no value, and a template holding it was shown
    in the plan's diff and committed, in another repo's plan and in its own. Its folder is listed
    as the working tree now."""
    value = "Qz7notthedemocanary28"
    manifest, ra = other_repo_rendering(tmp_path, value)
    text = manifest.read_text()
    manifest.write_text(
        text.replace(
            "  - name: ra\n", "  - name: ra\n    files: [{path: notes.txt, template: notes.j2}]\n"
        )
    )
    (ra / "backend").mkdir()
    (ra / "backend" / ".env.prod").write_text(f"DB_PASSWORD={value}\n")
    key, _, setting_value = setting.partition("=")
    if setting_value == "elsewhere":
        (tmp_path / "elsewhere").mkdir()
        setting_value = str(tmp_path / "elsewhere")
    subprocess.run(["git", "-C", ra, "config", key, setting_value], check=True)
    for name, said in (
        ("rb", "plaintext backend/.env.prod of ra"),
        ("ra", "plaintext backend/.env.prod;"),
    ):
        result = rollout("plan", "--manifest", manifest, "--repo", name)
        assert result.code == 1, result.stdout
        assert value not in result.stdout + result.stderr, result.stdout
        assert said in result.stdout, result.stdout
    applied = rollout("apply", "--manifest", manifest, "--yes")
    assert value not in applied.stdout + applied.stderr
    for clone in (ra, tmp_path / "ws" / "rb"):
        objects = subprocess.run(
            ["git", "-C", clone, "cat-file", "--batch-all-objects", "--batch"],
            capture_output=True,
            check=True,
        ).stdout
        assert value.encode() not in objects


def _git(*args) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *map(str, args)],
        check=True,
        capture_output=True,
    )


def submodule_added(tmp_path, clone, at: str) -> None:
    """A repository of one commit added to ``clone`` as a submodule checked out at ``at``, committed."""
    source = tmp_path / "apisrc"
    source.mkdir()
    (source / "README.md").write_text("api\n")
    _git("-C", source, "init", "-q", "-b", "main")
    _git("-C", source, "add", "-A")
    _git("-C", source, "commit", "-qm", "api")
    _git("-C", clone, "-c", "protocol.file.allow=always", "submodule", "add", "-q", source, at)
    _git("-C", clone, "commit", "-qm", "add the api")


@pytest.mark.parametrize(
    "shape", ["a submodule", "an untracked clone inside", "inside, damaged index"]
)
def test_a_value_in_a_repository_inside_a_clone_guards_every_plan(tmp_path, shape):
    """ON-LIST 13.6: git lists a repository inside a clone's tree as one entry and never enters it
    (a submodule's checkout, a service cloned inside a workspace repository), so the leak guard
    never read the `.env` in its folder: another repo's template holding that value was shown in
    the plan's diff and committed. Its files are listed as a folder's now (`gitrepo._with_nested`)."""
    value = "Nx5notthedemocanary77"
    manifest, ra = other_repo_rendering(tmp_path, value)
    if shape == "a submodule":
        submodule_added(tmp_path, ra, "services/api")
        where = "services/api/.env"
    else:
        _git("init", "-q", ra / "tools" / "cli")
        where = "tools/cli/config/prod.env"
    (ra / where).parent.mkdir(parents=True, exist_ok=True)
    (ra / where).write_text(f"DB_PASSWORD={value}\n")
    if shape == "inside, damaged index":
        (ra / ".git" / "index").write_bytes(b"garbage")
    guarded_by(tmp_path, manifest, where, value)


def guarded_by(tmp_path, manifest, where: str, value: str) -> None:
    """rb's plan is refused for ``value``, ra's plaintext at ``where`` (named, never shown), and rb's
    apply neither shows it nor commits it."""
    result = rollout("plan", "--manifest", manifest, "--repo", "rb")
    assert result.code == 1, result.stdout
    assert value not in result.stdout + result.stderr, result.stdout
    assert f"plaintext {where} of ra" in result.stdout, result.stdout
    applied = rollout("apply", "--manifest", manifest, "--repo", "rb", "--yes")
    assert value not in applied.stdout + applied.stderr
    objects = subprocess.run(
        ["git", "-C", tmp_path / "ws" / "rb", "cat-file", "--batch-all-objects", "--batch"],
        capture_output=True,
        check=True,
    ).stdout
    assert value.encode() not in objects


# in each issuer's documented shape, random here: Vercel's changelog "Introducing new token formats"
# (`vcp_` personal access token, `vci_` integration, `vca_` app access, `vcr_` app refresh, `vck_`
# API key; 24 characters follow, as its older tokens had; these pass as names without the shape)
# and Vault's token page (`hvs.`, `hvb.`,
# `hvr.`; a recovery token is `hvr.` and the 24 of Vault's `TokenLength`)
_ISSUED = {
    "Vercel personal access token": "vcp_hViIMTloiODWAnnjzk19iMmm",
    "Vercel integration token": "vci_JgNihRPs3GMPCejWWmkZH4fC",
    "Vercel app access token": "vca_mbvGhhxeeMmKkIqRCzO1F8VH",
    "Vercel app refresh token": "vcr_owaOQirtsGm4x8atFBGLTbwt",
    "Vercel API key": "vck_WVZluYmCDrAkXJwxHnSU4ICf",
    "Vault recovery token": "hvr.Kq7wYbZ3xNmPdR2tVcHsFg9X",
    # Buildkite's agent (`redact.tokenPrefixes`, "the prefixes of tokens issued by Buildkite"):
    # bodies of base64url and `.`, 38 bytes or more
    "Buildkite cluster agent token": "bkct_q7Hx-2mVnP_8sKdLw3RzT9bYc4Ej6GfUo1Ai5NpQ",
    "Buildkite portal token": "bkpat_Zt4nW8-yQk2LsVx_7GpHd3Rm9Ca6Fb1Ue5Jo0Ki",
    "Buildkite packages registry token": "bkrt_3fKp9-XmQ2_wLz8VnRa5Ty1Hc7Ud4Gb6Jo0Es.Mi",
    # GitLab's token page: a workspace token (`glwt-`, 20 as its other prefixed tokens)
    "GitLab workspace token": "glwt-Zq3Lm8Pq2Rs5Tu7Vw9Xy",
}


@pytest.mark.parametrize("issuer", list(_ISSUED))
def test_a_template_or_commit_message_holding_a_newly_shaped_token_is_refused(tmp_path, issuer):
    """ON-LIST 13.6: a template holding a Vercel token or API key (a deploy workflow's
    `VERCEL_TOKEN: vcp_…`), a Vault recovery token, a Buildkite token of a prefix pass 27b's shape
    lacked (a cluster agent token in an agent's config) or a GitLab workspace token was rendered: `rollout plan` showed it in the
    diff and `apply --yes` committed it; the manifest's commit message holding one was committed.
    Both are refused now in one line, never echoed, nothing in git."""
    token = _ISSUED[issuer]
    template_and_message_refused(tmp_path, token, "ci: deploy with {token}", token[-18:-4])


@pytest.mark.parametrize("issuer", [i for i in _ISSUED if i.startswith("Vercel")])
def test_a_vercel_token_before_an_equals_sign_is_refused_never_echoed(
    tmp_path, monkeypatch, issuer
):
    """ON-LIST 13.8: a Vercel token (`vcp_` and 24 letters and digits, an identifier) on a `.env`
    line before an `=` passed as a variable name one time in four: printed among the names and
    committed as a plaintext key of `.env.enc`. Refused now with the line number, never echoed."""
    token = _ISSUED[issuer]
    token_name_refused(tmp_path, monkeypatch, token, token[-18:-4])


def test_words_and_placeholders_like_these_shapes_are_still_no_tokens():
    """Control: VCR.py's settings, placeholders and prose naming the prefixes are no tokens."""
    from juniper_rollout.dotenv import is_credential_name
    from juniper_rollout.secretshape import holds_full_token, template_credential

    for text in (
        "vcr_cassette_library_dir: tests/cassettes  # VCR.py",
        "VERCEL_TOKEN=vcp_XXXXXXXXXXXXXXXXXXXXXXXX",
        "tokens start vcp_, vci_, vca_, vcr_ or vck_; a Vault recovery token hvr.",
        "VAULT_TOKEN=hvr.XXXXXXXXXXXXXXXXXXXXXXXX",
        "vault operator generate-root -generate-recovery-token",
        "BUILDKITE_AGENT_TOKEN=bkct_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "buildkite-agent start --token bkjat_encoded-token",
    ):
        assert not holds_full_token(text) and not template_credential(text), text
    for name in ("vcr_cassette_library_dir", "vcr_record_mode", "VCR_CASSETTE_DIR"):
        assert not is_credential_name(name), name
