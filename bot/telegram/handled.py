"""Which updates were handled: the update_ids Telegram may re-deliver, so none is answered twice.

Ids only (no personal data), in a small database next to the interaction log rather than in it:
the log writer holds its write transaction up to 0.1 s, and every millisecond between a reply
reaching Telegram and its id being recorded is a window for a duplicate after a crash.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import aiosqlite

logger = logging.getLogger(__name__)

HANDLED_DAYS = 2  # Telegram keeps unconfirmed updates 24 h; ids older than that never return


def delivery_database(log_database: Path) -> Path:
    """`data/interactions.sqlite3` -> `data/interactions.delivery.sqlite3`."""
    log_database = Path(log_database)
    return log_database.with_name(f"{log_database.stem}.delivery{log_database.suffix}")


class HandledUpdates:
    """update_ids whose handling finished, in table `handled_updates`."""

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
