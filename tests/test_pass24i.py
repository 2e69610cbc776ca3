"""Pass 24i (issue 13 items 9-12 and bad input, a third-round pass over pass 24f's code): what
still broke. Each test here fails without its fix."""

from __future__ import annotations

import json
import os

import pytest

from tests.helpers import git, rollout
from tests.test_drift_messages import _victim

_ENC = (
    "A{}=ENC[AES256_GCM,data:abcd,iv:abcdabcdabcdabcdabcdabcdabcdabcdabcdabcdabc=,"
    "tag:abcdabcdabcdabcdabcdab==,type:str]\n"
)
_META = (
    "sops_age__list_0__map_enc=-----BEGIN AGE ENCRYPTED FILE-----\\nYWdl\\n"
    "-----END AGE ENCRYPTED FILE-----\\n\n"
    "sops_age__list_0__map_recipient=age1xyz\n"
    "sops_lastmodified=2024-01-01T00:00:00Z\n"
    "sops_mac=ENC[AES256_GCM,data:abcd,iv:abcd,tag:abcd,type:str]\n"
    "sops_version=3.8.1\n"
)


def test_a_line_of_an_oversized_enc_file_is_not_named_by_a_count_of_its_ends(tmp_path):
    """ON-LIST 13.9/13.12 (pass 24f's reading of a `.env.enc` over 16 MB by its first and last
    lines): a value appended by hand after the sops metadata of an 18 MB `.env.enc`, on line
    160,006, was named `.env.enc:1110` (counted in the lines read: the user looks at an encrypted
    line and finds nothing), and the same blob was said again as "once committed" (its history is
    read by other ends: 1 MB, not 64 KB). Now: one finding, no line number ("near its start or
    end"), beside the error saying the file is larger than the tool reads."""
    manifest, repo = _victim(tmp_path)
    text = "".join(_ENC.format(i) for i in range(160_000)) + _META + "DB_PASSWORD=hunter2-x\n"
    (repo / ".env.enc").write_text(text)
    git(repo, "add", "-f", ".env.enc")
    git(repo, "commit", "-qm", "an oversized enc file")
    result = rollout("drift", "--manifest", manifest, "--repo", "victim", "--format", "json")
    assert result.code == 1, result.stdout + result.stderr
    [victim] = json.loads(result.stdout)["repos"]
    assert "is 18 MB" in victim["error"], victim
    said = [f["message"] for f in victim["findings"] if f["path"] == ".env.enc"]
    assert len(said) == 1, said
    assert said[0].startswith(".env.enc (near its start or end) holds a value"), said
    assert "hunter2" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "printed",
    [
        "gho_abc\\377def",  # a byte no UTF-8 decodes
        "\\357\\273\\277gho_abcdef0123",  # a UTF-8 byte order mark before it
        "gho_abc\\342\\200\\213def",  # a zero-width space in it
    ],
)
def test_a_token_gh_prints_outside_ascii_is_refused_in_one_line(
    loop, github, monkeypatch, tmp_path, printed
):
    """NEW beside pass 24f's shape check of what `gh auth token` prints: a byte of it no UTF-8
    decodes was "unexpected UnicodeDecodeError while running `rollout status`; please report
    this" and a crash log; a character outside ASCII (a byte order mark, a zero-width space), which
    no token holds, was sent to GitHub and each repo said "set GITHUB_TOKEN to a valid token". Now
    one line naming gh, never quoting what it printed."""
    from tests.test_adversary import run_cli

    gh = tmp_path / "bin" / "gh"
    gh.parent.mkdir()
    gh.write_text(f"#!/bin/sh\nprintf '{printed}\\n'\n")
    gh.chmod(0o755)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setenv("PATH", f"{gh.parent}:{os.environ['PATH']}")
    result = run_cli("status", "-m", loop.manifest, "--repo", "juniper-ml")
    assert result.returncode == 1 and result.stdout == "", result.stdout
    assert result.stderr.startswith("error: what `gh auth token` printed holds a space"), (
        result.stderr
    )
    assert "abc" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_yaml_entry_file_over_the_size_bound_names_no_line_none(tmp_path):
    """NEW (13.11's bad input, the YAML bounds pass 24f's counting sits beside): a
    `.github/dependabot.yml` (`kind: yaml-entry`) over 1 MB, or nested 1,500 deep in block style
    (3 MB of indentation), was refused as "`.github/dependabot.yml:None: invalid YAML: file is
    larger than 1 MB`": a line the size check has not. Now the path alone, as the other readers
    say it."""
    from juniper_rollout import planner
    from juniper_rollout.errors import RepoError
    from tests.test_rollouts import entry_core, snap

    manifest, repo = entry_core(tmp_path)
    deep = "version: 2\nupdates:\n- package-ecosystem: npm\n  x:\n" + "".join(
        "  " * (i + 2) + "- \n" for i in range(1500)
    )
    with pytest.raises(RepoError) as err:
        planner.plan_repo(manifest, repo, snap({".github/dependabot.yml": deep}))
    assert str(err.value).startswith(
        ".github/dependabot.yml: invalid YAML: file is larger than 1 MB"
    ), err.value


def test_a_gh_printing_without_end_is_read_no_further_than_a_token(
    loop, github, monkeypatch, tmp_path
):
    """NEW beside pass 24f's shape check of what `gh auth token` prints (13.11: bounded memory): a
    `gh` (a wrapper gone wrong) printing without end was read whole for up to 20 s: 1.5 GB in 1.4 s
    under a 1.5 GB limit, then "unexpected MemoryError"; unlimited, the machine's memory. Now read
    no further than a token and a few characters more, stopped, and refused in one line."""
    import time

    from tests.test_adversary import run_cli

    gh = tmp_path / "bin" / "gh"
    gh.parent.mkdir()
    gh.write_text("#!/bin/sh\nexec yes gho_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n")
    gh.chmod(0o755)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    monkeypatch.setenv("PATH", f"{gh.parent}:{os.environ['PATH']}")
    start = time.monotonic()
    result = run_cli("status", "-m", loop.manifest, "--repo", "juniper-ml")
    assert time.monotonic() - start < 15
    assert result.returncode == 1 and result.stdout == "", result.stdout
    assert "is over 4,096 characters" in result.stderr, result.stderr
    assert "gho_" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
