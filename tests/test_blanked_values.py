"""A plaintext `.env` that leaves empty a value the committed ciphertext holds (issue 13, item 1;
round three left it open): `.env.example` copied to `.env` with only the value being rotated filled in
encrypted empty strings over the other committed values. Each such name is now refused, by name, and
the line gives a way to empty a value on purpose that works when pasted."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from juniper_rollout.sops import sops_path
from tests.demofleet import CANARY
from tests.helpers import git, rollout
from tests.test_pass3 import BRANCH
from tests.test_pass10a import _apply, _decrypted

CASCOR = "juniper-cascor"


def _pasted(command: str, repo: Path) -> subprocess.CompletedProcess:
    path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"
    return subprocess.run(
        command,
        shell=True,
        cwd=repo,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
    )


def _quoted_command(line: str, starts: str) -> str:
    # pass 25d: a branch delete runs only while the branch is as printed (`… | grep -qx TIP && git -C
    # CLONE branch -D …`): found by what it holds, not how it starts
    return next(part for part in line.split("`") if starts in part)


def test_one_value_filled_in_a_copied_env_example_never_blanks_the_others(fleet, tmp_path):
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    tip = git(repo, "rev-parse", BRANCH).strip()
    example = git(repo, "show", f"{BRANCH}:.env.example")
    assert "HF_TOKEN=\n" in example
    (repo / ".env").write_text(example.replace("HF_TOKEN=\n", f"HF_TOKEN=hf_new-{CANARY}\n"))
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1, planned.stdout
    assert "leaves 14 names empty" in planned.stdout and f"on {BRANCH}" in planned.stdout
    assert "encrypt .env" not in planned.stdout and "HF_TOKEN" not in planned.stdout.split("(")[1]
    assert _apply(fleet, CASCOR).code == 1
    assert git(repo, "rev-parse", BRANCH).strip() == tip
    # the way given to empty them on purpose works when pasted: the next apply encrypts the clone's file
    delete = _quoted_command(planned.stdout, f"git -C {repo} branch -D")
    assert _pasted(delete, repo).returncode == 0
    assert _apply(fleet, CASCOR).code == 0
    assert f"HF_TOKEN=hf_new-{CANARY}" in _decrypted(repo, BRANCH, tmp_path)


def test_a_value_emptied_on_purpose_goes_through_sops_set_on_the_base(fleet, tmp_path):
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    git(repo, "merge", "-q", "--ff-only", BRANCH)  # the clone is on main: the review merged
    (repo / "CHANGELOG.md").write_text("merged\n")  # main moves on past the merge
    git(repo, "add", "CHANGELOG.md")
    git(repo, "commit", "-q", "-m", "changelog")
    env = repo / ".env"
    lines = env.read_text().splitlines(keepends=True)
    env.write_text(
        "".join("HF_TOKEN=\n" if line.startswith("HF_TOKEN=") else line for line in lines)
    )
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1 and "leaves 1 name empty" in planned.stdout, planned.stdout
    assert "on main holds values for (HF_TOKEN:" in planned.stdout
    # the refusal's own commands, pasted in the clone (checked out on main): sops empties the value
    # in place, and once that is committed the clone's file agrees with main's
    command = _quoted_command(planned.stdout, "sops set")
    assert shlex.split(command)[-2:] == ['["HF_TOKEN"]', '""']
    done = _pasted(command, repo)
    assert done.returncode == 0, done.stderr
    git(repo, "commit", "-q", "-m", "HF_TOKEN emptied on purpose", ".env.enc")
    assert "HF_TOKEN=\n" in git(repo, "show", "main:.env.enc")
    again = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert again.code == 0 and "leaves" not in again.stdout, again.stdout


def test_an_empty_value_the_committed_file_holds_empty_too_is_not_refused(fleet):
    """Only a committed value is guarded: a name empty on both sides plans as usual."""
    repo = fleet.repo(CASCOR)
    env = repo / ".env"
    env.write_text(env.read_text() + "OPTIONAL_HOOK_URL=\n")
    assert _apply(fleet, CASCOR).code == 0
    assert "OPTIONAL_HOOK_URL=\n" in git(repo, "show", f"{BRANCH}:.env.enc")
    env.write_text(env.read_text().replace("HF_TOKEN=", f"HF_TOKEN=rotated-{CANARY}-", 1))
    result = _apply(fleet, CASCOR)
    assert result.code == 0 and "updated" in result.stdout, result.stdout


def _json_env_enc_on_main(repo: Path, tmp: Path) -> None:
    """A teammate's `.env.enc` in sops' JSON format committed on main, the branch deleted."""
    assert git(repo, "merge", "-q", "--ff-only", BRANCH) is not None
    git(repo, "branch", "-D", BRANCH)
    work = tmp / "json"
    work.mkdir()
    (work / ".sops.yaml").write_text(git(repo, "show", "main:.sops.yaml"))
    (work / "old.enc").write_text(git(repo, "show", "main:.env.enc"))
    decrypt = [sops_path(), "decrypt", "--input-type", "dotenv", "--output-type", "dotenv"]
    plain = subprocess.run([*decrypt, "old.enc"], cwd=work, check=True, capture_output=True)
    (work / "x.env").write_bytes(plain.stdout)
    encrypt = [sops_path(), "encrypt", "--filename-override", ".env.enc", "--input-type", "dotenv"]
    done = subprocess.run(
        [*encrypt, "--output-type", "json", "x.env"], cwd=work, check=True, capture_output=True
    )
    (repo / ".env.enc").write_bytes(done.stdout)
    git(repo, "commit", "-qm", "a teammate's JSON .env.enc", "--", ".env.enc")


def test_one_value_filled_never_blanks_a_json_env_enc_either(fleet, tmp_path):
    """Round four: the by-name refusal read dotenv lines only; sops writes an empty value in clear in
    JSON and YAML too (`"B": ""`), so a JSON `.env.enc` is read by name without a key as well."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    _json_env_enc_on_main(repo, tmp_path)
    example = git(repo, "show", "main:.env.example")
    (repo / ".env").write_text(example.replace("HF_TOKEN=\n", f"HF_TOKEN=hf_new-{CANARY}\n"))
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1 and "leaves 14 names empty" in planned.stdout, planned.stdout
    command = _quoted_command(planned.stdout, "sops set")
    assert "--input-type json --output-type json" in command
    done = _pasted(command, repo)  # the line's own command empties one in the JSON file
    assert done.returncode == 0, done.stderr
    name = shlex.split(command)[-2][2:-2]
    assert f'"{name}": ""' in (repo / ".env.enc").read_text()


