"""Pass 19c (issue 13 item 6, round nine): the leak guard's word bound attacked.

Every run of 8+ letters and digits inside a plaintext value is a *word*, refused in what the tool
writes unless public (the manifest, the shipped text, the names, the repo's committed files, asked of
`git grep -F` by ``gitrepo.committed_words``). Each test here fails without its fix."""

from __future__ import annotations

import re
import subprocess

import pytest

from juniper_rollout import gitrepo, proctree
from tests.demofleet import make_repo
from tests.helpers import rollout
from tests.leakshapes import plan_beside

SECRET = "Quillmarsh7"  # a word of a plaintext value, committed only in a plaintext env file
PUBLIC = "Publicword"  # a word the repo commits in ordinary files


def test_a_match_of_a_skipped_file_past_the_kept_output_is_not_read_as_a_public_one(tmp_path):
    """`git grep -o` prints `COMMIT:PATH\\0MATCH` lines; past ``proctree.MAX_KEPT`` bytes the tool
    kept the first and last half MB joined with nothing between, so the line at the seam began with a
    public file's path and ended with the match of a skipped plaintext env file: the secret word of a
    committed `.env.production` was counted as public text (a template holding it was printed)."""
    half = proctree.MAX_KEPT // 2
    sha = 40  # hex digits of the commit every line starts with
    line = len(f"{'0' * sha}:a.txt\0{PUBLIC}\n")  # a.txt's and z.txt's lines are this long
    # the head ends inside an a.txt line, just after its NUL (a0.txt's lines are one byte longer:
    # 30 of them move the head's end there); the tail starts inside the env file's line, before
    # its match
    filler = 30
    assert (half - filler * (line + 1)) % line in range(sha + 7, line - 1)
    before = (half - filler * (line + 1)) // line + 1
    after = (half - len(SECRET) - 1) // line
    assert 0 < half - after * line - len(SECRET) - 1 < len(f"{'0' * sha}:m/.env.production\0")
    make_repo(
        tmp_path / "r",
        {
            "a0.txt": f"{PUBLIC}\n" * filler,
            "a.txt": f"{PUBLIC}\n" * before,
            "m/.env.production": f"REGION={SECRET}\n",
            "z.txt": f"{PUBLIC}\n" * after,
        },
    )
    with gitrepo.open_clone(tmp_path / "r") as clone:
        held = gitrepo.committed_words(
            clone,
            clone.head.commit,
            [SECRET.encode(), PUBLIC.encode()],
            skip=lambda p: p.endswith(".env.production"),
        )
    assert held == {PUBLIC.encode()}


def test_a_word_longer_than_one_pipe_page_is_refused_as_a_word_not_a_crash(tmp_path):
    """A run of letters and digits longer than the one pipe page ``proctree.run`` gives a process
    (a hex-encoded certificate) was handed to it whole: a ValueError, told as "unexpected ValueError
    while planning (a damaged repository? run `git fsck` …)" instead of the leak guard's refusal."""
    run = "ab12" * 1250  # 5,000 letters and digits
    result = plan_beside(tmp_path, f"PUBKEY_HEX=x~{run}~y", f"key: {run}\n")
    assert result.code == 1, result.stdout
    assert "NOTES.md would contain a word of the value on line 1 of the plaintext .env" in (
        result.stdout
    )
    assert "unexpected" not in result.stdout + result.stderr
    assert run not in result.stdout + result.stderr
    with gitrepo.open_clone(tmp_path / "ws" / "victim") as clone:
        assert (
            gitrepo.committed_words(clone, clone.head.commit, [run.encode()], lambda p: False)
            == set()
        )


@pytest.mark.parametrize(
    "line",
    [
        "MQ_SETUP=rabbitmqctl add_user app\u00a0Quillmarsh",  # a no-break space, pasted from a page
        "SIGNUP_NOTE=password\u2014Quillmarsh",  # an em dash
        "MQ_SETUP=rabbitmqctl add_user app \u2018Quillmarsh\u2019",  # an editor's curly quotes
        "NOTE=\u30d1\u30b9\u30ef\u30fc\u30c9\u3000Quillmarsh",  # an ideographic space
    ],
    ids=["nbsp", "em-dash", "curly-quotes", "ideographic-space"],
)
def test_a_run_glued_to_another_by_a_character_that_is_no_letter_is_a_word_of_its_own(
    tmp_path, line
):
    """The runs were found byte by byte, every byte past ASCII taken for a letter's: a no-break space,
    a dash or a curly quote glued `Quillmarsh` to what stood before it, and the run of 10 letters a
    template printed was checked nowhere (plan exit 0, the word in its diff)."""
    result = plan_beside(tmp_path, line, "ops: Quillmarsh\n")
    assert result.code == 1, result.stdout
    assert "NOTES.md would contain a word of the value on line 1 of the plaintext .env" in (
        result.stdout
    )
    assert "(10 letters and digits)" in result.stdout
    assert "Quillmarsh" not in result.stdout + result.stderr


