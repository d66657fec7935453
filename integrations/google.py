"""Google Workspace Calendar: the organiser's calendar owns one event per group.

A service account with domain-wide delegation acts as the organiser (``subject``): only then may
it invite attendees, and Google then emails the invitations and creates the Meet link
(``conferenceData.createRequest``). The token comes from the OAuth 2.0 JWT bearer grant
(RFC 7523), signed with the service account's key using PyJWT + cryptography; the base URL and
the key's ``token_uri`` can point at a local fake in tests.

The event id is derived from the group's uid (base32hex, as Google requires), so an insert
retried after a crash answers 409 instead of creating a duplicate, and no id mapping is needed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jwt
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from integrations.base import ConfigError, DeliveryError, Invite, Message
from integrations.event_sync import (
    ChangeFailed,
    EventChange,
    ProviderSession,
    reading,
    send_changes,
)
from integrations.http_failures import network_failure, response_code, response_failure
from integrations.ical import location_for
from integrations.invite_text import render_text, summary_of

SERVICE = "Google Calendar"
DEFAULT_BASE_URL = "https://www.googleapis.com/calendar/v3"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/calendar"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
KEY_SETTING = "FIKA_GOOGLE_SERVICE_ACCOUNT_FILE"
# Google answers its rate limits with a 403 as well as a 429 and documents both as "retry with
# exponential back-off" (developers.google.com/workspace/calendar/api/guides/errors).
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}

Busy = dict[str, list[tuple[datetime, datetime]]]


@dataclass(frozen=True)
class GoogleSettings:
    """The service account key, the user it acts as, and the calendar it writes to."""

    service_account: Mapping[str, str] = field(repr=False)
    subject: str
    calendar_id: str = "primary"
    base_url: str = DEFAULT_BASE_URL

    @classmethod
    def load(cls, file_or_json: str, subject: str, **options: str) -> GoogleSettings:
        """Read the key from a file path or inline JSON; ConfigError names the setting."""
        text = file_or_json.strip()
        try:
            raw = text if text.startswith("{") else Path(text).read_text(encoding="utf-8")
            key = json.loads(raw)
        except OSError as error:
            raise ConfigError(f"{KEY_SETTING}: cannot read {text!r}: {error}") from None
        except json.JSONDecodeError as error:
            raise ConfigError(f"{KEY_SETTING}: not a JSON service account key ({error})") from None
        if not isinstance(key, dict) or key.get("type") != "service_account":
            raise ConfigError(f'{KEY_SETTING}: expected a key with "type": "service_account"')
        for name in ("client_email", "private_key"):
            if not key.get(name):
                raise ConfigError(f"{KEY_SETTING}: the key has no {name}")
        try:
            load_pem_private_key(key["private_key"].encode(), password=None)
        except (ValueError, TypeError) as error:
            raise ConfigError(f"{KEY_SETTING}: unusable private_key ({error})") from None
        return cls(key, subject, **options)


def event_id_for(uid: str) -> str:
    """A valid Google event id (base32hex: 0-9 and a-v, 5-1024 chars) that is stable per uid."""
    digest = hashlib.sha256(uid.encode("utf-8")).digest()
    return base64.b32hexencode(digest).decode("ascii").lower().rstrip("=")


def google_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a "Z", the form Google documents for dateTime."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_body(invite: Invite, *, create: bool) -> dict[str, Any]:
    """The event fields Fika controls; ``create`` adds the id and the Meet request."""
    body: dict[str, Any] = {
        "summary": summary_of(invite),
        "description": render_text(invite),
        "location": location_for(invite),
        "start": {"dateTime": google_time(invite.start), "timeZone": "UTC"},
        "end": {"dateTime": google_time(invite.end), "timeZone": "UTC"},
        "attendees": [{"email": a.email, "displayName": a.name} for a in invite.attendees],
        "status": "confirmed",
        "guestsCanModify": False,
    }
    if create:
        event_id = event_id_for(invite.uid)
        body["id"] = event_id
        # Stable, so a retried insert does not ask Meet for a second conference.
        body["conferenceData"] = {
            "createRequest": {
                "requestId": f"fika-{event_id[:40]}",
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        }
    return body


def api_failure(response: requests.Response) -> DeliveryError:
    """The shared HTTP policy, plus Google's documented exception: a rate-limit 403 is transient."""
    rate_limited = response.status_code == 403 and response_code(response) in RATE_LIMIT_REASONS
    return response_failure(SERVICE, response, transient=True if rate_limited else None)


