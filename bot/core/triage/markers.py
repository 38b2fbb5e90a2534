"""The text the learned model reads: the folded message plus one marker word per cue group.

Issue 13's "telling about" vs "asking about": look-alikes tell of the past ("hồi nhỏ"), of a
matter settled ("đã báo công an"), of a game or a film, ask in general ("nếu", "trẻ em ...
thì"), or joke ("=))"); emergencies tell of now ("đang", "vừa") and of the writer ("em bị").
The n-grams of one wording teach the model nothing about another wording of the same idea, so
each group of danger.yaml `model_cues` that occurs adds its marker word ("zzpast"), and what
the model learns from one wording carries to the others. Leave-one-author-out
(bench/triage_oof.py) this lowered urgent false alarms on look-alikes at equal recall.
"""

from __future__ import annotations

import re

from bot.core.text import Normalised, Normaliser
from bot.core.triage.schema import ModelCues

MODEL_CHARS = 2000  # the model reads the start of a long message (rules read all of it)
MARKER_PREFIX = "zz"  # no folded Vietnamese or English word starts so


class ModelText:
    """Builds the model's input from a normalised message (pure; compiled once per danger file)."""

    def __init__(self, cues: ModelCues, normalise: Normaliser) -> None:
        self._words: list[tuple[str, re.Pattern[str]]] = []
        for name, wordings in cues.words.items():
            folded = sorted({normalise(w).folded for w in wordings} - {""}, key=len, reverse=True)
            if folded:
                pattern = r"\b(?:" + "|".join(re.escape(f) for f in folded) + r")\b"
                self._words.append((MARKER_PREFIX + name, re.compile(pattern)))
        self._marks = [
            (MARKER_PREFIX + name, tuple(m.lower() for m in marks if m))
            for name, marks in cues.marks.items()
        ]
        # what the model's input depends on besides the lexicon: a change here retrains
        self.key = cues.model_dump_json()

    def __call__(self, message: Normalised) -> str:
        folded = message.folded[:MODEL_CHARS]
        markers = [name for name, pattern in self._words if pattern.search(folded)]
        if self._marks:
            raw = message.raw[: MODEL_CHARS * 2].lower()
            markers += [name for name, marks in self._marks if any(m in raw for m in marks)]
        return f"{folded} {' '.join(markers)}" if markers else folded
