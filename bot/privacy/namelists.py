"""Names in a list: once one item of "A, B, C và D" is a name, the other short items that start
with a given name or a family name are names too, in any case ("nhóm tụi nó gồm thạch minh
luân, sơn ken, tuấn khùng với kim bảo ngọc": "sơn ken" and "tuấn khùng" are nicknames no other
rule can tell from words).

Kept apart from bot.privacy.redactor (the rules on single names) because it reads the shape of
a sentence, not a word and its neighbours.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.privacy.tokens import Tok

# What joins list items: a comma, or one of these words (folded)
_JOINERS = frozenset({"va", "voi", "vs", "cung", "and", "&"})
_SENTENCE_ENDS = frozenset(".!?;:()\"“”")
MAX_ITEM_WORDS = 3  # a longer chunk is a clause, not a list item
MIN_ITEMS = 3  # "A, B và C": two items joined by one word are too often a clause


def mask_listed_names(
    toks: list[Tok], labels: list[str | None], starts_name: Callable[[Tok], bool], name: str
) -> None:
    """Label as `name` the short items of a list that holds a name and start like a name."""
    for chunks in _lists(toks):
        if len(chunks) < MIN_ITEMS or not any(
            labels[k] == name for chunk in chunks for k in chunk
        ):
            continue
        for chunk in chunks:
            words = [k for k in chunk if toks[k].word]
            if not 0 < len(words) <= MAX_ITEM_WORDS or toks[words[0]].text[0].isdigit():
                continue
            # "kim bảo ngọc": "kim" already masked (before the verb-like "bảo"), the rest too
            if labels[words[0]] == name or (labels[words[0]] is None
                                            and starts_name(toks[words[0]])):
                for k in words:  # a number in the item ("111") is no part of a name
                    if not toks[k].text[0].isdigit():
                        labels[k] = labels[k] or name


def _lists(toks: list[Tok]) -> list[list[list[int]]]:
    """Each sentence cut into chunks at commas and joining words (token indexes per chunk)."""
    found: list[list[list[int]]] = []
    chunks: list[list[int]] = [[]]
    commas = 0
    for k, tok in enumerate(toks):
        if tok.text in _SENTENCE_ENDS:
            if commas:
                found.append([c for c in chunks if c])
            chunks, commas = [[]], 0
        elif tok.text == "," or tok.folded in _JOINERS:
            commas += tok.text == ","
            chunks.append([])
        else:
            chunks[-1].append(k)
    if commas:
        found.append([c for c in chunks if c])
    return found
