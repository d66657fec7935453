"""Programmes: the default one, when their breaks are, and who may take part in which.

Membership is a ProgrammeMember row per (programme, person). A person with no rows takes part
in the default (first) programme only, so everyone who joined through the opt-in form before
programmes existed keeps their daily break. Department and office filters are checked again at
every round, so narrowing a programme takes effect without touching anyone's choice.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from itertools import islice
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, exists, func, or_, select

from core.db import db
from core.enums import Cadence, ProgrammeKind
from core.i18n import LANGUAGES, lazy_gettext
from core.i18n import gettext as _
from core.models import WEEKDAYS, Person, Programme, ProgrammeMember, Round
from core.schedule import schedule_for
from core.text import CONTROL_MESSAGE, text_problem
from core.zones import is_zone
from integrations.base import first_name
from pairing.model import GROUP_SIZES

DEFAULT_PROGRAMME = "Daily digital coffee break"


def ensure_default_programme(timezone: str) -> Programme:
    """Create the default programme (weekdays, 10:00 in ``timezone``, 15 min) if there is none."""
    programme = db.session.scalar(select(Programme).order_by(Programme.id).limit(1))
    if programme is None:
        programme = Programme(
            name=DEFAULT_PROGRAMME,
            timezone=timezone,
            duration_minutes=15,
            group_size=2,
        )
        db.session.add(programme)
        db.session.commit()
    return programme


def find_programme(name: str | None) -> Programme | None:
    """The programme called ``name``, or the first one when no name is given."""
    query = select(Programme).order_by(Programme.id)
    if name:
        query = query.where(Programme.name == name)
    return db.session.scalar(query.limit(1))


def programme_names() -> list[str]:
    """Every programme's name, oldest first (to say which ones exist)."""
    return list(db.session.scalars(select(Programme.name).order_by(Programme.id)))


def break_start(programme: Programme, day: date) -> datetime:
    """When the programme's break begins on ``day``, as an aware instant in its zone."""
    return datetime.combine(day, programme.local_time, tzinfo=ZoneInfo(programme.timezone))


@dataclass(frozen=True)
class Slot:
    """One working slot of a programme: a day with a break, and when its round is planned."""

    day: date  # in the programme's zone
    start: datetime  # the break, aware, in the programme's zone
    plan_at: datetime  # when the clock plans its round (UTC)


def slots_after(programme: Programme, now: datetime) -> Iterator[Slot]:
    """The programme's working slots whose round is planned after ``now``, soonest first.

    The one rule for "the programme's next slot": the clock's own schedule
    (``core.schedule.Schedule.next_firing``), so weekdays, cadence, public holidays and the
    programme's days off are skipped here exactly as the clock skips them. Ends after
    ``core.schedule.HORIZON_DAYS`` without a working day.
    """
    schedule = schedule_for(programme)
    zone = ZoneInfo(programme.timezone)
    cursor = now
    while (firing := schedule.next_firing(cursor)) is not None:
        cursor, day = firing
        yield Slot(day=day, start=schedule.break_at(day).astimezone(zone), plan_at=cursor)


#: Slots looked at before giving up on finding one not planned yet.
MAX_SLOTS = 400


def next_slot(programme: Programme, now: datetime, *, planned: Container[date] = ()) -> Slot | None:
    """The programme's next working slot (see :func:`slots_after`), or None when it has none.

    ``planned``: days whose round is planned (or missed) already, skipped: a round planned
    early (``fika demo``, "run now") is not the next one any more. The admin dashboard's "Next
    round", the rounds page's preview date, the demo's round and every person's expected break
    (``core.next_break``) come from here.
    """
    slots = islice(slots_after(programme, now), MAX_SLOTS)
    return next((slot for slot in slots if slot.day not in planned), None)


def planned_days(programme: Programme, since: date) -> set[date]:
    """The days from ``since`` on whose round of ``programme`` is planned or missed already."""
    return set(
        db.session.scalars(
            select(Round.date).where(
                Round.programme_id == programme.id, Round.date >= since, Round.is_round()
            )
        )
    )


REMOTE = "remote"


