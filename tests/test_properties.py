"""Property tests: the tool's edits are idempotent, keep every byte outside the tool's part,
and removing the tool's part restores the original, whatever surrounds it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml as pyyaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from juniper_rollout.edits import blocks, gitignore, precommit
from juniper_rollout.yamlio import load_plain

HOOKS = load_plain(
    (Path(__file__).resolve().parent.parent / "templates" / "precommit-hooks.yaml.j2").read_text()
)
# how many examples, and whether derandomized, comes from the profile tests/conftest.py loads
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# lines a human might have in a .gitignore: comments, patterns, unicode, blanks, env rules
ignore_line = st.one_of(
    st.sampled_from(
        [
            "",
            "# comment",
            "*.pyc",
            ".env",
            ".env*",
            "!.env.example",
            "*.enc",
            "build/",
            "/.env.secrets",
            "# ünïcødé ✓",
            "   ",
            "\\#not-a-comment",
            ".env.local",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20).filter(
        lambda s: "juniper-rollout" not in s
    ),
)


@st.composite
def gitignore_text(draw):
    lines = draw(st.lists(ignore_line, max_size=12))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines)
    if lines and draw(st.booleans()):
        text += newline
    return text


def render_block(patterns):
    return "# managed\n" + "\n".join(patterns) + "\n"


@SETTINGS
@given(gitignore_text())
def test_gitignore_block_properties(original):
    result = gitignore.edit(original, render_block)
    assert gitignore.edit(result.text, render_block).text == result.text  # idempotent
    assert blocks.remove(result.text, blocks.GITIGNORE, path=".gitignore") == original  # removable
    if result.patterns:
        assert result.text.startswith(
            original.rstrip("\r\n") if not original.endswith("\n") else original
        )
        assert not gitignore.problems(result.text)  # the rules git needs hold
    else:
        assert result.text == original


yaml_comment = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30
).map(lambda s: "# " + s.replace("\n", " "))


@st.composite
def precommit_config(draw):
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    indent = draw(st.sampled_from([0, 2, 4]))
    dash = " " * indent + "-" + " " * draw(st.sampled_from([1, 3]))
    key = " " * (len(dash))
    lines = [c for c in draw(st.lists(yaml_comment, max_size=3))]
    lines.append("repos:")
    for i in range(draw(st.integers(0, 3))):
        lines += [f"{dash}repo: https://example.invalid/r{i}", f"{key}rev: v{i}.0.0"]
        if draw(st.booleans()):
            lines.append(f"{key}{draw(yaml_comment)}")
        lines += [f"{key}hooks:", f"{key}{dash}id: h{i}"]
    if draw(st.booleans()):
        lines += [
            f"{dash}repo: local",
            f"{key}hooks:",
            f"{key}{dash}id: mine",
            f"{key}{' ' * len(dash)}name: mine",
            f"{key}{' ' * len(dash)}entry: 'echo \"a: b\"'",
            f"{key}{' ' * len(dash)}language: system",
        ]
    lines += draw(st.lists(yaml_comment, max_size=2))
    if lines[-1] == "repos:" or all(
        not line.startswith((" ", "-")) for line in lines[lines.index("repos:") + 1 :]
    ):
        lines[lines.index("repos:")] = "repos: []"
    text = nl.join(lines)
    return text + (nl if draw(st.booleans()) else "")


def strip_added(new: str, original: str) -> str:
    """Remove the lines the tool added: what is left must be the original, byte for byte."""
    old_lines = original.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    out, i = [], 0
    for line in new_lines:
        if i < len(old_lines) and (
            line == old_lines[i] or line == old_lines[i] + ("\r\n" if "\r\n" in new else "\n")
        ):
            out.append(old_lines[i])
            i += 1
    return "".join(out)


@SETTINGS
@given(precommit_config())
def test_precommit_insertion_properties(original):
    new = precommit.add_hooks(original, HOOKS)
    assert precommit.add_hooks(new, HOOKS) == new  # idempotent
    if "repos: []" in original:
        return  # flow style: the hooks go inside the brackets, checked by the data comparison below
    assert strip_added(new, original) == original  # every original byte kept, only lines added
    data = precommit.load_data(new)
    old = precommit.load_data(original)
    assert [r for r in data["repos"] if r["repo"] != "local"] == [
        r for r in old["repos"] if r["repo"] != "local"
    ]


# --- new YAML the tool emits reads back, as pre-commit reads it, as the data it was made from --

emitted_scalar = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(
        ["yes", "on", "No", "~", "12:30", "?x", ":x", "- x", "0o7", "1e5", "null", "#x", "x #y"]
    ),
    st.integers(),
    st.booleans(),
    st.none(),
)
emitted_data = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.recursive(
        emitted_scalar,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4),
        ),
        max_leaves=12,
    ),
    min_size=1,
    max_size=4,
)


@SETTINGS
@given(emitted_data)
@example({"args": ["?0"]})  # ruamel writes [?0]: a mapping {0: null} when read back
@example({"args": [":0"]})  # ruamel writes [:0]: libyaml rejects it
@example(
    {"on": "yes", "at": ["12:30", "No"]}
)  # YAML 1.2 plain, YAML 1.1 (pre-commit) reads bools, 750
@example(
    {"0": "\x85", "1": ["a\u2028b"]}
)  # found by hypothesis: ruamel folds NEL/LS/PS inside quotes
def test_emitted_yaml_reads_back_as_pre_commit_reads_it(data):
    from juniper_rollout.yamlio import dump_block

    assert pyyaml.load(dump_block(data), Loader=pyyaml.CSafeLoader) == data


# --- libyaml's parser and PyYAML's pure one locate every node at the same place ----------------

yaml_scalar = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.integers(),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False),
)
yaml_data = st.recursive(
    yaml_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=4),
    ),
    max_leaves=12,
)


def dumped(data, flow: bool, nl: str, indent: int) -> str:
    import io

    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.default_flow_style = flow
    yaml.line_break = nl
    yaml.indent(mapping=indent, sequence=indent + 2, offset=indent)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


@st.composite
def yaml_documents(draw):
    if draw(st.booleans()):
        return draw(precommit_config())
    text = dumped(
        draw(yaml_data),
        draw(st.booleans()),
        draw(st.sampled_from(["\n", "\r\n"])),
        draw(st.sampled_from([2, 4])),
    )
    if draw(st.booleans()):
        text = draw(yaml_comment) + "\n" + text
    return text


def tree(node):
    if node is None:
        return None
    return (
        node.kind,
        node.start,
        node.end,
        node.line,
        node.column,
        node.flow,
        node.anchor,
        node.value,
        [tree(i) for i in node.items],
        [(tree(k), tree(v)) for k, v in node.pairs],
    )


def plain_question_mark_in_flow(text: str) -> bool:
    """Whether a plain scalar inside a flow collection holds a ``?`` (as libyaml reads ``text``)."""
    depth = 0
    for event in pyyaml.parse(text, Loader=pyyaml.CSafeLoader):
        kind = type(event).__name__
        if kind in ("MappingStartEvent", "SequenceStartEvent"):
            depth += 1 if (depth or event.flow_style) else 0
        elif kind in ("MappingEndEvent", "SequenceEndEvent"):
            depth -= 1 if depth else 0
        elif (
            kind == "ScalarEvent" and depth and not event.style and "?" in event.value
        ):  # plain: no style
            return True
    return False


def outcome(text: str, pure: bool):
    from juniper_rollout.edits.yamltree import parse_tree
    from juniper_rollout.yamlio import YamlSyntaxError

    try:
        return tree(parse_tree(text, pure=pure))
    except YamlSyntaxError:
        return "rejected"


@SETTINGS
@given(yaml_documents())
@example(
    "{0?: null}\n"
)  # found by hypothesis: libyaml keeps the ? in the key, the pure scanner fails
@example("[x?y, {k: a ?b}]\r\n")
@example("\ufeff{a?: b}\n")
@example(
    "{'0': ?0}\n"
)  # found by hypothesis: ruamel emits a plain ?0 / :0 in flow; neither parser takes it
@example("{:0: null}\n")
def test_libyaml_and_pure_parser_locate_nodes_alike(text):
    """Every document the generators make (ruamel dumps of any data, pre-commit configs): both
    parsers accept it and locate every node alike, or both reject it -- except where a flow
    collection holds a plain scalar with a ``?``: libyaml reads it, the pure scanner rejects it.
    (yamlio's docstring lists the differences; the generators make no tabs and no ``[a:]``, the
    other two.)"""
    fast = outcome(text, pure=False)
    if fast != "rejected" and plain_question_mark_in_flow(text):
        assert outcome(text, pure=True) == "rejected"
    else:
        assert outcome(text, pure=True) == fast


@pytest.mark.parametrize(
    ("text", "accepted_by"),
    [
        ("a:\tb\n", "libyaml"),
        ("{a: b\tc}\n", "libyaml"),
        ("[a\n?b]\n", "libyaml"),
        ("[a:]\n", "pure"),
        ("{a:[b]}\n", "pure"),
    ],
)
def test_the_parsers_differ_only_as_yamlio_says(text, accepted_by):
    """The other differences yamlio's docstring names; if PyYAML or libyaml changes, this says
    so."""
    from juniper_rollout.edits.yamltree import parse_tree
    from juniper_rollout.yamlio import YamlSyntaxError

    parse_tree(text, pure=accepted_by == "pure")
    with pytest.raises(YamlSyntaxError):
        parse_tree(text, pure=accepted_by != "pure")


def test_libyaml_and_pure_parser_agree_on_hand_written_corners():
    from juniper_rollout.edits.yamltree import parse_tree

    corners = [
        'a: é\nb: [x, yz]\nc: |\n  hi\n  there\n\nd: "q"\ne: &x {k: v}\nf: *x\n'
        "g: >-\n  folded\n  text\n# c\nh:\n- 1\n- - 2\n  - 3\n",
        "repos:\r\n  - repo: local\r\n    hooks:\r\n      - id: x\r\n        entry: 'a: b'\r\n",
        'k: "a\\\nb"\nsmile: \U0001f600\n',
        # a byte-order mark: libyaml's offsets skip it, yamlio shifts them back
        "\ufeffrepos: [a]\n",
        # a null value
        "repos:\n- repo: local\n  hooks:\n  - id: x\n    args:\n# a comment\nother: 1\n",
        "---\nrepos:\n- {repo: local, hooks: [{id: a}]}\n...\n",
    ]
    for text in corners:
        assert tree(parse_tree(text)) == tree(parse_tree(text, pure=True)), text


# --- the manifest's loader: libyaml composes, ruamel types and builds, as ruamel alone would -----


def loaded(load, text: str):
    """What ``load`` makes of ``text``: the data with every node's type and line, or the error."""
    from juniper_rollout.yamlio import YamlSyntaxError

    def shape(value):
        lc = getattr(value, "lc", None)
        where = None
        if lc is not None and isinstance(value, (dict, list)):
            where = (lc.line, lc.col, *((repr(k), tuple(v)) for k, v in (lc.data or {}).items()))
        if isinstance(value, dict):
            inner = [(shape(k), shape(v)) for k, v in value.items()]
        elif isinstance(value, list):
            inner = [shape(v) for v in value]
        else:
            inner = repr(value)
        return (type(value).__name__, where, inner)

    try:
        return shape(load(text))
    except YamlSyntaxError as err:
        return ("error", err.line, str(err))


