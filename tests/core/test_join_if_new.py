"""Joining from the form in one statement (core.changes.join_if_new) stores what join stores.

On SQLite and PostgreSQL (the ``app`` fixture runs both): the rows of a person who joined
through :func:`join_if_new` equal those :func:`join` writes through the ORM, column by column;
a known address writes nothing and keeps its person as they were.
"""

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.changes import join, join_if_new
from core.db import db
from core.models import Person, Preference
from core.programmes import Applicant
from web.config import current_settings

#: Set by the database or the clock, so they differ between any two joins.
VARYING = {"id", "person_id", "email", "created_at", "updated_at"}

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
applicants = st.builds(
    Applicant,
    email=st.just("unused"),
    name=words.filter(str.strip),
    department=words.filter(str.strip),
    home_office=st.none() | words.filter(str.strip),
    timezone=st.sampled_from(["UTC", "Europe/Stockholm", "America/New_York"]),
    language=st.sampled_from([None, "sv", "de", "en", "fr"]),
    topics=st.lists(words.filter(str.strip), max_size=3).map(tuple),
    share_topics=st.lists(words.filter(str.strip), max_size=2).map(tuple),
)


def row(model, key) -> dict:
    """Every column of one row of ``model`` but those that always differ."""
    table = model.__table__
    found = db.session.execute(select(table).where(key)).mappings().one()
    return {name: value for name, value in found.items() if name not in VARYING}


def test_the_rows_equal_those_join_writes(app):
    number = iter(range(10_000))

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(applicant=applicants)
    def check(applicant):
        with app.app_context():
            n = next(number)
            by_orm = replace(applicant, email=f"orm-{n}@example.org")
            by_core = replace(applicant, email=f"core-{n}@example.org")
            orm_id = join(current_settings(), by_orm, None).id
            core_id = join_if_new(by_core)
            db.session.commit()
            assert core_id is not None and core_id != orm_id
            assert row(Person, Person.id == core_id) == row(Person, Person.id == orm_id)
            assert row(Preference, Preference.person_id == core_id) == row(
                Preference, Preference.person_id == orm_id
            )
            assert db.session.get(Person, core_id).email == by_core.email

    check()


def test_a_known_address_writes_nothing(app):
    with app.app_context():
        first = Applicant("ana@example.org", "Ana", "Research", "Lund", "Europe/Stockholm")
        person_id = join_if_new(first)
        db.session.commit()
        again = Applicant("ana@example.org", "Mallory", "Sales", None, "UTC", topics=("x",))
        assert join_if_new(again) is None
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(Person)) == 1
        assert db.session.scalar(select(func.count()).select_from(Preference)) == 1
        person = db.session.get(Person, person_id)
        assert (person.name, person.department, person.home_office) == ("Ana", "Research", "Lund")
        assert person.preference.active and person.preference.topics == []
