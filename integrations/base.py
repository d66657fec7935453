"""The one small interface every outbound channel implements.

A channel (the outbox folder, email, CalDAV, Slack, Teams, Graph, Google) gets its settings passed
in when it is built and receives plain, frozen data: it never reads the Flask app, the database or
the clock of the service. The dispatcher in ``jobs`` turns outbox rows into :class:`Message` values,
hands a batch to ``channel.send`` and records, per message, either success or the
:class:`DeliveryError` the channel returned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Literal, Protocol

Method = Literal["REQUEST", "CANCEL"]


class MessageKind(StrEnum):
    """What a message is; channels render each kind their own way."""

    INVITE = "invite"  # the calendar object: REQUEST (also an update) or CANCEL
    REMINDER = "reminder"  # plain messages about the same break (integrations/nudges.py)
    CHECKIN = "checkin"  # "Did you meet?"
    PAUSE_OFFER = "pause_offer"
    ROOM = "room"  # a person's recurring drop-in room invite
    ANNOUNCEMENT = "announcement"  # notices to a whole chat channel
    ROOM_NUDGE = "room_nudge"
    # A chat DM to one person who joined a linked channel (Slack): its Notice carries the
    # text and, in ``card``, the Block Kit blocks ({"blocks": [...]}) core built in their language.
    WELCOME = "welcome"
    # A learning team's check-in and its "what we learned" digest: plain messages whose text
    # (already in the reader's language) comes in the Message's ``notice``.
    TEAM_CHECKIN = "team_checkin"
    DIGEST = "digest"


class ButtonAnswer(StrEnum):
    """The buttons on an invite, in every channel."""

    IN = "in"
    CANT = "cant"
    PAUSE_WEEK = "pause_week"


class CheckinAnswer(StrEnum):
    """The answers to "Did you meet?"."""

    MET = "met"
    NOT_MET = "not_met"
    RESCHEDULED = "rescheduled"


def first_name(full_name: str) -> str:
    """How a message addresses someone: the first word of their name ("" for a blank name)."""
    words = full_name.split()
    return words[0] if words else ""


@dataclass(frozen=True)
class Attendee:
    """One member of a group as channels need them: who, where to reach them, their zone."""

    name: str
    email: str
    timezone: str = "UTC"
    department: str = ""
    site: str | None = None  # office on the day of the break, None when remote


@dataclass(frozen=True)
class Invite:
    """Everything a channel needs to tell people about one group's coffee break.

    ``uid`` is stable for the group across updates; ``sequence`` rises with every change
    (RFC 5545); ``method`` is the iTIP method of the calendar object (RFC 5546).
    ``start`` and ``end`` are timezone-aware UTC instants.
    """

    uid: str
    sequence: int
    method: Method
    start: datetime
    end: datetime
    summary: str
    organizer_name: str
    organizer_email: str
    attendees: tuple[Attendee, ...]
    video_url: str
    mode: Literal["in_person", "virtual"] = "virtual"
    site: str | None = None
    reasons: tuple[str, ...] = ()
    starter: str = ""
    programme: str = "Fika"
    # When this version of the invite was made (the change's time, not the send time). It becomes
    # DTSTAMP, so a resend of the same version is byte-identical; None falls back to ``start``.
    stamp: datetime | None = None
    # For METHOD:CANCEL only: "event" when the whole break is off; "attendees" when only the
    # attendees of this invite are uninvited and the rest still meet (they get a REQUEST with the
    # new member list). Group-level channels (CalDAV, Graph, Google) cancel the shared event only
    # for "event"; per-person channels (email) treat both the same way.
    cancel_scope: Literal["event", "attendees"] = "event"


@dataclass(frozen=True)
class RoomInvite:
    """One person's recurring invite to a drop-in room, at one version (``sequence``).

    ``integrations.room_calendar`` turns it into the calendar series (RRULE, VTIMEZONE, EXDATEs).
    """

    uid: str
    sequence: int
    method: Method
    programme: str
    days: tuple[str, ...]  # "mon".."sun"
    local_time: time
    timezone: str
    duration_minutes: int
    first_day: date  # the series starts on the first programme day on or after this
    room_url: str
    organizer_name: str
    organizer_email: str
    attendee: Attendee
    exdates: tuple[date, ...] = ()  # local dates of occurrences the person skips (a pause)
    stamp: datetime | None = None  # when this version was made; DTSTAMP (deterministic)
    # A learning team's series (``team`` True): every ``interval`` weeks until ``until`` (the
    # programme's ``ends_on``, local), around ``topic``, with its members' names and its goal.
    # The UID is the team's, shared by its members' invites; the event blocks the time.
    team: bool = False
    interval: int = 1
    until: date | None = None
    topic: str = ""
    members: tuple[str, ...] = ()
    goal: str = ""
    goal_url: str = ""  # the team's goal page


@dataclass(frozen=True)
class Notice:
    """A message to a whole chat channel about no one break: the round's announcement, or the
    nudge before a drop-in room opens. Only the webhook channels carry them."""

    text: str  # plain text: Slack, and every card's fallback
    card: dict[str, Any]  # an Adaptive Card for Teams
    # Not worth sending from this instant on (a room nudge once the room is open); None: never.
    expires: datetime | None = None
    subject: str = ""  # the email subject when a person gets it (a team check-in, a digest)
    # The Slack channel id the bot posts it to (a learning team's digest for a programme linked
    # to a Slack channel); ``card`` then holds the Block Kit blocks ({"blocks": [...]}).
    chat_channel: str = ""


@dataclass(frozen=True)
class Message:
    """One delivery: an invite to one recipient (or to the whole group for group channels), or
    a :class:`Notice` to a whole chat channel (then ``invite`` is None).

    ``key`` is the delivery's stable idempotency key: a resend after a crash carries the same key,
    so email uses it for the Message-ID and chat channels for their message key.
    """

    key: str
    invite: Invite | None = None
    recipient: Attendee | None = None  # None: the message is for the whole group
    unsubscribe_url: str | None = None
    links: dict[str, str] = field(default_factory=dict)  # action name -> signed URL
    # "invite" (REQUEST/CANCEL, the calendar object) or a plain message about the same break:
    # "reminder", "checkin" ("Did you meet?") or "pause_offer"; see integrations/nudges.py.
    kind: str = MessageKind.INVITE
    # kind "room": a person's recurring drop-in room invite (the calendar object comes from
    # integrations.room; ``invite`` then only describes its first session).
    room: RoomInvite | None = None
    notice: Notice | None = None
    # The language its reader reads ("en", "sv", "de"): the recipient's own choice, or the
    # programme's for a message to a whole group or chat channel. None: the organisation's
    # default (FIKA_LANGUAGE), as for rows written before languages existed. Channels render
    # the words inside ``core.i18n.using(message.language)`` when they send.
    language: str | None = None

    @property
    def recipients(self) -> tuple[Attendee, ...]:
        """Who the message goes to: its recipient, or every attendee of a group message."""
        if self.recipient:
            return (self.recipient,)
        return self.invite.attendees if self.invite is not None else ()


class DeliveryError(Exception):
    """A channel could not deliver a message.

    ``transient`` failures (SMTP 4xx, timeouts, connection errors, and the HTTP answers
    :mod:`integrations.http_failures` lists) are retried with back-off, never sooner than
    ``retry_after`` seconds; permanent ones go straight to dead letters with ``reason``, which
    admins read.
    """

    def __init__(self, reason: str, *, transient: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after


class ConfigError(ValueError):
    """A channel's settings are unusable; the message names the setting and why."""


class Channel(Protocol):
    """An outbound channel: ``send`` delivers a batch and returns one outcome per message.

    The outcome at index i is ``None`` when message i was delivered, or the
    :class:`DeliveryError` that explains why not. ``send`` itself never raises for a
    per-message failure, so one bad recipient never stops the batch.

    A channel may also offer ``stream(messages)``, a generator yielding the same outcomes one
    by one as each message goes out (and sending the next one only when asked): the
    dispatcher then records each at once, so a crash resends at most the messages in flight.
    """

    name: str

    def send(self, messages: Sequence[Message]) -> list[DeliveryError | None]: ...
