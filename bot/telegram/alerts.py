"""Staff alerts: one redacted message to the staff chat for every urgent case, sent in the
background so no user's reply waits for them."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import deque
from typing import Any

from telegram.error import TelegramError

from bot.core.knowledge import AUDIENCES
from bot.core.responder import Reply, Responder
from bot.core.templates import fill
from bot.store import VIETNAM
from bot.telegram import render as tui

logger = logging.getLogger(__name__)

ALERT_MESSAGE_CHARS = 1000  # of the (redacted) message quoted in an alert
ALERT_QUEUE = 10_000  # alerts waiting to be sent; beyond this the oldest is dropped (and logged)


def category_name(responder: Responder, category: str | None) -> str:
    """The danger category as staff read it (its `name` in danger.yaml), never its id."""
    found = responder.kb.danger.categories.get(category) if category else None
    return found.name if found is not None else "?"


def alert_text(
    responder: Responder, reply: Reply, text: str, audience: str | None, ref: str | None,
    now: dt.datetime | None = None,
) -> str:
    """The staff alert for an urgent case (HTML): no Telegram id, name or username, message
    redacted. Wording from `ui.staff_alert`; every value escaped, the marker in bold."""
    ui = responder.ui
    now = now or dt.datetime.now(VIETNAM)
    who = getattr(ui.role_buttons, audience) if audience in AUDIENCES else ui.staff_audience_unknown
    message = responder.redactor.redact(text)[:ALERT_MESSAGE_CHARS]
    while len(tui.escape(message)) > 3 * ALERT_MESSAGE_CHARS:  # '&' and '<' grow when escaped
        message = message[: len(message) * 3 // 4]
    return fill(tui.escape(ui.staff_alert),
        marker=f"<b>{tui.escape(ui.urgent_marker)}</b>",
        category=tui.escape(category_name(responder, reply.category)),
        message=tui.escape(message),
        audience=tui.escape(who),
        time=f"{now:%H:%M %d/%m/%Y}",
        ref=tui.escape(ref or "-"),
    )


class StaffAlerts:
    """Sends staff alerts from a background task (`Application.create_task`), so no user's reply
    waits for them.

    The staff chat is a group: Telegram allows about 20 messages a minute there, and the rate
    limiter holds a request back until that allows it. Awaited in the handler, a burst of urgent
    messages would hold every running-update slot and stall the whole bot; queued here, the
    urgent replies go out at once and alerts that pile up are joined into as few messages as
    fit under Telegram's length limit (each alert stays whole). `Application.stop` awaits the
    sending task, so queued alerts still go out at shutdown, for at most `stop_timeout` seconds
    (the interaction log must still be flushed before a supervisor's kill; Docker: 10 s).
    """

    def __init__(
        self, chat_id: int, queue_size: int = ALERT_QUEUE, stop_timeout: float = 3.0
    ) -> None:
        self.chat_id = chat_id
        self._pending: deque[str] = deque()
        self._queue_size = queue_size
        self._stop_timeout = stop_timeout
        self._sending = False
        self.dropped = 0

    def post(self, app: Any, html_text: str) -> None:
        """Queue one alert and make sure a task is sending; never blocks."""
        if len(self._pending) >= self._queue_size:
            self._pending.popleft()
            self.dropped += 1
            logger.error("staff alert queue full: oldest alert dropped (see the staff report)")
        self._pending.append(html_text)
        if not self._sending:
            self._sending = True
            app.create_task(self._send_all(app), name="staff-alerts")

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _batch(self) -> str:
        parts = [self._pending.popleft()]
        size = len(parts[0])
        while self._pending and size + 2 + len(self._pending[0]) <= tui.CHUNK_LIMIT:
            size += 2 + len(self._pending[0])
            parts.append(self._pending.popleft())
        return "\n\n".join(parts)

    async def _send_all(self, app: Any) -> None:
        loop = asyncio.get_running_loop()
        deadline: float | None = None
        try:
            while self._pending:
                if deadline is None and not app.running:  # shutting down: a bounded flush
                    deadline = loop.time() + self._stop_timeout
                text = self._batch()
                try:
                    if deadline is None:
                        await app.bot.send_message(self.chat_id, text)
                    else:
                        await asyncio.wait_for(
                            app.bot.send_message(self.chat_id, text),
                            max(0.0, deadline - loop.time()),
                        )
                except TimeoutError:
                    self._pending.appendleft(text)
                    logger.error("%d staff alert(s) not sent before shutdown", len(self._pending))
                    self._pending.clear()
                except TelegramError as exc:
                    logger.error("staff alert not delivered: %s", type(exc).__name__)
        finally:
            self._sending = False
