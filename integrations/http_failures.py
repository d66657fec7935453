"""One failure policy for every channel that speaks HTTP: Graph, Google, CalDAV, Teams and Slack.

A failed request becomes a :class:`~integrations.base.DeliveryError` here and nowhere else, so
the channels agree on the three things the dispatcher and the admin rely on.

**Whether a retry can help** (``transient``), from RFC 9110 and what the services document:

==========================  =========  ==========================================================
answer                      transient  why
==========================  =========  ==========================================================
408 Request Timeout         yes        the server stopped waiting; RFC 9110 §15.5.9: repeat it
423 Locked                  yes        WebDAV (RFC 4918 §11.3): someone else holds a lock, for now
425 Too Early               yes        RFC 8470 §5.2: the answer to retry the request
429 Too Many Requests       yes        RFC 6585 §4; Graph, Google, Slack and Teams all throttle so
500, 502, 503, 504          yes        RFC 9110 §15.6; every service here says retry with back-off
507 Insufficient Storage    yes        RFC 4918 §11.5: "considered to be temporary" (a full quota)
509 Bandwidth Limit         yes        not in any RFC, but Microsoft Graph throttles with it
other 5xx: 501, 505, 506,   no         the server can never do this request (not implemented,
508, 510, 511                          HTTP version, negotiation or loop, network login): a
                                       person must change something first
other 4xx                   no         the request itself is refused (credentials, permission,
                                       not found, invalid): the same request gets the same answer
network trouble             yes        timeouts, refused or lost connections, DNS, TLS: the
                                       service or the path to it may be back soon
request never sent          no         an invalid URL or header, a redirect loop: settings
==========================  =========  ==========================================================

409, 412 and 404 mean something particular to some channels (already created, changed in
between, already gone); those channels look at them before asking this policy. A channel may
also overrule the status where its service documents an exception (Google's 403
``rateLimitExceeded``, Slack's error codes on a 200).

**When to come back** (``retry_after``, seconds): ``Retry-After`` (RFC 9110 §10.2.3) in either
form, delta-seconds or an HTTP-date, read by :func:`parse_retry_after` only. A date counts from
the answer's own ``Date`` header when it has one (the server's clock, so a skew between its clock
and ours does not matter), else from ``now``. A negative number or a past date is 0; anything
else unreadable is None (the dispatcher's back-off decides); any value is capped at
:data:`MAX_RETRY_AFTER`, so one answer cannot park a delivery for days. Only transient failures
carry it.

**What the admin reads** (``reason``): the channel's label, ``HTTP <status>`` and the service's
machine-readable error code, or ``network error (<kind>)``. Never the text of a body or of an
exception: requests puts the URL in its messages (a webhook URL is itself the secret; Graph
paths hold the organiser's address) and services echo addresses and ids in theirs. A code is
kept only when it looks like one (letters, digits, underscores), so no URL, address, token or
query string can ride along in it.
"""

from __future__ import annotations

import http.client
import re
import socket
import ssl
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from integrations.base import DeliveryError

MAX_RETRY_AFTER = 3600.0  # an hour: the dispatcher's longest back-off step, and msal's own cap

TRANSIENT_STATUSES = frozenset({408, 423, 425, 429, 500, 502, 503, 504, 507, 509})

_DELTA_SECONDS = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # 1*DIGIT; a sign or fraction is tolerated
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")

# Requests that were never sent because of how they are built: settings, not the network.
_NOT_SENT = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
    requests.exceptions.TooManyRedirects,
)
# What went wrong on the way, most telling first; the first kind found in the cause chain wins.
_NETWORK_KINDS: tuple[tuple[str, tuple[type[BaseException], ...]], ...] = (
    ("connection refused", (ConnectionRefusedError,)),
    ("name not resolved", (socket.gaierror,)),
    ("TLS certificate not trusted", (ssl.SSLCertVerificationError,)),
    ("TLS error", (ssl.SSLError, requests.exceptions.SSLError)),
    ("timeout", (TimeoutError, requests.Timeout)),
    ("proxy error", (requests.exceptions.ProxyError,)),
    (
        "connection lost",
        (
            ConnectionResetError,
            ConnectionAbortedError,
            BrokenPipeError,
            http.client.RemoteDisconnected,
            requests.exceptions.ChunkedEncodingError,
        ),
    ),
    ("connection failed", (requests.ConnectionError, OSError)),
)


