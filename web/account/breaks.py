"""My coffee breaks: the next one with "I'm in" / "Can't make it", past ones with "did you meet?".

Times are shown in the viewer's own zone. A group id in a URL that is not one of the viewer's
groups answers 404 and changes nothing, exactly as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from markupsafe import Markup
from sqlalchemy import Select, and_, bindparam, distinct, func, null, or_, select, true
from sqlalchemy.orm import aliased

from core.answers import AnswerError, apply_answer
from core.db import db
from core.enums import GroupStatus
from core.i18n import current_language, lazy_gettext
from core.i18n import gettext as _
from core.learning_teams import team_titles_of
from core.models import Group, GroupMember, Person, Programme, Round
from core.next_break import next_break_for
from integrations.base import ButtonAnswer
from web.account import bp
from web.account.forms import AnswerForm
from web.account.teams import TeamPreferencesForm
from web.auth import current_person, login_required
from web.config import current_settings
from web.programmes import cached_or_default
from web.transactions import each_statement_alone


@dataclass(frozen=True)
class Colleague:
    """Someone in a break, as the viewer sees them: by name and department only."""

    id: int
    name: str
    department: str


@dataclass(frozen=True)
class BreakSeat:
    """A seat in a break: whose it is and their answers."""

    person_id: int
    response: str | None
    met: bool | None
    person: Colleague


@dataclass(frozen=True)
class BreakGroup:
    """The columns of a group that /me and the download show, with its seats (read-only).

    Read with one Core query instead of loading ``Group``, ``GroupMember`` and whole ``Person``
    rows through the ORM, which was most of /me's database time; it has what
    ``core.next_break.next_break_for`` reads of an ``ahead`` group (times and seats).
    """

    id: int
    status: str
    start_at: datetime
    end_at: datetime
    mode: str
    site: str | None
    video_url: str
    reasons: list
    starter: str
    members: tuple[BreakSeat, ...]


@dataclass
class BreakView:
    """One group as its member sees it: others by name and department only."""

    group: BreakGroup
    seat: BreakSeat
    others: list[Colleague]
    start: datetime  # in the viewer's zone
    end: datetime
    programme: str | None  # with_programme only


#: Past breaks "My coffee breaks" lists, newest first (the download has every one).
PAST_SHOWN = 20

_groups, _seats, _people = Group.__table__, GroupMember.__table__, Person.__table__
#: The group's columns :class:`BreakGroup` holds, in its order (``members`` aside).
_GROUP_COLUMNS = tuple(
    _groups.c[field.name] for field in fields(BreakGroup) if field.name != "members"
)


@cache
def _breaks_query(*, with_programme: bool, shown_only: bool) -> Select:
    """The statement :func:`my_breaks` runs, built once (building one costs more than running it).

    One row per seat of each of the person's groups (theirs too), oldest group first, on the
    tables (a Core statement: no ORM set-up or objects). Parameters: ``person_id``, and
    ``shown_at`` when ``shown_only``.
    """
    person_id = bindparam("person_id")
    mine, seat = _seats.alias("mine"), _seats.alias("seat")
    query = (
        select(
            *_GROUP_COLUMNS,
            Programme.__table__.c.name if with_programme else null(),
            seat.c.person_id,
            seat.c.response,
            seat.c.met,
            _people.c.name,
            _people.c.department,
        )
        .select_from(_groups)
        .join(mine, and_(mine.c.group_id == _groups.c.id, mine.c.person_id == person_id))
        .join(seat, seat.c.group_id == _groups.c.id)
        .join(_people, _people.c.id == seat.c.person_id)
        .order_by(_groups.c.start_at, _groups.c.id)
    )
    if shown_only:
        shown_at = bindparam("shown_at", type_=_groups.c.start_at.type)
        recent = (
            select(_groups.c.id)
            .join(_seats, _seats.c.group_id == _groups.c.id)
            .where(_seats.c.person_id == person_id, _groups.c.start_at <= shown_at)
            .order_by(_groups.c.start_at.desc(), _groups.c.id.desc())
            .limit(PAST_SHOWN)
        )
        query = query.where(or_(_groups.c.start_at > shown_at, _groups.c.id.in_(recent)))
    if with_programme:
        rounds, programmes = Round.__table__, Programme.__table__
        query = query.join(rounds, rounds.c.id == _groups.c.round_id).join(
            programmes, programmes.c.id == rounds.c.programme_id
        )
    return query


def my_breaks(
    person: Person, *, with_programme: bool = False, shown_at: datetime | None = None
) -> list[BreakView]:
    """The groups ``person`` sits in, oldest first, with times in their zone.

    One query: the groups with their seats and people (2-8 per group), only the columns shown.
    ``with_programme`` also names each group's programme (the download shows it, the page does
    not); without it the round and programme tables stay out of the query, which PostgreSQL
    makes each transaction pay for per table it touches. With ``shown_at``, only what the page
    shows at that instant: the groups still ahead and the last :data:`PAST_SHOWN` before it, so
    the page costs the same after years of breaks; otherwise every group (the download).
    """
    zone = ZoneInfo(person.timezone)
    query = _breaks_query(with_programme=with_programme, shown_only=shown_at is not None)
    rows = db.session.execute(query, {"person_id": person.id, "shown_at": shown_at})
    width = len(_GROUP_COLUMNS)
    groups: dict[int, tuple[tuple, str | None, list[BreakSeat]]] = {}
    for row in rows:
        seats = groups.setdefault(row[0], (row[:width], row[width], []))[2]
        person_id, response, met, name, department = row[width + 1 :]
        seats.append(BreakSeat(person_id, response, met, Colleague(person_id, name, department)))
    views = []
    for columns, programme, seats in groups.values():
        group = BreakGroup(*columns, members=tuple(seats))
        seat = next(m for m in seats if m.person_id == person.id)
        others = [m.person for m in seats if m.person_id != person.id]
        views.append(
            BreakView(
                group=group,
                seat=seat,
                others=sorted(others, key=lambda p: p.name),
                start=group.start_at.astimezone(zone),
                end=group.end_at.astimezone(zone),
                programme=programme,
            )
        )
    return views


@cache
def _met_query() -> Select:
    """People and departments met: parameters ``person_id`` and ``now``; built once."""
    mine, theirs = aliased(GroupMember), aliased(GroupMember)
    return (
        select(
            func.count(distinct(theirs.person_id)).label("people"),
            func.count(distinct(Person.department)).label("departments"),
        )
        .select_from(mine)
        .join(Group, Group.id == mine.group_id)
        .join(theirs, and_(theirs.group_id == Group.id, theirs.person_id != mine.person_id))
        .join(Person, Person.id == theirs.person_id)
        .where(
            mine.person_id == bindparam("person_id"),
            Group.status != GroupStatus.CANCELLED,
            or_(
                mine.met.is_(True),
                and_(
                    mine.met.is_(None),
                    Group.end_at <= bindparam("now", type_=Group.end_at.type),
                ),
            ),
        )
    )


@dataclass(frozen=True)
class TeamTitle:
    """A learning team as /me lists it: a link to its page, named by its programme."""

    uid: str
    topic: str | None
    name: str
    ends_on: date | None


@cache
def _met_and_teams_query() -> Select:
    """:func:`_met_query`'s one row beside each of the person's learning teams (one row with
    no team when they are in none): the page's last two reads in one. Built once."""
    met = _met_query().subquery("met")
    teams = team_titles_of(bindparam("person_id")).subquery("team")
    return (
        select(met.c.people, met.c.departments)
        .add_columns(teams.c.uid, teams.c.topic, teams.c.name, teams.c.ends_on)
        .select_from(met)
        .outerjoin(teams, true())
        .order_by(teams.c.id)
    )


