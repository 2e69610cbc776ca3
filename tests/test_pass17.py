"""Issue 13, pass 17: an adversarial pass over the code merged since 2b9c619 that no pass had seen
(pass 16c's fixes and the lead's commits after it). Each test fails on the main this pass started
from (checked by undoing its fix)."""

from __future__ import annotations

import pytest

from tests.helpers import rollout

WORD = "Correcthorse"  # 12 letters: below the length at which any value of letters is checked

# --- 13.11: yamlio's depth check (9dd4a46) -----------------------------------------------------------


def test_deep_nesting_after_a_text_libyaml_refuses_is_refused_at_once_with_its_line(tmp_path):
    """9dd4a46 finds lists nested past 200 levels with libyaml's parser; any other libyaml error was
    swallowed, so a manifest starting with a text libyaml refuses and ruamel reads (`x: [a:]`, the
    yamlio docstring's own example) sent 3,000 nested `[` to ruamel's pure scanner: 4 s, no line."""
    from juniper_rollout import yamlio

    text = "x: [a:]\nrepos:\n  - name: a\n    path: " + "[" * 3000 + "]" * 3000 + "\n"
    with pytest.raises(yamlio.YamlSyntaxError) as err:
        yamlio.check_size(text)  # before any pure-Python reader sees it
    assert err.value.line == 4 and str(err.value) == yamlio.TOO_DEEP
    manifest = tmp_path / "deep.yaml"
    manifest.write_text(text)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1
    assert f"deep.yaml:4: invalid YAML: {yamlio.TOO_DEEP}" in result.stderr, result.stderr


@pytest.mark.parametrize("comment", ["", "# files: *.py\n"])
def test_deep_nesting_after_a_text_libyaml_refuses_is_refused_at_once_in_every_reader(
    tmp_path, comment
):
    """The manifest's alias check (any `*` in the text: a glob in a comment) and the edits' event
    reader parse with libyaml first, and on its error asked ruamel's pure parser for its words:
    5.8 s for `x: [a:]` before 3,000 nested `[`."""
    from juniper_rollout import yamlio

    text = comment + "x: [a:]\nrepos:\n  - name: a\n    path: " + "[" * 3000 + "]" * 3000 + "\n"
    with pytest.raises(yamlio.YamlSyntaxError) as err:
        yamlio.parse_events(text)
    assert str(err.value) == yamlio.TOO_DEEP
    manifest = tmp_path / "deep.yaml"
    manifest.write_text(text)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1
    assert yamlio.TOO_DEEP in result.stderr, result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "x: [a:]\nlist: " + "[" * 150 + "]" * 150 + "\nmore: " + "[1], " * 300 + "\n",
        "x: [a:]\nnote: '" + "[" * 400 + "'\n",  # brackets inside a quoted text nest nothing
        'x: [a:]\nnote: "' + "{" * 400 + '"\n# ' + "[" * 300 + "\n",
        "x: [a:]\nscript: |\n" + "  if [ -f x; then [\n" * 250 + "after: 1\n",
        "x: [a:]\r\nscript: |\r\n" + "  if [ -f x; then [\r\n" * 250 + "after: 1\r\n",
    ],
    ids=[
        "shallow",
        "in-single-quotes",
        "in-double-quotes-and-comment",
        "in-a-block-scalar",
        "in-a-block-scalar-crlf",
    ],
)
def test_a_shallow_file_libyaml_refuses_is_not_called_too_deep(text):
    from juniper_rollout import yamlio

    yamlio.check_size(text)  # no error: ruamel says what it says about `[a:]`


# --- 13.6: the leak guard's program options and XML elements (34f5e40) --------------------------------


@pytest.mark.parametrize(
    "line",
    [
        f"REDIS_CMD=\"redis-cli -h redis -a '{WORD}' ping\"",
        f"REDIS_CMD='redis-cli -h redis -a \"{WORD}\" ping'",
        f"SSH_CMD=\"sshpass -p '{WORD}' ssh deploy@host\"",
        f"LDAP_CMD=\"ldapsearch -x -D cn=admin -w '{WORD}' -b dc=example\"",
        f"MYSQL_CMD=\"mysql -u app -p'{WORD}' appdb\"",
        f"SMB_CMD=\"smbclient //srv/share --user=app%{WORD}\"",
        f'SOAP_AUTH="<wsse:Password>{WORD}</wsse:Password>"',
        f"SOAP_AUTH='<wsse:Password Type=\"PasswordText\">{WORD}</wsse:Password>'",
        f"SOAP_AUTH='<password type=\"text\">{WORD}</password>'",
    ],
    ids=[
        "redis-cli-single-quoted", "redis-cli-double-quoted", "sshpass-quoted", "ldapsearch-quoted",
        "mysql-glued-quoted", "smbclient-long-option", "xml-namespaced", "xml-namespaced-attribute",
        "xml-attribute",
    ],
)  # fmt: skip
def test_a_quoted_option_or_a_namespaced_element_is_checked(tmp_path, line):
    """34f5e40 reads `redis-cli -a X`, `sshpass -p X`, `ldapsearch -w X` and `<password>X</password>`;
    the same password quoted as a shell command quotes it (`sshpass -p 'X'`, the usual spelling), or in
    SOAP's WS-Security element (`<wsse:Password Type="…">X</wsse:Password>`), was printed through a
    template holding it."""
    from tests.leakshapes import refused

    refused(tmp_path, line, WORD)


