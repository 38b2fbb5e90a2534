"""python-telegram-bot wiring: handlers, admin commands, staff alerts, resilient sending.

Everything a user reads comes from `Responder` (the core) and the knowledge base's `UiTexts`;
this module only decides which text goes where and keeps the bot alive under bursts, flood
limits, network faults and restarts:

- `ChatOrderedProcessor` runs updates of different chats concurrently and those of one chat in
  arrival order, so replies never overtake each other;
- `ResilientRateLimiter` throttles sends, waits out every 429 (`retry_after`), retries timeouts
  and dropped connections with backoff, and never retries a user who blocked the bot;
- `install_token_filter` masks the bot token in every log record, whichever library logs it.

Per-user state (chosen audience, the message ids `/xoa` deletes) lives in memory only
(`user_data` / `chat_data`, no persistence), never in a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import sys
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from aiolimiter import AsyncLimiter
from telegram import (
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.core.knowledge import AUDIENCES, KnowledgeError, load_knowledge
from bot.core.responder import Reply, Responder
from bot.core_process import CoreProcess, wanted
from bot.kb_snapshot import load_or_snapshot, snapshot_dir
from bot.privacy import redact
from bot.store import InteractionLog, purge_daily
from bot.telegram import render as tui
from bot.telegram.delivery import run_polling as run_reliable_polling
from bot.telegram.webhook import NO_SECRET as NO_WEBHOOK_SECRET
from bot.telegram.webhook import run_webhook as run_reliable_webhook
from bot.telegram_request import AiohttpRequest

logger = logging.getLogger(__name__)

STATE = "state"
AUDIENCE = "audience"
MESSAGE_IDS = "message_ids"
TRACKED_MESSAGES = 1000  # per private chat, for /xoa
DELETE_WINDOW = 48 * 3600  # Telegram lets a bot delete messages younger than 48 hours
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids
VIETNAM = dt.timezone(dt.timedelta(hours=7))  # no daylight saving
MAX_FLOOD_WAIT = 600.0  # give up on one request after waiting this long for flood control

# ---------------------------------------------------------------------------------------------
# Token masking
# ---------------------------------------------------------------------------------------------

TOKEN_RE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")
MASK = "[TOKEN]"
_known_tokens: set[str] = set()


def mask_tokens(text: str) -> str:
    """Replace the bot token (and anything shaped like one) with [TOKEN]."""
    for token in _known_tokens:
        text = text.replace(token, MASK)
    return TOKEN_RE.sub(MASK, text)


class TokenFilter(logging.Filter):
    """Rewrites a record's message, traceback and stack so no token survives formatting."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def mask_record(record: logging.LogRecord) -> None:
    if getattr(record, "_token_masked", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not hide the record
        message = str(record.msg)
    record.msg, record.args = mask_tokens(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = TokenFilter._formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_tokens(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_tokens(record.stack_info)
    record._token_masked = True  # type: ignore[attr-defined]


_factory_installed = False


def install_token_filter(token: str | None = None) -> None:
    """Mask tokens in every log record from now on, and in uncaught tracebacks.

    A record factory catches records of every logger, including handlers added later by other
    code; the handler filter covers records created before installation. httpx logs each
    request URL (which carries the token) at INFO, so it is raised to WARNING as well.
    """
    global _factory_installed
    if token:
        _known_tokens.add(token)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # PTB logs whole updates (names, ids, texts) and aiosqlite the rows it writes at DEBUG:
    # never below INFO, whatever the configured level.
    for name in ("telegram", "aiosqlite"):
        chatty = logging.getLogger(name)
        if chatty.level < logging.INFO:
            chatty.setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, TokenFilter) for f in handler.filters):
            handler.addFilter(TokenFilter())
    if _factory_installed:
        return
    _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        mask_record(record)
        return record

    logging.setLogRecordFactory(factory)

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        import traceback

        sys.stderr.write(mask_tokens("".join(traceback.format_exception(kind, value, tb))))

    sys.excepthook = excepthook


# ---------------------------------------------------------------------------------------------
# Per-chat ordered, cross-chat concurrent update processing
# ---------------------------------------------------------------------------------------------


def _chat_key(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Updates of one chat run one after another, in arrival order; chats run concurrently.

    PTB starts each update as its own task, in arrival order; an `asyncio.Lock` per chat
    (FIFO for its waiters) then serialises them. Only `max_running` handlers run at once:
    updates queued behind their own chat's lock do not take a slot, so one busy chat cannot
    starve the others, and no more requests wait for a connection than there are handlers.
    Locks are dropped when no update of the chat is
    running or waiting, so the table stays as small as the number of busy chats.
    """

    def __init__(self, max_running: int = 32, max_pending: int = 100_000) -> None:
        super().__init__(max_pending)
        self._running = asyncio.Semaphore(max_running)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _chat_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock, self._running:
                await coroutine
        finally:
            self._users[key] -= 1
            if self._users[key] == 0:
                del self._users[key]
                del self._locks[key]

    @property
    def busy_chats(self) -> int:
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""


# ---------------------------------------------------------------------------------------------
# Sending under flood limits and network faults
# ---------------------------------------------------------------------------------------------


def retry_after_seconds(exc: RetryAfter) -> float:
    """`retry_after` is an int in older PTB and a timedelta in newer: accept both."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: Any = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)


class ResilientRateLimiter(BaseRateLimiter[int]):
    """Throttles requests and retries what is worth retrying.

    - overall and per-group limits as Telegram publishes them, and a per-private-chat limit
      that allows a short burst (an urgent reply plus its follow-up) then paces to the rate;
    - 429 `RetryAfter`: every request pauses for `retry_after` (+0.1 s) and is sent again, for
      as many rounds as it takes, up to `max_flood_wait` seconds in total;
    - `TimedOut` / `NetworkError` (a dropped connection): retried `max_retries` times with
      exponential backoff;
    - `Forbidden` (the user blocked the bot) and `BadRequest`: raised at once, never retried.
    """

    def __init__(
        self,
        *,
        overall_per_second: float = 30,
        per_chat_per_second: float = 1,
        per_group_per_minute: float = 20,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_flood_wait: float = MAX_FLOOD_WAIT,
        chat_burst: int = 3,
    ) -> None:
        self._overall = AsyncLimiter(overall_per_second, 1) if overall_per_second > 0 else None
        self._per_chat_rate = per_chat_per_second
        self._per_group_rate = per_group_per_minute
        self._chat_burst = max(1, chat_burst)
        self._chats: dict[int | str, AsyncLimiter] = {}
        self._max_retries = max_retries
        self._backoff = backoff
        self._max_flood_wait = max_flood_wait
        self._resume = asyncio.Event()
        self._resume.set()
        self.flood_waits = 0
        self.network_retries = 0

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free."""

    def _chat_limiter(self, chat_id: int | str) -> AsyncLimiter | None:
        group = isinstance(chat_id, str) or chat_id < 0
        if group:
            if self._per_group_rate <= 0:
                return None
            rate, period = self._per_group_rate, 60.0
        else:
            if self._per_chat_rate <= 0:
                return None
            # A bucket of `chat_burst` messages refilling at the per-chat rate.
            rate, period = float(self._chat_burst), self._chat_burst / self._per_chat_rate
        if len(self._chats) > 512:
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self._chats[key]
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = self._chats[chat_id] = AsyncLimiter(rate, period)
        return limiter

    async def _once(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        chat_id: int | str | None,
    ) -> Any:
        # Plain acquires rather than an AsyncExitStack: this runs for every request.
        # (AsyncLimiter's context exit does nothing, so nothing needs undoing on failure.)
        if chat_id is not None:
            chat_limiter = self._chat_limiter(chat_id)
            if chat_limiter is not None:
                await chat_limiter.acquire()
            if self._overall is not None:
                await self._overall.acquire()
        if not self._resume.is_set():
            await self._resume.wait()
        return await callback(*args, **kwargs)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id: int | str | None = data.get("chat_id")
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(chat_id)  # type: ignore[arg-type]
        waited = 0.0
        failures = 0
        while True:
            try:
                return await self._once(callback, args, kwargs, chat_id)
            except RetryAfter as exc:
                pause = retry_after_seconds(exc) + 0.1
                if waited + pause > self._max_flood_wait:
                    raise
                waited += pause
                self.flood_waits += 1
                logger.warning("flood control on %s: waiting %.1f s", endpoint, pause)
                self._resume.clear()
                try:
                    await asyncio.sleep(pause)
                finally:
                    self._resume.set()
            except BadRequest:
                raise
            except NetworkError as exc:  # includes TimedOut and dropped connections
                if failures >= self._max_retries:
                    raise
                delay = self._backoff * (2**failures)
                failures += 1
                self.network_retries += 1
                logger.warning(
                    "network error on %s (%s): retry %d in %.1f s",
                    endpoint, type(exc).__name__, failures, delay,
                )
                await asyncio.sleep(delay)


# ---------------------------------------------------------------------------------------------
# State shared by handlers
# ---------------------------------------------------------------------------------------------


@dataclass
class BotState:
    """What the handlers share. `responder` is replaced whole on /reload (atomic swap)."""

    settings: Settings
    responder: Responder
    log: InteractionLog
    admins: frozenset[int]
    alerts: StaffAlerts | None
    core: CoreProcess | None = None  # finds answers on another CPU core; None: in-process
    blocked_logged: set[int] = field(default_factory=set)
    purge_task: asyncio.Task[None] | None = None
    started: bool = False


def _state(context: ContextTypes.DEFAULT_TYPE) -> BotState:
    return context.application.bot_data[STATE]


def _audience(context: ContextTypes.DEFAULT_TYPE) -> str | None:
    return context.user_data.get(AUDIENCE) if context.user_data is not None else None


def _is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def _track(update: Update, context: ContextTypes.DEFAULT_TYPE, message_id: int | None) -> None:
    """Remember a message id of a private chat so /xoa can delete it; memory only."""
    if message_id is None or not _is_private(update) or context.chat_data is None:
        return
    ids: deque[tuple[int, float]] = context.chat_data.setdefault(
        MESSAGE_IDS, deque(maxlen=TRACKED_MESSAGES)
    )
    ids.append((message_id, time.time()))


def _track_incoming(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and update.callback_query is None:
        _track(update, context, message.message_id)


async def _send(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    html_text: str,
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None,
) -> Message:
    chat = update.effective_chat
    assert chat is not None
    message = await context.bot.send_message(
        chat.id,
        html_text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        disable_web_page_preview=True,
    )
    _track(update, context, message.message_id)
    return message


async def _send_plain(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    text: str,
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None = None,
) -> None:
    """Send a UI text (plain, escaped and split); the keyboard goes under the last chunk."""
    chunks = tui.split_escaped(text)
    for index, chunk in enumerate(chunks):
        await _send(update, context, chunk, markup if index == len(chunks) - 1 else None)


async def _send_reply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply, ref: str | None
) -> None:
    state = _state(context)
    for html_text, markup in tui.reply_messages(state.responder.ui, reply, ref):
        await _send(update, context, html_text, markup)


# ---------------------------------------------------------------------------------------------
# Conversation handlers
# ---------------------------------------------------------------------------------------------


async def cmd_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _track_incoming(update, context)
    ui = _state(context).responder.ui
    menu = tui.topic_menu(ui) if _is_private(update) else None
    await _send_plain(update, context, ui.start, menu)
    await _send_plain(update, context, ui.role_question, tui.role_keyboard(ui))


async def cmd_role(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _track_incoming(update, context)
    ui = _state(context).responder.ui
    await _send_plain(update, context, ui.role_question, tui.role_keyboard(ui))


async def cmd_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _track_incoming(update, context)
    await _send_plain(update, context, _state(context).responder.ui.help)


async def cmd_privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _track_incoming(update, context)
    await _send_plain(update, context, _state(context).responder.ui.privacy)


async def cmd_hotline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _track_incoming(update, context)
    await _send_plain(update, context, _state(context).responder.hotline_card())


async def cmd_topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _track_incoming(update, context)
    ui = _state(context).responder.ui
    await _send_plain(update, context, ui.topics_intro, tui.topic_buttons(ui))


async def _show_topic(update: Update, context: ContextTypes.DEFAULT_TYPE, tag: str) -> None:
    responder = _state(context).responder
    ui = responder.ui
    label = next((topic.label for topic in ui.topics if topic.tag == tag), None)
    entries = responder.topic_entries(tag)
    if label is None or not entries:
        await _send_plain(update, context, ui.topic_empty)
        return
    rows = tui.entry_rows(entries)
    await _send(update, context, f"<b>{tui.escape(label)}</b>", InlineKeyboardMarkup(rows))


async def cmd_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/xoa: delete this conversation's messages, then the user's rows, then confirm."""
    state = _state(context)
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    assert chat is not None
    now = time.time()
    ids: list[int] = []
    if context.chat_data is not None and _is_private(update):
        tracked = context.chat_data.get(MESSAGE_IDS, ())
        ids = [mid for mid, at in tracked if now - at < DELETE_WINDOW - 60]
    if message is not None:
        ids.append(message.message_id)
    for start in range(0, len(ids), DELETE_BATCH):
        await _delete_messages(context, chat.id, sorted(set(ids[start : start + DELETE_BATCH])))
    if user is not None:
        await state.log.forget(user.id)
    if context.user_data is not None:
        context.user_data.clear()
    if context.chat_data is not None:
        context.chat_data.clear()
    markup = ReplyKeyboardRemove() if _is_private(update) else None
    await _send_plain(update, context, state.responder.ui.xoa_done, markup)


async def _delete_messages(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, ids: list[int]
) -> None:
    try:
        await context.bot.delete_messages(chat_id, ids)
    except BadRequest:
        # Some ids were refused (too old, already gone): delete one by one, skipping failures.
        for mid in ids:
            with contextlib.suppress(BadRequest):
                await context.bot.delete_message(chat_id, mid)


def _group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """In a group: the text without the mention of this bot; None when the bot is not named."""
    message = update.effective_message
    if message is None or not message.text:
        return None
    username = (context.bot.username or "").lower()
    mentioned = False
    for entity, value in message.parse_entities(["mention"]).items():
        _ = entity
        if value.lower() == f"@{username}":
            mentioned = True
    if not mentioned:
        return None
    return re.sub(rf"@{re.escape(username)}\b", " ", message.text, flags=re.IGNORECASE).strip()


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text (or edited text, or a caption): topic menu label, else through the core."""
    message = update.effective_message
    user = update.effective_user
    if message is None:
        return
    if _is_private(update):
        text = message.text or message.caption or ""
    else:
        text = _group_text(update, context) or ""
        if not text:
            return
    _track_incoming(update, context)
    state = _state(context)
    responder = state.responder  # one knowledge base for the whole update, even mid-reload
    tag = next((t.tag for t in responder.ui.topics if t.label == text.strip()), None)
    if tag is not None:
        await _show_topic(update, context, tag)
        return
    audience = _audience(context)
    if state.core is not None:
        reply = await state.core.respond(responder, text, audience)
    else:
        reply = responder.respond(text, audience)
    ref = state.log.record(user.id, audience, text, reply) if user is not None else None
    _remember(context.user_data, ISSUED_REFS, ref)
    await _send_reply(update, context, reply, ref)
    if reply.urgent and state.alerts is not None:  # queued: never delays this chat or others
        # An edit of a message already alerted on is answered again but not alerted twice.
        alerted = _remembered(context.chat_data, ALERTED_MESSAGES)
        if message.message_id not in alerted:
            _remember(context.chat_data, ALERTED_MESSAGES, message.message_id)
            state.alerts.post(alert_text(responder, reply, text, audience, ref))


ISSUED_REFS = "issued_refs"  # user_data: feedback refs sent to this user (random, no content)
ALERTED_MESSAGES = "alerted_messages"  # chat_data: message ids already alerted to staff
REMEMBERED = 200


def _remembered(data: dict[Any, Any] | None, key: str) -> deque[Any]:
    if data is None:
        return deque(maxlen=REMEMBERED)
    found = data.get(key)
    if not isinstance(found, deque):
        found = data[key] = deque(maxlen=REMEMBERED)
    return found


def _remember(data: dict[Any, Any] | None, key: str, value: object) -> None:
    if value is not None:
        _remembered(data, key).append(value)


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice notes, files: the bot reads text; the hotline is in the reply."""
    message = update.effective_message
    if message is not None and message.caption:
        await on_text(update, context)
        return
    _track_incoming(update, context)
    await _send_plain(update, context, _state(context).responder.ui.non_text)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    state = _state(context)
    responder = state.responder
    ui = responder.ui
    prefix, fields = tui.parse_callback(query.data if isinstance(query.data, str) else None)
    user = update.effective_user

    if prefix == tui.FEEDBACK and len(fields) == 2 and fields[0] in ("0", "1"):
        # Counts only from the user the answer was sent to (a forged ref changes nothing).
        if fields[1] in _remembered(context.user_data, ISSUED_REFS):
            state.log.record_feedback(fields[1], fields[0] == "1")
        await query.answer(ui.feedback_thanks)
        if query.message is not None and isinstance(query.message, Message):
            kept = tui.without_feedback(query.message.reply_markup)
            with contextlib.suppress(BadRequest):
                await query.edit_message_reply_markup(kept)
        return
    await query.answer()
    if prefix == tui.ROLE and fields and fields[0] in AUDIENCES:
        role = fields[0]
        if context.user_data is not None:
            context.user_data[AUDIENCE] = role
        menu = tui.topic_menu(ui) if _is_private(update) else None
        await _send_plain(update, context, getattr(ui.role_set, role), menu)
    elif prefix == tui.TOPIC and fields:
        await _show_topic(update, context, fields[0])
    elif prefix == tui.ENTRY and fields:
        audience = _audience(context)
        reply = responder.answer_entry(fields[0], audience)
        if reply is None:  # the entry left the knowledge base since the button was drawn
            await _send_plain(update, context, ui.fallback)
            return
        title = responder.kb.entries[fields[0]].title
        ref = state.log.record(user.id, audience, title, reply) if user is not None else None
        _remember(context.user_data, ISSUED_REFS, ref)
        await _send_reply(update, context, reply, ref)


# ---------------------------------------------------------------------------------------------
# Staff: alerts and admin commands
# ---------------------------------------------------------------------------------------------


ALERT_MESSAGE_CHARS = 1000  # of the (redacted) message quoted in an alert
ALERT_QUEUE = 10_000  # alerts waiting to be sent; beyond this the oldest is dropped (and logged)


def alert_text(
    responder: Responder, reply: Reply, text: str, audience: str | None, ref: str | None,
    now: dt.datetime | None = None,
) -> str:
    """The staff alert for an urgent case (HTML): no Telegram id, name or username, message
    redacted. Wording from `ui.staff_alert`; every value escaped, the marker in bold."""
    ui = responder.ui
    now = now or dt.datetime.now(VIETNAM)
    who = getattr(ui.role_buttons, audience) if audience in AUDIENCES else ui.staff_audience_unknown
    message = redact(text)[:ALERT_MESSAGE_CHARS]
    while len(tui.escape(message)) > 3 * ALERT_MESSAGE_CHARS:  # '&' and '<' grow when escaped
        message = message[: len(message) * 3 // 4]
    return tui.escape(ui.staff_alert).format(
        marker=f"<b>{tui.escape(ui.urgent_marker)}</b>",
        category=tui.escape(reply.category or "?"),
        message=tui.escape(message),
        audience=tui.escape(who),
        time=f"{now:%H:%M %d/%m/%Y}",
        ref=tui.escape(ref or "-"),
    )


class StaffAlerts:
    """Sends staff alerts from one background task, so no user's reply waits for them.

    The staff chat is a group: Telegram allows about 20 messages a minute there, and the rate
    limiter holds a request back until that allows it. Awaited in the handler, a burst of urgent
    messages would hold every running-update slot and stall the whole bot; queued here, the
    urgent replies go out at once and alerts that pile up are joined into as few messages as
    fit under Telegram's length limit (each alert stays whole).
    """

    def __init__(self, chat_id: int, queue_size: int = ALERT_QUEUE) -> None:
        self.chat_id = chat_id
        self._pending: deque[str] = deque()
        self._queue_size = queue_size
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def post(self, html_text: str) -> None:
        """Queue one alert; never blocks."""
        if len(self._pending) >= self._queue_size:
            self._pending.popleft()
            self.dropped += 1
            logger.error("staff alert queue full: oldest alert dropped (see the staff report)")
        self._pending.append(html_text)
        self._idle.clear()
        self._wakeup.set()

    def start(self, bot: Any) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(bot), name="staff-alerts")

    async def flush(self, timeout: float) -> bool:
        """Wait until every queued alert was sent (or given up on); False on timeout."""
        if self._task is None:
            return not self._pending
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def stop(self, timeout: float = 3.0) -> None:
        """Send what is queued (up to `timeout`), then end the task.

        Short: a pile of alerts drains at the group's 20 messages a minute anyway, and the
        interaction log must still be flushed before a supervisor's kill (Docker: 10 s).
        """
        if self._task is None:
            return
        if not await self.flush(timeout):
            logger.error("%d staff alert(s) not sent before shutdown", len(self._pending))
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def _batch(self) -> str:
        parts = [self._pending.popleft()]
        size = len(parts[0])
        while self._pending and size + 2 + len(self._pending[0]) <= tui.CHUNK_LIMIT:
            size += 2 + len(self._pending[0])
            parts.append(self._pending.popleft())
        return "\n\n".join(parts)

    async def _run(self, bot: Any) -> None:
        while True:
            if not self._pending:
                self._idle.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            text = self._batch()
            try:
                await bot.send_message(self.chat_id, text, parse_mode=ParseMode.HTML)
            except TelegramError as exc:
                logger.error("staff alert not delivered: %s", type(exc).__name__)


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def admin_only(handler: Handler) -> Handler:
    """Staff commands, private chats only: anyone not listed in `admins` is told so and
    nothing else happens; in a group nothing is answered at all."""

    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not _is_private(update):
            return  # staff figures and errors are never shown to a group's members
        state = _state(context)
        user = update.effective_user
        if user is None or user.id not in state.admins:
            await _send_plain(update, context, state.responder.ui.not_admin)
            return
        await handler(update, context)

    return guarded


@admin_only
async def cmd_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = _state(context)
    ui = state.responder.ui
    path = state.settings.knowledge.path
    try:
        kb = await asyncio.to_thread(load_knowledge, path)
        responder = await asyncio.to_thread(
            Responder, kb, state.settings.matching.thresholds
        )
    except KnowledgeError as exc:
        logger.warning("reload failed with %d issue(s); keeping the old knowledge", len(exc.issues))
        await _send_plain(update, context, "\n".join([ui.reload_failed, *exc.issues]))
        return
    state.responder = responder  # the atomic swap: updates in flight keep their own reference
    if state.core is not None:  # answers in-process until the new child is ready
        await state.core.start(responder)
    logger.info("knowledge reloaded: %d entries", len(kb.entries))
    await _send_plain(
        update, context, responder.ui.reload_ok.format(
            entries=len(kb.entries), questions=kb.question_count
        )
    )


class _Figures(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "?"


@admin_only
async def cmd_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    state = _state(context)
    ui = state.responder.ui
    figures = _Figures(await state.log.day_stats())
    await _send_plain(update, context, ui.stats.format_map(figures))


# ---------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log and carry on: one failing update never stops the others, nothing is re-raised."""
    error = context.error
    state: BotState | None = context.application.bot_data.get(STATE)
    if isinstance(error, Forbidden):
        chat = _chat_key(update)
        if state is not None and chat is not None:
            if chat in state.blocked_logged:
                return
            state.blocked_logged.add(chat)
            if len(state.blocked_logged) > 10_000:
                state.blocked_logged.clear()
        logger.info("a user blocked the bot or left; not retrying (%s)", error)
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        logger.warning("network error after retries: %s", error)
        return
    logger.error("error while handling an update", exc_info=error)


# ---------------------------------------------------------------------------------------------
# Building and running
# ---------------------------------------------------------------------------------------------


async def on_startup(app: Application) -> None:
    """Start the interaction log and the daily purge (called by run_*; tests call it too)."""
    state: BotState = app.bot_data[STATE]
    if state.started:
        return
    state.started = True
    await state.log.start()
    if state.core is not None:
        await state.core.start(state.responder)
    if state.alerts is not None:
        state.alerts.start(app.bot)
    state.purge_task = asyncio.create_task(
        purge_daily(state.log, state.settings.privacy.retention_days), name="daily-purge"
    )
    await tell_admins_about_snapshot(app)


async def on_stop(app: Application) -> None:
    """Send the staff alerts still queued while the bot can still send (`post_stop`)."""
    state: BotState = app.bot_data[STATE]
    if state.alerts is not None:
        await state.alerts.stop()


async def on_shutdown(app: Application) -> None:
    """Stop the purge task and flush the interaction log."""
    state: BotState = app.bot_data[STATE]
    if not state.started:
        return
    state.started = False
    await on_stop(app)
    if state.core is not None:
        await state.core.stop()
    if state.purge_task is not None:
        state.purge_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await state.purge_task
        state.purge_task = None
    await state.log.close()
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()


def build_application(
    settings: Settings,
    *,
    responder: Responder | None = None,
    log: InteractionLog | None = None,
    max_running: int | None = None,
) -> Application:
    """The configured `Application`: handlers, limiter, per-chat ordering, lifecycle hooks."""
    settings.require_telegram_secrets()
    assert settings.telegram_token is not None and settings.hash_secret is not None
    # Opt in to PTB's future timedelta time periods (silences its deprecation warnings);
    # retry_after_seconds() accepts both forms.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    token = settings.telegram_token.get_secret_value()
    install_token_filter(token)
    kb_problems: list[str] = []
    if responder is None:
        kb, kb_problems = load_or_snapshot(
            Path(settings.knowledge.path), snapshot_dir(settings.storage.database)
        )
        responder = Responder(kb, settings.matching.thresholds)
    if log is None:
        log = InteractionLog(
            settings.storage.database,
            settings.hash_secret.get_secret_value().encode("utf-8"),
            queue_size=settings.storage.queue_size,
        )
    limits = settings.telegram.rate_limit
    # Handlers running at once, and HTTP connections (`telegram.concurrency`, default 32: at
    # Telegram's 30 messages/s and ~100 ms a round trip that is plenty).
    max_running = max_running or settings.telegram.concurrency
    builder = (
        ApplicationBuilder()
        .token(token)
        .rate_limiter(
            ResilientRateLimiter(
                overall_per_second=limits.overall_per_second,
                per_chat_per_second=limits.per_chat_per_second,
                max_retries=limits.max_retries,
            )
        )
        .concurrent_updates(ChatOrderedProcessor(max_running))
        .request(AiohttpRequest(max_running, connect_timeout=5, read_timeout=10,
                                pool_timeout=10))
        .get_updates_request(AiohttpRequest(2, connect_timeout=5, read_timeout=30,
                                            pool_timeout=5))
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
    )
    if settings.telegram.base_url:
        base = settings.telegram.base_url
        builder = builder.base_url(base)
        builder = builder.base_file_url(base.replace("/bot", "/file/bot", 1) if "/bot" in base
                                        else base)
    app = builder.build()
    app.bot_data[STATE] = BotState(
        settings=settings,
        responder=responder,
        log=log,
        admins=frozenset(settings.admins),
        alerts=StaffAlerts(settings.alerts.chat_id) if settings.alerts.chat_id is not None
        else None,
        core=CoreProcess() if wanted(settings.telegram.core_process) else None,
    )
    app.bot_data[KB_PROBLEMS] = kb_problems
    add_handlers(app)
    return app


KB_PROBLEMS = "kb_problems"  # bot_data: why the bot started from the knowledge snapshot


async def tell_admins_about_snapshot(app: Application) -> None:
    """Started from the last good knowledge base: each admin hears it, with the errors."""
    problems: list[str] = app.bot_data.get(KB_PROBLEMS) or []
    if not problems:
        return
    state: BotState = app.bot_data[STATE]
    text = state.responder.ui.reload_failed + "\n" + "\n".join(problems[:20])
    for admin in state.admins:
        for chunk in tui.split_escaped(text):
            with contextlib.suppress(Exception):
                await app.bot.send_message(admin, chunk, parse_mode=ParseMode.HTML)


def add_handlers(app: Application) -> None:
    commands: list[tuple[list[str], Callable[..., Coroutine[Any, Any, None]]]] = [
        (["start"], cmd_start),
        (["vaitro"], cmd_role),
        (["help", "trogiup"], cmd_help),
        (["privacy", "riengtu"], cmd_privacy),
        (["111", "sos"], cmd_hotline),
        (["chude"], cmd_topics),
        (["xoa"], cmd_forget),
        (["reload"], cmd_reload),
        (["stats"], cmd_stats),
    ]
    for names, callback in commands:
        app.add_handler(CommandHandler(names, callback))
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.TEXT & filters.Entity("mention")
                       & ~filters.COMMAND, on_text)
    )
    app.add_handler(
        MessageHandler(
            private & ~filters.TEXT & ~filters.StatusUpdate.ALL & ~filters.COMMAND, on_non_text
        )
    )
    app.add_handler(MessageHandler(private & filters.COMMAND, cmd_help))  # unknown command
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_error_handler(on_error)


ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]


