"""What "sops-encrypted" means, the same everywhere: the hook (real pre-commit), verify, drift and plan.

Every sops 3.11 output format is recognised by one anchored regex (juniper_rollout.sopsmeta); plaintext
holding look-alike lines is refused; a non-dotenv .env.enc is re-encrypted as dotenv, said out loud.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from juniper_rollout import keys, sops, sopsmeta
from tests.helpers import git, rollout
from tests.test_drift import commit_on_main
from tests.test_envfiles import hooks_refuse, manifest_with

BRANCH = "chore/sops-age-rollout"
BYPASSES = {
    "json-looking comment": b'# "sops": x\nTOKEN=plain\n',
    "sops_mac line": b"TOKEN=plain\nsops_mac=x\n",
    "sops: line": b"sops:\nTOKEN=plain\n",
    "sops_mac without ENC": b"TOKEN=plain\nsops_mac=AES256_GCM\nsops_version=3.11.0\n",
    "json without mac": b'{"TOKEN": "plain", "sops": {"version": "3.11.0"}}\n',
    "yaml mac not under sops": b"TOKEN: plain\nmac: ENC[AES256_GCM,data:eA==,iv:eA==,tag:eA==,type:str]\n",
}


def sops_output(recipient: str, fmt: str) -> bytes:
    """The real sops 3.11 encrypting a dotenv file into ``fmt`` (binary gives sops' JSON wrapper)."""
    if fmt == "ini":
        args, data = ["--input-type", "ini", "--output-type", "ini"], b"[app]\nTOKEN=x\n"
    else:
        args, data = ["--input-type", "dotenv", "--output-type", fmt], b"TOKEN=x\n# c\n"
    return subprocess.run(
        [sops.sops_path(), "encrypt", "--age", recipient, *args, "/dev/stdin"],
        input=data,
        capture_output=True,
        check=True,
        env={"SOPS_DISABLE_VERSION_CHECK": "1", "PATH": ""},
    ).stdout


@pytest.fixture(scope="module")
def recipient(tmp_path_factory):
    return keys.generate_key_file(tmp_path_factory.mktemp("key") / "keys.txt")


@pytest.mark.parametrize("fmt", ["dotenv", "yaml", "json", "ini", "binary"])
def test_every_sops_format_is_recognised_as_sops_itself_does(recipient, fmt, tmp_path):
    blob = sops_output(recipient, fmt)
    found = sopsmeta.sops_format(blob)
    assert found == ("json" if fmt == "binary" else fmt)
    status = subprocess.run(
        [sops.sops_path(), "filestatus", "--input-type", found, "/dev/stdin"],
        input=blob,
        capture_output=True,
        check=True,
    ).stdout
    assert json.loads(status) == {"encrypted": True}
    meta = sops.read_metadata(blob)
    assert meta is not None and meta.recipients == (recipient,) and meta.format == found


@pytest.mark.parametrize("case", BYPASSES)
def test_look_alike_plaintext_is_not_sops(case):
    assert (
        sopsmeta.sops_format(BYPASSES[case]) is None and sops.read_metadata(BYPASSES[case]) is None
    )


def test_the_real_hook_refuses_each_bypass_and_accepts_every_format(recipient, tmp_path):
    manifest = manifest_with(recipient)
    files = {f"bypass{i}/.env.enc": data for i, data in enumerate(BYPASSES.values())}
    files |= {
        f"{fmt}/.env.enc": sops_output(recipient, fmt)
        for fmt in ("dotenv", "yaml", "json", "ini", "binary")
    }
    refused = hooks_refuse(tmp_path, manifest, files)
    assert {name for name, no in refused.items() if no} == {
        n for n in files if n.startswith("bypass")
    }


def _yaml_env_enc(fleet) -> bytes:
    recipient = keys.public_keys_in(fleet.key_file)[0]
    plaintext = (fleet.repo("juniper-cascor") / ".env").read_bytes()
    return subprocess.run(
        [
            sops.sops_path(),
            "encrypt",
            "--age",
            recipient,
            "--input-type",
            "dotenv",
            "--output-type",
            "yaml",
            "/dev/stdin",
        ],
        input=plaintext,
        capture_output=True,
        check=True,
    ).stdout


def test_a_yaml_env_enc_is_re_encrypted_as_dotenv_and_said_so(fleet):
    cascor = fleet.repo("juniper-cascor")
    commit_on_main(
        cascor, {".env.enc": _yaml_env_enc(fleet).decode()}, "encrypted with the wrong output type"
    )
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    line = " ".join(
        next(
            line for line in plan.stdout.splitlines() if line.strip().startswith(".env.enc")
        ).split()
    )
    assert line == ".env.enc update (re-encrypted as dotenv (was sops yaml format))"
    # a value changed in .env is never silently dropped
    env = cascor / ".env"
    env.write_bytes(env.read_bytes().replace(b"HF_TOKEN=", b"HF_TOKEN=changed-", 1))
    plan = rollout("plan", "--manifest", fleet.manifest, "--repo", "juniper-cascor")
    line = " ".join(
        next(
            line for line in plan.stdout.splitlines() if line.strip().startswith(".env.enc")
        ).split()
    )
    assert (
        line.startswith(".env.enc update (encrypt .env: 15 variables")
        and "re-encrypted as dotenv" in line
    )
    assert (
        rollout("apply", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--yes").code
        == 0
    )
    blob = git(cascor, "show", f"{BRANCH}:.env.enc").encode()
    assert sopsmeta.sops_format(blob) == "dotenv"
    assert sops.decrypt_dotenv(blob, filename=".env.enc") == env.read_bytes()


def test_verify_names_the_format_instead_of_calling_it_plaintext(fleet):
    cascor = fleet.repo("juniper-cascor")
    commit_on_main(cascor, {".env.enc": _yaml_env_enc(fleet).decode()}, "yaml")
    data = json.loads(
        rollout("verify", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--json").stdout
    )
    detail = {c["name"]: c for c in data["repos"][0]["checks"]}["encrypted-files"]["detail"]
    assert "sops-encrypted in yaml format, not dotenv" in detail and "plaintext" not in detail
    drift = json.loads(
        rollout(
            "drift", "--manifest", fleet.manifest, "--repo", "juniper-cascor", "--format", "json"
        ).stdout
    )
    assert not [f for f in drift["repos"][0]["findings"] if f["id"] == "enc-without-sops"]
    assert {a["path"]: a["state"] for a in drift["repos"][0]["artifacts"]}[".env.enc"] == "modified"


def test_a_json_env_enc_nested_past_the_stack_is_no_traceback(recipient, fleet):
    """A committed .env.enc in sops' JSON shape with a value nested 100,000 levels: json.loads raises
    RecursionError; drift, verify and plan must say what the file is, never print a traceback
    (second adversarial pass of issue 13, item 11)."""
    text = sops_output(recipient, "json").decode()
    assert sopsmeta.read_metadata(text.encode()) is not None
    deep = text.replace(
        '\n\t"TOKEN":', '\n\t"z": ' + "[" * 100_000 + "]" * 100_000 + ',\n\t"TOKEN":', 1
    )
    assert deep != text
    assert sopsmeta.read_metadata(deep.encode()) is None  # unreadable: not taken for a sops file
    commit_on_main(fleet.repo("juniper-cascor"), {".env.enc": deep}, "deep")
    for args in (("drift",), ("verify", "--ref", "main"), ("plan",)):
        result = rollout(*args, "--manifest", fleet.manifest, "--repo", "juniper-cascor")
        assert (
            "Traceback" not in result.stderr + result.stdout
            and "RecursionError" not in result.stdout
        )
        assert ".env.enc" in result.stdout
