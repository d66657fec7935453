"""The outbox writer: the one place that turns messages into Delivery rows.

Every message Fika sends (invites, their updates and cancellations, reminders, check-ins, pause
offers, drop-in room invites, the after-round announcement and the room nudges) is written here,
in the transaction of the change that causes it, and sent later by the dispatcher
(``core.dispatch``). So a change and its messages commit together or not at all, and a message
that fails is retried and, in the end, shown to admins as a dead letter.

Each row's ``key`` is its idempotency key: rows are inserted with ``ON CONFLICT (key) DO
NOTHING``, so two clocks queueing the same reminder write one row, and a retried change writes
nothing twice. A builder method makes the rows of one kind of message; :meth:`Outbox.write`
inserts them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from psycopg.errors import UniqueViolation
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.bulk import copy_rows, use_copy
from core.channels import enabled_channels
from core.db import db
from core.enums import DeliveryStatus
from core.invites import attendee, build_invite, site_of
from core.links import Links
from core.models import Delivery, Group, Person
from core.settings import Settings
from integrations.base import Invite, Message, MessageKind, Notice, RoomInvite
from integrations.payload import invite_to_dict, message_to_dict
from integrations.room_calendar import first_occurrence

#: Rows per INSERT statement: below SQLite's bound-parameter limit with every column given.
CHUNK = 500
#: The transaction's temporary table that :meth:`Outbox.write_many` COPYs rows into.
STAGING = "fika_delivery_staging"


class Outbox:
    """The outbox of one deployment: which channels it writes for, and its signed links."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.links = Links(settings)
        entries = enabled_channels(settings)
        #: The channels that carry invites: to one person (email, the outbox folder) or to a
        #: group (a calendar event, a group chat).
        self.channels = sorted(e.name for e in entries if e.audience != "channel")
        self.per_group = frozenset(e.name for e in entries if e.audience == "group")
        #: The channels that reach one person, for the plain messages about a break.
        self.per_person = [c for c in self.channels if c not in self.per_group]
        #: The channels that post a notice to a whole chat channel (the webhooks).
        self.notice_channels = sorted(e.name for e in entries if e.audience == "channel")

    # --- building rows ----------------------------------------------------------------------

    def invite_rows(
        self,
        invite: Invite,
        group: Group,
        people: list[Person],
        now: datetime,
        *,
        channels: Iterable[str] | None = None,
        detach: int | None = None,
        programme_language: str | None = None,
    ) -> list[dict[str, Any]]:
        """One row per person (email, outbox folder) or per group (calendar, chat).

        ``channels`` narrows the deployment's channels (a person's own cancellation goes to
        their own channels only); ``detach`` is the id of a person being erased, whose rows must
        not be tied to (and deleted with) their person row. Each member's message is in their
        own language (``Person.language``); a message to the whole group (a calendar event, a
        group chat) in ``programme_language``. None: the organisation's (FIKA_LANGUAGE).
        """
        rows = []
        shared = invite_to_dict(invite)  # once per group, shared by its rows
        for channel in self.channels if channels is None else channels:
            if channel in self.per_group:
                message = Message(
                    key=f"{invite.uid}-{invite.sequence}-{channel}",
                    invite=invite,
                    links=self.links.actions(group.id, None) if invite.method == "REQUEST" else {},
                    language=programme_language,
                )
                rows.append(
                    _row(message, channel, f"group:{group.uid}", now, group=group, invite=shared)
                )
                continue
            for person, who in zip(people, invite.attendees, strict=True):
                # What message_to_dict makes of Message(key, invite, recipient=who,
                # unsubscribe_url, links, language=person.language), built straight away: a
                # large round writes one per person (tests/core/test_round_bulk.py pins it).
                links, unsubscribe_url = self.links.invite_links(group.id, person.id)
                payload = {
                    "key": f"{invite.uid}-{invite.sequence}-{channel}-{person.id}",
                    "recipient": {
                        "name": who.name,
                        "email": who.email,
                        "timezone": who.timezone,
                        "department": who.department,
                        "site": who.site,
                    },
                    "unsubscribe_url": unsubscribe_url,
                    "links": links,
                    "kind": MessageKind.INVITE,
                }
                if person.language:  # each member reads their own
                    payload["language"] = person.language
                payload["invite"] = shared
                rows.append(
                    {
                        "key": payload["key"],
                        "kind": MessageKind.INVITE,
                        "channel": channel,
                        "recipient": person.email,
                        "group_id": group.id,
                        "round_id": group.round_id,
                        "person_id": None if person.id == detach else person.id,
                        "payload": payload,
                        "status": DeliveryStatus.PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
        return rows

    def nudge_rows(
        self,
        kind: str,
        key: str,
        group: Group,
        person: Person,
        now: datetime,
        links: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        """A plain message about a break to one person: a reminder, check-in or pause offer.

        They go to the per-person channels only, never to calendars (a calendar object would
        read as a change to the event) nor to the group chat. ``key`` identifies the message
        (e.g. ``reminder-<uid>-<person>``); the channel is appended. The message carries the
        group's current invite, for its time, people and video link.
        """
        members = [seat.person for seat in group.members] or [person]
        invite = build_invite(
            self.settings, group, members, "REQUEST", group.round.programme.name, now
        )
        rows = []
        for channel in self.per_person:
            message = Message(
                key=f"{key}-{channel}",
                invite=invite,
                recipient=attendee(person, site_of(group, person)),
                unsubscribe_url=self.links.unsubscribe(person.id),
                links=dict(links or {}),
                kind=kind,
                language=person.language,
            )
            rows.append(_row(message, channel, person.email, now, group, person.id))
        return rows

    def room_rows(
        self,
        room: RoomInvite,
        person: Person,
        now: datetime,
        *,
        detach: bool = False,
        group: Group | None = None,
    ) -> list[dict[str, Any]]:
        """A person's recurring invite (kind "room"): a drop-in room's, or a learning team's
        (``group``: the team; its members share the UID, so the key names the person)."""
        rows = []
        for channel in self.per_person:
            version = f"{room.uid}.s{room.sequence}"
            if room.team:
                version += f".p{person.id}"
            message = Message(
                key=f"{version}.{channel}",
                invite=_room_carrier(room),
                recipient=room.attendee,
                unsubscribe_url=self.links.unsubscribe(person.id),
                kind=MessageKind.ROOM,
                room=room,
                language=person.language,
            )
            rows.append(
                _row(
                    message,
                    channel,
                    person.email,
                    now,
                    group,
                    person_id=None if detach else person.id,
                )
            )
        return rows

    def text_rows(
        self,
        kind: str,
        key: str,
        person: Person,
        notice: Notice,
        invite: Invite,
        now: datetime,
        *,
        group: Group | None = None,
    ) -> list[dict[str, Any]]:
        """A plain message to one person whose subject and text the core wrote (``notice``):
        a learning team's check-in or digest. Per-person channels only; ``invite`` describes
        the team the message is about. ``key`` gets the channel appended."""
        rows = []
        for channel in self.per_person:
            message = Message(
                key=f"{key}-{channel}",
                invite=invite,
                recipient=attendee(person, None),
                kind=kind,
                notice=notice,
            )
            rows.append(_row(message, channel, person.email, now, group, person.id))
        return rows

    def notice_rows(
        self,
        kind: str,
        key: str,
        notice: Notice,
        now: datetime,
        *,
        round_id: int | None = None,
    ) -> list[dict[str, Any]]:
        """A notice (kind "announcement" or "room_nudge") for every chat webhook, one row each.

        ``key`` identifies the notice (e.g. ``announcement-<round>``); the channel is appended.
        """
        rows = []
        for channel in self.notice_channels:
            message = Message(key=f"{key}-{channel}", kind=kind, notice=notice)
            row = _row(message, channel, f"webhook:{channel}", now)
            row["round_id"] = round_id
            rows.append(row)
        return rows

    def channel_post_rows(
        self,
        kind: str,
        key: str,
        notice: Notice,
        now: datetime,
        *,
        language: str | None = None,
        group: Group | None = None,
        channel: str = "slack",
    ) -> list[dict[str, Any]]:
        """A notice a chat bot posts to one conversation (``notice.chat_channel``: a Slack
        channel, with its blocks in ``notice.card``; or a Teams team's General channel, with its
        Adaptive Card there): one row keyed ``<key>-<channel>``, none when that bot is off."""
        if channel not in self.channels or not notice.chat_channel:
            return []
        message = Message(key=f"{key}-{channel}", kind=kind, notice=notice, language=language)
        return [_row(message, channel, f"{channel}:{notice.chat_channel}", now, group)]

    def direct_rows(
        self,
        kind: str,
        key: str,
        person: Person,
        notice: Notice,
        now: datetime,
        channels: Iterable[str],
    ) -> list[dict[str, Any]]:
        """A chat message to one person about no one break (the welcome DM of a linked
        channel), one row per channel of ``channels`` this deployment has switched on.

        ``key`` identifies the message (e.g. ``welcome-<programme>-<person>``); the channel
        is appended, so the message is written once however often it is queued.
        """
        rows = []
        for channel in channels:
            if channel not in self.channels:
                continue
            message = Message(
                key=f"{key}-{channel}",
                kind=kind,
                recipient=attendee(person, person.home_office),
                notice=notice,
            )
            rows.append(_row(message, channel, person.email, now, person_id=person.id))
        return rows

    # --- writing ----------------------------------------------------------------------------

    def write(self, rows: list[dict[str, Any]]) -> int:
        """Insert ``rows`` in the current transaction, skipping keys already there.

        Returns how many rows were new. The only INSERT into ``delivery`` in Fika.
        """
        if not rows:
            return 0
        insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(Delivery).on_conflict_do_nothing(index_elements=["key"]).returning(Delivery.id)
        )
        new = 0
        for start in range(0, len(rows), CHUNK):
            new += len(db.session.execute(statement, rows[start : start + CHUNK]).all())
        return new

    def write_many(self, rows: list[dict[str, Any]], *, copy: bool | None = None) -> int:
        """:meth:`write` for the tens of thousands of rows of a large round.

        On PostgreSQL (unless ``copy`` is False) the rows whose keys are not there yet are
        COPYed straight into ``delivery`` (a key twice in ``rows``: its first row), inside a
        savepoint. Should another transaction write one of those keys meanwhile, the COPY fails,
        the savepoint is rolled back, and the rows go through a temporary table of the
        transaction and one ``INSERT ... SELECT ... ON CONFLICT (key) DO NOTHING`` in their
        order instead. Either way the idempotency of :meth:`write` holds exactly. Elsewhere this
        is :meth:`write`. Returns how many rows were new.
        """
        if not rows:
            return 0
        if not use_copy(copy):
            return self.write(rows)
        taken = _taken_keys([row["key"] for row in rows])
        fresh = []
        for row in rows:
            if row["key"] not in taken:
                taken.add(row["key"])
                fresh.append(row)
        if not fresh:
            return 0
        savepoint = db.session.begin_nested()
        try:
            copy_rows(
                Delivery.__table__, list(fresh[0]), fresh, convert={"payload": _PayloadJSON()}
            )
        except UniqueViolation:
            savepoint.rollback()  # a key written by another transaction since: as below
        else:
            savepoint.commit()
            return len(fresh)
        return self._write_staged(rows)

    def _write_staged(self, rows: list[dict[str, Any]]) -> int:
        """COPY into a temporary table, then ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``."""
        columns = list(rows[0])
        listed = ", ".join(f'"{name}"' for name in columns)
        session = db.session
        session.execute(text(f"DROP TABLE IF EXISTS pg_temp.{STAGING}"))
        session.execute(
            text(
                f"CREATE TEMPORARY TABLE {STAGING} ON COMMIT DROP AS "
                f"SELECT 0 AS position, {listed} FROM delivery WITH NO DATA"
            )
        )
        copy_rows(
            Delivery.__table__,
            columns,
            rows,
            into=STAGING,
            ordinal="position",
            convert={"payload": _PayloadJSON()},
        )
        moved = session.execute(
            text(
                f"INSERT INTO delivery ({listed}) SELECT {listed} FROM {STAGING} "
                "ORDER BY position ON CONFLICT (key) DO NOTHING"
            )
        )
        session.execute(text(f"DROP TABLE {STAGING}"))
        return moved.rowcount


def _taken_keys(keys: list[str]) -> set[str]:
    """Which of these keys the outbox already holds (PostgreSQL: one query, keys as an array)."""
    found = db.session.execute(
        text("SELECT key FROM delivery WHERE key = ANY(:keys)"), {"keys": keys}
    )
    return set(found.scalars())


class _PayloadJSON:
    """Payloads as JSON text, each group's shared invite encoded once.

    The rows of one group share one ``invite`` dict (:meth:`Outbox.invite_rows`); it is most of
    each payload, so its JSON is kept (by the dict's identity, alive as long as the rows are)
    and joined to the JSON of the rest. Encoded by orjson (several times faster than ``json``
    at 50,000 rows; compact, non-ASCII kept as UTF-8): the text decodes to the same dict as
    ``json.dumps``' does, which is all that reads it.
    """

    def __init__(self):
        self.invites: dict[int, str] = {}

    def __call__(self, payload: dict[str, Any]) -> str:
        invite = payload.get("invite")
        if not isinstance(invite, dict):
            return _dumps(payload)
        text = self.invites.get(id(invite))
        if text is None:
            text = self.invites[id(invite)] = _dumps(invite)
        rest = _dumps({k: v for k, v in payload.items() if k != "invite"})
        return f'{rest[:-1]}{"," if len(rest) > 2 else ""}"invite":{text}}}'


def _dumps(value: Any) -> str:
    """JSON text by orjson; keys that are str enums (the links' buttons) or ints as ``json``
    writes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _row(
    message: Message,
    channel: str,
    recipient: str,
    now: datetime,
    group: Group | None = None,
    person_id: int | None = None,
    *,
    invite: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The Delivery row of one message on one channel (``invite``: its serialised invite)."""
    return {
        "key": message.key,
        "kind": message.kind,
        "channel": channel,
        "recipient": recipient,
        "group_id": group.id if group is not None else None,
        "round_id": group.round_id if group is not None else None,
        "person_id": person_id,
        "payload": message_to_dict(message, invite),
        "status": DeliveryStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _room_carrier(room: RoomInvite) -> Invite:
    """The plain Invite a Message needs: the first session, so subjects and logs read right."""
    start = first_occurrence(room).astimezone(UTC)
    return Invite(
        uid=room.uid,
        sequence=room.sequence,
        method=room.method,
        start=start,
        end=start + timedelta(minutes=room.duration_minutes),
        summary=room.programme,
        organizer_name=room.organizer_name,
        organizer_email=room.organizer_email,
        attendees=(room.attendee,),
        video_url=room.room_url,
        programme=room.programme,
        stamp=room.stamp,
    )