@dataclass(frozen=True)
class Applicant:
    """Someone as the opt-in form describes them, before (or instead of) storing anything.

    The form answers from this alone, so its reply is the same whether or not the address is
    already known (see ``web.optin.join``).
    """

    email: str
    name: str
    department: str
    home_office: str | None
    timezone: str
    #: Their own language (core.i18n.LANGUAGES); None: the browser's, else FIKA_LANGUAGE.
    language: str | None = None
    topics: tuple[str, ...] = ()  # what they want to learn
    share_topics: tuple[str, ...] = ()  # what they can share

    def first_name(self) -> str:
        """How the confirmation page addresses them."""
        return first_name(self.name)


def member_counts() -> dict[int, int]:
    """How many people chose each programme, by programme id (programmes nobody chose: absent)."""
    return dict(
        db.session.execute(
            select(ProgrammeMember.programme_id, func.count()).group_by(
                ProgrammeMember.programme_id
            )
        ).all()
    )


def may_join(programme: Programme, person: Person | Applicant) -> bool:
    """Whether the programme's department and office filters let ``person`` in."""
    departments = {d.casefold() for d in programme.departments or []}
    if departments and person.department.casefold() not in departments:
        return False
    offices = {o.casefold() for o in programme.offices or []}
    office = (person.home_office or REMOTE).casefold()
    return not offices or office in offices


def open_programmes(person: Person | Applicant) -> list[Programme]:
    """The programmes switched on that ``person`` may choose on their preferences page."""
    programmes = db.session.scalars(select(Programme).where(Programme.active.is_(True)))
    person_id = getattr(person, "id", None)
    mine = (
        set(
            db.session.scalars(
                select(ProgrammeMember.programme_id).where(ProgrammeMember.person_id == person_id)
            )
        )
        if person_id is not None
        else set()
    )
    return [
        p
        for p in programmes.all()
        if may_join(p, person) and (p.started_by is None or p.open_to_join or p.id in mine)
    ]


#: The programmes a person (``person_id``) chose, or else the first one: one statement, built once.
_CHOSEN = select(ProgrammeMember.programme_id).where(
    ProgrammeMember.person_id == bindparam("person_id")
)
_PROGRAMMES_FOR = (
    select(Programme)
    .where(
        or_(
            Programme.id.in_(_CHOSEN),
            and_(
                ~exists(_CHOSEN),
                Programme.id == select(func.min(Programme.id)).scalar_subquery(),
            ),
        )
    )
    .order_by(Programme.id)
)


def programmes_for(person: Person) -> list[Programme]:
    """The programmes ``person`` takes part in: those they chose, or else the default one."""
    return list(db.session.scalars(_PROGRAMMES_FOR, {"person_id": person.id}))


def check_programmes(person: Person | Applicant, ids: list[int]) -> list[Programme]:
    """The programmes ``ids`` name, if ``person`` may choose them all; writes nothing.

    ValueError names a bad choice. An empty choice is refused: leaving every programme is
    "stop taking part" (``core.changes``).
    """
    wanted = set(ids)
    if not wanted:
        raise ValueError(_("Choose at least one programme."))
    allowed = {p.id: p for p in open_programmes(person)}
    refused = sorted(wanted - set(allowed))
    if refused:
        raise ValueError(_("Programme %(id)s is not open to you.", id=refused[0]))
    return [allowed[i] for i in sorted(wanted)]


# --- What a programme's settings may be: one rule for the admin's form and the JSON API -------

#: Longest name, topic, room URL; one department or office name in a programme's filters.
NAME_MAX, TOPIC_MAX, ROOM_URL_MAX, FILTER_NAME_MAX = 200, 200, 500, 200
#: Most departments or offices a programme's filters name.
MAX_FILTER_NAMES = 100
#: Whole-number settings: (lowest, highest, the message when outside).
#: The messages are lazy: translated when shown, in the reader's language.
RANGES: dict[str, tuple[int, int, str]] = {
    "duration_minutes": (5, 120, lazy_gettext("From 5 to 120.")),
    "lead_minutes": (0, 7 * 24 * 60, lazy_gettext("0 to a week.")),
    "group_size": (
        GROUP_SIZES[0],
        GROUP_SIZES[-1],
        lazy_gettext("From %(low)d to %(high)d people.", low=GROUP_SIZES[0], high=GROUP_SIZES[-1]),
    ),
    "cooldown_rounds": (0, 100, lazy_gettext("From 0 to 100.")),
}
#: A room someone pastes (Teams, Meet, Zoom...): an https link, since it goes into invites. The
#: same text as a JSON Schema pattern (ASCII only, so ECMA 262 and Python read it alike).
ROOM_URL_PATTERN = r"^https://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?([/?#][!-~]*)?$"
ROOM_URL_MESSAGE = lazy_gettext("Give an https:// link to the room, or leave it empty.")
#: A Slack channel id (public C…, private G… or C…), as Slack shows it under the channel's
#: details; ASCII only, so ECMA 262 and Python read it alike.
SLACK_CHANNEL_PATTERN = r"^[CG][A-Z0-9]{2,31}$"
SLACK_CHANNEL_MESSAGE = lazy_gettext(
    "Give the Slack channel's id (e.g. C0123ABCD, under the channel's details), or leave it empty."
)


