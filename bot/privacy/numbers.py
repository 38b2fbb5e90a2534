"""Numbers in a message: phone numbers, ID and account numbers, in digits, digit words
("không chín một hai...") or look-alike letters ("O912..."); hotlines, money, law numbers and
years are left standing. One job of bot.privacy.redactor's, kept apart: how a run of digits is
read, not which words are names."""

from __future__ import annotations

import re

import phonenumbers

from bot.privacy.lists import PrivacyLists
from bot.privacy.tokens import Tok, label_span

PHONE = "[SĐT]"
NUMBER = "[SỐ]"

_DIGIT_JOINERS = set(".-()+/_,*–—·•")
_MONEY_AFTER = {
    "đ", "đồng", "dong", "vnd", "vnđ", "k", "nghìn", "nghin", "ngàn", "ngan", "triệu", "trieu",
    "tr", "tỷ", "tỉ", "ty", "usd", "đô", "xu",
}
_DOC_SUFFIX_RE = re.compile(r"^(?:qh|nd|qd|tt|kh|ct|nq|ttg|cp|ubnd|bldtbxh|ldtbxh)\d*$")
_YEAR_RE = re.compile(r"^(?:19|20)\d\d$")


class NumberRules:
    """Labels the runs of six digits or more that are personal."""

    def __init__(self, lists: PrivacyLists) -> None:
        self._public = set(lists.public_numbers)
        self._words = dict(lists.digit_words)
        self._letters = dict(lists.digit_letters)

    def _value(self, tok: Tok, in_run: bool) -> str | None:
        """Digits a token stands for, or None when it cannot be part of a number."""
        if tok.text.isdigit():
            return tok.text
        if tok.folded in self._words and in_run:
            return self._words[tok.folded]
        if any(c.isdigit() for c in tok.text) and tok.text.isalnum():
            letters = self._letters
            mapped = "".join(c if c.isdigit() else letters.get(c, "x") for c in tok.text)
            if "x" not in mapped:
                return mapped
        return None

    def label(self, toks: list[Tok], labels: list[str | None]) -> None:
        i = 0
        while i < len(toks):
            if labels[i] or self._value(toks[i], in_run=True) is None:
                i += 1
                continue
            run, digits, real, words = [i], "", 0, 0
            j = i
            while j < len(toks):
                value = self._value(toks[j], in_run=True)
                if value is not None and not labels[j]:
                    digits += value
                    real += sum(c.isdigit() for c in toks[j].text)
                    words += not toks[j].text[0].isdigit()
                    run.append(j)
                    j += 1
                elif toks[j].text in _DIGIT_JOINERS and j + 1 < len(toks) and (
                    self._value(toks[j + 1], in_run=True) is not None
                ):
                    j += 1
                else:
                    break
            # A lone word that only looks like a digit ("ba", "năm") is prose, not a number.
            if real == 0 and words < 6:
                i = max(j, i + 1)
                continue
            if len(digits) >= 6 and not self._public_or_prose(toks, run, digits):
                label = PHONE if _is_phone(digits, toks, run) else NUMBER
                label_span(toks, labels, toks[run[0]].start, toks[run[-1]].end, label)
            i = max(j, i + 1)

    def _public_or_prose(self, toks: list[Tok], run: list[int], digits: str) -> bool:
        """Hotlines, money, law numbers and year ranges are not personal."""
        if digits in self._public or (digits.startswith(("1800", "1900")) and len(digits) <= 10):
            return True
        parts = [toks[k].text for k in run if toks[k].text.isdigit()]
        if parts and all(p in self._public for p in parts):
            return True
        after = run[-1] + 1
        nxt = toks[after].lower if after < len(toks) else ""
        if nxt in _MONEY_AFTER:
            return True
        if nxt == "/" and after + 1 < len(toks) and _DOC_SUFFIX_RE.match(toks[after + 1].folded):
            return True  # Nghị quyết 121/2020/QH14
        return bool(parts) and all(_YEAR_RE.match(p) for p in parts)  # 2021-2030


def _is_phone(digits: str, toks: list[Tok], run: list[int]) -> bool:
    raw = "".join(toks[k].text for k in range(run[0], run[-1] + 1))
    candidate = ("+" + digits) if raw.lstrip("(").startswith("+") else digits
    try:
        number = phonenumbers.parse(candidate, "VN")
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.is_valid_number(number))