def test_the_refusal_counts_letters_not_bytes(tmp_path):
    digits = "\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18"  # 8 full-width digits, 24 bytes
    result = plan_beside(tmp_path, f"NOTE=x~{digits}~y", f"pin {digits}\n")
    assert result.code == 1, result.stdout
    assert "(8 letters and digits)" in result.stdout
    assert digits not in result.stdout + result.stderr


def test_a_line_of_a_quoted_multi_line_value_is_no_name(tmp_path):
    """The names the `.env.example` lists are public; they were read as the text before `=` on every
    line holding one, so the last line of a quoted PEM key (`…q==`: base64's padding) was a "name",
    and a run of it a template printed planned."""
    line = (
        'JWT_KEY="-----BEGIN PRIVATE KEY-----\n'
        "MIIBVwIBADANBgkqhkiG9w0BAQEFAASCAUEwggE9AgEAAkEAq7BFUpkGp3\n"
        "Xk2Qh8Zk7Pd9aBcDeFgH+Zk7Pd9aBcDeFgHq==\n"
        '-----END PRIVATE KEY-----"'
    )
    result = plan_beside(tmp_path, line, "kid: Zk7Pd9aBcDeFgHq\n")
    assert result.code == 1, result.stdout
    assert "NOTES.md would contain a word of the value on line 1 of the plaintext .env" in (
        result.stdout
    )
    assert "Zk7Pd9aBcDeFgHq" not in result.stdout + result.stderr


