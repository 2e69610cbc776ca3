"""Third adversarial pass over issues 12 and 13: token-shaped names in a .env, hand-written templates
(.env.sample, .env.template, …) kept, plaintext appended to an .enc file refused, a token in a URL's
query string, a rollout branch that would shadow a remote-tracking branch. Real git, sops, pre-commit."""

from __future__ import annotations

import pytest

from tests.demofleet import make_repo
from tests.helpers import git, rollout
from tests.test_hostile import manifest_for

QUERY_TOKEN = "ghs_qu3ryTOKENvalue77"


# --- 4. a token in a URL's query string --------------------------------------------------------


def test_a_query_string_token_is_stripped_and_redacted():
    from juniper_rollout.urls import redact, strip_userinfo

    assert (
        strip_userinfo(f"https://github.com/o/r.git?token={QUERY_TOKEN}")
        == "https://github.com/o/r.git"
    )
    assert (
        strip_userinfo(f"https://u:p4ss@h/r.git?access_token={QUERY_TOKEN}#x") == "https://h/r.git"
    )
    url = f"https://h/r.git?a=1&token={QUERY_TOKEN}"
    assert QUERY_TOKEN not in redact(f"fatal: unable to access '{url}': token {QUERY_TOKEN}", url)


def test_bootstrap_never_stores_or_prints_a_query_string_token(fleet, tmp_path):
    source = make_repo(tmp_path / "src", {"README.md": "# canopy\n"})
    bare = (
        tmp_path / f"juniper-canopy.git?token={QUERY_TOKEN}"
    )  # git's file:// keeps the query in the path
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    result = rollout(
        "bootstrap",
        "--yes",
        "juniper-canopy",
        "--manifest",
        fleet.manifest,
        "--url",
        f"file://{bare}",
    )
    assert result.code == 0, result.stderr
    assert QUERY_TOKEN not in result.stdout + result.stderr + fleet.manifest.read_text()
    assert f"url: file://{tmp_path}/juniper-canopy.git\n" in fleet.manifest.read_text()

    before = fleet.manifest.read_bytes()
    missing = f"file://{tmp_path}/missing.git?token={QUERY_TOKEN}"
    result = rollout(
        "bootstrap", "--yes", "juniper-new", "--manifest", fleet.manifest, "--url", missing
    )
    assert (
        result.code == 1
        and "git clone" in result.stderr
        and QUERY_TOKEN not in result.stdout + result.stderr
    )
    assert fleet.manifest.read_bytes() == before


