"""CalDAV against a real Radicale on 127.0.0.1: create, update and delete, read back over CalDAV."""

from dataclasses import replace
from datetime import timedelta
from xml.etree import ElementTree

import icalendar
import pytest
import requests
from werkzeug import Response

from integrations.caldav import CalDavChannel
from tests.integrations.builders import ANA, BEN, CHEN, make_invite, messages_for
from tests.servers import free_port

REPORT = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"/></C:comp-filter>
  </C:filter>
</C:calendar-query>"""


def events_in(server, collection: str) -> list[icalendar.Event]:
    """Every VEVENT in the collection, via a CalDAV calendar-query REPORT (RFC 4791 §7.8)."""
    with requests.Session() as session:
        response = session.request(
            "REPORT",
            collection,
            data=REPORT,
            auth=server.auth,
            headers={"Depth": "1", "Content-Type": "application/xml"},
            timeout=5,
        )
    assert response.status_code == 207, response.text
    tree = ElementTree.fromstring(response.content)
    datas = tree.iter("{urn:ietf:params:xml:ns:caldav}calendar-data")
    return [icalendar.Calendar.from_ical(d.text).walk("VEVENT")[0] for d in datas if d.text]


@pytest.fixture
def collection(radicale_server, request):
    return radicale_server.make_calendar(request.node.name.replace("[", "-").strip("]"))


@pytest.fixture
def channel(radicale_server, collection):
    return CalDavChannel(collection, radicale_server.username, radicale_server.password, timeout=5)


def test_create_update_and_delete_one_groups_event(radicale_server, collection, channel):
    invite = make_invite()
    assert channel.name == "caldav"
    assert channel.send(messages_for(invite)) == [None, None, None]  # three members, one event
    (event,) = events_in(radicale_server, collection)
    assert str(event["UID"]) == invite.uid
    assert event["SEQUENCE"] == 0
    assert event.decoded("DTSTART") == invite.start
    assert [str(a) for a in event["ATTENDEE"]] == [f"mailto:{m.email}" for m in invite.attendees]
    with requests.Session() as session:
        stored = session.get(channel.event_url(invite.uid), auth=radicale_server.auth, timeout=5)
    assert stored.status_code == 200
    assert b"METHOD:" not in stored.content  # RFC 4791: no iTIP method in stored objects

    moved = replace(invite, sequence=1, start=invite.start + timedelta(hours=2),
                    end=invite.end + timedelta(hours=2))  # fmt: skip
    assert channel.send(messages_for(moved)) == [None, None, None]
    (event,) = events_in(radicale_server, collection)
    assert event["SEQUENCE"] == 1
    assert event.decoded("DTSTART") == moved.start

    # A late retry of the older version must not undo the move.
    assert channel.send(messages_for(invite)[:1]) == [None]
    (event,) = events_in(radicale_server, collection)
    assert event["SEQUENCE"] == 1

    # A resend of the current version is a no-op.
    assert channel.send(messages_for(moved)[:1]) == [None]

    cancelled = replace(moved, sequence=2, method="CANCEL")
    assert channel.send(messages_for(cancelled)) == [None, None, None]
    assert events_in(radicale_server, collection) == []
    # Cancelling again (a retry) is still fine.
    assert channel.send(messages_for(cancelled)[:1]) == [None]


def test_one_member_leaving_updates_the_event_for_the_rest(radicale_server, collection, channel):
    invite = make_invite()
    channel.send(messages_for(invite))
    left = replace(invite, sequence=1, method="CANCEL", cancel_scope="attendees", attendees=(CHEN,))
    rest = replace(invite, sequence=1, attendees=(ANA, BEN))
    batch = messages_for(left) + messages_for(rest)
    assert channel.send(batch) == [None, None, None]
    (event,) = events_in(radicale_server, collection)
    assert [str(a) for a in event["ATTENDEE"]] == [f"mailto:{ANA.email}", f"mailto:{BEN.email}"]
    # The per-attendee cancel alone (another batch) leaves the shared event alone.
    assert channel.send(messages_for(replace(left, sequence=2))) == [None]
    assert len(events_in(radicale_server, collection)) == 1


def test_a_wrong_password_is_permanent(radicale_server, collection):
    channel = CalDavChannel(collection, radicale_server.username, "wrong", timeout=5)
    (outcome,) = channel.send(messages_for(make_invite())[:1])
    assert outcome is not None and not outcome.transient and "401" in outcome.reason


def test_a_missing_collection_is_permanent(radicale_server):
    url = f"{radicale_server.base_url}/{radicale_server.username}/no-such-calendar/nested/"
    channel = CalDavChannel(url, radicale_server.username, radicale_server.password, timeout=5)
    (outcome,) = channel.send(messages_for(make_invite())[:1])
    assert outcome is not None and not outcome.transient
    assert outcome.reason.startswith("CalDAV: HTTP 4") and "no-such-calendar" not in outcome.reason


def test_a_409_on_put_points_at_the_collection_setting(httpserver_ipv4):
    """RFC 4918 §9.7.1: a PUT into a collection that does not exist is a 409 Conflict."""
    invite = make_invite()
    path = f"/missing/{invite.uid}.ics"
    httpserver_ipv4.expect_request(path, method="PUT").respond_with_data("", status=409)
    channel = CalDavChannel(httpserver_ipv4.url_for("/missing/"), timeout=5)
    (outcome,) = channel.send(messages_for(invite)[:1])
    assert outcome is not None and not outcome.transient
    assert outcome.reason == (
        "CalDAV: HTTP 409: the calendar collection in FIKA_CALDAV_URL probably does not exist"
    )


def test_an_unreachable_server_is_transient():
    channel = CalDavChannel(f"http://127.0.0.1:{free_port()}/cal/", "u", "p", timeout=2)
    outcomes = channel.send(messages_for(make_invite()))
    assert all(o is not None and o.transient for o in outcomes)


def test_a_concurrent_change_is_reread_and_retried(httpserver_ipv4):
    """412 on If-Match means someone wrote in between: read the new ETag and try again."""
    invite = make_invite(sequence=1)
    path = f"/cal/{invite.uid}.ics"
    etags = iter(['"a"', '"b"'])
    puts: list[str | None] = []

    def get(request):
        return Response(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", headers={"ETag": next(etags)})

    def put(request):
        puts.append(request.headers.get("If-Match"))
        return Response(status=412 if len(puts) == 1 else 204)

    httpserver_ipv4.expect_request(path, method="GET").respond_with_handler(get)
    httpserver_ipv4.expect_request(path, method="PUT").respond_with_handler(put)
    channel = CalDavChannel(httpserver_ipv4.url_for("/cal"), "u", "p", timeout=5)
    assert channel.send(messages_for(invite)[:1]) == [None]
    assert puts == ['"a"', '"b"']


def test_an_event_that_keeps_changing_is_transient_without_its_url(httpserver_ipv4):
    invite = make_invite(sequence=1)
    path = f"/cal/{invite.uid}.ics"
    httpserver_ipv4.expect_request(path, method="GET").respond_with_data(
        "", headers={"ETag": '"a"'}
    )
    httpserver_ipv4.expect_request(path, method="PUT").respond_with_data("", status=412)
    channel = CalDavChannel(httpserver_ipv4.url_for("/cal"), "u", "p", timeout=5)
    (outcome,) = channel.send(messages_for(invite)[:1])
    assert outcome is not None and outcome.transient
    assert outcome.reason == "CalDAV: HTTP 412: the event kept changing while being written"


def test_server_errors_are_transient_with_retry_after(httpserver_ipv4):
    invite = make_invite()
    httpserver_ipv4.expect_request(f"/cal/{invite.uid}.ics", method="PUT").respond_with_data(
        "busy", status=503, headers={"Retry-After": "7"}
    )
    channel = CalDavChannel(httpserver_ipv4.url_for("/cal/"), timeout=5)
    (outcome,) = channel.send(messages_for(invite)[:1])
    assert outcome.transient and outcome.retry_after == 7.0
    assert outcome.reason == "CalDAV: HTTP 503"  # neither the body nor the event's URL