class GoogleChannel:
    """Inserts, patches and deletes each group's event, letting Google notify the attendees."""

    name = "google"

    def __init__(
        self, settings: GoogleSettings, *, timeout: float = 20.0, verify: bool | str = True
    ):
        self.settings = settings
        self.timeout = timeout
        self._session = ProviderSession()
        self._session.verify = verify
        self._token_value: str | None = None
        self._token_expires = 0.0

    def _token(self) -> str:
        """A delegated access token, reused until a minute before it expires."""
        if self._token_value and time.time() < self._token_expires - 60:
            return self._token_value
        key = self.settings.service_account
        token_uri = key.get("token_uri") or DEFAULT_TOKEN_URI
        now = int(time.time())
        claims = {"iss": key["client_email"], "sub": self.settings.subject, "scope": SCOPE,
                  "aud": token_uri, "iat": now, "exp": now + 3600}  # fmt: skip
        headers = {"kid": key["private_key_id"]} if key.get("private_key_id") else None
        assertion = jwt.encode(claims, key["private_key"], algorithm="RS256", headers=headers)
        try:
            response = self._session.post(
                token_uri,
                data={"grant_type": JWT_BEARER, "assertion": assertion},
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise ChangeFailed(network_failure(f"{SERVICE} token endpoint", error)) from None
        if response.status_code != 200:
            # 400/401 (invalid_grant, unauthorized_client: delegation not granted) need a person.
            raise ChangeFailed(response_failure(f"{SERVICE} token endpoint", response))
        payload = response.json()
        self._token_value = payload["access_token"]
        self._token_expires = now + float(payload.get("expires_in", 3600))
        return self._token_value

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token()}"}
        url = f"{self.settings.base_url.rstrip('/')}{path}"
        return self._session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)

    @property
    def _events(self) -> str:
        return f"/calendars/{quote(self.settings.calendar_id, safe='@')}/events"

    def send(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """Apply each group's newest change once; members share the group's outcome."""
        return send_changes(messages, self._apply, SERVICE, self._session)

    def _apply(self, change: EventChange) -> DeliveryError | None:
        if change.action == "none":
            return None
        event_url = f"{self._events}/{event_id_for(change.uid)}"
        if change.action == "cancel":
            response = self._call("DELETE", event_url, params={"sendUpdates": "all"})
            if response.status_code in (200, 204, 404, 410):
                return None  # gone already is what we wanted
            return api_failure(response)
        params = {"conferenceDataVersion": "1", "sendUpdates": "all"}
        invite = change.invite
        if invite.sequence == 0:
            response = self._call("POST", self._events, params=params,
                                  json=event_body(invite, create=True))  # fmt: skip
            if response.status_code == 409:  # created by an earlier attempt: update it
                response = self._call("PATCH", event_url, params=params,
                                      json=event_body(invite, create=False))  # fmt: skip
        else:
            response = self._call("PATCH", event_url, params=params,
                                  json=event_body(invite, create=False))  # fmt: skip
            if response.status_code == 404:  # the first version never made it: create now
                response = self._call("POST", self._events, params=params,
                                      json=event_body(invite, create=True))  # fmt: skip
        if response.status_code in (200, 201):
            return None
        return api_failure(response)

    def fetch_busy(self, emails: Sequence[str], start: datetime, end: datetime) -> Busy:
        """Busy intervals (UTC) per email via freeBusy.query; unreadable calendars are left out.

        Raises DeliveryError when the call itself fails.
        """
        busy: Busy = {}
        with reading(SERVICE, self._session):
            for offset in range(0, len(emails), 50):  # freeBusy takes at most 50 calendars
                body = {
                    "timeMin": google_time(start),
                    "timeMax": google_time(end),
                    "timeZone": "UTC",
                    "items": [{"id": email} for email in emails[offset : offset + 50]],
                }
                response = self._call("POST", "/freeBusy", json=body)
                if response.status_code != 200:
                    raise api_failure(response)
                for email, calendar in response.json().get("calendars", {}).items():
                    if calendar.get("errors"):
                        continue
                    busy[email] = [
                        (datetime.fromisoformat(b["start"]).astimezone(UTC),
                         datetime.fromisoformat(b["end"]).astimezone(UTC))
                        for b in calendar.get("busy", [])
                    ]  # fmt: skip
        return busy
