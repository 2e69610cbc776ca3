"""Adopting what a fleet rolled out by hand already has. Pure: no I/O.

A person may have written the managed hook's job by hand, in any spelling: a
local hook whose ``files``/``exclude`` select a plaintext env file (the code's
one definition of it), and no ordinary file, and that always fails (``language: fail``, or a
``system``/``script`` entry that can only exit non-zero, such as
``bash -c "echo ERROR … && exit 1"``). Such a hook is recognised by what it
does, never by its id, and is replaced in place by the managed hook.

Entries are judged by reading them, never by running them: a hook in a
contributor's config is not the tool's to execute.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from identify.identify import tags_from_filename

from juniper_rollout.agekey import short
from juniper_rollout.errors import RepoError
from juniper_rollout.sopsmeta import rule_recipients
from juniper_rollout.wording import clip

# Paths tried against a hook's files/exclude: the ones the code calls plaintext env files count.
PROBES = (
    ".env",
    ".env.secrets",
    "sub/.env",
    "sub/.env.secrets",
    ".env.local",
    ".env.production",
    "backend/.env.prod",
)
# Files a blocker must let through (a hook that refuses them is not doing the managed hook's job right).
MUST_PASS = (".env.example", ".env.enc", ".env.secrets.example", ".env.secrets.enc")
# Files no .env blocker refuses: a hook that fails on them blocks more than plaintext env files (`files:`
# left out: a "repository frozen" hook), another job of the person's, kept (pass 22c's note: it was
# replaced by the managed hook, and the freeze was gone)
ORDINARY = ("README.md", "src/app.py", "Makefile")
SHELLS = ("sh", "bash", "dash", "zsh", "ksh")
ALWAYS_OK = ("echo", "printf", ":", "true")


@dataclass(frozen=True)
class HandHook:
    """A hand-written local hook that does the managed ``.env`` blocker's job."""

    repo_index: int  # index in `repos:`
    hook_index: int  # index in that entry's `hooks:`
    id: str
    language: str
    entry: str
    files: str
    exclude: str
    selects: tuple[str, ...]  # probe paths it blocks
    misses: tuple[str, ...]  # plaintext env probe paths the managed hook blocks and it does not
    wrongly: tuple[str, ...]  # example/encrypted files it blocks although they must pass

    @property
    def spelling(self) -> str:
        """What tells two hand-written spellings apart (id aside)."""
        return f"language: {self.language}; entry: {self.entry}; files: {self.files}; exclude: {self.exclude}"

    def how_it_differs(self, managed: dict[str, Any]) -> str:
        parts = [
            f"language {self.language}"
            + (
                f" with entry `{_clip(self.entry)}` that always exits non-zero"
                if self.language != "fail"
                else ""
            )
            + f" (managed: language {managed.get('language')}, no shell)"
        ]
        parts.append(
            f"files '{self.files}'"
            + (f" (exclude '{self.exclude}')" if self.exclude != "^$" else "")
        )
        if self.misses:
            parts.append(f"lets through {', '.join(self.misses)}")
        if self.wrongly:
            parts.append(f"also refuses {', '.join(self.wrongly)}")
        return "; ".join(parts)


def _clip(text: str, width: int = 60) -> str:
    """``text`` on one line, its runs of blanks as one, cut as :func:`wording.clip` cuts it."""
    return clip(" ".join(text.split()), width)


def plaintext_probes(is_plaintext: Any) -> tuple[str, ...]:
    return tuple(p for p in PROBES if is_plaintext(p))


