"""Which environment variable names and values look secret: the one definition, used by discovery
(no default written for a secret-looking name), the manifest loader (no default in an example may
carry one) and the leak guard. Pure: regular expressions and arithmetic."""

from __future__ import annotations

import math
import re
from collections import Counter

_SECRET = re.compile(
    r"(?:^|_)(?:KEYS?|TOKENS?|PASSWORD|PASSWD|PASS|PASSPHRASE|SECRETS?|DSN|CREDENTIALS?|PYPI)$"
    r"|AUTHKEY|API_?KEY|PRIVATE_?KEY"
)


def looks_secret(name: str) -> bool:
    """True for names like *_KEY, *_TOKEN, *_PASSWORD, *_SECRET, *_DSN, *API_KEY*, *_PYPI (case-insensitive)."""
    return bool(_SECRET.search(re.sub(r"[^A-Z0-9]", "_", name.upper())))


# known credential shapes: GitHub, OpenAI/Anthropic/Stripe, Slack, webhook secrets, AWS, GitLab, PyPI,
# npm, Google, Hugging Face, JWTs, PEM blocks
_TOKEN = re.compile(
    r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]|github_pat_|(?:^|[^A-Za-z0-9])sk-[A-Za-z0-9_-]{2}|sk_(?:live|test)_"
    r"|rk_(?:live|test)_|xox[abposr]-|whsec_|(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{8}|glpat-|pypi-[A-Za-z0-9_-]{8}"
    r"|npm_[A-Za-z0-9]{8}|AIza[0-9A-Za-z_-]{8}|hf_[A-Za-z0-9]{8}|eyJ[A-Za-z0-9_-]{8,}\.|-----BEGIN"
)
_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s]+@")
_OPAQUE = re.compile(r"[A-Za-z0-9+/=_.~-]{20,}")


def carries_credential(value: str) -> bool:
    """True for a value that holds a credential whatever its name: URL user-info
    (``postgres://user:pass@db``), a known token prefix (``ghp_``, ``github_pat_``, ``sk-``, ``xox…-``,
    ``whsec_``, ``AKIA…``, …) or a long high-entropy run of token characters."""
    if _USERINFO.search(value) or _TOKEN.search(value):
        return True
    for run in _OPAQUE.findall(value):
        if _high_entropy(run):
            return True
    return False


def _high_entropy(run: str) -> bool:
    """A run of 20+ token characters mixing letters and digits at >= 3.5 bits a character (a hex digest,
    a base64 key); words, paths and dotted names have no digits or too few distinct characters."""
    if not (re.search(r"[0-9]", run) and re.search(r"[A-Za-z]", run)):
        return False
    if len(re.findall(r"[0-9]", run)) < 3:
        return False
    if len(run) >= 32 and re.fullmatch(r"[0-9a-fA-F]+", run):  # a hex digest or key
        return True
    counts = Counter(run)
    entropy = -sum(c / len(run) * math.log2(c / len(run)) for c in counts.values())
    return entropy >= 3.5
