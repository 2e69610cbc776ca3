"""The one place that reads YAML: ruamel.yaml, with positions, and no surprises.

Reading only. Files that humans own are never re-emitted through a round-trip
dump (it re-indents and re-quotes); the edits splice text and verify by parsing.

Parser events (where each node of a file humans own sits) come from PyYAML, the
parser pre-commit itself reads these files with, chosen the way pre-commit chooses:
libyaml's C parser where it is built (at a tenth of the cost), else PyYAML's own
pure parser. On every document both accept they yield the same events and marks
(tests/test_properties.py). They differ in what they accept, and pre-commit on the
same machine differs the same way, so the tool accepts what that pre-commit does:
  - ``?`` inside a plain scalar in a flow collection (``{a?: b}``, ``[x?y]``): libyaml
    keeps it in the scalar; the pure scanner ends the scalar there and fails;
  - a tab as separator (``a:<TAB>b``, ``{a: b<TAB>c}``): libyaml accepts, pure fails;
  - a plain scalar in a flow collection followed by ``:`` and a flow indicator
    (``[a:]``, ``{a:[b]}``): the pure parser reads a key, libyaml fails.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

import yaml as pyyaml  # comes with pre-commit
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

_PURE_LOADER = pyyaml.SafeLoader
_FAST_LOADER = getattr(
    pyyaml, "CSafeLoader", _PURE_LOADER
)  # the wheels for Linux and macOS carry libyaml

MAX_YAML_BYTES = 1_000_000
TOO_DEEP = "nested too deeply (no real file nests lists or mappings hundreds of levels deep)"


class YamlSyntaxError(ValueError):
    """A YAML document that cannot be read; carries a 1-based line."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        super().__init__(message)


def _first_line(err: Exception) -> int | None:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def _explain(err: Exception) -> str:
    if isinstance(err, (MarkedYAMLError, pyyaml.MarkedYAMLError)):
        text = err.problem or err.context or "invalid YAML"
    else:
        text = str(err).splitlines()[0] if str(err) else "invalid YAML"
    return " ".join(str(text).split())


def check_size(text: str) -> None:
    """A file larger than ``MAX_YAML_BYTES``, or nested deeper than ``MAX_DEPTH``, is refused before
    any pure-Python reader sees it."""
    if len(text.encode("utf-8", "surrogateescape")) > MAX_YAML_BYTES:
        raise YamlSyntaxError(None, f"file is larger than {MAX_YAML_BYTES // 1_000_000} MB")
    check_depth(text)


MAX_DEPTH = 200  # lists and mappings inside each other; ruamel's own readers stop near 250


def check_depth(text: str, *, block_too: bool = False) -> None:
    """TOO_DEEP, with its line, for lists or mappings nested past ``MAX_DEPTH``, found by libyaml's
    parser (C). ruamel's pure-Python scanner takes time growing with the square of the nesting to
    say so (measured: 2,000 nested `[` took 5 s, and libyaml refuses past 1,000 levels, which sent
    such a file to it): found here at once. Only a text with that many `[` or `{` can nest that
    deep in flow style; block nesting is read fast by every reader, but not by the tool's own walk
    of a pre-commit config's events (``block_too``: pass 24f, 600 levels of `- ` made plan and drift
    "unexpected RecursionError … run git fsck")."""
    if _FAST_LOADER is _PURE_LOADER or (
        not block_too and text.count("[") + text.count("{") <= MAX_DEPTH
    ):
        return
    deep, line, refused = _event_depth(text)
    if refused:
        # libyaml refused the text for another reason: said by the reader that follows, in ruamel's
        # words; but libyaml stopped there, so the nesting after it is counted here (pass 17:
        # `x: [a:]`, a text libyaml refuses and ruamel reads, sent 3,000 nested `[` after it to
        # ruamel's scanner: 4 s, no line)
        line = _bracket_depth_line(text)
        deep = line is not None
    if deep:
        raise YamlSyntaxError(line, TOO_DEEP)