def test_a_manifest_url_with_a_query_string_is_refused(tmp_path):
    manifest = manifest_for(
        tmp_path, f"  - name: victim\n    url: https://h/r.git?token={QUERY_TOKEN}\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert (
        result.code == 1
        and f"{manifest}:8:" in result.stderr
        and "url holds credentials" in result.stderr
    )
    assert QUERY_TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "branch",
    [
        "origin/main",
        "refs/heads/x",
        "refs/remotes/origin/main",
        "remotes/origin/x",
        "upstream/main",
    ],
)
def test_a_branch_that_would_shadow_a_remote_tracking_branch_is_refused_with_its_line(
    tmp_path, branch
):
    manifest = manifest_for(tmp_path, f"  - name: victim\n    branch: {branch}\n")
    result = rollout("plan", "--manifest", manifest)
    assert (
        result.code == 1
        and f"{manifest}:8: repo victim.branch '{branch}' starts with" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_branch_named_like_a_remote_is_still_fine(tmp_path):
    manifest = manifest_for(tmp_path, "  - name: victim\n    branch: origin-rollout/sops\n")
    make_repo(tmp_path / "ws" / "victim", {"README.md": "hi\n"})
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stderr


# --- 2. hand-written committed templates are not plaintext secrets -----------------------------

HAND_WRITTEN = (
    ".env.sample",
    ".env.template",
    ".env.dist",
    ".env.defaults",
    ".env.tmpl",
    ".env.tpl",
    "config/.env.local.sample",
)
BRANCH = "chore/sops-age-rollout"


def test_hand_written_templates_are_kept_not_deleted_as_secrets(fleet):
    import json

    from tests.test_drift import commit_on_main

    cascor = fleet.repo("juniper-cascor")
    commit_on_main(
        cascor, {name: "API_TOKEN=\nDEBUG=false\n" for name in HAND_WRITTEN}, "templates by hand"
    )
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--json")
    assert plan.code == 0, plan.stderr
    touched = {c["path"]: c["action"] for r in json.loads(plan.stdout)["repos"] for c in r["files"]}
    assert not set(HAND_WRITTEN) & set(touched), touched
    assert (
        "filter-repo"
        not in rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor").stdout
    )

    result = rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes")
    assert result.code == 0, result.stdout + result.stderr
    files = set(git(cascor, "ls-tree", "-r", "--name-only", BRANCH).split())
    assert set(HAND_WRITTEN) <= files and ".env.enc" in files
    # the branch's own .gitignore does not ignore them (real git, on the rollout branch's tree)
    ignored = git_ignored_on(cascor, BRANCH, list(HAND_WRITTEN))
    assert not ignored, ignored

    verify = json.loads(
        rollout(
            "verify",
            "--manifest",
            fleet.manifest,
            "--repo",
            "juniper-cascor",
            "--ref",
            BRANCH,
            "--json",
        ).stdout
    )
    assert {c["name"]: c for c in verify["repos"][0]["checks"]}["plaintext-env"]["ok"]
    drift = json.loads(
        rollout(
            "drift", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--format", "json"
        ).stdout
    )
    assert not [f for f in drift["repos"][0]["findings"] if f.get("path") in HAND_WRITTEN]


def git_ignored_on(repo, ref: str, names: list[str]) -> set[str]:
    """Which of ``names`` the .gitignore of ``ref`` ignores, asked of real git in a scratch repo."""
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as scratch:
        git(Path(scratch), "init", "-q")
        (Path(scratch) / ".gitignore").write_text(git(repo, "show", f"{ref}:.gitignore"))
        out = subprocess.run(
            ["git", "-C", scratch, "check-ignore", "--no-index", "--", *names],
            capture_output=True,
            text=True,
        )
        return set(out.stdout.split())


# --- 3. plaintext appended to a real sops dotenv file ----------------------------------------

APPENDED_SECRET = "s3cretAPPENDEDvalue"
REAL_PLAINTEXT = (
    b"# a comment\nA=1\nEMPTY=\nexport E=x y\n  IND=v\nQ='quoted # x'\nB64=abc==\n"
    b"LONG=" + b"x" * 300 + b"\nU=\xc3\xa9\xf0\x9f\x98\x80\nCR=x\r\n"
)


def tampered(real: bytes) -> dict[str, bytes]:
    """Ways a person or a script puts plaintext into a real sops dotenv file, keeping its metadata."""
    lines = real.split(b"\n")
    mac = next(i for i, line in enumerate(lines) if line.startswith(b"sops_"))
    return {
        "appended": real + f"NEW_TOKEN={APPENDED_SECRET}\n".encode(),
        "appended, no final newline": real + f"NEW_TOKEN={APPENDED_SECRET}".encode(),
        "prepended": f"NEW_TOKEN={APPENDED_SECRET}\n".encode() + real,
        "among the values": b"\n".join(
            [*lines[:mac], f"X={APPENDED_SECRET}".encode(), *lines[mac:]]
        ),
        "bare token line": real + f"ghp_{APPENDED_SECRET}\n".encode(),
        "export": real + f"export NEW={APPENDED_SECRET}\n".encode(),
        "_unencrypted suffix": real + f"NEW_unencrypted={APPENDED_SECRET}\n".encode(),
        "fake ENC prefix": real + f"NEW=ENC[{APPENDED_SECRET}]\n".encode(),
        "CRLF": real + f"NEW={APPENDED_SECRET}\r\n".encode(),
    }


def run_hook(
    tmp_path, manifest, hook_id: str, files: dict[str, bytes]
) -> dict[str, tuple[bool, str]]:
    """The real pre-commit, one managed hook, one staged file at a time: (refused?, its output)."""
    import json

    from juniper_rollout import planner
    from tests.helpers import precommit_refuses
    from tests.test_envfiles import manifest_repo

    tmp_path.mkdir()
    config = tmp_path / "pre-commit.json"
    hooks = planner.hook_definitions(manifest, manifest_repo())
    config.write_text(json.dumps({"repos": [{"repo": "local", "hooks": hooks}]}))
    repo = tmp_path / "hook-probe"
    repo.mkdir()
    git(repo, "init", "-q")
    for name, data in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(data)
    git(repo, "add", "-f", "--", *files)
    refused, output = precommit_refuses(repo, config, list(files), hook_id)
    return {name: (refused[name], output) for name in files}


@pytest.fixture(scope="module")
def real_dotenv_enc(tmp_path_factory):
    from juniper_rollout import keys, sops

    recipient = keys.generate_key_file(tmp_path_factory.mktemp("key") / "keys.txt")
    config = f"creation_rules:\n  - path_regex: '.*'\n    age: '{recipient}'\n"
    return recipient, sops.encrypt_dotenv(REAL_PLAINTEXT, sops_config=config, filename=".env.enc")


def test_the_real_hook_refuses_plaintext_added_to_a_real_sops_file_and_never_echoes_it(
    real_dotenv_enc, tmp_path
):
    from juniper_rollout import sopsmeta
    from tests.test_envfiles import manifest_with
    from tests.test_sops_formats import sops_output

    recipient, real = real_dotenv_enc
    assert (
        b"#ENC[AES256_GCM," in real and b"\nEMPTY=\n" in real
    )  # what sops 3.11 writes: comments encrypted, "" kept
    bad = {f"{i}/.env.enc": data for i, data in enumerate(tampered(real).values())}
    good = {"real/.env.enc": real} | {
        f"{fmt}/.env.enc": sops_output(recipient, fmt)
        for fmt in ("dotenv", "yaml", "json", "ini", "binary")
    }
    manifest = manifest_with(recipient)
    values = run_hook(tmp_path / "values", manifest, "require-encrypted-values", bad | good)
    assert {name for name, (refused, _) in values.items() if refused} == set(bad)
    assert not any(APPENDED_SECRET in output for _, output in values.values())
    # the metadata hook alone lets every tampered file through: the new hook is what refuses them
    metadata = run_hook(tmp_path / "metadata", manifest, "require-sops-encrypted", bad)
    assert not any(refused for refused, _ in metadata.values())
    # sopsmeta.plaintext_line (verify, drift) gives the hook's verdict, and the line, never the text
    for name, data in (bad | good).items():
        line = sopsmeta.plaintext_line(data)
        assert (line is not None) == (name in bad), name
    assert sopsmeta.plaintext_line(tampered(real)["prepended"]) == 1
    assert sopsmeta.plaintext_line(tampered(real)["appended"]) == real.count(b"\n") + 1


def test_verify_without_a_key_and_drift_flag_plaintext_added_to_the_encrypted_file(
    fleet, monkeypatch
):
    import json

    from tests.test_drift import commit_on_main
    from tests.test_verify import branch_with

    result = rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes")
    assert result.code == 0, result.stdout + result.stderr
    cascor = fleet.repo("juniper-cascor")
    real = git(cascor, "show", f"{BRANCH}:.env.enc").encode()
    bad = real + f"NEW_TOKEN={APPENDED_SECRET}\n".encode()
    line = real.count(b"\n") + 1
    ref = branch_with(cascor, "test/appended", {".env.enc": bad})

    monkeypatch.delenv(
        "SOPS_AGE_KEY_FILE"
    )  # no key anywhere sops looks (HOME is private to the test)
    result = rollout(
        "verify", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--ref", ref, "--json"
    )
    assert result.code == 1 and APPENDED_SECRET not in result.stdout + result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["repos"][0]["checks"]}
    assert not checks["encrypted-files"]["ok"]
    assert checks["encrypted-files"]["detail"].startswith(
        f".env.enc:{line}: a value sops did not encrypt"
    )
    # the config's managed hooks were run by id on a real .enc with a plaintext line added: refused
    assert (
        checks["precommit-hook"]["ok"]
        and "require-encrypted-values by id" in checks["precommit-hook"]["detail"]
    )
    assert "plaintext added to a real .enc" in checks["precommit-hook"]["detail"]
    # the untampered branch passes the same checks without a key
    result = rollout(
        "verify",
        "--manifest",
        fleet.manifest,
        "--repo",
        "juniper-cascor",
        "--ref",
        BRANCH,
        "--json",
    )
    checks = {c["name"]: c for c in json.loads(result.stdout)["repos"][0]["checks"]}
    assert checks["encrypted-files"]["ok"] and checks["precommit-hook"]["ok"], checks

    commit_on_main(cascor, {".env.enc": bad.decode()}, "add a token by hand")
    result = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--format", "json"
    )
    assert APPENDED_SECRET not in result.stdout + result.stderr
    found = [
        f
        for f in json.loads(result.stdout)["repos"][0]["findings"]
        if f["id"] == "plaintext-value-in-enc"
    ]
    assert [f["path"] for f in found] == [".env.enc"] and f".env.enc:{line} holds a value" in found[
        0
    ]["message"]


