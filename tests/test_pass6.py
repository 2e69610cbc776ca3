"""Pass 6 of the outside adversary (issue 13): each test failed on main before its fix.

The attempts, held and broken, are logged in the pass-6 log; SECURITY.md lists each guarantee.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.helpers import git, rollout
from tests.test_adversary import apply
from tests.test_pass3 import BRANCH, commit_on, main_moves_to

# --- a plaintext env file is never a path the tool writes ----------------------------------------


def test_a_managed_path_named_like_a_plaintext_env_file_is_refused_with_its_line(fleet, tmp_path):
    """`files: - path: .env` was rendered and committed; git overwrites an IGNORED file when it checks
    out one that is tracked, so the next pull after the merge replaced each clone's plaintext .env."""
    text = fleet.manifest.read_text()
    guide = "        template: SOPS_USAGE_GUIDE.md.j2\n"
    for path in (".env", "config/.env.local", "deploy/prod.env", ".ENV"):
        fleet.manifest.write_text(
            text.replace(
                guide, f"{guide}      - path: {path}\n        template: SOPS_USAGE_GUIDE.md.j2\n", 1
            )
        )
        line = fleet.manifest.read_text().splitlines().index(f"      - path: {path}") + 1
        result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
        assert result.code == 1, (path, result.stdout)
        assert (
            f"repos.yaml:{line}: repo juniper-ml: {path} is a plaintext env file" in result.stderr
        )
    fleet.manifest.write_text(text)
    assert not git(fleet.repo("juniper-ml"), "branch", "--list", BRANCH)


def test_a_saved_plan_writing_a_plaintext_env_file_is_refused(fleet, tmp_path):
    saved = tmp_path / "plan.json"
    only = ("--manifest", fleet.manifest, "--repo", "juniper-data")
    assert rollout("plan", *only, "--out", saved).code in (0, 2)
    data = json.loads(saved.read_text())
    data["repos"][0]["files"][0]["path"] = ".env"
    saved.write_text(json.dumps(data))
    result = rollout("apply", str(saved), *only, "--yes")
    assert result.code == 1
    assert "damaged plan file (repo juniper-data: .env is a plaintext env file" in result.stderr
    assert not git(fleet.repo("juniper-data"), "branch", "--list", BRANCH)


# --- the branch's ciphertext is never dropped by a rebuild -----------------------------------------


def _rebuild_after(fleet, tmp_path, edit) -> tuple:
    """apply; the plaintext moved away; the manifest edited by ``edit``; main moves; apply again."""
    repo = fleet.repo("juniper-cascor")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes").code == 0
    (repo / ".env").rename(tmp_path / "env-moved-away")
    fleet.manifest.write_text(edit(fleet.manifest.read_text()))
    main_moves_to(repo, {"NEWS": "x\n"}, tmp_path)
    tip = git(repo, "rev-parse", BRANCH)
    return repo, tip, rollout("apply", *only, "--yes")


ENCRYPT = "    encrypt:\n      - source: .env\n        target: .env.enc\n"


def test_disabling_the_encrypt_entry_never_drops_the_branchs_ciphertext(fleet, tmp_path):
    """`enabled: false` with no plaintext at hand: plan said "skip (encryption is off)" and the rebuilt
    branch had no .env.enc at all (pass 6)."""
    repo, tip, result = _rebuild_after(
        fleet, tmp_path, lambda t: t.replace(ENCRYPT, ENCRYPT + "        enabled: false\n", 1)
    )
    assert result.code == 1, result.stdout
    assert "the rollout branch holds .env.enc, which no enabled `encrypt:` entry" in result.stdout
    assert git(repo, "rev-parse", BRANCH) == tip


