"""The delivery outbox: send due rows through their channel, record what happened.

Rows are written in the round's transaction (so a round never exists without its messages, nor
messages without their round) and sent here. On PostgreSQL several workers claim rows with
``SELECT … FOR UPDATE SKIP LOCKED``; on SQLite one worker runs. A crash between "sent" and
"marked" resends the same message with the same idempotency key, which the recipient's calendar
folds into the first (same Message-ID, UID and SEQUENCE).
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core import faults
from core.db import db
from core.enums import DeliveryStatus
from core.events import log_event
from core.models import Delivery
from core.settings import Settings
from integrations.base import Channel, DeliveryError, MessageKind
from integrations.payload import message_from_dict

log = logging.getLogger("fika.outbox")

MAX_ATTEMPTS = 8  # defaults of FIKA_OUTBOX_MAX_ATTEMPTS and FIKA_OUTBOX_BASE_DELAY
BASE_DELAY = 30.0  # seconds; doubles with each attempt
MAX_DELAY = 3600.0
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
    """How often a transient failure is retried, and how long the first wait is."""

    max_attempts: int = MAX_ATTEMPTS
    base_delay: float = BASE_DELAY

    @classmethod
    def of(cls, settings: Settings) -> RetryPolicy:
        """FIKA_OUTBOX_MAX_ATTEMPTS and FIKA_OUTBOX_BASE_DELAY."""
        return cls(settings.outbox_max_attempts, settings.outbox_base_delay)


def _claim(now: datetime, limit: int) -> list[Delivery]:
    query = (
        select(Delivery)
        .where(Delivery.is_unsent(), Delivery.next_attempt_at <= now)
        .order_by(Delivery.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(db.session.scalars(query))


def _record(
    row: Delivery,
    error: DeliveryError | None,
    now: datetime,
    rng: random.Random,
    policy: RetryPolicy,
) -> str:
    max_attempts, base = policy.max_attempts, policy.base_delay
    row.attempts += 1
    delay = None
    if error is None:
        row.status, row.sent_at, row.last_error = DeliveryStatus.SENT, now, None
    elif error.transient and row.attempts < max_attempts:
        row.status, row.last_error = DeliveryStatus.RETRYING, error.reason
        delay = retry_delay(row.attempts, error.retry_after, rng, base)
        row.next_attempt_at = now + timedelta(seconds=delay)
    else:
        row.status = DeliveryStatus.DEAD
        row.last_error = error.reason if not error.transient else f"gave up: {error.reason}"
    log_event(
        log,
        f"delivery.{row.status}",
        logging.WARNING if row.status == DeliveryStatus.DEAD else logging.INFO,
        delivery=row.id,
        round=row.round_id,
        group=row.group_id,
        kind=row.kind,
        channel=row.channel,
        attempts=row.attempts,
        retry_in=f"{delay:.1f}s" if delay is not None else None,
        error=row.last_error,
    )
    return row.status


def send_due(
    channels: dict[str, Channel],
    *,
    policy: RetryPolicy | None = None,
    now: datetime | None = None,
    batch: int = 200,
    rng: random.Random | None = None,
) -> DispatchCounts:
    """Send every due delivery, one batch (one transaction) at a time; return the counts."""
    rng = rng or random.Random()
    limits = policy or RetryPolicy()
    total = DispatchCounts()
    while True:
        moment = now or datetime.now(UTC)
        rows = _claim(moment, batch)
        if not rows:
            db.session.commit()
            return total
        faults.reach("outbox.claimed")
        counts = DispatchCounts()
        by_channel: dict[str, list[Delivery]] = defaultdict(list)
        for row in rows:
            by_channel[row.channel].append(row)
        for name, group in by_channel.items():
            channel = channels.get(name)
            stale = [r for r in group if _too_late(r, moment)]
            group = [r for r in group if r not in stale]
            for row in stale:
                what = "the break has started" if row.kind == MessageKind.REMINDER else "it expired"
                too_late = DeliveryError(f"too late: {what} ({row.kind})", transient=False)
                _record(row, too_late, moment, rng, limits)
                counts.dead += 1
            if not group:
                continue
            if channel is None:
                outcomes: list[DeliveryError | None] = [
                    DeliveryError(f"channel {name!r} is not configured", transient=False)
                ] * len(group)
            else:
                outcomes = _send_safely(channel, group)
            faults.reach("outbox.sent")
            # Back-off and Retry-After count from the answer, not from the start of the pass.
            answered = now or datetime.now(UTC)
            # Chat channels report members they could not reach (not on Slack, say): they still
            # get the calendar invite by email, and admins see who on the delivery.
            unreachable = getattr(channel, "unreachable", None) or {}
            for row, error in zip(group, outcomes, strict=True):
                status = _record(row, error, answered, rng, limits)
                setattr(counts, status, getattr(counts, status) + 1)
                if status in (DeliveryStatus.SENT, DeliveryStatus.DEAD) and row.payload.get(
                    "forget_after_sending"
                ):
                    db.session.delete(row)  # to a person since erased: nothing of it stays
                    continue
                if status == DeliveryStatus.SENT and unreachable.get(row.key):
                    missing = ", ".join(unreachable[row.key])
                    row.last_error = f"not reached on {name}, the email invite only: {missing}"
        db.session.commit()
        total += counts


def _too_late(row: Delivery, now: datetime) -> bool:
    """A reminder still queued when its break starts would only confuse, and so would a notice
    past its expiry (a room nudge once the room is open): they are not sent."""
    if row.kind == MessageKind.REMINDER:
        start = (row.payload.get("invite") or {}).get("start")
        return bool(start) and datetime.fromisoformat(start) <= now
    expires = (row.payload.get("notice") or {}).get("expires")
    return bool(expires) and datetime.fromisoformat(expires) <= now


def _send_safely(channel: Channel, rows: list[Delivery]) -> list[DeliveryError | None]:
    """A channel that raises instead of reporting fails its batch transiently, not the worker."""
    try:
        messages = [message_from_dict(r.payload) for r in rows]
        outcomes = channel.send(messages)
        if len(outcomes) != len(rows):
            raise RuntimeError(f"channel {channel.name} returned {len(outcomes)} outcomes")
        return outcomes
    except Exception as exc:  # noqa: BLE001 - one failing channel never stops the others
        log.exception("channel=%s failed a batch of %d", channel.name, len(rows))
        # Admins read the reason: the exception's text may quote a URL, a token or an address,
        # so it stays in the log; the reason names only what kind of failure it was.
        reason = f"{channel.name}: unexpected {type(exc).__name__} (see the worker's log)"
        return [DeliveryError(reason, transient=True)] * len(rows)


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
