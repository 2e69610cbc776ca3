"""Issue 13, the lead's changes of stop 26 beside passes 22a-22c. Each test fails without its fix
(checked by undoing it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.helpers import git, rollout

DATA = "juniper-data"


def _versions_on_a_side_branch(repo: Path, count: int) -> None:
    """``count`` commits on a branch ``side`` of ``repo``, each a new version of ``s.enc`` (no sops
    metadata: each is a finding), made by one `git fast-import`."""
    stream = []
    for i in range(count):
        data = f"API_TOKEN=version-{i}\n".encode()
        stream.append(b"commit refs/heads/side\n")
        stream.append(f"committer a <a@example.com> {1_700_000_000 + i} +0000\n".encode())
        stream.append(b"data 2\nv\n")
        if i == 0:
            stream.append(b"from refs/heads/main\n")
        stream.append(f"M 100644 inline s.enc\ndata {len(data)}\n".encode() + data + b"\n")
    subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(stream), check=True
    )


def _partial_clone_in_place_of(fleet, tmp_path: Path, name: str) -> tuple[Path, Path]:
    """The fleet's clone ``name`` replaced by a blob-less partial clone of it (all branches, no
    blob of history here), auto-gc off so that each fetch's pack stays a pack: (clone, origin)."""
    source = fleet.repo(name)
    origin = tmp_path / f"{name}-origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(origin))
    git(origin, "config", "uploadpack.allowFilter", "true")
    shutil.rmtree(source)
    git(
        tmp_path,
        "clone",
        "-q",
        "--filter=blob:none",
        "--no-single-branch",
        origin.as_uri(),
        str(source),
    )
    git(source, "config", "gc.auto", "0")
    git(source, "config", "maintenance.auto", "false")
    return source, origin


def _packs(clone: Path) -> int:
    return len(list((clone / ".git" / "objects" / "pack").glob("*.pack")))


def test_drift_of_a_partial_clone_fetches_the_old_versions_in_one_fetch(fleet, tmp_path):
    """drift read each old version of a `*.enc` file in a blob-less partial clone through git, which
    fetched each missing blob in a fetch of its own: 300 tiny versions took 13.5 s over file://,
    30,000 about 20 minutes, hours over a network (pass 21g's finding 3, 13.9/13.11). They are now
    fetched in one `git fetch` per FETCH_BATCH before they are read: one pack, not 300."""
    _versions_on_a_side_branch(fleet.repo(DATA), 300)
    clone, _ = _partial_clone_in_place_of(fleet, tmp_path, DATA)
    before = _packs(clone)
    result = rollout("drift", "--manifest", fleet.manifest, "--repo", DATA)
    assert "s.enc" in result.stdout and "unexpected" not in result.stdout, result.stdout
    assert result.code == 2, result.stdout  # the 300 plaintext versions are one finding
    fetched = _packs(clone) - before
    assert fetched == 1, f"{fetched} fetches for 300 old versions"


def test_drift_of_a_partial_clone_whose_remote_is_gone_is_one_line(fleet, tmp_path):
    """The batch fetch failing (the promisor remote is gone) is one line naming the partial clone, not
    one failed fetch per version and no traceback."""
    _versions_on_a_side_branch(fleet.repo(DATA), 5)
    clone, origin = _partial_clone_in_place_of(fleet, tmp_path, DATA)
    shutil.rmtree(origin)
    result = rollout("drift", "--manifest", fleet.manifest, "--repo", DATA)
    assert result.code == 1, result.stdout
    assert "5 old version(s) of the files drift audits are missing from" in result.stdout, (
        result.stdout
    )
    assert "a partial clone (git clone --filter)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr and "unexpected" not in result.stdout
