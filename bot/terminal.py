"""The terminal chat: the same core as Telegram, typed at a prompt, with no token needed.

Suggestions are numbered so the user can pick one by typing its number; urgent replies are
marked. `/reload` re-reads the knowledge folder and keeps the old one when the new one fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
import unicodedata
from collections.abc import Callable
from typing import Literal, TextIO

from bot.commands import parse_command
from bot.core.guided_report import GuidedReport, ReportMessage
from bot.core.knowledge import AUDIENCES, KnowledgeError
from bot.core.responder import Reply, Responder, Suggestion
from bot.core.templates import fill
from bot.services import Services
from bot.store import InteractionLog

READER_THREAD = "terminal-input"
TERMINAL_USER = 0  # one local user; the random per-run secret makes its key unlinkable
# The check tier's button as a numbered choice: no entry id starts with "!" (ids are slugs).
CHECK_CHOICE = "!check:"


def render(reply: Reply, marker: str) -> tuple[str, list[Suggestion]]:
    """The reply as terminal text, and the suggestions in the order they are numbered."""
    lines: list[str] = []
    for index, part in enumerate(reply.parts):
        if reply.urgent and index == 0:
            lines.append(f"!!! {marker} !!!")
        lines.append(part)
        lines.append("")
    choices = list(reply.suggestions) + list(reply.related)
    if reply.check_button is not None:  # "Em đang gặp nguy hiểm" first, as on Telegram
        button = reply.check_button
        choices.insert(0, Suggestion(CHECK_CHOICE + button.category, button.label))
    for number, choice in enumerate(choices, start=1):
        lines.append(f"  [{number}] {choice.title}")
    return "\n".join(lines).rstrip(), choices


def _folded(text: str) -> str:
    """Lower case without diacritics, so "phu huynh" finds "phụ huynh"."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


class TerminalChat:
    """One conversation at the prompt; holds the current responder, audience and the numbered
    list on screen (suggestions, roles or topics) that a typed number picks from."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.audience: str | None = None
        self.choices: list[Suggestion] = []
        self.reports = GuidedReport()  # /baotin: the same core as on Telegram
        self.report_choices: list[tuple[str, str]] = []  # (step, code) by number
        self.menu: Literal["entries", "roles", "topics"] = "entries"

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
        if line.isdigit() and self._listed():
            return self._pick(int(line))
        if action == "hotline":
            return self.responder.hotline_card()
        if action == "help":
            return ui.help + "\n" + ui.terminal.hint
        if action == "privacy":
            return ui.privacy_for(self.services.settings.privacy.retention_days)
        if action == "start":
            return ui.start + "\n" + ui.terminal.hint
        if action == "role":
            return self._role(rest)
        if action == "topics":
            return self._topics()
        if action == "reload":
            return self.reload()
        if action in ("forget", "stats"):  # /xoa is async (see run_chat); /stats is staff-only
            return ui.terminal.hint
        reply = self.responder.respond(line, self.audience)
        if self.log is not None:
            self.log.record(TERMINAL_USER, self.audience, line, reply, self.responder.redactor)
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

    def _listed(self) -> int:
        """How many numbered choices are on screen."""
        if self.menu == "roles":
            return len(AUDIENCES)
        if self.menu == "topics":
            return len(self.responder.ui.menu_topics)
        return len(self.choices)

    def _pick(self, number: int) -> str:
        """The numbered choice; a number off the list says so and keeps the list."""
        ui = self.responder.ui
        count = self._listed()
        if not 1 <= number <= count:
            return fill(ui.terminal.wrong_number, number=number, count=count)
        if self.menu == "roles":
            return self._set_role(AUDIENCES[number - 1])
        if self.menu == "topics":
            topic = ui.menu_topics[number - 1]
            self.menu, self.choices = "entries", self.responder.topic_entries(topic.tag)
            if not self.choices:
                return ui.topic_empty
            lines = [f"  [{n}] {c.title}" for n, c in enumerate(self.choices, start=1)]
            return "\n".join([topic.label + ":", *lines])
        picked = self.choices[number - 1]
        if picked.entry_id.startswith(CHECK_CHOICE):  # the check tier's "I am in danger"
            card = self.responder.urgent_card(picked.entry_id[len(CHECK_CHOICE):], self.audience)
            if self.log is not None:
                self.log.record(TERMINAL_USER, self.audience, picked.title, card,
                                self.responder.redactor)
            return self._show(card)
        reply = self.responder.answer_entry(picked.entry_id, self.audience)
        if reply is None:  # the entry went away in a reload
            return fill(ui.terminal.wrong_number, number=number, count=count)
        return self._show(reply)

    def _role(self, choice: str) -> str:
        ui = self.responder.ui
        if not choice:
            self.menu = "roles"
            names = [getattr(ui.role_buttons, audience) for audience in AUDIENCES]
            lines = [f"  [{n}] {name}" for n, name in enumerate(names, start=1)]
            return "\n".join([ui.terminal.role_question, *lines])
        wanted = _folded(choice)
        for number, audience in enumerate(AUDIENCES, start=1):
            labels = (audience, str(number), getattr(ui.audience_names, audience),
                      getattr(ui.role_buttons, audience))
            if wanted in {_folded(label) for label in labels}:
                return self._set_role(audience)
        return fill(ui.terminal.role_unknown, choice=choice)

    def _set_role(self, audience: str) -> str:
        """Like Telegram, the thanks comes with the topic menu (typed numbers here)."""
        self.audience = audience
        return str(getattr(self.responder.ui.role_set, audience)) + "\n\n" + self._topics()

    def _topics(self) -> str:
        ui = self.responder.ui
        self.menu, self.choices = "topics", []
        topics = ui.menu_topics
        lines = [f"  [{n}] {topic.label}" for n, topic in enumerate(topics, start=1)]
        return "\n".join([ui.topics_intro, *lines, ui.terminal.topic_choices])

    async def forget(self) -> str:
        """/xoa: forget this session's audience, list and logged rows; say what was done."""
        self.audience, self.choices, self.menu = None, [], "entries"
        texts = self.responder.ui.terminal
        if self.log is None:
            return texts.xoa_no_log
        rows = await self.log.forget(TERMINAL_USER)
        return fill(texts.xoa_done, rows=rows)

    def _show(self, reply: Reply) -> str:
        text, self.choices = render(reply, self.responder.ui.urgent_marker)
        self.menu = "entries"
        return text

    def reload(self) -> str:
        try:
            responder = self.services.reload()
        except KnowledgeError as exc:
            return self.responder.ui.reload_failed + "\n" + "\n".join(exc.issues)
        kb = responder.kb
        return fill(responder.ui.reload_ok, entries=len(kb.entries), questions=kb.question_count)


