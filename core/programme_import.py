"""Programmes from a CSV file: parse, check every row with the API's rules, then save by name.

The admin upload (``/admin/programmes/import``) and ``fika programmes import`` both go through
:func:`check_csv`. A row names a programme (``name``, matched in any case): an existing one is
updated, otherwise one is created. An empty cell leaves the stored value (or a new programme's
default). Every row is checked with ``core.programmes.settings_problems`` and written with
``core.programme_changes.save_programme``, the API's write path. All or nothing: a file with any
bad row writes nothing, and each problem is reported as ``line N, column C: reason``.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, time
from typing import ClassVar

from sqlalchemy import select

from core.db import db
from core.i18n import gettext as _
from core.models import Programme
from core.people_import import (
    FALSE,
    TIME_PATTERN,
    TRUE,
    ImportReport,
    RowError,
    decode,
    records_by_line,
)
from core.programme_changes import save_programme
from core.programmes import ProgrammeSettings, settings_problems
from core.settings import Settings
from core.text import text_problem

#: The columns a file may have, in the order the template shows them (the issue's contract).
COLUMNS = (
    "name",
    "kind",
    "topic",
    "days",
    "local_time",
    "timezone",
    "group_size",
    "duration_minutes",
    "cadence",
    "language",
    "slack_channel",
    "starts_on",
    "ends_on",
    "active",
)
#: Columns named otherwise on the model.
FIELD_OF = {"slack_channel": "slack_channel_id"}
COLUMN_OF = {v: k for k, v in FIELD_OF.items()}
#: In a cell, days are separated by semicolons (commas separate cells).
DAY_SEPARATOR = ";"
INT_COLUMNS = ("group_size", "duration_minutes")
DATE_COLUMNS = ("starts_on", "ends_on")
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@dataclass
class ProgrammeRow:
    """One checked row: its line, the programme it changes (None: a new one), the settings."""

    line: int
    programme: Programme | None
    values: ProgrammeSettings


class ProgrammeImportReport(ImportReport):
    """What a programmes import found (and, unless a dry run, did): the people import's report."""

    AUDIT_ACTION: ClassVar[str] = "programmes.import"


def _cell(raw: dict, column: str, line: int, errors: list[RowError]) -> str:
    value = raw.get(column) or ""
    problem = text_problem(value)
    if problem is not None:
        errors.append(RowError(line, column, problem))
        return ""
    return value.strip()


def _existing() -> dict[str, Programme]:
    """Programmes by name as ``core.programmes.name_taken`` compares them (any case)."""
    rows = db.session.scalars(select(Programme).order_by(Programme.id))
    found: dict[str, Programme] = {}
    for programme in rows:
        found.setdefault(programme.name.strip().casefold(), programme)
    return found


def _apply(cells: dict[str, str], values: ProgrammeSettings, line: int, errors: list[RowError]):
    """Put the non-empty cells onto ``values``; type problems go to ``errors``."""
    for column, text in cells.items():
        if not text or column == "name":
            continue
        if column in ("kind", "cadence"):
            setattr(values, column, text.lower())
        elif column in ("topic", "timezone"):
            setattr(values, column, text)
        elif column == "slack_channel":
            values.slack_channel_id = text
        elif column == "language":
            values.language = text.lower()
        elif column == "days":
            values.days = [d.strip().lower() for d in text.split(DAY_SEPARATOR) if d.strip()]
        elif column == "local_time":
            if not re.fullmatch(TIME_PATTERN, text):
                errors.append(
                    RowError(
                        line,
                        column,
                        _("%(value)s is not a time (HH:MM, 24-hour)", value=repr(text)),
                    )
                )
            else:
                values.local_time = time(int(text[:2]), int(text[3:]))
        elif column in INT_COLUMNS:
            if not re.fullmatch(r"[0-9]{1,6}", text):
                errors.append(
                    RowError(line, column, _("%(value)s is not a whole number", value=repr(text)))
                )
            else:
                setattr(values, column, int(text))
        elif column in DATE_COLUMNS:
            try:
                if not re.fullmatch(DATE_PATTERN, text):
                    raise ValueError(text)
                setattr(values, column, date.fromisoformat(text))
            except ValueError:
                errors.append(
                    RowError(
                        line, column, _("%(value)s is not a date (YYYY-MM-DD)", value=repr(text))
                    )
                )
        elif column == "active":
            if text.lower() not in TRUE | FALSE:
                errors.append(
                    RowError(line, column, _("%(value)s is not yes or no", value=repr(text)))
                )
            else:
                values.active = text.lower() in TRUE


