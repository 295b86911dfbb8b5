"""WhatsApp end to end: signed webhooks POSTed to `wegwijs serve` (the real aiohttp server, inbox, conversation,
outbox and Graph client) at a fixed rate, replies caught by the local fake Graph API (tests/helpers/fake_graph.py).

    .venv/bin/python bench/whatsapp_bench.py                    # 40/s then 80/s, 20 s each, in-process, SQLite
    .venv/bin/python bench/whatsapp_bench.py --separate         # fake Graph API + sender in their own process
    .venv/bin/python bench/whatsapp_bench.py --db postgresql://u:p@127.0.0.1/wegwijs --rates 40 80 120
    .venv/bin/python bench/whatsapp_bench.py --separate --profile   # cProfile of the bot process, top 15
    .venv/bin/python bench/whatsapp_bench.py --baseline http        # a bare server in the bot's place (see below)

Target (2 cores): sustain 80 messages/s (the Cloud API's default throughput per phone number), and p99 reply
latency <= 250 ms at 40 messages/s.

- Women: --women distinct wa_ids in the 11 languages, each onboarded first, untimed ("hello", then the language
  chosen with a list_reply "lang:xx"); one woman per language also sends a question, "thanks" and "menu" (the
  language models loaded, the short messages' evidence cached, as in a server that has been running).
- Timed phases, one per rate: open loop, each message POSTed at its scheduled time without waiting for the
  previous replies; each from a woman who has no message in flight (her previous one answered, and no message
  to her for --quiet seconds, so the tail of one reply is never taken for the first of the next). A share
  --questions of the messages are held-out questions of tests/data/eval in her language, numbered so that none
  is answered from the question cache (every one embedded: the worst case; --repeat sends them as written);
  the others "thanks" and "menu".
- Latency of a message: from just before its POST until the fake Graph API receives the first message to her
  wa_id after it. Reply rate: messages of the phase answered within its sending window, per second. Backlog:
  messages without a reply when the sending ends, and what is left after up to 10 s of drain. The sending
  stops after --seconds: when every woman has a message in flight (the bot far behind), later sends wait for
  one to be free, and what the phase could not send then is not sent ("sent" below "offered").
- Mode: in-process (default), the fake Graph API and the sender share the bot's process and event loop, so
  their CPU counts against the bot; --separate runs both in a forked process (its CPU is reported apart).
- Baselines (--baseline), what this machine and this harness can do without Wegwijs: "http" is a bare aiohttp
  server that checks the signature (the same pywa validator), parses the body and sends one text reply through a
  plain aiohttp client, nothing stored; "embed" does the same after embedding her text with the same model in one
  thread (a text it embedded before is not embedded again), as Wegwijs does for a question it has not seen. Compare them with the bot in one sitting.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import dataclasses
import io
import itertools
import json
import logging
import math
import multiprocessing
import os
import platform
import pstats
import queue
import random
import shlex
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.server import serve  # noqa: E402
from bot.config import Environment, load_config, normalise_database_url, sqlite_url  # noqa: E402
from bot.core.content import Content  # noqa: E402
from bot.core.conversation import Conversation  # noqa: E402
from bot.storage import Store  # noqa: E402
from tests.helpers import whatsapp as wa  # noqa: E402
from tests.helpers.fake_graph import FakeGraph  # noqa: E402

LANGUAGES = ["nl", "en", "fr", "ar", "tr", "fa", "ps", "ti", "so", "uk", "ru"]
SHORT = ["thanks", "menu"]
DRAIN = 10.0   # seconds to wait after a phase's last send for the replies still due
P99_TARGET_MS = 250.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def eval_questions() -> dict[str, list[str]]:
    """The held-out questions of tests/data/eval ({q, lang, entry} items), per language."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "tests" / "data" / "eval").glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            found.setdefault(item["lang"], []).append(item["q"])
    return found


