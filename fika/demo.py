"""``fika demo``: a believable organisation, its next round, its invites written out, and
sign-in links for a demo admin and a demo person (``fika serve --demo``)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import db
from core.models import WEEKDAYS, Person, Preference
from core.programmes import next_slot
from core.settings import DEMO_ADMIN_EMAIL, Settings

DEPARTMENTS = [
    ("Engineering", 8),
    ("Sales", 5),
    ("Customer Success", 4),
    ("Research", 3),
    ("Marketing", 3),
    ("Finance", 2),
    ("People", 2),
    ("Legal", 1),
    ("Design", 2),
    ("Operations", 2),
]
OFFICES = [
    ("Stockholm", "Europe/Stockholm"),
    ("Berlin", "Europe/Berlin"),
    ("New York", "America/New_York"),
    ("Bengaluru", "Asia/Kolkata"),
]
REMOTE_ZONES = [
    "Europe/Stockholm",
    "Europe/London",
    "Europe/Lisbon",
    "America/Toronto",
    "Europe/Berlin",
    "Asia/Kolkata",
]
FIRST = [
    "Ana",
    "Ben",
    "Chen",
    "Dalia",
    "Emil",
    "Fatima",
    "Gustav",
    "Hana",
    "Ivan",
    "Jonas",
    "Kari",
    "Lena",
    "Mateo",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tove",
    "Uma",
    "Viktor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zara",
    "Aino",
    "Bruno",
    "Carmen",
    "Dev",
]
LAST = [
    "Andersson",
    "Berg",
    "Costa",
    "Dahl",
    "Eriksson",
    "Fischer",
    "García",
    "Holm",
    "Iyer",
    "Jensen",
    "Kowalski",
    "Lind",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Svensson",
    "Tanaka",
    "Umar",
    "Virtanen",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhang",
]
TOPICS = [
    "data",
    "design",
    "sustainability",
    "public speaking",
    "AI",
    "leadership",
    "customer research",
    "writing",
    "security",
    "finance basics",
]


def demo_people(count: int, seed: int) -> list[dict]:
    """``count`` deterministic people across departments, offices, remote work and zones."""
    rng = random.Random(seed)
    weights = [w for _, w in DEPARTMENTS]
    people = []
    for i in range(count):
        department = rng.choices([d for d, _ in DEPARTMENTS], weights)[0]
        remote = rng.random() < 0.4
        office, zone = (None, rng.choice(REMOTE_ZONES)) if remote else rng.choice(OFFICES)
        hybrid_days = (
            {}
            if remote
            else {
                # Hybrid: at the office three days, home the others.
                d: (office if d in ("tue", "wed", "thu") else None)
                for d in WEEKDAYS[:5]
            }
            if rng.random() < 0.5
            else {}
        )
        start = rng.choice([7, 8, 8, 9, 9, 9, 10])
        people.append(
            {
                "email": f"demo{i + 1:04d}@example.org",
                "name": f"{FIRST[i % len(FIRST)]} {LAST[(i * 7 + seed) % len(LAST)]}",
                "department": department,
                "timezone": zone,
                "home_office": office,
                "work_start": time(start),
                "work_end": time(start + 8),
                "weekday_sites": hybrid_days,
                "mode": rng.choice(["either", "either", "virtual", "in_person"]),
                "topics": rng.sample(TOPICS, 2),
            }
        )
    return people


def ensure_demo_people(count: int, seed: int) -> int:
    """Upsert the demo people by email (no duplicates on a second run); returns how many are new."""
    created = 0
    existing = {p.email: p for p in db.session.scalars(select(Person))}
    for row in demo_people(count, seed):
        person = existing.get(row["email"])
        if person is None:
            person = Person(email=row["email"])
            db.session.add(person)
            created += 1
        for key in ("name", "department", "timezone", "home_office", "work_start", "work_end"):
            setattr(person, key, row[key])
        if person.preference is None:
            person.preference = Preference()
        person.preference.weekday_sites = row["weekday_sites"]
        person.preference.mode = row["mode"]
        person.preference.topics = row["topics"]
        person.preference.days = list(WEEKDAYS[:5])
    db.session.flush()
    # A few reporting lines, so the "never with your own manager" rule has work to do.
    people = db.session.scalars(
        select(Person).where(Person.email.like("demo%@example.org")).order_by(Person.email)
    ).all()
    for i, person in enumerate(people):
        if i >= 5 and person.manager_id is None and i % 5 == 0:
            person.manager_id = people[i // 5 - 1].id
    db.session.commit()
    return created


def ensure_demo_admin(timezone: str) -> Person:
    """The demo admin (an admin in demo mode, see ``core.settings``); not in any round."""
    person = db.session.scalar(select(Person).where(Person.email == DEMO_ADMIN_EMAIL))
    if person is None:
        person = Person(
            email=DEMO_ADMIN_EMAIL, name="Demo Admin", department="People", timezone=timezone
        )
        db.session.add(person)
        db.session.commit()
    return person


def demo_day(programme, now: datetime) -> date:
    """The day of the demo's round: the next programme day whose break is still ahead.

    "Ahead" as the clock sees it: the break less the programme's lead time is after ``now``
    (in the programme's zone), so a demo run at 18:00, or on a Saturday, plans a later day
    instead of breaks that are already over.
    """
    upcoming = next_slot(programme, now)  # the clock's rule: holidays and days off skipped
    if upcoming is not None:
        return upcoming.day
    return now.astimezone(ZoneInfo(programme.timezone)).date()


def run_demo(
    settings: Settings,
    count: int,
    seed: int,
    now: datetime | None = None,
    *,
    groups: bool = True,
) -> str:
    """Create the demo organisation, plan its next round, deliver it; return a printable report.

    ``groups``: add the table of groups (``fika demo``); ``fika serve --demo`` keeps it short.
    """
    from core.channels import configured_channels
    from core.dispatch import send_due
    from core.programmes import ensure_default_programme
    from core.rounds import existing_round, run_round
    from fika.tables import groups_table

    now = now or datetime.now(UTC)
    created = ensure_demo_people(count, seed)
    programme = ensure_default_programme(settings.timezone)
    today = now.astimezone(ZoneInfo(programme.timezone)).date()
    lines = [f"demo organisation: {count} people ({created} new)"]
    day = demo_day(programme, now)
    if day != today:
        why = (
            f"today's break ({programme.local_time:%H:%M} {programme.timezone}) is over"
            if programme.runs_on(today)
            else f"no break today ({today:%A})"
        )
        lines.append(f"{why}; the demo plans the next one, {day:%A %-d %B}")
    outcome = run_round(settings, programme, day)
    lines.append(outcome.message)
    counts = send_due(configured_channels(settings), connections=settings.outbox_connections)
    lines.append(f"deliveries: sent {counts.sent}, retrying {counts.retrying}, dead {counts.dead}")
    if outcome.plan is not None:
        if groups:
            lines.append(groups_table(outcome.plan, outcome.people, day))
    else:
        rnd = existing_round(programme, day)
        lines.append(f"(round {rnd.id if rnd else '?'} was made earlier; `fika status` shows it)")
    return "\n".join(lines)


def sign_in_lines(settings: Settings, now: datetime | None = None) -> list[str]:
    """Two single-use sign-in links, for the demo admin (to the admin) and for a demo person."""
    from core.signin import LINK_MINUTES, issue_link

    admin = ensure_demo_admin(settings.timezone)
    person = db.session.scalar(
        select(Person).where(Person.email.like("demo%@example.org")).order_by(Person.email).limit(1)
    )
    lines = [
        f"Sign-in links (each works once, for {LINK_MINUTES} minutes; restart for new ones):",
    ]
    if admin.email in settings.admin_emails:
        lines.append(f"  demo admin ({admin.email}): {issue_link(settings, admin, '/admin/', now)}")
    else:  # FIKA_ENV set to another mode: the demo admin is an admin in demo mode only
        lines.append(f"  demo admin: add {admin.email} to FIKA_ADMIN_EMAILS to sign in as it")
    if person is not None:
        lines.append(f"  demo person ({person.name}): {issue_link(settings, person, None, now)}")
    return lines
