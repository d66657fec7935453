"""``fika demo``: a believable organisation, today's round, and its invites written out."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.db import db
from core.models import WEEKDAYS, Person, Preference
from core.settings import Settings

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


def demo_day(programme, today: date) -> date:
    """Today when the programme has a break today, else its next day (a demo on a Saturday)."""
    for offset in range(14):
        day = today + timedelta(days=offset)
        if programme.runs_on(day):
            return day
    return today


def run_demo(settings: Settings, count: int, seed: int) -> str:
    """Create the demo organisation, run today's round, deliver it; return a printable report."""
    from core.channels import configured_channels
    from core.dispatch import send_due
    from core.programmes import ensure_default_programme
    from core.rounds import existing_round, run_round
    from fika.tables import groups_table

    created = ensure_demo_people(count, seed)
    programme = ensure_default_programme(settings.timezone)
    today = datetime.now(UTC).astimezone(ZoneInfo(programme.timezone)).date()
    lines = [f"demo organisation: {count} people ({created} new)"]
    day = demo_day(programme, today)
    if day != today:
        lines.append(f"no break today ({today:%A}); the demo plans the next one, {day:%A %-d %B}")
    outcome = run_round(settings, programme, day)
    lines.append(outcome.message)
    counts = send_due(configured_channels(settings), connections=settings.outbox_connections)
    lines.append(f"deliveries: sent {counts.sent}, retrying {counts.retrying}, dead {counts.dead}")
    if outcome.plan is not None:
        lines.append(groups_table(outcome.plan, outcome.people, day))
    else:
        rnd = existing_round(programme, day)
        lines.append(f"(round {rnd.id if rnd else '?'} was made earlier; `fika status` shows it)")
    return "\n".join(lines)
