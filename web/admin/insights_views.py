"""The insights page and its CSV: load a period's rounds as plain rows, compute, draw.

Where someone sat for a virtual break comes from their current weekday preferences (the round
does not record it per seat), and departments are people's current ones.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Response, abort, render_template, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.ambassadors import learning_summary
from core.db import db
from core.enums import GroupStatus, ProgrammeKind
from core.i18n import gettext as _
from core.insights import Break, Insights, RoundRow, Seat, compute, room_subscribers, to_csv
from core.models import Group, GroupMember, Person, Programme, ProgrammeMember, Round
from pairing.model import Mode
from web.admin import bp
from web.admin.charts import heat_map, short_date, trend_chart
from web.input_rules import id_arg

DEFAULT_DAYS = 90
HISTORY_DAYS = 365  # how far back a "met again" is looked for


def _period() -> tuple[date, date, Programme | None]:
    today = datetime.now(UTC).date()
    try:
        end = date.fromisoformat(request.args["to"]) if request.args.get("to") else today
        start = (
            date.fromisoformat(request.args["from"])
            if request.args.get("from")
            else end - timedelta(days=DEFAULT_DAYS)
        )
        start - timedelta(days=HISTORY_DAYS)  # the year before the period is read too
    except ValueError:
        abort(400, _("Dates are written YYYY-MM-DD."))
    except OverflowError:  # the period, or the year before it, starts before 1 January of year 1
        abort(400, _("Pick a period that starts in the year 2 or later."))
    if start > end:
        abort(400, _("The period starts after it ends."))
    programme_id = id_arg("programme")
    programme = db.session.get(Programme, programme_id) if programme_id is not None else None
    if programme_id is not None and programme is None:
        abort(404, _("No such programme."))
    return start, end, programme


def _seat(member: GroupMember, group: Group, day: date) -> Seat:
    person: Person = member.person
    if group.mode == Mode.IN_PERSON:
        site = group.site
    elif person.preference is not None:
        site = person.preference.site_on(day, person.home_office)
    else:
        site = person.home_office
    return Seat(person.id, person.department, site, member.met)


def load_rounds(start: date, end: date, programme: Programme | None) -> list[RoundRow]:
    """The rounds from ``start`` to ``end`` (inclusive) as plain rows."""
    query = (
        select(Round)
        .where(Round.date >= start, Round.date <= end, Round.is_round())
        .order_by(Round.date, Round.id)
        .options(
            selectinload(Round.groups)
            .selectinload(Group.members)
            .selectinload(GroupMember.person)
            .selectinload(Person.preference)
        )
    )
    if programme is not None:
        query = query.where(Round.programme_id == programme.id)
    rows = []
    for rnd in db.session.scalars(query):
        breaks = tuple(
            Break(
                group_id=g.id,
                day=rnd.date,
                seats=tuple(_seat(m, g, rnd.date) for m in g.members),
                cancelled=g.status == GroupStatus.CANCELLED,
            )
            for g in rnd.groups
        )
        unmatched = tuple(
            (u.get("id", "?"), u.get("reason", ""))
            for u in rnd.unmatched or []
            if isinstance(u, dict)
        )
        rows.append(RoundRow(rnd.date, breaks, unmatched))
    return rows


def _insights() -> tuple[Insights, date, date, Programme | None]:
    start, end, programme = _period()
    rounds = load_rounds(start, end, programme)
    earlier = load_rounds(
        start - timedelta(days=HISTORY_DAYS), start - timedelta(days=1), programme
    )
    return compute(rounds, [b for r in earlier for b in r.breaks]), start, end, programme


@bp.get("/insights")
def insights():
    """Heat map, participation and met rate, and the headline numbers for a period."""
    numbers, start, end, programme = _insights()
    labels = [short_date(p.day) for p in numbers.points]
    people = {p.id: p.name for p in _people(numbers)}
    return render_template(
        "admin/insights.html",
        numbers=numbers,
        start=start,
        end=end,
        programme=programme,
        programmes=db.session.scalars(select(Programme).order_by(Programme.id)).all(),
        heat=heat_map(numbers.departments, numbers.matrix, _("Breaks across departments")),
        participation=trend_chart(
            list(zip(labels, [p.people for p in numbers.points], strict=True)),
            _("People taking part per round"),
            chart_id="participation",
        ),
        met=trend_chart(
            list(zip(labels, [p.met_rate for p in numbers.points], strict=True)),
            _("Share of people who said they met"),
            percent=True,
            chart_id="met",
        ),
        names=people,
        rooms=drop_in_rooms(),
        learning=learning_summary(start, end, programme),
    )


def drop_in_rooms() -> list[tuple[Programme, list[tuple[str, int]]]]:
    """Each drop-in programme with its subscribers per office and remote."""
    result = []
    for programme in db.session.scalars(
        select(Programme).where(Programme.kind == ProgrammeKind.DROP_IN).order_by(Programme.id)
    ):
        offices = db.session.scalars(
            select(Person.home_office)
            .join(ProgrammeMember, ProgrammeMember.person_id == Person.id)
            .where(ProgrammeMember.programme_id == programme.id)
        )
        result.append((programme, room_subscribers(offices)))
    return result


def _people(numbers: Insights) -> list[Person]:
    ids = {int(pid) for _, pid, _ in numbers.left_out_people if str(pid).isdigit()}
    if not ids:
        return []
    return list(db.session.scalars(select(Person).where(Person.id.in_(sorted(ids)))))


@bp.get("/insights.csv")
def insights_csv():
    """The same numbers as CSV, for a spreadsheet or a slide."""
    numbers, start, end, programme = _insights()
    name = programme.name if programme else "all programmes"
    body = to_csv(numbers, f"{start.isoformat()}..{end.isoformat()}", name)
    filename = f"fika-insights-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
