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


def test_a_diff_without_colours_is_written_as_rich_would_write_it():
    """Without colours the diff bypasses rich's per-line rendering; the bytes must be the ones rich
    writes (inside `with console:` rich renders it itself): control codes stripped, tabs to the next
    stop in terminal cells, wide characters, long lines never wrapped."""
    diff = (
        "--- a/x\n+++ b/x\n@@ -1,3 +1,4 @@\n-x\ty\n+\tz\n+a\tb\tc\td\n+abcdefgh\tx\n"
        "+wide 漢字\tx\n+\x1b[31mred\x07 bell\r\n+" + "y" * 200 + "\n \n"
    )

    def through(rendered_by_rich: bool) -> str:
        out = io.StringIO()
        console = Console(file=out, highlight=False, soft_wrap=True, width=80)
        assert console.color_system is None
        if rendered_by_rich:
            with console:  # buffered: rich renders the Text itself
                report.print_diff(console, diff)
        else:
            report.print_diff(console, diff)
        return out.getvalue()

    assert through(False) == through(True)
    assert "    +a  b       c       d\n" in through(False)
    assert "\x07" not in through(False) and "\r" not in through(False)
