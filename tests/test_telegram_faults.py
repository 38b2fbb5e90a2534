"""The bot under bursts, flood limits, dropped connections, blocked users and broken updates."""

from __future__ import annotations

import asyncio
import logging

import pytest
from conftest import RunningBot

from bot.core.responder import Responder


def _distinct_replies(responder: Responder) -> list[tuple[str, str]]:
    """Messages whose first reply part differs from each other: (text, first part)."""
    seen: dict[str, str] = {}
    for entry in responder.kb.entries.values():
        for question in entry.questions[:1]:
            reply = responder.respond(question)
            if not reply.urgent and len(reply.parts) == 1 and reply.parts[0] not in seen.values():
                seen[question] = reply.parts[0]
    return list(seen.items())


def _first_line(html_text: str) -> str:
    return html_text.split("\n", 1)[0]


def _plain_first_line(text: str) -> str:
    return text.split("\n", 1)[0].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


async def test_chats_run_concurrently_and_each_chat_keeps_its_order(bot: RunningBot) -> None:
    api = bot.api
    api.send_delay, api.send_jitter = 0.01, 0.05  # replies finish in random order
    samples = _distinct_replies(bot.state.responder)[:6]
    assert len(samples) >= 4
    chats = range(3001, 3021)
    for round_ in range(len(samples)):
        for index, chat in enumerate(chats):
            text, _ = samples[(round_ + index) % len(samples)]
            api.message(chat, text)
    for chat in chats:
        await api.wait_sent(chat, len(samples), timeout=30)
    for index, chat in enumerate(chats):
        got = [_first_line(s.text) for s in api.sent_to(chat)]
        want = [
            _plain_first_line(samples[(round_ + index) % len(samples)][1])
            for round_ in range(len(samples))
        ]
        assert got == want, chat
    assert api.max_in_flight > 1  # different chats were served at the same time
    assert api.max_in_flight_per_chat == 1  # but never two replies of one chat at once


async def test_flood_control_storm_is_waited_out_and_every_reply_arrives(bot: RunningBot) -> None:
    api = bot.api
    api.fail_with_429(6, retry_after=1)
    chats = range(4001, 4011)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for chat in chats:
        api.message(chat, "/111")
    for chat in chats:
        await api.wait_sent(chat, 1, timeout=30)
    assert loop.time() - started >= 1.0  # the bot did wait for retry_after
    assert api.count("sendMessage") >= 16  # 6 refused + 10 delivered
    assert all(len(api.sent_to(chat)) == 1 for chat in chats)  # no duplicates


async def test_dropped_connections_are_retried_and_nothing_is_lost(bot: RunningBot) -> None:
    api = bot.api
    api.drop_connections(3, method="sendMessage")
    api.drop_connections(2, method="getUpdates")
    for chat in range(5001, 5006):
        api.message(chat, "/111")
    for chat in range(5001, 5006):
        await api.wait_sent(chat, 1, timeout=30)
    await api.settle()
    assert all(len(api.sent_to(chat)) == 1 for chat in range(5001, 5006))


async def test_blocked_user_is_not_retried_and_logged_once(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    api = bot.api
    blocked, other = 6001, 6002
    api.blocked_chats.add(blocked)
    caplog.set_level(logging.INFO)
    for _ in range(5):
        api.message(blocked, "/111")
    api.message(other, "/111")
    await api.wait_sent(other, 1)
    await api.wait_for(
        lambda: sum(1 for c in api.calls if c.method == "sendMessage"
                    and int(c.params["chat_id"]) == blocked) >= 5
    )
    await api.settle()
    attempts = [c for c in api.calls
                if c.method == "sendMessage" and int(c.params["chat_id"]) == blocked]
    assert len(attempts) == 5  # one attempt per update, no retries
    blocked_logs = [r for r in caplog.records if "blocked" in r.getMessage()]
    assert len(blocked_logs) == 1
    assert str(blocked) not in caplog.text  # no raw Telegram id in the log


async def test_a_failing_update_does_not_stop_the_others(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    api = bot.api
    broken, fine = 7001, 7002
    api.failing_chats[broken] = (400, "Bad Request: chat not found")
    api.message(broken, "/111")
    api.message(fine, "/111")
    api.message(broken, "/help")
    api.message(fine, "/help")
    await api.wait_sent(fine, 2)
    del api.failing_chats[broken]
    api.message(broken, "/111")
    await api.wait_sent(broken, 1)
    assert "Chat not found" in caplog.text  # logged through the error handler, not raised


async def test_the_token_never_reaches_a_log(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    api = bot.api
    caplog.set_level(logging.DEBUG)
    api.drop_connections(1, method="sendMessage")
    api.fail_with_429(1, retry_after=1)
    api.message(8001, "/start")
    api.message(8002, "xin chào")
    await api.wait_sent(8001, 2, timeout=20)
    await api.wait_sent(8002, 1, timeout=20)
    logging.getLogger("bot.test").error("request failed: %s", f"{api.base_url}{api.token}/getMe")
    assert caplog.records  # the log was not empty: there was something to leak
    assert api.token not in caplog.text
    assert api.token.split(":")[1] not in caplog.text
