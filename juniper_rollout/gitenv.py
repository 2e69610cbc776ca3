"""What every git the tool starts in a user's clone is told: run no program of the repository's.

git starts programs on its own: hooks (``reference-transaction`` at every ref update, ``pre-push`` at
a push, ``post-checkout`` after a clone, ``pre-auto-gc`` after a fetch) and the file-system monitor
(``core.fsmonitor``, at ``git ls-files --others``). Where the clone's config points them into the
working tree (``core.hooksPath = .githooks``, husky's ``.husky/_``, ``core.fsmonitor = tools/…``) or
a hook reads it (pre-commit's ``pre-push`` shim runs the working tree's ``.pre-commit-config.yaml``),
they are the checked-out branch's code, and they ran with the tool's environment: the age key in
``$SOPS_AGE_KEY_FILE`` was copied by ``apply`` (pass 20b, 13.5). The tool writes its commits into the
object database and never commits through git, so no commit hook ever saw them; its ref updates,
pushes, fetches and clones now run none either. The same variables pin the encoding of what git prints of commits (see ``NO_REPO_CODE``).
Pure, stdlib only."""

from __future__ import annotations

import os
from collections.abc import Mapping

# later settings win: these come after the clone's and the user's config files
NO_REPO_CODE = (
    ("core.hooksPath", os.devnull),
    ("core.fsmonitor", "false"),
    # and what git prints of commits (`git log --format`, `reflog show`, `show -s`) is UTF-8, the tool
    # reads it so: `i18n.logOutputEncoding = cp932` (a Japanese Windows user's setting) named commits
    # in drift's findings as "\udc90ݒ\udce8…", and UTF-16 made every listing UTF-16: drift's history
    # scan found no record ("0 findings" for a committed .env.prod) and its message scan crashed
    # (pass 23c)
    ("i18n.logOutputEncoding", "UTF-8"),
    # and `git log -- PATHSPEC` lists every commit touching it: `log.follow = true` made git follow
    # one file's renames, and drift's one pathspec `:(glob)**/*.enc` failed ("BUG: tree-diff.c:596:
    # unsupported magic 8") in every repo: its history scan never ran (pass 23c)
    ("log.follow", "false"),
    # and no signature check before a commit's formatted line: `log.showSignature = true` put "No
    # signature" (gpg's or ssh-keygen's words) before it on standard output, so the time of a
    # signed commit (GitHub signs its web merges) read as none, and a pull request's description
    # listed "No signature\n<id>" as a commit id (pass 23c)
    ("log.showSignature", "false"),
    # and a push sends the refs it names, nothing more: `push.followTags = true` also sent the
    # user's local annotated tags on the base's history (a tag never pushed, its message with it)
    # (pass 23c)
    ("push.followTags", "false"),
)


def config_env(env: Mapping[str, str], pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The variables that give a git started with ``env`` the settings ``pairs`` after every other:
    appended to ``GIT_CONFIG_COUNT``'s list, and to ``GIT_CONFIG_PARAMETERS`` (a ``git -c`` above
    the tool, read after that list) when it is set."""
    count = env.get("GIT_CONFIG_COUNT", "0")
    index = int(count) if count.isdigit() else 0
    out = {"GIT_CONFIG_COUNT": str(index + len(pairs))}
    for i, (key, value) in enumerate(pairs, start=index):
        out[f"GIT_CONFIG_KEY_{i}"] = key
        out[f"GIT_CONFIG_VALUE_{i}"] = value
    above = env.get("GIT_CONFIG_PARAMETERS")
    if above:
        out["GIT_CONFIG_PARAMETERS"] = above + "".join(
            f" {_quoted(key)}={_quoted(value)}" for key, value in pairs
        )
    return out


def _quoted(text: str) -> str:
    """``text`` as git quotes a word of ``GIT_CONFIG_PARAMETERS`` (its ``sq_quote``)."""
    return "'" + text.replace("'", "'\\''") + "'"


def key_material(name: str) -> bool:
    """Is the variable ``name`` sops' (``SOPS_AGE_KEY``, ``SOPS_AGE_KEY_FILE``, ``SOPS_AGE_KEY_CMD``,
    ``SOPS_AGE_SSH_PRIVATE_KEY_FILE``, …)? git never needs one."""
    return name.startswith("SOPS_")


def no_repo_code(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) for a git that runs no hook and no fsmonitor, and holds no
    key material: a program git still starts from a config the working tree can reach (a tracked
    file under ``include.path``: its ``core.sshCommand``, ``credential.helper``) never sees the key."""
    base = {k: v for k, v in (os.environ if env is None else env).items() if not key_material(k)}
    return {**base, **config_env(base, NO_REPO_CODE)}


def overrides(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """What :func:`no_repo_code` changes, as variables set over ``env`` (GitPython's
    ``update_environment``, which can set but not remove one: sops' are set empty)."""
    base = os.environ if env is None else env
    return {
        **{k: "" for k in base if key_material(k)},
        **config_env(base, NO_REPO_CODE),
    }