def _deep_line(text: str) -> int | None:
    """The line where lists or mappings first nest past ``MAX_DEPTH``, by libyaml's events (C); None
    where it cannot say. For a text a pure-Python reader found too deep (block nesting, which the
    bracket count never sees: it was said without a line; pass 17's note)."""
    if _FAST_LOADER is _PURE_LOADER:
        return None
    return _event_depth(text)[1]


def _event_depth(text: str) -> tuple[bool, int | None, bool]:
    """(whether libyaml's events nest past ``MAX_DEPTH``, or libyaml stopped at its own nesting
    limit; the line where they do, when known; whether libyaml refused the text for another
    reason)."""
    depth = 0
    try:
        events: Iterable[Any] = pyyaml.parse(text, Loader=_FAST_LOADER)  # as they come
        for event in events:
            if isinstance(event, pyyaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return True, (mark.line + 1 if mark is not None else None), False
            elif isinstance(event, pyyaml.CollectionEndEvent):
                depth -= 1
    except pyyaml.YAMLError as err:
        if "maximum nesting depth" in str(err):
            return True, _first_line(err), False
        return False, None, True
    return False, None, False


def _bracket_depth_line(text: str, *, say_errors: bool = False) -> int | None:
    """The line where lists or mappings first nest past ``MAX_DEPTH`` as ruamel's own pure parser reads
    ``text`` (the reader that follows a libyaml error), or None: its events are walked only until then,
    so the nesting costs its scanner ``MAX_DEPTH`` levels at most, not the thousands it was given.

    Pass 19a: this was a count of brackets that skipped quoted texts, comments and block scalars as a
    pattern read them line by line; YAML reads `[x ' , [[[…]]] , 'q']` as a plain `x '` before the
    nested lists, and a quoted text may go on over lines (pass 18a's open item): the nesting after
    either was skipped, and ruamel's scanner took 5 s to say "too deep" with no line. The parser that
    reads the text after this cannot be told apart from it. ``say_errors``: its error is raised in
    ruamel's words and line (one pass for both, where the caller would parse again only to say it)."""
    from ruamel.yaml import events

    depth = 0
    try:
        for event in YAML(typ="safe", pure=True).parse(io.StringIO(text)):
            if isinstance(event, events.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    return mark.line + 1 if mark is not None else None
            elif isinstance(event, events.CollectionEndEvent):
                depth -= 1
    except YAMLError as err:
        if say_errors:
            raise YamlSyntaxError(_first_line(err), _explain(err)) from None
        return None  # said by the reader that follows, in its words
    except (RecursionError, *_VALUE_ERRORS):
        return None
    return None


# values a YAML file of a repo may hold once its aliases are expanded (a hand-written pre-commit config
# or .sops.yaml holds hundreds); pass 19b: eight levels of `&aN [*aN-1 × 10]` (a YAML bomb) in a
# contributor branch's .pre-commit-config.yaml took verify past 15 GB, and each pre-commit it ran 5 GB
MAX_EXPANDED = 100_000


def check_aliases(text: str, limit: int = MAX_EXPANDED) -> None:
    """YamlSyntaxError, at the line of the value that goes past it, when ``text`` holds more than
    ``limit`` values once its aliases are expanded: the count is kept per anchor from libyaml's events
    as they come, nothing expanded, nothing kept. Every text is counted, not only one holding an
    alias (pass 24c: a 5 MB pre-commit config of 60,000 hooks, no alias in it, was read by every
    reader first, 38 s and 900 MB (a 16 MB one: minutes and gigabytes), then refused as "its aliases
    (*name) expand to more than 100,000 values (a YAML bomb?)", a `*` of the tool's own hooks
    mistaken for an alias)."""
    try:
        _count_values(pyyaml.parse(text, Loader=_FAST_LOADER), limit)  # as they come
        return
    except pyyaml.YAMLError as err:
        if _FAST_LOADER is _PURE_LOADER or "maximum nesting depth" in str(err):
            return  # not YAML (or nested too deep: check_size's): the loader says so, in its words
    # pass 24f: a text libyaml refuses may be one ruamel's pure readers take (`x: [a:]` on its first
    # line): the count stopped there, and a YAML bomb after it, in a `.sops.yaml`, took drift, plan
    # and verify past 120 s and 2 to 9 GB. Counted on the events of the reader that follows, then.
    try:
        _count_values(YAML(typ="safe", pure=True).parse(io.StringIO(text)), limit)
    except YamlSyntaxError:
        raise  # the count's own (a ValueError too)
    except (YAMLError, RecursionError, *_VALUE_ERRORS):
        return  # said by the reader that follows, in its words


def _count_values(events: Iterable[Any], limit: int) -> None:
    """:func:`check_aliases`'s count over a parser's events (libyaml's or ruamel's: the same kinds),
    walked no deeper than ``MAX_DEPTH`` (deeper is check_size's to say)."""
    sizes: dict[str, int] = {}
    open_nodes: list[list[Any]] = []  # [anchor, values so far] of each collection being read
    total = 0
    aliased = False
    for event in events:
        kind = type(event).__name__
        if kind in ("SequenceStartEvent", "MappingStartEvent"):
            open_nodes.append([event.anchor, 1])
            if len(open_nodes) > MAX_DEPTH:
                return
            continue
        if kind in ("SequenceEndEvent", "MappingEndEvent"):
            anchor, size = open_nodes.pop()
        elif kind == "ScalarEvent":
            anchor, size = event.anchor, 1
        elif kind == "AliasEvent":
            anchor, size, aliased = None, sizes.get(event.anchor, 1), True
        else:
            continue
        if anchor:
            sizes[anchor] = size
        if open_nodes:
            open_nodes[-1][1] += size
            size = open_nodes[-1][1]
        else:
            total += size
            size = total
        if size > limit:
            raise YamlSyntaxError(
                event.start_mark.line + 1,
                f"its aliases (*name) expand to more than {limit:,} values (a YAML bomb?): "
                "write the repeated values out"
                if aliased
                else f"it holds more than {limit:,} values (lists, mappings and scalars "
                "together), far more than a file of its kind holds: is it the file the tool "
                "manages?",
            )


def first_alias_line(text: str) -> int | None:
    """The line of the first alias (``*name``), or None. Aliases are how YAML bombs expand."""
    if "*" not in text:
        return None
    for event in parse_events(text):
        if type(event).__name__ == "AliasEvent":
            return event.start_mark.line + 1
    return None


def load_roundtrip(text: str) -> Any:
    """Load with ruamel's round-trip loader, so every node knows its line (``.lc``)."""
    check_size(text)
    check_aliases(text)
    return _roundtrip(text)


def _roundtrip(text: str) -> Any:
    """:func:`load_roundtrip` for a text ``check_size`` passed already (its nesting walk, after a
    libyaml error, is a pass of ruamel's parser over the text: done once, pass 19a)."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text)
    except YAMLError as err:
        raise YamlSyntaxError(_first_line(err), _explain(err)) from None
    except RecursionError:
        raise YamlSyntaxError(_deep_line(text), TOO_DEEP) from None
    except _VALUE_ERRORS as err:  # a tag or a plain scalar that is not what it claims
        raise _unreadable_value(text, "rt", err) from None


def load_with_lines(text: str) -> Any:
    """What :func:`load_roundtrip` returns (ruamel's round-trip data, every node knowing its line),
    composed by libyaml (C) instead of ruamel's pure-Python scanner and parser, a fifth of the cost
    (the fleet manifest is read at the start of every command: ~80 ms for 100 repos, ~15 ms so).

    The nodes libyaml composes are typed by ruamel's own resolver (YAML 1.2, as ruamel reads the
    file: ``yes`` stays text) and built by ruamel's round-trip constructor, with libyaml's lines. Where
    the two parsers could read a text differently (``yamlio``'s docstring: tabs, a ``?`` in a plain
    scalar of a flow collection; also ``%`` directives, other line breaks, a byte-order mark, explicit
    tags, anchors, aliases, an empty value), and for every text libyaml or the constructor refuses,
    ruamel reads it as before: its values, and its words and line for every error."""
    check_size(text)
    node = _compose_fast(text)
    if node is not None:
        yaml = YAML(typ="rt")
        yaml.allow_duplicate_keys = False
        try:
            return yaml.constructor.construct_document(node)
        except (YAMLError, RecursionError, *_VALUE_ERRORS):
            pass  # said by ruamel itself, below
    return _roundtrip(text)


# what libyaml may read otherwise than ruamel, found before composing: tabs, line breaks other than
# \n (\r, and the YAML 1.1 ones 1.2 dropped), a byte-order mark, a directive (%YAML 1.1 changes the
# types), a tag, alias or anchor indicator where a node may start (ruamel keeps an anchored scalar in
# a type of its own); also matched, harmlessly, inside text
_NOT_ALIKE = re.compile(r"[\t\r\x85\u2028\u2029\ufeff]|^%|(?:^|[\s\[\]{},:?-])[!*&]", re.M)


class _Differs(Exception):
    """A node ruamel may read otherwise: the text is read by ruamel."""


def _compose_fast(text: str) -> Any:
    """ruamel nodes for ``text`` composed by libyaml, or None where ruamel reads it (see above)."""
    if _FAST_LOADER is _PURE_LOADER or _NOT_ALIKE.search(text):
        return None
    loader = _ruamel_typed_composer()(text)
    try:
        node = loader.get_single_node()
        return None if node is None else _ruamel_node(node, False, set())
    except RecursionError:
        # ruamel reads no deeper than libyaml's path does (measured: lists, flow and block mappings
        # nested 250 levels are too deep for ruamel, 500 for this path), and its scanner takes
        # seconds to say so on 2,000 nested `[`: said here at once, in ruamel's words
        raise YamlSyntaxError(_deep_line(text), TOO_DEEP) from None
    except (pyyaml.YAMLError, _Differs):
        return None
    finally:
        loader.dispose()


_COMPOSER: Any = None


def _ruamel_typed_composer() -> Any:
    """libyaml's composer (PyYAML's C loader), typing every untagged node with ruamel's resolver for
    YAML 1.2 (libyaml's composer asks ``self.resolve`` as ruamel's composer asks its resolver)."""
    global _COMPOSER
    if _COMPOSER is None:
        from ruamel.yaml import nodes
        from ruamel.yaml.resolver import VersionedResolver

        resolver = VersionedResolver(version=(1, 2))
        kinds = {
            pyyaml.ScalarNode: nodes.ScalarNode,
            pyyaml.SequenceNode: nodes.SequenceNode,
            pyyaml.MappingNode: nodes.MappingNode,
        }

        class Composer(_FAST_LOADER):  # type: ignore[misc,valid-type]
            def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
                return str(resolver.resolve(kinds[kind], value, implicit))

        _COMPOSER = Composer
    return _COMPOSER


_TAGS: dict[str, Any] = {}  # tag -> ruamel's Tag, made once (each costs a URI decoding)


def _ruamel_node(node: Any, in_flow: bool, seen: set[int]) -> Any:
    from ruamel.yaml import nodes
    from ruamel.yaml.tag import Tag

    if (
        id(node) in seen
    ):  # an alias: ruamel shares the object (never met: aliases are matched above)
        raise _Differs
    seen.add(id(node))
    tag = _TAGS.get(node.tag)
    if tag is None:
        if not node.tag.startswith("tag:yaml.org,2002:"):
            raise _Differs
        tag = _TAGS[node.tag] = Tag(suffix=node.tag)
    if isinstance(node, pyyaml.ScalarNode):
        style = node.style or None  # libyaml: '' for plain, ruamel: None
        if style is None and in_flow and "?" in node.value:
            raise _Differs  # libyaml keeps it in the scalar, ruamel's scanner fails
        if style is None and not node.value:
            raise _Differs  # an empty value: libyaml places it after the `:`, ruamel at the next token
        return nodes.ScalarNode(tag, node.value, node.start_mark, node.end_mark, style=style)
    flow = in_flow or bool(node.flow_style)
    if isinstance(node, pyyaml.SequenceNode):
        return nodes.SequenceNode(
            tag,
            [_ruamel_node(item, flow, seen) for item in node.value],
            node.start_mark,
            node.end_mark,
            flow_style=node.flow_style,
        )
    return nodes.MappingNode(
        tag,
        [(_ruamel_node(k, flow, seen), _ruamel_node(v, flow, seen)) for k, v in node.value],
        node.start_mark,
        node.end_mark,
        flow_style=node.flow_style,
    )


def leaves(*nodes: Any) -> Iterator[Any]:
    """The scalars in plain data (what :func:`load_plain` or ``json.loads`` returns), depth first,
    without recursion: every value below the dicts and lists of ``nodes``."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack += node.values()
        elif isinstance(node, list):
            stack += node
        else:
            yield node


def load_plain(text: str) -> Any:
    """Load to plain Python data (dicts, lists, scalars), as pre-commit itself would see it."""
    check_size(text)
    check_aliases(text)
    try:
        return YAML(typ="safe", pure=True).load(text)
    except YAMLError as err:
        raise YamlSyntaxError(_first_line(err), _explain(err)) from None
    except RecursionError:
        raise YamlSyntaxError(_deep_line(text), TOO_DEEP) from None
    except _VALUE_ERRORS as err:
        raise _unreadable_value(text, "safe", err) from None


def load_all_any_tags(text: str) -> list[Any]:
    """Every document of ``text`` as plain data, by libyaml where built; a tag YAML does not know
    (compose's `!reset`, `!override`) read as the node under it. Aliases are shared, not copied: a
    reader walking the result keeps a set of the nodes it has seen. YamlSyntaxError when unreadable."""
    check_size(text)
    try:
        return list(pyyaml.load_all(text, Loader=_AnyTagLoader))  # noqa: S506 (a safe loader)
    except pyyaml.YAMLError as err:
        raise YamlSyntaxError(_first_line(err), _explain(err)) from None
    except RecursionError:
        raise YamlSyntaxError(_deep_line(text), TOO_DEEP) from None
    except _VALUE_ERRORS as err:
        raise YamlSyntaxError(None, str(err)[:80]) from None


class _AnyTagLoader(_FAST_LOADER):  # type: ignore[misc,valid-type]
    """The safe loader, reading a node of an unknown tag as untagged."""


def _untagged(loader: Any, node: Any) -> Any:
    if isinstance(node, pyyaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, pyyaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_AnyTagLoader.add_constructor(None, _untagged)


# what constructing a scalar raises: `2024-02-30` (a date), `!!int abc`, `!!bool maybe`, 5,000 digits
_VALUE_ERRORS = (ValueError, KeyError, TypeError, OverflowError)


def _unreadable_value(text: str, typ: str, err: Exception) -> YamlSyntaxError:
    """The line of the first scalar YAML cannot turn into its type, found by composing the text (no
    values built) and building its scalars one by one."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    what = f"a value YAML cannot read as its type ({str(err)[:80]}): quote it, without a `!!` tag, to keep it as text"
    try:
        yaml = YAML(typ=typ, pure=True)
        stack = [yaml.compose(text)]
    except (YAMLError, RecursionError):
        return YamlSyntaxError(None, what)
    while stack:
        node = stack.pop()
        if isinstance(node, ScalarNode):
            try:
                yaml.constructor.construct_object(node, deep=True)
            except _VALUE_ERRORS:
                return YamlSyntaxError(node.start_mark.line + 1, what)
        elif isinstance(node, MappingNode):
            stack += [x for pair in reversed(node.value) for x in reversed(pair)]
        elif isinstance(node, SequenceNode):
            stack += list(reversed(node.value))
    return YamlSyntaxError(None, what)


def parse_events(text: str, *, pure: bool = False) -> list[Any]:
    """PyYAML's parser events of ``text``, each with ``start_mark``/``end_mark`` (character
    offsets).

    ``pure``: PyYAML's pure-Python parser (the one taken where libyaml is not built).
    """
    loader = _PURE_LOADER if pure else _FAST_LOADER
    try:
        events = list(pyyaml.parse(text, Loader=loader))
    except pyyaml.YAMLError as err:
        if "maximum nesting depth" in str(err):  # ruamel's scanner would take seconds to say so
            raise YamlSyntaxError(_first_line(err), TOO_DEEP) from None
        # pass 17: libyaml stopped before a deep nesting ruamel's scanner would take seconds over
        # (the manifest's alias check reads it here first: 5.8 s for `x: [a:]` and 3,000 nested `[`)
        line = _bracket_depth_line(text, say_errors=True)  # in ruamel's words, as every YAML error
        if line is not None:
            raise YamlSyntaxError(line, TOO_DEEP) from None
        raise YamlSyntaxError(_first_line(err), _explain(err)) from None
    if loader is not _PURE_LOADER and text.startswith("\ufeff"):
        _count_the_bom(events)
    return events


def _count_the_bom(events: list[Any]) -> None:
    """libyaml's offsets skip a leading byte-order mark (its lines and columns do not count it
    either way): shift them onto the text's own character offsets."""
    for event in events:
        for attr in ("start_mark", "end_mark"):
            mark = getattr(event, attr)
            setattr(
                event, attr, pyyaml.Mark(mark.name, mark.index + 1, mark.line, mark.column, None, 0)
            )


