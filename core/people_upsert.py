"""Writing validated people: a bulk upsert by email, a few statements per 900 rows.

Used by the CSV import (admin upload and ``fika import``) and the JSON API, after
:mod:`core.people_import` has checked every record. Nothing here commits: the caller commits the
rows together with its audit entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import time

from sqlalchemy import bindparam, insert, select, update

from core.db import db
from core.models import Person, Preference

CHUNK = 900  # rows per IN (...) or bulk statement: below SQLite's bound-parameter limit


@dataclass(frozen=True)
class PersonRecord:
    """A validated person, ready to upsert; ``active`` None leaves an existing person's as is."""

    line: int
    email: str
    name: str
    department: str
    office: str | None
    timezone: str
    work_start: time
    work_end: time
    manager_email: str | None
    active: bool | None
    #: "en", "sv" or "de"; None: no choice in the file, so an existing person's stays as it is.
    language: str | None = None
    # What they want to learn (``Preference.topics``) and can share; None leaves them as is.
    learn_topics: tuple[str, ...] | None = None
    share_topics: tuple[str, ...] | None = None


def ids_by_email(emails: Iterable[str]) -> dict[str, int]:
    emails = sorted(set(emails))
    found: dict[str, int] = {}
    for start in range(0, len(emails), CHUNK):
        rows = db.session.execute(
            select(Person.email, Person.id).where(Person.email.in_(emails[start : start + CHUNK]))
        )
        found.update({email: person_id for email, person_id in rows})
    return found


def _fields(record: PersonRecord) -> dict:
    return {
        "email": record.email,
        "name": record.name,
        "department": record.department,
        "home_office": record.office,
        "timezone": record.timezone,
        "work_start": record.work_start,
        "work_end": record.work_end,
        "language": record.language,
    }


def apply_records(
    records: list[PersonRecord],
    *,
    dry_run: bool,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int, int]:
    """Upsert validated records by email with bulk statements; (created, updated, unchanged).

    The caller commits (and records the audit entry in the same transaction). With ``dry_run``
    the same comparison runs and nothing is written.
    """
    created = updated = unchanged = 0
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        existing = {
            p.email: p
            for p in db.session.execute(
                select(Person.__table__).where(Person.email.in_([r.email for r in chunk]))
            )
        }
        preferences = {
            person_id: (active, topics, share)
            for person_id, active, topics, share in db.session.execute(
                select(
                    Preference.person_id,
                    Preference.active,
                    Preference.topics,
                    Preference.share_topics,
                ).where(Preference.person_id.in_([p.id for p in existing.values()]))
            )
        }
        actives = {person_id: p[0] for person_id, p in preferences.items()}
        new, changed, preference_rows, active_changes = [], [], [], []
        for record in chunk:
            row = existing.get(record.email)
            fields = _fields(record)
            if row is None:
                new.append(fields)
                continue
            if record.language is None:  # no choice given: keep theirs (maybe made on /me)
                fields["language"] = row.language
            differs = any(getattr(row, k) != v for k, v in fields.items())
            if row.id not in actives:
                preference_rows.append(_new_preference(row.id, record))
                differs = True
            else:
                _, topics, share = preferences[row.id]
                wanted = {
                    "active": actives[row.id] if record.active is None else record.active,
                    "topics": list(topics or [])
                    if record.learn_topics is None
                    else list(record.learn_topics),
                    "share_topics": list(share or [])
                    if record.share_topics is None
                    else list(record.share_topics),
                }
                current = {
                    "active": actives[row.id],
                    "topics": list(topics or []),
                    "share_topics": list(share or []),
                }
                if wanted != current:
                    active_changes.append({"person_id": row.id, **wanted})
                    differs = True
            if differs:
                changed.append({"id": row.id, **fields})
            else:
                unchanged += 1
        created += len(new)
        updated += len(changed)
        if not dry_run:
            _write(chunk, new, changed, preference_rows, active_changes)
        if progress is not None:
            progress(len(chunk))
    if not dry_run:
        _link_managers(records)
    return created, updated, unchanged


def _write(chunk, new, changed, preference_rows, active_changes) -> None:
    # Core executemany on the tables (the driver pipelines the rows); the ORM's bulk path
    # would split a chunk into many statements wherever the rows' None values differ.
    if new:
        db.session.execute(insert(Person.__table__), new)
        ids = ids_by_email(r["email"] for r in new)
        by_email = {r.email: r for r in chunk}
        preference_rows += [_new_preference(ids[r["email"]], by_email[r["email"]]) for r in new]
    if changed:
        db.session.execute(update(Person), changed)
    if preference_rows:
        db.session.execute(insert(Preference.__table__), preference_rows)
    if active_changes:
        db.session.execute(update(Preference), active_changes)


def _new_preference(person_id: int, record: PersonRecord) -> dict:
    """The Preference row of someone imported without one (taking part unless ``active`` no)."""
    return {
        "person_id": person_id,
        "active": record.active is not False,
        "topics": list(record.learn_topics or ()),
        "share_topics": list(record.share_topics or ()),
    }


def _link_managers(records: list[PersonRecord]) -> None:
    """Set manager_id from manager_email once everyone in the file exists."""
    ids = ids_by_email({r.email for r in records} | {r.manager_email or "" for r in records})
    current = {}
    for start in range(0, len(records), CHUNK):
        emails = [r.email for r in records[start : start + CHUNK]]
        current.update(
            dict(
                db.session.execute(
                    select(Person.email, Person.manager_id).where(Person.email.in_(emails))
                ).all()
            )
        )
    changes = [
        {"id": ids[r.email], "manager_id": ids.get(r.manager_email or "")}
        for r in records
        if r.manager_email is not None and current.get(r.email) != ids.get(r.manager_email)
    ]
    if changes:
        table = Person.__table__
        db.session.execute(
            update(table)
            .where(table.c.id == bindparam("person_id"))
            .values(manager_id=bindparam("new_manager_id")),
            [{"person_id": c["id"], "new_manager_id": c["manager_id"]} for c in changes],
        )