@pytest.mark.parametrize(
    "line",
    [
        f"REDIS_CMD=\"redis-cli -h '{WORD}' ping\"",
        f"MYSQL_CMD=\"mysql -u app -e '{WORD}' appdb\"",
        f"PYTEST_ADDOPTS=\"-p 'no:{WORD}'\"",
        f"FEED_ITEM='<description lang=\"en\">{WORD}</description>'",
        f'FEED_ITEM="<dc:title>{WORD}</dc:title>"',
    ],
)
def test_ordinary_words_beside_the_quoted_shapes_are_no_finding(tmp_path, line):
    from tests.leakshapes import no_finding

    no_finding(tmp_path, line, f"notes: {WORD}\n")


# --- 13.6: false refusals of 34f5e40's shapes in an ordinary repo with templates of its own ---------


@pytest.mark.parametrize(
    ("line", "template"),
    [
        (
            "DATABASE_URL=postgresql://postgres@localhost:5432/app",
            "Run `createdb -U postgres app` first.\n",
        ),
        ("AMQP_URL=amqp://rabbitmq@mq:5672/", "Queue: rabbitmq\n"),
        ("PIN_STRATEGY=lockfile", "pins: lockfile\n"),
        (
            'HELP_TEXT="Forgot your password? Reset password instructions are emailed"',
            "Reset instructions are emailed\n",
        ),
        ('LOGIN_METHODS="password passwordless"', "methods: passwordless\n"),
        ("LOCALE_SK=slovencina", "languages: slovencina\n"),
    ],
    ids=["postgres-login", "amqp-login", "pin-strategy", "prose", "login-methods", "slovak-locale"],
)
def test_a_login_name_prose_or_a_locale_is_no_password(tmp_path, line, template):
    """34f5e40 took a URL's user name alone as a password whatever the scheme (`postgresql://postgres@`
    names the login), the word after `password` anywhere (prose), any name holding PIN as a word
    (`PIN_STRATEGY`: dependency pinning) and any name ending in `_SK` (`LOCALE_SK`: Slovak): a template
    of the repo's own naming the login, the word or the language refused its plan (each planned
    before 34f5e40)."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), template, public=template)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout


@pytest.mark.parametrize(
    "line",
    [
        f"SLAPD_LINE=rootpw {WORD}",
        f"STRIPE_SK_LIVE={WORD}",
        f"SIM_PIN_CODE={WORD}",
        f'NETRC_LINE="default login bot password {WORD}"',
        f"SENTRY_DSN=https://{WORD}@o1.ingest.example.invalid/1",
        f'HOOK="curl https://{WORD}@hooks.example.invalid/x"',
        f"REDIS_URL=redis://{WORD}@cache:6379/0",
        f'PIP_REQ="app @ git+https://{WORD}@git.example.invalid/org/app.git"',
    ],
)
def test_the_narrowed_shapes_still_check_what_they_were_for(tmp_path, line):
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"secret: {WORD}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "NOTES.md would contain the value on line 1 of the plaintext .env" in result.stdout


@pytest.mark.parametrize(
    "line",
    [
        f'DB_CONFIG="db: {{password: {WORD}}}"',
        f'DB_CONFIG="{{db: {{user: app, password: {WORD}}}}}"',
        f'HOSTS="[password: {WORD}]"',
    ],
)
def test_a_member_of_a_nested_flow_mapping_is_checked(tmp_path, line):
    """fcc5995 reads `password: X` as a pair; in a flow mapping nested in another (`db: {password:
    X}`) the outer member's value swallowed `{password:`, so X was printed through a template."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"secret: {WORD}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "NOTES.md would contain the value on line 1 of the plaintext .env" in result.stdout


