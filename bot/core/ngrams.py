"""The two n-gram analyzers of the learned layers, without scikit-learn (issue 12).

scikit-learn alone costs the bot process ~110 MB of memory, and at answer time the triage model
and the ranker only need its analyzers' n-grams plus their own fitted weights. These are the very
n-grams, in the very order, of `build_analyzer()` for analyzer="char_wb" and analyzer="word"
(input "content", no accent stripping, no stop words); tests/test_ngrams.py checks them against
scikit-learn on every knowledge-base question and triage example.
"""

from __future__ import annotations

import re
from collections.abc import Callable

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


def char_wb_grams(
    min_n: int, max_n: int, *, lowercase: bool
) -> Callable[[str], list[str]]:
    """Character n-grams inside words, each word padded with one space on either side."""

    def analyse(text: str) -> list[str]:
        grams: list[str] = []
        add = grams.append
        for word in _WHITE_SPACES.sub(" ", text).split():
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
