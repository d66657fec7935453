"""Microsoft 365 through Microsoft Graph: the organiser's mailbox owns one event per group.

Creating the event in the organiser's calendar makes Exchange send the invitations (so they show
up in Outlook with Accept/Decline and Teams adds the meeting link), and every PATCH or cancel is
mailed to the attendees by Exchange too. The app authenticates app-only with ``msal``
(client credentials). Base URL and authority are settings so tests can point them at a fake.

Graph returns its own event id; the channel keeps ``uid -> event id`` in the ``id_store`` it is
given (a persistent mapping in production) and also tags each event with the uid in an extended
property, so an event can be found again if the store lost it. ``transactionId`` makes a
retried POST return the event created the first time instead of a duplicate.
"""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import requests

from integrations.base import DeliveryError, Invite, Message
from integrations.entra_token import AppToken
from integrations.event_sync import (
    ChangeFailed,
    EventChange,
    ProviderSession,
    reading,
    send_changes,
)
from integrations.http_failures import response_failure
from integrations.invite_text import render_html, summary_of
from pairing.model import Mode

SERVICE = "Microsoft Graph"
DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
SCOPES = ["https://graph.microsoft.com/.default"]
# A named property in PS_PUBLIC_STRINGS: the documented way to tag Outlook items with our key.
UID_PROPERTY = "String {00020329-0000-0000-C000-000000000046} Name FikaUid"
BUSY_STATUSES = {"busy", "oof", "tentative"}

Busy = dict[str, list[tuple[datetime, datetime]]]


@dataclass(frozen=True)
class GraphSettings:
    """The app registration and organiser mailbox (``FIKA_GRAPH_*``)."""

    tenant_id: str
    client_id: str
    client_secret: str
    organiser: str
    base_url: str = DEFAULT_BASE_URL
    authority: str = DEFAULT_AUTHORITY


def graph_time(moment: datetime) -> dict[str, str]:
    """A Graph dateTimeTimeZone in UTC (Graph wants a local time plus a zone name)."""
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}


