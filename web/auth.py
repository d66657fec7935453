"""Who is signed in: the one place that reads the session's identity.

Sign-in (magic link, OpenID Connect) stores the person's id in ``session["person_id"]``;
everything else asks :func:`current_person` or uses :func:`login_required`.
"""

from __future__ import annotations

from functools import wraps

from flask import g, redirect, request, session, url_for
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from core.db import db
from core.models import Person


def current_person() -> Person | None:
    """The signed-in person, or None (also when their row was erased meanwhile)."""
    if "current_person" not in g:
        person_id = session.get("person_id")
        g.current_person = (
            db.session.scalar(_PERSON_BY_ID, {"person_id": person_id})
            if isinstance(person_id, int)
            else None
        )
    return g.current_person


#: Every personal page reads the preferences too: one query instead of two. Built once.
_PERSON_BY_ID = (
    select(Person).where(Person.id == bindparam("person_id")).options(joinedload(Person.preference))
)


def sign_in(person: Person) -> None:
    """Start a fresh session for ``person`` (a new session, so no fixation)."""
    session.clear()
    session["person_id"] = person.id
    session.permanent = True
    g.current_person = person


def sign_out() -> None:
    """End the session."""
    session.clear()
    g.pop("current_person", None)


def login_required(view):
    """Send anonymous visitors to the sign-in page, coming back here afterwards."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if current_person() is None:
            return redirect(url_for("account.sign_in", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped
