"""No door left open: an edited urgent message alerts staff once; a forged feedback button
changes nobody's row."""

from __future__ import annotations

from conftest import ALERT_CHAT_ID, RunningBot
from test_telegram_conversation import CHAT, _answered_question, _urgent_text


async def test_edited_urgent_message_is_answered_again_but_alerted_once(start_bot) -> None:  # type: ignore[no-untyped-def]
    bot: RunningBot = await start_bot(alerts={"chat_id": ALERT_CHAT_ID})
    api, responder = bot.api, bot.state.responder
    text = _urgent_text(responder)
    parts = len(responder.respond(text).parts)
    original = api.message(CHAT, text)
    await api.wait_sent(CHAT, parts)
    await api.wait_sent(ALERT_CHAT_ID, 1)
    api.edit(original, text + " nữa")
    await api.wait_sent(CHAT, 2 * parts)  # the edit is still answered with 111 first
    await api.settle(0.5)
    assert len(api.sent_to(ALERT_CHAT_ID)) == 1


async def test_feedback_pressed_by_another_user_is_not_counted(bot: RunningBot) -> None:
    api, responder = bot.api, bot.state.responder
    question, _ = _answered_question(responder, with_related=True)
    api.message(CHAT, question)
    answer = (await api.wait_sent(CHAT, 1))[-1]
    helpful = answer.buttons()[-2]["callback_data"]
    # A forger replays the callback data (with the victim's ref) from their own account.
    api.press(answer, helpful, user_id=CHAT + 999)
    await api.wait_for(lambda: len(api.callback_answers) == 1)
    await bot.flush_log()
    (row,) = bot.db_rows()
    assert row["helpful"] is None
    api.press(answer, helpful)  # the user it was sent to
    await api.wait_for(lambda: len(api.callback_answers) == 2)
    await bot.flush_log()
    (row,) = bot.db_rows()
    assert row["helpful"] == 1
