"""My learning teams on /me: links to each team's goal page, and the two team preferences
(no "what we learned" digests; be named as a knowledge ambassador on the insights)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField

from core.db import db
from core.enums import GroupStatus
from core.i18n import gettext as _
from core.i18n import lazy_gettext
from core.learning_teams import TEAM_UID_PREFIX
from core.models import Group, GroupMember, Person, Programme, Round
from web.account import bp
from web.auth import current_person, login_required


class TeamPreferencesForm(FlaskForm):
    """The learning-team preferences, both off unless chosen."""

    show_as_ambassador = BooleanField(
        lazy_gettext("Name me as a knowledge ambassador when I share a topic")
    )
    digest_opt_out = BooleanField(lazy_gettext("No “what we learned” digests by email"))


def my_teams(person: Person) -> list[tuple[Group, Programme]]:
    """The person's learning teams still on, with their programmes, oldest first."""
    return list(
        db.session.execute(
            select(Group, Programme)
            .join(GroupMember, GroupMember.group_id == Group.id)
            .join(Round, Round.id == Group.round_id)
            .join(Programme, Programme.id == Round.programme_id)
            .where(
                GroupMember.person_id == person.id,
                Group.status == GroupStatus.SCHEDULED,
                Group.uid.startswith(TEAM_UID_PREFIX),
            )
            .order_by(Group.id)
        )
    )


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
