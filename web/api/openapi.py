"""``/api/openapi.json``: the OpenAPI 3 description of every API route, built from the same
constants the handlers validate with, so the document and the code cannot drift apart quietly.

It says what the server enforces, as far as JSON Schema can: one line of text (``core.text``)
as a ``pattern``, ``minLength`` and a pattern for what may not be blank, the IANA zones as an
``enum``, ``nullable`` where null means "not given". Rules between fields (working hours in
order, a manager who exists and is someone else, one entry per address in a batch) are in the
descriptions; the server answers 422 when they are broken.
"""

from __future__ import annotations

from flask import jsonify

from core.enums import Cadence, ProgrammeKind
from core.i18n import LANGUAGES
from core.models import WEEKDAYS
from core.people_import import EMAIL_PATTERN, LIMITS, MAX_TOPICS, TIME_PATTERN, TOPIC_LENGTH
from core.programmes import (
    FILTER_NAME_MAX,
    MAX_FILTER_NAMES,
    NAME_MAX,
    RANGES,
    ROOM_URL_MAX,
    ROOM_URL_PATTERN,
    SLACK_CHANNEL_PATTERN,
    TOPIC_MAX,
)
from core.text import CONTROL_CLASS, FILLED_TEXT_PATTERN, PLAIN_TEXT_PATTERN
from core.zones import iana_zones
from web.api import bp
from web.api.people import MAX_BATCH, MAX_LIMIT, MAX_QUERY_TEXT
from web.api.programmes import DATE_FIELDS, DATE_PATTERN, MAX_MEMBERS
from web.input_rules import MAX_ID, MAX_OFFSET

JSON = "application/json"


