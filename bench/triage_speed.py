"""Triage speed and memory: knowledge load, rule build, training, per-message tiering, respond.

Prints figures; it is not a test. Run: `.venv/bin/python bench/triage_speed.py [--rounds 5]`.

- Start-up is measured cold in this process: load_knowledge, the rule triage build, training
  (folding the examples + fitting), then a whole Responder (the model comes from the per-process
  memo then, as on a /reload of unchanged knowledge), and a cold Responder after clearing it.
- Per message: `Tiering.assess` (rules + learned model, what decides urgent/check/none) and the
  whole `Responder.respond` with the reply cache off, over every message of
  knowledge/triage_examples/*.yaml (training messages: a speed set, not a quality set) plus
  20,000-character and emoji-only messages. Each message runs `--rounds` times and its median
  is kept, so a scheduler pause on this shared 2-core machine does not pose as a slow message.
  The tiering is also timed on the older tests/data/triage_*.yaml sets, whose words the rules
  did not work out in advance (`Triage.warm`).
  Wall time and CPU time (time.thread_time: what the process itself spent) are both printed.
- Memory: resident-set growth while the Responder is built, and the traced size of the model.
- Start with kept weights: the issue allows training at load "or cache by content hash". A fresh
  interpreter loads the knowledge base and builds the whole Responder with a weights store
  (bot.fitstore.DiskWeights, as `python -m bot run`, `chat` and `ask` keep them in
  `storage.cache_dir`) that already holds this knowledge version's weights: what every start
  after the first one for a knowledge version costs. Run twice in a temporary store: the first
  fills it (a cold start, printed too), the second is the one compared with the target.
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.responder import Responder  # noqa: E402
from bot.core.text import Normalised, Normaliser  # noqa: E402
from bot.core.triage import ModelText, Triage, TriageModel, training_data  # noqa: E402
from bot.core.triage import model as model_module  # noqa: E402

KNOWLEDGE = ROOT / "knowledge"
TARGET_TIER_P99_MS = 2.0
TARGET_STARTUP_S = 2.0  # knowledge load + training (issue 13: load <= 2 s)


def rss_mib() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 2**20


def timed(work: Callable[[], object]) -> tuple[object, float, float]:
    """(result, wall seconds, CPU seconds)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def example_messages() -> list[str]:
    texts: list[str] = []
    for path in sorted((KNOWLEDGE / "triage_examples").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for items in data.values():
            texts += [item["text"] if isinstance(item, dict) else str(item) for item in items]
    return texts


def unseen_messages() -> list[str]:
    """The older triage sets in tests/data (not training data: their words were not warmed)."""
    texts: list[str] = []
    for path in sorted((ROOT / "tests" / "data").glob("triage_*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for items in data.values():
            if isinstance(items, list):
                texts += [item["text"] if isinstance(item, dict) else str(item) for item in items]
    return texts


def per_message(work: Callable[[object], object], inputs: list, rounds: int) -> dict[str, float]:
    """p50/p99/max of each input's median wall and CPU time, in ms."""
    walls: list[float] = []
    cpus: list[float] = []
    for item in inputs:
        wall_runs, cpu_runs = [], []
        for _ in range(rounds):
            wall, cpu = time.perf_counter(), time.thread_time()
            work(item)
            cpu_runs.append(time.thread_time() - cpu)
            wall_runs.append(time.perf_counter() - wall)
        walls.append(sorted(wall_runs)[rounds // 2] * 1000)
        cpus.append(sorted(cpu_runs)[rounds // 2] * 1000)
    walls.sort()
    cpus.sort()

    def pct(values: list[float], p: float) -> float:
        return values[min(len(values) - 1, int(len(values) * p))]

    return {
        "p50": pct(walls, 0.5), "p99": pct(walls, 0.99), "max": walls[-1],
        "cpu_p50": pct(cpus, 0.5), "cpu_p99": pct(cpus, 0.99), "cpu_max": cpus[-1],
    }


def show(label: str, fig: dict[str, float], target: float | None = None) -> None:
    verdict = ""
    if target is not None:
        verdict = f"  target p99 <= {target} ms: {'OK' if fig['cpu_p99'] <= target else 'MISSED'}"
        verdict += " (CPU)"
    print(
        f"{label:34} wall p50 {fig['p50']:.3f} p99 {fig['p99']:.3f} max {fig['max']:.3f} ms | "
        f"CPU p50 {fig['cpu_p50']:.3f} p99 {fig['cpu_p99']:.3f} max {fig['cpu_max']:.3f} ms"
        f"{verdict}"
    )


# Run in a fresh interpreter: load + whole Responder with the weights store in argv[1].
_START = """
import json, sys, time
from pathlib import Path
wall, cpu = time.perf_counter(), time.process_time()
from bot.core import fitting
from bot.core.knowledge import load_knowledge
from bot.core.responder import Responder
from bot.fitstore import DiskWeights
fitting.configure(DiskWeights(Path(sys.argv[1])))
Responder(load_knowledge(Path(sys.argv[2])))
print(json.dumps([time.perf_counter() - wall, time.process_time() - cpu]))
"""


def start_with_store() -> tuple[tuple[float, float], tuple[float, float]]:
    """((wall, CPU) of a start filling an empty store, (wall, CPU) of the next start)."""
    with tempfile.TemporaryDirectory(prefix="triage-speed-") as store:
        runs = []
        for _ in range(2):
            out = subprocess.run(
                [sys.executable, "-c", _START, store, str(KNOWLEDGE)], cwd=ROOT,
                capture_output=True, text=True, check=True,
            ).stdout
            wall, cpu = json.loads(out.strip().splitlines()[-1])
            runs.append((float(wall), float(cpu)))
    return runs[0], runs[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    rss_start = rss_mib()
    kb, load_wall, load_cpu = timed(lambda: load_knowledge(KNOWLEDGE))
    assert not isinstance(kb, Exception)
    normalise = Normaliser(kb.lexicon)  # type: ignore[attr-defined]
    _, rules_wall, rules_cpu = timed(lambda: Triage(kb.danger, normalise))  # type: ignore[attr-defined]
    safe = [q for entry in kb.entries.values() for q in entry.questions]  # type: ignore[attr-defined]
    texts, labels, weights = training_data(kb.triage_examples, safe, kb.danger.examples())  # type: ignore[attr-defined]
    model_text = ModelText(kb.danger.model_cues, normalise)  # type: ignore[attr-defined]
    folded, fold_wall, fold_cpu = timed(lambda: [model_text(normalise(t)) for t in texts])
    trained, fit_wall, fit_cpu = timed(lambda: TriageModel(folded, labels, weights))  # type: ignore[arg-type]
    del trained
    gc.collect()
    tracemalloc.start()
    trained = TriageModel(folded, labels, weights)  # type: ignore[arg-type]
    model_mib = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    del trained
    gc.collect()
    model_module._TRAINED.clear()
    rss_before = rss_mib()
    responder, cold_wall, cold_cpu = timed(lambda: Responder(kb, cache_size=0))  # type: ignore[arg-type]
    rss_after = rss_mib()
    _, warm_wall, warm_cpu = timed(lambda: Responder(kb, cache_size=0))  # type: ignore[arg-type]
    assert isinstance(responder, Responder)

    print(f"training data: {len(texts)} messages ({sum(label != 'none' for label in labels)} "
          "danger); messages timed: every knowledge/triage_examples message (training set)")
    print(f"load_knowledge                     {load_wall:.2f} s wall, {load_cpu:.2f} s CPU")
    print(f"rule triage build                  {rules_wall:.2f} s wall, {rules_cpu:.2f} s CPU")
    print(f"training: fold examples            {fold_wall:.2f} s wall, {fold_cpu:.2f} s CPU")
    print(f"training: fit TF-IDF + LR          {fit_wall:.2f} s wall, {fit_cpu:.2f} s CPU")
    startup_wall = load_wall + fold_wall + fit_wall
    startup_cpu = load_cpu + fold_cpu + fit_cpu
    verdict = "OK" if startup_cpu <= TARGET_STARTUP_S else "MISSED"
    print(f"load + training                    {startup_wall:.2f} s wall, {startup_cpu:.2f} s CPU"
          f"  target <= {TARGET_STARTUP_S} s: {verdict} (CPU)")
    print(f"Responder cold (rules+train+index) {cold_wall:.2f} s wall, {cold_cpu:.2f} s CPU")
    (first_wall, first_cpu), (kept_wall, kept_cpu) = start_with_store()
    print(f"fresh process, empty weights store {first_wall:.2f} s wall, {first_cpu:.2f} s CPU"
          " (imports, load, fit everything, keep it)")
    verdict = "OK" if kept_cpu <= TARGET_STARTUP_S else "MISSED"
    print(f"fresh process, weights kept        {kept_wall:.2f} s wall, {kept_cpu:.2f} s CPU"
          f"  target <= {TARGET_STARTUP_S} s (cache by content hash): {verdict} (CPU)")
    print(f"Responder again (model memoised)   {warm_wall:.2f} s wall, {warm_cpu:.2f} s CPU")
    print(f"memory: Responder build +{rss_after - rss_before:.0f} MiB RSS (process "
          f"{rss_after:.0f} MiB, {rss_start:.0f} at start); model {model_mib:.1f} MiB traced")

    messages = [responder.normalise(t) for t in example_messages()]
    tiering = responder.tiering

    def tier(message: object) -> object:
        assert isinstance(message, Normalised)
        return tiering.assess(message, None)

    show(f"tiering (rules+model), n={len(messages)}", per_message(tier, messages, args.rounds),
         TARGET_TIER_P99_MS)
    unseen = [responder.normalise(t) for t in unseen_messages()]
    show(f"tiering, tests/data sets, n={len(unseen)}", per_message(tier, unseen, args.rounds),
         TARGET_TIER_P99_MS)
    show("  rules alone", per_message(lambda m: tiering.triage.assess(m), messages, args.rounds))
    show("  model alone", per_message(
        lambda m: tiering.model.scores(tiering.model_text(m)), messages, args.rounds))  # type: ignore[attr-defined]
    raw = example_messages()
    show("respond (cache off)", per_message(lambda t: responder.respond(t), raw, args.rounds))  # type: ignore[arg-type]
    odd = ["a" * 20_000, "😀" * 50, " ".join(raw)[:20_000], ("bố đánh em " * 2000)[:20_000]]
    show("respond, 20,000 chars / emoji (n=4)",
         per_message(lambda t: responder.respond(t), odd, 3))  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
