"""WhatsApp Cloud API webhook bodies as Meta sends them, built from the recorded payloads in
tests/data/whatsapp/ (anonymised real bodies, see SOURCES.md), and their X-Hub-Signature-256 signing."""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import hmac
import itertools
import json
import time
from pathlib import Path
from typing import Any

APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
PHONE_ID = "1122334455667"             # metadata.phone_number_id of the recorded payloads
DISPLAY_PHONE = "972123456789"         # metadata.display_phone_number of the recorded payloads
WABA_ID = "1234567890987654321"        # entry[].id (the WhatsApp Business Account) of most recorded payloads
TOKEN = "test-access-token"
WA_ID = "32470000001"                  # her wa_id unless a test gives another
NAME = "Amal"

DATA = Path(__file__).resolve().parent.parent / "data" / "whatsapp"
STATES = ("sent", "delivered", "read", "failed")

_wamids = itertools.count(1)


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    """The X-Hub-Signature-256 value of a raw body: "sha256=" + hex HMAC-SHA256 keyed with the app secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


@functools.cache
def _load(name: str) -> dict[str, Any]:
    """The recorded payload, parsed once (callers get deep copies)."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def recorded(name: str) -> dict[str, Any]:
    """A deep copy of tests/data/whatsapp/<name>.json, e.g. recorded("pywa_text")."""
    return copy.deepcopy(_load(name))


def next_wamid() -> str:
    """A fresh message id: "wamid.test-1", "wamid.test-2", ..."""
    return f"wamid.test-{next(_wamids)}"


def encode(body: dict[str, Any], *, escape_unicode: bool = False) -> bytes:
    """The raw bytes of a webhook body: compact JSON in UTF-8; escape_unicode=True writes non-ASCII as \\u00e9 escapes."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=escape_unicode).encode("utf-8")


def signed_headers(raw: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    """The headers Meta POSTs a webhook with: Content-Type and X-Hub-Signature-256 of the raw body."""
    return {"Content-Type": "application/json", "X-Hub-Signature-256": sign(raw, secret)}


def value_of(body: dict[str, Any]) -> dict[str, Any]:
    """entry[0].changes[0].value of a webhook body."""
    return body["entry"][0]["changes"][0]["value"]


def message_of(body: dict[str, Any]) -> dict[str, Any]:
    """The (first) message of a webhook body."""
    return value_of(body)["messages"][0]


def _user_ids(wa_id: str) -> dict[str, str]:
    """Business-scoped user ids derived from the wa_id, so that two senders never share one."""
    digest = int(hashlib.sha256(wa_id.encode()).hexdigest(), 16)
    return {"user_id": f"US.{digest % 10**20:020d}", "parent_user_id": f"US.ENT.{(digest >> 70) % 10**20:020d}"}


def _sha256(media_id: str) -> str:
    """A stand-in for the file hash of a media webhook: base64 of a SHA-256, like Meta's."""
    return base64.b64encode(hashlib.sha256(media_id.encode()).digest()).decode("ascii")


def _timestamp(timestamp: float | str | None) -> str:
    """Unix seconds as a string, like Meta; now when not given."""
    return str(int(time.time()) if timestamp is None else int(float(timestamp)))


def _addressed(body: dict[str, Any], wa_id: str, name: str) -> dict[str, Any]:
    """The body re-addressed to this business (PHONE_ID, WABA_ID) and this sender (contacts[0])."""
    body["entry"][0]["id"] = WABA_ID
    value = value_of(body)
    value["metadata"] = {"display_phone_number": DISPLAY_PHONE, "phone_number_id": PHONE_ID}
    contact = value["contacts"][0]
    contact["profile"]["name"] = name
    contact["wa_id"] = wa_id
    if "user_id" in contact:
        contact.update(_user_ids(wa_id))
    return body


