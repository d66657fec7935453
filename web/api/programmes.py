"""``/api/v1/programmes``: list, read, create, change and switch off programmes; add people.

The rules and the write path are the admin's (``core.programmes.settings_problems``,
``core.programme_changes``): what the programme form refuses, the API refuses, and every change
is audited in its own transaction. DELETE switches a programme off, as the admin does (nothing
is deleted: its rounds and history stay); drop-in rooms send their CANCELs.
"""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import date, time

from flask import g, jsonify, request
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.db import db
from core.i18n import using
from core.learning_teams import team_listing
from core.models import Person, Programme
from core.people_import import EMAIL_PATTERN, LIMITS, TIME_PATTERN
from core.programme_changes import add_members, refused_members, save_programme, switch_off
from core.programmes import ProgrammeSettings, name_taken, settings_problems
from web.api import bp
from web.config import current_settings
from web.errors import error_response

#: Most addresses one ``POST .../members`` may carry.
MAX_MEMBERS = 1000
#: Settings the API names otherwise than the model (the issue's contract: ``slack_channel``).
API_NAMES = {"slack_channel_id": "slack_channel"}
#: The fields a client sends and reads (``id`` is read only), as the model and the admin name them.
FIELDS = tuple(API_NAMES.get(f.name, f.name) for f in fields(ProgrammeSettings))
TEXT_FIELDS = ("name", "topic", "kind", "cadence", "timezone")
INT_FIELDS = ("duration_minutes", "lead_minutes", "group_size", "cooldown_rounds")
LIST_FIELDS = ("days", "departments", "offices")
#: Learning teams' frame: "YYYY-MM-DD", or null.
DATE_FIELDS = ("starts_on", "ends_on")
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def programme_json(programme: Programme) -> dict:
    """A programme as the API shows it."""
    values = ProgrammeSettings.of(programme)
    shown = {API_NAMES.get(f.name, f.name): getattr(values, f.name) for f in fields(values)}
    shown["local_time"] = programme.local_time.strftime("%H:%M")
    for name in DATE_FIELDS:
        shown[name] = shown[name].isoformat() if shown[name] else None
    return {"id": programme.id, **shown}


def _invalid(problems: dict[str, str], message: str = "nothing was saved"):
    response = jsonify(
        {
            "error": f"{len(problems)} invalid field(s); {message}",
            "status": 422,
            "errors": [{"field": k, "reason": v} for k, v in problems.items()],
        }
    )
    response.status_code = 422
    return response


def _body() -> dict | None:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else None


def _parse(body: dict, values: ProgrammeSettings) -> dict[str, str]:
    """Put the body's fields onto ``values``; the problems with their types (field -> why)."""
    problems: dict[str, str] = {}
    for name in sorted(set(body) - set(FIELDS)):
        problems[name] = "unknown field"
    for name in set(body) & set(FIELDS):
        value = body[name]
        if name in TEXT_FIELDS and not isinstance(value, str):
            problems[name] = "must be a string"
        elif name == "room_url":
            if value is not None and not isinstance(value, str):
                problems[name] = "must be a string or null"
            else:
                values.room_url = value or None  # as sent: the document's pattern is the rule
        elif name == "slack_channel":
            if value is not None and not isinstance(value, str):
                problems[name] = "must be a string or null"
            else:
                values.slack_channel_id = value or None
        elif name == "language":
            if value is not None and not isinstance(value, str):
                problems[name] = "must be a string or null"
            else:
                values.language = value  # checked with the other settings (settings_problems)
        elif name == "active":
            if not isinstance(value, bool):
                problems[name] = "must be true or false"
            else:
                values.active = value
        elif name == "local_time":
            if not isinstance(value, str) or not re.fullmatch(TIME_PATTERN, value):
                problems[name] = "must be HH:MM, 24-hour"
            else:
                values.local_time = time(int(value[:2]), int(value[3:]))
        elif name in DATE_FIELDS:
            if value is None:
                setattr(values, name, None)
            elif not isinstance(value, str) or not re.fullmatch(DATE_PATTERN, value):
                problems[name] = "must be a date, YYYY-MM-DD, or null"
            else:
                try:
                    setattr(values, name, date.fromisoformat(value))
                except ValueError:
                    problems[name] = "must be a date, YYYY-MM-DD, or null"
        elif name in INT_FIELDS:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                problems[name] = "must be a whole number"
            else:
                setattr(values, name, value)
        elif name in LIST_FIELDS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems[name] = "must be a list of strings"
            else:
                setattr(values, name, list(value))
        elif name in TEXT_FIELDS:
            setattr(values, name, value)
    return problems


def _check(body: dict | None, values: ProgrammeSettings, programme_id: int | None):
    """The checked settings, or the response refusing them."""
    if body is None:
        return None, error_response(400, "the body must be a JSON object")
    problems = _parse(body, values)
    with using("en"):  # API reasons are read by programs: English, whatever the client's locale
        checked = {API_NAMES.get(k, k): v for k, v in settings_problems(values).items()}
    problems |= {k: v for k, v in checked.items() if k not in problems}
    if problems:
        return None, _invalid(problems)
    if name_taken(values.name, programme_id):
        return None, error_response(409, "another programme already has this name")
    return values, None


def _programme(programme_id: int) -> Programme | None:
    return db.session.get(Programme, programme_id)


