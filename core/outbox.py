"""Outbox rows for the plain messages about a break: reminders, check-ins and pause offers.

They go to the per-person channels (email, or the outbox folder), never to calendars (a calendar
object would read as a change to the event) nor to the group chat. Rows are inserted with
``ON CONFLICT (key) DO NOTHING``: two clocks queueing the same reminder write one row.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.channels import PER_GROUP, configured_channels
from core.db import db
from core.invites import attendee, build_invite, unsubscribe_url
from core.models import Delivery, Group, Person
from integrations.base import Message
from integrations.payload import message_to_dict


def nudge_channels() -> list[str]:
    """The configured channels that reach one person (email, outbox folder)."""
    return sorted(c for c in configured_channels(current_app.config) if c not in PER_GROUP)


def nudge_rows(
    kind: str,
    key: str,
    group: Group,
    person: Person,
    channels: list[str],
    now: datetime,
    links: dict[str, str] | None = None,
) -> list[dict]:
    """Delivery rows (as dicts) of one nudge to one person, one per channel in ``channels``.

    ``key`` identifies the nudge (e.g. ``reminder-<uid>-<person>``); the channel is appended.
    The message carries the group's current invite, for its time, people and video link.
    """
    members = [seat.person for seat in group.members] or [person]
    invite = build_invite(group, members, "REQUEST", group.round.programme.name, now)
    site = group.site if group.mode == "in_person" else person.home_office
    rows = []
    for channel in channels:
        message = Message(
            key=f"{key}-{channel}",
            invite=invite,
            recipient=attendee(person, site),
            unsubscribe_url=unsubscribe_url(person),
            links=dict(links or {}),
            kind=kind,
        )
        rows.append(
            {
                "key": message.key,
                "kind": kind,
                "channel": channel,
                "recipient": person.email,
                "group_id": group.id,
                "round_id": group.round_id,
                "person_id": person.id,
                "payload": message_to_dict(message),
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    return rows


def insert_deliveries(rows: list[dict]) -> int:
    """Insert rows, skipping keys that exist already; returns how many were new."""
    if not rows:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    new = 0
    for start in range(0, len(rows), 500):
        statement = (
            insert(Delivery)
            .values(rows[start : start + 500])
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(Delivery.id)
        )
        new += len(db.session.execute(statement).all())
    return new
