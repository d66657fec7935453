"""Self-formed learning teams: a person starts a team around a topic from /me.

The team is a learning-team programme like any other (``core.learning_teams`` forms it, the
clock places whoever joins later), started by that person (``Programme.started_by``): they and
the colleagues they invited by name are its members, and when it is open
(``Programme.open_to_join``) others may choose it on their preferences. Its meeting time is
found inside everyone's working hours: the first weekday all of them take part on, at the first
half hour from which the meeting fits in every member's day, in the starter's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.enums import Cadence, ProgrammeKind
from core.i18n import gettext as _
from core.learning_teams import run_teams
from core.models import WEEKDAYS, Person, Programme
from core.programme_changes import add_members, save_programme
from core.programmes import ProgrammeSettings, name_taken, settings_problems
from core.round_claims import RoundOutcome
from core.settings import Settings
from core.text import text_problem

MEETING_MINUTES = 60
TOPIC_MAX = 100
WEEKS = range(2, 13)  # how long a self-formed team runs
DEFAULT_WEEKS = 6  # the /me form's default, and ``/fika team``'s length
TEAM_MIN, TEAM_MAX = 3, 8


class TeamStartError(ValueError):
    """The team cannot be started as asked; ``field`` names the form field, the text why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Meeting:
    """When a self-formed team meets: a weekday, a local time, in a zone."""

    day: str
    local_time: time
    timezone: str


def meeting_for(people: list[Person], first: date, minutes: int = MEETING_MINUTES) -> Meeting:
    """The first weekday from ``first`` all ``people`` take part on whose working hours share
    ``minutes`` (in the first person's zone), at the first half hour that fits."""
    zone = ZoneInfo(people[0].timezone)
    for offset in range(7):
        day = first + timedelta(days=offset)
        key = WEEKDAYS[day.weekday()]
        if any(key not in ((p.preference.days if p.preference else None) or WEEKDAYS[:5])
               for p in people):  # fmt: skip
            continue
        starts, ends = [], []
        for p in people:
            own = ZoneInfo(p.timezone)
            starts.append(datetime.combine(day, p.work_start, own).astimezone(zone))
            ends.append(datetime.combine(day, p.work_end, own).astimezone(zone))
        start, end = max(starts), min(ends)
        rounded = start.replace(minute=0, second=0, microsecond=0)
        while rounded < start:
            rounded += timedelta(minutes=30)
        if rounded.date() == day and rounded + timedelta(minutes=minutes) <= end:
            return Meeting(key, rounded.time(), people[0].timezone)
    raise TeamStartError(
        "invite", _("Your working hours and your colleagues' do not share an hour on any day.")
    )


def _name(topic: str, starter: Person) -> str:
    base = _("%(topic)s, started by %(name)s", topic=topic, name=starter.name)[:190]
    name, n = base, 2
    while name_taken(name, None):
        name, n = f"{base} ({n})", n + 1
    return name


def start_team(
    settings: Settings,
    starter: Person,
    topic: str,
    invited: list[Person],
    *,
    open_to_join: bool,
    weeks: int,
    today: date,
) -> tuple[Programme, RoundOutcome]:
    """Start a team around ``topic`` with ``invited`` colleagues; forms it now when enough
    people are in. The caller commits."""
    plain = text_problem(topic) is None
    topic = topic.strip()
    if not topic:
        raise TeamStartError("topic", _("Name the topic the team will learn about."))
    if len(topic) > TOPIC_MAX or not plain:
        raise TeamStartError(
            "topic", _("The topic must be one line of at most %(num)d characters.", num=TOPIC_MAX)
        )
    if weeks not in WEEKS:
        raise TeamStartError(
            "weeks", _("Choose between %(low)d and %(high)d weeks.", low=WEEKS[0], high=WEEKS[-1])
        )
    people = [starter, *[p for p in invited if p.id != starter.id]]
    if len(people) > TEAM_MAX:
        raise TeamStartError("invite", _("A team has at most %(num)d people.", num=TEAM_MAX))
    if len(people) < TEAM_MIN and not open_to_join:
        raise TeamStartError(
            "invite",
            _("Invite at least two colleagues, or leave the team open for others to join."),
        )
    starts_on = today + timedelta(days=1)
    meeting = meeting_for(people, starts_on)
    values = ProgrammeSettings(
        name=_name(topic, starter),
        topic=topic,
        kind=ProgrammeKind.LEARNING_TEAM,
        cadence=Cadence.WEEKLY,
        days=[meeting.day],
        local_time=meeting.local_time,
        timezone=meeting.timezone,
        duration_minutes=MEETING_MINUTES,
        group_size=TEAM_MAX if open_to_join else max(TEAM_MIN, len(people)),
        cooldown_rounds=0,
        starts_on=starts_on,
        ends_on=starts_on + timedelta(weeks=weeks) - timedelta(days=1),
    )
    problems = settings_problems(values)
    if problems:  # a bug, not the person's input: everything above was checked
        raise ValueError(f"self-formed team settings refused: {problems}")
    actor = f"person:{starter.id}"
    programme = save_programme(settings, None, values, actor, action="team.start")
    programme.started_by = starter.id
    programme.open_to_join = open_to_join
    add_members(settings, programme, people, actor, "team.invite")
    outcome = run_teams(settings, programme, today)
    return programme, outcome
