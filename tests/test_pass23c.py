"""Pass 23c (issue 13 items 9-12 and the smaller ones, another adversarial pass): what still broke.
Each test here fails without its fix, but those marked as the guard of a fix."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zlib
from pathlib import Path

import pyrage
import pytest

from tests.demofleet import make_repo
from tests.helpers import git, rollout
from tests.test_adversary import run_cli
from tests.test_drift_messages import TOKEN, _findings, _victim
from tests.test_hostile import KEY
from tests.test_lead26 import DATA, _partial_clone_in_place_of, _versions_on_a_side_branch
from tests.test_pass22c import env_prod_in_history


def test_a_token_in_a_message_of_a_commit_a_replace_ref_hides_is_found(tmp_path):
    """Item 9's history scan: the commits are listed as stored (replace refs ignored, pass 6), but
    their messages were read with `git cat-file --batch`, which follows `git replace`: the commit
    whose message held a token was read as its harmless replacement, "0 findings"."""
    manifest, repo = _victim(tmp_path)
    git(repo, "commit", "-q", "--allow-empty", "-m", f"deployed with {TOKEN}")
    leaked = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "commit", "-q", "--allow-empty", "-m", "docs: tidy")
    git(repo, "replace", "-f", leaked, git(repo, "rev-parse", "HEAD").strip())
    found = _findings(manifest)
    assert [f["message"].split(" holds ")[0] for f in found] == [
        f"the message of commit {leaked[:7]}"
    ]


def _sops_ciphertext(tmp_path: Path, text: str) -> bytes:
    """``text`` encrypted by the real sops to a throwaway age key, as a dotenv file."""
    plain = tmp_path / "harmless.env"
    plain.write_text(text)
    public = str(pyrage.x25519.Identity.generate().to_public())
    sops = str(Path(".venv/bin/sops").resolve())
    return subprocess.run(
        [sops, "--encrypt", "--age", public, "--input-type", "dotenv", "--output-type", "dotenv",
         str(plain)],
        capture_output=True,
        check=True,
    ).stdout  # fmt: skip


def test_a_plaintext_enc_blob_a_replace_ref_hides_in_a_partial_clone_is_found(fleet, tmp_path):
    """Item 9 (unencrypted `.enc` blobs of history) in a blob-less partial clone: its objects were
    read by `git cat-file`, which follows `git replace`, so a plaintext `s.enc` of history replaced
    by a sops ciphertext was read as the ciphertext: "0 findings". Any other clone's reader (gitdb)
    ignores replace refs, as drift's listing does."""
    _versions_on_a_side_branch(fleet.repo(DATA), 1)
    clone, _ = _partial_clone_in_place_of(fleet, tmp_path, DATA)
    plain = git(clone, "rev-parse", "origin/side:s.enc").strip()
    git(clone, "cat-file", "-e", plain)  # fetched, as any read of it does
    cover = subprocess.run(
        ["git", "-C", str(clone), "hash-object", "-w", "--stdin"],
        input=_sops_ciphertext(tmp_path, "API_TOKEN=harmless\n"),
        capture_output=True,
        check=True,
    ).stdout.decode()
    git(clone, "replace", "-f", plain, cover.strip())
    result = rollout("drift", "--manifest", fleet.manifest, "--repo", DATA)
    assert result.code == 2 and "enc-without-sops  s.enc was once committed" in result.stdout, (
        result.stdout
    )


def test_a_history_read_that_fails_names_gits_error_not_its_advice(fleet, tmp_path):
    """Smaller list, wrong messages: drift reads history with ``GIT_GRAFT_FILE`` set, and git then
    prints eight lines of advice (grafts are deprecated) before any error: the 200 characters of
    "cannot read history: …" held only that advice. A tree-less partial clone whose remote is gone
    (`git log` must fetch the trees it lacks) said nothing of why."""
    source = fleet.repo(DATA)
    _versions_on_a_side_branch(source, 3)  # their trees are fetched only when read
    _, origin = _partial_clone_in_place_of(fleet, tmp_path, DATA, "tree:0")
    shutil.rmtree(origin)
    result = rollout("drift", "--manifest", fleet.manifest, "--repo", DATA, "--format", "json")
    error = json.loads(result.stdout)["repos"][0]["error"]
    assert "hint:" not in error and "fatal:" in error, error


