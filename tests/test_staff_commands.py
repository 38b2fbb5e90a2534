"""`log purge` and `report` as a staff member runs them: plain refusals, no tracebacks, a
report that lists only real questions and suggests an entry only when one is close."""

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import KNOWLEDGE

from bot.core.reportlabels import load_report_labels
from bot.core.responder import Reply, Suggestion
from bot.report import build_report, render_text
from bot.store import InteractionLog

ROOT = Path(__file__).resolve().parent.parent


def bot(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  database: {tmp_path / 'log.sqlite3'}\n", encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot", *args, "--config", str(config)], input=stdin,
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )


async def write_log(database: Path, rows: list[tuple[str, Reply]]) -> None:
    log = InteractionLog(database, b"s", linger=0)
    await log.start()
    for text, reply in rows:
        log.record(1, None, text, reply)
    await log.close()


def fallback(score: float, nearest: str | None = "goi-111") -> Reply:
    return Reply(parts=("…",), band="fallback", score=score,
                 suggestions=(Suggestion(nearest, "t"),) if nearest else ())


def rows_in(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(database) as db:
        return db.execute("SELECT count(*) FROM exchanges").fetchone()[0]


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    database = tmp_path / "log.sqlite3"
    rows = [("giá vàng hôm nay", fallback(20.6, "giu-chung-cu-khi-con-bi-xam-hai"))] * 3
    rows += [("1", fallback(0, None)), ("9", fallback(0, None)), ("/foo", fallback(0, None))]
    rows += [("con bị bạn bắt nạt trên mạng", fallback(30.0, "bi-bat-nat"))] * 2
    asyncio.run(write_log(database, rows))
    return database


def test_purge_refuses_a_negative_number_plainly(tmp_path, logged):
    result = bot(tmp_path, "log", "purge", "--days", "-5")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "Số ngày phải là 0 hoặc lớn hơn" in result.stderr
    assert rows_in(logged) == 8


def test_purge_everything_asks_first(tmp_path, logged):
    refused = bot(tmp_path, "log", "purge", "--days", "0", stdin="khong\n")
    assert refused.returncode == 1 and "Đã huỷ" in refused.stdout
    assert rows_in(logged) == 8
    no_answer = bot(tmp_path, "log", "purge", "--days", "0")  # end of input: cancelled
    assert no_answer.returncode == 1 and "Traceback" not in no_answer.stderr
    assert rows_in(logged) == 8
    agreed = bot(tmp_path, "log", "purge", "--days", "0", stdin="có\n")
    assert agreed.returncode == 0, agreed.stderr
    assert "Đã xoá 8 dòng" in agreed.stdout
    assert rows_in(logged) == 0


def test_purge_everything_with_yes_does_not_ask(tmp_path, logged):
    result = bot(tmp_path, "log", "purge", "--days", "0", "--yes")
    assert result.returncode == 0 and "Đã xoá 8 dòng nhật ký" in result.stdout
    assert rows_in(logged) == 0


def test_report_ignores_numbers_and_commands_and_names_no_entry_for_off_topic(logged):
    report = build_report(logged, 7)
    examples = {group.example: group for group in report.unanswered}
    assert set(examples) == {"giá vàng hôm nay", "con bị bạn bắt nạt trên mạng"}
    assert report.unanswered_total == 5
    assert examples["giá vàng hôm nay"].suggested_entry is None
    assert examples["con bị bạn bắt nạt trên mạng"].suggested_entry == "bi-bat-nat"
    text = render_text(report, load_report_labels(KNOWLEDGE))
    assert "giờ Việt Nam, UTC+7" in text.splitlines()[0]
    assert "/foo" not in text


def test_report_into_head_has_no_traceback(tmp_path, logged):
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  database: {logged}\n", encoding="utf-8")
    result = subprocess.run(
        f"{sys.executable} -m bot report --config {config} | head -1", shell=True,
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert result.stdout.startswith("BÁO CÁO")
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr


@pytest.mark.parametrize(("args", "words"), [
    (("report", "--days", "-1"), "Số ngày phải là 1 hoặc lớn hơn"),
    (("report", "--days", "x"), "Số ngày phải là 1 hoặc lớn hơn"),
    (("log", "purge", "--days", "hai"), "Số ngày phải là 0 hoặc lớn hơn"),
    (("kb", "chek"), "không có lệnh hay lựa chọn 'chek'"),
])
def test_a_mistyped_command_line_is_answered_in_vietnamese(tmp_path, logged, args, words):
    result = bot(tmp_path, *args)
    assert result.returncode == 2
    assert words in result.stderr and "Traceback" not in result.stderr
    assert "invalid" not in result.stderr and "error:" not in result.stderr


def test_report_without_a_log_or_with_an_unwritable_csv_says_what_to_do(tmp_path, logged):
    config = tmp_path / "config.yaml"
    config.write_text(f"storage:\n  database: {tmp_path / 'none.sqlite3'}\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "bot", "report", "--config", str(config)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1 and "chưa có nhật ký tương tác" in result.stderr
    csv = tmp_path / "khong-co-thu-muc" / "r.csv"
    result = bot(tmp_path, "report", "--csv", str(csv))
    assert result.returncode == 1 and "Không ghi được tệp CSV" in result.stderr
    assert "Traceback" not in result.stderr
