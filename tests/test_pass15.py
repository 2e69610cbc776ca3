"""Pass 15 of the outside adversary (issue 13, confirmation of round five's new code): each test
failed on main (5c657a7) before its fix. The attempts are logged in the pass-15 log; SECURITY.md
lists each guarantee."""

from __future__ import annotations

import pytest

# --- item 1: the quoted-empty match by length (7a5106a, fcec401) -----------------------------------


@pytest.mark.parametrize("held, blank", [("42", '""'), ("ok", "''"), ("eu", '""')])
def test_a_two_byte_value_blanked_with_quotes_is_still_refused(fleet, held, blank):
    """A committed value exactly as long as the quotes that blank it (`SENTRY_SAMPLE=42` then
    `SENTRY_SAMPLE=""`) was taken for the quoted-empty text kept as it was, by its length alone, and
    encrypted over silently. The ciphertext of a quoted-empty text is told apart by the tool's own
    record of what it stored, not by its length."""
    from tests.helpers import git, rollout
    from tests.test_pass3 import BRANCH
    from tests.test_pass10a import _apply

    repo = fleet.repo("juniper-cascor")
    env = repo / ".env"
    env.write_text(env.read_text() + f"SHORT_SETTING={held}\n")
    assert _apply(fleet, "juniper-cascor").code == 0
    assert "SHORT_SETTING=ENC[AES256_GCM,data:" in git(repo, "show", f"{BRANCH}:.env.enc")
    env.write_text(env.read_text().replace(f"SHORT_SETTING={held}\n", f"SHORT_SETTING={blank}\n"))
    planned = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor")
    assert planned.code == 1 and "leaves 1 name empty" in planned.stdout, planned.stdout
    assert "(SHORT_SETTING:" in planned.stdout


def test_a_quoted_empty_value_requoted_is_not_taken_for_a_blanked_one(fleet):
    """The decrypted check of the length match takes `""` committed and `''` now for the same
    empty value (python-dotenv gives the app "" for both), not for a value blanked."""
    from tests.helpers import rollout
    from tests.test_pass10a import _apply

    repo = fleet.repo("juniper-cascor")
    env = repo / ".env"
    env.write_text(env.read_text() + 'OPTIONAL_HOOK_URL=""\n')
    assert _apply(fleet, "juniper-cascor").code == 0
    env.write_text(env.read_text().replace('OPTIONAL_HOOK_URL=""\n', "OPTIONAL_HOOK_URL=''\n"))
    planned = rollout("plan", "-m", fleet.manifest, "--repo", "juniper-cascor")
    assert planned.code == 0, planned.stdout


# --- item 11: a format width made by the arguments of a nested field (render bounds) ---------------

NESTED_WIDTHS = [
    "{{ '{0:{1}{2}{2}{2}}'.format('x', 50000, 0)|length }}",  # ints each under the bound, joined
    "{{ '{0:{1}}'.format('x', '50000000')|length }}",  # a width given as text
    "{{ '{:{}}'.format('x', '50000000')|length }}",  # numbered automatically
    "{{ '{a:{b}{b}}'.format_map({'a': 'x', 'b': '5000'})|length }}",
]


@pytest.mark.parametrize("body", NESTED_WIDTHS, ids=range(len(NESTED_WIDTHS)))
def test_a_width_made_by_nested_fields_is_weighed_before_the_text_is_built(tmp_path, body):
    """`'{0:{1}{1}}'.format('x', 99999)` asks for a width of 9,999,899,999 from arguments each under
    the bound: the text was built (10 GB: a MemoryError, or the machine's memory) and only then
    weighed. Here 50 MB, so the unfixed run fails by its message, not by the machine; a nested width
    is now resolved (through the sandbox's field lookup) and checked before anything is formatted."""
    from tests.test_adversary import hostile_template, one_line_error, run_cli

    result = run_cli("plan", "--manifest", hostile_template(tmp_path, body), timeout=120)
    one_line_error(result, "a format width of")


def test_ordinary_nested_format_fields_still_render(tmp_path):
    from tests.test_adversary import hostile_template, run_cli

    body = "{{ '{0:>{1}}|{2:{3}}|'.format('x', 5, 'y', '<3') }}{{ '{a:{b}}|'.format_map({'a': 'z', 'b': 4}) }}"
    result = run_cli("plan", "--manifest", hostile_template(tmp_path, body), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "    x|y  |z   |" in result.stdout


# --- item 6: a password under a name run together (libpq's PGPASSWORD) -----------------------------


@pytest.mark.parametrize("name", ["PGPASSWORD", "DBPASSWORD", "ADMINPASSWD", "GPGPASSPHRASE_OLD"])
def test_a_password_under_a_run_together_name_is_checked(tmp_path, name):
    """libpq's own `PGPASSWORD` (and `DBPASSWORD`, `ADMINPASSWD`) looked no secret: round five's
    name shapes (6e1b5e9) want a separator before PASSWORD, so a password of 8-15 letters under one
    was never checked and a template holding it was printed. PASSWORD, PASSWD and PASSPHRASE end a
    secret name with or without a separator."""
    from tests.helpers import rollout
    from tests.test_pass14b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(
        tmp_path, f"{name}=Correcthorse\n".encode(), "secret: Correcthorse\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout
    assert "Correcthorse" not in result.stdout + result.stderr


@pytest.mark.parametrize("name", ["PASSWORD_MIN_LENGTH", "SUDO_NOPASSWORD_FILE", "passwordReset"])
def test_names_holding_password_as_a_word_of_no_secret_still_look_no_secret(name):
    from juniper_rollout.secretshape import looks_secret

    assert not looks_secret(name)


# --- item 6: a long option's value given as the next word ----------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        'MYSQL_ARGS="--user=app --password Correcthorse"',
        "REDIS_CLI_ARGS=--tls --pass Correcthorse",
        "MONGO_ARGS=\"--username app --password 'Correcthorse'\"",
    ],
    ids=["password", "pass", "quoted"],
)
def test_a_long_options_value_given_as_the_next_word_is_checked(tmp_path, line):
    """Round five took `--password=X` (f04c3d0); `--password X`, how redis-cli, mongo and most CLIs
    also take it, was no pair, so a template holding X was printed (pass 15, 13.6)."""
    from tests.helpers import rollout
    from tests.test_pass14b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), "secret: Correcthorse\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "value on line 1 of the plaintext .env" in result.stdout, result.stdout
    assert "Correcthorse" not in result.stdout + result.stderr


def test_a_long_options_ordinary_value_is_no_finding(tmp_path):
    from tests.helpers import rollout
    from tests.test_pass14b import _one_repo_with_a_template

    # an option not named like a secret (a file's name, a level) is no pair to check
    manifest = _one_repo_with_a_template(
        tmp_path,
        b'APP_ARGS="--password-file secretpath --log-level information"\n',
        "secretpath, information\n",
        public="secretpath, information\n",
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout
