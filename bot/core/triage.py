"""Urgent triage: spot a child in danger before any matching, so the hotline reply comes first.

A missed emergency is the worst bug this bot can have, so the rules lean toward "urgent": a danger
phrase counts unless it is clearly negated ("em không bị ai đánh"), clearly part of an idiom
("mệt muốn chết"), or clearly a knowledge question with nobody real in it ("xâm hại tình dục bị
phạt mấy năm tù"). Self-harm ignores the last two escapes. Every word list and reply lives in
`knowledge/danger.yaml` so staff can tune it without touching code.

Matching runs on the folded text (no diacritics) token by token. A token the user typed with
diacritics must agree with the phrase's diacritics (a mark the phrase lacks costs one edit), so
"từ từ" is not "tự tử" while "tu tu" may be. Each phrase of two or more words may absorb one edit:
a typo in a word of four letters or more (only when the typed word is not itself a correct
syllable, so "chat" is never "chết"), a wrong tone, or one extra word inside a phrase of three or
more words. Raw Telex leftovers ("chets", "tuwj") are decoded too.

Any phrase, cue or idiom may name a word set ("$me sợ $everyday_fear"), so one line covers a
family of wordings. Cues that can only cancel an alarm (negations, idioms, questions, topics,
settled matters) are read strictly when the writer typed diacritics: "cha" is then not "chả".
A category's `short_messages` ("cứu", "e sợ") count only as the whole message.

When no phrase fires, a second stage (`safety_net` in the danger file) catches wordings nobody
listed: a real person ("em", "con tôi", "bạn em", passive "bị") within a few words of a broad harm
word, unless the message is a knowledge question, an idiom, a negation or a game/film/homework.
Its alarms carry a phrase starting with "~" so staff can tell them apart.

When several categories fire, the category is chosen by evidence, not only by file order: a
category may `require` a cue (online abuse needs an online cue, else it is in-person abuse), and
`precedence` rules let one category win over others when its cue is present (forced begging is
trafficking, not just a beating). A child writing about another child as the victim ("bạn em
uống thuốc chuột") gets the witness reply, unless the writer is a victim too ("đánh em").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.core.text import Normalised, Normaliser, canonical, fold

Speaker = Literal["child", "adult"]
_GAP = "..."
_CLAUSE_SPLIT = re.compile(r"[.!?;:,\n\r…]+")
_ADULT_AUDIENCES = {"parent", "teacher"}
# Hits an idiom can cancel (questions and negations are never part of an idiom's meaning).
_MASKABLE = {"harm", "part", "disclosure", "adult", "other", "mention", "self"}
# Cue kinds that can only cancel an alarm (read strictly when the writer typed diacritics).
_CANCELLING = {"negation", "idiom", "question", "topic", "settled"}

# A folded Vietnamese syllable: optional onset, one to three vowels, optional final consonant.
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|g|h|k|l|m|n|p|r|s|t|v|x)?"
    r"[aeiouy]{1,3}(ch|ng|nh|c|m|n|p|t)?$"
)

_DOUBLED = re.compile(r"([aeiouy])\1")
_CHUNK = 32  # start positions that share one vocabulary when scanning a long clause
_CACHE_LIMIT = 50_000  # distinct tokens remembered per index before the caches start over


# --------------------------------------------------------------------------- schema


class Examples(BaseModel):
    """Messages staff expect to be (or not to be) urgent, run by `kb test`."""

    model_config = ConfigDict(extra="forbid")

    urgent: list[str] = Field(default_factory=list)
    not_urgent: list[str] = Field(default_factory=list)


class Category(BaseModel):
    """One kind of danger: what it looks like and what the bot says first."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, description="Vietnamese name shown to staff in alerts.")
    role: Literal["harm", "other_child"] = Field(
        "harm",
        description="'other_child': phrases mark a child writing about another child; it fires "
        "only together with a harm category and lends its reply.",
    )
    phrases: list[str] = Field(min_length=1)
    together: list[list[str]] = Field(
        default_factory=list,
        description="Groups of words that signal this danger when ALL appear close together "
        "(within `together_window` words), in any order (['dọa', 'ảnh'] catches 'có ảnh của "
        "em và dọa gửi'). A member '$name' stands for any phrase of word set `name`.",
    )
    short_messages: list[str] = Field(
        default_factory=list,
        description="Whole messages that are urgent on their own ('cứu', 'e sợ'): they count "
        "only when the message holds nothing else, so 'cứu' in 'nghiên cứu' never fires.",
    )
    negatable: bool = Field(True, description="A negation before the phrase cancels it.")
    questions_suppress: bool = Field(
        True, description="A knowledge/prevention question with no real person cancels it."
    )
    requires: list[str] = Field(
        default_factory=list,
        description="Evidence this category needs: when none of these cues is in the message, "
        "the alarm is raised as category `otherwise` instead (online abuse with no online cue "
        "is in-person abuse).",
    )
    otherwise: str | None = Field(
        None, description="Harm category used when `requires` finds no evidence."
    )
    mentions: list[str] = Field(
        default_factory=list,
        description="role other_child only: words naming some child ('bé gái', 'đứa bé') "
        "that pick the witness reply but, unlike `phrases`, do not by themselves make a "
        "knowledge question or a news story a real case.",
    )
    self_cues: list[str] = Field(
        default_factory=list,
        description="role other_child only: wordings showing the WRITER is a victim ('em bị', "
        "'đánh em'); when one appears outside the other-child wording, the harm's own reply "
        "is used.",
    )
    reply_child: str = Field(min_length=1)
    reply_adult: str = Field(min_length=1)
    entry_id: str | None = Field(
        None, description="Knowledge entry sent after the urgent reply (to a child)."
    )
    entry_id_adult: str | None = Field(
        None, description="Entry sent after the urgent reply to an adult; default: entry_id."
    )
    examples: Examples = Field(default_factory=Examples)

    @field_validator("together")
    @classmethod
    def _groups_have_two(cls, value: list[list[str]]) -> list[list[str]]:
        for group in value:
            if len(group) < 2 or any(not w.strip() or _GAP in w for w in group):
                raise ValueError(f"{group}: a group needs two or more plain phrases")
        return value

    @field_validator("phrases")
    @classmethod
    def _phrases_not_blank(cls, value: list[str]) -> list[str]:
        for phrase in value:
            if not phrase.replace(_GAP, "").strip():
                raise ValueError(f"'{phrase}': empty phrase")
            if phrase.strip().startswith(_GAP) or phrase.strip().endswith(_GAP):
                raise ValueError(f"'{phrase}': '...' must sit between words")
        return value


