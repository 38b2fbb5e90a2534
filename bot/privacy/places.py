"""Addresses that go on past what the place words caught.

Two shapes people type, seen in a Saigon author's messages (round 28): an address followed by a
comma and the next level's name ("số 7 đường Nguyễn Văn Tiết, Lái Thiêu, Thuận An", where
"Lái Thiêu" is two common words), and a ward or district written short, then its name typed in
lower case ("hẻm 120/15, p13 binh thanh"). Both are masked as address: over-inclusive by design.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container

from bot.privacy.tokens import Tok

_SHORT_UNIT_RE = re.compile(r"^[pq]\d{1,2}$")  # "p13" phường 13, "q6" quận 6
SHORT_UNIT_WORDS = 2  # the name after "p13": "binh thanh", "go vap"
CHAIN_WORDS = 3  # the name after an address and a comma: "Lái Thiêu", "Thủ Dầu Một"


def extend_addresses(
    toks: list[Tok], labels: list[str | None], address: str, code: str,
    stop: Container[Tok], people: Container[Tok],
) -> None:
    """Label the continuations described above as `address` (`code`: what a bare "p13" may
    already be labelled; `stop`: words never taken as part of a name; `people`: words for a
    person, "bố", "mẹ", "thầy", "chú", never taken either: "q7 bo danh em" keeps who hit)."""
    def never(tok: Tok) -> bool:
        return tok in stop or tok in people

    k = 0
    while k < len(toks):
        tok = toks[k]
        if labels[k] in (None, code) and _SHORT_UNIT_RE.match(tok.lower):
            end = _take(toks, labels, k + 1, SHORT_UNIT_WORDS, address, never, capital=False)
            if end > k + 1:  # a name follows: "p13 binh thanh" (not "phim p2 hay lam")
                labels[k] = address
                k = end - 1  # "p2 go vap, Lái Thiêu": the next level may follow
            else:
                k = end
            continue
        if (labels[k] == address and k + 2 < len(toks) and toks[k + 1].text == ","
                and toks[k + 2].cap):
            end = _take(toks, labels, k + 2, CHAIN_WORDS, address, never, capital=True)
            k = end - 1 if end > k + 2 else k + 1  # the next level may follow
            continue
        k += 1


def _take(
    toks: list[Tok], labels: list[str | None], k: int, most: int, address: str,
    never: Callable[[Tok], bool], *, capital: bool,
) -> int:
    first = k
    while (k < len(toks) and k - first < most and labels[k] is None and toks[k].word
           and not toks[k].text[0].isdigit() and not never(toks[k])
           and (toks[k].cap if capital else True)):
        labels[k] = address
        k += 1
    return k

