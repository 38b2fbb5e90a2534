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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from triage_figures import triage_figures  # noqa: E402  (shared with the tests)


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
