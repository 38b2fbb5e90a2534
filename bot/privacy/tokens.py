"""A message's tokens for redaction, the word lists compared with them, and the masked text.

Kept apart from the rules (bot.privacy.redactor) so each file holds one job: here how a message
is cut and put back together, there which tokens are personal data.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Container, Iterable
from functools import lru_cache

from bot.privacy.lists import fold_word

# A word or one other visible character. An apostrophe between letters joins: Ê Đê and Jrai
# names ("H'Yên", "Y'Bhin") stay one token, so a mask never leaves half a name standing.
TOKEN_RE = re.compile(r"\w+(?:['’]\w+)*|[^\w\s]")


class Tok:
    __slots__ = ("start", "end", "text", "lower", "folded", "plain", "word", "cap", "upper")

    def __init__(self, match: re.Match[str]) -> None:
        self.start, self.end = match.span()
        self.text = match.group()
        self.lower = self.text.lower()
        self.folded = fold_word(self.text)
        self.plain = self.folded == self.lower  # typed without diacritics
        self.word = self.text[0].isalpha() or self.text[0] == "_" or self.text[0].isdigit()
        self.cap = self.text[0].isupper()
        self.upper = len(self.text) > 1 and self.text.isupper()


class Words:
    """A word list compared the way the user typed: exactly when the token has diacritics
    ("thị" is a name, "thì" is not), without them when it has none ("thi" may be either)."""

    def __init__(self, words: Iterable[str]) -> None:
        self.accented = frozenset(words)
        self.folded = frozenset(fold_word(w) for w in self.accented)
        self.plain = frozenset(w for w in self.accented if fold_word(w) == w)

    def __contains__(self, tok: object) -> bool:
        assert isinstance(tok, Tok)
        if tok.plain:
            return tok.folded in self.folded
        return tok.lower in self.accented


def word_matches(tok: Tok, word: str, folded: str) -> bool:
    return tok.folded == folded if tok.plain else tok.lower == word


# Per-character caches: one character says nothing about anyone, and a message's characters
# come from a few alphabets, so these stay small (bounded all the same).
@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    folded = fold_word(char)
    return folded if len(folded) == 1 else char.lower()[:1] or char


@lru_cache(maxsize=4096)
def latin(char: str) -> bool:
    try:
        return unicodedata.name(char).startswith("LATIN")
    except ValueError:
        return False



def label_span(
    toks: list[Tok], labels: list[str | None], start: int, end: int, label: str
) -> None:
    """Label every unlabelled token overlapping [start, end) (tokens are sorted by start)."""
    lo, hi = 0, len(toks)
    while lo < hi:  # first token ending after `start`
        mid = (lo + hi) // 2
        if toks[mid].end <= start:
            lo = mid + 1
        else:
            hi = mid
    k = lo
    while k < len(toks) and toks[k].start < end:
        if labels[k] is None:
            labels[k] = label
        k += 1


def slashed_number_before(toks: list[Tok], k: int, time_words: Container[str]) -> int:
    """Where a house number written with slashes that ends just before toks[k] starts
    ("67/12/4" in "67/12/4 đường ...", a Saigon address), else k. After a time word (folded:
    "ngay", "hom") the number is a date ("ngày 20/11 đường đông quá")."""
    j = k
    while j > 0 and (toks[j - 1].text[0].isdigit() or toks[j - 1].text == "/") and (
        j == k or toks[j - 1].end == toks[j].start
    ):
        j -= 1
    span = toks[j:k]
    has_slash = any(t.text == "/" for t in span)
    dated = j > 0 and toks[j - 1].folded in time_words
    if has_slash and not dated and span[0].text[0].isdigit() and span[-1].text[0].isdigit():
        return j
    return k


def render(text: str, toks: list[Tok], labels: list[str | None]) -> str:
    """Each run of tokens with one label (and what lies between them) becomes that label."""
    out: list[str] = []
    pos = 0
    k = 0
    while k < len(toks):
        label = labels[k]
        if label is None:
            k += 1
            continue
        j = k
        while j + 1 < len(toks) and labels[j + 1] == label:
            j += 1
        out.append(text[pos : toks[k].start])
        out.append(label)
        pos = toks[j].end
        k = j + 1
    out.append(text[pos:])
    return "".join(out)
