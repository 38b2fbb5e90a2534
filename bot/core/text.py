"""Vietnamese text normalisation: one canonical form for every way a phone user types a word.

Messages arrive in NFC or NFD, with old or new tone placement, without diacritics, in teencode
and with stretched letters ("cứuuuu"). Everything that compares text (triage, matching, reports)
goes through `Normaliser` so that all of those spellings meet in one form. The word lists
(teencode, abbreviations, particles) are data: `knowledge/lexicon.yaml`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Tone marks as combining characters (after NFD).
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
# Vowels whose shape mark (not tone) makes them the tone carrier.
_MARKED_VOWELS = set("âăêôơư")
_VOWELS = set("aăâeêioôơuưy")
_WORD_RE = re.compile(r"\w+", re.UNICODE)
# Stretched letters. A run of 3+ equal letters (never digits: "111" must survive) is always a
# stretch. Two equal vowels are a stretch only in a word typed WITH diacritics ("cứuu", "ơii"):
# typed without them, "uu" is "ưu" ("cuu" = cứu, "luu y" = lưu ý, "huu" = hưu) and must stay.
# o/e are never squeezed at two ("xoong", "shopee").
_NEVER_DOUBLED = "".join(
    unicodedata.normalize("NFC", base + tone)
    for base in "aăâêiôơuưy"
    for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
)
_RUN3_RE = re.compile(r"([^\W\d_])\1{2,}", re.UNICODE)
_DOUBLE_RE = re.compile(rf"([{_NEVER_DOUBLED}])\1", re.UNICODE)
_CONSONANTS = set("bcdđghklmnpqrstvx")
_MAX_CHARS = 20_000


class ContextRule(BaseModel):
    """Pick an expansion of an ambiguous token from its neighbours (compared without diacritics)."""

    model_config = ConfigDict(extra="forbid")

    expansion: str
    after: list[str] = Field(default_factory=list, description="Previous word is one of these.")
    before: list[str] = Field(default_factory=list, description="Next word is one of these.")
    after_number: bool = Field(default=False, description="Previous word is a number.")
    before_number: bool = Field(default=False, description="Next word is a number.")


class Lexicon(BaseModel):
    """Staff-editable word lists (knowledge/lexicon.yaml)."""

    model_config = ConfigDict(extra="forbid")

    abbreviations: dict[str, str] = Field(
        default_factory=dict,
        description="Token -> expansion (teencode, abbreviations), matched on whole words.",
    )
    ambiguous: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Token -> several expansions; all of them are kept for matching.",
    )
    context: dict[str, list[ContextRule]] = Field(
        default_factory=dict,
        description="Token -> rules tried in order; the first whose neighbour matches wins, "
        "otherwise the token's `abbreviations`/`ambiguous` expansion (or the token) is used.",
    )
    synonyms: list[list[str]] = Field(
        default_factory=list,
        description="Groups of phrases that mean the same; the matcher treats them alike.",
    )
    particles: list[str] = Field(
        default_factory=list,
        description="Sentence-final particles dropped before matching (ạ, nhé, nha...).",
    )
    light_words: list[str] = Field(
        default_factory=list,
        description="Words that frame a question (là gì, thế nào, gồm những) rather than say "
        "what it is about; the matcher counts them at a fraction of their rarity.",
    )
    reader_cues: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Reader (parent, teacher, child) -> phrases that show who is writing; "
        "entries written for that reader alone are preferred.",
    )

    not_ours: list[str] = Field(
        default_factory=list,
        description="Phrases of topics another service answers (electricity, carriers, traffic "
        "rules, tickets, admissions): a message with one gets the fallback unless it matches "
        "an entry very closely.",
    )

    @field_validator("abbreviations")
    @classmethod
    def _keys_are_single_words(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if len(key.split()) != 1:
                raise ValueError(f"'{key}': an abbreviation must be a single word")
        return value


class Normalised(NamedTuple):
    """A message in the forms the core compares on."""

    raw: str  # NFC input, truncated
    accented: str  # canonical words with diacritics, teencode expanded
    folded: str  # `accented` without diacritics (đ -> d)
    typed_accents: bool  # the user typed at least one diacritic
    # the canonical words before teencode expansion (`canonical(raw).split()`), kept so that
    # triage can cut the message into clauses without normalising it a second time
    words: tuple[str, ...] = ()


def _fold_slow(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped).replace("đ", "d").replace("Đ", "D")


# Latin letters with diacritics (Latin-1 to Latin Extended Additional) and combining marks,
# folded once: `str.translate` is ten times faster than decomposing every message.
_FOLD_TABLE = {
    cp: _fold_slow(chr(cp))
    for cp in (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00))
    if _fold_slow(chr(cp)) != chr(cp)
} | {cp: None for cp in range(0x0300, 0x0370)}


def fold(text: str) -> str:
    """Drop diacritics and map đ to d, changing nothing else."""
    quick = text.translate(_FOLD_TABLE)
    return quick if quick.isascii() else _fold_slow(quick)


# No lru_cache on per-word helpers: a process-wide cache would keep users' own words (names,
# streets) in memory after the message is gone (issue 16). They cost microseconds uncached.
def _place_tone(word: str) -> str:
    """Put a word's tone mark on the vowel the traditional rule picks (hòa, khỏe, thủy)."""
    decomposed = unicodedata.normalize("NFD", word)
    tones = [ch for ch in decomposed if ch in _TONES]
    if not tones:
        return word
    bare = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    letters = list(bare)
    positions = [i for i, ch in enumerate(letters) if ch in _VOWELS]
    # 'u' after 'q' and 'i' after 'g' belong to the consonant when another vowel follows.
    if len(positions) > 1:
        first = positions[0]
        if first > 0 and (
            (letters[first] == "u" and letters[first - 1] == "q")
            or (letters[first] == "i" and letters[first - 1] == "g")
        ):
            positions = positions[1:]
    if not positions:
        return word
    marked = [i for i in positions if letters[i] in _MARKED_VOWELS]
    if marked:
        target = marked[-1]  # ươ: the tone sits on ơ
    elif len(positions) == 1:
        target = positions[0]
    elif positions[-1] < len(letters) - 1:
        target = positions[-1]  # closed syllable: hoàng, toán
    else:
        target = positions[-2]  # open syllable: hòa, mùa, thủy
    letters[target] = unicodedata.normalize("NFC", letters[target] + tones[0])
    return "".join(letters)


