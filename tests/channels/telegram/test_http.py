"""The aiohttp network layer under python-telegram-bot: calls, uploads, timeouts and network errors."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram.http import AiohttpRequest
from tests.helpers.fake_telegram import BOT, TOKEN, FakeTelegram, write_json


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, delay: threading.Event | None = None) -> None:
        self.bodies: list[tuple[str, bytes]] = []
        self.delay = delay
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path.endswith("/getMe"):
                    write_json(self, 200, {"ok": True, "result": BOT})
                    return
                server.bodies.append((self.headers["Content-Type"], body))
                if server.delay is not None:
                    server.delay.wait(5)
                write_json(self, 200, {"ok": True, "result": {"message_id": 7, "date": 0, "chat": {"id": 5, "type": "private"}}})

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}/bot"


async def test_bot_calls_go_through_aiohttp_with_form_fields() -> None:
    with FakeTelegram() as fake:
        async with Bot(TOKEN, base_url=fake.api_url, request=AiohttpRequest()) as bot:
            sent = await bot.send_message(chat_id=42, text="hé <b>", parse_mode="HTML", reply_markup=None)
        assert sent.message_id >= 5000
        assert fake.called("sendMessage") == [{"chat_id": "42", "text": "hé <b>", "parse_mode": "HTML"}]


async def test_a_file_is_uploaded_as_multipart() -> None:
    server = _Recorder()
    try:
        async with Bot(TOKEN, base_url=server.url, request=AiohttpRequest()) as bot:
            await bot.send_document(chat_id=5, document=InputFile(b"%PDF-1.4 bytes", filename="letter.pdf"), caption="Brief")
        content_type, body = server.bodies[-1]
        assert content_type.startswith("multipart/form-data")
        assert b"%PDF-1.4 bytes" in body and b'filename="letter.pdf"' in body and b"Brief" in body
    finally:
        server.shutdown()
        server.server_close()


async def test_a_silent_server_raises_timed_out() -> None:
    release = threading.Event()
    server = _Recorder(delay=release)
    try:
        async with Bot(TOKEN, base_url=server.url, request=AiohttpRequest(read_timeout=0.2)) as bot:
            with pytest.raises(TimedOut):
                await bot.send_message(chat_id=5, text="hello")
    finally:
        release.set()
        server.shutdown()
        server.server_close()


async def test_a_closed_port_raises_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="aiohttp"):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()


async def test_requests_before_initialize_are_refused() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:1/", "POST")
