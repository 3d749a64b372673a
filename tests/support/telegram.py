"""A local Telegram Bot API (aiohttp, real sockets) and the users of a bot.

It speaks the subset the bot uses: getMe, long-poll getUpdates, sendMessage, sendPhoto and
sendDocument (multipart), getFile and the file download path, sendChatAction,
answerCallbackQuery, editMessageText/Caption/ReplyMarkup/Media, deleteMessage. Messages are
stored, so replies carry ``reply_to_message`` and button taps carry the message they are on,
as in Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from PIL import Image

from tests.support.server import LocalServer

BOT_ID = 7_000_000
ADMIN_ID = 900  # a chat in ADMIN_CHAT_IDS
USER_ID = 42  # an ordinary user
Json = dict[str, Any]


@dataclass
class Call:
    """One Bot API request the bot made, with its parsed parameters and result."""

    method: str
    params: Json
    files: dict[str, bytes] = field(default_factory=dict)
    result: Any = None
    at: float = field(default_factory=time.perf_counter)  # when the stub received it

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None


class FakeTelegram(LocalServer):
    """The Bot API server; ``start()`` it, point the bot at ``base``, then act as users.

    ``calls`` are the successful calls; ``requests`` every request (method and token), refused
    ones included. ``fail_methods`` answers a method with an error status for good; ``failures``
    answers the next that many requests, of any method, with ``fail_status``.
    """

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.bot_user: Json = {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "PixelPainter",
            "username": "pixelpainter_bot",
        }
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], Json] = {}
        self.files: dict[str, tuple[str, str, bytes]] = {}  # file_id -> (unique id, path, data)
        self._paths: dict[str, bytes] = {}
        self._updates: list[Json] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self.base = self.url  # TELEGRAM_API_BASE
        self.fail_methods: dict[str, int] = {}  # method -> HTTP status to answer with
        self.failures = 0
        self.fail_status = 500
        self.requests: list[dict[str, Any]] = []
        self._closing = False
        # Webhook mode: what setWebhook registered, and the replicas an HTTPS proxy at that URL
        # would spread updates over (round robin); empty: the URL itself is called.
        self.webhook: Json | None = None
        self.replicas: list[str] = []
        self.deliveries: list[tuple[str, int]] = []  # (address, HTTP status) of each answer
        self.routed: list[tuple[int, str]] = []  # (update_id, address) of each attempt
        self._delivering: set[asyncio.Task[None]] = set()
        self._next_replica = itertools.count()

    # ---- server ----
    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/bot{token}/{method}", self._api),
            web.get("/file/bot{token}/{path:.+}", self._download),
        ]

    async def start(self) -> FakeTelegram:
        self._closing = False
        return await super().start()

    async def stop(self) -> None:
        self._closing = True
        for task in list(self._delivering):
            task.cancel()
        async with self._changed:
            self._changed.notify_all()  # end pending long polls now
        await super().stop()

    close = stop

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.requests.append({"method": method, "token": request.match_info["token"]})
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params, files = await _read_params(request)
        if method in self.fail_methods:
            return _error(self.fail_methods[method], "Bad Request: stub failure")
        if self.failures > 0 and method != "getUpdates":
            self.failures -= 1
            return _error(self.fail_status, "Internal Server Error: stub failure")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        call = Call(method, params, files)
        try:
            result = (
                await handler(params, files) if method == "getUpdates" else handler(params, files)
            )
        except _ApiError as err:
            return _error(err.code, err.description)
        call.result = result
        if method != "getUpdates":
            self.calls.append(call)
            async with self._changed:
                self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        data = self._paths.get(request.match_info["path"])
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data)

    # ---- Bot API methods ----
    def _m_getMe(self, params: Json, files: dict[str, bytes]) -> Json:
        return self.bot_user

    def _m_deleteWebhook(self, params: Json, files: dict[str, bytes]) -> bool:
        self.webhook = None
        return True

    def _m_setWebhook(self, params: Json, files: dict[str, bytes]) -> bool:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    def _m_setMyCommands(self, params: Json, files: dict[str, bytes]) -> bool:
        return True

    async def _m_getUpdates(self, params: Json, files: dict[str, bytes]) -> list[Json]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or self._closing or time.monotonic() >= deadline:
                    limit = int(params.get("limit") or 100)
                    return self._updates[:limit]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())

    def _m_sendMessage(self, params: Json, files: dict[str, bytes]) -> Json:
        return self._bot_message(params, text=params["text"])

    def _m_sendPhoto(self, params: Json, files: dict[str, bytes]) -> Json:
        data = self._input_file(params, files, "photo")
        return self._bot_message(params, photo=self.photo_sizes(data))

    def _m_sendDocument(self, params: Json, files: dict[str, bytes]) -> Json:
        data = self._input_file(params, files, "document")
        name = files.get("__name__document", b"file").decode()
        return self._bot_message(params, document=self.document(data, name, "image/png"))

    def _m_sendChatAction(self, params: Json, files: dict[str, bytes]) -> bool:
        return True

    def _m_answerCallbackQuery(self, params: Json, files: dict[str, bytes]) -> bool:
        return True

    def _m_deleteMessage(self, params: Json, files: dict[str, bytes]) -> bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if self.messages.pop(key, None) is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    def _m_editMessageText(self, params: Json, files: dict[str, bytes]) -> Json:
        return self._edit(params, {"text": params.get("text")})

    def _m_editMessageCaption(self, params: Json, files: dict[str, bytes]) -> Json:
        return self._edit(params, {"caption": params.get("caption")})

    def _m_editMessageReplyMarkup(self, params: Json, files: dict[str, bytes]) -> Json:
        return self._edit(params, {})

    def _m_editMessageMedia(self, params: Json, files: dict[str, bytes]) -> Json:
        media = params["media"]
        attached = media["media"].removeprefix("attach://")
        data = files[attached] if attached in files else self.files[media["media"]][2]
        return self._edit(
            params, {"photo": self.photo_sizes(data), "caption": media.get("caption")}
        )

    def _m_getFile(self, params: Json, files: dict[str, bytes]) -> Json:
        file_id = params["file_id"]
        if file_id not in self.files:
            raise _ApiError(400, "Bad Request: invalid file_id")
        unique, path, data = self.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_size": len(data),
            "file_path": path,
        }

    # ---- helpers behind the methods ----
    def _input_file(self, params: Json, files: dict[str, bytes], name: str) -> bytes:
        if name in files:
            return files[name]
        value = str(params[name])
        if value.startswith("attach://"):
            return files[value.removeprefix("attach://")]
        return self.files[value][2]

    def _bot_message(self, params: Json, **content: Any) -> Json:
        chat_id = int(params["chat_id"])
        message: Json = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "from": self.bot_user,
            **content,
        }
        if params.get("caption"):
            message["caption"] = params["caption"]
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        reply = params.get("reply_parameters") or {}
        target = self.messages.get((chat_id, int(reply.get("message_id", 0))))
        if target is not None:
            message["reply_to_message"] = {
                k: v for k, v in target.items() if k != "reply_to_message"
            }
        elif reply and not reply.get("allow_sending_without_reply"):
            raise _ApiError(400, "Bad Request: message to be replied not found")
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _edit(self, params: Json, changes: Json) -> Json:
        key = (int(params["chat_id"]), int(params["message_id"]))
        message = self.messages.get(key)
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        before = json.dumps(message, sort_keys=True)
        for name, value in changes.items():
            if value is None:
                message.pop(name, None)
            else:
                message[name] = value
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        else:
            message.pop("reply_markup", None)
        if json.dumps(message, sort_keys=True) == before:
            raise _ApiError(400, "Bad Request: message is not modified")
        return message

    def add_file(self, data: bytes, kind: str, suffix: str) -> tuple[str, str]:
        """Store ``data`` as a Telegram file; its ``(file_id, file_unique_id)``."""
        n = len(self.files) + 1
        file_id, unique = f"{kind}-file-{n}-AgADBAAD", f"uniq{kind}{n}"
        path = f"{kind}s/file_{n}{suffix}"
        self.files[file_id] = (unique, path, data)
        self._paths[path] = data
        return file_id, unique

    def photo_sizes(self, data: bytes) -> list[Json]:
        """PhotoSize list for ``data``: a thumbnail entry and the full size (largest last)."""
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
        file_id, unique = self.add_file(data, "photo", ".jpg")
        thumb_id, thumb_unique = self.add_file(data, "photo", ".jpg")
        small = {"width": max(1, width // 4), "height": max(1, height // 4)}
        return [
            {"file_id": thumb_id, "file_unique_id": thumb_unique, "file_size": len(data), **small},
            {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_size": len(data),
                "width": width,
                "height": height,
            },
        ]

    def document(self, data: bytes, name: str, mime: str | None) -> Json:
        """A Document object for ``data``."""
        file_id, unique = self.add_file(data, "document", "." + name.rsplit(".", 1)[-1])
        doc: Json = {
            "file_id": file_id,
            "file_unique_id": unique,
            "file_name": name,
            "file_size": len(data),
        }
        if mime:
            doc["mime_type"] = mime
        return doc

    # ---- acting as users ----
    async def push_update(self, **payload: Any) -> int:
        """Queue an update for the bot's next getUpdates, or send it to the webhook when one is
        registered (in the background, as Telegram does); its update_id."""
        update_id = next(self._ids)
        if self.webhook is not None:
            target = self._next_target()
            self.routed.append((update_id, target))
            task = asyncio.create_task(self._deliver({"update_id": update_id, **payload}, target))
            self._delivering.add(task)
            task.add_done_callback(self._delivering.discard)
            return update_id
        async with self._changed:
            self._updates.append({"update_id": update_id, **payload})
            self._changed.notify_all()
        return update_id

    def _next_target(self) -> str:
        """The webhook URL, or the next replica behind the proxy (round robin)."""
        assert self.webhook is not None
        if not self.replicas:
            return self.webhook["url"]
        return self.replicas[next(self._next_replica) % len(self.replicas)]

    async def _deliver(self, update: Json, url: str, attempts: int = 200) -> None:
        """POST ``update`` until a replica answers 200, as Telegram retries its webhook: a
        replica not listening yet, or one that dies before answering, gets it sent elsewhere."""
        import aiohttp

        assert self.webhook is not None
        headers = {}
        if self.webhook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        async with aiohttp.ClientSession() as session:
            for _ in range(attempts):
                try:
                    async with session.post(url, json=update, headers=headers) as response:
                        self.deliveries.append((url, response.status))
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
                url = self._next_target()
                self.routed.append((update["update_id"], url))
        raise AssertionError(f"no replica took update {update['update_id']}")

    async def user_message(self, user_id: int, **content: Any) -> Json:
        """A message from ``user_id`` in their private chat with the bot."""
        user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
        message: Json = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": user["first_name"]},
            "from": user,
            **content,
        }
        self.messages[(user_id, message["message_id"])] = message
        await self.push_update(message=message)
        return message

    async def send_text(self, user_id: int, text: str) -> Json:
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        extra = {"entities": entities} if text.startswith("/") else {}
        return await self.user_message(user_id, text=text, **extra)

    async def send_photo(self, user_id: int, data: bytes, caption: str | None = None) -> Json:
        extra = {"caption": caption} if caption else {}
        return await self.user_message(user_id, photo=self.photo_sizes(data), **extra)

    async def send_document(
        self, user_id: int, data: bytes, name: str, mime: str | None, caption: str | None = None
    ) -> Json:
        extra = {"caption": caption} if caption else {}
        return await self.user_message(user_id, document=self.document(data, name, mime), **extra)

    async def tap(self, user_id: int, message: Json, data: str) -> str:
        """Tap the button with ``data`` under ``message`` (as it is stored now)."""
        current = self.messages[(message["chat"]["id"], message["message_id"])]
        query_id = f"q{next(self._ids)}"
        await self.push_update(
            callback_query={
                "id": query_id,
                "from": {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"},
                "chat_instance": "ci",
                "message": current,
                "data": data,
            }
        )
        return query_id

    # ---- waiting for the bot ----
    async def wait_for(
        self, predicate: Callable[[Call], bool], timeout: float = 20.0, count: int = 1
    ) -> list[Call]:
        """The first ``count`` calls matching ``predicate``, waiting for them if needed."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                found = [c for c in self.calls if predicate(c)]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(c.method, c.chat_id) for c in self.calls[-20:]]
                    raise AssertionError(f"bot did not make the expected call; last: {seen}")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), left)

    async def reply_to(self, message: Json, method: str, timeout: float = 20.0) -> Call:
        """The bot's ``method`` call that replies to ``message``."""
        calls = await self.wait_for(
            lambda c: (
                c.method == method
                and (c.params.get("reply_parameters") or {}).get("message_id")
                == message["message_id"]
            ),
            timeout,
        )
        return calls[0]

    def sent(self, chat_id: int, method: str | None = None) -> list[Call]:
        """Calls so far to ``chat_id`` (of ``method``)."""
        return [c for c in self.calls if c.chat_id == chat_id and method in (None, c.method)]

    def texts(self, chat_id: int) -> list[str]:
        """The texts of the messages sent to ``chat_id`` so far."""
        return [c.params["text"] for c in self.sent(chat_id, "sendMessage")]


class _ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _error(code: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": code, "description": description}, status=code
    )


async def _read_params(request: web.Request) -> tuple[Json, dict[str, bytes]]:
    """Form or JSON parameters (PTB sends JSON-encoded values as form fields) and files."""
    if request.content_type == "application/json":
        return await request.json(), {}
    params: Json = {}
    files: dict[str, bytes] = {}
    if request.content_type == "multipart/form-data":
        reader = await request.multipart()
        async for part in reader:
            if part.filename is not None:
                files[part.name] = await part.read()
                files[f"__name__{part.name}"] = part.filename.encode()
            else:
                params[part.name] = _decode(await part.text())
    else:
        for name, value in (await request.post()).items():
            params[name] = _decode(str(value))
    return params, files


def _decode(value: str) -> Any:
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
