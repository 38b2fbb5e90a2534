"""Interaction log: nothing identifying reaches the file, a broken database never holds up a
reply, and forget / purge delete exactly what they must."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.core.responder import Reply, Suggestion
from bot.logdb import MIGRATIONS
from bot.privacy import user_key
from bot.store import InteractionLog, run_purge

SECRET = b"test-secret"
HOUR = 3600
DAY = 86400


def FakeReply(**fields) -> Reply:  # noqa: N802 - reads like the constructor it wraps
    """A core Reply with the fields the log stores; the text itself is irrelevant here."""
    fields.setdefault("band", "answer")
    fields.setdefault("entry_id", "goi-111" if fields["band"] == "answer" else None)
    fields.setdefault("score", 91.0)
    return Reply(parts=("…",), **fields)


ANSWER = FakeReply()


class Clock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rows(db_path: Path, sql: str = "SELECT * FROM exchanges ORDER BY id") -> list[sqlite3.Row]:
    with sqlite3.connect(db_path) as con:
        con.row_factory = sqlite3.Row
        return con.execute(sql).fetchall()


_open_logs: list[InteractionLog] = []


def make_log(path: Path, **kwargs) -> InteractionLog:
    kwargs.setdefault("retry_base", 0.02)
    kwargs.setdefault("retry_max", 0.05)
    kwargs.setdefault("busy_timeout", 0.05)
    kwargs.setdefault("linger", 0)
    log = InteractionLog(path, SECRET, **kwargs)
    _open_logs.append(log)
    return log


@pytest.fixture(autouse=True)
async def _close_logs():
    """A failing test must not leave an aiosqlite thread running (it would hang pytest)."""
    yield
    while _open_logs:
        log = _open_logs.pop()
        log._close_timeout = 0.2
        await log.close()


@contextmanager
def locked(db_path: Path) -> Iterator[None]:
    """Another connection holds an exclusive lock: every write of the log fails meanwhile."""
    locker = sqlite3.connect(db_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        locker.execute("ROLLBACK")
        locker.close()


def all_bytes(db_path: Path) -> bytes:
    data = b""
    for suffix in ("", "-wal", "-shm", "-journal"):
        part = Path(str(db_path) + suffix)
        if part.exists():
            data += part.read_bytes()
    return data


async def test_a_row_holds_the_exchange_without_identity(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    clock = Clock(1_750_001_234.0)
    log = make_log(db, clock=clock)
    await log.start()
    reply = FakeReply(
        band="did-you-mean",
        entry_id=None,
        score=64.5,
        suggestions=(Suggestion("bao-cao", "Báo cáo"),),
    )
    ref = log.record(555000111, "parent", "Tên tôi là Hoa, con bị đánh thì báo ai", reply)
    assert await log.flush()
    [row] = rows(db)
    assert row["ref"] == ref and len(ref) <= 12 and ref.isascii()
    assert row["hour_ts"] % HOUR == 0 and 0 <= clock.now - row["hour_ts"] < HOUR
    assert row["user_key"] == user_key(SECRET, 555000111)
    assert row["audience"] == "parent"
    assert row["message"] == "Tên tôi là [TÊN], con bị đánh thì báo ai"
    assert (row["band"], row["entry_id"], row["suggestion_id"]) == ("did-you-mean", None, "bao-cao")
    assert row["score"] == 64.5 and row["urgent"] == 0 and row["helpful"] is None
    await log.close()


async def test_feedback_lands_on_its_exchange(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db)
    await log.start()
    first = log.record(1, "child", "111 là gì", ANSWER)
    second = log.record(2, "child", "báo ai", ANSWER)
    third = log.record(3, "child", "gọi ai", ANSWER)
    log.record_feedback(first, helpful=False, user_id=1)
    log.record_feedback(second, helpful=True, user_id=2)
    log.record_feedback("forged-ref", helpful=True, user_id=1)  # unknown ref: ignored, no error
    log.record_feedback(third, helpful=False, user_id=2)  # not user 2's exchange: ignored
    await log.close()
    helpful = {r["ref"]: r["helpful"] for r in rows(db)}
    assert helpful == {first: 0, second: 1, third: None}


async def test_long_messages_are_truncated(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db)
    await log.start()
    log.record(1, None, "a" * 5000, ANSWER)
    await log.close()
    assert len(rows(db)[0]["message"]) == 500


async def test_no_raw_id_phone_email_or_name_reaches_the_file(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db)
    await log.start()
    telegram_id = 987654321
    messages = [
        "Tên em là Nguyễn Thị Lan, sđt 0912 345 678",
        "mail mẹ em: quynh.tran88@gmail.com",
        "con tôi tên Bống, cccd 001099012345",
        "gọi +84 987 111 222 nha, fb @bongbong2012",
        "em tên Khuê, số 0987.654.321",
    ]
    for text in messages:
        log.record(telegram_id, "child", text, ANSWER)
    assert await log.flush()
    secrets_ = [
        b"987654321",
        b"0912 345 678",
        b"912345678",
        b"quynh.tran88",
        b"gmail",
        b"Nguy",
        b"Lan",
        "Bống".encode(),
        "Khuê".encode(),
        b"001099012345",
        b"987 111 222",
        b"bongbong2012",
        b"0987.654.321",
    ]
    data = all_bytes(db)  # while open: main file, -wal and -shm
    assert Path(str(db) + "-wal").exists()
    for secret in secrets_:
        assert secret not in data, secret
    await log.close()
    closed = all_bytes(db)
    for secret in secrets_:
        assert secret not in closed, secret
    assert "[SĐT]".encode() in closed  # the messages themselves are there, redacted


async def test_record_while_database_is_locked_returns_at_once_and_rows_land_later(
    tmp_path: Path,
) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db)
    await log.start()
    with locked(db):
        refs = [log.record(i, "child", f"câu hỏi {i}", ANSWER) for i in range(50)]
        assert len(set(refs)) == 50 and log.pending == 50
        # The event loop keeps serving other work (replies) while the writer is stuck.
        ticks = 0
        for _ in range(20):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20
        assert not await log.flush(timeout=0.2)
        assert log.pending == 50  # kept, not lost
    assert await log.flush(timeout=5)
    assert len(rows(db)) == 50
    assert log.dropped == 0
    await log.close()


async def test_corrupt_then_replaced_database_keeps_rows_until_it_can_write(
    tmp_path: Path,
) -> None:
    db = tmp_path / "log.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    log = make_log(db)
    await log.start()  # must not raise
    log.record(1, "child", "em bị đánh", ANSWER)
    assert not await log.flush(timeout=0.2)
    assert log.pending == 1
    db.unlink()  # staff move the corrupt file away
    assert await log.flush(timeout=5)
    assert [r["message"] for r in rows(db)] == ["em bị đánh"]
    await log.close()


async def test_missing_directory_keeps_rows_until_it_exists(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the directory should be")
    db = blocker / "log.sqlite3"
    log = make_log(db)
    await log.start()
    log.record(1, "child", "câu hỏi", ANSWER)
    assert not await log.flush(timeout=0.2)
    blocker.unlink()
    blocker.mkdir()
    assert await log.flush(timeout=5)
    assert len(rows(db)) == 1
    await log.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
async def test_read_only_database_keeps_rows(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db)
    await log.start()
    await log.close()
    db.chmod(0o444)
    tmp_path.chmod(0o555)
    log = make_log(db)
    try:
        await log.start()
        log.record(1, "child", "câu hỏi", ANSWER)
        assert not await log.flush(timeout=0.2)
        assert log.pending == 1
    finally:
        tmp_path.chmod(0o755)
        db.chmod(0o644)
    assert await log.flush(timeout=5)
    await log.close()
    assert len(rows(db)) == 1


async def test_full_buffer_drops_the_oldest_and_counts(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("")
    log = make_log(blocker / "log.sqlite3", queue_size=3, close_timeout=0.2)
    for i in range(5):
        log.record(i, "child", f"m{i}", ANSWER)
    assert log.pending == 3 and log.dropped == 2
    blocker.unlink()
    await log.start()
    await log.close()
    assert [r["message"] for r in rows(blocker / "log.sqlite3")] == ["m2", "m3", "m4"]


async def test_close_flushes_the_queue(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db, linger=0.5)
    await log.start()
    for i in range(1200):
        log.record(i, "teacher", f"câu {i}", ANSWER)
    await log.close()
    assert len(rows(db)) == 1200


async def test_forget_deletes_every_row_of_that_user_and_nothing_else(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db)
    await log.start()
    for i in range(3):
        log.record(42, "child", f"tôi muốn quên zxqv{i}", ANSWER)
        log.record(43, "child", f"người khác {i}", ANSWER)
    assert await log.flush()
    queued = log.record(42, "child", "vẫn trong hàng đợi zxqv9", ANSWER)
    log.record_feedback(queued, helpful=True, user_id=42)
    assert await log.forget(42) == 4
    assert b"zxqv" not in all_bytes(db)  # not in free pages or old WAL frames, even while open
    await log.close()
    left = rows(db)
    assert [r["message"] for r in left] == [f"người khác {i}" for i in range(3)]
    assert {r["user_key"] for r in left} == {user_key(SECRET, 43)}


async def test_forget_while_database_is_locked_is_applied_later(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db)
    await log.start()
    log.record(42, "child", "của tôi", ANSWER)
    log.record(43, "child", "của bạn", ANSWER)
    assert await log.flush()
    with locked(db):
        await log.forget(42)
    assert await log.flush(timeout=5)
    await log.close()
    assert [r["message"] for r in rows(db)] == ["của bạn"]


BLOCK_DELETES = (
    "CREATE TRIGGER block_deletes BEFORE DELETE ON exchanges"
    " BEGIN SELECT RAISE(ABORT, 'disk stalled'); END"
)


async def test_an_accepted_forget_that_could_not_run_is_finished_at_the_next_start(
    tmp_path: Path,
) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db)
    await log.start()
    log.record(42, "child", "của tôi zxqv", ANSWER)
    log.record(43, "child", "của bạn", ANSWER)
    assert await log.flush()
    with sqlite3.connect(db) as con:
        con.execute(BLOCK_DELETES)  # the deletion itself fails after the request is recorded
    forgotten = await log.request_forget(42)
    assert forgotten.durable  # recorded: the user may be told it is done
    await log.close()  # the bot stops before the deletion could run
    assert len(rows(db)) == 2
    with sqlite3.connect(db) as con:
        con.execute("DROP TRIGGER block_deletes")
    log = make_log(db)
    await log.start()
    assert await log.flush(timeout=5)
    await log.close()
    assert [r["message"] for r in rows(db)] == ["của bạn"]
    assert rows(db, "SELECT * FROM pending_forgets") == []
    assert b"zxqv" not in all_bytes(db)


async def test_a_forget_that_cannot_be_recorded_says_so(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db)
    await log.start()
    log.record(42, "child", "của tôi", ANSWER)
    assert await log.flush()
    with locked(db):
        forgotten = await log.request_forget(42)
    assert not forgotten.durable
    assert await log.flush(timeout=5)  # still retried while the bot runs
    await log.close()
    assert rows(db) == []


async def test_purge_deletes_only_rows_older_than_retention(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    clock = Clock()
    log = make_log(db, clock=clock)
    await log.start()
    start = clock.now
    for age_days in (0, 10, 29, 31, 45, 200):
        clock.now = start - age_days * DAY
        log.record(1, "child", f"tuổi {age_days}", ANSWER)
    assert await log.flush()
    clock.now = start
    assert await log.purge(30) == 3
    await log.close()
    assert [r["message"] for r in rows(db)] == ["tuổi 0", "tuổi 10", "tuổi 29"]


async def test_run_purge_for_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    clock = Clock()
    log = make_log(db, clock=clock)
    await log.start()
    start = clock.now
    for age_days in (1, 100):
        clock.now = start - age_days * DAY
        log.record(1, "child", f"tuổi {age_days}", ANSWER)
    await log.close()
    assert await run_purge(db, 90, now=start) == 1
    assert [r["message"] for r in rows(db)] == ["tuổi 1"]
    assert await run_purge(tmp_path / "missing.sqlite3", 90) == 0
    assert not (tmp_path / "missing.sqlite3").exists()


async def test_day_stats_counts_today_only(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    clock = Clock(1_750_000_000.0)  # 2025-06-15 22:06 in Vietnam (UTC+7)
    log = make_log(db, clock=clock)
    await log.start()
    log.record(1, "child", "a", ANSWER)
    log.record(1, "child", "b", FakeReply(band="fallback", entry_id=None, score=20))
    log.record(2, "child", "c", FakeReply(band="did-you-mean", entry_id=None, score=60))
    log.record(3, "child", "d", FakeReply(band="answer", urgent=True, category="sexual-abuse"))
    clock.now -= DAY
    log.record(4, "child", "yesterday", ANSWER)
    clock.now += DAY
    assert await log.flush()
    stats = await log.day_stats()
    await log.close()
    assert stats["day"] == "2025-06-15"
    assert (stats["messages"], stats["answer"], stats["did_you_mean"], stats["fallback"]) == (
        4,
        2,
        1,
        1,
    )
    assert stats["urgent"] == 1 and stats["pending"] == 0 and stats["dropped"] == 0


async def test_schema_version_is_recorded_and_reopening_keeps_rows(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db)
    await log.start()
    log.record(1, "child", "a", ANSWER)
    await log.close()
    log = make_log(db)
    await log.start()
    log.record(1, "child", "b", ANSWER)
    await log.close()
    assert len(rows(db)) == 2
    assert rows(db, "SELECT MAX(version) AS v FROM schema_version")[0]["v"] == len(MIGRATIONS)
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_broken_database_is_logged_once_and_the_log_names_no_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "log.sqlite3"
    log = make_log(db)
    await log.start()
    with locked(db), caplog.at_level("INFO", logger="bot.store"):
        for i in range(5):
            log.record(777000111, "child", f"em tên Lan 0912345678 lần {i}", ANSWER)
            await asyncio.sleep(0.05)  # several failed attempts in between
        assert not await log.flush(timeout=0.2)
    assert await log.flush(timeout=5)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "locked" in errors[0].getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("777000111", "Lan", "0912345678"):
        assert secret not in logged


async def test_record_never_raises_into_the_reply_path(tmp_path: Path) -> None:
    log = make_log(tmp_path / "log.sqlite3")
    await log.start()
    broken = FakeReply()
    object.__setattr__(broken, "score", "not a number")
    ref = log.record(1, "child", "câu hỏi", broken)
    assert ref and log.pending == 0
    assert log.record(1, "child", "câu hỏi", ANSWER) != ref
    assert log.pending == 1


async def test_day_stats_on_an_unreadable_database_still_reports_the_queue(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    db.write_bytes(b"garbage" * 500)
    log = make_log(db)
    await log.start()
    log.record(1, "child", "a", ANSWER)
    stats = await log.day_stats()
    assert stats["pending"] == 1 and "messages" not in stats
