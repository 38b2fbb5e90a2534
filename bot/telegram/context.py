"""Typed handler context (PTB's `ContextTypes`): what handlers share, with names, not string keys.

Per-user and per-chat state lives in memory only (no persistence), never in a file: the chosen
audience, and the ids of the messages `/xoa` deletes.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.config import Settings
from bot.core.guided_report import GuidedReport
from bot.core.knowledge import Audience
from bot.core.responder import Responder
from bot.store import InteractionLog

if TYPE_CHECKING:
    from bot.telegram.alerts import StaffAlerts
    from bot.telegram.counsel import CaseDesk

TRACKED_MESSAGES = 1000  # per private chat, for /xoa


class UserData:
    """One user's state: the audience they chose (child, parent, teacher), if any. (Whose
    answer a feedback button belongs to is in the log database, bot.store.)"""

    def __init__(self) -> None:
        self.audience: Audience | None = None


class ChatData:
    """One chat's state: (message id, time sent) of the messages `/xoa` may delete. (Which
    messages were alerted to staff is in the outbox, bot.telegram.outbox.)"""

    def __init__(self) -> None:
        self.message_ids: deque[tuple[int, float]] = deque(maxlen=TRACKED_MESSAGES)

    def track(self, message_id: int) -> None:
        self.message_ids.append((message_id, time.time()))


class BotData:
    """What every handler shares. `responder` is replaced whole on /reload (atomic swap).

    PTB creates this with no arguments; `build_application` fills it in before any update.
    """

    settings: Settings
    responder: Responder
    log: InteractionLog

    def __init__(self) -> None:
        self.admins: frozenset[int] = frozenset()
        self.alerts: StaffAlerts | None = None
        self.blocked_logged: set[int] = set()
        self.started = False
        self.kb_problems: list[str] = []  # why the bot started from the knowledge snapshot
        self.reports = GuidedReport()  # guided reports going on, per chat, in memory
        self.cases: CaseDesk | None = None  # the anonymous line to staff (bot.telegram.humanhelp)


class BotContext(CallbackContext[ExtBot[Any], UserData, ChatData, BotData]):
    """The context every handler receives: `context.bot_data` is a `BotData`."""

    @property
    def audience(self) -> Audience | None:
        return self.user_data.audience if self.user_data is not None else None


CONTEXT_TYPES = ContextTypes(
    context=BotContext, bot_data=BotData, chat_data=ChatData, user_data=UserData
)

BotApp = Application[
    ExtBot[Any], BotContext, UserData, ChatData, BotData, JobQueue[BotContext]
]
