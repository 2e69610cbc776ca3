"""Pass 8 of the outside adversary (issue 13): each test failed on main before its fix.

The attempts, held and broken, are logged in the pass-8 log; SECURITY.md lists each guarantee.
Emphasis of this pass: regressions of passes 6 and 7, the issue's items recent passes covered least
(ciphertext without plaintext, checked-out branches, amended commits, verify, `.env` names, workers,
`--out`), and name discovery on real-shaped settings code.
"""

from __future__ import annotations

import json

from tests.helpers import rollout

# --- plan --out never replaces a file that is not a saved plan -----------------------------------


def test_plan_out_never_replaces_the_age_key_or_a_persons_ciphertext(fleet, tmp_path):
    """`plan --out $SOPS_AGE_KEY_FILE` replaced the fleet's private age key with the plan (every
    .enc of the fleet unreadable without another copy); `--out backup/prod.env.enc` a person's
    ciphertext (a name pass 6's plaintext-env check lets through)."""
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "prod.env.enc").write_text(
        "DB_PASSWORD=ENC[AES256_GCM,data:abc=,iv:x=,tag:y=,type:str]\n"
    )
    (backup / "notes.txt").write_text("a person's notes\n")
    cases = [fleet.key_file, backup / "prod.env.enc", backup / "notes.txt"]
    before = {path: path.read_bytes() for path in cases}
    for path in cases:
        result = rollout("plan", "--manifest", fleet.manifest, "--out", path)
        assert result.code == 1, (path, result.stdout)
        assert "is a file that is not a plan saved by `rollout plan --out`" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert {path: path.read_bytes() for path in cases} == before
    plan = tmp_path / "plan.json"
    plan.touch()  # an empty file (mktemp) may take the plan, and a plan saved before be replaced
    for _ in range(2):
        assert rollout("plan", "--manifest", fleet.manifest, "--out", plan).code in (0, 2)
        assert json.loads(plan.read_text())["format_version"] == 1
