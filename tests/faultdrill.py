"""Crash and stop drills against the fake Bot API with `python -m bot run` as a real process.

Shared by tests/test_telegram_delivery.py (small numbers) and bench/faults.py (the figures).
Every chat sends one `/111`, which the bot answers with exactly one message, so "answered" is a
chat with a reply and "duplicated" a chat with more than one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from fakebotapi import BOT_START_TIMEOUT, FakeBotAPI

from bot.privacy import user_key

ROOT = Path(__file__).resolve().parents[1]
HASH_SECRET = "drill-hash-secret-0123456789abcdef"
FIRST_CHAT = 20_000
ALERT_CHAT = -100_900  # the staff group of the alert drill
# Fitted weights shared by every bot this process starts: only the first start fits them.
FITTED_CACHE = Path(tempfile.mkdtemp(prefix="bot-drill-fitted-"))


def drill_config(tmp: Path, api: FakeBotAPI, overall: float = 30.0,
                 alert_chat: int | None = None) -> Path:
    """Telegram's own limit (30 messages/s) by default, as the bot runs in production."""
    config: dict[str, Any] = {
        "alerts": {"chat_id": alert_chat},
        "knowledge": {"path": str(ROOT / "knowledge")},
        "storage": {"database": str(tmp / "log.sqlite3"), "cache_dir": str(FITTED_CACHE)},
        "telegram": {
            "base_url": api.base_url,
            "rate_limit": {"overall_per_second": overall, "per_chat_per_second": 1,
                           "max_retries": 4},
        },
        "logging": {"level": "INFO"},
    }
    path = tmp / f"config-{overall}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


async def spawn(config: Path, api: FakeBotAPI) -> asyncio.subprocess.Process:
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=api.token, BOT_HASH_SECRET=HASH_SECRET,
               PYTHONUNBUFFERED="1")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "run",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )


@dataclass
class Outcome:
    queued: int
    answered_before: int  # chats answered before the kill / SIGTERM took effect
    lost: int  # chats never answered after the restart
    duplicated: int  # chats answered more than once
    stop_seconds: float = 0.0


def _replies(api: FakeBotAPI, chats: int) -> Counter[int]:
    wanted = range(FIRST_CHAT, FIRST_CHAT + chats)
    counts = Counter(s.chat_id for s in api.sent if s.chat_id in wanted)
    return counts


async def _restart_and_finish(api: FakeBotAPI, tmp: Path, chats: int, timeout: float,
                              overall: float) -> None:
    """Restart, then wait until every chat has a reply AND the bot has confirmed every update
    (so each re-delivery was handled, answered or dropped, and every duplicate is counted);
    on timeout what is missing counts as lost."""
    proc = await spawn(drill_config(tmp, api, overall), api)
    last = max(update["update_id"] for update in api.updates)
    try:
        await api.wait_for(
            lambda: len(_replies(api, chats)) == chats and api.confirmed >= last,
            timeout=timeout,
        )
    except AssertionError:  # FakeBotAPI.wait_for's timeout
        pass
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.communicate()


async def kill9_drill(api: FakeBotAPI, tmp: Path, chats: int = 500, kill_after: int = 150,
                      timeout: float = 60.0, overall: float = 30.0) -> Outcome:
    """Queue `chats` messages, SIGKILL the bot after `kill_after` replies, restart, count."""
    api.send_delay = 0.005
    proc = await spawn(drill_config(tmp, api, overall), api)
    await api.wait_for(lambda: api.count("getUpdates") > 0, timeout=BOT_START_TIMEOUT)
    for index in range(chats):
        api.message(FIRST_CHAT + index, "/111")
    await api.wait_for(lambda: len(api.sent) >= kill_after, timeout=timeout)
    proc.kill()
    await proc.wait()
    before = len(_replies(api, chats))
    api.send_delay = 0.0
    await _restart_and_finish(api, tmp, chats, timeout, overall)
    counts = _replies(api, chats)
    return Outcome(chats, before, chats - len(counts), sum(1 for c in counts.values() if c > 1))


