"""Staff report: the figures staff act on, computed from rows written by the real log."""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from pathlib import Path

import pytest
from conftest import KNOWLEDGE

from bot.core.reportlabels import load_report_labels
from bot.core.responder import Reply, Suggestion
from bot.report import build_report, render_text, run_report, write_csv
from bot.store import InteractionLog

LABELS = load_report_labels(KNOWLEDGE)

DAY = 86400
NOW = 1_750_000_000.0  # 2025-06-15 22:06 in Vietnam


def reply(band: str = "answer", **fields) -> Reply:
    if band == "answer":
        fields.setdefault("entry_id", "goi-111")
    return Reply(parts=("…",), band=band, score=fields.pop("score", 50.0), **fields)


def did_you_mean(entry_id: str) -> Reply:
    return reply("did-you-mean", suggestions=(Suggestion(entry_id, "t"),))


class Writer:
    """Writes exchanges through InteractionLog at chosen times."""

    def __init__(self, db: Path) -> None:
        self.now = NOW
        self.log = InteractionLog(db, b"s", clock=lambda: self.now, linger=0)

    async def __aenter__(self) -> Writer:
        await self.log.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.log.close()

    def add(self, text: str, rep: Reply, *, days_ago: float = 0, helpful: bool | None = None):
        self.now = NOW - days_ago * DAY
        ref = self.log.record(1, "child", text, rep)
        if helpful is not None:
            self.log.record_feedback(ref, helpful, 1)
        self.now = NOW


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "log.sqlite3"
    async with Writer(path) as w:
        # answered, with feedback
        for _ in range(5):
            w.add("tổng đài 111", reply(entry_id="goi-111"), helpful=True)
        for _ in range(3):
            w.add("báo ai", reply(entry_id="bao-cao"), helpful=False)
        w.add("báo ai", reply(entry_id="bao-cao"), helpful=True)
        w.add("luật", reply(entry_id="luat"), helpful=False)
        # urgent
        w.add("cứu em", reply("answer", urgent=True, category="violence"))
        w.add("cứu em với", reply("answer", urgent=True, category="violence"))
        w.add("muốn chết", reply("fallback", urgent=True, category="self-harm"))
        # unanswered: one topic in several wordings, one other topic
        w.add("học phí bao nhiêu", did_you_mean("hoc-phi-mien-giam"))
        w.add("học phí bao nhiêu ạ", did_you_mean("hoc-phi-mien-giam"))
        w.add("cho em hỏi học phí bao nhiêu", did_you_mean("quyen-hoc-tap"))
        w.add("hoc phi bao nhieu", reply("fallback"), days_ago=1)
        w.add("Học phí bao nhiêu?", did_you_mean("hoc-phi-mien-giam"), days_ago=2)
        w.add("thời tiết hôm nay thế nào", reply("fallback"))
        w.add("thời tiết hôm nay thế nào", reply("fallback"))
        # smalltalk, and a row outside a 7-day window
        w.add("xin chào", reply("smalltalk"))
        w.add("cũ quá rồi", reply("fallback"), days_ago=10)
    return path


def test_report_figures(db: Path) -> None:
    report = build_report(db, days=7, now=NOW)
    assert (report.since, report.until) == ("2025-06-09", "2025-06-15")
    assert report.total == 21
    assert dict(report.per_day) == {
        "2025-06-09": 0,
        "2025-06-10": 0,
        "2025-06-11": 0,
        "2025-06-12": 0,
        "2025-06-13": 1,
        "2025-06-14": 1,
        "2025-06-15": 19,
    }
    assert report.bands == {"answer": 12, "did-you-mean": 4, "fallback": 4, "smalltalk": 1}
    assert report.share("answer") == pytest.approx(12 / 21)
    assert report.urgent_by_category == (("violence", 2), ("self-harm", 1))
    assert report.top_entries[:3] == (("goi-111", 7), ("bao-cao", 4), ("luat", 1))
    assert report.not_helpful == (("bao-cao", 3, 1), ("luat", 1, 0))
    assert report.feedback == {"helpful": 6, "not_helpful": 4}


def test_unanswered_messages_are_grouped_with_an_entry_to_extend(db: Path) -> None:
    report = build_report(db, days=7, now=NOW)
    assert report.unanswered_total == 7  # urgent and out-of-window rows are not counted
    first, second = report.unanswered
    assert first.count == 5
    assert {first.example, *first.variants} <= {
        "học phí bao nhiêu",
        "học phí bao nhiêu ạ",
        "cho em hỏi học phí bao nhiêu",
        "hoc phi bao nhieu",
        "Học phí bao nhiêu?",
    }
    assert first.suggested_entry == "hoc-phi-mien-giam"
    assert (second.example, second.count, second.suggested_entry) == (
        "thời tiết hôm nay thế nào",
        2,
        None,
    )


