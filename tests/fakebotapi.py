"""A fake Telegram Bot API server on 127.0.0.1, spoken to over real HTTP.

The real `Application` (python-telegram-bot) is pointed at it through `base_url`, so tests and
the end-to-end bench exercise the library's HTTP layer, long polling, rate limiter and retries
exactly as against api.telegram.org. The server records every call, injects updates, and can
misbehave on demand: answer 429 with `retry_after`, drop connections, or answer 403 for a chat
that blocked the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 7000000001
# How long a spawned bot may take to start polling: a start with an empty weights store first
# fits every learned layer in a child process (~20-30 s on a busy 2-core machine). A wait, not
# a speed target: bench/triage_speed.py measures starts.
BOT_START_TIMEOUT = 180.0
BOT_USERNAME = "baove_tre_em_test_bot"


@dataclass
class Call:
    """One request the bot made: method name, decoded parameters, arrival time."""

    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Sent:
    """One message the bot sent (sendMessage / editMessageText)."""

    chat_id: int
    message_id: int
    text: str
    parse_mode: str | None
    reply_markup: dict | None
    at: float
    thread_id: int | None = None  # the forum topic it was sent to (message_thread_id)

    def buttons(self) -> list[dict]:
        """Inline buttons, flattened, in display order."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [b for row in self.reply_markup["inline_keyboard"] for b in row]

    def keyboard_labels(self) -> list[str]:
        """Reply-keyboard button labels, flattened."""
        if not self.reply_markup or "keyboard" not in self.reply_markup:
            return []
        return [
            b["text"] if isinstance(b, dict) else b
            for row in self.reply_markup["keyboard"]
            for b in row
        ]


