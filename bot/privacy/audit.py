"""Leak audit: does any piece of a known secret survive in a text we keep?

Used by `bench/privacy.py` and the privacy tests to scan redacted text, the database bytes,
logs, alerts and reports. Strict on purpose: five digits of a phone number in a row, or two
words of a name side by side, count as a leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.privacy.lists import fold_word
from bot.privacy.redactor import Redactor

_WORD_RE = re.compile(r"[^\W\d_]+|\d+")
_DIGIT_WINDOW = 5
# Words that spell an address's shape, not a person: "a còng", "chấm", "lớp".
_SHAPE_WORDS = (
    "a", "còng", "cong", "chấm", "cham", "at", "dot", "com", "gmail", "vn", "lớp", "lop", "class"
)


class LeakAuditor:
    """Finds the parts of secrets that are still readable in a text."""

    def __init__(self, redactor: Redactor, vocabulary: Iterable[str]) -> None:
        self._redactor = redactor
        lists = redactor.lists
        generic: set[str] = set()
        for phrase in (
            *lists.place_words,
            *lists.school_words,
            *lists.address_terms,
            *lists.name_triggers,
            *lists.stop_words,
            *lists.date_triggers,
            *lists.id_triggers,
            *lists.landmark_words,
            *lists.number_words,
        ):
            generic.update(phrase.split())
        generic.update(_SHAPE_WORDS)
        # "nhà văn hóa" must not make the name "Văn" generic
        self._generic = frozenset(generic - set(lists.given_names) - set(lists.surnames))
        self._digit_words = dict(lists.digit_words)
        self._digit_letters = dict(lists.digit_letters)
        self._common = frozenset(fold_word(w) for t in vocabulary for w in _WORD_RE.findall(t))

    def _words(self, text: str) -> list[str]:
        return _WORD_RE.findall(self._redactor.prepare(text).lower())

    def _digit_runs(self, words: list[str]) -> list[str]:
        runs: list[str] = []
        current = ""
        for word in words:
            if word.isdigit():
                current += word
            elif fold_word(word) in self._digit_words:
                current += self._digit_words[fold_word(word)]
            elif any(c.isdigit() for c in word) and all(
                c.isdigit() or c in self._digit_letters for c in word
            ):
                current += "".join(c if c.isdigit() else self._digit_letters[c] for c in word)
            else:
                if current:
                    runs.append(current)
                current = ""
        if current:
            runs.append(current)
        return runs

    def leaks(self, secret: str, text: str, *, corpus: bool = False) -> list[str]:
        """The readable pieces of `secret` in `text` (empty when nothing survives).

        With `corpus` (a whole database or log scanned for one message's secrets) a lone word
        counts only for a one-word secret of four letters or more: "triệu" or "my" of one
        message's name also occur as ordinary words in the others."""
        found: list[str] = []
        secret_words = self._words(secret)
        out_words = self._words(text)
        digits = "".join(self._digit_runs(secret_words))
        if len(digits) >= _DIGIT_WINDOW:
            streams = self._digit_runs(out_words)
            for i in range(len(digits) - _DIGIT_WINDOW + 1):
                window = digits[i : i + _DIGIT_WINDOW]
                if any(window in stream for stream in streams):
                    found.append(window)
                    break
        names = [
            w for w in secret_words
            if not w.isdigit() and w not in self._generic and fold_word(w) not in self._digit_words
        ]
        out_set = set(out_words)
        out_pairs = set(zip(out_words, out_words[1:], strict=False))
        for a, b in zip(names, names[1:], strict=False):
            if (a, b) in out_pairs:
                found.append(f"{a} {b}")
        for word in names:
            distinctive = fold_word(word) not in self._common or len(names) == 1
            if corpus and (len(names) > 1 or len(word) < 4):
                continue
            if distinctive and word in out_set and len(word) > 1:
                found.append(word)
        return found
