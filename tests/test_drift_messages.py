"""`rollout drift` reads history's messages too (passes 17 and 18b noted it): a `.env` pasted into a
commit message, or a token in an annotated tag's, is readable by everyone who can read the repository,
like a committed `.env`. The finding names the commit or tag object and the `.env` line, never the
value. Real git."""

from __future__ import annotations

import json

from tests.demofleet import make_repo
from tests.helpers import git, rollout
from tests.test_hostile import manifest_for

TOKEN = "ghp_" + "Zq19Messages" * 3  # a GitHub token's shape: 4 + 36 characters
# not the canary: the suite fails on any git object holding it, and this one is committed on purpose
SECRET = "Zq19MsgSecretValue-77"


def _victim(tmp_path):
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    repo = make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n", ".gitignore": ".env\n"})
    (repo / ".env").write_text(f"APP_ENV=production\nAPI_TOKEN={SECRET}\n")  # untracked
    return manifest, repo


def _findings(manifest) -> list[dict]:
    result = rollout("drift", "--manifest", manifest, "--format", "json")
    assert (
        TOKEN not in result.stdout + result.stderr and SECRET not in result.stdout + result.stderr
    )
    data = json.loads(result.stdout)
    victim = next(r for r in data["repos"] if r["name"] == "victim")
    return [f for f in victim["findings"] if f["id"] == "secret-in-message"]


def test_a_value_of_the_env_pasted_into_a_commit_message_is_a_finding(tmp_path):
    manifest, repo = _victim(tmp_path)
    (repo / "app.py").write_text("print(1)\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "-qm", f"wire the api\n\nAPI_TOKEN={SECRET}\nAPP_ENV=production\n")
    short = git(repo, "rev-parse", "--short", "HEAD").strip()
    found = _findings(manifest)
    assert [f["message"].split(":")[0] for f in found] == [
        f"the message of commit {short} holds the value on line 2 of the plaintext .env"
    ]
    table = rollout("drift", "--manifest", manifest)
    assert "secret-in-message" in table.stdout and table.code != 0
    assert SECRET not in table.stdout + table.stderr


def test_a_token_in_an_annotated_tags_message_is_a_finding_named_by_the_tag_object(tmp_path):
    manifest, repo = _victim(tmp_path)
    git(repo, "tag", "-a", "v1", "-m", f"release\n\ndeployed with {TOKEN}")
    tag_object = git(repo, "rev-parse", "--short", "v1").strip()
    found = _findings(manifest)
    assert len(found) == 1
    assert found[0]["message"].startswith(
        f"the message of annotated tag {tag_object} holds a credential"
    )
    sarif = rollout("drift", "--manifest", manifest, "--format", "sarif")
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    hit = next(r for r in results if r["ruleId"] == "secret-in-message")
    assert hit["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "."


def test_ordinary_values_in_messages_are_no_finding(tmp_path):
    """A value under a name that looks no secret (the environment's name) is everywhere in messages,
    and so are a token's prefix in a name and a PGP block: the real Juniper repos' merges of
    `chore/pypi-publish-packaging` and their signed tags were 37 false findings before the shapes
    asked for a token's issued length."""
    manifest, repo = _victim(tmp_path)
    (repo / "app.py").write_text("print(1)\n")
    git(repo, "add", "app.py")
    git(repo, "commit", "-qm", "deploy to production\n\nAPP_ENV=production\n")
    git(repo, "commit", "-q", "--allow-empty", "-m", "Merge branch 'chore/pypi-publish-packaging'")
    signature = "-----BEGIN PGP SIGNATURE-----\n\niQIzBAABCgAdFiEE\n-----END PGP SIGNATURE-----"
    git(
        repo,
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        f"bump pypa/gh-action-pypi-publish\n\n{signature}",
    )
    git(repo, "tag", "-a", "v0", "-m", f"baseline\n{signature}")
    assert _findings(manifest) == []
