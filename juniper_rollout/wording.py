"""Words for counts in messages: ``1 repo``, ``2 repos``.

Pure; used by every layer that prints a count."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

DEFAULT_MANIFEST = Path("manifests/repos.yaml")  # the CLI's default --manifest
MANIFEST_ENV = "JUNIPER_MANIFEST"  # the environment variable the CLI reads --manifest from


def count(n: int, noun: str) -> str:
    """``1 repo``, ``0 repos``, ``2 repos`` (nouns with a plain -s plural only)."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


# terminal control characters (C0 but tab and newline, DEL, C1) and the bidirectional overrides that
# reorder what a terminal shows: text a contributor controls (a file name, a commit subject, a line of
# a file) holding ESC sequences could set the window title, write the clipboard (OSC 52) or clear the
# screen over the findings (pass 6)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> str:
    """``text`` with every terminal control character shown as an escape (``\\x1b``), never sent as is."""
    return _CONTROL.sub(
        lambda m: (
            f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}"
        ),
        text,
    )


def clip(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters, ``…`` saying so: what was typed or read, echoed back."""
    return text if len(text) <= width else text[: width - 1] + "…"


def one_line(text: str) -> str:
    """``text`` as :func:`inert` shows it, on one line and always encodable as UTF-8: a line break as
    ``\\x0a``, a byte no UTF-8 decodes (a path git stores, read with surrogate escapes) as that byte
    (``\\xff``), any other lone surrogate as ``\\udXXX``. For text written as text (a commit message):
    pass 24c, a tracked plaintext `x\\xffy/.env.prod` made apply "unexpected UnicodeEncodeError … a
    damaged repository?", and `a\\nb/.env.prod` split its line of the commit message."""
    return inert(unicode_only(text)).replace("\n", "\\x0a")


def unicode_only(text: str) -> str:
    """``text`` with each lone surrogate spelled out, so any strict reader takes it as UTF-8: a byte
    no UTF-8 decodes (a path git stores, read with surrogate escapes) as that byte (``\\xff``), any
    other as ``\\udXXX``; everything else as it is (pass 25c: `drift --format json` kept a path's
    `\\udcff`, which serde_json, Go and a strict UTF-8 encoder refuse)."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def filter_path(path: str) -> str:
    """``--path PATH`` for `git filter-repo`, as one option where ``path`` begins with ``-`` (pass
    28c: `--path -dash.env`, pasted, failed "argument --path: expected one argument": filter-repo's
    argparse takes it for an option)."""
    word = shell_word(path)
    return f"--path={word}" if path.startswith("-") else f"--path {word}"


def shell_word(text: str) -> str:
    """``text`` as one shell word that works when pasted (pass 9): :func:`shlex.quote` when it holds
    no control character (nor tab, newline, an undecodable byte); else bash's ``$'…'`` with each such
    character escaped, so the command stays one line, inert on a terminal, and still names the file
    (a file name holding ESC was shown ``'a\\x1bb'``: inert, but pasted it names another file)."""
    if not _UNSHOWN.search(text):
        return shlex.quote(text)
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte that is not UTF-8 (surrogateescape): the byte itself
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x80 and _UNSHOWN.match(ch):
            out.append(f"\\x{code:02x}")
        elif _UNSHOWN.match(ch):  # C1, bidi: as UTF-8, the way the name holds them
            out.append(f"\\u{code:04x}")
        elif ch in "\\'":
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "$'" + "".join(out) + "'"


_UNSHOWN = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\udc80-\udcff]")


def path_word(path: Path | str) -> str:
    """A path as one shell word that is never read as an option (pass 11a: `--out ./-p.json` printed
    `rollout apply -p.json …`, and pasted: "no such option: -p")."""
    text = str(path)
    return shell_word(f"./{text}" if text.startswith("-") else text)


def git_in(folder: Path) -> str:
    """``git -C FOLDER``, the folder as one shell word: a git command a line offers runs in that clone
    (or worktree) wherever it is pasted. Pass 25a: the fleet's branch names are every clone's, so `git
    branch -D BRANCH` offered for one repo and pasted in another clone of the fleet deleted that
    clone's branch; drift's `git update-ref -d refs/notes/commits` that clone's notes; pass 25d: `git
    rm --cached PATH` that clone's staged copy."""
    return f"git -C {path_word(folder)}"


def rollout_command(
    *words: str,
    manifest: Path,
    workspace: Path | None,
    rollout: str | None = None,
    repo: str | None = None,
) -> str:
    """``rollout WORDS`` (shell words already) with the ``--manifest``, ``--workspace`` and
    ``--rollout`` the running command was given, so that it works when pasted (pass 10a: `rollout
    apply PLAN` alone after `plan -m M --out PLAN` said "manifest not found"; pass 24a: bootstrap's
    `rollout drift --repo NAME` the same, and its `rollout apply --rollout …` named no workspace)."""
    said = ["rollout", *words]
    takes = _TAKES.get(words[0].split(" ", 1)[0] if words else "", _ALL)
    # pass 24h: a pasted command reads the environment's manifest where it names none (the default
    # given with `-m` while `JUNIPER_MANIFEST` named the user's usual fleet: pasted, that fleet's)
    if (manifest != DEFAULT_MANIFEST or os.environ.get(MANIFEST_ENV)) and "--manifest" in takes:
        said += ["--manifest", path_word(manifest)]
    if workspace is not None and "--workspace" in takes:
        said += ["--workspace", path_word(workspace)]
    if rollout is not None and "--rollout" in takes:
        said += ["--rollout", shell_word(rollout)]
    # pass 24h: a line about one repo names it (status's row of one repo said `rollout pr --reopen`,
    # and pasted it reopened every closed pull request of the fleet)
    if repo is not None and "--repo" in takes:
        said += ["--repo", shell_word(repo)]
    return " ".join(said)


# the commands that take fewer of the options than the others (pass 24d: `status --rollout X`'s
# "run `rollout sync --rollout X`" failed when pasted, "no such option: --rollout")
_ALL = ("--manifest", "--workspace", "--rollout", "--repo")
_TAKES = {
    "sync": ("--manifest", "--workspace", "--repo"),
    "bootstrap": ("--manifest", "--workspace"),
    "rotate": ("--manifest",),
    "keygen": (),
}
