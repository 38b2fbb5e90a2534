"""Matcher speed: latency per message, start-up and memory, against the naive full scan.

Prints figures; it is not a test. Run: `.venv/bin/python bench/speed.py [--sizes 1,10,100]`.

- x1 is the bundled knowledge base; x10 and x100 are synthetic bases built by recombining the
  real questions' words under new ids (same vocabulary, same question lengths), as real entries
  (answers included) so the whole `Responder.respond` runs on them too.
- "match" is the matching part of `respond` (normalise, question finder, role, `Ranker.search`);
  "respond" is the whole `Responder.respond` (normalise,
  triage, match, compose). "naive" is what the issue measures against: `rapidfuzz.process.extract`
  with WRatio over every question's raw text, timed in the same run.
- Index memory is the growth of the process's resident set while the `Responder` is built (RSS,
  not tracemalloc: tracing makes the x100 build ten times slower), both readings taken after
  `malloc_trim` so freed fitting scratch does not count; each size's `Responder` is freed before
  the naive scan and the next size.
- Messages are the held-out evaluation set (tests/data/eval.yaml).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import gc
import random
import resource
import statistics
import sys
import time
from pathlib import Path

import yaml
from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bot.core.knowledge import KnowledgeBase, load_knowledge  # noqa: E402
from bot.core.matching import detect_role, focus  # noqa: E402
from bot.core.responder import Responder  # noqa: E402

TARGET_P99_MS = 2.0
TARGET_SPEEDUP_100X = 30.0  # issue 14
TARGET_KB_PER_QUESTION = 2.0  # index memory at x100, issue 14
TARGET_RESPOND_P99_MS = {1: 1.5, 10: 5.0}  # whole respond, issue 14
TARGET_STARTUP_S = 1.0
NAIVE_SAMPLE_X100 = 40  # the naive scan at x100 takes ~1 s a message: time a sample


def ok(flag: bool) -> str:
    return "OK" if flag else "MISSED"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def rss_mib() -> float:
    """Current resident set size (Linux /proc), MiB, after returning freed heap to the system:
    a fit in this process (scikit-learn's scratch arrays) leaves freed memory that glibc keeps,
    and it would count as index memory (in `python -m bot run` fitting runs in a child)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def synthetic(kb: KnowledgeBase, factor: int, seed: int = 7) -> KnowledgeBase:
    """`factor` times as many entries: copy 0 is the real base, later copies swap a third of
    each question's words for words of other questions (a realistic vocabulary)."""
    if factor == 1:
        return kb
    rng = random.Random(seed)
    entries = list(kb.entries.values())
    words = [w for e in entries for q in e.questions for w in q.split()]
    out = {}
    for copy in range(factor):
        for entry in entries:
            if copy == 0:
                out[entry.id] = entry
                continue
            questions = []
            for q in entry.questions:
                tokens = q.split()
                for i in range(len(tokens)):
                    if rng.random() < 0.33:
                        tokens[i] = rng.choice(words)
                questions.append(" ".join(tokens))
            new_id = f"{entry.id}-{copy}"
            out[new_id] = entry.model_copy(update={"id": new_id, "questions": questions})
    return dataclasses.replace(kb, entries=out)


def messages() -> list[str]:
    path = ROOT / "tests" / "data" / "eval.yaml"
    return [str(item["text"]) for item in yaml.safe_load(path.read_text(encoding="utf-8"))]


CLOCK = time.perf_counter  # --cpu: time.thread_time (the process's own CPU, on a shared machine)


def timed(func, texts: list[str]) -> list[float]:
    for text in texts[:20]:  # warm caches
        func(text)
    out = []
    for text in texts:
        start = CLOCK()
        func(text)
        out.append((CLOCK() - start) * 1000)
    return out


def measure_responder(
    kb: KnowledgeBase, texts: list[str]
) -> tuple[float, float, list[float], list[float]]:
    """Build time, index memory, match and respond latencies; the Responder is freed on return."""
    gc.collect()
    before = rss_mib()
    t0 = time.perf_counter()
    responder = Responder(kb, cache_size=0)  # time the work, not the repeat cache
    build = time.perf_counter() - t0
    index_mib = rss_mib() - before
    match = timed(lambda text: matching_part(responder, text), texts)
    full = timed(responder.respond, texts)
    return build, index_mib, match, full


def matching_part(responder: Responder, text: str) -> object:
    """What `respond` does to match a message: normalise, find the question, read the role,
    rank (triage and composing left out)."""
    message = responder.normalise(text)
    role = detect_role(message.folded, responder._role_cues)  # as respond reads it
    focused = focus(message.raw, responder.normalise.folded)
    return responder.matcher.search(message, limit=3, focus=focused, role=role)


def measure_naive(kb: KnowledgeBase, texts: list[str]) -> list[float]:
    """The naive scan: WRatio over every question's raw text."""
    questions = [q for e in kb.entries.values() for q in e.questions]
    return timed(lambda text: process.extract(text, questions, scorer=fuzz.WRatio, limit=3), texts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,10,100", help="knowledge base multiples")
    parser.add_argument("--cpu", action="store_true", help="time CPU (thread_time), not wall")
    args = parser.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.thread_time
    sizes = [int(x) for x in args.sizes.split(",")]

    gc.collect()
    start = time.perf_counter()
    kb = load_knowledge(ROOT / "knowledge")
    loaded = time.perf_counter()
    responder = Responder(kb)
    ready = time.perf_counter()
    startup = ready - start
    n_questions = sum(len(e.questions) for e in kb.entries.values())
    print(f"knowledge base: {len(kb.entries)} entries, {n_questions} questions")
    print(
        f"start-up: load+validate {1000 * (loaded - start):.0f} ms, Responder (normaliser, "
        f"triage, matcher index) {1000 * (ready - loaded):.0f} ms, total {1000 * startup:.0f} ms"
    )
    texts = messages()
    long_text = " ".join(texts) * 3
    t0 = time.perf_counter()
    responder.matcher.search(responder.normalise(long_text[:20_000]))
    long_match = 1000 * (time.perf_counter() - t0)
    t0 = time.perf_counter()
    responder.respond(long_text[:20_000])
    long_respond = 1000 * (time.perf_counter() - t0)
    del responder
    gc.collect()

    clock = "CPU (thread_time)" if args.cpu else "wall"
    print(f"\n{len(texts)} messages per size; latency per message, ms, {clock}")
    print(
        f"{'size':>5} {'entries':>7} {'questions':>9} {'build s':>7} {'index MiB':>9} "
        f"{'match p50':>9} {'p99':>6} {'respond p50':>11} {'p99':>6} "
        f"{'naive p50':>9} {'p99':>7} {'speed-up':>8}"
    )
    rows = {}
    for factor in sizes:
        big = synthetic(kb, factor)
        build, index_mib, match, full = measure_responder(big, texts)
        gc.collect()
        sample = texts if factor < 100 else texts[:: max(1, len(texts) // NAIVE_SAMPLE_X100)]
        naive = measure_naive(big, sample)
        del big
        gc.collect()
        m50, m99 = statistics.median(match), percentile(match, 99)
        f50, f99 = statistics.median(full), percentile(full, 99)
        n50, n99 = statistics.median(naive), percentile(naive, 99)
        rows[factor] = (m50, m99, f50, f99, n50, index_mib * 1024 / (n_questions * factor))
        n_entries = len(kb.entries) * factor
        print(
            f"{'x' + str(factor):>5} {n_entries:>7} {n_questions * factor:>9} {build:>7.2f} "
            f"{index_mib:>9.1f} {m50:>9.3f} {m99:>6.3f} {f50:>11.3f} {f99:>6.3f} "
            f"{n50:>9.2f} {n99:>7.2f} {n50 / m50:>7.0f}x"
        )
    print(
        f"\none 20,000-character message on x1: match {long_match:.2f} ms, "
        f"respond {long_respond:.2f} ms"
    )
    print(f"process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print("\ntargets:")
    if 1 in rows:
        p99 = rows[1][1]
        print(f"  match p99 x1 {p99:.3f} ms <= {TARGET_P99_MS} ms: {ok(p99 <= TARGET_P99_MS)}")
        print(f"  (whole respond p99 x1 {rows[1][3]:.3f} ms)")
    for factor, limit in TARGET_RESPOND_P99_MS.items():
        if factor in rows:
            p99 = rows[factor][3]
            print(f"  respond p99 x{factor} {p99:.3f} ms <= {limit} ms: {ok(p99 <= limit)}")
    if 100 in rows:
        kb_q = rows[100][5]
        print(
            f"  index memory x100 {kb_q:.2f} KB a question <= {TARGET_KB_PER_QUESTION} KB: "
            f"{ok(kb_q <= TARGET_KB_PER_QUESTION)}"
        )
        speedup = rows[100][4] / rows[100][0]
        print(
            f"  x100 speed-up vs naive (p50) {speedup:.0f}x >= {TARGET_SPEEDUP_100X:.0f}x: "
            f"{ok(speedup >= TARGET_SPEEDUP_100X)}"
        )
    print(f"  start-up {startup:.2f} s <= {TARGET_STARTUP_S} s: {ok(startup <= TARGET_STARTUP_S)}")


if __name__ == "__main__":
    main()
