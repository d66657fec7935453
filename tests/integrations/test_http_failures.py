"""The one HTTP failure policy, unit by unit: Retry-After, statuses, codes, network errors.

How every channel applies it, against its fake, is tests/integrations/test_http_failure_table.py.
"""

from __future__ import annotations

import re
import socket
import urllib.error
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import requests

from integrations.http_failures import (
    MAX_RETRY_AFTER,
    error_code,
    header,
    http_failure,
    is_transient_status,
    network_failure,
    parse_retry_after,
    safe_code,
)
from tests.servers import free_port

NOW = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)  # IMF-fixdate: "Wed, 12 Mar 2025 09:00:00 GMT"


# ----------------------------------------------------------------------------- Retry-After


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),  # not delta-seconds strictly, but unambiguous
        ("-5", 0.0),  # negative: come back now
        (str(int(MAX_RETRY_AFTER) + 1), MAX_RETRY_AFTER),
        ("86400", MAX_RETRY_AFTER),  # a day: capped at the hour
        ("9" * 400, MAX_RETRY_AFTER),  # would overflow a timedelta uncapped
        (http_date(NOW + timedelta(seconds=90)), 90.0),
        (http_date(NOW - timedelta(days=3)), 0.0),  # past: now
        (http_date(NOW), 0.0),
        (http_date(NOW + timedelta(days=30)), MAX_RETRY_AFTER),
        ("Wednesday, 12-Mar-25 09:02:00 GMT", 120.0),  # RFC 850, obsolete but still valid
        ("Wed Mar 12 09:02:00 2025", 120.0),  # asctime: no zone, GMT by definition
        ("Wed, 12 Mar 2025 11:02:00 +0200", 120.0),  # not GMT as HTTP requires, still read right
    ],
)
def test_retry_after_in_both_rfc_9110_forms(value, seconds):
    assert parse_retry_after(value, NOW) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value", [None, "", "   ", "soon", "12s", "1e3", "nan", "inf", "0x10", "120, 60", "12 Mar"]
)
def test_unreadable_retry_after_is_none(value):
    assert parse_retry_after(value, NOW) is None


def test_a_date_counts_from_the_now_passed_in():
    value = http_date(NOW + timedelta(minutes=10))
    assert parse_retry_after(value, NOW) == 600.0
    assert parse_retry_after(value, NOW + timedelta(minutes=4)) == 360.0


def test_retry_after_is_read_in_one_place():
    """Outside web/ (which sends the header on its own answers), only this module names it, and
    only it parses HTTP dates: no channel keeps a parser of its own."""
    root = Path(__file__).resolve().parents[2]
    header_name = re.compile(r"""["']retry-after["']""", re.IGNORECASE)
    naming, parsing = set(), set()
    for path in root.glob("**/*.py"):
        relative = path.relative_to(root)
        if {".venv", "tests", "web", "node_modules"} & set(relative.parts):
            continue
        text = path.read_text(encoding="utf-8")
        if header_name.search(text):
            naming.add(str(relative))
        if "parsedate" in text:
            parsing.add(str(relative))
    assert naming == parsing == {"integrations/http_failures.py"}


# ------------------------------------------------------------------------------- statuses

TRANSIENT = {408, 423, 425, 429, 500, 502, 503, 504, 507, 509}


@pytest.mark.parametrize("status", range(400, 600))
def test_the_status_table(status):
    assert is_transient_status(status) is (status in TRANSIENT)


def test_the_permanent_5xx_are_the_ones_no_retry_can_fix():
    permanent_5xx = {s for s in range(500, 512) if not is_transient_status(s)}
    assert permanent_5xx == {501, 505, 506, 508, 510, 511}


# ---------------------------------------------------------------------------------- answers


def test_a_transient_answer_carries_its_retry_after_and_a_plain_reason():
    failure = http_failure("Microsoft Graph", 429, {"retry-after": "12"}, code="TooManyRequests")
    assert failure.transient and failure.retry_after == 12.0
    assert failure.reason == "Microsoft Graph: HTTP 429 TooManyRequests"


def test_a_permanent_answer_ignores_retry_after():
    failure = http_failure("CalDAV", 400, {"Retry-After": "30"})
    assert not failure.transient and failure.retry_after is None
    assert failure.reason == "CalDAV: HTTP 400"


def test_an_http_date_counts_from_the_answers_own_date():
    """The server's Date and Retry-After share its clock: our clock's skew does not matter."""
    headers = {"Date": http_date(NOW), "Retry-After": http_date(NOW + timedelta(seconds=45))}
    much_later = NOW + timedelta(hours=5)
    assert http_failure("x", 503, headers, now=much_later).retry_after == 45.0


def test_without_a_readable_date_the_http_date_counts_from_now():
    later = http_date(NOW + timedelta(seconds=30))
    for headers in ({"Retry-After": later}, {"Date": "yesterday", "Retry-After": later}):
        assert http_failure("x", 503, headers, now=NOW).retry_after == 30.0


