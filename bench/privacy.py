"""Privacy figures: leaks left by redaction on the privacy sets, and words masked by mistake.

    .venv/bin/python bench/privacy.py [--show N] [--set FILE ...]

Sets: tests/data/privacy/dev.yaml (written for CI; tuned on), the later authors' sets (rounds 8,
9, 16, 17 and 24: measured as delivered, then tuned on; their first figures are in each file's
header), and tests/data/sealed/privacy*.yaml (sealed: written
by other authors, never tuned on, only measured: their leaks are counted, never printed). A
leak is any readable piece of a listed secret (five digits in a row of a number, two words of a
name side by side, or a distinctive word). The end-to-end check through the running bot is
tests/test_privacy_e2e.py.
"""

from __future__ import annotations

import argparse
import re
import time
from collections import Counter
from pathlib import Path

import yaml

from bot.core.knowledge import load_knowledge
from bot.privacy import Redactor
from bot.privacy.audit import LeakAuditor

ROOT = Path(__file__).resolve().parent.parent
SETS = {
    "dev (CI, tuned)": ROOT / "tests/data/privacy/dev.yaml",
    "sealed": ROOT / "tests/data/sealed/privacy.yaml",
    "sealed (round 10)": ROOT / "tests/data/sealed/privacy_round10.yaml",
    "sealed (round 14, teen)": ROOT / "tests/data/sealed/privacy_round14_teen.yaml",
    "sealed (round 14, social worker)": ROOT / "tests/data/sealed/privacy_round14_gialai.yaml",
    "sealed (round 16, Bắc)": ROOT / "tests/data/sealed/privacy_round16_bac.yaml",
    "sealed (round 18, Tây Nguyên)": ROOT / "tests/data/sealed/privacy_round18_tay-nguyen.yaml",
    "round 8 (tuned)": ROOT / "tests/data/privacy/round8_fresh.yaml",
    "round 9 A (tuned)": ROOT / "tests/data/privacy/round9_a.yaml",
    "round 9 B (tuned)": ROOT / "tests/data/privacy/round9_b.yaml",
    "round 16 Mekong (tuned)": ROOT / "tests/data/privacy/round16_mekong.yaml",
    "round 17 Quảng Nam (tuned)": ROOT / "tests/data/privacy/round17_quang-nam.yaml",
    "round 24 Tây Nguyên, Hà Nội (tuned)":
        ROOT / "tests/data/privacy/round24_tay-nguyen-ha-noi.yaml",
    "round 26 miền Trung, miền Tây (tuned)":
        ROOT / "tests/data/privacy/round26_mien-trung-mien-tay.yaml",
    "round 27 miền núi phía Bắc (tuned)":
        ROOT / "tests/data/privacy/round27_mien-nui-phia-bac.yaml",
    "round 28 Sài Gòn, Bình Dương (tuned)":
        ROOT / "tests/data/privacy/round28_saigon-binh-duong.yaml",
}
_WORD_RE = re.compile(r"\w+")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=5, help="leaks to print per set")
    parser.add_argument("--set", action="append", default=[], type=Path, metavar="FILE",
                        help="also measure this set (a new author's, before tuning on it)")
    args = parser.parse_args()
    kb = load_knowledge(ROOT / "knowledge")
    redactor = Redactor(kb.privacy, kb.redaction_vocabulary())
    auditor = LeakAuditor(redactor, kb.vocabulary())
    sets = {**SETS, **{path.name: path.resolve() for path in args.set}}
    for name, path in sets.items():
        if not path.exists():
            print(f"{name}: {path.relative_to(ROOT)} absent")
            continue
        items = yaml.safe_load(path.read_text(encoding="utf-8"))
        leaky_messages = 0
        leaked_secrets = 0
        secrets = 0
        by_form: Counter[str] = Counter()
        shown = 0
        for item in items:
            out = redactor.redact(item["text"])
            bad = [(s, found) for s in item["secrets"] if (found := auditor.leaks(s, out))]
            secrets += len(item["secrets"])
            leaked_secrets += len(bad)
            if bad:
                leaky_messages += 1
                by_form.update(item.get("forms", []))
                if shown < args.show and "sealed" not in name:  # a sealed set is only counted
                    shown += 1
                    print(f"  LEAK {bad}\n       in: {item['text']}\n      out: {out}")
        print(
            f"{name}: {len(items)} messages, {secrets} secrets: {leaky_messages} messages leak, "
            f"{leaked_secrets} secrets leak; by form: {dict(by_form.most_common(8))}"
        )
    words = masked = 0
    start = time.perf_counter()
    questions = [q for entry in kb.entries.values() for q in entry.questions]
    for question in questions:
        before = _WORD_RE.findall(redactor.prepare(question))
        after = _WORD_RE.findall(redactor.redact(question))
        words += len(before)
        masked += sum(1 for w in before if w not in after)
    elapsed = (time.perf_counter() - start) / max(1, len(questions)) * 1000
    print(
        f"knowledge-base questions: {len(questions)}, {words} words, "
        f"{masked} masked by mistake ({masked / max(1, words):.1%}); {elapsed:.2f} ms a message"
    )


if __name__ == "__main__":
    main()
