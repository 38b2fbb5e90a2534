"""Sending to a chat: every message the bot sends is remembered (private chats) for `/xoa`."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.constants import ChatType

from bot.core.responder import Reply
from bot.telegram import render as tui
from bot.telegram.context import BotContext

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def track(update: Update, context: BotContext, message_id: int | None) -> None:
    """Remember a message id of a private chat so /xoa can delete it; memory only."""
    if message_id is None or not is_private(update) or context.chat_data is None:
        return
    context.chat_data.track(message_id)


def track_incoming(update: Update, context: BotContext) -> None:
    message = update.effective_message
    if message is not None and update.callback_query is None:
        track(update, context, message.message_id)


async def send(
    update: Update, context: BotContext, html_text: str, markup: Markup | None = None
) -> Message:
    """One HTML message (parse mode from the application's `Defaults`)."""
    chat = update.effective_chat
    assert chat is not None
    message = await context.bot.send_message(chat.id, html_text, reply_markup=markup)
    track(update, context, message.message_id)
    return message


async def send_plain(
    update: Update, context: BotContext, text: str, markup: Markup | None = None
) -> None:
    """Send a UI text (plain, escaped and split); the keyboard goes under the last chunk."""
    chunks = tui.split_escaped(text)
    for index, chunk in enumerate(chunks):
        await send(update, context, chunk, markup if index == len(chunks) - 1 else None)


async def send_reply(update: Update, context: BotContext, reply: Reply, ref: str | None) -> None:
    """The core's reply, with its feedback ref (the log knows whose exchange it is)."""
    for html_text, markup in tui.reply_messages(context.bot_data.responder.ui, reply, ref):
        await send(update, context, html_text, markup)
