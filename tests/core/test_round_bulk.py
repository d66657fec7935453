"""The round's bulk writes: COPY on PostgreSQL writes exactly what the INSERT path writes.

``core.bulk`` and ``Outbox.write_many`` COPY groups, seats and deliveries on PostgreSQL; the
INSERT path (Core executemany, ``Outbox.write``) is what SQLite always uses. The same round is
run through both paths, with its random parts (uids, room names, token times) fixed, and every
row must come out the same. On SQLite both runs take the INSERT path.
"""

from __future__ import annotations

import gc
import itertools
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import delete, func, select, text

import core.bulk
import core.outbox
import core.rounds as rounds
from core import faults
from core.db import db
from core.models import Delivery, Group, GroupMember, Round
from core.outbox import STAGING, Outbox
from core.programmes import ensure_default_programme
from tests.core.helpers import add_person
from tests.core.test_rounds import MONDAY, make_people
from web.config import current_settings

NOW = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)
TABLES = (Round, Group, GroupMember, Delivery)


def fix_randomness(monkeypatch) -> None:
    """Uids and video rooms from counters, so two runs of a round can be compared row by row."""
    uids = itertools.count()
    rooms = itertools.count()
    monkeypatch.setattr(
        rounds, "uuid", SimpleNamespace(uuid4=lambda: SimpleNamespace(hex=f"{next(uids):032x}"))
    )
    monkeypatch.setattr(
        rounds, "secrets", SimpleNamespace(token_hex=lambda n: f"{next(rooms):0{2 * n}x}")
    )


def rows_of_the_round() -> dict[str, list[dict]]:
    """Every row of every round table, all columns, in key order."""
    return {
        model.__tablename__: [
            dict(row)
            for row in db.session.execute(
                select(model.__table__).order_by(*model.__table__.primary_key.columns)
            ).mappings()
        ]
        for model in TABLES
    }


def forget_the_round() -> None:
    """Delete the round's rows and restart the id counters, as if it never ran."""
    for model in reversed(TABLES):
        db.session.execute(delete(model))
    if db.session.get_bind().dialect.name == "postgresql":
        for table in ("round", "fika_group", "delivery"):
            db.session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 1, false)")
            )
    db.session.commit()


def run_once(programme, copy: bool) -> dict[str, list[dict]]:
    copied: list[str] = []

    def spy(original):
        def copy_rows(table, columns, rows, **options):
            copied.append(options.get("into") or table.name)
            return original(table, columns, rows, **options)

        return copy_rows

    with pytest.MonkeyPatch.context() as patch:
        fix_randomness(patch)
        patch.setattr(core.bulk, "copy_rows", spy(core.bulk.copy_rows))
        patch.setattr(core.outbox, "copy_rows", spy(core.outbox.copy_rows))
        if not copy:
            patch.setattr(core.bulk, "copy_supported", lambda: False)
        with time_machine.travel(NOW, tick=False):
            outcome = rounds.run_round(current_settings(), programme, MONDAY, now=NOW)
    assert outcome.created
    on_postgres = db.session.get_bind().dialect.name == "postgresql"
    expected = ["fika_group", "group_member", "delivery"] if copy and on_postgres else []
    assert copied == expected
    db.session.expire_all()
    rows = rows_of_the_round()
    for row in rows["round"]:
        row["stats"].pop("seconds")  # the planner's own time: the one value that varies
    return rows


def test_a_copied_round_equals_the_inserted_one(app):
    with app.app_context():
        make_people(9)  # a trio and three pairs, people in an office and remote
        programme = ensure_default_programme(current_settings().timezone)
        inserted = run_once(programme, copy=False)
        forget_the_round()
        copied = run_once(programme, copy=True)
    assert len(inserted["fika_group"]) == 4 and len(inserted["group_member"]) == 9
    assert len(inserted["delivery"]) >= 9
    assert [d["key"] for d in copied["delivery"]] == [d["key"] for d in inserted["delivery"]]
    assert copied == inserted
    payload = copied["delivery"][0]["payload"]
    assert payload["invite"]["uid"] == copied["fika_group"][0]["uid"]
    assert copied["fika_group"][0]["start_at"].tzinfo is UTC


