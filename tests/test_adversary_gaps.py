"""The four gaps a later adversarial pass found in issue 13's fixes: each test fails without its fix."""

from __future__ import annotations

import base64
import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from juniper_rollout import savepath, throwaway
from juniper_rollout.edits import gitignore
from tests.demofleet import make_repo
from tests.helpers import git, rollout
from tests.test_hostile import manifest_for, no_branch, plan_error


# --- (a) a 200,000-line .gitignore whose every line can match a managed path --------------------
def adversarial_gitignore(count: int) -> list[str]:
    """Distinct lines, every literal of which is in a managed name: each one could decide."""
    shapes = (
        lambda i: f"[.{i}]env",  # .env
        lambda i: f"*env[!{i}]",  # nothing, but every literal of it is in a managed name
        lambda i: f".e*[!{i}]",  # .env, .env.local, .env.example, ...
        lambda i: f"**/.env{i}*",  # nothing, and reads like .env*
        lambda i: f"!.env.e[{i}x]ample",  # .env.example, negated
    )
    return [shapes[i % len(shapes)](i) for i in range(count)]


def test_a_200k_line_gitignore_whose_every_line_can_match_is_read_once():
    """Counting work, not time: each line is matched once (against every managed name at once,
    nothing compiled), and pathspec compiles one line per managed name at most (the last one
    matching it). Every line here passes the old filter, which compiled all 200,000 (130 s)."""
    lines = adversarial_gitignore(200_000)
    text = "".join(line + "\n" for line in lines)
    gitignore._pattern.cache_clear()
    gitignore._names.cache_clear()
    result = gitignore.edit(
        text,
        lambda patterns: (
            "# >>> juniper-rollout >>>\n"
            + "".join(p + "\n" for p in patterns)
            + "# <<< juniper-rollout <<<\n"
        ),
    )
    names = gitignore._names_for(())
    assert names.evaluated <= len(lines) + 100
    assert gitignore._pattern.cache_info().misses <= len(gitignore._UNIVERSE)
    # and the result is right by git's own rules, over the whole 200,000-line file
    must_ignore, must_track = gitignore.MUST_IGNORE, gitignore.MUST_TRACK
    with throwaway.scratch_repo({".gitignore": result.text.encode()}) as repo:
        assert throwaway.ignored(repo, [*must_ignore, *must_track]) == set(must_ignore)


# --- (c) every --out failure is one line: what path, what is wrong, how to fix --------------------
def plan_out(manifest: Path, out: str | Path):
    result = rollout("plan", "--manifest", manifest, "--out", out)
    assert result.code == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and "No such file or directory" not in result.stderr
    return result.stderr


