"""Defence in depth: no value from a plaintext env file, and no age private key, in what the tool writes.

Whatever the manifest says (a template that reads ``.env``, a ``templates:`` folder holding
the key file), the rendered bytes are checked before any blob is written, any diff is
printed or any plan is saved. The check names the file and the plaintext's line, never
the value. Values shorter than ``MIN_VALUE`` bytes (``true``, ``8080``) are too common to
tell apart from ordinary text and are not checked; short plain words (``production``,
``localhost``) under names that do not look secret, and every run of letters and digits
inside a value, are checked as *words*, let through when public (the manifest, the shipped
text, the names, the repo's committed files); a value the manifest itself spells out, a
default found in the code, or one already in the file's committed text is no new leak.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from itertools import chain
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote_to_bytes

from juniper_rollout import dotenv, envdialects, envfiles, gitrepo, interrupts, render
from juniper_rollout.appenv import MAX_EXPANDED, Budget, bindings
from juniper_rollout.changes import FileChange
from juniper_rollout.envdialects import (
    compose_bindings,
    compose_interpolations,
    systemd_bindings,
)
from juniper_rollout.errors import RepoError
from juniper_rollout.manifest import Manifest, RepoSpec
from juniper_rollout.render import AGE_KEY
from juniper_rollout.secretshape import (
    URLSAFE,
    blank_readings,
    carries_credential,
    decoded_runs,
    holds_full_token,
    may_be_secret,
    readings,
    unwrapped,
)
from juniper_rollout.wording import shell_word
from juniper_rollout.yamlio import leaves

MIN_VALUE = 8
PLAIN_WORD = 16  # below this, a value of letters only (production, localhost) is checked only under a secret-looking name
PLAINTEXT_FILES = (".env", ".env.secrets")  # read for every repo, besides each `encrypt:` source


class Value(NamedTuple):
    """A value (or a part of one) of a plaintext env file, checked in what the tool writes."""

    source: str  # the file, relative to the clone
    line: int
    value: bytes
    word: bool = False  # a run of letters and digits only its own value held: checked unless public
    name: bytes = b""  # the variable it is bound to


class Plaintext(NamedTuple):
    values: list[Value]
    names: frozenset[bytes]  # every name bound in those files: a generated .env.example lists them


# Round nine: the parts above are shapes (a URL's password, `-pX`, `<password>X</password>`, …), and
# every adversarial pass found one more (`rabbitmqctl add_user app X`, a .pgpass line, CDATA). The bound
# that ends the list: every run of letters and digits of ``MIN_VALUE`` or more in every value is a word
# the guard checks, wherever it sits, unless it is public (the manifest, the shipped text, the repo's
# committed files: `production`, `bookworm`, a host's name).
_RUN = re.compile(rb"[A-Za-z0-9\x80-\xff]{%d,}" % MIN_VALUE)  # UTF-8's letters too (`Quillmärsh`)
_NON_ASCII = re.compile(rb"[\x80-\xff]")
_COMMENTED_BINDING = re.compile(rb"(?:export[^\S\r\n]+)?[A-Za-z_][A-Za-z0-9_]*[^\S\r\n]*=")


def _is_letter(char: str) -> bool:
    """A letter or digit of any script, a combining mark (NFD's `e\u0301`), or a byte that is no UTF-8."""
    return char.isalnum() or unicodedata.category(char)[0] == "M" or "\udc80" <= char <= "\udcff"


def _runs(value: bytes) -> list[bytes]:
    """The value's runs of ``MIN_VALUE`` or more bytes of letters and digits. Pass 19c: ``_RUN`` takes
    every byte past ASCII for a letter's, so a no-break space, a dash or a curly quote glued two runs
    into one (`app\u00a0Quillmarsh`) and the password after it was never a word of its own: a run
    holding such bytes is split again at each character that is no letter, digit or mark."""
    found = []
    for run in _RUN.findall(value):
        if not _NON_ASCII.search(run):
            found.append(run)
            continue
        piece: list[str] = []
        for char in [*run.decode("utf-8", "surrogateescape"), " "]:
            if _is_letter(char):
                piece.append(char)
                continue
            word = "".join(piece).encode("utf-8", "surrogateescape")
            if len(word) >= MIN_VALUE:
                found.append(word)
            piece = []
    return found


def plaintext_values(repo: RepoSpec, env: envfiles.EnvFiles = envfiles.DEFAULT) -> list[Value]:
    return read_plaintext_values(repo, env).values


def _plaintext(env: envfiles.EnvFiles) -> tuple[Callable[[str], bool], tuple[str, ...]]:
    """Whether a path (in any letter case) is a plaintext env file the leak guard reads, and the
    include globs that find them: the manifest's definition ``env`` or the default one. Pass 20d
    (13.6, "whatever the manifest says"): a manifest narrowing ``defaults.plaintext_env``
    (`include: [.env]`, `exclude: ['*.local']`) left `.env.local` and `prod.env` unread, and a
    template holding their values was printed in the plan's diff."""
    definitions = tuple(dict.fromkeys((env, envfiles.DEFAULT)))
    globs = tuple(dict.fromkeys(g for d in definitions for g in d.include))
    return (lambda path: any(d.is_plaintext_in_any_case(path) for d in definitions)), globs


def read_plaintext_values(
    repo: RepoSpec, env: envfiles.EnvFiles = envfiles.DEFAULT, *, strict: bool = True
) -> Plaintext:
    """Each value of ``MIN_VALUE`` bytes or more in the clone's plaintext env files:
    the encrypt sources, ``.env``, ``.env.secrets``, and every plaintext env file (by the manifest's
    definition) at the clone's top (pass 11b: a template hard-linked to an ignored `.env.production`
    was rendered and printed, its values never read) and in its folders, tracked or not (pass 16b);
    then each run of letters and digits in them not already a value (``word``). A file is plaintext
    by the manifest's definition or by the default one (:func:`_plaintext`). ``strict``: an
    `encrypt:` source that cannot be read, a clone whose files git cannot list or one holding more
    than ``gitrepo.WORKTREE_PATHS`` env files in its folders is a RepoError (the repo's own plan says
    why); else such a file is skipped as any other file the tool cannot read, and the clone's other
    files are still read (its top-level ones, and the first ``WORKTREE_PATHS`` of its folders')."""
    from juniper_rollout.secrets_plan import read_plaintext  # the one reader of plaintext

    out: list[Value] = []
    words: list[Value] = []
    names: set[bytes] = set()
    sources = [spec.source for spec in repo.encrypt]
    plaintext, globs = _plaintext(env)
    try:
        # in any letter case, as in the folders below (pass 19c: a top-level `.ENV`, `Prod.ENV` or
        # `.Env.Local`, which a case-insensitive file system loads as `.env`, was never read)
        top = sorted(name for name in os.listdir(repo.path) if plaintext(name))
    except OSError:
        top = []
    # pass 16b: in the clone's folders too (`backend/.env.prod`, `deploy/staging.env`): a template
    # hard-linked to one was rendered and its value printed (passes 11b and 13b had noted it)
    pathspecs = [f":(glob,icase)**/{g}" for g in globs]
    # not ``strict`` (another repo's guard, drift beside an error): what can be read is read, the
    # top-level files at least (pass 27c: a clone whose files git cannot list, or holding more than
    # the guard reads, gave no value at all, and another repo's plan printed its `.env` value)
    unindexed = False
    try:
        listable = gitrepo.worktree_paths(repo.path, pathspecs)
    except RepoError:
        if strict:
            raise
        # pass 27e: a clone whose index or refs git cannot read is listed as a folder (its
        # `backend/.env.prod` and compose's `env_file:` were no values: another repo's template
        # holding one was shown in that repo's plan diff)
        unindexed = True
        try:
            listable = gitrepo.worktree_paths(repo.path, pathspecs, unindexed=True)
        except RepoError:
            listable = None
    listed = [p for p in listable or [] if "/" in p and plaintext(p)]
    own = sum(1 for path in listed if not gitrepo.in_installed_folder(path))
    if own > gitrepo.WORKTREE_PATHS and strict:
        # stop 25 (pass 21b's note): 1,000 decoy `.env` files in shallow folders of a checked-out
        # branch pushed `services/api/.env.prod` past the limit, unread, so its values were no values
        # pass 28c: the listing names the clone (`git ls-files` alone, pasted where the line was
        # read, listed another clone's files or failed "not a git repository"). Pass 29c: `find`,
        # not `git ls-files`, which never enters a clone or submodule inside the tree: 1,001 `.env`
        # files in a nested clone (counted, as the guard reads them) were listed as none
        spelled = " -o ".join(f"-iname {shell_word(g)}" for g in globs)
        raise RepoError(
            f"the clone holds {own} plaintext env files in its folders, more than the "
            f"{gitrepo.WORKTREE_PATHS} the leak guard reads; nothing is done for it "
            f"(`find {shell_word(str(repo.path.absolute()))} -name .git -prune -o ! -type d "
            f"'(' {spelled} ')' -print` lists them, examples and installed packages' too): remove "
            "the extra ones"
        )
    deeper = listed[: gitrepo.WORKTREE_PATHS]
    grown = Budget()  # pass 18a: one `${…}` growth budget for all the clone's files, not each
    bound: dict[bytes, bytes] = {}  # each name the files bind, as the app gets it (the last file's)
    waiting: list[tuple[str, bytes, set[bytes]]] = []  # (file, bytes, names read before bound)
    named = compose_env_files(repo, unindexed=unindexed) if listable is not None else []
    linked = (
        linked_folder_env_files(repo.path, plaintext, unindexed=unindexed)
        if listable is not None
        else []
    )
    files = list(dict.fromkeys([*sources, *PLAINTEXT_FILES, *top, *deeper, *named, *linked]))
    for index, source in enumerate(files):
        try:
            data = read_plaintext(repo, source)
        except RepoError:
            if source in sources and strict:
                raise
            # a symlinked .env the repo does not encrypt: the tool acts on nothing through it, but its
            # values are still values (pass 12b: `.env.production -> /srv/secrets/prod.env`, a common
            # layout, was skipped, so a template holding its token was printed)
            data = _linked(repo.path / source)
            if data is None:
                continue
        found: list[tuple[int, bytes, bytes]] = []
        prose: list[tuple[int, bytes, bytes]] = []
        # each distinct line read once, at its first number (a 15 MB value of 7.5 million `x` lines
        # was 7.5 million reads of one line: 35 s of every plan and drift of the fleet)
        seen: set[bytes] = set()
        for number, line in enumerate((data or b"").splitlines(), start=1):
            if line in seen:
                continue
            seen.add(line)
            if line.lstrip().startswith(b"#"):
                # a binding commented out (`# DB_PASSWORD=old`, the last password kept "just in case")
                # is as secret as the line it was, and sops encrypts comments (pass 19c: never read,
                # so a template holding it was printed); another comment's runs are words (`# old
                # prod password: X`: pass 19c's open item), public ones let through as any word
                line = line.lstrip().lstrip(b"#").lstrip()
                if not _COMMENTED_BINDING.match(line):
                    prose.append((number, b"", line))
                    continue
            if b"=" not in line:
                # pass 20b (13.6/13.8): a pasted token on a line of its own (`ghp_…`, `export KEY`) is
                # no binding and was never read: a template holding it was printed and committed
                prose.append((number, b"", line.strip()))
                found += [(number, b"", text) for text in _pasted(line)]
                continue
            name, _, raw = line.partition(b"=")
            if not _a_name(name):  # a token before `=` (`KEY==`: padded base64) is no name either
                prose.append((number, b"", name.strip()))
                found += [(number, b"", text) for text in _pasted(name)]
            found += [(number, name, value) for value in (raw.strip(), raw.strip().strip(b"\"'"))]
        # each file its fair share of what is left (pass 21f: a committed decoy `.env.ci` read first
        # spent all of it, so `.env.local`'s `API_TOKEN=${P1}${P2}` was left as written, and a template
        # holding the value the app gets, two pieces under 8 bytes joined, was shown in the diff)
        allowed = grown.left // (len(files) - index)
        share = Budget(allowed)
        unbound: set[bytes] = set()
        found += _as_the_app_reads(data or b"", share, names, bound=bound, unbound=unbound)
        grown.left -= allowed - share.left
        if unbound:
            waiting.append((source, data or b"", unbound))
        _keep(source, found, prose, out, words)
    # pass 22b: `${NAME}` a file reads before binding it, as the app finds it when it loaded another of
    # the clone's env files first (`load_dotenv(".env.local"); load_dotenv(".env")`: python-dotenv
    # expands from `os.environ`): `.env`'s `API_TOKEN=${P1}7f…` beside `.env.local`'s `P1=CANARY-`
    # gave the app `CANARY-7f…`, which no form held, and a template holding it was shown in the diff
    for source, data, unbound in waiting:
        if unbound & bound.keys():
            share = Budget(grown.left)
            found = _as_the_app_reads(data, share, outer=bound)
            grown.left = share.left
            _keep(source, found, [], out, words, seen={v.value for v in out if v.source == source})
    # pass 22e: compose interpolates the compose file itself from the project's `.env` (the fleet's
    # `${JUNIPER_DATA_API_KEYS}`): `API_TOKEN=${P1}${P2}` under `environment:` gave the container a
    # value no env file held whole, and a template holding it was shown in the plan's diff
    known = {
        k.decode("utf-8", "surrogateescape"): v.decode("utf-8", "surrogateescape")
        for k, v in bound.items()
    }
    for compose in _compose_files(repo, unindexed=unindexed) if listable is not None else []:
        data = _compose_text(repo, compose)
        found = [
            (number, b"", form)
            for number, forms in compose_interpolations(data or b"", known, grown)
            for form in forms
        ]
        _keep(compose, found, [], out, [])
    return Plaintext(out + words, frozenset(names))


def _keep(
    source: str,
    found: list[tuple[int, bytes, bytes]],
    prose: list[tuple[int, bytes, bytes]],
    out: list[Value],
    words: list[Value],
    seen: Collection[bytes] = (),
) -> None:
    """Add ``source``'s values (8+ bytes, and a plain word only under a secret-looking name or 16+
    letters long) to ``out``, and the runs of letters and digits of its values and prose that are no
    value to ``words`` (``seen``: values of the file kept already)."""
    checked: set[bytes] = set(seen)
    for number, name, value in dict.fromkeys(found):
        if value in checked:
            continue
        if len(value) >= MIN_VALUE and (
            may_be_secret(name.decode("utf-8", "replace"))
            or not value.isalpha()
            or len(value) >= PLAIN_WORD
        ):
            out.append(Value(source, number, value, name=name.strip()))
            checked.add(value)
    runs: dict[bytes, int] = {}
    for number, _, value in [*found, *prose]:
        for run in _runs(value):
            runs.setdefault(run, number)
    words += [Value(source, n, run, word=True) for run, n in runs.items() if run not in checked]


def compose_env_files(repo: RepoSpec, *, unindexed: bool = False) -> list[str]:
    """The files the clone's compose files name under `env_file:` (relative to each compose file's
    folder), inside the clone, at most ``gitrepo.WORKTREE_PATHS``. Pass 22b (13.6, "any plaintext env
    file"): compose gives a service the values of any file an `env_file:` names (`config/app.conf`,
    `secrets/worker`), under no name the definitions match, and a template holding one was shown in
    the plan's diff. Pass 22e: every YAML spelling, and the compose files `include:` and `extends:`
    name (``envdialects.compose_env_files``)."""
    return envdialects.compose_env_files(
        _compose_files(repo, unindexed=unindexed), lambda compose: _compose_text(repo, compose)
    )[: gitrepo.WORKTREE_PATHS]


def _compose_files(repo: RepoSpec, *, unindexed: bool = False) -> list[str]:
    """The clone's compose files by their names (installed packages' left out)."""
    composes = gitrepo.worktree_paths(repo.path, envdialects.COMPOSE_FILES, unindexed=unindexed)
    return [p for p in composes if not gitrepo.in_installed_folder(p)][: gitrepo.WORKTREE_PATHS]


def _compose_text(repo: RepoSpec, compose: str) -> bytes | None:
    """A compose file's bytes (through a symlink too: compose follows one), None if absent or too long."""
    from juniper_rollout.secrets_plan import read_plaintext

    try:
        data = read_plaintext(repo, compose)
    except RepoError:
        data = _linked(repo.path / compose)
    return data if data and len(data) <= envdialects.MAX_COMPOSE_BYTES else None


WALKED = 20_000  # entries of a clone's working tree looked at for folder symlinks


_SKIPPED = gitrepo.INSTALLED_FOLDERS | {".git"}  # folders the walks below leave out


def linked_folder_env_files(
    root: os.PathLike[str], plaintext: Callable[[str], bool], *, unindexed: bool = False
) -> list[str]:
    """Plaintext env files (by ``plaintext``) in the folders the clone's working tree reaches through
    a symlink (`conf -> /srv/secrets`, `.env` files inside), as paths through the link. Pass 22b
    (13.6): git lists no file under a symlinked folder, so such a file was never read, and the app
    reads it (`env_file="conf/.env"`): a template holding its value was shown in the plan's diff.
    Bounded: ``WALKED`` entries of the clone (its `.git` and package folders skipped), ``render.LINKED_WALKED``
    in each linked folder, ``gitrepo.WORKTREE_PATHS`` files in all."""
    found: list[str] = []
    seen = 0
    for top, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED)
        seen += len(dirs) + len(names)
        for folder in [d for d in dirs if os.path.islink(os.path.join(top, d))]:
            found += render.env_files_under(root, os.path.join(top, folder), plaintext, _SKIPPED)
        if seen > WALKED or len(found) >= gitrepo.WORKTREE_PATHS:
            break
    # pass 22e: and every link git lists, at any depth (the walk stops after ``WALKED`` entries: a
    # folder of 20,000 files before `services/` hid `services/api/conf -> /srv/secrets`)
    for link in gitrepo.worktree_links(Path(root), unindexed=unindexed):
        if len(found) >= gitrepo.WORKTREE_PATHS:
            break
        if os.path.isdir(os.path.join(root, link)):
            found += render.env_files_under(root, os.path.join(root, link), plaintext, _SKIPPED)
    return list(dict.fromkeys(found))[: gitrepo.WORKTREE_PATHS]


