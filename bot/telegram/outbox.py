"""The staff-alert outbox: alerts not yet sent, kept in the log database (table `staff_alerts`)
so that a crash or a stop never loses one; the next start sends what is left.

A row holds only what the log may hold: the alert as staff read it (its message already
redacted), whether it is urgent, the hour it was queued and a keyed hash of the case (chat and
message id, under BOT_HASH_SECRET), never a raw Telegram id. The hash keeps one alert per case,
even when an edit or a re-delivered update after a restart comes back. Once sent, the alert's
text is emptied; the purge deletes the row with the log's retention.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import time
from pathlib import Path

import aiosqlite

from bot.logdb import open_database

logger = logging.getLogger(__name__)

CASE_KEY_LENGTH = 32


def case_key(secret: bytes, chat_id: int, message_id: int) -> str:
    """One urgent case (a message in a chat), as a keyed hash: the same for an edit of it."""
    digest = hmac.new(secret, f"alert:{int(chat_id)}:{int(message_id)}".encode("ascii"),
                      hashlib.sha256)
    return digest.hexdigest()[:CASE_KEY_LENGTH]


class AlertOutbox:
    """Pending staff alerts in the log database. Every failure is logged, never raised: when
    the database cannot be used, alerts are still sent from memory (and are then not kept)."""

    DUPLICATE = -1  # `add`: this case was alerted (or queued) before

    def __init__(self, path: Path, *, busy_timeout: float = 1.0) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._db: aiosqlite.Connection | None = None
        self._failures = 0

    async def _connection(self) -> aiosqlite.Connection:
        if self._db is None:
            self._db = await open_database(self.path, busy_timeout=self._busy_timeout)
        return self._db

    async def _failed(self, what: str, exc: Exception) -> None:
        self._failures += 1
        logger.error("staff-alert outbox: cannot %s (%s: %s)", what, type(exc).__name__,
                     str(exc)[:80])
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(Exception):
                await db.close()

    async def add(self, key: str, alert: str, *, urgent: bool = True) -> int | None:
        """Keep one alert until it is sent; returns its id, DUPLICATE for a case already
        alerted, or None when it could not be kept (send it anyway)."""
        try:
            db = await self._connection()
            cursor = await db.execute(
                "INSERT OR IGNORE INTO staff_alerts (case_key, urgent, hour_ts, alert)"
                " VALUES (?, ?, ?, ?)",
                (key, int(urgent), int(time.time() // 3600 * 3600), alert),
            )
            if cursor.rowcount == 0:
                return self.DUPLICATE
            return cursor.lastrowid
        except Exception as exc:
            await self._failed("keep an alert", exc)
            return None

    async def mark_sent(self, ids: list[int]) -> bool:
        """The alerts reached the staff chat: never send them again; their text is dropped."""
        if not ids:
            return True
        try:
            db = await self._connection()
            marks = ",".join("?" * len(ids))
            await db.execute(
                f"UPDATE staff_alerts SET sent = 1, alert = '' WHERE id IN ({marks})", ids
            )
            return True
        except Exception as exc:
            await self._failed("mark alerts sent (they may be sent again after a restart)", exc)
            return False

    async def pending(self) -> list[tuple[int, str]]:
        """(id, alert) of every alert not yet sent: urgent first, then oldest first."""
        try:
            db = await self._connection()
            async with db.execute(
                "SELECT id, alert FROM staff_alerts WHERE sent = 0 ORDER BY urgent DESC, id"
            ) as cursor:
                return [(int(row[0]), str(row[1])) async for row in cursor]
        except Exception as exc:
            await self._failed("read pending alerts", exc)
            return []

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(Exception):
                await db.close()