def parse_graph_time(value: dict[str, str]) -> datetime:
    """Read a dateTimeTimeZone Graph sent in UTC (we ask for UTC with the Prefer header)."""
    text = value["dateTime"].rstrip("Z")
    if "." in text:
        head, fraction = text.split(".", 1)
        text = f"{head}.{fraction[:6]}"  # Graph sends 7 fractional digits
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def transaction_id(uid: str) -> str:
    """A stable transactionId per group, so a retried create does not duplicate the event."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fika:{uid}"))


def event_body(invite: Invite, *, create: bool) -> dict[str, Any]:
    """The event resource fields Fika controls; ``create`` adds the once-only fields."""
    body: dict[str, Any] = {
        "subject": summary_of(invite),
        "body": {"contentType": "HTML", "content": render_html(invite)},
        "start": graph_time(invite.start),
        "end": graph_time(invite.end),
        "attendees": [
            {"emailAddress": {"address": a.email, "name": a.name}, "type": "required"}
            for a in invite.attendees
        ],
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
        "allowNewTimeProposals": False,
        "responseRequested": True,
    }
    if invite.mode == Mode.IN_PERSON and invite.site:
        body["location"] = {"displayName": invite.site}
    if create:
        body["transactionId"] = transaction_id(invite.uid)
        body["singleValueExtendedProperties"] = [{"id": UID_PROPERTY, "value": invite.uid}]
    return body


class GraphChannel:
    """Creates, updates and cancels each group's event in the organiser's Outlook calendar."""

    name = "graph"

    def __init__(
        self,
        settings: GraphSettings,
        id_store: MutableMapping[str, str] | None = None,
        *,
        timeout: float = 20.0,
        verify: bool | str = True,
    ):
        self.settings = settings
        self.id_store: MutableMapping[str, str] = {} if id_store is None else id_store
        self.timeout = timeout
        self._session = ProviderSession()
        self._session.verify = verify
        known = settings.authority.rstrip("/") == DEFAULT_AUTHORITY
        self._tokens = AppToken(
            f"{SERVICE} token",
            settings.client_id,
            settings.client_secret,
            f"{settings.authority.rstrip('/')}/{settings.tenant_id}",
            SCOPES,
            session=self._session,
            timeout=timeout,
            settings="FIKA_GRAPH_TENANT_ID / FIKA_GRAPH_AUTHORITY",
            # A custom authority (a national cloud, a test fake) is trusted as configured.
            validate_authority=known,
            instance_discovery=known,
        )

    # ---------------------------------------------------------------------------- plumbing

    def _token(self) -> str:
        """An app-only token; a refusal or outage comes out as the change's DeliveryError."""
        try:
            return self._tokens()
        except DeliveryError as error:
            raise ChangeFailed(error) from None

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._token()}", **kwargs.pop("headers", {})}
        url = f"{self.settings.base_url.rstrip('/')}{path}"
        return self._session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)

    @property
    def _events(self) -> str:
        return f"/users/{quote(self.settings.organiser, safe='@')}/events"

    def _find(self, uid: str) -> str | None:
        """The event id of a group's event, found by the uid tag when the store lost it."""
        literal = uid.replace("'", "''")
        query = f"singleValueExtendedProperties/Any(ep: ep/id eq '{UID_PROPERTY}' and ep/value eq '{literal}')"  # noqa: E501
        response = self._call("GET", self._events, params={"$filter": query, "$select": "id"})
        if response.status_code != 200:
            raise ChangeFailed(response_failure(SERVICE, response))
        found = response.json().get("value", [])
        return found[0]["id"] if found else None

    # -------------------------------------------------------------------------------- send

    def send(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """Apply each group's newest change once; members share the group's outcome."""
        return send_changes(messages, self._apply, SERVICE, self._session)

    def _apply(self, change: EventChange) -> DeliveryError | None:
        if change.action == "none":
            return None
        uid, invite = change.uid, change.invite
        event_id = self.id_store.get(uid)
        if event_id is None and (change.action == "cancel" or invite.sequence > 0):
            event_id = self._find(uid)
        if change.action == "cancel":
            if event_id is None:
                return None  # never created: nothing to cancel
            comment = f"This {invite.programme} break is cancelled."
            response = self._call("POST", f"{self._events}/{event_id}/cancel",
                                  json={"comment": comment})  # fmt: skip
            if response.status_code in (200, 202, 204, 404):
                self.id_store.pop(uid, None)
                return None
            return response_failure(SERVICE, response)
        if event_id is not None:
            response = self._call("PATCH", f"{self._events}/{event_id}",
                                  json=event_body(invite, create=False))  # fmt: skip
            if response.status_code == 200:
                self.id_store[uid] = event_id
                return None
            if response.status_code == 404:
                return response_failure(
                    SERVICE, response, note="the event was deleted from the organiser's calendar"
                )
            return response_failure(SERVICE, response)
        response = self._call("POST", self._events, json=event_body(invite, create=True))
        if response.status_code in (200, 201):
            self.id_store[uid] = response.json()["id"]
            return None
        return response_failure(SERVICE, response)

    # --------------------------------------------------------------------------- free/busy

    def fetch_busy(self, emails: Sequence[str], start: datetime, end: datetime) -> Busy:
        """Busy intervals (UTC) per email between ``start`` and ``end``, via getSchedule.

        People Graph cannot see (outside the tenant, say) are simply left out: busy times only
        improve the slot, they are never required. Raises DeliveryError when the call fails.
        """
        busy: Busy = {}
        path = f"/users/{quote(self.settings.organiser, safe='@')}/calendar/getSchedule"
        with reading(SERVICE, self._session):
            for offset in range(0, len(emails), 20):  # keep each request small
                body = {
                    "schedules": list(emails[offset : offset + 20]),
                    "startTime": graph_time(start),
                    "endTime": graph_time(end),
                    "availabilityViewInterval": 15,
                }
                response = self._call(
                    "POST", path, json=body, headers={"Prefer": 'outlook.timezone="UTC"'}
                )
                if response.status_code != 200:
                    raise response_failure(SERVICE, response)
                for schedule in response.json().get("value", []):
                    if "error" in schedule:
                        continue
                    busy[schedule["scheduleId"]] = [
                        (parse_graph_time(item["start"]), parse_graph_time(item["end"]))
                        for item in schedule.get("scheduleItems", [])
                        if item.get("status", "busy") in BUSY_STATUSES
                    ]
        return busy
