"""The one sandboxed Jinja environment: templates -> text, strictly.

Undefined variables are errors (StrictUndefined) and templates run in Jinja's
sandbox, so a template cannot reach Python internals.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import operator
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    nodes,
)
from jinja2.compiler import CodeGenerator
from jinja2.loaders import split_template_path
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment, SandboxedFormatter, SecurityError

from juniper_rollout import envdialects, sopsmeta
from juniper_rollout.envfiles import DEFAULT as DEFAULT_ENV_FILES
from juniper_rollout.envfiles import EnvFiles
from juniper_rollout.errors import ManifestError
from juniper_rollout.fleetspec import FileSpec, Manifest, RepoSpec, guide_location
from juniper_rollout.paths import MAX_FILE_BYTES
from juniper_rollout.secretshape import (
    decoded_runs,
    readings,
    rendered_credentials,
    template_credential,
)
from juniper_rollout.wording import shell_word

SOPS_PATH_REGEX = DEFAULT_ENV_FILES.sops_path_regex()  # the default; a manifest may define its own
AGE_KEY = re.compile(
    rb"AGE-SECRET-KEY-1[0-9A-Z]{50,}"  # an age private key, in any bytes
    # or a PEM private key with its body: sops 3.11 takes an OpenSSH ed25519/RSA key as an age
    # identity (~/.ssh/id_ed25519, SOPS_AGE_SSH_PRIVATE_KEY_FILE), so it is key material too
    rb"|-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n:,. -]{64,}",
    re.IGNORECASE,
)
GITIGNORE_BLOCK_TEMPLATE = "gitignore-block.j2"
PRECOMMIT_HOOKS_TEMPLATE = "precommit-hooks.yaml.j2"
PRECOMMIT_CONFIG_TEMPLATE = "pre-commit-config.yaml.j2"
AGENTS_SECTION_TEMPLATE = "agents-section.md.j2"


MAX_TEMPLATE_BYTES = 1_000_000


def _env_named(name: str, env_files: EnvFiles = DEFAULT_ENV_FILES) -> bool:
    """Named like a plaintext env file (by the default definition or ``env_files``), in any letter
    case: on macOS's and Windows' file systems `.ENV` or `Prod.Env` opens `.env` / `prod.env` itself
    (pass 13b: `{% include '.ENV' %}` passed the name check and rendered the templates folder's `.env`)."""
    return any(
        d.is_plaintext(name) or d.is_plaintext(name.lower()) for d in (DEFAULT_ENV_FILES, env_files)
    )


# pass 16b: well-known files that hold passwords in no shape a scan can tell (`.netrc`'s `password X`,
# `.pgpass`'s last field, docker's base64 `auth`, `aws_secret_access_key`): refused by name, as `.env` is
_CREDENTIAL_NAMES = {
    ".netrc",
    "_netrc",
    ".pgpass",
    ".git-credentials",
    ".npmrc",
    ".pypirc",
    ".my.cnf",
    ".boto",
    ".s3cfg",
    ".dockercfg",
}
_CREDENTIAL_PATHS = {
    (".aws", "credentials"),
    (".docker", "config.json"),
    ("gh", "hosts.yml"),
    (".kube", "config"),
}


def _credential_file(parts: list[str]) -> bool:
    names = [p.lower() for p in parts if p]
    return bool(names) and (
        names[-1] in _CREDENTIAL_NAMES or tuple(names[-2:]) in _CREDENTIAL_PATHS
    )


def _hidden(parts: list[str]) -> str | None:
    """The first hidden file or folder name (``.vault-token``, ``.cargo``) among ``parts``, or None."""
    return next((p for p in parts if p.startswith(".") and p not in (".", "..")), None)


def _holds_credential_folders(root: str) -> str | None:
    """The user's home or config folder when ``root`` is it or a folder above it, else None: its
    files are every tool's credentials, most under hidden names, some not (`~/.config/gcloud/…`)."""
    home = os.path.expanduser("~")
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    for place in (home, config):
        if not os.path.isabs(place):
            continue
        real = os.path.realpath(place)
        if real == root or real.startswith(root.rstrip(os.sep) + os.sep):
            return real
    return None


class ConfinedLoader(FileSystemLoader):
    """Templates from inside the templates folder only: no ``..``, no symlink leading out of it,
    regular files only (a FIFO would hang), never a file holding an age private key."""

    def __init__(self, root: Path, env_files: EnvFiles = DEFAULT_ENV_FILES) -> None:
        super().__init__(str(root))
        self.root = os.path.realpath(root)
        # pass 26b (13.6): the manifest's own definition of a plaintext env file too (its
        # `plaintext_env.include`: `*.env.local`), not the default's alone: a templates folder's
        # `deploy.env.local`, a plaintext env file by the manifest's word, was rendered and its values
        # shown in the plan's diff (the leak guard reads the target clone's env files, not this folder's)
        self.env_files = env_files
        self.loaded: dict[
            str, bytes
        ] = {}  # name -> source of every template read: leakguard checks them

    def get_source(self, environment, template: str):
        if "\0" in template:  # os.path would raise ValueError: no file has such a name
            raise SecurityError(f"{template!r} is not a file name (it holds a NUL byte)")
        pieces = split_template_path(template)  # TemplateNotFound for '..'
        if pieces and _env_named(pieces[-1], self.env_files):  # the one definition (envfiles.py)
            raise SecurityError(
                f"{template} is named like a plaintext env file; it cannot be a template"
            )
        path = os.path.join(self.root, *pieces)
        real = os.path.realpath(path)
        if not real.startswith(self.root + os.sep):
            raise SecurityError(
                f"{template} leads outside the templates folder {self.root} (templates come from "
                "inside it only)"
            )
        inside = os.path.relpath(real, self.root).split(os.sep)
        if any(p.lower().rstrip(". ") in (".git", "git~1") for p in [*pieces, *inside]):
            raise SecurityError(  # pass 16b: a clone's .git/config (a CI checkout's auth header)
                f"{template} is inside a .git folder (git's own files: its config may hold "
                "credentials); it cannot be a template"
            )
        if _env_named(os.path.basename(real), self.env_files):  # a symlink to one, inside
            raise SecurityError(
                f"{template} leads to {os.path.basename(real)}, named like a plaintext env file; "
                "it cannot be a template"
            )
        try:
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise TemplateNotFound(template) from None
        except OSError as err:
            raise SecurityError(f"cannot read {template}: {err.strerror}") from None
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            raise SecurityError(f"{template} is not a regular file")
        if info.st_nlink > 1 and self.root != _shipped_root():
            os.close(fd)
            # a name in the templates folder for a file that is also another (a .env, ~/.netrc, a
            # credentials file of no known shape): rendered under a harmless name (passes 11b, 17)
            where = shell_word(real)
            raise SecurityError(
                f"{template} is one file under {info.st_nlink} names (hard links): a template is a "
                f"file of its own; make it one with `cp -p {where} {where}.copy && mv {where}.copy "
                f"{where}`, then check what it holds"
            )
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_TEMPLATE_BYTES + 1)
        if len(data) > MAX_TEMPLATE_BYTES:
            raise SecurityError(f"{template} is larger than {MAX_TEMPLATE_BYTES // 1_000_000} MB")
        if AGE_KEY.search(data):
            raise SecurityError(
                f"{template} holds an age private key (or an SSH/PEM one); it cannot be a template"
            )
        if data and not info.st_size:  # /proc/self/environ & co: generated, not a file anyone wrote
            raise SecurityError(
                f"{template} is not a file on disk (a /proc or /sys entry?); it cannot be a template"
            )
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SecurityError(f"{template} is not UTF-8 text") from None
        # pass 24b: base64-encoded too (a Kubernetes Secret's `data:`, an ArgoCD repository secret
        # holding a token): every check of the text passed it, and the plan printed it in its diff
        # pass 24e: and as its readers decode it (`ghp\x5f…`, `%5F`, `&#95;` in a YAML or JSON string)
        if any(  # ~/.git-credentials, gh's hosts.yml, a .netrc…
            template_credential(text.decode("utf-8", "replace"))
            for one in readings(data, folded=False)
            for text in (one, *decoded_runs(one))
        ):
            raise SecurityError(
                f"{template} holds a credential (a URL with a password, a known token shape or an "
                "HTTP Basic one); a templates "
                "folder never holds secrets: check the manifest's templates:"
            )
        if _credential_file(pieces) or _credential_file(inside):
            raise SecurityError(
                f"{template} is named like a credentials file (.netrc, .pgpass, .aws/credentials, "
                ".docker/config.json, …); it cannot be a template"
            )
        # pass 19b: the name list above is open-ended (`.vault-token`, `.cargo/credentials.toml`, podman's
        # `.config/containers/auth.json`, gcloud's application_default_credentials.json, `.m2/settings.xml`,
        # … rendered with `templates:` a home): tools keep their state and credentials under hidden names,
        # and a templates folder that is a home or config folder (or above one) holds them all
        hidden = _hidden(pieces) or _hidden(inside)
        if hidden is not None:
            raise SecurityError(
                f"{template} is under the hidden name {hidden} (where programs keep their state and "
                "credentials); it cannot be a template: rename it without the leading dot (the file "
                "it renders can still be named so)"
            )
        above = _holds_credential_folders(self.root)
        if above is not None:
            raise SecurityError(
                f"the templates folder {self.root} holds {above} (your programs' settings and "
                "credentials); templates come from a folder of their own: check the manifest's templates:"
            )
        mtime = info.st_mtime
        self.loaded[template] = data
        return source, real, lambda: os.path.isfile(real) and os.path.getmtime(real) == mtime