class SafetyNet(BaseModel):
    """Second stage, tried only when no phrase fired: a real person near a harm word.

    Phrase rules catch wordings somebody listed; new wordings of a real emergency almost
    always still name a person ("em", "con tôi", "bạn em") close to a broad harm word ("tát",
    "nhốt", "sờ"). The net fires on that pair unless the message is a knowledge question, an
    idiom, a negation, a settled matter or one of its own `blockers` (game, film, homework).
    """

    model_config = ConfigDict(extra="forbid")

    window: int = Field(
        6, ge=1, le=40, description="Most words between a person and a harm word."
    )
    negation_window: int = Field(
        2, ge=0, le=10, description="A negation this close before a harm word cancels it."
    )
    persons: list[str] = Field(
        min_length=1,
        description="Words naming a real person: the writer ('em', 'mình'), a child in the "
        "writer's care ('con tôi', 'bé nhà'), another child ('bạn em').",
    )
    words: dict[str, list[str]] = Field(
        min_length=1,
        description="Harm category id -> broad harm words; the first category (in "
        "`categories` order) whose word fires names the alarm.",
    )
    blockers: list[str] = Field(
        default_factory=list,
        description="Cues that cancel the net only (never a phrase rule): games, films, "
        "homework, jokes ('trong game', 'đùa thôi').",
    )
    not_harm: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Category id (or 'all') -> everyday wordings holding or causing a harm "
        "word of that category ('xe đạp', 'ngã xe', 'free fire'): the net ignores such a "
        "harm word overlapping one or starting within `max_gap` words after it.",
    )


class Precedence(BaseModel):
    """One rule for choosing between categories that fire together."""

    model_config = ConfigDict(extra="forbid")

    prefer: str = Field(description="Harm category that wins when the rule applies.")
    over: list[str] = Field(min_length=1, description="Harm categories it wins over.")
    when: list[str] = Field(
        default_factory=list,
        description="The rule applies only when one of these cues is in the message "
        "(empty: always).",
    )


