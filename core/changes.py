"""Changes to a person's taking part: leave, join again, pause, resume, can't make it, erase.

Each is one function that every way in calls (the web pages, the one-click links, Slack, the
API, the command line), so a pause from Slack and a pause on the web do exactly the same.

Every change that touches an upcoming break writes its calendar consequences into the outbox in
the same transaction: the person who drops out gets a CANCEL; when the rest can still meet they
get an update (same UID, SEQUENCE + 1, the new member list); when too few are left, the whole
break is cancelled for everyone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from functools import cache

from sqlalchemy import String, Table, bindparam, cast, delete, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core import drop_in, learning_teams
from core.db import db
from core.enums import GroupStatus
from core.i18n import normalise
from core.invites import build_invite
from core.models import (
    AuditLog,
    Delivery,
    Group,
    GroupMember,
    Person,
    Preference,
    Programme,
    ProgrammeMember,
)
from core.outbox import Outbox
from core.programmes import Applicant, check_programmes
from core.settings import Settings
from integrations.payload import forget


def upcoming_groups(person: Person, now: datetime, before: date | None = None) -> list[Group]:
    """The scheduled groups ``person`` is in whose break has not started (before ``before``)."""
    query = (
        select(Group)
        .join(GroupMember, GroupMember.group_id == Group.id)
        .where(
            GroupMember.person_id == person.id,
            Group.status == GroupStatus.SCHEDULED,
            Group.start_at > now,
            # A learning team is a series, not one break: see core.learning_teams.
            ~Group.uid.startswith(learning_teams.TEAM_UID_PREFIX),
        )
        .order_by(Group.start_at)
    )
    groups = list(db.session.scalars(query))
    if before is not None:
        groups = [g for g in groups if g.round.date < before]
    return groups


def withdraw(
    settings: Settings,
    person: Person,
    group: Group,
    now: datetime,
    *,
    keep_person_row: bool = True,
) -> None:
    """Take ``person`` out of ``group``: update the others, or cancel the break for all.

    With ``keep_person_row`` False (the person is being erased) their cancellation is detached
    from their row, so it still reaches them after the row is gone.
    """
    outbox = Outbox(settings)
    programme = group.round.programme.name
    language = group.round.programme.language  # of the group's shared messages
    members = [m.person for m in group.members]
    others = [p for p in members if p.id != person.id]
    detach = None if keep_person_row else person.id
    group.sequence += 1
    if len(others) >= 2:
        for seat in list(group.members):
            if seat.person_id == person.id:
                group.members.remove(seat)
        db.session.flush()
        update = build_invite(settings, group, others, "REQUEST", programme, now)
        rows = outbox.invite_rows(update, group, others, now, programme_language=language)
        cancel = build_invite(settings, group, [person], "CANCEL", programme, now)
        cancel = replace(cancel, cancel_scope="attendees")
        rows += outbox.invite_rows(
            cancel, group, [person], now, channels=outbox.per_person, detach=detach
        )
    else:
        group.status = GroupStatus.CANCELLED
        cancel = build_invite(settings, group, members, "CANCEL", programme, now)
        rows = outbox.invite_rows(
            cancel, group, members, now, detach=detach, programme_language=language
        )
    outbox.write(rows)


def set_programmes(settings: Settings, person: Person, ids: list[int]) -> list[Programme]:
    """Make ``ids`` the person's programmes (the caller commits). ValueError names a bad choice.

    Drop-in rooms left get their CANCEL and rooms joined their first invite, in the outbox.
    """
    chosen = check_programmes(person, ids)
    allowed = {p.id: p for p in chosen}
    wanted = set(allowed)
    current = set(
        db.session.scalars(
            select(ProgrammeMember.programme_id).where(ProgrammeMember.person_id == person.id)
        )
    )
    for programme_id in current - wanted:
        programme = db.session.get(Programme, programme_id)
        if programme is not None and programme.is_drop_in:
            drop_in.left(settings, programme, person)
        if programme is not None and programme.is_learning_team:
            learning_teams.person_leaves(settings, person, programme_id=programme.id)
        db.session.delete(db.session.get(ProgrammeMember, (programme_id, person.id)))
    db.session.add_all(
        ProgrammeMember(programme_id=i, person_id=person.id) for i in sorted(wanted - current)
    )
    db.session.flush()
    for programme_id in sorted(wanted - current):
        if allowed[programme_id].is_drop_in:
            drop_in.joined(settings, allowed[programme_id], person)
    return chosen


@dataclass(frozen=True)
class Preferences:
    """How, where and when a person takes part, as their preferences page (or a chat form)
    sets it: already checked by whoever asked them."""

    timezone: str
    work_start: time
    work_end: time
    mode: str
    frequency: str
    group_size_pref: str
    topics: list[str]
    share_topics: list[str]
    avoid: list[int]
    reminders: bool
    days: list[str]
    weekday_sites: dict[str, str | None]
    #: Their own language (core.i18n.LANGUAGES); None: automatic (browser, then FIKA_LANGUAGE).
    language: str | None = None


def save_preferences(person: Person, chosen: Preferences) -> None:
    """Store the person's preferences (their own, signed in). Commits."""
    pref = person.preference or Preference()
    person.preference = pref
    person.timezone, person.work_start, person.work_end = (
        chosen.timezone,
        chosen.work_start,
        chosen.work_end,
    )
    pref.mode, pref.frequency, pref.group_size_pref = (
        chosen.mode,
        chosen.frequency,
        chosen.group_size_pref,
    )
    pref.topics, pref.share_topics = chosen.topics, chosen.share_topics
    pref.avoid, pref.reminders = chosen.avoid, chosen.reminders
    pref.days, pref.weekday_sites = chosen.days, chosen.weekday_sites
    person.language = normalise(chosen.language)
    db.session.commit()