def _pasted(text: bytes) -> list[bytes]:
    """A line that binds nothing (no `=`, or no name before it: item 8's pasted token), whole: as
    written, without `export ` and quotes, and each piece between spaces, when it holds no word.
    Pass 20i: only its runs of 8 letters and digits were words, so a token of shorter pieces
    (`sk-aB-3dE5-fG7h`) was never checked and a template holding it was printed."""
    whole = text.strip()
    words = whole.decode("utf-8", "surrogateescape").replace("\0", " ")
    bare = dotenv.bare_name(words).strip("'\"")
    # and each piece between spaces (any Unicode space, NUL): `TOKEN # the old one`
    pieces = [bare, *(piece.strip("'\"") for piece in words.split())]
    texts = [whole, *(p.encode("utf-8", "surrogateescape") for p in pieces)]
    # one holding a run of 8 is checked already, as that word (and said so: pass 20b's message)
    return [text for text in dict.fromkeys(texts) if not _runs(text)]


def _a_name(raw: bytes) -> bool:
    """Is ``raw`` (the text before a line's ``=``) a variable's name, as the secrets plan reads one: an
    identifier not shaped like a credential? The names are public words; text before ``=`` that is
    none (a token pasted on a line of its own, with its base64 padding: item 8) made its runs public,
    and a template holding the token was printed (pass 20b)."""
    try:
        name = dotenv.bare_name(raw.decode("utf-8")).strip("'\"")
    except UnicodeDecodeError:
        return False
    return dotenv.IDENTIFIER.fullmatch(name) is not None and not dotenv.is_credential_name(name)


