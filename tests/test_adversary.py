"""What an outside adversary broke (issue 13): each test fails without its fix."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import fleet as fleets
from tests.demofleet import make_repo
from tests.helpers import git, rollout
from tests.test_hostile import KEY, manifest_for, no_branch, plan_error
from tests.test_pool import make_fleet, with_branch

BRANCH = fleets.BRANCH


def move_main(repo: Path, message: str = "main moves on") -> str:
    """A new commit on main (same tree), made without touching the checkout."""
    new = git(repo, "commit-tree", "-p", "main", "-m", message, "main^{tree}").strip()
    git(repo, "update-ref", "refs/heads/main", new)
    return new


def apply(fleet, *names: str, push: bool = False):
    args = ["apply", "--manifest", fleet.manifest, "--yes"]
    for name in names:
        args += ["--repo", name]
    return rollout(*args, *(["--push"] if push else []))


def tree_with(repo: Path, ref: str, files: dict[str, str], tmp: Path) -> str:
    """The tree of ``ref`` plus ``files``, built in a private index (the clone's own index is untouched)."""
    env = {**os.environ, "GIT_INDEX_FILE": str(tmp / "review.index")}

    def run(*a, **kw):
        return subprocess.run(
            ["git", "-C", str(repo), *a],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            **kw,
        ).stdout.strip()

    run("read-tree", ref)
    for path, text in files.items():
        blob = run("hash-object", "-w", "--stdin", input=text)
        run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
    return run("write-tree")


# --- item 3: a checked-out rollout branch is never moved ----------------------------------


def test_branch_checked_out_in_the_clone_is_blocked(fleet):
    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    git(repo, "checkout", "-q", BRANCH)
    tip = git(repo, "rev-parse", BRANCH)
    move_main(repo)
    result = apply(fleet, "juniper-ml")
    assert result.code == 1
    assert "juniper-ml: blocked" in result.stdout and f"is checked out in {repo}" in result.stdout
    assert git(repo, "rev-parse", BRANCH) == tip
    plan = rollout(
        "plan", "--manifest", fleet.manifest, "--repo", "juniper-ml"
    )  # said before apply, too
    assert f"note   apply will refuse it: {BRANCH} is checked out in {repo}" in plan.stdout
    assert git(repo, "status", "--porcelain") == ""  # nothing staged the user never made


def test_branch_checked_out_in_a_linked_worktree_is_blocked(fleet, tmp_path):
    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    linked = tmp_path / "review-worktree"
    git(repo, "worktree", "add", "-q", str(linked), BRANCH)
    tip = git(repo, "rev-parse", BRANCH)
    move_main(repo)
    result = apply(fleet, "juniper-ml")
    assert result.code == 1 and "juniper-ml: blocked" in result.stdout
    assert str(linked) in result.stdout.replace("\n", "")
    assert git(repo, "rev-parse", BRANCH) == tip and git(linked, "status", "--porcelain") == ""
    git(repo, "worktree", "remove", str(linked))  # once it is switched away, apply goes on
    again = apply(fleet, "juniper-ml")
    assert again.code == 0 and "juniper-ml: updated" in again.stdout


# --- item 4: a reviewer's amended commit is never overwritten --------------------------------


def test_amended_tool_commit_with_a_new_file_is_not_overwritten(fleet, tmp_path):
    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    message = git(repo, "log", "-1", "--format=%B", BRANCH)
    tree = tree_with(repo, BRANCH, {"REVIEW.md": "reviewed\n"}, tmp_path)
    amended = subprocess.run(
        ["git", "-C", str(repo), "commit-tree", "-p", "main", tree],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", amended)  # what `git commit --amend` does
    move_main(repo)
    result = apply(fleet, "juniper-ml")
    assert result.code == 1 and "juniper-ml: blocked" in result.stdout
    assert git(repo, "rev-parse", BRANCH).strip() == amended
    plan = rollout(
        "plan", "--manifest", fleet.manifest, "--repo", "juniper-ml"
    )  # said before apply, too
    assert (
        f"note   apply will refuse it: {BRANCH} holds commits the tool did not make" in plan.stdout
    )


def test_an_amend_that_only_changes_the_author_is_not_overwritten(fleet, tmp_path):
    """Tree, parent and message unchanged: a real `git commit --amend --author` (in a worktree,
    removed afterwards) is a person's commit now; its authorship is never rebuilt away."""
    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    linked = tmp_path / "review"
    git(repo, "worktree", "add", "-q", str(linked), BRANCH)
    git(
        linked,
        "commit",
        "-q",
        "--amend",
        "--no-edit",
        "--author",
        "Reviewer <reviewer@example.invalid>",
    )
    git(repo, "worktree", "remove", str(linked))
    amended = git(repo, "rev-parse", BRANCH).strip()
    assert (
        git(repo, "log", "-1", "--format=%B", BRANCH).count("Rollout-Check:") == 1
    )  # the check line is kept
    move_main(repo)
    result = apply(fleet, "juniper-ml")
    assert result.code == 1 and "juniper-ml: blocked" in result.stdout
    assert git(repo, "rev-parse", BRANCH).strip() == amended


def test_amended_message_alone_is_not_overwritten(fleet):
    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    message = git(repo, "log", "-1", "--format=%B", BRANCH).replace("chore:", "chore(reviewed):", 1)
    amended = subprocess.run(
        ["git", "-C", str(repo), "commit-tree", "-p", "main", f"{BRANCH}^{{tree}}"],
        input=message,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(repo, "update-ref", f"refs/heads/{BRANCH}", amended)
    move_main(repo)
    result = apply(fleet, "juniper-ml")
    assert result.code == 1 and "juniper-ml: blocked" in result.stdout
    assert git(repo, "rev-parse", BRANCH).strip() == amended


def test_the_tools_own_commit_is_still_rebuilt_when_main_moves(fleet):
    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    new_main = move_main(repo)
    result = apply(fleet, "juniper-ml")
    assert result.code == 0 and "juniper-ml: updated" in result.stdout
    assert git(repo, "rev-parse", f"{BRANCH}^").strip() == new_main


# --- item 1: the committed ciphertext is the source of truth once the plaintext is gone ---------


def branch_blob(repo: Path, path: str, ref: str = BRANCH) -> bytes | None:
    proc = subprocess.run(["git", "-C", str(repo), "show", f"{ref}:{path}"], capture_output=True)
    return proc.stdout if proc.returncode == 0 else None


def with_remote(repo: Path, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(repo, "remote", "add", "origin", str(remote))
    return remote


def test_ciphertext_is_kept_when_the_plaintext_is_gone_and_main_moves(fleet, tmp_path):
    from juniper_rollout import sops

    repo = fleet.repo("juniper-cascor")
    remote = with_remote(repo, tmp_path)
    assert apply(fleet, "juniper-cascor", push=True).code == 0
    committed = branch_blob(repo, ".env.enc")
    plaintext = (repo / ".env").read_bytes()
    (repo / ".env").rename(tmp_path / "moved-away.env")  # it is encrypted now, after all
    move_main(repo)
    result = apply(fleet, "juniper-cascor", push=True)
    assert result.code == 0 and "juniper-cascor: updated" in result.stdout, result.stdout
    assert branch_blob(repo, ".env.enc") == committed
    assert branch_blob(remote, ".env.enc") == committed  # the remote keeps it too
    assert sops.decrypt_dotenv(branch_blob(remote, ".env.enc"), filename=".env.enc") == plaintext


def test_rotation_without_the_plaintext_rekeys_the_committed_ciphertext(fleet, tmp_path):
    import pyrage

    from juniper_rollout import sops

    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    plaintext = (repo / ".env").read_bytes()
    (repo / ".env").unlink()
    added = str(pyrage.x25519.Identity.generate().to_public())
    assert rollout("rotate", "--manifest", fleet.manifest, "--add", added).code == 0
    result = apply(fleet, "juniper-cascor")
    assert result.code == 0 and "juniper-cascor: updated" in result.stdout, result.stdout
    blob = branch_blob(repo, ".env.enc")
    assert blob is not None and added in sops.read_metadata(blob).recipients
    assert sops.decrypt_dotenv(blob, filename=".env.enc") == plaintext


def test_env_example_keeps_the_names_of_the_committed_ciphertext(fleet, tmp_path):
    import re

    text = fleet.manifest.read_text()
    text, count = re.subn(
        r"(  - name: juniper-cascor\n)    env_example:\n(?:      .*\n|        .*\n|          .*\n)+",
        r"\1    env_example: {from: dotenv}\n",
        text,
    )
    assert count == 1
    fleet.manifest.write_text(text)
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    example = branch_blob(repo, ".env.example")
    assert b"HF_TOKEN=" in example
    (repo / ".env").unlink()
    move_main(repo)
    result = apply(fleet, "juniper-cascor")
    assert result.code == 0 and "juniper-cascor: updated" in result.stdout
    assert branch_blob(repo, ".env.example") == example


# --- item 2: a path in the way is refused, never deleted ----------------------------------------


GUIDE_ENTRY = "    files: [{path: notes/GUIDE.md, template: sops.yaml.j2}]\n"


def commit_gitlink(repo: Path, path: str, tmp: Path) -> None:
    """A submodule entry (gitlink) at ``path`` on main, written with plumbing."""
    env = {**os.environ, "GIT_INDEX_FILE": str(tmp / "gitlink.index")}

    def run(*a):
        return subprocess.run(
            ["git", "-C", str(repo), *a],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout.strip()

    run("read-tree", "main")
    run(
        "update-index",
        "--add",
        "--cacheinfo",
        f"160000,{git(repo, 'rev-parse', 'main').strip()},{path}",
    )
    commit = run("commit-tree", "-p", "main", "-m", "add submodule", run("write-tree"))
    git(repo, "update-ref", "refs/heads/main", commit)


def assert_refused(tmp_path: Path, repo: Path, entry: str, words: str) -> None:
    manifest = manifest_for(tmp_path, entry)
    tree = git(repo, "ls-tree", "-r", "main")
    error = plan_error(manifest)
    assert words in error and "never replaces it" in error, error
    result = rollout("apply", "--manifest", manifest, "--yes")
    assert result.code == 1 and "victim: failed" in result.stdout and words in result.stdout
    assert no_branch(repo) and git(repo, "ls-tree", "-r", "main") == tree


def test_tracked_file_in_the_way_of_a_directory(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {"notes": "my notes\n"})
    assert_refused(
        tmp_path,
        repo,
        "  - name: victim\n" + GUIDE_ENTRY,
        "notes is a file in the repository, in the way of notes/GUIDE.md",
    )


def test_submodule_in_the_way(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    commit_gitlink(repo, "notes", tmp_path)
    assert_refused(tmp_path, repo, "  - name: victim\n" + GUIDE_ENTRY, "notes is a submodule")


def test_directory_named_gitignore(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {".gitignore/keep": "x\n"})
    assert_refused(
        tmp_path,
        repo,
        "  - name: victim\n",
        ".gitignore is a directory in the repository, where the tool would write a file",
    )


def test_directory_named_sops_yaml(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {".sops.yaml/keep": "x\n"})
    assert_refused(tmp_path, repo, "  - name: victim\n", ".sops.yaml is a directory")


def test_hand_edited_plan_pointing_at_a_directory(tmp_path):
    import base64
    import json

    repo = make_repo(tmp_path / "ws" / "victim", {"src/app.py": "print()\n"})
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    plan_file = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", manifest, "--out", plan_file).code == 0
    data = json.loads(plan_file.read_text())
    victim = next(r for r in data["repos"] if r["name"] == "victim")
    victim["files"].append(
        {
            "path": "src",
            "action": "create",
            "reason": "x",
            "content": base64.b64encode(b"gone\n").decode(),
            "secret": False,
        }
    )
    plan_file.write_text(json.dumps(data))
    result = rollout("apply", plan_file, "--manifest", manifest, "--yes")
    assert result.code == 1 and "victim: failed" in result.stdout
    assert "src is a directory in the repository" in result.stdout and no_branch(repo)


def test_hand_edited_plan_with_a_path_outside_the_repo(tmp_path):
    import json

    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    plan_file = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", manifest, "--out", plan_file).code == 0
    data = json.loads(plan_file.read_text())
    data["repos"][0]["files"][0]["path"] = ".git/hooks/pre-commit"
    plan_file.write_text(json.dumps(data))
    result = rollout("apply", plan_file, "--manifest", manifest, "--yes")
    assert (
        result.code == 1
        and "damaged plan file" in result.stderr
        and "points into a .git folder" in result.stderr
    )


# --- item 6: templates from inside the templates folder; no plaintext value in what is written ---


BARE_REPO = (
    "    sops_yaml: false\n    gitignore: false\n    precommit_hook: skip\n    agents_md: skip\n"
)


def own_manifest(tmp_path: Path, templates: str, entry: str) -> Path:
    path = tmp_path / "repos.yaml"
    path.write_text(
        f"version: 1\nworkspace: ws\ntemplates: {templates}\ndefaults:\n  age_recipients: [{KEY}]\n"
        f"repos:\n  - name: victim\n{BARE_REPO}{entry}"
    )
    return path


def test_a_template_that_renders_the_plaintext_env_is_refused(tmp_path):
    from tests.demofleet import CANARY

    repo = make_repo(tmp_path / "ws" / "victim", {".gitignore": ".env\n"})
    (repo / ".env").write_text(f"API_TOKEN={CANARY}-value\n")
    named = own_manifest(tmp_path, "ws/victim", "    files: [{path: leaked.txt, template: .env}]\n")
    result = rollout("plan", "--manifest", named)
    assert result.code == 1 and "named like a plaintext env file" in result.stderr
    # a copy: a hard link is refused before it is read (test_template_links)
    shutil.copyfile(repo / ".env", repo / "notes.txt")
    manifest = own_manifest(
        tmp_path, "ws/victim", "    files: [{path: leaked.txt, template: notes.txt}]\n"
    )
    plan_file = tmp_path / "plan.json"
    result = rollout(
        "plan", "--manifest", manifest, "--out", plan_file
    )  # the canary check covers the output
    assert result.code == 1
    assert "leaked.txt would contain the value on line 1 of the plaintext .env" in result.stdout
    assert CANARY not in plan_file.read_text()
    applied = rollout("apply", "--manifest", manifest, "--yes")
    assert applied.code == 1 and no_branch(repo)
    drift = rollout("drift", "--manifest", manifest, "--diff")
    assert "would contain the value" in drift.stdout + drift.stderr


def test_a_template_symlinked_out_of_the_templates_folder_is_refused(tmp_path):
    from tests.demofleet import CANARY

    repo = make_repo(tmp_path / "ws" / "victim", {".gitignore": ".env\n"})
    (repo / ".env").write_text(f"API_TOKEN={CANARY}-value\n")
    (tmp_path / "tpl").mkdir()
    os.symlink(repo / ".env", tmp_path / "tpl" / "env.j2")
    manifest = own_manifest(tmp_path, "tpl", "    files: [{path: leaked.txt, template: env.j2}]\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1 and "leads outside the templates folder" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_the_age_key_file_cannot_be_rendered(tmp_path):
    import pyrage

    make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    (tmp_path / "tpl").mkdir()
    secret = str(pyrage.x25519.Identity.generate())
    (tmp_path / "tpl" / "keys.txt").write_text(f"# created: today\n{secret}\n")
    manifest = own_manifest(tmp_path, "tpl", "    files: [{path: keys.txt, template: keys.txt}]\n")
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1 and "holds an age private key" in result.stderr
    assert secret not in result.stdout + result.stderr
    # nor through a variable
    (tmp_path / "tpl" / "var.j2").write_text("{{ k }}\n")
    manifest = own_manifest(
        tmp_path,
        "tpl",
        f"    files: [{{path: k.txt, template: var.j2, vars: {{k: '{secret}'}}}}]\n",
    )
    result = rollout("plan", "--manifest", manifest)
    assert result.code == 1 and "would contain an age private key" in result.stdout
    assert secret not in result.stdout + result.stderr


# --- item 7: credentials in a bootstrap --url are never stored or printed ------------------------

TOKEN = "ghs_tok3nSECRETvalue42"


def test_bootstrap_url_credentials_are_stripped_before_storing_and_printing(fleet, tmp_path):
    source = make_repo(tmp_path / "src", {"README.md": "# canopy\n"})
    bare = tmp_path / "juniper-canopy.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    url = f"file://x-access-token:{TOKEN}@localhost{bare}"
    result = rollout(
        "bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest, "--url", url
    )
    assert result.code == 0, result.stderr
    assert TOKEN not in result.stdout + result.stderr and "x-access-token" not in result.stdout
    assert f"cloned file://localhost{bare}" in result.stdout
    assert (
        TOKEN not in fleet.manifest.read_text()
        and f"url: file://localhost{bare}" in fleet.manifest.read_text()
    )
    # nor in the clone the tool made: the token served this one clone and is stored nowhere
    clone = fleet.manifest.parent / "fleet" / "juniper-canopy"
    assert (clone / "README.md").read_text() == "# canopy\n"
    assert git(clone, "config", "remote.origin.url").strip() == f"file://localhost{bare}"
    for stored in (p for p in (clone / ".git").rglob("*") if p.is_file()):
        assert TOKEN.encode() not in stored.read_bytes(), stored


def test_a_failed_clone_does_not_repeat_the_token(fleet, tmp_path):
    before = fleet.manifest.read_bytes()
    for url in (
        f"file://x-access-token:{TOKEN}@localhost{tmp_path}/missing.git",
        f"https://x-access-token:{TOKEN}@example.invalid/org/repo.git",
    ):
        result = rollout(
            "bootstrap", "--yes", "juniper-canopy", "--manifest", fleet.manifest, "--url", url
        )
        assert result.code == 1 and "git clone" in result.stderr
        assert TOKEN not in result.stdout + result.stderr and "x-access-token" not in result.stderr
        assert fleet.manifest.read_bytes() == before


def test_a_manifest_url_with_credentials_is_refused(tmp_path):
    manifest = manifest_for(
        tmp_path, f"  - name: victim\n    url: https://bot:{TOKEN}@example.invalid/r.git\n"
    )
    result = rollout("plan", "--manifest", manifest)
    assert (
        result.code == 1 and "url holds credentials" in result.stderr and TOKEN not in result.stderr
    )


def test_strip_and_redact_urls():
    from juniper_rollout.urls import redact, strip_userinfo

    assert (
        strip_userinfo(f"https://x-access-token:{TOKEN}@github.com/o/r.git")
        == "https://github.com/o/r.git"
    )
    assert strip_userinfo(f"https://{TOKEN}@github.com/o/r.git") == "https://github.com/o/r.git"
    assert strip_userinfo("ssh://git@github.com/o/r.git") == "ssh://git@github.com/o/r.git"
    assert strip_userinfo(f"ssh://git:{TOKEN}@github.com/o/r.git") == "ssh://github.com/o/r.git"
    assert strip_userinfo("git@github.com:o/r.git") == "git@github.com:o/r.git"
    url = f"https://u:{TOKEN}@h/r"
    assert TOKEN not in redact(f"fatal: could not read from {url}; token {TOKEN}", url)


# --- item 10: workers die with their parent; SIGTERM is Ctrl-C ---------------------------------


# forked workers need two CPUs: make any machine look like it has them
APPLY = (
    "from juniper_rollout import pool; pool.cpus = lambda: 2; "
    "from juniper_rollout.cli import main; main()"
)


def session_processes(sid: int, *, workers: bool = False) -> list[int]:
    """Live (not zombie) processes of session ``sid``; ``workers``: only forked Python children of ``sid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm, rest = (entry / "stat").read_text().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, IndexError, ValueError):
            continue
        fields = rest.split()
        state, ppid, session = fields[0], int(fields[1]), int(fields[3])
        if session != sid or state == "Z":
            continue
        if not workers or (ppid == sid and comm.startswith("python")):
            found.append(int(entry.name))
    return found


def start_apply(tmp_path: Path, count: int = 60):
    manifest, names = make_fleet(tmp_path, count)
    out = (tmp_path / "out.txt").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", APPLY, "apply", "--manifest", str(manifest), "--yes", "--jobs", "2"],
        cwd=tmp_path,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    seen: set[int] = set()
    while (
        True
    ):  # wait-until, not a timing assertion: a forked worker exists (seen twice: a child about
        # to exec git is a Python process for a moment too)
        now = set(session_processes(proc.pid, workers=True))
        if now & seen and catches(proc.pid, signal.SIGTERM):
            return proc, names
        seen = now
        assert proc.poll() is None and time.monotonic() < deadline, "no worker process was started"
        time.sleep(0.02)


def catches(pid: int, sig: int) -> bool:
    """``pid`` has a handler for ``sig`` (its SigCgt mask): the tool is running, not still being
    imported (GitPython runs `git version` at import, a forked Python child for a moment too; a
    SIGTERM then, before any handler exists, ends the process as it would any program)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    return False


def wait_until_gone(sid: int) -> list[int]:
    deadline = time.monotonic() + 30
    while session_processes(sid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return session_processes(sid)


def branch_tips(tmp_path: Path, names: list[str]) -> dict[str, str]:
    return {n: git(tmp_path / "ws" / n, "for-each-ref", "refs/heads/") for n in names}


def test_kill_9_of_apply_leaves_no_worker_running_or_writing(tmp_path):
    proc, names = start_apply(tmp_path)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    survivors = wait_until_gone(proc.pid)
    for pid in survivors:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert survivors == [], "worker processes outlived the killed apply"
    tips = branch_tips(tmp_path, names)
    time.sleep(1)
    assert branch_tips(tmp_path, names) == tips  # nothing writes afterwards
    assert len(with_branch(tmp_path, names)) < len(names)  # the kill did come mid-run


def test_sigterm_stops_apply_like_ctrl_c(tmp_path):
    proc, names = start_apply(tmp_path)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=300)
    survivors = wait_until_gone(proc.pid)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    output = (tmp_path / "out.txt").read_text()
    assert code == 130 and "interrupted" in output, output
    assert "Traceback" not in output and survivors == []
    for name in with_branch(tmp_path, names):  # every branch written was reported
        assert f"{name}: created" in output


# --- items 11 and 12: no traceback, no hang, bounded time and memory; --out is a regular file or - ----


def run_cli(*args, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI in a child process with 2 GB of address space: a hang or a runaway read fails the test, not the machine."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run(
        [sys.executable, "-c", "from juniper_rollout.cli import main; main()", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
        stdin=subprocess.DEVNULL,
    )


def one_line_error(result, words: str) -> None:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert words in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_manifest_nested_2000_levels(tmp_path):
    for text in (
        "version: 1\nrepos: " + "[" * 2000 + "]" * 2000 + "\n",
        "version: 1\nrepos:\n  " + "- " * 2000 + "x\n",
        "version: 1\nrepos: " + "{a: " * 2000 + "1" + "}" * 2000 + "\n",
    ):
        path = tmp_path / "deep.yaml"
        path.write_text(text)
        result = rollout("plan", "--manifest", path)
        assert (
            result.code == 1
            and "nested too deeply" in result.stderr
            and len(result.stderr.splitlines()) == 1
        )


@pytest.mark.parametrize("command", [["plan"], ["rotate", "--add", KEY]])
def test_manifest_from_dev_zero_reads_at_most_the_limit(tmp_path, command):
    one_line_error(run_cli(*command, "-m", "/dev/zero"), "not a regular file")


@pytest.mark.parametrize("command", [["plan"], ["drift"], ["rotate", "--add", KEY]])
def test_manifest_that_is_a_fifo_never_hangs(tmp_path, command):
    fifo = tmp_path / "repos.yaml"
    os.mkfifo(fifo)
    one_line_error(run_cli(*command, "-m", fifo), "not a regular file")


def test_env_that_is_a_fifo_never_hangs(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {".gitignore": ".env\n"})
    os.mkfifo(repo / ".env")
    manifest = manifest_for(
        tmp_path, "  - name: victim\n    encrypt: [{source: .env, target: .env.enc}]\n"
    )
    result = run_cli("plan", "--manifest", manifest, "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    victim = next(r for r in json.loads(result.stdout)["repos"] if r["name"] == "victim")
    assert ".env in the clone is not a regular file" in victim["error"]


def test_plan_out_in_a_missing_folder_or_a_folder(tmp_path):
    manifest = manifest_for(tmp_path, "")
    result = rollout("plan", "--manifest", manifest, "--out", tmp_path / "nodir" / "plan.json")
    assert (
        result.code == 1 and "no folder" in result.stderr and len(result.stderr.splitlines()) == 1
    )
    (tmp_path / "adir").mkdir()
    result = rollout("plan", "--manifest", manifest, "--out", tmp_path / "adir")
    assert (
        result.code == 1
        and "not a regular file" in result.stderr
        and len(result.stderr.splitlines()) == 1
    )
    assert list((tmp_path / "adir").iterdir()) == []


def test_plan_out_refuses_a_symlink_and_leaves_it_alone(tmp_path):
    manifest = manifest_for(tmp_path, "")
    target = tmp_path / "target.txt"
    target.write_text("mine\n")
    link = tmp_path / "stdout-like"
    os.symlink(target, link)
    result = rollout("plan", "--manifest", manifest, "--out", link)
    assert result.code == 1 and "is a symlink" in result.stderr and "--out -" in result.stderr
    assert link.is_symlink() and target.read_text() == "mine\n"


def test_plan_out_dash_prints_the_saved_plan_on_stdout_and_apply_reads_it(tmp_path):
    manifest = manifest_for(tmp_path, "")
    result = rollout("plan", "--manifest", manifest, "--out", "-")
    assert result.code == 0
    saved = json.loads(result.stdout)  # stdout holds the plan alone; the human view went to stderr
    assert saved["repos"][0]["name"] == "healthy" and "content" in saved["repos"][0]["files"][0]
    assert "healthy" in result.stderr
    applied = rollout("apply", "-", "--manifest", manifest, "--yes", input=result.stdout)
    assert applied.code == 0 and "healthy: created" in applied.stdout
    clash = rollout("plan", "--manifest", manifest, "--out", "-", "--json")
    assert clash.code == 1 and "pick one" in clash.stderr


def test_apply_refuses_a_plan_that_is_not_a_regular_file(tmp_path):
    manifest = manifest_for(tmp_path, "")
    fifo = tmp_path / "plan.fifo"
    os.mkfifo(fifo)
    one_line_error(run_cli("apply", fifo, "--manifest", manifest, "--yes"), "not a regular file")
    one_line_error(
        run_cli("apply", tmp_path, "--manifest", manifest, "--yes"), "not a regular file"
    )


def hostile_template(tmp_path: Path, body: str, name: str = "evil.j2") -> Path:
    if not (tmp_path / "ws" / "victim").exists():
        make_repo(tmp_path / "ws" / "victim", {"README.md": "x\n"})
    (tmp_path / "tpl").mkdir(exist_ok=True)
    (tmp_path / "tpl" / name).write_text(body)
    return own_manifest(tmp_path, "tpl", f"    files: [{{path: out.txt, template: {name}}}]\n")


def test_templates_with_bounded_time_and_memory(tmp_path):
    for body, words in (
        ("{{ range(10**9) }}", "1,000,000,000 (at most 1,000,000)"),
        ("{{ 'x' * 10**10 }}", "a repetition of 10,000,000,000"),
        ("{{ 'x' | center(10**10) }}", "a filter argument"),
        ("{{ 'x'.ljust(10**10) }}", "a call argument"),
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
            "more than 1,000,000 loop steps",
        ),
        ("{% for a in range(100000) %}{{ 'y' * 1000 }}{% endfor %}", "characters of output"),
    ):
        manifest = hostile_template(tmp_path, body)
        result = run_cli("plan", "--manifest", manifest)
        one_line_error(result, words)
        assert "evil.j2" in result.stderr


def test_a_failing_include_names_the_missing_template(tmp_path):
    manifest = hostile_template(tmp_path, "{% include '../x' %}", name="outer.j2")
    result = rollout("plan", "--manifest", manifest)
    assert (
        result.code == 1
        and "template 'outer.j2' includes '../x', which is not there" in result.stderr
    )


# --- smaller, same standard ----------------------------------------------------------------------


def test_a_rollout_branch_deleted_on_origin_can_be_pushed_again(fleet, tmp_path):
    repo = fleet.repo("juniper-ml")
    remote = with_remote(repo, tmp_path)
    assert apply(fleet, "juniper-ml", push=True).code == 0
    git(remote, "update-ref", "-d", f"refs/heads/{BRANCH}")  # the reviewer merged and deleted it
    move_main(repo)
    result = apply(fleet, "juniper-ml", push=True)
    assert result.code == 0 and "pushed to origin" in result.stdout, result.stdout
    assert git(remote, "rev-parse", BRANCH) == git(repo, "rev-parse", BRANCH)


LFS = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 1234\n"


def test_agents_md_stored_in_git_lfs_is_skipped_with_a_note(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {"AGENTS.md": LFS})
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    result = rollout("plan", "--manifest", manifest, "--json")
    assert result.code == 0
    victim = next(r for r in json.loads(result.stdout)["repos"] if r["name"] == "victim")
    agents = next(f for f in victim["files"] if f["path"] == "AGENTS.md")
    assert agents["action"] == "skip" and "Git LFS" in agents["reason"]
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    assert git(repo, "show", f"{BRANCH}:AGENTS.md") == LFS


def test_sha256_repositories_are_refused_in_one_line(tmp_path):
    repo = tmp_path / "ws" / "victim"
    subprocess.run(
        ["git", "init", "-q", "--object-format=sha256", "-b", "main", str(repo)], check=True
    )
    (repo / "README.md").write_text("x\n")
    git(repo, "add", "README.md")
    git(repo, "commit", "-qm", "init")
    assert "SHA-256 repositories are not supported" in plan_error(
        manifest_for(tmp_path, "  - name: victim\n")
    )


@pytest.mark.parametrize(
    "path",
    [
        ".GIT/config",
        "sub/.git/config",
        ".git./x",
        "a/.Git /hooks",
        "git~1/config",
        # second adversarial pass: what git fsck calls hasDotgit (HFS+ ignores U+200C; an
        # NTFS stream name) passed and was committed
        ".g\u200cit/config",
        "a/.\ufeffGIT/hooks",
        ".git::$INDEX_ALLOCATION/config",
    ],
)
def test_manifest_paths_into_a_git_folder_are_refused_with_their_line(tmp_path, path):
    manifest = manifest_for(
        tmp_path,
        f"  - name: victim\n    files:\n      - {{path: '{path}', template: sops.yaml.j2}}\n",
    )
    result = rollout("plan", "--manifest", manifest)
    assert (
        result.code == 1
        and f"{manifest}:9:" in result.stderr
        and "points into a .git folder" in result.stderr
    )


def test_branch_head_is_refused_with_its_line(tmp_path):
    manifest = manifest_for(tmp_path, "  - name: victim\n    branch: HEAD\n")
    result = rollout("plan", "--manifest", manifest)
    assert (
        result.code == 1
        and f"{manifest}:8:" in result.stderr
        and "'HEAD' is not a valid git branch name" in result.stderr
    )


def test_a_200k_line_gitignore_compiles_only_the_lines_that_can_decide():
    """Counting work, not time: each line is read once, and only lines that could match a
    managed path are compiled (a 200,000-line file once took 88 s to plan)."""
    from juniper_rollout import throwaway
    from juniper_rollout.edits import gitignore

    lines = [f"build/{i}/\n*.tmp{i}\n/out{i}.log\n" for i in range(70_000)]
    text = "".join(lines) + "*.pyc\n" * 1000 + ".env*\n!.env.example\n"
    gitignore._pattern.cache_clear()
    result = gitignore.edit(
        text,
        lambda patterns: (
            "# >>> juniper-rollout >>>\n"
            + "".join(p + "\n" for p in patterns)
            + "# <<< juniper-rollout <<<\n"
        ),
    )
    assert gitignore._pattern.cache_info().misses <= 20
    # and the result is right by git's own rules, over the whole 200,000-line file
    must_ignore, must_track = gitignore.MUST_IGNORE, gitignore.MUST_TRACK
    with throwaway.scratch_repo({".gitignore": result.text.encode()}) as repo:
        assert throwaway.ignored(repo, [*must_ignore, *must_track]) == set(must_ignore)


def test_precommit_config_with_document_markers_is_accepted(tmp_path):
    config = (
        "---\nrepos:\n  - repo: https://github.com/psf/black\n    rev: 24.4.2\n    hooks:\n"
        "      - id: black\n...\n"
    )
    repo = make_repo(tmp_path / "ws" / "victim", {".pre-commit-config.yaml": config})
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    assert rollout("apply", "--manifest", manifest, "--yes").code == 0
    new = git(repo, "show", f"{BRANCH}:.pre-commit-config.yaml")
    assert new.startswith(config[:-4]) and new.endswith("...\n") and "forbid-plaintext-env" in new


def test_a_decimal_version_says_what_it_is(tmp_path):
    path = tmp_path / "repos.yaml"
    path.write_text("version: 1.5\nrepos: []\n")
    result = rollout("plan", "--manifest", path)
    assert (
        result.code == 1
        and "version must be a whole number, not the decimal number 1.5" in result.stderr
    )


def test_a_symlinked_env_in_a_repo_without_encryption_is_left_alone(tmp_path):
    repo = make_repo(tmp_path / "ws" / "victim", {".gitignore": ".env\n"})
    (tmp_path / "shared.env").write_text("A=shared-value-123\n")
    os.symlink(tmp_path / "shared.env", repo / ".env")
    result = rollout("plan", "--manifest", manifest_for(tmp_path, "  - name: victim\n"), "--json")
    assert result.code == 0, result.stdout


def test_ciphertext_is_kept_from_what_was_pushed_when_the_local_branch_is_gone_too(fleet, tmp_path):
    repo = fleet.repo("juniper-cascor")
    remote = with_remote(repo, tmp_path)
    assert apply(fleet, "juniper-cascor", push=True).code == 0
    committed = branch_blob(repo, ".env.enc")
    (repo / ".env").unlink()
    git(repo, "branch", "-D", BRANCH)  # pushed, so deleted locally
    result = apply(fleet, "juniper-cascor", push=True)
    assert result.code == 0 and "pushed to origin" in result.stdout, result.stdout
    assert branch_blob(repo, ".env.enc") == committed == branch_blob(remote, ".env.enc")


def test_plain_words_in_env_do_not_stop_a_template_that_happens_to_use_them(tmp_path):
    # the repo's own text names production (round nine: a word found nowhere in the repo is checked)
    files = {".gitignore": ".env\n", "docs/deploy.md": "Ship to production on Fridays.\n"}
    repo = make_repo(tmp_path / "ws" / "victim", files)
    (repo / ".env").write_text("APP_ENV=production\nDB_PASSWORD=letmeinplease\n")
    (tmp_path / "tpl").mkdir()
    (tmp_path / "tpl" / "doc.j2").write_text("Deploy to production with care.\n")
    (tmp_path / "tpl" / "pw.j2").write_text("never write letmeinplease\n")
    fine = own_manifest(tmp_path, "tpl", "    files: [{path: DEPLOY.md, template: doc.j2}]\n")
    assert rollout("plan", "--manifest", fine).code == 0
    secret = own_manifest(tmp_path, "tpl", "    files: [{path: PW.md, template: pw.j2}]\n")
    result = rollout("plan", "--manifest", secret)
    assert result.code == 1 and "line 2 of the plaintext .env" in result.stdout


@pytest.mark.parametrize(
    "edit, words",
    [
        ({"action": "delete", "content": None}, "not a plaintext env file"),
        ({"action": "update", "content": None}, "written without content"),
    ],
)
def test_hand_edited_plan_cannot_delete_a_file(tmp_path, edit, words):
    repo = make_repo(tmp_path / "ws" / "victim", {"README.md": "keep me\n"})
    manifest = manifest_for(tmp_path, "  - name: victim\n")
    plan_file = tmp_path / "plan.json"
    assert rollout("plan", "--manifest", manifest, "--out", plan_file).code == 0
    data = json.loads(plan_file.read_text())
    victim = next(r for r in data["repos"] if r["name"] == "victim")
    victim["files"].append({"path": "README.md", "reason": "x", "secret": False, **edit})
    plan_file.write_text(json.dumps(data))
    result = rollout("apply", plan_file, "--manifest", manifest, "--yes")
    assert result.code == 1 and words in result.stdout + result.stderr and no_branch(repo)


def test_a_deleted_worktree_still_holding_the_branch_says_prune(fleet, tmp_path):
    import shutil

    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    linked = tmp_path / "gone-worktree"
    git(repo, "worktree", "add", "-q", str(linked), BRANCH)
    shutil.rmtree(linked)
    move_main(repo)
    result = apply(fleet, "juniper-ml")
    assert (
        result.code == 1
        and "juniper-ml: blocked" in result.stdout
        and f"`git -C {repo} worktree prune`" in " ".join(result.stdout.split())
    )
    git(repo, "worktree", "prune")
    assert apply(fleet, "juniper-ml").code == 0


def test_branch_checked_out_through_a_symbolic_ref_is_blocked(fleet, tmp_path):
    """A worktree on `alias`, a symbolic ref to the rollout branch: git commits through it, so moving
    the branch would leave that worktree with staged changes nobody made (second adversarial pass)."""
    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    git(repo, "symbolic-ref", "refs/heads/alias", f"refs/heads/{BRANCH}")
    linked = tmp_path / "alias-worktree"
    git(repo, "worktree", "add", "-q", str(linked), "alias")
    tip = git(repo, "rev-parse", BRANCH)
    tree = tree_with(repo, "main", {"NEWS.md": "news\n"}, tmp_path)
    git(
        repo,
        "update-ref",
        "refs/heads/main",
        git(repo, "commit-tree", "-p", "main", "-m", "news", tree).strip(),
    )
    result = apply(fleet, "juniper-ml")
    assert result.code == 1 and "juniper-ml: blocked" in result.stdout
    assert str(linked) in result.stdout.replace("\n", "")
    assert git(repo, "rev-parse", BRANCH) == tip and git(linked, "status", "--porcelain") == ""


def test_a_file_name_that_is_not_utf8_is_kept_byte_for_byte(fleet):
    """Git names are bytes: a `caf\\xe9.txt` (Latin-1) beside a managed file must survive the rewritten
    tree as it is, not crash the repo as 'damaged' (second adversarial pass, 13.2)."""
    repo = fleet.repo("juniper-ml")
    blob = subprocess.run(
        ["git", "-C", str(repo), "hash-object", "-w", "--stdin"],
        input=b"latin\n",
        capture_output=True,
        check=True,
    ).stdout.strip()
    listing = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "main"], capture_output=True, check=True
    ).stdout
    tree = (
        subprocess.run(
            ["git", "-C", str(repo), "mktree"],
            input=listing + b"100644 blob " + blob + b"\tcaf\xe9.txt\n",
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    git(
        repo,
        "update-ref",
        "refs/heads/main",
        git(repo, "commit-tree", "-p", "main", "-m", "latin-1 name", tree).strip(),
    )
    result = apply(fleet, "juniper-ml")
    assert result.code == 0 and "juniper-ml: created" in result.stdout
    names = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-z", "--name-only", BRANCH],
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    assert b"caf\xe9.txt" in names
    assert git(repo, "diff", "--name-only", "main", BRANCH).split() == [
        ".gitignore",
        ".sops.yaml",
        "AGENTS.md",
        "notes/SOPS_USAGE_GUIDE.md",
    ]
    git(repo, "fsck", "--strict")


def test_apply_refuses_a_plan_nested_past_the_stack(tmp_path):
    """json.loads raises RecursionError on `[[[…]]]` 200,000 deep: one line, exit 1 (second adversarial pass)."""
    manifest = manifest_for(tmp_path, "")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    one_line_error(run_cli("apply", deep, "--manifest", manifest, "--yes"), "nested too deeply")


def test_a_saved_plan_holding_a_repo_twice_or_none_of_the_manifests_is_refused(fleet, tmp_path):
    """A hand-edited plan with one repo copied 3 times was applied 3 times ("3 repos: 1 created, 2 stale"),
    and a plan of another fleet applied nothing with exit 0 ("0 repos:") (second adversarial pass)."""
    saved = tmp_path / "plan.json"
    assert rollout(
        "plan", "--manifest", fleet.manifest, "--repo", "juniper-ml", "--out", saved
    ).code in (0, 2)
    data = json.loads(saved.read_text())
    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps({**data, "repos": data["repos"] * 3}))
    result = rollout("apply", twice, "--manifest", fleet.manifest, "--yes")
    assert result.code == 1 and "'juniper-ml' appears twice" in result.stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**data, "repos": [{**data["repos"][0], "name": "somebody-else"}]}))
    result = rollout("apply", other, "--manifest", fleet.manifest, "--yes")
    assert result.code == 1 and "holds none of the repos" in result.stderr
    assert no_branch(fleet.repo("juniper-ml"))


@pytest.mark.parametrize(
    "body",
    [
        "{{ s|reverse }}",
        '{{ s|replace("C", "C ") }}',
        "{{ s[::2] }}|{{ s[1::2] }}",
        "{{ s|urlencode }}",
        "{% for c in s %}{{ c }}-{% endfor %}",
    ],
)
def test_a_template_that_transforms_a_plaintext_value_is_refused(tmp_path, body):
    """The rendered-bytes check sees a value only as it is: a template that reverses, slices or spaces out
    what it includes got the .env's values into the plan diff. What a template can bring in comes from the
    templates folder (and the manifest), so that is checked too (second adversarial pass, 13.6)."""
    from tests.demofleet import CANARY

    repo = make_repo(tmp_path / "ws" / "victim", {".gitignore": ".env\n"})
    (repo / ".env").write_text(f"API_TOKEN={CANARY}-value\n")
    # a copy: a hard link is refused before it is read (test_template_links)
    shutil.copyfile(repo / ".env", repo / "notes.txt")
    (repo / "evil.j2").write_text('{% set s %}{% include "notes.txt" %}{% endset %}' + body + "\n")
    manifest = own_manifest(
        tmp_path, "ws/victim", "    files: [{path: leaked.txt, template: evil.j2}]\n"
    )
    plan_file = tmp_path / "plan.json"
    result = rollout("plan", "--manifest", manifest, "--out", plan_file, "--json")
    assert result.code == 1 and "the value on line 1 of the plaintext .env" in result.stdout
    if (
        body != "{{ s|urlencode }}"
    ):  # urlencode leaves this value as it is: the rendered bytes show it
        assert "template notes.txt holds the value on line 1 of the plaintext .env" in result.stdout
    assert CANARY[::-1] not in result.stdout + result.stderr and "C ANARY" not in result.stdout
    assert not plan_file.exists() or CANARY[::-1] not in plan_file.read_text()
    assert rollout("apply", "--manifest", manifest, "--yes").code == 1 and no_branch(repo)


def test_format_widths_are_bounded_and_names_with_nul_refused(tmp_path):
    """A width is text, not an argument: '{:>10000000000}'.format('x'), '%10000000000s' % 'x' and the format
    filter asked for 10 GB past the argument checks; a NUL in a template name gave a ValueError traceback
    (second adversarial pass, 13.11)."""
    for body, words in (
        ("{{ '{:>10000000000}'.format('x') }}", "a format width of 10,000,000,000"),
        ("{{ '{:>{w}}'.format_map({'w': 10**10}) }}", "a format argument of 10,000,000,000"),
        ("{{ '%10000000000s' % 'x' }}", "a format width of 10,000,000,000"),
        ("{{ '%*d' % (10**10, 1) }}", "a format argument of 10,000,000,000"),
        ("{{ '%10000000000s'|format('x') }}", "a format width of 10,000,000,000"),
        ('{% include "a\\x00b" %}', "is not a file name (it holds a NUL byte)"),
    ):
        manifest = hostile_template(tmp_path, body)
        result = run_cli("plan", "--manifest", manifest)
        one_line_error(result, words)
        assert "evil.j2" in result.stderr
    fine = hostile_template(
        tmp_path, "{{ '{:>6}|%-4s|%d' % ('ab', 3000000000) }} {{ '{:.2f}'.format(2.5) }}\n"
    )
    assert run_cli("plan", "--manifest", fine).returncode == 0


def test_an_emptied_plaintext_never_replaces_the_committed_ciphertext(fleet):
    """`: > .env` (or a truncated save) made apply swap the branch's 15-variable .env.enc for an empty one,
    reported as 'updated' (second adversarial pass, 13.1): an empty plaintext is no reason to drop secrets."""
    repo = fleet.repo("juniper-cascor")
    assert apply(fleet, "juniper-cascor").code == 0
    committed = branch_blob(repo, ".env.enc")
    tip = git(repo, "rev-parse", BRANCH)
    (repo / ".env").write_bytes(b"")
    move_main(repo)
    result = apply(fleet, "juniper-cascor")
    assert result.code == 1 and "juniper-cascor: failed" in result.stdout
    assert (
        ".env in the clone holds no variables, but the committed .env.enc holds 15" in result.stdout
    )
    assert git(repo, "rev-parse", BRANCH) == tip and branch_blob(repo, ".env.enc") == committed
    (repo / ".env").unlink()  # moved away: the ciphertext is kept, as for any missing plaintext
    again = apply(fleet, "juniper-cascor")
    assert again.code == 0 and branch_blob(repo, ".env.enc") == committed


def test_branch_being_rebased_through_a_symbolic_ref_is_blocked(fleet, tmp_path):
    """A rebase of `alias` (a symbolic ref to the rollout branch) stopped half-way records head-name
    refs/heads/alias; when it finishes git moves the rollout branch through it (second adversarial pass)."""
    repo = fleet.repo("juniper-ml")
    assert apply(fleet, "juniper-ml").code == 0
    git(repo, "symbolic-ref", "refs/heads/alias", f"refs/heads/{BRANCH}")
    linked = tmp_path / "alias-worktree"
    git(repo, "worktree", "add", "-q", str(linked), "alias")
    stopped = subprocess.run(
        [
            "git",
            "-C",
            str(linked),
            "-c",
            "user.name=r",
            "-c",
            "user.email=r@x",
            "rebase",
            "--exec",
            "false",
            "main~0",
        ],
        capture_output=True,
        text=True,
    )
    assert (
        stopped.returncode != 0
        and (Path(git(linked, "rev-parse", "--git-dir").strip()) / "rebase-merge").is_dir()
    )
    tip = git(repo, "rev-parse", BRANCH)
    tree = tree_with(repo, "main", {"NEWS.md": "news\n"}, tmp_path)
    git(
        repo,
        "update-ref",
        "refs/heads/main",
        git(repo, "commit-tree", "-p", "main", "-m", "news", tree).strip(),
    )
    result = apply(fleet, "juniper-ml")
    assert result.code == 1 and "juniper-ml: blocked" in result.stdout
    assert git(repo, "rev-parse", BRANCH) == tip
