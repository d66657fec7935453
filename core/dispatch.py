"""The dispatcher: send due outbox rows through their channel, record what happened.

Rows are written in the transaction of the change that causes them (``core.outbox``) and sent
here. A worker leases a batch (its rows' ``next_attempt_at`` moves ahead by the lease, in one
short transaction; on PostgreSQL racing workers skip each other's rows with ``FOR UPDATE SKIP
LOCKED``), sends it, and records each outcome as the channel reports it, a few rows per commit,
renewing the lease of the rest. So a worker killed mid-batch resends at most the messages it
sent since its last commit, with the same idempotency key, which the recipient's calendar folds
into the first (same Message-ID, UID and SEQUENCE); the rows it had not sent yet fall due again
when its lease runs out.
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update

from core import faults
from core.channels import enabled_channels
from core.db import db
from core.enums import DeliveryStatus
from core.events import log_event
from core.models import Delivery
from core.settings import Settings
from integrations import catalogue
from integrations.base import Channel, DeliveryError, MessageKind
from integrations.payload import message_from_dict

log = logging.getLogger("fika.outbox")

MAX_ATTEMPTS = 8  # defaults of FIKA_OUTBOX_MAX_ATTEMPTS and FIKA_OUTBOX_BASE_DELAY
BASE_DELAY = 30.0  # seconds; doubles with each attempt
MAX_DELAY = 3600.0
LEASE = 60.0  # seconds a worker holds the rows it claimed (renewed while it sends them)
STATUSES = tuple(DeliveryStatus)


@dataclass
class DispatchCounts:
    """How many rows one pass sent, scheduled for retry, and gave up on."""

    sent: int = 0
    retrying: int = 0
    dead: int = 0

    def __iadd__(self, other: DispatchCounts) -> DispatchCounts:
        self.sent += other.sent
        self.retrying += other.retrying
        self.dead += other.dead
        return self


def retry_delay(
    attempts: int, retry_after: float | None, rng: random.Random, base: float = BASE_DELAY
) -> float:
    """Exponential back-off with jitter (half to all of the step), never sooner than the
    server's Retry-After. Jitter keeps many failed rows from retrying in one burst."""
    delay = min(base * 2 ** (attempts - 1), MAX_DELAY) * (0.5 + rng.random() / 2)
    return max(delay, retry_after or 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """How often a transient failure is retried, how long the first wait is, and how long a
    worker holds the rows it claimed."""

    max_attempts: int = MAX_ATTEMPTS
    base_delay: float = BASE_DELAY
    lease: float = LEASE

    @classmethod
    def of(cls, settings: Settings) -> RetryPolicy:
        """FIKA_OUTBOX_MAX_ATTEMPTS, FIKA_OUTBOX_BASE_DELAY and FIKA_OUTBOX_LEASE."""
        return cls(settings.outbox_max_attempts, settings.outbox_base_delay, settings.outbox_lease)


@dataclass
class _Claimed:
    """A claimed outbox row, as plain data: recording outcomes needs no ORM object."""

    id: int
    key: str
    channel: str
    kind: str
    payload: dict
    attempts: int
    round_id: int | None
    group_id: int | None


_CLAIMED_COLUMNS = (
    Delivery.id,
    Delivery.key,
    Delivery.channel,
    Delivery.kind,
    Delivery.payload,
    Delivery.attempts,
    Delivery.round_id,
    Delivery.group_id,
)


def _claim(now: datetime, limit: int, lease: float, channels: Sequence[str]) -> list[_Claimed]:
    """Lease up to ``limit`` due rows of these channels for ``lease`` seconds, and commit.

    The lease is their ``next_attempt_at`` moved ahead: no other worker finds them due while
    this one sends them, and if this one dies they fall due again when it runs out. Rows of a
    channel that is not configured now are not claimed: they wait, visibly (``stranded``).
    """
    due = (
        select(Delivery.id)
        .where(Delivery.is_unsent(), Delivery.next_attempt_at <= now)
        .where(Delivery.channel.in_(channels))
        .order_by(Delivery.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)  # racing workers take different rows
    statement = (
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + timedelta(seconds=lease))
        .returning(*_CLAIMED_COLUMNS)
    )
    rows = [_Claimed(*row) for row in db.session.execute(statement)]
    db.session.commit()
    return sorted(rows, key=lambda r: r.id)


#: One line per message only at debug (40 people: 40 lines); a pass ends with one summary line.
_LEVELS = {
    DeliveryStatus.SENT: logging.DEBUG,
    DeliveryStatus.RETRYING: logging.INFO,
    DeliveryStatus.DEAD: logging.WARNING,
}


def _log_summary(counts: DispatchCounts) -> None:
    """One ``delivery.summary`` line per pass that did anything (each message is at debug)."""
    if counts.sent or counts.retrying or counts.dead:
        log_event(
            log, "delivery.summary", sent=counts.sent, retrying=counts.retrying, dead=counts.dead
        )


def _outcome(
    row: _Claimed,
    error: DeliveryError | None,
    now: datetime,
    rng: random.Random,
    policy: RetryPolicy,
) -> dict:
    """The row's new values after an attempt (its ``status`` says sent, retrying or dead)."""
    attempts = row.attempts + 1
    values: dict = {"id": row.id, "attempts": attempts}
    delay = None
    if error is None:
        values.update(status=DeliveryStatus.SENT, sent_at=now, last_error=None)
    elif error.transient and attempts < policy.max_attempts:
        delay = retry_delay(attempts, error.retry_after, rng, policy.base_delay)
        values.update(
            status=DeliveryStatus.RETRYING,
            last_error=error.reason,
            next_attempt_at=now + timedelta(seconds=delay),
        )
    else:
        reason = error.reason if not error.transient else f"gave up: {error.reason}"
        values.update(status=DeliveryStatus.DEAD, last_error=reason)
    log_event(
        log,
        f"delivery.{values['status']}",
        _LEVELS[values["status"]],
        delivery=row.id,
        round=row.round_id,
        group=row.group_id,
        kind=row.kind,
        channel=row.channel,
        attempts=attempts,
        retry_in=f"{delay:.1f}s" if delay is not None else None,
        error=values.get("last_error"),
    )
    return values


class _Recorder:
    """Writes outcomes as they come, committing every few rows or fractions of a second.

    So a crash resends at most the messages sent since the last commit (``RECORD_EVERY``), and
    each commit also renews the lease of the batch's rows not yet sent.
    """

    def __init__(self, lease: float, waiting: list[int]):
        self.lease = lease
        self.waiting = set(waiting)
        self.updates: list[dict] = []
        self.forget: list[int] = []
        self.last = time.monotonic()
        #: When this worker's hold on the rows still waiting runs out (monotonic clock).
        self.lease_ends = self.last + lease
        self.counts = DispatchCounts()

    def lease_over(self) -> bool:
        """Whether another worker may have the rows still waiting by now."""
        return time.monotonic() >= self.lease_ends

    def add(self, row: _Claimed, values: dict, note: str | None = None) -> None:
        status = values["status"]
        setattr(self.counts, status, getattr(self.counts, status) + 1)
        self.waiting.discard(row.id)
        if status in (DeliveryStatus.SENT, DeliveryStatus.DEAD) and row.payload.get(
            "forget_after_sending"
        ):
            self.forget.append(row.id)  # to a person since erased: nothing of it stays
        else:
            self.updates.append(values | ({"last_error": note} if note else {}))
        pending = len(self.updates) + len(self.forget)
        if pending >= RECORD_EVERY or time.monotonic() - self.last >= RECORD_SECONDS:
            self.flush()

    def flush(self, *, renew: bool = True) -> None:
        """Commit the outcomes so far; renew the lease of the rows still waiting, unless the
        batch is over (what is left of it falls due when the lease runs out)."""
        if self.updates:
            # Every row gives the same columns, so each status is one executemany.
            by_shape: dict[tuple, list[dict]] = defaultdict(list)
            for values in self.updates:
                by_shape[tuple(sorted(values))].append(values)
            for rows in by_shape.values():
                db.session.execute(update(Delivery), rows)
        if self.forget:
            db.session.execute(delete(Delivery).where(Delivery.id.in_(self.forget)))
        renewing = renew and self.waiting and not self.lease_over()
        if renewing:
            renewed = datetime.now(UTC) + timedelta(seconds=self.lease)
            db.session.execute(
                update(Delivery)
                .where(Delivery.id.in_(self.waiting), Delivery.is_unsent())
                .values(next_attempt_at=renewed)
            )
        db.session.commit()
        self.updates, self.forget, self.last = [], [], time.monotonic()
        if renewing:
            self.lease_ends = self.last + self.lease


#: Outcomes recorded (committed) together at most; a crash resends at most these.
RECORD_EVERY = 10
RECORD_SECONDS = 0.05
#: A channel that answers a batch only at its end is handed this many messages at a time.
SLICE = 20


def send_due(
    channels: dict[str, Channel],
    *,
    policy: RetryPolicy | None = None,
    now: datetime | None = None,
    batch: int = 200,
    rng: random.Random | None = None,
) -> DispatchCounts:
    """Send every due delivery of these channels, a leased batch at a time; the counts.

    Each outcome is recorded as soon as the channel reports it (in commits of a few rows), so a
    worker that dies mid-batch resends at most the messages it sent since its last commit.
    """
    rng = rng or random.Random()
    policy = policy or RetryPolicy()
    total = DispatchCounts()
    while True:
        moment = now or datetime.now(UTC)
        rows = _claim(moment, batch, policy.lease, sorted(channels))
        if not rows:
            _log_summary(total)
            return total
        faults.reach("outbox.claimed")
        recorder = _Recorder(policy.lease, [r.id for r in rows])
        by_channel: dict[str, list[_Claimed]] = defaultdict(list)
        for row in rows:
            by_channel[row.channel].append(row)
        for name, group in by_channel.items():
            channel = channels[name]
            for row in [r for r in group if _too_late(r, moment)]:
                what = "the break has started" if row.kind == MessageKind.REMINDER else "it expired"
                too_late = DeliveryError(f"too late: {what} ({row.kind})", transient=False)
                recorder.add(row, _outcome(row, too_late, moment, rng, policy))
            group = [r for r in group if not _too_late(r, moment)]
            for row, error in _send_safely(channel, group, recorder.lease_over):
                faults.reach("outbox.sent")
                # Back-off and Retry-After count from the answer, not from the pass's start.
                values = _outcome(row, error, now or datetime.now(UTC), rng, policy)
                # Chat channels report members they could not reach (not on Slack, say): they
                # still get the calendar invite by email, and admins see who on the delivery.
                unreachable = getattr(channel, "unreachable", None) or {}
                note = None
                if error is None and unreachable.get(row.key):
                    missing = ", ".join(unreachable[row.key])
                    note = f"not reached on {name}, the email invite only: {missing}"
                recorder.add(row, values, note)
        recorder.flush(renew=False)
        total += recorder.counts


def _too_late(row: _Claimed, now: datetime) -> bool:
    """A reminder still queued when its break starts would only confuse, and so would a notice
    past its expiry (a room nudge once the room is open): they are not sent."""
    if row.kind == MessageKind.REMINDER:
        start = (row.payload.get("invite") or {}).get("start")
        return bool(start) and datetime.fromisoformat(start) <= now
    expires = (row.payload.get("notice") or {}).get("expires")
    return bool(expires) and datetime.fromisoformat(expires) <= now


def _send_safely(
    channel: Channel, rows: list[_Claimed], lease_over: Callable[[], bool]
) -> Iterator[tuple[_Claimed, DeliveryError | None]]:
    """(row, outcome) as the channel reports each; a channel that raises fails what is left of
    its batch transiently, never the worker.

    A channel that yields its outcomes one by one (``stream``) gets the whole batch, so email
    keeps one connection for it; one that answers only at the end gets slices of
    :data:`SLICE`. Nothing more is sent once the lease runs out: another worker may have the
    rest by then.
    """
    stream = getattr(channel, "stream", None)
    step = len(rows) if callable(stream) else SLICE
    done = 0
    try:
        for start in range(0, len(rows), step or 1):
            part = rows[start : start + step]
            messages = [message_from_dict(r.payload) for r in part]
            outcomes = stream(messages) if callable(stream) else channel.send(messages)
            for row, error in zip(part, outcomes, strict=False):
                yield row, error
                done += 1
                if lease_over():
                    log.warning("channel=%s: lease over, %d left", channel.name, len(rows) - done)
                    return
            if done != start + len(part):
                raise RuntimeError(f"channel {channel.name} reported {done - start} outcomes")
    except Exception as exc:  # noqa: BLE001 - one failing channel never stops the others
        log.exception("channel=%s failed a batch of %d", channel.name, len(rows))
        # Admins read the reason: the exception's text may quote a URL, a token or an address,
        # so it stays in the log; the reason names only what kind of failure it was.
        reason = f"{channel.name}: unexpected {type(exc).__name__} (see the worker's log)"
        for row in rows[done:]:
            yield row, DeliveryError(reason, transient=True)


def next_due() -> datetime | None:
    """When the next pending or retrying delivery falls due (None: the outbox is drained)."""
    return db.session.scalar(select(func.min(Delivery.next_attempt_at)).where(Delivery.is_unsent()))


def counts_by_status() -> dict[str, int]:
    """How many deliveries are pending, retrying, sent and dead (for ``fika status``)."""
    rows = db.session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: n for status, n in rows})
    return counts


