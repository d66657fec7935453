"""One-click answers from the "Did you meet?" message and the pause offer.

``/checkin/<token>`` records met / didn't happen / rescheduled for one seat; ``/checkin/pause/
<token>`` pauses for two or four weeks (or keeps going). The tokens are signed and name the
person, so no sign-in is needed. Like every link in Fika's messages, a GET only shows the
button (mail scanners open links) and the POST makes the change; both are idempotent and an
answer can be changed by clicking another link.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, abort, render_template, request

from core.changes import pause as pause_person
from core.checkins import record_answer
from core.db import db
from core.i18n import gettext as _
from core.i18n import lazy_gettext
from core.links import PAUSE_CHOICES, Links
from core.models import GroupMember, Person
from web.config import current_settings
from web.extensions import csrf

bp = Blueprint("checkin", __name__)

LABELS = {
    "met": lazy_gettext("We met"),
    "not_met": lazy_gettext("It didn't happen"),
    "rescheduled": lazy_gettext("We rescheduled"),
    "pause_2w": lazy_gettext("Pause for two weeks"),
    "pause_4w": lazy_gettext("Pause for four weeks"),
    "keep": lazy_gettext("Keep my coffee breaks coming"),
}
INVALID = lazy_gettext("This link has expired or is not valid. Nothing was changed.")


@bp.route("/checkin/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; the link comes from the person's own inbox
def answer(token: str):
    """Show the answer's button (GET) and record it (POST)."""
    links = Links(current_settings())
    data = links.read_checkin(token)
    if data is None:
        abort(400, str(INVALID))
    group_id, person_id, choice = data
    seat = db.session.get(GroupMember, (group_id, person_id))
    if seat is None:
        abort(404, _("This coffee break is no longer yours to answer for. Nothing was changed."))
    others = links.checkin(group_id, person_id)
    if request.method == "GET":
        return render_template(
            "checkin/answer.html", seat=seat, label=LABELS[choice], done=False, others=others,
            labels=LABELS, choice=choice,
        )  # fmt: skip
    record_answer(current_settings(), seat, choice, datetime.now(UTC))
    return render_template(
        "checkin/answer.html", seat=seat, label=LABELS[choice], done=True, others=others,
        labels=LABELS, choice=choice,
    )  # fmt: skip


@bp.route("/checkin/pause/<token>", methods=["GET", "POST"])
@csrf.exempt
def pause(token: str):
    """Show the pause choice (GET) and apply it (POST): breaks inside the pause are given up."""
    data = Links(current_settings()).read_pause(token)
    if data is None:
        abort(400, str(INVALID))
    person_id, choice = data
    person = db.session.get(Person, person_id)
    if person is None or person.preference is None:
        abort(404, _("This link belongs to someone who is no longer in Fika."))
    until = None
    if PAUSE_CHOICES[choice]:
        until = datetime.now(UTC).date() + timedelta(weeks=PAUSE_CHOICES[choice])
    if request.method == "POST" and until is not None:
        pause_person(current_settings(), person, until)
    return render_template(
        "checkin/pause.html", person=person, label=LABELS[choice], until=until,
        done=request.method == "POST",
    )  # fmt: skip
