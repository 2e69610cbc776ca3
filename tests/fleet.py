"""A built demo fleet for tests: seven repos, a throwaway key, a manifest; built once, copied per test."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from tests import demofleet as demo
from tests.helpers import git

SHIPPED = Path(__file__).resolve().parent.parent / "manifests" / "repos.yaml"
BRANCH = "chore/sops-age-rollout"
OWNER = "pcalnon"  # the GitHub owner of the demo fleet in the review-loop tests


@dataclass
class Fleet:
    root: Path
    manifest: Path
    key_file: Path

    @property
    def workspace(self) -> Path:
        return self.root / "fleet"

    def repo(self, name: str) -> Path:
        return self.workspace / name

    @property
    def names(self) -> list[str]:
        return list(demo.fleet_files())

    def move(self, name: str, dest: Path) -> Path:
        """Move clone ``name`` to ``dest`` (`mv`), the manifest's `path:` following it."""
        self.repo(name).rename(dest)
        entry = f"  - name: {name}\n"
        self.manifest.write_text(
            self.manifest.read_text().replace(entry, f"{entry}    path: {dest}\n", 1)
        )
        return dest

    def merge_all(self) -> None:
        """Merge each rollout branch into main the way a reviewer would, without touching checkouts."""
        for name in self.names:
            repo = self.repo(name)
            if git(repo, "branch", "--list", BRANCH).strip():
                git(repo, "update-ref", "refs/heads/main", f"refs/heads/{BRANCH}")
                if git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main":
                    git(repo, "reset", "-q", "--keep", "main")


def build(root: Path) -> Fleet:
    manifest, key = demo.setup(root, SHIPPED)
    return Fleet(root, manifest, key)


def copy(fleet: Fleet, dest: Path) -> Fleet:
    """A copy whose manifest points at the copy's workspace."""
    shutil.copytree(fleet.root, dest, symlinks=True)
    text = fleet.manifest.read_text().replace(str(fleet.root), str(dest))
    (dest / fleet.manifest.name).write_text(text)
    return Fleet(dest, dest / fleet.manifest.name, dest / fleet.key_file.relative_to(fleet.root))
