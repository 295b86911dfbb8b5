"""WhatsApp Cloud API: the webhook (handshake, signatures, store first), her messages to the core, replies within WhatsApp's limits."""

from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.channels.whatsapp.render import label_problems
from bot.channels.whatsapp.webhook import CHANNEL

__all__ = ["CHANNEL", "WhatsAppChannel", "label_problems"]
