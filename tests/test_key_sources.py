"""Key lookup exactly as sops 3.11: each source, checked against the real sops decrypting a real file.

For every case, what ``keys.find_age_keys`` says (a key that is a recipient, or none) must agree with
whether the real sops, in the same environment and directory, decrypts a file encrypted to that key.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from juniper_rollout import keys, sops
from tests.helpers import rollout

CASES = [
    "SOPS_AGE_KEY",
    "SOPS_AGE_KEY_FILE",
    "SOPS_AGE_KEY_FILE with ~",
    "SOPS_AGE_KEY_FILE literal ~ folder",
    "SOPS_AGE_KEY_CMD",
    "SOPS_AGE_KEY_CMD with a pipe",
    "missing SOPS_AGE_KEY_FILE + default keys.txt",
    "garbage SOPS_AGE_KEY_FILE + default keys.txt",
    "indented key line",
    "nothing",
]


def setup(case: str, tmp_path: Path) -> tuple[dict[str, str], Path, str]:
    """(environment, cwd, recipient) for one case; the key is never where the case does not put it."""
    home, cwd = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env.update(
        HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), SOPS_DISABLE_VERSION_CHECK="1"
    )
    store = tmp_path / "store" / "keys.txt"
    recipient = keys.generate_key_file(store)
    secret = next(
        line for line in store.read_text().splitlines() if line.startswith("AGE-SECRET-KEY-1")
    )
    default = home / ".config" / "sops" / "age" / "keys.txt"
    if case == "SOPS_AGE_KEY":
        env["SOPS_AGE_KEY"] = secret
    elif case == "SOPS_AGE_KEY_FILE":
        env["SOPS_AGE_KEY_FILE"] = str(store)
    elif (
        case == "SOPS_AGE_KEY_FILE with ~"
    ):  # the key really is at $HOME/k.txt: sops does not look there
        (home / "k.txt").write_text(store.read_text())
        env["SOPS_AGE_KEY_FILE"] = "~/k.txt"
    elif case == "SOPS_AGE_KEY_FILE literal ~ folder":
        (cwd / "~").mkdir()
        (cwd / "~" / "k.txt").write_text(store.read_text())
        os.chmod(cwd / "~" / "k.txt", 0o600)
        env["SOPS_AGE_KEY_FILE"] = "~/k.txt"
    elif case == "SOPS_AGE_KEY_CMD":
        env["SOPS_AGE_KEY_CMD"] = f"cat '{store}'"
    elif case == "SOPS_AGE_KEY_CMD with a pipe":  # no shell: `|` is an argument to cat
        env["SOPS_AGE_KEY_CMD"] = f"cat {store} | cat"
    elif case.endswith("+ default keys.txt"):
        default.parent.mkdir(parents=True)
        default.write_text(store.read_text())
        os.chmod(default, 0o600)
        bad = tmp_path / "garbage.txt"
        bad.write_text("not a key\n")
        env["SOPS_AGE_KEY_FILE"] = (
            str(bad) if case.startswith("garbage") else str(tmp_path / "missing.txt")
        )
    elif case == "indented key line":
        indented = tmp_path / "indented.txt"
        indented.write_text(f"  {secret}\n")
        env["SOPS_AGE_KEY_FILE"] = str(indented)
    return env, cwd, recipient


def sops_decrypts(env: dict[str, str], cwd: Path, ciphertext: bytes) -> bool:
    proc = subprocess.run(
        [
            sops.sops_path(),
            "--config",
            os.devnull,
            "decrypt",
            "--input-type",
            "dotenv",
            "--output-type",
            "dotenv",
            "/dev/stdin",
        ],
        input=ciphertext,
        env=env,
        cwd=cwd,
        capture_output=True,
    )
    return proc.returncode == 0


@pytest.mark.parametrize("case", CASES)
def test_the_tool_finds_a_key_exactly_when_sops_decrypts_with_it(case, tmp_path):
    env, cwd, recipient = setup(case, tmp_path)
    config = f"creation_rules:\n  - path_regex: '.*'\n    age: '{recipient}'\n"
    ciphertext = sops.encrypt_dotenv(b"A=1\n", sops_config=config, filename=".env.enc")
    found = keys.find_age_keys(env, cwd=cwd)
    decrypts = sops_decrypts(env, cwd, ciphertext)
    assert (recipient in found.public) == decrypts
    expected = {
        "SOPS_AGE_KEY_FILE with ~",
        "SOPS_AGE_KEY_CMD with a pipe",
        "indented key line",
        "nothing",
    }
    assert decrypts == (case not in expected)
    if case == "SOPS_AGE_KEY_FILE with ~":
        assert any("does not expand" in p for p in found.problems)
    if case.endswith("+ default keys.txt"):  # sops skips the broken source: so does the tool
        assert (
            found.problems and str(Path(env["HOME"]) / ".config/sops/age/keys.txt") in found.found
        )


def test_keygen_refuses_a_tilde_path_instead_of_making_a_folder_named_tilde(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", "~/keys.txt")
    result = rollout("keygen")
    assert result.code == 1 and "does not expand" in result.stderr
    assert not (tmp_path / "~").exists()


def test_rotate_and_verify_accept_a_key_command(fleet, monkeypatch):
    """SOPS_AGE_KEY_CMD users were refused by rotate and failed verify's key check."""
    monkeypatch.delenv("SOPS_AGE_KEY_FILE")
    monkeypatch.setenv("SOPS_AGE_KEY_CMD", f"cat {fleet.key_file}")
    found = keys.find_age_keys()
    assert found.public and found.found == ("$SOPS_AGE_KEY_CMD",)
    new = str(__import__("pyrage").x25519.Identity.generate().to_public())
    result = rollout("rotate", "--manifest", fleet.manifest, "--add", new)
    assert result.code == 0, result.stderr
    assert (
        rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes").code
        == 0
    )
    verify = rollout(
        "verify",
        "--manifest",
        fleet.manifest,
        "--repo",
        "juniper-cascor",
        "--ref",
        "chore/sops-age-rollout",
        "--json",
    )
    assert '"name": "age-key",\n          "ok": true' in verify.stdout