def dead_letters(limit: int = 50) -> list[Delivery]:
    """The most recent dead deliveries with their reasons, for admins to read and resend."""
    return list(
        db.session.scalars(
            select(Delivery)
            .where(Delivery.status == DeliveryStatus.DEAD)
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
    )


def resend(delivery_id: int, now: datetime | None = None) -> Delivery | None:
    """Queue a dead delivery again, now, with a fresh set of attempts; commit.

    The row keeps its idempotency key, so the message carries the same Message-ID / UID as
    before. Returns the row, or None when there is no dead delivery with that id (a pending,
    retrying or sent one is left alone: resending it would be a duplicate).
    """
    row = db.session.get(Delivery, delivery_id)
    if row is None or row.status != DeliveryStatus.DEAD:
        return None
    previous = row.last_error
    row.status, row.attempts = DeliveryStatus.PENDING, 0
    row.next_attempt_at = now or datetime.now(UTC)
    db.session.commit()
    log_event(
        log,
        "delivery.resend",
        delivery=row.id,
        round=row.round_id,
        kind=row.kind,
        channel=row.channel,
        previous_error=previous,
    )
    return row


# --- Messages waiting for a channel that is not configured any more ---------------------------
#
# A deployment that adds a mail server after its trial stops writing to the outbox folder, and
# one that drops CalDAV stops syncing it. The rows still waiting for such a channel are not
# claimed (nothing could send them), so they wait, visibly, until an admin sends them through a
# channel that reaches the same people, or discards them.


def stranded(settings: Settings) -> dict[str, int]:
    """Channel -> how many messages still to go out wait for it, for channels not configured."""
    enabled = {e.name for e in enabled_channels(settings)}
    rows = db.session.execute(
        select(Delivery.channel, func.count())
        .where(Delivery.is_unsent(), Delivery.channel.not_in(enabled))
        .group_by(Delivery.channel)
    )
    return {channel: count for channel, count in rows}


def reroute_targets(settings: Settings, source: str) -> list[str]:
    """The configured channels that reach whom ``source`` reached (one person, or a group)."""
    entry = catalogue.BY_NAME.get(source)
    if entry is None:
        return []
    return [
        e.name
        for e in enabled_channels(settings)
        if e.audience == entry.audience and e.name != source
    ]


def reroute(settings: Settings, source: str, target: str, now: datetime | None = None) -> int:
    """Send the messages waiting for ``source`` (not configured) through ``target`` instead.

    Each gets a key of its own on ``target`` (its channel's part of the key replaced) and is due
    now with fresh attempts; one whose message already exists on ``target`` is not sent twice:
    it is marked dead, superseded. Returns how many were re-routed. ValueError names a refused
    choice. Commits.
    """
    if source in {e.name for e in enabled_channels(settings)}:
        raise ValueError(f"channel {source!r} is configured: its messages are not stranded")
    if target not in reroute_targets(settings, source):
        raise ValueError(f"channel {target!r} cannot carry what {source!r} was to carry")
    now = now or datetime.now(UTC)
    rows = db.session.scalars(
        select(Delivery).where(Delivery.is_unsent(), Delivery.channel == source)
    ).all()
    keys = {row.id: _rekey(row.key, source, target) for row in rows}
    taken = set(db.session.scalars(select(Delivery.key).where(Delivery.key.in_(keys.values()))))
    moved = 0
    for row in rows:
        key = keys[row.id]
        if key in taken:
            row.status, row.last_error = DeliveryStatus.DEAD, f"superseded by {key} on {target}"
            continue
        row.channel, row.key, row.payload = target, key, {**row.payload, "key": key}
        row.status, row.attempts, row.next_attempt_at = DeliveryStatus.PENDING, 0, now
        taken.add(key)
        moved += 1
    db.session.commit()
    log_event(log, "delivery.reroute", source=source, target=target, moved=moved)
    return moved


def discard(settings: Settings, source: str) -> int:
    """Give up the messages waiting for ``source`` (not configured): they become dead letters
    with the reason, so they stay visible. Returns how many. Commits."""
    if source in {e.name for e in enabled_channels(settings)}:
        raise ValueError(f"channel {source!r} is configured: its messages are not stranded")
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.is_unsent(), Delivery.channel == source)
        .values(
            status=DeliveryStatus.DEAD,
            last_error=f"channel {source!r} is not configured any more; discarded by an admin",
        )
    )
    db.session.commit()
    log_event(log, "delivery.discard", source=source, discarded=result.rowcount)
    return result.rowcount


def _rekey(key: str, source: str, target: str) -> str:
    """``key`` with its channel part (the last ``-source`` or ``.source`` in it) for ``target``."""
    for separator in ("-", "."):
        head, found, tail = key.rpartition(f"{separator}{source}")
        if found and (not tail or tail[0] in "-."):
            return f"{head}{separator}{target}{tail}"
    return f"{key}-{target}"