_DUMPED: dict[
    str, str
] = {}  # repr(plain data) -> its YAML; the same hooks are emitted into every repo


def dump_flow(data: Any) -> str:
    """``data`` on one line in flow style (``{id: x, files: [a, b]}``), as ruamel's round-trip dumper writes it."""
    yaml = YAML(typ="rt")
    yaml.default_flow_style = True
    yaml.width = 1 << 20
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue().strip()


def dump_block(data: Any) -> str:
    """Emit new YAML (never a human's file): block mappings, flow lists, no line wrapping."""
    key = repr(data)
    text = _DUMPED.get(key)
    if text is None:
        text = _dump_block(data)
        if len(_DUMPED) < 256:
            _DUMPED[key] = text
    return text


def _dump_block(data: Any) -> str:
    text = _dumped(data, flow_lists=True)
    # ruamel writes a string such as "?x" or ":x" plain inside a flow list, which reads back as a
    # mapping (or not at all): then every list is written in block style, which reads back true
    if _reads_back(text) != data:
        text = _dumped(data, flow_lists=False)
    return text


def _reads_back(text: str) -> Any:
    try:
        return pyyaml.load(text, Loader=_FAST_LOADER)  # as pre-commit reads it
    except pyyaml.YAMLError:
        return _UNREADABLE


