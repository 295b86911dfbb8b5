"""The custom actions Wegwijs serves to a Rasa assistant: answer, hand over to the desk, relay while a
counsellor has her, and the job-shadowing sign-up as a Rasa form (its checks, questions and the sign-up)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecuted, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.channels.rasa.tracker import (
    CHANNEL,
    LANGUAGE_SLOT,
    conversation,
    incoming,
    language_slot,
    message_id,
    rasa_message,
    typed_payload,
    wegwijs_payload,
)
from bot.core import HUMAN, START_FORM, Conversation, Standing, assistant
from bot.flows import Flow
from bot.messages import Incoming, Kind, Outgoing

ANSWER, HANDOFF, RELAY, SIGNUP = "action_wegwijs_answer", "action_wegwijs_handoff", "action_wegwijs_relay", "action_wegwijs_signup"
ENTRY_SLOT, TOPIC_SLOT, FLOW_SLOT, HANDOFF_SLOT = "wegwijs_entry", "wegwijs_topic", "wegwijs_flow", "wegwijs_handoff"
SIGNUP_FLOW = "job-shadowing"
COLLECTING = frozenset({"rest"})  # Rasa channels that answer her requests but cannot write to her first
SLOT_PREFIX = "wegwijs_"  # the form's slots: wegwijs_<what the flow saves>, e.g. wegwijs_first_name


def form_slot(save: str) -> str:
    return f"{SLOT_PREFIX}{save}"


class Host:
    """What the actions share: the conversation, and how its replies and her standing become Rasa's."""

    def __init__(self, conversation: Conversation) -> None:
        self.conversation = conversation

    @property
    def content(self):  # noqa: ANN201 - bot.core.Content
        return self.conversation.content

    def forms(self, domain: DomainDict) -> frozenset[str]:
        """The flows the assistant runs as forms of its own (``job_shadowing_form`` in its domain)."""
        found = (assistant.form_flow(self.content, name) for name in (domain.get("forms") or {}))
        return frozenset(flow.id for flow in found if flow is not None)

    async def handle(self, tracker: Tracker, domain: DomainDict, message: Incoming, history: tuple[tuple[str, str], ...] | None = None
                     ) -> tuple[list[Outgoing], Standing | None]:
        assist = assistant.answering(language_slot(tracker), self.forms(domain), history)
        replies = await self.conversation.handle(message, assist)
        return replies, assist.standing

    async def language(self, tracker: Tracker) -> str:
        """Her language for the form: the assistant's slot, else the one Wegwijs knows, else the default."""
        settings = self.conversation.config.settings
        wanted = language_slot(tracker)
        if wanted in settings.languages:
            return wanted
        user = await self.conversation.store.get_user(CHANNEL, tracker.sender_id)
        return user.language if user is not None and user.language in settings.languages else settings.default_language

    def say(self, dispatcher: CollectingDispatcher, replies: list[Outgoing], user: str) -> list[EventType]:
        """Her replies uttered; a flow the assistant runs as its form is started there (FollowupAction)."""
        events: list[EventType] = []
        for reply in replies:
            if reply.recipient != user:
                continue
            if reply.action and reply.action.startswith(f"{START_FORM}:"):
                flow = self.content.flows.get(reply.action.split(":", 1)[1])
                if flow is not None:
                    events.append(FollowupAction(assistant.form_name(flow)))
            elif not reply.action:  # "clear-chat": nothing of a Rasa chat can be deleted from here
                dispatcher.utter_message(**rasa_message(reply))
        return events

    def slots(self, tracker: Tracker, domain: DomainDict, standing: Standing | None, replies: list[Outgoing] | None = None) -> list[EventType]:
        """Her standing as the domain's slots (only those it declares, only when they change). The language
        slot only when she chose one with a button: else it stays the assistant's (unset: detected each time)."""
        if standing is None:
            return []
        wanted: dict[str, Any] = {FLOW_SLOT: standing.flow, HANDOFF_SLOT: True if standing.case else None}
        if (wegwijs_payload(tracker.latest_message or {}) or "").startswith("lang:"):
            wanted[LANGUAGE_SLOT] = standing.language
        if replies is not None:  # what this message was answered with
            entry = next((reply.key[6:] for reply in replies if (reply.key or "").startswith("entry:")), None)
            wanted[ENTRY_SLOT] = entry
            wanted[TOPIC_SLOT] = entry.split("/")[0] if entry else None
        declared = domain.get("slots") or {}
        return [SlotSet(name, value) for name, value in wanted.items() if name in declared and tracker.get_slot(name) != value]


class WegwijsAction(Action):
    def __init__(self, host: Host) -> None:
        self.host = host


class AnswerAction(WegwijsAction):
    """Her latest message answered from the knowledge base: emergencies first (an urgent case too), did-you-mean
    buttons, an honest fallback; slots wegwijs_entry and wegwijs_topic say what she was answered with."""

    def name(self) -> str:
        return ANSWER

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        replies, standing = await self.host.handle(tracker, domain, incoming(tracker))
        return self.host.say(dispatcher, replies, tracker.sender_id) + self.host.slots(tracker, domain, standing, replies)


class HandoffAction(WegwijsAction):
    """A case on the Wegwijs desk for this conversation, its last lines from the tracker on the card; the
    wegwijs_handoff slot then sends her messages to the relay."""

    def name(self) -> str:
        return HANDOFF

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        message = incoming(tracker, ":handoff", payload=HUMAN)
        replies, standing = await self.host.handle(tracker, domain, message, conversation(tracker))
        return self.host.say(dispatcher, replies, tracker.sender_id) + self.host.slots(tracker, domain, standing)