def _error(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


ONE_LINE = "One line of text: no line breaks, tabs or other control characters."


def _text(limit: int, description: str, *, filled: bool = False) -> dict:
    """A free-text field: one line, at most ``limit`` characters; ``filled``: not blank."""
    schema = {
        "type": "string",
        "maxLength": limit,
        "pattern": FILLED_TEXT_PATTERN if filled else PLAIN_TEXT_PATTERN,
        "description": f"{description} {ONE_LINE}",
    }
    return {**schema, "minLength": 1} if filled else schema


def OR_EMPTY(pattern: str) -> str:  # noqa: N802 - reads as a pattern, like the ones it wraps
    """``pattern``, or the empty string (which the server reads as "not given")."""
    return f"^$|{pattern}"


PERSON_FIELDS = {
    "email": {"type": "string", "pattern": EMAIL_PATTERN, "maxLength": LIMITS["email"]},
    "name": _text(LIMITS["name"], "Not blank.", filled=True),
    "department": _text(LIMITS["department"], "Not blank.", filled=True),
    "office": {
        **_text(LIMITS["office"], "Null, empty or 'remote': works remotely."),
        "nullable": True,
    },
    "timezone": {
        "type": "string",
        "enum": [*sorted(iana_zones()), "", None],
        "nullable": True,
        "description": "An IANA zone, e.g. Europe/Oslo. Null, empty or absent: the organisation's.",
    },
    "work_start": {
        "type": "string",
        "pattern": OR_EMPTY(TIME_PATTERN),
        "nullable": True,
        "description": "HH:MM, 24-hour. Null, empty or absent: 09:00.",
    },
    "work_end": {
        "type": "string",
        "pattern": OR_EMPTY(TIME_PATTERN),
        "nullable": True,
        "description": "HH:MM, 24-hour, after work_start. Null, empty or absent: 17:00.",
    },
    "manager_email": {
        "type": "string",
        "pattern": OR_EMPTY(EMAIL_PATTERN),
        "maxLength": LIMITS["email"],
        "nullable": True,
        "description": "Someone else's address, of a person Fika knows or one in the same "
        "batch. Null, empty or absent: no manager.",
    },
    "language": {
        "type": "string",
        "enum": [*LANGUAGES, "", None],
        "nullable": True,
        "description": "The language Fika writes to them in. Null, empty or absent: no "
        "choice (a new person follows their browser, then the organisation's; an existing "
        "person keeps theirs). Anything else: 422 naming the field.",
    },
}

#: A text query parameter: one line, at most MAX_QUERY_TEXT characters (``web.api.people``).
QUERY_TEXT = {"type": "string", "maxLength": MAX_QUERY_TEXT, "pattern": PLAIN_TEXT_PATTERN}

UNAUTHORISED = {
    "401": _error("No credentials, or a bearer token that is wrong or revoked"),
    "403": _error("Signed in, but not an admin"),
}
EMAIL_PARAMETER = {
    "name": "email",
    "in": "path",
    "required": True,
    "schema": PERSON_FIELDS["email"],
}


#: One department or office name in a programme's filters: filled, one line, no comma.
FILTER_NAME_PATTERN = f"^[^{CONTROL_CLASS},]*[^\\s{CONTROL_CLASS},][^{CONTROL_CLASS},]*$"


def _filter_names(what: str) -> dict:
    return {
        "type": "array",
        "maxItems": MAX_FILTER_NAMES,
        "items": {"type": "string", "maxLength": FILTER_NAME_MAX, "pattern": FILTER_NAME_PATTERN},
        "description": f"{what} that may join; empty: all. Each name is one line of text, not "
        "blank, without commas.",
    }


def _range(name: str, description: str) -> dict:
    low, high, _ = RANGES[name]
    return {"type": "integer", "minimum": low, "maximum": high, "description": description}


#: What a client may set on a programme (``core.programmes.settings_problems`` enforces it).
PROGRAMME_FIELDS = {
    "name": _text(
        NAME_MAX, "Not blank; no other programme has it (in any case): 409.", filled=True
    ),
    "topic": _text(TOPIC_MAX, "What the programme is about, shown to people choosing."),
    "kind": {
        "type": "string",
        "enum": [k.value for k in ProgrammeKind],
        "description": "matched: people are put into groups each round; drop_in: one room "
        "anyone joins when they like, with a recurring invite per member; learning_team: "
        "teams formed once around `topic` (required) by the first round, of `group_size` 3 to "
        "8, meeting on the one day in `days` at `local_time` for `duration_minutes`, weekly "
        "or biweekly (`cadence`), from `starts_on` until `ends_on` (both required, "
        "`ends_on` after `starts_on`, at most 52 weeks apart).",
    },
    "room_url": {
        "type": "string",
        "maxLength": ROOM_URL_MAX,
        "pattern": OR_EMPTY(ROOM_URL_PATTERN),
        "nullable": True,
        "description": "A drop-in programme's room, an https link. Null or empty: Fika makes "
        "one up on first use (and keeps an existing one).",
    },
    "active": {
        "type": "boolean",
        "description": "On: rounds run and people can choose it. Off: no rounds; drop-in "
        "members get a CANCEL.",
    },
    "cadence": {
        "type": "string",
        "enum": [c.value for c in Cadence],
        "description": "Every week on `days`, or every other week.",
    },
    "days": {
        "type": "array",
        "minItems": 1,
        "maxItems": len(WEEKDAYS),
        "uniqueItems": True,
        "items": {"type": "string", "enum": list(WEEKDAYS)},
        "description": "Weekdays with a break.",
    },
    "local_time": {
        "type": "string",
        "pattern": TIME_PATTERN,
        "description": "When the break starts, HH:MM, 24-hour, in `timezone`.",
    },
    "timezone": {
        "type": "string",
        "enum": sorted(iana_zones()),
        "description": "The programme's IANA zone, e.g. Europe/Oslo.",
    },
    "duration_minutes": _range("duration_minutes", "Break length in minutes."),
    "lead_minutes": _range(
        "lead_minutes", "Minutes before the break that groups are formed and invites sent."
    ),
    "group_size": _range("group_size", "People per group."),
    "cooldown_rounds": _range("cooldown_rounds", "Rounds before two people may meet again."),
    "departments": _filter_names("Departments"),
    "offices": _filter_names("Offices ('remote': people without a home office)"),
    "slack_channel": {
        "type": "string",
        "pattern": OR_EMPTY(SLACK_CHANNEL_PATTERN),
        "nullable": True,
        "description": "The id of the Slack channel whose members take part (e.g. C0123ABCD); "
        "Fika syncs them on a schedule and on join/leave events. Null or empty: not linked.",
    },
    "language": {
        "type": "string",
        "enum": [*LANGUAGES, None],
        "nullable": True,
        "description": "The language of the programme's shared messages (a Slack or Teams "
        "channel post). Null: the organisation's (FIKA_LANGUAGE). Anything else: 422 naming "
        "the field.",
    },
    "starts_on": {
        "type": "string",
        "format": "date",
        "pattern": DATE_PATTERN,
        "nullable": True,
        "description": "Learning teams: the date the teams start (their first meeting is the "
        "first meeting day on or after it). Other kinds: ignored.",
    },
    "ends_on": {
        "type": "string",
        "format": "date",
        "pattern": DATE_PATTERN,
        "nullable": True,
        "description": "Learning teams: the deadline, after `starts_on`; the teams' recurring "
        "invite ends on it (RRULE UNTIL). Other kinds: ignored.",
    },
}
PROGRAMME_ID_PARAMETER = {
    "name": "programme_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}


def _json(schema: str) -> dict:
    return {JSON: {"schema": _ref(schema)}}


def programme_paths() -> dict:
    """The programme routes (``web.api.programmes``)."""
    no_programme = _error("No such programme")
    return {
        "/api/v1/programmes": {
            "get": {
                "operationId": "listProgrammes",
                "summary": "Every programme, oldest first",
                "responses": {
                    "200": {"description": "The programmes", "content": _json("ProgrammeList")},
                    **UNAUTHORISED,
                },
            },
            "post": {
                "operationId": "createProgramme",
                "summary": "Create a programme; fields left out take the admin's defaults",
                "requestBody": {"required": True, "content": _json("ProgrammeInput")},
                "responses": {
                    "201": {"description": "Created", "content": _json("Programme")},
                    "400": _error("Not a JSON object"),
                    "409": _error("Another programme has this name"),
                    "422": _error("Invalid fields; nothing was saved"),
                    **UNAUTHORISED,
                },
            },
        },
        "/api/v1/programmes/{programme_id}": {
            "parameters": [PROGRAMME_ID_PARAMETER],
            "get": {
                "operationId": "getProgramme",
                "summary": "One programme",
                "responses": {
                    "200": {"description": "The programme", "content": _json("Programme")},
                    "404": no_programme,
                    **UNAUTHORISED,
                },
            },
            "put": {
                "operationId": "putProgramme",
                "summary": "Change a programme: the fields given replace the stored ones",
                "requestBody": {"required": True, "content": _json("ProgrammeUpdate")},
                "responses": {
                    "200": {"description": "Changed", "content": _json("Programme")},
                    "400": _error("Not a JSON object"),
                    "404": no_programme,
                    "409": _error("Another programme has this name"),
                    "422": _error("Invalid fields; nothing was saved"),
                    **UNAUTHORISED,
                },
            },
            "delete": {
                "operationId": "switchOffProgramme",
                "summary": "Switch a programme off (active: false), as the admin does; nothing "
                "is deleted. Drop-in members get a CANCEL.",
                "responses": {
                    "200": {"description": "Switched off", "content": _json("Programme")},
                    "404": no_programme,
                    **UNAUTHORISED,
                },
            },
        },
        "/api/v1/programmes/{programme_id}/teams": {
            "parameters": [PROGRAMME_ID_PARAMETER],
            "get": {
                "operationId": "listProgrammeTeams",
                "summary": "A learning-team programme's teams, each with its members' emails, "
                "who can share the topic, its first meeting and its end",
                "responses": {
                    "200": {"description": "The teams", "content": _json("TeamList")},
                    "404": no_programme,
                    "409": _error("The programme is not of kind learning_team: it has no teams"),
                    **UNAUTHORISED,
                },
            },
        },
        "/api/v1/programmes/{programme_id}/members": {
            "parameters": [PROGRAMME_ID_PARAMETER],
            "post": {
                "operationId": "addProgrammeMembers",
                "summary": "Add people by email, all or none; a drop-in room invites them",
                "requestBody": {"required": True, "content": _json("MemberEmails")},
                "responses": {
                    "200": {"description": "Who was added", "content": _json("MembersAdded")},
                    "400": _error("Not {emails: [...]}"),
                    "404": no_programme,
                    "409": _error(
                        "The programme's department or office filters keep some out (listed "
                        "in `refused`); nobody was added"
                    ),
                    "422": _error(
                        "Addresses Fika does not know (listed in `unknown`) or malformed; "
                        "nobody was added"
                    ),
                    **UNAUTHORISED,
                },
            },
        },
    }


def programme_schemas() -> dict:
    """The programme routes' schemas."""
    shown = {
        "id": {"type": "integer"},
        **{k: {"type": "string"} for k in ("name", "topic", "kind", "cadence", "timezone")},
        "room_url": {"type": "string", "nullable": True},
        "slack_channel": {"type": "string", "nullable": True},
        "language": {"type": "string", "nullable": True},
        **{k: {"type": "string", "format": "date", "nullable": True} for k in DATE_FIELDS},
        "active": {"type": "boolean"},
        "local_time": {"type": "string", "pattern": TIME_PATTERN},
        **{k: {"type": "integer"} for k in RANGES},
        **{
            k: {"type": "array", "items": {"type": "string"}}
            for k in ("days", "departments", "offices")
        },
    }
    emails = {"type": "array", "items": {"type": "string"}}
    return {
        "Programme": {"type": "object", "required": list(shown), "properties": shown},
        "TeamList": {
            "type": "object",
            "required": ["programme_id", "topic", "cadence", "starts_on", "ends_on", "teams"],
            "properties": {
                "programme_id": {"type": "integer"},
                "topic": {"type": "string"},
                "cadence": {"type": "string"},
                "starts_on": {"type": "string", "format": "date", "nullable": True},
                "ends_on": {"type": "string", "format": "date", "nullable": True},
                "teams": {"type": "array", "items": _ref("Team")},
            },
        },
        "Team": {
            "type": "object",
            "required": [
                "id",
                "uid",
                "start",
                "end",
                "ends_on",
                "video_url",
                "sequence",
                "emails",
                "members",
            ],  # fmt: skip
            "properties": {
                "id": {"type": "integer"},
                "uid": {"type": "string", "description": "The iCalendar UID of its series."},
                "start": {
                    "type": "string",
                    "format": "date-time",
                    "description": "Its first meeting (UTC).",
                },
                "end": {"type": "string", "format": "date-time"},
                "ends_on": {"type": "string", "format": "date", "nullable": True},
                "video_url": {"type": "string"},
                "sequence": {"type": "integer"},
                "emails": {"type": "array", "items": {"type": "string"}},
                "members": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["email", "name", "department", "sharer", "learner"],
                        "properties": {
                            "email": {"type": "string"},
                            "name": {"type": "string"},
                            "department": {"type": "string"},
                            "sharer": {
                                "type": "boolean",
                                "description": "Their share_topics hold the topic.",
                            },
                            "learner": {
                                "type": "boolean",
                                "description": "Their learn_topics hold the topic.",
                            },
                        },
                    },
                },
            },
        },
        "ProgrammeList": {
            "type": "object",
            "required": ["programmes"],
            "properties": {"programmes": {"type": "array", "items": _ref("Programme")}},
        },
        "ProgrammeInput": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": PROGRAMME_FIELDS,
            "description": "Left out: weekdays, weekly, 10:00 in the organisation's zone, 15 "
            "minutes, groups of 2, 60 minutes' lead, 10 rounds' cooldown, matched, on, open "
            "to all.",
        },
        "ProgrammeUpdate": {
            "type": "object",
            "additionalProperties": False,
            "properties": PROGRAMME_FIELDS,
            "description": "Fields left out keep their value.",
        },
        "MemberEmails": {
            "type": "object",
            "additionalProperties": False,
            "required": ["emails"],
            "properties": {
                "emails": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": MAX_MEMBERS,
                    "items": {
                        "type": "string",
                        "pattern": EMAIL_PATTERN,
                        "maxLength": LIMITS["email"],
                    },
                    "description": "Addresses of people Fika knows (any case; repeats count once).",
                }
            },
        },
        "MembersAdded": {
            "type": "object",
            "required": ["added", "already"],
            "properties": {"added": emails, "already": emails},
        },
    }


