"""Human help on Telegram: the guided report (/baotin) and the anonymous staff line (/gapnguoi).

`install` builds the case desk and registers these handlers in group -1, ahead of the normal
conversation: a message that belongs to a report or an open case is handled here and stops
(`ApplicationHandlerStop`); any other message falls through to the normal bot unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.commands import COMMANDS
from bot.helpcounts import HelpCounts
from bot.telegram import guided
from bot.telegram import render as tui
from bot.telegram.context import BotApp, BotContext
from bot.telegram.counsel import CaseDesk
from bot.telegram.send import is_private, send_plain, track_incoming

Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]

GROUP = -1


def _is_staff(update: Update, context: BotContext) -> bool:
    desk = context.bot_data.cases
    chat = update.effective_chat
    return desk is not None and chat is not None and desk.is_staff_chat(chat.id)


async def cmd_open(update: Update, context: BotContext, category: str | None = None) -> None:
    """/gapnguoi (or its button): open a case, or say kindly why not and give 111."""
    track_incoming(update, context)
    chat = update.effective_chat
    desk = context.bot_data.cases
    if chat is None or desk is None or not is_private(update):
        return
    context.bot_data.reports.forget(chat.id)  # a person takes over from the form
    text = await desk.open(context, chat.id, category, context.audience)
    await send_plain(update, context, text)


async def cmd_end(update: Update, context: BotContext) -> None:
    """/ketthuc: from the user's chat, or from staff in the case's topic."""
    desk = context.bot_data.cases
    message, chat = update.effective_message, update.effective_chat
    if desk is None or message is None or chat is None:
        return
    if _is_staff(update, context):
        await desk.staff_end(context, message)
        raise ApplicationHandlerStop
    if not is_private(update):
        return
    track_incoming(update, context)
    texts = context.bot_data.responder.ui.counsel
    ended = await desk.user_end(context, chat.id)
    await send_plain(update, context, texts.ended_by_user if ended else texts.none_open)


async def cmd_staff_urgent(update: Update, context: BotContext) -> None:
    """/khancap from staff in a case topic: the user gets the urgent card."""
    desk = context.bot_data.cases
    message = update.effective_message
    if desk is None or message is None or not _is_staff(update, context):
        return
    await desk.staff_urgent(context, message)
    raise ApplicationHandlerStop


async def on_forget(update: Update, context: BotContext) -> None:
    """/xoa also ends an open case and a report; the normal /xoa then runs (no stop)."""
    chat = update.effective_chat
    if chat is None or not is_private(update):
        return
    context.bot_data.reports.forget(chat.id)
    desk = context.bot_data.cases
    if desk is not None:
        await desk.user_end(context, chat.id, forgot=True)


async def on_private_message(update: Update, context: BotContext) -> None:
    """A user's message (not a command): to the open case, else to the report, else on."""
    chat, message = update.effective_chat, update.effective_message
    desk = context.bot_data.cases
    if chat is None or message is None:
        return
    case = desk.by_user.get(chat.id) if desk is not None else None
    if desk is not None and case is not None:
        if update.edited_message is not None:  # staff already read the first version
            raise ApplicationHandlerStop
        track_incoming(update, context)
        await desk.from_user(context, case, message)
        raise ApplicationHandlerStop
    if (message.text or message.caption) and await guided.on_report_text(update, context):
        raise ApplicationHandlerStop


async def on_staff_message(update: Update, context: BotContext) -> None:
    desk = context.bot_data.cases
    message = update.effective_message
    if desk is None or message is None or update.edited_message is not None:
        return
    if message.forum_topic_created or message.forum_topic_closed or message.forum_topic_edited:
        raise ApplicationHandlerStop
    await desk.from_staff(context, message)
    raise ApplicationHandlerStop


async def on_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    prefix, fields = tui.parse_callback(query.data if isinstance(query.data, str) else None)
    await query.answer()
    if prefix == tui.REPORT:
        await guided.on_report_button(update, context, fields)
    elif prefix == tui.COUNSEL and fields[:1] == ["open"]:
        await cmd_open(update, context, fields[1] if len(fields) > 1 else None)
    raise ApplicationHandlerStop


def _final(callback: Handler) -> Handler:
    """A command handled here is not handled again by the normal bot (group 0)."""

    async def handled(update: Update, context: BotContext) -> None:
        await callback(update, context)
        raise ApplicationHandlerStop

    return handled


def install(app: BotApp) -> None:
    """Build the case desk and register the human-help handlers (group -1)."""
    state = app.bot_data
    settings = state.settings
    state.cases = CaseDesk(settings.counsellors, HelpCounts(settings.storage.database))
    private = filters.ChatType.PRIVATE
    for action, callback in (("report", guided.cmd_report), ("cancel", guided.cmd_cancel),
                             ("counsel", cmd_open)):
        app.add_handler(CommandHandler(list(COMMANDS[action]), _final(callback), private), GROUP)
    app.add_handler(CommandHandler(list(COMMANDS["end"]), _final(cmd_end)), GROUP)
    app.add_handler(CommandHandler(list(COMMANDS["staff_urgent"]), cmd_staff_urgent), GROUP)
    app.add_handler(CommandHandler(list(COMMANDS["forget"]), on_forget, private), GROUP)
    app.add_handler(
        MessageHandler(private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, on_private_message),
        GROUP,
    )
    if settings.counsellors.chat_id is not None:
        staff = filters.Chat(settings.counsellors.chat_id)
        app.add_handler(MessageHandler(staff & ~filters.COMMAND, on_staff_message), GROUP)
    app.add_handler(CallbackQueryHandler(on_button, pattern=rf"^({tui.REPORT}|{tui.COUNSEL}):"),
                    GROUP)
