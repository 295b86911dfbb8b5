"""A local fake of the Telegram Bot API on 127.0.0.1: it records every method call, serves queued
updates to getUpdates, answers like Telegram does (messages, forum topics, copies), and can be told
to fail (403, 429, 400, 500, or a dropped connection)."""

from __future__ import annotations

import itertools
import json
import threading
from email.parser import BytesParser
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

TOKEN = "123456:TEST-token"
BOT = {"id": 1000, "is_bot": True, "first_name": "Wegwijs", "username": "wegwijs_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024  # the bot opens many connections at once; Python's default backlog is 5
    daemon_threads = True


class FakeTelegram:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.updates: list[dict[str, Any]] = []
        self.failures: dict[str, list[tuple[str | None, dict[str, Any]]]] = {}
        self.failed: set[int] = set()             # indexes in `calls` that got an error
        self.sent_at: dict[int, float] = {}       # message_id -> time sendMessage was called
        self.files: dict[str, bytes] = {}         # file_id -> bytes, served by getFile and /file/bot<token>/<path>
        self._ids = itertools.count(5000)
        self._topics = itertools.count(900)       # message_thread_id of the forum topics made
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.handle_error = lambda request, address: None  # a client gone mid-reply (shutdown) is no error here
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/bot"

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def push(self, *updates: dict[str, Any]) -> None:
        with self._lock:
            self.updates.extend(updates)

    def fail(self, method: str, *responses: dict[str, Any], chat_id: int | str | None = None) -> None:
        """The next calls of `method` (to `chat_id` only, when given) get these error bodies, e.g.
        {"error_code": 403, ...}; {"close": True} drops the connection without an answer."""
        with self._lock:
            self.failures.setdefault(method, []).extend((None if chat_id is None else str(chat_id), r) for r in responses)

    def called(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def succeeded(self, method: str) -> list[dict[str, Any]]:
        """The calls of `method` that Telegram took (not the ones told to fail)."""
        with self._lock:
            return [params for index, (name, params) in enumerate(self.calls) if name == method and index not in self.failed]

    def wait_for(self, method: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.called(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        seen = [name for name, _ in self.calls if name != "getUpdates"]
        raise AssertionError(f"expected {count} {method} call(s), got {len(self.called(method))}; calls: {seen}")

    # The Bot API ---------------------------------------------------------------------------

    def add_file(self, file_id: str, data: bytes) -> None:
        """A file a user sent (a counsellor's photo): getFile finds it, and its path downloads it."""
        self.files[file_id] = data

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """Status and body; None: drop the connection (a failure told to close it)."""
        with self._lock:
            self.calls.append((method, params))
            error = self._failure(method, params)
            if error is not None:
                self.failed.add(len(self.calls) - 1)
                if error.get("close"):
                    return None
                return error.get("error_code", 400), {"ok": False, **error}
        if method == "getMe":
            return 200, {"ok": True, "result": BOT}
        if method == "getUpdates":
            return 200, {"ok": True, "result": self._next_updates(params)}
        if method in ("sendMessage", "editMessageText"):
            message_id = int(params["message_id"]) if method == "editMessageText" and params.get("message_id") else next(self._ids)
            self.sent_at[message_id] = time.perf_counter()
            message = {"message_id": message_id, "date": int(time.time()), "chat": _chat(params["chat_id"]), "from": BOT,
                       "text": params.get("text", "")}
            if params.get("message_thread_id"):
                message.update(message_thread_id=int(params["message_thread_id"]), is_topic_message=True)
            return 200, {"ok": True, "result": message}
        if method == "createForumTopic":
            return 200, {"ok": True, "result": {"message_thread_id": next(self._topics), "name": params.get("name", ""), "icon_color": 7322096}}
        if method == "copyMessage":
            return 200, {"ok": True, "result": {"message_id": next(self._ids)}}
        if method == "getFile":
            file_id = str(params.get("file_id"))
            if file_id not in self.files:
                return 400, {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            return 200, {"ok": True, "result": {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(self.files[file_id]),
                                                "file_path": f"media/{file_id}"}}
        if method in ("sendPhoto", "sendVoice", "sendAudio", "sendDocument"):
            message = {"message_id": next(self._ids), "date": int(time.time()), "chat": _chat(params["chat_id"]), "from": BOT}
            if params.get("message_thread_id"):
                message.update(message_thread_id=int(params["message_thread_id"]), is_topic_message=True)
            return 200, {"ok": True, "result": message}
        return 200, {"ok": True, "result": True}

    def _failure(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        queued = self.failures.get(method, [])
        for index, (chat_id, error) in enumerate(queued):
            if chat_id is None or chat_id == str(params.get("chat_id")):
                return queued.pop(index)[1]
        return None

    def _next_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.2)
        while True:
            with self._lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                ready = self.updates[:int(params.get("limit") or 100)]
            if ready or time.monotonic() >= deadline:
                return ready
            time.sleep(0.01)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as Telegram's servers do
            disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                path = urlparse(self.path).path
                if path.startswith(f"/file/bot{TOKEN}/media/"):  # a file's download, as api.telegram.org/file/bot<token>/<path>
                    data = fake.files.get(path.rsplit("/", 1)[1])
                    self.send_response(200 if data is not None else 404)
                    self.send_header("Content-Length", str(len(data or b"")))
                    self.end_headers()
                    self.wfile.write(data or b"")
                    return
                if not path.startswith(f"/bot{TOKEN}/"):
                    self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                    return
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = raw if self.headers.get("Content-Type", "").startswith("multipart/") else raw.decode()
                answered = fake.answer(path.rsplit("/", 1)[1], parse_body(body, self.headers.get("Content-Type", "")))
                if answered is None:  # like a network failure: no answer at all
                    self.close_connection = True
                    return
                self._reply(*answered)

            do_GET = do_POST  # noqa: N815

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                write_json(self, status, payload)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _chat(chat_id: int | str) -> dict[str, Any]:
    if int(chat_id) > 0:
        return {"id": int(chat_id), "type": "private", "first_name": "A"}
    return {"id": int(chat_id), "type": "supergroup", "title": "Desk", "is_forum": True}


def write_json(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    """One JSON answer, its length given (keep-alive)."""
    data = json.dumps(payload).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def parse_body(body: str | bytes, content_type: str) -> dict[str, Any]:
    """JSON bodies, or form fields whose object/array values are JSON (as python-telegram-bot sends); an upload
    (multipart) gives its fields, and its file as bytes."""
    if not body:
        return {}
    if isinstance(body, bytes):
        message = BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        return {part.get_param("name", header="content-disposition"): part.get_payload(decode=True) if part.get_filename()
                else part.get_payload(decode=True).decode() for part in message.get_payload()}
    if content_type.startswith("application/json"):
        return json.loads(body)
    params: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        params[key] = json.loads(value) if value[:1] and value[:1] in "[{" else value  # "caption=" stays empty
    return params