def _topic_list(what: str) -> dict:
    return {
        "type": "array",
        "nullable": True,
        "maxItems": MAX_TOPICS,
        "items": {
            "type": "string",
            "maxLength": TOPIC_LENGTH,
            "pattern": f"^[^{CONTROL_CLASS},;]*$",
        },
        "description": f"{what}: at most {MAX_TOPICS} topics, each one line of text without "
        "commas or semicolons (blank ones are dropped, repeats in any case kept once). Null or "
        "absent: left as they are; []: none. In a CSV file: one cell, topics separated by `;`.",
    }


def document() -> dict:
    """The OpenAPI 3.0 document."""
    fields = {
        **PERSON_FIELDS,
        "learn_topics": _topic_list("What they want to learn (learning teams' learners)"),
        "share_topics": _topic_list("What they can share (learning teams' sharers)"),
        "active": {
            "type": "boolean",
            "nullable": True,
            "description": "Taking part. Null or absent: new people take part, others stay as "
            "they are.",
        },
    }
    person_input = {
        "type": "object",
        "additionalProperties": False,
        "required": ["email", "name", "department"],
        "properties": fields,
    }
    person_update = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "department"],
        "properties": {k: v for k, v in fields.items() if k != "email"},
        "description": "The person's address is the one in the path. A body that repeats it as "
        "`email` must give the same address (in any case); a different one is refused with 422.",
    }
    person = {
        "type": "object",
        "required": [
            *PERSON_FIELDS,
            "active",
            "learn_topics",
            "share_topics",
            "status",
            "created_at",
            "updated_at",
        ],
        "properties": {
            # What is stored may predate today's input rules: plain types, no patterns.
            **{k: {"type": "string"} for k in PERSON_FIELDS},
            "office": {"type": "string", "nullable": True},
            "manager_email": {"type": "string", "nullable": True},
            "language": {"type": "string", "nullable": True},
            "active": {"type": "boolean"},
            "learn_topics": {"type": "array", "items": {"type": "string"}},
            "share_topics": {"type": "array", "items": {"type": "string"}},
            "status": {"type": "string", "enum": ["active", "paused", "inactive"]},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Fika API",
            "version": "1",
            "description": "People and programmes, for HR and learning platforms. Send "
            "`Authorization: Bearer <token>`; "
            "admins create tokens in the admin or with `fika admin token create --name NAME`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {"description": "OpenAPI 3 document", "content": {JSON: {}}}
                    },
                }
            },
            "/api/v1/people": {
                "get": {
                    "operationId": "listPeople",
                    "summary": "People, by name, one page at a time",
                    "parameters": [
                        _query("q", QUERY_TEXT, "part of a name, email or department"),
                        _query("department", QUERY_TEXT, "exactly this department"),
                        _query("limit", _int(1, MAX_LIMIT, 100), "page size"),
                        _query("offset", _int(0, MAX_OFFSET, 0), "rows to skip"),
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of people",
                            "content": {JSON: {"schema": _ref("PeoplePage")}},
                        },
                        "400": _error("A bad query parameter"),
                        **UNAUTHORISED,
                    },
                },
                "post": {
                    "operationId": "upsertPeople",
                    "summary": f"Create or update up to {MAX_BATCH} people by email, all or none",
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": _ref("PeopleBatch")}},
                    },
                    "responses": {
                        "200": {
                            "description": "What changed",
                            "content": {JSON: {"schema": _ref("UpsertCounts")}},
                        },
                        "400": _error("Not JSON, or not {people: [...]}"),
                        "422": _error("Invalid people; nothing was saved"),
                        **UNAUTHORISED,
                    },
                },
            },
            "/api/v1/people/{email}": {
                "parameters": [EMAIL_PARAMETER],
                "get": {
                    "operationId": "getPerson",
                    "summary": "One person",
                    "responses": {
                        "200": {"description": "The person", "content": _person()},
                        "404": _error("No such person"),
                        **UNAUTHORISED,
                    },
                },
                "put": {
                    "operationId": "putPerson",
                    "summary": "Create or update one person",
                    "requestBody": {
                        "required": True,
                        "content": {JSON: {"schema": _ref("PersonUpdate")}},
                    },
                    "responses": {
                        "200": {"description": "Updated", "content": _person()},
                        "201": {"description": "Created", "content": _person()},
                        "400": _error("Not a JSON object"),
                        "422": _error("Invalid fields; nothing was saved"),
                        **UNAUTHORISED,
                    },
                },
                "delete": {
                    "operationId": "deletePerson",
                    "summary": "Erase a person; their upcoming breaks are updated or cancelled",
                    "responses": {
                        "204": {"description": "Erased"},
                        "404": _error("No such person"),
                        **UNAUTHORISED,
                    },
                },
            },
            **programme_paths(),
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Person": person,
                "PersonInput": person_input,
                "PersonUpdate": person_update,
                "PeopleBatch": {
                    "type": "object",
                    "required": ["people"],
                    "additionalProperties": False,
                    "properties": {
                        "people": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_BATCH,
                            "items": _ref("PersonInput"),
                            "description": "Each address at most once.",
                        }
                    },
                },
                "PeoplePage": {
                    "type": "object",
                    "required": ["people", "total", "limit", "offset"],
                    "properties": {
                        "people": {"type": "array", "items": _ref("Person")},
                        "total": {"type": "integer", "minimum": 0},
                        "limit": {"type": "integer"},
                        "offset": {"type": "integer"},
                    },
                },
                "UpsertCounts": {
                    "type": "object",
                    "required": ["created", "updated", "unchanged"],
                    "properties": {
                        k: {"type": "integer", "minimum": 0}
                        for k in ("created", "updated", "unchanged")
                    },
                },
                **programme_schemas(),
                "Error": {
                    "type": "object",
                    "required": ["error", "status"],
                    "properties": {
                        "error": {"type": "string"},
                        "status": {"type": "integer"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["field", "reason"],
                                "properties": {
                                    "index": {"type": "integer"},
                                    "field": {"type": "string"},
                                    "reason": {"type": "string"},
                                },
                            },
                        },
                    },
                },
            },
        },
    }


def _person() -> dict:
    return {JSON: {"schema": _ref("Person")}}


def _query(name: str, schema: dict, description: str) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _int(low: int, high: int, default: int) -> dict:
    return {"type": "integer", "minimum": low, "maximum": high, "default": default}


@bp.get("/openapi.json")
def openapi():
    """The document, public so tools can read it before they have a token."""
    return jsonify(document())
