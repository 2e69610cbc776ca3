"""Pass 19d (helper W): attacks on helper U's merge (gitignore engine, crash log, sync's staged
clone) and the lead's render/keygen changes that held a test each. Log: /work/brief/pass19d-log.md."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from juniper_rollout.edits import gitignore
from juniper_rollout.envfiles import DEFAULT

MUST_IGNORE, MUST_TRACK = DEFAULT.samples()
_RULES = [*DEFAULT.gitignore_ignores(), *DEFAULT.gitignore_exceptions()]


def _git_ignored(tmp_path: Path, data: bytes, *, fold: bool = False) -> set[str]:
    """The sample names real git ignores under a .gitignore holding ``data`` (byte for byte),
    with core.ignoreCase ``fold`` (true: a clone on macOS or Windows)."""
    repo = tmp_path / "probe"
    if not repo.exists():
        subprocess.run(["git", "init", "-q", "--template=", str(repo)], check=True)
    (repo / ".gitignore").write_bytes(data)
    out = subprocess.run(
        ["git", "-C", str(repo), "-c", "core.excludesFile=/dev/null"]
        + ["-c", f"core.ignoreCase={str(fold).lower()}"]
        + ["check-ignore", "--no-index", "-z", "--stdin"],
        input="".join(n + "\0" for n in (*MUST_IGNORE, *MUST_TRACK)).encode(),
        capture_output=True,
        check=False,
    ).stdout.decode()
    return set(out.split("\0")[:-1])


def _tool_ignored(text: str) -> set[str]:
    wrong = {p.rsplit(" is ", 1)[0] for p in gitignore.problems(text)}
    return {n for n in MUST_IGNORE if n not in wrong} | {n for n in MUST_TRACK if n in wrong}


# Finding A: git splits a .gitignore at '\n' only (one '\r' before it dropped), skips a UTF-8 BOM
# and ends a pattern at a NUL; str.splitlines also split at a lone '\r', '\f', '\v', U+0085,
# U+2028..., so a CR-only file holding every rule was "already right" while git ignored nothing
@pytest.mark.parametrize(
    "text",
    [
        "\r".join(_RULES) + "\r",  # CR-only line ends ("classic Mac"): one line to git
        "\x0c".join(_RULES) + "\x0c",
        "\u2028".join(_RULES) + "\u2028",
        "\n".join(_RULES) + "\n!.en[v\r]\n",  # one git line un-ignoring .env
        "\n".join(_RULES) + "\n!.env\0junk\n",  # git's pattern ends at the NUL: '!.env'
        "\n".join(_RULES) + "\n!*.env\0\n",
        "\ufeff*\n.env\n.env.local\nprod.env\n",  # git skips the BOM: '*' ignores .env.example
        "\n".join(_RULES) + "\r\n",  # CRLF-ended last line: unchanged meaning
    ],
)
def test_gitignore_lines_are_the_lines_git_reads(tmp_path, text):
    data = text.encode()
    assert _tool_ignored(text) == _git_ignored(tmp_path, data)
    edited = gitignore.edit(text, lambda patterns: "".join(p + "\n" for p in patterns)).text
    assert _git_ignored(tmp_path, edited.encode()) == set(MUST_IGNORE)


def test_a_crash_in_code_under_a_folder_with_an_undecodable_name_is_still_one_line(
    tmp_path, monkeypatch
):
    """Finding B: a frame whose file name holds an undecodable byte (the tool installed under a
    folder named in latin-1: Python keeps the byte as a surrogate) made the crash log's own write
    raise UnicodeEncodeError inside the handler: Python printed both tracebacks, the first one
    ending in the exception's message. The crash is one line still, and the log is written."""
    from juniper_rollout import keys
    from tests.demofleet import CANARY
    from tests.helpers import rollout

    code = "def broken(path, **_):\n    raise RuntimeError(MESSAGE)\n"
    space: dict = {"MESSAGE": f"disk on fire at {CANARY}"}
    exec(compile(code, "/opt/caf\udce9/juniper_rollout/keys.py", "exec"), space)
    monkeypatch.setattr(keys, "generate_key_file", space["broken"])
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = rollout("keygen", "--key-file", tmp_path / "k.txt")
    lines = result.stderr.splitlines()
    assert result.code == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: unexpected RuntimeError while running `rollout keygen`")
    log = Path(lines[0].rsplit("(details: ", 1)[1].rstrip(")"))
    text = log.read_text()
    assert 'caf\\udce9/juniper_rollout/keys.py", line 2, in broken' in text
    assert CANARY not in text and "on fire" not in text


