"""Programmes in the admin: list, create (from a preset or blank) and edit, with an audit entry."""

from __future__ import annotations

from datetime import time

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.db import db
from core.i18n import gettext as _
from core.models import WEEKDAYS, Programme
from core.programme_changes import save_programme
from core.programme_import import check_csv as check_programmes_csv
from core.programme_import import template_csv as programmes_template_csv
from core.programmes import ProgrammeSettings, member_counts, name_taken, settings_problems
from web.admin import bp
from web.admin.access import actor_name
from web.admin.forms import DAY_NAMES, ProgrammeForm, ProgrammeImportForm, names
from web.config import current_settings

#: The largest programmes file the admin may upload.
MAX_PROGRAMMES_UPLOAD = 1024 * 1024

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
        "kind": "learning_team",  # the topic and the start and end dates are the admin's to give
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


def _settings(form: ProgrammeForm) -> ProgrammeSettings:
    """The form's answers as the settings ``core.programme_changes`` stores."""
    return ProgrammeSettings(
        name=form.name.data,
        topic=form.topic.data or "",
        kind=form.kind.data,
        room_url=(form.room_url.data or "").strip() or None,
        active=form.active.data,
        cadence=form.cadence.data,
        days=[d for d in WEEKDAYS if d in form.days.data],
        local_time=form.local_time.data,
        timezone=form.timezone.data,
        duration_minutes=form.duration_minutes.data,
        lead_minutes=form.lead_minutes.data,
        group_size=form.group_size.data,
        cooldown_rounds=form.cooldown_rounds.data,
        departments=names(form.departments.data),
        offices=names(form.offices.data),
        slack_channel_id=(form.slack_channel_id.data or "").strip() or None,
        language=form.language.data or None,
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
    )


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
        import_form=ProgrammeImportForm(),
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
        current = vars(ProgrammeSettings.of(programme))
        current["room_url"] = current["room_url"] or ""
        current["slack_channel_id"] = current["slack_channel_id"] or ""
        current["departments"] = ", ".join(current["departments"])
        current["offices"] = ", ".join(current["offices"])
        current["language"] = current["language"] or ""
        form = ProgrammeForm(data=current)
    if form.validate_on_submit():
        values = _settings(form)
        problems = settings_problems(values)  # the rules the API keeps too
        if name_taken(form.name.data, programme.id if programme else None):
            problems["name"] = _("Another programme already has this name.")
        for name, message in problems.items():
            getattr(form, name).errors.append(message)
        if not problems:
            programme = save_programme(current_settings(), programme, values, actor_name())
            db.session.commit()
            flash(_("Saved %(name)s.", name=programme.name))
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
        abort(404, _("No such programme."))
    return _save(programme)


@bp.get("/programmes/template.csv")
def programmes_import_template():
    """An example programmes file with every column, to fill in."""
    return Response(
        programmes_template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=fika-programmes.csv"},
    )


@bp.route("/programmes/import", methods=["GET", "POST"])
def import_programmes():
    """Upload a programmes CSV: all or nothing, with every problem listed by line and column."""
    form = ProgrammeImportForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("admin/programmes_import.html", form=form, report=None), status
    data = form.file.data.read(MAX_PROGRAMMES_UPLOAD + 1)
    if len(data) > MAX_PROGRAMMES_UPLOAD:
        form.file.errors.append(_("The file is larger than 1 MB; split it and import each part."))
        return render_template("admin/programmes_import.html", form=form, report=None), 400
    report, _rows = check_programmes_csv(
        data, current_settings(), actor_name(), dry_run=form.dry_run.data
    )
    if not report.ok or report.dry_run:
        db.session.rollback()
        status = 422 if not report.ok else 200
        return render_template("admin/programmes_import.html", form=form, report=report), status
    try:
        db.session.commit()
    except IntegrityError:  # a programme of one of these names was created meanwhile
        db.session.rollback()
        form.file.errors.append(_("Another programme already has this name."))
        return render_template("admin/programmes_import.html", form=form, report=None), 409
    flash(_("Imported: %(summary)s.", summary=report.summary()))
    return redirect(url_for("admin.programmes"))
