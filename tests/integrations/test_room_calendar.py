"""The drop-in room's recurring invite: same occurrences in two independent parsers across DST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
import vobject
from dateutil.rrule import rrulestr

from integrations.base import Attendee, RoomInvite
from integrations.room_calendar import build_room_calendar

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def room(**changes) -> RoomInvite:
    base = dict(
        uid="fika-room-1-42",
        sequence=0,
        method="REQUEST",
        programme="Daily coffee room",
        days=("mon", "tue", "wed", "thu", "fri"),
        local_time=time(10),
        timezone="Europe/Stockholm",
        duration_minutes=15,
        first_day=date(2027, 3, 13),  # a Saturday, two weeks before summer time starts
        room_url="https://meet.jit.si/fika-room-abc123",
        organizer_name="Fika",
        organizer_email="fika@example.org",
        attendee=Attendee("Ana Berg", "ana@example.org", "America/New_York"),
        stamp=datetime(2027, 3, 1, 8, tzinfo=UTC),
    )
    base.update(changes)
    return RoomInvite(**base)


def with_icalendar(data: bytes, start: datetime, end: datetime) -> list[datetime]:
    calendar = icalendar.Calendar.from_ical(data)
    events = recurring_ical_events.of(calendar).between(start, end)
    return sorted(e["DTSTART"].dt.astimezone(UTC) for e in events)


def with_vobject(data: bytes, start: datetime, end: datetime) -> list[datetime]:
    """vobject reads the text; dateutil expands the rule in the TZID's zone, as clients do.

    (vobject's own getrruleset attaches pytz zones, whose fixed offsets put every occurrence
    after a DST change an hour off: that is vobject's bug, not the invite's.)
    """
    event = vobject.readOne(data.decode()).vevent
    # vobject moves TZID to this parameter; for UTC it converts the value to its own utc.
    tzid = event.dtstart.params.get("X-VOBJ-ORIGINAL-TZID", [None])[0]
    if tzid is None:
        assert event.dtstart.value.utcoffset() == timedelta(0)
        tzid = "UTC"
    zone = ZoneInfo(tzid)
    first = event.dtstart.value.replace(tzinfo=None)
    rule = rrulestr(event.rrule.value, dtstart=first)
    skipped = {
        d.replace(tzinfo=None) for line in event.contents.get("exdate", []) for d in line.value
    }
    local_end = end.astimezone(zone).replace(tzinfo=None)
    return sorted(
        local.replace(tzinfo=zone).astimezone(UTC)
        for local in rule.between(first, local_end, inc=True)
        if local not in skipped and local.replace(tzinfo=zone) >= start
    )


def test_sixty_days_across_dst_agree_in_both_parsers_and_stay_at_ten_local():
    data = build_room_calendar(room())
    start = datetime(2027, 3, 13, tzinfo=UTC)
    end = start + timedelta(days=60)
    first, second = with_icalendar(data, start, end), with_vobject(data, start, end)
    assert first == second
    assert len(first) == 42  # every weekday from Mon 15 March to Tue 11 May 2027
    assert {d.astimezone(STOCKHOLM).time() for d in first} == {time(10)}
    assert {d.astimezone(STOCKHOLM).weekday() for d in first} == set(range(5))
    # Summer time starts on 28 March 2027: 09:00 UTC before, 08:00 UTC after.
    assert datetime(2027, 3, 26, 9, tzinfo=UTC) in first
    assert datetime(2027, 3, 29, 8, tzinfo=UTC) in first


def test_calendar_has_vtimezone_rrule_and_attendee():
    calendar = icalendar.Calendar.from_ical(build_room_calendar(room()))
    assert str(calendar["METHOD"]) == "REQUEST"
    (tz,) = calendar.walk("VTIMEZONE")
    assert str(tz["TZID"]) == "Europe/Stockholm"
    (event,) = calendar.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
    assert event["RRULE"]["FREQ"] == ["WEEKLY"]
    assert event["RRULE"]["BYDAY"] == ["MO", "TU", "WE", "TH", "FR"]
    assert str(event["ATTENDEE"]) == "mailto:ana@example.org"
    assert event["ATTENDEE"].params["RSVP"] == "TRUE"
    assert "sign in" in str(event["DESCRIPTION"])  # the public Jitsi note


def test_pause_as_exdates_removes_those_days_in_both_parsers():
    skipped = (date(2027, 3, 16), date(2027, 3, 17))
    data = build_room_calendar(room(sequence=1, exdates=skipped))
    start, end = datetime(2027, 3, 15, tzinfo=UTC), datetime(2027, 3, 20, tzinfo=UTC)
    expected = [datetime(2027, 3, d, 9, tzinfo=UTC) for d in (15, 18, 19)]
    assert with_icalendar(data, start, end) == expected == with_vobject(data, start, end)


def test_update_and_cancel_keep_uid_and_raise_sequence():
    versions = [
        room(),
        room(sequence=1, local_time=time(10, 30)),
        room(sequence=2, method="CANCEL"),
    ]
    events = [
        icalendar.Calendar.from_ical(build_room_calendar(v)).walk("VEVENT")[0] for v in versions
    ]
    assert {str(e["UID"]) for e in events} == {"fika-room-1-42"}
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert events[1]["DTSTART"].dt.time() == time(10, 30)
    assert str(events[2]["STATUS"]) == "CANCELLED"


def test_no_days_is_refused():
    with pytest.raises(ValueError, match="at least one day"):
        build_room_calendar(room(days=()))


def test_same_version_is_byte_identical():
    assert build_room_calendar(room()) == build_room_calendar(room())


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Stockholm",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "America/Santiago",
        "Pacific/Auckland",
        "Europe/London",
        "Africa/Casablanca",
        "UTC",
    ],
)
def test_a_year_of_occurrences_agrees_in_both_parsers_in_many_zones(zone):
    data = build_room_calendar(room(timezone=zone, first_day=date(2026, 12, 1)))
    start = datetime(2026, 12, 1, tzinfo=UTC)
    end = start + timedelta(days=365)
    first, second = with_icalendar(data, start, end), with_vobject(data, start, end)
    assert first == second and len(first) > 250
    assert {d.astimezone(ZoneInfo(zone)).time() for d in first} == {time(10)}
