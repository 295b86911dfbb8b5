"""The counsellors' desk, channel-neutral: cases as both sides see them, the counsellors' actions, office hours, canned replies, the outbox."""

from bot.desk.case import CASE, DeskContent, desk_recipient, topic_title
from bot.desk.desk import Desk, DeskMessage
from bot.desk.hours import describe_opening, next_opening
from bot.desk.outbox import Deferred, Outbox
from bot.desk.replies import Replies, load_replies

__all__ = ["CASE", "Deferred", "Desk", "DeskContent", "DeskMessage", "Outbox", "Replies", "describe_opening", "desk_recipient",
           "load_replies", "next_opening", "topic_title"]