def selected(hook: dict[str, Any], paths: tuple[str, ...], top: dict[str, Any]) -> tuple[str, ...]:
    """The ``paths`` pre-commit would pass to ``hook`` (its and the config's files/exclude, its types)."""
    for where, key, pattern in (
        (f"hook {hook.get('id')}'s", "files", hook.get("files", "")),
        (f"hook {hook.get('id')}'s", "exclude", hook.get("exclude", "^$")),
        ("the top-level", "files", top.get("files", "")),
        ("the top-level", "exclude", top.get("exclude", "^$")),
    ):
        _refuse_slow(f".pre-commit-config.yaml: {where} {key}", str(pattern))
    try:
        include = re.compile(str(hook.get("files", "")))
        exclude = re.compile(str(hook.get("exclude", "^$")))
        top_include = re.compile(str(top.get("files", "")))
        top_exclude = re.compile(str(top.get("exclude", "^$")))
    except re.error:
        return ()
    types = set(_list(hook.get("types", ["file"])))
    types_or = set(_list(hook.get("types_or", [])))
    exclude_types = set(_list(hook.get("exclude_types", [])))
    out = []
    for path in paths:
        if not (include.search(path) and not exclude.search(path)):
            continue
        if not (top_include.search(path) and not top_exclude.search(path)):
            continue
        tags = {"file", "text", "non-executable"} | set(tags_from_filename(path.rsplit("/", 1)[-1]))
        if types <= tags and (not types_or or types_or & tags) and not exclude_types & tags:
            out.append(path)
    return tuple(out)