def _squeeze_plain(match: re.Match[str]) -> str:
    """A 3+ run in a word without diacritics: to one letter, except "u" after a consonant,
    which keeps two ("cuuuu" is a stretched "cuu" = cứu, "dauuu" a stretched "dau")."""
    run = match.group(0)
    start = match.start()
    prev = match.string[start - 1] if start else ""
    if run[0] == "u" and prev in _CONSONANTS:
        return "uu"
    return run[0]


def _canonical_word(word: str) -> str:
    """Squeeze stretched letters and place the tone of one lower-case NFC word."""
    if word.isascii():  # no diacritics, so no tone to place (most words typed on phones)
        return _RUN3_RE.sub(_squeeze_plain, word)
    if fold(word) != word:  # typed with diacritics: doubled vowels are stretches too
        word = _DOUBLE_RE.sub(r"\1", _RUN3_RE.sub(r"\1", word))
    else:
        word = _RUN3_RE.sub(_squeeze_plain, word)
    return _place_tone(word)


def canonical(text: str, known: frozenset[str] = frozenset()) -> str:
    """NFC, lower case, one tone placement, stretched letters squeezed, only words kept.

    `known`: words already canonical (`canonical_words`), passed through as they are."""
    text = unicodedata.normalize("NFC", text[:_MAX_CHARS]).lower().replace("_", " ")
    words = _WORD_RE.findall(text)
    if _RUN3_RE.search(text) is None:  # no stretched letters: a plain word is already canonical
        return " ".join(w if w.isascii() or w in known else _canonical_word(w) for w in words)
    return " ".join(_canonical_word(word) for word in words)


