"""The command line: typer options -> a command function -> an exit code.

The one boundary where errors become exit codes: a RolloutError is one line on
stderr and exit 1; Ctrl-C (or SIGTERM) is 130; anything else is a bug: one line naming a crash
log (``crashlog``: code lines and exception types, no message or value) and exit 1.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from juniper_rollout import interrupts
from juniper_rollout.clierrors import OneLineErrors, unechoed
from juniper_rollout.errors import RolloutError
from juniper_rollout.wording import DEFAULT_MANIFEST, MANIFEST_ENV, inert

app = typer.Typer(
    cls=OneLineErrors,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Roll SOPS + age secrets management out across a fleet of git repositories.",
)


def _print_version(value: bool) -> None:
    if value:
        from juniper_rollout import __version__

        print(f"rollout {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    _no_library_warnings()


def _no_library_warnings() -> None:
    """The libraries' warnings are not printed: a warning quotes what was being read. Pass 23b (13.6):
    ruamel's ReusedAnchorWarning printed the lines of a rendered template that held `&VALUE` twice (a
    value of the clone's plaintext `.env`) on stderr, before the leak guard refused the template in
    one line. Set for the whole run (the forked workers inherit it)."""
    warnings.simplefilter("ignore")


def _path(text: str) -> Path:
    """A path option's value; an empty one (`--workspace "$UNSET"`) is refused, where `Path("")` would
    be the current folder (pass 21c: the workspace became the folder the script ran in)."""
    if not text:
        raise typer.BadParameter("is empty (an unset variable?): give a path")
    return Path(text)


def _path_text(text: str) -> str:
    """A path option's value kept as written (see ``plan --out`` and ``apply PLAN``), an empty one
    refused as :func:`_path` refuses it: it was named as ``.`` in the error (pass 23c: `rollout
    apply ""` said ". is not a regular file")."""
    if not text:
        raise typer.BadParameter("is empty (an unset variable?): give a path")
    return text


def _text(text: str) -> str:
    """A name option's value (``--ref``, ``--rollout``, ``--repo``, ``--url``, ``--like``, ``--add``,
    ``--remove``), an empty one refused as :func:`_path` refuses it (pass 24c: `verify --ref "$BRANCH"`
    with the variable unset checked the base branch instead, "all checks passed"; `--rollout ""` took
    the default rollout, `--url ""` ran `git clone ''`, `--remove ""` said " is not in …")."""
    if not text:
        raise typer.BadParameter("is empty (an unset variable?): give a value")
    return text


ManifestOpt = Annotated[
    Path,
    typer.Option("--manifest", "-m", envvar=MANIFEST_ENV, parser=_path, help="The fleet manifest."),
]
WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        parser=_path,
        help="Where the clones live (beats $JUNIPER_WORKSPACE and the manifest).",
    ),
]
RepoOpt = Annotated[
    list[str] | None,
    typer.Option("--repo", parser=_text, help="Only this repo (repeatable)."),
]
RolloutOpt = Annotated[
    str | None,
    typer.Option(
        "--rollout",
        parser=_text,
        help="Which rollout of the manifest (default: the SOPS one, `sops`).",
    ),
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        "--jobs", "-j", min=1, help="Repos worked on at once (default: from the CPU count)."
    ),
]


def _run(command: Callable[..., int], **kwargs) -> None:
    raise typer.Exit(_code(command, **kwargs))


def _code(command: Callable[..., int], **kwargs) -> int:
    try:  # as git does ("Unable to read current working directory"): relative paths mean nothing
        os.getcwd()
    except FileNotFoundError:  # pass 10a: `--out p.json`, `--key-file k.txt` were a traceback
        print(
            "error: the current folder no longer exists (deleted or moved away); nothing "
            "written: `cd` to a folder that exists, then run the command again",
            file=sys.stderr,
        )
        return 1
    if command.__name__ != "keygen" and shutil.which("git") is None:
        print(
            "error: git not found on PATH: the tool runs git in every repository; install git (or "
            "add its folder to PATH) and run the command again",
            file=sys.stderr,
        )
        return 1
    try:
        # SIGTERM and SIGHUP as Ctrl-C; one a finalizer swallowed still stops the command
        with interrupts.handled():
            code = command(**kwargs)
    except RolloutError as err:
        # what was typed may be quoted back (`--manifest https://x:TOKEN@…`): no credential repeated
        print(f"error: {inert(unechoed(str(err)))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if _not_ours(err):
            raise
        # a bug (or the machine) in the command's own code, outside any repo's job: one line
        # and a crash log, as a repo's job has (Python's traceback printed source lines, and
        # its message may quote what was read)
        from juniper_rollout import crashlog

        doing = f"running `rollout {command.__name__}`"
        print(
            f"error: unexpected {type(err).__name__} while {doing}; please report this"
            + crashlog.see(crashlog.record(err, doing)),
            file=sys.stderr,
        )
        return 1
    assert isinstance(code, int), f"{command.__name__} returned {code!r}"
    return code


def _not_ours(err: Exception) -> bool:
    """click's own exceptions (a prompt's end of input, an exit) and a failed output (`main`
    says so in one line): they keep their handling."""
    if hasattr(err, "exit_code") or isinstance(err, typer.Abort | BrokenPipeError):
        return True
    return isinstance(err, OSError) and err.errno in _OUTPUT_ERRORS and err.filename is None


@app.command()
def plan(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    workspace: WorkspaceOpt = None,
    repo: RepoOpt = None,
    out: Annotated[  # str: a trailing '/' (a folder) must reach the command, Path would drop it
        str | None,
        typer.Option(
            "--out",
            parser=_path_text,
            help="Save the plan (JSON) for `rollout apply PLAN`.",
            metavar="<path>",
        ),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 2 when there are changes.")
    ] = False,
    jobs: JobsOpt = None,
    rollout: RolloutOpt = None,
) -> None:
    """Show what would change in each repo (a dry run: nothing is written)."""
    from juniper_rollout.commands.plan import plan as command

    _run(
        command,
        manifest=manifest,
        workspace=workspace,
        repos=repo,
        out=out,
        as_json=json,
        detailed_exitcode=detailed_exitcode,
        jobs=jobs,
        rollout=rollout,
    )


@app.command()
def apply(
    plan_file: Annotated[  # str: `./-` is a file, `-` standard input (Path makes both `-`)
        str | None,
        typer.Argument(
            parser=_path_text,
            help="A plan saved by `rollout plan --out` (`-`: standard input).",
            metavar="[PLAN]",
        ),
    ] = None,
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    workspace: WorkspaceOpt = None,
    repo: RepoOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    push: Annotated[
        bool,
        typer.Option(
            "--push", help="Push each branch to origin (never over commits the tool did not push)."
        ),
    ] = False,
    pr: Annotated[
        bool,
        typer.Option("--pr", help="With --push: open or update a pull request per pushed branch."),
    ] = False,
    jobs: JobsOpt = None,
    rollout: RolloutOpt = None,
) -> None:
    """Write one commit on the rollout branch of each repo (never touching your working tree)."""
    from juniper_rollout.commands.apply import apply as command

    if pr and not push:
        print(
            "error: --pr needs --push (a pull request needs the branch on origin)", file=sys.stderr
        )
        raise typer.Exit(1)
    loaded: list = []  # the manifest as apply read it, for --pr
    code = _code(
        command,
        manifest=manifest,
        plan_file=plan_file,
        workspace=workspace,
        repos=repo,
        yes=yes,
        push=push,
        jobs=jobs,
        rollout=rollout,
        confirm=lambda question: typer.confirm(question, default=False),
        on_loaded=loaded.append,
    )
    if pr and code != 130:
        from juniper_rollout.commands.review import pr as open_prs

        pr_code = _code(
            open_prs,
            manifest=manifest,
            workspace=workspace,
            repos=repo,
            jobs=jobs,
            rollout=rollout,
            loaded=loaded[0] if loaded else None,
        )
        code = code or pr_code
    raise typer.Exit(code)


@app.command()
def sync(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    workspace: WorkspaceOpt = None,
    repo: RepoOpt = None,
    jobs: JobsOpt = None,
) -> None:
    """Clone missing repos (from `url`) and fetch origin for the others; never touches a working tree."""
    from juniper_rollout.commands.review import sync as command

    _run(command, manifest=manifest, workspace=workspace, repos=repo, jobs=jobs)


@app.command()
def pr(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    workspace: WorkspaceOpt = None,
    repo: RepoOpt = None,
    draft: Annotated[
        bool, typer.Option("--draft", help="Open new pull requests as drafts.")
    ] = False,
    reopen: Annotated[
        bool, typer.Option("--reopen", help="Reopen a pull request a person closed.")
    ] = False,
    jobs: JobsOpt = None,
    rollout: RolloutOpt = None,
) -> None:
    """Open or update one GitHub pull request per pushed rollout branch (token: GITHUB_TOKEN/GH_TOKEN/gh)."""
    from juniper_rollout.commands.review import pr as command

    _run(
        command,
        manifest=manifest,
        workspace=workspace,
        repos=repo,
        draft=draft,
        reopen=reopen,
        jobs=jobs,
        rollout=rollout,
    )


@app.command()
def status(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    workspace: WorkspaceOpt = None,
    repo: RepoOpt = None,
    json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    jobs: JobsOpt = None,
    rollout: RolloutOpt = None,
) -> None:
    """Where each repo stands: branch, pull request, review, checks, and the next step."""
    from juniper_rollout.commands.review import status as command

    _run(
        command,
        manifest=manifest,
        workspace=workspace,
        repos=repo,
        as_json=json,
        jobs=jobs,
        rollout=rollout,
    )


@app.command()
def cleanup(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    workspace: WorkspaceOpt = None,
    repo: RepoOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Also delete branches whose pull request is not merged.")
    ] = False,
    jobs: JobsOpt = None,
    rollout: RolloutOpt = None,
) -> None:
    """Delete rollout branches whose pull requests are merged, locally and on origin."""
    from juniper_rollout.commands.review import cleanup as command

    _run(
        command,
        manifest=manifest,
        workspace=workspace,
        repos=repo,
        force=force,
        jobs=jobs,
        rollout=rollout,
    )


@app.command()
def keygen(
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file", parser=_path, help="Where to write it (default: where sops looks)."
        ),
    ] = None,
) -> None:
    """Create an age key where sops finds it; print the public key for the manifest."""
    from juniper_rollout.commands.keygen import keygen as command

    _run(command, key_file=key_file)


@app.command()
def rotate(
    add: Annotated[
        list[str] | None,
        typer.Option("--add", parser=_text, help="age public key to add (repeatable)."),
    ] = None,
    remove: Annotated[
        list[str] | None,
        typer.Option("--remove", parser=_text, help="age public key to remove (repeatable)."),
    ] = None,
    data_key: Annotated[
        bool,
        typer.Option(
            "--data-key",
            help="Next apply gives every committed .enc file a new data key (sops rotate).",
        ),
    ] = False,
    manifest: ManifestOpt = DEFAULT_MANIFEST,
) -> None:
    """Change the fleet's age recipients (re-wrapped with sops updatekeys: same data key) or, with --data-key,
    ask for new data keys (sops rotate); the next plan/apply carries it out."""
    from juniper_rollout.commands.rotate import rotate as command

    _run(command, manifest=manifest, add=add or [], remove=remove or [], data_key=data_key)


@app.command()
def verify(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    workspace: WorkspaceOpt = None,
    repo: RepoOpt = None,
    ref: Annotated[
        str | None,
        typer.Option(
            "--ref", parser=_text, help="Check this ref (default: each repo's base branch)."
        ),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
    rollout: RolloutOpt = None,
) -> None:
    """Check each repo against the plan's verification list, offline, without touching clones."""
    from juniper_rollout.commands.verify import verify as command

    _run(
        command,
        manifest=manifest,
        workspace=workspace,
        repos=repo,
        ref=ref,
        as_json=json,
        rollout=rollout,
    )


