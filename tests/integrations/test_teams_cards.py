"""Every Adaptive Card Fika can produce validates against the shared 1.5 schema (Draft 6)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations.base import Attendee
from integrations.teams_cards import (
    announcement_card,
    group_card,
    workflows_envelope,
)
from tests.fakes_chat import ADAPTIVE_CARD_SCHEMA, LINKS, action_types, card_validator, make_invite


@pytest.fixture(scope="module")
def validator():
    return card_validator()


def every_card():
    """All the card shapes Fika sends: sizes, modes, changes, cancellations, link sets."""
    for members in (2, 3, 8):
        for mode in ("virtual", "in_person"):
            yield f"group-{members}-{mode}", group_card(make_invite(members, mode), LINKS)
    yield "update", group_card(make_invite(3, sequence=2), LINKS)
    yield "cancel", group_card(make_invite(2, method="CANCEL", sequence=1), LINKS)
    yield "no-links", group_card(make_invite(2), {})
    yield "no-reasons-no-starter", group_card(make_invite(2, reasons=(), starter=""), LINKS)
    yield "non-jitsi", group_card(make_invite(2, video_url="https://video.example.org/r/1"), LINKS)
    yield "announcement", announcement_card(212, 18, 0.61)


CARDS = dict(every_card())


def test_schema_is_in_the_repository():
    repository = Path(__file__).resolve().parents[2]
    assert ADAPTIVE_CARD_SCHEMA.resolve().is_relative_to(repository)
    assert json.loads(ADAPTIVE_CARD_SCHEMA.read_text())["$schema"].startswith(
        "http://json-schema.org/draft-06/"
    )


@pytest.mark.parametrize("name", list(CARDS))
def test_card_validates_against_adaptive_card_1_5(validator, name):
    card = CARDS[name]
    errors = sorted(validator.iter_errors(card), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    # The envelope around it is exactly what a Workflows webhook expects.
    assert workflows_envelope(card) == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


@pytest.mark.parametrize("name", list(CARDS))
def test_no_card_can_submit(name):
    """Workflows cards cannot submit: only Action.OpenUrl anywhere in any card."""
    assert set(action_types(CARDS[name])) <= {"Action.OpenUrl"}


def test_a_card_that_breaks_the_schema_is_caught(validator):
    """The validation is real: an unknown property or element type fails it."""
    broken = {**CARDS["group-2-virtual"], "msteams": {"width": "Full"}, "body": [{"type": "Nope"}]}
    assert list(validator.iter_errors(broken))


def test_group_card_content_and_buttons():
    invite = make_invite(3, "in_person")
    card = group_card(invite, LINKS)
    text = json.dumps(card)
    (facts,) = [b["facts"] for b in card["body"] if b["type"] == "FactSet"]
    assert [f["title"] for f in facts] == [
        "Person 0 (Sales)",
        "Person 1 (Engineering)",
        "Person 2 (Finance)",
    ]
    assert facts[0]["value"].startswith("Tue 11 Mar 2025, 11:00–11:15 CET")
    assert facts[1]["value"].startswith("Tue 11 Mar 2025, 06:00–06:15 EDT")
    assert "In person at Stockholm HQ" in text
    assert "[Join the video call](https://meet.jit.si/fika-abc123)" in text
    assert invite.reasons[1] in text and invite.starter in text
    assert [(a["title"], a["url"]) for a in card["actions"]] == [
        ("I'm in", LINKS["in"]),
        ("Can't make it", LINKS["cant"]),
        ("Pause me for a week", LINKS["pause_week"]),
    ]


def test_cancelled_card_has_no_buttons():
    card = CARDS["cancel"]
    assert "actions" not in card and "cancelled" in json.dumps(card)


def test_only_http_links_become_buttons():
    card = group_card(make_invite(2), {"in": "javascript:alert(1)", "cant": LINKS["cant"]})
    assert [a["url"] for a in card["actions"]] == [LINKS["cant"]]


def test_markdown_names_do_not_break_validation(validator):
    odd = Attendee(name='**Ünïcödé** "quoted" [x](y)', email="o@example.org", timezone="Nowhere/X")
    invite = make_invite(2)
    card = group_card(make_invite(2, attendees=(odd, *invite.attendees[1:])), LINKS)
    assert not list(validator.iter_errors(card))
    assert "(UTC)" in json.dumps(card)  # an unknown zone falls back to UTC, not a crash


def test_announcement_card_words():
    card = CARDS["announcement"]
    assert card["body"][0]["text"] == (
        "Today's coffee breaks are out: 212 people, 18 departments, 61% mixing office and home"
    )


def test_missing_schema_fails_instead_of_skipping(monkeypatch, tmp_path):
    """A missing schema must go red: a skipped schema check would pass silently."""
    import tests.fakes_chat as fakes

    monkeypatch.setattr(fakes, "ADAPTIVE_CARD_SCHEMA", tmp_path / "missing.json")
    with pytest.raises(pytest.fail.Exception, match="Adaptive Card schema missing"):
        fakes.card_validator()