def _decode(value: str) -> Any:
    """Form values are plain strings, or JSON for objects and arrays (PTB's encoding)."""
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class FakeBotAPI:
    """An aiohttp app answering the Bot API methods the bot uses."""

    def __init__(self, token: str = "123456789:TEST-token_abcdefghijklmnopqrstuvwxyz0123") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.sent: list[Sent] = []
        self.deleted: list[tuple[int, int]] = []
        self.callback_answers: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.inject_times: dict[int, float] = {}  # update_id -> monotonic time it became available
        self.blocked_chats: set[int] = set()
        self._confirmed = 0  # highest update_id the bot confirmed through `offset`
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._new_update = asyncio.Condition()
        self._changed = asyncio.Condition()
        self._fail_429: dict[str, int] = {}
        self._retry_after = 1
        self._drop: dict[str, int] = {}
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.webhook: dict[str, Any] | None = None
        self.token_seen_wrong = 0
        self.failing_chats: dict[int, tuple[int, str]] = {}  # chat -> (HTTP code, description)
        self.held_chats: set[int] = set()  # sendMessage there hangs, then fails: never delivered
        self.held = 0  # sendMessage calls hanging right now
        self.send_delay = 0.0  # seconds before answering sendMessage
        self.send_jitter = 0.0  # plus up to this many seconds, at random
        self.in_flight: dict[int, int] = defaultdict(int)  # sendMessage calls being answered
        self.max_in_flight = 0
        self.max_in_flight_per_chat = 0
        # Forum topics (staff supergroups): thread id -> {"chat_id", "name", "closed", "deleted"}
        self.topics: dict[int, dict[str, Any]] = {}
        self._thread_ids = itertools.count(101)

    # ---- lifecycle --------------------------------------------------------------------------
    async def start(self, port: int = 0) -> FakeBotAPI:
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        """The URL up to and including `/bot`, as `telegram.base_url` expects."""
        return f"http://127.0.0.1:{self.port}/bot"

    # ---- misbehaviour -----------------------------------------------------------------------
    def fail_with_429(self, count: int, retry_after: int = 1, method: str = "sendMessage") -> None:
        """Answer the next `count` calls of `method` with 429 Too Many Requests."""
        self._fail_429[method] = self._fail_429.get(method, 0) + count
        self._retry_after = retry_after

    def drop_connections(self, count: int, method: str = "sendMessage") -> None:
        """Close the connection without answering the next `count` calls of `method`."""
        self._drop[method] = self._drop.get(method, 0) + count

    # ---- update injection -------------------------------------------------------------------
    def _push(self, update: dict[str, Any]) -> dict[str, Any]:
        update["update_id"] = next(self._update_ids)
        self.updates.append(update)
        self.inject_times[update["update_id"]] = time.monotonic()
        asyncio.get_running_loop().create_task(self._notify(self._new_update))
        return update

    @staticmethod
    async def _notify(cond: asyncio.Condition) -> None:
        async with cond:
            cond.notify_all()

    def _chat(self, chat_id: int, chat_type: str) -> dict[str, Any]:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": "Lan"}
        if chat_type == "supergroup":
            return {"id": chat_id, "type": "supergroup", "title": "Tư vấn viên", "is_forum": True}
        return {"id": chat_id, "type": chat_type, "title": "Lớp 5A"}

    def message(
        self,
        chat_id: int,
        text: str | None = None,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        edited: bool = False,
        extra: dict[str, Any] | None = None,
        thread_id: int | None = None,
    ) -> dict[str, Any]:
        """Inject a message (or an edited message) from a user; returns the update.
        `thread_id`: written in that forum topic (the chat is then a forum supergroup)."""
        user_id = user_id if user_id is not None else abs(chat_id)
        msg: dict[str, Any] = {
            "message_id": next(self._message_ids[chat_id]),
            "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type),
            "from": {"id": user_id, "is_bot": False, "first_name": "Lan", "username": "lan_hs"},
        }
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                msg["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(command)}
                ]
            mention = f"@{BOT_USERNAME}"
            if mention in text and not text.startswith("/"):
                msg["entities"] = [
                    {"type": "mention", "offset": text.index(mention), "length": len(mention)}
                ]
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            msg["is_topic_message"] = True
        if extra:
            msg.update(extra)
        if edited:
            msg["edit_date"] = int(time.time())
            return self._push({"edited_message": msg})
        return self._push({"message": msg})

    def edit(self, original: dict[str, Any], new_text: str) -> dict[str, Any]:
        """Inject an edit of a message injected earlier."""
        msg = dict(original["message"])
        msg["text"] = new_text
        msg["edit_date"] = int(time.time())
        msg.pop("entities", None)
        return self._push({"edited_message": msg})

    def sticker(self, chat_id: int, **kwargs: Any) -> dict[str, Any]:
        sticker = {"file_id": "CAACAgIAAxk", "file_unique_id": "AgAD", "type": "regular",
                   "width": 512, "height": 512, "is_animated": False, "is_video": False}
        return self.message(chat_id, extra={"sticker": sticker}, **kwargs)

    def photo(self, chat_id: int, **kwargs: Any) -> dict[str, Any]:
        size = {"file_id": "AgACAgIAAxk", "file_unique_id": "AQAD", "width": 90, "height": 90}
        return self.message(chat_id, extra={"photo": [size]}, **kwargs)

    def voice(self, chat_id: int, **kwargs: Any) -> dict[str, Any]:
        voice = {"file_id": "AwACAgIAAxk", "file_unique_id": "AgADv", "duration": 3}
        return self.message(chat_id, extra={"voice": voice}, **kwargs)

    def document(self, chat_id: int, **kwargs: Any) -> dict[str, Any]:
        doc = {"file_id": "BQACAgIAAxk", "file_unique_id": "AgADd", "file_name": "a.pdf"}
        return self.message(chat_id, extra={"document": doc}, **kwargs)

    def press(
        self, sent: Sent, data: str, *, user_id: int | None = None, chat_type: str = "private"
    ) -> dict[str, Any]:
        """Inject a press of an inline button under a message the bot sent."""
        user_id = user_id if user_id is not None else abs(sent.chat_id)
        query = {
            "id": f"cq{next(self._update_ids)}",
            "chat_instance": "ci1",
            "data": data,
            "from": {"id": user_id, "is_bot": False, "first_name": "Lan"},
            "message": {
                "message_id": sent.message_id,
                "date": int(time.time()),
                "chat": self._chat(sent.chat_id, chat_type),
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"},
                "text": sent.text,
            },
        }
        return self._push({"callback_query": query})

    # ---- waiting ----------------------------------------------------------------------------
    async def wait_for(self, predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
        """Wait until `predicate()` is true; fail with a readable message after `timeout`."""
        async def waiter() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        try:
            await asyncio.wait_for(waiter(), timeout)
        except TimeoutError:
            sent = [(s.chat_id, s.text[:60]) for s in self.sent]
            raise AssertionError(f"condition not met in {timeout}s; sent={sent}") from None

    def sent_to(self, chat_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id]

    async def wait_sent(self, chat_id: int, count: int, timeout: float = 10.0) -> list[Sent]:
        """Wait until the bot has sent at least `count` messages to `chat_id`; return them."""
        await self.wait_for(lambda: len(self.sent_to(chat_id)) >= count, timeout)
        return self.sent_to(chat_id)

    async def settle(self, quiet: float = 0.3) -> None:
        """Wait until no call arrived for `quiet` seconds (getUpdates polls excluded)."""
        while True:
            last = max(
                (c.at for c in self.calls if c.method != "getUpdates"), default=0.0
            )
            if time.monotonic() - last >= quiet:
                return
            await asyncio.sleep(quiet / 3)

    @property
    def confirmed(self) -> int:
        """The highest update_id the bot has confirmed (asked for the updates after it)."""
        return self._confirmed

    def count(self, method: str) -> int:
        return sum(1 for c in self.calls if c.method == method)

    # ---- the HTTP handler -------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.read()
            return json.loads(body) if body else {}
        form = await request.post()
        return {k: _decode(v) if isinstance(v, str) else v for k, v in form.items()}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            self.token_seen_wrong += 1
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        params = await self._params(request)
        self.calls.append(Call(method, params))
        await self._notify(self._changed)

        if self._drop.get(method, 0) > 0:
            self._drop[method] -= 1
            assert request.transport is not None
            request.transport.abort()
            await self._notify(self._changed)
            raise asyncio.CancelledError
        if self._fail_429.get(method, 0) > 0:
            self._fail_429[method] -= 1
            await self._notify(self._changed)
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {self._retry_after}",
                    "parameters": {"retry_after": self._retry_after},
                },
                status=429,
            )

        handler = getattr(self, f"_m_{method}", None)
        try:
            result = await handler(params) if handler else True
        except _ApiError as exc:
            return web.json_response(
                {"ok": False, "error_code": exc.code, "description": exc.description},
                status=exc.code,
            )
        finally:
            await self._notify(self._changed)
        return web.json_response({"ok": True, "result": result})

    # ---- methods ----------------------------------------------------------------------------
    async def _m_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID, "is_bot": True, "first_name": "Bảo vệ trẻ em",
            "username": BOT_USERNAME, "can_join_groups": True,
            "can_read_all_group_messages": False, "supports_inline_queries": False,
        }

    async def _m_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset", 0) or 0)
        if offset and offset - 1 > self._confirmed:
            self._confirmed = offset - 1
            await self._notify(self._changed)
        limit = int(params.get("limit", 100) or 100)
        timeout = float(params.get("timeout", 0) or 0)

        def pending() -> list[dict[str, Any]]:
            return [u for u in self.updates if u["update_id"] > self._confirmed][:limit]

        if not pending() and timeout > 0:
            async with self._new_update:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._new_update.wait_for(lambda: bool(pending())), timeout
                    )
        return pending()

    def _message_result(
        self, chat_id: int, text: str, message_id: int, thread_id: int | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id, "private" if chat_id > 0 else "group"),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot"},
            "text": text,
        }
        if thread_id is not None:
            result["chat"] = self._chat(chat_id, "supergroup")
            result["message_thread_id"] = thread_id
            result["is_topic_message"] = True
        return result

    async def _m_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        if chat_id in self.blocked_chats:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.failing_chats:
            raise _ApiError(*self.failing_chats[chat_id])
        if chat_id in self.held_chats:
            self.held += 1  # a network swallowing the request: no answer while held
            try:
                while chat_id in self.held_chats:
                    await asyncio.sleep(0.02)
            finally:
                self.held -= 1
            raise _ApiError(502, "Bad Gateway: request held and dropped")
        if self.send_delay or self.send_jitter:
            self.in_flight[chat_id] += 1
            self.max_in_flight = max(self.max_in_flight, sum(self.in_flight.values()))
            self.max_in_flight_per_chat = max(self.max_in_flight_per_chat, self.in_flight[chat_id])
            try:
                await asyncio.sleep(self.send_delay + random.random() * self.send_jitter)
            finally:
                self.in_flight[chat_id] -= 1
        text = str(params.get("text", ""))
        if not text or len(text) > 4096:
            raise _ApiError(400, "Bad Request: message text is empty or too long")
        thread = params.get("message_thread_id")
        thread_id = int(thread) if thread not in (None, "") else None
        if thread_id is not None:
            topic = self.topics.get(thread_id)
            if topic is None or topic["deleted"] or topic["chat_id"] != chat_id:
                raise _ApiError(400, "Bad Request: message thread not found")
        mid = next(self._message_ids[chat_id])
        self.sent.append(
            Sent(chat_id, mid, text, params.get("parse_mode"), params.get("reply_markup"),
                 time.monotonic(), thread_id)
        )
        return self._message_result(chat_id, text, mid, thread_id)

    # ---- forum topics (a staff supergroup with topics on) ------------------------------------
    def delete_topic(self, thread_id: int) -> None:
        """Staff deleted the topic: sending into it now fails as Telegram's does."""
        self.topics[thread_id]["deleted"] = True

    def sent_to_topic(self, chat_id: int, thread_id: int) -> list[Sent]:
        return [s for s in self.sent if s.chat_id == chat_id and s.thread_id == thread_id]

    async def _m_createForumTopic(self, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params.get("name", ""))
        if not 1 <= len(name) <= 128:
            raise _ApiError(400, "Bad Request: topic name is invalid")
        thread_id = next(self._thread_ids)
        self.topics[thread_id] = {
            "chat_id": int(params["chat_id"]), "name": name, "closed": False, "deleted": False,
        }
        return {"message_thread_id": thread_id, "name": name, "icon_color": 7322096}

    def _topic(self, params: dict[str, Any]) -> dict[str, Any]:
        topic = self.topics.get(int(params["message_thread_id"]))
        if topic is None or topic["deleted"] or topic["chat_id"] != int(params["chat_id"]):
            raise _ApiError(400, "Bad Request: TOPIC_ID_INVALID")
        return topic

    async def _m_closeForumTopic(self, params: dict[str, Any]) -> bool:
        topic = self._topic(params)
        if topic["closed"]:
            raise _ApiError(400, "Bad Request: TOPIC_NOT_MODIFIED")
        topic["closed"] = True
        return True

    async def _m_editForumTopic(self, params: dict[str, Any]) -> bool:
        topic = self._topic(params)
        if params.get("name"):
            topic["name"] = str(params["name"])
        return True

    async def _m_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        mid = int(params["message_id"])
        text = str(params.get("text", ""))
        self.sent.append(
            Sent(chat_id, mid, text, params.get("parse_mode"), params.get("reply_markup"),
                 time.monotonic())
        )
        return self._message_result(chat_id, text, mid)

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        return self._message_result(chat_id, "", int(params["message_id"]))

    async def _m_deleteMessage(self, params: dict[str, Any]) -> bool:
        self.deleted.append((int(params["chat_id"]), int(params["message_id"])))
        return True

    async def _m_deleteMessages(self, params: dict[str, Any]) -> bool:
        ids = params["message_ids"]
        if len(ids) > 100:
            raise _ApiError(400, "Bad Request: too many message identifiers")
        self.deleted.extend((int(params["chat_id"]), int(m)) for m in ids)
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        self.callback_answers.append(params)
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = params
        return True

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
