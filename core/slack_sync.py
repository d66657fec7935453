"""Programmes tied to a Slack channel: its members take part (issue 20).

A programme with ``slack_channel_id`` takes its people from that channel. :func:`sync_programme`
pages through the channel (``integrations.slack_members``: ``conversations.members`` by cursor,
``users.info`` for members not known yet, bots, deactivated users and guests skipped, 429s
waited out), adds each member who is not in the programme yet and removes the members the
channel brought in who are no longer in it. The clock runs it on a schedule
(``FIKA_SLACK_SYNC_MINUTES``) and ``fika slack sync`` on demand; a channel's join and leave
events (``core.slack_events``) add or remove one person without a full sync.

Joining: a member unknown to Fika becomes a Person with default preferences (email, name, title
and time zone from Slack's profile, cleaned as free text), as ``/fika join`` makes them; then
the programme's membership row, marked with their Slack user id, and (once per person and
programme) the welcome DM through the outbox. Someone already known keeps their choices: the
programme is added the way an admin adds them (``core.programme_changes.add_members``).

Leaving: the membership row the channel made goes; their upcoming breaks in that programme get
the cancel or update leaving on the web gives (``core.changes.withdraw``); and when it was their
last programme they stop taking part (``core.changes.leave``), rather than fall back to the
default programme. Only rows the channel made are removed: someone who chose the programme on
the web stays in it whatever channel they are in.

A sync that stops part-way (Slack failing, or asking for a wait longer than the sync waits)
adds the members it saw but removes nobody: it never saw the whole channel.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select

from core import audit, drop_in
from core.changes import join, leave, upcoming_groups, withdraw
from core.channels import RememberedIds
from core.db import db
from core.events import log_event
from core.i18n import gettext as _
from core.i18n import using
from core.models import ExternalId, Person, Programme, ProgrammeMember
from core.next_break import next_break_for
from core.outbox import Outbox
from core.programme_changes import add_members
from core.programmes import Applicant, may_join
from core.settings import Settings
from core.text import clean_text
from core.zones import is_zone
from integrations.base import MessageKind, Notice
from integrations.slack import DEFAULT_API_URL
from integrations.slack_blocks import welcome_blocks
from integrations.slack_members import MemberSyncError, SlackMember, SlackMembers, include_guests

log = logging.getLogger("fika.slack_sync")

#: The audit log's actor for changes the channel made.
ACTOR = "slack"
#: Minutes between full syncs of every linked channel (FIKA_SLACK_SYNC_MINUTES; 0: never).
DEFAULT_SYNC_MINUTES = 60
#: Members added between commits in a full sync (a crash keeps all but the last few).
COMMIT_EVERY = 200
#: How a person's department reads when Slack's profile has no title.
NO_DEPARTMENT = "Not set yet"


def slack_configured(settings: Settings) -> bool:
    """Whether a bot token is set, so channels can be read."""
    return bool(settings.channel_settings.get("FIKA_SLACK_BOT_TOKEN"))


def sync_minutes(settings: Settings) -> int:
    """``FIKA_SLACK_SYNC_MINUTES``: minutes between full syncs (default 60; 0 switches off)."""
    raw = (settings.channel_settings.get("FIKA_SLACK_SYNC_MINUTES") or "").strip()
    if not raw:
        return DEFAULT_SYNC_MINUTES
    if not raw.isdigit() or int(raw) > 7 * 24 * 60:
        raise ValueError("FIKA_SLACK_SYNC_MINUTES: whole minutes from 0 (off) to 10080")
    return int(raw)


def member_source(
    settings: Settings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    page_size: int | None = None,
) -> SlackMembers:
    """A :class:`SlackMembers` for this deployment's bot (``sleep``/``clock`` for tests)."""
    config = settings.channel_settings
    extra = {"page_size": page_size} if page_size else {}
    return SlackMembers(
        config["FIKA_SLACK_BOT_TOKEN"] or "",
        config.get("FIKA_SLACK_API_URL") or DEFAULT_API_URL,
        include_guests=include_guests(config),
        sleep=sleep,
        clock=clock,
        **extra,
    )


def linked_programmes(name: str | None = None) -> list[Programme]:
    """The switched-on programmes linked to a channel (only ``name``, when given)."""
    query = select(Programme).where(
        Programme.slack_channel_id.is_not(None), Programme.active.is_(True)
    )
    if name:
        query = query.where(Programme.name == name)
    return list(db.session.scalars(query.order_by(Programme.id)))