def _list(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def always_fails(hook: dict[str, Any]) -> bool:
    """True when the hook can only fail: ``language: fail``, or a shell entry ending in ``exit N`` (N > 0)."""
    language = hook.get("language")
    if language == "fail":
        return True
    if language not in ("system", "script", "unsupported", "unsupported_script"):
        return False
    entry = hook.get("entry")
    if not isinstance(entry, str):
        return False
    args = hook.get("args") or []
    try:
        argv = shlex.split(entry)
    except ValueError:
        return False
    if argv == ["false"] and not args:
        return True
    if (
        len(argv) >= 3
        and argv[0].rsplit("/", 1)[-1] in SHELLS
        and argv[1] in ("-c", "-ec", "-ce", "-euc")
    ):
        return _script_fails(argv[2])
    return False


def _script_fails(script: str) -> bool:
    """``echo``/``printf`` commands joined by ``&&``/``;``, ending in ``exit N`` (N > 0) or ``false``.

    No substitutions, pipes, subshells, ``||`` or background jobs: anything the
    reading cannot be sure of is not recognised (the hook is then left alone).
    """
    if any(c in script for c in "`$|()<"):
        return False
    script = re.sub(
        r"(?<!\S)[0-9]?>{1,2}&?[0-9]*(?=[\s;]|$)", " ", script
    )  # >&2, 1>&2, >> (echo's output only)
    lexer = shlex.shlex(script, posix=True, punctuation_chars=";&")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        return False
    commands: list[list[str]] = [[]]
    for token in tokens:
        if token in ("&&", ";"):
            commands.append([])
        elif token and set(token) <= set(";&"):
            return False  # a background job, `;;` or another operator
        else:
            commands[-1].append(token)
    if not commands[-1] or any(not c for c in commands):
        return False
    *head, last = commands
    if any(command[0] not in ALWAYS_OK for command in head):
        return False
    if last == ["false"]:
        return True
    return len(last) == 2 and last[0] == "exit" and last[1].isdigit() and int(last[1]) != 0


def find(data: Any, managed: dict[str, Any], is_plaintext: Any) -> list[HandHook]:
    """Every hand-written local hook in ``data`` (a config as pre-commit loads it) doing ``managed``'s job."""
    if not isinstance(data, dict) or not isinstance(data.get("repos"), list):
        return []
    top = {k: v for k, v in data.items() if k in ("files", "exclude")}
    probes = plaintext_probes(is_plaintext)
    blocked_by_managed = selected(managed, probes, top)
    out = []
    for r, entry in enumerate(data["repos"]):
        if (
            not isinstance(entry, dict)
            or entry.get("repo") != "local"
            or not isinstance(entry.get("hooks"), list)
        ):
            continue
        for h, hook in enumerate(entry["hooks"]):
            if not isinstance(hook, dict) or hook.get("id") == managed.get("id"):
                continue
            if hook.get("always_run") or not always_fails(hook):
                continue
            stages = hook.get("stages")
            if stages and not {"pre-commit", "commit"} & set(map(str, stages)):
                continue  # it blocks at another stage only: not the commit-time blocker
            hits = selected(hook, probes, top)
            if not hits or selected(hook, ORDINARY, top):
                continue
            out.append(
                HandHook(
                    r,
                    h,
                    str(hook.get("id")),
                    str(hook.get("language")),
                    str(hook.get("entry", "")),
                    str(hook.get("files", "")),
                    str(hook.get("exclude", "^$")),
                    hits,
                    tuple(p for p in blocked_by_managed if p not in hits),
                    selected(hook, MUST_PASS, top),
                )
            )
    return out


# --- a hand-written .sops.yaml -----------------------------------------------------------------

TOOL_MARK = "Managed by juniper-rollout"
SOPS_PROBES = (".env", ".env.enc", ".env.secrets", ".env.secrets.enc")
RULE_KEYS = ("path_regex", "age")


def is_hand_written_sops(text: str) -> bool:
    return TOOL_MARK not in text


def judge_sops(before: str, after: str) -> str:
    """What replacing a hand-written ``.sops.yaml`` with the rendered one changes and drops, and why.

    Rules are matched as sops does (its path_regex searched in the path it is given);
    the regexes the fleet writes mean the same in Python and in Go's RE2.
    """
    from juniper_rollout.yamlio import YamlSyntaxError, load_plain

    try:
        old, new = load_plain(before), load_plain(after)
    except YamlSyntaxError as err:
        return f"the hand-written file does not parse ({err}); the rendered one replaces it"
    old_rules = _rules(old)
    new_rules = _rules(new)
    said = []
    if not old_rules:
        said.append("it has no creation_rules, so sops finds no key for .env")
    matched = {p: _first_rule(old_rules, p) for p in SOPS_PROBES}
    missed = [
        p for p, rule in matched.items() if rule is None and _first_rule(new_rules, p) is not None
    ]
    if old_rules and missed:
        regexes = ", ".join(f"'{r.get('path_regex')}'" for r in old_rules)
        said.append(
            f"its path_regex {regexes} matches no {', '.join(missed)} (sops matches the path it is given: "
            f"`sops -d .env.enc` would find no rule); the rendered rule matches each"
        )
    old_keys = list(dict.fromkeys(k for r in old_rules for k in rule_recipients(r)))
    new_keys = list(dict.fromkeys(k for r in new_rules for k in rule_recipients(r)))
    if old_keys == new_keys or set(old_keys) == set(new_keys):
        said.append(f"recipients kept ({', '.join(map(short, new_keys))})")
    else:
        gone = [k for k in old_keys if k not in new_keys]
        come = [k for k in new_keys if k not in old_keys]
        if come:
            said.append(
                f"adds recipient{'s' if len(come) > 1 else ''} {', '.join(map(short, come))} "
                "from the manifest"
            )
        if gone:
            said.append(
                f"drops recipient{'s' if len(gone) > 1 else ''} {', '.join(map(short, gone))} "
                "(not in the manifest's age_recipients: add it there to keep it)"
            )
    dropped = []
    for rule in old_rules:
        extra = [k for k in rule if k not in RULE_KEYS]
        if extra:
            dropped.append(
                f"{', '.join(f'{k}: {rule[k]}' for k in extra)} of rule '{rule.get('path_regex')}'"
            )
    if len(old_rules) > 1:
        others = [
            str(r.get("path_regex"))
            for r in old_rules
            if not any(_search(r, p) for p in SOPS_PROBES)
        ]
        if others:
            quoted = ", ".join(f"'{o}'" for o in others)
            dropped.append(f"rules for other files ({quoted})")
    if isinstance(old, dict):
        top = [k for k in old if k != "creation_rules"]
        if top:
            dropped.append(f"top-level {', '.join(top)}")
    if dropped:
        said.append(
            f"drops {'; '.join(dropped)}: the manifest renders .sops.yaml whole (carry them in "
            "templates/sops.yaml.j2, or set sops_yaml: false for this repo to keep the file)"
        )
    return "; ".join(said)


def _rules(data: Any) -> list[dict]:
    rules = data.get("creation_rules") if isinstance(data, dict) else None
    return [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []


def _search(rule: dict, path: str) -> bool:
    _refuse_slow(
        ".sops.yaml: a creation rule's path_regex",
        str(rule.get("path_regex", "")),
        "Python's regex engine, which the tool judges the rule with, could take hours on one path "
        "(sops's own engine would not)",
    )
    try:
        return re.search(str(rule.get("path_regex", "")), path) is not None
    except re.error:
        return False


def _first_rule(rules: list[dict], path: str) -> dict | None:
    """sops uses the first rule whose path_regex matches (a rule without one matches everything)."""
    return next((r for r in rules if "path_regex" not in r or _search(r, path)), None)


# --- patterns from a repo, judged before Python's backtracking `re` runs them -----------------------

MAX_DEGREE = 4  # unbounded repeats one after another: n**4 steps on a short path is still instant


def _refuse_slow(
    what: str,
    pattern: str,
    why: str = "a regex engine like pre-commit's could take hours on one file name",
) -> None:
    """RepoError when ``pattern`` (a repo's own regex) could backtrack for hours on a short path: a
    repetition inside an unbounded one (``(.*)*``, ``(a+)+``, ``(x|xy)*``), a backreference under one,
    or more than MAX_DEGREE unbounded repeats in a row. Such a pattern is the repo author's; the tool
    never runs it (pre-commit would hang on it too)."""
    if _degree_or_none(pattern) is None:
        raise RepoError(
            f"{what} {_clip(pattern, 50)!r} repeats a repetition: {why}; simplify it, then plan again"
        )


def _degree_or_none(pattern: str) -> int | None:
    """How many unbounded repeats follow each other in ``pattern`` (its cost is about n**degree), or
    None when one is nested in another (exponential). 0 for a pattern Python cannot parse (re says so)."""
    import re._constants as c  # type: ignore[import-not-found]  # 3.11+: re's own parser
    import re._parser as parser  # type: ignore[import-not-found]

    try:
        items = parser.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return 0

    def degree(items, inside: bool) -> int | None:
        total = 0
        for op, av in items:
            if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
                low, high, sub = av
                unbounded = high == c.MAXREPEAT or high > 100
                if inside and high > 1:
                    return None
                found = degree(sub, inside or unbounded)
                if found is None:
                    return None
                total += (1 if unbounded else 0) + found
            elif op is c.BRANCH:
                if inside:
                    return None
                found_all = [degree(alt, inside) for alt in av[1]]
                if None in found_all:
                    return None
                total += max(d for d in found_all if d is not None)
            elif op is c.SUBPATTERN:
                found = degree(av[3], inside)
                if found is None:
                    return None
                total += found
            elif op in (c.ASSERT, c.ASSERT_NOT):
                found = degree(av[1], inside)
                if found is None:
                    return None
                total += found
            elif op is c.ATOMIC_GROUP:
                found = degree(av, inside)
                if found is None:
                    return None
                total += found
            elif op is c.GROUPREF_EXISTS:
                parts = [degree(p, inside) for p in av[1:] if p is not None]
                if None in parts:
                    return None
                total += max((d for d in parts if d is not None), default=0)
            elif op is c.GROUPREF and inside:
                return None
        return total

    found = degree(items, False)
    return None if found is None or found > MAX_DEGREE else found