def setup_logging(level: str) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=getattr(logging, level, logging.INFO),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    else:
        logging.getLogger().setLevel(getattr(logging, level, logging.INFO))


def run(settings: Settings) -> None:
    """`python -m bot run`: long polling, or a webhook when `telegram.mode: webhook`.

    SIGINT/SIGTERM stop the loop; `on_shutdown` then flushes the log before the process exits.
    """
    setup_logging(settings.logging.level)
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else None
    install_token_filter(token)
    if settings.telegram.mode == "webhook":
        webhook = settings.telegram.webhook
        if not webhook.url:
            raise SystemExit("telegram.webhook.url is required in webhook mode")
        if not webhook.secret_token:
            raise SystemExit(NO_WEBHOOK_SECRET)
        app = build_application(settings)
        # Not app.run_webhook(): it answers 200 before handling and 500 to bad JSON.
        asyncio.run(run_reliable_webhook(
            app, settings.storage.database, listen=webhook.listen, port=webhook.port,
            url=webhook.url, url_path=urlparse(webhook.url).path, secret=webhook.secret_token,
            allowed_updates=ALLOWED_UPDATES,
        ))
    else:
        app = build_application(settings)
        # Not app.run_polling(): PTB's Updater confirms updates when fetched (see delivery.py).
        asyncio.run(run_reliable_polling(
            app, settings.storage.database, allowed_updates=ALLOWED_UPDATES, timeout=10
        ))
    logging.shutdown()
