"""Changes to a person's taking part after a round: leave, pause, can't make it, erase.

Every change that touches an upcoming break writes its calendar consequences into the outbox in
the same transaction: the person who drops out gets a CANCEL; when the rest can still meet they
get an update (same UID, SEQUENCE + 1, the new member list); when too few are left, the whole
break is cancelled for everyone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import current_app
from sqlalchemy import select

from core import rooms
from core.channels import PER_GROUP, configured_channels
from core.db import db
from core.invites import build_invite, deliveries_for
from core.models import Group, GroupMember, Person


def upcoming_groups(person: Person, now: datetime, before: date | None = None) -> list[Group]:
    """The scheduled groups ``person`` is in whose break has not started (before ``before``)."""
    query = (
        select(Group)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(
            GroupMember.person_id == person.id,
            Group.status == "scheduled",
            Group.start_at > now,
        )
        .order_by(Group.start_at)
    )
    groups = list(db.session.scalars(query))
    if before is not None:
        groups = [g for g in groups if g.round.date < before]
    return groups


def withdraw(person: Person, group: Group, now: datetime, *, keep_person_row: bool = True) -> None:
    """Take ``person`` out of ``group``: update the others, or cancel the break for all."""
    channels = sorted(configured_channels(current_app.config))
    per_person = [c for c in channels if c not in PER_GROUP]
    programme = group.round.programme.name
    members = [m.person for m in group.members]
    others = [p for p in members if p.id != person.id]
    group.sequence += 1
    if len(others) >= 2:
        for seat in list(group.members):
            if seat.person_id == person.id:
                group.members.remove(seat)
        db.session.flush()
        update = build_invite(group, others, "REQUEST", programme, now)
        db.session.add_all(deliveries_for(update, group, others, channels))
        cancel = build_invite(group, [person], "CANCEL", programme, now)
        cancel = _with_scope(cancel, "attendees")
        rows = deliveries_for(cancel, group, [person], per_person)
    else:
        group.status = "cancelled"
        cancel = build_invite(group, members, "CANCEL", programme, now)
        rows = deliveries_for(cancel, group, members, channels)
    if not keep_person_row:
        # The person is being erased: the cancellation still has to reach them, so the row
        # must not be tied to (and deleted with) their person row.
        for row in rows:
            if row.person_id == person.id:
                row.person_id = None
    db.session.add_all(rows)


def _with_scope(invite, scope: str):
    from dataclasses import replace

    return replace(invite, cancel_scope=scope)


def leave(person: Person, now: datetime | None = None) -> int:
    """Stop taking part; upcoming breaks are updated or cancelled. Returns how many were touched."""
    now = now or datetime.now(UTC)
    if person.preference is not None:
        person.preference.active = False
    groups = upcoming_groups(person, now)
    for group in groups:
        withdraw(person, group, now)
    rooms.person_leaves(person, now)
    db.session.commit()
    return len(groups)


def pause(person: Person, until: date, now: datetime | None = None) -> int:
    """Pause until ``until`` (taking part again that day); breaks before it are given up."""
    now = now or datetime.now(UTC)
    person.preference.paused_until = until
    groups = upcoming_groups(person, now, before=until)
    for group in groups:
        withdraw(person, group, now)
    rooms.person_paused(person, now)
    db.session.commit()
    return len(groups)


def resume(person: Person, now: datetime | None = None) -> None:
    """End a pause now; drop-in room invites get their paused days back (an update)."""
    was_paused = person.preference.paused_until is not None
    person.preference.paused_until = None
    if was_paused:
        rooms.person_paused(person, now or datetime.now(UTC))
    db.session.commit()


def erase(person: Person, now: datetime | None = None) -> int:
    """Delete every row about ``person``; their upcoming breaks are updated or cancelled first.

    The cancellations written for them are detached from their row (``keep_person_row=False``)
    so they are still delivered after the person is gone. Every table with a foreign key to
    ``person`` is cleared explicitly (SQLite does not enforce ON DELETE), so a table added later
    is covered too. Returns how many upcoming breaks were touched.
    """
    from sqlalchemy import delete, or_, update

    from core.models import Delivery, Preference

    now = now or datetime.now(UTC)
    person_id, email = person.id, person.email
    names = (person.name, person.first_name())
    were_in = list(
        db.session.scalars(select(GroupMember.group_id).where(GroupMember.person_id == person_id))
    )
    groups = upcoming_groups(person, now)
    for group in groups:
        withdraw(person, group, now, keep_person_row=False)
    rooms.person_leaves(person, now, erase=True)
    db.session.flush()
    _forget_in_others_records(person_id, email, names, were_in)
    pending = Delivery.is_unsent()
    # Messages sent to them after an earlier detach go too; the cancellations just written are
    # pending and must still go out.
    db.session.execute(
        delete(Delivery).where(
            or_(Delivery.person_id == person_id, (Delivery.recipient == email) & ~pending)
        )
    )
    # Others' "rather not meet" lists hold ids; a reused id must not inherit them.
    for preference in db.session.scalars(select(Preference)):
        if person_id in (preference.avoid or []):
            preference.avoid = [i for i in preference.avoid if i != person_id]
    for table in reversed(db.metadata.sorted_tables):
        for key in table.foreign_keys:
            if key.column.table.name != "person" or key.column.name != "id":
                continue
            column = key.parent
            if key.ondelete == "SET NULL":
                db.session.execute(
                    update(table).where(column == person_id).values({column.name: None})
                )
            elif table.name != "person":
                db.session.execute(delete(table).where(column == person_id))
    external = db.metadata.tables.get("external_id")
    if external is not None:  # chat ids remembered by email address
        db.session.execute(delete(external).where(external.c.key == email))
    db.session.execute(delete(Person).where(Person.id == person_id))
    db.session.commit()
    return len(groups)


def _forget_in_others_records(
    person_id: int, email: str, names: tuple[str, str], group_ids: list[int]
) -> None:
    """Take an erased person out of the rows that stay: the others' messages about the breaks
    they shared and the audit log. Their own messages are deleted (see :func:`erase`), except
    the cancellations still to reach them: those are marked to be deleted once sent."""
    from sqlalchemy import String, cast

    from core.models import AuditLog, Delivery
    from integrations.payload import forget

    name, first = names
    pending = Delivery.is_unsent()
    to_them = select(Delivery).where(Delivery.recipient == email, pending)
    for row in db.session.scalars(to_them):
        row.payload = {**row.payload, "forget_after_sending": True}  # see jobs.outbox
    shared = select(Delivery).where(Delivery.group_id.in_(group_ids), Delivery.recipient != email)
    for row in db.session.scalars(shared):
        row.payload = forget(row.payload, email, name, first)
        if row.last_error:
            row.last_error = forget(row.last_error, email, name)
    mentions = select(AuditLog).where(cast(AuditLog.details, String).contains(email))
    for entry in db.session.scalars(mentions):
        entry.details = forget(entry.details, email, name) | {"erased_person": person_id}
