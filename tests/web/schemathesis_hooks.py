"""Schemathesis hooks (``SCHEMATHESIS_HOOKS``) for running it against Fika's API.

``/api/openapi.json`` states every rule about a single field that the server enforces, so
schemathesis checks those strictly. Three rules are between fields, which JSON Schema cannot
state and the document says in words: working hours end after they start, a manager is someone
else whom Fika knows, and a batch names each address once. A request breaking one of them is
well formed and still refused (422), which schemathesis would report as "valid data rejected".
So right before a request is sent, this hook makes every value that is valid on its own keep those
rules too: it swaps hours given in the wrong order, leaves out a manager, and renames a repeated
address; and addresses added to a programme name a person the live fixture made. It only
changes or removes values that are valid on their own, so a request that breaks the document
still breaks it. The rules themselves are tested in ``test_api_people.py``.
"""

from __future__ import annotations

import re

import schemathesis

from core.people_import import EMAIL_PATTERN, TIME_PATTERN

DEFAULT_START, DEFAULT_END = "09:00", "17:00"
KNOWN_EMAIL = "known@example.org"  # seeded by the ``live`` fixture of test_api_schemathesis.py
TEAMS_PROGRAMME = 2  # the live fixture's learning-team programme (after the default one)


def _valid(value: object, pattern: str) -> bool:
    return isinstance(value, str) and re.fullmatch(pattern, value) is not None


def keep_rules_between_fields(person: dict) -> None:
    """Change ``person`` (a body or a batch entry) in place so it keeps the three rules."""
    if _valid(person.get("manager_email"), EMAIL_PATTERN):
        del person["manager_email"]  # whether that person exists is not the document's to say
    start, end = person.get("work_start"), person.get("work_end")
    start_ok, end_ok = _valid(start, TIME_PATTERN), _valid(end, TIME_PATTERN)
    if start_ok and end_ok:
        if start == end:
            del person["work_start"], person["work_end"]
        elif start > end:
            person["work_start"], person["work_end"] = end, start
    elif start_ok and start >= DEFAULT_END and end in (None, ""):
        del person["work_start"]
    elif end_ok and end <= DEFAULT_START and start in (None, ""):
        del person["work_end"]


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    """Bodies of PUT /api/v1/people/{email} and POST /api/v1/people keep the rules.

    Right before the request, in every phase; schemathesis re-reads the case afterwards, so
    what it knows about the request (valid or not) is about what is sent.
    """
    if case.path.endswith("/teams") and isinstance(case.path_parameters, dict):
        # GET .../teams: an id valid on its own names the learning-team programme the live
        # fixture made, since whether a programme exists is not the document's to say.
        number = case.path_parameters.get("programme_id")
        if isinstance(number, int) and not isinstance(number, bool) and 1 <= number < 2**31:
            case.path_parameters["programme_id"] = TEAMS_PROGRAMME
        return
    body = case.body
    if not isinstance(body, dict):
        return
    if isinstance(body.get("emails"), list):
        # POST /api/v1/programmes/{id}/members: an address valid on its own names someone Fika
        # knows (the live fixture's), since whether a person exists is not the document's to say.
        body["emails"] = [
            KNOWN_EMAIL if _valid(e, EMAIL_PATTERN) and len(e) <= 254 else e for e in body["emails"]
        ]
        return
    if body.get("kind") == "learning_team":
        # A learning-team programme needs a topic, one day, 3-8 people and a frame whose end
        # is after its start: rules between fields (tested in test_learning_teams.py).
        del body["kind"]
    if case.method.upper() == "PUT":
        keep_rules_between_fields(body)
    elif case.method.upper() == "POST" and isinstance(body.get("people"), list):
        seen = set()
        for index, person in enumerate(body["people"]):
            if not isinstance(person, dict):
                continue
            keep_rules_between_fields(person)
            email = person.get("email")
            if _valid(email, EMAIL_PATTERN):
                if email.strip().lower() in seen:
                    person["email"] = f"repeated{index}@example.org"
                seen.add(person["email"].strip().lower())
