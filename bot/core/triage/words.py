"""Word-level matching helpers: tokens in both forms, typo distance, Telex leftovers.

Matching runs on the folded text (no diacritics) token by token. A token the user typed with
diacritics must agree with the phrase's diacritics (a mark the phrase lacks costs one edit), so
"từ từ" is not "tự tử" while "tu tu" may be. Raw Telex leftovers ("chets", "tuwj") are decoded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

from bot.core.text import Normalised, fold

# A folded Vietnamese syllable: optional onset, one to three vowels, optional final consonant.
_SYLLABLE = re.compile(
    r"^(ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|b|c|d|g|h|k|l|m|n|p|r|s|t|v|x)?"
    r"[aeiouy]{1,3}(ch|ng|nh|c|m|n|p|t)?$"
)
_DOUBLED = re.compile(r"([aeiouy])\1")


class Tok(NamedTuple):
    folded: str
    accented: str
    # read as typed: a word with the same letters but other diacritics is another word (set by
    # the rules for a writer who types diacritics, see `pinned`)
    pinned: bool = False


def expand_sets(text: str, word_sets: dict[str, list[str]]) -> list[str]:
    """Every wording of a phrase whose words may name a word set: "$me sợ ma" stands for
    "em sợ ma", "con sợ ma"... so one line covers a whole family of wordings."""
    out = [""]
    for word in text.split():
        options = word_sets[word[1:]] if word.startswith("$") and len(word) > 1 else [word]
        out = [f"{head} {option}".strip() for head in out for option in options]
    return out


def token_pairs(norm: Normalised) -> list[Tok]:
    return [Tok(f, a) for f, a in zip(norm.folded.split(), norm.accented.split(), strict=True)]


def _char_marks(ch: str) -> frozenset[str]:
    if ch in "đĐ":
        return frozenset({"stroke"})
    return frozenset(unicodedata.normalize("NFD", ch)[1:])


MARKED_SHARE = 0.5


def pinned(toks: list[Tok]) -> list[Tok]:
    """The clause's words a writer who types diacritics typed as meant: each word that carries
    a mark, and each unmarked word between two that do ("thuốc sau ăn" is not "thuốc sâu").
    An unmarked stretch inside accented text ("hôm nay vui lắm em muon tu tu hôm nay") was
    typed without marks: its words still match whatever marks a rule word has."""
    marked = [not t.accented.isascii() for t in toks]
    last = len(toks) - 1
    return [
        t._replace(pinned=True)
        if marked[i] or (0 < i < last and marked[i - 1] and marked[i + 1])
        else t
        for i, t in enumerate(toks)
    ]


def mostly_marked(words: Sequence[str]) -> bool:
    """The writer types diacritics: at least half the words of two or more letters carry one.
    Then the words `pinned` picks mean what was typed ("đang" is not the rule word "đăng",
    "thuốc sau ăn" not "thuốc sâu"). A few marked words in unaccented text ("tau treo cay bị
    bổ") do not count: that writer leaves most marks out."""
    letters = [w for w in words if len(w) >= 2 and w.isalpha()]
    if not letters:
        return False
    marked = sum(1 for w in letters if not w.isascii())
    return marked >= MARKED_SHARE * len(letters)


def is_syllable(folded: str) -> bool:
    return _SYLLABLE.match(folded) is not None


def fold_word(word: str) -> str:
    return fold(word)


def marks_agree(typed: str, phrase: str) -> bool:
    """Every diacritic the user typed is one the phrase has (missing marks are fine)."""
    if typed == phrase:
        return True
    if len(typed) != len(phrase):
        return False
    if typed.isascii():  # no marks typed at all (the common case on phones)
        return True
    return all(_char_marks(t) <= _char_marks(p) for t, p in zip(typed, phrase, strict=True))


def within_one_edit(a: str, b: str) -> bool:
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


def deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def telex(word: str) -> str | None:
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
