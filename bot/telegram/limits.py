"""Sending under Telegram's limits: per-chat ordering of updates, throttling and retries.

- `ChatOrderedProcessor` runs updates of different chats concurrently and those of one chat in
  arrival order, so replies never overtake each other;
- `ResilientRateLimiter` throttles sends, waits out every 429 (`retry_after`), retries timeouts
  and dropped connections with backoff, and never retries a user who blocked the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter, BaseUpdateProcessor

logger = logging.getLogger(__name__)

MAX_FLOOD_WAIT = 600.0  # give up on one request after waiting this long for flood control


def chat_key(update: object) -> int | None:
    """The chat an update belongs to, or None."""
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Updates of one chat run one after another, in arrival order; chats run concurrently.

    PTB starts each update as its own task, in arrival order; an `asyncio.Lock` per chat
    (FIFO for its waiters) then serialises them. Only `max_running` handlers run at once:
    updates queued behind their own chat's lock do not take a slot, so one busy chat cannot
    starve the others, and no more requests wait for a connection than there are handlers.
    Locks are dropped when no update of the chat is
    running or waiting, so the table stays as small as the number of busy chats.
    """

    def __init__(self, max_running: int = 32, max_pending: int = 100_000) -> None:
        super().__init__(max_pending)
        self._running = asyncio.Semaphore(max_running)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock, self._running:
                await coroutine
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]

    @property
    def busy_chats(self) -> int:
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""



def retry_after_seconds(exc: RetryAfter) -> float:
    """`retry_after` is an int in older PTB and a timedelta in newer: accept both."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)


class ResilientRateLimiter(BaseRateLimiter[int]):
    """Throttles requests and retries what is worth retrying.

    - overall and per-group limits as Telegram publishes them, and a per-private-chat limit
      that allows a short burst (an urgent reply plus its follow-up) then paces to the rate;
    - 429 `RetryAfter`: every request pauses for `retry_after` (+0.1 s) and is sent again, for
      as many rounds as it takes, up to `max_flood_wait` seconds in total;
    - `TimedOut` / `NetworkError` (a dropped connection): retried `max_retries` times with
      exponential backoff;
    - `Forbidden` (the user blocked the bot) and `BadRequest`: raised at once, never retried.
    """

    def __init__(
        self,
        *,
        overall_per_second: float = 30,
        per_chat_per_second: float = 1,
        per_group_per_minute: float = 20,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_flood_wait: float = MAX_FLOOD_WAIT,
        chat_burst: int = 3,
    ) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1) if overall_per_second > 0 else None
        self._per_chat_rate = per_chat_per_second
        self._per_group_rate = per_group_per_minute
        self._chat_burst = max(1, chat_burst)
        self._chats: dict[int | str, AsyncLimiter] = {}
        self._max_retries = max_retries
        self._backoff = backoff
        self._max_flood_wait = max_flood_wait
        self._resume = asyncio.Event()
        self._resume.set()
        self.flood_waits = 0
        self.network_retries = 0

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    def _chat_limiter(self, chat_id: int | str) -> AsyncLimiter | None:
        group = isinstance(chat_id, str) or chat_id < 0
        if group:
            if self._per_group_rate <= 0:
                return None
            rate, period = self._per_group_rate, 60.0
        else:
            if self._per_chat_rate <= 0:
                return None
            # A bucket of `chat_burst` messages refilling at the per-chat rate.
            rate, period = float(self._chat_burst), self._chat_burst / self._per_chat_rate
        if len(self._chats) > 512:
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self._chats[key]
        found = self._chats.get(chat_id)
        if found is None:
            found = self._chats[chat_id] = AsyncLimiter(rate, period)
        return found

    async def _once(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        chat_id: int | str | None,
    ) -> Any:
        # Plain acquires rather than an AsyncExitStack: this runs for every request.
        # (AsyncLimiter's context exit does nothing, so nothing needs undoing on failure.)
        if chat_id is not None:
            chat_limiter = self._chat_limiter(chat_id)
            if chat_limiter is not None:
                await chat_limiter.acquire()
            if self._overall is not None:
                await self._overall.acquire()
        if not self._resume.is_set():
            await self._resume.wait()
        return await callback(*args, **kwargs)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id: int | str | None = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        waited = 0.0
        failures = 0
        while True:
            try:
                return await self._once(callback, args, kwargs, chat_id)
            except RetryAfter as exc:
                pause = retry_after_seconds(exc) + 0.1
                if waited + pause > self._max_flood_wait:
                    raise
                waited += pause
                self.flood_waits += 1
                logger.warning("flood control on %s: waiting %.1f s", endpoint, pause)
                self._resume.clear()
                try:
                    await asyncio.sleep(pause)
                finally:
                    self._resume.set()
            except BadRequest:
                raise
            except NetworkError as exc:  # includes TimedOut and dropped connections
                if failures >= self._max_retries:
                    raise
                delay = self._backoff * (2**failures)
                failures += 1
                self.network_retries += 1
                logger.warning(
                    "network error on %s (%s): retry %d in %.1f s",
                    endpoint, type(exc).__name__, failures, delay,
                )
                await asyncio.sleep(delay)


