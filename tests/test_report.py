"""Terminal output details that a reviewer relies on."""

from __future__ import annotations

import io

from rich.console import Console

from juniper_rollout import report


def printed(diff: str, color: bool) -> str:
    out = io.StringIO()
    console = Console(
        file=out,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        soft_wrap=True,
        width=80,
    )
    report.print_diff(console, diff)
    return out.getvalue()


def test_a_diff_keeps_trailing_spaces_and_a_trailing_blank_context_line():
    diff = "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+y  \n \n"
    expected = "    --- a/x\n    +++ b/x\n    @@ -1,2 +1,2 @@\n    -a\n    +y  \n     \n"
    assert printed(diff, color=False) == expected


def test_a_coloured_diff_says_the_same_once_its_colours_are_removed():
    import re

    diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+[bold]not markup[/bold]\n"
    plain = re.sub(r"\x1b\[[0-9;]*m", "", printed(diff, color=True))
    assert plain == "".join(f"    {line}\n" for line in diff.splitlines())
    assert "\x1b[32m" in printed(diff, color=True)  # additions in green


def test_an_empty_diff_prints_nothing():
    assert printed("", color=False) == ""
