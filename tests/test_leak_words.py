"""The leak guard's bound (issue 13 item 6, round nine): every run of eight or more letters and digits
in every plaintext value is checked wherever it sits in the value, unless it is public: the manifest,
the text the tool ships, the names, a file's committed text, or any committed file of the repo.

Every adversarial pass from 10b to 18b found one more shape the guard did not take apart
(`rabbitmqctl add_user app X`, a .pgpass line, CDATA, `DB_PASS_FRA`, a colon pair in prose): a
password of 8-15 letters under a name that does not look secret reached a template's output. These
tests hold the shapes left open at stop 22 and the exemptions that keep ordinary words planning."""

from __future__ import annotations

import os
import re
import stat
import subprocess

import pytest

from juniper_rollout import gitrepo, proctree
from tests.helpers import git, rollout
from tests.leakshapes import plan_beside
from tests.test_pass11b import _one_repo_with_a_template

WORD = "Quillmarsh"  # 10 letters: under a plain name, the guard never checked it before round nine
UTF8_WORD = "Quillmärsh"


def _refused_as_a_word(result, line: int = 1, where: str = "NOTES.md would contain") -> None:
    assert result.code == 1, result.stdout
    assert f"{where} a word of the value on line {line} of the plaintext .env" in result.stdout
    assert WORD not in result.stdout + result.stderr


def _refused(result) -> None:
    """Refused naming the line, as a word or (a shape the guard already took apart) as a value."""
    assert result.code == 1, result.stdout
    assert re.search(
        r"NOTES.md would contain (a word of )?the value on line 1 of the plaintext .env",
        result.stdout,
    )
    assert WORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "line",
    [
        f'MQ_SETUP="rabbitmqctl add_user app {WORD}"',
        f'ENCRYPT_CMD="openssl enc -aes-256-cbc -k {WORD} -in dump.sql"',
        f"PGPASS_LINE=db.internal:5432:app:app:{WORD}",
        f'SOAP_BODY="<password><![CDATA[{WORD}]]></password>"',
        f"DB_PASS_FRA={WORD}",
        f'SIGNUP_NOTE="email: ops@example.org, password: {WORD}"',
        f"DEPLOY_REGION={WORD}",  # a word under a plain name, alone
        # UTF-8 letters are letters: no run of 8 ASCII letters in it
        f'SOAP_BODY="<password><![CDATA[{UTF8_WORD}]]></password>"',
    ],
    ids=[
        "rabbitmqctl", "openssl-k", "pgpass", "cdata", "site-code", "prose-colon", "plain-name",
        "cdata-utf8",
    ],
)  # fmt: skip
def test_every_long_run_of_letters_in_a_value_is_checked_whatever_its_shape(tmp_path, line):
    word = UTF8_WORD if UTF8_WORD in line else WORD
    result = plan_beside(tmp_path, line, f"ops: {word}\n")
    _refused(result)
    assert word not in result.stdout + result.stderr


