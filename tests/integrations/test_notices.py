"""The drop-in room's chat nudge: the words, and a Teams card valid against Adaptive Card 1.5."""

from __future__ import annotations

from integrations.notices import nudge_card, nudge_text
from integrations.teams_cards import workflows_envelope
from tests.fakes_chat import card_validator

ROOM = "https://meet.jit.si/fika-room-0123456789abcdef0123"


def test_nudge_text_says_when_and_how_to_join():
    text = nudge_text("Daily coffee room", ROOM)
    assert "Coffee room opens in 5 minutes — join from the office or from home" in text
    assert text.endswith(ROOM)


def test_nudge_card_validates_against_the_1_5_schema_and_links_the_room():
    validator = card_validator()
    card = nudge_card("Daily coffee room", ROOM)
    errors = sorted(validator.iter_errors(card), key=str)
    assert errors == [], [e.message for e in errors]
    assert card["version"] == "1.5"
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Join the room", "url": ROOM}]
    assert workflows_envelope(card)["attachments"][0]["content"] is card


def test_a_room_that_is_not_https_gets_no_button():
    card = nudge_card("Daily coffee room", "javascript:alert(1)")
    assert "actions" not in card
    assert list(card_validator().iter_errors(card)) == []