@dataclass
class SyncResult:
    """What one sync of one programme did."""

    programme: str
    channel: str
    members: int = 0  # people in the channel who take part (after skipping)
    joined: list[str] = field(default_factory=list)  # emails added to the programme
    left: list[str] = field(default_factory=list)  # emails removed
    skipped: Counter[str] = field(default_factory=Counter)
    complete: bool = True
    error: str | None = None
    resume_cursor: str | None = None


def _known_members() -> dict[str, SlackMember]:
    """Slack users Fika has met (``ExternalId`` slack_user) as members, so that a sync asks
    ``users.info`` only about people it does not know yet."""
    rows = db.session.execute(
        select(ExternalId.value, Person.email, Person.name, Person.department, Person.timezone)
        .join(Person, func.lower(Person.email) == ExternalId.key)
        .where(ExternalId.namespace == "slack_user")
    )
    return {
        user_id: SlackMember(user_id=user_id, email=email, real_name=name, title=dept, tz=zone)
        for user_id, email, name, dept, zone in rows
    }


def sync_programme(
    settings: Settings, programme: Programme, source: SlackMembers, now: datetime | None = None
) -> SyncResult:
    """Make the programme's channel members its members (see the module docstring). Commits
    as it goes; a sync cut short by Slack adds what it saw and removes nobody."""
    now = now or datetime.now(UTC)
    channel = programme.slack_channel_id or ""
    result = SyncResult(programme=programme.name, channel=channel)
    for user_id, member in _known_members().items():
        source.cache.setdefault(user_id, member)
    seen: set[str] = set()
    already = set(
        db.session.scalars(
            select(func.lower(Person.email))
            .join(ProgrammeMember, ProgrammeMember.person_id == Person.id)
            .where(ProgrammeMember.programme_id == programme.id)
        )
    )
    pending = 0
    try:
        for member in source.members(channel):
            seen.add(member.user_id)
            result.members += 1
            if member.email.strip().lower() in already:
                continue  # in the programme: nothing to write
            person = take_part(settings, programme, member, now, result.skipped)
            if person is not None:
                result.joined.append(person.email)
                pending += 1
                if pending >= COMMIT_EVERY:
                    db.session.commit()
                    pending = 0
    except MemberSyncError as exc:
        db.session.commit()
        result.complete, result.error, result.resume_cursor = False, exc.reason, exc.resume_cursor
        result.skipped.update(source.skipped)
        log_event(
            log, "slack.sync.stopped", logging.WARNING, programme=programme.id, error=exc.reason
        )
        return result
    result.skipped.update(source.skipped)
    brought_in = db.session.execute(
        select(ProgrammeMember.person_id, ProgrammeMember.slack_user_id).where(
            ProgrammeMember.programme_id == programme.id,
            ProgrammeMember.slack_user_id.is_not(None),
        )
    ).all()
    for person_id in [p for p, user_id in brought_in if user_id not in seen]:
        person = db.session.get(Person, person_id)
        result.left.append(person.email)
        leave_programme(settings, programme, person, now)
    db.session.commit()
    log_event(
        log,
        "slack.sync.done",
        programme=programme.id,
        members=result.members,
        joined=len(result.joined),
        left=len(result.left),
        skipped=dict(result.skipped) or None,
    )
    return result


def _person_by_email(email: str) -> Person | None:
    return db.session.scalar(select(Person).where(func.lower(Person.email) == email.lower()))


