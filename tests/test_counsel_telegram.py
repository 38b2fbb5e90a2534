"""The anonymous line to staff (/gapnguoi) end to end: a real Application, the fake Bot API with
forum topics, a user's private chat and the staff supergroup."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

from conftest import ADMIN_ID, KNOWLEDGE, RunningBot, StartBot
from fakebotapi import FakeBotAPI, Sent

from bot.core.counsel import VIETNAM
from bot.core.reportlabels import load_report_labels
from bot.report import build_report, render_text
from bot.telegram import render as tui

USER = 3001  # the user's private chat (and Telegram id)
STAFF = -1001234567890  # the staff forum supergroup
COUNSELLOR = 555  # a staff member's Telegram id
ALWAYS = {"chat_id": STAFF, "hours": "00:00-24:00", "first_reply_minutes": 30}


def _plain(sent: Sent) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", sent.text))


async def _open_case(bot: RunningBot, chat: int = USER) -> int:
    """/gapnguoi from `chat`; returns the thread id of the case's topic."""
    api = bot.api
    before = len(api.topics)
    seen = len(api.sent_to(chat))
    api.message(chat, "/gapnguoi")
    await api.wait_sent(chat, seen + 1)
    assert len(api.topics) == before + 1, "no topic was opened"
    thread = max(api.topics)
    assert _plain(api.sent_to(chat)[-1]) == bot.ui.counsel.opening.strip()
    await api.wait_for(lambda: len(api.sent_to_topic(STAFF, thread)) >= 1)
    return thread


def _staff_says(api: FakeBotAPI, thread: int, text: str) -> dict[str, Any]:
    return api.message(STAFF, text, user_id=COUNSELLOR, chat_type="supergroup", thread_id=thread)


async def test_case_relays_twenty_messages_each_way_in_order_without_identity(
    start_bot: StartBot,
) -> None:
    bot = await start_bot(counsellors=ALWAYS)
    api, texts = bot.api, bot.ui.counsel
    thread = await _open_case(bot)
    topic = api.topics[thread]
    assert re.fullmatch(r"C-[A-Z2-9]{4} · " + re.escape(texts.category_unknown), topic["name"])
    for i in range(20):
        api.message(USER, f"em muốn kể chuyện số {i}")
    await api.wait_for(lambda: len(api.sent_to_topic(STAFF, thread)) >= 21)
    relayed = [_plain(s) for s in api.sent_to_topic(STAFF, thread)[1:]]
    assert relayed == [f"{texts.staff_user_prefix} em muốn kể chuyện số {i}" for i in range(20)]
    seen = len(api.sent_to(USER))
    for i in range(20):
        _staff_says(api, thread, f"Cô nghe đây, tin {i}")
    await api.wait_sent(USER, seen + 20)
    answers = [_plain(s) for s in api.sent_to(USER)[seen:]]
    assert answers == [f"{texts.staff_prefix}\nCô nghe đây, tin {i}" for i in range(20)]
    # Nothing staff receive names the user: no id, no first name, no username.
    staff_side = [s.text for s in api.sent if s.chat_id == STAFF]
    staff_side += [t["name"] for t in api.topics.values()]
    staff_side += [str(c.params) for c in api.calls if c.method == "createForumTopic"]
    for text in staff_side:
        assert str(USER) not in text and "lan_hs" not in text
        assert not re.search(r"\bLan\b", text), text
    # Nor does anything the user receives name the counsellor.
    assert all(str(COUNSELLOR) not in s.text for s in api.sent_to(USER))


async def test_user_ends_the_case_and_staff_are_told(start_bot: StartBot) -> None:
    bot = await start_bot(counsellors=ALWAYS)
    api, texts = bot.api, bot.ui.counsel
    thread = await _open_case(bot)
    seen = len(api.sent_to(USER))
    api.message(USER, "/ketthuc")
    await api.wait_sent(USER, seen + 1)
    assert _plain(api.sent_to(USER)[-1]) == texts.ended_by_user
    await api.wait_for(lambda: api.topics[thread]["closed"])
    notes = [_plain(s) for s in api.sent_to_topic(STAFF, thread)]
    assert any(texts.staff_user_left.split("{ref}")[0] in note for note in notes)
    # The user is back with the normal bot: the next message is not relayed.
    relayed_before = len(api.sent_to_topic(STAFF, thread))
    api.message(USER, "111 là gì")
    await api.wait_sent(USER, seen + 2)
    await api.settle(0.2)
    assert len(api.sent_to_topic(STAFF, thread)) == relayed_before
    # Staff writing in the closed case's topic get a short note, and nothing reaches the user.
    user_count = len(api.sent_to(USER))
    _staff_says(api, thread, "còn đó không?")
    await api.wait_for(lambda: _plain(api.sent_to_topic(STAFF, thread)[-1])
                       == texts.staff_not_a_case)
    assert len(api.sent_to(USER)) == user_count


