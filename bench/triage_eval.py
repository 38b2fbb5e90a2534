"""Triage figures: recall on the urgent sets, false alarms on the tricky sets, speed.

Run: python bench/triage_eval.py. bench/quality.py imports `triage_figures()`.
Recall must be 100% (a missed emergency is the worst bug); false alarms at most 5%, on the
combined sets and on each set alone. The blind set (tests/data/triage_blind.yaml) was written
before the rules were read; its second half (odd positions) was held out while tuning. The fresh
set (tests/data/triage_fresh.yaml) was written by a third author before reading the rules; its
honest held-out figures, measured before any tuning on it, were recall 73.7% and 12.6% false alarms.
The probe set (tests/data/triage_probe.yaml) was written by a fourth author before reading the
rules: before any change recall 66.7%, false alarms 9.4% (probe-A, even positions: 64.6% / 7.8%;
probe-B, odd positions: 68.8% / 11.1%). After adding the safety net and tuning on probe-A and the
older sets only, the held-out probe-B scored recall 93.8%, false alarms 12.7%.
Category agreement (issue 5, round 5): 91.5% before choosing categories by evidence; 97.2% after
on the old labels, 98.8% after correcting nine labels that contradicted their own set or the
witness/adult reply rule (listed in the commit message).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

from bot.core.text import Lexicon, Normaliser
from bot.core.triage import DangerFile, Triage

ROOT = Path(__file__).resolve().parent.parent
DANGER = ROOT / "knowledge" / "danger.yaml"
LEXICON = ROOT / "knowledge" / "lexicon.yaml"
URGENT = ROOT / "tests" / "data" / "triage_urgent.yaml"
TRICKY = ROOT / "tests" / "data" / "triage_tricky.yaml"
BLIND = ROOT / "tests" / "data" / "triage_blind.yaml"
FRESH = ROOT / "tests" / "data" / "triage_fresh.yaml"
PROBE = ROOT / "tests" / "data" / "triage_probe.yaml"


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def build_triage() -> tuple[Triage, Normaliser, DangerFile]:
    """Triage from the files on disk (bot/knowledge.py does this with line-numbered errors)."""
    normaliser = Normaliser(Lexicon.model_validate(_load(LEXICON)))
    danger = DangerFile.model_validate(_load(DANGER))
    return Triage(danger, normaliser), normaliser, danger


def load_named_sets() -> dict[str, tuple[list[dict], list[str]]]:
    """Each test set by name: (urgent messages with expected category, tricky messages)."""
    blind = _load(BLIND)
    fresh = _load(FRESH)
    probe = _load(PROBE)
    return {
        "tuned": (_load(URGENT)["messages"], _load(TRICKY)["messages"]),
        "blind": (blind["urgent"], blind["not_urgent"]),
        "fresh": (fresh["urgent"], fresh["not_urgent"]),
        "probe": (probe["urgent"], probe["not_urgent"]),
    }


def load_sets() -> tuple[list[dict], list[str]]:
    """All urgent messages and all tricky non-urgent messages, every set together."""
    urgent: list[dict] = []
    tricky: list[str] = []
    for set_urgent, set_tricky in load_named_sets().values():
        urgent += set_urgent
        tricky += set_tricky
    return urgent, tricky


def per_set_figures() -> dict[str, dict]:
    """Recall and false-alarm rate of each set alone (a big set must not hide a weak one)."""
    triage, normaliser, _ = build_triage()
    out: dict[str, dict] = {}
    for name, (urgent, tricky) in load_named_sets().items():
        halves = {"": (urgent, tricky)}
        if name in ("blind", "probe"):
            halves[" (even half)"] = (urgent[0::2], tricky[0::2])
            halves[" (odd half)"] = (urgent[1::2], tricky[1::2])
        for suffix, (urg, trk) in halves.items():
            found = [triage.assess(normaliser(item["text"])) for item in urg]
            missed = sum(m is None for m in found)
            agree = sum(
                m is not None and m.category == item["category"]
                for m, item in zip(found, urg, strict=True)
            )
            alarms = sum(triage.assess(normaliser(text)) is not None for text in trk)
            out[name + suffix] = {
                "urgent_count": len(urg),
                "tricky_count": len(trk),
                "recall": 1 - missed / len(urg),
                "false_alarm_rate": alarms / len(trk),
                "category_agreement": agree / len(urg),
            }
    return out


def triage_figures() -> dict:
    """Recall, false-alarm rate, category agreement, misses and speed, as plain numbers/lists."""
    triage, normaliser, danger = build_triage()
    urgent, tricky = load_sets()
    misses, wrong_category = [], []
    for item in urgent:
        match = triage.assess(normaliser(item["text"]))
        if match is None:
            misses.append(item["text"])
        elif match.category != item["category"]:
            wrong_category.append(f"{item['text']} -> {match.category} (want {item['category']})")
    alarms = []
    for text in tricky:
        match = triage.assess(normaliser(text))
        if match is not None:
            alarms.append(f"{text} -> {match.category} [{match.phrase}]")
    example_failures = []
    for text, expected in danger.examples():
        match = triage.assess(normaliser(text))
        got = match.category if match else None
        if got != expected:
            example_failures.append(f"{text} -> {got} (want {expected})")

    messages = [normaliser(item["text"]) for item in urgent] + [normaliser(t) for t in tricky]
    rounds = 21
    runs: list[list[float]] = [[] for _ in messages]
    for _ in range(rounds):
        for i, message in enumerate(messages):
            start = time.perf_counter()
            triage.assess(message)
            runs[i].append(time.perf_counter() - start)
    per_message_ms = sum(map(sum, runs)) * 1000 / (rounds * len(messages))
    # Each message's median run: a scheduler pause on a busy machine (several ms, random
    # rounds) says nothing about triage, while a message that is slow every time still shows.
    medians = sorted(sorted(r)[rounds // 2] for r in runs)
    p50_ms = medians[len(medians) // 2] * 1000
    p99_ms = medians[int(len(medians) * 0.99)] * 1000
    long_text = " ".join(t for t in tricky) * 10
    long_message = normaliser(long_text[:20_000])
    start = time.perf_counter()
    triage.assess(long_message)
    long_ms = (time.perf_counter() - start) * 1000
    # worst case: 20,000 characters dense with danger words
    dense_message = normaliser((" ".join(item["text"] for item in urgent) * 5)[:20_000])
    start = time.perf_counter()
    triage.assess(dense_message)
    dense_ms = (time.perf_counter() - start) * 1000

    categories = {item["category"] for item in urgent}
    return {
        "urgent_count": len(urgent),
        "tricky_count": len(tricky),
        "recall": 1 - len(misses) / len(urgent),
        "false_alarm_rate": len(alarms) / len(tricky),
        "category_agreement": 1 - (len(wrong_category) + len(misses)) / len(urgent),
        "categories_covered": sorted(categories),
        "categories_missing": sorted(set(danger.categories) - categories),
        "misses": misses,
        "false_alarms": alarms,
        "wrong_category": wrong_category,
        "example_failures": example_failures,
        "ms_per_message": round(per_message_ms, 4),
        "ms_p50": round(p50_ms, 4),
        "ms_p99": round(p99_ms, 4),
        "ms_20000_chars": round(long_ms, 2),
        "ms_20000_dense_chars": round(dense_ms, 2),
        "per_set": per_set_figures(),
    }


def main() -> int:
    figures = triage_figures()
    print(f"urgent sets: {figures['urgent_count']} messages, recall {figures['recall']:.1%}")
    print(
        f"tricky sets: {figures['tricky_count']} messages, "
        f"false alarms {figures['false_alarm_rate']:.1%}"
    )
    for name, fig in figures["per_set"].items():
        print(
            f"  {name:<18} recall {fig['recall']:6.1%} of {fig['urgent_count']:3}, "
            f"false alarms {fig['false_alarm_rate']:5.1%} of {fig['tricky_count']:3}, "
            f"category {fig['category_agreement']:6.1%}"
        )
    print(f"category agreement on urgent set: {figures['category_agreement']:.1%}")
    print(f"categories missing from urgent set: {figures['categories_missing'] or 'none'}")
    print(
        f"speed: {figures['ms_per_message']} ms/message mean, p50 {figures['ms_p50']} ms, "
        f"p99 {figures['ms_p99']} ms, "
        f"{figures['ms_20000_chars']} ms for 20,000 chars "
        f"({figures['ms_20000_dense_chars']} ms when dense with danger words)"
    )
    for label in ("misses", "false_alarms", "wrong_category", "example_failures"):
        for line in figures[label]:
            print(f"  {label}: {line}")
    ok = all(
        fig["recall"] == 1.0 and fig["false_alarm_rate"] <= 0.05
        for fig in [figures, *figures["per_set"].values()]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
