"""Webhook mode as a real process: no secret, no start; bad JSON 400; 200 only after the reply;
a re-delivered update is not answered twice."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import aiohttp
from conftest import ROOT, write_config
from fakebotapi import BOT_START_TIMEOUT, FakeBotAPI
from test_telegram_run import _env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _webhook_config(tmp_path: Path, api: FakeBotAPI, port: int, secret: str | None) -> Path:
    hook: dict[str, object] = {"listen": "127.0.0.1", "port": port,
                               "url": f"http://127.0.0.1:{port}/tg-hook"}
    if secret:
        hook["secret_token"] = secret
    return write_config(tmp_path, api, telegram={"mode": "webhook", "base_url": api.base_url,
                                                 "webhook": hook})


async def _spawn(config: Path, api: FakeBotAPI) -> asyncio.subprocess.Process:
    env = _env(api, base_url=False)
    env.pop("TELEGRAM_WEBHOOK_SECRET", None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def test_webhook_without_a_secret_refuses_to_start(
    fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    port = _free_port()
    proc = await _spawn(_webhook_config(tmp_path, fake_api, port, None), fake_api)
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode != 0
    assert "TELEGRAM_WEBHOOK_SECRET" in err.decode()
    assert "Traceback" not in err.decode()
    assert fake_api.webhook is None  # never registered with Telegram


async def test_webhook_bad_json_400_reply_before_200_and_no_double_answer(
    fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg-hook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
    proc = await _spawn(_webhook_config(tmp_path, fake_api, port, "s3cret"), fake_api)
    update = {"update_id": 7, "message": {
        "message_id": 1, "date": 0, "text": "/111",
        "chat": {"id": 78, "type": "private", "first_name": "Lan"},
        "from": {"id": 78, "is_bot": False, "first_name": "Lan"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 4}]}}
    try:
        await fake_api.wait_for(lambda: fake_api.webhook is not None, timeout=BOT_START_TIMEOUT)
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=b"{not json", headers=headers) as response:
                assert response.status == 400
            async with http.post(url, json=update, headers={}) as response:
                assert response.status == 403
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 200
                # the reply was already sent when Telegram got its 200
                assert len(fake_api.sent_to(78)) == 1
            async with http.post(url, json=update, headers=headers) as response:
                assert response.status == 200  # Telegram's retry is acknowledged...
        await fake_api.settle(0.5)
        assert len(fake_api.sent_to(78)) == 1  # ...but not answered twice
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 15)
