"""The Telegram application: builder, handlers table and lifecycle (start, stop, run).

`build_application` wires python-telegram-bot's own pieces: its `HTTPXRequest` transport (pool
and timeouts as the library sets them unless `telegram.http` says otherwise), `Defaults` (HTML
parse mode, no link previews), the typed `ContextTypes`, the `JobQueue` for the daily purge,
and our per-chat ordering and rate limiter (bot.telegram.limits).
The services (core, log) come from bot.services, the composition root.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any
from urllib.parse import urlparse

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    filters,
)

from bot.commands import COMMANDS
from bot.config import Settings
from bot.services import Services, build_services
from bot.telegram import admin, handlers, humanhelp
from bot.telegram.alerts import StaffAlerts
from bot.telegram.context import CONTEXT_TYPES, BotApp, BotContext
from bot.telegram.limits import ChatOrderedProcessor, ResilientRateLimiter
from bot.telegram.logfilter import install_token_filter, setup_logging
from bot.telegram.outbox import AlertOutbox
from bot.telegram.polling import run_polling
from bot.telegram.webhook import NO_SECRET, run_webhook

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
PURGE_INTERVAL = 24 * 3600.0  # seconds between purges of the interaction log
RESEND_INTERVAL = 300.0  # seconds between looks for staff alerts left in the outbox


async def purge_job(context: BotContext) -> None:
    """JobQueue callback: delete interaction rows older than the retention period."""
    state = context.bot_data
    days = state.settings.privacy.retention_days
    try:
        deleted = await state.log.purge(days)
    except Exception as exc:  # a DB failure must not stop the bot; tried again tomorrow
        logger.error("daily purge of the interaction log failed: %s", exc)
        return
    logger.info("daily purge: deleted %d rows older than %d days", deleted, days)


async def on_startup(app: BotApp) -> None:
    """Start the interaction log and schedule the daily purge (`post_init`; tests call it)."""
    state = app.bot_data
    if state.started:
        return
    state.started = True
    await state.log.start()
    if app.job_queue is not None:
        # Both run once at start, then every interval. Not `run_repeating(first=0)`: the
        # scheduler starts only after this hook, and an interval whose start has passed by then
        # fires first one interval later. The start run has no grace limit (APScheduler's
        # default of 1 s would skip it as "missed" on a busy machine).
        late_ok = {"misfire_grace_time": None}
        jobs = [(purge_job, PURGE_INTERVAL, "daily-purge")]
        if state.alerts is not None:  # the alerts a stop or crash left unsent
            jobs.append((resend_alerts_job, RESEND_INTERVAL, "resend-alerts"))
        for callback, interval, name in jobs:
            app.job_queue.run_once(callback, 0.0, name=f"{name}-at-start", job_kwargs=late_ok)
            app.job_queue.run_repeating(callback, interval, first=interval, name=name)
    await admin.tell_admins_about_snapshot(app)


async def resend_alerts_job(context: BotContext) -> None:
    """JobQueue callback, at start and every RESEND_INTERVAL: send the staff alerts the outbox
    still holds (left by the last stop, or refused by Telegram since)."""
    alerts = context.bot_data.alerts
    if alerts is not None:
        await alerts.resume(context.application)


async def on_shutdown(app: BotApp) -> None:
    """Flush the interaction log (`post_shutdown`): nothing recorded is lost at exit."""
    state = app.bot_data
    if not state.started:
        return
    state.started = False
    await state.log.close()
    if state.alerts is not None:
        if state.alerts.outbox is not None:
            await state.alerts.outbox.close()
        if state.alerts.kept_for_restart or state.alerts.dropped:
            logger.warning("staff alerts at exit: %d kept for the next start, %d lost",
                           state.alerts.kept_for_restart, state.alerts.dropped)
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):  # a broken handler must not block the shutdown
            handler.flush()


def _with_http(builder: Any, settings: Settings) -> Any:
    """PTB builds its own `HTTPXRequest`s (one pool for sending, one for getUpdates); only what
    `telegram.http` sets differs from the library's defaults."""
    http = settings.telegram.http
    for name in ("connect_timeout", "read_timeout", "write_timeout", "pool_timeout",
                 "proxy", "http_version"):
        value = getattr(http, name)
        if value is not None:
            builder = getattr(builder, name)(value)
            builder = getattr(builder, f"get_updates_{name}")(value)
    if http.connection_pool_size is not None:
        builder = builder.connection_pool_size(http.connection_pool_size)
    return builder


