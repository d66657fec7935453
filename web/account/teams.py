"""My learning teams on /me: links to each team's goal page, the two team preferences (no
"what we learned" digests; be named as a knowledge ambassador on the insights), and starting a
team of one's own (``/me/teams/new``, ``core.self_formed``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, IntegerField, StringField

from core.db import db
from core.i18n import gettext as _
from core.i18n import lazy_gettext
from core.models import Person
from core.self_formed import DEFAULT_WEEKS, TEAM_MAX, WEEKS, TeamStartError
from core.self_formed import start_team as start_learning_team
from web.account import bp
from web.account.preferences import search_colleagues, today_for
from web.auth import current_person, login_required
from web.config import current_settings
from web.input_rules import MAX_ID, whole_number


class TeamPreferencesForm(FlaskForm):
    """The learning-team preferences, both off unless chosen."""

    show_as_ambassador = BooleanField(
        lazy_gettext("Name me as a knowledge ambassador when I share a topic")
    )
    digest_opt_out = BooleanField(lazy_gettext("No “what we learned” digests by email"))


@bp.post("/teams/preferences")
@login_required
def team_preferences():
    """Save the two learning-team preferences."""
    person = current_person()
    form = TeamPreferencesForm()
    if person.preference is None or not form.validate_on_submit():
        abort(400, _("These preferences could not be saved. Nothing was changed."))
    person.preference.show_as_ambassador = bool(form.show_as_ambassador.data)
    person.preference.digest_opt_out = bool(form.digest_opt_out.data)
    db.session.commit()
    flash(_("Your learning-team preferences are saved."))
    return redirect(url_for("account.breaks", _anchor="teams-heading"))


class StartTeamForm(FlaskForm):
    """Start a learning team: a topic, how long, open or by invitation (``invite``: ids)."""

    topic = StringField(lazy_gettext("Topic"))
    weeks = IntegerField(lazy_gettext("For how many weeks?"), default=DEFAULT_WEEKS)
    open_to_join = BooleanField(lazy_gettext("Others may join the team too"))
    q = StringField(lazy_gettext("Find a colleague"))


@bp.route("/teams/new", methods=["GET", "POST"])
@login_required
def start_team():
    """Start a team from /me: search colleagues by name (the Search button re-renders with
    the matches, the ticked ones kept), then start it; Fika finds the meeting time."""
    person = current_person()
    form = StartTeamForm()
    chosen_ids = {
        number
        for value in request.form.getlist("invite")[:TEAM_MAX]
        if (number := whole_number(value, 1, MAX_ID)) is not None
    }
    invited = (
        list(db.session.scalars(select(Person).where(Person.id.in_(sorted(chosen_ids)))))
        if chosen_ids
        else []
    )
    query = (form.q.data or "").strip()
    matches = (
        [p for p in search_colleagues(person, query) if p.id not in chosen_ids] if query else []
    )
    errors: dict[str, str] = {}
    if request.method == "POST" and not request.form.get("search"):
        if not form.validate_on_submit():
            errors["weeks"] = _("Choose how many weeks, as a number.")
        else:
            try:
                programme, outcome = start_learning_team(
                    current_settings(),
                    person,
                    form.topic.data or "",
                    invited,
                    open_to_join=bool(form.open_to_join.data),
                    weeks=form.weeks.data or 0,
                    today=today_for(person),
                )
            except TeamStartError as error:
                db.session.rollback()
                errors[error.field] = str(error)
            else:
                db.session.commit()
                flash(
                    _("Your team on %(topic)s is started.", topic=programme.topic)
                    if outcome.created
                    else _(
                        "Your team on %(topic)s is started: it meets once enough people are in.",
                        topic=programme.topic,
                    )
                )
                return redirect(url_for("account.breaks", _anchor="teams-heading"))
    return render_template(
        "account/start_team.html",
        person=person,
        form=form,
        invited=invited,
        matches=matches,
        query=query,
        errors=errors,
        weeks=WEEKS,
    ), 400 if errors else 200
