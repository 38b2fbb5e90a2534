"""The guided report (/baotin, /huy) on Telegram: the core's `GuidedReport` turned into messages
with inline buttons and copy buttons. The per-chat state is the core's, in memory only."""

from __future__ import annotations

import time

from telegram import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.core.guided_report import Choice, ReportMessage
from bot.telegram import render as tui
from bot.telegram.alerts import alert_text
from bot.telegram.context import BotContext
from bot.telegram.send import send, send_plain, send_reply, track_incoming

REPORT = tui.REPORT  # callback prefix: rp:<step>:<code>, or rp:start
START = "start"


def _rows(choices: tuple[Choice, ...], step: str, width: int) -> list[list[InlineKeyboardButton]]:
    buttons = [
        InlineKeyboardButton(choice.label, callback_data=data)
        for choice in choices
        if (data := tui.callback(REPORT, step, choice.code))
    ]
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def keyboard(message: ReportMessage) -> InlineKeyboardMarkup | None:
    """Choices two a row (provinces three a row), each copy button on its own row."""
    rows: list[list[InlineKeyboardButton]] = []
    if message.step is not None:
        rows += _rows(message.choices, message.step, 3 if message.step == "province" else 2)
    for copy in message.copies:
        rows.append([InlineKeyboardButton(copy.label, copy_text=CopyTextButton(copy.code))])
    return InlineKeyboardMarkup(rows) if rows else None


async def send_turn(update: Update, context: BotContext, messages: list[ReportMessage]) -> None:
    for message in messages:
        if message.urgent is not None:  # the urgent reply first, exactly as the core gives it
            await send_reply(update, context, message.urgent, None)
        await send_plain(update, context, message.text, keyboard(message))


def _key(update: Update) -> int | None:
    return update.effective_chat.id if update.effective_chat is not None else None


async def cmd_report(update: Update, context: BotContext) -> None:
    """/baotin: start (or restart) the guided report in this chat."""
    track_incoming(update, context)
    state = context.bot_data
    key = _key(update)
    if key is None:
        return
    await send_turn(update, context, state.reports.start(key, state.responder, time.monotonic()))


async def cmd_cancel(update: Update, context: BotContext) -> None:
    """/huy: leave the report at any step; its answers are forgotten."""
    track_incoming(update, context)
    state = context.bot_data
    key = _key(update)
    if key is None:
        return
    await send_turn(update, context, state.reports.cancel(key, state.responder))


async def on_report_text(update: Update, context: BotContext) -> bool:
    """A typed text while a report is going on; False when there is none (normal bot)."""
    message = update.effective_message
    key = _key(update)
    if message is None or key is None:
        return False
    state = context.bot_data
    text = message.text or message.caption or ""
    turn = state.reports.type(key, state.responder, text, time.monotonic(), context.audience)
    if turn is None:
        return False
    track_incoming(update, context)
    await send_turn(update, context, turn)
    urgent = next((m.urgent for m in turn if m.urgent is not None), None)
    if urgent is not None and state.alerts is not None:  # as for any urgent message
        alert = alert_text(state.responder, urgent, text, context.audience, None)
        await state.alerts.queue(context.application, alert, message.chat_id, message.message_id)
    return True


async def on_report_button(update: Update, context: BotContext, fields: list[str]) -> None:
    state = context.bot_data
    key = _key(update)
    if key is None:
        return
    if fields == [START]:
        turn = state.reports.start(key, state.responder, time.monotonic())
        await send_turn(update, context, turn)
        return
    if len(fields) != 2:
        return
    turn = state.reports.choose(
        key, state.responder, fields[0], fields[1], time.monotonic(), context.audience
    )
    await send_turn(update, context, turn)


async def send_help_buttons(update: Update, context: BotContext, text: str) -> None:
    """A plain UI text with the report and counsellor buttons under it (the hotline card)."""
    ui = context.bot_data.responder.ui
    chunks = tui.split_escaped(text)
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        markup = InlineKeyboardMarkup(tui.help_rows(ui)) if last else None
        await send(update, context, chunk, markup)