def test_removing_the_encrypt_block_never_drops_the_branchs_ciphertext(fleet, tmp_path):
    repo, tip, result = _rebuild_after(fleet, tmp_path, lambda t: t.replace(ENCRYPT, "", 1))
    assert result.code == 1, result.stdout
    assert "would drop it, the only copy of those values in git" in result.stdout
    assert git(repo, "rev-parse", BRANCH) == tip
    assert ".env.enc" in git(repo, "ls-tree", "--name-only", BRANCH)


# --- plan --out never replaces what the tool reads ---------------------------------------------


def test_plan_out_never_replaces_a_clones_file_the_manifest_or_a_git_folder_behind_a_symlink(
    fleet, tmp_path
):
    """`--out clone/.env` replaced the only plaintext copy of the secrets, `--out repos.yaml` the
    manifest, and `--out LINK/HEAD` (LINK -> a clone's .git) that clone's HEAD (pass 6)."""
    cascor = fleet.repo("juniper-cascor")
    (tmp_path / "gitlink").symlink_to(fleet.repo("juniper-ml") / ".git")
    (cascor / "NOTES.txt").write_text("a person's untracked notes\n")
    cases = {
        cascor / ".env": "is a plaintext env file, which holds secrets the tool never overwrites",
        tmp_path / "elsewhere.env": "is a plaintext env file",
        fleet.manifest: "is the manifest",
        cascor / "NOTES.txt": "is a file in the clone of juniper-cascor, whose working tree",
        cascor / "AGENTS.md": "is a file in the clone of juniper-cascor",
        tmp_path / "gitlink" / "HEAD": "is inside a .git folder",
    }
    (tmp_path / "elsewhere.env").write_text("DB_PASSWORD=not-the-canary-1234\n")
    before = {path: path.read_bytes() for path in cases}
    for path, words in cases.items():
        result = rollout("plan", "--manifest", fleet.manifest, "--out", path)
        assert result.code == 1, (path, result.stdout)
        assert words in result.stderr, (path, result.stderr)
    assert {path: path.read_bytes() for path in cases} == before
    assert git(fleet.repo("juniper-ml"), "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    new = tmp_path / "plan.json"  # an ordinary new file is still fine
    assert rollout("plan", "--manifest", fleet.manifest, "--out", new).code in (0, 2)
    assert json.loads(new.read_text())["format_version"] == 1
    inside = cascor / "plan.json"  # a plan saved in a clone may be saved there again
    for _ in range(2):
        assert rollout("plan", "--manifest", fleet.manifest, "--out", inside).code in (0, 2)


# --- a stale plaintext never puts back the values a newer ciphertext holds ------------------------


def test_a_stale_env_never_reverts_a_value_changed_with_sops_edit_on_the_base(fleet, tmp_path):
    """The branch merged; HF_TOKEN changed with `sops edit` on main (a rotated credential); the clone's
    .env, saved before that, still held the old value: plan said "update (encrypt .env: 15 variables)"
    and apply committed the old value over the new one (pass 5's guard compares names only) (pass 6)."""
    import os

    from juniper_rollout import sops

    repo = fleet.repo("juniper-cascor")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes").code == 0
    fleet.merge_all()
    config = git(repo, "show", "main:.sops.yaml")
    plain = sops.decrypt_dotenv(git(repo, "show", "main:.env.enc").encode(), filename=".env.enc")
    name, _, rest = plain.partition(b"=")
    rotated = name + b"=rotated-value-not-the-canary" + rest[rest.index(b"\n") :]
    cipher = sops.encrypt_dotenv(rotated, sops_config=config, filename=".env.enc").decode()
    main_moves_to(repo, {".env.enc": cipher}, tmp_path)
    os.utime(repo / ".env", (1_000_000_000, 1_000_000_000))  # saved long before that edit
    result = rollout("plan", *only)
    assert result.code == 1, result.stdout
    # round four: read per name against the ciphertext the branch was built on, before file times
    assert "changed the value of 1 name since" in result.stdout and "(HF_TOKEN)" in result.stdout
    assert "rotated-value" not in result.stdout
    tip = git(repo, "rev-parse", BRANCH)
    assert rollout("apply", *only, "--yes").code == 1
    assert git(repo, "rev-parse", BRANCH) == tip  # nothing written
    # saving .env again no longer keeps its old value over main's known change (round four: file
    # times could not tell a save to keep the values from an edit of another name)
    os.utime(repo / ".env")
    assert rollout("plan", *only).code == 1


# --- a credential pasted where a name goes, with '_' in it, or read from a committed ciphertext --------

FERNET = "TsL6Gs85kVObQ_qdZ9Y3_Qusyj005U7fjqtf7EyDCHQ="  # Fernet.generate_key(): URL-safe base64


@pytest.mark.parametrize(
    "line",
    [
        FERNET,  # one in four Fernet keys has '_' and no '-': an identifier, then '='
        "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=",  # Groq
        "dop_v1_0849a676a25599514c3d341d51995116f1408aa19ac79da3b6a7a9ddbb9989dd=",  # DigitalOcean
        "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=",  # Shopify
    ],
)
def test_a_random_key_holding_an_underscore_is_never_a_variable_name(line):
    """`is_random_name` skipped every name holding '_': a pasted Fernet key became a variable whose
    NAME sops keeps in clear, committed in .env.enc (pass 6)."""
    from juniper_rollout.dotenv import DotenvError, parse_names

    with pytest.raises(DotenvError) as caught:
        parse_names(f"HF_TOKEN=x\n{line}\n".encode())
    assert ".env:2: text before '=' is shaped like a credential" in str(caught.value)
    assert line.rstrip("=") not in str(caught.value)


def test_names_with_underscores_and_mixed_case_are_still_names():
    from juniper_rollout.dotenv import parse_names

    names = [
        "NEXT_PUBLIC_FirebaseApiKeyV2_2024",
        "myApp_DatabaseUrl_Prod_v123",
        "Juniper_Cascor_Worker_Api_Key_V2_123",
        "Azure_Storage_Account2_Key1_Conn3",
        "REACT_APP_GoogleMapsKey_v3_1_2",
        "S3_Bucket_Name_For_Region_Eu_West_1_Backup2",
        "AWS_SECRET_ACCESS_KEY_ID_FOR_PROD_2024",
    ]
    assert parse_names("".join(f"{n}=1\n" for n in names).encode()) == names


def _ciphertext_naming_a_token(fleet, tmp_path) -> tuple:
    """main's .env.enc re-encrypted with sops directly (the tool bypassed), holding a key `ghp_…`."""
    from juniper_rollout import sops

    repo = fleet.repo("juniper-cascor")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes").code == 0
    fleet.merge_all()
    token = "ghp_" + "Zx81Qm4Kp7Vt2Rw9Ls3Nd6Hy0Bc5Fj1Ge8Ua"
    plain = sops.decrypt_dotenv(git(repo, "show", "main:.env.enc").encode(), filename=".env.enc")
    config = tmp_path / "sops.yaml"
    config.write_text(git(repo, "show", "main:.sops.yaml"))
    cipher = subprocess.run(  # sops itself: the tool's own encrypt refuses such a name
        [
            sops.sops_path(),
            "--config",
            str(config),
            "encrypt",
            "--input-type",
            "dotenv",
            "--output-type",
            "dotenv",
            "--filename-override",
            ".env.enc",
            "/dev/stdin",
        ],
        input=plain + f"{token}=1\n".encode(),
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert token in cipher  # sops keeps names in clear
    main_moves_to(repo, {".env.enc": cipher}, tmp_path)
    return repo, only, token


def test_a_token_held_as_a_name_in_the_committed_ciphertext_is_never_echoed(fleet, tmp_path):
    """pass 5's names guard listed the names the clone's .env lacked, a token among them, in plan and
    --json (pass 6). Lead 31 (pass 27b's F3): with the clone's `.env` at hand, which cannot hold such
    a name, the ciphertext is encrypted from it again without it, and the plan says so unnamed."""
    repo, only, token = _ciphertext_naming_a_token(fleet, tmp_path)
    for extra in ((), ("--json",)):
        result = rollout("plan", *only, *extra)
        assert result.code == 0, result.stdout
        assert token not in result.stdout + result.stderr
        assert "drops 1 name shaped like a credential" in " ".join(result.stdout.split())


def test_a_token_held_as_a_name_never_reaches_env_example(fleet, tmp_path):
    """Without the plaintext, `from: dotenv` takes the ciphertext's names (13.1): the token was added to
    .env.example, printed in the diff and the summary (pass 6)."""
    repo, only, token = _ciphertext_naming_a_token(fleet, tmp_path)
    (repo / ".env").rename(tmp_path / "env-moved-away")
    text = fleet.manifest.read_text()
    at = text.index("  - name: juniper-cascor\n")
    end = text.index("    encrypt:", at)
    fleet.manifest.write_text(
        text[:at] + "  - name: juniper-cascor\n    env_example: {from: dotenv}\n" + text[end:]
    )
    result = rollout("plan", *only)
    assert result.code == 1, result.stdout
    assert token not in result.stdout + result.stderr
    assert "shaped like a credential" in result.stdout
    assert rollout("apply", *only, "--yes").code == 1
    assert token not in git(repo, "show", f"{BRANCH}:.env.example")


# --- what a contributor controls never reaches the terminal as control sequences ----------------------


def test_control_sequences_in_file_names_and_subjects_are_printed_inert(
    fleet, tmp_path, monkeypatch
):
    """A side branch committed `evil<ESC>]0;…<BEL><ESC>[2Jx.env` with the subject `<ESC>]52;c;…<BEL>`:
    drift's table sent the sequences to the terminal as they were (window title, clipboard write,
    screen cleared) (pass 6)."""
    repo = fleet.repo("juniper-cascor")
    name = "evil\x1b]0;TITLE-HACKED\x07\x1b[2Jx.env"
    subject = "subject \x1b]52;c;aGFja2Vk\x07 \x1b[2J"
    side = commit_on(repo, "main", {name: "API_TOKEN=x\n"}, tmp_path, message=subject)
    git(repo, "update-ref", "refs/heads/side", side)
    for colour in ("", "1"):
        monkeypatch.setenv("FORCE_COLOR", colour) if colour else monkeypatch.delenv(
            "FORCE_COLOR", raising=False
        )
        result = rollout("drift", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
        assert result.code == 2, result.stdout
        for raw in ("\x1b]0;", "\x1b]52;", "\x1b[2J", "\x07"):
            assert raw not in result.stdout + result.stderr
        assert "evil\\x1b]0;TITLE-HACKED\\x07\\x1b[2Jx.env" in result.stdout


def test_inert_shows_control_characters_and_keeps_text():
    from juniper_rollout.wording import inert

    assert inert("a\tb\nc é ✓") == "a\tb\nc é ✓"
    assert inert("\x1b[31m\x9b2J\x7f\u202e") == "\\x1b[31m\\x9b2J\\x7f\\u202e"


# --- drift's history as stored, and a partial clone's missing objects ---------------------------------


def test_grafts_do_not_hide_a_plaintext_commit_from_drift(fleet, tmp_path):
    """`.git/info/grafts` cutting out the commit that added `.env.production`: drift said nothing (it
    turned off replace refs only; grafts are their older form, still honoured by git) (pass 6)."""
    from tests.test_pass3 import drift_findings

    repo = fleet.repo("juniper-data")
    oops = commit_on(repo, "main", {".env.production": "API_TOKEN=x\n"}, tmp_path, "oops").strip()
    tree = git(repo, "rev-parse", "main^{tree}").strip()
    fix = git(repo, "commit-tree", "-p", oops.strip(), "-m", "fix", tree)
    git(repo, "update-ref", "refs/heads/main", fix.strip())
    parent = git(repo, "rev-parse", f"{oops}^").strip()
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "grafts").write_text(f"{fix.strip()} {parent}\n")
    assert "oops" not in git(repo, "-c", "advice.graftFileDeprecated=false", "log", "--all")
    found = [
        f for f in drift_findings(fleet, "juniper-data") if f["id"] == "plaintext-env-in-history"
    ]
    assert [f["path"] for f in found] == [".env.production"], found


def test_a_partial_clone_missing_history_objects_is_one_true_line(fleet, tmp_path):
    """A blob-less clone whose remote is gone: drift said "unexpected ValueError … a damaged repository?
    run git fsck … please report this" and left a crash log (pass 6)."""
    import shutil

    source = fleet.repo("juniper-data")
    git(source, "config", "uploadpack.allowFilter", "true")
    side = commit_on(source, "main", {"prod.env.enc": "API_TOKEN=x\n"}, tmp_path, "plain enc")
    git(source, "update-ref", "refs/heads/main", side)
    away = tmp_path / "origin-gone"
    clone = tmp_path / "partial"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", f"file://{source}", str(clone)], check=True
    )
    shutil.rmtree(away, ignore_errors=True)
    source.rename(away)
    shutil.move(str(clone), str(source))
    git(source, "update-ref", "refs/heads/main", "refs/remotes/origin/main")
    subprocess.run(
        ["git", "-C", str(away), "config", "uploadpack.allowFilter", "false"], check=True
    )
    shutil.rmtree(away)
    result = rollout("drift", "--manifest", fleet.manifest, "--repo", "juniper-data")
    assert result.code == 1, result.stdout
    assert (
        "is missing from" in result.stdout
        and "a partial clone (git clone --filter)" in result.stdout
    )
    assert "unexpected" not in result.stdout and "git fsck" not in result.stdout


def test_an_output_that_cannot_spell_the_arrows_is_no_traceback(fleet):
    """PYTHONIOENCODING=ascii (a latin-1 terminal is the same): plan died in rich with a
    UnicodeEncodeError traceback on '→' (pass 6)."""
    import os
    import sys

    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = subprocess.run(
        [sys.executable, "-c", "from juniper_rollout.cli import main; main()", "plan"]
        + ["--manifest", str(fleet.manifest), "--repo", "juniper-ml"],
        capture_output=True,
        env=env,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode in (0, 2), result.stderr.decode()
    assert b"Traceback" not in result.stderr
    assert b"juniper-ml  (main \\u2192 chore/sops-age-rollout)" in result.stdout


@pytest.mark.parametrize("branch", ["heads/main", "tags/v1", "notes/commits", "heads/chore/x"])
def test_a_branch_that_git_reads_as_another_ref_is_refused_with_its_line(tmp_path, branch):
    """`branch: heads/main` created refs/heads/heads/main, which `git show heads/main` never shows:
    git reads heads/X as refs/heads/X (tags/X, notes/X likewise) before refs/heads/<name> (pass 6)."""
    from tests.test_hostile import manifest_for

    manifest = manifest_for(tmp_path, f"  - name: victim\n    branch: {branch}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert f"{manifest}:8: repo victim.branch '{branch}' starts with" in result.stderr


@pytest.mark.parametrize("branch", ["headsup/x", "tagsync/x", "juniper-rollout/heads"])
def test_branches_merely_starting_with_those_words_are_fine(tmp_path, branch):
    from tests.demofleet import make_repo
    from tests.test_hostile import manifest_for

    manifest = manifest_for(tmp_path, f"  - name: victim\n    branch: {branch}\n")
    make_repo(tmp_path / "ws" / "victim", {"README.md": "hi\n"})
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stderr


# --- markers a person quotes in a Markdown code block are not the tool's block ----------------------

QUOTED = (
    "# AGENTS\n\nHow the rollout marks its section:\n\n```\n<!-- >>> juniper-rollout >>> -->\n"
    "OUR EXAMPLE TEXT, KEEP ME\n<!-- <<< juniper-rollout <<< -->\n```\n\nEnd of file.\n"
)


def test_markers_quoted_in_a_code_fence_are_a_persons_example_not_the_block():
    """AGENTS.md quoting the markers in a fenced code block: the tool took them for its block and
    replaced the person's example text, inside the fence (pass 6)."""
    from juniper_rollout.edits.blocks import MARKDOWN, put, remove

    edited = put(QUOTED, "## Secrets\n", MARKDOWN, path="AGENTS.md")
    assert edited.startswith(QUOTED)  # every byte of the person's file, the example included
    assert edited.endswith(
        "<!-- >>> juniper-rollout >>> -->\n## Secrets\n<!-- <<< juniper-rollout <<< -->\n"
    )
    assert (
        put(edited, "## Secrets\n", MARKDOWN, path="AGENTS.md") == edited
    )  # found again: no churn
    assert remove(edited, MARKDOWN, path="AGENTS.md") == QUOTED
    tilde = QUOTED.replace("```", "~~~~")
    assert put(tilde, "x\n", MARKDOWN, path="AGENTS.md").startswith(tilde)


def test_a_block_after_a_fence_left_open_is_still_found():
    from juniper_rollout.edits.blocks import MARKDOWN, put

    text = "# AGENTS\n```\nnever closed\n"
    edited = put(text, "body\n", MARKDOWN, path="AGENTS.md")
    assert put(edited, "body\n", MARKDOWN, path="AGENTS.md") == edited


def test_the_quoted_markers_survive_a_real_plan(fleet):
    repo = fleet.repo("juniper-cascor")
    git(
        repo,
        "update-ref",
        "refs/heads/main",
        commit_on(repo, "main", {"AGENTS.md": QUOTED}, fleet.manifest.parent),
    )
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert "-OUR EXAMPLE TEXT, KEEP ME" not in result.stdout
    assert "+<!-- >>> juniper-rollout >>> -->" in result.stdout


# --- the GitHub token goes only where it belongs, and never in clear ---------------------------------


def test_a_plain_http_api_url_in_the_manifest_is_refused_with_its_line(tmp_path):
    """`forge: {api_url: http://…}` sent `Authorization: token ghp_…` in clear to whatever host the
    manifest named (measured with a recording server) (pass 6)."""
    from tests.test_hostile import KEY

    path = tmp_path / "repos.yaml"
    for url, refused in (
        ("http://github.example.com/api/v3", True),
        ("http://10.0.0.5:8080/api/v3", True),
        ("https://github.example.com/api/v3", False),
        ("http://127.0.0.1:8080/api/v3", False),
        ("http://localhost:9/api/v3", False),
    ):
        path.write_text(
            f"version: 1\nworkspace: ws\nforge:\n  api_url: {url}\ndefaults:\n"
            f"  age_recipients: [{KEY}]\nrepos: []\n"
        )
        result = rollout("plan", "--manifest", path)
        if refused:
            assert result.code == 1, url
            assert f"{path}:4: forge.api_url '{url}' is plain http" in result.stderr
        else:
            assert "forge.api_url" not in result.stderr, (url, result.stderr)


def test_gh_is_asked_for_the_token_of_the_apis_own_host(tmp_path, monkeypatch):
    """Without GITHUB_TOKEN/GH_TOKEN the tool took `gh auth token` (github.com's token) and sent it to
    any forge.api_url the manifest named (pass 6)."""
    from juniper_rollout.forge import find_token, gh_host

    fake = tmp_path / "gh"
    # one word, as a token is (pass 24f refuses what gh prints with a space in it)
    fake.write_text('#!/bin/sh\nIFS=_\necho "token-for:$*"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    env = {"PATH": str(tmp_path)}
    ghe = "https://ghe.example.com/api/v3"
    assert find_token(env, ghe) == "token-for:auth_token_--hostname_ghe.example.com"
    assert find_token(env) == "token-for:auth_token_--hostname_github.com"
    assert gh_host("https://api.github.com") == "github.com"


def test_a_locked_worktree_that_is_gone_gets_advice_that_works(fleet, tmp_path):
    """A worktree added with --lock (a USB drive) and gone: apply said "run `git worktree prune`",
    which keeps a locked worktree, so the repo stayed blocked for ever (pass 6)."""
    import shlex
    import shutil

    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    usb = tmp_path / "usb drive"
    git(repo, "worktree", "add", "-q", "--lock", str(usb), BRANCH)
    shutil.rmtree(usb)
    main_moves_to(repo, {"NEWS": "x\n"}, tmp_path)
    result = apply(fleet, "juniper-ml")
    assert "blocked" in result.stdout
    advice = result.stdout.split("run ", 1)[1]
    commands = [c.split("`")[0] for c in advice.split("`")[1::2]]
    clone = f"git -C {shlex.quote(str(repo))}"
    assert commands == [
        f"{clone} worktree unlock {shlex.quote(str(usb))}",
        f"{clone} worktree prune",
    ]
    for command in commands:  # pasted, they work
        subprocess.run(command, shell=True, cwd=repo, check=True)
    assert "updated" in apply(fleet, "juniper-ml").stdout


def test_an_enc_a_person_removed_from_the_base_does_not_block_the_rebuild(fleet, tmp_path):
    """The guard above is about ciphertext the tool's commits added: one the branch only inherited from
    its old base, and a person then removed from main, is theirs to remove."""
    repo = fleet.repo("juniper-cascor")
    only = ("--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert rollout("apply", *only, "--yes").code == 0
    fleet.merge_all()  # main holds .env.enc now
    main_moves_to(repo, {"NEWS": "x\n"}, tmp_path)
    assert rollout("apply", *only, "--rollout", "repo-hygiene", "--yes").code == 0  # holds .env.enc
    tree = git(repo, "rev-parse", "main^{tree}").strip()
    kept = [e for e in git(repo, "ls-tree", tree).splitlines() if not e.endswith("\t.env.enc")]
    new_tree = subprocess.run(
        ["git", "-C", str(repo), "mktree"],
        input="\n".join(kept) + "\n",
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    moved = git(repo, "commit-tree", "-p", "main", "-m", "move secrets elsewhere", new_tree).strip()
    git(repo, "update-ref", "refs/heads/main", moved)
    result = rollout("apply", *only, "--rollout", "repo-hygiene", "--yes")
    assert "would drop it" not in result.stdout, result.stdout
    assert result.code == 0, result.stdout


def test_a_key_file_that_is_a_fifo_is_skipped_before_sops_and_named(fleet, tmp_path, monkeypatch):
    """`SOPS_AGE_KEY_FILE` a FIFO (or /dev/zero): plan handed it to sops, which waited until the 60 s
    limit, and then said "check SOPS_AGE_KEY_CMD", which nobody had set (pass 5 noted it; pass 6)."""
    import os

    fifo = tmp_path / "keys.fifo"
    os.mkfifo(fifo)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(fifo))
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert result.code == 1, result.stdout
    assert (
        f"SOPS_AGE_KEY_FILE={fifo} is not a regular file (a FIFO or a device), so it was skipped"
        in (result.stdout)
    )
    assert "SOPS_AGE_KEY_CMD" not in result.stdout


def test_a_key_command_that_never_ends_cannot_grow_sops_without_bound(fleet, monkeypatch):
    """`SOPS_AGE_KEY_CMD="cat /dev/zero"`: the tool's own read is bounded (pass 5), but sops ran the
    command too and read it whole, gigabytes a second until its 60 s limit (pass 6). The CLI runs in
    a child with 2 GB of address space (tests.test_adversary.run_cli), so a regression cannot take
    the machine down; sops' own limit is checked on its own below."""
    import os
    import sys

    from juniper_rollout import sops
    from tests.test_adversary import run_cli

    monkeypatch.setenv("SOPS_AGE_KEY_CMD", "cat /dev/zero")
    result = run_cli("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    assert result.returncode == 1, result.stdout
    assert "sops ran out of memory reading a key source: SOPS_AGE_KEY_CMD must print the key" in (
        result.stdout
    )
    limits = subprocess.run(
        [sys.executable, "-c", "import resource; print(resource.getrlimit(resource.RLIMIT_AS))"],
        preexec_fn=sops._bounded_memory,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    ).stdout
    assert limits.strip() == f"({sops.SOPS_MEMORY}, {sops.SOPS_MEMORY})"


@pytest.mark.parametrize(
    "path",
    ["notes/a:b.md", "notes/CON.md", "notes/nul.tar.gz", "notes/x.md.", "notes/a?b.md", "a|b/x.md"],
)
def test_a_path_windows_cannot_check_out_is_refused_with_its_line(fleet, path):
    """`files: - path: notes/a:b.md` was committed: git for Windows cannot check that branch out, nor
    main once it is merged ("error: invalid path") (pass 6)."""
    text = fleet.manifest.read_text()
    guide = "        template: SOPS_USAGE_GUIDE.md.j2\n"
    fleet.manifest.write_text(
        text.replace(
            guide, f"{guide}      - path: '{path}'\n        template: SOPS_USAGE_GUIDE.md.j2\n", 1
        )
    )
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert result.code == 1, result.stdout
    assert "git on Windows cannot check such a file out" in result.stderr


def test_ordinary_paths_are_still_fine():
    from juniper_rollout.manifest import safe_repo_path

    for path in (
        "notes/SOPS_USAGE_GUIDE.md",
        ".github/CODEOWNERS",
        "docs/console.md",
        "comx/a b.md",
    ):
        assert safe_repo_path(path) is None, path


def test_a_lock_file_a_crashed_git_left_is_named_with_a_way_out(fleet):
    """`refs/heads/<branch>.lock` left by a crashed git: apply said "try again when it finishes", which
    never helps; the file is named and the pasted `rm` unblocks the repo (pass 6)."""
    import shlex

    repo = fleet.repo("juniper-ml")
    lock = repo / ".git" / "refs" / "heads" / "chore" / "sops-age-rollout.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.touch()
    result = apply(fleet, "juniper-ml")
    assert result.code == 1
    assert f"({shlex.quote(str(lock))} exists)" in result.stdout
    command = result.stdout.split("remove it (`", 1)[1].split("`", 1)[0]
    subprocess.run(command, shell=True, check=True)
    index_lock = repo / ".git" / "index.lock"  # the same for the index a crashed git left locked
    index_lock.touch()
    result = apply(fleet, "juniper-ml")
    assert result.code == 1 and f"({shlex.quote(str(index_lock))} exists)" in result.stdout
    command = result.stdout.split("remove it (`", 1)[1].split("`", 1)[0]
    subprocess.run(command, shell=True, check=True)
    assert apply(fleet, "juniper-ml").code == 0


def test_plan_and_cleanup_share_the_advice_that_works_for_a_gone_worktree(fleet, tmp_path):
    """plan's note (and cleanup's refusal) said "switch that worktree to another branch first" for a
    worktree whose folder is gone: nothing to switch; now the same words as apply's (pass 6)."""
    import shutil

    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    gone = tmp_path / "gone"
    git(repo, "worktree", "add", "-q", str(gone), BRANCH)
    shutil.rmtree(gone)
    result = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml")
    assert (
        f"is checked out in {gone} (that worktree is gone: run `git -C {repo} worktree prune`"
        in (result.stdout)
    )
    assert "switch that worktree" not in result.stdout