async def test_staff_end_the_case_and_the_user_is_told(start_bot: StartBot) -> None:
    bot = await start_bot(counsellors=ALWAYS)
    api, texts = bot.api, bot.ui.counsel
    thread = await _open_case(bot)
    seen = len(api.sent_to(USER))
    _staff_says(api, thread, "/ketthuc")
    await api.wait_sent(USER, seen + 1)
    assert _plain(api.sent_to(USER)[-1]) == texts.ended_by_staff
    await api.wait_for(lambda: api.topics[thread]["closed"])
    assert not bot.state.cases.by_user and not bot.state.cases.by_thread


def _hours_excluding_now() -> str:
    now = dt.datetime.now(VIETNAM)
    start, end = now + dt.timedelta(hours=1), now + dt.timedelta(hours=2)
    return f"{start:%H:%M}-{end:%H:%M}"


async def test_outside_hours_or_unconfigured_the_user_gets_111_and_zalo(
    start_bot: StartBot,
) -> None:
    hours = _hours_excluding_now()
    bot = await start_bot(counsellors={"chat_id": STAFF, "hours": hours})
    api, texts = bot.api, bot.ui.counsel
    api.message(USER, "/gapnguoi")
    (reply,) = await api.wait_sent(USER, 1)
    assert _plain(reply) == texts.unavailable.replace("{hours}", hours).strip()
    assert "111" in reply.text and "Zalo" in reply.text and hours in reply.text
    assert api.count("createForumTopic") == 0
    # Without a staff group configured, the button under the hotline card says so too.
    bot.state.cases.settings = bot.state.cases.settings.model_copy(update={"chat_id": None})
    api.message(USER, "/111")
    card = (await api.wait_sent(USER, 2))[-1]
    api.press(card, f"{tui.COUNSEL}:open")
    unconfigured = (await api.wait_sent(USER, 3))[-1]
    assert _plain(unconfigured) == texts.unconfigured.strip()
    assert "Zalo" in unconfigured.text and api.count("createForumTopic") == 0


async def test_no_first_reply_in_time_tells_the_user_to_call_111(start_bot: StartBot) -> None:
    bot = await start_bot(counsellors={**ALWAYS, "first_reply_minutes": 0.01})  # 0.6 s
    api, texts = bot.api, bot.ui.counsel
    thread = await _open_case(bot)
    seen = len(api.sent_to(USER))
    await api.wait_sent(USER, seen + 1, timeout=5)
    nudge = _plain(api.sent_to(USER)[-1])
    assert nudge == texts.no_reply_yet.strip() and "111" in nudge
    # The case stays open: the user's next message still reaches staff.
    api.message(USER, "em vẫn đợi")
    await api.wait_for(lambda: _plain(api.sent_to_topic(STAFF, thread)[-1]).endswith("em vẫn đợi"))
    # A case answered in time gets no nudge.
    other = USER + 1
    thread2 = await _open_case(bot, other)
    _staff_says(api, thread2, "Chào em")
    await api.wait_sent(other, 2)
    await asyncio.sleep(1.0)
    assert [_plain(s) for s in api.sent_to(other)][-1].endswith("Chào em")


async def test_urgent_message_in_a_case_gets_the_urgent_card_and_marks_the_topic(
    start_bot: StartBot,
) -> None:
    bot = await start_bot(counsellors=ALWAYS)
    api, responder = bot.api, bot.state.responder
    texts = responder.ui.counsel
    thread = await _open_case(bot)
    seen = len(api.sent_to(USER))
    message = "bố em đang cầm dao đòi giết em"
    reply = responder.respond(message)
    assert reply.urgent
    api.message(USER, message)
    expected = [text for text, _ in tui.reply_messages(responder.ui, reply, None)]
    await api.wait_sent(USER, seen + len(expected))
    assert [s.text for s in api.sent_to(USER)[seen:]] == expected  # the urgent card, first
    await api.wait_for(lambda: api.topics[thread]["name"].startswith(texts.urgent_marker))
    notes = [_plain(s) for s in api.sent_to_topic(STAFF, thread)]
    assert f"{texts.staff_user_prefix} {message}" in notes
    assert any(note.startswith(texts.urgent_marker) for note in notes)
    # Staff can send the urgent card at any time with /khancap.
    seen = len(api.sent_to(USER))
    _staff_says(api, thread, "/khancap")
    await api.wait_sent(USER, seen + 1)
    assert "111" in api.sent_to(USER)[seen].text
    await api.wait_for(lambda: _plain(api.sent_to_topic(STAFF, thread)[-1])
                       == texts.staff_card_sent)