class Recorder(FakeGraph):
    """The fake Graph API, telling the bench when each accepted message to a recipient arrived."""

    listener: Callable[[str, float], None] | None = None

    def _send(self, request, recorded):  # type: ignore[no-untyped-def]
        arrived = time.monotonic()
        before = len(self.sent)
        answer = super()._send(request, recorded)
        if len(self.sent) > before and self.listener is not None:  # a message (not a read receipt)
            self.listener(str(self.sent[-1].get("to")), arrived)
        return answer


@dataclasses.dataclass
class Message:
    woman: int
    phase: str
    sent: float = 0.0
    status: int | str | None = None
    replied: float | None = None


def percentile(values: list[float], share: float) -> float:
    """Nearest rank; values sorted, inf for messages never answered."""
    return values[max(0, math.ceil(share * len(values)) - 1)] if values else math.nan


class Driver:
    """The women: onboarding, then the timed phases; runs where the fake Graph API runs."""

    def __init__(self, graph: Recorder, url: str, args: argparse.Namespace) -> None:
        self.graph, self.url, self.args = graph, url, args
        self.rng = random.Random(args.seed)
        stamp = f"{int(time.time()) % 10**6:06d}"
        self.run_id = f"{time.time_ns():x}"
        self.women = [f"32{stamp}{i:04d}" for i in range(args.women)]  # new wa_ids every run (a reused PostgreSQL too)
        self.index = {wa_id: i for i, wa_id in enumerate(self.women)}
        self.language = [LANGUAGES[i % len(LANGUAGES)] for i in range(args.women)]
        self.questions = eval_questions()
        self.ids = itertools.count(1)
        self.in_flight: dict[int, Message] = {}       # woman -> her message without a first reply yet
        self.last_reply = [0.0] * args.women           # when the last message to her arrived
        self.settling: set[int] = set()                # answered, waiting for --quiet seconds without a message
        self.free: collections.deque[int] = collections.deque()
        self.waiters: dict[int, asyncio.Future[None]] = {}
        self.pooled = False                            # freed women go to self.free (the timed phases)
        self.tasks: set[asyncio.Task[None]] = set()
        graph.listener = self.on_message

    # Replies -------------------------------------------------------------------------------

    def on_message(self, to: str, arrived: float) -> None:
        woman = self.index.get(to)
        if woman is None:
            return
        self.last_reply[woman] = max(self.last_reply[woman], arrived)
        message = self.in_flight.pop(woman, None)
        if message is not None:
            message.replied = arrived
            self.settling.add(woman)

    async def settle(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            now = time.monotonic()
            for woman in [w for w in self.settling if now - self.last_reply[w] >= self.args.quiet]:
                self.settling.discard(woman)
                waiter = self.waiters.pop(woman, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
                if self.pooled:
                    self.free.append(woman)
            await asyncio.sleep(0.01)

    # Sending -------------------------------------------------------------------------------

    def question(self, woman: int) -> str:
        question = self.rng.choice(self.questions[self.language[woman]])
        return question if self.args.repeat else f"{question} {self.rng.randrange(100_000, 1_000_000)}"

    def next_text(self, woman: int) -> str:
        return self.question(woman) if self.rng.random() < self.args.questions else self.rng.choice(SHORT)

    def fire(self, woman: int, phase: str, body: dict[str, Any]) -> Message:
        raw = wa.encode(body)
        headers = wa.signed_headers(raw)
        message = Message(woman, phase)
        self.in_flight[woman] = message
        message.sent = time.monotonic()
        task = asyncio.create_task(self.post(message, raw, headers))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return message

    async def post(self, message: Message, raw: bytes, headers: dict[str, str]) -> None:
        try:
            async with self.http.post(f"{self.url}/whatsapp", data=raw, headers=headers) as response:
                await response.read()
                message.status = response.status
        except Exception as error:  # noqa: BLE001 - counted in the table
            message.status = type(error).__name__

    def wamid(self) -> str:
        return f"wamid.bench-{self.run_id}-{next(self.ids)}"

    # Onboarding (untimed) ------------------------------------------------------------------

    async def step(self, woman: int, body: dict[str, Any]) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self.waiters[woman] = waiter
        self.fire(woman, "onboarding", body)
        try:
            await asyncio.wait_for(waiter, 30)
        except TimeoutError:
            self.in_flight.pop(woman, None)
            self.waiters.pop(woman, None)
            raise SystemExit(f"onboarding: no reply to woman {woman} within 30 s")

    async def onboard(self, woman: int, slots: asyncio.Semaphore) -> None:
        wa_id, language = self.women[woman], self.language[woman]
        async with slots:
            await self.step(woman, wa.text("hello", wa_id=wa_id, wamid=self.wamid(), name="W"))
            await self.step(woman, wa.list_reply(f"lang:{language}", language, wa_id=wa_id, wamid=self.wamid(), name="W"))
            if woman < len(LANGUAGES):  # one question and the short messages in each language: the language models loaded
                for text in (self.question(woman), *SHORT):
                    await self.step(woman, wa.text(text, wa_id=wa_id, wamid=self.wamid(), name="W"))

    # Timed phases --------------------------------------------------------------------------

    async def phase(self, rate: float, seconds: float) -> dict[str, Any]:
        name = f"{rate:g}/s"
        count = max(1, round(rate * seconds))
        messages: list[Message] = []
        backlog_samples: list[int] = []
        cpu_start, start = time.process_time(), time.monotonic() + 0.05
        stop = start + seconds  # the sending ends then, whatever could not be sent (no woman free) is not sent
        postponed, worst_slip, next_sample = 0, 0.0, start + 1.0
        for number in range(count):
            due = start + number / rate
            if (delay := due - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            if not self.free:
                postponed += 1
                while not self.free and time.monotonic() < stop:
                    await asyncio.sleep(0.001)
                if not self.free:
                    break
            woman = self.free.popleft()
            body = wa.text(self.next_text(woman), wa_id=self.women[woman], wamid=self.wamid(), name="W")
            messages.append(self.fire(woman, name, body))
            worst_slip = max(worst_slip, time.monotonic() - due)
            if time.monotonic() >= next_sample:
                backlog_samples.append(sum(1 for m in messages if m.replied is None))
                next_sample += 1.0
        end = max(time.monotonic(), start + (len(messages) - 1) / rate)
        backlog_end = sum(1 for m in messages if m.replied is None)
        answered_in_window = sum(1 for m in messages if m.replied is not None and m.replied <= end)
        deadline = end + DRAIN
        while any(m.replied is None for m in messages) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        drained_at, cpu = time.monotonic(), time.process_time() - cpu_start
        while self.tasks and time.monotonic() < deadline + 5:  # the webhook responses
            await asyncio.sleep(0.01)
        while (self.settling or self.in_flight) and time.monotonic() < deadline + 5:  # every woman free again
            await asyncio.sleep(0.02)
        latencies = sorted((m.replied - m.sent) * 1000 if m.replied is not None else math.inf for m in messages)
        return {"phase": name, "rate": rate, "offered": count, "sent": len(messages), "window": end - start,
                "send_rate": len(messages) / max(end - start, 1e-9), "postponed": postponed, "slip_ms": worst_slip * 1000,
                "replied": sum(1 for m in messages if m.replied is not None), "reply_rate": answered_in_window / max(end - start, 1e-9),
                "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95), "p99": percentile(latencies, 0.99),
                "max": latencies[-1], "statuses": dict(collections.Counter(str(m.status) for m in messages)),
                "backlog_end": backlog_end, "backlog_left": sum(1 for m in messages if m.replied is None),
                "backlog_samples": backlog_samples, "start": start, "end": drained_at, "driver_cpu": cpu}

    async def run(self, on_timed: Callable[[bool], None]) -> dict[str, Any]:
        stop = asyncio.Event()
        settler = asyncio.create_task(self.settle(stop))
        async with aiohttp.ClientSession() as self.http:
            started = time.monotonic()
            slots = asyncio.Semaphore(self.args.onboard_concurrency)
            await asyncio.gather(*(self.onboard(w, slots) for w in range(self.args.women)))
            onboarding = time.monotonic() - started
            await asyncio.sleep(1.0)
            self.pooled = True
            self.free.extend(range(self.args.women))
            phases = []
            on_timed(True)
            for rate in self.args.rates:
                phases.append(await self.phase(rate, self.args.seconds))
                await asyncio.sleep(1.0)
            on_timed(False)
        stop.set()
        await settler
        return {"onboarding": onboarding, "phases": phases, "graph_messages": len(self.graph.sent),
                "refused": len(self.graph.refused)}


# CPU of the bot process, per thread -----------------------------------------------------------

def cpu_now() -> tuple[float, float, float]:
    """CPU seconds of the whole process, of its main thread (the event loop), and of the whole machine
    (all processes, and time stolen by the hypervisor)."""
    total, tick = time.process_time(), os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/self/task/{os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
        main = (int(fields[11]) + int(fields[12])) / tick
    except (OSError, IndexError, ValueError):
        main = math.nan
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        machine = sum(ticks[i] for i in (0, 1, 2, 5, 6, 7)) / tick  # user nice system irq softirq steal
    except (OSError, IndexError, ValueError):
        machine = math.nan
    return total, main, machine


async def sample_cpu(samples: list[tuple[float, ...]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        samples.append((time.monotonic(), *cpu_now()))
        await asyncio.sleep(0.2)


def cpu_between(samples: list[tuple[float, ...]], start: float, end: float) -> tuple[float, float, float]:
    """(% of one core for the process, for its main thread, for the whole machine) between two monotonic times."""
    inside = [s for s in samples if start <= s[0] <= end]
    if len(inside) < 2:
        return math.nan, math.nan, math.nan
    first, last = inside[0], inside[-1]
    span = last[0] - first[0]
    return tuple(100 * (b - a) / span for a, b in zip(first[1:], last[1:]))  # type: ignore[return-value]


# The fake Graph API and the sender in their own process (--separate) ---------------------------

def child(args: argparse.Namespace, port: int, outbox: Any, go: Any, timed: Any, closing: Any) -> None:
    async def main() -> None:
        async with Recorder() as graph:
            outbox.put(graph.base_url)
            await asyncio.get_running_loop().run_in_executor(None, go.wait)
            driver = Driver(graph, f"http://127.0.0.1:{port}", args)
            outbox.put(await driver.run(lambda on: timed.set() if on else timed.clear()))
            await asyncio.get_running_loop().run_in_executor(None, closing.wait, 60)  # open until the bot has stopped

    asyncio.run(main())


# The bot ----------------------------------------------------------------------------------------

async def bare_server(kind: str, base_url: str, port: int, stop: asyncio.Event, ready: asyncio.Event) -> None:
    """The baseline in the bot's place: signature, JSON, (embedding,) one reply; nothing stored, no conversation."""
    from concurrent.futures import ThreadPoolExecutor

    from aiohttp import ClientSession, web

    from bot.channels.whatsapp.webhook import signed
    from bot.knowledge.embedder import load_embedder

    embedder = load_embedder() if kind == "embed" else None
    thread = ThreadPoolExecutor(max_workers=1)  # one thread for the one engine, as Wegwijs does
    session = ClientSession(headers={"Authorization": f"Bearer {wa.TOKEN}"})
    tasks: set[asyncio.Task[None]] = set()

    seen: set[str] = set()  # like Wegwijs's evidence cache: "thanks" and "menu" are embedded once

    async def reply(to: str, text: str) -> None:
        if embedder is not None and text and text not in seen:
            await asyncio.get_running_loop().run_in_executor(thread, embedder.queries, [text])
            seen.add(text)
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": "text", "text": {"body": "ok"}}
        async with session.post(f"{base_url}/{wa.PHONE_ID}/messages", json=body) as response:
            await response.read()

    async def receive(request: web.Request) -> web.Response:
        raw = await request.read()
        if not signed(wa.APP_SECRET, raw, request.headers.get("X-Hub-Signature-256")):
            return web.Response(status=401)
        for entry in json.loads(raw).get("entry", []):
            for change in entry.get("changes", []):
                for message in change.get("value", {}).get("messages", []):
                    task = asyncio.create_task(reply(message["from"], message.get("text", {}).get("body", "")))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
        return web.Response(status=200)

    app = web.Application()
    app.router.add_post("/whatsapp", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    ready.set()
    await stop.wait()
    await runner.cleanup()
    await session.close()


async def bench(args: argparse.Namespace, db_url: str, port: int, separate: tuple[Any, ...] | None) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    graph: Recorder | None = None
    if separate is not None:
        process, outbox, go, timed, closing = separate
        base_url = await loop.run_in_executor(None, outbox.get, True, 60)
    else:
        graph = await Recorder().start()
        base_url = graph.base_url
    env = Environment(whatsapp_token=wa.TOKEN, whatsapp_app_secret=wa.APP_SECRET, whatsapp_verify_token=wa.VERIFY_TOKEN,
                      whatsapp_phone_number_id=wa.PHONE_ID, whatsapp_api_url=base_url)
    config = dataclasses.replace(load_config(ROOT / "config.yaml", env={}), env=env)
    content = Content.load(config)
    store = await Store.open(db_url)
    conversation = Conversation(store, content, config)
    stop, ready = asyncio.Event(), asyncio.Event()
    if args.baseline:
        server = asyncio.create_task(bare_server(args.baseline, base_url, port, stop, ready))
    else:
        server = asyncio.create_task(serve(conversation, config, port=port, stop=stop, ready=ready))
    await asyncio.wait_for(ready.wait(), 30)
    profile = cProfile.Profile() if args.profile else None
    samples: list[tuple[float, ...]] = []
    sampling = asyncio.Event()
    sampler = asyncio.create_task(sample_cpu(samples, sampling))

    def on_timed(on: bool) -> None:
        if profile is not None:
            profile.enable() if on else profile.disable()

    try:
        if separate is None:
            assert graph is not None
            result = await Driver(graph, f"http://127.0.0.1:{port}", args).run(on_timed)
        else:
            go.set()
            profiling, result = False, None
            while result is None:
                if timed.is_set() != profiling:
                    profiling = timed.is_set()
                    on_timed(profiling)
                try:
                    result = outbox.get_nowait()
                except queue.Empty:
                    if not process.is_alive():
                        raise SystemExit(f"the fake Graph API process ended (exit code {process.exitcode})") from None
                    await asyncio.sleep(0.02)
            on_timed(False)
    finally:
        sampling.set()
        await sampler
        stop.set()
        await asyncio.wait_for(server, 30)
        await store.close()
        if graph is not None:
            await graph.close()
        if separate is not None:
            closing.set()
    for phase in result["phases"]:
        phase["cpu"], phase["cpu_main"], machine = cpu_between(samples, phase["start"], phase["end"])
        driver = 100 * phase["driver_cpu"] / max(phase["end"] - phase["start"], 1e-9) if separate is not None else 0.0
        phase["others"] = machine - phase["cpu"] - driver  # other processes on the machine: the noise
    if profile is not None:
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats("cumulative").print_stats(15)
        text.write("# the same by own time (coroutines resumed count as calls, and their cumulative times overlap)\n")
        stats.sort_stats("tottime").print_stats(15)
        result["profile"] = text.getvalue()
    return result


def report(args: argparse.Namespace, result: dict[str, Any], database: str, load: tuple[float, float, float]) -> None:
    mode = ("separate: the fake Graph API and the webhook sender run in a forked process of their own; CPU below is the bot's alone"
            if args.separate else
            "in-process: the fake Graph API and the webhook sender share the bot's process and event loop; "
            "their CPU (not separable) counts against the bot and is included below")
    questions = (f"{args.questions:.0%} eval questions in her language" + (" as written (the question cache may answer)" if args.repeat
                 else " numbered (none from the question cache: all embedded)") + f", {1 - args.questions:.0%} {' / '.join(SHORT)}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the start"
          + (f", OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}" if "OMP_NUM_THREADS" in os.environ else ""))
    python = Path(sys.executable)
    python_shown = str(python.relative_to(ROOT)) if python.is_relative_to(ROOT) and Path.cwd() == ROOT else str(python)
    print(f"# command: {' '.join(shlex.quote(a) for a in [python_shown, *sys.argv])}")
    print(f"# mode: {mode}")
    if args.baseline:
        print(f"# BASELINE {args.baseline}: a bare aiohttp server in the bot's place (signature, JSON, "
              + ("the embedding, " if args.baseline == "embed" else "") + "one reply; no Wegwijs, nothing stored)")
    else:
        print(f"# database: {database}")
    print(f"# {args.women} women in {len(LANGUAGES)} languages, onboarded untimed in {result['onboarding']:.1f} s; "
          f"timed messages: {questions}; {args.seconds:g} s per phase, drain up to {DRAIN:g} s")
    header = (f"{'phase':<7}{'offered':>8}{'sent':>6}{'send/s':>8}{'replied':>8}{'reply/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
              f"{'max ms':>8}  {'webhook HTTP':<14}{'backlog end':>12}{'left':>6}{'bot CPU':>9}{'loop':>7}")
    print(header)

    def ms(value: float) -> str:
        return "  >drain" if math.isinf(value) else f"{value:8.1f}"

    for p in result["phases"]:
        statuses = ",".join(f"{k}x{v}" for k, v in sorted(p["statuses"].items()))
        cpu = "" if math.isnan(p["cpu"]) else f"{p['cpu']:8.0f}%"
        main = "" if math.isnan(p["cpu_main"]) else f"{p['cpu_main']:6.0f}%"
        print(f"{p['phase']:<7}{p['offered']:>8}{p['sent']:>6}{p['send_rate']:>8.1f}{p['replied']:>8}{p['reply_rate']:>8.1f}{ms(p['p50'])}{ms(p['p95'])}"
              f"{ms(p['p99'])}{ms(p['max'])}  {statuses:<14}{p['backlog_end']:>12}{p['backlog_left']:>6}{cpu:>9}{main:>7}")
    print("# send/s: webhooks POSTed per second (open loop); reply/s: messages of the phase whose first reply arrived "
          "within the sending window, per second; backlog end: messages without a reply when the sending ended, "
          "left: still none after the drain; bot CPU: % of one core of the bot's process (loop: its event-loop thread; "
          "the rest is the embedding and SQLite threads)")
    for p in result["phases"]:
        extra = f", {p['postponed']} sends waited for a free woman (all {args.women} had one in flight)" if p["postponed"] else ""
        driver = f"; fake + sender process CPU {100 * p['driver_cpu'] / max(p['end'] - p['start'], 1e-9):.0f}%" if args.separate else ""
        server = " (the PostgreSQL server among them)" if database.startswith("PostgreSQL") else ""
        others = "" if math.isnan(p["others"]) else f"; other processes on the machine{server} {max(p['others'], 0):.0f}% of one core"
        print(f"# {p['phase']}: backlog each second {p['backlog_samples']}; worst send slip {p['slip_ms']:.0f} ms{extra}{driver}{others}")
    if result["refused"]:
        print(f"# the fake Graph API refused {result['refused']} message bodies")
    noisy = [p for p in result["phases"] if not math.isnan(p["others"]) and p["others"] > 25]
    shares = ", ".join(f"{p['others']:.0f}%" for p in noisy)
    among = " - the PostgreSQL server counts there" if database.startswith("PostgreSQL") else ""
    disturbed = f" (disturbed: other processes used {shares} of a core{among})" if noisy else ""
    print(f"# verdict: {verdict(result['phases'])}{disturbed}")


def verdict(phases: list[dict[str, Any]]) -> str:
    parts = []
    all_ok = all(set(p["statuses"]) == {"200"} for p in phases)
    at40 = next((p for p in phases if p["rate"] == 40), None)
    at80 = next((p for p in phases if p["rate"] == 80), None)
    if at40 is not None:
        good = at40["p99"] <= P99_TARGET_MS
        parts.append(f"p99 at 40/s {at40['p99']:.0f} ms {'<=' if good else '>'} {P99_TARGET_MS:.0f} ms: {'met' if good else 'MISSED'}")
    if at80 is not None:
        sustained = (at80["send_rate"] >= 0.97 * 80 and at80["reply_rate"] >= 0.97 * 80 and at80["backlog_end"] <= 80
                     and at80["backlog_left"] == 0)
        parts.append(f"80/s {'sustained' if sustained else 'NOT sustained'} (replies {at80['reply_rate']:.1f}/s, "
                     f"backlog {at80['backlog_end']} at the end, {at80['backlog_left']} left; needs >= 77.6/s, <= 80, 0)")
    parts.append("every webhook 200" if all_ok else "NOT every webhook answered 200")
    return "; ".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=float, nargs="+", default=[40.0, 80.0], help="messages per second, one phase each (default 40 80)")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase (default 20)")
    parser.add_argument("--women", type=int, default=200, help="distinct wa_ids (default 200)")
    parser.add_argument("--questions", type=float, default=0.5, help="share of timed messages that are eval questions (default 0.5)")
    parser.add_argument("--repeat", action="store_true", help="send the questions as written (else numbered, none cached)")
    parser.add_argument("--quiet", type=float, default=0.3,
                        help="seconds without a message to her before a woman writes again (default 0.3)")
    parser.add_argument("--onboard-concurrency", type=int, default=40, help="women onboarded at the same time (default 40)")
    parser.add_argument("--db", help="SQLite file or PostgreSQL URL (default: a fresh temporary SQLite file)")
    parser.add_argument("--separate", action="store_true", help="run the fake Graph API and the sender in their own process")
    parser.add_argument("--profile", action="store_true", help="cProfile the bot process during the timed phases (top 15 cumulative)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", choices=["http", "embed"],
                        help="a bare server in the bot's place: the harness and HTTP alone, or with the embedding (see above)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    load = os.getloadavg()
    port = free_port()
    separate = None
    if args.separate:  # forked before the model and the database are loaded
        context = multiprocessing.get_context("fork")
        outbox, go, timed, closing = context.Queue(), context.Event(), context.Event(), context.Event()
        process = context.Process(target=child, args=(args, port, outbox, go, timed, closing), daemon=True)
        process.start()
        separate = (process, outbox, go, timed, closing)
    with tempfile.TemporaryDirectory() as folder:
        if args.db is None:
            db_url, database = sqlite_url(Path(folder) / "bench.db"), "SQLite (a fresh temporary file)"
        elif "://" in args.db:
            db_url = normalise_database_url(args.db)
            database = "PostgreSQL" if db_url.startswith("postgresql") else "SQLite"
            database += f" ({db_url.split('@')[-1]})"
        else:
            db_url, database = sqlite_url(Path(args.db).resolve()), f"SQLite ({args.db})"
        result = asyncio.run(bench(args, db_url, port, separate))
    if separate is not None:
        separate[0].join(10)
    report(args, result, database, load)
    if "profile" in result:
        print("# cProfile of the bot process during the timed phases" + (" (with the fake and the sender in it)" if not args.separate else ""))
        print(result["profile"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