def _linked(path: os.PathLike[str]) -> bytes | None:
    """The bytes a plaintext env file reached through a symlink (its own or a folder's on the way)
    holds, for the guard's check only: a regular file (a FIFO opens at once and is refused), at most
    ``MAX_FILE_BYTES``; None otherwise."""
    from juniper_rollout.paths import MAX_FILE_BYTES

    if os.path.realpath(path) == os.path.abspath(
        path
    ):  # no symlink on the way (pass 22b: a folder's)
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = os.read(fd, MAX_FILE_BYTES + 1)
        return data if len(data) <= MAX_FILE_BYTES else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _as_the_app_reads(
    data: bytes,
    grown: Budget | None = None,
    names: set[bytes] | None = None,
    *,
    bound: dict[bytes, bytes] | None = None,
    unbound: set[bytes] | None = None,
    outer: Mapping[bytes, bytes] | None = None,
) -> list[tuple[int, bytes, bytes]]:
    """(line, name, value) for each binding as python-dotenv reads it, and as docker compose and
    systemd read it (pass 22b: `$P1$P2`, `${UNSET-value}`, `"\\0103…"` are other values to compose,
    which the fleet's compose files read `.env` with; `CANARY-\\7f…` and `"CANARY-"7f…` to systemd,
    whose `EnvironmentFile=` a worker's unit names), and each line of a multi-line value on its own (a template may
    carry one line of a key). ``names``: gets each binding's name (as the parser reads them: a line of
    a multi-line value, `MIIEv…==` of a PEM key, is no name). ``bound`` gets each name's value,
    ``unbound`` each `${NAME}` read before the file binds it; ``outer``: the other files' ``bound``,
    as found in the environment (python-dotenv's reading only, pass 22b)."""
    out = []
    read: set[tuple[int, bytes]] = set()
    own = bindings(data, grown, outer, unbound)
    for number, name, values in chain(own, _other_readers(data, grown, read) if not outer else ()):
        read.update((number, one) for one in values)
        if bound is not None and values:
            bound[name] = values[-1]
        if names is not None and _a_name(name):
            names.add(name)
        # a URL's password is a secret whatever the variable's name (`DATABASE_URL`), a query value as
        # secret as its parameter's name (`?api_key=`): a short word there is checked too (pass 12b)
        if all(_NO_PARTS.fullmatch(one) for one in values):  # most values: nothing to split
            named = []
        else:
            named = [(n, part) for one in values for n, part in _named_parts(one, name)]
            values += [part for one in values for part in _parts(one)]
        for one in values:
            out.append((number, name, one))
            # each line once, and only one long enough to be checked (a shorter line holds no word
            # either): pass 20c, a 15 MB `A="x⏎x⏎…"` made 7.5 million tuples per form of the
            # value, a MemoryError at 3.5 GB in plan and drift
            lines = dict.fromkeys(part.strip() for part in one.splitlines())
            out += [(number, name, part) for part in lines if len(part) >= MIN_VALUE]
        out += [(number, n, part) for n, part in named]
    return out


