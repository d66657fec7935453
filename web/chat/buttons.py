"""Signed action links (``/a/<token>``) from emails and Teams cards: confirm in one click.

A GET shows what the button will do (link scanners prefetch links, so GET changes nothing);
the form on it POSTs the change. Tokens are signed, name the person and the group, and expire.
"""

from __future__ import annotations

from flask import abort, render_template, request

from core.answers import AnswerError, apply_answer
from core.db import db
from core.i18n import gettext as _
from core.i18n import lazy_gettext
from core.links import Links
from core.models import Group, Person
from web.auth import current_person
from web.chat import bp
from web.config import current_settings

LABELS = {
    "in": lazy_gettext("I'm in"),
    "cant": lazy_gettext("Can't make it"),
    "pause_week": lazy_gettext("Pause me for a week"),
}


def _resolve(token: str) -> tuple[str, Group, Person]:
    data = Links(current_settings()).read_action(token)
    if data is None:
        abort(400, _("This link has expired or is not valid. Nothing was changed."))
    action, group_id, person_id = data
    group = db.session.get(Group, group_id)
    if group is None:
        abort(404, _("This coffee break no longer exists. Nothing was changed."))
    if person_id is None:
        # A link on a shared card (a Teams channel): the signed-in person answers for themselves.
        person = current_person()
        if person is None:
            abort(403, _("Please sign in first, then use the button again."))
    else:
        person = db.session.get(Person, person_id)
        if person is None:
            abort(404, _("This link belongs to someone who is no longer in Fika."))
    return action, group, person


@bp.route("/a/<token>", methods=["GET", "POST"])
def answer(token: str):
    """Confirm page (GET) and the change itself (POST)."""
    action, group, person = _resolve(token)
    if request.method == "GET":
        return render_template(
            "chat/confirm.html", label=LABELS[action], group=group, person=person, token=token
        )
    try:
        message = apply_answer(current_settings(), person, group, action)
    except AnswerError as exc:
        return render_template("chat/done.html", message=str(exc), ok=False), 409
    return render_template("chat/done.html", message=message, ok=True)
