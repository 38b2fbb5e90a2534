"""Figures of triage on persona author sets (format: FORMAT_TRIAGE.md).

Run: python bench/triage_authors.py [file ...]. Default: tests/data/triage/*.yaml, plus
tests/data/sealed/triage_neighbour.yaml when present (measured only, never trained on).
For each set, two lines:
- `rules`: the rule triage alone (danger.yaml; no check tier, so urgent-or-check = urgent);
- `tiers`: what users get, rules + the learned model (bot.core.triage.Tiering), trained on
  knowledge/triage_examples/*.yaml: a set that lives there is a TRAINING set, so its `tiers`
  line is a training figure, not a measurement.
Urgent recall, urgent-or-check recall, unclear messages flagged (urgent or check), urgent false
alarms on look-alikes, on plain questions and on out-of-scope messages, and for urgent
accident/fire examples the share whose urgent reply starts with 115 or 114.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from triage_figures import author_figures  # noqa: E402  (shared with the tests)

from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.responder import Responder  # noqa: E402

DEFAULT = sorted((ROOT / "tests" / "data" / "triage").glob("*.yaml"))
SEALED = ROOT / "tests" / "data" / "sealed" / "triage_neighbour.yaml"

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
                f"FA out of scope {f['fa_out_of_scope']:.1%} (n={f['out_of_scope']}), "
                f"accident 115/114 first {f['accident_115_114_first']:.1%} (n={f['accidents']})"
            )


if __name__ == "__main__":
    main(sys.argv[1:])
