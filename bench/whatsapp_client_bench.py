"""CPU per Graph API call: pywa's async client (httpx) against a plain aiohttp POST, side by side in one run,
both to a local fake of POST /{phone-id}/messages. Run: .venv/bin/python bench/whatsapp_client_bench.py [N]

pywa pins https://graph.facebook.com; an httpx transport sends its requests to the fake instead."""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp
import httpx
from aiohttp import web

N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
REPLY = {"messaging_product": "whatsapp", "contacts": [{"input": "32470000000", "wa_id": "32470000000"}], "messages": [{"id": "wamid.x"}]}


class Redirect(httpx.AsyncBaseTransport):
    """Sends pywa's requests for graph.facebook.com to the local fake."""

    def __init__(self, base: str) -> None:
        self.base = httpx.URL(base)
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self.base.scheme, host=self.base.host, port=self.base.port)
        return await self.inner.handle_async_request(request)


async def main() -> None:
    async def messages(request: web.Request) -> web.Response:
        await request.read()
        return web.json_response(REPLY)

    app = web.Application()
    app.router.add_post("/{version}/{phone}/messages", messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}"

    from pywa_async import WhatsApp

    wa = WhatsApp(phone_id="123", token="t", session=httpx.AsyncClient(transport=Redirect(base)), api_version=21.0)
    session = aiohttp.ClientSession()
    body = {"messaging_product": "whatsapp", "to": "32470000000", "type": "text", "text": {"body": "Hallo", "preview_url": False}}

    async def pywa_call() -> None:
        await wa.send_message(to="32470000000", text="Hallo")

    async def aiohttp_call() -> None:
        async with session.post(f"{base}/v21.0/123/messages", json=body, headers={"Authorization": "Bearer t"}) as response:
            await response.json()

    results = {}
    for name, call in (("pywa (httpx)", pywa_call), ("aiohttp", aiohttp_call)) * 2:  # twice each, interleaved: the second counts
        await call()
        start_cpu, start = time.process_time(), time.perf_counter()
        for _ in range(N):
            await call()
        results[name] = ((time.process_time() - start_cpu) / N * 1e3, (time.perf_counter() - start) / N * 1e3)
    for name, (cpu, wall) in results.items():
        print(f"{name:14s} {cpu:.3f} ms CPU per call (both ends, one process), {wall:.3f} ms wall")
    print(f"ratio pywa/aiohttp CPU: {results['pywa (httpx)'][0] / results['aiohttp'][0]:.2f}")
    await session.close()
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