def _other_readers(
    data: bytes, grown: Budget | None, read: set[tuple[int, bytes]]
) -> Iterator[tuple[int, bytes, list[bytes]]]:
    """Each binding as docker compose and systemd read it (:mod:`juniper_rollout.envdialects`), with
    only the forms python-dotenv's reading did not give on that line (``read``, filled as that reading
    went) and that are long enough to hold a value: most lines read alike, and each form is scanned
    for its parts."""
    for number, name, values in chain(compose_bindings(data, grown), systemd_bindings(data)):
        other = [v for v in values if len(v) >= MIN_VALUE and (number, v) not in read]
        if other:
            yield number, name, other


# a value of these bytes alone holds no part (no `:`, `/`, `@`, `=`, space, quote, bracket or separator;
# not starting with an option's `-`): _named_parts and _parts find nothing in it (a property test checks
# it), so they are not run: a 15 MB `.env` of 400,000 such bindings in one repo spent 15 s there in
# every repo's plan and drift (pass 21g's finding 4)
_NO_PARTS = re.compile(rb"(?:[A-Za-z0-9_.+][A-Za-z0-9_.+-]*)?")


# Parts of a value the app reads on their own (pass 11b: a template holding only one was rendered):
# a URL's password (`postgres://app:PASSWORD@db/x`), a query parameter (`https://api/v1?api_key=TOKEN`),
# the text of a JSON value's members (`{"password": "…"}`: pydantic-settings parses JSON for complex
# fields). Linear: each scan stops at the next `/`, `?`, `&` or `;`.
_URL_PASSWORD = re.compile(rb"://[^/?#@\s:]*:([^/?#@\s]+)@")
# urllib (redis-py, httpx, requests, psycopg's URL parsing) ends the user-info at the LAST `@` before
# the host: an unencoded `@` in a password (`redis://:p@ss@redis`) is part of it (pass 12b); a token
# given as the user name alone (`https://TOKEN@github.com/…`) is a part too. Linear: `://` starts a
# scan that stops at the next `/`, `?`, `#` or space.
_URL_USERINFO = re.compile(rb"://([^/?#\s]*)@")
# (a fragment's parameters too: an OAuth redirect's `#access_token=`, pass 12b)
_QUERY_VALUE = re.compile(rb"[?&;#][^=&#;?\s]*=([^&#;?\s]+)")


_QUERY_PAIR = re.compile(rb"[?&;#]([^=&#;?\s]*)=([^&#;?\s]+)")
# pass 13b: a connection string its driver splits (libpq's `host=db password=X`, ODBC's `Password=X;…`
# first, Kafka's JAAS `password="X";`), a header (`Bearer X`), a `user:X` pair and a comma list of keys
# (`API_KEYS=k1,k2`): the driver or the app reads each piece on its own, and a template holding one was
# printed. Linear: each scan stops at the next space, `,`, `;` or quote.
# pass 14b: a command line's `--password=X` and a JVM's `-Djavax.net.ssl.keyStorePassword=X` (JAVA_OPTS,
# MAVEN_OPTS), and ODBC's `Password={X}` (braces: how ODBC quotes a value holding `;`) were no pairs.
# Linear: a brace scan stops at the next brace or after 1,024 bytes.
_PAIR = re.compile(
    rb"(?:^|[\s,;])(?:-D|--?)?([A-Za-z_][A-Za-z0-9_.-]*)[^\S\r\n]*=[^\S\r\n]*"
    rb"(?:\"([^\"]*)\"|'([^']*)'|\{([^{}]{0,1024})\}|([^\s,;\"']+))"
)
# pass 15: a long option and its value as the next word (`--password X`, `--token X`: redis-cli, mongo,
# most CLIs' spelling) was no pair, so a template holding X was printed. Linear, as _PAIR.
_FLAG_PAIR = re.compile(
    rb"(?:^|[\s\"'])--([A-Za-z_][A-Za-z0-9_.-]*)[^\S\r\n]+(?:\"([^\"]*)\"|'([^']*)'|([^\s,;\"'-][^\s,;\"']*))"
)
_PIECE = re.compile(rb"[^\s,;\"']+")


# pass 14b: Oracle's `user/password@host:port/service` (EZConnect: python-oracledb, SQL*Plus) has no `://`;
# its password was no part. Linear: a scan starts at a piece's start and stops at the next `/`, `@` or space.
_SLASH_PASSWORD = re.compile(rb"(?:^|[\s,;\"'])[A-Za-z0-9_.$#-]+/([^\s/@\"']+)@")


# round six (pass 15's open item): an Authorization header's credential after its scheme (`Basic X`,
# `Bearer X`, `Token X`) whatever its alphabet, and what a Basic one decodes to (`user:password`); and
# mysql's password glued to its short option (`-pX`) in a command line that names a user (`-u app`,
# `--user=app`): a word of letters there was no pair, so a template holding it was printed. Linear:
# each scan stops at the next space, `,`, `;` or quote.
_SCHEME_CREDENTIAL = re.compile(
    rb"(?i)(?:^|authorization:|[\"'=])[^\S\r\n]*(?:basic|bearer|token|bot|apikey|ssws)[^\S\r\n]+"
    rb"([^\s,;\"']+)"
)
_MYSQL_USER = re.compile(rb"(?:^|\s)(?:-u|--user\b)")
# pass 17: a shell quotes it as often as not (`-p'X'`, `-a "X"`): the quotes are no part of it
_QUOTED_OR_BARE = rb"(?:'([^'\r\n]*)'|\"([^\"\r\n]*)\"|([^\s,;\"'-][^\s,;\"']*))"
# pass 16b: curl's `-u user:password` (`--user`, `-uuser:password`, `--user=`): the password of
# letters after the `:` was a part under no name, so under `CURL_OPTS` it went unchecked and a
# template holding it was printed. Linear: the scan stops at the next space, `,`, `;` or quote.
_USER_PASSWORD = re.compile(rb"(?:^|\s)(?:-u|--user)(?:=|[^\S\r\n]*)[^\s,;\"':]+:([^\s,;\"']+)")
_GLUED_PASSWORD = re.compile(rb"(?:^|\s)-p" + _QUOTED_OR_BARE)
# pass 16c: an Authorization header with any other scheme (`ApiKey X`: Elastic, `SSWS X`: Okta, `Bot X`)
# or none (`Authorization: X`), also as a JSON member (`"Authorization": "…"`); and mysql's `-pX` in a
# command that names the mysql or mariadb program but no user (`mysql -h db -pX app`: the login's name
# is the user). Linear, as above.
_AUTHORIZATION = re.compile(
    rb"(?i)authorization[\"']?[^\S\r\n]*[:=][^\S\r\n]*[\"']?[^\S\r\n]*"
    rb"(?:[A-Za-z][A-Za-z0-9_.-]*[^\S\r\n]+)?([^\s,;\"']+)"
)
_MYSQL_PROGRAM = re.compile(rb"(?:^|[\s/\"'])(?:mysql|mariadb)[a-z-]*(?:\s|$)")
# pass 16c: a header or a JSON member under a secret name (`PRIVATE-TOKEN: X`: GitLab's, `X-Api-Key: X`,
# `{"password": "X"}`): its name decides, as a `NAME=X` pair's does. Linear, as _PAIR.
# pass 17: a member of a YAML flow mapping nested in another (`db: {password: X}`): the outer
# member's value no longer swallows the inner one (`{password:`), and `[` starts a member too
_COLON_PAIR = re.compile(
    rb"(?:^|[\s,;{\[\"'])([A-Za-z_][A-Za-z0-9_.-]*)[\"']?[^\S\r\n]*:[^\S\r\n]*"
    rb"(?:\"([^\"]*)\"|'([^']*)'|([^\s,;\"'{}\[\]][^\s,;\"'}\]]*))"
)


