"""Find the question inside a long message: people tell a story first and ask at the end.

Works on the folded text (no diacritics) the ranker sees. A message of one or two short sentences
is returned whole; otherwise the sentences with a question cue (a "?" or a question word) are
picked, the last one when none has a cue, so the ranker can weigh the question above the story
while still seeing the story as context.
"""

from __future__ import annotations

import re

LONG_WORDS = 25  # below this many words the whole message is the question
_SPLIT_RE = re.compile(r"(?<=[.!?;\n])\s+|\n+")
# Folded question words and frames (Vietnamese questions end on these far more than they start).
_CUES = (
    " gi ", " nao ", " sao ", " khong ", " chua ", " dau ", " ai ", " bao nhieu ", " bao gio ",
    " the nao ", " ntn ", " co duoc ", " phai lam ", " nen lam ", " lam gi ", " o dau ", " may ",
)


def sentences(text: str) -> list[str]:
    """The sentences of a message, in order, without empty pieces."""
    return [part.strip() for part in _SPLIT_RE.split(text) if part and part.strip()]


def focus(raw: str, folded: str) -> str | None:
    """The question part of a long message (folded), or None when the message is short.

    `raw` keeps the punctuation the folded text may have lost; both are split the same way when
    they have the same number of sentences, else the folded text alone is used.
    """
    if len(folded.split()) < LONG_WORDS:
        return None
    parts = sentences(raw)
    folded_parts = sentences(folded)
    if len(parts) != len(folded_parts):
        parts = folded_parts
    if len(parts) < 2:
        # One run-on sentence: its last clause usually holds the question.
        clauses = [c for c in re.split(r"[,:]", folded) if c.strip()]
        return clauses[-1].strip() if len(clauses) > 1 else None
    asked = [
        folded_parts[i]
        for i, part in enumerate(parts)
        if part.rstrip().endswith("?") or any(cue in f" {folded_parts[i]} " for cue in _CUES)
    ]
    chosen = asked[-2:] if asked else folded_parts[-1:]
    return " ".join(chosen)