def _no_programme(programme_id: int):
    return error_response(404, f"no programme with the id {programme_id}")


@bp.get("/v1/programmes")
def list_programmes():
    """Every programme, oldest first."""
    rows = db.session.scalars(select(Programme).order_by(Programme.id))
    return jsonify({"programmes": [programme_json(p) for p in rows]})


@bp.post("/v1/programmes")
def create_programme():
    """A new programme; fields left out take the admin's defaults for a new one."""
    body = _body()
    defaults = ProgrammeSettings(name="", timezone=current_settings().timezone)
    if body is not None and "name" not in body:
        return _invalid({"name": "Give the programme a name."})
    values, refusal = _check(body, defaults, None)
    if refusal is not None:
        return refusal
    try:
        programme = save_programme(
            current_settings(), None, values, g.api_actor, action="api.programme.create"
        )
        db.session.commit()
    except IntegrityError:  # the same name, created by another request since the check
        db.session.rollback()
        return error_response(409, "another programme already has this name")
    response = jsonify(programme_json(programme))
    response.status_code = 201
    return response


@bp.route("/v1/programmes/<int:programme_id>", methods=["GET", "PUT", "DELETE"])
def programme_by_id(programme_id: int):
    """Read, change or switch off one programme.

    One rule for the three methods: with a rule per method, werkzeug answers an id past the
    ``int`` converter's bound with 405 (the other rules' methods) instead of 404.
    """
    programme = _programme(programme_id)
    if programme is None:
        return _no_programme(programme_id)
    if request.method == "PUT":
        return _put_programme(programme)
    if request.method == "DELETE":
        return _delete_programme(programme)
    return jsonify(programme_json(programme))


def _put_programme(programme: Programme):
    """Change a programme: the fields given replace the stored ones, the others stay."""
    values, refusal = _check(_body(), ProgrammeSettings.of(programme), programme.id)
    if refusal is not None:
        return refusal
    save_programme(
        current_settings(), programme, values, g.api_actor, action="api.programme.update"
    )
    db.session.commit()
    return jsonify(programme_json(programme))


def _delete_programme(programme: Programme):
    """Switch the programme off, as the admin does; nothing is deleted."""
    switch_off(current_settings(), programme, g.api_actor, "api.programme.switch_off")
    db.session.commit()
    return jsonify(programme_json(programme))


@bp.post("/v1/programmes/<int:programme_id>/members")
def add_programme_members(programme_id: int):
    """Add people by email, all or none: unknown addresses are listed and nothing changes."""
    programme = _programme(programme_id)
    if programme is None:
        return _no_programme(programme_id)
    body = _body()
    emails = body.get("emails") if body is not None else None
    if body is None or set(body) != {"emails"} or not isinstance(emails, list):
        return error_response(400, "expected {'emails': [...]} and nothing else")
    if not 1 <= len(emails) <= MAX_MEMBERS:
        return _invalid({"emails": f"from 1 to {MAX_MEMBERS} addresses"})
    malformed = [
        e
        for e in emails
        if not isinstance(e, str) or len(e) > LIMITS["email"] or not re.fullmatch(EMAIL_PATTERN, e)
    ]
    if malformed:
        return _invalid({"emails": f"not an email address: {malformed[0]!r}"})
    wanted = list(dict.fromkeys(e.strip().lower() for e in emails))
    found = {
        p.email.lower(): p
        for p in db.session.scalars(select(Person).where(func.lower(Person.email).in_(wanted)))
    }
    unknown = [e for e in wanted if e not in found]
    if unknown:
        response = jsonify(
            {
                "error": f"{len(unknown)} unknown address(es); nobody was added",
                "status": 422,
                "errors": [
                    {"field": "emails", "reason": f"no person with the email {e}"} for e in unknown
                ],  # fmt: skip
                "unknown": unknown,
            }
        )
        response.status_code = 422
        return response
    people = [found[e] for e in wanted]
    refused = refused_members(programme, people)
    if refused:
        response = jsonify(
            {
                "error": "the programme's department or office filters keep these people out; "
                "nobody was added",
                "status": 409,
                "refused": [p.email for p in refused],
            }
        )
        response.status_code = 409
        return response
    added = add_members(current_settings(), programme, people, g.api_actor, "api.programme.members")
    db.session.commit()
    new = {p.id for p in added}
    return jsonify(
        {
            "added": [p.email for p in people if p.id in new],
            "already": [p.email for p in people if p.id not in new],
        }
    )


@bp.get("/v1/programmes/<int:programme_id>/teams")
def programme_teams(programme_id: int):
    """A learning-team programme's teams with their members; 409 for another kind (a valid
    request about a programme whose kind has no teams: a conflict with its state, not a bad
    request)."""
    programme = _programme(programme_id)
    if programme is None:
        return _no_programme(programme_id)
    if not programme.is_learning_team:
        return error_response(
            409, f"programme {programme_id} is of kind {programme.kind}: it has no teams"
        )
    return jsonify(
        {
            "programme_id": programme.id,
            "topic": programme.topic,
            "cadence": programme.cadence,
            "starts_on": programme.starts_on.isoformat() if programme.starts_on else None,
            "ends_on": programme.ends_on.isoformat() if programme.ends_on else None,
            "teams": team_listing(programme),
        }
    )
