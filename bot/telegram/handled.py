"""Which updates were handled: the update_ids Telegram may re-deliver, so none is answered twice.

Ids only (no personal data), in a small database next to the interaction log rather than in it:
the log writer holds its write transaction up to 0.1 s, and every millisecond between a reply
reaching Telegram and its id being recorded is a window for a duplicate after a crash. So the
id is written at once, on the event loop, with plain sqlite3 (WAL, synchronous=NORMAL: an
insert is a few tens of microseconds and survives kill -9), not through a thread hop that a
busy loop can delay by tens of milliseconds.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

logger = logging.getLogger(__name__)

HANDLED_DAYS = 2  # Telegram keeps unconfirmed updates 24 h; ids older than that never return
PRUNE_EVERY = 1000  # records between two prunings of expired ids (memory and database)


def delivery_database(log_database: Path) -> Path:
    """`data/interactions.sqlite3` -> `data/interactions.delivery.sqlite3`."""
    log_database = Path(log_database)
    return log_database.with_name(f"{log_database.stem}.delivery{log_database.suffix}")


class HandledUpdates:
    """update_ids whose handling finished, in table `handled_updates`; ids older than
    HANDLED_DAYS are forgotten as the bot runs, so neither memory nor the file keeps growing."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        self._ids: dict[int, float] = {}  # update_id -> when handled, oldest first
        self._since_prune = 0

    def open(self) -> None:
        """Open (or create) the database; unusable, the bot still runs (ids in memory only)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=0.5, isolation_level=None)
            # WAL + NORMAL: a commit survives kill -9 (only a power cut may lose the last ones).
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS handled_updates"
                " (update_id INTEGER PRIMARY KEY, handled_at REAL NOT NULL)"
            )
            db.execute(
                "DELETE FROM handled_updates WHERE handled_at < ?",
                (time.time() - HANDLED_DAYS * 86400,),
            )
            rows = db.execute(
                "SELECT update_id, handled_at FROM handled_updates ORDER BY handled_at"
            )
            self._ids = {int(uid): float(at) for uid, at in rows}
            self._db = db
        except (sqlite3.Error, OSError) as exc:
            logger.error("handled-updates database unusable (%s): a crash may answer some "
                         "messages twice", type(exc).__name__)

    def seen(self, update_id: int) -> bool:
        return update_id in self._ids

    def record(self, update_id: int) -> None:
        """Remember `update_id` (idempotent); a database failure is logged, never stops a reply."""
        if update_id in self._ids:
            return
        now = time.time()
        self._ids[update_id] = now
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self._prune(now - HANDLED_DAYS * 86400)
        if self._db is None:
            return
        try:
            self._db.execute(
                "INSERT OR IGNORE INTO handled_updates VALUES (?, ?)", (update_id, now)
            )
        except sqlite3.Error as exc:
            logger.error("could not record handled update: %s", type(exc).__name__)

    def _prune(self, before: float) -> None:
        self._since_prune = 0
        expired = []
        for update_id, handled_at in self._ids.items():  # oldest first: stop at the first kept
            if handled_at >= before:
                break
            expired.append(update_id)
        for update_id in expired:
            del self._ids[update_id]
        if self._db is not None and expired:
            try:
                self._db.execute("DELETE FROM handled_updates WHERE handled_at < ?", (before,))
            except sqlite3.Error as exc:
                logger.error("could not prune handled updates: %s", type(exc).__name__)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
