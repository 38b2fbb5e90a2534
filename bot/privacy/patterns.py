"""Shape-based patterns (e-mails, links, handles, dates, plates) on the prepared, folded text.

Each pattern works on the folded copy (lower case, no diacritics) so "a còng" and "chấm" are
found however they were typed. Lookbehinds make every match start at a token boundary, which
keeps them linear on long adversarial input.
"""

from __future__ import annotations

import re

EMAIL = "[EMAIL]"
URL = "[URL]"
HANDLE = "[TÀI KHOẢN]"
DATE = "[NGÀY]"
PLATE = "[BIỂN SỐ]"

_AT = r"(?:@|\(at\)|\[at\]|\ba\s?cong\b|\bat\b)"
_DOT = r"(?:\.|\bcham\b|\bdot\b|[(\[](?:dot|cham)[)\]])"
_MAIL_HOSTS = r"(?:gmail|yahoo|hotmail|outlook|icloud|mail|live|proton|protonmail|ymail|fpt|vnn)"

EMAIL_RE = re.compile(
    rf"(?<![\w.+\-])[\w.+\-]+\s{{0,2}}{_AT}\s{{0,2}}[\w\-]+"
    rf"(?:(?:\s{{0,2}}{_DOT}\s{{0,2}}|,)[\w\-]+)+"
    # "tên gmail", "abc gmail com": a mail host written without the @.
    rf"|(?<![\w.+\-])[\w.+\-]+\s{{0,2}}{_MAIL_HOSTS}(?:\s{{0,2}}{_DOT}?\s{{0,2}}(?:com|vn|net))+"
)
URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?<![\w.\-])[\w\-]+(?:\.[\w\-]+)*"
    r"\.(?:com|vn|net|org|info|me|io|ly|gl|co|edu|gov|biz|xyz|link|app|tv|cc)\b(?:/\S*)?"
)
HANDLE_RE = re.compile(
    r"(?<![\w.@])@\s?[\w.]{2,40}"
    # dotted user names with a digit ("tuan.dz.99", "lily.tran.2009") or three word parts
    r"|(?<![\w.@])(?=[\w.]*\d)(?=[\w.]*[a-z])\w+(?:[._]\w+)+(?![\w@])"
    r"|(?<![\w.@])[a-z]{2,}(?:\.[a-z]{2,}){2,}(?![\w@])"
)
DATE_RE = re.compile(
    r"(?<![\d/.\-])\d{1,2}\s?[/.\-]\s?\d{1,2}\s?[/.\-]\s?(?:\d{4}|\d{2})(?![\d/])"
    r"|(?<!\w)(?:ngay\s+)?\d{1,2}\s*(?:thang|th)\s*\d{1,2}(?:\s*(?:nam|,)?\s*\d{2,4})?(?!\w)"
    r"|(?<!\w)(?:thang\s+)\d{1,2}\s*(?:nam|/)\s*\d{4}(?!\w)"
)
# Vietnamese plates: 29A-123.45, 51F 678 90, 59-X1 234.56, 30E12345.
PLATE_RE = re.compile(
    r"(?<![\w.])\d{2}\s?-?\s?[a-z]{1,2}\d?\s?-?\s?\d{3}\.?\s?\d{1,2}(?![\w])"
)

SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (EMAIL_RE, EMAIL),
    (URL_RE, URL),
    (HANDLE_RE, HANDLE),
    (DATE_RE, DATE),
    (PLATE_RE, PLATE),
)
