"""A database connection dropped under Fika (restart, failover): one clear 503, then service.

PostgreSQL only: there a server can end a client's connection, as a restart or failover does.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from web.extensions import db

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _drop_pooled_connection(app) -> None:
    """Terminate the app's pooled backend from a connection of its own, as a restart would."""
    with app.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.commit()
        other = create_engine(db.engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with other.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    other.dispose()


def test_a_dropped_connection_answers_503_once_then_serves(app):
    client = app.test_client()
    assert client.get("/").status_code == 200  # the pool holds a live connection now
    _drop_pooled_connection(app)
    first = client.get("/")
    assert first.status_code == 503 and first.headers["Retry-After"] == "1"
    page = first.get_data(as_text=True)
    assert "briefly unavailable" in page and "Nothing was saved" in page
    assert "Traceback" not in page
    assert client.get("/").status_code == 200  # the pool reconnected


def test_json_clients_get_the_503_as_json(app):
    client = app.test_client()
    assert client.get("/").status_code == 200
    _drop_pooled_connection(app)
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.json == {
        "error": "The database was briefly unavailable. Nothing was saved; please try again.",
        "status": 503,
    }
