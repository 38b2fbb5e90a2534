"""What a stop or a crash must not undo: staff alerts cut off are sent after the restart (once),
an accepted /xoa is carried out after the restart (or the user is told it is not done yet), and
a feedback button still counts only for the user it was sent to after the restart."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from pathlib import Path
from typing import Any

from conftest import ALERT_CHAT_ID, HASH_SECRET, RunningBot
from fakebotapi import BOT_START_TIMEOUT, FakeBotAPI
from faultdrill import FIRST_CHAT, alert_drill, drill_config, spawn, urgent_text
from faultdrill import HASH_SECRET as DRILL_SECRET
from test_telegram_conversation import CHAT, _answered_question

from bot.core.responder import Responder
from bot.privacy import user_key
from bot.telegram import render as tui
from bot.telegram.outbox import AlertOutbox


async def test_alerts_cut_off_by_kill_9_reach_staff_once_after_restart(
    fake_api: FakeBotAPI, tmp_path: Path, shared_responder: Responder
) -> None:
    outcome = await alert_drill(fake_api, tmp_path, urgent_text(shared_responder), chats=6,
                                timeout=120)
    assert outcome.pending_at_stop == 6  # the kill really came before any alert went out
    delivered = (outcome.delivered_once, outcome.duplicated, outcome.missing)
    assert delivered == (6, 0, 0), outcome.restart_log


async def test_alerts_cut_off_by_sigterm_reach_staff_once_after_restart(
    fake_api: FakeBotAPI, tmp_path: Path, shared_responder: Responder
) -> None:
    outcome = await alert_drill(fake_api, tmp_path, urgent_text(shared_responder), chats=4,
                                how="term", timeout=120)
    assert outcome.stop_seconds < 10  # the staff chat hung; the shutdown stayed bounded
    assert outcome.pending_at_stop == 4
    delivered = (outcome.delivered_once, outcome.duplicated, outcome.missing)
    assert delivered == (4, 0, 0), outcome.restart_log


async def test_an_alert_telegram_refused_is_sent_at_the_next_look_and_only_once(
    start_bot: Any,
) -> None:
    bot: RunningBot = await start_bot(alerts={"chat_id": ALERT_CHAT_ID})
    api = bot.api
    api.failing_chats[ALERT_CHAT_ID] = (400, "Bad Request: chat not found")  # staff chat broken
    text = urgent_text(bot.state.responder)
    api.message(CHAT, text)
    await api.wait_sent(CHAT, 1)
    await api.wait_for(lambda: any(c.method == "sendMessage"
                                   and int(c.params["chat_id"]) == ALERT_CHAT_ID
                                   for c in api.calls))
    await api.settle()
    assert api.sent_to(ALERT_CHAT_ID) == []
    del api.failing_chats[ALERT_CHAT_ID]  # staff fixed the chat
    (job,) = bot.app.job_queue.get_jobs_by_name("resend-alerts")
    await job.run(bot.app)  # the periodic look at the outbox
    await api.wait_sent(ALERT_CHAT_ID, 1)
    await job.run(bot.app)
    await api.settle(0.5)
    assert len(api.sent_to(ALERT_CHAT_ID)) == 1


async def test_the_outbox_sends_urgent_alerts_first_then_oldest_first(tmp_path: Path) -> None:
    outbox = AlertOutbox(tmp_path / "log.sqlite3")
    try:
        routine = await outbox.add("case-a", "thường, cũ", urgent=False)
        old = await outbox.add("case-b", "khẩn, cũ")
        new = await outbox.add("case-c", "khẩn, mới")
        assert await outbox.add("case-b", "khẩn, cũ (sửa)") == AlertOutbox.DUPLICATE
        assert [i for i, _ in await outbox.pending()] == [old, new, routine]
        assert routine is not None and await outbox.mark_sent([routine])
        assert [text for _, text in await outbox.pending()] == ["khẩn, cũ", "khẩn, mới"]
    finally:
        await outbox.close()


def _plain(ui_text: str) -> str:
    return tui.escape(ui_text.strip())


def _user_rows(database: Path, secret: str, user_id: int) -> int:
    con = sqlite3.connect(database)
    try:
        key = user_key(secret.encode(), user_id)
        found = con.execute("SELECT COUNT(*) FROM exchanges WHERE user_key = ?", (key,))
        return int(found.fetchone()[0])
    finally:
        con.close()


async def test_xoa_on_an_unwritable_database_tells_the_user_it_is_not_done(
    bot: RunningBot,
) -> None:
    api, ui = bot.api, bot.ui
    database = Path(bot.settings.storage.database)
    api.message(CHAT, "xin chào")
    await api.wait_sent(CHAT, 1)
    await bot.flush_log()
    locker = sqlite3.connect(database, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # another program holds the database
    try:
        api.message(CHAT, "/xoa")
        sent = await api.wait_sent(CHAT, 2, timeout=20)
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert sent[-1].text == _plain(ui.xoa_failed)
    assert _plain(ui.xoa_done) not in [s.text for s in sent]
    api.message(CHAT, "/xoa")  # as the answer asks: try again later
    sent = await api.wait_sent(CHAT, 3, timeout=20)
    assert sent[-1].text == _plain(ui.xoa_done)
    assert _user_rows(database, HASH_SECRET, CHAT) == 0


async def _replies_then_rows(api: FakeBotAPI, database: Path, chat: int, count: int) -> None:
    await api.wait_sent(chat, count, timeout=60)
    for _ in range(300):
        if _user_rows(database, DRILL_SECRET, chat) >= count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the exchanges never reached the log database")


async def test_xoa_killed_between_accept_and_delete_is_carried_out_after_restart(
    fake_api: FakeBotAPI, tmp_path: Path, shared_responder: Responder
) -> None:
    api, ui = fake_api, shared_responder.ui
    user, other = FIRST_CHAT, FIRST_CHAT + 1
    database = tmp_path / "log.sqlite3"
    proc = await spawn(drill_config(tmp_path, api), api)
    try:
        await api.wait_for(lambda: api.count("getUpdates") > 0, timeout=BOT_START_TIMEOUT)
        api.message(user, "xin chào")
        api.message(other, "xin chào")
        api.message(user, "cảm ơn")
        await _replies_then_rows(api, database, user, 2)
        await _replies_then_rows(api, database, other, 1)
        with sqlite3.connect(database) as con:  # the deletion stalls after /xoa is accepted
            con.execute("CREATE TRIGGER stall BEFORE DELETE ON exchanges"
                        " BEGIN SELECT RAISE(ABORT, 'disk stalled'); END")
        forget = api.message(user, "/xoa")["update_id"]
        sent = await api.wait_sent(user, 3, timeout=30)
        assert sent[-1].text == _plain(ui.xoa_done)  # accepted: recorded before this answer
        assert _user_rows(database, DRILL_SECRET, user) == 2  # but not carried out yet
        # Killed once the update is handled (so Telegram would not send it again), while the
        # deletion itself is still stalled: only that is left for the restart.
        await api.wait_for(lambda: _handled(database, forget), timeout=30)
    finally:
        proc.kill()
        await proc.wait()
    with sqlite3.connect(database) as con:
        con.execute("DROP TRIGGER stall")
    proc = await spawn(drill_config(tmp_path, api), api)
    try:
        for _ in range(600):
            if _user_rows(database, DRILL_SECRET, user) == 0:
                break
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.communicate()
    assert _user_rows(database, DRILL_SECRET, user) == 0
    assert _user_rows(database, DRILL_SECRET, other) == 1  # nobody else's rows
    with sqlite3.connect(database) as con:
        assert con.execute("SELECT COUNT(*) FROM pending_forgets").fetchone()[0] == 0
    assert len(api.sent_to(user)) == 3  # nothing answered twice


def _handled(database: Path, update_id: int) -> bool:
    """The bot recorded `update_id` as handled (bot.telegram.handled's database)."""
    from bot.telegram.handled import delivery_database

    path = delivery_database(database)
    if not path.exists():
        return False
    with sqlite3.connect(path) as con:
        found = con.execute("SELECT 1 FROM handled_updates WHERE update_id = ?",
                            (update_id,)).fetchone()
    return found is not None


async def _stop(bot: RunningBot) -> None:
    """Stop a bot as `python -m bot run` does at SIGTERM: polling, application, log."""
    from bot.telegram.app import on_shutdown

    await bot.app.updater.stop()
    await bot.app.stop()
    await on_shutdown(bot.app)
    await bot.app.shutdown()


async def test_a_forged_feedback_after_a_restart_changes_nothing(start_bot: Any) -> None:
    first: RunningBot = await start_bot()
    api, responder = first.api, first.state.responder
    question, _ = _answered_question(responder, with_related=True)
    api.message(CHAT, question)
    answer = (await api.wait_sent(CHAT, 1))[-1]
    helpful = answer.buttons()[-2]["callback_data"]
    ref = helpful.split(":")[-1]
    await _stop(first)

    bot: RunningBot = await start_bot()  # same database; nothing of the first run in memory
    api.press(answer, helpful, user_id=CHAT + 999)  # a forger replays the button
    await api.wait_for(lambda: len(api.callback_answers) == 1)
    assert api.callback_answers[0].get("text") == bot.ui.feedback_thanks  # polite, says nothing
    await bot.flush_log()
    (row,) = bot.db_rows("ref = ?", (ref,))
    assert row["helpful"] is None
    api.press(answer, helpful)  # the user it was sent to, after the restart too
    await api.wait_for(lambda: len(api.callback_answers) == 2)
    await bot.flush_log()
    (row,) = bot.db_rows("ref = ?", (ref,))
    assert row["helpful"] == 1
