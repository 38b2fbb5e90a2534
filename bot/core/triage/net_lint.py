"""Safety-net harm words that, typed without diacritics, are mostly another word.

The safety net compares a message typed without diacritics letter for letter, so a one-word
harm word such as "cứa" (cut) also fires on "cua", which is nearly always "của" (of): a
suicide-crisis reply to a question about a phone bill. `kb check` warns about such words; the
staff fix is a phrase ("cứa tay", "bị trói").
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from bot.core.text import canonical, fold
from bot.core.triage.schema import DangerFile

MOSTLY_OTHER = 0.3  # the harm word is under this share of the words spelled like it unaccented
# ("rạch" is 48 % of "rach", the rest "rách": kept, a missed self-harm message is worse)
MIN_SEEN = 20  # fewer occurrences of the spelling in staff texts tell nothing


class AmbiguousWord(NamedTuple):
    category: str
    word: str
    usual: str  # the word that spelling usually is, with diacritics
    share: float  # the harm word's share of the occurrences


def ambiguous_harm_words(danger: DangerFile, texts: Iterable[str]) -> list[AmbiguousWord]:
    """One-word safety-net harm words that staff texts typed with diacritics show to be mostly
    another word once the diacritics are dropped."""
    net = danger.safety_net
    if net is None:
        return []
    spellings: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        typed = canonical(text)
        if fold(typed) == typed:  # typed without diacritics: says nothing about spellings
            continue
        for word in typed.split():
            spellings[fold(word)][word] += 1
    found = []
    for category, phrases in net.words.items():
        for phrase in phrases:
            words = canonical(phrase).split()
            if len(words) != 1:
                continue
            seen = spellings.get(fold(words[0]), Counter())
            total = sum(seen.values())
            share = seen[words[0]] / total if total else 1.0
            if total >= MIN_SEEN and share < MOSTLY_OTHER:
                found.append(AmbiguousWord(category, phrase, seen.most_common(1)[0][0], share))
    return found