def test_a_relative_xdg_cache_home_puts_no_crash_log_in_the_folder_the_command_ran_in(
    tmp_path, monkeypatch
):
    """Finding C: XDG_CACHE_HOME=.cache (relative, which the XDG spec says to ignore) put the crash
    log under the current folder: run from a clone, a `.cache/juniper-rollout/crash-….log` in the
    user's working tree, shown by `git status`. It goes to ~/.cache instead."""
    from juniper_rollout import keys
    from tests.helpers import git, rollout

    def broken(path, **_):
        raise RuntimeError("disk on fire")

    clone = tmp_path / "clone"
    clone.mkdir()
    git(clone, "init", "-q")
    monkeypatch.setattr(keys, "generate_key_file", broken)
    monkeypatch.setenv("XDG_CACHE_HOME", ".cache")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(clone)
    result = rollout("keygen", "--key-file", tmp_path / "k.txt")
    assert result.code == 1 and "(details: " in result.stderr, result.stderr
    log = Path(result.stderr.rsplit("(details: ", 1)[1].strip().rstrip(")"))
    assert log.is_absolute() and log.parent == tmp_path / "home" / ".cache" / "juniper-rollout"
    assert git(clone, "status", "--porcelain", "--untracked-files=all") == ""


def test_sync_clones_into_a_name_near_the_file_systems_limit(tmp_path):
    """Finding D: the staging folder beside the path was named `.NAME.sync-XXXXXXXX`, 15 bytes more
    than NAME: a repo path whose last name is 241-255 bytes, which git clones into, was "cannot
    clone into …: File name too long (fix `path:`)". The stage's name holds the name's start."""
    from juniper_rollout import remote
    from tests.helpers import git

    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    git(
        origin,
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "x",
    )
    path = tmp_path / "fleet" / ("r" * 250)
    remote.clone(origin.as_uri(), path)
    assert git(path, "rev-parse", "--is-inside-work-tree").strip() == "true"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no stage left beside it


# Finding E: with core.ignoreCase true (a clone's default on macOS and Windows) git matches
# `!.ENV` to `.env`; the tool judged the lines case-sensitively only, so a `!.ENV` after the
# tool's block was "already right" and drift clean while such a clone could commit .env
@pytest.mark.parametrize(
    "tail",
    [
        "!.ENV",
        "!PROD.ENV",
        "!.Env.*",
        "!.[E]nv",
        "!.[A-Z]NV",
        "!.\\env",
        ".ENV.EXAMPLE",
        "*.ENV",
        "!.env",
    ],
)
def test_gitignore_rules_hold_whatever_the_clones_core_ignorecase(tmp_path, tail):
    text = "\n".join(_RULES) + "\n" + tail + "\n"
    wrong = set()
    for fold in (False, True):
        ignored = _git_ignored(tmp_path, text.encode(), fold=fold)
        wrong |= {n for n in MUST_IGNORE if n not in ignored} | (ignored & set(MUST_TRACK))
    said = {problem.rsplit(" is ", 1)[0] for problem in gitignore.problems(text)}
    assert said == wrong
    edited = gitignore.edit(text, lambda patterns: "".join(p + "\n" for p in patterns)).text
    for fold in (False, True):
        assert _git_ignored(tmp_path, edited.encode(), fold=fold) == set(MUST_IGNORE), fold


_FOLD_NAMES = (
    ".env",
    ".env.local",
    "prod.env",
    ".env.example",
    ".ENV",
    "Prod.Env",
    "a-Z_[",
    "e\u00e9",
)


