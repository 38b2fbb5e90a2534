"""Privacy: redaction of personal data and anonymous user keys.

Everything that reaches the interaction log, a staff alert or a report passes through a
`Redactor` first. The word lists live in `knowledge/privacy.yaml` (validated with the rest of
the knowledge base); `redact()` uses the bundled lists and vocabulary.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache
from pathlib import Path

from bot.privacy.lists import PrivacyLists, fold_word
from bot.privacy.redactor import Redactor

USER_KEY_LENGTH = 16
MIN_SECRET_LENGTH = 32
BUNDLED_KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"

__all__ = [
    "MIN_SECRET_LENGTH",
    "PrivacyLists",
    "Redactor",
    "default_redactor",
    "fold_word",
    "redact",
    "user_key",
]


def user_key(secret: bytes, telegram_id: int) -> str:
    """Anonymous, stable key for one user: HMAC-SHA256 of the id, hex, truncated.

    Keyed so that nobody holding the database alone can test candidate ids against it; the
    secret must be long (`MIN_SECRET_LENGTH`) or it can be found by brute force from one's own row.
    """
    digest = hmac.new(secret, str(int(telegram_id)).encode("ascii"), hashlib.sha256)
    return digest.hexdigest()[:USER_KEY_LENGTH]


@cache
def default_redactor() -> Redactor:
    """The redactor of the bundled knowledge base (lists and vocabulary), built once."""
    from bot.core.knowledge import load_knowledge  # late: the core imports our list schema

    kb = load_knowledge(BUNDLED_KNOWLEDGE)
    return Redactor(kb.privacy, kb.redaction_vocabulary())


def redact(text: str) -> str:
    """Replace personal data in `text` with tokens such as [SĐT], [TÊN], [ĐỊA CHỈ]."""
    return default_redactor().redact(text)
