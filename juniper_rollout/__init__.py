"""juniper-rollout: roll SOPS + age secrets management out across a fleet of git repositories."""
from __future__ import annotations

__version__ = "0.1.0"
