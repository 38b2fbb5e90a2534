"""The interaction log: anonymised exchanges in SQLite, written off the reply path.

`record()` is synchronous and O(1): it redacts the message, hashes the user id and appends to a
bounded in-memory buffer; a background task writes batches in one transaction each. A locked,
full, missing or corrupt database never delays a reply: the writer logs each kind of failure
once, keeps the rows and retries with backoff; only when the buffer is full is the oldest row
dropped (and counted). The raw Telegram id never leaves `record()` / `forget()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from bot.logdb import (
    DAY_FIGURES,
    UTC_OFFSET_HOURS,
    VIETNAM,
    StoreError,
    day_figures,
    delete_and_scrub,
    local_day_start,
    open_database,
    purge_older,
    run_purge,
)
from bot.privacy import Redactor, default_redactor, user_key

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 500
MAX_INPUT_CHARS = 4096  # bound the redaction work; Telegram messages are at most 4096 chars
REF_BYTES = 9  # secrets.token_urlsafe(9) -> 12 ascii chars


class ReplyLike(Protocol):
    """What the log needs from `bot.core.Reply`."""

    @property
    def urgent(self) -> bool: ...
    @property
    def category(self) -> str | None: ...
    @property
    def entry_id(self) -> str | None: ...
    @property
    def score(self) -> float: ...
    @property
    def band(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Row:
    ref: str
    hour_ts: int
    user_key: str
    audience: str | None
    message: str
    entry_id: str | None
    suggestion_id: str | None
    score: float
    band: str
    urgent: bool
    category: str | None


@dataclass(frozen=True, slots=True)
class _Feedback:
    ref: str
    helpful: bool
    user_key: str  # who pressed: counts only on their own exchange


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What /xoa achieved: rows deleted now, and whether the deletion is durable (done, or
    recorded in the database and finished at the latest at the next start)."""

    rows: int
    durable: bool


_Op = _Row | _Feedback


