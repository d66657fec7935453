"""A request's transaction ends with COMMIT when it only read, with ROLLBACK when anything unsaved.

COMMIT for reads keeps psycopg's prepared statements (it forgets them on ROLLBACK); unsaved
writes must still never reach the database.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from core.db import db
from core.models import Person
from tests.core.helpers import add_person


@pytest.fixture
def endings(app):
    """The transaction endings on the app's engine, in order ("commit" / "rollback")."""
    seen: list[str] = []
    with app.app_context():
        engine = db.engine
    listeners = {"commit": lambda conn: seen.append("commit"),
                 "rollback": lambda conn: seen.append("rollback")}  # fmt: skip
    for name, listener in listeners.items():
        event.listen(engine, name, listener)
    yield seen
    for name, listener in listeners.items():
        event.remove(engine, name, listener)


@pytest.fixture
def routes(app):
    """Views that read, write and fail in the ways the teardown must tell apart."""

    @app.get("/t/read")
    def read():
        return str(db.session.scalar(select(func.count()).select_from(Person)))

    @app.get("/t/flushed")
    def flushed():
        db.session.add(Person(email="flushed@example.org", name="F", department="X"))
        db.session.flush()  # written to the transaction, never committed
        return "ok"

    @app.get("/t/pending")
    def pending():
        db.session.add(Person(email="pending@example.org", name="P", department="X"))
        return "ok"

    @app.get("/t/dirty")
    def dirty():
        db.session.scalars(select(Person)).first().name = "Changed"
        return "ok"

    @app.get("/t/committed-then-read")
    def committed_then_read():
        db.session.scalars(select(Person)).first().name = "Saved"
        db.session.commit()
        return str(db.session.scalar(select(func.count()).select_from(Person)))

    @app.get("/t/fails")
    def fails():
        db.session.scalars(select(Person)).first().name = "Lost"
        db.session.flush()
        raise RuntimeError("boom")

    with app.app_context():
        add_person("ana@example.org", "Research")
    return app.test_client()


def test_a_read_only_request_ends_with_commit(routes, endings):
    assert routes.get("/t/read").get_data(as_text=True) == "1"
    assert endings == ["commit"]


@pytest.mark.parametrize("path", ["/t/flushed", "/t/pending", "/t/dirty"])
def test_unsaved_writes_end_with_rollback_and_are_not_stored(app, routes, endings, path):
    assert routes.get(path).status_code == 200
    assert "commit" not in endings  # (a bare add() never even began a transaction)
    with app.app_context():
        assert db.session.scalars(select(Person.email)).all() == ["ana@example.org"]
        assert db.session.scalars(select(Person.name)).all() != ["Changed"]


def test_a_commit_then_reads_keeps_the_commit_and_commits_the_reads(app, routes, endings):
    assert routes.get("/t/committed-then-read").get_data(as_text=True) == "1"
    assert endings == ["commit", "commit"]
    with app.app_context():
        assert db.session.scalars(select(Person.name)).all() == ["Saved"]


def test_a_failing_request_stores_nothing(app, routes, endings):
    assert routes.get("/t/fails").status_code == 500
    assert "commit" not in endings
    with app.app_context():
        assert db.session.scalars(select(Person.name)).all() != ["Lost"]
