"""Signed one-click links for the "Did you meet?" answers and the pause offer."""

from __future__ import annotations

from flask import current_app

from core.signing import make_token, read_token

#: The answers a member can give about a break, and what each records in ``GroupMember.met``.
ANSWERS: dict[str, bool | None] = {"met": True, "not_met": False, "rescheduled": None}
#: The pause offer's choices: weeks to pause (0: keep going).
PAUSE_CHOICES: dict[str, int] = {"pause_2w": 2, "pause_4w": 4, "keep": 0}
#: Links stay valid for a month: long enough for holidays, short enough to go stale.
MAX_AGE = 31 * 24 * 3600


def checkin_links(group_id: int, person_id: int) -> dict[str, str]:
    """One signed URL per answer (met / not_met / rescheduled) for this seat."""
    base = current_app.config["FIKA_BASE_URL"]
    return {
        answer: f"{base}/checkin/{make_token('checkin', [group_id, person_id, answer])}"
        for answer in ANSWERS
    }


def pause_links(person_id: int) -> dict[str, str]:
    """One signed URL per pause choice for this person."""
    base = current_app.config["FIKA_BASE_URL"]
    return {
        choice: f"{base}/checkin/pause/{make_token('pause_offer', [person_id, choice])}"
        for choice in PAUSE_CHOICES
    }


def read_checkin(token: str) -> tuple[int, int, str] | None:
    """(group id, person id, answer) from a check-in token; None when forged or expired."""
    data = read_token("checkin", token, max_age=MAX_AGE)
    if (
        isinstance(data, list)
        and len(data) == 3
        and all(isinstance(v, int) for v in data[:2])
        and data[2] in ANSWERS
    ):
        return data[0], data[1], data[2]
    return None


def read_pause(token: str) -> tuple[int, str] | None:
    """(person id, choice) from a pause-offer token; None when forged or expired."""
    data = read_token("pause_offer", token, max_age=MAX_AGE)
    if isinstance(data, list) and len(data) == 2 and isinstance(data[0], int):
        if data[1] in PAUSE_CHOICES:
            return data[0], data[1]
    return None