def loose_object(repo: Path, said: int, size: int) -> str:
    """A loose object whose header says a blob of ``said`` bytes and whose zlib stream inflates to
    ``size`` zero bytes after it (named by the hash of what it inflates to, as git names a loose
    object it takes from a dumb-HTTP remote or a local clone's copied object folder): a few MB."""
    header = b"blob %d\0" % said
    digest, deflate = hashlib.sha1(header), zlib.compressobj(1)
    parts, zeros = [deflate.compress(header)], b"\0" * (1 << 24)
    for start in range(0, size, len(zeros)):
        chunk = zeros[: min(len(zeros), size - start)]
        digest.update(chunk)
        parts.append(deflate.compress(chunk))
    sha = digest.hexdigest()
    folder = repo / ".git" / "objects" / sha[:2]
    folder.mkdir(exist_ok=True)
    (folder / sha[2:]).write_bytes(b"".join(parts) + deflate.flush())
    return sha


def drift_over_side_enc(manifest: Path, repo: Path, sha: str) -> dict:
    try:
        tree = git(repo, "mktree", input=f"100644 blob {sha}\ts.enc\n").strip()
        commit = git(repo, "commit-tree", "-p", "HEAD", "-m", "big", tree).strip()
        git(repo, "update-ref", "refs/heads/side", commit)
        result = run_cli("drift", "--manifest", manifest, "--format", "json", timeout=300)
    finally:  # the session's scan for the canary inflates every loose object whole
        (repo / ".git" / "objects" / sha[:2] / sha[2:]).unlink()
    assert "MemoryError" not in result.stderr and "report this" not in result.stderr, result.stderr
    return next(r for r in json.loads(result.stdout)["repos"] if r["name"] == "victim")


def test_drift_over_a_huge_loose_blob_of_history_reads_it_in_bounded_memory(tmp_path):
    """Item 9's scan of `*.enc` blobs, bounded (11): a branch whose `s.enc` is 2.2 GB of zeros (10 MB
    as the loose object a small fetch stores) was inflated whole by drift's object reader: 2.2 GB
    held, "unexpected MemoryError … please report this" under a 2 GB cap (the OOM killer without
    one). gitdb now inflates a large loose object as it is read; drift reads its head and tail."""
    manifest, repo = _victim(tmp_path)
    victim = drift_over_side_enc(manifest, repo, loose_object(repo, 2_200_000_000, 2_200_000_000))
    assert "error" not in victim, victim
    assert [f["id"] for f in victim["findings"] if "s.enc" in f["message"]] == [
        "enc-without-sops"
    ], victim


def test_an_empty_plan_path_or_out_path_is_refused_as_empty(tmp_path):
    """Item 12 / wrong messages: `rollout apply ""` (or `plan --out "$UNSET"`) said ". is not a regular
    file (a folder…)": the empty text was read as the current folder and named as `.`. It is refused
    as `--manifest ""` is: empty, perhaps an unset variable."""
    manifest, _ = _victim(tmp_path)
    for args in (("apply", "", "--yes"), ("plan", "--out", "")):
        result = run_cli(*args, "--manifest", manifest)
        assert result.returncode == 1, result.stderr
        assert "is empty (an unset variable?)" in result.stderr, result.stderr
        assert ". is not" not in result.stderr and "Traceback" not in result.stderr


def test_a_plan_file_that_fails_to_read_is_said_of_the_plan(tmp_path):
    """Item 11: a plan file whose read fails (EIO: a failing disk or network file system; here
    /proc/self/mem, a regular file that cannot be read from its start) was "error: cannot write the
    output: Input/output error", the message for a full disk under `> plan.json`."""
    manifest, _ = _victim(tmp_path)
    result = run_cli("apply", "/proc/self/mem", "--yes", "--manifest", manifest)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip() == (
        "error: /proc/self/mem: cannot read the plan file: Input/output error"
    ), result.stderr


def test_a_branch_named_like_the_tools_own_push_records_is_refused_with_its_line(tmp_path):
    """Smaller list (`branch: HEAD` and its kin): the tool records each push at
    refs/juniper-rollout/pushed/<branch>, and git reads `juniper-rollout/pushed/x` as that record
    before refs/heads/juniper-rollout/pushed/x, as it reads `stash` (refused since pass 10b): with a
    rollout branch `x` pushed, `rollout verify --ref juniper-rollout/pushed/x` checked the record of
    `x`. Such a branch is refused at load, any letter case."""
    for name in ("juniper-rollout/pushed/x", "Juniper-Rollout/Pushed/x"):
        manifest = tmp_path / "repos.yaml"
        manifest.write_text(
            "version: 1\nworkspace: ws\ndefaults:\n"
            f"  age_recipients: [{KEY}]\n  branch: {name}\nrepos:\n  - name: a\n"
        )
        result = run_cli("plan", "--manifest", manifest)
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith(
            f"error: {manifest}:5: defaults.branch {name!r} starts with"
        ), result.stderr
        assert "the tool's record of a push" in result.stderr, result.stderr


