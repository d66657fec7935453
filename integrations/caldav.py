"""CalDAV (RFC 4791): each group's break as one event in a shared calendar collection.

Writes are conditional so concurrent editors and retries never clobber each other: a new event
is created with ``If-None-Match: *``, an existing one is replaced with ``If-Match: <ETag>`` read
just before, and a newer version already in the store (higher SEQUENCE) is never overwritten by
an older one. Plain ``requests`` with basic auth is all a CalDAV PUT/DELETE needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

import icalendar
import requests

from integrations.base import DeliveryError, Message
from integrations.event_sync import EventChange, event_changes, spread
from integrations.http_failures import network_failure, response_failure
from integrations.ical import build_calendar

SERVICE = "CalDAV"
_OK = (200, 201, 204)


def stored_sequence(body: bytes) -> int | None:
    """The SEQUENCE of a stored event, or None when it cannot be read."""
    try:
        event = icalendar.Calendar.from_ical(body).walk("VEVENT")[0]
        return int(event.get("SEQUENCE", 0))
    except (ValueError, IndexError, TypeError):
        return None


class CalDavChannel:
    """Keeps ``<collection>/<uid>.ics`` in step with each group's latest invite."""

    name = "caldav"

    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        *,
        timeout: float = 15.0,
    ):
        self.collection = url if url.endswith("/") else url + "/"
        self.auth = (username, password or "") if username else None
        self.timeout = timeout

    def event_url(self, uid: str) -> str:
        """Where a group's event lives; the UID is percent-encoded into one path segment."""
        return f"{self.collection}{quote(uid, safe='@-_.')}.ics"

    def send(self, messages: Sequence[Message]) -> list[DeliveryError | None]:
        """Write each group once per batch; every member's message shares the group's outcome."""
        with requests.Session() as session:
            session.auth = self.auth

            def apply(change: EventChange) -> DeliveryError | None:
                try:
                    return self._apply(session, change)
                except requests.RequestException as error:
                    return network_failure(SERVICE, error)

            return spread(event_changes(messages), len(messages), apply, SERVICE)

    def _apply(self, session: requests.Session, change: EventChange) -> DeliveryError | None:
        url = self.event_url(change.uid)
        if change.action == "none":
            return None
        if change.action == "cancel":
            response = session.delete(url, timeout=self.timeout)
            # Already gone is what we wanted.
            if response.status_code in (*_OK, 404, 410):
                return None
            return response_failure(SERVICE, response)
        body = build_calendar(change.invite, with_method=False)
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if change.invite.sequence == 0:
            # The common case is a brand-new event: try to create it without reading first.
            response = session.put(
                url, data=body, headers={**headers, "If-None-Match": "*"}, timeout=self.timeout
            )
            if response.status_code in _OK:
                return None
            if response.status_code != 412:
                return self._put_error(response)
        # Read, then write conditionally; a 412 means someone wrote in between: read again.
        for _attempt in range(3):
            current = session.get(url, timeout=self.timeout)
            if current.status_code == 404:
                condition = {"If-None-Match": "*"}
            elif current.status_code == 200:
                if current.content == body:
                    return None  # a resend: already stored exactly
                stored = stored_sequence(current.content)
                if stored is not None and stored > change.invite.sequence:
                    return None  # a newer version is already there; never go back in time
                etag = current.headers.get("ETag")
                condition = {"If-Match": etag} if etag else {}
            else:
                return response_failure(SERVICE, current)
            response = session.put(
                url, data=body, headers={**headers, **condition}, timeout=self.timeout
            )
            if response.status_code in _OK:
                return None
            if response.status_code != 412:
                return self._put_error(response)
        return DeliveryError(
            f"{SERVICE}: HTTP 412: the event kept changing while being written", transient=True
        )

    def _put_error(self, response: requests.Response) -> DeliveryError:
        if response.status_code == 409:  # RFC 4918 §9.7.1: no parent collection to put it in
            return response_failure(
                SERVICE,
                response,
                note="the calendar collection in FIKA_CALDAV_URL probably does not exist",
            )
        return response_failure(SERVICE, response)