async def sigterm_drill(api: FakeBotAPI, tmp: Path, chats: int = 1000, timeout: float = 60.0,
                        overall: float = 30.0) -> Outcome:
    """Queue a slow backlog (each reply takes 0.5 s), SIGTERM, time the exit, restart, count."""
    api.send_delay = 0.5
    proc = await spawn(drill_config(tmp, api, overall), api)
    await api.wait_for(lambda: api.count("getUpdates") > 0, timeout=BOT_START_TIMEOUT)
    for index in range(chats):
        api.message(FIRST_CHAT + index, "/111")
    await api.wait_for(lambda: len(api.sent) >= 10, timeout=timeout)
    loop = asyncio.get_running_loop()
    started = loop.time()
    proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
    took = loop.time() - started
    before = len(_replies(api, chats))
    api.send_delay = 0.0
    await _restart_and_finish(api, tmp, chats, timeout, overall)
    counts = _replies(api, chats)
    return Outcome(chats, before, chats - len(counts),
                   sum(1 for c in counts.values() if c > 1), took)


@dataclass
class AlertOutcome:
    cases: int  # urgent messages, one per chat
    pending_at_stop: int  # alerts in the outbox, unsent, when the bot died
    delivered_once: int  # cases whose alert reached the staff chat exactly once after restart
    duplicated: int  # cases alerted more than once
    missing: int  # cases never alerted
    stop_seconds: float = 0.0
    restart_log: str = ""  # the end of the restarted bot's log, to read when a case is missing


def _query(database: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read the bot's log database from outside (WAL: never blocks the bot)."""
    if not database.exists():
        return []
    con = sqlite3.connect(database, timeout=5)
    try:
        return con.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        con.close()


async def _until(check: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.1)
    return bool(check())


def urgent_text(responder: Any) -> str:
    """A message the bot treats as urgent (answered with 111 first, alerted to staff)."""
    for text in ("cứu em với, bố đang đánh em chảy máu", "có người đang đánh em", "em muốn chết"):
        if responder.respond(text).urgent:
            return text
    raise AssertionError("none of the drill's urgent messages is urgent any more")


async def alert_drill(api: FakeBotAPI, tmp: Path, urgent_text: str, chats: int = 10,
                      how: str = "kill", timeout: float = 60.0) -> AlertOutcome:
    """`chats` urgent messages while every send to the staff chat hangs; once every user has
    the reply and every alert waits in the outbox, the bot is killed (`how`: "kill" for
    SIGKILL, "term" for SIGTERM and its bounded shutdown); then the staff chat works again,
    the bot restarts, and each case's alert is counted in the staff chat (by its case ref)."""
    database = tmp / "log.sqlite3"
    api.held_chats.add(ALERT_CHAT)
    proc = await spawn(drill_config(tmp, api, alert_chat=ALERT_CHAT), api)
    await api.wait_for(lambda: api.count("getUpdates") > 0, timeout=BOT_START_TIMEOUT)
    for index in range(chats):
        api.message(FIRST_CHAT + index, urgent_text)
    await api.wait_for(lambda: len(_replies(api, chats)) == chats, timeout=timeout)
    if not await _until(lambda: len(_query(database, "SELECT id FROM staff_alerts")) >= chats
                        and len(_query(database, "SELECT id FROM exchanges")) >= chats, timeout):
        raise AssertionError("the alerts and exchanges never all reached the log database")
    loop = asyncio.get_running_loop()
    started = loop.time()
    if how == "kill":
        proc.kill()
        await proc.wait()
    else:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 30)
    took = loop.time() - started
    pending = len(_query(database, "SELECT id FROM staff_alerts WHERE sent = 0"))
    keys = {user_key(HASH_SECRET.encode(), FIRST_CHAT + i): i for i in range(chats)}
    refs = {keys[key]: ref for ref, key in _query(database, "SELECT ref, user_key FROM exchanges")
            if key in keys}
    api.held_chats.clear()
    proc = await spawn(drill_config(tmp, api, alert_chat=ALERT_CHAT), api)

    def counts() -> list[int]:
        staff = [s.text for s in api.sent_to(ALERT_CHAT)]
        return [sum(text.count(refs[i]) for text in staff) if i in refs else 0
                for i in range(chats)]

    try:
        await _until(lambda: all(counts()), timeout)
        await api.settle(1.0)  # a duplicate would come now
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await proc.communicate()
    found = counts()
    return AlertOutcome(chats, pending, sum(c == 1 for c in found), sum(c > 1 for c in found),
                        sum(c == 0 for c in found), took,
                        stderr.decode("utf-8", errors="replace")[-3000:])
