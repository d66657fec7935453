"""Programmes in the admin: list, create (from a preset or blank) and edit, with an audit entry."""

from __future__ import annotations

from datetime import time

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from core import audit, drop_in
from core.db import db
from core.models import WEEKDAYS, Programme
from core.programmes import member_counts
from web.admin import bp
from web.admin.access import actor_name
from web.admin.forms import DAY_NAMES, ProgrammeForm, names
from web.config import current_settings

#: Starting points for the programmes people ask for most; every value can be changed.
PRESETS: dict[str, dict] = {
    "daily": {
        "name": "Daily digital coffee break",
        "days": list(WEEKDAYS[:5]),
        "cadence": "weekly",
        "local_time": time(10),
        "duration_minutes": 15,
        "group_size": 2,
        "lead_minutes": 60,
        "cooldown_rounds": 10,
    },
    "weekly": {
        "name": "Weekly 1:1",
        "days": ["tue"],
        "cadence": "weekly",
        "local_time": time(14),
        "duration_minutes": 30,
        "group_size": 2,
        "lead_minutes": 24 * 60,
        "cooldown_rounds": 12,
    },
    "learning": {
        "name": "Learning teams",
        "topic": "",
        "days": ["thu"],
        "cadence": "biweekly",
        "local_time": time(15),
        "duration_minutes": 45,
        "group_size": 4,
        "lead_minutes": 2 * 24 * 60,
        "cooldown_rounds": 4,
    },
}
FIELDS = (
    "name",
    "topic",
    "kind",
    "room_url",
    "active",
    "cadence",
    "days",
    "local_time",
    "timezone",
    "duration_minutes",
    "lead_minutes",
    "group_size",
    "cooldown_rounds",
)


def _snapshot(programme: Programme) -> dict:
    return {
        **{f: getattr(programme, f) for f in FIELDS},
        "departments": list(programme.departments or []),
        "offices": list(programme.offices or []),
    }


def _fill(programme: Programme, form: ProgrammeForm) -> None:
    for field in FIELDS:
        value = getattr(form, field).data
        setattr(programme, field, value.strip() if isinstance(value, str) else value)
    programme.days = [d for d in WEEKDAYS if d in form.days.data]
    programme.room_url = programme.room_url or None  # empty: generated on first use
    programme.departments = names(form.departments.data)
    programme.offices = names(form.offices.data)


def _name_taken(name: str, programme_id: int | None) -> bool:
    query = select(Programme.id).where(func.lower(Programme.name) == name.strip().lower())
    found = db.session.scalar(query)
    return found is not None and found != programme_id


@bp.get("/programmes")
def programmes():
    """Every programme with its schedule and how many people chose it."""
    rows = db.session.scalars(select(Programme).order_by(Programme.id)).all()
    members = member_counts()
    return render_template(
        "admin/programmes.html",
        programmes=rows,
        members=members,
        day_names=DAY_NAMES,
        presets=PRESETS,
    )


def _save(programme: Programme | None):
    """Create (programme None) or edit; re-render with messages on bad input (400)."""
    preset = PRESETS.get(request.args.get("preset", ""), {})
    if programme is None:
        defaults = {
            **PRESETS["daily"],
            "name": "",
            "active": True,
            "timezone": current_settings().timezone,
            **preset,
        }
        form = ProgrammeForm(data=defaults)
    else:
        current = _snapshot(programme)
        current["room_url"] = current["room_url"] or ""
        current["departments"] = ", ".join(current["departments"])
        current["offices"] = ", ".join(current["offices"])
        form = ProgrammeForm(data=current)
    if form.validate_on_submit():
        if _name_taken(form.name.data, programme.id if programme else None):
            form.name.errors.append("Another programme already has this name.")
        else:
            before = _snapshot(programme) if programme else None
            created = programme is None
            if created:
                programme = Programme()
                db.session.add(programme)
            _fill(programme, form)
            if not created and before["room_url"] and not programme.room_url:
                programme.room_url = before["room_url"]  # emptied: keep the room people have
            db.session.flush()
            drop_in.programme_changed(current_settings(), programme, before)
            after = _snapshot(programme)
            changed = {k: v for k, v in after.items() if not before or before.get(k) != v}
            audit.record(
                actor_name(),
                "programme.create" if created else "programme.update",
                programme_id=programme.id,
                name=programme.name,
                changed=changed,
            )
            db.session.commit()
            flash(f"Saved {programme.name}.")
            return redirect(url_for("admin.programmes"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/programme_form.html", form=form, programme=programme), status


@bp.route("/programmes/new", methods=["GET", "POST"])
def new_programme():
    """A new programme, optionally starting from ``?preset=daily|weekly|learning``."""
    return _save(None)


@bp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
def edit_programme(programme_id: int):
    """Change a programme's schedule, size, filters, or switch it off."""
    programme = db.session.get(Programme, programme_id)
    if programme is None:
        abort(404, "No such programme.")
    return _save(programme)
