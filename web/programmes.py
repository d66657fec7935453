"""The programmes as the opt-in form shows them, kept per process for a few seconds.

Everything else about programmes (the default one, when breaks are, who may join) is in
``core.programmes``; this module only saves the form a query per page view.
"""

from __future__ import annotations

import threading

from sqlalchemy import select

from core.db import db
from core.i18n import gettext as _
from core.models import Programme
from core.programmes import ensure_default_programme
from web import transactions
from web.config import current_settings
from web.input_rules import record_id
from web.per_process import kept

# --- The programmes as the opt-in form shows them, without a query per page view ---------------

#: Seconds a worker reuses its copy of the programmes (its own changes show at once).
PROGRAMMES_CACHE_SECONDS = 10.0

_bump = threading.Lock()
_generation = 0  # bumped by every commit in this process that wrote a programme


def cached_programmes() -> tuple[Programme, ...]:
    """Every programme, oldest first, as read-only copies read at most every 10 s per process.

    The opt-in form and its confirmation are the pages everyone requests; with these they read
    nothing from the database (the form's GET then needs no transaction at all). A commit in
    this process that adds, changes or deletes a programme makes the next call read afresh
    (``transactions.after_commit_writing``); a change made by another worker or the CLI shows
    within PROGRAMMES_CACHE_SECONDS. The copies are detached from any session: read them, never
    change them or add them to one; whatever writes reads its programmes in its own session
    (``set_programmes`` does).
    """
    return kept("programmes", PROGRAMMES_CACHE_SECONDS, _read_programmes, _generation)


def _read_programmes() -> tuple[Programme, ...]:
    # Its own session, so the request's session and its identity map stay as they were.
    with db.session.session_factory() as session:
        return tuple(session.scalars(select(Programme).order_by(Programme.id)))


def cached_or_default() -> tuple[Programme, ...]:
    """:func:`cached_programmes`, or on a fresh install the default programme, created now."""
    return cached_programmes() or (ensure_default_programme(current_settings().timezone),)


def default_programme() -> Programme:
    """The first programme (created on a fresh install), from :func:`cached_programmes`."""
    return cached_or_default()[0]


def _programmes_changed() -> None:
    global _generation
    with _bump:
        _generation += 1


transactions.after_commit_writing(Programme, _programmes_changed)


def submitted_programme_ids(data) -> list[int] | None:
    """The programme ids a form submitted; None when the form did not show the choice."""
    if "programmes_shown" not in data:
        return None
    try:
        return sorted({record_id(v) for v in data.getlist("programmes")})
    except ValueError:
        raise ValueError(_("Choose programmes from the list.")) from None


def chosen_ids(data) -> set[int]:
    """The programme ids a form submitted that are ids at all, to show them ticked again."""
    chosen = set()
    for value in data.getlist("programmes"):
        try:
            chosen.add(record_id(value))
        except ValueError:
            continue
    return chosen
