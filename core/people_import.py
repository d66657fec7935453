"""People from a CSV file or the JSON API: parse, validate every row, then upsert by email.

Both the admin upload and ``fika import`` go through :func:`check_csv` (read, validate and
compare; it writes through :func:`core.people_upsert.apply_records` only when asked and clean; the
caller commits), and the API validates each person with :func:`validate_record`. An import is
all or nothing: a file with any bad row writes nothing, and every bad row is reported with its
line, column and reason so the file can be fixed in one go.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import time
from typing import ClassVar

from core import audit
from core.i18n import LANGUAGES, ngettext
from core.i18n import gettext as _
from core.people_upsert import PersonRecord, apply_records, ids_by_email
from core.text import text_problem
from core.zones import is_zone

#: The columns a file may have, in the order a template shows them.
COLUMNS = (
    "email",
    "name",
    "department",
    "office",
    "timezone",
    "work_start",
    "work_end",
    "manager_email",
    "active",
    "language",
    "learn_topics",
    "share_topics",
)
#: What a file may also name: ``topics``, the older name of ``learn_topics``.
LEGACY_COLUMNS = {"topics": "learn_topics"}
#: Topics per person, and characters per topic (as the preferences page allows).
MAX_TOPICS, TOPIC_LENGTH = 10, 60
#: In a file, a cell lists topics separated by semicolons (commas separate cells).
TOPIC_SEPARATOR = ";"
REQUIRED = ("email", "name", "department")
#: Deliberately simple: an address with one @ and a dot in the domain; the mail server decides.
#: No slash or backslash either, so an address is always one segment of an API URL, and no
#: control character of the one text rule (core.text), so the document states the same rule.
_CONTROLS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
_ATOM = rf"[^@\s,;<>\"/\\{_CONTROLS}.]+"
EMAIL_PATTERN = rf"^[^@\s,;<>\"/\\{_CONTROLS}]+@{_ATOM}(\.{_ATOM})+$"
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
LIMITS = {"email": 254, "name": 200, "department": 200, "office": 200, "timezone": 64}
TRUE, FALSE = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


@dataclass(frozen=True)
class RowError:
    """One problem: the file line (1 is the header), the column, and what to do about it."""

    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        if self.column:
            return _(
                "line %(line)d, column %(column)s: %(reason)s",
                line=self.line,
                column=self.column,
                reason=self.reason,
            )
        return _("line %(line)d: %(reason)s", line=self.line, reason=self.reason)


@dataclass
class ImportReport:
    """What an import found (and, unless a dry run, did)."""

    #: The audit log's action for the whole import.
    AUDIT_ACTION: ClassVar[str] = "people.import"

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    dry_run: bool = True

    @property
    def ok(self) -> bool:
        """True when every row is valid (an import with errors writes nothing)."""
        return not self.errors

    def summary(self) -> str:
        """One line for the CLI and the admin page."""
        counts = {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": len(self.errors),
        }
        if self.dry_run:
            return ngettext(
                "%(num)d row: would create %(created)d, would update %(updated)d, "
                "unchanged %(unchanged)d, errors %(errors)d",
                "%(num)d rows: would create %(created)d, would update %(updated)d, "
                "unchanged %(unchanged)d, errors %(errors)d",
                self.rows,
                **counts,
            )
        return ngettext(
            "%(num)d row: created %(created)d, updated %(updated)d, unchanged %(unchanged)d, "
            "errors %(errors)d",
            "%(num)d rows: created %(created)d, updated %(updated)d, unchanged %(unchanged)d, "
            "errors %(errors)d",
            self.rows,
            **counts,
        )

    def audit(self, actor: str, **details: object) -> None:
        """Record this import in the audit log (in the caller's transaction), whoever ran it."""
        audit.record(
            actor,
            self.AUDIT_ACTION,
            **details,
            rows=self.rows,
            created=self.created,
            updated=self.updated,
            unchanged=self.unchanged,
        )


def _text(raw: Mapping, column: str, line: int, errors: list[RowError]) -> str:
    value = raw.get(column)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.append(RowError(line, column, _("must be text")))
        return ""
    # The rule holds for the text as sent, as on the forms: a trailing tab or line break is
    # refused too, not stripped away (str.strip() would take NEL and U+2028 with it).
    problem = text_problem(value)
    if problem is not None:
        errors.append(RowError(line, column, problem))
        return ""
    value = value.strip()
    limit = LIMITS.get(column)
    if limit and len(value) > limit:
        errors.append(RowError(line, column, _("longer than %(limit)d characters", limit=limit)))
    return value


def _time(raw: Mapping, column: str, default: time, line: int, errors: list[RowError]) -> time:
    value = _text(raw, column, line, errors)
    if not value:
        return default
    if not re.fullmatch(TIME_PATTERN, value):
        errors.append(
            RowError(line, column, _("%(value)s is not a time (HH:MM, 24-hour)", value=repr(value)))
        )
        return default
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _topics(
    raw: Mapping, column: str, line: int, errors: list[RowError], *, from_csv: bool
) -> tuple[str, ...] | None:
    """A person's topics: a list of strings (API) or a ``;``-separated cell (CSV). None when
    absent, null or an empty cell: the stored topics stay as they are."""
    value = raw.get(column)
    if value is None or value == "":
        return None
    if from_csv and isinstance(value, str):
        items = value.split(TOPIC_SEPARATOR)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = value
        if len(items) > MAX_TOPICS:  # blank ones count too, as the document's maxItems says
            errors.append(RowError(line, column, f"at most {MAX_TOPICS} topics"))
            return None
    else:
        errors.append(RowError(line, column, "must be a list of topics (strings)"))
        return None
    seen: dict[str, str] = {}
    for item in items:
        problem = text_problem(item)
        topic = " ".join(item.split())
        if problem is not None:
            errors.append(RowError(line, column, f"a topic {problem}"))
            return None
        if "," in topic or TOPIC_SEPARATOR in topic:
            errors.append(RowError(line, column, f"a topic has no comma or semicolon: {topic!r}"))
            return None
        if len(item) > TOPIC_LENGTH:
            errors.append(RowError(line, column, f"a topic has at most {TOPIC_LENGTH} characters"))
            return None
        if topic:
            seen.setdefault(topic.casefold(), topic)
    if len(seen) > MAX_TOPICS:
        errors.append(RowError(line, column, f"at most {MAX_TOPICS} topics"))
        return None
    return tuple(seen.values())


def validate_record(
    raw: Mapping, line: int, default_zone: str, *, from_csv: bool = False
) -> tuple[PersonRecord | None, list[RowError]]:
    """Check one person (a CSV row or an API object); the record, or None and the errors."""
    errors: list[RowError] = []
    values = {c: _text(raw, c, line, errors) for c in ("email", "name", "department", "office")}
    for column in REQUIRED:
        if not values[column] and not any(e.column == column for e in errors):
            errors.append(RowError(line, column, _("%(column)s is missing", column=column)))
    email = values["email"].lower()
    if email and not re.fullmatch(EMAIL_PATTERN, email):
        errors.append(
            RowError(
                line,
                "email",
                _("%(value)s is not an email address", value=repr(values["email"])),
            )
        )
    zone = _text(raw, "timezone", line, errors) or default_zone
    if not is_zone(zone) and not any(e.column == "timezone" for e in errors):
        errors.append(
            RowError(
                line,
                "timezone",
                _("unknown time zone %(zone)s (use e.g. Europe/Berlin)", zone=repr(zone)),
            )
        )
    start = _time(raw, "work_start", time(9), line, errors)
    end = _time(raw, "work_end", time(17), line, errors)
    if start >= end and not any(e.column.startswith("work_") for e in errors):
        errors.append(RowError(line, "work_end", _("must be after work_start")))
    manager = _text(raw, "manager_email", line, errors).lower() or None
    if manager and not re.fullmatch(EMAIL_PATTERN, manager):
        errors.append(
            RowError(
                line,
                "manager_email",
                _("%(value)s is not an email address", value=repr(manager)),
            )
        )
    elif manager and manager == email:
        errors.append(RowError(line, "manager_email", _("a person cannot be their own manager")))
    active = _active(raw.get("active"), line, errors)
    language = _language(raw, line, errors)
    learn_column = next((c for c, n in LEGACY_COLUMNS.items() if c in raw), "learn_topics")
    if "learn_topics" in raw:
        learn_column = "learn_topics"
    learn = _topics(raw, learn_column, line, errors, from_csv=from_csv)
    share = _topics(raw, "share_topics", line, errors, from_csv=from_csv)
    if errors:
        return None, errors
    office = values["office"]
    record = PersonRecord(
        line=line,
        email=email,
        name=values["name"],
        department=values["department"],
        office=None if not office or office.casefold() == "remote" else office,
        timezone=zone,
        work_start=start,
        work_end=end,
        manager_email=manager,
        active=active,
        language=language,
        learn_topics=learn,
        share_topics=share,
    )
    return record, []


def _active(value, line: int, errors: list[RowError]) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if not text:
        return None
    if text in TRUE | FALSE:
        return text in TRUE
    errors.append(RowError(line, "active", _("%(value)s is not yes or no", value=repr(value))))
    return None


def _language(raw: Mapping, line: int, errors: list[RowError]) -> str | None:
    """A language Fika speaks (``core.i18n.LANGUAGES``); empty, null or absent: no choice."""
    value = raw.get("language")
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(RowError(line, "language", _("must be text")))
        return None
    code = value.strip().lower()
    if not code:
        return None
    if code not in LANGUAGES:
        errors.append(
            RowError(
                line,
                "language",
                _(
                    "unknown language %(value)s; use one of %(codes)s, or leave it empty",
                    value=repr(value.strip()),
                    codes=", ".join(LANGUAGES),
                ),
            )
        )
        return None
    return code


def decode(data: bytes) -> tuple[str | None, RowError | None]:
    """The file as text (UTF-8, with or without BOM), or an error naming the first bad byte."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        line_start = before.rfind(b"\n") + 1
        prefix = data[line_start : exc.start].decode("utf-8", errors="replace")
        header = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
        delimiter = _delimiter(header)
        names = [h.strip().lower() for h in header.split(delimiter)]
        index = prefix.count(delimiter)
        column = names[index] if line > 1 and index < len(names) else ""
        byte = data[exc.start]
        return None, RowError(
            line,
            column,
            _(
                "not UTF-8 text (byte 0x%(byte)s); save the file as CSV UTF-8 and try again",
                byte=f"{byte:02X}",
            ),
        )


def _delimiter(header: str) -> str:
    """Comma, or semicolon for spreadsheets set up for a decimal comma."""
    return ";" if header.count(";") > header.count(",") else ","


def read_csv(
    data: bytes, default_zone: str
) -> tuple[list[PersonRecord], list[RowError], list[str], int]:
    """Validate a whole file: (records, errors, ignored columns, data rows), nothing written.

    Also catches what only the whole file shows: duplicate emails and managers who are neither
    in the file nor already known.
    """
    text, problem = decode(data)
    if problem is not None:
        return [], [problem], [], 0
    assert text is not None
    if not text.strip():
        empty = _("the file is empty; the first line names the columns")
        return [], [RowError(1, "", empty)], [], 0
    _allow_cells_as_long_as(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n")[0]))
    try:
        return _read_rows(reader, default_zone)
    except csv.Error as exc:  # the reader's own complaint: where it stopped, and why
        unreadable = _("not readable as CSV (%(reason)s)", reason=exc)
        return [], [RowError(reader.line_num, "", unreadable)], [], 0


def records_by_line(
    reader, header: list[str], errors: list[RowError]
) -> Iterator[tuple[int, dict[str, str] | None]]:
    """Each non-blank record after the header, with the line it starts on and its cells by column.

    A quoted cell may span lines, so a record is reported at the line it starts on. A record
    with more cells than the header has columns gets its error in ``errors`` and comes as None.
    """
    ended = reader.line_num  # the line the previous record ended on
    for cells in reader:
        line, ended = ended + 1, reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            problem = _(
                "%(cells)d cells but %(columns)d columns", cells=len(cells), columns=len(header)
            )
            errors.append(RowError(line, "", problem))
            yield line, None
            continue
        yield line, dict(zip(header, cells, strict=False))


def _read_rows(reader, default_zone: str):
    header = [h.strip().lower() for h in next(reader)]
    missing = _("required column is missing")
    errors = [RowError(1, c, missing) for c in REQUIRED if c not in header]
    ignored = [h for h in header if h and h not in COLUMNS and h not in LEGACY_COLUMNS]
    if errors:
        return [], errors, ignored, 0
    found: list[tuple[int, PersonRecord]] = []
    rows = 0
    for line, raw in records_by_line(reader, header, errors):
        rows += 1
        if raw is None:
            continue
        record, problems = validate_record(raw, line, default_zone, from_csv=True)
        errors.extend(problems)
        if record is not None:
            found.append((line, record))
    records, duplicates = first_of_each_address(found, "line")
    errors.extend(duplicates)
    errors.extend(unknown_managers(records))
    errors.sort(key=lambda e: (e.line, COLUMNS.index(e.column) if e.column in COLUMNS else 99))
    return records, errors, ignored, rows


def first_of_each_address(
    found: Iterable[tuple[int, PersonRecord]], where: str
) -> tuple[list[PersonRecord], list[RowError]]:
    """The first record of each address; a later one is an error naming where the first was
    (``where``: "line" in a file, "index" in an API batch)."""
    first: dict[str, int] = {}
    records, errors = [], []
    for at, record in found:
        if record.email in first:
            if where == "line":
                reason = _("duplicate of line %(at)d", at=first[record.email])
            else:
                reason = _("duplicate of index %(at)d", at=first[record.email])
            errors.append(RowError(at, "email", reason))
            continue
        first[record.email] = at
        records.append(record)
    return records, errors


#: csv.field_size_limit is one setting for the whole process: raised under this lock, never lowered.
_FIELD_LIMIT = threading.Lock()


def _allow_cells_as_long_as(text: str) -> None:
    """Let the csv module read a cell as long as the whole file.

    By default it stops at a cell of 131,072 characters with its own error, which ended an
    import with a traceback. The file is in memory already, so that limit protects nothing
    here; with it out of the way, a huge cell is reported like any other that is too long
    ("line 2, column name: longer than 200 characters"). Two imports at once both keep the
    limit they need, because it only ever goes up.
    """
    with _FIELD_LIMIT:
        if csv.field_size_limit() < len(text):
            csv.field_size_limit(len(text))


def unknown_managers(records: list[PersonRecord]) -> list[RowError]:
    in_file = {r.email for r in records}
    wanted = {r.manager_email for r in records if r.manager_email} - in_file
    known = ids_by_email(wanted)
    return [
        RowError(
            r.line,
            "manager_email",
            _("no one with the email %(email)s", email=repr(r.manager_email)),
        )
        for r in records
        if r.manager_email and r.manager_email not in in_file and r.manager_email not in known
    ]


def check_csv(
    data: bytes,
    default_zone: str,
    *,
    dry_run: bool = True,
    progress: Callable[[int], None] | None = None,
) -> tuple[ImportReport, list[PersonRecord]]:
    """Read, validate and compare a file with the database; write only when asked and clean.

    Returns the report and the valid records. Writing happens only when ``dry_run`` is False and
    there are no errors; the caller then commits.
    """
    records, errors, ignored, rows = read_csv(data, default_zone)
    report = ImportReport(rows=rows, errors=errors, ignored_columns=ignored, dry_run=dry_run)
    write = not dry_run and not errors
    report.dry_run = not write
    report.created, report.updated, report.unchanged = apply_records(
        records, dry_run=not write, progress=progress
    )
    return report, records


def template_csv() -> str:
    """A header line and an example row, offered for download next to the upload form."""
    example = [
        "ada@example.org",
        "Ada Lovelace",
        "Research",
        "Stockholm",
        "Europe/Stockholm",
        "09:00",
        "17:00",
        "",
        "yes",
        "sv",
        "Python;Statistics",
        "Mathematics",
    ]
    return ",".join(COLUMNS) + "\n" + ",".join(example) + "\n"