@pytest.mark.parametrize(
    "line",
    [
        f'HEALTHCHECK=["CMD", "redis-cli", "-a", "{WORD}", "ping"]',
        f'DUMP_CMD=["mysqldump", "-uapp", "-p{WORD}", "app"]',
        f'HOOK="curl -u app:{WORD} https://hooks.example.invalid"',
        f"HOOK=\"curl --user 'app:{WORD}' https://hooks.example.invalid\"",
        f'MONGO_CMD="mongosh -u app -p {WORD} mongodb://db/app"',
        f'REGISTRY_LOGIN="docker login -u app -p {WORD} registry.example.invalid"',
        f'SQL_CMD="sqlcmd -S db -U sa -P {WORD}"',
        f'KEYTOOL_CMD="keytool -list -keystore ks.jks -storepass {WORD}"',
        f'PACK_CMD="zip -P {WORD} out.zip dir"',
        f'UNPACK_CMD="7z x -p{WORD} in.7z"',
    ],
    ids=[
        "exec-form-redis-cli", "exec-form-mysqldump", "curl-u", "curl-user-quoted", "mongosh-p",
        "docker-login-p", "sqlcmd-P", "keytool-storepass", "zip-P", "7z-p",
    ],
)  # fmt: skip
def test_more_programs_password_options_are_checked(tmp_path, line):
    """34f5e40's table of programs' password options (redis-cli, sshpass, ldapsearch, smbclient) left
    out the most common one in a `.env` (curl's `-u user:X`) and others as common, and read no command
    given as a JSON list of words (a Docker healthcheck's exec form): X was printed through a template."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"secret: {WORD}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "NOTES.md would contain the value on line 1 of the plaintext .env" in result.stdout


@pytest.mark.parametrize(
    "line",
    [
        f'RUN_CMD="docker run -p {WORD} app"',  # -p of docker run: a port, not docker login's password
        f'HEALTHCHECK=["CMD", "curl", "-f", "http://localhost/{WORD}"]',
        f"FETCH_CMD=\"curl -H 'Accept: {WORD}' https://example.invalid\"",
        f'PACK_CMD="gzip -P {WORD}"',
    ],
)
def test_ordinary_words_beside_more_programs_are_no_finding(tmp_path, line):
    from tests.leakshapes import no_finding

    no_finding(tmp_path, line, f"notes: {WORD}\n")


@pytest.mark.parametrize(
    ("line", "template"),
    [
        ('BOT_DISPLAY_NAME="Bot Framework"', "Built on the Framework.\n"),
        ('PLAN_TIER="Basic Professional"', "Tiers: Professional\n"),
        ('WELCOME="Token Exchange"', "See Exchange.\n"),
        ('SEARCH_FILTER="category=Bot Framework"', "Built on the Framework.\n"),
    ],
)
def test_a_scheme_word_starting_prose_is_no_header(tmp_path, line, template):
    """120a599 and 34f5e40 read the word after Basic/Bearer/Token/Bot/ApiKey/SSWS at a value's start as
    a credential under any name: prose starting with one refused a plan whose template showed the
    next word. A word of letters there is a credential only under a name that says so."""
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), template, public=template)
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 0, result.stdout


@pytest.mark.parametrize(
    "line",
    [
        f'CHAT_AUTH="Bot {WORD}"',
        f'UPSTREAM_HEADER="Bearer {WORD}"',
        f'proxyAuth="Basic {WORD}"',
        f'BOT_DISPLAY_NAME="Authorization: Bot {WORD}"',
    ],
)
def test_a_scheme_word_under_an_auth_name_is_still_checked(tmp_path, line):
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), f"secret: {WORD}\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout


# --- 13.1/13.3: the rollout branch as a symbolic ref (12674fd's move_branch) -------------------------


@pytest.mark.parametrize("target", ["develop", "main"])
def test_a_rollout_branch_that_is_an_alias_moves_no_other_branch(tmp_path, target):
    """git's update-ref follows a symbolic ref: with the rollout branch an alias of another branch
    (`git symbolic-ref refs/heads/chore/sops-age-rollout refs/heads/develop`), apply put its commit on
    develop ("updated … a new commit on top"), or on the checked-out main under the user."""
    from tests.helpers import git
    from tests.test_pass11b import _one_repo_with_a_template

    manifest = _one_repo_with_a_template(tmp_path, b"A=1\n", "notes\n")
    repo = tmp_path / "ws" / "victim"
    if target != "main":
        git(repo, "branch", target)
    before = git(repo, "for-each-ref")
    ref = "refs/heads/chore/sops-age-rollout"
    git(repo, "symbolic-ref", ref, f"refs/heads/{target}")
    planned = rollout("plan", "--manifest", manifest)
    assert (
        f"apply will refuse it: chore/sops-age-rollout is a symbolic ref to refs/heads/{target}"
        in (planned.stdout)
    ), planned.stdout
    result = rollout("apply", "--yes", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert f"is a symbolic ref to refs/heads/{target} (an alias)" in result.stdout
    assert git(repo, "for-each-ref", f"refs/heads/{target}") in before  # not moved
    assert git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    git(repo, "symbolic-ref", "--delete", ref)  # the command the message gives
    assert rollout("apply", "--yes", "--manifest", manifest).code == 0


def test_cleanup_deletes_no_branch_through_an_alias(tmp_path):
    """`git update-ref -d ALIAS OLD` deletes the branch the alias names (measured: develop gone, the
    alias left dangling): cleanup's delete of the rollout branch goes through the same check."""
    from juniper_rollout import remote
    from juniper_rollout.errors import RepoError
    from tests.demofleet import make_repo
    from tests.helpers import git

    repo = tmp_path / "clone"
    make_repo(repo, {"README.md": "x\n"})
    git(repo, "branch", "develop")
    tip = git(repo, "rev-parse", "develop").strip()
    git(repo, "symbolic-ref", "refs/heads/chore/sops-age-rollout", "refs/heads/develop")
    with pytest.raises(RepoError, match="symbolic ref to refs/heads/develop"):
        remote.delete_local(repo, "chore/sops-age-rollout", tip)
    assert git(repo, "rev-parse", "develop").strip() == tip
