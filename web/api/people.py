"""``/api/v1/people``: list, read, upsert (one or many) and delete people, keyed by email."""

from __future__ import annotations

import hashlib

from flask import g, jsonify, request

from core import audit
from core.changes import erase
from core.db import db
from core.i18n import using
from core.people_import import (
    COLUMNS,
    PersonRecord,
    RowError,
    first_of_each_address,
    unknown_managers,
    validate_record,
)
from core.people_search import PeopleFilter, by_email, person_json, search
from core.people_upsert import apply_records
from core.text import text_problem
from web.api import bp
from web.config import current_settings
from web.errors import error_response
from web.input_rules import MAX_OFFSET, int_arg

MAX_LIMIT = 500
MAX_BATCH = 1000
FIELDS = frozenset(COLUMNS)


#: Longest search text (``q``, ``department``); the document says so too.
MAX_QUERY_TEXT = 200


def _text_arg(name: str) -> str:
    """A text query parameter: one line of text (``core.text``), at most 200 characters."""
    value = request.args.get(name, "")
    problem = text_problem(value)
    if problem is None and len(value) > MAX_QUERY_TEXT:
        problem = f"at most {MAX_QUERY_TEXT} characters"
    if problem is not None:
        raise ValueError(f"{name}: {problem}")
    return value.strip()


@bp.get("/v1/people")
def list_people():
    """One page of people, optionally searched (``q``) or of one ``department``."""
    # An empty value is not a number here: the document says integer, and clients build URLs.
    limit = int_arg("limit", 100, 1, MAX_LIMIT, blank_is_default=False)
    offset = int_arg("offset", 0, 0, MAX_OFFSET, blank_is_default=False)
    try:
        f = PeopleFilter(q=_text_arg("q"), department=_text_arg("department"))
    except ValueError as exc:
        return error_response(400, str(exc))
    people, total = search(f, limit, offset)
    return jsonify(
        {
            "people": [person_json(p) for p in people],
            "total": total,
            "limit": limit,
            "offset": offset,
        }
    )


@bp.get("/v1/people/<path:email>")
def get_person(email: str):
    """One person by email."""
    person = by_email(email)
    if person is None:
        return error_response(404, f"no person with the email {email!r}")
    return jsonify(person_json(person))


def _json_body():
    body = request.get_json(silent=True)
    if body is None:
        raise ValueError("the body must be JSON (Content-Type: application/json)")
    return body


def _invalid(errors: list[RowError], label: str):
    response = jsonify(
        {
            "error": f"{len(errors)} invalid field(s); nothing was saved",
            "status": 422,
            "errors": [{label: e.line, "field": e.column, "reason": e.reason} for e in errors],
        }
    )
    response.status_code = 422
    return response


def _validate(item, index: int) -> tuple[PersonRecord | None, list[RowError]]:
    if not isinstance(item, dict):
        return None, [RowError(index, "", "each person must be a JSON object")]
    unknown = sorted(set(item) - FIELDS)
    if unknown:
        return None, [RowError(index, unknown[0], "unknown field")]
    if item.get("active") is not None and not isinstance(item["active"], bool):
        # A CSV cell may say "yes"; JSON has true and false (the document says boolean).
        return None, [RowError(index, "active", "must be true, false or null")]
    with using("en"):  # API reasons are read by programs: English, whatever the client's locale
        return validate_record(item, index, current_settings().timezone)


@bp.put("/v1/people/<path:email>")
def put_person(email: str):
    """Create or update one person; 201 when new, 200 when updated."""
    try:
        body = _json_body()
    except ValueError as exc:
        return error_response(400, str(exc))
    if not isinstance(body, dict):
        return error_response(400, "the body must be a JSON object")
    item = dict(body)
    if "email" in item and isinstance(item["email"], str):
        if item["email"].strip().lower() != email.strip().lower():
            return _invalid([RowError(0, "email", "differs from the email in the URL")], "index")
    item["email"] = email
    record, errors = _validate(item, 0)
    if record is not None:
        errors = unknown_managers([record])
    if errors or record is None:
        return _invalid(errors, "index")
    created, updated, _ = apply_records([record], dry_run=False)
    audit.record(g.api_actor, "api.person.upsert", email=record.email, created=bool(created))
    db.session.commit()
    person = by_email(record.email)
    response = jsonify(person_json(person))
    response.status_code = 201 if created else 200
    return response


@bp.post("/v1/people")
def upsert_people():
    """Create or update up to 1000 people at once, all or nothing; counts of what changed."""
    try:
        body = _json_body()
    except ValueError as exc:
        return error_response(400, str(exc))
    items = body.get("people") if isinstance(body, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH or len(body) != 1:
        return error_response(
            400, f"expected {{'people': [...]}} with 1 to {MAX_BATCH} people, and nothing else"
        )
    errors, found = [], []
    for index, item in enumerate(items):
        record, problems = _validate(item, index)
        errors.extend(problems)
        if record is not None:
            found.append((index, record))
    records, duplicates = first_of_each_address(found, "index")
    errors = sorted(errors + duplicates, key=lambda e: e.line)
    errors.extend(unknown_managers(records))
    if errors:
        return _invalid(errors, "index")
    created, updated, unchanged = apply_records(records, dry_run=False)
    audit.record(
        g.api_actor, "api.people.upsert", created=created, updated=updated, unchanged=unchanged
    )
    db.session.commit()
    return jsonify({"created": created, "updated": updated, "unchanged": unchanged})


@bp.delete("/v1/people/<path:email>")
def delete_person(email: str):
    """Erase a person (``core.changes.erase``): upcoming breaks are updated or cancelled first."""
    person = by_email(email)
    if person is None:
        return error_response(404, f"no person with the email {email!r}")
    # The audit keeps that someone was erased, not who: only a digest of the address, which
    # answers "was this address erased?" for whoever already knows it.
    digest = hashlib.sha256(person.email.lower().encode()).hexdigest()
    audit.record(g.api_actor, "api.person.delete", person=person.id, email_sha256=digest)
    erase(current_settings(), person)  # commits, with the audit entry
    return "", 204