# pass 16c's open items: other programs' password options, read as mysql's `-p` is, in a value naming
# the program (redis-cli's `-a X`, sshpass's `-p X`, smbclient's `-U user%X`, ldapsearch's `-w X`); an
# XML element under a secret name (`<password>X</password>`); a password and its value as the next
# word (a .netrc line's `password X`, nslcd's `bindpw X`). Linear: each scan stops at the next space,
# quote or `<` (an element's text at 1,024 bytes).
_OPTION = rb"[^\S\r\n]*" + _QUOTED_OR_BARE
_PROGRAM_PASSWORDS = tuple(
    (re.compile(rb"(?:^|[\s/\"'])" + program + rb"(?:\s|$)"), re.compile(rb"(?:^|\s)" + option))
    for program, option in (
        (rb"redis-cli", rb"-a" + _OPTION),
        (rb"sshpass", rb"-p" + _OPTION),
        (rb"ldap[a-z]*", rb"-w" + _OPTION),
        (rb"smbclient", rb"(?:-U|--user=?)[^\S\r\n]*[^\s%]*%([^\s,;\"']+)"),
        # pass 17: more programs' password options, as common in a `.env`'s command lines
        (rb"curl", rb"(?:-u|--user)(?:=|[^\S\r\n]*)[\"']?[^\s:\"']*:([^\s,;\"']+)"),
        (rb"docker[^\S\r\n]+login", rb"-p" + _OPTION),
        (rb"mongo[a-z]*", rb"-p" + _OPTION),
        (rb"sqlcmd", rb"-P" + _OPTION),
        (rb"keytool", rb"-(?:store|key|srcstore|deststore|srckey|destkey)pass" + _OPTION),
        (rb"(?:un)?zip", rb"-P" + _OPTION),
        (rb"7z[az]?", rb"-p" + _QUOTED_OR_BARE),
    )
)
# pass 17: also with a namespace prefix and attributes (SOAP's WS-Security
# `<wsse:Password Type="…">X</wsse:Password>`); each scan stops at the next `<` or `>`
_XML_ELEMENT = re.compile(rb"<([A-Za-z_][A-Za-z0-9_.:-]*)(?:\s[^<>]{0,1024})?>([^<]{1,1024})</\1>")
# pass 17: `password X` is a .netrc line's only beside its `machine`/`login`/`default` words: prose
# ("Reset password instructions are emailed", `LOGIN_METHODS="password passwordless"`) holds it too,
# and its next word was refused wherever a template showed it; slapd's `rootpw X` is nslcd's `bindpw`
_WORD_PAIR = re.compile(rb"(?i)(?:^|\s)(?:bindpw|rootpw)[^\S\r\n]+([^\s,;\"'<]+)")
_NETRC_PAIR = re.compile(rb"(?:^|\s)(?:password|passwd)[^\S\r\n]+([^\s,;\"'<]+)")
_NETRC = re.compile(rb"(?:^|\s)(?:machine|login|default)(?:\s|$)")
# a URL's user name alone is a key where a web service takes one so (`https://KEY@host`: a Sentry DSN,
# a GitHub token); a database's or broker's (`postgresql://postgres@db/app`, `amqp://rabbitmq@mq`) is
# its login name, and was refused wherever a template named the login (pass 17); a Redis URL's too, as
# older clients read `redis://PASSWORD@host`
_WEB_USER = re.compile(
    rb"(?i)(?:^|[^a-z0-9+.-])(?:[a-z]+\+)?(?:https?|wss?|rediss?)://([^/?#@\s:]*)@"
)  # (pip's `git+https://KEY@github.com/…` too)


def _program_passwords(value: bytes) -> list[tuple[bytes, bytes]]:
    return [
        (b"PASSWORD", next((group for group in m.groups() if group), b""))
        for program, option in _PROGRAM_PASSWORDS
        if program.search(value)
        for m in option.finditer(value)
    ]


def _exec_form(value: bytes) -> bytes | None:
    """A command given as a JSON list of words (`["redis-cli", "-a", "X"]`: a Docker healthcheck's
    exec form) as one command line, or None (pass 17: its options were read nowhere)."""
    if value.lstrip()[:1] != b"[":
        return None
    try:
        words = json.loads(value)
    except (ValueError, RecursionError):
        return None
    if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
        return None
    return " ".join(words).encode("utf-8", "replace")


def _more_named_parts(value: bytes) -> list[tuple[bytes, bytes]]:
    found = _program_passwords(value)
    command = _exec_form(value)
    if command is not None:
        found += _program_passwords(command)
        found += [(b"PASSWORD", part) for part in _header_credentials(command)]
    found += [(m[1], m[2].strip()) for m in _XML_ELEMENT.finditer(value)]
    found += [(b"PASSWORD", m[1]) for m in _WORD_PAIR.finditer(value)]
    if _NETRC.search(value):
        found += [(b"PASSWORD", m[1]) for m in _NETRC_PAIR.finditer(value)]
    # a web URL's user name alone may be a key (`https://KEY@host`, pass 16c): checked as a password
    found += [(b"PASSWORD", m[1]) for m in _WEB_USER.finditer(value)]
    return found


# pass 17: a scheme word at a value's start is prose as often as a header (`PLAN_TIER="Basic
# Professional"`, `BOT_DISPLAY_NAME="Bot Framework"`, `WELCOME="Token Exchange"`): the word after it
# was refused wherever a template showed it. A word of letters after it is a credential only under a
# name that says so (`CHAT_AUTH`, `TOKEN_HEADER`, any secret-looking name); a machine-made token is
# never all letters, so it is checked under any name, as a piece and here
_AUTH_NAME = re.compile(r"(?:^|_)(?:AUTH|AUTHORIZATION|HEADERS?|CREDS?|BEARER)(?:_|$)")


def _says_auth(name: bytes) -> bool:
    text = name.decode("utf-8", "replace")
    words = re.sub(r"[^A-Z0-9]", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text).upper())
    return may_be_secret(text) or _AUTH_NAME.search(words) is not None


def _header_credentials(value: bytes, name: bytes = b"AUTHORIZATION") -> list[bytes]:
    found = []
    for m in [*_SCHEME_CREDENTIAL.finditer(value), *_AUTHORIZATION.finditer(value)]:
        header = b"authorization" in m[0].lower()
        if header or not m[1].isalpha() or _says_auth(name):
            found.append(m[1])
        try:  # a hand-written Basic credential may lack its `=` padding
            decoded = base64.b64decode(m[1] + b"=" * (-len(m[1]) % 4), validate=True)
        except ValueError:  # binascii.Error is one: a Bearer token, or Basic with no base64
            continue
        if b":" in decoded:
            found.append(decoded.partition(b":")[2])
    if _MYSQL_USER.search(value) or _MYSQL_PROGRAM.search(value):
        found += [m[1] or m[2] or m[3] or b"" for m in _GLUED_PASSWORD.finditer(value)]
    found += [m[1] for m in _USER_PASSWORD.finditer(value)]
    return found


def _named_parts(value: bytes, name: bytes = b"AUTHORIZATION") -> list[tuple[bytes, bytes]]:
    """(name, part): each URL password under the name ``PASSWORD``, each query value under its key
    (``name``: the binding's, which tells a header from prose)."""
    found = [(b"PASSWORD", m[1]) for m in _URL_PASSWORD.finditer(value)]
    found += [(b"PASSWORD", m[1]) for m in _SLASH_PASSWORD.finditer(value)]
    found += [(b"PASSWORD", part) for part in _header_credentials(value, name)]
    for m in _URL_USERINFO.finditer(value):
        if b":" in m[1]:
            found.append((b"PASSWORD", m[1].partition(b":")[2]))
    found += [(m[1], m[2]) for m in _QUERY_PAIR.finditer(value)]
    if len(value) <= MAX_EXPANDED:  # a megabyte of `x=y ` is no connection string: bounded
        found += [(m[1], m[2] or m[3] or m[4] or m[5] or b"") for m in _PAIR.finditer(value)]
        found += [(m[1], m[2] or m[3] or m[4] or b"") for m in _FLAG_PAIR.finditer(value)]
        found += [(m[1], m[2] or m[3] or m[4] or b"") for m in _COLON_PAIR.finditer(value)]
        found += _more_named_parts(value)
    return found + [(n, unquote_to_bytes(part)) for n, part in found]