def is_transient_status(status: int) -> bool:
    """Whether an HTTP status is worth a retry, by the table in this module's docstring."""
    return status in TRANSIENT_STATUSES


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, capped at :data:`MAX_RETRY_AFTER`.

    Delta-seconds (``"120"``) or an HTTP-date in any of the three forms RFC 9110 §5.6.7 asks
    recipients to read, counted from ``now`` (timezone-aware). A negative number or a date in
    the past is 0: the server says "now". None when there is no value or it cannot be read.
    This is the only place in Fika that reads ``Retry-After``.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        seconds = float(value)
    else:
        when = _http_date(value)
        if when is None:
            return None
        seconds = (when - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def retry_after_in(headers: Any, now: datetime | None = None) -> float | None:
    """The seconds an answer's ``Retry-After`` asks for (see :func:`parse_retry_after`), an
    HTTP-date counted from the answer's own ``Date`` (else ``now``, else the clock)."""
    return parse_retry_after(header(headers, "Retry-After"), _answered_at(headers, now))


def header(headers: Any, name: str) -> str | None:
    """A header's value from any mapping of headers: any case of the name, a str or a list.

    requests, slack_sdk's Web API client and its webhook client each hand headers over in their
    own shape; this reads them all the same way.
    """
    if not headers:
        return None
    wanted = name.lower()
    for key, value in dict(headers).items():
        if str(key).lower() == wanted:
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            return None if value is None else str(value)
    return None


def error_code(body: Any) -> str | None:
    """The service's machine-readable error code in a JSON error body, when it has a safe one.

    The shapes of the services here: ``{"error": "invalid_grant"}`` (OAuth 2.0, Slack),
    ``{"error": {"code": "ErrorAccessDenied"}}`` (Graph, Bot Framework) and
    ``{"error": {"errors": [{"reason": "forbidden"}], "status": "PERMISSION_DENIED"}}`` (Google).
    """
    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    if isinstance(error, str):
        return safe_code(error)
    if not isinstance(error, Mapping):
        return None
    details = error.get("errors")
    candidates = [details[0].get("reason")] if details and isinstance(details[0], Mapping) else []
    candidates += [error.get("code"), error.get("status")]
    return next((c for c in map(safe_code, candidates) if c), None)


def safe_code(value: Any) -> str | None:
    """``value`` when it looks like an error code (``channel_not_found``), else None.

    Letters, digits and underscores only, so a URL, an address, a token or a sentence never
    passes for one.
    """
    if isinstance(value, str) and _CODE.fullmatch(value):
        return value
    return None


def http_failure(
    what: str,
    status: int,
    headers: Any = None,
    *,
    code: str | None = None,
    transient: bool | None = None,
    note: str = "",
    now: datetime | None = None,
) -> DeliveryError:
    """The DeliveryError for an HTTP answer that is not a success.

    ``what`` names the channel and call for the admin ("Microsoft Graph", "teams bot send");
    ``code`` is the service's error code (dropped unless it looks like one); ``transient``
    overrules the status table where a service documents otherwise; ``note`` is a fixed hint
    written by the channel, never text from the answer. ``now`` counts an HTTP-date
    ``Retry-After`` when the answer has no ``Date`` (default: the clock).
    """
    if transient is None:
        transient = is_transient_status(status)
    retry_after = retry_after_in(headers, now) if transient else None
    reason = f"{what}: HTTP {status}"
    if code := safe_code(code):
        reason += f" {code}"
    if note:
        reason += f": {note}"
    return DeliveryError(reason, transient=transient, retry_after=retry_after)


def response_failure(
    what: str, response: requests.Response, *, transient: bool | None = None, note: str = ""
) -> DeliveryError:
    """:func:`http_failure` for a requests answer, with the error code read from its JSON body."""
    return http_failure(
        what,
        response.status_code,
        response.headers,
        code=response_code(response),
        transient=transient,
        note=note,
    )


def response_code(response: requests.Response) -> str | None:
    """The service's error code in a requests answer (see :func:`error_code`), if any."""
    try:
        return error_code(response.json())
    except ValueError:  # not JSON (a proxy's HTML page, CalDAV's XML): no code
        return None


def network_failure(what: str, error: BaseException) -> DeliveryError:
    """The DeliveryError for a request that got no HTTP answer: transient, unless never sent.

    Only the kind of trouble is kept ("timeout", "connection refused"): the text of these
    exceptions quotes the URL, which may carry a secret or a person's address.
    """
    if isinstance(error, _NOT_SENT):
        return DeliveryError(f"{what}: request not sent ({type(error).__name__})", transient=False)
    causes = list(_causes(error))
    for kind, types in _NETWORK_KINDS:
        if any(isinstance(cause, types) for cause in causes):
            return DeliveryError(f"{what}: network error ({kind})", transient=True)
    return DeliveryError(f"{what}: network error ({type(error).__name__})", transient=True)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """``error`` and what it wraps: ``__cause__``, ``__context__``, and the exceptions that
    requests, urllib3 and urllib keep in ``args`` or ``reason`` (public attributes)."""
    pending, seen = [error], set()
    while pending and len(seen) < 16:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        inner += list(current.args)
        pending += [e for e in inner if isinstance(e, BaseException)]


def _answered_at(headers: Any, now: datetime | None) -> datetime:
    """When the server answered: its ``Date`` header if readable, else ``now`` or the clock."""
    answered = _http_date(header(headers, "Date") or "")
    return answered or now or datetime.now(UTC)


def _http_date(value: str) -> datetime | None:
    """An HTTP-date (IMF-fixdate, RFC 850 or asctime) as an aware UTC datetime, or None."""
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
