"""Cues around a danger phrase: idioms, negations and film/news topics that cancel it, and who
the message is about (another child, the writer as victim, evidence for a category).

Cues that can only cancel an alarm (negations, idioms, questions, topics, settled matters) are
read strictly when the writer typed diacritics: "cha" is then not "chả".
"""

from __future__ import annotations

from itertools import accumulate

from bot.core.triage.phrases import Hit

# Hits an idiom can cancel (questions and negations are never part of an idiom's meaning).
MASKABLE = {"harm", "part", "disclosure", "adult", "other", "mention", "self"}
# Cue kinds that can only cancel an alarm (read strictly when the writer typed diacritics).
CANCELLING = {"negation", "idiom", "question", "topic", "settled"}


class Who:
    """Who the message is about and what it proves: other-child wordings, wordings where the
    writer is the victim, and the evidence keys behind `requires` and `precedence`."""

    def __init__(self) -> None:
        self.others: list[tuple[int, int]] = []
        self.selves: list[tuple[int, int]] = []
        self.evidence: set[str] = set()

    def note(self, hit: Hit, base: int) -> None:
        kind = hit.phrase.kind
        if kind == "evidence":
            self.evidence.add(hit.phrase.category or "")
        elif kind in ("other", "mention"):
            self.others.append((base + hit.start, base + hit.end))
        elif kind == "self":
            self.selves.append((base + hit.start, base + hit.end))

    def witness(self) -> bool:
        """Another child is named and the writer is not a victim too. A writer-victim wording
        that overlaps an other-child wording and reaches at most one word past it belongs to
        that child: in "em gái em bị", "bạn cùng lớp mình bị" the "em bị", "mình bị" are the
        other child's; "bạn em bảo dẫn đi" still makes the writer the one led away. One that
        starts two or more words before it is the writer's own: unaccented "bố mẹ em bán em"
        reads "bạn em" in it ("bố đánh em gái em" stays about the sister)."""
        return bool(self.others) and not any(
            not any(
                o_start - 1 <= start < o_end and o_start < end <= o_end + 1
                for o_start, o_end in self.others
            )
            for start, end in self.selves
        )


class Masks:
    """Idiom spans and negations of one clause, as prefix arrays so that each hit is checked
    in constant time however long the clause is."""

    def __init__(self, hits: list[Hit], n: int, window: int, topic_window: int) -> None:
        self.window = window
        self.topic_window = topic_window
        breaks = [h for h in hits if h.phrase.kind == "break"]
        # idiom_end[p]: furthest end of an idiom starting at or before p
        self.idiom_end = [-1] * (n + 1)
        # neg_end[p]: nearest end (<= p) of a negation that is not part of a break
        # ("không thì", "nếu không" are not negations)
        self.neg_end = [-1] * (n + 1)
        # break_start[p]: latest start of a break ending at or before p
        self.break_start = [-1] * (n + 1)
        # topic_end[p]: nearest end (<= p) of a topic cue ("phim về")
        self.topic_end = [-1] * (n + 1)
        for hit in hits:
            kind = hit.phrase.kind
            if kind == "idiom":
                self.idiom_end[hit.start] = max(self.idiom_end[hit.start], hit.end)
            elif kind == "topic":
                self.topic_end[hit.end] = max(self.topic_end[hit.end], hit.end)
            elif kind == "break":
                self.break_start[hit.end] = max(self.break_start[hit.end], hit.start)
            elif kind == "negation" and not any(
                b.start <= hit.start and hit.end <= b.end for b in breaks
            ):
                self.neg_end[hit.end] = max(self.neg_end[hit.end], hit.end)
        # running maxima; an array no hit touched stays all -1 and needs none
        kinds = {hit.phrase.kind for hit in hits}
        if "idiom" in kinds:
            self.idiom_end = list(accumulate(self.idiom_end, max))
        if "negation" in kinds:
            self.neg_end = list(accumulate(self.neg_end, max))
        if breaks:
            self.break_start = list(accumulate(self.break_start, max))
        if "topic" in kinds:
            self.topic_end = list(accumulate(self.topic_end, max))

    def in_idiom(self, hit: Hit) -> bool:
        return self.idiom_end[hit.start] >= hit.end

    def negated(self, hit: Hit) -> bool:
        """A negation ends at most `window` words before the hit, with no break between."""
        return self._scoped(hit, self.neg_end, self.window)

    def in_topic(self, hit: Hit) -> bool:
        """The hit names what a film or a story is about ("phim về bắt cóc")."""
        return self._scoped(hit, self.topic_end, self.topic_window)

    def _scoped(self, hit: Hit, ends: list[int], window: int) -> bool:
        end = ends[hit.start]
        return end >= 0 and hit.start - end <= window and self.break_start[hit.start] < end