@pytest.mark.parametrize("encoding", ["UTF-16", "cp932"])
def test_a_plaintext_env_file_of_history_is_found_and_named_whatever_the_log_encoding(
    tmp_path, encoding
):
    """Item 9's history scan under the clone's `i18n.logOutputEncoding` (git re-codes what `git log
    --format` prints to it): UTF-16 made every listing UTF-16, so drift found no record of the commit
    that added `.env.prod` ("0 findings") and its message scan crashed ("unexpected
    UnicodeEncodeError … please report this"); cp932 (a Japanese Windows user's setting) named the
    commit by its subject in mojibake ("\\udc90ݒ\\udce8…"). Every git the tool runs prints UTF-8."""
    manifest, repo = _victim(tmp_path)
    env_prod_in_history(repo, "APP_ENV=production\n", "設定ファイル追加")
    git(repo, "config", "i18n.logOutputEncoding", encoding)
    result = run_cli("drift", "--manifest", manifest, "--format", "json")
    victim = next(r for r in json.loads(result.stdout)["repos"] if r["name"] == "victim")
    assert "error" not in victim, victim
    found = [f["message"] for f in victim["findings"] if f["id"] == "plaintext-env-in-history"]
    assert len(found) == 1 and '"設定ファイル追加"' in found[0], victim


def test_drift_reads_history_under_a_users_log_follow_setting(tmp_path):
    """Item 9's history scan under `log.follow = true` (git's documented setting: `git log -- PATH`
    follows one file's renames): drift's one pathspec for `*.enc` files (`:(glob)**/*.enc`) then
    failed inside git ("BUG: tree-diff.c:596: unsupported magic 8") in every repo with a `*.enc` in
    its history, "cannot read history": the scan for a committed `.env.prod` never ran. Every git
    the tool runs lists history without following."""
    manifest, repo = _victim(tmp_path)
    (repo / ".env.prod").write_text("APP_ENV=production\n")
    (repo / "s.enc").write_text("APP_ENV=production\n")
    git(repo, "add", "-f", ".env.prod", "s.enc")
    git(repo, "commit", "-qm", "add the production settings")
    git(repo, "rm", "-q", "--cached", ".env.prod", "s.enc")
    git(repo, "commit", "-qm", "untrack")
    git(repo, "config", "log.follow", "true")
    result = run_cli("drift", "--manifest", manifest, "--format", "json")
    victim = next(r for r in json.loads(result.stdout)["repos"] if r["name"] == "victim")
    assert "error" not in victim, victim
    found = sorted(f["id"] for f in victim["findings"] if "committed" in f["message"])
    assert found == ["enc-without-sops", "plaintext-env-in-history"], victim


def test_a_signed_commit_is_read_under_a_users_show_signature_setting(tmp_path):
    """Smaller list (wrong messages) and the review loop's reads: under `log.showSignature = true`
    git puts its signature check ("No signature", "Good signature…") before a signed commit's
    formatted line on standard output: a signed commit's time read as none (cleanup then took the
    base for the merged head) and a pull request's description listed "No signature\\n<id>" as the
    commit id. Signed here with an ssh key, as git does it."""
    from juniper_rollout import remote

    repo = make_repo(tmp_path / "signed", {"README.md": "x\n"})
    base = git(repo, "rev-parse", "HEAD").strip()
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "k")], check=True
    )
    (repo / "a.txt").write_text("a\n")
    git(repo, "add", "a.txt")
    git(
        repo,
        "-c", "gpg.format=ssh", "-c", f"user.signingkey={tmp_path / 'k.pub'}",
        "commit", "-q", "-S", "-m", "signed change",
    )  # fmt: skip
    tip = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "config", "log.showSignature", "true")
    assert remote.commit_time(repo, tip) == int(
        git(repo, "log", "-1", "--format=%ct", "--no-show-signature").strip()
    )
    _, commits = remote.changes(repo, base, tip)
    assert commits == [(tip, "signed change")], commits


def test_apply_push_sends_the_rollout_branch_and_no_local_tag(loop):
    """The push apply makes under a user's `push.followTags = true`: git also sent every annotated
    tag origin lacks on the pushed history, so a local tag on the base (never pushed: a note to
    self, its message with it) was published with the rollout branch. The push sends the branch."""
    repo = loop.repo("juniper-cascor")
    git(repo, "tag", "-a", "local-only", "-m", "a note to self", "main")
    git(repo, "config", "push.followTags", "true")
    result = rollout("apply", "-m", loop.manifest, "--repo", "juniper-cascor", "--yes", "--push")
    assert result.code == 0, result.stdout
    origin = loop.remotes / "juniper-cascor.git"
    assert "chore/sops-age-rollout" in git(origin, "branch", "--list")
    assert git(origin, "tag", "--list") == ""
