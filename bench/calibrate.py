"""Band thresholds (answer / did you mean / fallback) calibrated on held-out training examples.

Run: `.venv/bin/python bench/calibrate.py [--folds 5] [--min-rejection 0.97] [FILE ...]`.

The examples of knowledge/examples/ (or the FILEs given, either format) are split into folds by a
digest of their text; for each fold the ranker is trained on the entries plus the other folds'
examples and ranks the fold's messages, so every example is scored by a model that never saw it
(the deployed model, trained on all of them, is a little surer). On these out-of-fold scores:
- `high` (answer) is the threshold with the best top-1 that still rejects at least
  --min-rejection of the out-of-scope messages (fewest confident wrong answers on a tie);
- `low` (did you mean) is the one below `high` that offers the right entry among the choices to
  the most in-scope messages net of the out-of-scope messages that get choices too.
The SEALED set plays no part. Prints the grid around the choice and the choice.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from import_examples import NONE, Item, read_items  # noqa: E402

from bot.core.examples import example_files  # noqa: E402
from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.matching import Ranker, classifier, detect_role, focus, ranker  # noqa: E402
from bot.core.matching.role import folded_cues  # noqa: E402
from bot.core.text import Normaliser  # noqa: E402

Top = list[tuple[str, float]]
kb = load_knowledge(ROOT / "knowledge")


def fold_of(text: str, folds: int) -> int:
    return hashlib.blake2b(text.encode(), digest_size=4).digest()[0] % folds


def out_of_fold(items: list[Item], fold: list[int]) -> list[Top]:
    """Each item ranked by a ranker trained on the items of the other folds (`fold[i]`)."""
    normalise = Normaliser(kb.lexicon)
    cues = folded_cues(normalise.reader_cues)
    tops: list[Top] = [[] for _ in items]
    for k in sorted(set(fold) - {-1}):  # -1: always trained on, never held out
        train = [it for it, f in zip(items, fold, strict=True) if f != k]
        examples: dict[str, list[str]] = {}
        for it in train:
            if it.expect != NONE:
                examples.setdefault(it.expect, []).append(it.text)
        none = [it.text for it in train if it.expect == NONE]
        t0 = time.perf_counter()
        model = Ranker(kb.entries.values(), normalise, examples=examples, out_of_scope=none)
        print(f"  fold {k}: trained on {len(train)} examples in {time.perf_counter() - t0:.1f} s")
        for i, it in enumerate(items):
            if fold[i] == k:
                m = normalise(it.text)
                hits = model.search(m, focus=focus(m.raw, normalise.folded),
                                     role=detect_role(m.folded, cues))
                tops[i] = [(h.entry_id, h.score) for h in hits]
    return tops


def grade(items: list[Item], tops: list[Top], high: float, low: float) -> dict[str, float]:
    n_in = sum(it.expect != NONE for it in items) or 1
    n_out = sum(it.expect == NONE for it in items) or 1
    top1 = top3 = rejected = wrong = offered_out = 0
    for it, top in zip(items, tops, strict=True):
        score = top[0][1] if top else 0.0
        answered = top[0][0] if top and score >= high else None
        offered = [e for e, _ in top[:3]] if top and score >= low else []
        if it.expect == NONE:
            rejected += answered is None
            wrong += answered is not None
            offered_out += answered is None and bool(offered)
        else:
            top1 += answered == it.expect
            top3 += it.expect in offered
            wrong += answered is not None and answered != it.expect
    return {"top1": top1 / n_in, "top3": top3 / n_in, "rejection": rejected / n_out,
            "wrong": wrong, "offered_out": offered_out / n_out, "n_in": n_in, "n_out": n_out}


def choose(items: list[Item], tops: list[Top], min_rejection: float) -> tuple[float, float]:
    grid = [x / 2 for x in range(20, 161)]  # 10.0 .. 80.0 by 0.5
    best_high, best_key = grid[-1], (-1.0, 0.0)
    for high in grid:
        f = grade(items, tops, high, high)
        key = (f["top1"], -f["wrong"])
        if f["rejection"] >= min_rejection and key > best_key:
            best_high, best_key = high, key
    best_low, best_net = best_high, -1e9
    for low in (x for x in grid if x <= best_high):
        f = grade(items, tops, best_high, low)
        net = f["top3"] * f["n_in"] - f["offered_out"] * f["n_out"]
        if net > best_net:
            best_low, best_net = low, net
    return best_high, best_low


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--by-file", action="store_true",
                        help="one fold per file (leave one author out): how a new author fares")
    parser.add_argument("--min-rejection", type=float, default=0.97)
    parser.add_argument("--param", action="append", default=[], help="NAME=VALUE (ranker)")
    parser.add_argument("--no-triage", action="store_true",
                        help="leave out the triage examples' out_of_scope messages")
    args = parser.parse_args()
    for pair in args.param:  # e.g. CLASSIFIER_SHARE=0.7, to compare settings of the ranker
        name, value = pair.split("=", 1)
        module = ranker if hasattr(ranker, name) else classifier
        setattr(module, name, type(getattr(module, name))(ast.literal_eval(value)))
    files = args.files or example_files(ROOT / "knowledge")
    items = [it for path in files for it in read_items(path)]
    owner = [n for n, path in enumerate(files) for _ in read_items(path)]
    if not args.no_triage:  # the triage examples' out_of_scope lists are learned too
        extra = [Item(text, NONE) for text in kb.out_of_scope[len(kb.examples.out_of_scope):]]
        items += extra
        owner += [-1] * len(extra)  # always trained on, never held out with --by-file
    n_out = sum(it.expect == NONE for it in items)
    fold = owner if args.by_file else [fold_of(it.text, args.folds) for it in items]
    print(f"{len(items)} examples ({len(items) - n_out} in scope, {n_out} out of scope) "
          f"from {len(files)} files, "
          + ("one fold per file" if args.by_file else f"{args.folds} folds"))
    tops = out_of_fold(items, fold)
    if args.by_file:  # only the files' own items are graded; the extra ones are never held out
        keep = [i for i, f in enumerate(fold) if f >= 0]
        items, tops = [items[i] for i in keep], [tops[i] for i in keep]
    high, low = choose(items, tops, args.min_rejection)
    print(f"\n{'high':>6}{'low':>6}{'top-1':>8}{'top-3':>8}{'reject':>8}{'wrong':>7}"
          f"{'oos offered':>13}")
    for h in sorted({high - 4, high - 2, high, high + 2, high + 4}):
        for lo in sorted(x for x in {low - 4, low, low + 4, h} if x <= h):
            f = grade(items, tops, h, lo)
            print(f"{h:>6.1f}{lo:>6.1f}{100 * f['top1']:>7.1f}%{100 * f['top3']:>7.1f}%"
                  f"{100 * f['rejection']:>7.1f}%{f['wrong']:>7.0f}"
                  f"{100 * f['offered_out']:>12.1f}%")
    now = grade(items, tops, ranker.DEFAULT_HIGH, ranker.DEFAULT_LOW)
    print(f"\ntoday's bands {ranker.DEFAULT_HIGH} / {ranker.DEFAULT_LOW}: top-1 "
          f"{100 * now['top1']:.1f} %, top-3 {100 * now['top3']:.1f} %, rejection "
          f"{100 * now['rejection']:.1f} %, {now['wrong']:.0f} confident wrong")
    f = grade(items, tops, high, low)
    print(f"chosen: high {high}, low {low} (rejection >= {100 * args.min_rejection:.0f} %): "
          f"top-1 {100 * f['top1']:.1f} %, top-3 {100 * f['top3']:.1f} %, rejection "
          f"{100 * f['rejection']:.1f} %, {f['wrong']:.0f} confident wrong")


if __name__ == "__main__":
    main()
