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
        return {a: self._url("a", "action", [a, group_id, person_id]) for a in ACTIONS}

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
        """The person id in an unsubscribe token; None when forged."""
        data = read_token(self.secret, "unsubscribe", token)
        return data if isinstance(data, int) and not isinstance(data, bool) else None

    def read_action(self, token: str) -> tuple[str, int, int | None] | None:
        """(action, group id, person id or None) from an action token; None when not valid."""
        data = read_token(self.secret, "action", token, max_age=ACTION_MAX_AGE)
        if not (isinstance(data, list) and len(data) == 3 and data[0] in ACTIONS):
            return None
        action, group_id, person_id = data
        if not _is_id(group_id) or not (person_id is None or _is_id(person_id)):
            return None
        return action, group_id, person_id

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
