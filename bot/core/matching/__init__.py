"""Retrieval v2: find the knowledge entry a message asks about (issue 14).

`ranker` scores entries with TF-IDF (character and word n-grams of the folded text) against each
entry's questions and title; `question` finds the question inside a long message; `role` reads
who is writing. The band thresholds live beside the ranker because they belong to its scores.
"""

from bot.core.matching.question import focus
from bot.core.matching.ranker import (
    DEFAULT_HIGH,
    DEFAULT_LOW,
    Band,
    EntryLike,
    Hit,
    Ranker,
    Thresholds,
    band,
)
from bot.core.matching.role import detect_role

__all__ = [
    "DEFAULT_HIGH",
    "DEFAULT_LOW",
    "Band",
    "EntryLike",
    "Hit",
    "Ranker",
    "Thresholds",
    "band",
    "detect_role",
    "focus",
]
