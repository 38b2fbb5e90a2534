"""Keeps the bot token out of every log line, whichever library writes it.

httpx logs each request URL (which carries the token) at INFO, and network errors can quote the
URL: the loggers are raised to WARNING and every record is masked as well.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

TOKEN_RE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{30,}")
MASK = "[TOKEN]"
_known_tokens: set[str] = set()


def mask_tokens(text: str) -> str:
    """Replace the bot token (and anything shaped like one) with [TOKEN]."""
    for token in _known_tokens:
        text = text.replace(token, MASK)
    return TOKEN_RE.sub(MASK, text)


class TokenFilter(logging.Filter):
    """Rewrites a record's message, traceback and stack so no token survives formatting."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def mask_record(record: logging.LogRecord) -> None:
    if getattr(record, "_token_masked", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not hide the record
        message = str(record.msg)
    record.msg, record.args = mask_tokens(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = TokenFilter._formatter.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_tokens(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_tokens(record.stack_info)
    record._token_masked = True


_factory_installed = False


def install_token_filter(token: str | None = None) -> None:
    """Mask tokens in every log record from now on, and in uncaught tracebacks.

    A record factory catches records of every logger, including handlers added later by other
    code; the handler filter covers records created before installation. httpx logs each
    request URL (which carries the token) at INFO, so it is raised to WARNING as well.
    """
    global _factory_installed
    if token:
        _known_tokens.add(token)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # PTB logs whole updates (names, ids, texts) and aiosqlite the rows it writes at DEBUG:
    # never below INFO, whatever the configured level.
    for name in ("telegram", "aiosqlite"):
        chatty = logging.getLogger(name)
        if chatty.level < logging.INFO:
            chatty.setLevel(logging.INFO)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, TokenFilter) for f in handler.filters):
            handler.addFilter(TokenFilter())
    if _factory_installed:
        return
    _factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        mask_record(record)
        return record

    logging.setLogRecordFactory(factory)

    def excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
        import traceback

        sys.stderr.write(mask_tokens("".join(traceback.format_exception(kind, value, tb))))

    sys.excepthook = excepthook


def setup_logging(level: str) -> None:
    """Plain stderr logging at `level` (kept when the host already configured handlers)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=getattr(logging, level, logging.INFO),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    else:
        logging.getLogger().setLevel(getattr(logging, level, logging.INFO))
