"""Pass 18a (issue 13, items 1-4 and 10-12): attacks on the code merged in the 04:09-06:05 session.
Each test fails without its fix (checked by reverting the fix)."""

from __future__ import annotations

from juniper_rollout import appenv, leakguard
from juniper_rollout.manifest import load_manifest

# --- item 11: `${…}` growth bounded for a clone's env files together, not each file ---------------


def test_the_expansion_budget_is_shared_by_all_env_files_of_a_clone(fleet, monkeypatch):
    """The cap on `${…}` growth was per file, and the leak guard reads up to 1,000 env files of a
    clone (its folders' too), scanning each grown value for its pieces: 40 folders' `.env` of 75 KB
    (A of 60 KB, then 270 lines `Bn=${A}n`), 3 MB in all, held `rollout plan` 8 min at 1.3 GB.
    Measured here with the cap at 1 MB and three such files: 3 MB of grown values before, 1 MB now."""
    cap = 1 << 20
    monkeypatch.setattr(appenv, "MAX_EXPANDED_TOTAL", cap)
    repo = fleet.repo("juniper-data")
    a = b"x" * 60_000
    for i in range(3):
        (repo / f"svc{i}").mkdir()
        lines = [b"A=" + a] + [b"B%d=${A}%d" % (n, n) for n in range(40)]
        (repo / f"svc{i}" / ".env").write_bytes(b"\n".join(lines) + b"\n")
    spec = next(r for r in load_manifest(fleet.manifest).repos if r.name == "juniper-data")
    values = leakguard.plaintext_values(spec)
    grown = [v.value for v in values if len(v.value) > len(a)]  # `x…x` + n: the expanded ones
    assert grown, "an ordinary expansion still happens"
    assert sum(map(len, grown)) <= cap, sum(map(len, grown))
    # every file's own values are still read (only the growth is shared)
    assert {v.source for v in values} >= {f"svc{i}/.env" for i in range(3)}


# --- items 1-4: a file's history read for that file alone ------------------------------------------


def test_a_files_history_is_that_files_alone_whatever_its_name(tmp_path):
    """`git log -- PATH` reads PATH as a pathspec: for an encrypt target named `[ab].env.enc`, `[ab]` was
    a wildcard, and the versions of `a.env.enc` were taken for its history (earlier_versions, read by
    the stale-copy refusal) and `blob_in_history` said yes for a blob only `a.env.enc` ever held."""
    import git as gitpython

    from juniper_rollout import gitrepo
    from tests.helpers import git

    repo = tmp_path / "r"
    git(tmp_path, "init", "-q", str(repo))
    (repo / "a.env.enc").write_bytes(b"A1\n")
    (repo / "[ab].env.enc").write_bytes(b"X1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    for value in (b"A2\n", b"A3\n"):
        (repo / "a.env.enc").write_bytes(value)
        git(repo, "commit", "-qam", "again")
    head = gitpython.Repo(repo).head.commit
    assert [blob for blob, _ in gitrepo.earlier_versions(head, "[ab].env.enc")] == [b"X1\n"]
    assert not gitrepo.blob_in_history(head, "[ab].env.enc", b"A2\n")
    assert gitrepo.blob_in_history(head, "[ab].env.enc", b"X1\n")
    assert [blob for blob, _ in gitrepo.earlier_versions(head, "a.env.enc")] == [
        b"A3\n",
        b"A2\n",
        b"A1\n",
    ]


# --- items 1-4: one folder, one manifest entry -----------------------------------------------------


def test_two_clone_paths_differing_only_in_unicode_form_are_refused_with_the_line(tmp_path):
    """Clone paths were told apart with letter case folded (one folder on macOS and Windows) but not
    their Unicode form: `ws/café` precomposed and `ws/café` decomposed (as macOS's own file names
    come) are one folder on macOS, and two entries each planned alone wrote one clone's branch twice."""
    from tests.helpers import rollout
    from tests.test_manifest import KEY

    path = tmp_path / "repos.yaml"
    path.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients:\n    - {KEY}\nrepos:\n"
        "  - name: alpha\n    path: ws/caf\u00e9\n  - name: beta\n    path: ws/cafe\u0301\n"
    )
    result = rollout("plan", "--manifest", path)
    assert result.code == 1, result.stdout
    assert result.stderr.startswith(f"error: {path}:9: repo 'beta' has the same clone as 'alpha'")


# --- item 11: the bracket count after a libyaml error ends lines where YAML does --------------------


def test_deep_nesting_after_a_lone_cr_is_refused_with_its_line(tmp_path):
    """After a text libyaml refuses (`x: [a:]`), the nesting is counted line by line; lines were split
    at `\\n` only, so `# c\\r[[[…` was one comment to the count while YAML ends the comment at the CR:
    3,000 nested `[` went to ruamel's pure scanner (3.4 s) and the error had no line."""
    from tests.helpers import rollout

    path = tmp_path / "deep.yaml"
    path.write_bytes(b"x: [a:]\n# c\ry: " + b"[" * 3000 + b"]" * 3000 + b"\n")
    result = rollout("plan", "--manifest", path)
    assert result.code == 1
    assert result.stderr.startswith(f"error: {path}:3: invalid YAML: nested too deeply"), (
        result.stderr
    )


def test_deep_nesting_after_a_pipe_inside_a_flow_list_is_refused_with_its_line(tmp_path):
    """The count skips the lines of a block scalar (`run: |`); a line inside a flow list ending in `|`
    (`z: [a |`, a plain `a |` to YAML) was taken for one, and the more indented lines after it, 3,000
    nested `[` YAML reads on in the list, went uncounted: ruamel's scanner, 3.5 s, no line."""
    from tests.helpers import rollout

    path = tmp_path / "deep.yaml"
    path.write_bytes(b"x: [a:]\nz: [a |\n  , " + b"[" * 3000 + b"]" * 3000 + b"]\n")
    result = rollout("plan", "--manifest", path)
    assert result.code == 1
    assert result.stderr.startswith(f"error: {path}:3: invalid YAML: nested too deeply"), (
        result.stderr
    )


def test_deep_nesting_after_a_plain_colon_quote_is_refused_with_its_line(tmp_path):
    """The count skips quoted texts; a `'` right after a `:` was taken for one, but in `[a:' , [[[…]]] ']`
    `a:'` is a plain scalar to YAML and the 3,000 nested `[` after it are a list's: ruamel's scanner
    read them (3.7 s) and the error had no line."""
    from tests.helpers import rollout

    path = tmp_path / "deep.yaml"
    path.write_bytes(b"x: [a:]\nz: [a:' , " + b"[" * 3000 + b"]" * 3000 + b" ']\n")
    result = rollout("plan", "--manifest", path)
    assert result.code == 1
    assert result.stderr.startswith(f"error: {path}:2: invalid YAML: nested too deeply"), (
        result.stderr
    )
