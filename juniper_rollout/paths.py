"""The paths the rollout manages in every repository, named once."""

from __future__ import annotations

SOPS_CONFIG = ".sops.yaml"
GITIGNORE = ".gitignore"
PRECOMMIT = ".pre-commit-config.yaml"
AGENTS = "AGENTS.md"