def read_csv(
    data: bytes, default_zone: str
) -> tuple[list[ProgrammeRow], list[RowError], list[str], int]:
    """Check a whole file against the stored programmes: (rows, errors, ignored, data rows)."""
    text, problem = decode(data)
    if problem is not None:
        return [], [problem], [], 0
    assert text is not None
    if not text.strip():
        empty = _("the file is empty; the first line names the columns")
        return [], [RowError(1, "", empty)], [], 0
    header_line = text.split("\n")[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _read_rows(reader, default_zone)
    except csv.Error as exc:
        unreadable = _("not readable as CSV (%(reason)s)", reason=exc)
        return [], [RowError(reader.line_num, "", unreadable)], [], 0


def _read_rows(reader, default_zone: str):
    header = [h.strip().lower() for h in next(reader)]
    if "name" not in header:
        return [], [RowError(1, "name", _("required column is missing"))], [], 0
    ignored = [h for h in header if h and h not in COLUMNS]
    existing = _existing()
    errors: list[RowError] = []
    found: list[ProgrammeRow] = []
    first_line: dict[str, int] = {}
    rows = 0
    for line, raw in records_by_line(reader, header, errors):
        rows += 1
        if raw is None:
            continue
        row_errors: list[RowError] = []
        values_of = {c: _cell(raw, c, line, row_errors) for c in COLUMNS if c in raw}
        name = values_of.get("name", "")
        if not name and not row_errors:
            row_errors.append(RowError(line, "name", _("%(column)s is missing", column="name")))
        key = name.casefold()
        if name and key in first_line:
            row_errors.append(
                RowError(line, "name", _("duplicate of line %(at)d", at=first_line[key]))
            )
        elif name:
            first_line[key] = line
        programme = existing.get(key) if name else None
        if programme is not None:
            values = ProgrammeSettings.of(programme)
        else:
            values = ProgrammeSettings(name=name, timezone=default_zone)
        _apply(values_of, values, line, row_errors)
        if not row_errors:
            for name_, reason in settings_problems(values).items():
                column = COLUMN_OF.get(name_, name_)
                row_errors.append(RowError(line, column if column in COLUMNS else "", reason))
        errors.extend(row_errors)
        if not row_errors:
            found.append(ProgrammeRow(line, programme, values))
    errors.sort(key=lambda e: (e.line, COLUMNS.index(e.column) if e.column in COLUMNS else 99))
    return found, errors, ignored, rows


def _same(programme: Programme, values: ProgrammeSettings) -> bool:
    return ProgrammeSettings.of(programme) == values


def check_csv(
    data: bytes, settings: Settings, actor: str, *, dry_run: bool = True
) -> tuple[ProgrammeImportReport, list[ProgrammeRow]]:
    """Read, check and compare a file; save only when asked and clean (the caller commits).

    Each saved programme is audited by ``save_programme`` (``programme.import.create`` /
    ``programme.import.update``), and the whole import as ``programmes.import``.
    """
    found, errors, ignored, rows = read_csv(data, settings.timezone)
    report = ProgrammeImportReport(rows=rows, errors=errors, ignored_columns=ignored)
    write = not dry_run and not errors
    report.dry_run = not write
    for row in found:
        if row.programme is None:
            report.created += 1
        elif _same(row.programme, row.values):
            report.unchanged += 1
            continue
        else:
            report.updated += 1
        if write:
            action = "programme.import." + ("create" if row.programme is None else "update")
            save_programme(settings, row.programme, row.values, actor, action=action)
    if write:
        report.audit(actor)
    return report, found


def template_csv() -> str:
    """A header line and an example row, offered for download next to the upload form."""
    example = [
        "Friday fika",
        "matched",
        "",
        "fri",
        "15:00",
        "Europe/Stockholm",
        "3",
        "20",
        "weekly",
        "sv",
        "C0123ABCD",
        "",
        "",
        "yes",
    ]
    return ",".join(COLUMNS) + "\n" + ",".join(example) + "\n"