def test_the_service_may_overrule_the_status_and_add_a_fixed_note():
    failure = http_failure("Google Calendar", 403, {"Retry-After": "5"}, transient=True)
    assert failure.transient and failure.retry_after == 5.0
    note = http_failure("CalDAV", 409, note="the calendar collection probably does not exist")
    assert note.reason == "CalDAV: HTTP 409: the calendar collection probably does not exist"


def test_a_code_that_is_not_one_is_dropped_whoever_passes_it():
    failure = http_failure("slack webhook", 404, code="https://hooks.example/T0/B0?token=x")
    assert failure.reason == "slack webhook: HTTP 404"


def test_headers_in_every_shape_the_libraries_use():
    assert header({"Retry-After": "3"}, "retry-after") == "3"
    assert header({"retry-after": ["4", "5"]}, "Retry-After") == "4"  # slack_sdk's retry shape
    assert header(requests.structures.CaseInsensitiveDict({"RETRY-AFTER": "6"}), "Retry-After")
    assert header(None, "Retry-After") is None and header({"Date": "x"}, "Retry-After") is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"error": "invalid_grant", "error_description": "AADSTS70000 for ana@example.org"},
         "invalid_grant"),
        ({"error": {"code": "ErrorAccessDenied", "message": "Access is denied."}},
         "ErrorAccessDenied"),
        ({"error": {"code": 403, "errors": [{"reason": "rateLimitExceeded"}],
                    "status": "PERMISSION_DENIED"}}, "rateLimitExceeded"),
        ({"error": {"code": 404, "status": "NOT_FOUND"}}, "NOT_FOUND"),
        ({"ok": False, "error": "channel_not_found"}, "channel_not_found"),
        ({"error": "see https://example.org/x?sig=1"}, None),
        ({"error": {"code": "ana@example.org"}}, None),
        ({"error": {"code": "xoxb-1111-2222-secret"}}, None),
        ({"error": {"code": "eyJ0eXAi.payload.signature"}}, None),
        ({"message": "no error field"}, None),
        (["not", "a", "mapping"], None),
        (None, None),
    ],
)  # fmt: skip
def test_only_a_code_that_looks_like_one_is_kept(body, code):
    assert error_code(body) == code


def test_safe_codes():
    assert safe_code("users_not_found") == "users_not_found"
    for unsafe in ("", "a b", "127.0.0.1:8080", "/path", "x" * 65, "a?b=c", 429, None):
        assert safe_code(unsafe) is None


# ---------------------------------------------------------------------------------- network


def test_connection_refused_through_requests():
    url = f"http://127.0.0.1:{free_port()}/hook?sig=TOP-SECRET"
    with pytest.raises(requests.RequestException) as caught:
        requests.post(url, timeout=2)
    failure = network_failure("teams webhook", caught.value)
    assert failure.transient and failure.retry_after is None
    assert failure.reason == "teams webhook: network error (connection refused)"


def test_a_timeout_through_requests():
    with socket.socket() as silent:  # accepts connections into its backlog, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        with pytest.raises(requests.RequestException) as caught:
            requests.get(url, timeout=0.3)
    assert network_failure("CalDAV", caught.value).reason == "CalDAV: network error (timeout)"


def test_a_name_that_does_not_resolve():
    """.invalid never resolves (RFC 6761 §6.4), with or without a DNS server at hand."""
    with pytest.raises(requests.RequestException) as caught:
        requests.get("https://graph.fika-test.invalid/v1.0/users/ana@example.org", timeout=2)
    failure = network_failure("Graph", caught.value)
    assert failure.transient and failure.reason == "Graph: network error (name not resolved)"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
         "connection refused"),
        (TimeoutError("timed out"), "timeout"),
        (requests.exceptions.SSLError("certificate verify failed for https://x.example/"),
         "TLS error"),
        (requests.exceptions.ProxyError("proxy"), "proxy error"),
        (ConnectionResetError(104, "Connection reset by peer"), "connection lost"),
        (requests.exceptions.ChunkedEncodingError("broken"), "connection lost"),
        (requests.ConnectionError("https://x.example/?sig=1"), "connection failed"),
        (urllib.error.URLError("unknown url type: https://x.example"), "connection failed"),
        (RuntimeError("https://x.example/?sig=1"), "RuntimeError"),
    ],
)  # fmt: skip
def test_network_kinds_never_quote_the_error(error, kind):
    failure = network_failure("slack webhook", error)
    assert failure.transient and failure.reason == f"slack webhook: network error ({kind})"


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.InvalidURL("https://x.example:99999/?sig=TOP-SECRET"),
        requests.exceptions.MissingSchema("x.example/?sig=TOP-SECRET"),
        requests.exceptions.TooManyRedirects("https://x.example/loop?sig=TOP-SECRET"),
    ],
)
def test_a_request_that_could_never_be_sent_is_permanent(error):
    failure = network_failure("Microsoft Graph", error)
    assert not failure.transient
    assert failure.reason == f"Microsoft Graph: request not sent ({type(error).__name__})"
