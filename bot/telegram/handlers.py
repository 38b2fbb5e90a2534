"""Conversation handlers: commands, texts, non-texts and buttons, and the error handler.

Everything a user reads comes from `Responder` (the core) and the knowledge base's `UiTexts`;
these handlers only decide which text goes where.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time

from telegram import InlineKeyboardMarkup, Message, ReplyKeyboardRemove, Update
from telegram.error import BadRequest, Forbidden, NetworkError

from bot.core.knowledge import AUDIENCES
from bot.core.responder import Reply
from bot.core.templates import fill
from bot.telegram import render as tui
from bot.telegram.alerts import alert_text
from bot.telegram.context import BotContext
from bot.telegram.limits import chat_key
from bot.telegram.send import is_private, send, send_plain, send_reply, track_incoming

logger = logging.getLogger(__name__)

DELETE_WINDOW = 48 * 3600  # Telegram lets a bot delete messages younger than 48 hours
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids

async def cmd_start(update: Update, context: BotContext) -> None:
    track_incoming(update, context)
    ui = context.bot_data.responder.ui
    menu = tui.topic_menu(ui) if is_private(update) else None
    await send_plain(update, context, ui.start, menu)
    await send_plain(update, context, ui.role_question, tui.role_keyboard(ui))


async def cmd_role(update: Update, context: BotContext) -> None:
    track_incoming(update, context)
    ui = context.bot_data.responder.ui
    await send_plain(update, context, ui.role_question, tui.role_keyboard(ui))


async def cmd_help(update: Update, context: BotContext) -> None:
    track_incoming(update, context)
    await send_plain(update, context, context.bot_data.responder.ui.help)


async def cmd_privacy(update: Update, context: BotContext) -> None:
    track_incoming(update, context)
    state = context.bot_data
    days = state.settings.privacy.retention_days
    await send_plain(update, context, state.responder.ui.privacy_for(days))


async def cmd_hotline(update: Update, context: BotContext) -> None:
    track_incoming(update, context)
    responder = context.bot_data.responder
    await send_plain(update, context, responder.hotline_card(),
                     InlineKeyboardMarkup(tui.help_rows(responder.ui)))


async def cmd_topics(update: Update, context: BotContext) -> None:
    track_incoming(update, context)
    ui = context.bot_data.responder.ui
    await send_plain(update, context, ui.topics_intro, tui.topic_buttons(ui))


async def _show_topic(update: Update, context: BotContext, tag: str) -> None:
    responder = context.bot_data.responder
    ui = responder.ui
    label = next((topic.label for topic in ui.topics if topic.tag == tag), None)
    entries = responder.topic_entries(tag)
    if label is None or not entries:
        await send_plain(update, context, ui.topic_empty)
        return
    rows = tui.entry_rows(entries)
    await send(update, context, f"<b>{tui.escape(label)}</b>", InlineKeyboardMarkup(rows))


async def cmd_forget(update: Update, context: BotContext) -> None:
    """/xoa: delete this conversation's messages, then the user's rows, then confirm (or say
    that it could not be done yet)."""
    state = context.bot_data
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    assert chat is not None
    now = time.time()
    ids: list[int] = []
    if context.chat_data is not None and is_private(update):
        tracked = context.chat_data.message_ids
        ids = [mid for mid, at in tracked if now - at < DELETE_WINDOW - 60]
    if message is not None:
        ids.append(message.message_id)
    for start in range(0, len(ids), DELETE_BATCH):
        await _delete_messages(context, chat.id, sorted(set(ids[start : start + DELETE_BATCH])))
    # Recorded in the log database before "done" is said (finished at the next start if the
    # bot stops first); when not even that can be written, the user is told to try again.
    durable = (await state.log.request_forget(user.id)).durable if user is not None else True
    if context.user_data is not None:
        context.user_data.audience = None
    if context.chat_data is not None:
        context.chat_data.message_ids.clear()
    markup = ReplyKeyboardRemove() if is_private(update) else None
    ui = state.responder.ui
    await send_plain(update, context, ui.xoa_done if durable else ui.xoa_failed, markup)


async def _delete_messages(
    context: BotContext, chat_id: int, ids: list[int]
) -> None:
    try:
        await context.bot.delete_messages(chat_id, ids)
    except BadRequest:
        # Some ids were refused (too old, already gone): delete one by one, skipping failures.
        for mid in ids:
            with contextlib.suppress(BadRequest):
                await context.bot.delete_message(chat_id, mid)


def _group_text(update: Update, context: BotContext) -> str | None:
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


async def on_text(update: Update, context: BotContext) -> None:
    """A text (or edited text, or a caption): topic menu label, else through the core."""
    message = update.effective_message
    if message is None:
        return
    if is_private(update):
        text = message.text or message.caption or ""
    else:
        text = _group_text(update, context) or ""
        if not text:
            return
    track_incoming(update, context)
    state = context.bot_data
    responder = state.responder  # one knowledge base for the whole update, even mid-reload
    tag = next((t.tag for t in responder.ui.menu_topics if t.label == text.strip()), None)
    if tag is not None:
        await _show_topic(update, context, tag)
        return
    audience = context.audience
    reply = responder.respond(text, audience)
    ref = _record(update, context, text, reply)
    await send_reply(update, context, reply, ref)
    if reply.urgent and state.alerts is not None and message.chat is not None:
        # Kept in the outbox, then sent in the background: never delays this chat or others.
        # One alert per message: an edited urgent message is answered again, not alerted again.
        await state.alerts.queue(context.application,
                                 alert_text(responder, reply, text, audience, ref),
                                 message.chat.id, message.message_id)


def _record(update: Update, context: BotContext, text: str, reply: Reply) -> str | None:
    """Log the exchange (redacted with the current knowledge base's lists); its feedback ref."""
    user = update.effective_user
    if user is None:
        return None
    state = context.bot_data
    return state.log.record(user.id, context.audience, text, reply, state.responder.redactor)


async def on_non_text(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice notes, files: the bot reads text; the hotline is in the reply."""
    message = update.effective_message
    if message is not None and message.caption:
        await on_text(update, context)
        return
    track_incoming(update, context)
    await send_plain(update, context, context.bot_data.responder.ui.non_text)


async def on_button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    if query is None:
        return
    state = context.bot_data
    responder = state.responder
    ui = responder.ui
    prefix, fields = tui.parse_callback(query.data if isinstance(query.data, str) else None)
    user = update.effective_user

    if prefix == tui.FEEDBACK and len(fields) == 2 and fields[0] in ("0", "1"):
        # Counts only for the user the answer was sent to (checked in the log database, so
        # also after a restart); everyone gets the same polite answer, so a forger learns
        # nothing about whose answer it was.
        if user is not None:
            state.log.record_feedback(fields[1], fields[0] == "1", user.id)
        await query.answer(ui.feedback_thanks)
        if query.message is not None and isinstance(query.message, Message):
            kept = tui.without_feedback(query.message.reply_markup)
            with contextlib.suppress(BadRequest):
                await query.edit_message_reply_markup(kept)
        return
    await query.answer()
    if prefix == tui.CHECK and fields and fields[0] in responder.kb.danger.categories:
        await _check_pressed(update, context, fields[0])
    elif prefix == tui.ROLE and fields and fields[0] in AUDIENCES:
        role = fields[0]
        if context.user_data is not None:
            context.user_data.audience = role
        menu = tui.topic_menu(ui) if is_private(update) else None
        await send_plain(update, context, getattr(ui.role_set, role), menu)
    elif prefix == tui.TOPIC and fields:
        await _show_topic(update, context, fields[0])
    elif prefix == tui.ENTRY and fields:
        audience = context.audience
        reply = responder.answer_entry(fields[0], audience)
        if reply is None:  # the entry left the knowledge base since the button was drawn
            await send_plain(update, context, ui.fallback)
            return
        title = responder.kb.entries[fields[0]].title
        ref = _record(update, context, title, reply)
        await send_reply(update, context, reply, ref)



async def _check_pressed(update: Update, context: BotContext, category: str) -> None:
    """The check tier's button: the urgent card for the likely danger, the button removed, and
    one staff alert per answer however often it is pressed (the message itself is not kept)."""
    state = context.bot_data
    responder = state.responder
    ui = responder.ui
    audience = context.audience
    reply = responder.urgent_card(category, audience)
    label = ui.check_button_adult if audience in ("parent", "teacher") else ui.check_button_child
    ref = _record(update, context, label, reply)
    await send_reply(update, context, reply, ref)
    query = update.callback_query
    pressed = query.message if query is not None else None
    if query is not None and isinstance(pressed, Message):
        with contextlib.suppress(BadRequest):
            await query.edit_message_reply_markup(
                tui.without_feedback(pressed.reply_markup, tui.CHECK)
            )
    if state.alerts is not None and isinstance(pressed, Message):
        # One case per answer pressed (the bot's message id), however often it is pressed.
        text = fill(ui.check_pressed_alert, button=label)
        await state.alerts.queue(context.application,
                                 alert_text(responder, reply, text, audience, ref),
                                 pressed.chat.id, pressed.message_id)


async def on_error(update: object, context: BotContext) -> None:
    """Log and carry on: one failing update never stops the others, nothing is re-raised."""
    error = context.error
    state = context.bot_data
    if isinstance(error, Forbidden):
        chat = chat_key(update)
        if chat is not None:
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