_UNREADABLE = object()


def _dumped(data: Any, *, flow_lists: bool) -> str:
    yaml = YAML(typ="rt")
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(_styled(data, flow_lists), out)
    return out.getvalue()


_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = pyyaml.resolver.Resolver()  # the implicit types of PyYAML's SafeLoader (YAML 1.1)


def _styled(value: Any, flow_lists: bool) -> Any:
    if isinstance(value, str):
        # ruamel writes YAML 1.2, pre-commit reads YAML 1.1 (PyYAML): a string that 1.1 reads as
        # something else when plain (yes, on, No, 12:30) is quoted
        if any(c in value for c in "\x85\u2028\u2029"):  # line breaks ruamel folds unescaped
            return DoubleQuotedScalarString(value)
        if _RESOLVER.resolve(pyyaml.ScalarNode, value, (True, False)) != _STR_TAG:
            return SingleQuotedScalarString(value)
        return value
    if isinstance(value, dict):
        styled = CommentedMap(
            (_styled(k, flow_lists), _styled(v, flow_lists)) for k, v in value.items()
        )
        styled.fa.set_block_style()
        return styled
    if isinstance(value, list):
        seq = CommentedSeq(_styled(v, flow_lists) for v in value)
        if flow_lists and all(not isinstance(v, (dict, list)) for v in value):
            seq.fa.set_flow_style()
        return seq
    return value