def slack_channel_problem(value: str) -> str | None:
    """Why ``value`` cannot be a linked Slack channel id, or None (empty: not linked)."""
    if not value or re.fullmatch(SLACK_CHANNEL_PATTERN, value):
        return None
    return str(SLACK_CHANNEL_MESSAGE)


def is_blank(value: str) -> bool:
    """Only white space, as JSON Schema's ``\\s`` sees it (Python's plus U+FEFF)."""
    return not value.replace("\ufeff", "").strip()


def room_url_problem(value: str) -> str | None:
    """Why ``value`` cannot be a programme's room, or None (empty: Fika makes one up)."""
    if not value:
        return None
    if len(value) > ROOM_URL_MAX or not re.fullmatch(ROOM_URL_PATTERN, value):
        return str(ROOM_URL_MESSAGE)
    return None


def name_taken(name: str, programme_id: int | None) -> bool:
    """Whether another programme than ``programme_id`` has this name (in any case)."""
    # Compared here, not with SQL lower(): SQLite's lowers ASCII letters only.
    wanted = name.strip().casefold()
    rows = db.session.execute(select(Programme.id, Programme.name))
    return any(i != programme_id and n.strip().casefold() == wanted for i, n in rows)


@dataclass
class ProgrammeSettings:
    """Everything the admin's programme form (and the API) sets, already checked."""

    name: str
    topic: str = ""
    kind: str = ProgrammeKind.MATCHED
    room_url: str | None = None
    active: bool = True
    cadence: str = Cadence.WEEKLY
    days: list[str] = field(default_factory=lambda: list(WEEKDAYS[:5]))
    local_time: time = time(10)
    timezone: str = "UTC"
    duration_minutes: int = 15
    lead_minutes: int = 60
    group_size: int = 2
    cooldown_rounds: int = 10
    departments: list[str] = field(default_factory=list)
    offices: list[str] = field(default_factory=list)
    slack_channel_id: str | None = None
    #: The language of the programme's shared messages (None: the organisation's, FIKA_LANGUAGE).
    language: str | None = None
    # Learning teams only: the first meeting on or after ``starts_on``, the last by ``ends_on``.
    starts_on: date | None = None
    ends_on: date | None = None

    @classmethod
    def of(cls, programme: Programme) -> ProgrammeSettings:
        """A stored programme's settings."""
        values = {f.name: getattr(programme, f.name) for f in fields(cls)}
        values["departments"] = list(programme.departments or [])
        values["offices"] = list(programme.offices or [])
        values["days"] = list(programme.days or [])
        return cls(**values)


