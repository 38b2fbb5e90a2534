"""Leave-one-author-out figures of the tiered triage (issue 13; a benchmark, not a test).

Run: python bench/triage_oof.py [--layers] [--without FILE]. Each file of
knowledge/triage_examples/ is held out in turn: the learned model is trained on the other files
(plus the danger.yaml examples and the knowledge-base questions, as the bot does) and the
held-out file's messages go through the very tiering the bot uses (bot.core.triage.Tiering). So
the figures say how the triage does on an author it never saw; the training-side figures of
bench/triage_authors.py say only that it learnt its own examples. The sealed set is never read
here.

Per held-out file and overall: urgent-tier recall, urgent-or-check recall, unclear flagged
(urgent or check), and on look-alikes, plain questions and everyday (out-of-scope) messages
the share given the urgent reply / the check line (both are wrong there: a check line under an
ordinary message is the most common bad answer). `--layers` also
lists, for each urgent false alarm, which layer raised it (rule hit or model alone) and P(danger).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.core.knowledge import KnowledgeBase, load_knowledge  # noqa: E402
from bot.core.text import Normalised, Normaliser  # noqa: E402
from bot.core.triage import ModelText, Tiering, Triage, TriageModel, training_data  # noqa: E402

GROUPS = ("urgent", "unclear", "lookalike", "question", "out_of_scope")


@dataclass
class Tally:
    """Counts of one held-out file (or all of them): per group, how many got each tier."""

    tiers: dict[str, dict[str, int]] = field(
        default_factory=lambda: {g: {"urgent": 0, "check": 0, "none": 0} for g in GROUPS}
    )
    false_alarms: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for group in GROUPS:
            for tier, count in other.tiers[group].items():
                self.tiers[group][tier] += count
        self.false_alarms += other.false_alarms
        self.misses += other.misses

    def rate(self, group: str, tiers: tuple[str, ...]) -> tuple[float, int]:
        counts = self.tiers[group]
        total = sum(counts.values())
        return (sum(counts[t] for t in tiers) / total if total else 0.0), total

    def line(self, name: str) -> str:
        urgent, n_urgent = self.rate("urgent", ("urgent",))
        either, _ = self.rate("urgent", ("urgent", "check"))
        unclear, n_unclear = self.rate("unclear", ("urgent", "check"))
        wrong = []
        for group, label in (("lookalike", "look"), ("question", "question"),
                             ("out_of_scope", "everyday")):
            fa, n = self.rate(group, ("urgent",))
            checked, _ = self.rate(group, ("check",))
            wrong.append(f"{label} U {fa:5.1%} C {checked:5.1%} (n={n:4})")
        return (
            f"{name:34} urgent {urgent:6.1%} or-check {either:6.1%} (n={n_urgent:4}) "
            f"unclear {unclear:6.1%} (n={n_unclear:3}) | " + " | ".join(wrong)
        )


def _items(examples: object, group: str) -> list[str]:
    items = getattr(examples, group)
    return [item if isinstance(item, str) else item.text for item in items]


def held_out(kb: KnowledgeBase, names: list[str]) -> tuple[dict[str, Tally], float]:
    """Tallies per held-out file, and the mean training time (seconds) of one fold."""
    normalise = Normaliser(kb.lexicon)
    triage = Triage(kb.danger, normalise)
    model_text = ModelText(kb.danger.model_cues, normalise)
    safe = [q for entry in kb.entries.values() for q in entry.questions]
    normalised: dict[str, Normalised] = {}

    def norm(text: str) -> Normalised:
        if text not in normalised:
            normalised[text] = normalise(text)
        return normalised[text]

    tallies: dict[str, Tally] = {}
    seconds = 0.0
    for i, held in enumerate(kb.triage_examples):
        rest = [s for j, s in enumerate(kb.triage_examples) if j != i]
        texts, labels, weights = training_data(rest, safe, kb.danger.examples())
        inputs = [model_text(norm(t)) for t in texts]
        start = time.process_time()
        model = TriageModel(inputs, labels, weights)
        seconds += time.process_time() - start
        tiering = Tiering(kb.danger, triage, model, model_text)
        tally = Tally()
        for group in GROUPS:
            for text in _items(held, group):
                message = norm(text)
                _, tier = tiering.assess(message, None)
                tally.tiers[group][tier] += 1
                if group in ("lookalike", "question", "out_of_scope") and tier == "urgent":
                    rule = triage.assess(message) is not None
                    danger, _ = model.scores(model_text(message))
                    layer = "rule" if rule else "model"
                    tally.false_alarms.append(
                        f"{names[i]} {group} [{layer} P={danger:.2f}] {text}"
                    )
                if group == "urgent" and tier != "urgent":
                    danger, _ = model.scores(model_text(message))
                    tally.misses.append(f"{names[i]} -> {tier} [P={danger:.2f}] {text}")
        tallies[names[i]] = tally
    return tallies, seconds / len(kb.triage_examples)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", action="store_true", help="list false alarms and misses")
    parser.add_argument(
        "--without", action="append", default=[], metavar="FILE",
        help="also print the overall figures without this held-out file (repeatable)",
    )
    args = parser.parse_args(argv)
    kb = load_knowledge(ROOT / "knowledge")
    names = [p.name for p in sorted((ROOT / "knowledge" / "triage_examples").glob("*.yaml"))]
    assert len(names) == len(kb.triage_examples), "example files and sets do not line up"
    tallies, seconds = held_out(kb, names)
    total = Tally()
    for name, tally in tallies.items():
        print(tally.line(name))
        total.add(tally)
    print(total.line("ALL (leave-one-author-out)"))
    if args.without:
        rest = Tally()
        for name, tally in tallies.items():
            if name not in args.without:
                rest.add(tally)
        print(rest.line("ALL without " + ", ".join(args.without)))
    rules = sum(1 for line in total.false_alarms if "[rule " in line)
    print(
        f"urgent false alarms raised by a rule hit: {rules} of {len(total.false_alarms)}; "
        f"training one fold: {seconds:.2f} s CPU"
    )
    if args.layers:
        for line in total.false_alarms:
            print("  FA", line)
        for line in total.misses:
            print("  MISS", line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
