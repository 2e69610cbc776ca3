"""juniper-rollout: roll SOPS + age secrets management out across a fleet of git repositories."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed metadata when first asked for: importlib.metadata
    costs ~20 ms at every start of every command, and only --version, SARIF and crash logs need it."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("juniper-rollout")  # the one version: pyproject.toml's, as installed
    except PackageNotFoundError:  # imported from a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
