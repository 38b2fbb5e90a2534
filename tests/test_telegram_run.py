"""`python -m bot run` as a real process: polling, webhook, SIGTERM, token hygiene."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import socket
import sqlite3
import sys
import time
from pathlib import Path

import aiohttp
from conftest import HASH_SECRET, KNOWLEDGE, ROOT, RunningBot, write_config
from fakebotapi import BOT_START_TIMEOUT, FakeBotAPI

from bot.core.knowledge import load_knowledge
from bot.core.responder import Responder


def _env(api: FakeBotAPI, *, base_url: bool = True) -> dict[str, str]:
    env = dict(os.environ)
    env.update(TELEGRAM_BOT_TOKEN=api.token, BOT_HASH_SECRET=HASH_SECRET, PYTHONUNBUFFERED="1")
    if base_url:
        env["TELEGRAM_BASE_URL"] = api.base_url
    return env


async def _spawn(config: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def _stop(proc: asyncio.subprocess.Process, timeout: float) -> tuple[float, str]:
    """SIGTERM, then the seconds it took to exit and everything it printed."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(f"no exit {timeout}s after SIGTERM:\n{err.decode()[-3000:]}") from None
    return loop.time() - started, (out + err).decode("utf-8", "replace")


def _questions(count: int) -> list[str]:
    responder = Responder(load_knowledge(KNOWLEDGE))
    questions = [
        q for entry in responder.kb.entries.values() for q in entry.questions
        if not responder.respond(q).urgent
    ]
    return questions[:count]


async def test_sigterm_stops_within_seconds_flushing_the_log_and_never_printing_the_token(
    fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    config = write_config(tmp_path, fake_api, telegram={"base_url": None})
    proc = await _spawn(config, _env(fake_api))  # base URL from TELEGRAM_BASE_URL
    try:
        await fake_api.wait_for(lambda: fake_api.count("getUpdates") > 0, timeout=BOT_START_TIMEOUT)
        questions = _questions(30)
        for index, question in enumerate(questions):
            fake_api.message(9000 + index % 6, question)
        await fake_api.wait_for(
            lambda: len({s.chat_id for s in fake_api.sent}) == 6
            and sum(1 for s in fake_api.sent if s.chat_id >= 9000) >= len(questions),
            timeout=30,
        )
    except BaseException:
        proc.kill()
        raise
    took, output = await _stop(proc, timeout=10)
    assert took < 5, f"took {took:.1f}s to stop"
    assert proc.returncode == 0, output[-3000:]
    con = sqlite3.connect(tmp_path / "log.sqlite3")
    (rows,) = con.execute("SELECT COUNT(*) FROM exchanges").fetchone()
    con.close()
    assert rows == len(questions)  # every exchange reached the database before exit
    assert "Application started" in output  # the log was not empty
    assert fake_api.token not in output
    assert fake_api.token.split(":")[1] not in output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_checks_the_secret_and_answers(
    fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}/tg-hook"
    config = write_config(
        tmp_path, fake_api,
        telegram={"mode": "webhook", "base_url": fake_api.base_url,
                  "webhook": {"listen": "127.0.0.1", "port": port, "url": url,
                              "secret_token": "s3cret-Token"}},
    )
    proc = await _spawn(config, _env(fake_api, base_url=False))
    try:
        await fake_api.wait_for(lambda: fake_api.webhook is not None, timeout=BOT_START_TIMEOUT)
        assert fake_api.webhook["url"] == url
        assert fake_api.webhook["secret_token"] == "s3cret-Token"
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1, "date": 0, "text": "/111",
                "chat": {"id": 77, "type": "private", "first_name": "Lan"},
                "from": {"id": 77, "is_bot": False, "first_name": "Lan"},
                "entities": [{"type": "bot_command", "offset": 0, "length": 4}],
            },
        }
        async with aiohttp.ClientSession() as http:
            for _ in range(50):  # the web server starts just after setWebhook
                try:
                    async with http.post(url, json=update, headers={
                        "X-Telegram-Bot-Api-Secret-Token": "wrong"}) as response:
                        assert response.status == 403
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            async with http.post(url, json=update, headers={
                    "X-Telegram-Bot-Api-Secret-Token": "s3cret-Token"}) as response:
                assert response.status == 200
        sent = await fake_api.wait_sent(77, 1, timeout=10)
        assert "111" in sent[0].text
        assert len(sent) == 1  # the update with the wrong secret was not processed
    except BaseException:
        proc.kill()
        raise
    took, output = await _stop(proc, timeout=10)
    assert took < 5
    assert fake_api.token not in output


async def test_the_job_queue_purges_the_log_daily(bot: RunningBot) -> None:
    (job,) = bot.app.job_queue.get_jobs_by_name("daily-purge")
    assert job.trigger.interval == dt.timedelta(days=1)
    await bot.flush_log()  # the schema exists
    old = int(time.time()) - (bot.settings.privacy.retention_days + 1) * 86400
    con = sqlite3.connect(bot.settings.storage.database)
    with con:
        con.execute(
            "INSERT INTO exchanges (ref, hour_ts, user_key, message, score, band, urgent) "
            "VALUES ('old', ?, 'k', 'cũ', 0, 'fallback', 0)", (old,),
        )
    con.close()
    await job.run(bot.app)
    assert bot.db_rows("ref = 'old'") == []
