"""Webhook mode that answers 200 only after the update has been handled.

PTB's built-in webhook server queues the update and answers 200 at once (a crash then loses it),
answers bad JSON with 500 and runs without a secret. Here: no secret, no start; a wrong secret
gets 403, bad JSON 400; the update is handled, its id recorded, and only then 200. Telegram
retries anything that did not get a 2xx, and re-deliveries are dropped by update_id.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.config import WEBHOOK_SECRET_REQUIRED
from bot.telegram.handled import HandledUpdates
from bot.telegram.lifecycle import DRAIN_SECONDS, running, stop_on_signals

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
NO_SECRET = "webhook mode needs a secret: " + WEBHOOK_SECRET_REQUIRED


class WebhookReceiver:
    """aiohttp handler: check secret, parse, handle, record, then 200."""

    def __init__(
        self, app: Application[Any, Any, Any, Any, Any, Any], handled: HandledUpdates, secret: str
    ) -> None:
        if not secret:
            raise SystemExit(NO_SECRET)
        self.app = app
        self.handled = handled
        self.secret = secret.encode("utf-8")
        self.running: dict[int, asyncio.Future[None]] = {}

    async def receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, self.secret):
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, self.app.bot)
        except Exception:  # noqa: BLE001 - anything unparsable is the sender's fault
            return web.Response(status=400, text="bad update")
        if update is None:
            return web.Response(status=400, text="bad update")
        uid = update.update_id
        if self.handled.seen(uid):
            return web.Response(text="ok")  # a re-delivery: already answered
        if uid in self.running:  # the same delivery retried while still being handled
            await asyncio.shield(self.running[uid])
            if not self.handled.seen(uid):  # the first attempt was stopped: let Telegram retry
                return web.Response(status=503, text="not handled")
            return web.Response(text="ok")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.running[uid] = future
        try:
            await self.app.update_processor.process_update(
                update, self.app.process_update(update)
            )
            self.handled.record(uid)
        finally:
            self.running.pop(uid, None)
            if not future.done():
                future.set_result(None)
        return web.Response(text="ok")


async def run_webhook(
    app: Application[Any, Any, Any, Any, Any, Any],
    log_database: Path,
    *,
    listen: str,
    port: int,
    url: str,
    url_path: str,
    secret: str | None,
    allowed_updates: Iterable[str] | None = None,
) -> None:
    """`python -m bot run` in webhook mode; SIGTERM stops within DRAIN_SECONDS plus flushing."""
    if not secret:
        raise SystemExit(NO_SECRET)
    stopping = asyncio.Event()
    stop_on_signals(stopping)
    async with running(app, log_database) as handled:
        receiver = WebhookReceiver(app, handled, secret)
        web_app = web.Application(client_max_size=1024 * 1024)
        web_app.router.add_post("/" + url_path.lstrip("/"), receiver.receive)
        runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=DRAIN_SECONDS)
        await runner.setup()
        try:
            await web.TCPSite(runner, listen, port).start()
            await app.bot.set_webhook(
                url, secret_token=secret,
                allowed_updates=list(allowed_updates) if allowed_updates else None,
            )
            logger.info("webhook listening on %s:%d", listen, port)
            await stopping.wait()
        finally:
            # Stops accepting, gives running handlers DRAIN_SECONDS; unanswered ones come back
            # (Telegram got no 200 for them).
            await runner.cleanup()
