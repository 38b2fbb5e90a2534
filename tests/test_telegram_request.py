"""The aiohttp transport under python-telegram-bot's `Bot`, against the fake Bot API server.

What a user would notice if it were wrong: Vietnamese text or buttons garbled on the way out,
a slow or dropped connection turning into a crash instead of a retry, a file upload failing.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import pytest
from fakebotapi import FakeBotAPI
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram_request import AiohttpRequest

TEXT = "Gọi <b>111</b> ngay — miễn phí, cả ngày lẫn đêm 🙏 & \"an toàn\""


async def _bot(api: FakeBotAPI, request: AiohttpRequest) -> Bot:
    bot = Bot(api.token, base_url=api.base_url, request=request,
              get_updates_request=AiohttpRequest(1))
    await bot.initialize()
    return bot


async def test_text_and_buttons_arrive_intact(fake_api: FakeBotAPI) -> None:
    bot = await _bot(fake_api, AiohttpRequest(4))
    try:
        button = InlineKeyboardButton("Có ích 👍", callback_data="f:1:abc")
        markup = InlineKeyboardMarkup([[button]])
        message = await bot.send_message(10_001, TEXT, parse_mode="HTML", reply_markup=markup)
    finally:
        await bot.shutdown()
    sent = fake_api.sent_to(10_001)
    assert [s.text for s in sent] == [TEXT]
    assert sent[0].parse_mode == "HTML"
    assert sent[0].buttons() == [{"text": "Có ích 👍", "callback_data": "f:1:abc"}]
    assert message.message_id == sent[0].message_id  # the answer is parsed back


async def test_many_requests_share_a_small_pool(fake_api: FakeBotAPI) -> None:
    """More sends at once than connections: they queue for a connection, none is lost."""
    fake_api.send_delay = 0.02
    bot = await _bot(fake_api, AiohttpRequest(2))
    try:
        await asyncio.gather(*(bot.send_message(20_000 + i, f"tin {i}") for i in range(30)))
    finally:
        await bot.shutdown()
    assert sorted(s.text for s in fake_api.sent) == sorted(f"tin {i}" for i in range(30))
    assert fake_api.max_in_flight <= 2


async def test_slow_answer_is_a_timeout(fake_api: FakeBotAPI) -> None:
    fake_api.send_delay = 1.0
    bot = await _bot(fake_api, AiohttpRequest(1, read_timeout=0.2))
    try:
        with pytest.raises(TimedOut):
            await bot.send_message(10_002, "chậm")
    finally:
        await bot.shutdown()


async def test_dropped_connection_is_a_network_error(fake_api: FakeBotAPI) -> None:
    fake_api.drop_connections(1, method="sendMessage")
    bot = await _bot(fake_api, AiohttpRequest(1))
    try:
        with pytest.raises(NetworkError):
            await bot.send_message(10_003, "mất kết nối")
        await bot.send_message(10_003, "lần sau")  # the pool recovers
    finally:
        await bot.shutdown()
    assert [s.text for s in fake_api.sent_to(10_003)] == ["lần sau"]


async def test_server_down_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(1, connect_timeout=1)
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{port}/bot123:abc/getMe")
    finally:
        await request.shutdown()


async def test_files_go_as_multipart(fake_api: FakeBotAPI) -> None:
    request = AiohttpRequest(1)
    await request.initialize()
    try:
        data = RequestData([
            RequestParameter.from_input("chat_id", 10_004),
            RequestParameter.from_input("document", InputFile(b"noi dung", filename="a.txt")),
        ])
        status, _ = await request.do_request(
            f"{fake_api.base_url}{fake_api.token}/sendDocument", "POST", data
        )
    finally:
        await request.shutdown()
    assert status == 200
    call = fake_api.calls[-1]
    assert call.method == "sendDocument"
    assert str(call.params["chat_id"]) == "10004"
    assert call.params["document"].filename == "a.txt"


async def test_not_initialized_is_refused() -> None:
    with pytest.raises(RuntimeError):
        await AiohttpRequest(1).do_request("http://127.0.0.1:9/x", "POST")


def test_certificates_are_verified() -> None:
    from bot.telegram_request import _tls_context

    context = _tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


async def test_proxy_from_the_environment_is_used(
    fake_api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where Telegram is reached only through a proxy, HTTP(S)_PROXY works as with httpx."""
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{fake_api.port}")
    bot = Bot(fake_api.token, base_url="http://api.telegram.invalid/bot",
              request=AiohttpRequest(1), get_updates_request=AiohttpRequest(1))
    await bot.initialize()  # getMe, through the "proxy" (the fake server)
    try:
        await bot.send_message(10_005, "qua proxy")
    finally:
        await bot.shutdown()
    assert [s.text for s in fake_api.sent_to(10_005)] == ["qua proxy"]
