"""Drop-in coffee rooms: each subscriber's recurring invite, and the nudge before each opens.

A drop-in programme is never matched. Each subscriber holds one recurring event, UID
``fika-room-<programme>-<person>``; every change to it (the programme's schedule or room, a
pause, leaving) is a new version with ``ProgrammeMember.room_sequence`` + 1, written to the
outbox in the caller's transaction like every other calendar change (see ``core.changes``).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import db
from core.enums import ProgrammeKind, RoundStatus
from core.events import log_event
from core.i18n import using
from core.invites import attendee, organiser
from core.models import WEEKDAYS, Delivery, Person, Programme, ProgrammeMember
from core.outbox import Outbox
from core.rounds import claim_round
from core.schedule import schedule_for
from core.settings import Settings
from integrations import notices
from integrations.base import MessageKind, RoomInvite

log = logging.getLogger("fika.room")

#: A pause lists at most this many days ahead as EXDATEs (a long pause is a leave).
EXDATE_HORIZON_DAYS = 60
#: The programme fields whose change sends every subscriber an update.
SCHEDULE_FIELDS = ("name", "days", "local_time", "timezone", "duration_minutes", "room_url")


def room_uid(programme_id: int, person_id: int) -> str:
    """Stable per programme and person, so every version folds into one calendar series."""
    return f"fika-room-{programme_id}-{person_id}"


def room_url(settings: Settings, programme: Programme) -> str:
    """The programme's room; generated once from FIKA_VIDEO_URL_TEMPLATE and then kept."""
    if not programme.room_url:
        template = settings.video_url_template
        # Unguessable: anyone with the link can join a Jitsi room.
        programme.room_url = template.format(room=f"fika-room-{secrets.token_hex(10)}")
    return programme.room_url


def pause_exdates(programme: Programme, person: Person, today: date) -> tuple[date, ...]:
    """The programme days from ``today`` until the person's pause ends (at most 60 days)."""
    pref = person.preference
    until = pref.paused_until if pref is not None else None
    if until is None or until <= today:
        return ()
    end = min(until, today + timedelta(days=EXDATE_HORIZON_DAYS))
    days = set(programme.days or [])
    return tuple(
        today + timedelta(days=n)
        for n in range((end - today).days)
        if WEEKDAYS[(today + timedelta(days=n)).weekday()] in days
    )


def build_room_invite(
    settings: Settings,
    programme: Programme,
    person: Person,
    member: ProgrammeMember,
    method: str,
    now: datetime,
) -> RoomInvite:
    """The person's room invite at the member's sequence, with their pause as EXDATEs.

    The series starts on the day they subscribed, so it never shows sessions before that.
    """
    name, address = organiser(settings)
    zone = ZoneInfo(programme.timezone)
    today = now.astimezone(zone).date()
    since = member.created_at.astimezone(zone).date() if member.created_at else today
    return RoomInvite(
        uid=room_uid(programme.id, person.id),
        sequence=member.room_sequence or 0,
        method=method,  # type: ignore[arg-type]
        programme=programme.name,
        days=tuple(d for d in WEEKDAYS if d in (programme.days or [])),
        local_time=programme.local_time,
        timezone=programme.timezone,
        duration_minutes=programme.duration_minutes,
        first_day=since,
        room_url=room_url(settings, programme),
        organizer_name=name,
        organizer_email=address,
        attendee=attendee(person, person.home_office),
        exdates=pause_exdates(programme, person, today) if method == "REQUEST" else (),
        stamp=now,
    )


def last_sequence(programme_id: int, person_id: int) -> int | None:
    """The highest SEQUENCE already written for this series (a re-subscriber continues it)."""
    prefix = room_uid(programme_id, person_id) + ".s"
    keys = db.session.scalars(select(Delivery.key).where(Delivery.key.like(prefix + "%")))
    numbers = [int(k[len(prefix) :].split(".")[0]) for k in keys]
    return max(numbers) if numbers else None


def send_room(
    settings: Settings,
    programme: Programme,
    person: Person,
    member: ProgrammeMember,
    method: str,
    now: datetime | None = None,
    *,
    bump: bool = True,
    keep_person_row: bool = True,
) -> None:
    """Write the person's next room version (REQUEST or CANCEL) to the outbox."""
    now = now or datetime.now(UTC)
    if bump:
        member.room_sequence = (member.room_sequence or 0) + 1
    room = build_room_invite(settings, programme, person, member, method, now)
    outbox = Outbox(settings)
    # Erased: the cancel must outlive the person row.
    outbox.write(outbox.room_rows(room, person, now, detach=not keep_person_row))


def joined(
    settings: Settings, programme: Programme, person: Person, now: datetime | None = None
) -> None:
    """A new subscriber: the first invite (or, after an earlier leave, the next version)."""
    member = db.session.get(ProgrammeMember, (programme.id, person.id))
    previous = last_sequence(programme.id, person.id)
    member.room_sequence = 0 if previous is None else previous + 1
    send_room(settings, programme, person, member, "REQUEST", now, bump=False)