def met_and_teams(person: Person, now: datetime) -> tuple[int, int, list[TeamTitle]]:
    """(:func:`met_so_far`'s people and departments, the person's learning teams still on,
    oldest first), in one query."""
    rows = db.session.execute(_met_and_teams_query(), {"person_id": person.id, "now": now}).all()
    people, departments = rows[0][0], rows[0][1]
    teams = [TeamTitle(*row[2:]) for row in rows if row[2] is not None]
    return people, departments, teams


def met_so_far(person: Person, now: datetime) -> tuple[int, int]:
    """(people, departments) met in breaks that happened or that ``person`` said they met.

    "Happened": over, not cancelled and not denied (said not to have taken place).

    Counted in the database, over every past break, without loading them.
    """
    row = db.session.execute(_met_query(), {"person_id": person.id, "now": now}).one()
    return row[0], row[1]


#: A past break's status as /me shows it: (key, words).
HAPPENED, SAID_MET, CANCELLED, MISSED, NOW = "happened", "met", "cancelled", "missed", "now"
STATUS_WORDS = {
    HAPPENED: lazy_gettext("happened"),
    SAID_MET: lazy_gettext("you said you met"),
    CANCELLED: lazy_gettext("cancelled"),
    MISSED: lazy_gettext("missed"),
    NOW: lazy_gettext("happening now"),
}


def past_status(view: BreakView, now: datetime) -> str:
    """What became of a break that has begun: cancelled, missed, met, happened or going on.

    "Missed": the person said it did not take place (on /me, in chat or by email).
    """
    if view.group.status == GroupStatus.CANCELLED:
        return CANCELLED
    if view.seat.met is False:
        return MISSED
    if view.seat.met is True:
        return SAID_MET
    return NOW if view.group.end_at > now else HAPPENED


