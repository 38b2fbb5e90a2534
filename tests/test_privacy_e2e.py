"""The privacy set through the real bot and the fake Bot API: nothing of it is kept anywhere.

Every message of tests/data/privacy/dev.yaml is sent from its own chat; then every byte of the
database (with -wal and -shm), every log record at DEBUG, every staff alert and the staff report
are searched for any readable piece of the secrets.

Figures the bot writes itself are left out of the digit search, as they can spell a secret's
digits by chance: the report's per-day rows ("2026-12-03      0" reads 12030, a piece of the
ID number "0 0 1 2 0 3 0 1 5 6 7 8" on the day that row shows 0), and the update ids, timestamps
and timings in python-telegram-bot's and the event loop's DEBUG records (our own records are
searched at every level; the libraries' from INFO up, what a production log holds).
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import yaml
from conftest import ROOT, RunningBot

from bot.core.reportlabels import load_report_labels
from bot.privacy.audit import LeakAuditor
from bot.report import run_report

DEV_SET = yaml.safe_load((ROOT / "tests/data/privacy/dev.yaml").read_text(encoding="utf-8"))
FIRST_CHAT = 5_000_000
# A private staff chat: a group's 20-a-minute limit would make this test take minutes.
ALERT_CHAT_ID = 777


def _database_text(path: Path) -> str:
    parts = []
    for suffix in ("", "-wal", "-shm"):
        file = Path(f"{path}{suffix}")
        if file.exists():
            parts.append(file.read_bytes().decode("utf-8", errors="replace"))
    return "\n".join(parts)


_DAY_ROW = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s+\d+\s*$", re.MULTILINE)


def _bot_stamps(template: str) -> re.Pattern[str]:
    """The alert lines that hold the bot's own clock and case code ("Lúc: 09:00 07/12/2026"
    reads as the digits 090007122026, five of which may be a secret's): not the user's text."""
    prefixes = [line.split("{")[0] for line in template.splitlines()
                if "{time}" in line or "{ref}" in line]
    assert prefixes, "staff_alert lost its {time} and {ref} lines"
    return re.compile("^(?:" + "|".join(re.escape(p) for p in prefixes) + ").*$", re.MULTILINE)


def _logged(record: logging.LogRecord) -> bool:
    """Our records at every level, the libraries' from INFO up; not the job scheduler's, whose
    lines are job names and timestamps to the microsecond (a random 5 digits each run)."""
    top = record.name.split(".")[0]
    if top == "apscheduler":
        return False
    return record.levelno >= logging.INFO or top == "bot"


def _without_secrets(item: dict[str, list[str] | str]) -> str:
    text = str(item["text"])
    for secret in item["secrets"]:
        text = text.replace(secret, " ")
    return text


async def test_no_personal_data_in_database_log_alerts_or_report(start_bot, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG)
    bot: RunningBot = await start_bot(alerts={"chat_id": ALERT_CHAT_ID})
    for n, item in enumerate(DEV_SET):
        bot.api.message(FIRST_CHAT + n, item["text"])
    await bot.api.wait_for(
        lambda: all(bot.api.sent_to(FIRST_CHAT + n) for n in range(len(DEV_SET))), timeout=60
    )
    await bot.flush_log()
    urgent = sum(row["urgent"] for row in bot.db_rows())
    assert urgent > 20  # the set is full of disclosures: staff alerts are part of what is scanned
    await bot.api.wait_for(lambda: bot.state.alerts.pending == 0, timeout=60)
    await bot.api.settle()
    report = io.StringIO()
    assert run_report(Path(bot.settings.storage.database),
                      load_report_labels(bot.settings.knowledge.path), 7, out=report) == 0

    sources = {
        "database": _database_text(Path(bot.settings.storage.database)),
        "log": "\n".join(record.getMessage() for record in caplog.records if _logged(record)),
        "alerts": _bot_stamps(bot.state.responder.ui.staff_alert).sub(
            "", "\n".join(s.text for s in bot.api.sent_to(ALERT_CHAT_ID))
        ),
        "report": _DAY_ROW.sub("", report.getvalue()),
    }
    kb = bot.state.responder.kb
    from bot.privacy import Redactor

    auditor = LeakAuditor(Redactor(kb.privacy, kb.redaction_vocabulary()), kb.vocabulary())
    leaks = []
    for n, item in enumerate(DEV_SET):
        # A piece another message says openly ("em ở Đà Nẵng", where only the phone number is
        # secret) may be kept from that message: it does not leak this one's secret.
        said_openly = " ".join(_without_secrets(other) for m, other in enumerate(DEV_SET) if m != n)
        for secret in item["secrets"]:
            innocent = set(auditor.leaks(secret, said_openly, corpus=True))
            for where, text in sources.items():
                found = [p for p in auditor.leaks(secret, text, corpus=True) if p not in innocent]
                if found:
                    leaks.append((where, secret, found))
    assert len(bot.db_rows()) == len(DEV_SET)
    assert not leaks, leaks[:10]
