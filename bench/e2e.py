"""End to end, as users feel it: the whole bot against the fake Bot API, next to a stock echo bot.

    python bench/e2e.py [--rate 30] [--seconds 20] [--chats 200] [--rounds 2] [--mix realistic]

Three processes, as in production where Telegram is not on our machine: this script (the
conductor, idle while measuring), the fake Bot API server (tests/fakebotapi.py) and the bot,
which long-polls the server over real HTTP. The bot is one of:
- `echo`: python-telegram-bot's echo bot on the library's stock transport (its default
  `HTTPXRequest`, pool and timeouts), with the same rate-limit figures and updates-at-once as ours;
- `ours`: `python -m bot run --config ...`.
Both get the same paced stream: `--rate` messages a second (Telegram lets a bot send about 30)
from `--chats` chats, for `--seconds`. Each round runs both bots, the order reversed every
other round; the figures are medians over the rounds. Printed: CPU milliseconds per message
(the bot process's user+system time while the stream runs), p50/p99 from update to reply (the
first reply to each update; ours: by order within the chat, which per-chat ordering
guarantees), peak resident memory, and updates with no reply ("lost").

Targets: ours' CPU per message at most 1.6x the echo bot's, p99 at most the echo bot's + 100 ms,
peak memory at most 150 MB, nothing lost. The exit status is 1 when one is missed.

Mixes: `realistic` (questions as people type them, a few urgent disclosures, small talk,
out-of-scope lines; stated in the output) and `urgent` (every message an urgent disclosure:
the worst case, 2 messages to the user plus 1 staff alert per update).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

TOKEN = "123456789:BENCH-token_abcdefghijklmnopqrstuvwxyz0123"
HASH_SECRET = "bench-hash-secret-of-at-least-32-characters"  # shorter ones are refused
ALERT_CHAT = -100_555
FIRST_CHAT = 10_000
# The realistic mix: shares of the burst (they sum to 1).
MIX = {"question": 0.80, "smalltalk": 0.10, "out_of_scope": 0.07, "urgent": 0.03}


# ---- the echo bot (child process) ------------------------------------------------------------
def run_echo(base_url: str, overall_rate: float, concurrency: int) -> None:
    """PTB's echo bot example on the stock transport, with our rate limit and concurrency."""
    import logging

    from telegram import Update
    from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler
    from telegram.ext import filters as f

    # The same update types as ours, written out: importing them from bot.telegram.app would
    # load our whole bot (and scikit-learn) into the echo bot and inflate its memory.
    allowed_updates = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]

    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        level=logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(update.effective_message.text)

    app = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(base_url)
        .rate_limiter(AIORateLimiter(overall_max_rate=overall_rate, max_retries=3))
        .concurrent_updates(concurrency)
        .build()
    )
    app.add_handler(MessageHandler(f.TEXT & ~f.COMMAND, echo))
    app.run_polling(poll_interval=0.0, timeout=10, allowed_updates=allowed_updates)