@pytest.mark.parametrize(
    "line",
    [".ENV", "!.ENV", "*.ENV", ".ENV.*", "\\.ENV", ".\\ENV", ".\\env", ".[E]nv", ".[e]NV"]
    + [".[A-Z]nv", ".[a-z]NV", ".[Z-a]nv", ".[[:upper:]]nv", ".[[:lower:]]NV", ".[![:upper:]]nv"]
    + [
        ".[!E]nv",
        "PROD.*",
        "/.ENV",
        "/.E*",
        "**/.ENV",
        ".E**/**",
        "*\\E*",
        "*\\e*",
        "A-Z_[",
        "E\u00c9",
    ]
    + ["[^E]*", "prod[.]Env", "a-z_\\[", "?ENV"],
)
def test_the_engine_folds_case_as_git_does_with_core_ignorecase(tmp_path, line):
    """wildmatch with WM_CASEFOLD lowers the name's and the pattern's byte, but not a byte after
    '\\' nor a class member (`\\E`, `[E]` match nothing), a range also takes a letter's upper case
    and [:upper:] any letter; dir.c compares literal parts ignoring case. Measured per line."""
    from juniper_rollout.edits import ignorematch

    repo = tmp_path / "probe"
    subprocess.run(["git", "init", "-q", "--template=", str(repo)], check=True)
    (repo / ".gitignore").write_bytes(f"{line}\n".encode())
    for fold in (False, True):
        out = subprocess.run(
            ["git", "-C", str(repo), "-c", "core.excludesFile=/dev/null"]
            + ["-c", f"core.ignoreCase={str(fold).lower()}", "check-ignore", "--no-index"]
            + ["-v", "-n", "-z", "--stdin"],
            input="".join(n + "\0" for n in _FOLD_NAMES).encode(),
            capture_output=True,
            check=False,
        ).stdout.decode()
        fields = out.split("\0")[:-1]
        by_git = {name for source, _n, _p, name in zip(*[iter(fields)] * 4, strict=True) if source}
        names = ignorematch.Names(_FOLD_NAMES, fold=fold)
        hits = names.matched(line)
        assert {n for n in _FOLD_NAMES if hits & names.mask([n])} == by_git, fold


def test_sync_into_an_empty_folder_it_may_not_stage_beside_says_the_clone_that_works(tmp_path):
    """Finding F: an empty folder made for the clone in a folder the user may not write to (an
    admin's /srv/repos/juniper-ml): `git clone` fills it, but sync, which now clones beside the
    path, said "cannot clone into /srv/repos: Permission denied (fix `path:`)", and no `path:` was
    wrong. It says the command that works; pasted, it works, and sync then finds the clone. Run
    without root's right to write anywhere when the tests run as root (setpriv, util-linux)."""
    from tests.demofleet import make_repo
    from tests.test_hostile import manifest_for

    origin = make_repo(tmp_path / "origin", {"README.md": "x\n"})
    manifest = manifest_for(tmp_path, f"  - name: newrepo\n    url: {origin.as_uri()}\n")
    shared = tmp_path / "ws"
    (shared / "newrepo").mkdir()
    without = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) drops root's right to write to any folder"
        caps = "-dac_override,-dac_read_search"
        without = [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*without, *args],
            capture_output=True,
            text=True,
            env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")},
            timeout=300,
        )

    shared.chmod(0o555)
    try:
        done = run(sys.executable, "-m", "juniper_rollout.cli", "sync", "-m", str(manifest))
        assert done.returncode == 1, done.stdout + done.stderr
        line = next(line for line in done.stdout.splitlines() if line.startswith("newrepo"))
        assert "fix `path:`" not in line and "clone into the empty folder yourself" in line, line
        command = re.search(r"\(`(git clone .*?)`\)", line)
        assert command, line
        assert run("sh", "-c", command[1]).returncode == 0  # works when pasted
    finally:
        shared.chmod(0o755)
    assert (shared / "newrepo" / "README.md").read_text() == "x\n"
    assert sorted(p.name for p in shared.iterdir()) == ["healthy", "newrepo"]
    again = run(sys.executable, "-m", "juniper_rollout.cli", "sync", "-m", str(manifest))
    assert "newrepo: up to date" in again.stdout, again.stdout + again.stderr


