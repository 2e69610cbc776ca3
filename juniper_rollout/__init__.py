"""juniper-rollout: roll SOPS + age secrets management out across a fleet of git repositories."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("juniper-rollout")  # the one version: pyproject.toml's, as installed
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"
