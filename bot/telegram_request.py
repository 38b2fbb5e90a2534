"""Bot API requests over aiohttp: python-telegram-bot's `BaseRequest`, with a cheaper pool.

python-telegram-bot talks HTTP through a replaceable `BaseRequest` (its default is httpx).
Under a burst, httpx's connection pool (httpcore) re-examines every connection, and for idle
ones every other connection, each time a request starts or ends: with 32 connections that
bookkeeping took 30-45% of the bot's CPU in `bench/e2e.py`. aiohttp's connector hands out a
free connection in constant time. Parameters go as one JSON body (the Bot API accepts JSON)
instead of a form with each value JSON-encoded; files, which the bot never sends, go as
multipart. Errors map to python-telegram-bot's own: `TimedOut` and `NetworkError`, which the
rate limiter retries. Like httpx at WARNING, aiohttp's client logs no URLs, so no token.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


def _tls_context() -> ssl.SSLContext:
    """Verify api.telegram.org with certifi's CA bundle when present (as httpx did), so a slim
    container without system certificates still connects; else the system's."""
    try:
        import certifi
    except ImportError:
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a pool of `connection_pool_size` keep-alive connections."""

    __slots__ = ("_connect_timeout", "_pool_size", "_pool_timeout", "_read_timeout", "_session")

    def __init__(
        self,
        connection_pool_size: int = 1,
        *,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = max(1, connection_pool_size)
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._pool_size, limit_per_host=0, ssl=_tls_context()
                ),
                headers={"User-Agent": self.USER_AGENT},
                raise_for_status=False,
                trust_env=True,  # HTTPS_PROXY / NO_PROXY, as httpx honoured them
            )

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    def _timeout(self, value: ODVInput[float], default: float | None) -> float | None:
        return default if isinstance(value, DefaultValue) else value

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; (HTTP status, body). aiohttp has no write timeout: unused."""
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = self._timeout(read_timeout, self._read_timeout)
        connect = self._timeout(connect_timeout, self._connect_timeout)
        pool = self._timeout(pool_timeout, self._pool_timeout)
        timeout = aiohttp.ClientTimeout(
            total=None,
            # aiohttp's `connect` covers waiting for a free connection plus connecting.
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        body: Any = None
        headers: dict[str, str] | None = None
        if request_data is not None:
            if request_data.contains_files:
                form = aiohttp.FormData()
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, part in request_data.multipart_data.items():
                    mimetype = part[2] if len(part) > 2 else None
                    form.add_field(name, part[1], filename=part[0], content_type=mimetype)
                body = form
            elif request_data.parameters:
                body = json.dumps(request_data.parameters, ensure_ascii=False).encode("utf-8")
                headers = {"Content-Type": "application/json"}
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
