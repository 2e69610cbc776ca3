"""A drift audit as a SARIF 2.1.0 log, the format GitHub code scanning reads.

Pure: data in, data out.

One run for the whole fleet. Every location is a path relative to its repo's root,
with the repo's name as ``uriBaseId``; ``originalUriBaseIds`` maps each name to the
clone. A result's message starts with the repo's name (code scanning shows only the
message), and ``partialFingerprints`` (repo, rule, path) keep an alert the same
alert from one scheduled run to the next. Repos that could not be read become
error notifications of the invocation, not results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from juniper_rollout import __version__
from juniper_rollout.audit import (
    DRIFT,
    ENV_IN_HISTORY,
    IN_SYNC,
    MISSING,
    RULES,
    SECRET_IN_MESSAGE,
    Artifact,
    Finding,
    RepoAudit,
    Rule,
)

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT = "juniperRolloutResult/v1"

_STATE_TEXT = {
    MISSING: "is missing (the manifest asks for it)",
    "modified": "differs from what the manifest renders",
    "extra": (
        "holds the tool's block although the manifest no longer asks for it (remove the block)"
    ),
}


def to_sarif(audits: list[RepoAudit], roots: Mapping[str, Path]) -> dict[str, Any]:
    """The log for ``audits``; ``roots`` maps each repo name to its clone."""
    index = {rule.id: i for i, rule in enumerate(RULES)}
    results: list[dict[str, Any]] = []
    for audit in audits:
        for artifact in audit.artifacts:
            if artifact.state != IN_SYNC:
                results.append(
                    _result(
                        audit.name,
                        DRIFT,
                        index[DRIFT],
                        _drift_text(audit.name, artifact),
                        artifact.path,
                        exists=artifact.state != MISSING,
                    )
                )
        for finding in audit.findings:
            results.append(
                _result(
                    audit.name,
                    finding.id,
                    index[finding.id],
                    _finding_text(audit.name, finding),
                    finding.path,
                    exists=finding.id not in (ENV_IN_HISTORY, SECRET_IN_MESSAGE),
                )
            )
    errors = [a for a in audits if a.error]
    invocation: dict[str, Any] = {"executionSuccessful": not errors}
    if errors:
        invocation["toolExecutionNotifications"] = [
            # pass 24f: an error naming such a path (`x\xffy/.env.enc … is 19 MB`) as escapes too
            {"level": "error", "message": {"text": _shown(f"{a.name}: {a.error}")}}
            for a in errors
        ]
    run = {
        "tool": {
            "driver": {
                "name": "juniper-rollout",
                "version": __version__,
                "rules": [_rule(rule) for rule in RULES],
            }
        },
        "originalUriBaseIds": {name: {"uri": _dir_uri(path)} for name, path in roots.items()},
        "invocations": [invocation],
        "results": results,
    }
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule(rule: Rule) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "tags": ["security", "secrets"] if rule.security_severity else ["maintainability"]
    }
    if rule.security_severity:
        properties["security-severity"] = rule.security_severity
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.short},
        "fullDescription": {"text": f"{rule.short}. {rule.help}"},
        "help": {"text": rule.help},
        "defaultConfiguration": {"level": rule.level},
        "properties": properties,
    }


def _result(
    repo: str, rule_id: str, rule_index: int, text: str, path: str, *, exists: bool
) -> dict[str, Any]:
    # a path of history is its bytes as git stores them (a name no UTF-8 decodes holds surrogates,
    # pass 24c: `x\xffy/.env.prod` committed once made `drift --format sarif` "unexpected
    # UnicodeEncodeError", no log at all): the URI percent-encodes those bytes, as `_dir_uri` does
    # the clone's, and the message shows them as escapes
    raw = path.encode("utf-8", "surrogateescape")
    uri = quote(raw, safe="/")
    location: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": repo}}
    if exists:
        location["region"] = {"startLine": 1}
    key = hashlib.sha256(f"{repo}\0{rule_id}\0".encode() + raw).hexdigest()[:32]
    return {
        "ruleId": rule_id,
        "ruleIndex": rule_index,
        "level": RULES[rule_index].level,
        "message": {"text": _shown(text)},
        "locations": [{"physicalLocation": location}],
        "partialFingerprints": {FINGERPRINT: key},
        "properties": {"repo": repo},
    }


def _drift_text(repo: str, artifact: Artifact) -> str:
    return (
        f"{repo}: {artifact.path} {_STATE_TEXT[artifact.state]}; "
        f"run `rollout plan --repo {repo}` to see the difference "
        "and `rollout apply` to fix it on the rollout branch"
    )


def _finding_text(repo: str, finding: Finding) -> str:
    return f"{repo}: {finding.message}"


def _shown(text: str) -> str:
    """``text`` as valid Unicode: a byte of a path no UTF-8 decodes (a lone surrogate in Python, no
    character SARIF's JSON may hold) as its escape, ``\\xff``."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _dir_uri(path: Path) -> str:
    uri = path.absolute().as_uri()
    return uri if uri.endswith("/") else uri + "/"
