"""The dispatcher: send due outbox rows through their channel, record what happened.

Rows are written in the transaction of the change that causes them (``core.outbox``) and sent
here. A worker leases a few rows at a time (their ``next_attempt_at`` moves ahead by the lease,
in one short transaction; on PostgreSQL racing workers skip each other's rows with ``FOR UPDATE
SKIP LOCKED``), so several workers share the queue, each at its own pace. A channel that
streams its outcomes (email) sends on several connections at once (``FIKA_OUTBOX_CONNECTIONS``,
one thread each); the worker's own thread claims, records and commits. Each outcome is
committed as soon as it arrives (with the others that arrived meanwhile), and a connection sends
its next message only after that commit. So a worker killed at any moment resends at most the
messages in flight, one per connection, with the same idempotency key, which the recipient's
calendar folds into the first (same Message-ID, UID and SEQUENCE); the rows it had claimed but
not sent fall due again when its lease runs out.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    Connection,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

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


class _Connection:
    """The worker's own database connection for claims and outcomes, outside the session.

    Each claim and each write of outcomes is a transaction of its own: one commit (one flush of
    PostgreSQL's log to disk) for all the outcomes that arrived together.
    """

    def __init__(self, connection: Connection):
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        if self.postgresql:
            # Every statement here is one transaction by itself (the claim, each status's
            # UPDATE ... FROM VALUES, the lease renewal): in autocommit it is one round trip,
            # where BEGIN, the statement and COMMIT were three.
            connection.execution_options(isolation_level="AUTOCOMMIT")

    def run(self, *statements: tuple) -> list:
        """Execute ``(statement, parameters)`` pairs, each committed (on PostgreSQL each by
        itself, elsewhere all in one transaction); the first's rows.

        Outcomes need not commit together: a lane sends its next message only once every
        write of a :meth:`_Recorder.flush` is done, so a crash between two of them resends
        only messages in flight, as a crash before the first would.
        """
        if self.postgresql:
            return self._all(self.connection.execute(*s) for s in statements)
        with self.connection.begin():
            return self._all(self.connection.execute(*s) for s in statements)

    def driver(self, sql: str, parameters: dict) -> None:
        """One statement straight through psycopg's cursor (PostgreSQL, autocommitted)."""
        cursor = self.connection.connection.cursor()
        try:
            cursor.execute(sql, parameters)
        finally:
            cursor.close()

    @staticmethod
    def _all(results) -> list:
        """Run them all; the first's rows, read before the transaction ends."""
        first = next(results)
        rows = first.all() if first.returns_rows else []
        for _ in results:
            pass
        return rows


#: ``Delivery.is_unsent()`` with its values written into the SQL, so PostgreSQL sees that the
#: partial index ix_delivery_due answers the claim, even in a prepared statement's generic plan.
_UNSENT_LITERALLY = Delivery.status.in_(
    bindparam("unsent", [str(s) for s in Delivery.UNSENT], expanding=True, literal_execute=True)
)


def _claim(
    conn: _Connection, now: datetime, limit: int, lease: float, channels: Sequence[str]
) -> list[_Claimed]:
    """Lease up to ``limit`` due rows of these channels for ``lease`` seconds (committed).

    The lease is their ``next_attempt_at`` moved ahead: no other worker finds them due while
    this one sends them, and if this one dies they fall due again when it runs out. Rows of a
    channel that is not configured now are not claimed: they wait, visibly (``stranded``).
    """
    due = (
        select(Delivery.id)
        .where(_UNSENT_LITERALLY, Delivery.next_attempt_at <= now)
        .where(Delivery.channel.in_(channels))
        .order_by(Delivery.next_attempt_at, Delivery.id)  # the oldest due first (ix_delivery_due)
        .limit(limit)
    )
    if conn.postgresql:
        due = due.with_for_update(skip_locked=True)  # racing workers take different rows
    statement = (
        update(Delivery.__table__)
        .where(Delivery.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + timedelta(seconds=lease))
        .returning(*_CLAIMED_COLUMNS)
    )
    return sorted((_Claimed(*row) for row in conn.run((statement,))), key=lambda r: r.id)


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
    level = _LEVELS[values["status"]]
    if not log.isEnabledFor(level):  # sent: one line per message only at debug
        return values
    log_event(
        log,
        f"delivery.{values['status']}",
        level,
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
    """Writes outcomes as they come, one commit for all that arrived together (group commit).

    Every row this worker claimed and has no outcome for yet is ``waiting``, with the moment
    its lease runs out. A commit renews the lease of the waiting rows once half of it is gone.
    """

    def __init__(self, lease: float):
        self.lease = lease
        #: Row id -> when this worker's hold on it runs out (monotonic clock).
        self.waiting: dict[int, float] = {}
        self.updates: list[dict] = []
        self.forget: list[int] = []
        self.renew_at = float("inf")
        self.counts = DispatchCounts()

    def hold(self, rows: Sequence[_Claimed]) -> None:
        """Rows just claimed for ``lease`` seconds."""
        ends = time.monotonic() + self.lease
        self.waiting.update((r.id, ends) for r in rows)
        self.renew_at = min(self.renew_at, ends - self.lease / 2)

    def lease_over(self, row_id: int) -> bool:
        """Whether another worker may have this row by now (it must not be sent)."""
        return time.monotonic() >= self.waiting.get(row_id, 0.0)

    def drop(self, row: _Claimed) -> None:
        """Give up a row unsent: it falls due again when its lease runs out."""
        self.waiting.pop(row.id, None)

    def add(self, row: _Claimed, values: dict, note: str | None = None) -> None:
        """An outcome to commit with the next :meth:`flush`."""
        status = values["status"]
        setattr(self.counts, status, getattr(self.counts, status) + 1)
        self.waiting.pop(row.id, None)
        if status in (DeliveryStatus.SENT, DeliveryStatus.DEAD) and row.payload.get(
            "forget_after_sending"
        ):
            self.forget.append(row.id)  # to a person since erased: nothing of it stays
        else:
            self.updates.append(values | ({"last_error": note} if note else {}))

    def flush(self, conn: _Connection) -> None:
        """Write the outcomes so far (and renew the lease of the waiting rows when due)."""
        statements: list[tuple] = []
        # Every row gives the same columns, so each status is one executemany.
        by_shape: dict[tuple, list[dict]] = defaultdict(list)
        for values in self.updates:
            by_shape[tuple(sorted(values))].append(values)
        table = Delivery.__table__
        for shape, rows in by_shape.items():
            if conn.postgresql:  # one statement for all rows of a shape: one round trip
                conn.driver(*_update_from_arrays(table, shape, rows))
                continue
            # The SET clause is the rows' keys; the row is found by its id under another name.
            statement = update(table).where(table.c.id == bindparam("row_id"))
            params = [{k: v for k, v in values.items() if k != "id"} for values in rows]
            for param, values in zip(params, rows, strict=True):
                param["row_id"] = values["id"]
            statements.append((statement, params))
        if self.forget:
            statements.append((delete(table).where(table.c.id.in_(self.forget)), {}))
        clock = time.monotonic()
        renew = (
            [i for i, ends in self.waiting.items() if ends > clock]
            if clock >= self.renew_at
            else []
        )
        if renew:
            renewed = datetime.now(UTC) + timedelta(seconds=self.lease)
            statements.append(
                (
                    update(table)
                    .where(table.c.id.in_(renew), Delivery.is_unsent())
                    .values(next_attempt_at=renewed),
                    {},
                )
            )
        if statements:
            conn.run(*statements)
        if renew:
            self.waiting.update((i, clock + self.lease) for i in renew)
            self.renew_at = clock + self.lease / 2
        self.updates, self.forget = [], []


#: One ``UPDATE ... FROM unnest(...)`` per shape of outcome (the columns it sets), as the SQL
#: psycopg takes: its text does not change with the number of rows, so psycopg prepares it.
_UNNEST_UPDATES: dict[tuple[str, ...], str] = {}


def _update_from_arrays(table, shape: tuple[str, ...], rows: list[dict]) -> tuple[str, dict]:
    """``UPDATE delivery SET ... FROM unnest(<one array per column>) AS outcome(...) WHERE
    delivery.id = outcome.id``: the outcomes of many rows in one statement whose text is the
    same for one row or forty (PostgreSQL); with its parameters.

    It goes straight to the driver (:meth:`_Connection.driver`): SQLAlchemy's execution of a
    statement cost more than PostgreSQL's, and outcomes are written several times a second."""
    statement = _UNNEST_UPDATES.get(shape)
    if statement is None:
        dialect = postgresql.dialect()
        arrays = ", ".join(
            f"CAST(%({name})s AS {table.c[name].type.compile(dialect=dialect)}[])" for name in shape
        )
        sets = ", ".join(f"{name} = outcome.{name}" for name in shape if name != "id")
        statement = (
            f"UPDATE {table.name} SET {sets} FROM unnest({arrays}) AS outcome"
            f"({', '.join(shape)}) WHERE {table.name}.id = outcome.id"
        )
        _UNNEST_UPDATES[shape] = statement
    return statement, {name: [_plain(row[name]) for row in rows] for name in shape}


def _plain(value):
    """A value as its column stores it: statuses as their text, times as naive UTC (see
    ``core.models.UTCDateTime``), which the arrays of :func:`_update_from_arrays` need."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, DeliveryStatus):
        return str(value)
    return value


#: A channel that answers a batch only at its end is handed this many messages at a time.
SLICE = 20
#: Rows claimed at once: at least this many, and a few per connection. Small claims let several
#: workers share the queue; the next is claimed before the last runs out.
CLAIM = 20
CLAIM_PER_CONNECTION = 4
#: How often (seconds) a worker waiting for outcomes looks at its leases.
WAKE = 0.2


class _Lanes:
    """The connections of one streaming channel: each a thread that sends the rows put here
    through its own ``channel.stream`` (so email keeps one SMTP connection per lane).

    A lane sends its next message only once the outcome of its last is committed: so at any
    moment at most one message per lane is accepted and not yet recorded, and a crash resends
    at most those (the messages in flight). While it waits for that commit it takes its next
    row and has the channel build the message (``prepare``, if the channel has one), so
    rendering overlaps the commit instead of following it.
    """

    def __init__(self, channel: Channel, count: int, results: queue.SimpleQueue, recorder):
        self.channel = channel
        self.results = results
        self.recorder = recorder
        self.work: queue.SimpleQueue = queue.SimpleQueue()
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=self._run, name=f"outbox-{channel.name}-{i}", daemon=True)
            for i in range(count)
        ]
        for thread in self.threads:
            thread.start()

    def put(self, row: _Claimed, message) -> None:
        self.work.put((row, message))

    def close(self) -> None:
        """Stop taking rows; wait for each lane to finish the message it is sending."""
        self.stop.set()
        for _ in self.threads:
            self.work.put(None)
        for thread in self.threads:
            thread.join()

    def _run(self) -> None:
        current: deque[_Claimed] = deque()
        recorded = threading.Event()
        recorded.set()
        ended = False

        prepare = getattr(self.channel, "prepare", None)

        def feed() -> Iterator:
            nonlocal ended
            while True:
                item = self.work.get()
                if item is None or self.stop.is_set():
                    ended = True
                    return
                row, message = item
                if prepare is not None:  # built while the last outcome commits, sent after
                    message = prepare(message)
                while not recorded.wait(WAKE):  # the last outcome is not committed yet
                    if self.stop.is_set():  # the row falls due again when its lease runs out
                        ended = True
                        return
                if self.recorder.lease_over(row.id):
                    self.results.put((row, LEASE_OVER, None))
                    continue
                recorded.clear()
                current.append(row)
                yield message

        while not ended:
            try:
                for outcome in self.channel.stream(feed()):
                    self.results.put((current.popleft(), outcome, recorded))
                if current:
                    raise RuntimeError(f"{self.channel.name} left {len(current)} unanswered")
            except Exception as exc:  # noqa: BLE001 - one failing channel never stops the others
                log.exception("channel=%s failed", self.channel.name)
                error = _unexpected(self.channel, exc)
                while current:
                    self.results.put((current.popleft(), error, recorded))


#: A lane's answer for a row it did not send because the worker's lease on it ran out.
LEASE_OVER = DeliveryError("lease over", transient=True)


@dataclass
class _ClaimDone:
    """What a claim found (or the exception it raised), handed to the worker's thread."""

    rows: list[_Claimed]
    moment: datetime
    error: Exception | None = None


class _Claims:
    """Claims rows for the worker's thread. On PostgreSQL on a connection and a thread of their
    own, so the worker's thread goes on recording outcomes (and its lanes on sending) while a
    claim waits for its commit; elsewhere (SQLite: one writer) inline on the worker's
    connection. Either way the answer arrives through ``results`` as a :class:`_ClaimDone`."""

    def __init__(self, conn: _Connection, results, channels, lease: float, limit: int, now):
        self.results = results
        self.channels = channels
        self.lease = lease
        self.limit = limit
        self.now = now
        self.pending = False
        self.thread: threading.Thread | None = None
        self.conn = conn
        self.own: Connection | None = None
        if conn.postgresql:
            self.own = db.engine.connect()
            self.conn = _Connection(self.own)
            self.requests: queue.SimpleQueue = queue.SimpleQueue()
            self.thread = threading.Thread(target=self._serve, name="outbox-claims", daemon=True)
            self.thread.start()

    def request(self) -> None:
        """Claim up to ``limit`` rows; the answer comes through ``results``."""
        self.pending = True
        if self.thread is None:
            self.results.put(self._claim())
        else:
            self.requests.put(True)

    def _claim(self) -> _ClaimDone:
        moment = self.now or datetime.now(UTC)
        try:
            return _ClaimDone(
                _claim(self.conn, moment, self.limit, self.lease, self.channels), moment
            )
        except Exception as exc:  # noqa: BLE001 - raised again in the worker's thread
            return _ClaimDone([], moment, exc)

    def _serve(self) -> None:
        while self.requests.get() is not None:
            self.results.put(self._claim())

    def close(self) -> None:
        if self.thread is not None:
            self.requests.put(None)
            self.thread.join()
        if self.own is not None:
            self.own.close()


def send_due(
    channels: dict[str, Channel],
    *,
    policy: RetryPolicy | None = None,
    now: datetime | None = None,
    batch: int | None = None,
    rng: random.Random | None = None,
    connections: int = 1,
) -> DispatchCounts:
    """Send every due delivery of these channels; the counts.

    Rows are claimed a few at a time (``batch``, by default :data:`CLAIM` or
    :data:`CLAIM_PER_CONNECTION` per connection), so several workers share the queue; the next
    claim is made while the rows in hand go out. A channel that streams its outcomes (email,
    the outbox folder) sends on ``connections`` lanes at once if it says it can
    (``concurrent``), else on one; each outcome is committed as soon as it arrives, together
    with the others that arrived meanwhile. A worker that dies resends at most the messages in
    flight: one per lane.
    """
    rng = rng or random.Random()
    policy = policy or RetryPolicy()
    claim = batch or max(CLAIM, CLAIM_PER_CONNECTION * connections)
    recorder = _Recorder(policy.lease)
    results: queue.SimpleQueue = queue.SimpleQueue()
    lanes: dict[str, _Lanes] = {}
    #: Whether the last claim found all it asked for (a short one: the queue is drained for now).
    full = True
    finished = False

    def claimed(done: _ClaimDone) -> None:
        nonlocal full, finished
        claims.pending = False
        if done.error is not None:
            raise done.error
        full = len(done.rows) == claim
        if done.rows:
            faults.reach("outbox.claimed")
            recorder.hold(done.rows)
            _hand_out(done.rows, channels, lanes, connections, results, recorder, done.moment)
        elif not recorder.waiting:
            finished = True

    db.session.commit()  # what the caller wrote is there for the worker's own connection
    with db.engine.connect() as connection:
        conn = _Connection(connection)
        claims = _Claims(conn, results, sorted(channels), policy.lease, claim, now)
        try:
            claims.request()
            while True:
                _record(conn, recorder, results, channels, now, rng, policy, claimed)
                if claims.pending:
                    continue
                if finished:
                    _log_summary(recorder.counts)
                    return recorder.counts
                # A short claim means the queue is drained for now: claim again only once
                # everything in hand is done, and stop when that claim finds nothing.
                if not recorder.waiting or (full and len(recorder.waiting) < claim):
                    claims.request()
        finally:
            claims.close()
            for group in lanes.values():
                group.close()


def _hand_out(rows, channels, lanes, connections, results, recorder, moment) -> None:
    """Too-late rows get their outcome; streaming channels' rows go to their lanes; others are
    sent here, in slices (their outcomes come back through ``results`` like the lanes')."""
    by_channel: dict[str, list[_Claimed]] = defaultdict(list)
    for row in rows:
        by_channel[row.channel].append(row)
    for name, group in by_channel.items():
        channel = channels[name]
        for row in group:
            if _too_late(row, moment):
                what = "the break has started" if row.kind == MessageKind.REMINDER else "it expired"
                too_late = DeliveryError(f"too late: {what} ({row.kind})", transient=False)
                results.put((row, too_late, None))
        group = [r for r in group if not _too_late(r, moment)]
        if not group:
            continue
        if not callable(getattr(channel, "stream", None)):
            for row, error in _send_in_slices(channel, group, recorder.lease_over):
                results.put((row, error, None))
            continue
        if name not in lanes:
            count = connections if getattr(channel, "concurrent", False) else 1
            lanes[name] = _Lanes(channel, count, results, recorder)
        for row in group:
            try:
                message = message_from_dict(row.payload)
            except Exception as exc:  # noqa: BLE001 - a row that cannot be read fails alone
                log.exception("channel=%s: delivery %d unreadable", name, row.id)
                results.put((row, _unexpected(channel, exc), None))
                continue
            lanes[name].put(row, message)


def _record(conn: _Connection, recorder, results, channels, now, rng, policy, claimed) -> None:
    """Wait for an outcome; record it and every other that has arrived meanwhile, in one
    write; then let their lanes send their next messages. A claim's answer among them goes
    to ``claimed``."""
    done: list[threading.Event] = []
    try:
        first = results.get(timeout=WAKE)
    except queue.Empty:
        recorder.flush(conn)  # renews the leases when due
        return
    item = first
    while item is not None:
        if isinstance(item, _ClaimDone):
            claimed(item)
            try:
                item = results.get_nowait()
            except queue.Empty:
                item = None
            continue
        row, error, recorded = item
        if recorded is not None:
            done.append(recorded)
        if error is LEASE_OVER:
            log.warning("channel=%s: lease over, delivery %d left to others", row.channel, row.id)
            recorder.drop(row)
        else:
            faults.reach("outbox.sent")
            # Back-off and Retry-After count from the answer, not from the pass's start.
            values = _outcome(row, error, now or datetime.now(UTC), rng, policy)
            # Chat channels report members they could not reach (not on Slack, say): they
            # still get the calendar invite by email, and admins see who on the delivery.
            unreachable = getattr(channels[row.channel], "unreachable", None) or {}
            note = None
            if error is None and unreachable.get(row.key):
                missing = ", ".join(unreachable[row.key])
                note = f"not reached on {row.channel}, the email invite only: {missing}"
            recorder.add(row, values, note)
        try:
            item = results.get_nowait()
        except queue.Empty:
            item = None
    recorder.flush(conn)
    for event in done:
        event.set()


def _unexpected(channel: Channel, exc: Exception) -> DeliveryError:
    """A channel that raised: a transient failure whose reason names only the kind of failure.

    Admins read the reason: the exception's text may quote a URL, a token or an address, so it
    stays in the log.
    """
    reason = f"{channel.name}: unexpected {type(exc).__name__} (see the worker's log)"
    return DeliveryError(reason, transient=True)


def _too_late(row: _Claimed, now: datetime) -> bool:
    """A reminder still queued when its break starts would only confuse, and so would a notice
    past its expiry (a room nudge once the room is open): they are not sent."""
    if row.kind == MessageKind.REMINDER:
        start = (row.payload.get("invite") or {}).get("start")
        return bool(start) and datetime.fromisoformat(start) <= now
    expires = (row.payload.get("notice") or {}).get("expires")
    return bool(expires) and datetime.fromisoformat(expires) <= now


def _send_in_slices(
    channel: Channel, rows: list[_Claimed], lease_over: Callable[[int], bool]
) -> Iterator[tuple[_Claimed, DeliveryError | None]]:
    """(row, outcome) for a channel that answers a batch only at its end (calendars, chat),
    in slices of :data:`SLICE`; a channel that raises fails what is left transiently, never
    the worker. Nothing more is sent once the lease runs out: another worker may have the rest.
    """
    done = 0
    try:
        for start in range(0, len(rows), SLICE):
            part = rows[start : start + SLICE]
            if lease_over(part[0].id):
                log.warning("channel=%s: lease over, %d left", channel.name, len(rows) - done)
                for row in rows[done:]:
                    yield row, LEASE_OVER
                return
            messages = [message_from_dict(r.payload) for r in part]
            outcomes = channel.send(messages)
            db.session.commit()  # what the channel wrote with the session (chat ids it found)
            if len(outcomes) != len(part):
                raise RuntimeError(f"channel {channel.name} reported {len(outcomes)} outcomes")
            for row, error in zip(part, outcomes, strict=True):
                yield row, error
                done += 1
    except Exception as exc:  # noqa: BLE001 - one failing channel never stops the others
        log.exception("channel=%s failed a batch of %d", channel.name, len(rows))
        db.session.rollback()
        for row in rows[done:]:
            yield row, _unexpected(channel, exc)


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
