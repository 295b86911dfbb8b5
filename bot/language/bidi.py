"""Right-to-left text that stays readable when it mixes in Latin words, numbers and links."""

from __future__ import annotations

import re

from bot.language.i18n import is_rtl
from bot.messages import Button, Outgoing

LRI, PDI = "\u2066", "\u2069"  # left-to-right isolate ... pop directional isolate

_LATIN = "A-Za-z0-9\u00c0-\u024f"
# A link, or a run that starts and ends with a Latin letter or digit (a phone number with spaces,
# "VDAB", "Huis van het Nederlands", "A2", "0800 12 345") and holds only Latin, digits and the
# punctuation found inside such runs. Arabic-script letters end the run.
LTR_RUN = re.compile(
    rf"https?://[^\s\u0600-\u06ff]+[^\s\u0600-\u06ff.,;:!?)]"
    rf"|[/+]?[{_LATIN}](?:[{_LATIN} .,:/@_\-+'&%=#]*[{_LATIN}])?"
)


def isolate_ltr(text: str) -> str:
    """Wrap every left-to-right run in an RTL message in LRI … PDI, so that phone numbers,
    links and Latin names keep their order and do not drag the punctuation around them."""
    if LRI in text:
        return text
    return LTR_RUN.sub(lambda match: f"{LRI}{match.group(0)}{PDI}", text)


def outgoing(recipient: str, text: str, buttons: tuple[Button, ...] | list[Button], key: str | None, language: str) -> Outgoing:
    """A reply in ``language``; right-to-left text gets its Latin words, numbers and links isolated."""
    if not is_rtl(language):
        return Outgoing(recipient, text, tuple(buttons), key, False)
    isolated = tuple(Button(isolate_ltr(button.label), button.payload) for button in buttons)
    return Outgoing(recipient, isolate_ltr(text), isolated, key, True)
