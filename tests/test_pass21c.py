"""Pass 21c (issue 13 items 9-12 and the smaller ones, the second adversarial pass that decides the
issue): what still broke. Each test here fails without its fix, but those marked as the guard of a
fix (that it refuses no more than it must)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.helpers import rollout
from tests.test_adversary import run_cli

MB = 1 << 20


def import_versions(repo: Path, branch: str, versions: list[bytes], path: str = "big.enc") -> None:
    """``versions`` of ``path``, one commit each, on ``branch`` (from the clone's HEAD), written by
    `git fast-import` through a pipe: near-identical versions make a pack of a few hundred KB."""
    with subprocess.Popen(
        ["git", "-C", str(repo), "fast-import", "--quiet"], stdin=subprocess.PIPE
    ) as importer:
        assert importer.stdin is not None
        write = importer.stdin.write
        for number, data in enumerate(versions):
            write(
                f"commit refs/heads/{branch}\ncommitter a <a@example.com> {1_700_000_000 + number}"
                " +0000\ndata 2\nc\n".encode()
            )
            if number == 0:
                write(b"from HEAD^0\n")
            write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        importer.stdin.close()
    assert importer.returncode == 0


def one_mb_version(number: int) -> bytes:
    return f"version {number}\n".encode() + b"x" * 99 + (b"\n" + b"x" * 99) * (MB // 100)


def test_drift_over_a_history_of_many_large_enc_versions_is_one_line_in_bounded_memory(fleet):
    """Item 9's history scan and item 11's bound: drift read every version of every `*.enc` ever
    committed (each up to 1 MB) and held them all. 3,000 versions of a 1 MB `big.enc` differing by a
    line (a pack of 1 MB, made by anyone who can push a branch) held drift at 3 GB for over two
    minutes; more ran out of memory. Past `gitrepo.HISTORY_BYTES` it is one line for that repo."""
    repo = fleet.repo("juniper-ml")
    import_versions(repo, "big-history", [one_mb_version(n) for n in range(200)])
    result = run_cli(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--format", "json"
    )
    assert result.returncode == 1, (result.stdout[-2000:], result.stderr)
    audit = json.loads(result.stdout)["repos"][0]
    assert "history holds more than 128 MB" in audit["error"], audit
    assert "Traceback" not in result.stderr


def test_drift_reads_each_distinct_history_blob_once(fleet):
    """The guard of the fix above: the same two 1 MB blobs committed in turn 300 times are read (and
    held) once each, within the budget, so the plaintext `big.enc` is still found."""
    repo = fleet.repo("juniper-ml")
    first, second = one_mb_version(0), one_mb_version(1)
    import_versions(repo, "flip-flop", [first if n % 2 else second for n in range(300)])
    result = run_cli(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--format", "json"
    )
    audit = json.loads(result.stdout)["repos"][0]
    assert audit.get("error") is None, audit
    found = {f["path"]: f for f in audit["findings"]}
    assert found["big.enc"]["id"] == "enc-without-sops", found


def test_rotate_with_a_manifest_that_is_a_symlink_loop_is_one_line(tmp_path):
    """Item 11 (bad input, every command): `rollout rotate -m loop` resolved the symlink before
    reading it, and Python's RuntimeError ("Symlink loop") was "unexpected RuntimeError … please
    report this" and a crash log; every other command said the manifest cannot be read."""
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop.name)
    for args in (["--data-key"], ["--add", "age1" + "q" * 58]):
        result = run_cli("rotate", "--manifest", loop, *args)
        assert result.returncode == 1, result.stderr
        assert "cannot read manifest: Too many levels of symbolic links" in result.stderr
        assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("{% extends\n  '../base' %}\n", "template 'notes.j2' extends '../base', which"),
        ("{% import\n'../m' as m %}\n", "template 'notes.j2' imports '../m', which"),
        ("{% from\n'../m' import a %}\n", "template 'notes.j2' imports '../m', which"),
        ("a\x0c{% extends '../base' %}\n", "template 'notes.j2' extends '../base', which"),
        ("a\u2028{% extends '../base' %}\n", "template 'notes.j2' extends '../base', which"),
        (
            "{% import '../m' as m %}{% include '../m' %}\n",
            "template 'notes.j2' imports '../m', which",
        ),
    ],
    ids=["extends-two-lines", "import-two-lines", "from-two-lines", "form-feed", "u2028", "twice"],
)
def test_a_missing_template_is_named_with_its_tag_whatever_the_lines(tmp_path, template, said):
    """The smaller list's failing include: the verb was read from the one line Jinja names, split
    by `str.splitlines`. A tag written over two lines (`{% extends\\n'../base' %}`) is on no line
    whole, and `\\f` or U+2028 (line ends to Python, not to Jinja) moved the line: each said the
    template "includes" what it extends or imports; two tags naming the same missing template took
    neither verb."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", template)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert said in result.stderr, result.stderr


def test_a_saved_plans_error_is_printed_by_apply_on_one_line(fleet):
    """Item 11's hand-edited plan: `"error"` is printed by apply as the repo's outcome, and a newline
    in it printed a second line of the file's choosing (a forged `juniper-ml: created …` beside
    the failure; ESC and the other control characters were already shown as escapes)."""
    saved = fleet.root / "plan.json"
    made = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--out", saved)
    assert made.code == 0, made.stderr
    data = json.loads(saved.read_text())
    data["repos"][0]["error"] = "boom\njuniper-ml: created  chore/sops-age-rollout at 1234567"
    saved.write_text(json.dumps(data))
    result = rollout("apply", saved, "--manifest", fleet.manifest, "--yes")
    assert result.code == 1, (result.stdout, result.stderr)
    lines = (result.stdout + result.stderr).splitlines()
    assert not [line for line in lines if line.startswith("juniper-ml: created")], lines
    assert any("boom\\njuniper-ml: created" in line for line in lines), lines


@pytest.mark.parametrize(
    ("jobs", "said"),
    [
        ("abc", "'abc' is not a whole number"),
        ("1.5", "'1.5' is not a whole number"),
        ("0", "0 must be 1 or more"),
        ("-3", "-3 must be 1 or more"),
    ],
)
def test_a_bad_jobs_count_is_said_in_words(tmp_path, jobs, said):
    """The smaller list's wording: click said "'abc' is not a valid int range" and "0 is not in the
    range x>=1" for `--jobs`."""
    result = run_cli("plan", "--manifest", tmp_path / "repos.yaml", "--jobs", jobs)
    assert result.returncode == 1, result.stderr
    assert said in result.stderr, result.stderr
    assert "int range" not in result.stderr and "x>=" not in result.stderr