@bp.get("")
@each_statement_alone  # it only reads: no BEGIN and COMMIT around its queries
@login_required
def breaks():
    """The home of a signed-in person: next break, later ones, past ones, who they have met.

    The next break is ``core.next_break``'s answer, the same one the "You're in" page gave:
    the expected slot before its round is planned, the real group after.
    """
    person = current_person()
    now = datetime.now(UTC)
    views = my_breaks(person, shown_at=now)
    ahead = [v for v in views if v.group.start_at > now and v.group.status == GroupStatus.SCHEDULED]
    upcoming = next_break_for(
        person, now, ahead=[v.group for v in ahead], every_programme=cached_or_default()
    )
    later = [v for v in ahead if upcoming is None or v.group is not upcoming.group]
    past = [(v, past_status(v, now)) for v in reversed(views) if v.group.start_at <= now]
    people, departments, teams = met_and_teams(person, now)
    return render_template(
        "account/breaks.html",
        person=person,
        zone=ZoneInfo(person.timezone),
        next_break=upcoming,
        later=later,
        past=past,
        status_words=STATUS_WORDS,
        people_met=people,
        departments_met=departments,
        teams=teams,
        team_checkboxes=team_checkboxes(person),
    )


@dataclass(frozen=True)
class TeamCheckboxes:
    """The two learning-team checkboxes on /me, each with its label text, as HTML."""

    show_as_ambassador: Markup
    digest_opt_out: Markup


#: Rendered checkboxes by (language, ambassador, no digests): a dozen at most per process.
_team_checkboxes: dict[tuple[str, bool, bool], TeamCheckboxes] = {}


def team_checkboxes(person: Person) -> TeamCheckboxes:
    """The checkboxes of :class:`TeamPreferencesForm` as the form renders them for ``person``.

    Rendered once per language and pair of values in a process: building and rendering the
    form (its CSRF field, WTForms' attribute handling) was a tenth of /me, for two inputs that
    differ only in whether they are ticked.
    """
    preference = person.preference
    ambassador = bool(preference and preference.show_as_ambassador)
    opt_out = bool(preference and preference.digest_opt_out)
    key = (current_language(), ambassador, opt_out)
    found = _team_checkboxes.get(key)
    if found is None:
        form = TeamPreferencesForm(
            formdata=None,
            meta={"csrf": False},  # the page's own csrf_token() goes into the form
            show_as_ambassador=ambassador,
            digest_opt_out=opt_out,
        )
        found = TeamCheckboxes(
            *(
                Markup("{} {}").format(field(), field.label.text)
                for field in (form.show_as_ambassador, form.digest_opt_out)
            )
        )
        _team_checkboxes[key] = found  # threads may both render: the same HTML
    return found


def _my_seat(group_id: int) -> tuple[Person, Group, GroupMember]:
    """The viewer's seat in ``group_id``; 404 for anyone else's group."""
    person = current_person()
    seat = db.session.get(GroupMember, (group_id, person.id))
    if seat is None:
        abort(404, _("There is no such coffee break among yours."))
    return person, seat.group, seat


@bp.post("/breaks/<int:group_id>/answer")
@login_required
def answer(group_id: int):
    """'I'm in' keeps the seat; 'Can't make it' gives it up (the others get an update).

    The same change as the buttons in the invite and in chat (``core.answers``).
    """
    person, group, _seat = _my_seat(group_id)
    form = AnswerForm()
    if not form.validate_on_submit() or form.answer.data not in (
        ButtonAnswer.IN,
        ButtonAnswer.CANT,
    ):
        abort(400, _("Answer with 'I'm in' or 'Can't make it'."))
    try:
        flash(apply_answer(current_settings(), person, group, form.answer.data))
    except AnswerError as error:
        abort(400, f"{error}")
    return redirect(url_for("account.breaks"))


@bp.post("/breaks/<int:group_id>/met")
@login_required
def met(group_id: int):
    """Record whether a past break happened (kept apart from future matches only if it did)."""
    _person, group, seat = _my_seat(group_id)
    form = AnswerForm()
    if not form.validate_on_submit() or form.answer.data not in ("yes", "no"):
        abort(400, _("Answer with 'yes' or 'no'."))
    if group.start_at > datetime.now(UTC):
        abort(400, _("That break has not happened yet; nothing was changed."))
    seat.met = form.answer.data == "yes"
    db.session.commit()
    flash(_("Thanks for telling us."))
    return redirect(url_for("account.breaks"))
