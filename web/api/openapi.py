"""``/api/openapi.json``: the OpenAPI 3 description of every API route, built from the same
constants the handlers validate with, so the document and the code cannot drift apart quietly.
"""

from __future__ import annotations

from flask import jsonify

from core.people_import import EMAIL_PATTERN, LIMITS, TIME_PATTERN
from web.api import bp
from web.api.people import MAX_BATCH, MAX_LIMIT, MAX_OFFSET

JSON = "application/json"


def _error(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _text(limit: int, nullable: bool = False) -> dict:
    schema: dict = {"type": "string", "maxLength": limit}
    if nullable:
        schema["nullable"] = True
    return schema


PERSON_FIELDS = {
    "email": {"type": "string", "pattern": EMAIL_PATTERN, "maxLength": LIMITS["email"]},
    "name": _text(LIMITS["name"]),
    "department": _text(LIMITS["department"]),
    "office": {**_text(LIMITS["office"], True), "description": "null or empty: works remotely"},
    "timezone": {"type": "string", "maxLength": 64, "description": "IANA zone, e.g. Europe/Oslo"},
    "work_start": {"type": "string", "pattern": TIME_PATTERN, "description": "HH:MM"},
    "work_end": {"type": "string", "pattern": TIME_PATTERN, "description": "HH:MM"},
    "manager_email": {
        "type": "string",
        "pattern": EMAIL_PATTERN,
        "maxLength": LIMITS["email"],
        "nullable": True,
    },
}

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


def document() -> dict:
    """The OpenAPI 3.0 document."""
    person_input = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "department"],
        "properties": {
            **PERSON_FIELDS,
            "active": {"type": "boolean", "description": "taking part (new people: true)"},
        },
    }
    person = {
        "type": "object",
        "required": [*PERSON_FIELDS, "active", "status", "created_at", "updated_at"],
        "properties": {
            **PERSON_FIELDS,
            # Stored addresses may predate the API's stricter input pattern.
            "email": {"type": "string"},
            "manager_email": {"type": "string", "nullable": True},
            "active": {"type": "boolean"},
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
            "description": "People sync for HR systems. Send `Authorization: Bearer <token>`; "
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
                        _query("q", {"type": "string", "maxLength": 200}, "name, email or dept"),
                        _query("department", {"type": "string", "maxLength": 200}, "exact"),
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
                        "content": {JSON: {"schema": _ref("PersonInput")}},
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
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Person": person,
                "PersonInput": person_input,
                "PeopleBatch": {
                    "type": "object",
                    "required": ["people"],
                    "additionalProperties": False,
                    "properties": {
                        "people": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": MAX_BATCH,
                            "items": {
                                **person_input,
                                "required": ["email", "name", "department"],
                            },
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
