"""End-to-end throughput: the whole bot against the fake Bot API, next to a minimal echo bot.

    python bench/e2e.py [--messages 1000] [--chats 200] [--overall-rate 1000000]

Each bot runs as its own process polling the fake server (tests/fakebotapi.py) over real HTTP:
first a minimal python-telegram-bot echo bot (the ceiling the library itself sets), then our
bot through `python -m bot run`. The same burst of messages (questions from the knowledge base,
greetings, misspellings, off-topic lines) is injected for both; the script waits for every
expected reply and prints messages per second, p50/p99 time from update to first reply part,
the process's peak memory (VmHWM) and CPU seconds, and how many replies never arrived.
Both bots run with the same rate-limiter setting (by default high enough not to throttle), so
the ratio measures our own overhead: core, logging, per-chat ordering, keyboards.
"""

from __future__ import annotations

import argparse
import asyncio
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from fakebotapi import FakeBotAPI  # noqa: E402

TOKEN = "123456789:BENCH-token_abcdefghijklmnopqrstuvwxyz0123"


# ---- the echo bot (child process) ------------------------------------------------------------
def run_echo(base_url: str, overall_rate: float, concurrency: int) -> None:
    """A minimal PTB echo bot with the same limiter setting.

    Plain (`concurrency` 0): `concurrent_updates(True)` (256 at once) and PTB's default HTTP
    pool, as the docs show it. Tuned: the same number of updates at once and HTTP connections
    as our bot; httpcore's pool bookkeeping grows with requests in flight, so this is the
    higher and fairer ceiling.
    """
    from telegram import Update
    from telegram.ext import AIORateLimiter, ApplicationBuilder, ContextTypes, MessageHandler
    from telegram.ext import filters as f
    from telegram.request import HTTPXRequest

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_text(update.effective_message.text)

    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(base_url)
        .rate_limiter(AIORateLimiter(overall_max_rate=overall_rate, max_retries=3))
    )
    if concurrency:
        builder = builder.concurrent_updates(concurrency).request(
            HTTPXRequest(connection_pool_size=concurrency)
        )
    else:
        builder = builder.concurrent_updates(True)
    app = builder.build()
    app.add_handler(MessageHandler(f.TEXT & ~f.COMMAND, echo))
    app.run_polling(poll_interval=0.0, timeout=10, allowed_updates=[Update.MESSAGE])


# ---- the workload ----------------------------------------------------------------------------
def workload(count: int, chats: int, knowledge: Path, seed: int = 7) -> list[tuple[int, str]]:
    """(chat id, text) in arrival order: a realistic mix, spread over `chats` chats."""
    from bot.knowledge import load_knowledge

    kb = load_knowledge(knowledge)
    rng = random.Random(seed)
    questions = [q for entry in kb.entries.values() for q in entry.questions]
    extra = [
        "xin chào", "cảm ơn bạn", "tong dai bao ve tre em so may",
        "con toi bi xam hai thi lam gi", "giáo viên phải báo ai", "giá vàng hôm nay",
        "ko bit phai lam j", "em bị bạn bắt nạt trên mạng",
    ]
    texts = questions + extra
    return [(10_000 + rng.randrange(chats), rng.choice(texts)) for _ in range(count)]


def expected_parts(messages: list[tuple[int, str]], kind: str, knowledge: Path) -> list[int]:
    """How many messages each update makes the bot send (our bot: from the core itself)."""
    if kind.startswith("echo"):
        return [1] * len(messages)
    from bot import telegram_ui as tui
    from bot.core import Responder
    from bot.knowledge import load_knowledge

    responder = Responder(load_knowledge(knowledge))
    labels = {topic.label for topic in responder.ui.topics}
    counts = []
    for _, text in messages:
        if text.strip() in labels:
            counts.append(1)
            continue
        reply = responder.respond(text, None)
        counts.append(len(tui.reply_messages(responder.ui, reply, "ref")))
    return counts


# ---- measuring one bot ----------------------------------------------------------------------
@dataclass
class Result:
    kind: str
    messages: int
    expected: int
    received: int
    seconds: float
    latencies: list[float]
    peak_mb: float
    cpu_seconds: float
    server_cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def lost(self) -> int:
        return self.expected - self.received


def _proc_status(pid: int) -> tuple[float, float]:
    """(peak resident MB, CPU seconds) of a running process, from /proc."""
    peak = 0.0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return peak, cpu