def test_the_public_text_search_never_fetches_from_a_partial_clones_remote(tmp_path):
    """`git grep` of the base commit in a sparse blobless clone read every blob, and each one outside
    the sparse cone was fetched from the promisor remote: the network (and a credential prompt for an
    https remote) during a read-only plan, where every other read of the tool says "a partial clone:
    fetch again when it can"."""
    origin = make_repo(tmp_path / "origin", {"docs/glossary.md": f"{PUBLIC}\n", "src/a.py": "x\n"})
    subprocess.run(["git", "-C", origin, "config", "uploadpack.allowFilter", "true"], check=True)
    clone_path = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", "--sparse", origin.as_uri(), clone_path],
        check=True,
    )
    subprocess.run(["git", "-C", clone_path, "sparse-checkout", "set", "src"], check=True)

    def missing() -> list[str]:
        out = subprocess.run(
            ["git", "-C", clone_path, "rev-list", "--objects", "--missing=print", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return [line for line in out.splitlines() if line.startswith("?")]

    assert len(missing()) == 1  # docs/glossary.md's blob stays on the remote
    with gitrepo.open_clone(clone_path) as clone:
        held = gitrepo.committed_words(clone, clone.head.commit, [PUBLIC.encode()], lambda p: False)
    assert len(missing()) == 1, "the search fetched a blob from the promisor remote"
    assert held == set()  # not searched: not held (the refusal's way out is the manifest)


def test_words_sharing_their_first_bytes_are_each_found_or_not_as_before():
    """Pass 19c's cost fix: past ``SHARED_HEAD`` words sharing their first 8 bytes, each is searched
    for once in the whole text (1,000 values `aaaaaaaa00001…` beside a 1 MB run of `a` compared each
    word at each offset: 114 s, now under 2 s); which words are found stays the same on both paths."""
    from juniper_rollout.leakguard import SHARED_HEAD, Value, _head_index, _held_words

    def _found_in(words, texts):  # as check() asks: which of the words some text holds
        held = _held_words(_head_index(w.value for w in words), texts)
        return [w for w in words if w.value in held]

    many = [Value(".env", n, b"aaaaaaaa%05d" % n, True) for n in range(SHARED_HEAD * 4)]
    few = [Value(".env", 1, b"bbbbbbbbX1", True), Value(".env", 2, b"bbbbbbbbX2", True)]
    text = b"x " + b"a" * 5000 + b" zz-aaaaaaaa00007-zz aaaaaaaa00031q " + b"bbbbbbbbX2bbbbbbbb"
    found = _found_in(many + few, [b"nothing here", text])
    assert [w.value for w in found] == [b"aaaaaaaa00007", b"aaaaaaaa00031", b"bbbbbbbbX2"]
    # the same word on two lines: both found (each names its line)
    twice = [Value(".env", 1, b"ccccccccZ", True), Value(".env", 9, b"ccccccccZ", True)]
    assert len(_found_in(twice * SHARED_HEAD, [b"-ccccccccZ-"])) == 2 * SHARED_HEAD


def test_the_public_text_search_has_one_time_limit_for_all_its_runs(tmp_path, monkeypatch):
    """``GREP_TIMEOUT`` bounded each `git grep` run, and a search asks one run per pipe page of words:
    20,000 words took 65 runs (12.8 s on juniper-canopy; 2,000 took 16.5 s on a 10,000-file repo), so
    a `.env` and a template sharing 250,000 words would search for an hour. The limit is the whole
    search's: once spent, no more runs, and the words left count as not public."""
    make_repo(tmp_path / "r", {"a.txt": f"{PUBLIC}\n"})
    runs = []
    real = proctree.run
    monkeypatch.setattr(proctree, "run", lambda *a, **k: runs.append(a) or real(*a, **k))
    words = [b"Absentword%05d" % n for n in range(1000)]  # 15,000 bytes: four pipe pages
    with gitrepo.open_clone(tmp_path / "r") as clone:
        assert gitrepo.committed_words(clone, clone.head.commit, words, lambda p: False) == set()
        assert len(runs) == 4
        runs.clear()
        monkeypatch.setattr(gitrepo, "GREP_TIMEOUT", 0.0)  # spent before the first run
        assert gitrepo.committed_words(clone, clone.head.commit, words, lambda p: False) == set()
    assert runs == []


@pytest.mark.parametrize("name", [".ENV", "Prod.ENV", ".Env.Local"])
def test_a_top_level_plaintext_env_file_in_another_letter_case_is_read(tmp_path, name):
    """The guard read the clone's folders' plaintext env files in any letter case (pass 16b), its top
    in the definition's case only: a top-level `.ENV` (what macOS's file system loads as `.env`),
    `Prod.ENV` or `.Env.Local` was never read, and a template holding its password was printed."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"X=1\n", "secret: Sup3rSecretValue9\n")
    (tmp_path / "ws" / "victim" / name).write_text("DB_PASSWORD=Sup3rSecretValue9\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert f"NOTES.md would contain the value on line 1 of the plaintext {name}" in result.stdout
    assert "Sup3rSecretValue9" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "line",
    [
        "# DB_PASSWORD=Quillmarsh99",
        "#export DB_PASSWORD='Quillmarsh99'",
        "  ## MQ_SETUP=add_user app Quillmarsh99",
    ],
    ids=["commented", "commented-export", "indented-double-hash"],
)
def test_a_commented_out_binding_is_read_as_the_binding_it_was(tmp_path, line):
    """The old password kept "just in case" as a commented-out line (sops encrypts the comment with
    the file) was never read: a template holding it planned, the password in the diff."""
    result = plan_beside(tmp_path, f"{line}\nX=1", "x Quillmarsh99\n")
    assert result.code == 1, result.stdout
    assert re.search(
        r"NOTES.md would contain (a word of )?the value on line 1 of the plaintext .env",
        result.stdout,
    )
    assert "Quillmarsh99" not in result.stdout + result.stderr


def test_the_fleets_values_are_named_and_indexed_once_per_run(fleet):
    """Each repo's check renamed and indexed every value of the whole fleet (3.9 s a repo for 60
    repos of 2,000 values: a plan's CPU grew with the square of the fleet); the values a run reads
    once come named, with their words' index, and each repo's check only looks them up."""
    from juniper_rollout.leakguard import _held_words, fleet_values
    from juniper_rollout.manifest import load_manifest

    env = fleet.repo("juniper-cascor") / ".env"
    env.write_bytes(env.read_bytes() + b"# the old motto was Quillmarsh99, kept here\n")
    values = fleet_values(load_manifest(fleet.manifest))
    sources = {v.source for _, v in values.named}
    assert ".env of juniper-cascor" in sources, sources
    assert (".env of juniper-cascor", b"Quillmarsh99") in {
        (v.source, v.value) for _, v in values.named if v.word
    }
    assert _held_words(values.index, [b"see Quillmarsh99."]) == {b"Quillmarsh99"}
    assert _held_words(values.index, [b"nothing of the fleet here"]) == set()