class RelayAction(WegwijsAction):
    """While her case is open: her new message to the desk (the bot answers as it does while she waits),
    and whatever the counsellor wrote meanwhile; when the case is closed, that is said and the slot cleared.
    Rasa's HTTP API runs it for the outbox too (a counsellor wrote): then there is no new message of hers."""

    def name(self) -> str:
        return RELAY

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        replies: list[Outgoing] = []
        if new_message(tracker):
            replies, _ = await self.host.handle(tracker, domain, incoming(tracker, ":relay"))
        elif tracker.get_latest_input_channel() in COLLECTING:  # Rasa would hand the messages back, not to her
            return [ActionExecuted("action_listen")]
        pushed = not replies and not new_message(tracker)
        waiting, standing = await self.host.conversation.waiting(CHANNEL, tracker.sender_id)
        events = self.host.say(dispatcher, waiting + replies, tracker.sender_id) + self.host.slots(tracker, domain, standing)
        # Run by Rasa's HTTP API, the action leaves Rasa without listening: her next message would match no rule.
        return events + [ActionExecuted("action_listen")] if pushed else events


class SignupAction(WegwijsAction):
    """The completed job-shadowing form: what the flow says at its end, and the sign-up stored (with her
    consent) as the flow stores it; the form's slots are emptied."""

    def name(self) -> str:
        return SIGNUP

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        flow = self.host.content.flows.get(SIGNUP_FLOW)
        if flow is None:
            return []
        answers = {step.save: tracker.get_slot(form_slot(step.save)) for step in flow.steps if step.ask and step.save}
        message = Incoming(CHANNEL, tracker.sender_id, message_id(tracker) + ":signup", Kind.BUTTON, payload=f"form:{flow.id}",
                           language_hint=language_slot(tracker))
        replies = await self.host.conversation.handle(message, assistant.signing_up(flow, answers, language_slot(tracker)))
        declared = domain.get("slots") or {}
        emptied = [SlotSet(form_slot(save), None) for save in answers if form_slot(save) in declared]
        return self.host.say(dispatcher, replies, tracker.sender_id) + emptied


class SignupForm(FormValidationAction):
    """``validate_job_shadowing_form``: each answer checked with the flow's validator (a phone number, a
    postcode, a choice typed or pressed...); a wrong one is said in her language and asked again. Which
    questions are asked follows the flow's branches (no phone number unless she wants a call)."""

    def __init__(self, host: Host, flow: Flow) -> None:
        self.host = host
        self._flow = flow

    @property
    def flow(self) -> Flow:
        """The flow as the content has it now (edited content is reloaded while the server runs)."""
        return self.host.content.flows.get(self._flow.id, self._flow)

    def name(self) -> str:
        return f"validate_{assistant.form_name(self._flow)}"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        answers = {save: tracker.get_slot(form_slot(save)) for save in self.saves()}
        return [form_slot(save) for save in assistant.form_slots(self.flow, answers)]

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        language = await self.host.language(tracker)
        checked: dict[str, Any] = {}
        for name, value in tracker.slots_to_validate().items():
            step = assistant.asking(self.flow, name[len(SLOT_PREFIX):]) if name.startswith(SLOT_PREFIX) else None
            if step is None:
                continue
            answer = assistant.form_answer(step, as_incoming(tracker, value), self.host.content, language)
            if answer is None:
                dispatcher.utter_message(**rasa_message(assistant.form_invalid(step, tracker.sender_id, self.host.content, language)))
            checked[name] = answer
            tracker.slots[name] = answer
        return [SlotSet(name, value) for name, value in checked.items()]

    def saves(self) -> list[str]:
        return [step.save for step in self.flow.steps if step.ask and step.save]


class AskAction(WegwijsAction):
    """``action_ask_wegwijs_<slot>``: the flow's question for that slot in her language, with its buttons."""

    def __init__(self, host: Host, flow: Flow, save: str) -> None:
        super().__init__(host)
        self._flow = flow
        self.save = save

    @property
    def flow(self) -> Flow:
        return self.host.content.flows.get(self._flow.id, self._flow)

    def name(self) -> str:
        return f"action_ask_{form_slot(self.save)}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        step = assistant.asking(self.flow, self.save)
        if step is not None:
            language = await self.host.language(tracker)
            dispatcher.utter_message(**rasa_message(assistant.form_question(step, tracker.sender_id, self.host.content, language)))
        return []


def as_incoming(tracker: Tracker, value: object) -> Incoming:
    """A slot's value as she gave it: a button of the question (its Wegwijs payload), or her words."""
    pressed = typed_payload(value)
    if pressed is not None:
        return Incoming(CHANNEL, tracker.sender_id, "", Kind.BUTTON, payload=pressed)
    return Incoming(CHANNEL, tracker.sender_id, "", Kind.TEXT, value if isinstance(value, str) else str(value if value is not None else ""))


def new_message(tracker: Tracker) -> bool:
    """Whether her latest message is new to this run: not so when Rasa's HTTP API runs the action (a counsellor
    wrote), as then Rasa listened again after her last message."""
    for event in reversed(tracker.events or []):
        if not isinstance(event, dict):
            continue
        if event.get("event") == "user":
            return True
        if event.get("event") == "action" and event.get("name") == "action_listen":
            return False
    return bool((tracker.latest_message or {}).get("text"))


def wegwijs_actions(host: Host) -> list[Action]:
    """Every action of the server: the four of the conversation, and the sign-up form's."""
    found: list[Action] = [AnswerAction(host), HandoffAction(host), RelayAction(host)]
    flow = host.content.flows.get(SIGNUP_FLOW)
    if flow is not None:
        found += [SignupAction(host), SignupForm(host, flow)]
        found += [AskAction(host, flow, step.save) for step in flow.steps if step.ask and step.save]
    return found
