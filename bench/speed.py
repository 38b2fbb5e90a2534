"""Matcher speed: latency per message, start-up and memory, against the naive full scan.

Prints figures; it is not a test. Run: `.venv/bin/python bench/speed.py`.

- x1 is the bundled knowledge base; x10 and x100 are synthetic bases built by recombining the
  real questions' words under random ids (same vocabulary, same question lengths).
- "naive" is what the issue measures against: `rapidfuzz.process.extractOne` with WRatio over
  every question's raw text.
- Messages are the held-out evaluation set (tests/data/eval.yaml) when present.
"""

from __future__ import annotations

import gc
import random
import resource
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality import load_kb  # noqa: E402

from bot.matcher import Matcher  # noqa: E402
from bot.text import Normaliser  # noqa: E402

TARGET_P99_MS = 2.0
TARGET_SPEEDUP_100X = 20.0
TARGET_STARTUP_S = 1.0


@dataclass
class FakeEntry:
    id: str
    title: str
    questions: list[str]
    keywords: list[str] = field(default_factory=list)


def ok(flag: bool) -> str:
    return "OK" if flag else "MISSED"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def synthetic(entries: list, factor: int, seed: int = 7) -> list[FakeEntry]:
    """`factor` times as many entries: each real entry's questions with words swapped in from
    other questions (a third of the words), so the index sees a realistic vocabulary."""
    rng = random.Random(seed)
    words = [w for e in entries for q in e.questions for w in q.split()]
    out: list[FakeEntry] = []
    for copy in range(factor):
        for entry in entries:
            questions = []
            for q in entry.questions:
                tokens = q.split()
                if copy:
                    for i in range(len(tokens)):
                        if rng.random() < 0.33:
                            tokens[i] = rng.choice(words)
                questions.append(" ".join(tokens))
            out.append(
                FakeEntry(
                    id=f"{entry.id}-{copy}-{rng.randrange(10**6)}",
                    title=entry.title,
                    questions=questions,
                    keywords=list(entry.keywords),
                )
            )
    return out


def messages() -> list[str]:
    path = ROOT / "tests" / "data" / "eval.yaml"
    if path.is_file():
        return [str(item["text"]) for item in yaml.safe_load(path.read_text(encoding="utf-8"))]
    return ["tổng đài bảo vệ trẻ em số mấy", "con toi bi xam hai thi lam gi"]


def time_matcher(matcher: Matcher, normalise: Normaliser, texts: list[str]) -> list[float]:
    for text in texts[:20]:  # warm caches
        matcher.search(normalise(text))
    out = []
    for text in texts:
        start = time.perf_counter()
        matcher.search(normalise(text), limit=3)
        out.append((time.perf_counter() - start) * 1000)
    return out


def time_naive(questions: list[str], texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        start = time.perf_counter()
        process.extract(text, questions, scorer=fuzz.WRatio, limit=3)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    gc.collect()
    start = time.perf_counter()
    kb = load_kb(ROOT / "knowledge")
    loaded = time.perf_counter()
    normalise = Normaliser(kb.lexicon)
    matcher = Matcher(kb.entries.values(), normalise)
    indexed = time.perf_counter()
    try:
        from bot.core import Responder

        t0 = time.perf_counter()
        responder = Responder(kb)
        responder_s = time.perf_counter() - t0 + (loaded - start)
    except Exception as exc:  # the core is someone else's; report, do not fail
        responder, responder_s = None, float("nan")
        print(f"(bot.core.Responder unavailable: {exc})")
    startup = indexed - start
    entries = list(kb.entries.values())
    texts = messages()
    long_text = " ".join(texts) * 3
    print(f"knowledge base: {len(entries)} entries, {kb.question_count} questions")
    print(
        f"start-up: load+validate {1000 * (loaded - start):.0f} ms, index "
        f"{1000 * (indexed - loaded):.0f} ms, total {1000 * startup:.0f} ms "
        f"(target <= {1000 * TARGET_STARTUP_S:.0f} ms: {ok(startup <= TARGET_STARTUP_S)})"
    )
    if responder is not None:
        print(
            "start-up of the whole Responder (load + triage + matcher): "
            f"{1000 * responder_s:.0f} ms"
        )

    print(f"\n{len(texts)} messages per size; latency per message (normalise + search), ms")
    header = (
        f"{'size':>6} {'entries':>8} {'questions':>9} {'index s':>8} {'peak MiB':>9} "
        f"{'p50':>7} {'p99':>7} {'naive p50':>10} {'naive p99':>10} {'speed-up p50':>13}"
    )
    print(header)
    rows = {}
    for factor in (1, 10, 100):
        pool = entries if factor == 1 else synthetic(entries, factor)
        questions = [q for e in pool for q in e.questions]
        gc.collect()
        tracemalloc.start()
        t0 = time.perf_counter()
        m = Matcher(pool, normalise)
        build = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        lat = time_matcher(m, normalise, texts)
        naive_texts = texts if factor < 100 else texts[:: max(1, len(texts) // 40)]
        naive = time_naive(questions, naive_texts)
        p50, p99 = statistics.median(lat), percentile(lat, 99)
        n50, n99 = statistics.median(naive), percentile(naive, 99)
        rows[factor] = (p50, p99, n50)
        print(
            f"{'x' + str(factor):>6} {len(pool):>8} {len(questions):>9} {build:>8.2f} "
            f"{peak:>9.1f} {p50:>7.3f} {p99:>7.3f} {n50:>10.2f} {n99:>10.2f} {n50 / p50:>12.0f}x"
        )
        del m
    t0 = time.perf_counter()
    matcher.search(normalise(long_text[:20_000]))
    print(f"\none 20,000-character message on x1: {1000 * (time.perf_counter() - t0):.2f} ms")
    if responder is not None:
        lat = []
        for text in texts:
            t0 = time.perf_counter()
            responder.respond(text)
            lat.append((time.perf_counter() - t0) * 1000)
        print(
            f"whole Responder.respond on x1 (normalise + triage + match + compose): "
            f"p50 {statistics.median(lat):.3f} ms, p99 {percentile(lat, 99):.3f} ms"
        )
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    p99_1 = rows[1][1]
    speedup = rows[100][2] / rows[100][0]
    print("\ntargets:")
    print(
        f"  p99 x1 {p99_1:.3f} ms <= {TARGET_P99_MS} ms: {ok(p99_1 <= TARGET_P99_MS)}"
    )
    print(
        f"  x100 speed-up vs naive {speedup:.0f}x >= {TARGET_SPEEDUP_100X:.0f}x: "
        f"{'OK' if speedup >= TARGET_SPEEDUP_100X else 'MISSED'}"
    )
    print(
        f"  start-up {startup:.2f} s <= {TARGET_STARTUP_S} s: {ok(startup <= TARGET_STARTUP_S)}"
    )


if __name__ == "__main__":
    main()
