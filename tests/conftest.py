"""Shared fixtures: the fake Bot API server and a real `Application` polling it over HTTP."""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# The knowledge base the bot tests run against (overridable to test a staff's working copy).
KNOWLEDGE = Path(os.environ.get("BOT_TEST_KNOWLEDGE", ROOT / "knowledge"))
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from fakebotapi import FakeBotAPI  # noqa: E402

HASH_SECRET = "test-hash-secret-of-at-least-32-characters"
ADMIN_ID = 4242
# Fitted weights kept for every `python -m bot run` this test session starts: the first start
# fits them in a child process (a cold start, ~10-30 s on a loaded machine), the rest read them.
# tests/test_run_lean.py gives its bot a folder of its own to see a cold start.
FITTED_CACHE = Path(tempfile.mkdtemp(prefix="bot-test-fitted-"))
ALERT_CHAT_ID = -100777


@dataclass
class RunningBot:
    """A started bot, its fake server, and handles tests need to check what users saw."""

    app: Any
    api: FakeBotAPI
    settings: Any
    config_path: Path

    @property
    def state(self) -> Any:
        return self.app.bot_data

    @property
    def ui(self) -> Any:
        return self.state.responder.ui

    async def flush_log(self) -> None:
        assert await self.state.log.flush(5.0)

    def db_rows(self, where: str = "1", params: tuple = ()) -> list[sqlite3.Row]:
        con = sqlite3.connect(self.settings.storage.database)
        con.row_factory = sqlite3.Row
        try:
            return con.execute(f"SELECT * FROM exchanges WHERE {where}", params).fetchall()
        finally:
            con.close()


def write_config(tmp_path: Path, api: FakeBotAPI, **overrides: Any) -> Path:
    """A config file for a bot that talks to `api`; `overrides` are top-level sections."""
    config: dict[str, Any] = {
        "knowledge": {"path": str(KNOWLEDGE)},
        "storage": {"database": str(tmp_path / "log.sqlite3"), "cache_dir": str(FITTED_CACHE)},
        "telegram": {
            "base_url": api.base_url,
            "rate_limit": {"overall_per_second": 1000, "per_chat_per_second": 1000,
                           "max_retries": 4},
        },
        "admins": [ADMIN_ID],
        "logging": {"level": "DEBUG"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def bot_env(api: FakeBotAPI) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": api.token, "BOT_HASH_SECRET": HASH_SECRET}


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    api = await FakeBotAPI().start()
    try:
        yield api
    finally:
        await api.stop()


StartBot = Callable[..., Awaitable[RunningBot]]


@pytest.fixture(scope="session")
def shared_responder() -> Any:
    """One Responder for every bot that uses the default knowledge (building one takes ~1 s)."""
    from bot.core.knowledge import load_knowledge
    from bot.core.responder import Responder

    return Responder(load_knowledge(KNOWLEDGE))


@pytest.fixture
async def start_bot(
    fake_api: FakeBotAPI, tmp_path: Path, shared_responder: Any
) -> AsyncIterator[StartBot]:
    """Start the real Application, long polling the fake server; stopped at teardown."""
    from bot.config import load_settings
    from bot.telegram.app import ALLOWED_UPDATES, build_application, on_shutdown, on_startup

    running: list[RunningBot] = []

    async def start(**overrides: Any) -> RunningBot:
        config_path = write_config(tmp_path, fake_api, **overrides)
        settings = load_settings(config_path, env=bot_env(fake_api))
        own_kb = "knowledge" in overrides or "matching" in overrides
        responder = None if own_kb else shared_responder
        app = build_application(settings, responder=responder)
        await app.initialize()
        await on_startup(app)
        await app.start()
        await app.updater.start_polling(
            poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES
        )
        bot = RunningBot(app, fake_api, settings, config_path)
        running.append(bot)
        return bot

    yield start
    for bot in running:
        if bot.app.updater.running:
            await bot.app.updater.stop()
        if bot.app.running:
            await bot.app.stop()
        await on_shutdown(bot.app)
        await bot.app.shutdown()


@pytest.fixture
async def bot(start_bot: StartBot) -> RunningBot:
    return await start_bot()
