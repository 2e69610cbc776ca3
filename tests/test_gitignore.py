"""The .gitignore block: only what git's real rules say is missing; every other byte kept."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from juniper_rollout.edits import blocks, gitignore, ignorematch
from juniper_rollout.errors import RolloutError

PATHS = gitignore.MUST_IGNORE + gitignore.MUST_TRACK
# how many examples, and whether derandomized, comes from the profile tests/conftest.py loads
SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


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
TEMPLATES = (
    "sample",
    "template",
    "dist",
    "defaults",
    "tmpl",
    "tpl",
)  # hand-written templates, committed
EXCEPTIONS = (
    "!.env.example",
    "!.env.*.example",
    *(f"!.env{m}.{t}" for t in TEMPLATES for m in ("", ".*")),
    "!.env.enc",
    "!.env.*.enc",
)


@pytest.mark.parametrize(
    "original, patterns",
    [
        ("__pycache__/\n*.pyc\n", (".env", ".env.*", "*.env", *EXCEPTIONS)),
        (".env*\n!.env.example\n", ("*.env", *EXCEPTIONS[1:])),
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


# --- ignorematch: which line decides each name, line for line as git says ----------------------
NAMES = tuple(dict.fromkeys([*PATHS, *gitignore._UNIVERSE]))
_PIECES = (
    *"*?[]!^-\\/: .#",
    "**",
    "**/",
    "/**",
    "[:alpha:]",
    "[:punct:]",
    "[:bogus:]",
    "[!.]",
    "[a-z]",
    "[^e]",
    "[]]",
    ".env",
    "env",
    ".enc",
    "example",
    "local",
    "prod",
    "l",
    "e",
    "x",
    "t",
    "\u00e9",
    "\t",
)
_LINE = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=7).map("".join)


def git_deciding_lines(tmp_path: Path, lines: list[str]) -> dict[str, int | None]:
    """For each name, the 1-based number of the last line matching it, by git check-ignore -v -n."""
    repo = tmp_path / "decide"
    if not repo.exists():
        subprocess.run(["git", "init", "-q", "--template=", str(repo)], check=True)
    (repo / ".gitignore").write_bytes("".join(line + "\n" for line in lines).encode())
    out = subprocess.run(
        ["git", "-C", str(repo), "-c", "core.excludesFile=/dev/null"]
        + ["check-ignore", "--no-index", "-v", "-n", "-z", "--stdin"],
        input="".join(n + "\0" for n in NAMES).encode(),
        capture_output=True,
        check=False,
    ).stdout.decode()
    fields = out.split("\0")[:-1]
    found: dict[str, int | None] = {}
    for source, number, _pattern, name in zip(*[iter(fields)] * 4, strict=True):
        found[name] = int(number) if source else None
    return found


def engine_deciding_lines(lines: list[str]) -> dict[str, int | None]:
    names = ignorematch.Names(NAMES)
    found: dict[str, int | None] = {n: None for n in NAMES}
    for number, line in enumerate(lines, start=1):
        hits = names.matched(line)
        for name in NAMES:
            if hits & names.mask([name]):
                found[name] = number
    return found


@given(st.lists(_LINE, min_size=1, max_size=12))
@example(["[.0]env", "*env[1]", ".e*[!2]", "**/.env3*"])
@example(["\\!.env", "!.env", ".env\\ ", ".env  ", "\\#x", "#.env", "/.env", "/**", "*/.env"])
@example(["[[:alpha:]", "[[:]env", "[.[:punct:]]env", "[]]", "[!]]env", "[a-]env", "[--.]env"])
@example(["**/**/.env", "**\\/.env", "a/**/.env", ".env/", ".env/**", "**", "*", "?env", "\\"])
# found by a dev run: git hands wildmatch the pattern after its literal start ('.'), so the '**' is
# at wildmatch's start and '**/' matches no folder: '.**/**' decides every name starting with '.'
@example([".**/**"])
@example(["pro**/**", ".**/*", "/.e**/**", ".env**/.local", ".**/.**/**", "**.env", "a**/b", "x**"])
@example(["/**x", "**a/**", ".**\\/**", "\\.**/**", ".env?**/**", ".[e]**/**", "!.**/** "])
@SETTINGS
def test_the_line_deciding_each_name_is_the_one_git_names(tmp_path, lines):
    lines = [line for line in lines if "\n" not in line and "\r" not in line]
    assert engine_deciding_lines(lines) == git_deciding_lines(tmp_path, lines)


@pytest.mark.parametrize(
    "tail", ["prod.env.**/**", ".**/**", ".env.e**/**", "prod.env.*", ".env.example", "!.env"]
)
def test_problems_are_the_names_git_gets_wrong(tmp_path, tail):
    """A line after the tool's block that overrides it: the names said to be wrong are exactly the
    ones real git gets wrong (pathspec 1.1 misses the '**' after a literal start, git does not)."""
    text = gitignore.edit("x\n", block).text + tail + "\n"
    wrong = {p for p, ignored in git_ignored(tmp_path, text).items() if ignored != WANT[p]}
    said = {problem.rsplit(" is ", 1)[0] for problem in gitignore.problems(text)}
    assert said == wrong