def take_part(
    settings: Settings,
    programme: Programme,
    member: SlackMember,
    now: datetime,
    skipped: Counter[str] | None = None,
    *,
    rejoin: bool = False,
) -> Person | None:
    """Add one channel member to the programme (a new Person first, if need be) and queue their
    welcome; returns the person when they were added, None when already in, kept out by the
    programme's filters (``skipped["filtered"]``) or someone who stopped taking part
    (``skipped["not_taking_part"]``: a sync does not undo leaving; ``rejoin``, the channel's
    join event, does). The caller commits."""
    skipped = skipped if skipped is not None else Counter()
    email = member.email.strip()
    RememberedIds("slack_user")[email.lower()] = member.user_id
    person = _person_by_email(email)
    if person is None:
        zone = member.tz if member.tz and is_zone(member.tz) else settings.timezone
        applicant = Applicant(
            email=email,
            name=clean_text(member.real_name)[:200] or email.split("@")[0],
            department=clean_text(member.title)[:200] or NO_DEPARTMENT,
            home_office=None,
            timezone=zone,
        )
        if not may_join(programme, applicant):
            skipped["filtered"] += 1
            return None
        person = join(settings, applicant, None)  # default preferences, taking part
        db.session.add(
            ProgrammeMember(programme_id=programme.id, person_id=person.id, slack_user_id=None)
        )
        db.session.flush()
        if programme.is_drop_in and programme.active:
            drop_in.joined(settings, programme, person)
        audit.record(ACTOR, "slack.channel.join", programme_id=programme.id, person_id=person.id)
    else:
        if db.session.get(ProgrammeMember, (programme.id, person.id)) is not None:
            return None
        if not may_join(programme, person):
            skipped["filtered"] += 1
            return None
        preference = person.preference
        if preference is not None and not preference.active:
            if not rejoin:
                skipped["not_taking_part"] += 1
                return None
            preference.active = True  # joining the channel is asking to take part again
        add_members(settings, programme, [person], ACTOR, "slack.channel.join")
    db.session.get(ProgrammeMember, (programme.id, person.id)).slack_user_id = member.user_id
    queue_welcome(settings, programme, person, now)
    return person


def leave_programme(settings: Settings, programme: Programme, person: Person, now: datetime) -> int:
    """Take ``person`` out of the programme as leaving the channel does; returns how many
    upcoming breaks were updated or cancelled. Commits when it was their last programme
    (``core.changes.leave``), otherwise the caller commits."""
    row = db.session.get(ProgrammeMember, (programme.id, person.id))
    if row is None:
        return 0
    if programme.is_drop_in:
        drop_in.left(settings, programme, person, now)
    db.session.delete(row)
    db.session.flush()
    audit.record(ACTOR, "slack.channel.leave", programme_id=programme.id, person_id=person.id)
    others = db.session.scalar(select(exists().where(ProgrammeMember.person_id == person.id)))
    if not others:
        return leave(settings, person, now)
    groups = [g for g in upcoming_groups(person, now) if g.round.programme_id == programme.id]
    for group in groups:
        withdraw(settings, person, group, now)
    return len(groups)


def welcome_key(programme: Programme, person: Person) -> str:
    """The welcome DM's idempotency key: once per person and programme, ever."""
    return f"welcome-{programme.id}-{person.id}"


def queue_welcome(settings: Settings, programme: Programme, person: Person, now: datetime) -> int:
    """Write the welcome DM for someone the channel brought in (Slack only; a no-op when Slack
    does not deliver messages here). Returns how many rows were new (0: sent before)."""
    outbox = Outbox(settings)
    if "slack" not in outbox.channels:
        return 0
    with using(person.language or programme.language):
        notice = welcome_notice(settings, programme, person, now)
    rows = outbox.direct_rows(
        MessageKind.WELCOME, welcome_key(programme, person), person, notice, now, ["slack"]
    )
    return outbox.write(rows)


def welcome_notice(
    settings: Settings, programme: Programme, person: Person, now: datetime
) -> Notice:
    """The welcome DM's words and blocks, in the current language (see :func:`queue_welcome`)."""
    header = _("Welcome to %(programme)s", programme=programme.name)
    what = _(
        "You joined the channel, so you now take part in %(programme)s. Fika puts you in a "
        "small group for a %(minutes)s-minute coffee break, in the office or on video, and "
        "sends everyone an invite with the time and a link.",
        programme=programme.name,
        minutes=programme.duration_minutes,
    )
    upcoming = next_break_for(person, now)
    if upcoming is not None:
        local = upcoming.start.astimezone(ZoneInfo(person.timezone))
        when = _(
            "Your first break is expected on %(day)s at %(time)s (%(zone)s).",
            day=local.strftime("%Y-%m-%d"),
            time=local.strftime("%H:%M"),
            zone=person.timezone,
        )
    else:
        when = _("Fika will let you know when your first break is.")
    hint = _(
        "Set your working hours, office days and meeting mode in your preferences; pause when "
        "you are away, or leave any time."
    )
    blocks = welcome_blocks(
        header,
        [what, when, hint],
        (_("Preferences"), f"{settings.base_url.rstrip('/')}/me"),
        _("Pause for a week"),
        _("Leave"),
        str(programme.id),
    )
    return Notice(text=f"{header}. {what} {when}", card={"blocks": blocks})
