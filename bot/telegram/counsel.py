"""The anonymous line to trained staff: one forum topic per case in the staff supergroup.

A user's messages are copied into the case's topic as text the bot writes (never forwarded, so
no name, username, id or profile reaches staff); staff messages written in the topic go back to
the user under a neutral "Nhân viên tư vấn:" label. The case-to-chat mapping lives in memory only
and is dropped when the case ends, so a restart ends every case (the user can open a new one).
Relayed text is never stored: only counts go to the database (`bot.helpcounts`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import cast

from telegram import Message
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.config import CounsellorSettings
from bot.core.counsel import new_case_ref, topic_title, within_hours
from bot.core.responder import Reply, Responder
from bot.helpcounts import HelpCounts
from bot.telegram import render as tui
from bot.telegram.context import BotApp, BotContext

logger = logging.getLogger(__name__)


@dataclass
class Case:
    """One open case: what the relay needs, and nothing of the user but the chat to answer."""

    ref: str
    user_chat: int
    thread_id: int
    category: str | None
    audience: str | None
    opened: float = field(default_factory=time.monotonic)
    staff_replied: bool = False
    urgent: bool = False


def _app(context: BotContext) -> BotApp:
    return cast(BotApp, context.application)


def _topic_gone(error: TelegramError) -> bool:
    text = str(error).lower()
    return any(word in text for word in ("thread", "topic"))


class CaseDesk:
    """Open cases, both ways: by the user's chat and by the staff topic."""

    def __init__(self, settings: CounsellorSettings, counts: HelpCounts) -> None:
        self.settings = settings
        self.counts = counts
        self.by_user: dict[int, Case] = {}
        self.by_thread: dict[int, Case] = {}

    @property
    def staff_chat(self) -> int | None:
        return self.settings.chat_id

    def is_staff_chat(self, chat_id: int | None) -> bool:
        return chat_id is not None and chat_id == self.settings.chat_id

    # -- sending -------------------------------------------------------------------------
    async def to_user(self, app: BotApp, case: Case, html_text: str) -> bool:
        """Send to the user; a blocked bot ends the case (False)."""
        try:
            message = await app.bot.send_message(case.user_chat, html_text)
        except Forbidden:
            await self._end(app, case, staff_note="staff_user_gone")
            return False
        app.chat_data[case.user_chat].track(message.message_id)
        return True

    async def to_user_reply(self, app: BotApp, case: Case, reply: Reply) -> bool:
        ui = app.bot_data.responder.ui
        for html_text, markup in tui.reply_messages(ui, reply, None):
            try:
                message = await app.bot.send_message(case.user_chat, html_text, reply_markup=markup)
            except Forbidden:
                await self._end(app, case, staff_note="staff_user_gone")
                return False
            app.chat_data[case.user_chat].track(message.message_id)
        return True

    async def to_topic(self, app: BotApp, case: Case, text: str) -> bool:
        """Send plain `text` into the case's topic; a deleted topic ends the case (False)."""
        assert self.settings.chat_id is not None
        try:
            for chunk in tui.split_escaped(text):
                await app.bot.send_message(
                    self.settings.chat_id, chunk, message_thread_id=case.thread_id
                )
        except BadRequest as error:
            if not _topic_gone(error):
                raise
            logger.info("case %s: the staff topic is gone; ending the case", case.ref)
            await self._end(app, case, user_note="ended_topic_gone", close=False)
            return False
        return True

    def _staff_text(self, app: BotApp, name: str, case: Case) -> str:
        responder: Responder = app.bot_data.responder
        texts = responder.ui.counsel
        return (
            getattr(texts, name)
            .replace("{ref}", case.ref)
            .replace("{category}", self._category_name(responder, case.category))
            .replace("{minutes}", f"{self.settings.first_reply_minutes:g}")
        )

    @staticmethod
    def _category_name(responder: Responder, category: str | None) -> str:
        found = responder.kb.danger.categories.get(category or "")
        return found.name if found else responder.ui.counsel.category_unknown

    # -- opening -------------------------------------------------------------------------
    async def open(
        self, context: BotContext, user_chat: int, category: str | None, audience: str | None
    ) -> str:
        """Open a case for `user_chat`; returns the text to show the user."""
        app = _app(context)
        responder = context.bot_data.responder
        texts = responder.ui.counsel
        if self.settings.chat_id is None:
            return texts.unconfigured
        if not within_hours(self.settings.hours):
            return texts.unavailable.replace("{hours}", self.settings.hours)
        if user_chat in self.by_user:
            return texts.already_open
        ref = new_case_ref()
        while any(case.ref == ref for case in self.by_user.values()):
            ref = new_case_ref()
        title = topic_title(texts, ref, self._category_name(responder, category))
        try:
            topic = await context.bot.create_forum_topic(self.settings.chat_id, title)
        except TelegramError as error:
            logger.error("could not open a staff topic: %s", error)
            return texts.open_failed
        case = Case(ref, user_chat, topic.message_thread_id, category, audience)
        self.by_user[user_chat] = case
        self.by_thread[case.thread_id] = case
        names = responder.ui.audience_names
        who = getattr(names, audience) if audience else responder.ui.staff_audience_unknown
        note = self._staff_text(app, "staff_new_case", case).replace("{audience}", who)
        if not await self.to_topic(app, case, note):
            return texts.open_failed
        if app.job_queue is not None:
            app.job_queue.run_once(
                self._first_reply_due, self.settings.first_reply_minutes * 60,
                data=case, name=f"first-reply-{case.ref}",
            )
        await self.counts.add("case_opened")
        return texts.opening

    async def _first_reply_due(self, context: BotContext) -> None:
        case = context.job.data if context.job is not None else None
        if not isinstance(case, Case) or self.by_thread.get(case.thread_id) is not case:
            return
        if case.staff_replied:
            return
        app = _app(context)
        texts = app.bot_data.responder.ui.counsel
        if await self.to_user(app, case, tui.escape(texts.no_reply_yet)):
            await self.to_topic(app, case, self._staff_text(app, "staff_no_reply_note", case))

    # -- relaying ------------------------------------------------------------------------
    def media_label(self, app: BotApp, message: Message) -> str:
        texts = app.bot_data.responder.ui.counsel
        if message.sticker is not None:
            return texts.sticker
        if message.photo:
            return texts.photo
        return texts.other_media

    async def from_user(self, context: BotContext, case: Case, message: Message) -> None:
        """A user's message: triage first (urgent card to the user, topic marked), then relay."""
        app = _app(context)
        responder = context.bot_data.responder
        texts = responder.ui.counsel
        text = message.text or message.caption or ""
        reply = responder.respond(text, case.audience) if text.strip() else None
        if reply is not None and reply.urgent and not await self.to_user_reply(app, case, reply):
            return
        body = text if text.strip() else self.media_label(app, message)
        if text and (message.photo or message.sticker):
            body = f"{self.media_label(app, message)} {text}"
        if not await self.to_topic(app, case, f"{texts.staff_user_prefix} {body}"):
            return
        await self.counts.add("from_user")
        if reply is not None and reply.urgent:
            await self._mark_urgent(app, case, reply.category)

    async def _mark_urgent(self, app: BotApp, case: Case, category: str | None) -> None:
        if category and category in app.bot_data.responder.kb.danger.categories:
            case.category = category
        note = self._staff_text(app, "staff_urgent", case)
        await self.to_topic(app, case, note)
        if not case.urgent and self.settings.chat_id is not None:
            case.urgent = True
            texts = app.bot_data.responder.ui.counsel
            name = self._category_name(app.bot_data.responder, case.category)
            with contextlib.suppress(TelegramError):
                await app.bot.edit_forum_topic(
                    self.settings.chat_id, case.thread_id,
                    name=topic_title(texts, case.ref, name, urgent=True),
                )

    async def from_staff(self, context: BotContext, message: Message) -> None:
        """A staff message in the staff group: relayed when written in an open case's topic."""
        app = _app(context)
        texts = context.bot_data.responder.ui.counsel
        case = self._case_of(message)
        if case is None:
            if message.message_thread_id is not None and message.is_topic_message:
                await self._note(context, message, texts.staff_not_a_case)
            return
        if not message.text:
            await self._note(context, message, texts.staff_text_only)
            return
        if not await self.to_user(
            app, case, f"<b>{tui.escape(texts.staff_prefix)}</b>\n{tui.escape(message.text)}"
        ):
            return
        await self.counts.add("from_staff")
        if not case.staff_replied:
            case.staff_replied = True
            minutes = (time.monotonic() - case.opened) / 60
            await self.counts.add("first_reply", minutes)

    def _case_of(self, message: Message) -> Case | None:
        if not message.is_topic_message or message.message_thread_id is None:
            return None
        return self.by_thread.get(message.message_thread_id)

    async def _note(self, context: BotContext, message: Message, text: str) -> None:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(
                message.chat_id, tui.escape(text), message_thread_id=message.message_thread_id
            )

    # -- commands ------------------------------------------------------------------------
    async def staff_urgent(self, context: BotContext, message: Message) -> None:
        """/khancap in a case topic: the user receives the urgent card."""
        case = self._case_of(message)
        responder = context.bot_data.responder
        if case is None:
            await self._note(context, message, responder.ui.counsel.staff_not_a_case)
            return
        card = responder.urgent_card(case.category or "distress", case.audience)
        if await self.to_user_reply(_app(context), case, card):
            await self.to_topic(_app(context), case,
                                self._staff_text(_app(context), "staff_card_sent", case))

    async def staff_end(self, context: BotContext, message: Message) -> None:
        case = self._case_of(message)
        if case is None:
            texts = context.bot_data.responder.ui.counsel
            await self._note(context, message, texts.staff_not_a_case)
            return
        await self._end(_app(context), case, user_note="ended_by_staff",
                        staff_note="staff_closed")

    async def user_end(self, context: BotContext, user_chat: int, *, forgot: bool = False) -> bool:
        """/ketthuc (or /xoa) from the user; False when no case was open."""
        case = self.by_user.get(user_chat)
        if case is None:
            return False
        await self._end(_app(context), case,
                        staff_note="staff_user_forgot" if forgot else "staff_user_left")
        return True

    async def _end(
        self, app: BotApp, case: Case, *, user_note: str | None = None,
        staff_note: str | None = None, close: bool = True,
    ) -> None:
        """Forget the case first (so nothing is relayed twice), then tell each side, then
        close the topic. Every step tolerates the other side being gone."""
        if self.by_thread.get(case.thread_id) is not case:
            return
        del self.by_thread[case.thread_id]
        self.by_user.pop(case.user_chat, None)
        if app.job_queue is not None:
            for job in app.job_queue.get_jobs_by_name(f"first-reply-{case.ref}"):
                job.schedule_removal()
        texts = app.bot_data.responder.ui.counsel
        if user_note is not None:
            with contextlib.suppress(TelegramError):
                message = await app.bot.send_message(
                    case.user_chat, tui.escape(getattr(texts, user_note))
                )
                app.chat_data[case.user_chat].track(message.message_id)
        if self.settings.chat_id is None or not close:
            return
        if staff_note is not None:
            with contextlib.suppress(TelegramError):
                await app.bot.send_message(
                    self.settings.chat_id, tui.escape(self._staff_text(app, staff_note, case)),
                    message_thread_id=case.thread_id,
                )
        with contextlib.suppress(TelegramError):
            await app.bot.close_forum_topic(self.settings.chat_id, case.thread_id)
