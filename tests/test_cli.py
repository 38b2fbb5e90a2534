"""The command line as staff and other tools use it: ask --json, kb check, kb test, chat."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.core.knowledge import load_knowledge
from bot.core.responder import Responder
from bot.services import Services
from bot.terminal import TerminalChat, render

ROOT = Path(__file__).resolve().parent.parent
ASK_KEYS = {"check", "text", "urgent", "entry", "score", "answer", "suggestions"}


def run_bot(
    *args: str, stdin: str | None = None, cwd: Path = ROOT, timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
    )


def test_ask_json_contract_one_object_per_line():
    messages = [
        "tổng đài bảo vệ trẻ em số mấy",
        "giá vàng hôm nay",
        "e mun chet",
        "",
        "tong dai bao ve tre em la so may",
    ]
    result = run_bot("ask", "--json", stdin="\n".join(messages) + "\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["text"] for r in records] == [m for m in messages if m]
    for record in records:
        assert set(record) == ASK_KEYS
        assert isinstance(record["urgent"], bool)
        assert 0 <= record["score"] <= 100
        assert isinstance(record["suggestions"], list)
        assert record["answer"]
    hotline, gold, danger, folded = records
    assert hotline["entry"] == "tong-dai-111" and not hotline["urgent"]
    assert "111" in hotline["answer"]
    assert folded["entry"] == "tong-dai-111"
    assert gold["entry"] is None and not gold["urgent"]
    assert danger["urgent"] and danger["answer"].index("111") < 200


def test_ask_text_argument_prints_the_answer():
    result = run_bot("ask", "tổng", "đài", "bảo", "vệ", "trẻ", "em", "số", "mấy")
    assert result.returncode == 0
    assert "111" in result.stdout


def test_kb_check_passes_on_bundled_knowledge():
    result = run_bot("kb", "check")
    assert result.returncode == 0, result.stdout
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("kho kiến thức: ") and last.endswith(": ĐẠT")


def test_kb_check_names_file_line_and_field_of_a_broken_copy(tmp_path):
    copy = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", copy)
    broken = copy / "entries" / "hong.yaml"
    broken.write_text(
        "- id: hong\n  title: Hỏng\n  questions: [a]\n  answer: b\n  reviewed: 2026-11-28\n",
        encoding="utf-8",
    )
    result = run_bot("kb", "check", str(copy))
    assert result.returncode == 1
    assert f"{broken}:1: hong: sources: thiếu trường bắt buộc" in result.stdout


def test_kb_test_routes_every_question_and_danger_example():
    result = run_bot("kb", "test", timeout=600)
    assert result.returncode == 0, result.stdout[-3000:]
    lines = result.stdout.strip().splitlines()
    assert any(line.endswith("0 tin đi sai chỗ: ĐẠT") for line in lines)
    # then every triage example message, counted for staff, none of the urgent ones missed
    assert lines[-1] == "Tin nhắn mẫu: ĐẠT (không tin khẩn cấp nào bị bỏ sót)"
    urgent_line = next(line for line in lines if " tin khẩn cấp: " in line)
    assert urgent_line.endswith(", 0 bị bỏ sót")
    for name in ("dễ nhầm", "câu hỏi thường", "ngoài phạm vi"):
        assert any(f" tin {name}" in line and "bị trả lời khẩn cấp nhầm" in line for line in lines)


def test_kb_test_fails_on_an_urgent_example_the_bot_misses_and_lists_false_alarms(tmp_path):
    copy = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", copy)
    added = copy / "triage_examples" / "zz_staff.yaml"
    added.write_text(
        "urgent:\n"
        '  - {text: "🆘🆘🆘", kind: distress}\n'
        "lookalike:\n"
        # a real emergency filed as a look-alike by mistake: the bot learns from it (a
        # look-alike counts 3x), yet a self-harm phrase stays urgent, so kb test lists it
        '  - "em vừa uống hết vỉ thuốc ngủ, em muốn chết"\n',
        encoding="utf-8",
    )
    result = run_bot("kb", "test", str(copy), timeout=600)
    assert result.returncode == 1, result.stdout[-3000:]
    assert f'{added}:2: tin khẩn cấp "🆘🆘🆘": bot KHÔNG nhận ra nguy hiểm' in result.stdout
    assert (f'{added}:4: tin dễ nhầm (lookalike) "em vừa uống hết vỉ thuốc ngủ, em muốn chết": '
            "bot trả lời khẩn cấp nhầm (loại: Tự tử") in result.stdout
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "Tin nhắn mẫu: CHƯA ĐẠT: 1 tin khẩn cấp bị bỏ sót hoàn toàn"
    assert any(" tin khẩn cấp: " in line and line.endswith(", 1 bị bỏ sót") for line in lines)


@pytest.fixture(scope="module")
def responder() -> Responder:
    return Responder(load_knowledge(ROOT / "knowledge"))


def test_terminal_numbers_suggestions_and_picks_them(responder):
    chat = TerminalChat(Services(load_settings(None, env={}), responder, None))
    text = chat.handle("tổng đài bảo vệ trẻ em số mấy")
    assert "111" in text
    assert chat.choices, "the hotline answer lists its related entries, numbered"
    first = chat.choices[0]
    assert f"  [1] {first.title}" in text
    picked = chat.handle("1")
    assert responder.kb.entries[first.entry_id].answer_for(None) in picked
    assert chat.handle("/exit") is None


def test_terminal_marks_urgent_replies(responder):
    reply = responder.respond("chú hàng xóm sờ vào chỗ kín của em")
    text, _ = render(reply, responder.ui.urgent_marker)
    assert text.startswith(f"!!! {responder.ui.urgent_marker} !!!")


def test_terminal_reload_keeps_last_good_knowledge(tmp_path, responder):
    copy = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", copy)
    settings = load_settings(None, env={})
    settings.knowledge.path = copy
    chat = TerminalChat(Services(settings, responder, None))
    (copy / "entries" / "hong.yaml").write_text("- id: [\n", encoding="utf-8")
    answer = chat.handle("/reload")
    assert responder.ui.reload_failed in answer
    assert "hong.yaml:2: (tệp): lỗi cú pháp YAML" in answer
    assert chat.responder is responder
    assert "111" in chat.handle("tổng đài bảo vệ trẻ em số mấy")
    (copy / "entries" / "hong.yaml").unlink()
    assert "Đã nạp lại" in chat.handle("/reload")
    assert chat.responder is not responder


def test_chat_command_runs_on_stdin_and_exits(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--no-log"],
        input="tong dai bao ve tre em so may\n/exit\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "111" in result.stdout



def test_config_is_accepted_before_or_after_the_command(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("knowledge:\n  path: nowhere\n", encoding="utf-8")
    before = ("--config", str(config), "kb", "check")
    after = ("kb", "check", "--config", str(config))
    for args in (before, after):
        result = run_bot(*args)
        assert result.returncode == 1
        assert "nowhere" in result.stdout


def test_run_without_secrets_says_which_are_missing():
    secrets = ("TELEGRAM_BOT_TOKEN", "BOT_HASH_SECRET")
    env = {k: v for k, v in os.environ.items() if k not in secrets}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "BOT_HASH_SECRET" in result.stderr