def join(settings: Settings, applicant: Applicant, programme_ids: list[int] | None) -> Person:
    """Add someone new who opted in, taking part, with their programmes (flushed; the caller
    commits). It never changes an existing person: that is theirs to do, signed in."""
    person = Person(
        email=applicant.email,
        name=applicant.name,
        department=applicant.department,
        timezone=applicant.timezone,
        home_office=applicant.home_office,
        language=normalise(applicant.language),
        preference=Preference(
            active=True,
            topics=list(applicant.topics),
            share_topics=list(applicant.share_topics),
        ),
    )
    db.session.add(person)
    db.session.flush()
    if programme_ids:
        set_programmes(settings, person, programme_ids)  # drop-in rooms write their invite
    return person


def join_if_new(applicant: Applicant) -> int | None:
    """Add someone new who opted in without choosing programmes, as :func:`join` does: the new
    person's id, or None when the address is known already (then nothing is written). The
    caller commits.

    No ORM objects and no SELECT first: the address is claimed by the INSERT itself (``ON
    CONFLICT (email) DO NOTHING``), so two first submits of one address store one person. On
    PostgreSQL the person and their preferences are one statement (the preferences inserted
    from the person's INSERT … RETURNING), so it needs no transaction around it; SQLite, which
    has no INSERT in a WITH, runs two in the caller's transaction. The rows are those
    :func:`join` writes (the columns' defaults are the model's). The statements are built once
    per dialect (:func:`_join_statements`) and run with this applicant's values as parameters.
    """
    person = {
        "email": applicant.email,
        "name": applicant.name,
        "department": applicant.department,
        "timezone": applicant.timezone,
        "home_office": applicant.home_office,
        "language": normalise(applicant.language),
    }
    preference = column_defaults(Preference.__table__) | {
        "active": True,
        "topics": list(applicant.topics),
        "share_topics": list(applicant.share_topics),
    }
    dialect = db.session.get_bind().dialect.name
    person_insert, preference_insert = _join_statements(dialect, tuple(preference))
    if preference_insert is None:  # PostgreSQL: both rows in one statement
        return db.session.scalar(person_insert, person | _prefixed(preference))
    person_id = db.session.scalar(person_insert, person)
    if person_id is not None:
        db.session.execute(preference_insert, preference | {"person_id": person_id})
    return person_id


#: The parameters of :func:`join_if_new`'s one PostgreSQL statement that fill the preferences.
_PREFERENCE_PARAMETER = "preference_"


def _prefixed(preference: dict[str, object]) -> dict[str, object]:
    return {_PREFERENCE_PARAMETER + key: value for key, value in preference.items()}


#: Columns of the person that :func:`join_if_new` sets (the rest take their defaults).
_PERSON_COLUMNS = ("email", "name", "department", "timezone", "home_office", "language")


@cache
def _join_statements(dialect: str, preference_columns: tuple[str, ...]):
    """:func:`join_if_new`'s statements for ``dialect``, with a parameter for each value.

    Core statements of the tables (not the mapped classes): built once, as building one costs
    more than running it. PostgreSQL: (one INSERT … WITH for both rows, None); otherwise (the
    person's INSERT … RETURNING id, the preferences' INSERT).
    """
    people, preferences = Person.__table__, Preference.__table__
    values = {name: bindparam(name, type_=people.c[name].type) for name in _PERSON_COLUMNS}
    if dialect == "postgresql":
        new = (
            postgresql.insert(people)
            .values(values)
            .on_conflict_do_nothing(index_elements=[people.c.email])
            .returning(people.c.id)
            .cte("new_person")
        )
        filled = (
            bindparam(_PREFERENCE_PARAMETER + name, type_=preferences.c[name].type)
            for name in preference_columns
        )
        statement = (
            insert(preferences)
            .from_select(
                ["person_id", *preference_columns],
                select(new.c.id, *filled),
                include_defaults=False,
            )
            .returning(preferences.c.person_id)
        )
        return statement, None
    person_insert = (
        sqlite.insert(people)
        .values(values)
        .on_conflict_do_nothing(index_elements=[people.c.email])
        .returning(people.c.id)
    )
    return person_insert, insert(preferences)


