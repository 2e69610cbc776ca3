"""``rollout rotate``: change the fleet's age recipients in the manifest; plan/apply carry it out.

Only ``defaults.age_recipients`` changes (spliced, verified by parsing); the file is
replaced atomically. The re-key at the next apply needs a private key that opens
today's files, so rotate refuses (file untouched) when none is found, and refuses a
change after which no key you hold could decrypt.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from juniper_rollout.edits import recipients
from juniper_rollout.errors import ManifestError, RolloutError
from juniper_rollout.keys import AgeKeys, find_age_keys


def rotate(*, manifest: Path, add: list[str], remove: list[str]) -> int:
    target = manifest.resolve() if manifest.is_symlink() else manifest
    try:
        data = target.read_bytes()
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ManifestError(str(manifest), None, "manifest not found (pass --manifest FILE)") from None
    except UnicodeDecodeError:
        raise ManifestError(str(manifest), None, "manifest is not UTF-8 text (save it as UTF-8)") from None
    except OSError as err:
        raise ManifestError(str(manifest), None, f"cannot read manifest: {err.strerror}") from None
    result = recipients.edit(text, add=add, remove=remove, path=str(manifest))
    _check_keys(find_age_keys(), result)
    _replace(target, result.text.encode("utf-8"), data)
    print(f"{manifest}: defaults.age_recipients")
    for key in result.placeholders:
        print(f"  - {key}  (placeholder)")
    for key in result.removed:
        print(f"  - {key}")
    for key in result.added:
        print(f"  + {key}")
    count = len(result.after)
    print(f"now {count} recipient{'s' if count != 1 else ''}. Next: run `rollout plan`, then `rollout apply`: "
          "every .sops.yaml is updated and every committed .enc file is re-keyed (sops updatekeys; values untouched)")
    if result.removed:
        print("removing a key revokes nothing already committed: rotate the secrets themselves if that key leaked")
    return 0


def _check_keys(age: AgeKeys, result: recipients.RecipientsEdit) -> None:
    """The re-key needs a key that opens today's files; afterwards you must still hold one."""
    if age.problems and not age.public:  # sops skips a source it cannot read; only no key at all is fatal
        raise RolloutError(age.problems[0])
    current = [k for k in result.before if not recipients.is_placeholder(k)]
    if not current:
        return  # nothing can be encrypted yet: the first key needs no private key
    where = ", ".join(age.looked) or "nowhere"
    if not age.public:
        raise RolloutError(f"no age private key found ({where}): the re-key at the next apply needs one "
                           "of the current recipients; set SOPS_AGE_KEY_FILE to your key file; nothing changed")
    if not set(age.public) & set(current):
        raise RolloutError(f"none of your age keys ({', '.join(map(recipients.short, age.public))}) is a current "
                           "recipient, so the next apply could not re-key: set SOPS_AGE_KEY_FILE to a key file "
                           "holding one; nothing changed")
    if result.removed and not set(age.public) & set(result.after):
        raise RolloutError("after this change none of the recipients is a key you hold, so you could not decrypt "
                           "any more: append the new key's AGE-SECRET-KEY-1… line to your key file first "
                           "(SOPS_AGE_KEY_FILE); nothing changed")


def _replace(path: Path, data: bytes, expected: bytes) -> None:
    """Write ``data`` over ``path`` atomically (temp file in the same dir + os.replace), keeping its mode."""
    mode = path.stat().st_mode & 0o7777
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        if path.read_bytes() != expected:
            raise RolloutError(f"{path} changed while rotate ran; nothing written (run rotate again)")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