def test_every_plan_out_failure_is_one_line_saying_what_and_how(tmp_path):
    manifest = manifest_for(tmp_path, "")
    comm = Path("/proc/self/comm").read_bytes()
    line = plan_out(manifest, "/proc/self/comm")
    assert line.startswith(
        "error: --out /proc/self/comm is on the proc file system mounted at /proc"
    )
    assert "`--out -` for standard output" in line
    assert Path("/proc/self/comm").read_bytes() == comm
    assert "proc file system mounted at /proc" in plan_out(manifest, "/proc/plan.json")
    assert "is not a regular file: it is a folder" in plan_out(manifest, tmp_path)
    os.mkfifo(tmp_path / "fifo")
    assert "it is a FIFO (named pipe)" in plan_out(manifest, tmp_path / "fifo")
    assert "it is a character device" in plan_out(manifest, "/dev/null")
    (tmp_path / "afile").write_text("mine\n")
    os.symlink(tmp_path / "afile", tmp_path / "link")
    assert "is a symlink" in plan_out(manifest, tmp_path / "link")
    line = plan_out(manifest, tmp_path / "afile" / "plan.json")
    assert f"{tmp_path / 'afile'} is a file, not a folder; give a path inside a folder" in line
    assert "a part of the path is a file" in plan_out(manifest, tmp_path / "afile" / "x" / "p.json")
    missing = tmp_path / "no such" / "deeper"
    line = plan_out(manifest, missing / "plan.json")
    assert line.endswith(f"no folder {missing} (create it first: mkdir -p '{missing}')\n")
    command = line.split("(create it first: ")[1].rstrip(")\n")
    subprocess.run(command, shell=True, check=True)  # the command works when pasted
    assert missing.is_dir()
    line = plan_out(manifest, "~/reports/plan.json")  # `--out "~/…"`: quoted, never expanded
    assert "no folder ~/reports: the shell did not expand the ~ (it was quoted)" in line
    assert "mkdir" not in line
    assert "the name is too long" in plan_out(manifest, tmp_path / ("x" * 300))
    (tmp_path / "clone" / ".git").mkdir(parents=True)
    (tmp_path / "clone" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    line = plan_out(manifest, tmp_path / "clone" / ".git" / "HEAD")  # pass 5: broke the clone
    assert "is inside a .git folder, which git keeps for itself" in line
    assert (tmp_path / "clone" / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (tmp_path / "afile").read_text() == "mine\n" and (tmp_path / "link").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_plan_out_in_a_folder_without_write_permission(tmp_path):
    manifest = manifest_for(tmp_path, "")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        result = rollout("plan", "--manifest", manifest, "--out", locked / "plan.json")
        if os.geteuid() == 0:  # root writes anyway, and the tool says it saved the plan
            assert result.code == 0 and (locked / "plan.json").is_file()
        else:
            assert result.code == 1 and len(result.stderr.splitlines()) == 1
            assert f"no permission to create a file in {locked}" in result.stderr
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize(
    "code, words",
    [
        (errno.EROFS, "is on a read-only file system; give a path on a writable one"),
        (errno.ENOSPC, "no space left for it in"),
        (errno.EDQUOT, "no space left for it in"),
        (errno.ENAMETOOLONG, "the name is too long"),
        (errno.ELOOP, "a loop of symlinks"),
        (errno.EIO, "cannot write there (Input/output error)"),
        (errno.EACCES, "no permission to create a file in"),
    ],
)
def test_write_errors_the_checks_cannot_foresee_are_worded(tmp_path, code, words):
    """A disk that fills or turns read-only between the check and the write."""
    line = savepath.write_error(tmp_path / "plan.json", OSError(code, os.strerror(code)))
    assert words in line and line.endswith("or `--out -` for standard output")


# --- (b) paths a case-insensitive checkout (macOS, Windows) takes for one -----------------------
def refused_for_case(tmp_path: Path, repo: Path, entry: str, words: str) -> None:
    """Plan stops that repo alone with one line naming both spellings; apply writes no branch."""
    manifest = manifest_for(tmp_path, entry)
    tree = git(repo, "ls-tree", "-r", "main")
    error = plan_error(manifest)
    assert words in error and "case-insensitive checkout (macOS, Windows)" in error, error
    assert len(error.splitlines()) == 1
    result = rollout("apply", "--manifest", manifest, "--yes")
    assert result.code == 1 and "victim: failed" in result.stdout and words in result.stdout
    assert "healthy: created" in result.stdout  # the other repo goes on
    assert no_branch(repo) and git(repo, "ls-tree", "-r", "main") == tree


def test_a_manifest_path_whose_folder_the_tree_spells_in_another_case(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {"notes/README.md": "mine\n"})
    refused_for_case(
        tmp_path,
        repo,
        "  - name: victim\n    files: [{path: NOTES/GUIDE.md, template: sops.yaml.j2}]\n",
        "NOTES/GUIDE.md: the repository has notes, the same name as NOTES but for case",
    )


@pytest.mark.parametrize(
    "variant, words",
    [
        (".GITIGNORE", ".gitignore: the repository has .GITIGNORE, the same name but for case"),
        (".Sops.yaml", ".sops.yaml: the repository has .Sops.yaml, the same name but for case"),
    ],
)
def test_a_managed_file_spelled_in_another_case_in_the_tree(tmp_path, variant, words):
    repo = make_repo(tmp_path / "ws" / "victim", {variant: "mine\n"})
    refused_for_case(tmp_path, repo, "  - name: victim\n", words)


def test_both_spellings_already_in_the_tree_are_refused_too(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {".gitignore": "*.pyc\n", ".GITIGNORE": "x\n"})
    refused_for_case(tmp_path, repo, "  - name: victim\n", "git keeps only one of them")


@pytest.mark.parametrize(
    "files, words",
    [
        (
            "[{path: notes/GUIDE.md, template: sops.yaml.j2},\n"
            "             {path: NOTES/GUIDE.md, template: sops.yaml.j2}]",
            "renders NOTES/GUIDE.md, and notes/GUIDE.md (line 8): NOTES/GUIDE.md and "
            "notes/GUIDE.md differ only in case",
        ),
        (
            "[{path: docs/A.md, template: sops.yaml.j2},\n"
            "             {path: Docs/B.md, template: sops.yaml.j2}]",
            "renders Docs/B.md, and docs/A.md (line 8): Docs/B.md is in the folder Docs and "
            "docs/A.md in docs",
        ),
        (
            "[{path: .GITIGNORE, template: sops.yaml.j2}]",
            "renders .GITIGNORE, and .gitignore (the tool's own file)",
        ),
        (  # macOS also takes a decomposed é for the composed one
            "[{path: caf\u00e9/A.md, template: sops.yaml.j2},\n"
            "             {path: cafe\u0301/A.md, template: sops.yaml.j2}]",
            "renders cafe\u0301/A.md, and caf\u00e9/A.md (line 8): cafe\u0301/A.md and "
            "caf\u00e9/A.md differ only in how an accent is composed (NFC/NFD)",
        ),
    ],
    ids=["same-file", "same-folder", "the-tools-own-file", "composed-and-decomposed"],
)
def test_two_manifest_paths_differing_only_in_case_are_refused_with_their_line(
    tmp_path, files, words
):
    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    manifest = manifest_for(tmp_path, f"  - name: victim\n    files: {files}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert f"{manifest}:" in result.stderr and words in result.stderr, result.stderr
    assert "spell them the same" in result.stderr


def test_a_hand_edited_plan_never_adds_a_second_spelling(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {"notes/README.md": "mine\n"})
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    plan_file = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", manifest, "--out", plan_file).code == 0
    data = json.loads(plan_file.read_text())
    victim = next(r for r in data["repos"] if r["name"] == "victim")
    content = base64.b64encode(b"x\n").decode()
    victim["files"].append(
        {"path": "Notes/x.md", "action": "create", "reason": "x", "content": content}
    )
    plan_file.write_text(json.dumps(data))
    result = rollout("apply", plan_file, "--manifest", manifest, "--yes")
    assert result.code == 1 and "victim: failed" in result.stdout
    assert "Notes/x.md: the repository has notes, the same name as Notes" in result.stdout
    assert no_branch(repo)


# --- (d) plaintext appended to a sops dotenv file: comments, unknown sops_* lines, a forged MAC ----
COMMENTED_PLAINTEXT = (
    b"# top comment\n#\n#   \n#X=2 (a commented-out value)\n# caf\xc3\xa9 \xf0\x9f\x98\x80\n"
    b"A=1 # not a comment: part of the value\nEMPTY=\n# CRLF comment\r\nB=x\r\n"
    b"export E=x y\nQ='quoted # x'\n# last line a comment\n"
)


def sops_dotenv(plaintext: bytes, rule: str) -> bytes:
    from juniper_rollout import sops

    config = f"creation_rules:\n  - path_regex: '.*'\n{rule}"
    return sops.encrypt_dotenv(plaintext, sops_config=config, filename=".env.enc")


@pytest.fixture(scope="module")
def real_outputs(tmp_path_factory):
    """What sops 3.11 really writes for age recipients: one, two, key groups with a shamir
    threshold, mac_only_encrypted; from a .env full of comments and from test_findings' odd one."""
    from juniper_rollout import keys, sops
    from tests.test_findings import REAL_PLAINTEXT

    folder = tmp_path_factory.mktemp("keys")
    one = keys.generate_key_file(folder / "one.txt")
    two = keys.generate_key_file(folder / "two.txt")
    rules = {
        "one recipient": f"    age: '{one}'\n",
        "two recipients": f"    age: '{one},{two}'\n",
        "key groups": f"    shamir_threshold: 2\n    key_groups:\n      - age: ['{one}']\n"
        f"      - age: ['{two}']\n",
        "mac_only_encrypted": f"    age: '{one}'\n    mac_only_encrypted: true\n",
    }
    outputs = {
        f"{name}, {source}": sops_dotenv(text, rule)
        for name, rule in rules.items()
        for source, text in (("comments", COMMENTED_PLAINTEXT), ("odd", REAL_PLAINTEXT))
    }
    # and what rotate writes: a recipient added (updatekeys), a new data key (rotate, with the key)
    config = f"creation_rules:\n  - path_regex: '.*'\n{rules['two recipients']}"
    first = outputs["one recipient, comments"]
    with pytest.MonkeyPatch.context() as patch:  # both read the file: they need its key
        patch.setenv("SOPS_AGE_KEY_FILE", str(folder / "one.txt"))
        outputs["updatekeys"] = sops.updatekeys(first, sops_config=config, filename=".env.enc")
        outputs["rotate"] = sops.rotate(first, filename=".env.enc")
    assert outputs["updatekeys"].count(b"map_recipient=") == 2
    return one, outputs


def forge_mac(mac_line: bytes, data: bytes) -> bytes:
    """A ``sops_mac=`` line of sops' exact shape whose ``data:`` is ``data`` (as a forger would)."""
    head, _, rest = mac_line.partition(b",iv:")
    assert head.startswith(b"sops_mac=ENC[AES256_GCM,data:")
    return b"sops_mac=ENC[AES256_GCM,data:" + base64.b64encode(data) + b",iv:" + rest


def appended_plaintext(real: bytes) -> dict[str, bytes]:
    """Plaintext put into a real sops dotenv file, its metadata kept, as the hook sees it."""
    from tests.test_findings import APPENDED_SECRET as S

    lines = real.split(b"\n")
    first_meta = next(i for i, line in enumerate(lines) if line.startswith(b"sops_"))
    mac = next(line for line in lines if line.startswith(b"sops_mac="))
    forged_mac = forge_mac(mac, S.encode())
    bad = {
        "a comment": f"# {S}\n",
        "a bare #": f"#{S}\n",
        "a commented value": f"#TOKEN={S}\n",
        "unknown sops_ key": f"sops_foo={S}\n",
        "sops_version": f"sops_version={S}\n",
        "sops_lastmodified": f"sops_lastmodified={S}\n",
        "recipient": f"sops_age__list_9__map_recipient={S}\n",
        "an option sops reads": f"sops_encrypted_regex={S}\n",
        "another suffix": f"sops_unencrypted_suffix={S}\n",
        "a comment typed as a value": f"#ENC[AES256_GCM,data:,iv:AA==,tag:AA==,type:str]{S}\n",
    }
    out = {name: real + text.encode() for name, text in bad.items()}
    out["a comment among the metadata"] = b"\n".join(
        [*lines[:first_meta], f"# {S}".encode(), *lines[first_meta:]]
    )
    out["a second sops_mac"] = real + forged_mac + b"\n"
    return out


def test_the_real_hook_refuses_plaintext_comments_and_sops_lines_and_passes_all_sops_writes(
    real_outputs, tmp_path
):
    from juniper_rollout import sopsmeta
    from tests.test_envfiles import manifest_with
    from tests.test_findings import APPENDED_SECRET, run_hook

    recipient, outputs = real_outputs
    real = outputs["one recipient, comments"]
    # sops encrypts every comment but the empty one, which it writes as a bare '#'
    assert real.count(b"type:comment]") == 6 and b"# " not in real and b"\n#\n" in real
    bad = {f"{i}/.env.enc": data for i, data in enumerate(appended_plaintext(real).values())}
    good = {f"good{i}/.env.enc": data for i, data in enumerate(outputs.values())}
    values = run_hook(
        tmp_path / "values", manifest_with(recipient), "require-encrypted-values", bad | good
    )
    assert {name for name, (refused, _) in values.items() if refused} == set(bad)
    assert not any(APPENDED_SECRET in output for _, output in values.values())
    for name, data in (bad | good).items():  # verify's and drift's verdict is the hook's
        assert (sopsmeta.plaintext_line(data) is not None) == (name in bad), name


def test_a_forged_mac_passes_the_shape_checks_and_verify_with_a_key_says_it_failed(
    fleet, monkeypatch
):
    """The limit, stated and measured: a sops_mac line of sops' exact shape cannot be told from a
    real one without the key (the hook and verify without a key pass it, and say the MAC was not
    checked); verify with a key decrypts, sops checks the MAC, and the check fails saying so."""
    from juniper_rollout import sopsmeta
    from tests.test_findings import BRANCH
    from tests.test_verify import branch_with

    assert (
        rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes").code
        == 0
    )
    cascor = fleet.repo("juniper-cascor")
    real = git(cascor, "show", f"{BRANCH}:.env.enc").encode()
    mac = next(line for line in real.split(b"\n") if line.startswith(b"sops_mac="))
    forged = real.replace(mac, forge_mac(mac, b"forged by hand, 32 bytes long...."))
    assert forged != real and sopsmeta.plaintext_line(forged) is None  # shape: fine
    ref = branch_with(cascor, "test/forged-mac", {".env.enc": forged})

    def encrypted_files() -> dict:
        result = rollout(
            "verify", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--ref", ref,
            "--json",
        )  # fmt: skip
        checks = {c["name"]: c for c in json.loads(result.stdout)["repos"][0]["checks"]}
        return checks["encrypted-files"]

    with_key = encrypted_files()
    assert not with_key["ok"], with_key
    assert (
        ".env.enc: file was modified after encryption (sops' integrity check failed"
        in (with_key["detail"])
    )
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")  # no key anywhere sops looks (HOME is private)
    without = encrypted_files()
    assert (
        without["ok"]
        and "not decrypted (no age key found), so its MAC is unchecked" in (without["detail"])
    )


def test_a_named_rollout_rendering_two_spellings_of_one_path_is_refused_with_its_line(tmp_path):
    from juniper_rollout.errors import ManifestError
    from tests.test_rollouts import ROLLOUTS, core

    old = "      - {path: py.txt,"
    text = ROLLOUTS.replace(old, "      - {path: owners, template: lint.j2}\n" + old, 1)
    with pytest.raises(ManifestError) as err:
        core(tmp_path, "hygiene", text)
    assert str(err.value).startswith(f"{tmp_path / 'repos.yaml'}:13: ")
    assert "renders owners, and OWNERS (line 10): owners and OWNERS differ only in case" in str(
        err.value
    )


# --- pass 5 leftover: a saved plan's bytes are checked again for plaintext values at apply -------


def test_a_hand_edited_saved_plan_never_commits_a_plaintext_value(tmp_path):
    from tests.demofleet import CANARY

    repo = make_repo(
        tmp_path / "ws" / "victim",
        {
            ".gitignore": ".env\n",
            "app/settings.py": 'import os\nHOST = os.environ.get("DB_HOST", "db-primary.internal")\n',
        },
    )
    # DB_HOST's value is also the code's default (no new leak); API_TOKEN's is a secret
    (repo / ".env").write_text(f"DB_HOST=db-primary.internal\nAPI_TOKEN={CANARY}-value\n")
    manifest = manifest_for(
        tmp_path,
        "  - name: victim\n    precommit_hook: skip\n    agents_md: skip\n"
        "    env_example: {from: code}\n",
    )
    plan_file = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", manifest, "--out", plan_file).code == 0
    saved = json.loads(plan_file.read_text())

    def edited(change) -> Path:
        data = json.loads(json.dumps(saved))
        victim = next(r for r in data["repos"] if r["name"] == "victim")
        change(victim)
        path = tmp_path / "edited.json"
        path.write_text(json.dumps(data))
        return path

    def append_to_gitignore(victim) -> None:
        item = next(f for f in victim["files"] if f["path"] == ".gitignore")
        text = base64.b64decode(item["content"]) + f"# API_TOKEN={CANARY}-value\n".encode()
        item["content"] = base64.b64encode(text).decode()

    result = rollout("apply", edited(append_to_gitignore), "--manifest", manifest, "--yes")
    assert result.code == 1 and "victim: failed" in result.stdout
    assert ".gitignore would contain the value on line 2 of the plaintext .env" in result.stdout
    assert no_branch(repo)

    # the code's default, let through when planning, is let through at apply by its digest alone:
    # a plan without that record is refused, the plan as saved applies
    def forget_cleared(victim) -> None:
        assert victim["cleared"], "the plan records the value it let through"
        victim["cleared"] = []

    result = rollout("apply", edited(forget_cleared), "--manifest", manifest, "--yes")
    assert ".env.example would contain the value on line 1 of the plaintext .env" in result.stdout
    assert result.code == 1 and no_branch(repo)
    result = rollout("apply", plan_file, "--manifest", manifest, "--yes")
    assert result.code == 0 and "victim: created" in result.stdout, result.stdout


# --- pass 5 leftover: history outside every commit (tags of trees and blobs) -----------------------


def test_drift_finds_plaintext_kept_by_tags_of_trees_and_blobs(fleet, tmp_path):
    """`git log --all` walks commits only: a tree or a blob a tag points at (published by
    `git push --tags`) kept `.env` values that drift never saw (pass 5)."""
    from tests.test_pass3 import drift_findings, tree_with

    repo = fleet.repo("juniper-ml")
    value = "tagged-tree-value-not-the-canary"
    tree = tree_with(
        repo,
        "main",
        {
            "deploy/.env.production": f"API_TOKEN={value}\n",
            "deploy/.env.example": "API_TOKEN=\n",  # an example: never a finding
            "svc/.env.enc": f"DB_PASSWORD={value}\n",  # plaintext under an encrypted name
        },
        tmp_path,
    ).strip()
    git(repo, "tag", "-a", "cfgsnap", "-m", "config snapshot", tree)
    git(repo, "tag", "-a", "of-a-tag", "-m", "nested", "cfgsnap")  # followed to the tree

    def stored(text: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), "hash-object", "-w", "--stdin"],
            input=text,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    git(repo, "tag", "blobsnap", stored(f"# prod\nexport SECRET_KEY={value}\n"))  # of a blob
    git(
        repo, "tag", "notes-blob", stored("Release notes\nA=1 is not all it says\n")
    )  # no env shape
    found = sorted((f["id"], f["path"]) for f in drift_findings(fleet, "juniper-ml"))
    assert found == [
        ("enc-without-sops", "svc/.env.enc"),
        ("enc-without-sops", "svc/.env.enc"),
        ("plaintext-env-in-history", "deploy/.env.production"),
        ("plaintext-env-in-history", "deploy/.env.production"),
        ("plaintext-env-in-history", "refs/tags/blobsnap"),
    ], found
    messages = " ".join(f["message"] for f in drift_findings(fleet, "juniper-ml"))
    assert "deploy/.env.production in the tree refs/tags/cfgsnap points at" in messages
    ml = fleet.repo("juniper-ml")
    held = git(ml, "rev-parse", "refs/tags/of-a-tag").strip()  # pass 25d: the delete's lease
    assert f"`git -C {ml} update-ref -d refs/tags/of-a-tag {held}`" in messages
    assert value not in messages


# --- an age recipient of small order: sops refuses it, so the manifest and rotate do too ----------

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32_recipient(key: bytes) -> str:
    """``age1…`` for 32 raw bytes (BIP 173 bech32, as age spells recipients)."""

    def polymod(values: list[int]) -> int:
        chk = 1
        for v in values:
            top, chk = chk >> 25, (chk & 0x1FFFFFF) << 5 ^ v
            for i, g in enumerate((0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)):
                chk ^= g if (top >> i) & 1 else 0
        return chk

    bits = "".join(format(b, "08b") for b in key)
    bits += "0" * (-len(bits) % 5)
    data = [int(bits[i : i + 5], 2) for i in range(0, len(bits), 5)]
    hrp = [ord(c) >> 5 for c in "age"] + [0] + [ord(c) & 31 for c in "age"]
    mod = polymod(hrp + data + [0] * 6) ^ 1
    return "age1" + "".join(
        _CHARSET[d] for d in data + [(mod >> 5 * (5 - i)) & 31 for i in range(6)]
    )


P25519 = 2**255 - 19
SMALL = [0, 1, P25519 - 1, P25519, P25519 + 1]  # and the two points of order 8:
SMALL += [
    0x00B8495F16056286FDB1329CEB8D09DA6AC49FF1FAE35616AEB8413B7C7AEBE0,
    0x57119FD0DD4E22D8868E1C58C45C44045BEF839C55B1D0B1248C50A3BC959C5F,
]


def test_small_order_recipients_are_exactly_those_sops_refuses(tmp_path):
    import pyrage

    from juniper_rollout import agekey
    from juniper_rollout.sops import sops_path

    (tmp_path / ".env").write_text("A=1\n")

    def sops_accepts(recipient: str) -> bool:
        (tmp_path / ".sops.yaml").write_text(
            f"creation_rules:\n  - path_regex: '.*'\n    age: {recipient}\n"
        )
        done = subprocess.run(
            [sops_path(), "-e", "--input-type", "dotenv", "--output-type", "dotenv", ".env"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0 or "low order point" in done.stderr, done.stderr
        return done.returncode == 0

    small = [u | high for u in SMALL for high in (0, 1 << 255)]  # X25519 ignores the top bit
    for u in small:
        recipient = bech32_recipient(u.to_bytes(32, "little"))
        assert not agekey.is_valid_recipient(recipient) and not sops_accepts(recipient), hex(u)
    fine = [2, 9, P25519 - 2]  # the base point and neighbours of the small ones
    fine_keys = [bech32_recipient(u.to_bytes(32, "little")) for u in fine]
    fine_keys.append(str(pyrage.x25519.Identity.generate().to_public()))
    for recipient in fine_keys:
        assert agekey.is_valid_recipient(recipient) and sops_accepts(recipient), recipient


def test_rotate_add_and_the_manifest_refuse_a_small_order_recipient(fleet):
    zero = bech32_recipient(bytes(32))
    before = fleet.manifest.read_bytes()
    result = rollout("rotate", "--add", zero, "--manifest", fleet.manifest)
    assert result.code == 1 and "is an age key of small order" in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert fleet.manifest.read_bytes() == before
    text = before.decode()
    key = text.split("age_recipients:")[1].split("- ")[1].split()[0]
    fleet.manifest.write_text(text.replace(key, zero, 1))
    result = rollout("plan", "--manifest", fleet.manifest)
    assert result.code == 1 and "is an age key of small order" in result.stderr, result.stderr
    assert result.stderr.startswith(f"error: {fleet.manifest}:")


def test_a_ref_naming_a_tree_is_named_as_such_not_as_missing(fleet, tmp_path):
    from tests.test_pass3 import tree_with

    repo = fleet.repo("juniper-ml")
    git(repo, "tag", "-a", "treetag", "-m", "x", tree_with(repo, "main", {"A": "1\n"}, tmp_path))
    for command in ("drift", "verify"):
        result = rollout(
            command, "--manifest", fleet.manifest, "--repo", "juniper-ml", "--ref", "treetag"
        )
        out = result.stdout + result.stderr
        assert result.code == 1 and "ref 'treetag' names a tree, not a commit" in out, out
    result = rollout("drift", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--ref", "nope")
    assert "ref 'nope' not found" in result.stdout + result.stderr


# --- pass 6's open item: a large ciphertext in history keeps its sops metadata at the end ----------


def test_a_large_ciphertext_in_history_is_judged_by_its_metadata_at_the_end(tmp_path):
    """History blobs were read to 1 MB: a dotenv `.enc` over 1 MB, whose sops metadata sops writes
    last, was flagged as "committed without sops metadata" (pass 6); a large plaintext one still is."""
    from tests.test_hostile import KEY

    plaintext = b"".join(b"VALUE_%05d=%s\n" % (i, b"v" * 90) for i in range(12_000))
    cipher = sops_dotenv(plaintext, f"    age: {KEY}\n")
    assert len(cipher) > 1 << 21
    repo = make_repo(tmp_path / "ws" / "victim", {"app/.env.enc": cipher.decode()})
    git(repo, "rm", "-q", "app/.env.enc")
    git(repo, "commit", "-qm", "drop the big one")  # history only
    (repo / "big.env.enc").write_bytes(plaintext)  # a large plaintext under an encrypted name
    git(repo, "add", "big.env.enc")
    git(repo, "commit", "-qm", "oops")
    git(repo, "rm", "-q", "big.env.enc")
    git(repo, "commit", "-qm", "remove it")
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    result = rollout("drift", "--manifest", manifest, "--repo", "victim", "--format", "json")
    found = {(f["id"], f["path"]) for f in json.loads(result.stdout)["repos"][0]["findings"]}
    assert ("enc-without-sops", "big.env.enc") in found, found
    assert not {f for f in found if f[1] == "app/.env.enc"}, found