def test_rotate_goes_on_when_sops_would(fleet, monkeypatch, tmp_path):
    """A missing SOPS_AGE_KEY_FILE next to a valid default key: sops works, so rotate does not refuse."""
    default = Path(os.environ["XDG_CONFIG_HOME"]) / "sops" / "age" / "keys.txt"
    default.parent.mkdir(parents=True, exist_ok=True)
    default.write_bytes(fleet.key_file.read_bytes())
    os.chmod(default, 0o600)
    monkeypatch.setenv("SOPS_AGE_KEY_FILE", str(tmp_path / "missing.txt"))
    new = str(__import__("pyrage").x25519.Identity.generate().to_public())
    result = rollout("rotate", "--manifest", fleet.manifest, "--add", new)
    assert result.code == 0, result.stderr


def test_an_ssh_key_is_found_where_sops_finds_it(tmp_path):
    """~/.ssh/id_ed25519 is loaded by sops; it opens files for its ssh-ed25519 recipient only (not age1…)."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(home / ".ssh" / "id_ed25519")],
        check=True,
    )
    recipient = (home / ".ssh" / "id_ed25519.pub").read_text().split()[:2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env.update(
        HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), SOPS_DISABLE_VERSION_CHECK="1"
    )
    enc = subprocess.run(
        [
            sops.sops_path(),
            "encrypt",
            "--age",
            " ".join(recipient),
            "--input-type",
            "dotenv",
            "--output-type",
            "dotenv",
            "/dev/stdin",
        ],
        input=b"A=1\n",
        env=env,
        capture_output=True,
        check=True,
    ).stdout
    assert sops_decrypts(env, tmp_path, enc)
    found = keys.find_age_keys(env, cwd=tmp_path)
    assert found.ssh == (str(home / ".ssh" / "id_ed25519"),) and found.public == ()