def test_a_word_the_repo_already_commits_is_public_and_plans(tmp_path):
    manifest = _one_repo_with_a_template(tmp_path, b"APP_STAGE=bookworms\n", "base: bookworms\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1 and "would contain a word of the value on line 1" in result.stdout
    assert "bookworms" not in result.stdout + result.stderr
    victim = tmp_path / "ws" / "victim"
    (victim / "Dockerfile").write_text("FROM python:3.11-slim-bookworms\n")
    git(victim, "add", "Dockerfile")
    git(victim, "commit", "-qm", "docker")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout
    assert "bookworms" in result.stdout  # the plan's diff shows the public word


def test_a_committed_plaintext_env_file_does_not_make_its_values_public(tmp_path):
    manifest = _one_repo_with_a_template(
        tmp_path, f"DEPLOY_REGION={WORD}\n".encode(), f"x {WORD}\n"
    )
    victim = tmp_path / "ws" / "victim"
    (victim / "deploy").mkdir()
    (victim / "deploy" / ".env.production").write_text(f"DEPLOY_REGION={WORD}\n")
    (victim / "secret.env.enc").write_text(f"{WORD}\n")
    git(victim, "add", "-f", "deploy/.env.production", "secret.env.enc")
    git(victim, "commit", "-qm", "env")
    _refused_as_a_word(rollout("plan", "--manifest", manifest))


def test_a_word_written_in_the_manifest_is_public(tmp_path):
    manifest = _one_repo_with_a_template(
        tmp_path, f"DEPLOY_REGION={WORD}\n".encode(), f"x {WORD}\n"
    )
    _refused_as_a_word(rollout("plan", "--manifest", manifest))
    manifest.write_text(manifest.read_text() + f"# {WORD} names a region, no secret\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout


def test_a_word_of_a_name_is_public(tmp_path):
    """A value naming another variable (`CONFIG_KEYS=DATABASE_URL`): the generated .env.example lists
    the names, and a name is no secret."""
    dotenv = b"REQUIRED_VARS=DATABASEHOST\nDATABASEHOST=\n"
    manifest = _one_repo_with_a_template(tmp_path, dotenv, "needs DATABASEHOST\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout


def test_a_word_a_template_holds_but_does_not_print_is_refused_by_its_source(tmp_path):
    """A template may reverse or slice what it holds: its source is checked for the words too."""
    manifest = _one_repo_with_a_template(
        tmp_path, f"DEPLOY_REGION={WORD}\n".encode(), f"{{{{ '{WORD}' | reverse }}}}\n"
    )
    _refused_as_a_word(rollout("plan", "--manifest", manifest), where="template notes.j2 holds")


def test_a_saved_plan_keeps_the_public_words_it_cleared_and_apply_writes_it(tmp_path):
    manifest = _one_repo_with_a_template(tmp_path, b"APP_STAGE=bookworms\n", "base: bookworms\n")
    victim = tmp_path / "ws" / "victim"
    (victim / "Dockerfile").write_text("FROM python:3.11-slim-bookworms\n")
    git(victim, "add", "Dockerfile")
    git(victim, "commit", "-qm", "docker")
    saved = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", manifest, "--out", saved).code == 0
    result = rollout("apply", "--manifest", manifest, "--yes", saved)
    assert result.code == 0, result.stdout
    note = git(victim, "show", "chore/sops-age-rollout:NOTES.md")
    assert "bookworms" in note


def test_the_words_reach_git_by_its_standard_input_never_its_command_line(tmp_path, monkeypatch):
    """`ps` shows every process's command line to every user of the machine: the words asked of
    `git grep` are secrets until it answers."""
    manifest = _one_repo_with_a_template(
        tmp_path, f"DEPLOY_REGION={WORD}\n".encode(), f"x {WORD}\n"
    )
    shim = tmp_path / "bin"
    shim.mkdir()
    log = tmp_path / "argv.log"
    real = subprocess.run(
        ["which", "git"], capture_output=True, text=True, check=True
    ).stdout.strip()
    (shim / "git").write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec {real} "$@"\n')
    (shim / "git").chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{shim}:{os.environ['PATH']}")
    _refused_as_a_word(rollout("plan", "--manifest", manifest))
    calls = log.read_text()
    assert " grep " in calls  # the word was asked of git...
    assert WORD not in calls  # ...never on its command line


def test_committed_words_skips_the_paths_it_is_told_and_reads_words_inside_longer_ones(tmp_path):
    from tests.demofleet import make_repo

    files = {"a.txt": "xxQuillmarshyy\n", "b.env": "Fenwoodsbank\n", "c.md": f"{UTF8_WORD}\n"}
    make_repo(tmp_path / "r", files)
    with gitrepo.open_clone(tmp_path / "r") as clone:
        head = clone.head.commit
        ask = [b"Quillmarsh", b"Fenwoodsbank", b"Nowhereland"]
        assert gitrepo.committed_words(clone, head, ask, skip=lambda p: p == "b.env") == {
            b"Quillmarsh"
        }
        assert gitrepo.committed_words(clone, head, ask, skip=lambda p: False) == {
            b"Quillmarsh",
            b"Fenwoodsbank",
        }
        assert gitrepo.committed_words(clone, head, [UTF8_WORD.encode()], skip=lambda p: False) == {
            UTF8_WORD.encode()
        }
        # more words than one pipe holds go in batches, each answered
        many = [b"Absentword%05d" % n for n in range(600)] + [b"Fenwoodsbank"]
        assert sum(len(w) + 1 for w in many) > proctree.PIPE_ROOM
        assert gitrepo.committed_words(clone, head, many, skip=lambda p: False) == {b"Fenwoodsbank"}


def test_a_process_is_given_at_most_one_pipe_of_standard_input():
    out = proctree.run(["cat"], env=dict(os.environ), timeout=30, stdin=b"abc\n")
    assert out.stdout == "abc\n"
    with pytest.raises(ValueError):
        proctree.run(
            ["cat"], env=dict(os.environ), timeout=30, stdin=b"x" * (proctree.PIPE_ROOM + 1)
        )


def test_public_text_never_excuses_a_value_under_a_secret_name(tmp_path):
    """The repo committing the word lets a *word* through, never a value the guard takes for a
    secret by its name or shape: what keeps the shape tests' controls meaningful."""
    manifest = _one_repo_with_a_template(
        tmp_path, f"DB_PASSWORD={WORD}\n".encode(), f"x {WORD}\n", public=f"glossary: {WORD}\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "NOTES.md would contain the value on line 1 of the plaintext .env" in result.stdout
    assert WORD not in result.stdout + result.stderr


def test_a_line_of_a_multi_line_value_is_no_name_that_makes_its_words_public(tmp_path):
    """Names are public (a generated .env.example lists them): only the names python-dotenv binds.
    Read line by line, a base64 line of a PEM value ending in `=` looked like a name, which made the
    words inside it public."""
    dotenv = f'SIGNING_CERT="-----BEGIN CERTIFICATE-----\nMIIBsz+CCAVmgAwI/{WORD}Xy=\n-----END CERTIFICATE-----"\n'
    manifest = _one_repo_with_a_template(tmp_path, dotenv.encode(), f"cert part: {WORD}Xy\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert (
        "NOTES.md would contain a word of the value on line 1 of the plaintext .env"
        in result.stdout
    )
    assert WORD not in result.stdout + result.stderr


def test_drift_of_a_contributors_branch_takes_public_words_from_the_base(tmp_path):
    """`drift --ref BRANCH` asked that branch's commit which words are public: a branch committing a
    list of words made each one public (pass 19c). Public text is the base's."""
    manifest = _one_repo_with_a_template(
        tmp_path, f"DEPLOY_REGION={WORD}\n".encode(), f"x {WORD}\n"
    )
    victim = tmp_path / "ws" / "victim"
    git(victim, "checkout", "-q", "-b", "contrib")
    (victim / "words.txt").write_text(f"{WORD}\n")
    git(victim, "add", "words.txt")
    git(victim, "commit", "-qm", "words")
    git(victim, "checkout", "-q", "main")
    result = rollout("drift", "--manifest", manifest, "--ref", "contrib", "--format", "json")
    assert result.code == 1, result.stdout
    assert "would contain a word of the value on line 1 of the plaintext .env" in result.stdout
    assert WORD not in result.stdout + result.stderr


def test_a_word_on_the_tools_own_unpushed_branch_is_no_committed_text(tmp_path):
    """Plan compares with the tool's own rollout branch while it sits on the base: a word an earlier
    plan let through (public then) was taken as the file's committed text there, and planned again
    once no longer public; `--push` would publish it (pass 19c). Committed text is the base's."""
    manifest = _one_repo_with_a_template(
        tmp_path, f"DEPLOY_REGION={WORD}\n".encode(), f"x {WORD}\n"
    )
    cleared = manifest.read_text()
    manifest.write_text(cleared + f"# {WORD} is no secret\n")
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    victim = tmp_path / "ws" / "victim"
    assert WORD in git(victim, "show", "chore/sops-age-rollout:NOTES.md")
    manifest.write_text(cleared)  # no longer said to be public
    _refused_as_a_word(rollout("plan", "--manifest", manifest))


def test_a_password_in_a_comment_of_the_env_is_checked_as_a_word(tmp_path):
    """sops encrypts a `.env`'s comments with it: `# old prod password: X` is as secret as a value
    (pass 19c's open item). Its runs are words; a comment's ordinary words the repo commits pass."""
    dotenv = f"# old prod password: {WORD}\nAPP_ENV=dev\n".encode()
    manifest = _one_repo_with_a_template(tmp_path, dotenv, f"x {WORD}\n")
    _refused_as_a_word(rollout("plan", "--manifest", manifest))
    ordinary = tmp_path / "ordinary"
    ordinary.mkdir()
    dotenv = b"# Database settings for the deployment\nAPP_ENV=dev\n"
    text = "Database settings: see the deployment guide\n"
    manifest = _one_repo_with_a_template(ordinary, dotenv, text, public=text)
    assert rollout("plan", "--manifest", manifest).code == 0