def column_defaults(table: Table) -> dict[str, object]:
    """The values ``table``'s columns get by default on an INSERT (Python-side defaults only).

    An INSERT … SELECT does not fill them in itself, so :func:`join_if_new` passes them.
    """
    values = {}
    for column in table.columns:
        default = column.default
        if default is None or column.primary_key:
            continue
        if default.is_scalar:
            values[column.key] = default.arg
        elif default.is_callable:
            values[column.key] = default.arg(None)  # called as an INSERT would, no context
    return values


def leave(settings: Settings, person: Person, now: datetime | None = None) -> int:
    """Stop taking part; upcoming breaks are updated or cancelled. Returns how many were touched.

    The one-click unsubscribe, the preferences page, ``/fika leave`` and leaving a linked chat
    channel all end here. Commits.
    """
    now = now or datetime.now(UTC)
    if person.preference is not None:
        person.preference.active = False
    groups = upcoming_groups(person, now)
    for group in groups:
        withdraw(settings, person, group, now)
    drop_in.person_leaves(settings, person, now)
    learning_teams.person_leaves(settings, person, now)
    db.session.commit()
    return len(groups)


def rejoin(person: Person) -> None:
    """Take part again after leaving (or a pause): from the next round. Commits."""
    if person.preference is None:
        person.preference = Preference()
    person.preference.active = True
    person.preference.paused_until = None
    db.session.commit()


def pause(settings: Settings, person: Person, until: date, now: datetime | None = None) -> int:
    """Pause until ``until`` (taking part again that day); breaks before it are given up.

    Returns how many upcoming breaks were given up. Commits.
    """
    now = now or datetime.now(UTC)
    person.preference.paused_until = until
    groups = upcoming_groups(person, now, before=until)
    for group in groups:
        withdraw(settings, person, group, now)
    drop_in.person_paused(settings, person, now)
    db.session.commit()
    return len(groups)


def resume(settings: Settings, person: Person, now: datetime | None = None) -> None:
    """Take part again now, ending a pause (or having left); drop-in room invites get their
    paused days back (an update). Commits."""
    was_paused = person.preference.paused_until is not None
    person.preference.active = True
    person.preference.paused_until = None
    if was_paused:
        drop_in.person_paused(settings, person, now or datetime.now(UTC))
    db.session.commit()


def erase(settings: Settings, person: Person, now: datetime | None = None) -> int:
    """Delete every row about ``person``; their upcoming breaks are updated or cancelled first.

    The cancellations written for them are detached from their row (``keep_person_row=False``)
    so they are still delivered after the person is gone. Every table with a foreign key to
    ``person`` is cleared explicitly (SQLite does not enforce ON DELETE), so a table added later
    is covered too. Returns how many upcoming breaks were touched.
    """
    now = now or datetime.now(UTC)
    person_id, email = person.id, person.email
    names = (person.name, person.first_name())
    were_in = list(
        db.session.scalars(select(GroupMember.group_id).where(GroupMember.person_id == person_id))
    )
    groups = upcoming_groups(person, now)
    for group in groups:
        withdraw(settings, person, group, now, keep_person_row=False)
    drop_in.person_leaves(settings, person, now, erase=True)
    learning_teams.person_leaves(settings, person, now, erase=True)
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
    name, first = names
    pending = Delivery.is_unsent()
    to_them = select(Delivery).where(Delivery.recipient == email, pending)
    for row in db.session.scalars(to_them):
        row.payload = {**row.payload, "forget_after_sending": True}  # core.dispatch
    shared = select(Delivery).where(Delivery.group_id.in_(group_ids), Delivery.recipient != email)
    for row in db.session.scalars(shared):
        row.payload = forget(row.payload, email, name, first)
        if row.last_error:
            row.last_error = forget(row.last_error, email, name)
    mentions = select(AuditLog).where(cast(AuditLog.details, String).contains(email))
    for entry in db.session.scalars(mentions):
        entry.details = forget(entry.details, email, name) | {"erased_person": person_id}
