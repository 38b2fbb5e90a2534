"""Figures of the current triage on persona author sets (format: FORMAT_TRIAGE.md).

Run: python bench/triage_authors.py [file ...]. Default: tests/data/triage/*.yaml, plus
tests/data/sealed/triage_neighbour.yaml when present (measured only, never trained on).
Prints urgent recall, urgent-or-check recall (the rule model has no check tier yet, so the two
are equal), false alarms on look-alikes and on plain questions.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from triage_eval import build_triage  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = sorted((ROOT / "tests" / "data" / "triage").glob("*.yaml"))
SEALED = ROOT / "tests" / "data" / "sealed" / "triage_neighbour.yaml"


def _text(item: object) -> str:
    return item["text"] if isinstance(item, dict) else str(item)


def author_figures(path: Path) -> dict[str, float | int]:
    """Rates of one author file under the triage built from the files on disk."""
    triage, normaliser, _ = build_triage()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))

    def alarms(key: str) -> tuple[int, int]:
        texts = [_text(x) for x in data.get(key) or []]
        return sum(triage.assess(normaliser(t)) is not None for t in texts), len(texts)

    caught, urgent = alarms("urgent")
    unclear_caught, unclear = alarms("unclear")
    look_fa, look = alarms("lookalike")
    q_fa, q = alarms("question")
    return {
        "urgent": urgent,
        "urgent_recall": caught / max(urgent, 1),
        "urgent_or_check_recall": caught / max(urgent, 1),
        "unclear_flagged": unclear_caught / max(unclear, 1),
        "lookalike": look,
        "fa_lookalike": look_fa / max(look, 1),
        "question": q,
        "fa_question": q_fa / max(q, 1),
    }


def main(argv: list[str]) -> None:
    paths = [Path(a) for a in argv] or DEFAULT + ([SEALED] if SEALED.exists() else [])
    for path in paths:
        f = author_figures(path)
        print(
            f"{path.name:28} urgent recall {f['urgent_recall']:.1%} (n={f['urgent']}), "
            f"urgent-or-check {f['urgent_or_check_recall']:.1%}, unclear flagged "
            f"{f['unclear_flagged']:.1%}, FA lookalike {f['fa_lookalike']:.1%} "
            f"(n={f['lookalike']}), FA question {f['fa_question']:.1%} (n={f['question']})"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
