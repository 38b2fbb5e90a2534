"""Figures of triage on persona author sets (format: FORMAT_TRIAGE.md).

Run: python bench/triage_authors.py [file ...]. Default: tests/data/triage/*.yaml, plus
tests/data/sealed/triage_neighbour.yaml when present (measured only, never trained on).
For each set, two lines:
- `rules`: the rule triage alone (danger.yaml; no check tier, so urgent-or-check = urgent);
- `tiers`: what users get, rules + the learned model (bot.core.triage.Tiering), trained on
  knowledge/triage_examples/*.yaml: a set that lives there is a TRAINING set, so its `tiers`
  line is a training figure, not a measurement.
Urgent recall, urgent-or-check recall, unclear messages flagged (urgent or check), urgent false
alarms on look-alikes and on plain questions, and for urgent accident/fire examples the share
whose urgent reply starts with 115 or 114.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from triage_eval import build_triage  # noqa: E402

from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.responder import Responder  # noqa: E402

DEFAULT = sorted((ROOT / "tests" / "data" / "triage").glob("*.yaml"))
SEALED = ROOT / "tests" / "data" / "sealed" / "triage_neighbour.yaml"
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
        accidents = [x for x in data.get("urgent") or [] if _kind(x) in ACCIDENT_KINDS]
        firsts = [assess(_text(x)) for x in accidents]
        emergency_first = sum(t == "urgent" and n in ("114", "115") for t, n in firsts)
        out[label] = {
            "urgent": n_urgent, "urgent_recall": urgent, "urgent_or_check_recall": either,
            "unclear": n_unclear, "unclear_flagged": unclear,
            "lookalike": n_look, "fa_lookalike": fa_look,
            "question": n_question, "fa_question": fa_question,
            "accidents": len(accidents),
            "accident_115_114_first": emergency_first / max(len(accidents), 1),
        }
    return out


def main(argv: list[str]) -> None:
    paths = [Path(a) for a in argv] or DEFAULT + ([SEALED] if SEALED.exists() else [])
    responder = Responder(load_knowledge(ROOT / "knowledge"))
    for path in paths:
        for label, f in author_figures(path, responder).items():
            print(
                f"{path.name:24} {label}: urgent recall {f['urgent_recall']:.1%} "
                f"(n={f['urgent']}), urgent-or-check {f['urgent_or_check_recall']:.1%}, "
                f"unclear flagged {f['unclear_flagged']:.1%} (n={f['unclear']}), "
                f"FA lookalike {f['fa_lookalike']:.1%} (n={f['lookalike']}), "
                f"FA question {f['fa_question']:.1%} (n={f['question']}), "
                f"accident 115/114 first {f['accident_115_114_first']:.1%} (n={f['accidents']})"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
