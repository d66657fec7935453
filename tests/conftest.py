"""Shared fixtures: an app on a fresh database (SQLite and PostgreSQL), its client and CLI runner.

Every test that uses ``app`` runs twice, once per database. PostgreSQL comes from
FIKA_TEST_DATABASE_URL (default: the local server at 127.0.0.1:5432, database ``test``); each test
gets a schema of its own, dropped afterwards, so runs never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from web.config import current_settings

pytest_plugins = ["tests.servers"]

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def pg_base_url() -> str:
    """The PostgreSQL server the suite uses, normalised for psycopg 3."""
    from core.settings import normalise_database_url

    return normalise_database_url(os.environ.get("FIKA_TEST_DATABASE_URL") or DEFAULT_PG)


@pytest.fixture(scope="session")
def pg_available() -> bool:
    """Whether PostgreSQL answers; in CI a missing server fails the run instead of skipping."""
    engine = sa.create_engine(pg_base_url())
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {pg_base_url()} is required in CI: {exc}")
        return False
    finally:
        engine.dispose()


def drop_shell_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset every Fika setting the developer's shell exported (not the test database's URL)."""
    for key in list(os.environ):
        if key.startswith("FIKA_") and key != "FIKA_TEST_DATABASE_URL" or key == "DATABASE_URL":
            monkeypatch.delenv(key)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Tests see only the settings they set themselves, never the developer's shell."""
    drop_shell_settings(monkeypatch)


@contextmanager
def fresh_database(kind: str, folder) -> Iterator[str]:
    """The URL of a fresh, empty database: a SQLite file in ``folder``, or a new PostgreSQL
    schema (dropped afterwards). The caller has checked that PostgreSQL is available."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'fika.sqlite3'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    # Commits do not wait for the WAL to reach the disk: a test database outlives no crash, and
    # the suite's thousands of commits would otherwise wait on fsync (about a third of its time).
    admin = sa.create_engine(
        pg_base_url(),
        isolation_level="AUTOCOMMIT",
        connect_args={"options": "-csynchronous_commit=off"},
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.engine.make_url(pg_base_url()).update_query_dict(
        {"options": f"-csearch_path={schema} -csynchronous_commit=off"}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def skip_without_postgresql(kind: str, pg_available: bool) -> None:
    """Skip the PostgreSQL half of a test when no server answers (outside CI)."""
    if kind == "postgresql" and not pg_available:
        pytest.skip(f"PostgreSQL not reachable at {pg_base_url()} (set FIKA_TEST_DATABASE_URL)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, pg_available):
    """A fresh, empty database: a SQLite file, or a new PostgreSQL schema."""
    skip_without_postgresql(request.param, pg_available)
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def app_config(database_url, tmp_path) -> dict:
    """Settings for a test app; tests may change them before asking for ``app``."""
    return {
        "FIKA_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "FIKA_OUTBOX_DIR": str(tmp_path / "outbox"),
        "FIKA_BASE_URL": "https://fika.example.org",
        "FIKA_TIMEZONE": "Europe/Stockholm",
        "WTF_CSRF_ENABLED": False,
    }


@pytest.fixture
def app(app_config):
    """The app with its tables created and the default programme in place."""
    from core.db import db
    from core.programmes import ensure_default_programme
    from web import create_app

    application = create_app(app_config)
    with application.app_context():
        db.create_all()
        ensure_default_programme(current_settings().timezone)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(app_config):
    """Build extra apps on the same database with changed settings; engines closed afterwards."""
    from core.db import db
    from web import create_app

    made = []

    def build(**overrides):
        application = create_app(dict(app_config, **overrides))
        made.append(application)
        return application

    yield build
    for application in made:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def client(app):
    """A test client for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for the ``fika`` command bound to the app's settings."""
    return app.test_cli_runner()


def settings_of(app):
    """The typed settings an app was built with (what the core and the jobs are handed)."""
    from web.config import runtime_of

    return runtime_of(app).settings
