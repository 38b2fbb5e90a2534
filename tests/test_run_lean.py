"""`python -m bot run` as a real process never loads scikit-learn (issue 12: ~110 MB of memory),
neither on a first start (weights fitted in a child process), nor on a restart (weights read
from the disk), nor after /reload of a changed knowledge base."""

from __future__ import annotations

import html
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ADMIN_ID, HASH_SECRET, KNOWLEDGE, ROOT, write_config
from fakebotapi import FakeBotAPI

QUESTION_CHAT = 9100


def _mapped_files(pid: int) -> str:
    """The files the process has mapped: every compiled module it imported is one of them."""
    return Path(f"/proc/{pid}/maps").read_text()


def _start(config: Path, api: FakeBotAPI, log: Path) -> subprocess.Popen:
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=api.token, BOT_HASH_SECRET=HASH_SECRET,
               PYTHONUNBUFFERED="1")
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(config), "run"],
            cwd=ROOT, env=env, stdout=out, stderr=out,
        )


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def add_triage_question(knowledge: Path, text: str) -> None:
    """What staff do to teach the triage one more ordinary question: a new fit is due."""
    examples = sorted((knowledge / "triage_examples").glob("*.yaml"))[0]
    doc = yaml.safe_load(examples.read_text(encoding="utf-8"))
    doc.setdefault("question", []).append(text)
    examples.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

async def _answered(api: FakeBotAPI, proc: subprocess.Popen, text: str) -> str:
    """Send a question and wait for the bot's reply; then what the bot process has mapped."""
    before = len(api.sent_to(QUESTION_CHAT))
    api.message(QUESTION_CHAT, text)
    await api.wait_sent(QUESTION_CHAT, before + 1, timeout=180)
    assert proc.poll() is None
    return _mapped_files(proc.pid)


def _assert_lean(maps: str) -> None:
    assert "/numpy/" in maps  # the check can see compiled modules at all
    assert "/sklearn/" not in maps  # scikit-learn's compiled modules: never loaded
    assert "/scipy/" not in maps  # nor scipy: the index is plain numpy arrays


async def test_the_bot_process_answers_without_ever_loading_scikit_learn(
    fake_api: FakeBotAPI, tmp_path: Path
) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    cache = tmp_path / "fitted"
    config = write_config(
        tmp_path, fake_api, knowledge={"path": str(knowledge)},
        storage={"database": str(tmp_path / "log.sqlite3"), "cache_dir": str(cache)},
    )
    log = tmp_path / "bot.log"
    question = "làm sao dạy con nhỏ biết giữ an toàn cơ thể"

    proc = _start(config, fake_api, log)  # a first start: nothing kept yet
    try:
        _assert_lean(await _answered(fake_api, proc, question))
    finally:
        _stop(proc)
    first_log = log.read_text(encoding="utf-8", errors="replace")
    assert "fit_triage ran in a child process" in first_log
    assert "build_index ran in a child process" in first_log
    kept = sorted(p.name.split("-")[0] + p.suffix for p in cache.iterdir())
    assert kept == ["ranker.json", "ranker.npz", "rankertexts.json", "rankertexts.npz",
                    "triage.json", "triage.npz", "triagetexts.json", "triagetexts.npz"]
    first_reply = fake_api.sent_to(QUESTION_CHAT)[-1].text

    log.write_text("")
    proc = _start(config, fake_api, log)  # a restart: the weights come from the disk
    try:
        _assert_lean(await _answered(fake_api, proc, question))
        assert fake_api.sent_to(QUESTION_CHAT)[-1].text == first_reply

        # staff add an example and /reload: new weights, fitted in a child again
        add_triage_question(knowledge, "con tôi hỏi cách trồng cà chua trên ban công")
        fake_api.message(ADMIN_ID, "/reload")
        [reply] = await fake_api.wait_sent(ADMIN_ID, 1, timeout=180)
        assert reply.text.startswith("Đã nạp lại kho kiến thức"), reply.text
        _assert_lean(await _answered(fake_api, proc, question))
    finally:
        _stop(proc)
    second_log = log.read_text(encoding="utf-8", errors="replace")
    assert "triage weights loaded from" in second_log
    assert second_log.count("fit_triage ran in a child process") == 1  # the reload's only
    assert len(list(cache.glob("triage-*.json"))) == 2


async def test_a_reload_whose_fit_fails_keeps_the_old_knowledge_and_says_so(
    start_bot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import fitstore
    from bot.core import fitting

    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    bot = await start_bot(knowledge={"path": str(knowledge)})
    api, ui = bot.api, bot.ui
    old = bot.state.responder
    # the fit's child process is killed at once: what a child that runs out of memory looks like
    monkeypatch.setattr(fitstore, "FIT_TIMEOUT_SECONDS", 0.01)
    fitting.configure(fitstore.DiskWeights(tmp_path / "fitted"), fitstore.fit_in_child)
    try:
        add_triage_question(knowledge, "cháu hỏi cách nuôi cá vàng trong bể kính")
        api.message(ADMIN_ID, "/reload")
        [reply] = await api.wait_sent(ADMIN_ID, 1, timeout=180)
    finally:
        fitting.configure()
    assert reply.text.startswith(html.escape(ui.reload_failed, quote=False))
    assert html.escape(ui.reload_fit_failed, quote=False) in reply.text
    assert bot.state.responder is old
    api.message(QUESTION_CHAT, "chu hang xom so vao cho kin cua em")
    [answer] = await api.wait_sent(QUESTION_CHAT, 1, timeout=60)
    assert "111" in answer.text  # still answering, from the old knowledge
