"""The leak guard (issue 13 item 6) checks a short password of letters where the app reads one, in
three shapes pass 15 and pass 14b left open: an Authorization header's credential after its scheme,
mysql's `-pX` glued to its option, and a secret name qualified by a region or any other word."""

from __future__ import annotations

import base64

import pytest

from tests.leakshapes import plan_beside, refused

WORD = "Correcthorse"  # 12 letters: below the length at which any value of letters is checked


def _plan(tmp_path, dotenv: str, template: str):
    """The repo commits the template's words: only a shape taking them for a password refuses."""
    return plan_beside(tmp_path, dotenv.rstrip("\n"), template, public=template)


def _refused(tmp_path, line: str) -> None:
    refused(tmp_path, line, WORD)


@pytest.mark.parametrize(
    "line",
    [
        f'AUTH_HEADER="Authorization: Basic {WORD}"',
        f'AUTH_HEADER="Bearer {WORD}"',
        f"UPSTREAM_AUTH=Token {WORD}",
        f"AUTH_HEADER=Basic {base64.b64encode(f'app:{WORD}'.encode()).decode()}",
        f'MYSQL_CMD="mysql -u app -p{WORD} appdb"',
        f'BACKUP_ARGS="--user=app -p{WORD} --single-transaction"',
        # a password under a name qualified by a region, or by any word after the secret's
        f"DB_PASSWORD_EU={WORD}",
        f"API_TOKEN_US_EAST_1={WORD}",
        f"PASSWORD_FOR_REPORTS={WORD}",
        f"smtpPasswordEmea={WORD}",
    ],
    ids=[
        "authorization-basic", "bearer", "token", "basic-base64", "mysql-u", "mysql-user",
        "region", "region-numbered", "word-after", "camel-region",
    ],
)  # fmt: skip
def test_a_password_in_a_header_glued_to_mysqls_option_or_under_a_qualified_name_is_checked(
    tmp_path, line
):
    _refused(tmp_path, line)


@pytest.mark.parametrize(
    "line",
    [
        # a word under a name that is no secret's, a pytest plugin glued to `-p` (no user named)
        f"DEPLOY_REGION={WORD}",
        f'PYTEST_ADDOPTS="-p{WORD} --maxfail=1"',
        f'GREETING="Ask for a token {WORD}s"',  # "token" mid-sentence, not the value's scheme
    ],
)
def test_ordinary_words_beside_those_shapes_are_no_finding(tmp_path, line):
    template = f"notes: {WORD}, {WORD}s\n"
    result = _plan(tmp_path, f"{line}\n", template)
    assert result.code == 0, result.stdout


def test_region_qualified_names_look_secret_and_other_words_still_do_not():
    from juniper_rollout.secretshape import looks_secret, may_be_secret

    for name in ("DB_PASSWORD_EU", "API_TOKEN_US_EAST_1", "SMTP_PASSWORD_EMEA"):
        assert looks_secret(name), name
    for name in ("PASSWORD_FOR_REPORTS", "TOKEN_CANARY", "SECRET_WEBHOOK_SIGNING"):
        assert not looks_secret(name) and may_be_secret(name), name
    for name in ("DEPLOY_REGION", "PASS_RATE", "TOKENIZER_PATH", "KEY_PREFIX"):
        assert not may_be_secret(name), name
    # about a secret, not one: a file's path, a length, an address
    for name in ("PASSWORD_MIN_LENGTH", "TOKEN_LIMIT", "password-file", "TOKEN_URL"):
        assert not may_be_secret(name), name


@pytest.mark.parametrize(
    "line",
    [
        f'REDIS_CMD="redis-cli -h cache -a {WORD} ping"',
        f'COPY_CMD="sshpass -p {WORD} scp a b"',
        f'SHARE_CMD="smbclient //srv/share -U backup%{WORD}"',
        f'LDAP_CMD="ldapsearch -x -D cn=admin -w {WORD}"',
        f'SETTINGS_XML="<server><password>{WORD}</password></server>"',
        f'NETRC_LINE="machine api.example.invalid login bot password {WORD}"',
        f"NSLCD_BIND=bindpw {WORD}",
        f"CHAT_AUTH=Bot {WORD}",
        f"MIRROR_URL=https://{WORD}@git.example.invalid/r.git",
        f"DB_PASS_DE={WORD}",
        f"REDIS_PW_FR={WORD}",
        f"DB_PASSCODE={WORD}",
        f"ADMIN_PIN={WORD}",
        f"STRIPE_SK={WORD}",
        f"REDIS_PW_DE1={WORD}",
        f"JWT_SALT={WORD}",
        f"PASSWORD_PEPPER={WORD}",
        f"OTP_SEED={WORD}",
        f"AWS_CREDS={WORD}",
        f"DB_USERPASS={WORD}",
    ],
)
def test_pass_16cs_open_shapes_are_checked(tmp_path, line):
    """Pass 16c left these open: other programs' password options, XML, `.netrc`'s word pair, a key as
    a URL's user name, and secret words its wider name rule missed (and pass 17: a salt, pepper, seed,
    `CREDS`, `USERPASS`, a digit after a country code)."""
    _refused(tmp_path, line)


@pytest.mark.parametrize(
    "line",
    [
        f'TOOL_ARGS="grep -a {WORD} file"',  # -a of a program that takes no password
        f'RELEASE_XML="<channel>{WORD}</channel>"',
        f'HELP_TEXT="forgot your password? {WORD}s"',  # the next word is no value of the password
        f"PASS_RATE={WORD}",
        f"KEY_PREFIX={WORD}",
        f"GPIO_PINS={WORD}",
        f"PASSWORD_RESET={WORD}",  # a setting about resets (a reset token is random: checked anyway)
        f"SORT_KEY_BY={WORD}",  # an English word after KEY, no country code
    ],
)
def test_ordinary_words_beside_pass_16cs_shapes_are_no_finding(tmp_path, line):
    result = _plan(tmp_path, f"{line}\n", f"notes: {WORD}s and {WORD}\n")
    assert result.code == 0, result.stdout
