"""The terminal channel: an interactive chat for people, and a JSON-lines interface for scripts."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import textwrap
import uuid
from dataclasses import dataclass, field
from typing import IO, Any

from bot.core import Conversation
from bot.desk import Desk, DeskMessage, Outbox
from bot.messages import DESK, Button, Incoming, Kind, Outgoing
from bot.storage import OutboxItem

CHANNEL = "terminal"
DEFAULT_USER = "local"
COUNSELLOR = "desk:"  # "user": "desk:Amal" acts as the counsellor Amal
ISOLATE, POP = "\u2068", "\u2069"  # keep RTL labels from swallowing the button numbers
NO_ISOLATES = str.maketrans("", "", "\u2066\u2067\u2068\u2069")
RTL_CHAR = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")


@dataclass
class Terminal:
    conversation: Conversation
    out: IO[str]
    language_hint: str | None = None
    reorder_rtl: bool = False
    buttons: dict[str, tuple[Button, ...]] = field(default_factory=dict)
    _session: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    _count: int = 0
    _relayed: list[Outgoing] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.desk = Desk(self.conversation)
        self.outbox = Outbox(self.conversation.store, (CHANNEL, DESK), self._collect)

    async def _collect(self, item: OutboxItem) -> bool:
        """The terminal 'sends' a relayed message by printing it after the replies of the line."""
        body = item.body
        text = body.get("text", "")
        if body.get("kind") and body.get("kind") != "text":  # a photo or voice message a terminal cannot show
            text = f"{text} [{body['kind']}]".strip()
        buttons = tuple(Button(label, payload) for label, payload in body.get("buttons", []))
        if item.channel == DESK:
            case = item.case_id if item.case_id is not None else int(item.recipient.split(":")[1])
            self._relayed.append(Outgoing(DESK, text, buttons, body.get("key"), case=case))
        else:
            self._relayed.append(Outgoing(item.recipient, text, buttons, body.get("key"), bool(body.get("rtl"))))
        return True

    async def relayed(self) -> list[Outgoing]:
        """What the outbox holds for the terminal and the desk now, in order."""
        await self.outbox.drain()
        found, self._relayed = self._relayed, []
        for reply in found:
            if reply.buttons:
                self.buttons[DESK if reply.recipient == DESK else reply.recipient] = reply.buttons
        return found

    async def counsellor(self, name: str, kind: Kind, *, text: str = "", payload: str | None = None,
                         case: int | None = None, message_id: str | None = None) -> list[Outgoing]:
        self._count += 1
        message = DeskMessage(name, message_id or f"{self._session}-{self._count}", case, kind, text, payload)
        return await self.desk.handle(message)

    async def send(self, user: str, kind: Kind, *, text: str = "", payload: str | None = None,
                   location: tuple[float, float] | None = None, message_id: str | None = None,
                   language: str | None = None) -> list[Outgoing]:
        self._count += 1
        incoming = Incoming(CHANNEL, user, message_id or f"{self._session}-{self._count}", kind, text, payload,
                            location, language or self.language_hint)
        replies = await self.conversation.handle(incoming)
        if replies:  # the buttons of the whole batch, numbered in order; a question without buttons clears them
            self.buttons[user] = tuple(button for reply in replies for button in reply.buttons)
        return replies

    def resolve(self, user: str, choice: str) -> str:
        """A button given by number, payload or label becomes its payload."""
        shown = self.buttons.get(user, ())
        if choice.isdigit() and 1 <= int(choice) <= len(shown):
            return shown[int(choice) - 1].payload
        folded = choice.strip().casefold()
        for button in shown:
            if choice == button.payload or folded == button.label.casefold():
                return button.payload
        return choice

    # JSON lines -------------------------------------------------------------------------

    async def run_json(self, lines: IO[str]) -> None:
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, lines.readline):
            if not line.strip():
                continue
            try:
                user, kind, fields = parse_json_line(line)
            except ValueError as exc:
                self._write({"error": str(exc)})
                continue
            if user.startswith(COUNSELLOR):
                replies = await self._as_counsellor(user[len(COUNSELLOR):], kind, fields)
            else:
                fields.pop("case", None)
                if kind is Kind.BUTTON:
                    fields["payload"] = self.resolve(user, fields["payload"])
                    if ":" not in fields["payload"] and fields["payload"] != "none":
                        # a label of a button this process never showed (e.g. after a restart): she typed it
                        kind, fields = Kind.TEXT, {key: value for key, value in fields.items() if key != "payload"}
                replies = await self.send(user, kind, **fields)
            for reply in [*replies, *await self.relayed()]:
                self._write(to_json(reply))

    async def _as_counsellor(self, name: str, kind: Kind, fields: dict[str, Any]) -> list[Outgoing]:
        fields.pop("language", None)
        fields.pop("location", None)
        if kind is Kind.BUTTON:
            fields["payload"] = self.resolve(DESK, fields["payload"])
        replies = await self.counsellor(name, kind, **fields)
        shown = tuple(button for reply in replies for button in reply.buttons)
        if shown:
            self.buttons[DESK] = shown
        return replies

    def _write(self, obj: dict[str, Any]) -> None:
        self.out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        self.out.flush()

    # Interactive ------------------------------------------------------------------------

    async def run_interactive(self, user: str = DEFAULT_USER) -> None:
        loop = asyncio.get_running_loop()
        self._show(await self.send(user, Kind.TEXT, text="/start"))
        while True:
            try:
                line = await loop.run_in_executor(None, input, self.prompt())
            except EOFError:
                break
            line = line.strip()
            if line in ("/quit", "/exit"):
                break
            payload = self.resolve(user, line) if line else line
            if payload != line or (line.isdigit() and self.buttons.get(user)):
                replies = await self.send(user, Kind.BUTTON, text=line, payload=payload)
            else:
                replies = await self.send(user, Kind.TEXT, text=line)
            self._show(replies + [reply for reply in await self.relayed() if reply.recipient == user])

    def prompt(self) -> str:
        """"> ", with how far the answers are while a first start builds the retrieval index in the background
        (until then the bot matches words only)."""
        status = self.conversation.content.retriever.status()
        if status.state == "embedding" and status.to_embed:
            filled = 10 * status.embedded // status.to_embed
            return f"[preparing answers {'#' * filled}{'.' * (10 - filled)} {100 * status.embedded // status.to_embed}%] > "
        if status.state in ("waiting", "training"):
            return "[preparing answers: almost ready] > "
        return "> "

    def _show(self, replies: list[Outgoing]) -> None:
        number = 0
        for reply in replies:
            if reply.action:  # e.g. clear-chat: a terminal has nothing to delete
                self.out.write(f"\n({reply.action})\n")
                continue
            self.out.write("\n" + self._visual(render_plain(reply.text)) + "\n")
            for button in reply.buttons:
                number += 1
                label = f"{ISOLATE}{button.label}{POP}" if RTL_CHAR.search(button.label) and not self.reorder_rtl else button.label
                self.out.write(f"  [{number}] {self._visual(label)}\n")
        self.out.flush()

    def _visual(self, text: str) -> str:
        """For terminals without bidi support (xterm, tmux, VS Code): reorder RTL lines for display."""
        if not self.reorder_rtl or not RTL_CHAR.search(text):
            return text
        from bidi import get_display

        width = max(20, shutil.get_terminal_size().columns - 4)
        plain = text.translate(NO_ISOLATES)  # the reordering below already does what isolates ask for
        lines = [wrapped for line in plain.split("\n") for wrapped in (textwrap.wrap(line, width) or [""])]
        return "\n".join(get_display(line, base_dir="R") for line in lines)


def parse_json_line(line: str) -> tuple[str, Kind, dict[str, Any]]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg} at column {exc.colno}); send one object per line, e.g. {{\"text\": \"hello\"}}") from None
    if not isinstance(data, dict):
        raise ValueError("each line must be a JSON object, e.g. {\"text\": \"hello\"}")
    user = data.get("user", DEFAULT_USER)
    if not isinstance(user, str) or not user.strip():
        raise ValueError("\"user\" must be a non-empty string")
    fields: dict[str, Any] = {}
    for name, target in (("id", "message_id"), ("lang", "language")):
        if name in data:
            if not isinstance(data[name], str):
                raise ValueError(f"\"{name}\" must be a string")
            fields[target] = data[name]
    if "case" in data:
        if not user.startswith(COUNSELLOR) or not isinstance(data["case"], int) or isinstance(data["case"], bool):
            raise ValueError("\"case\" (a case number) is for counsellor lines, e.g. {\"user\": \"desk:Amal\", \"case\": 3, \"text\": \"Hello\"}")
        fields["case"] = data["case"]
    if "text" in data:
        if not isinstance(data["text"], str):
            raise ValueError("\"text\" must be a string")
        return user, Kind.TEXT, {**fields, "text": data["text"]}
    if "button" in data:
        if not isinstance(data["button"], str):
            raise ValueError("\"button\" must be a string: a button's payload or label")
        return user, Kind.BUTTON, {**fields, "text": data["button"], "payload": data["button"]}
    if "location" in data:
        point = data["location"]
        if not (isinstance(point, list) and len(point) == 2 and all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
                and -90 <= point[0] <= 90 and -180 <= point[1] <= 180):
            raise ValueError("\"location\" must be [latitude, longitude], e.g. [51.05, 3.72]")
        return user, Kind.LOCATION, {**fields, "location": (float(point[0]), float(point[1]))}
    if data.get("kind") in {kind.value for kind in Kind} - {"text", "button", "location"}:
        return user, Kind(data["kind"]), fields
    raise ValueError("a line needs \"text\", \"button\" or \"location\"")


def to_json(reply: Outgoing) -> dict[str, Any]:
    line: dict[str, Any] = {
        "to": reply.recipient,
        "text": reply.text,
        "buttons": [{"label": button.label, "payload": button.payload} for button in reply.buttons],
        "key": reply.key,
    }
    if reply.recipient == DESK and reply.case is not None:
        line["case"] = reply.case
    return {**line, "action": reply.action} if reply.action else line


def render_plain(text: str) -> str:
    """Light Markdown for a terminal: bold and italic markers dropped."""
    return text.replace("**", "").replace("__", "")