def _parts(value: bytes) -> list[bytes]:
    found = [m[1] for m in _URL_PASSWORD.finditer(value)]
    for m in _URL_USERINFO.finditer(value):
        user, colon, password = m[1].partition(b":")
        found.append(password if colon else user)
    found += [m[1] for m in _QUERY_VALUE.finditer(value)]
    pieces = _PIECE.findall(value) if len(value) <= MAX_EXPANDED else []
    if len(pieces) > 1 or (pieces and pieces[0] != value):
        found += pieces
    # `user:X` (no `://`: a URL's password is read above)
    found += [p.partition(b":")[2] for p in pieces if b":" in p and b"://" not in p]
    found += [unquote_to_bytes(part) for part in found]
    if value.lstrip()[:1] in (b"{", b"["):
        try:
            doc = [json.loads(value)]
        except (ValueError, RecursionError):
            doc = []
        for node in leaves(*doc):
            if isinstance(node, str):
                found.append(node.encode("utf-8", "replace"))
            elif isinstance(node, int | float) and not isinstance(node, bool):
                found.append(json.dumps(node).encode())  # pass 12b: `{"pin": 48213579}`
    return found


@dataclasses.dataclass(frozen=True)
class FleetValues:
    """The plaintext values of every repo of the fleet, read once per run (before the workers fork),
    each named "SOURCE of REPO", with the head index of their words: made once, not once per repo
    (pass 19c: each repo's check renamed and indexed the whole fleet, 3.9 s a repo for 60 repos of
    2,000 values, a fleet's plan about 4 minutes of CPU, growing with the square)."""

    named: tuple[tuple[str, Value], ...] = ()  # (repo name, value)
    index: Mapping[bytes, set[bytes]] = dataclasses.field(default_factory=dict)
    # each spec's own reading, as :func:`check` would read it again (pass 21b: drift's check got the
    # fleet's values too, and a 15 MB `.env` read twice took it past its time limit)
    read: Mapping[tuple, Plaintext] = dataclasses.field(default_factory=dict)


def _spec_key(repo: RepoSpec) -> tuple:
    return (repo.name, repo.path, repo.encrypt)


def own_values(
    repo: RepoSpec, env: envfiles.EnvFiles, fleet: FleetValues | None = None
) -> Plaintext:
    """``repo``'s own plaintext values: as ``fleet`` read them this run, else read now."""
    found = fleet.read.get(_spec_key(repo)) if fleet is not None else None
    return found if found is not None else read_plaintext_values(repo, env)


Public = Callable[[list[bytes]], set[bytes]]  # which of these words the repo's committed files hold


def fleet_values(manifest: Manifest) -> FleetValues:
    """The plaintext values of every repo of the manifest, read once per run: a template may carry
    another repo's `.env` into this one (a repo's own are read again by :func:`check`)."""
    out: list[tuple[str, Value]] = []
    read: dict[tuple, Plaintext] = {}
    for repo in guarded_repos(manifest):
        interrupts.check()  # between repos: a stop a finalizer swallowed reads no other clone
        try:
            read[_spec_key(repo)] = plain = read_plaintext_values(repo, manifest.env_files)
        except RepoError:
            try:
                # pass 21b (13.6): not strict, so one `encrypt:` source the tool cannot read (a
                # folder, a symlink) skips that file only: it skipped every value of the repo, and a
                # template holding its `.env` value was shown in another repo's plan
                plain = read_plaintext_values(repo, manifest.env_files, strict=False)
            except RepoError:  # that repo's own plan says why
                continue
        out += [
            (repo.name, value._replace(source=f"{value.source} of {repo.name}"))
            for value in plain.values
        ]
    return FleetValues(tuple(out), _head_index(v.value for _, v in out if v.word), read)


def guarded_repos(manifest: Manifest) -> list[RepoSpec]:
    """The repo specs whose plaintext env files the guard reads: this rollout's, and every entry as
    the SOPS rollout has it. Pass 21b (13.6, "whatever the manifest says"): a named rollout's run read
    only its own repos with its own `encrypt:`, so a template holding the `.env` value of a repo that
    opted out of it (`rollouts: {docs: false}`), or of a source only the SOPS rollout encrypts
    (`config/app.secrets`), was shown by `rollout plan --rollout docs` and committed by apply."""
    specs = list(manifest.repos)
    seen = {(r.name, r.encrypt) for r in specs}
    return specs + [r for r in manifest.guarded if (r.name, r.encrypt) not in seen]


