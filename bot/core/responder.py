"""The one path from a message to a reply: normalise, triage, match, compose.

The terminal chat, `ask`, the tests and the Telegram handlers all call `Responder.respond`, so
what a user sees is what the tests check. Nothing here knows about Telegram, SQLite or files:
the knowledge base comes in already loaded, and a reload swaps the whole `Responder`.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

from bot.core import onemessage
from bot.core.knowledge import AUDIENCES, Audience, Entry, KnowledgeBase
from bot.core.matching import Band, Hit, Ranker, Thresholds, band, detect_role, focus
from bot.core.matching.role import folded_cues
from bot.core.text import Normalised, Normaliser, canonical, fold
from bot.core.triage import (
    ModelText,
    Tier,
    Tiering,
    Triage,
    UrgentMatch,
    trained_model,
    training_data,
)
from bot.privacy.redactor import Redactor

# The matcher's bands, and small talk (a greeting answered from ui.yaml, no entry).
ReplyBand = Literal[Band, "smalltalk"]
SUGGESTION_COUNT = 3
CACHE_SIZE = 4096  # replies kept for repeated messages ("111 là gì" arrives again and again)


@dataclass(frozen=True)
class Suggestion:
    """An entry offered as a button: the id for the edge, the title for the user."""

    entry_id: str
    title: str


@dataclass(frozen=True)
class CheckButton:
    """The check tier's button: its label for this reader, and the danger kind it confirms."""

    label: str
    category: str


@dataclass(frozen=True)
class Reply:
    """What the bot says to one message; `parts` are sent in order, urgent reply first, alone."""

    parts: tuple[str, ...]
    urgent: bool = False
    check: bool = False  # doubtful danger: normal answer + the 111 line + a "danger" button
    tier: Tier = "none"
    category: str | None = None
    entry_id: str | None = None
    score: float = 0.0
    band: ReplyBand = "fallback"
    suggestions: tuple[Suggestion, ...] = ()
    related: tuple[Suggestion, ...] = ()
    nearest: str | None = None  # best candidate even when not confident (for staff reports)
    check_button: CheckButton | None = None  # check tier only: "I am in danger" -> urgent card

    @property
    def text(self) -> str:
        """Everything the user reads, as one text."""
        return "\n\n".join(self.parts)


def _clean_audience(audience: str | None) -> Audience | None:
    for known in AUDIENCES:
        if audience == known:
            return known
    return None


