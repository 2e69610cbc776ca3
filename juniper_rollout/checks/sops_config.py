"""The .sops.yaml: its recipients are the manifest's, and a creation rule matches every env file and
its .enc (asked of sops itself: it matches path_regex against the path it is given)."""

from __future__ import annotations

import functools

from juniper_rollout import envfiles, sops, sopsmeta
from juniper_rollout.agekey import short
from juniper_rollout.checks.base import APPLY, Check, RefFiles, failed, lfs_pointer, passed
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.paths import SOPS_CONFIG
from juniper_rollout.yamlio import YamlSyntaxError


def check_sops_config(manifest: Manifest, snap: RefFiles) -> Check:
    name = "sops-config"
    stored = lfs_pointer(name, SOPS_CONFIG, snap)
    if stored is not None:
        return stored
    text = snap.files.get(SOPS_CONFIG)
    if text is None:
        return failed(name, f"no .sops.yaml at {snap.ref}", APPLY)
    try:
        found = sopsmeta.config_recipients(text.decode("utf-8"))
    except (YamlSyntaxError, UnicodeDecodeError) as err:
        return failed(name, f".sops.yaml does not parse: {err}", APPLY)
    if not found:
        return failed(name, ".sops.yaml does not parse: it has no creation_rules", APPLY)
    wanted = list(manifest.recipients)
    extra = [k for k in found if k not in wanted]
    missing = [k for k in wanted if k not in found]
    if extra or missing:
        parts = ([f"extra {', '.join(map(short, extra))}"] if extra else []) + (
            [f"missing {', '.join(map(short, missing))}"] if missing else []
        )
        return failed(
            name,
            f".sops.yaml recipients differ from the manifest: {'; '.join(parts)}",
            APPLY + " (or `rollout rotate` if the manifest is what is wrong)",
        )
    return passed(
        name, f"{len(found)} recipient{'s' if len(found) != 1 else ''}, as in the manifest"
    )


def check_sops_rules(repo: RepoSpec, snap: RefFiles, manifest: Manifest | None = None) -> Check:
    """sops matches path_regex against the path it is given: every plaintext env file and its .enc must match."""
    name = "sops-rules"
    env = manifest.env_files if manifest is not None else envfiles.DEFAULT
    stored = lfs_pointer(name, SOPS_CONFIG, snap)
    if stored is not None:
        return stored
    text = snap.files.get(SOPS_CONFIG)
    if text is None:
        return failed(name, f"no .sops.yaml at {snap.ref}", APPLY)
    samples = env.samples()[0]
    paths = [
        *samples,
        *(p + ".enc" for p in samples),
        *(p for s in repo.encrypt for p in (s.source, s.target)),
        # an env file's encrypted form only: another `*.enc` (a vendored file) is its owner's, no
        # rule of the tool's is meant to match it (pass 25f)
        *(p for p in snap.encrypted if env.is_encrypted_form(p)),
    ]
    unmatched = []
    try:
        config = text.decode("utf-8")
        others = sopsmeta.config_other_keys(config)
        if others:  # sops would encrypt the probe with them: the user's credentials, their address
            return failed(
                name,
                f".sops.yaml at {snap.ref} names {', '.join(others)} besides age: not handed to "
                "sops, which would use your cloud or Vault credentials for them",
                APPLY,
            )
        for path in dict.fromkeys(paths):
            if not _rule_matches(config, path):
                unmatched.append(path)
    except (sops.SopsError, UnicodeDecodeError, YamlSyntaxError) as err:
        return failed(name, str(err), APPLY)
    if unmatched:
        return failed(
            name,
            f"no creation rule matches {', '.join(unmatched)} (sops matches path_regex "
            "against the path it is given)",
            f"use path_regex '{env.sops_path_regex()}': {APPLY}",
        )
    return passed(name, f"a rule matches {', '.join(dict.fromkeys(paths))}")


@functools.lru_cache(maxsize=256)
def _rule_matches(config: str, path: str) -> bool:
    """Asked of sops once per (config, path): fleets share one .sops.yaml."""
    return sops.rule_matches(config, path)