def _message(name: str, *, wa_id: str, wamid: str | None, sender: str, timestamp: float | str | None,
             forwarded: bool = False, context_id: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A recorded message body re-addressed: (body, its message) with from/id/timestamp set and the context handled."""
    body = _addressed(recorded(name), wa_id, sender)
    message = message_of(body)
    message["from"] = wa_id
    message["id"] = wamid or next_wamid()
    message["timestamp"] = _timestamp(timestamp)
    context = message.get("context")
    if context is not None and "id" in context:     # a reply (to a button, list or message of ours): keep, re-aim
        if context_id is not None:
            context["id"] = context_id
    elif forwarded:
        message["context"] = {"forwarded": True}
    else:
        message.pop("context", None)
    return body, message


def text(body: str, *, wa_id: str = WA_ID, wamid: str | None = None, name: str = NAME,
         timestamp: float | str | None = None, reply_to: str | None = None) -> dict[str, Any]:
    """A text message; reply_to: the wamid she answers (context.from/id, as in pywa_reply_context)."""
    source = "pywa_reply_context" if reply_to else "pywa_text"
    webhook, message = _message(source, wa_id=wa_id, wamid=wamid, sender=name, timestamp=timestamp, context_id=reply_to)
    message["text"] = {"body": body}
    return webhook


def button_reply(payload: str, title: str, *, wa_id: str = WA_ID, wamid: str | None = None, name: str = NAME,
                 timestamp: float | str | None = None, context_id: str | None = None) -> dict[str, Any]:
    """A tap on a reply button (interactive.button_reply): payload = the button id, title = its label."""
    webhook, message = _message("pywa_interactive_button_reply", wa_id=wa_id, wamid=wamid, sender=name,
                                timestamp=timestamp, context_id=context_id)
    message["interactive"]["button_reply"] = {"id": payload, "title": title}
    return webhook


def list_reply(payload: str, title: str, *, description: str | None = None, wa_id: str = WA_ID, wamid: str | None = None,
               name: str = NAME, timestamp: float | str | None = None, context_id: str | None = None) -> dict[str, Any]:
    """A row chosen in a list message (interactive.list_reply): payload = the row id, title (and description) = its text."""
    source = "pywa_interactive_list_reply_with_description" if description is not None else "pywa_interactive_list_reply"
    webhook, message = _message(source, wa_id=wa_id, wamid=wamid, sender=name, timestamp=timestamp, context_id=context_id)
    reply: dict[str, str] = {"id": payload, "title": title}
    if description is not None:
        reply["description"] = description
    message["interactive"]["list_reply"] = reply
    return webhook


def quick_reply(payload: str, text: str, *, wa_id: str = WA_ID, wamid: str | None = None, name: str = NAME,
                timestamp: float | str | None = None, context_id: str | None = None) -> dict[str, Any]:
    """A tap on a template's quick-reply button (type "button": button.payload and button.text)."""
    webhook, message = _message("pywa_button_quick_reply", wa_id=wa_id, wamid=wamid, sender=name,
                                timestamp=timestamp, context_id=context_id)
    message["button"] = {"payload": payload, "text": text}
    return webhook


def location(lat: float, lon: float, *, place: str | None = None, address: str | None = None, url: str | None = None,
             wa_id: str = WA_ID, wamid: str | None = None, name: str = NAME, timestamp: float | str | None = None,
             forwarded: bool = False) -> dict[str, Any]:
    """A shared location: her current one (lat/lon only) or a chosen place (place = its name, address, url)."""
    chosen = place is not None or address is not None or url is not None
    source = "pywa_location_chosen" if chosen else "pywa_location_current"
    webhook, message = _message(source, wa_id=wa_id, wamid=wamid, sender=name, timestamp=timestamp, forwarded=forwarded)
    found: dict[str, Any] = {"latitude": lat, "longitude": lon}
    for key, item in (("name", place), ("address", address), ("url", url)):
        if item is not None:
            found[key] = item
    message["location"] = found
    return webhook


def _media(source: str, kind: str, media_id: str, *, mime_type: str | None, sha256: str | None, wa_id: str,
           wamid: str | None, name: str, timestamp: float | str | None, forwarded: bool,
           **fields: Any) -> dict[str, Any]:
    """A media message from a recorded one: the id, mime type and sha256 replaced, other fields set or removed (None)."""
    webhook, message = _message(source, wa_id=wa_id, wamid=wamid, sender=name, timestamp=timestamp, forwarded=forwarded)
    media = message[kind]
    media["id"] = media_id
    if mime_type is not None:
        media["mime_type"] = mime_type
    media["sha256"] = sha256 or _sha256(media_id)
    for key, item in fields.items():
        if item is None:
            media.pop(key, None)
        else:
            media[key] = item
    return webhook


def voice(media_id: str, *, mime_type: str | None = None, sha256: str | None = None, wa_id: str = WA_ID,
          wamid: str | None = None, name: str = NAME, timestamp: float | str | None = None,
          forwarded: bool = False) -> dict[str, Any]:
    """A voice note: type "audio" with "voice": true (ogg/opus unless mime_type says otherwise)."""
    return _media("pywa_voice", "audio", media_id, mime_type=mime_type, sha256=sha256, wa_id=wa_id, wamid=wamid,
                  name=name, timestamp=timestamp, forwarded=forwarded, voice=True)


def audio(media_id: str, *, mime_type: str | None = None, sha256: str | None = None, wa_id: str = WA_ID,
          wamid: str | None = None, name: str = NAME, timestamp: float | str | None = None,
          forwarded: bool = False) -> dict[str, Any]:
    """An audio file that is not a voice note (type "audio", "voice": false)."""
    return _media("pywa_audio", "audio", media_id, mime_type=mime_type, sha256=sha256, wa_id=wa_id, wamid=wamid,
                  name=name, timestamp=timestamp, forwarded=forwarded, voice=False)


def image(media_id: str, caption: str | None = None, *, mime_type: str | None = None, sha256: str | None = None,
          wa_id: str = WA_ID, wamid: str | None = None, name: str = NAME, timestamp: float | str | None = None,
          forwarded: bool = False) -> dict[str, Any]:
    """A photo, with its caption when she wrote one."""
    return _media("pywa_image", "image", media_id, mime_type=mime_type, sha256=sha256, wa_id=wa_id, wamid=wamid,
                  name=name, timestamp=timestamp, forwarded=forwarded, caption=caption)


def document(media_id: str, *, filename: str | None = "document.pdf", caption: str | None = None,
             mime_type: str | None = None, sha256: str | None = None, wa_id: str = WA_ID, wamid: str | None = None,
             name: str = NAME, timestamp: float | str | None = None, forwarded: bool = False) -> dict[str, Any]:
    """A document (a PDF unless mime_type says otherwise), with its file name and caption when given."""
    return _media("pywa_document", "document", media_id, mime_type=mime_type, sha256=sha256, wa_id=wa_id, wamid=wamid,
                  name=name, timestamp=timestamp, forwarded=forwarded, filename=filename, caption=caption)


def sticker(media_id: str, *, animated: bool = False, sha256: str | None = None, wa_id: str = WA_ID,
            wamid: str | None = None, name: str = NAME, timestamp: float | str | None = None,
            forwarded: bool = False) -> dict[str, Any]:
    """A sticker: built from the image one, type "sticker" with {mime_type image/webp, sha256, id, animated}."""
    webhook, message = _message("pywa_image", wa_id=wa_id, wamid=wamid, sender=name, timestamp=timestamp,
                                forwarded=forwarded)
    del message["image"]
    message["type"] = "sticker"
    message["sticker"] = {"mime_type": "image/webp", "sha256": sha256 or _sha256(media_id),
                          "id": media_id, "animated": animated}
    return webhook


def reaction(message_id: str, emoji: str | None = "👍", *, wa_id: str = WA_ID, wamid: str | None = None,
             name: str = NAME, timestamp: float | str | None = None) -> dict[str, Any]:
    """A reaction to one of our messages; emoji=None: the reaction removed (Meta then sends no emoji)."""
    webhook, message = _message("pywa_reaction", wa_id=wa_id, wamid=wamid, sender=name, timestamp=timestamp)
    message["reaction"] = {"message_id": message_id} if emoji is None else {"message_id": message_id, "emoji": emoji}
    return webhook


def unsupported(*, wa_id: str = WA_ID, wamid: str | None = None, name: str = NAME,
                timestamp: float | str | None = None) -> dict[str, Any]:
    """A message of a type the Cloud API does not support (type "unsupported", errors[] code 131051)."""
    webhook, _ = _message("pywa_unsupported", wa_id=wa_id, wamid=wamid, sender=name, timestamp=timestamp)
    return webhook


def contacts(formatted_name: str = "Sara Peeters", phone: str = "+32 470 00 00 02", *,
             contact_wa_id: str | None = "32470000002", first_name: str | None = None, last_name: str | None = None,
             wa_id: str = WA_ID, wamid: str | None = None, name: str = NAME, timestamp: float | str | None = None,
             forwarded: bool = False) -> dict[str, Any]:
    """A shared contact card (type "contacts": contacts[] with name.formatted_name and phones[] with phone/type/wa_id)."""
    webhook, message = _message("pywa_text", wa_id=wa_id, wamid=wamid, sender=name, timestamp=timestamp,
                                forwarded=forwarded)
    del message["text"]
    message["type"] = "contacts"
    card_name: dict[str, str] = {"formatted_name": formatted_name,
                                 "first_name": first_name or formatted_name.split(" ")[0]}
    if last_name is not None:
        card_name["last_name"] = last_name
    card_phone = {"phone": phone, "type": "CELL"}
    if contact_wa_id is not None:
        card_phone["wa_id"] = contact_wa_id
    message["contacts"] = [{"name": card_name, "phones": [card_phone]}]
    return webhook


def status(wamid: str, state: str, *, recipient: str = WA_ID, errors: list[dict[str, Any]] | None = None,
           timestamp: float | str | None = None) -> dict[str, Any]:
    """A status update of one of our messages: state sent/delivered/read/failed (failed: the recorded errors unless given)."""
    if state not in STATES:
        raise ValueError(f"unknown status {state!r}: one of {STATES}")
    body = _addressed(recorded(f"pywa_status_{state}"), recipient, NAME)
    update = value_of(body)["statuses"][0]
    update["id"] = wamid
    update["recipient_id"] = recipient
    update["timestamp"] = _timestamp(timestamp)
    if errors is not None:
        update["errors"] = errors
    return body