def subscribers(programme: Programme) -> list[tuple[ProgrammeMember, Person]]:
    """Everyone subscribed to a drop-in programme, with their membership row."""
    return list(
        db.session.execute(
            select(ProgrammeMember, Person)
            .join(Person, Person.id == ProgrammeMember.person_id)
            .where(ProgrammeMember.programme_id == programme.id)
            .order_by(Person.id)
        )
    )


def _takes_part(person: Person) -> bool:
    return person.preference is None or person.preference.active


def programme_changed(
    settings: Settings, programme: Programme, before: dict | None, now: datetime | None = None
) -> None:
    """After an admin edit: updates on a schedule/room change, CANCELs when switched off.

    ``before`` is the programme's snapshot before the edit (None: just created, no one yet).
    """
    if before is None:
        return
    was_on = before.get("kind") == ProgrammeKind.DROP_IN and before.get("active")
    is_on = programme.is_drop_in and programme.active
    if not was_on and not is_on:
        return
    changed = any(before.get(f) != getattr(programme, f) for f in SCHEDULE_FIELDS)
    if was_on and is_on and not changed:
        return
    method = "REQUEST" if is_on else "CANCEL"
    for member, person in subscribers(programme):
        if _takes_part(person):
            send_room(settings, programme, person, member, method, now)


def person_leaves(
    settings: Settings, person: Person, now: datetime | None = None, *, erase: bool = False
) -> int:
    """CANCEL every room the person holds and drop those subscriptions. Returns how many."""
    rows = db.session.execute(
        select(ProgrammeMember, Programme)
        .join(Programme, Programme.id == ProgrammeMember.programme_id)
        .where(ProgrammeMember.person_id == person.id, Programme.kind == ProgrammeKind.DROP_IN)
    )
    count = 0
    for member, programme in list(rows):
        if programme.active:
            send_room(settings, programme, person, member, "CANCEL", now, keep_person_row=not erase)
            count += 1
        db.session.delete(member)
    db.session.flush()
    return count


def person_paused(settings: Settings, person: Person, now: datetime | None = None) -> int:
    """An update with the paused days as EXDATEs for every room the person holds."""
    rows = db.session.execute(
        select(ProgrammeMember, Programme)
        .join(Programme, Programme.id == ProgrammeMember.programme_id)
        .where(
            ProgrammeMember.person_id == person.id,
            Programme.kind == ProgrammeKind.DROP_IN,
            Programme.active.is_(True),
        )
    )
    count = 0
    for member, programme in list(rows):
        send_room(settings, programme, person, member, "REQUEST", now)
        count += 1
    return count


def left(
    settings: Settings, programme: Programme, person: Person, now: datetime | None = None
) -> None:
    """The person unsubscribed from one room (the membership row is about to go)."""
    member = db.session.get(ProgrammeMember, (programme.id, person.id))
    if member is not None and programme.active:
        send_room(settings, programme, person, member, "CANCEL", now)


# --- The nudge before each room opens -------------------------------------------------------
#
# Run from the clock's minute tick. A programme's nudge is due from ``NUDGE_MINUTES`` before the
# room opens until it opens, on the programme's working days (``core.schedule``: its days, minus
# public holidays and days off). Each (programme, date) is claimed by inserting a Round row with
# status "nudged" through the rounds' ON CONFLICT DO NOTHING claim, and the nudge is written to
# the outbox in the claim's transaction: two clocks write it once, a failed post is retried, and
# one that would arrive after the room opened is not sent (the notice expires then).


def nudge_rooms(settings: Settings, now: datetime) -> int:
    """Queue every nudge due at ``now``; returns how many programmes were nudged."""
    outbox = Outbox(settings)
    if not outbox.notice_channels:
        return 0
    programmes = db.session.scalars(
        select(Programme).where(Programme.active.is_(True), Programme.kind == ProgrammeKind.DROP_IN)
    ).all()
    nudged = 0
    for programme in programmes:
        schedule = replace(schedule_for(programme), lead_minutes=notices.NUDGE_MINUTES)
        day = now.astimezone(schedule.zone).date()
        if not schedule.is_working_day(day):
            continue
        opens = schedule.break_at(day)
        if not schedule.plan_at(day) <= now < opens:
            continue
        url = room_url(settings, programme)
        claimed = claim_round(
            programme, day, stats={"nudge": url}, unmatched=[], status=RoundStatus.NUDGED
        )
        if claimed is None:
            db.session.rollback()
            continue  # another clock queued it
        with using(programme.language):  # a shared channel reads the programme's language
            notice = notices.room_nudge(programme.name, url, opens)
        key = f"room_nudge-{programme.id}-{day.isoformat()}"
        new = outbox.write(
            outbox.notice_rows(MessageKind.ROOM_NUDGE, key, notice, now, round_id=claimed)
        )
        db.session.commit()
        log_event(log, "room.nudge_queued", programme=programme.id, date=day, messages=new)
        nudged += 1
    return nudged