@functools.cache
def _shipped_root() -> str | None:
    """The shipped templates' folder: an installer may hard-link them from its cache (uv does)."""
    from juniper_rollout.errors import RolloutError
    from juniper_rollout.fleetspec import default_templates_dir

    try:
        return os.path.realpath(default_templates_dir())
    except RolloutError:
        return None


MAX_OUTPUT = (
    5_000_000  # characters one template may render (the largest shipped one renders ~5,000)
)
MAX_ITERATIONS = 1_000_000  # range() steps in one rendering, all loops together
MAX_NUMBER = 1_000_000  # the largest count a filter or operator may be asked to repeat or pad by
# one rendering's CPU time (a shipped template renders in milliseconds); the rendering thread's own, so
# a machine slowed by other work never stops an ordinary template (pass 14a: it was wall-clock time)
MAX_SECONDS = 30.0
# items `|sum(start=[])` may copy (it copies its partial sum at each step)
MAX_SUM_COPIES = 100_000_000


class TooBig(SecurityError):
    """A template asked for more time or memory than any real file needs."""


MAX_BITS = (
    1 << 16
)  # an integer a template may compute (~19,700 digits; Python prints 4,300 at most)
# pass 13a: one step that multiplies what it is given (the output can be |self| x |args|)
_AMPLIFIERS = frozenset(
    {"replace", "join", "indent", "format", "format_map", "translate", "expandtabs"}
)


