"""Migrations build the same schema as the models, on both databases, and seed the programme."""

from datetime import time

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect, select

from core.db import db
from core.models import Programme
from core.programmes import DEFAULT_PROGRAMME, ensure_default_programme
from web.config import current_settings


def test_upgrade_matches_models_and_seeds_default_programme(make_app):
    app = make_app()
    with app.app_context():
        upgrade()
        ensure_default_programme(current_settings().timezone)
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], diff
        names = set(inspect(db.engine).get_table_names())
        assert {"person", "preference", "programme", "round", "fika_group", "delivery"} <= names
        programme = db.session.scalar(select(Programme))
        assert programme.name == DEFAULT_PROGRAMME
        assert programme.days == ["mon", "tue", "wed", "thu", "fri"]
        assert programme.duration_minutes == 15
        upgrade()  # a second upgrade is a no-op
        ensure_default_programme(current_settings().timezone)
        assert len(db.session.scalars(select(Programme)).all()) == 1


def test_upgrade_cleans_control_characters_out_of_stored_names(make_app):
    """Rows stored before every way in refused them: their invites would all go dead."""
    from flask_migrate import downgrade

    from core.models import Person

    app = make_app()
    with app.app_context():
        upgrade(revision="0003")
        db.session.execute(
            Person.__table__.insert(),
            [
                {"email": "ana@example.org", "name": "Ana\r\nBcc: all@example.org",
                 "department": "Re\tsearch", "home_office": "Malm\u2028ö",
                 "timezone": "UTC", "work_start": time(9), "work_end": time(17)},
                {"email": "ben@example.org", "name": "Ben Berg", "department": "Sales",
                 "home_office": None, "timezone": "UTC", "work_start": time(9),
                 "work_end": time(17)},
            ],
        )  # fmt: skip
        db.session.commit()
        upgrade()
        rows = db.session.execute(
            select(Person.name, Person.department, Person.home_office).order_by(Person.email)
        ).all()
        assert [tuple(r) for r in rows] == [
            ("Ana Bcc: all@example.org", "Re search", "Malm ö"),
            ("Ben Berg", "Sales", None),
        ]
        db.session.rollback()  # end the read: a later revision alters the table it locked
        downgrade(revision="0003")  # and back: nothing to undo, nothing fails
