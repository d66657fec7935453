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
from functools import wraps

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


def statements_commit_alone() -> None:
    """Run this request's statements each in a transaction of its own, on PostgreSQL.

    For a request whose reads need no common snapshot (PostgreSQL's READ COMMITTED gives each
    statement its own anyway) and whose every write is one statement: it saves the BEGIN and
    the COMMIT, two round trips of a page that runs a few queries. Call it before the request's
    first query; once one has run (a signed-in visitor's language, say), the request's
    transaction is left as it is. Statements after a commit run in an ordinary transaction
    again (the setting is the transaction's, through Session.connection's execution options).
    SQLite is left as it is: its driver begins a transaction only before a write.
    """
    session = db.session()
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def each_statement_alone(view):
    """Decorate a view that only reads: :func:`statements_commit_alone` before anything else
    (put it above ``login_required``, which reads who is signed in)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        statements_commit_alone()
        return view(*args, **kwargs)

    return wrapped


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