@app.command()
def drift(
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    workspace: WorkspaceOpt = None,
    repo: RepoOpt = None,
    ref: Annotated[
        str | None,
        typer.Option(
            "--ref", parser=_text, help="Audit this ref (default: each repo's base branch)."
        ),
    ] = None,
    format: Annotated[str, typer.Option("--format", help="table, json or sarif.")] = "table",
    diff: Annotated[
        bool, typer.Option("--diff", help="Show how modified artifacts differ.")
    ] = False,
    rollout: RolloutOpt = None,
) -> None:
    """Audit the fleet: where repos differ from what the manifest renders, and secret hazards."""
    from juniper_rollout.commands.drift import drift as command

    _run(
        command,
        manifest=manifest,
        workspace=workspace,
        repos=repo,
        ref=ref,
        fmt=format,
        show_diff=diff,
        rollout=rollout,
    )


@app.command()
def bootstrap(
    name: Annotated[str, typer.Argument(help="The new repository's name.")],
    manifest: ManifestOpt = DEFAULT_MANIFEST,
    workspace: WorkspaceOpt = None,
    path: Annotated[
        Path | None, typer.Option("--path", parser=_path, help="Where its clone is or goes.")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option("--url", parser=_text, help="Clone from here if there is no clone yet."),
    ] = None,
    like: Annotated[
        str | None,
        typer.Option("--like", parser=_text, help="Start from this repo's manifest entry."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what it would do; write nothing.")
    ] = False,
    push: Annotated[
        bool, typer.Option("--push", help="Push the rollout branch to origin.")
    ] = False,
) -> None:
    """Add a repo to the manifest, create or clone it if needed, and apply the baseline to it (shown first)."""
    from juniper_rollout.commands.bootstrap import bootstrap as command

    _run(
        command,
        manifest=manifest,
        workspace=workspace,
        name=name,
        path=path,
        url=url,
        like=like,
        yes=yes,
        dry_run=dry_run,
        push=push,
        confirm=lambda question: typer.confirm(question, default=False),
    )


_OUTPUT_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EBADF)