@SETTINGS
@given(yaml_documents())
@example("a: {b?: c}\n")  # libyaml keeps the ? in the key, ruamel's scanner fails: ruamel reads it
@example("%YAML 1.1\n---\na: yes\n")  # 1.1 types: ruamel reads it
@example("a: !!str 12\nb: !custom x\n")
@example("a:\tb\n")
@example("a: 1\r\nb: [x, 2]\r\n")
@example("a: 1\na: 2\n")  # a duplicate key: ruamel's words and line
@example("a: [1, 2\n")
@example("a: 2024-02-30\n")  # an impossible date: ruamel's line for it
@example(
    "k: 0o17\nl: 0x1F\nm: 1_000\nn: .inf\no: ~\np: 2026-01-01\nq: 'yes'\nr: |\n  x\n  y\ns: >-\n  f\n  g\n"
)
def test_the_manifest_loader_reads_as_ruamel_reads(text):
    """Values, types, every node's line and column, or the error line and words: libyaml's composer
    with ruamel's resolver and constructor reads every document exactly as ruamel alone does."""
    from juniper_rollout.yamlio import load_roundtrip, load_with_lines

    assert loaded(load_with_lines, text) == loaded(load_roundtrip, text)


CORNERS = [
    "a: |+\n  x\n\n\nb: 1\n",
    "a: |-\n  x\n  y\nb: >2\n   indented\n  more\n",
    "a: plain\n  continued\n  lines\nb: 2\n",
    "# only a comment\n",
    "",
    "---\na: 1\n...\n",
    "? complex\n: value\n",
    "? [a, b]\n: value\n",
    "a: {x: 1,\n  y: 2}\n",
    "- - a\n  - b\n- c\n",
    "'quoted key': \"dq \\u00e9 \\x41 \\/ \"\n",
    "a: x # comment\nb: y#notcomment\n",
    "a: é\nb: \U0001f600 x\n",
    "a: {}\nb: []\nc: ''\n",
    "a: null\nb: Null\nc: ~\nd: True\nf: yes\ng: 0777\nh: 1:30\ni: 1e3\nj: .5\nk: -.inf\nl: 0b101\n",
    "<<: {a: 1}\nb: 2\n",
    "a: 2001-12-14t21:59:43.10-05:00\nb: 2001-12-14 21:59:43.10 -5\n",
    "a: \"multi\n  line dq\"\nb: 'multi\n\n  sq'\n",
    "a: b: c\n",
    "a:\n  b: 1\n c: 2\n",
    "a: 1\n---\nb: 2\n",
    "a: &anc 1\n",
    "a:\n  - b\n  -\n  - c\n",
    "a: b\n  # comment inside\n  c\n",
    "a: 1 #c\n#c2\nb:\n  #c3\n  c: 2\n",
    "a: {? b : c}\n",
    "[a, b]: c\n",
    "a: [b: c]\n",
    "a: `x`\n",
]


@pytest.mark.parametrize("text", CORNERS)
def test_the_manifest_loader_reads_corners_as_ruamel_reads(text):
    from juniper_rollout.yamlio import load_roundtrip, load_with_lines

    assert loaded(load_with_lines, text) == loaded(load_roundtrip, text)


def test_the_manifest_loader_composes_with_libyaml_where_alike():
    """The fast path is taken for the fleet manifest (else the property above proves nothing about it),
    and left for what ruamel may read otherwise."""
    from juniper_rollout.yamlio import _compose_fast

    manifest = (Path(__file__).resolve().parent.parent / "manifests" / "repos.yaml").read_text()
    assert _compose_fast(manifest) is not None
    for text in (
        "a: {b?: c}\n",
        "a: [x?y]\n",
        "%YAML 1.1\n---\na: yes\n",
        "a: !!str 12\n",
        "a: &x 1\nb: *x\n",
        "a: &x 1\n",
        "a:\n",
        "a:\tb\n",
        "a: 1\r\n",
        "\ufeffa: 1\n",
        "a: [1, 2\n",
    ):
        assert _compose_fast(text) is None, text
