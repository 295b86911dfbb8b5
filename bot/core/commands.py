"""Her commands (/start, /menu, /help, /language, /human, /bot, /cancel, /clear, /forget, also as menu
buttons) and her answer when the bot asks her to confirm /clear or /forget."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.core import flowrun, handoff, menus
from bot.core.turn import Turn
from bot.messages import Outgoing

PENDING = "pending"
CLEAR_CHAT = "clear-chat"
CLEARABLE_CHANNELS = frozenset({"telegram"})  # channels whose app lets the bot delete a chat's messages
CLEAR_STEPS = {"whatsapp": "clear-whatsapp"}   # ... and where she can clear the chat herself: how, step by step


async def commands(turn: Turn) -> bool:
    name = command_of(turn)
    if name is None:
        return False
    handler = COMMANDS.get(name)
    if handler is None:
        turn.say("unknown-command", turn.button("button-menu", menus.MENU))
    else:
        await handler(turn)
    return True


async def pending(turn: Turn) -> bool:
    """Answers to a question the bot asked (for now: confirm /forget)."""
    waiting = turn.state.pop(PENDING, None)
    if waiting is not None and command_of(turn) == "cancel":
        turn.say("cancelled")
        menus.main_menu(turn)
        return True
    if waiting == "clear" and turn.incoming.payload in ("clear:yes", "clear:no"):
        if turn.incoming.payload == "clear:yes":
            turn.replies.append(Outgoing(turn.incoming.user, "", key=CLEAR_CHAT, action=CLEAR_CHAT))
        else:
            turn.say("clear-kept", turn.button("button-menu", menus.MENU))
        return True
    if waiting != "forget" or turn.incoming.payload not in ("forget:yes", "forget:no"):
        return False
    if turn.incoming.payload == "forget:yes":
        turn.say("forget-done")
        await handoff.forgotten(turn)
        await turn.session.forget()
    else:
        turn.say("forget-kept", turn.button("button-menu", menus.MENU))
    return True


def command_of(turn: Turn) -> str | None:
    payload = turn.incoming.payload or ""
    if payload.startswith("cmd:"):
        return payload[4:]
    if turn.text.startswith("/") and turn.incoming.payload is None:
        return turn.text[1:].split(maxsplit=1)[0].split("@")[0].lower() if len(turn.text) > 1 else ""
    return None


async def _start(turn: Turn) -> None:
    menus.main_menu(turn, "welcome-back")


async def _menu(turn: Turn) -> None:
    flowrun.pause(turn)  # the main menu then offers to continue
    menus.main_menu(turn)


async def _help(turn: Turn) -> None:
    if turn.incoming.channel in CLEARABLE_CHANNELS:  # /clear (this phone) next to /forget (our records)
        turn.say("help", days=turn.settings.retention.messages_days)
        turn.say("help-clear", turn.button("button-menu", menus.MENU))
    elif turn.incoming.channel in CLEAR_STEPS:  # /clear explains how she clears the chat on her phone
        turn.say("help", days=turn.settings.retention.messages_days)
        turn.say("help-clear-steps", turn.button("button-menu", menus.MENU))
    else:
        turn.say("help", turn.button("button-menu", menus.MENU), days=turn.settings.retention.messages_days)


async def _language(turn: Turn) -> None:
    menus.language_menu(turn)


async def human(turn: Turn) -> None:
    """/human: a case at the counsellors' desk (or where she stands in the queue)."""
    await handoff.request(turn, "command")


async def _bot(turn: Turn) -> None:
    await handoff.back_to_bot(turn)  # no case open: says she is with the bot already


async def _cancel(turn: Turn) -> None:
    turn.say("flow-cancelled" if flowrun.cancel(turn) else "cancel-nothing")
    menus.main_menu(turn)


async def _clear(turn: Turn) -> None:
    """Delete this chat's messages from her phone (channels that can), after she confirms."""
    if turn.incoming.channel not in CLEARABLE_CHANNELS:
        turn.say(CLEAR_STEPS.get(turn.incoming.channel, "clear-unsupported"), turn.button("button-menu", menus.MENU))
        return
    turn.state[PENDING] = "clear"
    turn.say("clear-confirm", turn.button("button-clear-yes", "clear:yes"), turn.button("button-no", "clear:no"))


async def _forget(turn: Turn) -> None:
    turn.state[PENDING] = "forget"
    turn.say("forget-confirm", turn.button("button-forget-yes", "forget:yes"), turn.button("button-forget-no", "forget:no"))


COMMANDS: dict[str, Callable[[Turn], Awaitable[None]]] = {
    "start": _start, "menu": _menu, "help": _help, "language": _language,
    "human": human, "cancel": _cancel, "forget": _forget, "clear": _clear, "bot": _bot,
}
