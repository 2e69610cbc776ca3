"""Pass 18b (issue 13, items 5-9 and the smaller list): what this pass found, each with its fix."""

from __future__ import annotations

import re

import pytest

from tests.helpers import rollout

KEY_LINE = re.compile(r"AGE-SECRET-KEY-1[0-9A-Z]+")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["plan", "--repo", "{key}"], "no repo named '***'"),
        (["plan", "--rollout", "{key}"], "no rollout named '***'"),
        (["bootstrap", "newcomer", "--like", "{key}"], "--like ***:"),
        (["verify", "--ref", "{key}"], "--ref holds an age private key; nothing read"),
        (["drift", "--ref", "{key}"], "--ref holds an age private key; nothing read"),
        (["plan", "--repo", "{lower}"], "no repo named '***'"),
    ],
    ids=["repo", "rollout", "like", "verify-ref", "drift-ref", "repo-lower-case"],
)
def test_an_age_private_key_typed_as_an_option_is_never_repeated(fleet, args, said):
    """An age private key pasted where a name was wanted was quoted back whole in the error line
    (`--repo`, `--like`, `--rollout`), and `verify/drift --ref KEY` printed it as the run's title and
    in every repo's row: names_credential knows no age key shape."""
    key = KEY_LINE.search(fleet.key_file.read_text(encoding="utf-8"))[0]
    args = [a.format(key=key, lower=key.lower()) for a in args]
    result = rollout(*args, "--manifest", fleet.manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and said in result.stderr, out
    assert len(result.stderr.splitlines()) == 1 and not result.stdout, out
    assert key not in out.upper() and key[20:40] not in out.upper(), out


def test_a_template_raising_runtimeerror_is_one_line_never_a_traceback_of_its_text(tmp_path):
    """`{{ cycler().next() }}` (jinja2.utils raises RuntimeError for a cycler of no item) escaped
    render's error mapping: a Python traceback whose template frame printed the template's line; a
    template hard-linked to `.env` holding that text printed its password (items 6 and 11)."""
    from tests.test_pass11b import _one_repo_with_a_template

    dotenv = b"DB_PASSWORD=Zq18bHorse{{cycler().next()}}battery\n"
    manifest = _one_repo_with_a_template(tmp_path, dotenv, "x\n")
    template = tmp_path / "tpl" / "notes.j2"
    template.unlink()
    template.hardlink_to(tmp_path / "ws" / "victim" / ".env")
    result = rollout("plan", "--manifest", manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and "Traceback" not in out, out
    assert "template notes.j2:1 fails: RuntimeError (fix the template)" in result.stderr, out
    assert len(result.stderr.splitlines()) == 1 and "Zq18b" not in out, out
