"""Telegram presentation: HTML escaping, splitting under 4096, keyboards, callback data.

Kept apart from the handlers so the rules a user can see (no text over Telegram's limit, no
internal id in a visible string, callback data under 64 bytes) are plain functions. Every word
shown comes from the knowledge base's `UiTexts`; nothing here is Vietnamese.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.core.knowledge import AUDIENCES, UiTexts
from bot.core.responder import Reply, Suggestion

MESSAGE_LIMIT = 4096
CALLBACK_LIMIT = 64
# Escaped chunks stay a little under the limit: Telegram counts after entity parsing, and
# a margin costs nothing.
CHUNK_LIMIT = 4000

# Callback data prefixes. Short codes only: titles are long and Vietnamese letters take 2-3
# bytes each, so a title would break the 64-byte limit.
ROLE = "r"
ENTRY = "e"
TOPIC = "t"
FEEDBACK = "f"
CHECK = "ck"  # the check tier's "I am in danger" button: ck:<danger category id>
REPORT = "rp"  # the guided report (bot.telegram.guided): rp:start, rp:<step>:<code>
COUNSEL = "hh"  # the anonymous line to staff (bot.telegram.counsel): hh:open
HOTLINE_COMMAND = "/111"


def callback(*fields: str) -> str | None:
    """Join fields with ':'; None when the result would exceed Telegram's 64 bytes."""
    data = ":".join(fields)
    return data if len(data.encode("utf-8")) <= CALLBACK_LIMIT else None


def parse_callback(data: str | None) -> tuple[str, list[str]]:
    """Split callback data into (prefix, fields); unknown data gives ('', [])."""
    if not data:
        return "", []
    prefix, _, rest = data.partition(":")
    return prefix, rest.split(":") if rest else []


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def _split_long_line(line: str, limit: int) -> list[str]:
    """A line too long for one message: cut at spaces, or hard if there are none."""
    pieces: list[str] = []
    current = ""
    for word in line.split(" "):
        candidate = f"{current} {word}" if current else word
        if len(escape(candidate)) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(escape(word)) > limit:
            cut = limit
            while len(escape(word[:cut])) > limit:
                cut -= 1
            pieces.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        pieces.append(current)
    return pieces


def split_escaped(text: str, limit: int = CHUNK_LIMIT) -> list[str]:
    """Escape plain `text` for HTML and split it into messages on line breaks, each <= limit."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for raw in text.split("\n"):
        for line in [raw] if len(escape(raw)) <= limit else _split_long_line(raw, limit):
            escaped = escape(line)
            extra = len(escaped) + (1 if current else 0)
            if current and size + extra > limit:
                chunks.append("\n".join(current))
                current, size = [], 0
                extra = len(escaped)
            current.append(escaped)
            size += extra
    if current:
        chunks.append("\n".join(current))
    chunks = [chunk.strip("\n") for chunk in chunks]
    return [chunk for chunk in chunks if chunk.strip()] or [escape(text.strip()) or "…"]


def role_keyboard(ui: UiTexts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(getattr(ui.role_buttons, role), callback_data=f"{ROLE}:{role}")]
            for role in AUDIENCES
        ]
    )


def topic_menu(ui: UiTexts) -> ReplyKeyboardMarkup:
    """The persistent topic menu (private chats): the hotline command, then topics two a row."""
    labels = [topic.label for topic in ui.menu_topics]
    rows: list[list[KeyboardButton]] = [[KeyboardButton(HOTLINE_COMMAND)]]
    for i in range(0, len(labels), 2):
        rows.append([KeyboardButton(label) for label in labels[i : i + 2]])
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


def topic_buttons(ui: UiTexts) -> InlineKeyboardMarkup:
    rows = []
    for topic in ui.menu_topics:
        data = callback(TOPIC, topic.tag)
        if data:
            rows.append([InlineKeyboardButton(topic.label, callback_data=data)])
    return InlineKeyboardMarkup(rows)


def entry_rows(suggestions: Iterable[Suggestion]) -> list[list[InlineKeyboardButton]]:
    """One button a row, showing the title; the entry id travels only in callback data."""
    rows = []
    for suggestion in suggestions:
        data = callback(ENTRY, suggestion.entry_id)
        if data:
            rows.append([InlineKeyboardButton(suggestion.title, callback_data=data)])
    return rows


def feedback_row(ui: UiTexts, exchange_ref: str | None) -> list[InlineKeyboardButton]:
    if not exchange_ref:
        return []
    helpful = callback(FEEDBACK, "1", exchange_ref)
    not_helpful = callback(FEEDBACK, "0", exchange_ref)
    if not helpful or not not_helpful:
        return []
    return [
        InlineKeyboardButton(ui.feedback_helpful, callback_data=helpful),
        InlineKeyboardButton(ui.feedback_not_helpful, callback_data=not_helpful),
    ]


def help_rows(ui: UiTexts) -> list[list[InlineKeyboardButton]]:
    """Under urgent replies and the hotline card: prepare the call to 111, or reach a person."""
    return [
        [InlineKeyboardButton(ui.report.start_button, callback_data=f"{REPORT}:start")],
        [InlineKeyboardButton(ui.counsel.start_button, callback_data=f"{COUNSEL}:open")],
    ]


def check_rows(reply: Reply) -> list[list[InlineKeyboardButton]]:
    """The check tier's button, first under the answer; none when its data would not fit."""
    button = reply.check_button
    data = callback(CHECK, button.category) if button is not None else None
    if button is None or data is None:
        return []
    return [[InlineKeyboardButton(button.label, callback_data=data)]]


