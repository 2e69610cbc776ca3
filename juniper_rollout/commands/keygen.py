"""``rollout keygen``: a new age identity where sops finds it; prints only the public key."""

from __future__ import annotations

from pathlib import Path

from juniper_rollout import keys
from juniper_rollout.errors import RolloutError


def keygen(*, key_file: Path | None = None) -> int:
    path = key_file.expanduser() if key_file is not None else keys.default_key_file()
    public = keys.generate_key_file(path)
    print(f"created {path} (mode 0600): your private age key; keep it secret and back it up")
    print(f"public key: {public}")
    print(f"manifest line, under defaults.age_recipients (or run `rollout rotate --add {public}`):")
    print(f"    - {public}")
    try:
        default = keys.default_key_file()
    except RolloutError:
        default = None
    if default is None or path.resolve() != default.resolve():
        where = (
            f", or append its AGE-SECRET-KEY-1… line to {default}" if default is not None else ""
        )
        print(f"sops does not look there: export SOPS_AGE_KEY_FILE={path}{where}")
    return 0
