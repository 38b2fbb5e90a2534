"""Redaction and anonymous user keys.

Everything that reaches the interaction log or a staff screen passes through `redact` first, so
that the log never becomes a list of children's names and phone numbers. The rules prefer
over-redacting: losing a word of a question costs staff little, a leaked identity costs a child
a lot. Matching runs on a folded (diacritic-free, lower-case) copy aligned character by character
with the original, so "ten em la lan" is caught as well as "Tên em là Lan".
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from functools import lru_cache

PHONE = "[SĐT]"
EMAIL = "[EMAIL]"
URL = "[URL]"
USERNAME = "[USERNAME]"
NUMBER = "[SỐ]"
NAME = "[TÊN]"
DATE = "[NGÀY]"

USER_KEY_LENGTH = 16


def user_key(secret: bytes, telegram_id: int) -> str:
    """Anonymous, stable key for one user: HMAC-SHA256 of the id, hex, truncated.

    Keyed so that nobody holding the database alone can test candidate ids against it.
    """
    digest = hmac.new(secret, str(int(telegram_id)).encode("ascii"), hashlib.sha256)
    return digest.hexdigest()[:USER_KEY_LENGTH]


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character, lower case, without diacritics, đ -> d; always exactly one character."""
    lower = char.lower()
    if len(lower) != 1:
        lower = char
    if lower == "đ":
        return "d"
    base = unicodedata.normalize("NFD", lower)[0]
    return base if len(base) == 1 else lower


def _fold_aligned(text: str) -> str:
    """Fold `text` (already NFC) keeping every index aligned with the original."""
    return "".join(_fold_char(c) for c in text)


# --- patterns, written for the folded text ------------------------------------------------------

# Lookbehinds make every match start at the beginning of a token, which keeps these patterns
# linear on long adversarial input ("a.a.a.a..." or one 4,000-letter word).
_EMAIL_RE = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?<![\w.\-])[\w\-]+(?:\.[\w\-]+)*"
    r"\.(?:com|vn|net|org|info|me|io|ly|gl|co|edu|gov|biz|xyz|link|app)\b(?:/\S*)?"
)
_USERNAME_RE = re.compile(r"(?<![\w.@])@[a-z0-9_]{2,32}\b")
_DATE_RE = re.compile(r"(?<![\d/.\-])\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})(?![\d/])")
# Vietnamese phones: 0 or (+)84 then 9-10 digits, each optionally preceded by one separator
# (space, dot, dash, closing bracket), so "0912 345 678", "091.234.5678", "(028) 3823 4567".
_PHONE_RE = re.compile(r"(?<![\w+])\(?(?:\+\s?84|84|0)\)?(?:[ .\-)]{0,2}\d){8,10}(?![\w])")
# Any other run of digits, possibly grouped: ID cards (9, 12), bank accounts, card numbers.
_DIGITS_RE = re.compile(r"(?<![\w])\d(?:[ .\-]?\d)+(?![\w])")
_MONEY_AFTER_RE = re.compile(r"\s*(?:d|dong|vnd|k|nghin|trieu|ty)\b")
_SERVICE_NUMBER_RE = re.compile(r"1[89]00\d{4,6}")
_EMERGENCY_NUMBERS = frozenset({"111", "112", "113", "114", "115"})


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Name triggers. "Definite" ones are always followed by a name; "role" ones ("tôi là ...") may be
# followed by a role ("tôi là giáo viên"), so they redact unless the next word starts a role.
_PRONOUN = r"(?:em|toi|minh|tui|to|tao|chau|con|be|ban ay|ban em|con toi|con minh|con em|chau toi)"
_DEFINITE_RE = re.compile(
    rf"\b(?:ho (?:va )?ten|ten (?:cua )?{_PRONOUN}|{_PRONOUN} ten"
    r"|ten that|ten goi|ten la|ten(?=\s*:))"
    r"(?:\s+la\b)?\s*:?\s*"
)
_ROLE_RE = re.compile(r"\b(?:toi|em|minh|tui|to|tao|day|chau) la\s+")
_WORD_RE = re.compile(r"[^\W\d_]+")

# Words that end a name. Folded forms; syllables that are also common names (an, hai, nam, minh,
# chi, tu, van, dung ...) are left out on purpose: better to redact a word too many.
_NAME_STOP = _words(
    """
    la va voi nhung ma thi nen vi de cho cua o nay kia day nha ne a ah oi nhe ak u uh vay sao gi
    ji j dau nao khong ko k hok chua roi da dang se bi duoc co can muon hoi xin giup biet noi lam
    di hoc lop tuoi thang ngay song em toi tui tao con be ban me bo cha nguoi cung rat that hay
    luon so sdt nhu ai cau oi
    """
)
# First words after "tôi là / em là" that start a role or a description, not a name.
_ROLE_START = _words(
    """
    giao phu hoc me bo ba cha nguoi tre con co thay nan ban mot nu chu bac ong anh chi em ai gi
    dan hang hieu can cong y ke gia dang bi khong ko da se cung rat that hs gv ph sinh ca cau di
    duoc dieu nhung cai vo chong ny so tan nhan truong to lop tinh dai thanh chau be hai ba bon
    nam sau bay tam chin muoi dua thieu tuoi hoi ho chi nguoi sv
    """
)
_MAX_NAME_WORDS = 4
# A capitalised word right after a kinship or address term is a name: "bé Lan", "chú Hùng".
_ADDRESS_BEFORE_NAME = _words("be chau em ban anh chi co thay chu bac ong ba di cau mo duong thim")

