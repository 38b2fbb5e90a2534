"""The guided report (/baotin): a few questions that prepare what to say when calling 111.

A pure, per-chat state machine: a typed text or a pressed choice goes in, the messages to send
(text, choices, copy buttons, and an urgent reply to send first) come out; nothing here knows
Telegram. Every word and every option lives in `knowledge/ui.yaml` (section `report`). State is
kept in memory only, keyed by an opaque chat key, and forgotten after `IDLE_SECONDS` of silence,
on /huy, and at the summary. Every question can be skipped. Typed answers go through the same
triage as any message, so "nó đang đánh em" typed here still gets the urgent reply first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from rapidfuzz import fuzz, process

from bot.core.provinces import by_code, find_province, provinces
from bot.core.text import canonical, fold

if TYPE_CHECKING:
    from bot.core.responder import Reply, Responder

IDLE_SECONDS = 30 * 60
MAX_TYPED = 120  # characters of a typed answer echoed in the summary
COPY_LIMIT = 256  # Telegram's CopyTextButton takes 1-256 characters
SKIP = "_skip"
# The questions, in the order they are asked ("go_on" only after "danger: yes").
STEPS = ("who", "danger", "go_on", "harm", "age", "province", "commune", "since", "nearby")
_REQUIRED_OPTIONS = {"who": {"me", "other"}, "danger": {"yes", "no"}, "go_on": {"yes", "no"}}
_TYPED_STEPS = {"province", "commune"}  # answers from a list (province) or free text

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Code = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,20}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReportOption(_Strict):
    """A button: what it shows, and the sentence the summary says when it is chosen."""

    button: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    says: Text
    ages: tuple[int, int] | None = None  # an age range: a typed "12" picks it
    words: list[Text] = Field(default_factory=list)  # typed words that mean this option


class ReportQuestion(_Strict):
    ask: Text
    options: dict[Code, ReportOption] = Field(default_factory=dict)
    says: Text | None = None  # for typed answers: a sentence with {answer}


class ReportTexts(_Strict):
    """Section `report` of ui.yaml."""

    start_button: Text  # under urgent replies and the hotline card
    intro: Text
    skip_button: Text
    not_understood: Text
    cancelled: Text
    expired: Text
    stopped: Text  # the user chose not to go on after the urgent reply
    who: ReportQuestion
    danger: ReportQuestion
    go_on: ReportQuestion
    harm: ReportQuestion
    age: ReportQuestion
    province: ReportQuestion
    commune: ReportQuestion
    since: ReportQuestion
    nearby: ReportQuestion
    province_aliases: dict[str, list[Text]] = Field(default_factory=dict)
    summary_intro: Text  # "Khi gọi 111, bạn có thể nói:"
    summary_empty: Text
    summary_outro: Text
    copy_number_button: Text
    copy_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{3,12}$")]
    copy_summary_button: Text

    @model_validator(mode="after")
    def _complete(self) -> ReportTexts:
        for step, codes in _REQUIRED_OPTIONS.items():
            missing = codes - set(getattr(self, step).options)
            if missing:
                raise ValueError(f"{step}.options needs {', '.join(sorted(missing))}")
        for step in _TYPED_STEPS:
            says = getattr(self, step).says
            if not says or "{answer}" not in says:
                raise ValueError(f"{step}.says needs a sentence with {{answer}}")
        for step in ("harm", "age", "since", "nearby"):
            if not getattr(self, step).options:
                raise ValueError(f"{step}.options must list at least one option")
        codes = {place.code for place in provinces()}
        unknown = set(self.province_aliases) - codes
        if unknown:
            raise ValueError(f"province_aliases: no province with code {', '.join(unknown)}")
        return self


@dataclass(frozen=True)
class Choice:
    """A button: `code` travels back (short, ASCII), `label` is shown."""

    code: str
    label: str


@dataclass(frozen=True)
class ReportMessage:
    """One message to send; `urgent` (a core reply) goes out before it, alone."""

    text: str
    step: str | None = None  # the question this message asks, for the choice callbacks
    choices: tuple[Choice, ...] = ()
    copies: tuple[Choice, ...] = ()  # copy buttons: label, and the text copied (code)
    urgent: Reply | None = None


@dataclass
class _Session:
    step: str
    touched: float
    answers: dict[str, str] = field(default_factory=dict)  # step -> option code or typed text


class GuidedReport:
    """Report sessions of every chat, in memory. Reads texts from the current responder."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self._sessions: dict[object, _Session] = {}
        self._swept = 0.0

    def __len__(self) -> int:
        return len(self._sessions)

    # -- state ---------------------------------------------------------------------------
    def sweep(self, now: float) -> None:
        """Forget sessions idle for longer than `idle_seconds` (their answers included)."""
        self._swept = now
        stale = [k for k, s in self._sessions.items() if now - s.touched > self.idle_seconds]
        for key in stale:
            del self._sessions[key]

    def active(self, key: object, now: float) -> bool:
        self.sweep(now)
        return key in self._sessions

    def forget(self, key: object) -> bool:
        return self._sessions.pop(key, None) is not None

    # -- turns ---------------------------------------------------------------------------
    def start(self, key: object, responder: Responder, now: float) -> list[ReportMessage]:
        self.sweep(now)
        texts = responder.ui.report
        self._sessions[key] = _Session("who", now)
        return [ReportMessage(texts.intro), self._ask(responder, "who")]

    def cancel(self, key: object, responder: Responder) -> list[ReportMessage]:
        self.forget(key)
        return [ReportMessage(responder.ui.report.cancelled)]

    def choose(
        self, key: object, responder: Responder, step: str, code: str, now: float,
        audience: str | None = None,
    ) -> list[ReportMessage]:
        """A pressed button. A button of an earlier question, or of an expired session, is
        answered with the current question (or the expiry note), never misread."""
        session = self._sessions.get(key)
        if session is None or now - session.touched > self.idle_seconds:
            self.forget(key)
            return [ReportMessage(responder.ui.report.expired)]
        session.touched = now
        if step != session.step or not self._valid(responder, step, code):
            return [self._ask(responder, session.step)]
        return self._advance(key, session, responder, code, audience)

    def type(
        self, key: object, responder: Responder, text: str, now: float,
        audience: str | None = None,
    ) -> list[ReportMessage] | None:
        """A typed answer; None when this chat has no report going on (the normal bot answers)."""
        if now - self._swept > 60:  # abandoned sessions go within a minute of expiring
            self.sweep(now)
        session = self._sessions.get(key)
        if session is None:
            return None
        if now - session.touched > self.idle_seconds:
            self.forget(key)
            return None
        session.touched = now
        reply = responder.respond(text, audience)
        urgent = reply if reply.urgent else None
        code = self._read(responder, session.step, text, reply)
        if code is None:
            again = self._ask(responder, session.step)
            note = ReportMessage(responder.ui.report.not_understood, urgent=urgent)
            return [note, again]
        messages = self._advance(key, session, responder, code, audience)
        if urgent is not None and not any(m.urgent for m in messages):
            messages[0] = ReportMessage(
                messages[0].text, messages[0].step, messages[0].choices, messages[0].copies,
                urgent,
            )
        return messages

    # -- internals -----------------------------------------------------------------------
    def _question(self, responder: Responder, step: str) -> ReportQuestion:
        question: ReportQuestion = getattr(responder.ui.report, step)
        return question

    def _choices(self, responder: Responder, step: str) -> tuple[Choice, ...]:
        if step == "province":
            return tuple(Choice(place.code, place.short) for place in provinces())
        return tuple(
            Choice(code, option.button)
            for code, option in self._question(responder, step).options.items()
        )

    def _ask(self, responder: Responder, step: str) -> ReportMessage:
        skip = Choice(SKIP, responder.ui.report.skip_button)
        choices = self._choices(responder, step)
        return ReportMessage(
            self._question(responder, step).ask, step,
            choices + (skip,) if step != "go_on" else choices,
        )

    def _valid(self, responder: Responder, step: str, code: str) -> bool:
        if code == SKIP:
            return step != "go_on"
        return any(choice.code == code for choice in self._choices(responder, step))

    def _read(self, responder: Responder, step: str, text: str, reply: Reply) -> str | None:
        """The option a typed text means, the typed text itself for free-text steps, or None."""
        folded = fold(canonical(text))
        texts = responder.ui.report
        if folded and folded == fold(canonical(texts.skip_button)):
            return SKIP if step != "go_on" else None
        if step == "commune":
            return text.strip()[:MAX_TYPED] or None
        if step == "province":
            place = find_province(text, dict(texts.province_aliases))
            return place.code if place else None
        options = self._question(responder, step).options
        if step == "age":
            number = re.search(r"\d{1,2}", text)
            age = int(number.group()) if number else -1
            for code, option in options.items():
                if option.ages and option.ages[0] <= age <= option.ages[1]:
                    return code
        if step == "harm" and reply.category in options:
            return reply.category
        labels = {fold(canonical(option.button)): code for code, option in options.items()}
        if folded in labels:
            return labels[folded]
        padded = f" {folded} "
        named = {
            code
            for code, option in options.items()
            for word in option.words
            if f" {fold(canonical(word))} " in padded
        }
        if len(named) == 1:
            return named.pop()
        found = process.extractOne(folded, list(labels), scorer=fuzz.WRatio, score_cutoff=86)
        return labels[found[0]] if found else None

    def _advance(
        self, key: object, session: _Session, responder: Responder, code: str,
        audience: str | None,
    ) -> list[ReportMessage]:
        step = session.step
        if code != SKIP:
            session.answers[step] = code
        if step == "danger" and code == "yes":
            category = "other_child" if session.answers.get("who") == "other" else "distress"
            card = responder.urgent_card(category, audience)
            session.step = "go_on"
            ask = self._ask(responder, "go_on")
            return [ReportMessage(ask.text, ask.step, ask.choices, urgent=card)]
        if step == "go_on" and code != "yes":
            self.forget(key)
            return [ReportMessage(responder.ui.report.stopped)]
        index = STEPS.index(step) + 1
        if step == "danger":
            index += 1  # "go_on" only follows a yes
        if step == "province" and code == SKIP:
            index += 1  # no commune without a province
        if index >= len(STEPS):
            self.forget(key)
            return self._summary(responder, session.answers)
        session.step = STEPS[index]
        return [self._ask(responder, session.step)]

    def _summary(self, responder: Responder, answers: dict[str, str]) -> list[ReportMessage]:
        texts = responder.ui.report
        lines: list[str] = []
        for step in STEPS:
            value = answers.get(step)
            if value is None or step == "go_on":
                continue
            question = self._question(responder, step)
            if step == "province":
                place = by_code(value)
                if place is not None and question.says:
                    lines.append(question.says.replace("{answer}", place.name))
            elif step == "commune" and question.says:
                lines.append(question.says.replace("{answer}", value))
            elif value in question.options:
                lines.append(question.options[value].says)
        body = " ".join(lines) if lines else texts.summary_empty
        copies = [Choice(texts.copy_number, texts.copy_number_button)]
        pieces = _copy_pieces(lines or [body])
        for number, piece in enumerate(pieces, start=1):
            label = texts.copy_summary_button
            copies.append(Choice(piece, f"{label} ({number}/{len(pieces)})" if len(pieces) > 1
                                 else label))
        text = f"{texts.summary_intro}\n\n{body}\n\n{texts.summary_outro}"
        return [ReportMessage(text, copies=tuple(copies))]


def _copy_pieces(sentences: list[str]) -> list[str]:
    """The summary in pieces a copy button can hold (256 characters), cut between sentences."""
    pieces: list[str] = []
    for sentence in sentences:
        sentence = sentence[:COPY_LIMIT]
        if pieces and len(pieces[-1]) + 1 + len(sentence) <= COPY_LIMIT:
            pieces[-1] = f"{pieces[-1]} {sentence}"
        else:
            pieces.append(sentence)
    return pieces
