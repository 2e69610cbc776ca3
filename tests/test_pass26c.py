"""Issue 13, pass 26c: a verification pass over items 9-12 and the smaller list's input items
(session 30). Each finding's test fails on the main this pass started from (d10b97b, checked by
undoing its fix)."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import git, rollout
from tests.test_adversary import hostile_template


@pytest.mark.parametrize(
    "how",
    ["a symlink leading out", "a hidden folder", "an empty list"],
)
def test_an_include_refused_in_an_included_template_names_that_template(tmp_path, how):
    """The smaller list's wording item ("a failing `{% include %}` reports the wrong template name"),
    for an include the loader refuses (a symlink leading out of the templates folder, a hidden
    name) or that names no template (`[]`, `none`): the refusal was said of the template the
    manifest names ("template 'outer.j2' is not allowed to do that: footer.j2 leads outside …";
    "unknown template 'outer.j2'", while the same line listed outer.j2 as available), never of
    parts.j2, the one holding that include."""
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not a template\n")
    if how == "a symlink leading out":
        body, said = "{% include 'footer.j2' %}", "footer.j2 leads outside the templates folder"
    elif how == "a hidden folder":
        body, said = "{% include '.shared/footer.j2' %}", "is under the hidden name .shared"
    else:
        body, said = "{% include [] %}", "includes no template"
    manifest = hostile_template(tmp_path, "{% include 'parts.j2' %}\n", name="outer.j2")
    (tmp_path / "tpl" / "parts.j2").write_text("# a shared part\n" + body + "\n")
    (tmp_path / "tpl" / "footer.j2").symlink_to(outside)
    (tmp_path / "tpl" / ".shared").mkdir()
    (tmp_path / "tpl" / ".shared" / "footer.j2").write_text("footer\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.search(r"template (parts\.j2:2|'parts\.j2') \(through 'outer\.j2'\)", lines[0]), (
        lines[0]
    )
    assert said in lines[0], lines[0]
    assert "unknown template 'outer.j2'" not in lines[0]


def test_a_refused_include_in_the_named_template_still_names_it(tmp_path):
    """The same refusal one level up is the named template's own, said as before."""
    (tmp_path / "elsewhere.txt").write_text("x\n")
    manifest = hostile_template(tmp_path, "{% include 'footer.j2' %}\n", name="outer.j2")
    (tmp_path / "tpl" / "footer.j2").symlink_to(tmp_path / "elsewhere.txt")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert "template 'outer.j2' is not allowed to do that: footer.j2 leads outside" in result.stderr
    assert "through" not in result.stderr


def _master_only(tmp_path):
    """A repo whose one branch is `master` (the manifest's base is the default `main`), with a
    `.env.prod` committed and removed in its history."""
    from tests.demofleet import make_repo
    from tests.test_adversary import KEY

    repo = make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    git(repo, "branch", "-m", "main", "master")
    (repo / ".env.prod").write_text("DB_PASSWORD=an-old-password-rotated-since\n")
    who = ["-c", "user.name=t", "-c", "user.email=t@x"]
    git(repo, "add", "-f", ".env.prod")
    git(repo, *who, "commit", "-qm", "prod settings")
    git(repo, "rm", "-q", ".env.prod")
    git(repo, *who, "commit", "-qm", "remove them")
    manifest = tmp_path / "repos.yaml"
    manifest.write_text(
        f"version: 1\nworkspace: ws\ndefaults:\n  age_recipients: [{KEY}]\nrepos:\n  - name: victim\n"
    )
    return manifest


@pytest.mark.parametrize("ref", [None, "chore/typo"])
def test_drift_of_a_repo_whose_ref_is_not_found_still_names_the_env_file_in_its_history(
    tmp_path, ref
):
    """Item 9: history needs no ref. A repo on `master` where the manifest says `main` (or a
    mistyped `--ref`) was its error line alone, "0 findings", beside a `.env.prod` its history
    holds: the scan of every ref's history never ran. The error is said, and the finding with it."""
    manifest = _master_only(tmp_path)
    args = ["drift", "--manifest", manifest, *(["--ref", ref] if ref else [])]
    result = rollout(*args)
    assert result.code == 1, result.stdout
    missing = "ref 'chore/typo' not found" if ref else "base branch 'main' not found"
    assert missing in result.stdout, result.stdout
    assert "plaintext-env-in-history  .env.prod was committed in the past" in result.stdout
    report = json.loads(rollout(*args, "--format", "json").stdout)
    (victim,) = report["repos"]
    assert missing in victim["error"]
    assert [f["path"] for f in victim["findings"]] == [".env.prod"]


@pytest.mark.parametrize("shape", ["a folder", "a FIFO", "a symlink"])
def test_drift_of_a_repo_whose_env_cannot_be_read_still_names_the_env_file_in_its_history(
    tmp_path, shape
):
    """Item 9: a `.env` that is a folder (docker's bind mount of a missing file makes one), a FIFO or
    a symlink made drift's repo its error line alone, "0 findings", beside a `.env.prod` in its
    history, which does not depend on that file. The error is said, and the finding with it."""
    import os

    manifest = _master_only(tmp_path)
    repo = tmp_path / "ws" / "victim"
    git(repo, "branch", "-m", "master", "main")
    (repo / ".gitignore").write_text(".env\n")
    if shape == "a folder":
        (repo / ".env").mkdir()
    elif shape == "a FIFO":
        os.mkfifo(repo / ".env")
    else:
        (repo / ".env").symlink_to(tmp_path / "repos.yaml")
    # `.env` is the repo's encrypt source (as the demo fleet's repos have it)
    manifest.write_text(
        manifest.read_text()
        + "    env_example: {from: dotenv}\n    encrypt:\n      - {source: .env, target: .env.enc}\n"
    )
    result = rollout("drift", "--manifest", manifest)
    assert result.code == 1, result.stdout
    assert ".env in the clone is " in result.stdout, result.stdout
    assert "plaintext-env-in-history  .env.prod was committed in the past" in result.stdout
