"""Find the question inside a long message: people tell a story first and ask at the end.

Cuts the raw text (folding drops the punctuation that ends a sentence) and folds each sentence
as the ranker reads it. A message of one or two short sentences is returned whole; otherwise
the sentences with a question cue (a "?" or a question word) are picked, the last one when none
has a cue, so the ranker can weigh the question above the story while still seeing the story as
context. (Until 2026-12-06 the sentences were cut from the folded text, which has no
punctuation: the finder never fired on a real message.)
"""

from __future__ import annotations

import re
from collections.abc import Callable

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


def focus(raw: str, fold: Callable[[str], str]) -> str | None:
    """The question part of a long message, folded, or None when the message is short.

    The sentences are cut from the raw text (the folded text has lost its punctuation) and
    each is folded with `fold`, the normaliser the ranker reads with. One run-on sentence
    gives its last clause.
    """
    if len(raw.split()) < LONG_WORDS:
        return None
    parts = sentences(raw)
    if len(parts) < 2:
        clauses = [c for c in re.split(r"[,:]", raw) if c.strip()]
        return fold(clauses[-1]).strip() or None if len(clauses) > 1 else None
    folded_parts = [fold(part) for part in parts]
    asked = [
        folded
        for part, folded in zip(parts, folded_parts, strict=True)
        if part.rstrip().endswith("?") or any(cue in f" {folded} " for cue in _CUES)
    ]
    chosen = asked[-2:] if asked else folded_parts[-1:]
    return " ".join(chosen).strip() or None
