"""One-click unsubscribe (RFC 8058) from the links in every email.

The token is signed and opaque, so the endpoint needs no cookie or sign-in. POST stops the
person's coffee breaks and answers 200 (no redirect: mail providers POST from their servers);
a second POST answers the same; GET only shows a page with the button and changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from core.changes import leave
from core.db import db
from core.i18n import gettext as _
from core.links import Links
from core.models import Person
from web.config import current_settings
from web.extensions import csrf

bp = Blueprint("unsubscribe", __name__)


def _person(token: str) -> Person:
    person_id = Links(current_settings()).read_unsubscribe(token)
    person = db.session.get(Person, person_id) if person_id is not None else None
    if person is None:
        abort(404, _("This unsubscribe link is not valid. Nothing was changed."))
    return person


@bp.get("/unsubscribe/<token>")
def confirm(token: str):
    """Show what the button will do; a GET (link scanners prefetch) changes nothing."""
    person = _person(token)
    return render_template("unsubscribe.html", person=person, token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: mail providers POST without our form or cookies; the token is proof
def unsubscribe(token: str):
    """Stop the person's coffee breaks; idempotent."""
    person = _person(token)
    leave(current_settings(), person)
    return render_template("unsubscribe.html", person=person, token=token, done=True)
