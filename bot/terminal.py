"""The terminal chat: the same core as Telegram, typed at a prompt, with no token needed.

Suggestions are numbered so the user can pick one by typing its number; urgent replies are
marked. `/reload` re-reads the knowledge folder and keeps the old one when the new one fails.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TextIO

from bot.commands import parse_command
from bot.core.guided_report import GuidedReport, ReportMessage
from bot.core.knowledge import AUDIENCES, KnowledgeError
from bot.core.responder import Reply, Responder, Suggestion
from bot.services import Services
from bot.store import InteractionLog

TERMINAL_USER = 0  # one local user; the random per-run secret makes its key unlinkable


def render(reply: Reply, marker: str) -> tuple[str, list[Suggestion]]:
    """The reply as terminal text, and the suggestions in the order they are numbered."""
    lines: list[str] = []
    for index, part in enumerate(reply.parts):
        if reply.urgent and index == 0:
            lines.append(f"!!! {marker} !!!")
        lines.append(part)
        lines.append("")
    choices = list(reply.suggestions) + list(reply.related)
    for number, choice in enumerate(choices, start=1):
        lines.append(f"  [{number}] {choice.title}")
    return "\n".join(lines).rstrip(), choices


class TerminalChat:
    """One conversation at the prompt; holds the current responder and audience."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.audience: str | None = None
        self.choices: list[Suggestion] = []
        self.reports = GuidedReport()  # /baotin: the same core as on Telegram
        self.report_choices: list[tuple[str, str]] = []  # (step, code) by number

    @property
    def responder(self) -> Responder:
        return self.services.responder

    @property
    def log(self) -> InteractionLog | None:
        return self.services.log

    def handle(self, line: str) -> str | None:
        """Answer one typed line; None means the user wants to leave."""
        line = line.strip()
        ui = self.responder.ui
        action, rest = parse_command(line)
        if action == "exit":
            return None
        report = self._report(action, line)
        if report is not None:
            return report
        if line.isdigit() and 1 <= int(line) <= len(self.choices):
            reply = self.responder.answer_entry(self.choices[int(line) - 1].entry_id, self.audience)
            if reply is not None:
                return self._show(reply)
        if action == "hotline":
            return self.responder.hotline_card()
        if action == "help":
            return ui.help + "\n" + ui.terminal_hint
        if action == "privacy":
            return ui.privacy_for(self.services.settings.privacy.retention_days)
        if action == "start":
            return ui.start + "\n" + ui.terminal_hint
        if action == "role":
            if rest in AUDIENCES:
                self.audience = rest
                return getattr(ui.role_set, rest)
            return ui.role_question + "\n" + ui.terminal_hint
        if action == "topics":
            self.choices = []
            return ui.topics_intro + "\n" + "\n".join(f"- {t.label}" for t in ui.menu_topics)
        if action == "reload":
            return self.reload()
        reply = self.responder.respond(line, self.audience)
        if self.log is not None:
            self.log.record(TERMINAL_USER, self.audience, line, reply)
        return self._show(reply)

    def _report(self, action: str | None, line: str) -> str | None:
        """/baotin, /huy, /gapnguoi, and the answers of a report going on; else None."""
        now = time.monotonic()
        ui = self.responder.ui
        if action == "report":
            return self._show_report(self.reports.start(TERMINAL_USER, self.responder, now))
        if action == "cancel":
            return self._show_report(self.reports.cancel(TERMINAL_USER, self.responder))
        if action == "counsel":  # no staff line at the terminal
            return ui.counsel.unconfigured
        if action is not None or not self.reports.active(TERMINAL_USER, now):
            return None
        turn: list[ReportMessage] | None
        if line.isdigit() and 1 <= int(line) <= len(self.report_choices):
            step, code = self.report_choices[int(line) - 1]
            turn = self.reports.choose(
                TERMINAL_USER, self.responder, step, code, now, self.audience
            )
        else:
            turn = self.reports.type(TERMINAL_USER, self.responder, line, now, self.audience)
        return self._show_report(turn) if turn is not None else None

    def _show_report(self, messages: list[ReportMessage]) -> str:
        lines: list[str] = []
        self.report_choices = []
        for message in messages:
            if message.urgent is not None:
                lines.append(self._show(message.urgent))
            lines.append(message.text)
            for choice in message.choices:
                self.report_choices.append((message.step or "", choice.code))
                lines.append(f"  [{len(self.report_choices)}] {choice.label}")
        return "\n".join(lines)

    def _show(self, reply: Reply) -> str:
        text, self.choices = render(reply, self.responder.ui.urgent_marker)
        return text

    def reload(self) -> str:
        try:
            responder = self.services.reload()
        except KnowledgeError as exc:
            return self.responder.ui.reload_failed + "\n" + "\n".join(exc.issues)
        kb = responder.kb
        return responder.ui.reload_ok.format(
            entries=len(kb.entries), questions=kb.question_count
        )


async def run_chat(
    services: Services,
    *,
    read: Callable[[str], str] = input,
    out: TextIO = sys.stdout,
) -> None:
    """Run the prompt loop until /exit or end of input."""
    log = services.log
    if log is not None:
        await log.start()
    chat = TerminalChat(services)
    print(services.responder.ui.start, file=out)
    print(services.responder.ui.terminal_hint, file=out)
    ui = services.responder.ui
    loop = asyncio.get_running_loop()
    try:
        while True:
            try:
                line = await loop.run_in_executor(None, read, f"\n{ui.terminal_you}: ")
            except (EOFError, KeyboardInterrupt):
                break
            answer = chat.handle(line)
            if answer is None:
                break
            if answer:
                print(f"\n{ui.terminal_bot}: {answer}", file=out, flush=True)
    finally:
        if log is not None:
            await log.close()
