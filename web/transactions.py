"""How a request's database transaction ends: reads with COMMIT, anything unsaved with ROLLBACK.

Flask-SQLAlchemy ends every request by closing its session, which rolls the transaction back.
For a request that only read, COMMIT and ROLLBACK leave the database the same, but psycopg
forgets every prepared statement on ROLLBACK. So PostgreSQL would parse and plan each page's
queries again on every request, instead of preparing them once per connection (psycopg's
``prepare_threshold``: after five uses).

So a request whose transaction only read ends with COMMIT. A transaction that wrote anything
the view did not commit ends as before, with ROLLBACK: objects still pending, or changes
flushed to the database (tracked per transaction with the ``after_flush`` event). A view that
fails half-way therefore still saves nothing.

The same tracking tells other modules what a committed transaction wrote: ``after_commit_writing``
calls back after every commit that flushed rows of a given class (the per-process programmes
copy in ``web.programmes`` uses it).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.db import db

WROTE = "fika_wrote"  # key in Session.info: the classes of the rows this transaction flushed

_on_commit: list[tuple[type, Callable[[], None]]] = []


def init_app(app: Flask) -> None:
    """Register the request teardown (it runs before Flask-SQLAlchemy closes the session)."""

    @app.teardown_request
    def commit_reads(exc: BaseException | None) -> None:
        if exc is not None or not db.session.registry.has():
            return
        session = db.session()
        if not session.in_transaction() or WROTE in session.info:
            return
        if session.new or session.dirty or session.deleted:
            return
        # Nothing was written: the objects stay as loaded, as they did when the session was
        # just closed (a commit would expire them, and code that holds them would reload).
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        except SQLAlchemyError:  # e.g. the connection went away: close() rolls back as before
            session.rollback()
        finally:
            session.expire_on_commit = expire


def after_commit_writing(cls: type, callback: Callable[[], None]) -> None:
    """Call ``callback()`` after each commit, in this process, that wrote rows of ``cls``."""
    _on_commit.append((cls, callback))


@event.listens_for(Session, "after_flush")
def _wrote(session: Session, flush_context: object) -> None:
    # Still the state before the flush: what it inserted, updated and deleted.
    written = session.info.setdefault(WROTE, set())
    written.update(type(row) for row in (*session.new, *session.dirty, *session.deleted))


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    written = session.info.pop(WROTE, ())
    for cls, callback in _on_commit:
        if any(issubclass(kind, cls) for kind in written):
            callback()


@event.listens_for(Session, "after_rollback")
def _ended(session: Session) -> None:
    session.info.pop(WROTE, None)