# What `git rev-parse --local-env-vars` lists as pointing git at one repository (its objects, index,
# work tree, grafts, replace refs), config variables left out. The manifest names each clone, so
# one value for all of them is never meant: a `rollout` started from a git hook (GIT_DIR set) or a
# shell with GIT_OBJECT_DIRECTORY exported would otherwise read or write the wrong objects, or
# none ("base branch 'main' not found").
GIT_REPOSITORY_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_INDEX_FILE",
    "GIT_GRAFT_FILE",
    "GIT_SHALLOW_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_PREFIX",
    "GIT_INTERNAL_SUPER_PREFIX",
)


# How git reads every pathspec (`git rev-parse --local-env-vars` leaves them out): with
# GIT_LITERAL_PATHSPECS=1 exported, `:(glob,icase)**/.env.*` is a file of that name, and drift's
# history scan, the tracked-file listing and the leak guard's search of the clone's folders found
# nothing (pass 20c: "0 findings"). The tool says per call when it wants literal pathspecs.
GIT_PATHSPEC_ENV = (
    "GIT_LITERAL_PATHSPECS",
    "GIT_GLOB_PATHSPECS",
    "GIT_NOGLOB_PATHSPECS",
    "GIT_ICASE_PATHSPECS",
)


# GitPython's own: which git it runs, and whether its import fails when that git cannot run. The tool
# runs `git` from PATH itself too, so one git for all: without one (or with GIT_PYTHON_GIT_EXECUTABLE
# naming a program that fails) every command but keygen was a 60-line ImportError traceback (pass 24c);
# a missing git is now said in one line by `_code`.
GITPYTHON_ENV = ("GIT_PYTHON_GIT_EXECUTABLE", "GIT_PYTHON_REFRESH")