def build_application(
    settings: Settings,
    *,
    services: Services | None = None,
    responder: Any = None,
    max_running: int | None = None,
) -> BotApp:
    """The configured `Application`: handlers, limiter, per-chat ordering, lifecycle hooks."""
    settings.require_telegram_secrets()
    assert settings.telegram_token is not None
    # Opt in to PTB's future timedelta time periods (silences its deprecation warnings);
    # limits.retry_after_seconds() accepts both forms.
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    token = settings.telegram_token.get_secret_value()
    install_token_filter(token)
    if services is None:
        services = build_services(settings, responder=responder, log="telegram")
    assert services.log is not None, "the Telegram edge always keeps the interaction log"
    limits = settings.telegram.rate_limit
    # Handlers running at once, and HTTP connections (`telegram.concurrency`, default 32: at
    # Telegram's 30 messages/s and ~100 ms a round trip that is plenty).
    max_running = max_running or settings.telegram.concurrency
    builder = (
        ApplicationBuilder()
        .token(token)
        .context_types(CONTEXT_TYPES)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(
            ResilientRateLimiter(
                overall_per_second=limits.overall_per_second,
                per_chat_per_second=limits.per_chat_per_second,
                max_retries=limits.max_retries,
            )
        )
        .concurrent_updates(ChatOrderedProcessor(max_running))
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
    )
    builder = _with_http(builder, settings)
    if settings.telegram.base_url:
        base = settings.telegram.base_url
        builder = builder.base_url(base)
        builder = builder.base_file_url(
            base.replace("/bot", "/file/bot", 1) if "/bot" in base else base
        )
    app: BotApp = builder.build()
    state = app.bot_data
    state.settings = settings
    state.responder = services.responder
    state.log = services.log
    state.admins = frozenset(settings.admins)
    state.kb_problems = services.kb_problems
    if settings.alerts.chat_id is not None:
        assert settings.hash_secret is not None  # required above
        state.alerts = StaffAlerts(
            settings.alerts.chat_id, AlertOutbox(settings.storage.database),
            settings.hash_secret.get_secret_value().encode(),
        )
    add_handlers(app)
    humanhelp.install(app)  # /baotin, /gapnguoi: handlers in group -1 (bot.telegram.humanhelp)
    return app


# The callback of each action of bot.commands.COMMANDS (whose table holds the names).
CALLBACKS: dict[str, Any] = {
    "start": handlers.cmd_start,
    "role": handlers.cmd_role,
    "help": handlers.cmd_help,
    "privacy": handlers.cmd_privacy,
    "hotline": handlers.cmd_hotline,
    "topics": handlers.cmd_topics,
    "forget": handlers.cmd_forget,
    "reload": admin.cmd_reload,
    "stats": admin.cmd_stats,
}


def add_handlers(app: BotApp) -> None:
    for action, callback in CALLBACKS.items():
        app.add_handler(CommandHandler(list(COMMANDS[action]), callback))
    private = filters.ChatType.PRIVATE
    app.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, handlers.on_text))
    app.add_handler(
        MessageHandler(filters.ChatType.GROUPS & filters.TEXT & filters.Entity("mention")
                       & ~filters.COMMAND, handlers.on_text)
    )
    app.add_handler(
        MessageHandler(
            private & ~filters.TEXT & ~filters.StatusUpdate.ALL & ~filters.COMMAND,
            handlers.on_non_text,
        )
    )
    app.add_handler(MessageHandler(private & filters.COMMAND, handlers.cmd_help))  # unknown
    app.add_handler(CallbackQueryHandler(handlers.on_button))
    app.add_error_handler(handlers.on_error)


def run(settings: Settings, services: Services | None = None) -> None:
    """`python -m bot run`: long polling, or a webhook when `telegram.mode: webhook`.

    Not PTB's `run_polling`/`run_webhook`: both confirm an update to Telegram before handling
    it, so a crash loses it. Ours confirm only handled updates, drop re-deliveries by update_id
    and, on SIGINT/SIGTERM, give running handlers DRAIN_SECONDS, flush the staff alerts and the
    log, and leave the rest for Telegram to send again after the restart (bot.telegram.polling,
    bot.telegram.webhook).
    """
    setup_logging(settings.logging.level)
    token = settings.telegram_token.get_secret_value() if settings.telegram_token else None
    install_token_filter(token)
    webhook = settings.telegram.webhook
    if settings.telegram.mode == "webhook":
        if not webhook.url:
            raise SystemExit("telegram.webhook.url is required in webhook mode")
        if not webhook.secret_token:
            raise SystemExit(NO_SECRET)
    app = build_application(settings, services=services)
    database = settings.storage.database
    if settings.telegram.mode == "webhook":
        assert webhook.url is not None
        asyncio.run(run_webhook(
            app, database, listen=webhook.listen, port=webhook.port, url=webhook.url,
            url_path=urlparse(webhook.url).path, secret=webhook.secret_token,
            allowed_updates=ALLOWED_UPDATES,
        ))
    else:
        asyncio.run(run_polling(app, database, allowed_updates=ALLOWED_UPDATES, timeout=10))
    logging.shutdown()
