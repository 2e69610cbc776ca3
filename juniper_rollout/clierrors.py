"""Usage errors in the tool's one-line style: the typer command class ``cli.app`` uses.

``rollout plan --bogus`` prints ``error: rollout plan: no such option: --bogus (see `rollout
plan --help`)`` on stderr and exits 1 (like every mistake of the user's), where typer would draw a
boxed panel and exit 2: the code `drift` and `plan --detailed-exitcode` give for "found drift" and
"has changes", so a CI step running `rollout drift --bogus` read a typo as drift.
"""

from __future__ import annotations

import re
import sys

import typer
from typer.core import TyperGroup

USAGE_ERROR = 2  # click's exit code for a usage mistake, which the tool gives as 1


class OneLineErrors(TyperGroup):
    """Usage errors (unknown option, missing argument, bad value) as one line on stderr, in the
    tool's style, instead of typer's boxed panel; exit 1 (see the module's note). Help, completion
    and --version are unchanged."""

    def main(  # type: ignore[override]
        self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra
    ):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.Abort:  # Ctrl-C or end of input at a confirmation prompt
            print("aborted: nothing written", file=sys.stderr)
            sys.exit(1)
        # click's exceptions: typer vendors click now, so there is no one import path for them
        except Exception as err:
            if not (hasattr(err, "format_message") and hasattr(err, "exit_code")):
                raise
            if type(err).__name__ == "NoArgsIsHelpError":
                err.show()  # type: ignore[attr-defined]  # prints the help, as typer does
                sys.exit(err.exit_code)
            print(f"error: {usage_line(err)}", file=sys.stderr)
            sys.exit(1 if err.exit_code == USAGE_ERROR else err.exit_code)
        sys.exit(code or 0)


def usage_line(err: Exception) -> str:
    """``rollout plan: no such option: --bogus (see `rollout plan --help`)``."""
    message = " ".join(err.format_message().split()).rstrip(".")  # type: ignore[attr-defined]
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    for words, said in _CLICK_WORDS:
        message = words.sub(said, message)
    ctx = getattr(err, "ctx", None)
    where = ctx.command_path if ctx is not None else "rollout"
    return f"{where}: {unechoed(message)} (see `{where} --help`)"


# click's words for a bad number, in the tool's (pass 21c, the smaller list's wording: `-j abc` said
# "'abc' is not a valid int range", `-j 0` "0 is not in the range x>=1"); click's own words end its
# message, so only there (pass 21g: `--jobs "5 is not in the range x>=9"` was echoed rewritten)
_CLICK_WORDS = (
    (re.compile(r"is not a valid int(?:eger)?(?: range)?$"), "is not a whole number"),
    (re.compile(r"is not in the range x>=(-?\d+)$"), r"must be \1 or more"),
    (re.compile(r"is not in the range x<=(-?\d+)$"), r"must be \1 or less"),
    (re.compile(r"is not in the range (-?\d+)<=x<=(-?\d+)$"), r"must be from \1 to \2"),
)


_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s()'\"]+")
# pass 19b: a PEM or OpenSSH private key (sops takes an ssh key as an age identity), its body up to its
# END line or the end of the quoted piece (a message quotes it with !r: its line breaks as \n)
_PEM_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
    r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----(?:(?:\\r)?\\n|\r?\n)*|[^'\"]*)",
    re.IGNORECASE | re.DOTALL,
)


# pass 19b: a `.env` pasted where a name was wanted (`--repo "$(cat .env)"`): each value of 8+ characters
# after a NAME= (up to a blank or a quote: `!r` shows the line breaks as \n, so the rest goes with it)
# (a path after `=`, as the tool's own "XDG_CONFIG_HOME=/… is relative" says it, is kept)
_BINDING = re.compile(
    r"(?<![\w.-])((?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=\s*)(?![/~]|\.\.?/)([^\s'\"]{8,})"
)


def unechoed(message: str) -> str:
    """``message`` (click's usage error, or a RolloutError's, quoting what was typed) with the
    credentials of its URLs, and any word shaped like a credential, replaced by ``***`` (pass 16b:
    `rollout bootstrap NAME URL`, the `--url` forgotten, said "got unexpected extra argument(s)
    (https://x-access-token:TOKEN@…)"; `--manifest URL` or `--repo TOKEN` repeated it too)."""
    from juniper_rollout.secretshape import AGE_PRIVATE_KEY, names_credential
    from juniper_rollout.urls import redact

    for url in _URL.findall(message):
        message = redact(message, url)
    message = AGE_PRIVATE_KEY.sub("***", message)
    message = _PEM_PRIVATE_KEY.sub("***", message)
    message = _BINDING.sub(lambda found: found[1] + "***", message)
    words = {w.strip("()'\",:;") for w in message.split()}
    for word in sorted(words, key=len, reverse=True):
        if len(word) >= 8 and "***" not in word and names_credential(word):
            message = message.replace(word, "***")
    return message