def _weight(value: Any, limit: int = MAX_OUTPUT) -> int:
    """The characters and items in ``value`` (strings and containers walked, shared parts each time
    they are reached), counted until past ``limit``: what rendering it could cost."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += len(item)
            if total <= limit:
                flat = _flat_weight(item)
                if flat is None:
                    stack.extend(item)
                else:
                    total += flat
        elif isinstance(item, dict):
            total += len(item)
            if total <= limit:
                stack.extend(item.keys())
                stack.extend(item.values())
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3 + 1  # about its decimal digits, never converted
        elif isinstance(item, _Counted):  # range(): its steps, never iterated
            total += len(item)
        else:
            total += 1
    return total


_SCALARS = frozenset({bool, float, type(None)})


def _flat_weight(items: Any) -> int | None:
    """What :func:`_weight` counts for the members of ``items`` when all are strings, all integers or
    all other scalars, summed at C speed (``map``); None otherwise (walked one by one). A list of
    2,000,000 numbers doubled in a loop was walked item by item at each step: 4 s to refuse it."""
    kinds = set(map(type, items))
    if kinds <= {str}:
        return sum(map(len, items))
    if kinds <= {int}:
        return sum(map(operator.floordiv, map(int.bit_length, items), repeat(3))) + len(items)
    if kinds <= _SCALARS:
        return len(items)
    return None


def _check_weight(value: Any, what: str) -> Any:
    """``value`` when a template may hold it; TooBig when it holds more than any file renders (pass 13a:
    ``s ~ s``, ``l + l``, ``l.extend(l)`` doubled past memory, 12-23 GB, one step at a time)."""
    if _weight(value) > MAX_OUTPUT:
        raise TooBig(f"{what} of more than {MAX_OUTPUT:,} characters or items")
    return value


def _check_product(name: str, receiver: Any, args: tuple, kwargs: Mapping[str, Any]) -> None:
    """TooBig when one amplifying step (``s|replace('', t)``, ``l|join(t)``, ``s|indent(w)``,
    ``'{0}{0}'.format(t)``) could render more than ``MAX_OUTPUT``: its output is bounded by the
    product of what it is given."""
    if name in _AMPLIFIERS:  # a count (indent's width, expandtabs' size) multiplies by its value
        given = sum(
            abs(x) if isinstance(x, int) and not isinstance(x, bool) else _weight(x)
            for x in (*args, *kwargs.values())
        )
        if (_weight(receiver) + 1) * (given + 1) > MAX_OUTPUT:
            raise TooBig(f"a {name} that could make more than {MAX_OUTPUT:,} characters")


# characters Python's textwrap may copy in one `wordwrap` (about a second): it copies a word longer
# than the width once per line it cuts from it, so its time grows with the square of that word
MAX_WRAP_COPIES = 10**11


def _check_wrap(name: str, text: Any, args: tuple, kwargs: Mapping[str, Any]) -> None:
    """TooBig when ``text|wordwrap(width)`` would cut a long word into lines for more than a second or
    so (pass 25c: `('a' * 1000000)|wordwrap(1)`, two megabytes of output, ran 34 s in one call, past
    :data:`MAX_SECONDS`, which is checked between steps). A word kept whole (``break_long_words``
    false) costs nothing more."""
    if name != "wordwrap" or not isinstance(text, str):
        return
    width = kwargs.get("width", args[0] if args else 79)
    cut = kwargs.get("break_long_words", args[1] if len(args) > 1 else True)
    if not isinstance(width, int) or isinstance(width, bool) or width < 1 or not cut:
        return  # textwrap refuses a width under 1 itself
    longest = max(map(len, text.split()), default=0)
    if longest * longest // width > MAX_WRAP_COPIES:
        raise TooBig(f"a wordwrap of a word of {longest:,} characters into lines of {width:,}")


# Python's punycode codec (and idna's, which runs it before it checks a label's length) takes time
# growing with the square of the text, both ways: encoding 10,000 different CJK characters took
# 22 s, 20,000 74 s; decoding a million `b` took minutes, 400,000 `9` (one number of 400,000
# digits) 16 s
_SLOW_CODECS = frozenset({"punycode", "idna"})
MAX_SLOW_CODEC = 1_000  # characters such an encoding may take (about 0.3 s)


def _check_codec(name: str, text: Any, args: tuple, kwargs: Mapping[str, Any]) -> None:
    """TooBig when ``text.encode('punycode')`` or ``data.decode('punycode')`` (or ``'idna'``) is asked
    of more than :data:`MAX_SLOW_CODEC` characters or bytes (pass 25c: one call ran past
    :data:`MAX_SECONDS`, which is checked between steps; pass 25f: decoding too)."""
    if (
        not (
            (name == "encode" and isinstance(text, str))
            or (name == "decode" and isinstance(text, (bytes, bytearray)))
        )
        or len(text) <= MAX_SLOW_CODEC
    ):
        return
    encoding = kwargs.get("encoding", args[0] if args else "utf-8")
    try:
        codec = codecs.lookup(encoding).name
    except (LookupError, TypeError):
        return  # the call itself says so
    if codec in _SLOW_CODECS:
        raise TooBig(
            f"{codec} {'en' if name == 'encode' else 'de'}coding of {len(text):,} "
            f"{'characters' if name == 'encode' else 'bytes'} (at most {MAX_SLOW_CODEC:,})"
        )


# character comparisons one search or strip may make (about a second): Python searches a text
# backwards by trying the whole needle at each place (no two-way search as forwards), and strips by
# scanning the set of characters for each character it strips: time grows with text x needle
MAX_SEARCH_STEPS = 10**10
_BACKWARDS = frozenset({"rfind", "rindex", "rsplit", "rpartition", "strip", "lstrip", "rstrip"})


def _check_search(name: str, text: Any, args: tuple, kwargs: Mapping[str, Any]) -> None:
    """TooBig when a backward search or a strip (Jinja's ``trim`` filter too) of ``text`` by a long
    needle or set could take more than a second or so (pass 25f: `('a' * 1600000).rfind('a' *
    400000 ~ 'b' ~ 'a' * 400000)` ran past 150 s in one call, a `strip` of 2.4 M characters by as
    many 117 s, past :data:`MAX_SECONDS`, which is checked between steps)."""
    if (name not in _BACKWARDS and name != "trim") or not isinstance(text, (str, bytes, bytearray)):
        return
    needle = kwargs.get("sep", kwargs.get("chars", args[0] if args else None))
    if not isinstance(needle, (str, bytes, bytearray)):
        return
    if len(text) * len(needle) > MAX_SEARCH_STEPS:
        raise TooBig(
            f"a {name} of {len(text):,} characters by {len(needle):,} (at most "
            f"{MAX_SEARCH_STEPS:,} comparisons)"
        )


def _check_bits(operator: str, left: Any, right: Any) -> None:
    """TooBig when ``left OP right`` on integers would exceed ``MAX_BITS`` (pass 13a: ``**`` was bounded
    by its exponent only, and ``(((2**64)**64)**64)**64`` took 24 s, one level more 2.6 GB and more)."""
    if not all(isinstance(x, int) and not isinstance(x, bool) for x in (left, right)):
        return
    if operator == "*":
        bits = abs(left).bit_length() + abs(right).bit_length()
    elif operator == "**" and right > 0:
        bits = abs(left).bit_length() * right
    else:
        return
    if bits > MAX_BITS:
        raise TooBig(f"a number of about {bits:,} bits (at most {MAX_BITS:,})")


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with ``a ~ b`` routed through the environment's size check (the sandbox
    intercepts operators and calls, never ``~``)."""

    def visit_Concat(self, node, frame) -> None:  # noqa: N802 (jinja's name)
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write(f"environment.bounded_concat({func_name}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_For(self, node, frame) -> None:  # noqa: N802 (jinja's name)
        """Every ``{% for %}`` step counted (pass 14a: only ``range()`` was, and two loops over a list of
        2,000,000 items ran for hours)."""
        original = node.iter
        node.iter = nodes.Call(
            nodes.EnvironmentAttribute("stepped"), [original], [], None, None, lineno=node.lineno
        )
        try:
            super().visit_For(node, frame)
        finally:
            node.iter = original


_budget = threading.local()


def _tick() -> None:
    """One more step of the rendering: TooBig past ``MAX_ITERATIONS`` steps or ``MAX_SECONDS``."""
    _budget.left = getattr(_budget, "left", MAX_ITERATIONS) - 1
    if _budget.left < 0:
        raise TooBig(f"more than {MAX_ITERATIONS:,} loop steps")
    _check_time()


def _check_time() -> None:
    deadline = getattr(_budget, "deadline", None)
    if deadline is not None and time.thread_time() > deadline:
        raise TooBig(f"more than {MAX_SECONDS:g} s of rendering")


class _Stepped:
    """An iterable whose every step counts against the rendering's budget (its length kept)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __len__(self) -> int:
        return len(self.inner)

    def __iter__(self):
        for item in self.inner:
            _tick()
            yield item


class _Weighed(_Stepped):
    """A lazy iterable (a generator, ``map``, ``range()``) a filter or method is about to consume: what it
    yields is weighed as it comes (pass 14a: ``range(1500)|join('y'*1000000)`` built 1.5 GB before the
    result was weighed; ``range(10**6)|map('center', 10**6)|join`` asked for a terabyte)."""

    def __iter__(self):
        total = 0
        for item in self.inner:
            total += 1 + _weight(item)
            if total > MAX_OUTPUT:
                raise TooBig(f"a sequence of more than {MAX_OUTPUT:,} characters or items")
            _check_time()
            yield item


def _lazy(value: Any) -> bool:
    """A generator or iterator (``map``, ``select``…): what it holds is known once read. ``range()`` is
    weighed without reading it (``range(10**6)|length`` stays a count)."""
    return isinstance(value, Iterator) and not isinstance(value, _Weighed)


def _weighed(values: tuple) -> tuple:
    """``values`` with each lazy one read into a list, weighed as it is read: then a filter's or method's
    product check (``join``'s separator x items) sees what it is given."""
    return tuple(list(_Weighed(v)) if _lazy(v) else v for v in values)


def _check_sum(args: tuple, kwargs: Mapping[str, Any]) -> tuple:
    """``|sum`` over lists or tuples copies its partial sum at each step: TooBig when that copies more
    than ``MAX_SUM_COPIES`` items (pass 14a: ``([[1]]*1600000)|sum(start=[])`` ran for hours)."""
    start = kwargs.get("start", args[3] if len(args) > 3 else 0)
    if isinstance(start, (int, float)) or len(args) < 2:
        return args
    items = list(args[1])  # (read and weighed already when it was lazy)
    partial = copies = _weight(start)
    for item in items:
        partial += _weight(item)
        copies += partial
        if copies > MAX_SUM_COPIES:
            raise TooBig(f"a sum that copies more than {MAX_SUM_COPIES:,} items")
    return (args[0], items, *args[2:])


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox, with time and memory bounded: ``'x' * 10**10``, ``range(10**9)``,
    ``'x'|center(10**10)`` and loops nested to billions of steps stop with one line."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _BoundedCodeGenerator

    @staticmethod
    def stepped(iterable: Any) -> Any:
        """What a ``{% for %}`` loops over, each step counted (``range()`` counts its own)."""
        return iterable if isinstance(iterable, _Counted) else _Stepped(iterable)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.pop("lipsum", None)
        self.globals["range"] = _counted_range
        self.filters = {name: _bounded(f, name) for name, f in self.filters.items()}
        self.filters["format"] = _width_checked(self.filters["format"])

    def wrap_str_format(self, value: Any):
        wrapped = super().wrap_str_format(
            value
        )  # 'x{:>10000000000}'.format(1): the width is in the text
        if wrapped is None:
            return None
        return _width_checked(
            wrapped, value.__self__, _SpecWidths(self), map_=value.__name__ == "format_map"
        )

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        _check_time()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, (str, bytes, list, tuple))
                    and isinstance(times, int)
                    and _weight(seq) * times > MAX_OUTPUT  # pass 13a: [s] * 1000, s of 5 M
                ):
                    raise TooBig(
                        f"a repetition of {_weight(seq) * times:,} items (at most {MAX_OUTPUT:,})"
                    )
        _check_bits(operator, left, right)
        if operator == "+" and _weight((left, right)) > MAX_OUTPUT:
            raise TooBig(f"a sum of more than {MAX_OUTPUT:,} characters or items")
        if operator == "%" and isinstance(left, str):
            _check_widths(left)  # '%10000000000s' % 'x'
            if "*" in left:  # '%*d' % (10**10, 1): the width is an argument
                _check_counts(right if isinstance(right, tuple) else (right,), {}, "a format")
            _check_product("format", left, (right,), {})  # '%s%s…' % t
        if operator == "**" and isinstance(right, (int, float)) and right > 64:
            raise TooBig(f"a power of {right} (at most 64)")
        return _check_weight(super().call_binop(context, operator, left, right), "a result")

    def call(__self, __context, __obj, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (jinja's signature)
        _check_counts(args, kwargs, "a call")  # 'x'.ljust(10**10), 'x'.zfill(10**10)…
        _check_time()
        receiver = getattr(__obj, "__self__", None)
        if isinstance(__obj, LoopContext) and args:  # loop(children) in a recursive loop: steps too
            args = (__self.stepped(args[0]), *args[1:])
        elif receiver is not None and not isinstance(receiver, type):
            args = _weighed(args)  # ','.join(gen), l.extend(gen): read and weighed first
        _check_product(getattr(__obj, "__name__", ""), receiver, args, kwargs)
        _check_codec(getattr(__obj, "__name__", ""), receiver, args, kwargs)
        _check_search(getattr(__obj, "__name__", ""), receiver, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if receiver is not None and not isinstance(receiver, type):  # l.extend(l): grown in place
            _check_weight(receiver, "a value")
        return _check_weight(result, "a result")

    def bounded_concat(self, join, items: tuple) -> Any:
        """``a ~ b ~ …``, refused before joining when the parts hold more than ``MAX_OUTPUT``."""
        _check_weight(items, "a joined text")
        return join(items)


def _counted_range(*args: int):
    steps = range(*args)
    if len(steps) > MAX_ITERATIONS:
        raise TooBig(f"range() of {len(steps):,} steps (at most {MAX_ITERATIONS:,})")
    return _Counted(steps)


class _Counted:
    def __init__(self, steps: range) -> None:
        self.steps = steps

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        for step in self.steps:
            _tick()
            yield step


def _check_counts(args: tuple, kwargs: Mapping[str, Any], what: str) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER:
            raise TooBig(f"{what} argument of {value:,} (at most {MAX_NUMBER:,})")


_FORMAT_FIELD = re.compile(r"%[^a-zA-Z%]*|\{[^{}]*\}")  # a printf-style spec, or a str.format field
_NESTED_FIELD = re.compile(r"\{[^{}]*\{")


def _check_widths(text: str) -> None:
    """TooBig if a format spec in ``text`` asks for a width or precision above ``MAX_NUMBER``."""
    for field in _FORMAT_FIELD.findall(text):
        spec = field.partition(":")[2] if field.startswith("{") else field
        for digits in re.findall(r"\d+", spec):
            if len(digits) > 7 or int(digits) > MAX_NUMBER:
                raise TooBig(f"a format width of {int(digits):,} (at most {MAX_NUMBER:,})")


class _SpecWidths(SandboxedFormatter):
    """Resolves a ``str.format`` text's nested fields (through the sandbox's own field lookup) and
    checks each resolved spec's width, formatting nothing. Pass 15: ``'{0:{1}{1}}'.format('x', 99999)``
    and ``'{0:{1}}'.format('x', '9999999999')`` asked for a width of ten billion from arguments each
    under the bound, and were weighed only after the text was built (a MemoryError, or gigabytes)."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._depth: list[int] = []

    def _vformat(self, format_string: str, args: Any, kwargs: Any, *rest: Any, **more: Any) -> Any:
        self._depth.append(0)  # string.Formatter resolves a nested spec by calling itself again
        try:
            return super()._vformat(format_string, args, kwargs, *rest, **more)
        finally:
            self._depth.pop()

    def format_field(self, value: Any, format_spec: str) -> str:
        _check_widths("{:" + format_spec + "}")
        if len(self._depth) > 1:  # a field inside a spec: its text makes the spec
            return super().format_field(value, format_spec)
        return ""  # a field of the text itself: only its width was asked about


def _width_checked(
    function, text: str | None = None, specs: _SpecWidths | None = None, map_: bool = False
):
    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        fmt = text if text is not None else (args[0] if args else None)
        if text is not None:  # '{0}{0}…'.format(t): a method on the text (pass 13a)
            _check_product("format", text, args, kwargs)
        if isinstance(fmt, str):
            _check_widths(fmt)
            if "*" in fmt or _NESTED_FIELD.search(
                fmt
            ):  # a width given as an argument: '{:>{w}}', '%*d'
                for mapping in (
                    a for a in args if isinstance(a, dict)
                ):  # format_map({'w': 10**10})
                    _check_counts((), mapping, "a format")
                _check_counts(args[1:] if text is None else args, kwargs, "a format")
        if specs is not None and text is not None and _NESTED_FIELD.search(text):
            try:  # the widths as the arguments make them (pass 15)
                if map_ and len(args) == 1 and not kwargs:
                    specs.vformat(text, (), args[0])
                elif not map_:
                    specs.vformat(text, args, kwargs)
            except (LookupError, ValueError, TypeError):
                pass  # a field the arguments lack: the call itself says so
        return function(*args, **kwargs)

    return checked


def _bounded(filter_function, name: str = ""):
    @functools.wraps(filter_function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        _check_counts(args, kwargs, "a filter")
        _check_time()
        args = _weighed(args)
        if name == "sum":
            args = _check_sum(args, kwargs)
        given = [a for a in args if isinstance(a, (str, bytes, list, tuple, dict, int, _Counted))]
        if given:  # (an eval context or environment comes first for some filters)
            _check_product(name, given[0], tuple(given[1:]), kwargs)
            _check_wrap(name, given[0], tuple(args[args.index(given[0]) + 1 :]), kwargs)
            _check_search(name, given[0], tuple(args[args.index(given[0]) + 1 :]), kwargs)
        return _check_weight(filter_function(*args, **kwargs), "a result")

    return checked


@lru_cache(maxsize=8)
def environment(templates: Path, env_files: EnvFiles = DEFAULT_ENV_FILES) -> SandboxedEnvironment:
    """One environment per templates folder (and definition of a plaintext env file): templates
    compile once per run, not per repo."""
    return BoundedSandbox(
        loader=ConfinedLoader(templates, env_files),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def loaded_templates(
    templates: Path, env_files: EnvFiles = DEFAULT_ENV_FILES
) -> list[tuple[str, bytes]]:
    """(name, source) of every template read from ``templates`` in this process (those a run renders, and
    what they include): all a template can bring into its output, besides the manifest's own text."""
    loader = environment(templates, env_files).loader
    return list(loader.loaded.items()) if isinstance(loader, ConfinedLoader) else []


MAX_RUN_OUTPUT = 100_000_000  # characters all renderings of one run may produce (a fleet: ~1 MB)
_run = {"total": 0}
_run_lock = threading.Lock()


def reset_run_budget() -> None:
    """A new run (a manifest loaded): its renderings start from nothing."""
    with _run_lock:
        _run["total"] = 0


def _render_bounded(template, context: Mapping[str, Any]) -> str:
    _budget.left = MAX_ITERATIONS
    _budget.deadline = time.thread_time() + MAX_SECONDS
    out: list[str] = []
    size = encoded = 0
    for piece in template.generate(**context):
        size += len(piece)
        if size > MAX_OUTPUT:
            raise TooBig(f"more than {MAX_OUTPUT:,} characters of output")
        encoded += len(piece.encode("utf-8", "surrogatepass"))
        if (
            encoded > MAX_FILE_BYTES
        ):  # 5 M characters of emoji are 20 MB: more than the tool reads back
            raise TooBig(
                f"more than {MAX_FILE_BYTES >> 20} MB of output in UTF-8 (the tool reads files up to that)"
            )
        out.append(piece)
    with _run_lock:  # one template is bounded; so is a manifest naming it 30,000 times
        _run["total"] += size
        total = _run["total"]
    if total > MAX_RUN_OUTPUT:
        raise TooBig(
            f"more than {MAX_RUN_OUTPUT:,} characters rendered in this run, all files together "
            "(the manifest asks for more than any fleet needs)"
        )
    return "".join(out)


_facts: dict[int, tuple[Manifest, tuple[tuple[str, str] | None, tuple[str, ...]]]] = {}
_facts_lock = threading.Lock()


def _fleet_facts(manifest: Manifest) -> tuple[tuple[str, str] | None, tuple[str, ...]]:
    """(where the usage guide is rendered, every repo's name) of ``manifest``, worked out once per
    manifest, not once per repo: per repo, 50,000 repos took minutes (quadratic)."""
    with _facts_lock:
        entry = _facts.get(id(manifest))
        if entry is None or entry[0] is not manifest:
            if len(_facts) > 16:  # a run loads one or two manifests; tests load many
                _facts.clear()
            entry = (manifest, (guide_location(manifest), tuple(r.name for r in manifest.repos)))
            _facts[id(manifest)] = entry
        return entry[1]


def base_context(manifest: Manifest, repo: RepoSpec) -> dict[str, Any]:
    return {
        "repo": {"name": repo.name, "base": repo.base, "branch": repo.branch, "url": repo.url},
        "recipients": list(manifest.recipients),
        "sops_path_regex": manifest.env_files.sops_path_regex(),
        "sops_metadata_regex": sopsmeta.PATTERN,
        "sops_values_regex": sopsmeta.VALUES_PATTERN,
        "plaintext_env": {
            "include": list(manifest.env_files.include),
            "exclude": list(manifest.env_files.exclude),
            "files_regex": manifest.env_files.hook_files_regex(),
            "exclude_regex": manifest.env_files.hook_exclude_regex(),
        },
        "usage_guide": usage_guide(manifest, repo),
        "fleet": _fleet_facts(manifest)[1],  # a tuple: one template cannot change another's
        "encrypt": [{"source": e.source, "target": e.target} for e in repo.encrypt if e.enabled],
    }


def usage_guide(manifest: Manifest, repo: RepoSpec) -> str | None:
    """Where the guide is, as seen from ``repo``: the manifest's own words, else where `files:` renders it."""
    if manifest.usage_guide:
        return manifest.usage_guide
    found = _fleet_facts(manifest)[0]
    if found is None:
        return None
    host, path = found
    return path if host == repo.name else f"{host}/{path}"


def render(
    manifest: Manifest, name: str, context: Mapping[str, Any], *, line: int | None = None
) -> str:
    """Render template ``name``; every failure is a ManifestError at the manifest line that asked for it."""
    with template_errors(manifest, name, line):
        text = _render_bounded(
            environment(manifest.templates, manifest.env_files).get_template(name), context
        )
        # pass 26e (13.6): and what it renders (a token its text holds in pieces, `{{ "gh" ~ "p_…" }}`
        # or `["ghp_…", "…"]|join`, was shown in the plan's diff); a token, not a URL's password
        # (the manifest's `vars:` may give a CI template its throwaway service URL, pass 25h), and
        # not one the context gives it: the manifest's own texts are refused by the manifest's check
        # pass 26h: as its readers decode it (escaped, base64), not as written only
        if any(not _given(token, context) for token in rendered_credentials(text)):
            raise SecurityError(
                f"{name} renders a token (a known token at its issued length) its text holds in "
                "pieces or escaped; a templates folder never holds secrets: check the manifest's templates:"
            )
        return text


def _given(token: str, context: Mapping[str, Any]) -> bool:
    """True when a string of the template's context holds ``token`` (as its readers decode it): the
    manifest's own `vars:` passing a token through is the manifest check's to refuse. The context is
    read only once a rendered text holds a token (most never do)."""
    return any(
        token in one.decode("utf-8", "replace")
        for s in _strings(context)
        for one in readings(s, folded=False)
    )


def _strings(value: Any, depth: int = 0) -> list[str]:
    """The strings a template context holds (its mappings' keys and values, its lists' items)."""
    if isinstance(value, str):
        return [value]
    if depth > 20:
        return []
    if isinstance(value, Mapping):
        return [s for k, v in value.items() for x in (k, v) for s in _strings(x, depth + 1)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [s for x in value for s in _strings(x, depth + 1)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # an env_example group
        fields = dataclasses.fields(value)
        return [s for f in fields for s in _strings(getattr(value, f.name), depth + 1)]
    return []


def compile_template(manifest: Manifest, name: str, *, line: int | None = None) -> None:
    """Load and compile template ``name`` (no rendering), its failures told as :func:`render` tells them."""
    with template_errors(manifest, name, line):
        environment(manifest.templates, manifest.env_files).get_template(name)


@contextmanager
def template_errors(manifest: Manifest, name: str, line: int | None) -> Iterator[None]:
    """Jinja's failures with template ``name`` as one ManifestError at the manifest ``line``, on one
    line: a template whose name holds a line break (pass 26i: `a\\nb.j2`, included, was named as it
    is, `template a` / `b.j2:2 (through 'outer.j2') is not allowed to do that`, and listed so among
    the available ones) is said with it as ``\\x0a``."""
    try:
        with _template_errors(manifest, name, line):
            yield
    except ManifestError as err:
        if "\n" not in err.message:
            raise
        raise ManifestError(err.file, err.line, err.message.replace("\n", "\\x0a")) from None


@contextmanager
def _template_errors(manifest: Manifest, name: str, line: int | None) -> Iterator[None]:
    """:func:`template_errors`, before the line breaks of the names it quotes are shown."""
    where = str(manifest.path)
    try:
        yield
    except TemplateNotFound as err:
        available = ", ".join(_some_templates(manifest.templates)) or "none"
        missing = err.name if isinstance(err.name, str) else name
        includer = _template_at(manifest, err)
        through = f" (through {name!r})" if includer and includer[0] != name else ""
        if not isinstance(err.name, str) and includer:
            # pass 26c: `{% include [] %}` (or `none`): no name to say, but a template that asked
            what = f"template {includer[0]!r}{through} {_asking_verb(manifest, includer)} no template (an empty list or none)"
        elif missing == name:
            what = f"unknown template {name!r}"
        else:
            what = (
                f"template {(includer or (name, 0))[0]!r}{through} "
                f"{_asking_verb(manifest, includer, missing)} {missing!r}, which is not there"
            )
        raise ManifestError(
            where,
            line,
            f"{_unquoted(manifest, what)} (available in {manifest.templates}: {available})",
        ) from None
    except (TooBig, OverflowError, MemoryError, RecursionError) as err:
        # pass 24c: the template the bound was met in, as for any other failure: an included one's
        # `range(10**9)` (or a recursion through it) was said to be the including template's
        at = _template_at(manifest, err)
        place = f"{at[0]}:{at[1]} (through {name!r})" if at and at[0] != name else repr(name)
        said = str(err) if isinstance(err, TooBig) else type(err).__name__
        raise ManifestError(
            where, line, f"template {place} asks for too much: {said} (fix the template)"
        ) from None
    except SecurityError as err:
        # pass 26c: the template whose include was refused (a symlink leading out, a hidden name in
        # an included one was said to be the named template's)
        at = _template_at(manifest, err)
        place = f"{at[0]}:{at[1]} (through {name!r})" if at and at[0] != name else repr(name)
        raise ManifestError(
            where,
            line,
            f"template {place} is not allowed to do that: {_unquoted(manifest, str(err))}",
        ) from None
    except TemplateSyntaxError as err:
        message = _unquoted(manifest, err.message or "")
        # pass 19b: the template the error is in (an included one's line was said to be the includer's)
        inner = err.name if isinstance(err.name, str) and err.name else name
        through = f" (through {name!r})" if inner != name else ""
        raise ManifestError(
            where, line, f"template {inner}:{err.lineno}{through}: {message} (fix the template)"
        ) from None
    except TemplateError as err:
        message = _unquoted(manifest, " ".join(str(err).split()))
        at = _template_at(manifest, err)  # pass 19b: an included template's undefined name, where
        place = f"{at[0]}:{at[1]} (through {name!r})" if at and at[0] != name else repr(name)
        raise ManifestError(
            where,
            line,
            f"template {place}: {message} (define it under the file's `vars:` or fix the template)",
        ) from None
    except ManifestError:
        raise
    except (
        ArithmeticError,
        LookupError,
        TypeError,
        ValueError,
        AssertionError,
        AttributeError,
        RuntimeError,  # pass 18b: `cycler()` with no item (jinja2.utils raises it): a traceback
        # pass 18b: Python's compile() of the code Jinja generates (`{% macro m(a, a) %}`: "duplicate
        # argument"); its traceback printed the template's line at the generated code's line number
        SyntaxError,
    ) as err:
        # a Python error in the template's own expressions ({{ 1/0 }}, "a" + 1, range(1, 2, 0),
        # [1]|slice(0)): the user's template, so one line; where, and the kind, never the message
        # (it could repeat a value). Pass 16b: `{{ 1|xmlattr }}`, `1|dictsort`, `1|wordwrap`,
        # `[]|indent` raise AttributeError inside Jinja's filter: a traceback, whose frame of the
        # template printed its line (a template hard-linked to a `.env`: the password)
        at = _template_at(manifest, err)
        place = f"{at[0]}:{at[1]}" if at else repr(name)
        through = f" (through {name!r})" if at and at[0] != name else ""
        raise ManifestError(
            where,
            line,
            f"template {place}{through} fails: {type(err).__name__} (fix the template)",
        ) from None


# a line of a plaintext env file (`NAME=value`, `export NAME=value`): a template holding one may be such a
# file hard-linked into the templates folder, so the pieces of it Jinja's messages quote may be values
# pass 19b: as python-dotenv reads a binding, not only an identifier at a line's start: a one-line `.env`
# saved with a BOM (Notepad), a form feed, vertical tab or no-break space before the name, a quoted key
# (`'DB_PASSWORD'=…`), a name holding `:` `+` or other letters (`DB:PASSWORD=`, `ПАРОЛЬ=`): Jinja's
# "'PASSWORD' is undefined" was printed whole
_ASSIGNMENT = re.compile(r"(?m)^\ufeff?\s*(?:export[^\S\r\n]+)?(?:'[^'\r\n]+'|[^=#\s]+)[^\S\r\n]*=")
_QUOTED = re.compile(r"'([^'\n]*)'|\"([^\"\n]*)\"")


def _unquoted(manifest: Manifest, message: str) -> str:
    """``message`` with each quoted piece of a template's own text shown as '…' when a template read holds
    a `NAME=value` line (pass 16b: a template hard-linked to a `.env` whose password holds `{{` or `{%`
    failed with "expected token 'end of print statement', got 'PASSWORD'", "'PASSWORD' is undefined",
    "Encountered unknown tag 'PASSWORD'": the leak guard reads rendered bytes, and nothing rendered).
    The line number still says where; Jinja's own words ('end of print statement') are kept."""
    loaded = [source for _, source in loaded_templates(manifest.templates)]
    sources = [s for s in loaded if _ASSIGNMENT.search(s.decode("utf-8", "replace"))]
    quoted = [
        piece
        for match in _QUOTED.finditer(message)
        if (piece := (match[1] if match[1] is not None else match[2]).encode("utf-8", "replace"))
        and any(piece in source for source in loaded)
    ]
    if not quoted:
        return message
    # pass 21b (13.6): a template of another form (`password: X{{Y}}Z`, YAML, JSON, a config file)
    # holding a plaintext value, `{{` and all, had the value's piece printed ("'Y' is undefined"): a
    # piece a plaintext env file of the fleet holds is hidden, whatever the template's form
    texts = _plaintext_texts(manifest) if any(len(p) >= _HIDDEN_PIECE for p in quoted) else []
    secret = {
        p
        for p in quoted
        if any(p in source for source in sources)
        or (len(p) >= _HIDDEN_PIECE and any(p in text for text in texts))
    }

    def hide(match: re.Match[str]) -> str:
        piece = (match[1] if match[1] is not None else match[2]).encode("utf-8", "replace")
        return "'…'" if piece in secret else match[0]

    return _QUOTED.sub(hide, message)


_HIDDEN_PIECE = 4  # a shorter piece of a template's text (`'}'`, `'x'`) says nothing of a value
_PLAINTEXT_READ = 20_000  # folder entries looked at per clone, for an error message only
_INSTALLED = frozenset({"node_modules", ".venv", "venv", "site-packages", ".tox", ".nox", ".git"})


def _plaintext_texts(manifest: Manifest) -> list[bytes]:
    """The bytes of every plaintext env file of the manifest's clones, as the leak guard finds them
    (its `encrypt:` sources, `.env`, `.env.secrets`, and each file the manifest's or the default
    definition calls plaintext, in any letter case, at the top and in folders, a symlinked one
    read through): read only when a template fails, to keep its values out of Jinja's message."""
    definitions = tuple(dict.fromkeys((manifest.env_files, DEFAULT_ENV_FILES)))
    out: list[bytes] = []
    clones: dict[Path, set[str]] = {}  # every entry, as the leak guard reads them (pass 21b)
    for repo in (*manifest.repos, *manifest.guarded):
        clones.setdefault(repo.path, {".env", ".env.secrets"}).update(
            s.source for s in repo.encrypt
        )
    for path, wanted in clones.items():
        seen = 0
        # into folders reached through a symlink too (`conf -> /srv/secrets`, pass 22b), as the
        # leak guard reads them: a loop of links ends at the entry count
        for top, dirs, files in os.walk(path, followlinks=True):
            dirs[:] = sorted(d for d in dirs if d not in _INSTALLED)
            seen += len(dirs) + len(files)
            for name in files:
                rel = os.path.relpath(os.path.join(top, name), path).replace(os.sep, "/")
                if rel in wanted or any(d.is_plaintext_in_any_case(rel) for d in definitions):
                    data = _small_file(os.path.join(top, name))
                    if data:
                        out.append(data)
            if seen > _PLAINTEXT_READ:
                break
        out += _guard_only_texts(path, definitions)
    return out


_FOLDERS_READ = 20_000  # folders of a clone looked at for folder links and compose files
_ENTRIES_LISTED = 1_000_000  # entries of a clone listed while looking


def _guard_only_texts(root: Path, definitions: tuple[EnvFiles, ...]) -> list[bytes]:
    """What the leak guard reads besides the walk above (pass 22e): the files the clone's compose
    files name under `env_file:` (no plaintext name: `config/app.conf`), and the plaintext env files
    in a folder link the walk's ``_PLAINTEXT_READ`` entries did not reach (a folder of 20,000
    files before it): folders are counted here, not files."""
    composes: list[str] = []
    links: list[str] = []
    folders = entries = 0
    for top, dirs, files in os.walk(root):  # links are not followed: each is looked into below
        dirs[:] = sorted(d for d in dirs if d not in _INSTALLED)
        folders += len(dirs)
        entries += len(dirs) + len(files)
        rel = os.path.relpath(top, root)
        links += [
            os.path.normpath(os.path.join(rel, d))
            for d in dirs
            if os.path.islink(os.path.join(top, d))
        ]
        composes += [
            os.path.normpath(os.path.join(rel, f)).replace(os.sep, "/")
            for f in files
            if _COMPOSE_NAME.fullmatch(f)
        ]
        if folders > _FOLDERS_READ or entries > _ENTRIES_LISTED:
            break
    named = envdialects.compose_env_files(composes, lambda p: _small_file(os.path.join(root, p)))
    found = [_small_file(os.path.join(root, p)) for p in named[:1_000]]
    for link in links[:1_000]:
        for rel in env_files_under(
            root,
            os.path.join(root, link),
            lambda rel: any(d.is_plaintext_in_any_case(rel) for d in definitions),
            _INSTALLED,
        ):
            found.append(_small_file(os.path.join(root, rel)))
    return [data for data in found if data]


LINKED_WALKED = 1_000  # entries looked at inside each folder a symlink leads to


def env_files_under(
    root: os.PathLike[str] | str,
    folder: str,
    plaintext: Callable[[str], bool],
    skipped: Collection[str],
) -> list[str]:
    """The plaintext env files (by ``plaintext``, asked of each path relative to ``root``) in ``folder``,
    a folder a symlink of the clone leads to, as paths through the link: at most ``LINKED_WALKED``
    entries looked at, links inside not followed, folders named in ``skipped`` left out. The leak guard
    reads them (``leakguard.linked_folder_env_files``), and so does the error path above."""
    found, seen = [], 0
    for top, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in skipped)
        seen += len(dirs) + len(names)
        for name in sorted(names):
            rel = os.path.relpath(os.path.join(top, name), root).replace(os.sep, "/")
            if plaintext(rel):
                found.append(rel)
        if seen > LINKED_WALKED:
            break
    return found


# the names `envdialects.COMPOSE_FILES` matches, in any letter case
_COMPOSE_NAME = re.compile(r"(?:docker-)?compose.*\.y.*ml", re.IGNORECASE | re.DOTALL)


def _small_file(path: str) -> bytes | None:
    """A regular file's bytes (a symlink followed; a FIFO is never waited on), at most MAX_FILE_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        return os.read(fd, MAX_FILE_BYTES) if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except OSError:
        return None
    finally:
        os.close(fd)


def _some_templates(root: Path, shown: int = 20, looked: int = 5000) -> list[str]:
    """Up to ``shown`` template names under ``root`` (``.j2`` files first), looking at no more than
    ``looked`` entries: a ``templates:`` folder given as / or a home folder is never walked whole."""
    found: list[str] = []
    seen = 0
    for top, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            seen += 1
            found.append(os.path.relpath(os.path.join(top, name), root))
        if seen >= looked:
            break
    names = sorted(found, key=lambda n: (not n.endswith(".j2"), n))
    return names[:shown] + (["…"] if len(names) > shown or seen >= looked else [])


def _asking_verb(manifest: Manifest, at: tuple[str, int] | None, missing: str = "") -> str:
    """How the template line ``at`` asks for ``missing``: ``extends``, ``imports`` or ``includes``
    (pass 16b: a missing `{% extends %}` was said to be included). The tag naming ``missing`` decides
    when the line holds several (pass 20c: `{% extends 'b.j2' %}{% block a %}{% include 'x' %}` said
    the template "extends 'x'")."""
    if at is None:
        return "includes"
    try:
        text = (Path(manifest.templates) / at[0]).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "includes"
    # lines as Jinja counts them (`\r\n`, `\r`, `\n`; `str.splitlines` also splits at `\f`, U+2028, …),
    # and each tag with the lines it spans: `{% extends\n'../b' %}` is told on its first line, which
    # holds no whole tag (pass 21c: both said "includes")
    text = re.sub(r"\r\n?", "\n", text)
    tags = [(verb, rest) for verb, rest, lines in _loading_tags(text) if at[1] in lines]
    # the first tag naming ``missing`` (Jinja stops there: `{% import 'm' as m %}{% include 'm' %}`)
    named = [verb for verb, rest in tags if re.search(rf"(['\"]){re.escape(missing)}\1", rest)]
    verbs = named[:1] or [verb for verb, _ in tags]
    if len(set(verbs)) != 1:
        return "includes"
    return {"extends": "extends", "import": "imports", "from": "imports"}.get(verbs[0], "includes")


_LOADING_VERBS = frozenset({"extends", "import", "from", "include"})


def _loading_tags(text: str) -> Iterator[tuple[str, str, range]]:
    """(verb, the rest of the tag, the lines it spans) of each tag that loads a template in ``text``,
    as Jinja's own lexer reads the tags (linear, as it compiled the template): pass 21g, a tag's text
    inside a comment (`{# {% include 'x' %} #}`), a `{% raw %}` block or a string before the real
    `{% extends 'x' %}` was read as a tag by a regular expression, and the template "includes" it."""
    lexer = SandboxedEnvironment(keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    verb: str | None = None
    rest: list[str] = []
    first, opened = 0, False
    try:
        for line, kind, value in lexer.lex(text):
            if kind == "block_begin":
                opened, verb, rest, first = True, None, [], line
            elif opened and verb is None and kind == "name":
                verb = value if value in _LOADING_VERBS else ""
            elif kind == "block_end":
                if verb:
                    yield verb, "".join(rest), range(first, line + 1)
                opened, verb = False, None
            elif verb:
                rest.append(value)
    except TemplateSyntaxError:
        return


def _template_at(manifest: Manifest, err: BaseException) -> tuple[str, int] | None:
    """(name, line) of the innermost template in ``err``'s traceback (Jinja rewrites it to show them)."""
    root = os.path.realpath(manifest.templates) + os.sep
    found = None
    tb = err.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(root):
            found = (filename[len(root) :], tb.tb_lineno)
        tb = tb.tb_next
    return found


def render_file(
    manifest: Manifest, repo: RepoSpec, spec: FileSpec, extra: Mapping[str, Any] | None = None
) -> str:
    context = {**base_context(manifest, repo), **spec.context, **(extra or {})}
    return render(manifest, spec.template, context, line=spec.line)


def check_templates(manifest: Manifest) -> None:
    """Render every file of every repo once, so template errors stop the run before anything is read or written."""
    from juniper_rollout.artifacts import RepoFacts

    reset_run_budget()  # a manifest is loaded once per run: its renderings count from here
    for repo in manifest.repos:
        for spec in repo.files:  # facts as of an empty repo: templates must render for any repo
            render_file(manifest, repo, spec, RepoFacts(frozenset(), repo.base).template_context())
