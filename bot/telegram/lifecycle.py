"""The Application's lifecycle around our own update sources (polling.py, webhook.py).

PTB's `run_polling`/`run_webhook` confirm updates before handling them; ours do not, so they
run the lifecycle themselves: SIGTERM/SIGINT set an event instead of killing the loop, the
Application is started, and at the end stopped (awaiting the staff alerts still being sent) and
shut down (`post_shutdown` flushes the interaction log), whatever went wrong in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from telegram.ext import Application

from bot.telegram.handled import HandledUpdates, delivery_database

DRAIN_SECONDS = 5.0  # running handlers get this long after SIGTERM


def stop_on_signals(stopping: asyncio.Event) -> None:
    """SIGTERM and SIGINT set `stopping` (the bounded drain follows) instead of killing."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stopping.set)


@contextlib.asynccontextmanager
async def running(app: Application[Any, Any, Any, Any, Any, Any],
                  log_database: Path) -> AsyncIterator[HandledUpdates]:
    """Open the handled-updates store, start the Application; on exit stop everything."""
    handled = HandledUpdates(delivery_database(log_database))
    handled.open()
    try:
        await app.initialize()
        try:
            if app.post_init is not None:
                await app.post_init(app)
            await app.start()
            yield handled
        finally:
            with contextlib.suppress(Exception):
                if app.running:
                    await app.stop()
                if app.post_stop is not None:
                    await app.post_stop(app)
            await app.shutdown()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
    finally:
        handled.close()