# ---- the fake server (child process) ---------------------------------------------------------
async def serve(job: dict[str, Any]) -> None:
    """Start the fake server, inject the burst when told, report what the bot sent.

    Protocol on stdin/stdout, one JSON line each: -> {"port"}; -> {"ready"} once the bot polls;
    <- "go"; -> {"result"} when every expected reply arrived (or the timeout passed); <- "quit".
    """
    from fakebotapi import FakeBotAPI

    api = await FakeBotAPI(token=TOKEN).start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def say(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    say({"port": api.port})
    while api.count("getUpdates") == 0:
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # let the bot settle into its long poll
    say({"ready": True})
    await reader.readline()
    expected = job["expected_total"]
    cpu = time.process_time()
    polls = api.count("getUpdates")
    started = time.monotonic()
    interval = 1.0 / job["rate"]
    for index, (chat, text) in enumerate(job["messages"]):
        delay = started + index * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        api.message(chat, text)
    deadline = started + job["timeout"]
    while (sum(1 for s in api.sent if s.chat_id != ALERT_CHAT) < expected
           and time.monotonic() < deadline):
        await asyncio.sleep(0.01)
    cpu = time.process_time() - cpu
    polls = api.count("getUpdates") - polls
    await asyncio.sleep(0.5)  # catch duplicates and stragglers
    say({
        "result": {
            "inject": {str(k): v for k, v in api.inject_times.items()},
            "sent": [(s.chat_id, s.text, s.at) for s in api.sent],
            "server_cpu": cpu,
            "polls": polls,
        }
    })
    await reader.readline()
    await api.stop()


# ---- the workload ----------------------------------------------------------------------------
def _pools(knowledge: Path) -> dict[str, list[str]]:
    """Messages by kind, each checked against the core so a pool holds only its own kind."""
    from bot.core.knowledge import load_knowledge
    from bot.core.responder import Responder

    kb = load_knowledge(knowledge)
    responder = Responder(kb)
    data = ROOT / "tests" / "data"
    evals = yaml.safe_load((data / "eval.yaml").read_text(encoding="utf-8"))
    urgent = yaml.safe_load((data / "triage_urgent.yaml").read_text(encoding="utf-8"))
    candidates = {
        "question": [m["text"] for m in evals if m["expect"] != "none"]
        + [q for e in kb.entries.values() for q in e.questions],
        "out_of_scope": [m["text"] for m in evals if m["expect"] == "none"],
        "smalltalk": [p for talk in kb.ui.smalltalk for p in talk.phrases],
        "urgent": [m["text"] for m in urgent["messages"]],
    }
    pools: dict[str, list[str]] = {}
    for kind, texts in candidates.items():
        kept = []
        for text in texts:
            reply = responder.respond(text)
            if kind == "urgent":
                ok = reply.urgent
            elif kind == "smalltalk":
                ok = reply.band == "smalltalk"
            elif kind == "out_of_scope":
                ok = not reply.urgent and reply.band in ("fallback", "did-you-mean")
            else:
                ok = not reply.urgent and reply.band in ("answer", "did-you-mean")
            if ok:
                kept.append(text)
        pools[kind] = kept
    return pools


def workload(mix: str, count: int, chats: int, knowledge: Path, seed: int = 7
             ) -> list[tuple[int, str]]:
    """(chat id, text) in arrival order, spread over `chats` chats at random."""
    pools = _pools(knowledge)
    rng = random.Random(seed)
    shares = MIX if mix == "realistic" else {"urgent": 1.0}
    kinds: list[str] = []
    for kind, share in shares.items():
        kinds += [kind] * round(share * count)
    kinds = (kinds + ["question"] * count)[:count]
    rng.shuffle(kinds)
    return [(FIRST_CHAT + rng.randrange(chats), rng.choice(pools[kind])) for kind in kinds]


def our_parts(messages: list[tuple[int, str]], knowledge: Path) -> tuple[list[int], int]:
    """Messages our bot sends each update's chat (from the core itself), and staff alerts."""
    from bot.core.knowledge import load_knowledge
    from bot.core.responder import Responder
    from bot.telegram import render as tui

    responder = Responder(load_knowledge(knowledge))
    counts, alerts = [], 0
    for _, text in messages:
        reply = responder.respond(text, None)
        counts.append(len(tui.reply_messages(responder.ui, reply, "ref")))
        alerts += reply.urgent
    return counts, alerts


# ---- measuring one bot ----------------------------------------------------------------------
@dataclass
class Result:
    kind: str
    messages: int
    expected: int  # messages to users
    received: int
    alerts: int  # urgent cases in the staff chat (several may share one message)
    alert_messages: int
    lost: int  # updates without any reply
    seconds: float
    latencies: list[float]
    peak_mb: float
    cpu_seconds: float  # the bot's, during the burst
    server_cpu_seconds: float
    polls: int  # getUpdates calls during the burst

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def _proc_status(pid: int) -> tuple[float, float]:
    """(peak resident MB, CPU seconds) of a running process, from /proc."""
    peak = 0.0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return peak, (int(fields[11]) + int(fields[12])) / ticks


async def _line(stream: asyncio.StreamReader, timeout: float) -> dict[str, Any]:
    raw = await asyncio.wait_for(stream.readline(), timeout)
    if not raw:
        raise RuntimeError("the fake server exited early")
    return json.loads(raw)


async def measure(kind: str, messages: list[tuple[int, str]], parts: list[int],
                  alerts_expected: int, args: argparse.Namespace) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix=f"e2e-{kind}-"))
    expected_total = sum(parts)
    job = {"messages": messages, "expected_total": expected_total, "timeout": args.timeout,
           "rate": args.rate}
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--child-server", cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=64 * 1024 * 1024,
    )
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write((json.dumps(job) + "\n").encode())
    await server.stdin.drain()
    port = (await _line(server.stdout, 30))["port"]
    base_url = f"http://127.0.0.1:{port}/bot"
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN, BOT_HASH_SECRET=HASH_SECRET,
               PTB_TIMEDELTA="true")
    if kind.startswith("echo"):
        cmd = [sys.executable, __file__, "--child-echo", base_url,
               "--overall-rate", str(args.overall_rate), "--concurrency", str(args.concurrency)]
    else:
        config = workdir / "config.yaml"
        config.write_text(yaml.safe_dump({
            "telegram": {
                "base_url": base_url,
                "concurrency": args.concurrency,
                "rate_limit": {"overall_per_second": args.overall_rate,
                               "per_chat_per_second": args.overall_rate},
            },
            "alerts": {"chat_id": ALERT_CHAT},
            "storage": {"database": str(workdir / "log.sqlite3"),
                        "cache_dir": str(args.cache_dir or workdir / "fitted")},
            "knowledge": {"path": str(args.knowledge)},
            "logging": {"level": "INFO"},
        }), encoding="utf-8")
        cmd = [sys.executable, *args.profile_cmd, "-m", "bot", "run", "--config", str(config)]
    with open(workdir / "bot.log", "wb") as log:
        proc = await asyncio.create_subprocess_exec(
            *cmd, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=log,
        )
    try:
        await _line(server.stdout, 60)  # ready
        _, cpu_before = _proc_status(proc.pid)
        server.stdin.write(b"go\n")
        await server.stdin.drain()
        result = (await _line(server.stdout, args.timeout + 30))["result"]
        peak, cpu_after = _proc_status(proc.pid)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
        if server.returncode is None:
            server.stdin.write(b"quit\n")
            try:
                await asyncio.wait_for(server.wait(), 10)
            except TimeoutError:
                server.kill()

    inject = {int(k): v for k, v in result["inject"].items()}
    sent = [(chat, text, at) for chat, text, at in result["sent"]]
    to_users = [s for s in sent if s[0] != ALERT_CHAT]
    update_ids = sorted(inject)  # injected in `messages` order
    latencies: list[float] = []
    lost = 0
    if kind.startswith("echo"):
        pending: dict[tuple[int, str], deque[int]] = defaultdict(deque)
        for update_id, (chat, text) in zip(update_ids, messages, strict=True):
            pending[(chat, text)].append(update_id)
        for chat, text, at in to_users:
            queue = pending.get((chat, text))
            if queue:
                latencies.append(at - inject[queue.popleft()])
        lost = sum(len(q) for q in pending.values())
    else:
        by_chat: dict[int, list[float]] = defaultdict(list)
        for chat, _, at in to_users:
            by_chat[chat].append(at)
        position: dict[int, int] = defaultdict(int)
        for update_id, (chat, _), count in zip(update_ids, messages, parts, strict=True):
            replies = by_chat.get(chat, [])
            if position[chat] < len(replies):
                latencies.append(replies[position[chat]] - inject[update_id])
            else:
                lost += 1
            position[chat] += count
    last = max((at for _, _, at in to_users), default=min(inject.values()))
    return Result(
        kind=kind, messages=len(messages), expected=expected_total, received=len(to_users),
        alerts=sum(text.count(args.marker) for chat, text, _ in sent if chat == ALERT_CHAT),
        alert_messages=len(sent) - len(to_users), lost=lost, seconds=last - min(inject.values()),
        latencies=latencies, peak_mb=peak, cpu_seconds=cpu_after - cpu_before,
        server_cpu_seconds=result["server_cpu"], polls=result["polls"],
    )


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