# --- 1. one list of token shapes ----------------------------------------------------------------


def test_discovery_and_dotenv_ask_the_one_list_of_token_shapes():
    import re

    from juniper_rollout import discover, secretshape
    from juniper_rollout.dotenv import DotenvError, parse_names

    assert secretshape._TOKEN.pattern == "|".join(
        s.in_value for s in secretshape.TOKEN_SHAPES
    )  # discovery's value search is built from the list
    for (
        shape
    ) in secretshape.TOKEN_SHAPES:  # every shape that can be an identifier is refused as a name
        if shape.as_name is None:
            continue
        example = next(
            n
            for n in (
                "ghp_",
                "github_pat_",
                "sk_live_",
                "rk_test_",
                "whsec_",
                "AKIA",
                "npm_",
                "AIza",
                "hf_",
                "dckr_pat_",
                "rnd_",
                "nfp_",
                "re_Q7Q7Q7Q7_",
                "r8_",
                "aio_",
                "sb_secret_",
                "LTAI",
                "pnu_",
                "dapi",
                "AKID",
                "cio",
                "api_org_",
                "sm_pat_",
                "AQVN",
                "GR1348941",
                "CCIP",
                "bk",
                "secret_",
                "vcp_",
            )
            if re.match(shape.as_name.split("[")[0].split("(")[0], n)
        )  # a shape with no example here fails the test: add one
        name = {  # pass 26b: the shapes of a fixed length or alphabet
            "AKIA": "AKIAZ7Q2W9XK4M6P3R8T",
            "LTAI": "LTAI5tQ7Q7Q7Q7Q7",
            "dapi": "dapi" + "7f" * 16,
            "cio": "cio" + "Q7" * 16,
            "api_org_": "api_org_" + "Qx" * 17,  # pass 26e
            "sm_pat_": "sm_pat_" + "Q7" * 8,
            "AQVN": "AQVN" + "Q7" * 18,
            "GR1348941": "GR1348941" + "Q7" * 10,  # pass 26f
            "CCIP": "CCIPAT_" + "Q7" * 11 + "_" + "7f" * 20,  # pass 27b
            "bk": "bkua_" + "7f" * 20,
            "secret_": "secret_" + "Q7" * 21 + "Q",
        }.get(example, example + "Q7" * 20)
        assert secretshape.is_token_name(name), shape.issuer
        assert discover.carries_credential(name), shape.issuer
        with pytest.raises(DotenvError, match="shaped like a credential") as info:
            parse_names(f"{name}=\n".encode())
        assert name not in str(info.value)