class DangerFile(BaseModel):
    """Schema of knowledge/danger.yaml."""

    model_config = ConfigDict(extra="forbid")

    max_gap: int = Field(3, ge=0, le=10)
    negation_window: int = Field(3, ge=0, le=10)
    together_window: int = Field(
        40, ge=2, le=1000, description="Widest span (in words) a `together` group may cover."
    )
    word_sets: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Named lists of interchangeable phrases (harm verbs, body parts, places), "
        "used as '$name' members of `together` groups so one group covers many wordings.",
    )
    settled_cues: list[str] = Field(
        default_factory=list,
        description="The writer says the matter is over ('đã xử lý xong'): cancels categories "
        "that questions cancel, even when a real person is named.",
    )
    negations: list[str] = Field(default_factory=list)
    clause_breaks: list[str] = Field(default_factory=list)
    question_cues: list[str] = Field(default_factory=list)
    disclosure_cues: list[str] = Field(default_factory=list)
    adult_cues: list[str] = Field(default_factory=list)
    idioms: list[str] = Field(default_factory=list)
    topic_cues: list[str] = Field(
        default_factory=list,
        description="'phim về', 'tin về': danger words within `max_gap` words after one are the "
        "topic of a film or a news story, not a disclosure.",
    )
    common_words: list[str] = Field(default_factory=list)
    extra_teencode: dict[str, str] = Field(
        default_factory=dict,
        description="Word -> expansion used by triage only, until lexicon.yaml has it.",
    )
    categories: dict[str, Category] = Field(min_length=1)
    precedence: list[Precedence] = Field(
        default_factory=list,
        description="Rules applied in order when several categories fire; whatever is left "
        "is chosen by file order.",
    )
    safety_net: SafetyNet | None = None

    @field_validator("categories")
    @classmethod
    def _ids_are_slugs(cls, value: dict[str, Category]) -> dict[str, Category]:
        for key in value:
            if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                raise ValueError(f"'{key}': category id must be lower_snake_case")
        return value

    @field_validator("word_sets")
    @classmethod
    def _sets_not_blank(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, items in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                raise ValueError(f"'{name}': word set name must be lower_snake_case")
            if not items or any(not item.replace(_GAP, "").strip() for item in items):
                raise ValueError(f"'{name}': a word set needs non-empty phrases")
        return value

    @field_validator("extra_teencode")
    @classmethod
    def _single_words(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if len(key.split()) != 1:
                raise ValueError(f"'{key}': a teencode key must be a single word")
        return value

    @model_validator(mode="after")
    def _one_other_child(self) -> DangerFile:
        roles = [c.role for c in self.categories.values()]
        if roles.count("other_child") > 1:
            raise ValueError("at most one category may have role: other_child")
        if "harm" not in roles:
            raise ValueError("at least one harm category is needed")
        for cat_id, cat in self.categories.items():
            for group in cat.together:
                for member in group:
                    if member.startswith("$") and member[1:] not in self.word_sets:
                        raise ValueError(f"{cat_id}: together {group}: no word set '{member[1:]}'")
            extra = cat.requires + cat.mentions + cat.self_cues
            for phrase in cat.phrases + cat.short_messages + extra:
                self._check_sets(f"{cat_id}: '{phrase}'", phrase)
            if bool(cat.requires) != bool(cat.otherwise):
                raise ValueError(f"{cat_id}: `requires` and `otherwise` go together")
            if cat.otherwise is not None and not self._is_harm(cat.otherwise, cat_id):
                raise ValueError(f"{cat_id}: otherwise: '{cat.otherwise}' is not a harm category")
            if (cat.self_cues or cat.mentions) and cat.role != "other_child":
                raise ValueError(f"{cat_id}: only the other_child category has these cues")
        for n, rule in enumerate(self.precedence):
            for cat_id in [rule.prefer, *rule.over]:
                if not self._is_harm(cat_id, None):
                    raise ValueError(f"precedence {n + 1}: '{cat_id}' is not a harm category")
            for phrase in rule.when:
                self._check_sets(f"precedence {n + 1}: '{phrase}'", phrase)
        if self.safety_net is not None:
            net = self.safety_net
            for cat_id, words in net.words.items():
                net_cat = self.categories.get(cat_id)
                if net_cat is None or net_cat.role != "harm":
                    raise ValueError(f"safety_net: words: '{cat_id}' is not a harm category")
                for phrase in words:
                    self._check_sets(f"safety_net: {cat_id}: '{phrase}'", phrase)
            for cat_id in net.not_harm:
                if cat_id != "all" and cat_id not in net.words:
                    raise ValueError(f"safety_net: not_harm: '{cat_id}' is not a net category")
            everyday = [p for ps in net.not_harm.values() for p in ps]
            for phrase in net.persons + net.blockers + everyday:
                self._check_sets(f"safety_net: '{phrase}'", phrase)
        for label in (
            "negations",
            "clause_breaks",
            "question_cues",
            "disclosure_cues",
            "adult_cues",
            "idioms",
            "topic_cues",
            "settled_cues",
        ):
            for phrase in getattr(self, label):
                self._check_sets(f"{label}: '{phrase}'", phrase)
        return self

    def _is_harm(self, cat_id: str, not_this: str | None) -> bool:
        cat = self.categories.get(cat_id)
        return cat is not None and cat.role == "harm" and cat_id != not_this

    def _check_sets(self, where: str, phrase: str) -> None:
        for word in phrase.split():
            if word.startswith("$") and word[1:] not in self.word_sets:
                raise ValueError(f"{where}: no word set '{word[1:]}'")

    def examples(self) -> list[tuple[str, str | None]]:
        """(message, expected category id or None) for every example in the file."""
        out: list[tuple[str, str | None]] = []
        for cat_id, cat in self.categories.items():
            out.extend((text, cat_id) for text in cat.examples.urgent)
            out.extend((text, None) for text in cat.examples.not_urgent)
        return out


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class UrgentMatch:
    """What the core needs to send the urgent reply and alert staff."""

    category: str
    name: str
    speaker: Speaker
    reply_child: str
    reply_adult: str
    entry_id: str | None
    phrase: str = ""  # the danger phrase that fired (for staff and debugging)
    entry_id_adult: str | None = None

    def _for_adult(self, audience: str | None) -> bool:
        return audience in _ADULT_AUDIENCES or self.speaker == "adult"

    def reply_for(self, audience: str | None) -> str:
        """Adult words for a parent or teacher, or when the writer is clearly an adult."""
        return self.reply_adult if self._for_adult(audience) else self.reply_child

    def entry_for(self, audience: str | None) -> str | None:
        """The knowledge entry that follows the urgent reply for this reader."""
        if self._for_adult(audience):
            return self.entry_id_adult or self.entry_id
        return self.entry_id


# --------------------------------------------------------------------------- token matching


class _Tok(NamedTuple):
    folded: str
    accented: str


@dataclass(frozen=True)
class _Phrase:
    # "harm", "part" (of a `together` group), "other", "mention", "self", "evidence", "negation",
    # "break", "question", "disclosure", "adult" or "idiom"; for "evidence", `category` holds
    # the key of what it proves ("requires:<category>" or "rule:<index>")
    kind: str
    category: str | None
    text: str
    items: tuple[_Tok | None, ...]  # None = gap
    words: int  # number of real tokens
    fuzzy: bool
    group: int = -1  # index into Triage._groups for kind "part"
    needs: frozenset[str] = frozenset()  # folded words a message must contain (or near-miss)


class _Hit(NamedTuple):
    phrase: _Phrase
    start: int
    end: int  # exclusive


class _Plan(NamedTuple):
    """What a scan needs about one distinct folded token (see `_Index.plan`)."""

    reach: frozenset[str]
    always: list[tuple[int, _Phrase]]  # (walk order, phrase): one word, or a gap after it
    by_next: dict[str, list[tuple[int, _Phrase]]]  # second word -> (walk order, phrase)
    by_second: dict[str, list[_Phrase]]  # exact phrases by the next token they need
    joined: list[_Phrase]  # phrases typed as one run-together token ("tutu")


def _first(pair: tuple[int, _Phrase]) -> int:
    return pair[0]


def expand_sets(text: str, word_sets: dict[str, list[str]]) -> list[str]:
    """Every wording of a phrase whose words may name a word set: "$me sợ ma" stands for
    "em sợ ma", "con sợ ma"... so one line covers a whole family of wordings."""
    out = [""]
    for word in text.split():
        options = word_sets[word[1:]] if word.startswith("$") and len(word) > 1 else [word]
        out = [f"{head} {option}".strip() for head in out for option in options]
    return out


def _pair(norm: Normalised) -> list[_Tok]:
    return [_Tok(f, a) for f, a in zip(norm.folded.split(), norm.accented.split(), strict=True)]


def _char_marks(ch: str) -> frozenset[str]:
    if ch in "đĐ":
        return frozenset({"stroke"})
    return frozenset(unicodedata.normalize("NFD", ch)[1:])


def _is_syllable(folded: str) -> bool:
    return _SYLLABLE.match(folded) is not None


def _fold_word(word: str) -> str:
    return fold(word)


def _marks_agree(typed: str, phrase: str) -> bool:
    """Every diacritic the user typed is one the phrase has (missing marks are fine)."""
    if typed == phrase:
        return True
    if len(typed) != len(phrase):
        return False
    return all(_char_marks(t) <= _char_marks(p) for t, p in zip(typed, phrase, strict=True))


def _within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance of exactly one (substitution, insertion, deletion, swap)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diffs) == 1:
            return True
        return (
            len(diffs) == 2
            and diffs[1] == diffs[0] + 1
            and a[diffs[0]] == b[diffs[1]]
            and a[diffs[1]] == b[diffs[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1 :]


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _telex(word: str) -> str | None:
    """Decode raw Telex typing left by a switched-off keyboard ("chets" -> "chet", "xaam" ->
    "xam"), and squeeze a doubled vowel ("haii" -> "hai"). None when nothing changes."""
    if not word.isascii() or not word.isalpha():
        return None
    if _SYLLABLE.match(word) and not _DOUBLED.search(word):
        return None
    first_vowel = next((i for i, ch in enumerate(word) if ch in "aeiouy"), None)
    if first_vowel is None:
        return None
    head, tail = word[:first_vowel], word[first_vowel:]
    tail = re.sub(r"[sfrxj]", "", tail)
    tail = tail.replace("uw", "u").replace("ow", "o").replace("aw", "a").replace("w", "u")
    tail = _DOUBLED.sub(r"\1", tail)
    head = "d" if head == "dd" else head
    decoded = head + tail
    return decoded if decoded != word and _SYLLABLE.match(decoded) else None


class _Index:
    """All phrases of the danger file, compiled for one left-to-right pass over a clause."""

    def __init__(self, phrases: list[_Phrase], max_gap: int, common: set[str]) -> None:
        self.max_gap = max_gap
        self.exact = False  # set per scan: typed words must carry the phrase's own marks
        self.common = common
        self.by_first: dict[str, list[_Phrase]] = {}
        self.fuzzy_first: dict[str, set[str]] = {}  # delete-variant -> phrase first tokens
        self.joined: dict[str, list[_Phrase]] = {}
        # delete-variant -> phrase words a typo of four letters or more may stand for
        self.word_variants: dict[str, set[str]] = {}
        self._plans: dict[str, _Plan] = {}
        self.max_span = 1
        for phrase in phrases:
            gaps = sum(1 for item in phrase.items if item is None)
            span = len(phrase.items) + gaps * max_gap + 2
            self.max_span = max(self.max_span, span)
            if phrase.fuzzy and phrase.words >= 2:
                for word in phrase.needs:
                    if len(word) >= 4:
                        for variant in _deletes(word) | {word}:
                            self.word_variants.setdefault(variant, set()).add(word)
            first = phrase.items[0]
            assert first is not None
            self.by_first.setdefault(first.folded, []).append(phrase)
            if phrase.fuzzy and phrase.words >= 2 and len(first.folded) >= 4:
                for variant in _deletes(first.folded) | {first.folded}:
                    self.fuzzy_first.setdefault(variant, set()).add(first.folded)
            if None not in phrase.items and phrase.words >= 2:
                joined = "".join(t.folded for t in phrase.items if t is not None)
                if len(joined) >= 6:
                    self.joined.setdefault(joined, []).append(phrase)

    def typo_allowed(self, folded: str) -> bool:
        return folded not in self.common and not _is_syllable(folded)

    def token_cost(self, tok: _Tok, want: _Tok, fuzzy: bool) -> int | None:
        """0 for a match, 1 for a match with one edit, None for no match."""
        if tok.folded == want.folded:
            if self.exact:
                return 0 if tok.accented == want.accented else None
            if _marks_agree(tok.accented, want.accented):
                return 0
            return 1 if fuzzy and len(want.folded) >= 4 else None
        if self.exact:
            return None
        if _telex(tok.folded) == want.folded:
            return 0
        if (
            fuzzy
            and len(want.folded) >= 4
            and self.typo_allowed(tok.folded)
            and _within_one_edit(tok.folded, want.folded)
        ):
            return 1
        return None

    def first_candidates(self, folded: str) -> set[str]:
        keys = {folded}
        decoded = _telex(folded)
        if decoded:
            keys.add(decoded)
        if len(folded) >= 3 and self.typo_allowed(folded):
            for variant in _deletes(folded) | {folded}:
                keys |= self.fuzzy_first.get(variant, set())
        return keys

    def starting(self, folded: str) -> tuple[list[_Phrase], dict[str, list[_Phrase]]]:
        """Phrases whose first word this token could be: those to walk, and exact phrases
        keyed by the second word they need right after it."""
        walk: list[_Phrase] = []
        by_second: dict[str, list[_Phrase]] = {}
        for key in self.first_candidates(folded):
            for phrase in self.by_first.get(key, ()):
                second = phrase.items[1] if len(phrase.items) > 1 else None
                if phrase.fuzzy or second is None:
                    walk.append(phrase)
                else:  # exact phrases need their second word next
                    by_second.setdefault(second.folded, []).append(phrase)
        return walk, by_second

    def reach(self, folded: str) -> frozenset[str]:
        """Every phrase word this token could match: itself, its Telex decoding, and the
        phrase words one typo away."""
        words = {folded}
        decoded = _telex(folded)
        if decoded:
            words.add(decoded)
        if len(folded) >= 3 and self.typo_allowed(folded):
            for variant in _deletes(folded) | {folded}:
                words |= self.word_variants.get(variant, set())
        return frozenset(words)

    def plan(self, folded: str) -> _Plan:
        """Everything a scan needs about one distinct token, worked out once (cached): its
        reach, and the phrases that may start on it, sorted so that a scan touches only the
        phrases whose second word the next tokens can match."""
        walk, by_second = self.starting(folded)
        always: list[tuple[int, _Phrase]] = []
        by_next: dict[str, list[tuple[int, _Phrase]]] = {}
        for order, phrase in enumerate(walk):
            second = phrase.items[1] if len(phrase.items) > 1 else None
            if second is None:  # one word, or a gap next: always tried
                always.append((order, phrase))
            else:
                by_next.setdefault(second.folded, []).append((order, phrase))
        joined = [
            phrase
            for key in (folded, _telex(folded))
            for phrase in self.joined.get(key or "", ())
        ]
        found = _Plan(self.reach(folded), always, by_next, by_second, joined)
        # Only danger vocabulary is remembered: a word that starts no phrase and reaches no
        # other word (a name, a street) is worked out again next time, never kept (issue 16).
        if walk or joined or found.reach - {folded}:
            if len(self._plans) > _CACHE_LIMIT:
                self._plans.clear()
            self._plans[folded] = found
        return found

    def scan(self, toks: list[_Tok], exact: bool = False) -> list[_Hit]:
        """Every phrase occurrence in a clause, in the order a plain walk over every phrase
        starting on each token would find them. A phrase of two or more words is walked only
        when its second word is within reach of the next two tokens (a phrase's second word
        sits right after its first, or one inserted word later) and every word it needs is
        within reach of the tokens of its chunk, so a 20,000-character message stays fast
        and nothing is dropped."""
        self.exact = exact
        hits: list[_Hit] = []
        n = len(toks)
        plans_cache = self._plans
        plans = [plans_cache.get(tok.folded) or self.plan(tok.folded) for tok in toks]
        vocab: set[str] = set()
        vocab_chunk = -1
        empty: frozenset[str] = frozenset()
        for i, tok in enumerate(toks):
            plan = plans[i]
            candidates = plan.always
            if plan.by_next and i + 1 < n:
                near = plans[i + 1].reach | (plans[i + 2].reach if i + 2 < n else empty)
                by_next = plan.by_next
                extra = [pair for word in near for pair in by_next.get(word, ())]
                if extra:
                    candidates = sorted(candidates + extra, key=_first)
            if plan.by_second and i + 1 < n:
                exact_pairs = plan.by_second.get(toks[i + 1].folded)
                if exact_pairs:
                    candidates = candidates + [(-1, phrase) for phrase in exact_pairs]
            for _, phrase in candidates:
                if len(phrase.items) == 1:  # one word: no walk, no typo budget
                    if self.token_cost(tok, phrase.items[0], False) == 0:  # type: ignore[arg-type]
                        hits.append(_Hit(phrase, i, i + 1))
                    continue
                if i // _CHUNK != vocab_chunk:  # words any phrase starting in this chunk uses
                    vocab_chunk = i // _CHUNK
                    begin = vocab_chunk * _CHUNK
                    window = plans[begin : begin + _CHUNK + self.max_span]
                    vocab = set().union(*(p.reach for p in window))
                if not phrase.needs <= vocab:
                    continue
                end = self._match_from(phrase, toks, i, n)
                if end is not None:
                    hits.append(_Hit(phrase, i, end))
            for phrase in plan.joined:
                hits.append(_Hit(phrase, i, i + 1))
        return hits

    def _match_from(self, phrase: _Phrase, toks: list[_Tok], start: int, n: int) -> int | None:
        budget = 1 if phrase.fuzzy and phrase.words >= 2 else 0
        may_insert = phrase.fuzzy and phrase.words >= 3
        items = phrase.items
        if not may_insert and None not in items:
            # no gap and no inserted word: the phrase sits on consecutive tokens
            if start + len(items) > n:
                return None
            spent = 0
            for at, item in enumerate(items, start):
                cost = self.token_cost(toks[at], item, phrase.fuzzy)  # type: ignore[arg-type]
                if cost is None:
                    return None
                spent += cost
                if spent > budget:
                    return None
            return start + len(items)

        def walk(k: int, pos: int, spent: int, gap: int) -> int | None:
            # k: next phrase item; pos: next message token; gap: free tokens allowed before it.
            if k == len(items):
                return pos
            item = items[k]
            if item is None:
                return walk(k + 1, pos, spent, self.max_gap)
            for skip in range(0, gap + 1):
                at = pos + skip
                if at >= n:
                    break
                cost = self.token_cost(toks[at], item, phrase.fuzzy)
                if cost is not None and spent + cost <= budget:
                    room = may_insert and k + 1 < len(items) and spent + cost < budget
                    extra = 1 if room else 0
                    found = walk(k + 1, at + 1, spent + cost, extra)
                    if found is not None:
                        return found
            return None

        first = items[0]
        assert first is not None
        cost = self.token_cost(toks[start], first, phrase.fuzzy)
        if cost is None or cost > budget:
            return None
        extra = 1 if (may_insert and cost < budget) else 0
        return walk(1, start + 1, cost, extra)


# --------------------------------------------------------------------------- triage


class Triage:
    """Decides whether a message is an emergency, and which one."""

    def __init__(self, danger: DangerFile, normaliser: Normaliser) -> None:
        self._danger = danger
        self._normaliser = normaliser
        self._teencode: dict[str, list[_Tok]] = {}
        for key, value in danger.extra_teencode.items():
            norm = normaliser(value)
            self._teencode[canonical(key)] = _pair(norm)
        self._order = {cat_id: i for i, cat_id in enumerate(danger.categories)}
        # folded whole message -> (category, phrase) for the cries that stand alone
        self._short: dict[str, tuple[str, str]] = {}
        for cat_id, cat in danger.categories.items():
            for text in cat.short_messages:
                for wording in expand_sets(text, danger.word_sets):
                    key = " ".join(t.folded for t in self._expand(_pair(normaliser(wording))))
                    self._short.setdefault(key, (cat_id, wording))
        self._short_len = max((len(k) for k in self._short), default=0)
        self._other_id = next(
            (cid for cid, c in danger.categories.items() if c.role == "other_child"), None
        )
        phrases: list[_Phrase] = []
        seen: set[tuple] = set()

        self._groups: list[tuple[str, int, str]] = []  # (category, member count, text)

        def add(
            kind: str,
            category: str | None,
            texts: list[str],
            fuzzy: bool,
            group: int = -1,
            label: str | None = None,
        ) -> None:
            expanded = [w for text in texts for w in expand_sets(text, danger.word_sets)]
            for text in expanded:
                compiled = self._compile(kind, category, text, fuzzy, group, label)
                key = (kind, category, compiled.items, group, compiled.text)
                if compiled.words and key not in seen:
                    seen.add(key)
                    phrases.append(compiled)

        for cat_id, cat in danger.categories.items():
            if cat.role == "harm":
                add("harm", cat_id, cat.phrases, True)
                for members in cat.together:
                    self._groups.append((cat_id, len(set(members)), " + ".join(members)))
                    for member in members:
                        texts = danger.word_sets[member[1:]] if member[0] == "$" else [member]
                        add("part", cat_id, texts, True, len(self._groups) - 1, member)
            else:
                add("other", cat_id, cat.phrases, False)
                add("mention", cat_id, cat.mentions, False)
                add("self", None, cat.self_cues, False)
            if cat.requires:
                add("evidence", f"requires:{cat_id}", cat.requires, False)
        for n, rule in enumerate(danger.precedence):
            add("evidence", f"rule:{n}", rule.when, False)
        add("negation", None, danger.negations, False)
        add("break", None, danger.clause_breaks, False)
        add("question", None, danger.question_cues, False)
        add("disclosure", None, danger.disclosure_cues, False)
        add("adult", None, danger.adult_cues, False)
        add("idiom", None, danger.idioms, False)
        add("settled", None, danger.settled_cues, False)
        add("topic", None, danger.topic_cues, False)
        common = {fold(canonical(w)) for w in danger.common_words}
        danger_kinds = {"harm", "part"}
        self._danger_index = _Index(
            [p for p in phrases if p.kind in danger_kinds], danger.max_gap, common
        )
        self._cue_index = _Index(
            [p for p in phrases if p.kind not in danger_kinds | _CANCELLING],
            danger.max_gap,
            common,
        )
        # Cues that CANCEL an alarm must be read as typed: when the writer uses diacritics,
        # "cha" is not the negation "chả" and "ma" is not "mà" (err toward urgent).
        self._cancel_index = _Index(
            [p for p in phrases if p.kind in _CANCELLING], danger.max_gap, common
        )
        self._net = danger.safety_net
        self._net_index: _Index | None = None
        self._net_block = _Index([], danger.max_gap, common)
        if self._net is not None:
            net_phrases: list[_Phrase] = []
            net_blocks: list[_Phrase] = []
            net_seen: set[tuple] = set()

            def add_net(kind: str, category: str | None, texts: list[str], out: list) -> None:
                for text in texts:
                    for wording in expand_sets(text, danger.word_sets):
                        compiled = self._compile(kind, category, wording, kind == "net_harm")
                        key = (kind, category, compiled.items)
                        if compiled.words and key not in net_seen:
                            net_seen.add(key)
                            out.append(compiled)

            add_net("net_person", None, self._net.persons, net_phrases)
            for cat_id, words in self._net.words.items():
                add_net("net_harm", cat_id, words, net_phrases)
            add_net("net_block", None, self._net.blockers, net_blocks)
            for cat_id, texts in self._net.not_harm.items():
                add_net("not_harm", None if cat_id == "all" else cat_id, texts, net_blocks)
            self._net_index = _Index(net_phrases, danger.max_gap, common)
            self._net_block = _Index(net_blocks, danger.max_gap, common)

    def _compile(
        self,
        kind: str,
        category: str | None,
        text: str,
        fuzzy: bool,
        group: int = -1,
        label: str | None = None,
    ) -> _Phrase:
        items: list[_Tok | None] = []
        for n, part in enumerate(text.split(_GAP)):
            if n:
                items.append(None)
            items.extend(self._expand(_pair(self._normaliser(part))))
        words = sum(1 for item in items if item is not None)
        needs = frozenset(item.folded for item in items if item is not None)
        return _Phrase(kind, category, label or text, tuple(items), words, fuzzy, group, needs)

    def _clauses(self, message: Normalised) -> list[list[_Tok]]:
        """The message cut at punctuation, every clause kept (never truncated), so a phrase
        never spans two sentences and a negation stays in its own clause."""
        parts = [p for p in _CLAUSE_SPLIT.split(message.raw) if p.strip()]
        if len(parts) <= 1:
            return [self._expand(_pair(message))]
        return [self._expand(self._tokens(part)) for part in parts]

    def _tokens(self, clause: str) -> list[_Tok]:
        """One clause in the normaliser's forms (canonical, lexicon-expanded, folded), folding
        word by word through a cache: re-normalising a long message clause by clause must
        not cost as much again as the normaliser's own pass."""
        words = " ".join(self._normaliser.expand(canonical(clause).split())).split()
        return [_Tok(_fold_word(w), w) for w in words]

    def _expand(self, toks: list[_Tok]) -> list[_Tok]:
        if not self._teencode:
            return toks
        out: list[_Tok] = []
        for tok in toks:
            out.extend(self._teencode.get(tok.accented, (tok,)))
        return out

    def assess(self, message: Normalised) -> UrgentMatch | None:
        """The emergency this message discloses, or None. Runs before any matching."""
        if len(message.folded) <= self._short_len * 2:
            short = self._short_message(message)
            if short is not None:
                return short
        clauses = self._clauses(message)
        found = [self._danger_index.scan(toks) for toks in clauses]
        # the common case: no danger phrase, so no cue scan for the rules
        match = self._rules(message, clauses, found) if any(found) else None
        if match is None and self._net_index is not None:
            match = self._safety_net(message, clauses, self._net_index)
        return match

    def _rules(
        self, message: Normalised, clauses: list[list[_Tok]], found: list[list[_Hit]]
    ) -> UrgentMatch | None:
        """The listed phrases and `together` groups, with their negations, idioms and cues."""
        danger = self._danger
        harms: list[_Hit] = []
        kinds: set[str] = set()
        parts: dict[int, list[tuple[int, str]]] = {}  # group -> (word position, member)
        who = _Who()
        offset = 0
        for toks, danger_hits in zip(clauses, found, strict=True):
            base = offset
            offset += len(toks)
            hits = (
                danger_hits
                + self._cue_index.scan(toks)
                + self._cancel_index.scan(toks, exact=message.typed_accents)
            )
            masks = _Masks(hits, len(toks), danger.negation_window, danger.max_gap)
            for hit in hits:
                kind = hit.phrase.kind
                if kind in _MASKABLE and (masks.in_idiom(hit) or masks.in_topic(hit)):
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
            cat_id, size, text = self._groups[group]
            start = self._group_start(members, size)
            if start is not None:
                phrase = _Phrase("harm", cat_id, text, (), size, True)
                harms.append(_Hit(phrase, start, start))
        if not harms:
            return None
        if "settled" in kinds:
            harms = [h for h in harms if not self._category(h).questions_suppress]
            if not harms:
                return None
        real_person = bool(kinds & {"disclosure", "adult", "other"})
        if "question" in kinds and not real_person:
            harms = [h for h in harms if not self._category(h).questions_suppress]
            if not harms:
                return None
        cat_id, best = self._choose(harms, who.evidence)
        return self._match(cat_id, kinds, best.phrase.text, who.witness())

    def _safety_net(
        self, message: Normalised, clauses: list[list[_Tok]], index: _Index
    ) -> UrgentMatch | None:
        """Second stage: a real person within `window` words of a broad harm word, when the
        message is no knowledge question, idiom, negation, settled matter or blocker."""
        net = self._net
        assert net is not None
        danger = self._danger
        scans = [index.scan(toks) for toks in clauses]
        if not any(h.phrase.kind == "net_harm" for hits in scans for h in hits):
            return None
        kinds: set[str] = set()
        persons: list[tuple[int, int]] = []
        candidates: list[_Hit] = []
        who = _Who()
        offset = 0
        for toks, net_hits in zip(clauses, scans, strict=True):
            base = offset
            offset += len(toks)
            exact = message.typed_accents
            cues = (
                self._cue_index.scan(toks)
                + self._cancel_index.scan(toks, exact=exact)
                + self._net_block.scan(toks, exact=exact)
            )
            masks = _Masks(cues, len(toks), net.negation_window, danger.max_gap)
            # a harm word inside an everyday wording or just after it ("ngã xe bị chảy máu")
            everyday = [
                (h.start, h.end + danger.max_gap, h.phrase.category)
                for h in cues
                if h.phrase.kind == "not_harm"
            ]
            for hit in cues:
                kind = hit.phrase.kind
                if kind in _MASKABLE and (masks.in_idiom(hit) or masks.in_topic(hit)):
                    continue
                if kind in ("disclosure", "adult", "other"):
                    persons.append((base + hit.start, base + hit.end))
                if kind != "idiom":
                    kinds.add(kind)
                    who.note(hit, base)
            for hit in net_hits:
                if masks.in_idiom(hit) or masks.in_topic(hit):
                    continue
                if hit.phrase.kind == "net_person":
                    persons.append((base + hit.start, base + hit.end))
                    continue
                if danger.categories[hit.phrase.category or ""].negatable and masks.negated(hit):
                    continue
                if any(
                    start < hit.end and hit.start < end and cat in (None, hit.phrase.category)
                    for start, end, cat in everyday
                ):
                    continue
                candidates.append(_Hit(hit.phrase, base + hit.start, base + hit.end))
        if not candidates or not persons or "net_block" in kinds:
            return None
        window = net.window
        candidates = [
            h
            for h in candidates
            if any(max(h.start - end, start - h.end) <= window for start, end in persons)
        ]
        # A weaker signal than a listed phrase: any knowledge question cancels it, even one
        # naming a real person ("làm sao nhận biết con bị bắt nạt").
        if kinds & {"settled", "question"}:
            candidates = [h for h in candidates if not self._category(h).questions_suppress]
        if not candidates:
            return None
        cat_id, best = self._choose(candidates, who.evidence)
        return self._match(cat_id, kinds, f"~{best.phrase.text}", who.witness())

    def _choose(self, hits: list[_Hit], evidence: set[str]) -> tuple[str, _Hit]:
        """The category to answer with, by evidence before file order: a category lacking
        the cue it `requires` becomes its `otherwise`; then each `precedence` rule whose
        preferred category fired (and whose cue is present) drops the categories it beats."""
        danger = self._danger
        pairs: list[tuple[str, _Hit]] = []
        for hit in hits:
            cat_id = hit.phrase.category or ""
            cat = danger.categories[cat_id]
            if cat.otherwise and f"requires:{cat_id}" not in evidence:
                cat_id = cat.otherwise
            pairs.append((cat_id, hit))
        fired = {cat_id for cat_id, _ in pairs}
        for n, rule in enumerate(danger.precedence):
            if rule.prefer in fired and (not rule.when or f"rule:{n}" in evidence):
                fired -= set(rule.over) - {rule.prefer}
        return min(
            ((c, h) for c, h in pairs if c in fired),
            key=lambda pair: (self._order[pair[0]], pair[1].start),
        )

    def _match(
        self, cat_id: str, kinds: set[str], phrase: str, witness: bool = False
    ) -> UrgentMatch:
        """The alarm for harm category `cat_id`; the witness reply when a child writes about
        another child (and is not a victim too), adult words when an adult writes."""
        danger = self._danger
        harm = danger.categories[cat_id]
        speaker: Speaker = "adult" if "adult" in kinds else "child"
        if self._other_id and witness and speaker == "child":
            other = danger.categories[self._other_id]
            return UrgentMatch(
                category=self._other_id,
                name=f"{other.name}: {harm.name}",
                speaker=speaker,
                reply_child=other.reply_child,
                reply_adult=other.reply_adult,
                entry_id=other.entry_id or harm.entry_id,
                entry_id_adult=other.entry_id_adult or harm.entry_id_adult,
                phrase=phrase,
            )
        return UrgentMatch(
            category=cat_id,
            name=harm.name,
            speaker=speaker,
            reply_child=harm.reply_child,
            reply_adult=harm.reply_adult,
            entry_id=harm.entry_id,
            entry_id_adult=harm.entry_id_adult,
            phrase=phrase,
        )

    def _short_message(self, message: Normalised) -> UrgentMatch | None:
        """A message that is nothing but a cry ("cuu", "e so"): urgent in its own category."""
        key = " ".join(t.folded for t in self._expand(_pair(message)))
        found = self._short.get(key)
        if found is None:
            return None
        cat_id, wording = found
        cat = self._danger.categories[cat_id]
        return UrgentMatch(
            category=cat_id,
            name=cat.name,
            speaker="child",
            reply_child=cat.reply_child,
            reply_adult=cat.reply_adult,
            entry_id=cat.entry_id,
            entry_id_adult=cat.entry_id_adult,
            phrase=wording,
        )

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
            while pos - members[left][0] > self._danger.together_window:
                old = members[left][1]
                counts[old] -= 1
                if not counts[old]:
                    del counts[old]
                left += 1
            if len(counts) == size:
                return members[left][0]
        return None

    def _category(self, hit: _Hit) -> Category:
        return self._danger.categories[hit.phrase.category or ""]


class _Who:
    """Who the message is about and what it proves: other-child wordings, wordings where the
    writer is the victim, and the evidence keys behind `requires` and `precedence`."""

    def __init__(self) -> None:
        self.others: list[tuple[int, int]] = []
        self.selves: list[tuple[int, int]] = []
        self.evidence: set[str] = set()

    def note(self, hit: _Hit, base: int) -> None:
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
        other child's; "bạn em bảo dẫn đi" still makes the writer the one led away."""
        return bool(self.others) and not any(
            not any(
                o_start < end and start < o_end and end <= o_end + 1
                for o_start, o_end in self.others
            )
            for start, end in self.selves
        )


class _Masks:
    """Idiom spans and negations of one clause, as prefix arrays so that each hit is checked
    in constant time however long the clause is."""

    def __init__(self, hits: list[_Hit], n: int, window: int, topic_window: int) -> None:
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

    def in_idiom(self, hit: _Hit) -> bool:
        return self.idiom_end[hit.start] >= hit.end

    def negated(self, hit: _Hit) -> bool:
        """A negation ends at most `window` words before the hit, with no break between."""
        return self._scoped(hit, self.neg_end, self.window)

    def in_topic(self, hit: _Hit) -> bool:
        """The hit names what a film or a story is about ("phim về bắt cóc")."""
        return self._scoped(hit, self.topic_end, self.topic_window)

    def _scoped(self, hit: _Hit, ends: list[int], window: int) -> bool:
        end = ends[hit.start]
        return end >= 0 and hit.start - end <= window and self.break_start[hit.start] < end