HEADER = (f"{'bot':<8} {'msg/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'lost':>5} {'sent':>5} "
          f"{'alerts/msgs':>11} {'seconds':>7} {'peak MB':>7} {'CPU s':>6} {'CPU ms/msg':>10} "
          f"{'server CPU s':>12} {'polls':>5}")


def _row(r: Result) -> str:
    alerts = f"{r.alerts}/{r.alert_messages}"
    return (f"{r.kind:<8} {r.rate:>6.0f} {_pct(r.latencies, 0.5):>7.0f} "
            f"{_pct(r.latencies, 0.99):>7.0f} {r.lost:>5} {r.received:>5} {alerts:>11} "
            f"{r.seconds:>7.2f} {r.peak_mb:>7.1f} {r.cpu_seconds:>6.2f} "
            f"{r.cpu_seconds / r.messages * 1000:>10.2f} {r.server_cpu_seconds:>12.2f}"
            f" {r.polls:>5}")


async def run_mix(mix: str, args: argparse.Namespace) -> bool:
    """Measure both bots on one mix; True when every target is met."""
    messages = workload(mix, round(args.rate * args.seconds), args.chats, args.knowledge)
    parts, alerts = our_parts(messages, args.knowledge)
    if not hasattr(args, "marker"):
        from bot.core.knowledge import load_knowledge

        args.marker = load_knowledge(args.knowledge).ui.urgent_marker
    kinds = ("echo", "ours")
    expected = {k: (([1] * len(messages), 0) if k.startswith("echo") else (parts, alerts))
                for k in kinds}
    if mix == "realistic":
        shares = ", ".join(f"{share:.0%} {kind.replace('_', '-')}" for kind, share in MIX.items())
        what = f"realistic mix ({shares})"
    else:
        what = "all-urgent worst case (every message an urgent disclosure)"
    print(f"\n== {what}: {len(messages)} updates from {args.chats} chats at {args.rate:g}/s; "
          f"ours sends {sum(parts) / len(messages):.2f} messages per update "
          f"+ {alerts} staff alerts, an echo bot 1")
    print(HEADER)
    runs: dict[str, list[Result]] = defaultdict(list)
    for round_ in range(args.rounds):
        order = kinds if round_ % 2 == 0 else kinds[::-1]
        for kind in order:
            result = await measure(kind, messages, *expected[kind], args)
            runs[kind].append(result)
            print(_row(result), flush=True)

    def med(kind: str, value: Any) -> float:
        return statistics.median(value(r) for r in runs[kind])

    print("median:")
    for kind in kinds:
        print(f"  {kind:<8} {med(kind, lambda r: r.rate):>6.0f} msg/s, "
              f"p50 {med(kind, lambda r: _pct(r.latencies, 0.5)):.0f} ms, "
              f"p99 {med(kind, lambda r: _pct(r.latencies, 0.99)):.0f} ms, "
              f"peak {med(kind, lambda r: r.peak_mb):.0f} MB, "
              f"CPU {med(kind, lambda r: r.cpu_seconds / r.messages * 1000):.2f} ms/msg, "
              f"lost {sum(r.lost for r in runs[kind])}")
    cpu = {k: med(k, lambda r: r.cpu_seconds / r.messages * 1000) for k in kinds}
    p99 = {k: med(k, lambda r: _pct(r.latencies, 0.99)) for k in kinds}
    peak = max(r.peak_mb for r in runs["ours"])
    lost = sum(r.lost for results in runs.values() for r in results)
    checks = [
        (f"CPU per message: ours {cpu['ours']:.2f} ms = {cpu['ours'] / cpu['echo']:.2f}x echo's "
         f"{cpu['echo']:.2f} ms (target <= 1.6x)", cpu["ours"] <= 1.6 * cpu["echo"]),
        (f"p99 update to reply: ours {p99['ours']:.0f} ms, echo {p99['echo']:.0f} ms "
         f"(target <= echo + 100 ms)", p99["ours"] <= p99["echo"] + 100),
        (f"peak memory: ours {peak:.0f} MB (target <= 150 MB)", peak <= 150),
        (f"lost updates: {lost} (target 0)", lost == 0),
    ]
    for text, ok in checks:
        print(f"  {'OK  ' if ok else 'MISS'} {text}")
    print("  staff alerts are sent from a queue at the staff group's limit (20/min), joined "
          "when they pile up: the alerts column counts those out by the stream's end")
    return all(ok for _, ok in checks)


