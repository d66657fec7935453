"""Download my data (everything Fika holds about me, as JSON) and delete me (erase it all).

In the download, the people I met appear by name and department only: their email addresses are
their data, not mine. Delivery payloads are left out for the same reason (they list every
attendee's address); what was sent to me, on which channel and when, is there.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Response, render_template
from sqlalchemy import select

from core.db import db
from core.models import Delivery, Person, SignInToken, TeamCheckin
from web.account import bp
from web.account.breaks import my_breaks
from web.account.forms import DeleteForm
from web.auth import current_person, login_required, sign_out
from web.config import current_settings


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def export(person: Person) -> dict:
    """Everything about ``person``, for the download (see the module docstring)."""
    pref = person.preference
    avoid_ids = list(pref.avoid or []) if pref else []
    avoided = db.session.scalars(select(Person).where(Person.id.in_(avoid_ids))).all()
    breaks = [
        {
            "programme": view.programme,
            "start": _iso(view.start),
            "end": _iso(view.end),
            "status": view.group.status,
            "mode": view.group.mode,
            "site": view.group.site,
            "video_url": view.group.video_url,
            "why_we_were_matched": list(view.group.reasons or []),
            "conversation_starter": view.group.starter,
            "with": [{"name": p.name, "department": p.department} for p in view.others],
            "my_answer": view.seat.response,
            "did_we_meet": view.seat.met,
        }
        for view in my_breaks(person, with_programme=True)
    ]
    deliveries = db.session.scalars(
        select(Delivery).where(Delivery.person_id == person.id).order_by(Delivery.id)
    )
    tokens = db.session.scalars(select(SignInToken).where(SignInToken.person_id == person.id))
    return {
        "exported_at": datetime.now(UTC).isoformat(),
        "person": {
            "name": person.name,
            "email": person.email,
            "department": person.department,
            "manager": person.manager.name if person.manager else None,
            "timezone": person.timezone,
            "language": person.language,
            "working_hours": [person.work_start.isoformat(), person.work_end.isoformat()],
            "home_office": person.home_office,
            "joined_at": _iso(person.created_at),
            "updated_at": _iso(person.updated_at),
        },
        "preferences": None
        if pref is None
        else {
            "taking_part": pref.active,
            "paused_until": _iso(pref.paused_until),
            "mode": pref.mode,
            "days": list(pref.days or []),
            "site_per_weekday": dict(pref.weekday_sites or {}),
            "frequency": pref.frequency,
            "group_size": pref.group_size_pref,
            "topics_to_learn": list(pref.topics or []),
            "topics_to_share": list(pref.share_topics or []),
            "rather_not_meet": sorted(p.name for p in avoided),
            "reminders": pref.reminders,
            "no_learning_digests": pref.digest_opt_out,
            "named_as_knowledge_ambassador": pref.show_as_ambassador,
        },
        "coffee_breaks": breaks,
        "learning_team_answers": [
            {
                "stage": a.stage,
                "how_it_is_going": a.progress,
                "goal_reached": a.goal_reached,
                "what_i_learned": a.learned,
                "may_be_published": a.publish,
                "answered_at": _iso(a.answered_at),
            }
            for a in db.session.scalars(
                select(TeamCheckin)
                .where(TeamCheckin.person_id == person.id)
                .order_by(TeamCheckin.answered_at)
            )
        ],
        "messages_sent_to_me": [
            {
                "channel": d.channel,
                "status": d.status,
                "created_at": _iso(d.created_at),
                "sent_at": _iso(d.sent_at),
            }
            for d in deliveries
        ],
        "sign_in_links": [
            {
                "created_at": _iso(t.created_at),
                "expires_at": _iso(t.expires_at),
                "used_at": _iso(t.used_at),
            }
            for t in tokens
        ],
    }


@bp.get("/privacy")
@login_required
def privacy():
    """What Fika keeps, with the download link and the way to delete it."""
    return render_template("account/privacy.html", person=current_person())


@bp.get("/data")
@login_required
def download():
    """My data as a JSON file."""
    body = json.dumps(export(current_person()), indent=2, ensure_ascii=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="fika-my-data.json"'},
    )


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete():
    """Confirm, then erase every row about me; my upcoming breaks are updated or cancelled."""
    from core.changes import erase

    person = current_person()
    form = DeleteForm()
    if form.validate_on_submit():
        first = person.first_name()
        erase(current_settings(), person)
        sign_out()
        return render_template("account/deleted.html", first=first)
    status = 400 if form.errors else 200
    return render_template("account/delete.html", person=person, form=form), status
