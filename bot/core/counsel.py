"""The anonymous line to trained staff (/gapnguoi): its texts, its hours and its case references.

Pure parts only: the Telegram relay lives in `bot.telegram.counsel`. A case is known to staff by
a random reference ("C-7KQ2") and a harm category, never by anything of the user.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

VIETNAM = dt.timezone(dt.timedelta(hours=7))  # no daylight saving
HOURS_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$"
_REF_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud without doubt

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class CounselTexts(BaseModel):
    """Section `counsel` of ui.yaml: what the user and the staff group read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_button: Text
    unavailable: Text  # outside hours; {hours}
    unconfigured: Text
    opening: Text
    already_open: Text
    open_failed: Text
    no_reply_yet: Text
    staff_prefix: Text
    ended_by_user: Text
    ended_by_staff: Text
    ended_topic_gone: Text
    none_open: Text
    photo: Text
    sticker: Text
    other_media: Text
    # Staff side ({ref}: case reference, {category}: harm category, {audience}: who writes).
    topic_name: Text
    category_unknown: Text
    urgent_marker: Text
    staff_new_case: Text
    staff_user_prefix: Text
    staff_user_left: Text
    staff_closed: Text
    staff_user_gone: Text
    staff_user_forgot: Text
    staff_urgent: Text
    staff_card_sent: Text
    staff_not_a_case: Text
    staff_no_reply_note: Text
    staff_text_only: Text


def parse_hours(spec: str) -> tuple[dt.time, dt.time]:
    """"07:30-21:30" -> (07:30, 21:30); "24:00" ends at midnight. Raises ValueError."""
    if not re.match(HOURS_PATTERN, spec):
        raise ValueError(f"hours must look like 07:30-21:30, not {spec!r}")
    start, end = spec.split("-")
    first = dt.time(int(start[:2]), int(start[3:]))
    last = dt.time.max if end == "24:00" else dt.time(int(end[:2]), int(end[3:]))
    return first, last


def within_hours(spec: str, now: dt.datetime | None = None) -> bool:
    """Is it within `spec` in Vietnam time? A range across midnight ("21:00-06:00") works."""
    first, last = parse_hours(spec)
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(VIETNAM).time()
    if first <= last:
        return first <= moment < last
    return moment >= first or moment < last


def new_case_ref() -> str:
    """A short random case reference, unrelated to the user (no hash of any id)."""
    return "C-" + "".join(secrets.choice(_REF_LETTERS) for _ in range(4))


def topic_title(texts: CounselTexts, ref: str, category: str | None, urgent: bool = False) -> str:
    """The forum topic's name: reference and category only (Telegram allows 128 characters)."""
    title = texts.topic_name.replace("{ref}", ref).replace(
        "{category}", category or texts.category_unknown
    )
    if urgent:
        title = f"{texts.urgent_marker} {title}"
    return title[:128]
