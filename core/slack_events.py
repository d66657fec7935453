"""Slack's Events API callbacks as jobs: recorded once, acknowledged at once, acted on after.

``/slack/events`` (web) calls :func:`record_event` and answers 200: Slack wants an answer within
three seconds and retries (``X-Slack-Retry-Num``) until it gets one, so the work is not done in
the request. The ``slack_event`` row's unique ``event_id`` makes a retry of an event already
recorded add nothing. :func:`process_events` then acts on the rows still to do: right after the
answer (a thread of the web process) and on every clock tick (events a crash left behind).
Each row is claimed with one UPDATE before its handler runs, so two processes never act on the
same event twice.

:data:`HANDLERS` maps an event type to its handler; a type without one is acknowledged and
not recorded. Adding a type is one line: ``HANDLERS["app_home_opened"] = home_opened``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db import db
from core.events import log_event
from core.models import Person, Programme, ProgrammeMember, SlackEvent
from core.settings import Settings
from core.slack_sync import leave_programme, member_source, slack_configured, take_part

log = logging.getLogger("fika.slack_events")

Handler = Callable[[Settings, Mapping[str, Any], datetime], None]

#: Slack's ids (users, channels, events) are letters and digits; anything else is not looked up.
MAX_ID = 64
#: Rows acted on per call of :func:`process_events`.
BATCH = 100
#: Done rows are kept this long (a retry after that long is not one Slack sends).
KEEP = timedelta(days=2)


def _is_id(value: object) -> bool:
    return (
        isinstance(value, str) and 0 < len(value) <= MAX_ID and value.isascii() and value.isalnum()
    )


def _linked(channel: object) -> list[Programme]:
    if not _is_id(channel):
        return []
    return list(
        db.session.scalars(
            select(Programme).where(
                Programme.slack_channel_id == channel, Programme.active.is_(True)
            )
        )
    )


def member_joined(settings: Settings, event: Mapping[str, Any], now: datetime) -> None:
    """``member_joined_channel`` on a linked channel: that one person joins its programmes."""
    programmes = _linked(event.get("channel"))
    user = event.get("user")
    if not programmes or not _is_id(user) or not slack_configured(settings):
        return
    member = member_source(settings).member(str(user))
    if member is None:  # a bot, a deactivated account, a guest (unless allowed), no email
        return
    for programme in programmes:
        take_part(settings, programme, member, now, rejoin=True)
    db.session.commit()


def member_left(settings: Settings, event: Mapping[str, Any], now: datetime) -> None:
    """``member_left_channel`` on a linked channel: that one person leaves its programmes."""
    programmes = _linked(event.get("channel"))
    user = event.get("user")
    if not programmes or not _is_id(user):
        return
    for programme in programmes:
        person = db.session.scalar(
            select(Person)
            .join(ProgrammeMember, ProgrammeMember.person_id == Person.id)
            .where(
                ProgrammeMember.programme_id == programme.id,
                ProgrammeMember.slack_user_id == user,
            )
        )
        if person is not None:
            leave_programme(settings, programme, person, now)
    db.session.commit()


#: Event type -> what to do about it (see the module docstring).
HANDLERS: dict[str, Handler] = {
    "member_joined_channel": member_joined,
    "member_left_channel": member_left,
}


def _on_linked_channel(event: Mapping[str, Any]) -> bool:
    return bool(_linked(event.get("channel")))


#: Event type -> whether an event of it concerns Fika, asked before it is kept (one indexed
#: query): an app in many channels hears of every join, and keeps only those on linked ones.
#: A type not listed here is always kept.
WANTED: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "member_joined_channel": _on_linked_channel,
    "member_left_channel": _on_linked_channel,
}


def record_event(envelope: Mapping[str, Any], now: datetime | None = None) -> bool:
    """Keep an ``event_callback`` to act on, once per ``event_id``; commits. Returns whether it
    is new work (False: a type nobody handles, one about something Fika does not follow, no
    usable id, or a retry of one recorded)."""
    event = envelope.get("event")
    event_id = envelope.get("event_id")
    if not isinstance(event, Mapping) or not _is_id(event_id):
        return False
    kind = event.get("type")
    if kind not in HANDLERS or not WANTED.get(kind, lambda _event: True)(event):
        return False
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(SlackEvent)
        .values(
            event_id=event_id,
            type=kind,
            payload=dict(event),
            received_at=now or datetime.now(UTC),
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(SlackEvent.id)
    )
    new = db.session.execute(statement).first() is not None
    db.session.commit()
    return new


def process_events(settings: Settings, now: datetime | None = None) -> int:
    """Act on the recorded events still to do, oldest first; returns how many were done.

    A handler that fails is logged and its row keeps the reason (``error``): the next sync of
    the channel puts things right, so the event is not retried.
    """
    done = 0
    ids = list(
        db.session.scalars(
            select(SlackEvent.id)
            .where(SlackEvent.done_at.is_(None))
            .order_by(SlackEvent.id)
            .limit(BATCH)
        )
    )
    for row_id in ids:
        moment = now or datetime.now(UTC)
        claimed = db.session.execute(
            update(SlackEvent)
            .where(SlackEvent.id == row_id, SlackEvent.done_at.is_(None))
            .values(done_at=moment)
        ).rowcount
        db.session.commit()
        if claimed != 1:
            continue  # another process took it
        row = db.session.get(SlackEvent, row_id)
        handler = HANDLERS.get(row.type)
        try:
            if handler is not None:
                handler(settings, row.payload, moment)
            done += 1
        except Exception as exc:  # noqa: BLE001 - one event must not stop the others
            db.session.rollback()
            log.exception("slack event %s failed", row_id)
            db.session.execute(
                update(SlackEvent)
                .where(SlackEvent.id == row_id)
                .values(error=f"{type(exc).__name__}")
            )
            db.session.commit()
        log_event(log, "slack.event", type=row.type, event_id=row.event_id)
    if ids:
        cutoff = (now or datetime.now(UTC)) - KEEP
        db.session.execute(
            delete(SlackEvent).where(SlackEvent.done_at.is_not(None), SlackEvent.done_at < cutoff)
        )
        db.session.commit()
    return done
