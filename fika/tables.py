"""Plain-text tables for the command line."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import db
from core.enums import RoundStatus
from core.models import Person, Programme, Round
from pairing import Plan


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
    """Next firing and break per programme, the last rounds, the outbox and its dead letters."""
    from core.dispatch import counts_by_status, dead_letters
    from core.schedule import schedule_for

    lines = ["Programmes:"]
    for programme in db.session.scalars(select(Programme).order_by(Programme.id)):
        schedule = schedule_for(programme)
        zone = ZoneInfo(programme.timezone)
        firing = schedule.next_firing(now) if programme.active else None
        if firing is None:
            when = "off" if not programme.active else "no working day ahead"
        else:
            at, day = firing
            when = (
                f"plans {at.astimezone(zone):%a %Y-%m-%d %H:%M %Z} for the break at "
                f"{schedule.break_at(day).astimezone(zone):%H:%M} on {day}"
            )
        holidays = f"holidays {schedule.country}" if schedule.country else "no public holidays"
        lines.append(f"  {programme.name} [#{programme.id}]: {when} ({holidays})")
    lines.append("Last rounds:")
    rounds = db.session.scalars(
        select(Round).where(Round.is_round()).order_by(Round.date.desc(), Round.id.desc()).limit(5)
    ).all()
    if not rounds:
        lines.append("  none yet")
    for rnd in rounds:
        if rnd.status == RoundStatus.MISSED:
            why = (rnd.stats or {}).get("missed", "")
            lines.append(f"  {rnd.date} {rnd.programme.name}: MISSED {why}".rstrip())
            continue
        lines.append(
            f"  {rnd.date} {rnd.programme.name}: {rnd.status} (round {rnd.id}), "
            f"{len(rnd.groups)} groups, {len(rnd.unmatched or [])} unmatched"
        )
    counts = counts_by_status()
    lines.append(
        "Outbox: " + ", ".join(f"{status} {n}" for status, n in counts.items()) + _oldest_due(now)
    )
    dead = dead_letters(limit=5)
    if dead:
        lines.append(
            f"Dead letters (latest {len(dead)} of {counts['dead']}; resend from the admin):"
        )
        for row in dead:
            lines.append(
                f"  delivery {row.id} round {row.round_id} {row.kind} via {row.channel} "
                f"to {row.recipient}: {row.last_error}"
            )
    return "\n".join(lines)


def _oldest_due(now: datetime) -> str:
    """How late the most overdue queued delivery is, when one is more than a minute late."""
    from core.dispatch import next_due

    due = next_due()
    if due is None or now - due < timedelta(minutes=1):
        return ""
    return f" (oldest due {int((now - due).total_seconds() // 60)} min ago: is a worker running?)"
