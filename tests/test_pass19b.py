"""Issue 13, pass 19b: the adversarial pass over items 5-9 and the smaller list, round nine
(main b5af6a7).

Each test fails on the main this pass started from (checked by undoing its fix)."""

from __future__ import annotations

import json
import subprocess
import time

from tests.helpers import git, rollout

# --- 13.9: what origin once held, newest first across all remote-tracking reflogs ----------------------


def test_drift_keeps_the_newest_commits_origin_held_across_all_remote_tracking_reflogs(
    fleet, tmp_path
):
    """A teammate pushes `feat` holding `.env.local`, the clone fetches it, `feat` is force-pushed
    clean and fetched again: drift finds the leak through origin/feat's reflog (pass 16b). The same
    clone also follows a busy bot branch: 5,100 fetched fast-forwards, all older than the leak.
    The 5,000 commits kept were the last ones in the order the folder lists the reflog files, not
    the newest: origin/feat's file was read first, its commits dropped, and drift said "0 findings"
    (pass 19b, 13.9)."""
    repo = fleet.repo("juniper-data")
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "push", "-q", "origin", "main")
    work = tmp_path / "work"
    subprocess.run(["git", "clone", "-q", str(origin), str(work)], check=True)
    git(work, "checkout", "-q", "-b", "feat")
    (work / ".env.local").write_text("API_TOKEN=Zq19bPushedThenGone-77aa\n")
    git(work, "add", "-f", ".env.local")
    git(work, "commit", "-qm", "local settings")
    git(work, "push", "-q", "origin", "feat")
    git(repo, "fetch", "-q", "origin")
    git(work, "reset", "-q", "--hard", "HEAD~1")
    git(work, "commit", "-q", "--allow-empty", "-m", "clean")
    git(work, "push", "-q", "-f", "origin", "feat")
    git(repo, "fetch", "-q", "origin")
    # a bot's branch origin served 5,100 times, a day before the leak (a sub-folder of the reflogs:
    # read after origin/feat's file whatever order the file system lists a folder in)
    start = int(time.time()) - 86_400
    stream = "".join(
        f"commit refs/remotes/origin/bots/busy\ncommitter Bot <bot@x.invalid> {start + i} +0000\n"
        f"data 7\nbump {i % 10}\n\n"  # each commit on the one before (fast-import's branch)
        for i in range(5100)
    )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream, text=True, check=True)
    shas = git(repo, "rev-list", "--reverse", "refs/remotes/origin/bots/busy").split()
    assert len(shas) == 5100
    previous, lines = "0" * 40, []
    for i, sha in enumerate(shas):
        lines.append(f"{previous} {sha} Bot <bot@x.invalid> {start + i} +0000\tfetch: fast-forward\n")
        previous = sha
    log = repo / ".git" / "logs" / "refs" / "remotes" / "origin" / "bots" / "busy"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("".join(lines))
    result = rollout(
        "drift", "--manifest", fleet.manifest, "--repo", "juniper-data", "--format", "json"
    )
    found = [f for r in json.loads(result.stdout)["repos"] for f in r["findings"]]
    paths = [f["path"] for f in found if f["id"] == "plaintext-env-in-history"]
    assert paths == [".env.local"], found
    assert "Zq19b" not in result.stdout + result.stderr
