"""At-least-once processing, exactly-once replies, and a bounded shutdown.

python-telegram-bot's Updater confirms an update (the next getUpdates offset) as soon as it is
fetched, so a crash loses every fetched, unanswered update. Here the offset only moves up to the
lowest update not yet handled; re-deliveries are dropped by update_id, recorded (ids only, no
personal data) once the handler has finished, in a small database next to the log database:
the log writer holds its write transaction up to 0.1 s, and every millisecond between a reply
reaching Telegram and its id being recorded is a window for a duplicate after a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import aiosqlite
from telegram import Update
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

logger = logging.getLogger(__name__)

HANDLED_DAYS = 2  # Telegram keeps unconfirmed updates 24 h; ids older than that never return
DRAIN_SECONDS = 5.0  # running handlers get this long after SIGTERM


class HandledUpdates:
    """update_ids whose handling finished, in table `handled_updates` of the log database."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: aiosqlite.Connection | None = None
        self._ids: set[int] = set()

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self.path, timeout=2.0, isolation_level=None)
        # WAL + NORMAL: a commit survives kill -9 (only a power cut may lose the last ones).
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._db.execute(
            "CREATE TABLE IF NOT EXISTS handled_updates"
            " (update_id INTEGER PRIMARY KEY, handled_at REAL NOT NULL)"
        )
        await self._db.execute(
            "DELETE FROM handled_updates WHERE handled_at < ?",
            (time.time() - HANDLED_DAYS * 86400,),
        )
        async with self._db.execute("SELECT update_id FROM handled_updates") as cursor:
            self._ids = {int(row[0]) async for row in cursor}

    def seen(self, update_id: int) -> bool:
        return update_id in self._ids

    async def record(self, update_id: int) -> None:
        """Remember `update_id`; a database failure is logged, never stops a reply."""
        self._ids.add(update_id)
        if self._db is None:
            return
        try:
            await self._db.execute(
                "INSERT OR IGNORE INTO handled_updates VALUES (?, ?)", (update_id, time.time())
            )
        except Exception as exc:  # noqa: BLE001 - a DB failure must not stop the bot
            logger.error("could not record handled update: %s", type(exc).__name__)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None


class Unfinished:
    """Which fetched updates are still being handled; `offset` is safe to confirm."""

    def __init__(self) -> None:
        self.running: set[int] = set()
        self.highest = 0

    def start(self, update_id: int) -> None:
        self.running.add(update_id)
        self.highest = max(self.highest, update_id)

    def finish(self, update_id: int) -> None:
        self.running.discard(update_id)

    def skip(self, update_id: int) -> None:
        """An update already handled before (a re-delivery): confirmable at once."""
        self.highest = max(self.highest, update_id)

    @property
    def offset(self) -> int:
        """Everything below this id is handled; Telegram may forget it."""
        if self.running:
            return min(self.running)
        return self.highest + 1 if self.highest else 0


class ReliablePoller:
    """getUpdates loop that confirms only handled updates and stops within a bounded time."""

    def __init__(
        self,
        app: Application,
        handled: HandledUpdates,
        *,
        allowed_updates: Iterable[str] | None = None,
        timeout: int = 10,
        drain_seconds: float = DRAIN_SECONDS,
    ) -> None:
        self.app = app
        self.handled = handled
        self.allowed_updates = list(allowed_updates) if allowed_updates else None
        self.timeout = timeout
        self.drain_seconds = drain_seconds
        self.unfinished = Unfinished()
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.stopping = asyncio.Event()
        self.dropped_duplicates = 0

    async def _handle(self, update: Update) -> None:
        try:
            await self.app.update_processor.process_update(
                update, self.app.process_update(update)
            )
            await self.handled.record(update.update_id)
            self.unfinished.finish(update.update_id)
        finally:
            self.tasks.pop(update.update_id, None)

    def _accept(self, raw: Update) -> None:
        uid = raw.update_id
        if uid in self.tasks:
            return  # still running: fetched again because it is not confirmed yet
        if self.handled.seen(uid):
            self.dropped_duplicates += 1
            self.unfinished.skip(uid)
            return
        self.unfinished.start(uid)
        self.tasks[uid] = asyncio.create_task(self._handle(raw), name=f"update-{uid}")

    async def _fetch(self) -> list[Update]:
        try:
            return list(await self.app.bot.get_updates(
                offset=self.unfinished.offset or None,
                timeout=self.timeout,
                allowed_updates=self.allowed_updates,
            ))
        except RetryAfter as exc:
            wait: Any = exc.retry_after
            seconds = wait.total_seconds() if hasattr(wait, "total_seconds") else float(wait)
            await self._sleep(seconds)
        except (TimedOut, NetworkError) as exc:
            logger.warning("getUpdates failed: %s", type(exc).__name__)
            await self._sleep(1.0)
        return []

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), seconds)

    async def run(self) -> None:
        """Fetch until `stopping` is set, then drain and confirm what finished."""
        stop_wait = asyncio.create_task(self.stopping.wait())
        try:
            while not self.stopping.is_set():
                fetch = asyncio.create_task(self._fetch())
                await asyncio.wait({fetch, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
                if self.stopping.is_set():
                    fetch.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await fetch
                    break
                started = len(self.tasks)
                for update in fetch.result():
                    self._accept(update)
                fresh = len(self.tasks) - started
                if self.tasks and (fresh == 0 or len(self.tasks) >= 1000):
                    # Everything fetched is already running (the offset waits for the lowest
                    # one), or backpressure: wait for a handler to finish instead of asking
                    # Telegram for the same batch again in a tight loop.
                    await asyncio.wait({*self.tasks.values(), stop_wait}, timeout=1.0,
                                       return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop_wait.cancel()
        await self.drain()

    async def drain(self) -> int:
        """Let running handlers finish (bounded); the rest stay unconfirmed. Returns how many
        were left for Telegram to send again."""
        running = list(self.tasks.values())
        if running:
            await asyncio.wait(running, timeout=self.drain_seconds)
        left = [task for task in self.tasks.values() if not task.done()]
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left, timeout=1.0)
        logger.warning(
            "stopping: %d updates left unconfirmed; Telegram sends them again after restart",
            len(left),
        ) if left else logger.info("stopping: every fetched update was handled")
        # Confirm what finished (timeout 0, limit 1: returns at once, starts nothing).
        with contextlib.suppress(Exception):
            if self.unfinished.offset:
                await self.app.bot.get_updates(offset=self.unfinished.offset, timeout=0, limit=1,
                                               read_timeout=2)
        return len(left)


def delivery_database(log_database: Path) -> Path:
    """`data/interactions.sqlite3` -> `data/interactions.delivery.sqlite3`."""
    log_database = Path(log_database)
    return log_database.with_name(f"{log_database.stem}.delivery{log_database.suffix}")


async def run_polling(app: Application, handled_path: Path, **kwargs: Any) -> None:
    """`python -m bot run` in polling mode: the Application lifecycle around ReliablePoller.

    SIGTERM/SIGINT stop fetching; handlers get DRAIN_SECONDS; post_stop/post_shutdown then
    flush alerts and the log.
    """
    handled = HandledUpdates(delivery_database(handled_path))
    await handled.open()
    poller = ReliablePoller(app, handled, **kwargs)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, poller.stopping.set)
    await app.initialize()
    try:
        with contextlib.suppress(Exception):
            await app.bot.delete_webhook()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        await poller.run()
    finally:
        with contextlib.suppress(Exception):
            if app.running:
                await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)
        await handled.close()