def exit_past_a_blocked_reader(code: int) -> None:
    """After Ctrl-C, the reader thread may still sit in input() holding stdin's lock; Python's
    shutdown would then abort ("could not acquire lock for <stdin>"). The chat has said goodbye
    and closed its log, so leave at once."""
    if any(thread.name == READER_THREAD for thread in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


async def _read_line(read: Callable[[str], str], prompt: str) -> str:
    """`read` in a daemon thread: the log writer keeps running meanwhile, and a Ctrl-C that
    cancels the chat does not leave a thread blocked in input() that the exit would wait for."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def settle(result: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result or "")

    def work() -> None:
        line: str | None = None
        error: BaseException | None = None
        try:
            line = read(prompt)
        except BaseException as exc:  # EOFError, KeyboardInterrupt: handed to the loop
            error = exc
        with contextlib.suppress(RuntimeError):  # the chat already ended: the loop is closed
            loop.call_soon_threadsafe(settle, line, error)

    threading.Thread(target=work, name=READER_THREAD, daemon=True).start()
    return await future


async def run_chat(
    services: Services,
    *,
    read: Callable[[str], str] = input,
    out: TextIO = sys.stdout,
    ignore_ctrl_c_when_leaving: bool = False,
) -> None:
    """Run the prompt loop until /exit, end of input or Ctrl-C; always says goodbye.

    `ignore_ctrl_c_when_leaving` (the `chat` command, in the main thread): once leaving, further
    Ctrl-C presses are ignored, so the goodbye and the log's last write finish."""
    log = services.log
    if log is not None:
        await log.start()
    chat = TerminalChat(services)
    ui = services.responder.ui
    print(ui.start, file=out)
    print(ui.terminal.hint, file=out)
    if log is not None:
        print(fill(ui.terminal.log_where, path=services.settings.storage.database), file=out)
    try:
        while True:
            try:
                line = await _read_line(read, f"\n{ui.terminal.you}: ")
            except (EOFError, KeyboardInterrupt):
                break
            if parse_command(line.strip())[0] == "forget":
                answer: str | None = await chat.forget()
            else:
                answer = chat.handle(line)
            if answer is None:
                break
            if answer:
                print(f"\n{ui.terminal.bot}: {answer}", file=out, flush=True)
    finally:
        if ignore_ctrl_c_when_leaving:  # a second Ctrl-C must not cut the log's last write
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("\n" + chat.responder.ui.terminal.goodbye, file=out, flush=True)
        if log is not None:
            await log.close()