def test_sync_onto_a_mount_point_names_a_clone_that_works_when_pasted(tmp_path):
    """Finding G: a mount point at the path (an empty volume for the clone) is refused as U made it
    (rename cannot replace a mount point), with "clone into it yourself (`git clone URL PATH`)":
    the word URL, and the path unquoted (a folder with a space split in two). The command is the
    real one now; pasted, it fills the mount point, and sync then finds the clone. Mounting a
    tmpfs needs root (the tests run as root here and in CI)."""
    from tests.demofleet import make_repo
    from tests.helpers import rollout
    from tests.test_hostile import manifest_for

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    origin = make_repo(tmp_path / "origin", {"README.md": "x\n"})
    manifest = manifest_for(
        tmp_path, f"  - name: newrepo\n    path: vol ume/newrepo\n    url: {origin.as_uri()}\n"
    )
    point = tmp_path / "vol ume" / "newrepo"
    point.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "none", str(point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        result = rollout("sync", "--manifest", manifest, "--repo", "newrepo")
        assert result.code == 1, result.stdout
        line = result.stdout.splitlines()[0]
        assert "is a mount point" in line and "URL" not in line, line
        command = re.search(r"\(`(git clone .*?)`\)", line)
        assert command, line
        subprocess.run(["sh", "-c", command[1]], check=True, capture_output=True)
        assert (point / "README.md").read_text() == "x\n"
        again = rollout("sync", "--manifest", manifest, "--repo", "newrepo")
        assert "newrepo: up to date" in again.stdout, again.stdout
    finally:
        subprocess.run(["umount", str(point)], check=True)


def test_a_long_class_of_unclosed_posix_names_is_read_in_linear_time():
    """Finding H: inside a `[...]` class each `[:` looked for the next `]` from where it stood, so
    `[` + `[:a` x N + `]` cost N^2: a 60 KB line took 30 s, and a .gitignore may be 16 MB (plan
    of a repo holding one would run for days). The `]` is found once per class. Bound: a 3 MB line
    in a child with 60 s of CPU (it takes well under a second; quadratic, about 20 hours)."""
    code = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_CPU, (60, 60))\n"
        "from juniper_rollout.edits import gitignore\n"
        "rules = " + repr("\n".join(_RULES)) + "\n"
        "text = '[' + '[:a' * 1_000_000 + ']\\n' + rules + '\\n'\n"
        "print(gitignore.problems(text), gitignore.problems('[' + '[:a' * 1_000_000 + '.env]'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-300:]
    # git: the first is a class matching no name (the rules then hold); the second un-closes no
    # class (its ']' closes it) and matches one-byte names only: nothing ignored
    assert done.stdout.split("] [")[0] == "["
    assert "'.env is not ignored'" in done.stdout


def _groups(folder: Path) -> set[int]:
    return {os.lstat(p).st_gid for p in [folder, *folder.rglob("*")]}


def test_sync_into_a_teams_empty_folder_gives_the_clone_that_folders_group(tmp_path):
    """Finding I: an empty folder made for the clone with the team's group (setgid, mode 2770),
    inside a folder whose own setgid group is wider: `git clone` into it gives every file the
    team's group; sync's clone, made beside it and renamed, took the wider group everywhere, the
    top folder too, whose mode 2770 then let that wider group in. Needs root to give folders
    groups (the tests run as root here and in CI)."""
    import grp

    from tests.demofleet import make_repo
    from tests.helpers import rollout
    from tests.test_hostile import manifest_for

    if os.geteuid() != 0:
        pytest.skip("giving folders other groups needs root")
    team, wider = grp.getgrnam("daemon").gr_gid, grp.getgrnam("users").gr_gid
    origin = make_repo(tmp_path / "origin", {"README.md": "x\n", "src/app.py": "x = 1\n"})
    manifest = manifest_for(tmp_path, f"  - name: newrepo\n    url: {origin.as_uri()}\n")
    shared = tmp_path / "ws"
    os.chown(shared, -1, wider)
    shared.chmod(0o2775)
    for name in ("newrepo", "twin"):
        (shared / name).mkdir()
        os.chown(shared / name, -1, team)
        (shared / name).chmod(0o2770)
    subprocess.run(["git", "clone", "-q", origin.as_uri(), str(shared / "twin")], check=True)
    assert _groups(shared / "twin") == {team}  # what git itself does
    result = rollout("sync", "--manifest", manifest, "--repo", "newrepo")
    assert "newrepo: cloned" in result.stdout, result.stdout
    assert _groups(shared / "newrepo") == {team}
    assert stat.S_IMODE((shared / "newrepo").stat().st_mode) == 0o2770
    assert sorted(p.name for p in shared.iterdir()) == ["healthy", "newrepo", "twin"]


def test_a_relative_home_puts_no_crash_log_in_the_folder_the_command_ran_in(tmp_path, monkeypatch):
    """Finding C's sibling: no XDG_CACHE_HOME and HOME=home (relative) made ~/.cache a folder under
    the current one. No log then: the one line stands alone."""
    from juniper_rollout import keys
    from tests.helpers import git, rollout

    def broken(path, **_):
        raise RuntimeError("disk on fire")

    clone = tmp_path / "clone"
    clone.mkdir()
    git(clone, "init", "-q")
    monkeypatch.setattr(keys, "generate_key_file", broken)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", "home")
    monkeypatch.chdir(clone)
    result = rollout("keygen", "--key-file", tmp_path / "k.txt")
    assert result.code == 1 and "unexpected RuntimeError" in result.stderr, result.stderr
    assert "(details: " not in result.stderr
    assert git(clone, "status", "--porcelain", "--untracked-files=all") == ""