def main() -> None:
    for name in (
        *GIT_REPOSITORY_ENV,
        *GIT_PATHSPEC_ENV,
        *GITPYTHON_ENV,
    ):  # see above: each git reads as the tool says
        os.environ.pop(name, None)
    # no git: `_code` says so in one line, GitPython's import does not fail first
    os.environ["GIT_PYTHON_REFRESH"] = "quiet"
    for stream in (sys.stdout, sys.stderr):  # an ASCII or latin-1 terminal cannot spell → or …:
        if isinstance(stream, io.TextIOWrapper):  # shown as escapes, never a traceback (pass 6)
            stream.reconfigure(errors="backslashreplace")
    # started with standard input closed (`rollout apply <&-`): read as empty input, not a
    # traceback (pass 10a)
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")
    if sys.stdout is None:  # started with standard output closed (`rollout plan >&-`)
        print(
            "error: standard output is closed: give it one (`> FILE` or `> /dev/null`)",
            file=sys.stderr,
        )
        sys.exit(1)
    try:
        app()
    except (
        OSError
    ) as err:  # the output itself failed: a full disk under `> plan.json`, a dead terminal
        if err.errno not in _OUTPUT_ERRORS or err.filename is not None:
            raise  # a named file failed (a key file, a clone): not the output
        _silence_stdout()  # the interpreter's own flush at exit would fail again, with a traceback
        print(f"error: cannot write the output: {os.strerror(err.errno or 0)}", file=sys.stderr)
        sys.exit(1)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    main()
