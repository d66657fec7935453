"""A database connection dropped under Fika (restart, failover): one clear 503, then service.

PostgreSQL only: there a server can end a client's connection, as a restart or failover does.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from core.db import db
from core.models import Person

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _drop_pooled_connections(app) -> None:
    """Terminate every backend in the app's pool from another connection, as a restart would."""
    with app.app_context():
        engine = db.engine
        pooled = [engine.connect() for _ in range(max(1, engine.pool.checkedin()))]
        pids = [conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() for conn in pooled]
        for conn in pooled:
            conn.close()  # back into the pool, where the next request finds it dead
        other = create_engine(engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with other.connect() as conn:
        for pid in pids:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    other.dispose()


def join(client, email: str, **headers):
    """The opt-in form's POST: it reads and writes the database."""
    data = {"name": "Ana Berg", "email": email, "department": "Research",
            "office": "Stockholm", "timezone": "Europe/Stockholm"}  # fmt: skip
    return client.post("/", data=data, headers=headers)


def test_a_dropped_connection_answers_503_once_then_serves(app):
    client = app.test_client()
    assert join(client, "ana@example.org").status_code == 200  # the pool holds a connection
    _drop_pooled_connections(app)
    first = join(client, "ben@example.org")
    assert first.status_code == 503 and first.headers["Retry-After"] == "1"
    page = first.get_data(as_text=True)
    assert "briefly unavailable" in page and "Nothing was saved" in page
    assert "Traceback" not in page
    assert join(client, "cai@example.org").status_code == 200  # the pool reconnected
    with app.app_context():
        emails = set(db.session.scalars(select(Person.email)))
    assert emails == {"ana@example.org", "cai@example.org"}


def test_json_clients_get_the_503_as_json(app):
    client = app.test_client()
    assert join(client, "ana@example.org").status_code == 200
    _drop_pooled_connections(app)
    response = join(client, "ben@example.org", Accept="application/json")
    assert response.status_code == 503
    assert response.json == {
        "error": "The database was briefly unavailable. Nothing was saved; please try again.",
        "status": 503,
    }
