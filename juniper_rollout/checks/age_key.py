"""The age key: where sops finds one (keys.find_age_keys), whether it is a recipient."""

from __future__ import annotations

from juniper_rollout.agekey import short
from juniper_rollout.checks.base import Check, failed, passed
from juniper_rollout.keys import AgeKeys
from juniper_rollout.manifest import Manifest


def check_age_key(manifest: Manifest, age: AgeKeys) -> Check:
    """As sops: a source that cannot be read is skipped, so it fails the check only when no key is a recipient."""
    name = "age-key"
    if age.loose:
        return failed(name, age.loose[0])
    if not age.public and age.problems:
        return failed(name, age.problems[0])
    if not age.public:  # nothing that needs the key was checked; each check said so
        return passed(
            name,
            f"no age key where sops looks ({', '.join(age.looked)}): decryption not checked "
            "(to check it: copy the team's key file there, or set SOPS_AGE_KEY_FILE)",
            applies=False,
        )
    mine = [k for k in age.public if k in manifest.recipients]
    if not mine:
        return failed(
            name,
            f"your age key{'s' if len(age.public) > 1 else ''} "
            f"({', '.join(map(short, age.public))}) {'are' if len(age.public) > 1 else 'is'} "
            "not a recipient",
            "get the team's key file, or add yours with `rollout rotate --add age1…`, then plan and apply",
        )
    skipped = f" ({age.problems[0]}; sops skips it)" if age.problems else ""
    return passed(name, f"{short(mine[0])} in {', '.join(age.found)} is a recipient{skipped}")
