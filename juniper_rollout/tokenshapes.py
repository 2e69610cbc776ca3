"""The one list of known credential shapes (token prefixes), and the two questions asked of it. Pure.

- In a *value* (discovery: may this default reach ``.env.example``?): a shape's prefix anywhere,
  :data:`IN_VALUE`, searched.
- As a *variable name* (a ``.env`` line ``hf_AbC…=`` or ``sk_live_…=``: a pasted token split at an
  ``=``): the whole name is the token, :func:`is_token_name`. Only shapes that can be identifiers
  need a name form (``xoxb-…``, ``sk-…``, ``glpat-…`` hold a ``-``, so they never pass as names);
  the name forms ask for a token's real length, so ``HF_HOME``, ``hf_token``, ``ASIANPACIFIC_URL``
  or ``AWS_SECRET_ACCESS_KEY_ID_FOR_PROD_2024`` stay names (prefixes are case-sensitive, as issued).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class TokenShape(NamedTuple):
    issuer: str
    in_value: str  # searched in a value: the prefix, with just enough after it to be a token
    as_name: str | None  # the whole of an identifier that is this token; None: it cannot be one


SHAPES: tuple[TokenShape, ...] = (
    TokenShape(
        "GitHub",
        r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]",
        r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}",
    ),
    TokenShape("GitHub fine-grained", r"github_pat_", r"github_pat_[A-Za-z0-9_]{20,}"),
    TokenShape("OpenAI/Anthropic", r"(?:^|[^A-Za-z0-9])sk-[A-Za-z0-9_-]{2}", None),
    TokenShape("Stripe secret", r"sk_(?:live|test)_", r"sk_(?:live|test)_[A-Za-z0-9]{16,}"),
    TokenShape("Stripe restricted", r"rk_(?:live|test)_", r"rk_(?:live|test)_[A-Za-z0-9]{16,}"),
    TokenShape("Slack", r"xox[abposr]-", None),
    TokenShape("webhook secret", r"whsec_", r"whsec_[A-Za-z0-9]{16,}"),
    TokenShape(
        "AWS access key id",
        r"(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{8}",
        r"(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}",
    ),
    TokenShape("GitLab", r"glpat-", None),
    TokenShape("PyPI", r"pypi-[A-Za-z0-9_-]{8}", None),
    TokenShape("npm", r"npm_[A-Za-z0-9]{8}", r"npm_[A-Za-z0-9]{30,}"),
    TokenShape("Google API key", r"AIza[0-9A-Za-z_-]{8}", r"AIza[0-9A-Za-z_]{30,}"),
    TokenShape("Hugging Face", r"hf_[A-Za-z0-9]{8}", r"hf_[A-Za-z0-9]{30,}"),
    TokenShape("JWT", r"eyJ[A-Za-z0-9_-]{8,}\.", None),
    TokenShape("PEM block", r"-----BEGIN", None),
)

IN_VALUE = re.compile("|".join(s.in_value for s in SHAPES))
_AS_NAME = re.compile("|".join(s.as_name for s in SHAPES if s.as_name))


def is_token_name(name: str) -> bool:
    """True when the whole identifier ``name`` is a known token (a credential pasted where a name goes)."""
    return _AS_NAME.fullmatch(name) is not None
