"""A repo's error or check line, checked by the leak guard as the text the tool prints before it is
shown: plan's, apply's and drift's error lines (``fleet``), verify's check lines (``verify``).

An error raised before the guard's check of the rendered files can quote them (pre-commit's schema
error, sops' error text, a YAML reader's), so a template holding a plaintext value would have it
printed in the error (pass 23b); the line is read as printed and as its reader decodes it (pass 23e).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from juniper_rollout import gitrepo, leakguard
from juniper_rollout.changes import CREATE, FileChange
from juniper_rollout.errors import RepoError
from juniper_rollout.manifest import Manifest, RepoSpec

ERROR_MESSAGE = "the error message"  # what the leak guard calls a repo's error line it refuses
# the tool's own words in error lines that a `.env` value's part may equal: sops' value format, which
# a `.env` holding the branch's ciphertext (`ENC[AES256_GCM,data:…`) has as a part of each value, and
# which the refusal of such a `.env` names
OWN_WORDING = ("ENC[AES256_GCM,…]",)
# in place of a line whose check failed in an unexpected way: never the run's end, nor shown unchecked
UNCHECKED = "an error message the leak guard could not check for plaintext values (not shown)"


def value_free(
    manifest: Manifest, repo: RepoSpec, fleet: leakguard.FleetValues | None, line: str
) -> str:
    """``line``, a repo's error, unless the leak guard refuses it as printed text (it holds a value the
    guard reads): then the guard's own verdict, which names the template holding the value (or the
    line of the plaintext), never the value.
    Pass 23b (13.6): an error raised before the guard's check quoted the rendered text, so a
    managed-hooks template holding a `.env` value (`language: VALUE`, `id: VALUE`, a `files:` regex)
    was printed in pre-commit's schema error ("... but got: 'VALUE'", "At Hook(id='VALUE')")."""
    [said] = values_free(manifest, repo, fleet, [line])
    return said


def values_free(
    manifest: Manifest, repo: RepoSpec, fleet: leakguard.FleetValues | None, lines: list[str]
) -> list[str]:
    """Each of ``lines`` as :func:`value_free` gives it, the values to look for gathered once."""
    try:
        check = _line_checker(manifest, repo, fleet)
    except RepoError as verdict:  # the values cannot be read: why, in place of each line
        return [str(verdict) if line else line for line in lines]
    except Exception:  # never the run's end, nor a line nobody checked
        return [UNCHECKED if line else line for line in lines]
    return [_checked(check, line) if line else line for line in lines]


def _checked(check: Callable[[str], None], line: str) -> str:
    try:
        check(line)
    except RepoError as verdict:
        return str(verdict)
    except Exception:  # never the run's end, nor a line nobody checked
        return UNCHECKED
    return line


def _line_checker(
    manifest: Manifest, repo: RepoSpec, fleet: leakguard.FleetValues | None
) -> Callable[[str], None]:
    """What raises the guard's RepoError for a line holding a value: the templates' verdict first
    (which one holds the value says what to fix), else the line's."""
    try:
        plaintext = leakguard.own_values(repo, manifest.env_files, fleet)
    except RepoError:  # an `encrypt:` source it cannot read: the clone's other files are read
        plaintext = leakguard.read_plaintext_values(repo, manifest.env_files, strict=False)
    # the line alone (``cleared`` given: no template read) and the values whole or in their shaped
    # parts, not their words: an error naming a folder `internal-tools` is no `.env`'s word to hide
    values = plaintext._replace(values=[v for v in plaintext.values if not v.word])
    # the clone's own path: the lines name it (`git -C CLONE …`, pass 25d), and it is no secret to
    # whoever runs the tool there (a `.env` holding it, `APP_ROOT=/srv/app`, hid those lines: pass 25e)
    tracked = (*_tracked_values(repo, values.values), str(repo.path))
    others = (
        leakguard.FleetValues(tuple((n, v) for n, v in fleet.named if not v.word))
        if fleet
        else None
    )

    def check(line: str) -> None:
        said = FileChange(ERROR_MESSAGE, CREATE, None, b"\n\0".join(leakguard.readings(line)), "")
        try:
            leakguard.check(
                manifest, repo, [said], OWN_WORDING + tracked, others, cleared=(), plaintext=values
            )
        except RepoError:
            leakguard.check(
                manifest, repo, [replace(said, after=b"")], (), fleet, plaintext=plaintext
            )
            raise

    return check


def _tracked_values(repo: RepoSpec, values: list[leakguard.Value]) -> tuple[str, ...]:
    """The values that are paths of files the clone tracks at its base: what any clone shows, and the
    tool's lines name (a tracked plaintext env file the plan deletes, verify's finding naming it).
    Pass 25e (a false refusal): a `.env` naming a tracked env file (`DOTENV_CONFIG_PATH=config/prod.env`)
    refused every saved plan deleting that file, which plan and `apply --yes` delete ("was the plan
    file edited? plan again": planning again never helped), and hid which file verify found tracked."""
    paths = []
    for v in values:
        try:
            paths.append(v.value.decode("utf-8"))
        except UnicodeDecodeError:
            continue
    return gitrepo.tracked_at_base(repo.path, repo.base, paths) if paths else ()
