"""The interaction log's SQLite database: schema migrations, opening, deletes that leave no
trace, and the command-line purge. `bot.store.InteractionLog` writes through it."""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from pathlib import Path
from typing import Any

import aiosqlite

UTC_OFFSET_HOURS = 7  # Vietnam (no daylight saving): "today" and report days are local days
VIETNAM = dt.timezone(dt.timedelta(hours=UTC_OFFSET_HOURS))

# One script per schema version; never edit a released script, append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE exchanges (
        id INTEGER PRIMARY KEY,
        ref TEXT NOT NULL UNIQUE,          -- random, for feedback buttons; not from the user id
        hour_ts INTEGER NOT NULL,          -- unix time rounded down to the hour (UTC)
        user_key TEXT NOT NULL,            -- HMAC-SHA256(BOT_HASH_SECRET, telegram id), truncated
        audience TEXT,
        message TEXT NOT NULL,             -- redacted and truncated
        entry_id TEXT,                     -- entry answered
        suggestion_id TEXT,                -- top suggestion for did-you-mean / fallback
        score REAL NOT NULL,
        band TEXT NOT NULL,
        urgent INTEGER NOT NULL,
        category TEXT,
        helpful INTEGER                    -- NULL: no feedback, 1 helpful, 0 not helpful
    );
    CREATE INDEX exchanges_hour ON exchanges(hour_ts);
    CREATE INDEX exchanges_user ON exchanges(user_key);
    """,
    # 2: what must survive a restart: staff alerts not yet sent, and /xoa not yet executed.
    """
    CREATE TABLE staff_alerts (
        id INTEGER PRIMARY KEY,            -- queue order
        case_key TEXT NOT NULL UNIQUE,     -- HMAC(BOT_HASH_SECRET, chat and message id): one
                                           -- alert per case, even across restarts
        urgent INTEGER NOT NULL,
        hour_ts INTEGER NOT NULL,          -- unix time rounded down to the hour (UTC)
        alert TEXT NOT NULL,               -- the alert as sent (message redacted); '' once sent
        sent INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX staff_alerts_pending ON staff_alerts(sent, urgent, id);
    CREATE TABLE pending_forgets (
        user_key TEXT PRIMARY KEY,         -- as in exchanges: whose rows /xoa must delete
        hour_ts INTEGER NOT NULL
    );
    """,
]


class StoreError(RuntimeError):
    """The log database cannot be used (e.g. its schema is newer than this code)."""


async def open_database(path: Path, *, busy_timeout: float = 1.0) -> aiosqlite.Connection:
    """Open (creating if needed) the log database: WAL, secure delete, schema migrated."""
    path = Path(path)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
    db = await aiosqlite.connect(path, timeout=busy_timeout, isolation_level=None)
    try:
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute("PRAGMA synchronous=NORMAL")
        # Deleted rows (forget, purge) are overwritten, not left in free pages.
        await db.execute("PRAGMA secure_delete=ON")
        await _migrate(db)
    except BaseException:
        await db.close()
        raise
    return db


async def _migrate(db: aiosqlite.Connection) -> None:
    await db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    async with db.execute("SELECT MAX(version) FROM schema_version") as cursor:
        row = await cursor.fetchone()
    current = (row[0] if row else None) or 0
    if current > len(MIGRATIONS):
        raise StoreError(f"log schema version {current} is newer than this code knows")
    for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
        try:
            await db.executescript(
                f"BEGIN IMMEDIATE;\n{script}\n"
                f"INSERT INTO schema_version (version) VALUES ({version});\nCOMMIT;"
            )
        except BaseException:
            if db.in_transaction:
                await db.execute("ROLLBACK")
            raise


async def delete_and_scrub(
    db: aiosqlite.Connection, sql: str, params: tuple[Any, ...],
    then: tuple[str, tuple[Any, ...]] | None = None,
) -> int:
    """Delete in one transaction (with `then`, a second statement, in the same one), then
    checkpoint so the deleted text leaves the WAL file too. Returns what `sql` deleted."""
    await db.execute("BEGIN IMMEDIATE")
    try:
        cursor = await db.execute(sql, params)
        deleted = cursor.rowcount
        if then is not None:
            await db.execute(*then)
        await db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            await db.execute("ROLLBACK")
        raise
    with contextlib.suppress(aiosqlite.Error):
        await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return max(deleted, 0)


DAY_FIGURES = (
    "messages", "answer", "did_you_mean", "fallback", "urgent", "helpful", "not_helpful"
)


async def day_figures(db: aiosqlite.Connection, start: int) -> Any:
    """The DAY_FIGURES of exchanges logged since `start` (unix time), as one row."""
    async with db.execute(
        "SELECT COUNT(*),"
        " COALESCE(SUM(band = 'answer'), 0),"
        " COALESCE(SUM(band = 'did-you-mean'), 0),"
        " COALESCE(SUM(band = 'fallback'), 0),"
        " COALESCE(SUM(urgent), 0),"
        " COALESCE(SUM(helpful = 1), 0),"
        " COALESCE(SUM(helpful = 0), 0)"
        " FROM exchanges WHERE hour_ts >= ?",
        (start,),
    ) as cursor:
        return await cursor.fetchone()


def local_day_start(now: float, utc_offset_hours: int) -> int:
    offset = utc_offset_hours * 3600
    return int((now + offset) // 86400 * 86400 - offset)


async def run_purge(db_path: Path, retention_days: int, *, now: float | None = None) -> int:
    """`python -m bot log purge`: delete rows older than `retention_days` from the database at
    `db_path`; returns how many. A missing database is not created (nothing to purge)."""
    if retention_days < 0:
        raise ValueError("retention_days must be >= 0")
    db_path = Path(db_path)
    if not db_path.exists():
        return 0
    cutoff = (time.time() if now is None else now) - retention_days * 86400
    db = await open_database(db_path, busy_timeout=5.0)
    try:
        return await purge_older(db, cutoff)
    finally:
        await db.close()


async def purge_older(db: aiosqlite.Connection, cutoff: float) -> int:
    """Delete exchanges (returned: how many) and staff alerts logged before `cutoff`."""
    await delete_and_scrub(db, "DELETE FROM staff_alerts WHERE hour_ts < ?", (cutoff,))
    return await delete_and_scrub(db, "DELETE FROM exchanges WHERE hour_ts < ?", (cutoff,))
