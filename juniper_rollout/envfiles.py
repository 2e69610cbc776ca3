"""The one definition of a plaintext env file, and everything derived from it. Pure.

A plaintext env file is a file whose *name* (the last path component) matches one of
``include`` and none of ``exclude`` (shell-style globs, case-sensitive as git, sops and
pre-commit match on Linux). Default: ``.env``, ``.env.*`` and ``*.env``, minus ``*.enc`` and the
hand-written templates people commit: ``*.example``, ``*.sample`` (dotenv-safe), ``*.template``,
``*.dist`` (Symfony), ``*.defaults`` (dotenv-defaults), ``*.tmpl`` and ``*.tpl``. ``.envrc`` (direnv: shell code, not dotenv) is not one by
default; add it under ``defaults.plaintext_env.include`` if your repos keep secrets there.

From this one definition come: the ``.gitignore`` lines, the sops ``path_regex``, the
pre-commit hook's ``files``/``exclude`` regexes, and the predicate verify and drift use.
``tests/test_envfiles.py`` checks, name by name, that git, sops and pre-commit agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

DEFAULT_INCLUDE = (".env", ".env.*", "*.env")
DEFAULT_EXCLUDE = (
    "*.example",
    "*.sample",
    "*.template",
    "*.dist",
    "*.defaults",
    "*.tmpl",
    "*.tpl",
    "*.enc",
)
ENC_SUFFIX = ".enc"


def check_glob(glob: str, *, exclude: bool) -> str | None:
    """None when ``glob`` is a name pattern this module can turn into git, sops and pre-commit rules."""
    if (
        not glob
        or "/" in glob
        or any(c in glob for c in "?[]!\\\0\n\t '\"#")
        or glob.strip() != glob
    ):
        return (
            "must be a file name pattern: no '/', '?', '[', '!', '#', quotes, backslash or spaces"
        )
    if glob.count("*") > 1 or ("*" in glob and not (glob.startswith("*") or glob.endswith("*"))):
        return "may hold one '*', at its start or end (like .env.* or *.env)"
    if exclude and not (glob.startswith("*.") and glob.count("*") == 1):
        return "must be a suffix pattern like *.example"
    return None


@dataclass(frozen=True)
class EnvFiles:
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE

    # --- the predicate -----------------------------------------------------------------------
    def is_plaintext(self, path: str) -> bool:
        name = PurePosixPath(path).name
        return any(fnmatchcase(name, g) for g in self.include) and not any(
            fnmatchcase(name, g) for g in self.exclude
        )

    def is_plaintext_in_any_case(self, path: str) -> bool:
        """``is_plaintext`` as a case-insensitive file system sees it: on macOS and Windows a committed
        ``.ENV`` or ``Prod.Env`` is the ``.env``/``prod.env`` python-dotenv loads (and git, with
        core.ignorecase, ignores it through the lower-case line). The tool's own reads of a repo
        (tracked files, history, what apply untracks) use this; the rendered patterns stay as
        the definition spells them."""
        name = PurePosixPath(path).name
        # excluded forms only as spelled: `.env.ENC` is no sops output (the .enc checks are
        # case-sensitive), so it counts as plaintext, never as neither
        return any(fnmatchcase(name.lower(), g.lower()) for g in self.include) and not any(
            fnmatchcase(name, g) for g in self.exclude
        )

    def is_enc_named(self, path: str) -> bool:
        """Named like a sops-encrypted file, ``*.enc`` in any letter case, as drift reads a repo (pass
        25c: a plaintext ``secrets.ENC`` committed on a branch was "0 findings", the same file under a
        tag of a tree a finding); ``.env.ENC`` is a plaintext env file instead (see
        :meth:`is_plaintext_in_any_case`), found as one."""
        return path.lower().endswith(ENC_SUFFIX) and not self.is_plaintext_in_any_case(path)

    def is_encrypted_form(self, path: str) -> bool:
        """``X.enc`` where X is a plaintext env file: what sops encrypts it into."""
        return path.endswith(ENC_SUFFIX) and self.is_plaintext(path[: -len(ENC_SUFFIX)])

    # --- .gitignore ------------------------------------------------------------------------
    def gitignore_ignores(self) -> tuple[str, ...]:
        return self.include

    def gitignore_exceptions(self) -> tuple[str, ...]:
        """``!`` lines for the example/encrypted forms of plaintext names, and the names an include
        glob matches but the definition excludes (``.env.*`` matches ``.env.example``)."""
        out: list[str] = []
        for exc in self.exclude:
            for inc in self.include:
                out += [f"!{g}" for g in (inc + exc[1:], *_intersection(inc, exc[1:]))]
        return tuple(dict.fromkeys(out))

    def samples(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Names that must be ignored, and names that must not be (their .enc and example forms)."""
        plain = [g.replace("*", "local" if g.endswith("*") else "prod") for g in self.include]
        tracked = [p + exc[1:] for p in plain for exc in self.exclude]
        if ENC_SUFFIX not in [exc[1:] for exc in self.exclude]:
            tracked += [p + ENC_SUFFIX for p in plain]
        return tuple(plain), tuple(dict.fromkeys(tracked))

    # --- sops ------------------------------------------------------------------------------
    def sops_path_regex(self) -> str:
        """Matches every plaintext env file and its .enc form, at any depth (RE2 and Python alike).

        sops' regexes (Go RE2) have no lookahead, so names the definition excludes but an include
        glob matches (``.env.example``, ``.env.sample``, ``.env.dist``…) also match: encrypting one is
        harmless and never asked for (tests/test_envfiles.py measures it, name by name).
        """
        alternatives = "|".join(_glob_regex(g) for g in self.include)
        return rf"(^|/)({alternatives})(\.enc)?$"

    # --- pre-commit --------------------------------------------------------------------------
    def hook_files_regex(self) -> str:
        return rf"(^|/)({'|'.join(_glob_regex(g) for g in self.include)})$"

    def hook_exclude_regex(self) -> str:
        return rf"({'|'.join(_glob_regex(g) for g in self.exclude)})$"


DEFAULT = EnvFiles()


def _glob_regex(glob: str) -> str:
    return "[^/]*".join(re.escape(part) for part in glob.split("*"))


def _intersection(include: str, suffix: str) -> list[str]:
    """Globs for the names matching ``include`` that end with ``suffix`` (``include`` has at most one '*')."""
    if "*" not in include:
        return [include] if include.endswith(suffix) else []
    if include.startswith("*"):
        tail = include[1:]
        if tail.endswith(suffix):
            return [include]
        return ["*" + suffix] if suffix.endswith(tail) else []
    head = include[:-1]  # include is head*
    out = [include + suffix]
    for cut in range(1, len(suffix) + 1):  # the '*' matches only part of the suffix
        if head.endswith(suffix[:cut]):
            out.append(head + suffix[cut:])
    return out