class InteractionLog:
    """Anonymised exchange log with a never-blocking `record()` and a background writer."""

    def __init__(
        self,
        path: Path,
        secret: bytes,
        *,
        queue_size: int = 10_000,
        batch_size: int = 500,
        retry_base: float = 0.5,
        retry_max: float = 30.0,
        busy_timeout: float = 1.0,
        close_timeout: float = 5.0,
        linger: float = 0.1,
        clock: Callable[[], float] = time.time,
        utc_offset_hours: int = UTC_OFFSET_HOURS,
    ) -> None:
        if not secret:
            raise ValueError("the interaction log needs a non-empty hash secret")
        self.path = Path(path)
        self._secret = secret
        self._queue_size = max(1, queue_size)
        self._batch_size = max(1, batch_size)
        self._retry_base = retry_base
        self._retry_max = retry_max
        self._busy_timeout = busy_timeout
        self._close_timeout = close_timeout
        self._linger = linger
        self._clock = clock
        self._utc_offset_hours = utc_offset_hours

        self._buffer: deque[_Op] = deque()
        self._pending_forgets: set[str] = set()
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._lock = asyncio.Lock()
        self._db: aiosqlite.Connection | None = None
        self._db_inode: tuple[int, int] | None = None
        self._task: asyncio.Task[None] | None = None
        self._failures_seen: set[str] = set()
        self._failed_attempts = 0
        self.dropped = 0  # rows lost because the buffer was full (or unwritable at shutdown)

    # --- the reply path: synchronous, O(1) ---------------------------------------------------

    def record(self, user_id: int, audience: str | None, text: str, reply: ReplyLike,
               redactor: Redactor | None = None) -> str:
        """Queue one exchange; returns a random ref for the feedback buttons. Never blocks and
        never raises: a bug here must not cost a child their reply. `redactor`: the current
        knowledge base's (`Responder.redactor`); the bundled lists when None."""
        ref = secrets.token_urlsafe(REF_BYTES)
        try:
            row = self._row(ref, user_id, audience, text, reply, redactor or default_redactor())
            self._push(row)
        except Exception as exc:
            self._note_failure(exc, detail=False)  # the error's text could quote the input
        return ref

    def _row(
        self, ref: str, user_id: int, audience: str | None, text: str, reply: ReplyLike,
        redactor: Redactor,
    ) -> _Row:
        # The nearest entry, even when not confident: the report suggests it to extend.
        suggestion_id = getattr(reply, "nearest", None) if reply.band != "answer" else None
        suggestions = getattr(reply, "suggestions", ()) or ()
        if suggestion_id is None and reply.band != "answer" and suggestions:
            suggestion_id = getattr(suggestions[0], "entry_id", None)
        return _Row(
            ref=ref,
            hour_ts=int(self._clock() // 3600 * 3600),
            user_key=user_key(self._secret, user_id),
            audience=str(audience)[:16] if audience else None,
            message=redactor.redact((text or "")[:MAX_INPUT_CHARS])[:MAX_MESSAGE_CHARS],
            entry_id=reply.entry_id,
            suggestion_id=suggestion_id,
            score=float(reply.score),
            band=str(reply.band),
            urgent=bool(reply.urgent),
            category=reply.category,
        )

    def record_feedback(self, exchange_ref: str, helpful: bool, user_id: int) -> None:
        """Queue a helpful / not helpful verdict on an earlier exchange. It counts only when
        `user_id` is the user that exchange was logged for (compared by keyed hash, in the
        database, so it holds across restarts): a forged or replayed button changes nothing."""
        if not exchange_ref or len(exchange_ref) > 16 or not exchange_ref.isascii():
            return  # not one of ours (forged callback data): ignore
        try:
            self._push(_Feedback(exchange_ref, bool(helpful), user_key(self._secret, user_id)))
        except Exception as exc:  # never costs the user their answer
            self._note_failure(exc, detail=False)

    def _push(self, op: _Op) -> None:
        if len(self._buffer) >= self._queue_size:
            self._buffer.popleft()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning(
                    "interaction log buffer full (%d rows): dropped %d oldest so far",
                    self._queue_size,
                    self.dropped,
                )
        self._buffer.append(op)
        self._wake.set()

    async def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued is committed; False if that did not happen in time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._wake.set()
            async with self._lock:  # a batch in flight is committed or put back by now
                if not self._buffer and not self._pending_forgets:
                    return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.01)

    @property
    def pending(self) -> int:
        """Rows and feedback waiting to be written."""
        return len(self._buffer)

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the database (a failure is logged, not raised) and start the writer, which
        first finishes every /xoa accepted before a crash or stop."""
        async with self._lock:
            try:
                db = await self._connection()
                async with db.execute("SELECT user_key FROM pending_forgets") as cursor:
                    self._pending_forgets.update([str(row[0]) async for row in cursor])
            except Exception as exc:  # the bot must run even when its log cannot
                self._note_failure(exc)
        if self._pending_forgets:
            logger.warning("finishing %d /xoa request(s) accepted before the last stop",
                           len(self._pending_forgets))
            self._wake.set()
        if self._task is None:
            self._closing.clear()
            self._task = asyncio.create_task(self._writer(), name="interaction-log-writer")

    async def close(self) -> None:
        """Flush what is queued (within `close_timeout`), stop the writer, close the database."""
        self._closing.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is None and (self._buffer or self._pending_forgets):
            task = asyncio.create_task(self._writer())
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), self._close_timeout)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._buffer:
            lost = sum(isinstance(op, _Row) for op in self._buffer)
            self.dropped += lost
            logger.error("interaction log closed with %d rows unwritten", lost)
            self._buffer.clear()
        async with self._lock:
            await self._disconnect()

    # --- the writer --------------------------------------------------------------------------

    async def _writer(self) -> None:
        delay = 0.0
        while True:
            if not self._buffer and not self._pending_forgets:
                if self._closing.is_set():
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            if (self._linger and not self._closing.is_set()
                    and len(self._buffer) < self._batch_size):
                # At most one commit per `linger`: under a burst the rows gather into a few
                # large transactions instead of many small ones (each costs a WAL write and
                # three hand-offs to the database thread).
                await asyncio.sleep(self._linger)
            try:
                async with self._lock:
                    await self._write_batch()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every failure: keep rows, log once, back off, retry
                self._note_failure(exc)
                delay = min(max(delay * 2, self._retry_base), self._retry_max)
                if self._closing.is_set():
                    delay = min(delay, 0.1)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay)
                if self._closing.is_set():
                    await asyncio.sleep(min(delay, 0.1))
                continue
            delay = 0.0
            self._note_success()

    async def _write_batch(self) -> None:
        """Write up to `batch_size` ops in one transaction; on failure they go back in front."""
        db = await self._connection()
        batch = [self._buffer.popleft() for _ in range(min(self._batch_size, len(self._buffer)))]
        forgets = set(self._pending_forgets)
        try:
            await db.execute("BEGIN IMMEDIATE")
            try:
                for key in forgets:
                    await db.execute("DELETE FROM exchanges WHERE user_key = ?", (key,))
                    await db.execute("DELETE FROM pending_forgets WHERE user_key = ?", (key,))
                rows = [op for op in batch if isinstance(op, _Row)]
                if rows:
                    await db.executemany(
                        "INSERT OR IGNORE INTO exchanges (ref, hour_ts, user_key, audience,"
                        " message, entry_id, suggestion_id, score, band, urgent, category)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (
                                r.ref,
                                r.hour_ts,
                                r.user_key,
                                r.audience,
                                r.message,
                                r.entry_id,
                                r.suggestion_id,
                                r.score,
                                r.band,
                                int(r.urgent),
                                r.category,
                            )
                            for r in rows
                        ],
                    )
                feedback = [(int(op.helpful), op.ref, op.user_key)
                            for op in batch if isinstance(op, _Feedback)]
                if feedback:
                    await db.executemany(
                        "UPDATE exchanges SET helpful = ? WHERE ref = ? AND user_key = ?", feedback
                    )
                await db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    with contextlib.suppress(Exception):
                        await db.execute("ROLLBACK")
                raise
        except BaseException:
            self._buffer.extendleft(reversed(batch))
            while len(self._buffer) > self._queue_size:
                self._buffer.popleft()
                self.dropped += 1
            await self._disconnect()  # reopen next time: the file may be replaced or repaired
            raise
        self._pending_forgets -= forgets
        if forgets:  # the deleted text leaves the WAL file too
            with contextlib.suppress(aiosqlite.Error):
                await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def _connection(self) -> aiosqlite.Connection:
        """The open connection; reopened when the file was deleted or replaced underneath us."""
        if self._db is not None:
            try:
                stat = os.stat(self.path)
                inode: tuple[int, int] | None = (stat.st_dev, stat.st_ino)
            except OSError:
                inode = None
            if inode != self._db_inode:
                await self._disconnect()
        if self._db is None:
            self._db = await open_database(self.path, busy_timeout=self._busy_timeout)
            stat = os.stat(self.path)
            self._db_inode = (stat.st_dev, stat.st_ino)
        return self._db

    async def _disconnect(self) -> None:
        db, self._db = self._db, None
        self._db_inode = None
        if db is not None:
            with contextlib.suppress(Exception):
                await db.close()

    def _note_failure(self, exc: BaseException, *, detail: bool = True) -> None:
        """Log the first failure of each kind once; SQLite's messages never quote row values."""
        self._failed_attempts += 1
        kind = f"{type(exc).__name__}: {str(exc)[:80]}" if detail else type(exc).__name__
        if kind not in self._failures_seen:
            self._failures_seen.add(kind)
            logger.error(
                "interaction log cannot write to %s (%s); keeping %d rows in memory and retrying",
                self.path,
                kind,
                len(self._buffer),
            )

    def _note_success(self) -> None:
        if self._failed_attempts:
            logger.warning(
                "interaction log writing again after %d failed attempts", self._failed_attempts
            )
        self._failed_attempts = 0
        self._failures_seen.clear()

    # --- staff and user operations ---------------------------------------------------------

    async def forget(self, user_id: int) -> int:
        """Delete every row of this user, queued or stored; returns how many were deleted now
        (see `request_forget`)."""
        return (await self.request_forget(user_id)).rows

    async def request_forget(self, user_id: int) -> Forgotten:
        """/xoa: delete every row of this user, queued or stored.

        The request is first recorded in the database (table `pending_forgets`), then carried
        out; if carrying it out fails, the writer retries it, and `start()` finishes it after a
        crash. Only when not even the record can be written is it not durable: it is still
        retried while the bot runs, but the user must be told it is not done yet.
        """
        key = user_key(self._secret, user_id)
        async with self._lock:
            refs = {op.ref for op in self._buffer if isinstance(op, _Row) and op.user_key == key}
            kept = [
                op
                for op in self._buffer
                if not (isinstance(op, _Row) and op.user_key == key) and op.ref not in refs
            ]
            removed = sum(isinstance(op, _Row) for op in self._buffer) - sum(
                isinstance(op, _Row) for op in kept
            )
            self._buffer = deque(kept)
            durable = False
            try:
                db = await self._connection()
                await db.execute(
                    "INSERT OR REPLACE INTO pending_forgets (user_key, hour_ts) VALUES (?, ?)",
                    (key, int(self._clock() // 3600 * 3600)),
                )
                durable = True
                deleted = await delete_and_scrub(
                    db, "DELETE FROM exchanges WHERE user_key = ?", (key,),
                    then=("DELETE FROM pending_forgets WHERE user_key = ?", (key,)),
                )
            except Exception as exc:
                self._note_failure(exc)
                await self._disconnect()
                self._pending_forgets.add(key)
                self._wake.set()
                return Forgotten(removed, durable)
        return Forgotten(removed + deleted, durable=True)

    async def purge(self, retention_days: int) -> int:
        """Delete rows older than `retention_days` days; returns how many. Raises on failure."""
        if retention_days < 0:
            raise ValueError("retention_days must be >= 0")
        cutoff = self._clock() - retention_days * 86400
        async with self._lock:
            before = len(self._buffer)
            self._buffer = deque(
                op for op in self._buffer if not (isinstance(op, _Row) and op.hour_ts < cutoff)
            )
            removed = before - len(self._buffer)
            try:
                db = await self._connection()
                deleted = await purge_older(db, cutoff)
            except Exception:
                await self._disconnect()
                raise
        return removed + deleted

    async def day_stats(self) -> dict[str, Any]:
        """Today's (local day) figures for the admin command.

        When the database cannot be read, only `day`, `pending` and `dropped` are present (the
        admin still learns that rows are waiting); the failure is logged like a write failure.
        """
        now = self._clock()
        start = local_day_start(now, self._utc_offset_hours)
        stats: dict[str, Any] = {
            "day": time.strftime("%Y-%m-%d", time.gmtime(start + self._utc_offset_hours * 3600)),
            "pending": len(self._buffer),
            "dropped": self.dropped,
        }
        async with self._lock:
            try:
                row = await day_figures(await self._connection(), start)
            except Exception as exc:
                self._note_failure(exc)
                await self._disconnect()
                return stats
        stats.update(zip(DAY_FIGURES, row or (), strict=False))
        return stats


__all__ = [
    "UTC_OFFSET_HOURS",
    "VIETNAM",
    "Forgotten",
    "InteractionLog",
    "StoreError",
    "open_database",
    "run_purge",
]