async def test_stickers_photos_blocked_bot_deleted_topic_and_xoa(start_bot: StartBot) -> None:
    bot = await start_bot(counsellors=ALWAYS)
    api, texts = bot.api, bot.ui.counsel
    thread = await _open_case(bot)
    api.sticker(USER)
    api.photo(USER)
    await api.wait_for(lambda: len(api.sent_to_topic(STAFF, thread)) >= 3)
    relayed = [_plain(s) for s in api.sent_to_topic(STAFF, thread)[1:3]]
    assert relayed == [f"{texts.staff_user_prefix} {texts.sticker}",
                       f"{texts.staff_user_prefix} {texts.photo}"]
    # The user blocked the bot: the next staff message ends the case cleanly.
    api.blocked_chats.add(USER)
    _staff_says(api, thread, "em ơi?")
    await api.wait_for(lambda: api.topics[thread]["closed"])
    assert any(texts.staff_user_gone.split("{ref}")[0] in _plain(s)
               for s in api.sent_to_topic(STAFF, thread))
    assert not bot.state.cases.by_user
    api.blocked_chats.discard(USER)
    # Staff deleted the topic: the user's next message ends the case and the user is told.
    thread = await _open_case(bot)
    api.delete_topic(thread)
    seen = len(api.sent_to(USER))
    api.message(USER, "alo")
    await api.wait_sent(USER, seen + 1)
    assert _plain(api.sent_to(USER)[-1]) == texts.ended_topic_gone
    assert not bot.state.cases.by_user
    # /xoa closes an open case, then deletes the conversation as always.
    thread = await _open_case(bot)
    api.message(USER, "/xoa")
    await api.wait_for(lambda: api.topics[thread]["closed"])
    assert any(texts.staff_user_forgot.split("{ref}")[0] in _plain(s)
               for s in api.sent_to_topic(STAFF, thread))
    await api.wait_for(lambda: _plain(api.sent_to(USER)[-1]) == bot.ui.xoa_done)


async def test_relayed_text_never_reaches_the_database_only_counts(start_bot: StartBot) -> None:
    bot = await start_bot(counsellors=ALWAYS)
    api = bot.api
    user_words = "Ngựa vằn tím số 7391 ở nhà bà Tư"
    staff_words = "Cô Hạnh-Quỳnh sẽ gọi lại 4826"
    api.message(USER, "111 là gì")  # a normal message: logged as always (redacted)
    await api.wait_sent(USER, 1)
    thread = await _open_case(bot)
    for _ in range(3):
        api.message(USER, user_words)
        _staff_says(api, thread, staff_words)
    await api.wait_for(lambda: len(api.sent_to_topic(STAFF, thread)) >= 4)
    await api.wait_for(lambda: sum(staff_words in s.text for s in api.sent_to(USER)) >= 3)
    api.message(USER, "/ketthuc")
    await api.wait_for(lambda: api.topics[thread]["closed"])
    await bot.flush_log()
    assert len(bot.db_rows()) == 1  # the log works; the relayed messages are not in it
    database = Path(bot.settings.storage.database)
    stored = b"".join(
        (database.parent / (database.name + suffix)).read_bytes()
        for suffix in ("", "-wal", "-shm")
        if (database.parent / (database.name + suffix)).exists()
    )
    for words in (user_words, staff_words):
        for needle in (words, "7391", "4826", "Ngựa vằn", "Ngua van", "Hạnh"):
            assert needle.encode() not in stored, needle
    # The counts are there, for /stats (admins) and the report.
    api.message(ADMIN_ID, "/stats")
    (stats,) = await api.wait_sent(ADMIN_ID, 1)
    figures = await bot.state.cases.counts.today()
    assert figures["cases"] == 1 and figures["relayed"] == 6 and figures["first_replies"] == 1
    assert "1 ca, 6 tin" in _plain(stats)
    report = render_text(build_report(database), load_report_labels(KNOWLEDGE))
    assert "nhân viên tư vấn: 1 ca, 6 tin nhắn chuyển qua lại, 1 ca được trả lời" in report
    assert "7391" not in report and "4826" not in report
