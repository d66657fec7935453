"""Migrations build the same schema as the models, on both databases, and seed the programme."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import inspect, select

from web.extensions import db
from web.models import Programme
from web.programmes import DEFAULT_PROGRAMME, ensure_default_programme


def test_upgrade_matches_models_and_seeds_default_programme(make_app):
    app = make_app()
    with app.app_context():
        upgrade()
        ensure_default_programme()
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
        ensure_default_programme()
        assert len(db.session.scalars(select(Programme)).all()) == 1
