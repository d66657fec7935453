"""A learning team's pages: its goal, its check-in answers, and the digest opt-out.

``/teams/<uid>`` shows the team and its goal to its members (signed in; anyone else gets 404,
as if the team did not exist) and lets them change the goal. ``/teams/checkin/<token>`` and
``/teams/digest-opt-out/<token>`` come from Fika's messages: the signed token names the person,
so no sign-in is needed there. A GET only shows the form; the POST changes things.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField

from core.db import db
from core.i18n import gettext as _
from core.i18n import lazy_gettext
from core.learning_teams import is_team, team_members
from core.links import Links
from core.models import Group, GroupMember, Person, Preference
from core.team_goals import (
    ANSWER_MAX,
    GOAL_MAX,
    GoalError,
    answer_of,
    check_text,
    goal_of,
    is_member,
    record_team_answer,
    set_goal,
    team_by_uid,
)
from web.auth import current_person, login_required
from web.config import current_settings

bp = Blueprint("teams", __name__, url_prefix="/teams")


class GoalForm(FlaskForm):
    """The team's goal: one line."""

    goal = StringField(lazy_gettext("Our goal"))


class CheckinForm(FlaskForm):
    """The short answers of a team check-in (the midway one asks only ``progress``)."""

    progress = StringField(lazy_gettext("How is it going?"))
    reached = StringField(lazy_gettext("Did you reach the goal?"))
    learned = StringField(lazy_gettext("What did you learn?"))
    publish = BooleanField(lazy_gettext("You may publish what I learned in the team's digest"))


def reached_choices() -> list[tuple[str, str]]:
    """The answers to "did you reach the goal?", in the reader's language."""
    return [("yes", _("Yes")), ("partly", _("Partly")), ("no", _("No"))]


def _team_for(uid: str) -> tuple[Person, Group]:
    person = current_person()
    group = team_by_uid(uid)
    if group is None or not is_member(group, person):
        abort(404, _("There is no such team among yours."))
    return person, group


def _programme(group: Group):
    return group.round.programme


@bp.route("/<uid>", methods=["GET", "POST"])
@login_required
def team(uid: str):
    """The team, when it meets, who is in it, and its goal, editable by every member."""
    person, group = _team_for(uid)
    form = GoalForm()
    if form.validate_on_submit():
        try:
            set_goal(group, person, form.goal.data or "", datetime.now(UTC))
        except GoalError as error:
            form.goal.errors = [str(error)]
        else:
            db.session.commit()
            flash(_("Your team's goal is saved."))
            return redirect(url_for("teams.team", uid=uid))
    elif not form.is_submitted():
        form.goal.data = goal_of(group)
    programme = _programme(group)
    return render_template(
        "teams/team.html",
        person=person,
        group=group,
        programme=programme,
        members=team_members(group),
        form=form,
        goal=goal_of(group),
        first=group.start_at.astimezone(ZoneInfo(person.timezone)),
        goal_max=GOAL_MAX,
    ), 400 if form.goal.errors else 200


def _seat_from(token: str) -> tuple[Group, Person, str]:
    data = Links(current_settings()).read_team_checkin(token)
    if data is None:
        abort(400, _("This link has expired or is not valid. Nothing was changed."))
    group_id, person_id, stage = data
    seat = db.session.get(GroupMember, (group_id, person_id))
    if seat is None or not is_team(seat.group):
        abort(404, _("This team is no longer yours to answer for. Nothing was changed."))
    return seat.group, seat.person, stage


@bp.route("/checkin/<token>", methods=["GET", "POST"])
def checkin(token: str):
    """A member's answers to the team's midway or final check-in; they can be changed later."""
    group, person, stage = _seat_from(token)
    form = CheckinForm()
    done = False
    if form.validate_on_submit():
        for field in (form.progress, form.learned):
            try:
                check_text(field.data or "", ANSWER_MAX)
            except GoalError as error:
                field.errors = [str(error)]
        if not form.progress.errors and not form.learned.errors:
            final = stage == "final"
            record_team_answer(
                group,
                person,
                stage,
                datetime.now(UTC),
                progress="" if final else form.progress.data or "",
                goal_reached={"yes": True, "no": False}.get(form.reached.data or "")
                if final
                else None,
                learned=form.learned.data or "" if final else "",
                publish=bool(form.publish.data) and final,
            )
            db.session.commit()
            done = True
    elif not form.is_submitted():
        kept = answer_of(group, person, stage)
        if kept is not None:
            form.progress.data = kept.progress
            form.learned.data = kept.learned
            form.publish.data = kept.publish
            form.reached.data = {True: "yes", False: "no"}.get(kept.goal_reached, "partly")
    return render_template(
        "teams/checkin.html",
        person=person,
        group=group,
        programme=_programme(group),
        goal=goal_of(group),
        stage=stage,
        form=form,
        reached_choices=reached_choices(),
        done=done,
    ), 400 if form.progress.errors or form.learned.errors else 200


@bp.route("/digest-opt-out/<token>", methods=["GET", "POST"])
def digest_opt_out(token: str):
    """Stop the "what we learned" digests for the person the link names (POST)."""
    person_id = Links(current_settings()).read_digest_opt_out(token)
    if person_id is None:
        abort(400, _("This link has expired or is not valid. Nothing was changed."))
    preference = db.session.get(Preference, person_id)
    if preference is None:
        abort(404, _("This link belongs to someone who is no longer in Fika."))
    form = FlaskForm()
    done = False
    if form.validate_on_submit():
        preference.digest_opt_out = True
        db.session.commit()
        done = True
    return render_template("teams/digest_opt_out.html", form=form, done=done)
