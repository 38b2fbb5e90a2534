"""Staff commands: `/reload` (re-read the knowledge folder) and `/stats` (today's figures).

Only the Telegram ids listed in `admins` may use them, in a private chat with the bot; anyone
else is told so, and in a group nothing is answered (its members would read figures and errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.error import TelegramError

from bot.core.fitting import FitError
from bot.core.knowledge import STATS_SLOTS, KnowledgeError
from bot.core.templates import fill
from bot.services import load_responder
from bot.telegram import render as tui
from bot.telegram.context import BotApp, BotContext
from bot.telegram.send import is_private, send_plain

logger = logging.getLogger(__name__)

Handler = Callable[[Update, BotContext], Awaitable[None]]


def admin_only(handler: Handler) -> Handler:
    """Staff commands, private chats only: anyone not listed in `admins` is told so and
    nothing else happens; in a group nothing is answered at all."""

    async def guarded(update: Update, context: BotContext) -> None:
        if not is_private(update):
            return
        state = context.bot_data
        user = update.effective_user
        if user is None or user.id not in state.admins:
            await send_plain(update, context, state.responder.ui.not_admin)
            return
        await handler(update, context)

    return guarded


@admin_only
async def cmd_reload(update: Update, context: BotContext) -> None:
    state = context.bot_data
    ui = state.responder.ui
    try:
        responder = await asyncio.to_thread(load_responder, state.settings, keep_snapshot=True)
    except KnowledgeError as exc:
        logger.warning("reload failed with %d issue(s); keeping the old knowledge", len(exc.issues))
        await send_plain(update, context, "\n".join([ui.reload_failed, *exc.issues]))
        return
    except FitError as exc:  # the child process that fits the new weights failed
        logger.warning("reload failed: %s; keeping the old knowledge", exc)
        await send_plain(update, context, "\n".join([ui.reload_failed, ui.reload_fit_failed]))
        return
    state.responder = responder  # the atomic swap: updates in flight keep their own reference
    kb = responder.kb
    logger.info("knowledge reloaded: %d entries", len(kb.entries))
    await send_plain(
        update, context,
        fill(responder.ui.reload_ok, entries=len(kb.entries), questions=kb.question_count),
    )


@admin_only
async def cmd_stats(update: Update, context: BotContext) -> None:
    state = context.bot_data
    ui = state.responder.ui
    figures: dict[str, object] = dict(await state.log.day_stats())
    if state.cases is not None:  # the anonymous line to staff: counts only
        figures.update(await state.cases.counts.today())
    values = {key: figures.get(key, "?") for key in STATS_SLOTS}
    await send_plain(update, context, fill(ui.stats, **values))



async def tell_admins_about_snapshot(app: BotApp) -> None:
    """Started from the last good knowledge base: each admin hears it, with the errors."""
    state = app.bot_data
    if not state.kb_problems:
        return
    text = "\n".join([state.responder.ui.started_from_snapshot, *state.kb_problems[:20]])
    for admin in state.admins:
        for chunk in tui.split_escaped(text):
            with contextlib.suppress(TelegramError):
                await app.bot.send_message(admin, chunk)