def settings_problems(values: ProgrammeSettings) -> dict[str, str]:
    """Each field whose value breaks the rules, with why (empty: all is well). Reads nothing."""
    problems: dict[str, str] = {}
    for name, limit in (("name", NAME_MAX), ("topic", TOPIC_MAX)):
        text = getattr(values, name)
        problem = text_problem(text)
        if problem is not None:
            # Whole sentences, one per field, so a translation never glues fragments together.
            controls = problem == CONTROL_MESSAGE
            if name == "name" and controls:
                problems[name] = _(
                    "The name must not contain line breaks, tabs or other control characters."
                )
            elif name == "name":
                problems[name] = _("The name contains characters that are not valid text.")
            elif controls:
                problems[name] = _(
                    "The topic must not contain line breaks, tabs or other control characters."
                )
            else:
                problems[name] = _("The topic contains characters that are not valid text.")
        elif len(text) > limit:
            problems[name] = _("At most %(limit)d characters.", limit=limit)
    if "name" not in problems and is_blank(values.name):
        problems["name"] = _("Give the programme a name.")
    if values.kind not in tuple(ProgrammeKind):
        problems["kind"] = _("Choose matched, drop-in room or learning teams.")
    elif values.kind == ProgrammeKind.LEARNING_TEAM:
        problems |= learning_team_problems(values)
    if values.cadence not in tuple(Cadence):
        problems["cadence"] = _("Choose weekly or biweekly.")
    if values.language is not None and values.language not in LANGUAGES:
        problems["language"] = _(
            "Unknown language; choose one of %(codes)s, or none for the organisation's.",
            codes=", ".join(LANGUAGES),
        )
    problem = room_url_problem(values.room_url or "")
    if problem is not None:
        problems["room_url"] = problem
    problem = slack_channel_problem(values.slack_channel_id or "")
    if problem is not None:
        problems["slack_channel_id"] = problem
    if not values.days:
        problems["days"] = _("Choose at least one day.")
    elif any(d not in WEEKDAYS for d in values.days) or len(set(values.days)) != len(values.days):
        problems["days"] = _(
            "Days are among %(days)s, each at most once.", days=", ".join(WEEKDAYS)
        )
    if not is_zone(values.timezone):
        problems["timezone"] = _("Unknown time zone; give an IANA zone such as Europe/Oslo.")
    for name, (low, high, message) in RANGES.items():
        number = getattr(values, name)
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            problems[name] = str(message)
    for name in ("departments", "offices"):
        names = getattr(values, name)
        if len(names) > MAX_FILTER_NAMES:
            problems[name] = _("At most %(count)d names.", count=MAX_FILTER_NAMES)
        for item in names:
            if text_problem(item) is not None or "," in item or is_blank(item):
                problems[name] = _("Each name is one line of text, not blank, without commas.")
            elif len(item) > FILTER_NAME_MAX:
                problems[name] = _(
                    "Each name has at most %(limit)d characters.", limit=FILTER_NAME_MAX
                )
    return problems


#: A learning team's size: below three it is a coffee break, above eight a meeting.
TEAM_SIZES = (3, 8)
#: The longest frame a learning-team programme may have (its recurring invite's length).
MAX_TEAM_WEEKS = 52


def learning_team_problems(values: ProgrammeSettings) -> dict[str, str]:
    """The rules a learning-team programme adds: a topic, 3-8 people, one meeting day, and a
    frame (``starts_on`` before ``ends_on``, at most a year). Reads nothing."""
    problems: dict[str, str] = {}
    if is_blank(values.topic):
        problems["topic"] = _("Learning teams form around a topic: give one.")
    low, high = TEAM_SIZES
    size = values.group_size
    if isinstance(size, int) and not isinstance(size, bool) and not low <= size <= high:
        problems["group_size"] = _(
            "A learning team has %(low)d to %(high)d people.", low=low, high=high
        )
    if values.days and len(values.days) != 1:
        problems["days"] = _("Learning teams meet on one day: choose exactly one.")
    if values.starts_on is None:
        problems["starts_on"] = _("Give the date the teams start.")
    if values.ends_on is None:
        problems["ends_on"] = _("Give the date the teams end (the deadline).")
    elif values.starts_on is not None:
        if values.ends_on <= values.starts_on:
            problems["ends_on"] = _("The end must be after the start.")
        elif (values.ends_on - values.starts_on).days > MAX_TEAM_WEEKS * 7:
            problems["ends_on"] = _(
                "At most %(weeks)d weeks after the start.", weeks=MAX_TEAM_WEEKS
            )
    return problems


def apply_settings(programme: Programme, values: ProgrammeSettings) -> None:
    """Write checked ``values`` onto ``programme`` as every way in stores them."""
    for f in fields(values):
        value = getattr(values, f.name)
        setattr(programme, f.name, value.strip() if isinstance(value, str) else value)
    programme.days = [d for d in WEEKDAYS if d in values.days]
    programme.room_url = programme.room_url or None  # empty: generated on first use
    programme.slack_channel_id = programme.slack_channel_id or None  # empty: not linked
    programme.departments = _distinct(values.departments)
    programme.offices = _distinct(values.offices)


def _distinct(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item.strip():
            seen.setdefault(item.strip(), None)
    return list(seen)
