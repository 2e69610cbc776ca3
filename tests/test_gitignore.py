"""The .gitignore block: only what git's real rules say is missing; every other byte kept."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from juniper_rollout.edits import blocks, gitignore
from juniper_rollout.errors import RolloutError

PATHS = gitignore.MUST_IGNORE + gitignore.MUST_TRACK


def block(patterns):
    return "# managed\n" + "\n".join(patterns) + "\n"


def git_ignored(tmp_path: Path, text: str) -> dict[str, bool]:
    """What real git says, in a throwaway repo."""
    repo = tmp_path / "probe"
    repo.mkdir(exist_ok=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / ".gitignore").write_bytes(text.encode())
    out = subprocess.run(
        ["git", "-C", str(repo), "check-ignore", "--no-index", *PATHS],
        capture_output=True,
        text=True,
    ).stdout.split()
    return {p: p in out for p in PATHS}


WANT = {p: p in gitignore.MUST_IGNORE for p in PATHS}
EXCEPTIONS = ("!.env.example", "!.env.*.example", "!.env.enc", "!.env.*.enc")


@pytest.mark.parametrize(
    "original, patterns",
    [
        ("__pycache__/\n*.pyc\n", (".env", ".env.*", "*.env", *EXCEPTIONS)),
        (".env*\n!.env.example\n", ("*.env", "!.env.*.example", "!.env.enc", "!.env.*.enc")),
        (".env\n.env.*\n*.env\n" + "".join(f"{e}\n" for e in EXCEPTIONS), ()),
        ("*.env\r\n.env.*\r\n", EXCEPTIONS),
        ("dist/\n.env", (".env.*", "*.env", *EXCEPTIONS)),
        ("", (".env", ".env.*", "*.env", *EXCEPTIONS)),
        ("*\n", None),
        ("!\n.env\n", (".env.*", "*.env", *EXCEPTIONS)),
    ],
    ids=[
        "nothing-ignored",
        "env-star",
        "already-right",
        "crlf",
        "no-final-newline",
        "empty",
        "ignore-all",
        "lone-bang-git-ignores",
    ],
)
def test_block_holds_only_what_git_needs(tmp_path, original, patterns):
    result = gitignore.edit(original, block)
    if patterns is not None:
        assert result.patterns == patterns
    assert git_ignored(tmp_path, result.text) == WANT  # real git agrees
    assert blocks.remove(result.text, blocks.GITIGNORE, path=".gitignore") == original
    assert gitignore.edit(result.text, block).text == result.text  # idempotent
    if not result.patterns:
        assert result.text == original
    elif "\r\n" in original:
        assert "\n" not in result.text.replace("\r\n", "")
    if original and not original.endswith("\n"):
        assert not result.text.endswith("\n") and result.text.startswith(original + "\n")


def test_block_is_removed_when_no_longer_needed():
    with_block = gitignore.edit("x\n", block).text
    rules = ".env\n.env.*\n*.env\n" + "".join(f"{e}\n" for e in EXCEPTIONS)
    fixed = with_block.replace("x\n", "x\n" + rules, 1)
    assert gitignore.edit(fixed, block).text == "x\n" + rules


def test_exceptions_come_after_a_later_broad_rule():
    text = "# >>> juniper-rollout >>>\n!.env.enc\n# <<< juniper-rollout <<<\n.env*\n"
    result = gitignore.edit(text, block)
    assert not gitignore.problems(result.text)
    assert result.text.startswith(".env*\n")


@pytest.mark.parametrize(
    "text, words",
    [
        (
            "# >>> juniper-rollout >>>\n# >>> juniper-rollout >>>\n# <<< juniper-rollout <<<\n",
            "more than one",
        ),
        ("a\n# >>> juniper-rollout >>>\n.env\n", "no end marker"),
        ("# <<< juniper-rollout <<<\n# >>> juniper-rollout >>>\n", "comes before"),
        ("# <<< juniper-rollout <<<\n", "without a begin marker"),
    ],
)
def test_broken_markers_are_refused(text, words):
    with pytest.raises(RolloutError, match=words):
        gitignore.edit(text, block)
