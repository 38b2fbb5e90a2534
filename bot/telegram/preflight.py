"""Before `run` starts polling: one getMe, so an unreachable Telegram or a refused token ends
the process with a plain message instead of retrying forever."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.config import Settings

CONNECT_TIMEOUT = 10.0  # seconds for the one check; the running bot keeps the library defaults


async def _get_me(settings: Settings) -> None:
    assert settings.telegram_token is not None
    request = HTTPXRequest(connect_timeout=CONNECT_TIMEOUT, read_timeout=CONNECT_TIMEOUT)
    token = settings.telegram_token.get_secret_value()
    if settings.telegram.base_url:
        bot = Bot(token, base_url=settings.telegram.base_url, request=request)
    else:
        bot = Bot(token, request=request)
    try:
        await bot.get_me()
    finally:
        await request.shutdown()


def telegram_problem(settings: Settings) -> str | None:
    """None when Telegram answers getMe; otherwise what to tell the person starting the bot."""
    library_log = logging.getLogger("telegram")
    level = library_log.level
    library_log.setLevel(logging.CRITICAL + 1)  # the library's tracebacks: not for this check
    try:
        asyncio.run(_get_me(settings))
    except InvalidToken:
        if settings.telegram.base_url:  # a 401/404 may come from a server that is not Telegram's
            return (f"Máy chủ {settings.telegram.base_url} từ chối token: kiểm tra "
                    f"TELEGRAM_BOT_TOKEN, và telegram.base_url (TELEGRAM_BASE_URL) có đúng là "
                    f"địa chỉ Bot API không.")
        return ("Telegram từ chối token: kiểm tra TELEGRAM_BOT_TOKEN (chép lại nguyên token mà "
                "@BotFather đưa).")
    except NetworkError:  # TimedOut is a NetworkError
        where = settings.telegram.base_url or "https://api.telegram.org"
        return (f"Không kết nối được Telegram ({where}): kiểm tra mạng hoặc telegram.base_url "
                f"(TELEGRAM_BASE_URL).")
    except TelegramError as exc:
        return f"Telegram báo lỗi khi kiểm tra bot: {exc}"
    finally:
        library_log.setLevel(level)
    return None
