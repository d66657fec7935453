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

from sqlalchemy import select

from integrations.base import Channel, DeliveryError
from integrations.payload import message_from_dict
from web.extensions import db
from web.models import Delivery

log = logging.getLogger("fika.outbox")

MAX_ATTEMPTS = 8
BASE_DELAY = 30.0  # seconds; doubles with each attempt
MAX_DELAY = 3600.0


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


def retry_delay(attempts: int, retry_after: float | None, rng: random.Random) -> float:
    """Exponential back-off with full jitter, never sooner than the server's Retry-After."""
    delay = min(BASE_DELAY * 2 ** (attempts - 1), MAX_DELAY) * (0.5 + rng.random() / 2)
    return max(delay, retry_after or 0.0)


def _claim(now: datetime, limit: int) -> list[Delivery]:
    query = (
        select(Delivery)
        .where(Delivery.status.in_(("pending", "retrying")), Delivery.next_attempt_at <= now)
        .order_by(Delivery.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(db.session.scalars(query))


def _record(row: Delivery, error: DeliveryError | None, now: datetime, rng: random.Random) -> str:
    row.attempts += 1
    if error is None:
        row.status, row.sent_at, row.last_error = "sent", now, None
    elif error.transient and row.attempts < MAX_ATTEMPTS:
        row.status, row.last_error = "retrying", error.reason
        row.next_attempt_at = now + timedelta(
            seconds=retry_delay(row.attempts, error.retry_after, rng)
        )
    else:
        row.status = "dead"
        row.last_error = error.reason if not error.transient else f"gave up: {error.reason}"
    log.info(
        "delivery=%s group=%s channel=%s status=%s attempts=%d%s",
        row.id,
        row.group_id,
        row.channel,
        row.status,
        row.attempts,
        f" error={row.last_error!r}" if row.last_error else "",
    )
    return row.status


def send_due(
    channels: dict[str, Channel],
    *,
    now: datetime | None = None,
    batch: int = 200,
    rng: random.Random | None = None,
) -> DispatchCounts:
    """Send every due delivery, one batch (one transaction) at a time; return the counts."""
    rng = rng or random.Random()
    total = DispatchCounts()
    while True:
        moment = now or datetime.now(UTC)
        rows = _claim(moment, batch)
        if not rows:
            db.session.commit()
            return total
        counts = DispatchCounts()
        by_channel: dict[str, list[Delivery]] = defaultdict(list)
        for row in rows:
            by_channel[row.channel].append(row)
        for name, group in by_channel.items():
            channel = channels.get(name)
            if channel is None:
                outcomes: list[DeliveryError | None] = [
                    DeliveryError(f"channel {name!r} is not configured", transient=False)
                ] * len(group)
            else:
                outcomes = _send_safely(channel, group)
            for row, error in zip(group, outcomes, strict=True):
                status = _record(row, error, moment, rng)
                setattr(counts, status, getattr(counts, status) + 1)
        db.session.commit()
        total += counts


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
        return [DeliveryError(f"{type(exc).__name__}: {exc}", transient=True)] * len(rows)