async def measure(
    kind: str, messages: list[tuple[int, str]], parts: list[int], args: argparse.Namespace
) -> Result:
    api = await FakeBotAPI(token=TOKEN).start()
    workdir = Path(tempfile.mkdtemp(prefix=f"e2e-{kind}-"))
    env = dict(os.environ, TELEGRAM_BOT_TOKEN=TOKEN, BOT_HASH_SECRET="bench-secret",
               PTB_TIMEDELTA="true")
    if kind.startswith("echo"):
        cmd = [sys.executable, __file__, "--child-echo", api.base_url,
               "--overall-rate", str(args.overall_rate)]
        if kind == "echo-tuned":
            from bot.telegram_app import DEFAULT_CONCURRENCY

            cmd += ["--concurrency", str(DEFAULT_CONCURRENCY)]
    else:
        config = workdir / "config.yaml"
        config.write_text(
            "telegram:\n"
            f"  base_url: {api.base_url}\n"
            "  rate_limit:\n"
            f"    overall_per_second: {args.overall_rate}\n"
            f"    per_chat_per_second: {args.overall_rate}\n"
            f"storage:\n  database: {workdir / 'log.sqlite3'}\n"
            f"knowledge:\n  path: {args.knowledge}\n"
            "logging:\n  level: INFO\n",
            encoding="utf-8",
        )
        cmd = [sys.executable, "-m", "bot", "--config", str(config), "run"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await api.wait_for(lambda: api.count("getUpdates") > 0, timeout=60)
        await asyncio.sleep(0.5)  # let it settle into its long poll

        expected_total = sum(parts)
        # Injection order per chat, to attribute replies: echo by text, ours by order.
        pending: dict[tuple[int, str], deque[int]] = defaultdict(deque)
        per_chat: dict[int, deque[tuple[int, int]]] = defaultdict(deque)
        started = time.monotonic()
        server_cpu = time.process_time()
        for index, (chat, text) in enumerate(messages):
            update = api.message(chat, text)
            pending[(chat, text)].append(update["update_id"])
            per_chat[chat].append((update["update_id"], parts[index]))
        deadline = started + args.timeout
        while len(api.sent) < expected_total and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        finished = max((s.at for s in api.sent), default=time.monotonic())
        server_cpu = time.process_time() - server_cpu
        await asyncio.sleep(0.5)  # catch duplicates or stragglers
        peak, cpu = _proc_status(proc.pid)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
        await api.stop()

    latencies: list[float] = []
    if kind.startswith("echo"):
        for sent in api.sent:
            queue = pending.get((sent.chat_id, sent.text))
            if queue:
                latencies.append(sent.at - api.inject_times[queue.popleft()])
    else:
        by_chat: dict[int, list] = defaultdict(list)
        for sent in api.sent:
            by_chat[sent.chat_id].append(sent)
        for chat, queue in per_chat.items():
            replies = by_chat.get(chat, [])
            position = 0
            for update_id, count in queue:
                if position < len(replies):
                    latencies.append(replies[position].at - api.inject_times[update_id])
                position += count
    return Result(
        kind=kind,
        messages=len(messages),
        expected=expected_total,
        received=len(api.sent),
        seconds=finished - started,
        latencies=latencies,
        peak_mb=peak,
        cpu_seconds=cpu,
        server_cpu_seconds=server_cpu,
    )


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _row(r: Result) -> str:
    return (f"{r.kind:<10} {r.received:>8} {r.lost:>5} {r.seconds:>8.2f} {r.rate:>8.0f} "
            f"{r.received / r.seconds if r.seconds else 0:>7.0f} "
            f"{_pct(r.latencies, 0.5):>8.0f} {_pct(r.latencies, 0.99):>8.0f} "
            f"{r.peak_mb:>8.1f} {r.cpu_seconds:>6.2f} {r.server_cpu_seconds:>12.2f}")


KINDS = ("echo", "echo-tuned", "ours")


async def main(args: argparse.Namespace) -> int:
    messages = workload(args.messages, args.chats, args.knowledge)
    parts = {kind: expected_parts(messages, kind, args.knowledge) for kind in KINDS}
    print(f"{args.messages} messages from {args.chats} chats, one burst; rate limit "
          f"{args.overall_rate:g}/s for every bot; {args.rounds} round(s), bots interleaved")
    print(f"{'bot':<10} {'replies':>8} {'lost':>5} {'seconds':>8} {'msg/s':>8} {'sent/s':>7} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'peak MB':>8} {'CPU s':>6} {'server CPU s':>12}")
    runs: dict[str, list[Result]] = defaultdict(list)
    for round_ in range(args.rounds):
        # Alternate the order so a slow spell on a shared machine does not favour one bot.
        order = KINDS if round_ % 2 == 0 else tuple(reversed(KINDS))
        for kind in order:
            result = await measure(kind, messages, parts[kind], args)
            runs[kind].append(result)
            print(_row(result), flush=True)
    median = {kind: statistics.median(r.rate for r in runs[kind]) for kind in KINDS}
    sent = {
        kind: statistics.median(r.received / r.seconds for r in runs[kind] if r.seconds)
        for kind in KINDS
    }
    lost = sum(r.lost for results in runs.values() for r in results)
    print("median msg/s: " + ", ".join(f"{kind} {median[kind]:.0f}" for kind in KINDS))
    for echo in KINDS[:-1]:
        print(f"ours / {echo}: {median['ours'] / median[echo]:.0%} of its messages/s, "
              f"{sent['ours'] / sent[echo]:.0%} of its sent messages/s")
    best = max(KINDS[:-1], key=lambda kind: median[kind])
    ratio = median["ours"] / median[best]
    ours = runs["ours"][0]
    print(f"target: ours >= 80% of the best echo ({best}): {ratio:.0%}; "
          f"reply messages per update: ours {ours.expected / ours.messages:.2f}, echo 1; "
          f"lost: {lost}")
    if lost:
        return 1
    return 0 if ratio >= 0.8 else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--overall-rate", type=float, default=1_000_000,
                        help="rate limit (messages/s) for both bots; Telegram's is 30")
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--child-echo", metavar="BASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.child_echo:
        run_echo(arguments.child_echo, arguments.overall_rate, arguments.concurrency)
    else:
        sys.exit(asyncio.run(main(arguments)))