Span = tuple[int, int, str]


def _name_after(folded: str, original: str, start: int, *, role: bool) -> Span | None:
    """Up to four name-like words from `start`; None when the first word cannot be a name."""
    end = start
    words = 0
    pos = start
    while words < _MAX_NAME_WORDS:
        match = _WORD_RE.match(folded, pos)
        if not match:
            break
        word = match.group()
        capitalised = original[match.start()].isupper()
        if words == 0:
            if role and word in _ROLE_START:
                return None
            if word in _NAME_STOP and not (capitalised and word not in {"gi", "ai", "nao"}):
                return None
        elif word in _NAME_STOP and not capitalised:
            break
        words += 1
        end = match.end()
        # Continue only over one space: punctuation or a digit ends the name.
        if folded[end : end + 1] != " ":
            break
        pos = end + 1
    return (start, end, NAME) if words else None


def _name_spans(folded: str, original: str) -> list[Span]:
    spans: list[Span] = []
    for pattern, role in ((_DEFINITE_RE, False), (_ROLE_RE, True)):
        for match in pattern.finditer(folded):
            span = _name_after(folded, original, match.end(), role=role)
            if span:
                spans.append(span)
    # "chú Hùng hàng xóm" -> "chú [TÊN] hàng xóm": capitalised words after an address term.
    words = list(_WORD_RE.finditer(folded))
    i = 0
    while i < len(words) - 1:
        term, nxt = words[i], words[i + 1]
        joined_by_space = folded[term.end() : nxt.start()] == " "
        if (
            term.group() in _ADDRESS_BEFORE_NAME
            and joined_by_space
            and original[nxt.start()].isupper()
        ):
            j = i + 1
            while (
                j + 1 < len(words)
                and j - i < _MAX_NAME_WORDS
                and folded[words[j].end() : words[j + 1].start()] == " "
                and original[words[j + 1].start()].isupper()
            ):
                j += 1
            spans.append((nxt.start(), words[j].end(), NAME))
            i = j + 1
        else:
            i += 1
    return spans


def _digit_token(match: re.Match[str], folded: str) -> str | None:
    """Token for a digit run, or None to keep it (short numbers, amounts of money, hotlines)."""
    run = match.group()
    digits = re.sub(r"\D", "", run)
    longest = max(len(part) for part in re.split(r"\D", run))
    if longest < 6 and len(digits) < 8:
        return None  # "111", "Điều 142", "năm 2020", "lớp 7"
    if all(group in _EMERGENCY_NUMBERS for group in re.split(r"\D+", run)):
        return None  # "111 113 115"
    if _SERVICE_NUMBER_RE.fullmatch(digits):
        return None  # 1800/1900 service lines are public, not personal
    grouped_thousands = re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", run)
    if grouped_thousands and _MONEY_AFTER_RE.match(folded, match.end()):
        return None  # "50.000.000 đồng"
    return NUMBER


def _pattern_spans(folded: str) -> list[Span]:
    spans: list[Span] = []
    simple: list[tuple[re.Pattern[str], str]] = [
        (_EMAIL_RE, EMAIL),
        (_URL_RE, URL),
        (_USERNAME_RE, USERNAME),
        (_DATE_RE, DATE),
        (_PHONE_RE, PHONE),
    ]
    for pattern, token in simple:
        for match in pattern.finditer(folded):
            end = match.end()
            if token == URL:
                end -= len(match.group()) - len(match.group().rstrip(".,;:!?)]}\"'"))
            if token == PHONE and _SERVICE_NUMBER_RE.fullmatch(re.sub(r"\D", "", match.group())):
                continue
            spans.append((match.start(), end, token))
    for match in _DIGITS_RE.finditer(folded):
        token = _digit_token(match, folded)
        if token:
            spans.append((match.start(), match.end(), token))
    return spans


def _merge(spans: list[Span]) -> list[Span]:
    """Overlapping spans become one; the earliest-starting, longest span names the token."""
    merged: list[Span] = []
    for start, end, token in sorted(spans, key=lambda s: (s[0], -s[1])):
        if merged and start < merged[-1][1]:
            last_start, last_end, last_token = merged[-1]
            merged[-1] = (last_start, max(last_end, end), last_token)
        else:
            merged.append((start, end, token))
    return merged


def _apply(text: str, spans: list[Span]) -> str:
    out: list[str] = []
    pos = 0
    for start, end, token in _merge(spans):
        out.append(text[pos:start])
        out.append(token)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str) -> str:
    """Replace personal data in `text` with tokens such as [SĐT], [EMAIL], [TÊN], [SỐ].

    Structured data (e-mails, URLs, usernames, dates, phones, long digit runs) goes first, then
    names, so a phone number inside "tên em là ..." is still a [SĐT].
    """
    text = unicodedata.normalize("NFC", text)
    folded = _fold_aligned(text)
    text = _apply(text, _pattern_spans(folded))
    folded = _fold_aligned(text)
    return _apply(text, _name_spans(folded, text))
