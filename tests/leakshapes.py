"""The leak guard's two verdicts on one `.env` line beside a template, as the shape tests ask them
(test_value_pieces, test_pass16c, test_pass17): refused, naming the line and never the word; or no
finding."""

from __future__ import annotations

from tests.helpers import Result, rollout
from tests.test_pass11b import _one_repo_with_a_template


def plan_beside(tmp_path, line: str, template: str, public: str = "") -> Result:
    """``rollout plan`` of one repo whose untracked `.env` is ``line`` and whose manifest renders
    ``template`` into NOTES.md (``public``: text the repo commits)."""
    manifest = _one_repo_with_a_template(tmp_path, f"{line}\n".encode(), template, public)
    return rollout("plan", "--manifest", manifest)


def refused(tmp_path, line: str, word: str) -> None:
    """A template holding ``word`` beside ``line`` is refused, naming the line, never the word."""
    result = plan_beside(tmp_path, line, f"secret: {word}\n")
    assert result.code == 1, result.stdout
    assert "NOTES.md would contain the value on line 1 of the plaintext .env" in result.stdout
    assert word not in result.stdout + result.stderr


def no_finding(tmp_path, line: str, template: str) -> None:
    """No finding when the repo commits the template's words (round nine: a word of a value found
    nowhere in the repo is checked whatever its shape; what these controls hold is that no shape
    takes the word for a password, which public text does not excuse)."""
    result = plan_beside(tmp_path, line, template, public=template)
    assert result.code == 0, result.stdout


def token_name_refused(tmp_path, monkeypatch, token: str, hidden: str) -> None:
    """A `.env` whose third line is ``token=`` (an issuer's token before an `=`) is refused by plan,
    ``plan --json`` and ``apply --yes`` with that line's number; neither ``hidden`` (a piece of the
    token) nor the file's value is printed or reaches a git object, and no branch is written
    (passes 26b, 26e and 26f, item 13.8)."""
    from tests.helpers import git
    from tests.test_pass24b import objects
    from tests.test_pass25e import _one_repo

    value = "Zq26Value9ofTheLeakShapes"
    manifest = _one_repo(
        tmp_path, monkeypatch, {"README.md": "x\n"}, f"APP_ENV=dev\nAPI_TOKEN={value}\n{token}=\n"
    )
    for command in (("plan",), ("plan", "--json"), ("apply", "--yes")):
        result = rollout(*command, "--manifest", manifest)
        out = result.stdout + result.stderr
        assert result.code == 1 and ".env:3:" in out, out
        assert hidden not in out and value not in out, out
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "branch", "--list").strip() == "* main"
    assert hidden.encode() not in objects(repo)


def template_and_message_refused(
    tmp_path, token: str, subject: str, secret: str | None = None
) -> None:
    """A template holding ``token`` is refused by plan and apply (never echoed, no branch, nothing in
    git's objects), and so is the manifest's commit message ``subject`` holding it (``{token}`` in
    it), at its manifest line; ``secret``, a piece of the token, is never seen (passes 26e, 26f and
    27b, items 13.6 and 13.7)."""
    from tests.helpers import git
    from tests.test_pass24b import objects

    secret = secret or token[-30:-10]
    manifest = _one_repo_with_a_template(tmp_path, b"APP_ENV=dev\n", f"token: {token}\n")
    for command in (("plan",), ("apply", "--yes")):
        result = rollout(*command, "--manifest", manifest)
        out = result.stdout + result.stderr
        assert result.code == 1 and "holds a credential" in out, out
        assert secret not in out, out
    repo = tmp_path / "ws" / "victim"
    assert git(repo, "branch", "--list").strip() == "* main"
    assert secret.encode() not in objects(repo)
    (tmp_path / "tpl" / "notes.j2").write_text("notes\n")
    message = subject.format(token=token)
    manifest.write_text(
        manifest.read_text().replace("defaults:\n", f'defaults:\n  commit_message: "{message}"\n')
    )
    result = rollout("plan", "--manifest", manifest)
    out = result.stdout + result.stderr
    assert result.code == 1 and "repos.yaml:" in out and secret not in out, out
