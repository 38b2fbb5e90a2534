"""Fault figures (issue 15): kill -9 and SIGTERM with a backlog against the fake Bot API, staff
alerts cut off by kill -9, and a YAML alias bomb. Prints figures; gates nothing.

    .venv/bin/python bench/faults.py [--kill-chats 500] [--term-chats 1000] [--alerts 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))


async def _drills(kill_chats: int, term_chats: int, overall: float) -> None:
    from fakebotapi import FakeBotAPI
    from faultdrill import kill9_drill, sigterm_drill

    with tempfile.TemporaryDirectory() as tmp:
        api = await FakeBotAPI().start()
        try:
            out = await kill9_drill(api, Path(tmp), chats=kill_chats,
                                    kill_after=kill_chats * 3 // 10, timeout=120,
                                    overall=overall)
        finally:
            await api.stop()
    print(f"kill -9 with {out.queued} queued ({overall:g} msg/s limit), "
          f"{out.answered_before} answered before the kill: "
          f"lost {out.lost}, duplicated {out.duplicated}")
    with tempfile.TemporaryDirectory() as tmp:
        api = await FakeBotAPI().start()
        try:
            out = await sigterm_drill(api, Path(tmp), chats=term_chats, timeout=180,
                                      overall=overall)
        finally:
            await api.stop()
    print(f"SIGTERM with {out.queued} queued (replies take 0.5 s each): exit after "
          f"{out.stop_seconds:.1f} s, {out.answered_before} answered before exit, "
          f"{out.queued - out.answered_before - out.lost} answered after restart, "
          f"lost {out.lost}, duplicated {out.duplicated}")


async def _alerts(cases: int) -> None:
    from fakebotapi import FakeBotAPI
    from faultdrill import alert_drill, urgent_text

    from bot.core.knowledge import load_knowledge
    from bot.core.responder import Responder

    text = urgent_text(Responder(load_knowledge(ROOT / "knowledge")))
    with tempfile.TemporaryDirectory() as tmp:
        api = await FakeBotAPI().start()
        try:
            out = await alert_drill(api, Path(tmp), text, chats=cases, timeout=180)
        finally:
            await api.stop()
    print(f"staff alerts, {out.cases} urgent cases, staff chat unreachable, kill -9: "
          f"{out.pending_at_stop} pending at the kill; after restart delivered once "
          f"{out.delivered_once}, twice or more {out.duplicated}, never {out.missing}")


def _alias_bomb() -> None:
    from bot.core.yamlfile import YamlSyntaxError, load_located

    levels = ["a: &a [" + ",".join(['"lol"'] * 9) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "\n".join(levels) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bomb.yaml"
        path.write_text(text, encoding="utf-8")
        tracemalloc.start()
        started = time.perf_counter()
        try:
            load_located(path)
            verdict = "LOADED (no limit!)"
        except YamlSyntaxError as exc:
            verdict = f"refused: {exc.issue}"
        took = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    print(f"YAML alias bomb ({len(text.encode())} bytes): {took * 1000:.0f} ms, "
          f"peak {peak / 1e3:.0f} kB, {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kill-chats", type=int, default=500)
    parser.add_argument("--term-chats", type=int, default=1000)
    parser.add_argument("--alerts", type=int, default=200,
                        help="urgent cases whose staff alerts the kill cuts off")
    parser.add_argument("--overall", type=float, default=30.0,
                        help="bot's overall messages/s limit (Telegram's is 30)")
    args = parser.parse_args()
    _alias_bomb()
    asyncio.run(_drills(args.kill_chats, args.term_chats, args.overall))
    asyncio.run(_alerts(args.alerts))


if __name__ == "__main__":
    main()
