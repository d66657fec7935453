"""A learning team's goal and its members' check-in answers.

The goal is one line the members write at their first meeting (``TeamProgress.goal``); every
later version of the team's invite carries it and a link to its page. The check-in answers
(``TeamCheckin``) are kept short: how it is going halfway, and at the end whether the goal was
reached, what was learned and whether that may be published in the team's digest.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db import db
from core.i18n import gettext as _
from core.learning_teams import TEAM_UID_PREFIX, is_team
from core.models import Group, GroupMember, Person, TeamCheckin, TeamProgress
from core.settings import Settings
from core.text import text_problem

#: The longest goal and answer kept: a sentence or two, not an essay.
GOAL_MAX = 300
ANSWER_MAX = 500


class GoalError(ValueError):
    """The text cannot be kept; the message says why, for the form to show."""


def team_by_uid(uid: str) -> Group | None:
    """The learning team with this UID, or None (a break's UID is not a team's)."""
    if not uid.startswith(TEAM_UID_PREFIX):
        return None
    return db.session.scalar(select(Group).where(Group.uid == uid))


def is_member(group: Group, person: Person) -> bool:
    """Whether ``person`` holds a seat in ``group``."""
    return db.session.get(GroupMember, (group.id, person.id)) is not None


def progress_of(group: Group) -> TeamProgress:
    """The team's progress row, made now when missing (two makers race to one row)."""
    progress = db.session.get(TeamProgress, group.id)
    if progress is not None:
        return progress
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(TeamProgress).values(group_id=group.id, goal="").on_conflict_do_nothing()
    )
    return db.session.get(TeamProgress, group.id)


def goal_of(group: Group) -> str:
    """The team's goal ("" while nobody wrote one)."""
    progress = db.session.get(TeamProgress, group.id)
    return progress.goal if progress is not None else ""


def goal_url(settings: Settings, group: Group) -> str:
    """The team's goal page, as links in its invite show it."""
    return f"{settings.base_url}/teams/{group.uid}"


def check_text(value: str, limit: int) -> str:
    """``value`` trimmed, or :class:`GoalError` when too long or not one line of text."""
    value = value.strip()
    if len(value) > limit:
        raise GoalError(_("Keep it under %(num)d characters.", num=limit))
    problem = text_problem(value)
    if problem is not None:
        raise GoalError(
            _("The text must not contain line breaks, tabs or other control characters.")
        )
    return value


def set_goal(group: Group, person: Person, goal: str, now: datetime) -> str:
    """Write the team's goal as ``person`` (a member); the caller commits. Returns the goal."""
    if not is_team(group) or not is_member(group, person):
        raise GoalError(_("Only the team's members can change its goal."))
    goal = check_text(goal, GOAL_MAX)
    progress = progress_of(group)
    progress.goal = goal
    progress.goal_updated_at = now
    return goal


def record_team_answer(
    group: Group,
    person: Person,
    stage: str,
    now: datetime,
    *,
    progress: str = "",
    goal_reached: bool | None = None,
    learned: str = "",
    publish: bool = False,
) -> TeamCheckin:
    """Keep (or replace) ``person``'s answer to the team's ``stage`` check-in; caller commits."""
    progress = check_text(progress, ANSWER_MAX)
    learned = check_text(learned, ANSWER_MAX)
    answer = db.session.scalar(
        select(TeamCheckin).where(
            TeamCheckin.group_id == group.id,
            TeamCheckin.person_id == person.id,
            TeamCheckin.stage == stage,
        )
    )
    if answer is None:
        answer = TeamCheckin(group_id=group.id, person_id=person.id, stage=stage)
        db.session.add(answer)
    answer.progress = progress
    answer.goal_reached = goal_reached
    answer.learned = learned
    answer.publish = publish and bool(learned)
    answer.answered_at = now
    db.session.flush()
    return answer


def answer_of(group: Group, person: Person, stage: str) -> TeamCheckin | None:
    """``person``'s answer to the team's ``stage`` check-in, if any."""
    return db.session.scalar(
        select(TeamCheckin).where(
            TeamCheckin.group_id == group.id,
            TeamCheckin.person_id == person.id,
            TeamCheckin.stage == stage,
        )
    )
