"""The Slack message builders: content people need, within Block Kit's limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.base import Attendee
from integrations.slack_blocks import announcement_text, group_message
from tests.fakes_chat import LINKS, check_block_kit, make_invite


def texts(blocks) -> str:
    parts = []
    for block in blocks:
        if "text" in block:
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            parts.append(
                element["text"]["text"] if element["type"] == "button" else element["text"]
            )
    return "\n".join(parts)


@pytest.mark.parametrize("members", [2, 3, 8])
@pytest.mark.parametrize("mode", ["virtual", "in_person"])
def test_group_message_says_who_when_where_why_and_offers_three_buttons(members, mode):
    invite = make_invite(members, mode)
    fallback, blocks = group_message(invite, LINKS)

    check_block_kit(blocks)
    text = texts(blocks)
    for attendee in invite.attendees:
        assert attendee.name in text and attendee.name in fallback
    assert "Europe/Stockholm" in text and "America/New_York" in text  # each member's own zone
    assert "11:00–11:15 CET" in text and "06:00–06:15 EDT" in text  # 10:00 UTC, per zone
    assert invite.reasons[0] in text and invite.starter in text
    if mode == "in_person":
        assert "In person at Stockholm HQ" in text
    assert "<https://meet.jit.si/fika-abc123|Join the video call>" in text

    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert [(e["action_id"], e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        ("fika_in", "I'm in", invite.uid),
        ("fika_cant", "Can't make it", invite.uid),
        ("fika_pause_week", "Pause me for a week", invite.uid),
        ("fika_another_time", "Suggest another time", invite.uid),
    ]


def test_button_value_is_the_reference_passed_in():
    _, blocks = group_message(make_invite(2), {}, ref="group:42")
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert {e["value"] for e in actions["elements"]} == {"group:42"}
    assert not [b for b in blocks if b["block_id"] == "fika_links"]  # no links: no links block


def test_cancelled_break_has_no_buttons():
    _, blocks = group_message(make_invite(2, method="CANCEL", sequence=1), LINKS)
    check_block_kit(blocks)
    assert "cancelled" in texts(blocks)
    assert not [b for b in blocks if b["type"] == "actions"]


def test_markup_in_names_is_escaped():
    """A name like "<!channel>" must not ping a whole channel or become a link."""
    sneaky = Attendee(name="<!channel> & <http://evil|x>", email="s@example.org")
    invite = make_invite(2)
    invite = make_invite(2, attendees=(sneaky, *invite.attendees[1:]))
    fallback, blocks = group_message(invite, LINKS)
    assert "<!channel>" not in texts(blocks) + fallback
    assert "&lt;!channel&gt; &amp; &lt;http://evil|x&gt;" in texts(blocks)


def test_non_http_links_do_not_become_links():
    _, blocks = group_message(make_invite(2, video_url="javascript:alert(1)"), {})
    assert "<javascript:" not in texts(blocks)


long_text = st.text(min_size=0, max_size=5000)


@settings(max_examples=40, deadline=None)
@given(
    names=st.lists(long_text.filter(str.strip), min_size=2, max_size=8),
    reasons=st.lists(long_text, max_size=30),
    starter=long_text,
    summary=long_text,
)
def test_any_content_stays_within_block_kit_limits(names, reasons, starter, summary):
    attendees = tuple(Attendee(name=n, email=f"p{i}@example.org") for i, n in enumerate(names))
    invite = make_invite(
        2, attendees=attendees, reasons=tuple(reasons), starter=starter, summary=summary
    )
    _, blocks = group_message(invite, LINKS)
    check_block_kit(blocks)


def test_announcement_text():
    assert announcement_text(212, 18, 0.61) == (
        "Today's coffee breaks are out: 212 people, 18 departments, 61% mixing office and home"
    )
    assert announcement_text(1, 1, 0.0).startswith("Today's coffee breaks are out: 1 person, 1 dep")


@pytest.mark.parametrize("args", [(-1, 2, 0.5), (2, -1, 0.5), (2, 2, 1.5), (2, 2, -0.1)])
def test_announcement_rejects_impossible_numbers(args):
    with pytest.raises(ValueError):
        announcement_text(*args)
