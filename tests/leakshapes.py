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
