"""Triage figures: recall on the urgent set, false alarms on the tricky set, speed.

Run: python bench/triage_eval.py. bench/quality.py imports `triage_figures()`.
Recall must be 100% (a missed emergency is the worst bug); false alarms at most 5%.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

from bot.text import Lexicon, Normaliser
from bot.triage import DangerFile, Triage

ROOT = Path(__file__).resolve().parent.parent
DANGER = ROOT / "knowledge" / "danger.yaml"
LEXICON = ROOT / "knowledge" / "lexicon.yaml"
URGENT = ROOT / "tests" / "data" / "triage_urgent.yaml"
TRICKY = ROOT / "tests" / "data" / "triage_tricky.yaml"


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def build_triage() -> tuple[Triage, Normaliser, DangerFile]:
    """Triage from the files on disk (bot/knowledge.py does this with line-numbered errors)."""
    normaliser = Normaliser(Lexicon.model_validate(_load(LEXICON)))
    danger = DangerFile.model_validate(_load(DANGER))
    return Triage(danger, normaliser), normaliser, danger


def load_sets() -> tuple[list[dict], list[str]]:
    """(urgent messages with expected category, tricky non-urgent messages)."""
    return _load(URGENT)["messages"], _load(TRICKY)["messages"]


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
    rounds = 20
    start = time.perf_counter()
    for _ in range(rounds):
        for message in messages:
            triage.assess(message)
    per_message_ms = (time.perf_counter() - start) * 1000 / (rounds * len(messages))
    long_text = " ".join(t for t in tricky) * 10
    long_message = normaliser(long_text[:20_000])
    start = time.perf_counter()
    triage.assess(long_message)
    long_ms = (time.perf_counter() - start) * 1000

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
        "ms_20000_chars": round(long_ms, 2),
    }


def main() -> int:
    figures = triage_figures()
    print(f"urgent set:  {figures['urgent_count']} messages, recall {figures['recall']:.1%}")
    print(
        f"tricky set:  {figures['tricky_count']} messages, "
        f"false alarms {figures['false_alarm_rate']:.1%}"
    )
    print(f"category agreement on urgent set: {figures['category_agreement']:.1%}")
    print(f"categories missing from urgent set: {figures['categories_missing'] or 'none'}")
    print(
        f"speed: {figures['ms_per_message']} ms/message, "
        f"{figures['ms_20000_chars']} ms for 20,000 chars"
    )
    for label in ("misses", "false_alarms", "wrong_category", "example_failures"):
        for line in figures[label]:
            print(f"  {label}: {line}")
    ok = figures["recall"] == 1.0 and figures["false_alarm_rate"] <= 0.05
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
