"""The two n-gram analyzers of the learned layers, without scikit-learn (issue 12).

scikit-learn alone costs the bot process ~110 MB of memory, and at answer time the triage model
and the ranker only need its analyzers' n-grams plus their own fitted weights. These are the very
n-grams, in the very order, of `build_analyzer()` for analyzer="char_wb" and analyzer="word"
(input "content", no accent stripping, no stop words); tests/test_ngrams.py checks them against
scikit-learn on every knowledge-base question and triage example.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np

from bot.core.onemessage import once

WORD_PATTERN = r"(?u)\b\w+\b"  # one letter counts as a word (Vietnamese has many)
_WHITE_SPACES = re.compile(r"\s\s+")


def _shared(name: str, analyse: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
    """`analyse`, working a text's n-grams out once per message inside
    `bot.core.onemessage.scope()` (the triage model and the ranker analyse the same folded
    text); callers must not change the lists they get."""

    def shared(text: str) -> list[str]:
        return once(("ngrams", name, text), lambda: analyse(text))

    return shared


def _word_char_grams(word: str, min_n: int, max_n: int, grams: list[str]) -> list[str]:
    """One word's char_wb n-grams (padded with a space either side), added to `grams`."""
    add = grams.append
    padded = f" {word} "
    length = len(padded)
    for n in range(min_n, max_n + 1):
        offset = 0
        add(padded[:n])
        while offset + n < length:
            offset += 1
            add(padded[offset : offset + n])
        if offset == 0:  # a short word (length <= n) counts once
            break
    return grams


def char_wb_grams(
    min_n: int, max_n: int, *, lowercase: bool
) -> Callable[[str], list[str]]:
    """Character n-grams inside words, each word padded with one space on either side."""

    def analyse(text: str) -> list[str]:
        grams: list[str] = []
        for word in _WHITE_SPACES.sub(" ", text).split():
            _word_char_grams(word, min_n, max_n, grams)
        return grams

    shared = _shared(f"char_wb {min_n}-{max_n}", analyse)
    if not lowercase:
        return shared
    # lower-casing first, so both cases of an analyser share the n-grams of a lower-case text
    return lambda text: shared(text.lower())


def word_grams(
    min_n: int, max_n: int, *, lowercase: bool, pattern: str = WORD_PATTERN
) -> Callable[[str], list[str]]:
    """Word n-grams: the unigrams first, then the bigrams, ... (scikit-learn's order)."""
    find_words = re.compile(pattern).findall

    def analyse(text: str) -> list[str]:
        words: list[str] = find_words(text)
        if max_n == 1:
            return words
        lowest = min_n
        grams = list(words) if min_n == 1 else []
        if min_n == 1:
            lowest = 2
        count = len(words)
        for n in range(lowest, min(max_n + 1, count + 1)):
            for i in range(count - n + 1):
                grams.append(" ".join(words[i : i + n]))
        return grams

    shared = _shared(f"word {min_n}-{max_n} {pattern}", analyse)
    if not lowercase:
        return shared
    return lambda text: shared(text.lower())


class WordGramHashes:
    """A text's char_wb n-grams as hashes (int64, in `char_wb_grams`' order), each known word's
    worked out once.

    Making and hashing the n-gram strings was most of what the learned layers cost a message
    (a word gives ~20 of them); the words staff wrote (entries, examples) are nearly all a
    message holds, so their hashes are kept as bytes (~8 bytes an n-gram, ~0.3 MB in all).
    Other words are worked out each time and never kept: no message text stays in memory.
    """

    def __init__(
        self, words: Iterable[str], min_n: int, max_n: int, hash_gram: Callable[[str], int]
    ) -> None:
        self._min_n, self._max_n, self._hash_gram = min_n, max_n, hash_gram
        self._known: dict[str, bytes] = {word: self._worked_out(word) for word in set(words)}

    def _worked_out(self, word: str) -> bytes:
        grams = _word_char_grams(word, self._min_n, self._max_n, [])
        return np.fromiter(map(self._hash_gram, grams), dtype=np.int64, count=len(grams)).tobytes()

    def __call__(self, text: str) -> np.ndarray:
        known = self._known.get
        parts = [known(word) or self._worked_out(word) for word in text.split()]
        return np.frombuffer(b"".join(parts), dtype=np.int64)