async def main(args: argparse.Namespace) -> int:
    print(f"fake server, bot and this script in separate processes on {os.cpu_count()} CPU(s); "
          f"both bots: {args.concurrency} updates at once, rate limit {args.overall_rate:g}/s, "
          f"logging INFO; {args.rounds} rounds, medians")
    met = True
    for mix in args.mix.split(","):
        met &= await run_mix(mix, args)
    return 0 if met else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from bot.config import TelegramSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=30,
                        help="messages a second sent to the bot (Telegram's limit: about 30)")
    parser.add_argument("--seconds", type=float, default=20, help="how long the stream lasts")
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--mix", default="realistic",
                        help="comma-separated: realistic, urgent")
    parser.add_argument("--overall-rate", type=float, default=1000,
                        help="rate limit (messages/s) for both bots, high enough not to throttle "
                             "so the comparison measures our own work")
    parser.add_argument("--concurrency", type=int, default=TelegramSettings().concurrency,
                        help="updates at once and HTTP connections, for both bots")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="our bot's storage.cache_dir (fitted weights); default: a fresh "
                             "folder per run, i.e. every start fits (a cold start); give a kept "
                             "folder to measure a warm start (run twice, quote the second)")
    parser.add_argument("--profile", metavar="FILE",
                        help="run our bot under cProfile, writing FILE (last run wins)")
    parser.add_argument("--child-echo", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--child-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.profile_cmd = ["-m", "cProfile", "-o", str(args.profile)] if args.profile else []
    return args


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.child_echo:
        run_echo(arguments.child_echo, arguments.overall_rate, arguments.concurrency)
    elif arguments.child_server:
        asyncio.run(serve(json.loads(sys.stdin.readline())))
    else:
        sys.exit(asyncio.run(main(arguments)))