def _joined(reply: Reply) -> tuple[str, ...]:
    """A non-urgent reply's parts as one text when that fits one message, else as they are."""
    if reply.urgent or len(reply.parts) < 2:
        return reply.parts
    joined = "\n\n".join(part.strip("\n") for part in reply.parts)
    return (joined,) if len(escape(joined)) <= CHUNK_LIMIT else reply.parts


def reply_messages(
    ui: UiTexts, reply: Reply, exchange_ref: str | None
) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """The messages for one `Reply`, as (HTML text, keyboard) in sending order.

    An urgent reply's first part goes out alone and without buttons, so nothing delays or
    clutters the hotline. Any other reply is one message when it fits (the check line under the
    answer): one notification for the user, and one send of Telegram's ~30 a second, not two.
    Suggestions, related entries and feedback go under the last message.
    """
    messages: list[tuple[str, InlineKeyboardMarkup | None]] = []
    for part in _joined(reply):
        messages.extend((chunk, None) for chunk in split_escaped(part))
    rows = check_rows(reply) + entry_rows(reply.suggestions)
    related = entry_rows(reply.related)
    if related:
        rows += related
        last_text, _ = messages[-1]
        label = f"\n\n<i>{escape(ui.related_label)}</i>"
        if len(last_text) + len(label) <= CHUNK_LIMIT:
            messages[-1] = (last_text + label, None)
    if reply.urgent:
        rows += help_rows(ui)
    if reply.band == "answer":
        feedback = feedback_row(ui, exchange_ref)
        if feedback:
            rows.append(feedback)
    if rows:
        last_text, _ = messages[-1]
        messages[-1] = (last_text, InlineKeyboardMarkup(rows))
    return messages


def without_feedback(
    markup: InlineKeyboardMarkup | None, prefix: str = FEEDBACK
) -> InlineKeyboardMarkup | None:
    """The same keyboard minus the rows of `prefix` (the feedback row once the user has voted,
    the check button once pressed)."""
    if markup is None:
        return None
    rows: Sequence[Sequence[InlineKeyboardButton]] = markup.inline_keyboard
    kept = [
        list(row)
        for row in rows
        if not any(
            parse_callback(button.callback_data if isinstance(button.callback_data, str) else "")[0]
            == prefix
            for button in row
        )
    ]
    return InlineKeyboardMarkup(kept) if kept else None
