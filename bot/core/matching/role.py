"""Who is writing: the role chosen with /vaitro, else one the message states.

The cues come from the lexicon (`reader_cues`, staff-editable): "con tôi" (a parent), "học sinh
lớp tôi" (a teacher), "em lớp 7" (a child). A message with cues of two roles names none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.text import fold


def detect_role(folded: str, cues: Mapping[str, Sequence[str]]) -> str | None:
    """The one role whose cue phrases (folded) occur in the folded message, else None."""
    padded = f" {folded} "
    found = {role for role, phrases in cues.items() if any(f" {p} " in padded for p in phrases)}
    return found.pop() if len(found) == 1 else None


def folded_cues(cues: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Cue phrases folded once, at load time."""
    return {role: [fold(p).strip() for p in phrases if p.strip()] for role, phrases in cues.items()}
