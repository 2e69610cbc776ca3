"""Pass 23c (issue 13 items 9-12 and the smaller ones, another adversarial pass): what still broke.
Each test here fails without its fix, but those marked as the guard of a fix."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pyrage

from tests.helpers import git, rollout
from tests.test_drift_messages import TOKEN, _findings, _victim
from tests.test_lead26 import DATA, _partial_clone_in_place_of, _versions_on_a_side_branch


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
    origin = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(origin))
    git(origin, "config", "uploadpack.allowFilter", "true")
    shutil.rmtree(source)
    git(
        tmp_path,
        "clone",
        "-q",
        "--filter=tree:0",
        "--no-checkout",
        "--no-single-branch",
        origin.as_uri(),
        str(source),
    )
    git(source, "checkout", "-q", "main")
    shutil.rmtree(origin)
    result = rollout("drift", "--manifest", fleet.manifest, "--repo", DATA, "--format", "json")
    error = json.loads(result.stdout)["repos"][0]["error"]
    assert "hint:" not in error and "fatal:" in error, error
