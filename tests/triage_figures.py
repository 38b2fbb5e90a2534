"""Triage figures on the labelled sets, shared by the tests (floors) and bench/ (printed figures).

Lives in tests/ so that the tests never import bench/; the bench scripts import it from here.
`build_triage`, `load_sets`, `triage_figures`: the rule triage on tests/data/triage_*.yaml.
`author_figures`: rules and tiers on one persona author file (format: FORMAT_TRIAGE.md).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import yaml

from bot.core.knowledge import load_knowledge
from bot.core.responder import Responder
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

ACCIDENT_KINDS = {"accident_medical", "fire"}
_FIRST_NUMBER = re.compile(r"\b(11[1345])\b")


def _text(item: object) -> str:
    return item["text"] if isinstance(item, dict) else str(item)


def _kind(item: object) -> str | None:
    return item.get("kind") if isinstance(item, dict) else None


def author_figures(path: Path, responder: Responder | None = None) -> dict[str, dict]:
    """Rates of one author file: {"rules": {...}, "tiers": {...}}."""
    triage, normaliser, _ = build_triage()
    responder = responder or Responder(load_knowledge(ROOT / "knowledge"))
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}

    def rule_tier(text: str) -> tuple[str, str]:
        match = triage.assess(normaliser(text))
        first = _FIRST_NUMBER.search(match.reply_child) if match else None
        return ("urgent" if match else "none"), first.group(1) if first else ""

    def full_tier(text: str) -> tuple[str, str]:
        match, tier = responder.tiering.assess(responder.normalise(text), None)
        first = _FIRST_NUMBER.search(match.reply_child) if match else None
        return tier, first.group(1) if first else ""

    out: dict[str, dict] = {}
    for label, assess in (("rules", rule_tier), ("tiers", full_tier)):
        def rate(key: str, tiers: tuple[str, ...], data: dict = data, assess=assess
                 ) -> tuple[float, int]:
            items = data.get(key) or []
            hits = sum(assess(_text(x))[0] in tiers for x in items)
            return hits / max(len(items), 1), len(items)

        urgent, n_urgent = rate("urgent", ("urgent",))
        either, _ = rate("urgent", ("urgent", "check"))
        unclear, n_unclear = rate("unclear", ("urgent", "check"))
        fa_look, n_look = rate("lookalike", ("urgent",))
        fa_question, n_question = rate("question", ("urgent",))
        fa_scope, n_scope = rate("out_of_scope", ("urgent",))
        accidents = [x for x in data.get("urgent") or [] if _kind(x) in ACCIDENT_KINDS]
        firsts = [assess(_text(x)) for x in accidents]
        emergency_first = sum(t == "urgent" and n in ("114", "115") for t, n in firsts)
        out[label] = {
            "urgent": n_urgent, "urgent_recall": urgent, "urgent_or_check_recall": either,
            "unclear": n_unclear, "unclear_flagged": unclear,
            "lookalike": n_look, "fa_lookalike": fa_look,
            "question": n_question, "fa_question": fa_question,
            "out_of_scope": n_scope, "fa_out_of_scope": fa_scope,
            "accidents": len(accidents),
            "accident_115_114_first": emergency_first / max(len(accidents), 1),
        }
    return out