def test_names_with_values_reads_each_sops_format_without_a_key(tmp_path):
    from juniper_rollout import sopsmeta

    work = tmp_path / "w"
    work.mkdir()
    (work / "p.env").write_text("A=one\nB=\nC_D=x y\n")
    from pyrage import x25519

    rule = (
        f"creation_rules:\n  - path_regex: .*\n    age: {x25519.Identity.generate().to_public()}\n"
    )
    (work / ".sops.yaml").write_text(rule)
    for fmt in ("dotenv", "json", "yaml"):
        encrypt = [sops_path(), "encrypt", "--input-type", "dotenv", "--output-type", fmt, "p.env"]
        blob = subprocess.run(encrypt, cwd=work, check=True, capture_output=True).stdout
        assert sopsmeta.names_with_values(blob) == ["A", "C_D"], (fmt, blob[:200])


def test_an_env_of_self_references_never_blanks_the_committed_values(fleet):
    """Round four: an example written `NAME=${NAME}` ("taken from the environment") copied to `.env`:
    python-dotenv expands each to the unset variable itself, and sops would have encrypted 15
    literal `${NAME}` strings over the committed values."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    tip = git(repo, "rev-parse", BRANCH).strip()
    names = [
        line.split("=", 1)[0]
        for line in git(repo, "show", f"{BRANCH}:.env.example").splitlines()
        if "=" in line and not line.startswith("#")
    ]
    (repo / ".env").write_text("".join(f"{n}=${{{n}}}\n" for n in names))
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1 and "holds no values" in planned.stdout, planned.stdout
    filled = "".join(
        f"{n}=rotated-{CANARY}\n" if n == "HF_TOKEN" else f'{n}="${{{n}:-}}"\n' for n in names
    )
    (repo / ".env").write_text(filled)
    again = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert again.code == 1 and "leaves 14 names empty" in again.stdout, again.stdout
    assert _apply(fleet, CASCOR).code == 1
    assert git(repo, "rev-parse", BRANCH).strip() == tip


def test_values_python_dotenv_reads_as_empty_never_blank_the_committed_ones(fleet):
    """Pass 14c: `NAME=${OTHER_UNSET}` (empty to python-dotenv) and the placeholder `NAME=  # your
    token here` (python-dotenv gives the app the comment's text, no secret) were encrypted as text over
    the committed values. A reference to a value set earlier in the file is a value."""
    repo = fleet.repo(CASCOR)
    assert _apply(fleet, CASCOR).code == 0
    names = [
        line.split("=", 1)[0]
        for line in git(repo, "show", f"{BRANCH}:.env.example").splitlines()
        if "=" in line and not line.startswith("#")
    ]
    others = [n for n in names if n != "HF_TOKEN"]
    for spelling in ("  # your token here", "\t# set me", "${FROM_THE_ENVIRONMENT}"):
        lines = [f"HF_TOKEN=rotated-{CANARY}"] + [f"{n}={spelling}" for n in others]
        (repo / ".env").write_text("\n".join(lines) + "\n")
        planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
        assert planned.code == 1 and "leaves 14 names empty" in planned.stdout, (spelling, planned)
    # `${HF_TOKEN}` after HF_TOKEN is set is that value to the app: only the rest are empty
    lines = [f"HF_TOKEN=rotated-{CANARY}", f"{others[0]}=${{HF_TOKEN}}"]
    lines += [f"{n}=  # later" for n in others[1:]]
    (repo / ".env").write_text("\n".join(lines) + "\n")
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 1 and "leaves 13 names empty" in planned.stdout, planned.stdout


def test_app_values_reads_as_python_dotenv_does():
    """Each spelling against what python-dotenv's `dotenv_values` gives for it (tests/test_dotenv_oracle.py
    runs it), but B and C: bare `# …` placeholders, whose text python-dotenv gives the app, are no value
    to the secrets plan."""
    from juniper_rollout.appenv import app_values

    text = (
        b'A=#x\nB= #x\nC=\t# tab\nD=${E}${F:-}\nE=\nG=v\nH=${G}\nI="${NOPE}"\n'
        b"J='${NOPE}'\nK=${NOPE:-d}\nL=x # c\nM=\"\"  # c\n"
    )
    assert app_values(text) == {
        "A": b"#x",
        "B": b"",
        "C": b"",
        "D": b"",
        "E": b"",
        "G": b"v",
        "H": b"v",
        "I": b"",
        "J": b"",
        "K": b"d",
        "L": b"x",
        "M": b"",
    }


def test_a_committed_quoted_empty_value_written_bare_later_is_not_a_blanked_one(fleet):
    """Pass 14a left open: `OPT=""` committed (sops stores the two bytes `""`, encrypted) and later
    written `OPT=`: both are empty to the app; with a key at hand the committed one is read."""
    repo = fleet.repo(CASCOR)
    env = repo / ".env"
    env.write_text(env.read_text() + 'OPTIONAL_WEBHOOK=""\n')
    assert _apply(fleet, CASCOR).code == 0
    env.write_text(env.read_text().replace('OPTIONAL_WEBHOOK=""\n', "OPTIONAL_WEBHOOK=\n"))
    planned = rollout("plan", "-m", fleet.manifest, "--repo", CASCOR)
    assert planned.code == 0 and "leaves" not in planned.stdout, planned.stdout
