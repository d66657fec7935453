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
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from web.extensions import db

WROTE = "fika_wrote"  # key in Session.info: this transaction flushed changes


def init_app(app: Flask) -> None:
    """Register the request teardown (it runs before Flask-SQLAlchemy closes the session)."""

    @app.teardown_request
    def commit_reads(exc: BaseException | None) -> None:
        if exc is not None or not db.session.registry.has():
            return
        session = db.session()
        if not session.in_transaction() or session.info.get(WROTE):
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


@event.listens_for(Session, "after_flush")
def _wrote(session: Session, flush_context: object) -> None:
    session.info[WROTE] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _ended(session: Session) -> None:
    session.info.pop(WROTE, None)