@pytest.mark.parametrize("copy", [True, False])
def test_write_many_skips_keys_already_there(app, copy):
    with app.app_context():
        make_people(4)
        programme = ensure_default_programme(current_settings().timezone)
        assert rounds.run_round(current_settings(), programme, MONDAY).created
        columns = [c for c in Delivery.__table__.columns if c.name not in ("id", "sent_at")]
        rows = [dict(r) for r in db.session.execute(select(*columns)).mappings()]
        before = db.session.scalar(select(func.count()).select_from(Delivery))
        outbox = Outbox(current_settings())
        assert outbox.write_many(rows, copy=copy) == 0
        fresh = [dict(r, key=f"{r['key']}-again") for r in rows[:2]]
        # A key twice in one batch is written once, as with ON CONFLICT DO NOTHING.
        assert outbox.write_many(rows + fresh + fresh[:1], copy=copy) == 2
        db.session.commit()
        after = db.session.scalar(select(func.count()).select_from(Delivery))
    assert after == before + 2


def test_write_many_falls_back_when_a_key_appears_meanwhile(app, monkeypatch):
    """A key written by another transaction after the check: the direct COPY fails, its
    savepoint is rolled back, and the staged INSERT ... ON CONFLICT skips that key."""
    copied: list[str] = []
    original = core.outbox.copy_rows

    def spy(table, columns, rows, **options):
        copied.append(options.get("into") or table.name)
        return original(table, columns, rows, **options)

    with app.app_context():
        make_people(4)
        programme = ensure_default_programme(current_settings().timezone)
        assert rounds.run_round(current_settings(), programme, MONDAY).created
        columns = [c for c in Delivery.__table__.columns if c.name not in ("id", "sent_at")]
        rows = [dict(r) for r in db.session.execute(select(*columns)).mappings()]
        before = db.session.scalar(select(func.count()).select_from(Delivery))
        fresh = [dict(r, key=f"{r['key']}-again") for r in rows[:2]]
        monkeypatch.setattr(core.outbox, "copy_rows", spy)
        monkeypatch.setattr(core.outbox, "_taken_keys", lambda keys: set())  # the check misses
        written = Outbox(current_settings()).write_many(rows[:1] + fresh, copy=True)
        db.session.commit()
        after = db.session.scalar(select(func.count()).select_from(Delivery))
        keys = set(db.session.scalars(select(Delivery.key)))
        on_postgres = db.session.get_bind().dialect.name == "postgresql"
    if not on_postgres:
        assert copied == [] and written == 2  # executemany with ON CONFLICT elsewhere
    else:
        assert copied == ["delivery", STAGING] and written == 2
    assert after == before + 2 and {r["key"] for r in fresh} <= keys


def test_a_round_that_fails_before_commit_leaves_no_row(app):
    """The COPYed rows are in the round's one transaction: a failure takes them all back."""

    def fail(point):
        raise RuntimeError(f"stopped at {point}")

    with app.app_context():
        make_people(6)
        add_person("late@example.org", "Sales")
        programme = ensure_default_programme(current_settings().timezone)
        faults.install("round.before_commit", fail)
        try:
            with pytest.raises(RuntimeError, match="round.before_commit"):
                rounds.run_round(current_settings(), programme, MONDAY)
        finally:
            faults.clear()
        counts = [db.session.scalar(select(func.count()).select_from(m)) for m in TABLES]
        assert counts == [0, 0, 0, 0]
        assert gc.isenabled()  # the round's pause of the cycle collector ended with it
        # The same round then runs normally: the failed attempt left nothing behind.
        again = rounds.run_round(current_settings(), programme, MONDAY + timedelta(days=0))
        assert again.created
        assert db.session.scalar(select(func.count()).select_from(GroupMember)) == 7


