"""Counts of the anonymous line to staff, kept in the log database: numbers, never text.

One row per hour and event: cases opened, messages relayed each way, and first staff replies
with the minutes they took. Nothing a user or a staff member wrote, no case reference and no
chat id is written here. Each event opens, writes and closes a short connection in a worker
thread (human chat rates are low), so a failing database never stops a relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from pathlib import Path
from typing import Literal

from bot.logdb import UTC_OFFSET_HOURS, local_day_start

logger = logging.getLogger(__name__)

Event = Literal["case_opened", "from_user", "from_staff", "first_reply"]
SCHEMA = """
CREATE TABLE IF NOT EXISTS help_counts (
    hour_ts INTEGER NOT NULL,   -- unix time rounded down to the hour (UTC)
    event TEXT NOT NULL,        -- case_opened, from_user, from_staff, first_reply
    count INTEGER NOT NULL,
    minutes REAL NOT NULL,      -- first_reply: the minutes to the first staff reply, summed
    PRIMARY KEY (hour_ts, event)
)
"""


def read_counts(con: sqlite3.Connection, since: float) -> dict[str, float]:
    """Figures since `since`: cases, relayed (both ways), first_replies, first_reply_minutes
    (the mean, rounded to a tenth; 0 when nobody replied yet). An absent table counts as zero."""
    has_table = con.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'help_counts'"
    ).fetchone()
    rows = (
        con.execute(
            "SELECT event, SUM(count), SUM(minutes) FROM help_counts WHERE hour_ts >= ?"
            " GROUP BY event",
            (int(since) // 3600 * 3600,),
        ).fetchall()
        if has_table
        else []
    )
    by_event = {event: (count, minutes) for event, count, minutes in rows}
    replies, minutes = by_event.get("first_reply", (0, 0.0))
    return {
        "cases": by_event.get("case_opened", (0, 0))[0],
        "relayed": by_event.get("from_user", (0, 0))[0] + by_event.get("from_staff", (0, 0))[0],
        "first_replies": replies,
        "first_reply_minutes": round(minutes / replies, 1) if replies else 0,
    }


class HelpCounts:
    """Adds to the counts in the database at `path` (the interaction log's file)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = asyncio.Lock()

    def _write(self, event: Event, minutes: float) -> None:
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=2.0)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(SCHEMA)
            hour = int(time.time()) // 3600 * 3600
            con.execute(
                "INSERT INTO help_counts (hour_ts, event, count, minutes) VALUES (?, ?, 1, ?)"
                " ON CONFLICT (hour_ts, event) DO UPDATE SET count = count + 1,"
                " minutes = minutes + excluded.minutes",
                (hour, event, minutes),
            )
            con.commit()
        finally:
            con.close()

    async def add(self, event: Event, minutes: float = 0.0) -> None:
        """Count one event; a database failure is logged and forgotten, never raised."""
        async with self._lock:
            try:
                await asyncio.to_thread(self._write, event, minutes)
            except sqlite3.Error as exc:
                logger.error("could not count a %s event of the staff line: %s", event, exc)

    def _today(self) -> dict[str, float]:
        if not self.path.exists():
            return read_counts(sqlite3.connect(":memory:"), 0)
        con = sqlite3.connect(self.path, timeout=2.0)
        try:
            return read_counts(con, local_day_start(time.time(), UTC_OFFSET_HOURS))
        finally:
            con.close()

    async def today(self) -> dict[str, float]:
        """Today's figures (Vietnam day) for /stats; empty when the database cannot be read."""
        try:
            return await asyncio.to_thread(self._today)
        except sqlite3.Error as exc:
            logger.error("could not read the staff line counts: %s", exc)
            return {}
