"""``rollout rotate``: change the fleet's age recipients in the manifest; plan/apply carry it out.

Only ``defaults.age_recipients`` changes (spliced, verified by parsing); the file is
replaced atomically. The re-key at the next apply needs a private key that opens
today's files, so rotate refuses (file untouched) when none is found, and refuses a
change after which no key you hold could decrypt.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from juniper_rollout import agekey, atomicfile
from juniper_rollout.edits import data_key as data_key_edit
from juniper_rollout.edits import recipients
from juniper_rollout.errors import RolloutError
from juniper_rollout.keys import AgeKeys, find_age_keys
from juniper_rollout.manifest import read_manifest_text
from juniper_rollout.wording import rollout_command

UPDATEKEYS_TRUTH = (
    "re-keyed with sops updatekeys where its values did not change (the data key is wrapped for the "
    "new recipients and the values keep that same data key, so a removed key that kept any earlier "
    "copy can still decrypt later versions) and encrypted afresh where they did; the plan says which"
)
DATA_KEY_NEXT = (
    "every committed .enc file gets a new data key (sops rotate), so values edited from now on are out of "
    "reach of removed keys; old commits still open with them: rotate the secret values themselves"
)


def rotate(*, manifest: Path, add: list[str], remove: list[str], data_key: bool = False) -> int:
    # a regular file, read up to the limit (never a FIFO or /dev/zero), and through its symlink before
    # the link is resolved: a symlink loop was "unexpected RuntimeError" and a crash log (pass 21c)
    text = read_manifest_text(manifest)
    target = manifest.resolve() if manifest.is_symlink() else manifest
    data = text.encode("utf-8")
    if not (add or remove or data_key):
        raise RolloutError("nothing to change: pass --add age1…, --remove age1… and/or --data-key")
    result = (
        recipients.edit(text, add=add, remove=remove, path=str(manifest)) if add or remove else None
    )
    age = find_age_keys()
    if result is not None:
        _check_keys(age, result)
    new_text = result.text if result is not None else text
    stamp = None
    if data_key:
        _check_data_key(age, recipients.current(new_text, path=str(manifest)))
        stamp = _next_second()
        new_text = data_key_edit.edit(new_text, stamp, path=str(manifest))
    _replace(target, new_text.encode("utf-8"), data)
    # pass 24d: with the manifest rotate was given, so that they work when pasted
    plan, apply = (
        rollout_command(word, manifest=manifest, workspace=None) for word in ("plan", "apply")
    )
    then = f"Next: run `{plan}`, then `{apply}`"
    if result is not None:
        print(f"{manifest}: defaults.age_recipients")
        for key in result.placeholders:
            print(f"  - {key}  (placeholder)")
        for key in result.removed:
            print(f"  - {key}")
        for key in result.added:
            print(f"  + {key}")
        count = len(result.after)
        print(
            f"now {count} recipient{'s' if count != 1 else ''}. {then}: "
            f"every .sops.yaml is updated and each committed .enc file is {UPDATEKEYS_TRUTH}"
        )
    if stamp is not None:
        print(f"{manifest}: defaults.data_key_rotated = {stamp}. {then}: {DATA_KEY_NEXT}")
    elif result is not None and result.removed:
        print(
            "removing a key revokes nothing by itself: run "
            f"`{rollout_command('rotate', '--data-key', manifest=manifest, workspace=None)}` (new data keys), then "
            "rotate the secrets themselves if that key leaked"
        )
    return 0


def _check_keys(age: AgeKeys, result: recipients.RecipientsEdit) -> None:
    """The re-key needs a key that opens today's files; afterwards you must still hold one."""
    if (
        age.problems and not age.public
    ):  # sops skips a source it cannot read; only no key at all is fatal
        raise RolloutError(age.problems[0])
    current = [k for k in result.before if not agekey.is_placeholder(k)]
    if not current:
        return  # nothing can be encrypted yet: the first key needs no private key
    where = ", ".join(age.looked) or "nowhere"
    if not age.public:
        raise RolloutError(
            f"no age private key found ({where}): the re-key at the next apply needs one "
            "of the current recipients; set SOPS_AGE_KEY_FILE to your key file; nothing changed"
        )
    if not set(age.public) & set(current):
        raise RolloutError(
            f"none of your age keys ({', '.join(map(agekey.short, age.public))}) is a current "
            "recipient, so the next apply could not re-key: set SOPS_AGE_KEY_FILE to a key file "
            "holding one; nothing changed"
        )
    if result.removed and not set(age.public) & set(result.after):
        raise RolloutError(
            "after this change none of the recipients is a key you hold, so you could not decrypt "
            "any more: append the new key's AGE-SECRET-KEY-1… line to your key file first "
            "(SOPS_AGE_KEY_FILE); nothing changed"
        )


def _next_second() -> str:
    """The next whole UTC second, once it has come: sops' lastmodified has one-second resolution, so every
    file encrypted before this call is older than the stamp and every one encrypted after it is not."""
    now = datetime.now(UTC)
    stamp = now.replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(max(0.0, (stamp - now).total_seconds()))
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_data_key(age: AgeKeys, current: tuple[str, ...]) -> None:
    """``sops rotate`` decrypts every file: you must hold a key that opens them."""
    if not current:
        return
    if not set(age.public) & set(current):
        where = ", ".join(age.looked) or "nowhere"
        raise RolloutError(
            f"a new data key needs a private key that opens today's files, and none of yours "
            f"(looked in {where}) is a current recipient: set SOPS_AGE_KEY_FILE; nothing changed"
        )


def _replace(path: Path, data: bytes, expected: bytes) -> None:
    """Write ``data`` over ``path`` atomically (temp file in the same dir + os.replace), keeping its mode."""

    def unchanged() -> None:
        if path.read_bytes() != expected:
            raise RolloutError(
                f"{path} changed while rotate ran; nothing written (run rotate again)"
            )

    try:
        atomicfile.replace(path, data, mode=path.stat().st_mode & 0o7777, check=unchanged)
    except OSError as err:  # a read-only folder, a full disk: the user's situation, one line
        raise RolloutError(atomicfile.cannot_rewrite(path, err)) from None