def test_invite_rows_hold_what_message_to_dict_makes(app):
    """A round's per-person invite rows are built without a Message each; every row (payload
    keys in order included) equals the one the generic builder makes from the Message."""
    from core.invites import build_invite
    from core.outbox import _row
    from integrations.base import Message
    from integrations.payload import message_to_dict

    with app.app_context():
        people = make_people(3)
        people[1].language = "sv"
        db.session.commit()
        settings = current_settings()
        group = SimpleNamespace(
            id=41, round_id=7, uid="fika-abc", sequence=0, start_at=NOW, end_at=NOW,
            mode="in_person", site="Stockholm", video_url="https://meet.example/x",
            reasons=["why"], starter="Tea or coffee?", status="scheduled",
        )  # fmt: skip
        invite = build_invite(settings, group, people, "REQUEST", "Fika", NOW)
        outbox = Outbox(settings)
        assert outbox.per_person  # the test app writes to the outbox folder
        with time_machine.travel(NOW, tick=False):  # the same token timestamps on both sides
            rows = outbox.invite_rows(invite, group, people, NOW, detach=people[2].id)
            shared = message_to_dict(Message(key="", invite=invite))["invite"]
            expected = []
            for channel in outbox.channels:
                for person, who in zip(people, invite.attendees, strict=True):
                    links, unsubscribe_url = outbox.links.invite_links(group.id, person.id)
                    message = Message(
                        key=f"{invite.uid}-{invite.sequence}-{channel}-{person.id}",
                        invite=invite,
                        recipient=who,
                        unsubscribe_url=unsubscribe_url,
                        links=links,
                        language=person.language,
                    )
                    person_id = None if person.id == people[2].id else person.id
                    expected.append(
                        _row(message, channel, person.email, NOW, group, person_id, invite=shared)
                    )
    assert rows == expected
    assert [list(r["payload"]) for r in rows] == [list(r["payload"]) for r in expected]
    assert rows[1]["payload"]["language"] == "sv" and "language" not in rows[0]["payload"]


def test_a_round_builds_its_rows_with_the_cycle_collector_paused(app, monkeypatch):
    """Load, plan and persist run without the cycle collector; it is back on afterwards."""
    seen = []
    for name in ("taking_part", "plan_round", "_persist_groups"):
        real = getattr(rounds, name)

        def spy(*args, _real=real, **kwargs):
            seen.append(gc.isenabled())
            return _real(*args, **kwargs)

        monkeypatch.setattr(rounds, name, spy)
    with app.app_context():
        make_people(4)
        programme = ensure_default_programme(current_settings().timezone)
        assert rounds.run_round(current_settings(), programme, MONDAY).created
        assert gc.isenabled()
        rounds.preview_round(current_settings(), programme, MONDAY + timedelta(days=1))
    assert seen == [False, False, False, False, False]
    assert gc.isenabled()


def test_the_cycle_collector_pause_keeps_it_off_when_it_was_off():
    from core.bulk import cycle_collector_paused

    gc.disable()
    try:
        with cycle_collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValueError), cycle_collector_paused():
        raise ValueError
    assert gc.isenabled()


def test_the_rounds_tables_copy_in_binary_and_jsonb_would_not():
    """Every column a round COPYs has a binary form (else the COPY falls back to text)."""
    from sqlalchemy.dialects.postgresql import JSONB

    from core.bulk import _binary_type

    for model in (Group, GroupMember, Delivery):
        assert None not in [_binary_type(c.type) for c in model.__table__.columns], model
    assert _binary_type(Delivery.__table__.c.next_attempt_at.type) == "timestamp"
    assert _binary_type(Delivery.__table__.c.payload.type) == "text"
    assert _binary_type(JSONB()) is None  # its binary form starts with a version byte