class Responder:
    """Answers messages from one validated knowledge base."""

    def __init__(
        self,
        kb: KnowledgeBase,
        thresholds: Thresholds | None = None,
        *,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.kb = kb
        self.ui = kb.ui
        self.thresholds = thresholds or Thresholds()
        self.normalise = Normaliser(kb.lexicon, (
            *(text for entry in kb.entries.values()
              for text in (entry.title, *entry.questions, *entry.keywords)),
            *(text for texts in kb.examples.questions.values() for text in texts),
        ))
        self.triage = Triage(kb.danger, self.normalise)
        safe = [question for entry in kb.entries.values() for question in entry.questions]
        model_text = ModelText(kb.danger.model_cues, self.normalise)
        self.model = trained_model(
            training_data(kb.triage_examples, safe, kb.danger.examples()),
            lambda text: model_text(self.normalise(text)),
            kb.lexicon.model_dump_json() + model_text.key,
        )
        self.tiering = Tiering(kb.danger, self.triage, self.model, model_text)
        self.matcher = Ranker(kb.entries.values(), self.normalise,
                              examples=kb.examples.questions, out_of_scope=kb.out_of_scope)
        self._role_cues = folded_cues(self.normalise.reader_cues)
        # Replies to recent messages, keyed by a digest of the text so no message is kept.
        self._cache: OrderedDict[bytes, Reply] = OrderedDict()
        self._cache_size = cache_size
        self._smalltalk = {
            fold(canonical(phrase)): talk.reply
            for talk in kb.ui.smalltalk
            for phrase in talk.phrases
        }

    @property
    def cache_size(self) -> int:
        return self._cache_size

    @cached_property
    def redactor(self) -> Redactor:
        """Personal-data redaction with this knowledge base's privacy lists and vocabulary (so a
        /reload of privacy.yaml applies at once). Built on first use; the edges build it at
        load (`bot.services`), so the first user's message does not pay for it."""
        return Redactor(self.kb.privacy, self.kb.redaction_vocabulary())

    # -- the main path -------------------------------------------------------------------
    def respond(self, text: str | None, audience: str | None = None) -> Reply:
        """Reply to one message. Triage runs first and no match can suppress its reply.

        The reply depends only on the text, the audience and this (immutable) knowledge base,
        so repeated messages are answered from a small cache.
        """
        audience = _clean_audience(audience)
        key = hashlib.blake2b(f"{audience}\x00{text or ''}".encode(), digest_size=16).digest()
        reply = self._cache.get(key)
        if reply is not None:
            self._cache.move_to_end(key)
            return reply
        with onemessage.scope():  # work shared by the layers, forgotten with the reply
            reply = self._respond(text or "", audience)
        if self._cache_size:
            self._cache[key] = reply
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return reply

    def _respond(self, text: str, audience: Audience | None) -> Reply:
        message = self.normalise(text)
        urgent, tier = self._tier(message, audience)
        # The writer's role: the one chosen with /vaitro, else one the message states.
        role = audience or _clean_audience(detect_role(message.folded, self._role_cues))
        hits = (
            self.matcher.search(
                message,
                limit=SUGGESTION_COUNT,
                focus=focus(message.raw, self.normalise.folded),
                role=role,
            )
            if message.folded
            else []
        )
        audience = role
        best = hits[0] if hits else None
        score = round(best.score, 1) if best else 0.0
        confidence = band(best.score, self.thresholds) if best else "fallback"
        if urgent is not None:
            return self._urgent_reply(urgent, best if confidence == "answer" else None, score,
                                      audience)
        if tier == "check":
            return self._with_check(self._plain(message, hits, confidence, score, audience),
                                    message, audience)
        return self._plain(message, hits, confidence, score, audience)

    def _tier(self, message: Normalised, audience: Audience | None
              ) -> tuple[UrgentMatch | None, Tier]:
        """Rules add alarms; the learned model decides how sure: urgent, check or none."""
        return self.tiering.assess(message, audience)

    def confirm_urgent(self, text: str, audience: str | None = None) -> Reply:
        """The check button was pressed: the urgent reply for that message, and an alert."""
        clean = _clean_audience(audience)
        match = self.tiering.confirm(self.normalise(text), clean)
        return self._urgent_reply(match, None, 0.0, clean)

    def urgent_card(self, category: str, audience: str | None = None) -> Reply:
        """The urgent reply the core gives for `category` (e.g. "Có, ngay bây giờ" in /baotin)."""
        clean = _clean_audience(audience)
        return self._urgent_reply(self.tiering.match_for(category, clean), None, 0.0, clean)

    def _with_check(self, reply: Reply, message: Normalised, audience: Audience | None) -> Reply:
        """The normal answer, the 111 line, and a button that turns it into the urgent card of
        the most likely danger (only check replies pay for working that out); the line and
        the button are worded for the reader: a teacher is not addressed as "em"."""
        category = self.tiering.confirm(message, audience).category
        adult = audience in ("parent", "teacher")
        label = self.ui.check_button_adult if adult else self.ui.check_button_child
        kind = self.kb.danger.categories.get(category)
        own = kind and (kind.check_line_adult if adult else kind.check_line)
        line = own or (self.ui.check_line_adult if adult else self.ui.check_line)
        parts = (self.ui.fallback_checked,) if reply.band == "fallback" else reply.parts
        return replace(reply, parts=(*parts, line), check=True, tier="check",
                       check_button=CheckButton(label, category))

    def _plain(self, message: Normalised, hits: list[Hit], confidence: str, score: float,
               audience: Audience | None) -> Reply:
        best = hits[0] if hits else None
        if confidence == "answer" and best is not None:
            return self._entry_reply(self.kb.entries[best.entry_id], score, audience)
        small = self._small_talk(message)
        if small is not None:
            return Reply(parts=(small,), band="smalltalk", score=score)
        nearest = best.entry_id if best else None
        if confidence == "did-you-mean":
            return Reply(
                parts=(self.ui.did_you_mean,),
                band="did-you-mean",
                score=score,
                suggestions=self._suggest(hits),
                nearest=nearest,
            )
        return Reply(parts=(self.ui.fallback,), band="fallback", score=score, nearest=nearest)

    def answer_entry(self, entry_id: str, audience: str | None = None) -> Reply | None:
        """The reply for a pressed suggestion button; None when the entry no longer exists."""
        entry = self.kb.entries.get(entry_id)
        if entry is None:
            return None
        return self._entry_reply(entry, 100.0, _clean_audience(audience))

    # -- cards and menus -----------------------------------------------------------------
    def hotline_card(self) -> str:
        """The list of numbers to call, from knowledge/hotlines.yaml."""
        lines = [self.ui.hotline_card_intro]
        for line in self.kb.hotlines:
            if not line.on_card:
                continue
            details = ", ".join(part for part in (line.cost, line.when) if part)
            suffix = f" ({details})" if details else ""
            lines.append(f"- {line.number}: {line.name}{suffix}. {line.use_for}")
        lines.append(self.ui.hotline_card_outro)
        return "\n".join(lines)

    def topic_entries(self, tag: str) -> list[Suggestion]:
        """Entries listed under a topic of the menu."""
        return [
            Suggestion(entry.id, entry.title)
            for entry in self.kb.entries.values()
            if tag in entry.tags
        ]

    # -- composing -----------------------------------------------------------------------
    def _entry_reply(self, entry: Entry, score: float, audience: Audience | None) -> Reply:
        return Reply(
            parts=(entry.answer_for(audience),),
            entry_id=entry.id,
            score=score,
            band="answer",
            related=self._related(entry),
        )

    def _urgent_reply(
        self, urgent: UrgentMatch, best: Hit | None, score: float, audience: Audience | None
    ) -> Reply:
        follow_id = best.entry_id if best else urgent.entry_for(audience)
        entry = self.kb.entries.get(follow_id) if follow_id else None
        parts = [urgent.reply_for(audience)]
        if entry is not None:
            speaker_audience = audience or ("parent" if urgent.speaker == "adult" else "child")
            parts.append(entry.answer_for(speaker_audience))
        return Reply(
            parts=tuple(parts),
            urgent=True,
            tier="urgent",
            category=urgent.category,
            entry_id=entry.id if entry else None,
            score=score,
            band="answer" if entry else "fallback",
            related=self._related(entry) if entry else (),
        )

    def _small_talk(self, message: Normalised) -> str | None:
        if message.folded in self._smalltalk:
            return self._smalltalk[message.folded]
        words = message.folded.split()
        if len(words) > 6:
            return None
        # anywhere in a short message, not only at its start ("ok cam on nha bye", "dạ em
        # chào bot"); the earliest phrase wins, the longest where several start there
        for start in range(len(words)):
            for size in (3, 2, 1):
                reply = self._smalltalk.get(" ".join(words[start:start + size]))
                if reply is not None:
                    return reply
        return None

    def _suggest(self, hits: list[Hit]) -> tuple[Suggestion, ...]:
        return tuple(
            Suggestion(hit.entry_id, self.kb.entries[hit.entry_id].title)
            for hit in hits[:SUGGESTION_COUNT]
        )

    def _related(self, entry: Entry) -> tuple[Suggestion, ...]:
        return tuple(
            Suggestion(target, self.kb.entries[target].title)
            for target in entry.related
            if target in self.kb.entries
        )
