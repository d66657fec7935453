"""The database model: people and their preferences, programmes, rounds, groups, the outbox.

SQLAlchemy 2.0 typed style. Instants are stored as naive UTC (SQLite keeps no zone) and come back
timezone-aware through :class:`UTCDateTime`, so code above never handles a naive datetime.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import db
from core.enums import (
    UNSENT,
    Cadence,
    DeliveryStatus,
    Frequency,
    GroupSizePreference,
    GroupStatus,
    ProgrammeKind,
    RoundStatus,
)
from integrations.base import MessageKind, first_name
from pairing.model import Mode

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def is_biweekly_week(day: date) -> bool:
    """Whether ``day`` is in an "on" week of an every-two-weeks programme (fixed parity)."""
    return ((day.toordinal() - 1) // 7) % 2 == 0


class UTCDateTime(TypeDecorator):
    """Store aware datetimes as naive UTC; hand them back aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class Person(db.Model):
    """Someone in the organisation who may take part in coffee breaks."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200))
    manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="SET NULL"), index=True
    )
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    work_start: Mapped[time] = mapped_column(Time, default=time(9))
    work_end: Mapped[time] = mapped_column(Time, default=time(17))
    home_office: Mapped[str | None] = mapped_column(String(200))  # None: works remotely
    # Their own choice of language ("en", "sv", "de"; core.i18n.LANGUAGES). None: no choice
    # made, so web pages follow the browser and messages the organisation's FIKA_LANGUAGE.
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    manager: Mapped[Person | None] = relationship(remote_side=[id])
    preference: Mapped[Preference | None] = relationship(
        back_populates="person", cascade="all, delete-orphan", passive_deletes=True
    )

    def first_name(self) -> str:
        """How invites address the person."""
        return first_name(self.name)


class Preference(db.Model):
    """How, where and when a person wants to take part."""

    __tablename__ = "preference"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    mode: Mapped[str] = mapped_column(String(16), default=Mode.EITHER)
    # weekday ("mon".."sun") -> office name, or None when remote that day.
    weekday_sites: Mapped[dict] = mapped_column(JSON, default=dict)
    days: Mapped[list] = mapped_column(JSON, default=lambda: list(WEEKDAYS[:5]))
    paused_until: Mapped[date | None] = mapped_column(Date)
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    # When Fika last asked whether to pause after breaks that did not happen (asked once a month).
    pause_asked_on: Mapped[date | None] = mapped_column(Date)
    topics: Mapped[list] = mapped_column(JSON, default=list)
    avoid: Mapped[list] = mapped_column(JSON, default=list)  # person ids
    # How often they want a break: "daily", "few_per_week" (2-3 times) or "weekly".
    frequency: Mapped[str] = mapped_column(
        String(16), default=Frequency.DAILY, server_default=Frequency.DAILY.value
    )
    # "one_to_one" (pairs only) or "small_groups" (groups of three or four welcome).
    group_size_pref: Mapped[str] = mapped_column(
        String(16),
        default=GroupSizePreference.SMALL_GROUPS,
        server_default=GroupSizePreference.SMALL_GROUPS.value,
    )
    # Topics they can share (``topics`` holds what they want to learn about).
    share_topics: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # Learning teams: no "what we learned" digests by email; named as a knowledge ambassador
    # on the admin's insights (default off: counted, never named).
    digest_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    show_as_ambassador: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    person: Mapped[Person] = relationship(back_populates="preference")

    def site_on(self, day: date, home_office: str | None) -> str | None:
        """The office the person works at on ``day`` (None when remote)."""
        key = WEEKDAYS[day.weekday()]
        if key in (self.weekday_sites or {}):
            return self.weekday_sites[key]
        return home_office

    def available_on(self, day: date) -> bool:
        """Active, not paused on ``day`` and taking part on that weekday."""
        if not self.active:
            return False
        if self.paused_until is not None and day < self.paused_until:
            return False
        return WEEKDAYS[day.weekday()] in (self.days or [])


class Programme(db.Model):
    """A recurring coffee-break ritual: when it runs and how groups are formed."""

    __tablename__ = "programme"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # "matched": people are put into groups each round; "drop_in": one daily room anyone joins
    # when they like (a recurring invite per person, no matching; see integrations/room.py).
    kind: Mapped[str] = mapped_column(String(16), default=ProgrammeKind.MATCHED)
    days: Mapped[list] = mapped_column(JSON, default=lambda: list(WEEKDAYS[:5]))
    local_time: Mapped[time] = mapped_column(Time, default=time(10))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    group_size: Mapped[int] = mapped_column(Integer, default=2)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=15)
    lead_minutes: Mapped[int] = mapped_column(Integer, default=60)
    cooldown_rounds: Mapped[int] = mapped_column(Integer, default=10)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Public holidays of this ISO 3166 country are skipped; None: the country of ``timezone``;
    # "": no public holidays. ``days_off`` adds the programme's own dates ("YYYY-MM-DD").
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    days_off: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # A round not planned by ``cutoff_minutes`` before the break is recorded as missed.
    cutoff_minutes: Mapped[int] = mapped_column(Integer, default=15, server_default="15")
    # The reminder goes out this many minutes before the break (0: no reminders).
    reminder_minutes: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    # "weekly": every week on ``days``; "biweekly": every other week (even weeks since 0001-01-01).
    cadence: Mapped[str] = mapped_column(
        String(16), default=Cadence.WEEKLY, server_default=Cadence.WEEKLY.value
    )
    # Who may join: department and office names; an empty list lets everyone in. In ``offices``
    # the name "remote" stands for people without a home office.
    departments: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    offices: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # What the programme is about ("Learning teams" around a topic); shown to people choosing.
    topic: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # A drop-in programme's room. None: generated from FIKA_VIDEO_URL_TEMPLATE on first use and
    # stored here, so the link in everyone's recurring invite never changes.
    room_url: Mapped[str | None] = mapped_column(String(500))
    # The language of messages shared by the whole programme (a Slack or Teams channel post).
    # None: the organisation's FIKA_LANGUAGE.
    language: Mapped[str | None] = mapped_column(String(8))
    # The Microsoft Teams team whose members take part (its id, "19:…@thread.tacv2"), linked
    # from the bot's card in that team (web/chat/teams_bot.py, core/teams_roster.py).
    teams_team_id: Mapped[str | None] = mapped_column(String(200))
    # The Slack channel whose members take part (core.slack_sync); None: not linked.
    slack_channel_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # A learning-team programme's frame: its teams first meet on its day on or after
    # ``starts_on`` and their recurring invite ends on ``ends_on`` (the deadline). None for
    # other kinds. Its team size is ``group_size`` (3-8), its meeting day the one in ``days``.
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    # A self-formed learning team (``core.self_formed``): who started it from /me, and whether
    # others may choose it on their preferences (False: only those invited are in it).
    started_by: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    open_to_join: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_learning_team(self) -> bool:
        """Learning teams: formed by the first round, kept until ``ends_on``."""
        return self.kind == ProgrammeKind.LEARNING_TEAM

    @property
    def is_drop_in(self) -> bool:
        """A drop-in room: never matched, one recurring invite per subscriber."""
        return self.kind == ProgrammeKind.DROP_IN

    def in_cadence(self, day: date) -> bool:
        """Whether ``day`` falls in a week the programme runs (every other week when biweekly)."""
        return self.cadence != Cadence.BIWEEKLY or is_biweekly_week(day)

    def runs_on(self, day: date) -> bool:
        """Whether the programme has a break on ``day`` by its days and cadence.

        Holidays and days off are the clock's business (``core.schedule``).
        """
        return self.active and WEEKDAYS[day.weekday()] in (self.days or []) and self.in_cadence(day)


class Round(db.Model):
    """One programme's breaks on one date. The UNIQUE pair makes every round happen once."""

    __tablename__ = "round"
    __table_args__ = (UniqueConstraint("programme_id", "date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("programme.id", ondelete="CASCADE"))
    date: Mapped[date] = mapped_column(Date)
    # "planned", "missed", or NUDGED: a drop-in room's once-a-day nudge claim, not a round
    # (see jobs/room_nudges.py); lists of rounds filter those out with ``Round.is_round``.
    status: Mapped[str] = mapped_column(String(16), default=RoundStatus.PLANNED)
    stats: Mapped[dict] = mapped_column(JSON, default=dict)
    unmatched: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the "Did you meet?" messages were queued (None: not yet).
    checkins_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    programme: Mapped[Programme] = relationship()
    groups: Mapped[list[Group]] = relationship(
        back_populates="round", cascade="all, delete-orphan", order_by="Group.id"
    )

    NUDGED = RoundStatus.NUDGED

    @classmethod
    def is_round(cls) -> ColumnElement[bool]:
        """A filter for rounds proper, leaving out the drop-in rooms' nudge claims."""
        return cls.status != cls.NUDGED


class Group(db.Model):
    """People who meet for one break. ``uid`` and ``sequence`` follow RFC 5545."""

    __tablename__ = "fika_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default=GroupStatus.SCHEDULED)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(16), default=Mode.VIRTUAL)
    site: Mapped[str | None] = mapped_column(String(200))
    video_url: Mapped[str] = mapped_column(String(500))
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    starter: Mapped[str] = mapped_column(Text, default="")

    round: Mapped[Round] = relationship(back_populates="groups")
    members: Mapped[list[GroupMember]] = relationship(
        back_populates="group", cascade="all, delete-orphan", passive_deletes=True
    )


class GroupMember(db.Model):
    """A person's seat in a group, with their answers about it."""

    __tablename__ = "group_member"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("fika_group.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    response: Mapped[str | None] = mapped_column(String(16))  # "in" | "cant"
    met: Mapped[bool | None] = mapped_column(Boolean)
    checkin: Mapped[str | None] = mapped_column(String(16))  # "met" | "not_met" | "rescheduled"
    checkin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    group: Mapped[Group] = relationship(back_populates="members")
    person: Mapped[Person] = relationship()


#: ``Delivery.is_unsent()`` as SQL text, for the partial index of rows still to go out.
UNSENT_SQL = "status IN (" + ", ".join(f"'{s}'" for s in UNSENT) + ")"


class Delivery(db.Model):
    """An outbox row: one message on one channel, written in the round's transaction.

    ``key`` is the idempotency key a resend carries (email Message-ID, calendar UID+SEQUENCE).
    """

    __tablename__ = "delivery"
    # Workers claim the oldest due rows still to go out: this index holds only those, in that
    # order, so a claim reads a few entries however many sent rows the table keeps.
    __table_args__ = (
        Index(
            "ix_delivery_due",
            "next_attempt_at",
            "id",
            postgresql_where=text(UNSENT_SQL),
            sqlite_where=text(UNSENT_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    # "invite" (also updates and cancellations) | "reminder" | "checkin" | "pause_offer"
    kind: Mapped[str] = mapped_column(
        String(16), default=MessageKind.INVITE, server_default=MessageKind.INVITE.value
    )
    recipient: Mapped[str] = mapped_column(String(254))
    round_id: Mapped[int | None] = mapped_column(
        ForeignKey("round.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("fika_group.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), index=True
    )
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    #: Statuses of a delivery still to go out (the others are "sent" and "dead").
    UNSENT = UNSENT

    @classmethod
    def is_unsent(cls) -> ColumnElement[bool]:
        """A filter for deliveries still to go out: pending, or retrying after a failure."""
        return cls.status.in_(cls.UNSENT)


class SignInToken(db.Model):
    """A magic sign-in link: single use, expiring. Only a hash of its secret is stored.

    The link itself is signed too (``core.signing``), so a forged link fails before any query; the
    row makes it single use (``used_at`` is set in the same UPDATE that checks it is unset).
    """

    __tablename__ = "sign_in_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProgrammeMember(db.Model):
    """A person taking part in a programme they chose (a person with no rows: the default one)."""

    __tablename__ = "programme_member"

    programme_id: Mapped[int] = mapped_column(
        ForeignKey("programme.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("person.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    # The SEQUENCE of this person's recurring room invite (drop-in programmes): +1 per change.
    room_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The Slack user the programme's linked channel brought in (core.slack_sync); None: chosen
    # on the web, by an admin or an import. Only these rows are removed when they leave it.
    slack_user_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(db.Model):
    """A bearer token for the JSON API (HR-system sync). Only a SHA-256 of the secret is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, so admins can tell tokens apart without the secret.
    prefix: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditLog(db.Model):
    """Who did what, when, in the admin, the API or the CLI: kept for accountability."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The email of the admin, "token:NAME" for the API, or "cli" for the command line.
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class ExternalId(db.Model):
    """Ids other services gave us, remembered across rounds and restarts.

    ``namespace`` says which: ``slack_user`` (email -> Slack user id), ``teams_conversation``
    (email -> Teams 1:1 conversation id), ``graph_event`` (group UID -> Graph event id).
    """

    __tablename__ = "external_id"
    __table_args__ = (UniqueConstraint("namespace", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    namespace: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(254))
    value: Mapped[str] = mapped_column(String(254), index=True)


class SlackEvent(db.Model):
    """A Slack Events API callback, kept as a job: acknowledged at once, acted on by the clock.

    ``event_id`` is unique, so Slack's retries (``X-Slack-Retry-Num``) of one event add nothing.
    """

    __tablename__ = "slack_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: still to do (the partial work list); set once acted on (or found not to apply).
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    error: Mapped[str | None] = mapped_column(Text)


class TeamProgress(db.Model):
    """A learning team's goal and the clock's claims on its check-ins and digest (one row per
    team, made when first needed). A ``*_queued_at`` is set by the one clock that queued."""

    __tablename__ = "team_progress"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("fika_group.id", ondelete="CASCADE"), primary_key=True
    )
    goal: Mapped[str] = mapped_column(Text, default="", server_default="")
    goal_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    midway_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    final_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    digest_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TeamCheckin(db.Model):
    """A member's short answers to a learning team's check-in: ``stage`` "midway" (how is it
    going?) or "final" (goal reached? what was learned? may it be published?)."""

    __tablename__ = "team_checkin"
    __table_args__ = (UniqueConstraint("group_id", "person_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("fika_group.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(8))
    progress: Mapped[str] = mapped_column(Text, default="", server_default="")
    goal_reached: Mapped[bool | None] = mapped_column(Boolean)
    learned: Mapped[str] = mapped_column(Text, default="", server_default="")
    publish: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
