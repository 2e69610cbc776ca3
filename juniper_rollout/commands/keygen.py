"""``rollout keygen``: a new age identity where sops finds it; prints only the public key."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from juniper_rollout import keys, proctree
from juniper_rollout.errors import RolloutError
from juniper_rollout.paths import expand_home, too_long
from juniper_rollout.wording import inert, shell_word


def keygen(*, key_file: Path | None = None) -> int:
    if key_file is not None and str(key_file) == "-":  # pass 16b: a file named `-` was written
        raise RolloutError(
            "--key-file - would be a file named '-': the tool never prints a private key; pass a "
            "path (or leave --key-file out for where sops looks)"
        )
    if key_file is not None and keys.holds_a_key(str(key_file)):  # pass 19b: a file named as a key
        raise RolloutError(
            "--key-file holds a private key itself, not a path (never shown): give the path of the "
            "file to write (or leave --key-file out for where sops looks)"
        )
    if key_file is not None:
        expanded, why = expand_home(str(key_file))
        if why is not None:  # pass 10a: "~nosuchuser/k.txt" was a traceback
            raise RolloutError(f"--key-file {key_file}: {why} (check the name after ~)")
        key_file = Path(expanded)
    path = key_file if key_file is not None else keys.default_key_file()
    # pass 18b: the same file named `-`, from the variable
    if key_file is None and str(path) == "-":
        raise RolloutError(
            "SOPS_AGE_KEY_FILE=- would be a file named '-': the tool never prints a private key; set "
            "it to a path (or unset it for where sops looks)"
        )
    if (why := too_long(os.path.abspath(path))) is not None:  # pass 10a: a traceback from exists()
        raise RolloutError(f"--key-file {path} {why} (shorten it)")
    if key_file is not None:
        _never_in_a_work_tree(path)
    public = keys.generate_key_file(path)
    # pass 22c: the paths printed as one shell word each (a name holding ESC or `$(…)` was printed raw,
    # in the export line to paste too)
    print(
        f"created {inert(str(path))} (mode 0600): your private age key; keep it secret and back it up"
    )
    print(f"public key: {public}")
    print(f"manifest line, under defaults.age_recipients (or run `rollout rotate --add {public}`):")
    print(f"    - {public}")
    try:
        default = keys.default_key_file()
    except RolloutError:
        default = None
    if default is None or path.resolve() != default.resolve():
        where = (
            f", or append its AGE-SECRET-KEY-1… line to {shell_word(str(default))}"
            if default is not None
            else ""
        )
        print(f"sops does not look there: export SOPS_AGE_KEY_FILE={shell_word(str(path))}{where}")
    return 0


def _never_in_a_work_tree(path: Path) -> None:
    """Refuse a ``--key-file`` in a git working tree that git does not ignore (pass 8): the private
    key was left untracked in a clone, one `git add -A` away from being committed and pushed. Where
    sops looks by default is not judged (a home folder may be a dotfiles repository)."""
    try:
        if Path(os.path.abspath(path)) == Path(os.path.abspath(keys.default_key_file())):
            return  # sops's own place, named explicitly
    except RolloutError:
        pass
    folder = Path(os.path.abspath(path)).parent
    for top in (folder, *folder.parents):
        try:
            if (top / ".git").exists():
                break
        except OSError as err:  # a folder the user may not search (PermissionError)
            raise RolloutError(
                f"--key-file {path}: cannot look inside {top} ({err.strerror or err}); give a path in "
                "a folder you can read"
            ) from None
    else:
        return
    rel = os.path.relpath(os.path.abspath(path), top)
    try:
        ignored = subprocess.run(
            ["git", "-C", str(top), "check-ignore", "-q", "--no-index", "--", rel],
            capture_output=True,
            timeout=60,
            preexec_fn=proctree.dies_with_us(),
        ).returncode
    except (OSError, subprocess.TimeoutExpired):
        ignored = 1
    if ignored != 0:
        raise RolloutError(
            f"{path} is inside the git working tree {top}, which does not ignore it: a private key "
            "there is one `git add` away from a commit; give a path outside any repository (or "
            "leave out --key-file: sops's own place)"
        )
