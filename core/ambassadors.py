"""Knowledge ambassadors and what learning teams did in a period, for the admin's insights.

Per period: the teams formed (their first meeting's round falls in it), the teams finished (their
programme's ``ends_on`` falls in it) and their topics, the goals reached (a finished team whose
final check-in answers say "reached" at least as often as not, among those who answered), and
who shared a topic with others: a sharer (``share_topics`` holds the team's topic) seated in a
team that ran during the period. Sharers are named only with ``show_as_ambassador``; everyone
else is counted, not named.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from core.db import db
from core.enums import GroupStatus, ProgrammeKind
from core.learning_teams import TEAM_UID_PREFIX, is_sharer
from core.models import Group, GroupMember, Person, Programme, Round, TeamCheckin


@dataclass
class LearningSummary:
    """What the insights page shows about learning teams in one period."""

    teams_formed: int = 0
    teams_finished: int = 0
    goals_reached: int = 0
    topics: list[tuple[str, int]] = field(default_factory=list)  # finished teams per topic
    named: list[tuple[str, list[str]]] = field(default_factory=list)  # (name, topics shared)
    unnamed: int = 0  # sharers who did not opt in to be shown


def learning_summary(start: date, end: date, programme: Programme | None = None) -> LearningSummary:
    """The period's learning-team numbers (``programme``: only that one's teams)."""
    query = (
        select(Group, Round.date, Programme)
        .join(Round, Round.id == Group.round_id)
        .join(Programme, Programme.id == Round.programme_id)
        .where(
            Programme.kind == ProgrammeKind.LEARNING_TEAM,
            Group.uid.startswith(TEAM_UID_PREFIX),
            Round.date <= end,
            Programme.ends_on >= start,
        )
        .order_by(Group.id)
    )
    if programme is not None:
        query = query.where(Programme.id == programme.id)
    summary = LearningSummary()
    topics: Counter[str] = Counter()
    shared: dict[int, set[str]] = defaultdict(set)
    people: dict[int, Person] = {}
    for group, formed_on, prog in db.session.execute(query):
        if start <= formed_on:
            summary.teams_formed += 1
        seats = db.session.scalars(
            select(Person)
            .join(GroupMember, GroupMember.person_id == Person.id)
            .where(GroupMember.group_id == group.id)
        ).all()
        for person in seats:
            if is_sharer(person.preference, prog.topic):
                shared[person.id].add(prog.topic)
                people[person.id] = person
        if group.status == GroupStatus.CANCELLED or prog.ends_on > end:
            continue
        summary.teams_finished += 1
        topics[prog.topic] += 1
        answers = list(
            db.session.scalars(
                select(TeamCheckin.goal_reached).where(
                    TeamCheckin.group_id == group.id,
                    TeamCheckin.stage == "final",
                    TeamCheckin.goal_reached.is_not(None),
                )
            )
        )
        if answers and sum(answers) * 2 >= len(answers):
            summary.goals_reached += 1
    summary.topics = sorted(topics.items(), key=lambda kv: (-kv[1], kv[0].casefold()))
    for person_id, person_topics in shared.items():
        person = people[person_id]
        if person.preference is not None and person.preference.show_as_ambassador:
            summary.named.append((person.name, sorted(person_topics, key=str.casefold)))
        else:
            summary.unnamed += 1
    summary.named.sort(key=lambda item: item[0].casefold())
    return summary
