"""`Responder.respond` in a child process, so matching runs on a second CPU core.

Under a burst the bot's one event loop is the bottleneck: python-telegram-bot, the HTTP
transport and the core share one core, and finding an answer is about a third of the work per
message (bench/e2e.py: 409 instead of 319 messages/s with the child, on 2 cores). The child
holds the same knowledge base (sent to it pickled, so both sides are built from the very same
validated objects) and runs the very same `Responder.respond`.

The child is only an accelerator. The parent keeps its own `Responder` and answers in-process
whenever the child is not ready (starting, reloading), answers too slowly, fails, or exits: a
reply, and above all an urgent one, never depends on the child. The child gets no secrets.

Frames on the child's stdin/stdout: a 4-byte big-endian length, then a pickle.
- parent -> child: first `(kb, thresholds, cache_size)`, then `(request_id, text, audience)`;
- child -> parent: `(0, "ready")` once built, then `(request_id, Reply | None)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import struct
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO

from bot.core.responder import Reply, Responder

logger = logging.getLogger(__name__)

HEADER = struct.Struct(">I")
SECRET_ENV = ("TELEGRAM_BOT_TOKEN", "BOT_HASH_SECRET", "TELEGRAM_WEBHOOK_SECRET")
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
RESTART_AFTER = 30.0  # seconds between restarts of a child that exited unexpectedly


def usable_cpus() -> int:
    """CPUs this process may run on (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def wanted(setting: str | bool) -> bool:
    """`telegram.core_process`: true, false, or "auto" (on when two or more CPUs are usable)."""
    if setting == "auto":
        return usable_cpus() >= 2
    return bool(setting)


class CoreProcess:
    """A child process answering `respond` calls for one `Responder` at a time."""

    def __init__(self, *, timeout: float = 1.0, restart_after: float = RESTART_AFTER) -> None:
        self._timeout = timeout
        self._restart_after = restart_after
        self._proc: asyncio.subprocess.Process | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._source: Responder | None = None  # the Responder the child was built from
        self._ready = False
        self._pending: dict[int, asyncio.Future[Reply | None]] = {}
        self._next_id = 1
        self._stopping = False
        self._started_at = 0.0
        self.fallbacks = 0  # replies computed in-process while the child was supposed to answer

    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def wait_ready(self, timeout: float = 30.0) -> bool:
        """For tests and start-up checks: True once the child answers."""
        deadline = time.monotonic() + timeout
        while not self._ready and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self._ready

    async def start(self, responder: Responder) -> None:
        """Start (or restart, after a reload) the child for `responder`; returns at once.

        Until the child says it is ready, `respond` answers in-process.
        """
        await self._terminate()
        self._stopping = False
        self._source = responder
        self._started_at = time.monotonic()
        env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p
        )
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot.core_process",
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env,
                limit=16 * 1024 * 1024,
            )
        except OSError as exc:
            logger.error("core process did not start (%s): answering in-process", exc)
            return
        self._proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        setup = (responder.kb, responder.thresholds, responder.cache_size)
        self._write(proc.stdin, setup)
        self._reader_task = asyncio.create_task(self._read(proc), name="core-process-reader")

    async def respond(self, responder: Responder, text: str, audience: str | None) -> Reply:
        """`responder.respond(text, audience)`, computed by the child when it can be."""
        proc = self._proc
        if not self._ready or responder is not self._source or proc is None or proc.stdin is None:
            return responder.respond(text, audience)
        request_id = self._next_id
        self._next_id += 1
        future: asyncio.Future[Reply | None] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        reply: Reply | None = None
        try:
            self._write(proc.stdin, (request_id, text, audience))
            reply = await asyncio.wait_for(future, self._timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # timeout, broken pipe, a dead child: answer here
            logger.warning("core process did not answer (%s): answering in-process",
                           type(exc).__name__)
        finally:
            self._pending.pop(request_id, None)
        if reply is None:
            self.fallbacks += 1
            return responder.respond(text, audience)
        return reply

    async def stop(self, timeout: float = 3.0) -> None:
        """Close the child's stdin (it exits on EOF); kill it if it does not within `timeout`."""
        self._stopping = True
        await self._terminate(timeout)

    # -- internals ----------------------------------------------------------------------------

    @staticmethod
    def _write(stream: asyncio.StreamWriter, payload: Any) -> None:
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        stream.write(HEADER.pack(len(data)) + data)

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        stdout = proc.stdout
        try:
            while True:
                size = HEADER.unpack(await stdout.readexactly(HEADER.size))[0]
                request_id, reply = pickle.loads(await stdout.readexactly(size))
                if request_id == 0:
                    self._ready = proc is self._proc
                    logger.info("core process ready (pid %d)", proc.pid)
                    continue
                future = self._pending.get(request_id)
                if future is not None and not future.done():
                    future.set_result(reply)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the child exited
        except Exception:
            logger.exception("core process sent something unreadable")
        finally:
            for future in self._pending.values():  # whatever it did not answer: in-process
                if not future.done():
                    future.set_result(None)
            if proc is self._proc:
                self._ready = False
                if not self._stopping:
                    asyncio.get_running_loop().call_soon(self._restart_later)

    def _restart_later(self) -> None:
        """A child that died is replaced, but not in a loop if it keeps dying at start."""
        if self._stopping or self._source is None or self._ready:
            return
        logger.error("core process exited: answering in-process until it is restarted")
        delay = max(0.0, self._restart_after - (time.monotonic() - self._started_at))
        source = self._source

        async def restart() -> None:
            await asyncio.sleep(delay)
            if not self._stopping and self._source is source and not self._ready:
                await self.start(source)

        asyncio.get_running_loop().create_task(restart(), name="core-process-restart")

    async def _terminate(self, timeout: float = 3.0) -> None:
        proc, task = self._proc, self._reader_task
        self._proc, self._reader_task, self._ready = None, None, False
        if proc is None:
            return
        if proc.stdin is not None:
            with contextlib.suppress(Exception):
                proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 1.0)


# ---- the child ----------------------------------------------------------------------------


def _read_frame(stream: BinaryIO) -> Any:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError
    size = HEADER.unpack(header)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def _write_frame(stream: BinaryIO, payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def child_main() -> None:
    """Build the Responder from the first frame, then answer until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but frames may reach the parent's pipe
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s core-process: %(message)s")
    try:
        kb, thresholds, cache_size = _read_frame(stdin)
    except EOFError:
        return
    responder = Responder(kb, thresholds, cache_size=cache_size)
    _write_frame(stdout, (0, "ready"))
    while True:
        try:
            request_id, text, audience = _read_frame(stdin)
        except EOFError:
            return
        try:
            reply: Reply | None = responder.respond(text, audience)
        except Exception as exc:  # the parent answers this one itself
            logging.error("respond failed: %s", type(exc).__name__)  # never the message
            reply = None
        _write_frame(stdout, (request_id, reply))


if __name__ == "__main__":
    child_main()
