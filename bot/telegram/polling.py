"""Long polling that confirms an update to Telegram only after it has been handled.

python-telegram-bot's Updater confirms an update (the next getUpdates offset) as soon as it is
fetched, so a crash loses every fetched, unanswered update. Here the offset only moves up to the
lowest update not yet handled; re-deliveries are dropped by update_id (bot.telegram.handled).
On SIGTERM fetching stops, running handlers get DRAIN_SECONDS, and the rest stay unconfirmed:
Telegram sends them again after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.error import NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.telegram.handled import HandledUpdates
from bot.telegram.lifecycle import DRAIN_SECONDS, running, stop_on_signals
from bot.telegram.limits import retry_after_seconds

logger = logging.getLogger(__name__)


REPOLL_PAUSE = 0.05  # seconds: longest wait before fetching again while new updates run

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
        app: Application[Any, Any, Any, Any, Any, Any],
        handled: HandledUpdates,
        *,
        allowed_updates: Iterable[str] | None = None,
        timeout: int = 10,
        drain_seconds: float = DRAIN_SECONDS,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self.app = app
        self.handled = handled
        self.allowed_updates = list(allowed_updates) if allowed_updates else None
        self.timeout = timeout
        self.drain_seconds = drain_seconds
        self.unfinished = Unfinished()
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.stopping = stopping or asyncio.Event()
        self.dropped_duplicates = 0

    async def _process_and_record(self, update: Update) -> None:
        await self.app.process_update(update)
        self.handled.record(update.update_id)  # at once: the reply is out

    async def _handle(self, update: Update) -> None:
        uid = update.update_id
        try:
            try:
                await self.app.update_processor.process_update(
                    update, self._process_and_record(update)
                )
            except Exception:  # noqa: BLE001 - CancelledError (the drain) is not caught
                # PTB hands handler errors to on_error; anything reaching here would hold the
                # offset forever, so the update counts as handled rather than block the rest.
                logger.exception("update %d failed outside its handlers", uid)
            self.handled.record(uid)
            self.unfinished.finish(uid)
        finally:
            self.tasks.pop(uid, None)

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
            await self._sleep(retry_after_seconds(exc))
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
                if self.tasks:
                    # The offset waits for the lowest running update, so asking again at once
                    # would fetch (and parse) the running ones again: wait for a handler to
                    # finish first; with new updates just started, for REPOLL_PAUSE at most,
                    # so a message from another chat is not held behind a slow one.
                    idle = fresh == 0 or len(self.tasks) >= 1000
                    await asyncio.wait({*self.tasks.values(), stop_wait},
                                       timeout=1.0 if idle else REPOLL_PAUSE,
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


async def run_polling(app: Application[Any, Any, Any, Any, Any, Any], log_database: Path,
                      **kwargs: Any) -> None:
    """`python -m bot run` in polling mode: the Application's lifecycle around ReliablePoller.

    SIGTERM/SIGINT stop fetching; handlers get DRAIN_SECONDS; then the alerts still queued and
    the interaction log are flushed (bot.telegram.lifecycle).
    """
    stopping = asyncio.Event()
    stop_on_signals(stopping)
    async with running(app, log_database) as handled:
        with contextlib.suppress(Exception):
            await app.bot.delete_webhook()
        await ReliablePoller(app, handled, stopping=stopping, **kwargs).run()
