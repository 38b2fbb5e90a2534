"""Staff report speed on a generated interaction log (target: 10,000 rows in under 2 s).

Prints figures; it is not a test. Run: `.venv/bin/python bench/report_speed.py [ROWS]`.

Rows go through the real `InteractionLog` (redaction, batching) over 30 days: 65 % answered,
20 % did-you-mean, 12 % fallback, 3 % urgent; unanswered messages are rephrasings of 40 topics
with filler words, typos and personal data, so grouping has real work to do.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.reportlabels import load_report_labels  # noqa: E402
from bot.core.responder import Reply, Suggestion  # noqa: E402
from bot.report import build_report, render_text, write_csv  # noqa: E402
from bot.store import InteractionLog  # noqa: E402

ENTRIES = [f"entry-{i:02d}" for i in range(60)]
CATEGORIES = ["sexual-abuse", "violence", "self-harm", "trafficking", "online"]
TOPICS = [
    "học phí năm nay bao nhiêu",
    "làm sao để đổi trường cho con",
    "bị bạn tung ảnh lên mạng thì làm gì",
    "xin số điện thoại công an xã",
    "trẻ em mấy tuổi được đi làm thêm",
    "con nghiện game phải làm sao",
    "bố mẹ ly hôn con ở với ai",
    "bị cô giáo phạt đứng ngoài lớp có đúng không",
    "làm giấy khai sinh cho con ở đâu",
    "bạn trai cũ dọa đăng ảnh",
    "em bị ép học thêm",
    "con bị bắt nạt qua tin nhắn",
    "có được đánh con khi con hư không",
    "trẻ em có được tự mở tài khoản ngân hàng",
    "em muốn bỏ nhà đi",
    "bảo hiểm y tế cho trẻ em dưới 6 tuổi",
    "hàng xóm hay chửi con tôi",
    "tư vấn tâm lý miễn phí ở đâu",
    "con gái 15 tuổi có người yêu 20 tuổi",
    "mẹ kế không cho em ăn",
] + [f"chủ đề số {i} hỏi về việc khác" for i in range(20)]
FILLERS = ["cho em hỏi", "ad ơi", "mình muốn hỏi", "xin hỏi", "", "", ""]
ENDINGS = ["ạ", "vậy", "với", "nhé", "", "", "?"]
PERSONAL = ["em tên Lan", "sđt 0912 345 678", "mail me@gmail.com", "", "", "", "", ""]


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 6 or rng.random() < 0.6:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1 :]


def _message(topic: str, rng: random.Random) -> str:
    parts = [rng.choice(FILLERS), _typo(topic, rng), rng.choice(PERSONAL), rng.choice(ENDINGS)]
    return " ".join(p for p in parts if p)


async def generate(db_path: Path, rows: int, *, seed: int = 7, now: float | None = None) -> None:
    """Write `rows` exchanges spread over the 30 days before `now`."""
    rng = random.Random(seed)
    now = time.time() if now is None else now
    clock_now = [now]
    log = InteractionLog(db_path, b"bench-secret", queue_size=2 * rows, clock=lambda: clock_now[0])
    await log.start()
    for _ in range(rows):
        clock_now[0] = now - rng.random() * 29 * 86400
        user = rng.randrange(1, 2000)
        roll = rng.random()
        topic = rng.choice(TOPICS[: rng.choice([5, 10, 40])])  # a few topics dominate
        if roll < 0.03:
            reply = Reply(("…",), urgent=True, category=rng.choice(CATEGORIES), score=0.0)
            text = "cứu em với em bị đánh"
        elif roll < 0.68:
            entry = rng.choice(ENTRIES[: rng.choice([8, 60])])
            reply = Reply(("…",), entry_id=entry, score=rng.uniform(80, 100), band="answer")
            text = f"câu hỏi về {entry}"
        elif roll < 0.88:
            suggestion = Suggestion(rng.choice(ENTRIES), "t")
            reply = Reply(
                ("…",), score=rng.uniform(55, 75), band="did-you-mean", suggestions=(suggestion,)
            )
            text = _message(topic, rng)
        else:
            reply = Reply(("…",), score=rng.uniform(0, 55), band="fallback")
            text = _message(topic, rng)
        ref = log.record(user, rng.choice(["child", "parent", "teacher"]), text, reply)
        if reply.band == "answer" and rng.random() < 0.2:
            log.record_feedback(ref, rng.random() < 0.7, user)
    await log.close()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "log.sqlite3"
        started = time.perf_counter()
        asyncio.run(generate(db, rows))
        elapsed = time.perf_counter() - started
        print(f"generated {rows} rows through InteractionLog in {elapsed:.2f} s")

        timings = []
        for _ in range(5):
            started = time.perf_counter()
            report = build_report(db, days=30)
            text = render_text(report, load_report_labels(ROOT / "knowledge"))
            write_csv(report, Path(tmp) / "report.csv")
            timings.append(time.perf_counter() - started)
        print(
            f"report over {report.total} rows (30 days): median {statistics.median(timings):.3f} s,"
            f" max {max(timings):.3f} s (target < 2 s)"
        )
        print(
            f"unanswered messages: {report.unanswered_total}, shown in"
            f" {len(report.unanswered)} groups"
        )
        print()
        print(text)


if __name__ == "__main__":
    main()
