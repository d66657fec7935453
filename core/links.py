"""The signed links Fika puts in its messages, and reading them back when they are opened.

Every button in an email or a chat card is a link to this site carrying a signed token: it
names who may use it and what it does, so it works in one click without signing in (a link on
a message shared by a whole group names nobody, and asks whoever opens it to sign in). Tokens
are signed with the deployment's secret key and expire. :class:`Links` makes them for the
outbox writers and reads them for the views.
"""

from __future__ import annotations

from core.settings import Settings
from core.signing import make_token, read_token
from integrations.base import ButtonAnswer, CheckinAnswer

#: The buttons on an invite: I'm in, can't make it, pause me for a week.
ACTIONS = tuple(ButtonAnswer)
#: The answers a member can give about a break, and what each records in ``GroupMember.met``.
ANSWERS: dict[str, bool | None] = {
    CheckinAnswer.MET: True,
    CheckinAnswer.NOT_MET: False,
    CheckinAnswer.RESCHEDULED: None,
}
#: The pause offer's choices: weeks to pause (0: keep going).
PAUSE_CHOICES: dict[str, int] = {"pause_2w": 2, "pause_4w": 4, "keep": 0}

#: A learning team's check-ins: halfway through its frame, and at its end.
TEAM_STAGES = ("midway", "final")

#: The purpose of the token that names one seat (group, person) of a break: its action links
#: (``/a/<seat>~<action>``) and, on a member's invite, the unsubscribe link.
SEAT = "seat"
#: Between a seat token and the button it stands for: not in a token's alphabet (URL-safe
#: base64 and "."), and unreserved in a URL path.
ACTION_MARK = "~"

#: Action links work for two weeks: long enough for any break they belong to.
ACTION_MAX_AGE = 14 * 24 * 3600
#: Check-in links stay valid for a month: long enough for holidays, short enough to go stale.
CHECKIN_MAX_AGE = 31 * 24 * 3600


class Links:
    """Make and read the signed links of one deployment (its base URL and secret key)."""

    def __init__(self, settings: Settings):
        self.base = settings.base_url
        self.secret = settings.secret_key

    def _url(self, path: str, purpose: str, data: object) -> str:
        return f"{self.base}/{path}/{make_token(self.secret, purpose, data)}"

    def unsubscribe(self, person_id: int) -> str:
        """A one-click (RFC 8058) link that stops this person's breaks."""
        return self._url("unsubscribe", "unsubscribe", person_id)

    def actions(self, group_id: int, person_id: int | None) -> dict[str, str]:
        """One link per button; ``person_id`` None for a message the whole group shares."""
        return self._seat_actions(self._seat(group_id, person_id))

    def invite_links(self, group_id: int, person_id: int) -> tuple[dict[str, str], str]:
        """A member's buttons and unsubscribe link on an invite, all from one seat token.

        A round writes an invite per person: one signed token where there were four (three
        actions and the unsubscribe link) is most of what its links cost.
        """
        seat = self._seat(group_id, person_id)
        return self._seat_actions(seat), f"{self.base}/unsubscribe/{seat}"

    def _seat(self, group_id: int, person_id: int | None) -> str:
        return make_token(self.secret, SEAT, [group_id, person_id])

    def _seat_actions(self, seat: str) -> dict[str, str]:
        # The button is named after the signed seat: who holds the seat's link holds all three
        # buttons anyway (the same message carries them), so the action needs no signature.
        return {a: f"{self.base}/a/{seat}{ACTION_MARK}{a}" for a in ACTIONS}

    def checkin(self, group_id: int, person_id: int) -> dict[str, str]:
        """One link per "Did you meet?" answer for this seat."""
        return {a: self._url("checkin", "checkin", [group_id, person_id, a]) for a in ANSWERS}

    def pause_offer(self, person_id: int) -> dict[str, str]:
        """One link per pause choice for this person."""
        return {c: self._url("checkin/pause", "pause_offer", [person_id, c]) for c in PAUSE_CHOICES}

    def team_checkin(self, group_id: int, person_id: int, stage: str) -> str:
        """The page where a learning-team member answers the midway or final check-in."""
        return self._url("teams/checkin", "team_checkin", [group_id, person_id, stage])

    def digest_opt_out(self, person_id: int) -> str:
        """The page that stops "what we learned" digests for this person."""
        return self._url("teams/digest-opt-out", "digest_opt_out", person_id)

    def read_team_checkin(self, token: str) -> tuple[int, int, str] | None:
        """(group id, person id, stage) from a team check-in token; None when not valid."""
        data = read_token(self.secret, "team_checkin", token, max_age=CHECKIN_MAX_AGE)
        if (
            isinstance(data, list)
            and len(data) == 3
            and all(_is_id(v) for v in data[:2])
            and data[2] in TEAM_STAGES
        ):
            return data[0], data[1], data[2]
        return None

    def read_digest_opt_out(self, token: str) -> int | None:
        """The person id in a digest opt-out token; None when forged."""
        data = read_token(self.secret, "digest_opt_out", token)
        return data if _is_id(data) else None

    def read_unsubscribe(self, token: str) -> int | None:
        """The person id in an unsubscribe token, or in a member's seat token (the unsubscribe
        link of an invite since one token carries its links); None when forged."""
        data = read_token(self.secret, "unsubscribe", token)
        if _is_id(data):
            return data
        seat = self._read_seat(token, max_age=None)
        return seat[1] if seat is not None and seat[1] is not None else None

    def read_action(self, token: str) -> tuple[str, int, int | None] | None:
        """(action, group id, person id or None) from an action link's token: a seat token and
        its button (``<seat>~in``), or the older token that signs all three (links already
        sent keep working); None when not valid."""
        if ACTION_MARK in token:
            seat_token, _mark, action = token.rpartition(ACTION_MARK)
            seat = self._read_seat(seat_token, max_age=ACTION_MAX_AGE)
            if seat is None or action not in ACTIONS:
                return None
            return action, seat[0], seat[1]
        data = read_token(self.secret, "action", token, max_age=ACTION_MAX_AGE)
        if not (isinstance(data, list) and len(data) == 3 and data[0] in ACTIONS):
            return None
        action, group_id, person_id = data
        if not _is_id(group_id) or not (person_id is None or _is_id(person_id)):
            return None
        return action, group_id, person_id

    def _read_seat(self, token: str, max_age: int | None) -> tuple[int, int | None] | None:
        """(group id, person id or None) from a seat token; None when not valid."""
        data = read_token(self.secret, SEAT, token, max_age=max_age)
        if not (isinstance(data, list) and len(data) == 2 and _is_id(data[0])):
            return None
        if not (data[1] is None or _is_id(data[1])):
            return None
        return data[0], data[1]

    def read_checkin(self, token: str) -> tuple[int, int, str] | None:
        """(group id, person id, answer) from a check-in token; None when forged or expired."""
        data = read_token(self.secret, "checkin", token, max_age=CHECKIN_MAX_AGE)
        if (
            isinstance(data, list)
            and len(data) == 3
            and all(_is_id(v) for v in data[:2])
            and data[2] in ANSWERS
        ):
            return data[0], data[1], data[2]
        return None

    def read_pause(self, token: str) -> tuple[int, str] | None:
        """(person id, choice) from a pause-offer token; None when forged or expired."""
        data = read_token(self.secret, "pause_offer", token, max_age=CHECKIN_MAX_AGE)
        if isinstance(data, list) and len(data) == 2 and _is_id(data[0]):
            if data[1] in PAUSE_CHOICES:
                return data[0], data[1]
        return None


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
