"""The four gaps a later adversarial pass found in issue 13's fixes: each test fails without its fix."""

from __future__ import annotations

from juniper_rollout import throwaway
from juniper_rollout.edits import gitignore


# --- (a) a 200,000-line .gitignore whose every line can match a managed path --------------------
def adversarial_gitignore(count: int) -> list[str]:
    """Distinct lines, every literal of which is in a managed name: each one could decide."""
    shapes = (
        lambda i: f"[.{i}]env",  # .env
        lambda i: f"*env[!{i}]",  # nothing, but every literal of it is in a managed name
        lambda i: f".e*[!{i}]",  # .env, .env.local, .env.example, ...
        lambda i: f"**/.env{i}*",  # nothing, and reads like .env*
        lambda i: f"!.env.e[{i}x]ample",  # .env.example, negated
    )
    return [shapes[i % len(shapes)](i) for i in range(count)]


def test_a_200k_line_gitignore_whose_every_line_can_match_is_read_once():
    """Counting work, not time: each line is matched once (against every managed name at once,
    nothing compiled), and pathspec compiles one line per managed name at most (the last one
    matching it). Every line here passes the old filter, which compiled all 200,000 (130 s)."""
    lines = adversarial_gitignore(200_000)
    text = "".join(line + "\n" for line in lines)
    gitignore._pattern.cache_clear()
    gitignore._names.cache_clear()
    result = gitignore.edit(
        text,
        lambda patterns: (
            "# >>> juniper-rollout >>>\n"
            + "".join(p + "\n" for p in patterns)
            + "# <<< juniper-rollout <<<\n"
        ),
    )
    names = gitignore._names_for(())
    assert names.evaluated <= len(lines) + 100
    assert gitignore._pattern.cache_info().misses <= len(gitignore._UNIVERSE)
    # and the result is right by git's own rules, over the whole 200,000-line file
    must_ignore, must_track = gitignore.MUST_IGNORE, gitignore.MUST_TRACK
    with throwaway.scratch_repo({".gitignore": result.text.encode()}) as repo:
        assert throwaway.ignored(repo, [*must_ignore, *must_track]) == set(must_ignore)
