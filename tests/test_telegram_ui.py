"""Presentation rules a Telegram user would notice: escaping, splitting, buttons, alerts."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from conftest import KNOWLEDGE

from bot.core.knowledge import load_knowledge
from bot.core.responder import Reply, Responder, Suggestion
from bot.telegram import render as tui
from bot.telegram.alerts import alert_text
from bot.telegram.logfilter import mask_tokens


@pytest.fixture(scope="module")
def responder() -> Responder:
    return Responder(load_knowledge(KNOWLEDGE))


def test_markup_characters_are_escaped_not_interpreted() -> None:
    chunks = tui.split_escaped("a <b>b</b> & c > d")
    assert chunks == ["a &lt;b&gt;b&lt;/b&gt; &amp; c &gt; d"]


def test_long_text_is_split_on_line_breaks_below_telegram_limit() -> None:
    lines = [f"dòng {i}: " + "chữ & <x> " * 30 for i in range(200)]
    text = "\n".join(lines)
    chunks = tui.split_escaped(text)
    assert len(chunks) > 1
    assert all(len(chunk) < tui.MESSAGE_LIMIT for chunk in chunks)
    # Nothing lost, nothing reordered, lines not cut in the middle.
    assert html.unescape("\n".join(chunks)) == text


def test_a_single_huge_line_is_still_split() -> None:
    text = "x" * 9000 + " " + "y&" * 3000
    chunks = tui.split_escaped(text)
    assert all(len(chunk) < tui.MESSAGE_LIMIT for chunk in chunks)
    assert html.unescape("".join(chunks)).replace(" ", "") == text.replace(" ", "")


def test_callback_data_over_64_bytes_is_refused() -> None:
    assert tui.callback("e", "a" * 62) == "e:" + "a" * 62
    assert tui.callback("e", "a" * 63) is None
    # Vietnamese letters take 2-3 bytes each: 21 letters can already be too many.
    assert len("ệ" * 21) == 21
    assert tui.callback("t", "ệ" * 21) is None


def test_reply_buttons_show_titles_and_keep_ids_in_callback_data(responder: Responder) -> None:
    entries = list(responder.kb.entries.values())[:3]
    reply = Reply(
        parts=("Trả lời",),
        entry_id=entries[0].id,
        band="answer",
        related=tuple(Suggestion(e.id, e.title) for e in entries[1:]),
    )
    messages = tui.reply_messages(responder.ui, reply, "abcdefghijkl")
    text, markup = messages[-1]
    assert markup is not None
    buttons = [b for row in markup.inline_keyboard for b in row]
    labels = [b.text for b in buttons]
    assert [e.title for e in entries[1:]] == labels[:2]
    assert labels[2:] == [responder.ui.feedback_helpful, responder.ui.feedback_not_helpful]
    assert all(len(b.callback_data.encode()) <= 64 for b in buttons)
    for entry in entries:
        assert entry.id not in text
        assert all(entry.id not in label for label in labels)


def test_urgent_first_part_goes_alone_without_buttons(responder: Responder) -> None:
    entry = next(iter(responder.kb.entries.values()))
    reply = Reply(
        parts=("Gọi 111 ngay", "Câu trả lời"),
        urgent=True,
        category=html.escape(
            responder.kb.danger.categories["physical_violence"].name, quote=False
        ),
        entry_id=entry.id,
        band="answer",
    )
    messages = tui.reply_messages(responder.ui, reply, "ref")
    assert messages[0] == ("Gọi 111 ngay", None)
    assert messages[1][1] is not None


def test_staff_alert_has_no_identity_and_redacts_the_message(responder: Responder) -> None:
    reply = Reply(parts=("x",), urgent=True, category="sexual_abuse", band="fallback")
    text = "Tên em là Nguyễn Thị Lan, số em 0912345678, chú Hùng làm hại em"
    alert = alert_text(
        responder, reply, text, "child", "Ab3_xYz9QwEr",
        now=dt.datetime(2024, 5, 1, 21, 5, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    )
    # Staff read the kind of harm in words (danger.yaml's name), not the category id.
    assert responder.kb.danger.categories["sexual_abuse"].name in alert
    assert "sexual_abuse" not in alert
    assert responder.ui.urgent_marker in alert
    assert "Ab3_xYz9QwEr" in alert
    assert "21:05" in alert
    assert responder.ui.role_buttons.child in alert
    for secret in ("0912345678", "Lan", "Hùng"):
        assert secret not in alert


def test_staff_alert_follows_the_ui_template_with_values_escaped(responder: Responder) -> None:
    ui = responder.ui
    reply = Reply(parts=("x",), urgent=True, category="physical_violence", band="fallback")
    alert = alert_text(
        responder, reply, "bố đánh em <3 & em sợ", None, "Ref_1",
        now=dt.datetime(2024, 5, 1, 21, 5, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    )
    assert alert == html.escape(ui.staff_alert, quote=False).format(
        marker=f"<b>{html.escape(ui.urgent_marker, quote=False)}</b>",
        category=html.escape(
            responder.kb.danger.categories["physical_violence"].name, quote=False
        ),
        message="bố đánh em &lt;3 &amp; em sợ",
        audience=html.escape(ui.staff_audience_unknown, quote=False),
        time="21:05 01/05/2024",
        ref="Ref_1",
    )


def test_staff_alert_stays_under_telegram_limit_for_a_long_message(responder: Responder) -> None:
    reply = Reply(parts=("x",), urgent=True, category="physical_violence", band="fallback")
    alert = alert_text(responder, reply, "<&>" * 3000, "child", "r")
    assert len(alert) <= tui.MESSAGE_LIMIT
    assert "&lt;&amp;&gt;" in alert


def test_tokens_are_masked_in_any_text() -> None:
    token = "123456789:AAF-abcdefghijklmnopqrstuvwxyz_012345"
    assert token not in mask_tokens(f"POST https://api.telegram.org/bot{token}/getMe")
