"""Test data for integration tests: one realistic group invite, easy to vary per test."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.base import Attendee, Invite, Message

ANA = Attendee("Ana Álvarez", "ana@example.org", "Europe/Stockholm", "Engineering", "Stockholm")
BEN = Attendee("Ben Okafor", "ben@example.org", "America/New_York", "Finance")
CHEN = Attendee("Chen Wei", "chen@example.org", "Asia/Kolkata", "People & Culture")
MEMBERS = (ANA, BEN, CHEN)

# The Sunday Europe switched to summer time: a classic source of one-hour bugs.
DST_START = datetime(2025, 3, 30, 1, 30, tzinfo=UTC)


def make_invite(**overrides: Any) -> Invite:
    """A three-person virtual break; keyword arguments replace any field."""
    start = overrides.pop("start", datetime(2025, 3, 12, 13, 0, tzinfo=UTC))
    base = Invite(
        uid="round-7-group-3@fika.example.org",
        sequence=0,
        method="REQUEST",
        start=start,
        end=start + timedelta(minutes=30),
        summary="Fika: Ana Álvarez, Ben Okafor and Chen Wei",
        organizer_name="Fika",
        organizer_email="fika@example.org",
        attendees=MEMBERS,
        video_url="https://meet.jit.si/fika-round-7-group-3-x8k2",
        reasons=("Different departments: Engineering, Finance, People & Culture",),
        starter="What is something you learned this week?",
    )
    return replace(base, **overrides)


def messages_for(invite: Invite, *, unsubscribe: bool = True) -> list[Message]:
    """One message per member, keyed the way the outbox keys deliveries."""
    return [
        Message(
            key=f"{invite.uid}/{invite.sequence}/{member.email}",
            invite=invite,
            recipient=member,
            unsubscribe_url=(
                f"https://fika.example.org/unsubscribe/tok-{index}" if unsubscribe else None
            ),
        )
        for index, member in enumerate(invite.attendees)
    ]