def canonical_words(texts: Iterable[str]) -> frozenset[str]:
    """The words with diacritics of `texts` that `canonical` leaves as they are: most words of
    a message are the knowledge base's own, and placing their tone again was a third of
    normalising a long message. Built from staff texts only, so it holds no user's words."""
    seen: set[str] = set()
    for text in texts:
        seen.update(_WORD_RE.findall(unicodedata.normalize("NFC", text).lower()))
    return frozenset(
        word for word in seen if not word.isascii() and _canonical_word(word) == word
    )


class _Rule(NamedTuple):
    expansion: str
    after: frozenset[str]
    before: frozenset[str]
    after_number: bool
    before_number: bool


class Normaliser:
    """Turns a message into its `Normalised` forms using the staff lexicon."""

    def __init__(self, lexicon: Lexicon, vocabulary: Iterable[str] = ()) -> None:
        """`vocabulary`: staff texts whose words messages often repeat (a speed-up only: the
        output does not depend on it)."""
        self.key = lexicon.model_dump_json()  # what the output depends on besides this code
        self._known = canonical_words(vocabulary)
        self._expansions: dict[str, str] = {}
        for key, value in lexicon.abbreviations.items():
            self._expansions[canonical(key)] = canonical(value)
        for key, values in lexicon.ambiguous.items():
            self._expansions[canonical(key)] = " ".join(canonical(v) for v in values)
        self._particles = {canonical(p) for p in lexicon.particles}
        self._context: dict[str, list[_Rule]] = {
            canonical(key): [
                _Rule(
                    canonical(rule.expansion),
                    frozenset(fold(canonical(w)) for w in rule.after),
                    frozenset(fold(canonical(w)) for w in rule.before),
                    rule.after_number,
                    rule.before_number,
                )
                for rule in rules
            ]
            for key, rules in lexicon.context.items()
        }
        self.synonyms: list[list[str]] = [
            [canonical(phrase) for phrase in group] for group in lexicon.synonyms
        ]
        self.light_words: frozenset[str] = frozenset(canonical(w) for w in lexicon.light_words)
        self.reader_cues: dict[str, list[str]] = {
            reader: [fold(" ".join(self.expand(canonical(c).split()))) for c in cues]
            for reader, cues in lexicon.reader_cues.items()
        }
        self.not_ours: list[str] = [
            fold(" ".join(self.expand(canonical(p).split()))) for p in lexicon.not_ours
        ]

    def _expand_word(self, words: list[str], i: int) -> str:
        word = words[i]
        rules = self._context.get(word)
        if rules:
            prev = fold(words[i - 1]) if i > 0 else ""
            nxt = fold(words[i + 1]) if i + 1 < len(words) else ""
            for rule in rules:
                if (
                    prev in rule.after
                    or nxt in rule.before
                    or (rule.after_number and prev.isdigit())
                    or (rule.before_number and nxt.isdigit())
                ):
                    return rule.expansion
        return self._expansions.get(word, word)

    def expand(self, words: list[str]) -> list[str]:
        """Replace teencode and abbreviations word by word; drop trailing particles."""
        out = [self._expand_word(words, i) for i in range(len(words))]
        while len(out) > 1 and out[-1] in self._particles:
            out.pop()
        return out

    def folded(self, text: str) -> str:
        """Only the folded form: what the ranker reads (indexed texts, a long message's
        sentences)."""
        return self(text).folded

    def __call__(self, text: str) -> Normalised:
        raw = unicodedata.normalize("NFC", text[:_MAX_CHARS])
        words = canonical(raw, self._known).split()
        accented = " ".join(self.expand(words))
        folded = fold(accented)
        typed = fold(raw) != raw
        return Normalised(
            raw=raw, accented=accented, folded=folded, typed_accents=typed, words=tuple(words)
        )
