"""Urgent triage by rules: spot a child in danger before any matching, so the hotline reply
comes first.

A missed emergency is the worst bug this bot can have, so the rules lean toward "urgent": a danger
phrase counts unless it is clearly negated ("em không bị ai đánh"), clearly part of an idiom
("mệt muốn chết"), or clearly a knowledge question with nobody real in it ("xâm hại tình dục bị
phạt mấy năm tù"). Self-harm ignores the last two escapes. A category's `short_messages` ("cứu",
"e sợ") count only as the whole message. When no phrase fires, the safety net gets a try.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import replace

from bot.core import onemessage
from bot.core.text import Normalised, Normaliser, canonical
from bot.core.triage.category import alarm, choose, match_for
from bot.core.triage.cues import MASKABLE, Masks, Who
from bot.core.triage.phrases import Hit, Phrase, TokenPlan
from bot.core.triage.plan import DangerPlan
from bot.core.triage.result import UrgentMatch
from bot.core.triage.safety_net import clause_cues, safety_net
from bot.core.triage.schema import DangerFile
from bot.core.triage.words import Tok, fold_word, mostly_marked, pinned, token_pairs

_CLAUSE_SPLIT = re.compile(r"[.!?;:,\n\r…]+")
_WORD = re.compile(r"\w+")  # the words `canonical` keeps


def _lowered(part: str) -> str:
    """A clause as `canonical` sees it before it picks the words out."""
    return unicodedata.normalize("NFC", part).lower().replace("_", " ")


class Triage:
    """Decides whether a message is an emergency, and which one."""

    def __init__(self, danger: DangerFile, normaliser: Normaliser) -> None:
        self._plan = DangerPlan(danger, normaliser)

    def warm(self, words: Iterable[str]) -> None:
        """Work out, once, how each of these folded words of a fixed staff-written vocabulary
        (the training examples) meets the danger file, so scans look them up (speed only)."""
        plan = self._plan
        plain: dict[str, TokenPlan] = {}
        indexes = [plan.danger_index, plan.cue_index, plan.cancel_index, plan.net_block]
        if plan.net_index is not None:
            indexes.append(plan.net_index)
        words = list(words)
        for index in indexes:
            index.warm(words, plain)

    def assess(self, message: Normalised) -> UrgentMatch | None:
        """The emergency this message discloses, or None. Runs before any matching.
        Worked out once per message (`bot.core.onemessage`): a check-tier reply asks again
        for the danger its button confirms."""
        return onemessage.once(("triage rules", id(self), message),
                               lambda: self._assess(message))

    def _assess(self, message: Normalised) -> UrgentMatch | None:
        plan = self._plan
        if len(message.folded) <= plan.short_len * 2:
            short = self._short_message(message)
            if short is not None:
                return short
        clauses = self._clauses(message)
        if mostly_marked(message.words):  # a writer who types diacritics is read as typed
            clauses = [pinned(toks) for toks in clauses]
        found = [plan.danger_index.scan(toks) for toks in clauses]
        # the common case: no danger phrase, so no cue scan for the rules
        cues: list[list[Hit] | None] = [None] * len(clauses)  # shared with the safety net
        match = self._rules(message, clauses, found, cues) if any(found) else None
        if match is None and plan.net_index is not None:
            match = safety_net(plan, message, clauses, plan.net_index, cues)
        return match

    def _rules(
        self,
        message: Normalised,
        clauses: list[list[Tok]],
        found: list[list[Hit]],
        cues: list[list[Hit] | None],
    ) -> UrgentMatch | None:
        """The listed phrases and `together` groups, with their negations, idioms and cues
        (each clause's cue hits are left in `cues` for the safety net)."""
        plan = self._plan
        danger = plan.danger
        harms: list[Hit] = []
        kinds: set[str] = set()
        parts: dict[int, list[tuple[int, str]]] = {}  # group -> (word position, member)
        who = Who()
        offset = 0
        for n, (toks, danger_hits) in enumerate(zip(clauses, found, strict=True)):
            base = offset
            offset += len(toks)
            clause = cues[n] = clause_cues(plan, toks, message.typed_accents)
            hits = danger_hits + clause
            masks = Masks(hits, len(toks), danger.negation_window, danger.max_gap)
            for hit in hits:
                kind = hit.phrase.kind
                if kind in MASKABLE and (masks.in_idiom(hit) or masks.in_topic(hit)):
                    continue
                if kind in ("harm", "part"):
                    category = danger.categories[hit.phrase.category or ""]
                    if category.negatable and masks.negated(hit):
                        continue
                    if kind == "harm":
                        harms.append(hit)
                    else:
                        members = parts.setdefault(hit.phrase.group, [])
                        members.append((base + hit.start, hit.phrase.text))
                elif kind != "idiom":
                    kinds.add(kind)
                    who.note(hit, base)
        for group, members in parts.items():
            cat_id, size, text = plan.groups[group]
            start = self._group_start(members, size)
            if start is not None:
                phrase = Phrase("harm", cat_id, text, (), size, True)
                harms.append(Hit(phrase, start, start))
        if not harms:
            return None
        if "settled" in kinds:
            harms = [h for h in harms if not plan.category(h).questions_suppress]
            if not harms:
                return None
        real_person = bool(kinds & {"disclosure", "adult", "other"})
        if "question" in kinds and not real_person:
            harms = [h for h in harms if not plan.category(h).questions_suppress]
            if not harms:
                return None
        cat_id, best = choose(plan, harms, who.evidence)
        return match_for(plan, cat_id, kinds, best.phrase.text, who.witness(), who.evidence)

    def _short_message(self, message: Normalised) -> UrgentMatch | None:
        """A message that is nothing but a cry ("cuu", "e so"): urgent in its own category."""
        plan = self._plan
        key = " ".join(t.folded for t in plan.expand(token_pairs(message)))
        found = plan.short.get(key)
        if found is None:
            return None
        cat_id, wording = found
        return replace(alarm(plan, cat_id, "child", wording), whole_message=True)

    def _clauses(self, message: Normalised) -> list[list[Tok]]:
        """The message cut at punctuation, every clause kept (never truncated), so a phrase
        never spans two sentences and a negation stays in its own clause."""
        parts = [p for p in _CLAUSE_SPLIT.split(message.raw) if p.strip()]
        expand = self._plan.expand
        if len(parts) <= 1:
            return [expand(token_pairs(message))]
        # Clause punctuation is never inside a word, so the normaliser's canonical words of
        # the whole message are the clauses' words end to end: count each clause's words and
        # cut, instead of normalising every clause again (a third of the rules' time).
        words = message.words
        counts = [len(_WORD.findall(_lowered(part))) for part in parts]
        if sum(counts) != len(words):  # not the normaliser's words (or none kept): redo
            return [expand(self._tokens(part)) for part in parts]
        clauses: list[list[Tok]] = []
        start = 0
        for count in counts:
            clauses.append(expand(self._expanded(list(words[start : start + count]))))
            start += count
        return clauses

    def _tokens(self, clause: str) -> list[Tok]:
        """One clause in the normaliser's forms (canonical, lexicon-expanded, folded)."""
        return self._expanded(canonical(clause).split())

    def _expanded(self, words: list[str]) -> list[Tok]:
        """Canonical words with the lexicon's teencode spelled out, in both forms."""
        expanded = " ".join(self._plan.normaliser.expand(words)).split()
        return [Tok(fold_word(w), w) for w in expanded]

    def _group_start(self, members: list[tuple[int, str]], size: int) -> int | None:
        """Start of the first window of `together_window` words holding every member of a
        group, or None (sliding window over the hits sorted by position)."""
        if len({m for _, m in members}) < size:
            return None
        members.sort()
        counts: dict[str, int] = {}
        left = 0
        for pos, member in members:
            counts[member] = counts.get(member, 0) + 1
            while pos - members[left][0] > self._plan.danger.together_window:
                old = members[left][1]
                counts[old] -= 1
                if not counts[old]:
                    del counts[old]
                left += 1
            if len(counts) == size:
                return members[left][0]
        return None
