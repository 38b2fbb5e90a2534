"""Staff alerts: one redacted message to the staff chat for every urgent case, sent in the
background so no user's reply waits for them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import secrets
from collections import OrderedDict, deque
from typing import Any

from telegram.error import TelegramError

from bot.core.knowledge import AUDIENCES
from bot.core.responder import Reply, Responder
from bot.core.templates import fill
from bot.store import VIETNAM
from bot.telegram import render as tui
from bot.telegram.outbox import AlertOutbox, case_key

logger = logging.getLogger(__name__)

ALERT_MESSAGE_CHARS = 1000  # of the (redacted) message quoted in an alert
ALERT_QUEUE = 10_000  # alerts waiting in memory; beyond, the oldest waits in the outbox only
CASES_REMEMBERED = 10_000  # recent cases alerted, checked before the outbox


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


Pending = tuple[int | None, str]  # (outbox id, or None when it could not be kept; the alert)


class StaffAlerts:
    """Sends staff alerts from a background task (`Application.create_task`), so no user's reply
    waits for them; an outbox in the log database (bot.telegram.outbox) keeps every alert until
    it is sent, so one cut off by a crash or a stop is sent at the next start, once.

    The staff chat is a group: Telegram allows about 20 messages a minute there, and the rate
    limiter holds a request back until that allows it. Awaited in the handler, a burst of urgent
    messages would hold every running-update slot and stall the whole bot; queued here, the
    urgent replies go out at once and alerts that pile up are joined into as few messages as
    fit under Telegram's length limit (each alert stays whole). `Application.stop` awaits the
    sending task, so queued alerts still go out at shutdown, for at most `stop_timeout` seconds
    (the interaction log must still be flushed before a supervisor's kill; Docker: 10 s); what
    is left then stays in the outbox for the next start.
    """

    def __init__(
        self, chat_id: int, outbox: AlertOutbox | None = None, secret: bytes = b"",
        queue_size: int = ALERT_QUEUE, stop_timeout: float = 3.0,
    ) -> None:
        self.chat_id = chat_id
        self.outbox = outbox
        self._secret = secret or secrets.token_bytes(32)
        self._pending: deque[Pending] = deque()
        self._cases: OrderedDict[str, None] = OrderedDict()  # recent cases, when no outbox
        self._queue_size = queue_size
        self._stop_timeout = stop_timeout
        self._sending = False
        self._deadline: float | None = None  # set once the application stops
        self._owned: set[int] = set()  # outbox ids queued in memory or being sent
        self._sent: OrderedDict[int, None] = OrderedDict()  # outbox ids sent by this run
        self.dropped = 0  # alerts lost for good (not kept in the outbox)
        self.kept_for_restart = 0  # alerts left in the outbox at shutdown

    async def queue(
        self, app: Any, html_text: str, chat_id: int, message_id: int, *, urgent: bool = True
    ) -> bool:
        """Keep one alert for the case (chat, message) and make sure a task is sending it;
        False when that case was alerted before (an edit, a re-delivery after a restart)."""
        key = case_key(self._secret, chat_id, message_id)
        if key in self._cases:
            return False
        self._cases[key] = None
        if len(self._cases) > CASES_REMEMBERED:
            self._cases.popitem(last=False)
        alert_id = await self.outbox.add(key, html_text, urgent=urgent) if self.outbox else None
        if alert_id == AlertOutbox.DUPLICATE:
            return False
        if alert_id is not None:
            self._owned.add(alert_id)
        self._push(app, (alert_id, html_text))
        return True

    async def resume(self, app: Any) -> int:
        """At start, then every few minutes (bot.telegram.app): queue what the outbox still
        holds and nobody is sending (left by the last stop, refused by Telegram, or put off by
        a full queue), urgent first, oldest first; returns how many."""
        if self.outbox is None:
            return 0
        stored = await self.outbox.pending()
        fresh = [item for item in stored
                 if item[0] not in self._owned and item[0] not in self._sent]
        if fresh:
            logger.warning("sending %d staff alert(s) left unsent earlier", len(fresh))
            self._owned.update(alert_id for alert_id, _ in fresh)
            self._pending.extendleft(reversed(fresh))
            self._start(app)
        return len(fresh)

    def _push(self, app: Any, item: Pending) -> None:
        if len(self._pending) >= self._queue_size:
            alert_id, _ = self._pending.popleft()
            if alert_id is None:
                self.dropped += 1
            else:  # still in the outbox: a later `resume` sends it
                self._owned.discard(alert_id)
            logger.error("staff alert queue full: oldest alert put off (see the staff report)")
        self._pending.append(item)
        self._start(app)

    def _start(self, app: Any) -> None:
        if not self._sending and self._pending:
            self._sending = True
            app.create_task(self._send_all(app), name="staff-alerts")

    @property
    def pending(self) -> int:
        return len(self._pending)

    def _batch(self) -> list[Pending]:
        batch = [self._pending.popleft()]
        size = len(batch[0][1])
        while self._pending and size + 2 + len(self._pending[0][1]) <= tui.CHUNK_LIMIT:
            size += 2 + len(self._pending[0][1])
            batch.append(self._pending.popleft())
        return batch

    async def _send(self, app: Any, text: str) -> None:
        """One message to the staff chat; once the application stops (`app.running` turns
        false, checked every 0.1 s, also while a send hangs) everything left gets at most
        `stop_timeout` seconds: TimeoutError after that."""
        loop = asyncio.get_running_loop()
        send = asyncio.ensure_future(app.bot.send_message(self.chat_id, text))
        try:
            while True:
                if self._deadline is None and not app.running:  # shutting down
                    self._deadline = loop.time() + self._stop_timeout
                wait = 0.1 if self._deadline is None else self._deadline - loop.time()
                if wait <= 0:
                    raise TimeoutError
                done, _ = await asyncio.wait({send}, timeout=min(wait, 0.1))
                if done:
                    send.result()
                    return
        finally:
            if not send.done():
                send.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await send

    async def _send_all(self, app: Any) -> None:
        self._deadline = None
        try:
            while self._pending:
                batch = self._batch()
                text = "\n\n".join(alert for _, alert in batch)
                try:
                    await self._send(app, text)
                except TimeoutError:
                    self._pending.extendleft(reversed(batch))
                    self._left_at_shutdown()
                    break
                except TelegramError as exc:  # kept in the outbox: tried again at next start
                    self._count_lost(batch)
                    logger.error("staff alert not delivered: %s", type(exc).__name__)
                    continue
                ids = [i for i, _ in batch if i is not None]
                for alert_id in ids:
                    self._sent[alert_id] = None
                    self._owned.discard(alert_id)
                while len(self._sent) > CASES_REMEMBERED:
                    self._sent.popitem(last=False)
                if self.outbox is not None:
                    await self.outbox.mark_sent(ids)
        finally:
            self._sending = False

    def _count_lost(self, batch: list[Pending]) -> int:
        """Alerts not sent: those kept in the outbox are left to a later `resume`."""
        self._owned.difference_update(alert_id for alert_id, _ in batch)
        lost = sum(1 for alert_id, _ in batch if alert_id is None)
        self.dropped += lost
        self.kept_for_restart += len(batch) - lost
        return lost

    def _left_at_shutdown(self) -> None:
        left = list(self._pending)
        self._pending.clear()
        lost = self._count_lost(left)
        logger.error(
            "%d staff alert(s) not sent before shutdown: %d kept and sent at the next start, "
            "%d lost (the database could not keep them)", len(left), len(left) - lost, lost,
        )
