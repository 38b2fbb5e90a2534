"""The terminal chat as a person types it: numbered roles and topics, /xoa, a clean Ctrl-C."""

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.services import Services, build_log
from bot.terminal import TerminalChat, run_chat

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def chat(shared_responder) -> TerminalChat:
    return TerminalChat(Services(load_settings(None, env={}), shared_responder, None))


def test_vaitro_lists_numbered_roles_and_takes_a_number(chat):
    ui = chat.responder.ui
    shown = chat.handle("/vaitro")
    assert f"  [1] {ui.role_buttons.child}" in shown
    assert f"  [2] {ui.role_buttons.parent}" in shown
    assert f"  [3] {ui.role_buttons.teacher}" in shown
    chosen = chat.handle("2")
    assert chosen.startswith(ui.role_set.parent)
    assert chat.audience == "parent"
    # As on Telegram, the topic menu follows, numbered: 1 now picks a topic, not a role.
    assert f"  [1] {ui.menu_topics[0].label}" in chosen
    first = chat.responder.topic_entries(ui.menu_topics[0].tag)[0]
    assert f"  [1] {first.title}" in chat.handle("1")


@pytest.mark.parametrize(("typed", "audience"), [
    ("/vaitro phụ huynh", "parent"), ("/vaitro phu huynh", "parent"),
    ("/vaitro giáo viên", "teacher"), ("/vaitro tre em", "child"), ("/vaitro 3", "teacher"),
    ("/vaitro teacher", "teacher"),
])
def test_vaitro_accepts_a_role_name_with_or_without_diacritics(chat, typed, audience):
    assert chat.handle(typed).startswith(getattr(chat.responder.ui.role_set, audience))
    assert chat.audience == audience


def test_vaitro_unknown_name_says_so(chat):
    assert "ông ngoại" in chat.handle("/vaitro ông ngoại")
    assert chat.audience is None


def test_chude_numbers_topics_and_a_number_lists_its_entries(chat):
    ui = chat.responder.ui
    shown = chat.handle("/chude")
    for number, topic in enumerate(ui.menu_topics, start=1):
        assert f"  [{number}] {topic.label}" in shown
    listed = chat.handle("1")
    first = chat.responder.topic_entries(ui.menu_topics[0].tag)[0]
    assert f"  [1] {first.title}" in listed
    picked = chat.handle("1")
    assert chat.responder.kb.entries[first.entry_id].answer_for(None) in picked


def test_a_wrong_number_keeps_the_list_and_says_so(chat):
    shown = chat.handle("tổng đài bảo vệ trẻ em số mấy")
    choices = list(chat.choices)
    assert choices
    wrong = chat.handle("99")
    assert "99" in wrong and f"1 đến {len(choices)}" in wrong
    assert chat.choices == choices
    assert chat.handle("1") != wrong
    assert shown
    chat.handle("/chude")
    count = len(chat.responder.ui.menu_topics)
    assert f"1 đến {count}" in chat.handle(str(count + 1))
    assert "[1]" in chat.handle("1"), "the topic list was kept: 1 still picks a topic"


async def test_xoa_in_the_terminal_forgets_this_session(shared_responder, tmp_path):
    settings = load_settings(None, env={})
    settings.storage.database = tmp_path / "log.sqlite3"
    services = Services(settings, shared_responder, build_log(settings, b"k" * 32))
    typed = iter(["/vaitro 1", "tổng đài bảo vệ trẻ em số mấy", "tong dai 111", "/xoa",
                  "/exit"])
    out = io.StringIO()
    await run_chat(services, read=lambda prompt: next(typed), out=out)
    text = out.getvalue()
    ui = shared_responder.ui
    assert str(settings.storage.database) in text, "says where the session log goes"
    assert ui.terminal.xoa_done.format(rows=2) in text
    with sqlite3.connect(settings.storage.database) as db:
        assert db.execute("SELECT count(*) FROM exchanges").fetchone()[0] == 0
    assert text.rstrip().endswith(ui.terminal.goodbye)


@pytest.mark.parametrize("error", [EOFError, KeyboardInterrupt])
async def test_end_of_input_says_goodbye(chat, error):
    def read(prompt: str) -> str:
        raise error

    out = io.StringIO()
    await run_chat(chat.services, read=read, out=out)
    assert out.getvalue().rstrip().endswith(chat.responder.ui.terminal.goodbye)


@pytest.mark.parametrize("presses", [1, 2])
def test_ctrl_c_ends_the_chat_cleanly(tmp_path, shared_responder, presses):
    """One Ctrl-C leaves with a goodbye; an impatient second one during the goodbye does no
    harm (no traceback, exit status 0)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat", "--no-log"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    seen = ""
    while shared_responder.ui.terminal.hint not in seen and time.monotonic() < deadline:
        seen += process.stdout.readline()
    time.sleep(0.5)
    for _ in range(presses):
        os.kill(process.pid, signal.SIGINT)
        time.sleep(0.02)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert shared_responder.ui.terminal.goodbye in out
    assert not (tmp_path / "data").exists()


def test_chat_writes_no_data_folder_where_it_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"], input="tong dai 111\n", capture_output=True,
        text=True, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "data").exists()
    assert "interactions.sqlite3" in result.stdout


def test_check_reply_offers_the_danger_choice_first_and_1_brings_the_urgent_card(chat):
    ui = chat.responder.ui
    texts = ["dạo này e hay bị chú hàng xóm nhìn chằm chằm, e thấy sợ sợ",
             "bạn e mấy hôm nay ko đi học, hỏi thì bạn ấy bảo ở nhà bị nhốt",
             "e ko muốn về nhà chút nào"]
    text = next((t for t in texts if chat.responder.respond(t).check), None)
    assert text is not None, "none of the doubtful messages gets the check line"
    shown = chat.handle(text)
    assert ui.check_line in shown
    assert f"  [1] {ui.check_button_child}" in shown
    card = chat.handle("1")
    assert card.startswith(f"!!! {ui.urgent_marker} !!!") and "111" in card
