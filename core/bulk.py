"""Writing many rows at once: PostgreSQL's COPY, and the same rows by executemany elsewhere.

A 50,000-person round writes about 25,000 groups, 50,000 seats and 50,000 outbox rows. Sent as
multi-row INSERT statements, most of the time goes into composing and parsing SQL text; COPY
streams the values instead. :func:`copy_rows` sends rows through psycopg's public
``Cursor.copy`` on the session's own connection (SQLAlchemy's public
``Connection.connection.driver_connection``), so the rows belong to the caller's transaction
and commit or roll back with it. Each value is converted the way its column's type would bind
it (aware datetimes to naive UTC, JSON to text), so a row written by COPY reads back exactly as
one written by an INSERT.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from typing import Any

from psycopg import sql
from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Integer, String, Table, insert
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from core.db import db
from pairing.gcpause import gc_paused

#: Pause Python's cycle collector while a round builds and writes its rows: the planner's own
#: pause (:mod:`pairing.gcpause`). A 50,000-person round keeps a few million plain objects alive
#: at once (people, groups, rows, payloads); none needs the cycle collector to be freed, yet each
#: of its full passes walks them all, again and again as they pile up: about a quarter of the
#: round's Python time (load and persist). Reference counting still frees memory as usual; the
#: collector runs again afterwards if it was on. Process-wide: another thread's cyclic garbage
#: in the meantime is only collected later too.
cycle_collector_paused = gc_paused


def copy_supported() -> bool:
    """Whether the session's database takes COPY (PostgreSQL through psycopg)."""
    return db.session.get_bind().dialect.name == "postgresql"


def use_copy(copy: bool | None = None) -> bool:
    """Whether to COPY: when the database takes it, unless the caller said ``copy=False``."""
    return copy is not False and copy_supported()


def insert_rows(table: Table, rows: list[dict[str, Any]], *, copy: bool | None = None) -> None:
    """Insert ``rows`` (dicts by column name) into ``table`` in the current transaction.

    COPY on PostgreSQL (unless ``copy`` is False), Core executemany elsewhere.
    """
    if not rows:
        return
    if use_copy(copy):
        copy_rows(table, list(rows[0]), rows)
    else:
        db.session.connection().execute(insert(table), rows)


def copy_rows(
    table: Table,
    columns: Sequence[str],
    rows: Iterable[dict[str, Any]],
    *,
    into: str | None = None,
    ordinal: str | None = None,
    convert: dict[str, Callable[[Any], Any]] | None = None,
) -> None:
    """COPY ``rows`` into ``table`` (or the table named ``into`` with the same columns).

    ``ordinal``: the name of an extra integer column that receives each row's position, so an
    ``INSERT ... SELECT ... ORDER BY`` from a staging table keeps the rows' order.
    ``convert``: the caller's own converter for some columns (to COPY's text format).
    """
    connection = db.session.connection()
    own = convert or {}
    converters = [
        own.get(name) or _converter(table.c[name].type, connection.dialect) for name in columns
    ]
    names = [*([ordinal] if ordinal else []), *columns]
    # COPY's binary format where every column has one: PostgreSQL then reads integers and
    # timestamps as they are instead of parsing their text (a fifth of its time on the outbox
    # rows); the values are the same either way.
    types = [*(["int4"] if ordinal else []), *(_binary_type(table.c[n].type) for n in columns)]
    binary = None not in types
    statement = sql.SQL("COPY {} ({}) FROM STDIN{}").format(
        sql.Identifier(into or table.name),
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(" (FORMAT BINARY)" if binary else ""),
    )
    # Most columns only need an enum member turned into its value (``_plain``); that check is
    # done inline, and only the other columns call their converter: one call per value was
    # most of the Python time of a 50,000-person round's COPY.
    special = [(i, c) for i, c in enumerate(converters) if c is not _plain]
    plain = [i for i, c in enumerate(converters) if c is _plain]
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        if binary:
            copy.set_types(types)
        for position, row in enumerate(rows):
            values = [row[name] for name in columns]
            for i, convert in special:
                values[i] = convert(values[i])
            for i in plain:
                if isinstance(values[i], Enum):
                    values[i] = values[i].value
            copy.write_row([position, *values] if ordinal else values)


def _binary_type(column_type) -> str | None:
    """The PostgreSQL type whose binary form COPY sends for this column (None: none known).

    JSON goes as text, which is its binary form too (not so JSONB's, hence None for it).
    """
    if isinstance(column_type, TypeDecorator):
        return _binary_type(column_type.impl)
    if isinstance(column_type, JSONB):
        return None
    if isinstance(column_type, DateTime):
        return "timestamptz" if column_type.timezone else "timestamp"
    for kind, name in _BINARY_TYPES:
        if isinstance(column_type, kind):
            return name
    return None


def _converter(column_type, dialect) -> Callable[[Any], Any]:
    """How a value of this column type is written in COPY's text format."""
    if isinstance(column_type, TypeDecorator):
        inner = _converter(column_type.impl, dialect)
        return _Repeated(lambda value: inner(column_type.process_bind_param(value, dialect)))
    if isinstance(column_type, JSON):
        # SQLAlchemy writes Python None as JSON null unless the column says otherwise.
        keep_null = column_type.none_as_null
        return lambda value: None if value is None and keep_null else json.dumps(value)
    return _plain


#: Column types by the PostgreSQL type of their binary COPY form, most specific first.
_BINARY_TYPES = (
    (BigInteger, "int8"),
    (Integer, "int4"),
    (Boolean, "bool"),
    (Date, "date"),
    (String, "text"),  # Text and VARCHAR too: both read the same bytes
    (JSON, "text"),
)


class _Repeated:
    """A converter that remembers its last value: a round's rows share one ``now`` (each
    delivery's created_at and next_attempt_at), converted once instead of once per row."""

    def __init__(self, convert: Callable[[Any], Any]):
        self.convert = convert
        self.last: tuple[Any, Any] = (object(), None)  # (value, its conversion); held alive

    def __call__(self, value: Any) -> Any:
        if value is not self.last[0]:
            self.last = (value, self.convert(value))
        return self.last[1]


def _plain(value: Any) -> Any:
    """Enum members as their values (a str enum is a str); everything else as it is."""
    return value.value if isinstance(value, Enum) else value
