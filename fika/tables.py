"""Plain-text tables for the command line."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from pairing import Plan
from web.extensions import db
from web.models import Delivery, Person, Programme, Round
from web.programmes import next_break


def groups_table(plan: Plan, people: dict[str, Person], day: date) -> str:
    """One block per group: members with department, where they are, and their local time."""
    lines = []
    for n, group in enumerate(plan.groups, 1):
        where = f"in person at {group.site}" if group.mode == "in_person" else "video"
        lines.append(f"#{n:<3} {group.start:%Y-%m-%d %H:%M}Z  {where}")
        for member in group.members:
            person = people.get(member)
            if person is None:
                lines.append(f"     {member}")
                continue
            local = group.start.astimezone(ZoneInfo(person.timezone))
            site = person.preference.site_on(day, person.home_office) or "remote"
            lines.append(
                f"     {person.name:<24} {person.department:<18} {site:<11} "
                f"{local:%H:%M} {person.timezone}"
            )
        if group.reasons:
            lines.append(f"     why: {'; '.join(group.reasons)}")
    for item in plan.unmatched:
        name = people[item.id].name if item.id in people else item.id
        lines.append(f"unmatched: {name}: {item.reason}")
    return "\n".join(lines)


def status_report(now: datetime) -> str:
    """Next break per programme, the last rounds, and outbox counts by status."""
    lines = ["Programmes:"]
    for programme in db.session.scalars(select(Programme).order_by(Programme.id)):
        upcoming = next_break(programme, now)
        when = f"{upcoming:%a %Y-%m-%d %H:%M %Z}" if upcoming else "none in two weeks"
        state = "on" if programme.active else "off"
        lines.append(f"  {programme.name} [{state}]: next break {when}")
    lines.append("Last rounds:")
    rounds = db.session.scalars(select(Round).order_by(Round.date.desc(), Round.id.desc()).limit(5))
    for rnd in rounds:
        lines.append(
            f"  {rnd.date} {rnd.programme.name}: {rnd.status}, {len(rnd.groups)} groups, "
            f"{len(rnd.unmatched or [])} unmatched"
        )
    counts = dict(
        db.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    )
    lines.append(
        "Outbox: "
        + ", ".join(f"{s} {counts.get(s, 0)}" for s in ("pending", "retrying", "sent", "dead"))
    )
    return "\n".join(lines)
