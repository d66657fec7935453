"""Plain-text tables for the command line."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import db
from core.enums import RoundStatus
from core.models import Person, Programme, Round
from pairing import Plan

#: Groups ``fika round`` prints after its summary unless ``--all`` asks for every one.
FIRST_GROUPS = 10


def round_summary(plan: Plan) -> dict:
    """The round in numbers: groups, their sizes, who is placed, repeats and the mix."""
    stats = plan.stats
    groups = len(plan.groups)
    by_size: dict[int, int] = {}
    for group in plan.groups:
        by_size[len(group.members)] = by_size.get(len(group.members), 0) + 1
    return {
        "groups": groups,
        "sizes": {str(size): count for size, count in sorted(by_size.items())},
        "placed": sum(size * count for size, count in by_size.items()),
        "unmatched": len(plan.unmatched),
        # Pairs inside a group who met within the programme's cooldown.
        "repeats_within_cooldown": int(stats.get("repeats", 0)),
        "cross_department_share": _share(stats.get("cross_department", 0), groups),
        "hybrid_share": _share(stats.get("hybrid", 0), groups),
    }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def summary_lines(summary: dict) -> str:
    """:func:`round_summary` as two lines of text."""
    sizes = ", ".join(f"{count} of {size}" for size, count in summary["sizes"].items())
    return (
        f"groups: {summary['groups']} ({sizes or 'none'}); placed {summary['placed']}, "
        f"unmatched {summary['unmatched']}\n"
        f"repeats within cooldown: {summary['repeats_within_cooldown']}; "
        f"cross-department {summary['cross_department_share']:.0%}; "
        f"hybrid {summary['hybrid_share']:.0%}"
    )


def round_json(programme: str, day: date, outcome, summary: dict | None) -> dict:
    """``fika round --json``: the round's groups with members, slot and reasons, and its summary.

    ``outcome`` is a ``core.rounds.RoundOutcome``; without a plan (the round already ran)
    ``groups`` and ``unmatched`` are empty and ``summary`` is null.
    """
    plan, people = outcome.plan, outcome.people
    groups, unmatched = [], []
    if plan is not None:
        for group in plan.groups:
            members = [_member_json(m, people.get(m), day) for m in group.members]
            groups.append(
                {
                    "members": members,
                    "slot": {"start": _utc(group.start), "end": _utc(group.end)},
                    "mode": group.mode,
                    "site": group.site,
                    "reasons": list(group.reasons),
                }
            )
        for item in plan.unmatched:
            person = people.get(item.id)
            unmatched.append(
                {"id": item.id, "name": person.name if person else None, "reason": item.reason}
            )
    return {
        "programme": programme,
        "date": day.isoformat(),
        "created": outcome.created,
        "round_id": outcome.round_id,
        "message": outcome.message,
        "summary": summary,
        "groups": groups,
        "unmatched": unmatched,
    }


def _member_json(member: str, person, day: date) -> dict:
    if person is None:
        return {"id": member}
    return {
        "id": member,
        "name": person.name,
        "department": person.department,
        "site": person.preference.site_on(day, person.home_office),
        "timezone": person.timezone,
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def groups_table(plan: Plan, people: dict[str, Person], day: date, limit: int | None = None) -> str:
    """One block per group: members with department, where they are, and their local time.

    ``limit``: print only the first groups, and say how many more there are.
    """
    lines = []
    for n, group in enumerate(plan.groups[:limit], 1):
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
    hidden = len(plan.groups) - len(plan.groups[:limit])
    if hidden:
        lines.append(f"... and {hidden} more groups (--all prints every group, --json all data)")
    for item in plan.unmatched[:limit]:
        name = people[item.id].name if item.id in people else item.id
        lines.append(f"unmatched: {name}: {item.reason}")
    hidden = len(plan.unmatched) - len(plan.unmatched[:limit])
    if hidden:
        lines.append(f"... and {hidden} more unmatched")
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
