"""Outbox payloads: a message survives the JSON round trip; an erased person can be forgotten."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime

import pytest

from integrations.payload import (
    FORMER,
    forget,
    invite_to_dict,
    message_from_dict,
    message_to_dict,
)
from pairing.model import Mode
from tests.integrations.builders import ANA, BEN, make_invite, messages_for


def test_a_message_survives_the_json_round_trip():
    message = messages_for(make_invite())[1]
    assert message_from_dict(message_to_dict(message)) == message


def _generic(invite):
    """The invite's dict the way message_to_dict made it before invite_to_dict: every field
    through a generic conversion (tuples as lists), instants as ISO 8601 strings."""
    return json.loads(json.dumps(asdict(invite), default=datetime.isoformat))


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"stamp": datetime(2025, 3, 1, 8, 30, 12, 345678, tzinfo=UTC), "sequence": 3},
        {"mode": Mode.IN_PERSON, "site": "Stockholm", "reasons": ()},
        {"method": "CANCEL", "cancel_scope": "attendees", "attendees": (ANA,)},
    ],
)
def test_invite_to_dict_is_the_generic_conversion(overrides):
    """Field by field, the same dict (and the same JSON, key order included) as before."""
    invite = make_invite(**overrides)
    made = invite_to_dict(invite)
    assert made == _generic(invite)
    assert json.dumps(made) == json.dumps(_generic(invite))
    assert message_to_dict(messages_for(invite)[0])["invite"] == made


def test_forget_drops_the_attendee_and_every_mention_but_keeps_the_rest():
    invite = make_invite(
        summary="Fika: Ana, Ben and Chen",
        reasons=("Ana Álvarez and Ben Okafor work in different departments",),
    )
    payload = message_to_dict(messages_for(invite)[1])  # Ben's invite
    payload["note"] = f"bounced: {ANA.email}"
    forgotten = message_from_dict(forget(payload, ANA.email, ANA.name, "Ana"))
    assert ANA not in forgotten.invite.attendees and BEN in forgotten.invite.attendees
    assert forgotten.invite.summary == f"Fika: {FORMER}, Ben and Chen"
    assert forgotten.invite.reasons == (f"{FORMER} and Ben Okafor work in different departments",)
    assert forgotten.recipient == BEN
    assert forget(payload, ANA.email, ANA.name)["note"] == "bounced: (erased)"


def test_forget_replaces_a_first_name_only_as_a_whole_word_in_the_summary():
    payload = {"summary": "Fika: Al, Alma and Ben", "starter": "Al is short for many names"}
    forgotten = forget(payload, "al@example.org", "Al", "Al")
    assert forgotten["summary"] == f"Fika: {FORMER}, Alma and Ben"
    assert forgotten["starter"] == payload["starter"]  # a two-letter full name is left in text