def test_days_window(db: Path) -> None:
    assert build_report(db, days=1, now=NOW).total == 19
    assert build_report(db, days=30, now=NOW).total == 22


def test_text_and_csv_show_the_same_figures(db: Path, tmp_path: Path) -> None:
    report = build_report(db, days=7, now=NOW)
    text = render_text(report, LABELS)
    assert "Tổng số tin nhắn: 21" in text
    assert "violence" in text and "hoc-phi-mien-giam" in text and "học phí bao nhiêu" in text
    out = tmp_path / "report.csv"
    write_csv(report, out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the Vietnamese correctly
    with open(out, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    by_section = Counter(row["section"] for row in table)
    assert by_section["per_day"] == 7 and by_section["unanswered"] == 2
    band_rows = {r["item"]: r for r in table if r["section"] == "band"}
    assert band_rows["fallback"]["count"] == "4"
    unanswered = [r for r in table if r["section"] == "unanswered"]
    assert "suggested_entry=hoc-phi-mien-giam" in unanswered[0]["detail"]


def test_run_report_prints_and_writes_csv(db: Path, tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_report(db, LABELS, days=30, csv_path=tmp_path / "r.csv", out=out) == 0
    assert "BÁO CÁO" in out.getvalue()
    assert (tmp_path / "r.csv").exists()


def test_run_report_on_a_missing_database_fails_clearly(tmp_path: Path, capsys) -> None:
    assert run_report(tmp_path / "nope.sqlite3", LABELS, days=7) == 1
    assert "nope.sqlite3" in capsys.readouterr().err
    assert not (tmp_path / "nope.sqlite3").exists()


async def test_report_on_generated_rows_matches_what_was_written(tmp_path: Path) -> None:
    db = tmp_path / "log.sqlite3"
    rng = random.Random(3)
    expected_bands: Counter[str] = Counter()
    expected_entries: Counter[str] = Counter()
    expected_urgent: Counter[str] = Counter()
    per_day: Counter[int] = Counter()
    async with Writer(db) as w:
        for _ in range(2000):
            days_ago = rng.randrange(0, 14)
            roll = rng.random()
            if roll < 0.05:
                category = rng.choice(["violence", "sexual-abuse"])
                rep = reply("answer", urgent=True, category=category)
            elif roll < 0.7:
                rep = reply("answer", entry_id=f"e{rng.randrange(12)}")
            else:
                rep = reply(rng.choice(["fallback", "did-you-mean"]))
            if days_ago < 7:
                expected_bands[rep.band] += 1
                per_day[days_ago] += 1
                if rep.urgent:
                    expected_urgent[rep.category] += 1
                if rep.entry_id:
                    expected_entries[rep.entry_id] += 1
            w.add(f"câu {rng.randrange(50)}", rep, days_ago=days_ago)
    report = build_report(db, days=7, now=NOW)
    assert report.total == sum(per_day.values())
    assert [count for _, count in report.per_day] == [per_day[d] for d in range(6, -1, -1)]
    assert report.bands == dict(expected_bands)
    assert dict(report.urgent_by_category) == dict(expected_urgent)
    ranked = sorted(expected_entries.items(), key=lambda kv: (-kv[1], kv[0]))
    assert report.top_entries == tuple(ranked[:10])
    assert sum(g.count for g in report.unanswered) <= report.unanswered_total


def test_staff_read_names_not_only_ids(db: Path) -> None:
    report = build_report(db, days=7, now=NOW)
    names = {"violence": "Bạo lực, đánh đập", "goi-111": "Gọi 111 thế nào?"}
    text = render_text(report, LABELS, names)
    assert "Bạo lực, đánh đập (violence)" in text
    assert "Gọi 111 thế nào? (goi-111)" in text
    assert "self-harm" in text  # an id without a name is still shown


def test_report_words_come_from_knowledge_and_a_renamed_slot_is_a_kb_check_error(
    db: Path, tmp_path: Path
) -> None:
    import shutil

    from bot.core.knowledge import KnowledgeError, load_knowledge
    from bot.core.yamlfile import IssuesError

    folder = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, folder)
    path = folder / "report.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Tổng số tin nhắn: {total}", "Tin nhắn tuần này: {total}"),
                    encoding="utf-8")
    reworded = render_text(build_report(db, days=7, now=NOW), load_report_labels(folder))
    assert "Tin nhắn tuần này: 21" in reworded and "Tổng số tin nhắn" not in reworded

    path.write_text(text.replace("{total} tin)", "{tong} tin)"), encoding="utf-8")
    with pytest.raises(IssuesError) as raised:
        load_report_labels(folder)
    (issue,) = raised.value.issues
    line = 1 + text[: text.index("{total} tin)")].count("\n")
    assert issue.startswith(f"{path}:{line}: unanswered: chỗ trống {{tong}} không có")
    with pytest.raises(KnowledgeError) as whole:  # kb check says the same
        load_knowledge(folder)
    assert issue in whole.value.issues
