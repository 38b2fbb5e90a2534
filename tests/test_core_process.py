"""Answers found in a child process: the same replies, and never a missing one.

What a user would notice if it were wrong: a different answer on Telegram than in the terminal,
an urgent message answered late or not at all because the child died or hung, an old answer
after staff reloaded the knowledge base.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import KNOWLEDGE, StartBot

from bot.core.knowledge import load_knowledge
from bot.core.responder import Responder
from bot.core_process import CoreProcess
from bot.telegram import render as tui

DATA = Path(__file__).parent / "data"
URGENT = "chú hàng xóm hay sờ vào chỗ kín của em, em sợ lắm"


def _messages() -> list[str]:
    evals = yaml.safe_load((DATA / "eval.yaml").read_text(encoding="utf-8"))
    urgent = yaml.safe_load((DATA / "triage_urgent.yaml").read_text(encoding="utf-8"))
    return ([m["text"] for m in evals[:60]] + [m["text"] for m in urgent["messages"][:40]]
            + ["", "   ", "xin chao", "a" * 20_000, URGENT])


@pytest.fixture
async def core(shared_responder: Responder) -> Any:
    process = CoreProcess(timeout=2.0, restart_after=0.2)
    await process.start(shared_responder)
    assert await process.wait_ready(60)
    yield process
    await process.stop()


async def test_child_gives_the_same_replies(core: CoreProcess, shared_responder: Responder
                                            ) -> None:
    for audience in (None, "child", "teacher"):
        for text in _messages():
            remote = await core.respond(shared_responder, text, audience)
            assert remote == shared_responder.respond(text, audience), text[:60]
    assert core.fallbacks == 0


async def test_a_dead_child_still_gets_every_reply(core: CoreProcess,
                                                   shared_responder: Responder) -> None:
    pid = core.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    replies = await asyncio.gather(*(core.respond(shared_responder, URGENT, "child")
                                     for _ in range(20)))
    assert all(r.urgent and "111" in r.parts[0] for r in replies)
    assert await core.wait_ready(60)  # replaced
    assert core.pid != pid
    reply = await core.respond(shared_responder, URGENT, "child")
    assert reply == shared_responder.respond(URGENT, "child")


async def test_a_hung_child_costs_at_most_the_timeout(shared_responder: Responder) -> None:
    core = CoreProcess(timeout=0.3, restart_after=60)
    await core.start(shared_responder)
    assert await core.wait_ready(60)
    assert core.pid is not None
    os.kill(core.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        reply = await core.respond(shared_responder, URGENT, None)
        assert time.monotonic() - started < 1.0
        assert reply.urgent
        assert core.fallbacks == 1
    finally:
        os.kill(core.pid, signal.SIGCONT)
        await core.stop()


async def test_reloaded_knowledge_answers_at_once(core: CoreProcess, tmp_path: Path,
                                                  shared_responder: Responder) -> None:
    """After /reload the new knowledge answers, in-process until its child is ready."""
    import shutil

    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    ui = folder / "ui.yaml"
    ui.write_text(ui.read_text(encoding="utf-8").replace(
        "fallback: |\n", "fallback: |\n  BẢN MỚI.\n", 1), encoding="utf-8")
    new = Responder(load_knowledge(folder))
    assert new.ui.fallback.startswith("BẢN MỚI.")
    await core.start(new)
    question = "zzqx khong lien quan gi het"
    assert (await core.respond(new, question, None)).parts[0].startswith("BẢN MỚI.")
    assert await core.wait_ready(60)
    assert (await core.respond(new, question, None)).parts[0].startswith("BẢN MỚI.")
    assert core.fallbacks == 0
    # a message still in flight with the old knowledge base is answered by it, in-process
    old = await core.respond(shared_responder, question, None)
    assert not old.parts[0].startswith("BẢN MỚI.")


async def test_child_gets_no_secrets(core: CoreProcess, monkeypatch: pytest.MonkeyPatch,
                                     shared_responder: Responder) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456789:SECRET-token_abcdefghijklmnopqrstuvw")
    monkeypatch.setenv("BOT_HASH_SECRET", "hash-secret-" + "x" * 32)
    await core.start(shared_responder)
    assert await core.wait_ready(60)
    environ = Path(f"/proc/{core.pid}/environ").read_bytes()
    assert b"SECRET-token" not in environ and b"hash-secret" not in environ


async def test_telegram_bot_answers_through_the_child(start_bot: StartBot) -> None:
    running = await start_bot(telegram={"core_process": True})
    core = running.app.bot_data["state"].core
    assert core is not None and await core.wait_ready(60)
    running.api.message(31_001, "tổng đài bảo vệ trẻ em số mấy")
    running.api.message(31_002, URGENT)
    answer = (await running.api.wait_sent(31_001, 1))[0]
    urgent = (await running.api.wait_sent(31_002, 1))[0]
    assert "111" in answer.text
    expected = running.state.responder.respond(URGENT)  # what the terminal would say first
    assert expected.urgent
    assert urgent.text == tui.reply_messages(running.ui, expected, "ref")[0][0]
    assert "111" in urgent.text
    assert core.fallbacks == 0