def digest(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def check(
    manifest: Manifest | None,
    repo: RepoSpec,
    files: Iterable[FileChange],
    allowed: Iterable[str | None] = (),
    fleet: FleetValues | None = None,
    cleared: Collection[str] | None = None,
    public: Public | None = None,
    committed: Mapping[str, bytes] | None = None,
    plaintext: Plaintext | None = None,
) -> tuple[str, ...]:
    """RepoError if a file the tool would write, diff or save holds a plaintext value (of this repo's
    plaintext env files, or of another repo's: ``fleet``) or an age key.

    Returns the digests of the values found in the files but let through (``allowed``, in the
    manifest, already in the file's committed text, a word ``public`` says the repo's committed
    files hold): a saved plan keeps them, and its check at apply, which has neither the code's
    defaults nor the committed text, passes them as ``cleared`` (and reads no templates: the plan's
    bytes are what is written).

    ``committed``: the files' text on the base, when what the plan compares with is the tool's own
    unpushed rollout branch: a value an older check let onto that branch is no committed text (pass
    19c: it planned again, and `--push` would publish it)."""
    files = [f for f in files if f.after is not None and not f.secret]
    if not files:
        return ()

    def before(f: FileChange) -> bytes:
        return (committed.get(f.path) if committed is not None else f.before) or b""

    check_age_keys(files)
    known = (
        _manifest_text(manifest)
        + b"\n\0"
        + _shipped_text()
        + b"\n\0"
        + b"\n".join(a.encode("utf-8", "surrogateescape") for a in allowed if a)
    )
    env = manifest.env_files if manifest is not None else envfiles.DEFAULT
    # ``plaintext``: the clone's values, when the caller read them already (drift's message scan)
    plain = plaintext if plaintext is not None else own_values(repo, env, fleet)
    fleet = fleet or FleetValues()
    own = {v.value for v in plain.values}
    # the repo's own values as another rollout reads them too (its `encrypt:` sources: pass 21b)
    found = plain.values + [
        value for name, value in fleet.named if name != repo.name or value.value not in own
    ]
    templates = (
        render.loaded_templates(manifest.templates, manifest.env_files)
        if manifest is not None and cleared is None and found
        else []
    )
    # pass 24b: each text as its readers decode it (escapes, folded lines, base64 of a value)
    folded = any(b" " in v.value or b"\t" in v.value for v in found if not v.word)
    read = {f.path: _Read.of(f.after, folded) for f in files if f.after is not None}

    # a file's committed text is read only when its new text holds a value (each file once): read
    # for every file up front, a large committed file was decoded for nothing on every plan
    @functools.cache
    def read_before(f: FileChange) -> _Read:
        return _Read.of(before(f), folded)

    read_templates = [(name, _Read.of(text, folded)) for name, text in templates]
    values: list[Value] = []
    let_through: set[bytes] = set()
    texts = [
        one
        for r in [*read.values(), *(r for _, r in read_templates)]
        for one in (*r.readings, r.decoded)
    ]
    held = _held_words(_head_index(v.value for v in plain.values if v.word), texts)
    if fleet.index:
        held |= _held_words(fleet.index, texts)
    words = _unknown_words(
        [v for v in found if v.word and v.value in held],
        known
        + b"\n\0"
        + b"\n".join(plain.names)
        + b"\n\0"
        + b"\n\0".join(before(f) for f in files),
        cleared or (),
        public,
        let_through,
    )
    for one in [v for v in found if not v.word]:
        if one.value in known or digest(one.value) in (cleared or ()):
            let_through.add(one.value)
        else:
            values.append(one)
    for source, number, value, *_ in values:
        for f in files:
            if f.after is not None and read[f.path].holds(value):
                if read_before(f).holds(value):
                    let_through.add(value)
                    continue
                raise RepoError(
                    f"{f.path} would contain the value on line {number} of the plaintext {source}; "
                    "nothing written (check the manifest's templates and vars)"
                )
    for source, number, word, *_ in words:
        for f in files:
            if f.after is not None and read[f.path].has(word):
                where = (
                    "that no committed file of the repo holds"
                    if public is not None
                    else "that the plan did not clear (plan again)"
                )
                raise RepoError(
                    f"{f.path} would contain a word of the value on line {number} of the plaintext "
                    f"{source} ({_letters(word)} letters and digits) {where}; nothing written (check the "
                    "manifest's templates and vars; if that word is no secret, write it anywhere in "
                    "the manifest, a comment will do)"
                )
    kept = tuple(sorted(digest(v) for v in let_through if any(r.holds(v) for r in read.values())))
    # a template may reverse, slice or encode what it holds: so its source is checked too
    for source, number, piece, is_word, _ in [*values, *words]:
        for name, text in read_templates:
            if text.has(piece) if is_word else text.holds(piece):
                what = "a word of the value" if is_word else "the value"
                raise RepoError(
                    f"template {name} holds {what} on line {number} of the plaintext {source}; "
                    "nothing written (a templates folder never holds secrets: check the manifest's "
                    "templates:)"
                )
    return kept


# --- what is written, as its readers decode it ---------------------------------------------------


def spellings(value: bytes) -> tuple[bytes, ...]:
    """``value`` and its base64 spellings, standard and URL-safe: of each of its three alignments,
    the encoding of its whole 3-byte groups, which reads the same wherever the value sits in what was
    encoded. Pass 24b (13.6): a Kubernetes Secret in the templates folder (`data: {API_TOKEN: …}`,
    as `kubectl get secret -o yaml` prints it) holding a `.env` value base64-encoded was committed
    and shown in the diff."""
    forms = [value]
    for start in range(3):
        whole = (len(value) - start) // 3 * 3
        if whole >= 6:  # 8 characters of base64 at least, as a value is 8 bytes at least
            encoded = base64.b64encode(value[start : start + whole])
            forms += [encoded, encoded.translate(URLSAFE)]
    return tuple(dict.fromkeys(forms))


class _Read(NamedTuple):
    """A text as the check reads it: its readings (words and values are looked for in each), for
    values each reading with its line breaks, indentation and comment leaders taken out too (base64
    wrapped at 64 or 76 columns), and for both each base64 run of each reading decoded. Pass 24e
    (13.6): a word of a value base64-encoded, a value base64-encoded twice (a Kubernetes
    `.dockerconfigjson` Secret: its `auth` is base64 of `user:password`, the whole JSON base64 again),
    base64 wrapped inside a JSON string (`\\n`) or in `# ` comment lines, were committed and shown."""

    readings: tuple[bytes, ...]
    wrapped: bytes
    decoded: bytes

    @classmethod
    def of(cls, text: bytes, folded: bool) -> _Read:
        read = readings(text, folded=False)
        # the readings for a passphrase are no base64's: neither unwrapped nor decoded
        wrapped = b"\n\0".join(filter(None, (unwrapped(one) for one in read)))
        decoded = (
            bytearray()
        )  # appended to, never a list of every run's bytes (300,000 runs in 5 MB)
        for one in read:
            for run in decoded_runs(one):
                decoded += run + b"\n\0"
        if folded:
            read = (*read, *blank_readings(text.decode("utf-8", "surrogateescape")))
        return cls(read, wrapped, bytes(decoded))

    def has(self, word: bytes) -> bool:
        return any(word in one for one in (*self.readings, self.decoded))

    def holds(self, value: bytes) -> bool:
        return any(
            form in one
            for form in spellings(value)
            for one in (*self.readings, self.wrapped, self.decoded)
        )


def _letters(word: bytes) -> int:
    """How many letters and digits ``word`` holds (8 full-width digits are 24 bytes)."""
    return len(word.decode("utf-8", "surrogateescape"))


# words sharing their first MIN_VALUE bytes past which each is searched for once per text
SHARED_HEAD = 8


def _head_index(words: Iterable[bytes]) -> dict[bytes, set[bytes]]:
    """The words by their first ``MIN_VALUE`` bytes."""
    by_head: dict[bytes, set[bytes]] = {}
    for word in words:
        by_head.setdefault(word[:MIN_VALUE], set()).add(word)
    return by_head


def _held_words(by_head: Mapping[bytes, set[bytes]], texts: list[bytes]) -> set[bytes]:
    """The words of ``by_head`` some text holds, in time linear in the texts: a word, a run of letters
    and digits, sits inside one of the text's runs, where it is looked up by its first ``MIN_VALUE``
    bytes (a 4 MB `.env` of random runs beside a 1 MB template took 48 s asking each word of each
    text). Pass 19c: words sharing those bytes were each compared at every offset holding them (1,000
    values `aaaaaaaa00001…` beside a 1 MB run of `a` took 114 s): past ``SHARED_HEAD`` words, each is
    searched for once in the whole text instead (C's search: about 1 ms a word per MB)."""
    held: set[bytes] = set()
    for text in texts:
        searched: set[bytes] = set()  # the heads whose words were searched for in all of this text
        for run in _RUN.findall(text):
            for at in range(len(run) - MIN_VALUE + 1):
                head = run[at : at + MIN_VALUE]
                group = by_head.get(head)
                if group is None or head in searched:
                    continue
                if len(group) > SHARED_HEAD:
                    searched.add(head)
                    held.update(v for v in group if v not in held and v in text)
                else:
                    held.update(v for v in group if run.startswith(v, at))
    return held


def _unknown_words(
    seen: list[Value],
    known: bytes,
    cleared: Collection[str],
    public: Public | None,
    let_through: set[bytes],
) -> list[Value]:
    """The words ``seen`` in what is written or in the templates' sources that are not public: not in
    ``known`` (the manifest, the shipped text, the names, the files' committed text), not ``cleared``
    by a saved plan, not held by the repo's committed files (``public``). The public ones are added
    to ``let_through``."""
    if not seen:
        return []
    unknown = []
    for word in seen:
        if word.value in known or digest(word.value) in cleared:
            let_through.add(word.value)
        else:
            unknown.append(word)
    held = public([w.value for w in unknown]) if public is not None and unknown else set()
    let_through |= held
    return [w for w in unknown if w.value not in held]


MESSAGE_CREDENTIAL = (
    "a credential (a known token at its issued length, a URL with a password, an HTTP Basic "
    "credential or a private key)"
)


def message_hits(
    plaintext: Iterable[Value], messages: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """(where, what) for each message of history that holds a credential by its shape, or one of the
    clone's ``plaintext`` values under a secret-looking name or shaped like a credential (a `.env`
    pasted into a commit message: drift read history's files only). ``what`` never quotes."""
    values = [
        v
        for v in plaintext
        if not v.word
        and (
            may_be_secret(v.name.decode("utf-8", "replace"))
            or carries_credential(v.value.decode("utf-8", "replace"))
        )
    ]
    hits = []
    for where, text in messages:
        if holds_full_token(text):
            hits.append((where, MESSAGE_CREDENTIAL))
            continue
        data = text.encode("utf-8", "replace")
        held = next((v for v in values if v.value in data), None)
        if held is not None:
            hits.append((where, f"the value on line {held.line} of the plaintext {held.source}"))
    return hits


SUBJECT_READ = 4096  # characters of a commit's subject looked at (drift shows its first 59)


def holds_a_value(plaintext: Iterable[Value]) -> Callable[[str], bool]:
    """Whether a text (a commit's subject drift names) holds one of the clone's ``plaintext`` values
    (their words aside: an ordinary word of a subject is no secret), looked up by their first
    ``MIN_VALUE`` bytes: linear in the text. Pass 22b: drift named the commits that added a plaintext
    env file by their subjects, hiding a `NAME=value` or credential-shaped one only, so `git commit
    -m "rotate db to orchid-lantern-9741"` (the file's `DB_PASSWORD`) or a first line `DB_PASSWORD:
    …` (compose's YAML-style binding) was printed in text, JSON and SARIF."""
    index = _head_index(v.value for v in plaintext if not v.word)

    def holds(text: str) -> bool:
        data = text[:SUBJECT_READ].encode("utf-8", "surrogateescape")
        return any(
            data.startswith(value, at)
            for at in range(len(data) - MIN_VALUE + 1)
            for value in index.get(data[at : at + MIN_VALUE], ())
        )

    return holds


def holds_a_private_key(text: bytes) -> bool:
    """Whether ``text`` holds an age private key or a PEM one (``render.AGE_KEY``) as written, or
    base64- or hex-encoded (``secretshape.decoded_runs``). Pass 24b (13.6): a Kubernetes Secret in the
    templates folder holding the team's `keys.txt` (`data: {age.agekey: …}`, as Flux's guide has it
    made with `kubectl create secret generic sops-age --from-file`) was shown in the plan's diff and
    committed to every repo. Pass 24e (13.6): as its readers decode it too (``readings``): a YAML or
    JSON string spelling it `AGE\\x2dSECRET…`, `\\u002d`, `%2D` or `&#45;` was shown and committed."""
    return any(
        AGE_KEY.search(one) or any(AGE_KEY.search(d) for d in decoded_runs(one, shortest=64))
        for one in readings(text, folded=False)
    )


def check_age_keys(files: Iterable[FileChange]) -> None:
    for f in files:
        if (
            f.after is not None
            and not f.secret
            and holds_a_private_key(f.after)
            and not holds_a_private_key(f.before or b"")
        ):
            raise RepoError(
                f"{f.path} would contain an age private key (AGE-SECRET-KEY-1…) or an SSH/PEM one "
                "(sops takes it as an age identity); nothing written "
                "(check the manifest's templates and vars)"
            )


def check_deletions(manifest: Manifest, repo: RepoSpec, files: Iterable[FileChange]) -> None:
    """The only file the tool ever removes from a branch is a tracked plaintext env file."""
    from juniper_rollout.changes import DELETE
    from juniper_rollout.planner import is_plaintext_env

    plaintext = is_plaintext_env(repo, manifest)
    for f in files:
        if f.action == DELETE and not plaintext(f.path):
            raise RepoError(
                f"the plan deletes {f.path}, which is not a plaintext env file; the tool never plans "
                "that (was the plan file edited? plan again)"
            )


# what sops writes into every dotenv file it encrypts, as written and in its age armor's header: a
# value that is one of these words (`DB_PASSWORD=unencrypted`) is found in any ciphertext
_SOPS_WORDS = (
    b"ENC[AES256_GCM,data:,iv:,tag:,type:str] sops_age__list_0__map_enc sops_age__list_0__map_recipient "
    b"sops_lastmodified sops_mac sops_unencrypted_suffix=_unencrypted sops_version "
    b"-----BEGIN AGE ENCRYPTED FILE----- -----END AGE ENCRYPTED FILE----- age-encryption.org/v1 -> X25519"
)


def check_sealed(
    manifest: Manifest,
    repo: RepoSpec,
    files: Iterable[FileChange],
    fleet: FleetValues | None = None,
) -> None:
    """RepoError when a file a saved plan marks as ciphertext holds a plaintext value or an age key in
    any spelling the check reads (its values only: sops' own words in it are no value's words).
    Pass 25b (13.6): a saved plan's `.env.enc` whose `ENC[…]` field (`data:`, `iv:`, `tag:`, the MAC's)
    held a `.env` value base64-encoded kept sops' shape, so `check_secret_writes` passed it, and
    :func:`check` reads no encrypted file: apply committed the value. sops' bytes are random: a value
    is found in them only when someone put it there."""
    sealed = [f for f in files if f.secret and f.after is not None]
    if not sealed:
        return
    if any(holds_a_private_key(f.after or b"") for f in sealed):
        raise RepoError(
            "a file the plan marks as encrypted holds an age private key (AGE-SECRET-KEY-1…) or an "
            "SSH/PEM one; nothing written (was the plan file edited? plan again)"
        )
    env = manifest.env_files if manifest is not None else envfiles.DEFAULT
    found = own_values(repo, env, fleet).values + [v for _, v in (fleet or FleetValues()).named]
    known = _manifest_text(manifest) + b"\n\0" + _SOPS_WORDS
    read = {f.path: _Read.of(f.after or b"", False) for f in sealed}
    for source, number, value, *_ in (v for v in found if not v.word and v.value not in known):
        for path, text in read.items():
            if text.holds(value):
                raise RepoError(
                    f"{path} would contain the value on line {number} of the plaintext {source}; "
                    "nothing written (was the plan file edited? plan again)"
                )


def check_secret_writes(repo: RepoSpec, files: Iterable[FileChange]) -> None:
    """A file a (saved) plan marks as ciphertext must carry sops metadata."""
    from juniper_rollout import sops
    from juniper_rollout.sopsmeta import plaintext_line

    for f in files:
        if f.secret and f.after is not None and sops.read_metadata(f.after) is None:
            raise RepoError(
                f"{f.path} is marked encrypted but has no sops metadata; nothing written (plan again)"
            )
        # pass 7: a (hand-edited) saved plan's ciphertext may carry a line sops did not write, and
        # encrypted files skip the plaintext-value check: the hook's own verdict refuses it
        line = plaintext_line(f.after) if f.secret and f.after is not None else None
        if line is not None:
            raise RepoError(
                f"{f.path}:{line} holds a value sops did not encrypt (or a line sops did not write); "
                "nothing written (was the plan file edited? plan again)"
            )


@functools.cache
def _shipped_text() -> bytes:
    """The templates shipped with the tool: public text, so a value found in it is no new leak (pass 12b:
    `SOPS_AGE_KEY_FILE=~/.config/sops/age/keys.txt` in a `.env`, a common sops setup, refused every
    repo: the shipped SOPS_USAGE_GUIDE names that path)."""
    from juniper_rollout.errors import RolloutError
    from juniper_rollout.fleetspec import default_templates_dir

    try:
        folder = default_templates_dir()
        return b"\n\0".join(p.read_bytes()[:1_000_000] for p in sorted(folder.glob("*.j2")))
    except (RolloutError, OSError):
        return b""


def _manifest_text(manifest: Manifest | None) -> bytes:
    if manifest is None:
        return b""
    try:
        return manifest.path.read_bytes()[:2_000_000]
    except OSError:
        return b""
