"""The JSON edge: bad input gives one line naming the field and the participant."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pairing import RequestError, parse_request, plan_json
from pairing.model import Participant

ROOT = Path(__file__).resolve().parents[2]


def _request(*people: dict, **fields) -> dict:
    return {"date": "2025-03-04", "participants": list(people), **fields}


def _error(obj: object) -> str:
    with pytest.raises(RequestError) as caught:
        parse_request(obj)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_unknown_time_zone_names_field_and_participant(person):
    crowd = [person(f"p{i}") for i in range(17)] + [person("ana", timezone="Europe/Stokholm")]
    message = _error(_request(*crowd))
    assert message.startswith("participants[17].timezone: unknown time zone 'Europe/Stokholm'")
    assert "'ana'" in message


def test_work_hours_ending_before_they_start(person):
    message = _error(_request(person("a"), person("bo", work_hours=["17:00", "09:00"])))
    assert message.startswith("participants[1].work_hours: end 09:00 is not after start 17:00")
    assert "'bo'" in message


@pytest.mark.parametrize("hours", [["9", "17:00"], ["09:00"], "09-17", ["25:00", "26:00"]])
def test_malformed_work_hours(person, hours):
    assert _error(_request(person("a", work_hours=hours))).startswith("participants[0].work_hours")


def test_duplicate_ids(person):
    message = _error(_request(person("a"), person("b"), person("a")))
    assert message.startswith("participants[2].id: duplicate id, already used by participants[0]")


def test_manager_who_is_not_a_participant_is_allowed(person):
    request = parse_request(_request(person("a", manager="nobody-here"), person("b")))
    assert request.participants[0].manager == "nobody-here"
    assert json.loads(plan_json(json.dumps(_request(person("a", manager="x"), person("b")))))[
        "groups"
    ]


@pytest.mark.parametrize(
    ("obj", "start"),
    [
        ({"participants": []}, "date: missing"),
        ({"date": "2025-02-30", "participants": []}, "date: not a real date"),
        ({"date": "04/03/2025", "participants": []}, "date: expected a date YYYY-MM-DD"),
        ({"date": "2025-03-04"}, "participants: missing"),
        ({"date": "2025-03-04", "participants": {}}, "participants: expected a list"),
        (
            {"date": "2025-03-04", "participants": [], "group_size": 9},
            "group_size: must be between 2 and 8",
        ),
        ({"date": "2025-03-04", "participants": [], "seed": "x"}, "seed: expected a whole number"),
        (
            {"date": "2025-03-04", "participants": [], "history": [{"date": "yesterday"}]},
            "history[0].date: expected a date",
        ),
        (
            {"date": "2025-03-04", "participants": [], "preferred_start": "2025-03-04T10:00"},
            "preferred_start: instant '2025-03-04T10:00' needs a UTC offset",
        ),
        ([1, 2], "request: expected a JSON object"),
    ],
)
def test_malformed_request_fields(obj, start):
    assert _error(obj).startswith(start)


@pytest.mark.parametrize(
    ("fields", "start"),
    [
        (
            {"busy": [["2025-03-04T10:00:00", "2025-03-04T11:00:00Z"]]},
            "participants[0].busy[0][0]: instant",
        ),
        (
            {"busy": [["2025-03-04T11:00:00Z", "2025-03-04T10:00:00Z"]]},
            "participants[0].busy[0]: end",
        ),
        (
            {"busy": [["tomorrow", "2025-03-04T10:00:00Z"]]},
            "participants[0].busy[0][0]: expected an ISO",
        ),
        ({"mode": "hologram"}, "participants[0].mode: expected one of"),
        ({"site": 3}, "participants[0].site: expected an office name or null"),
        ({"avoid": "b"}, "participants[0].avoid: expected a list of strings"),
        ({"topics": [1]}, "participants[0].topics[0]: expected a string"),
        ({"department": ""}, "participants[0].department: expected a non-empty string"),
    ],
)
def test_malformed_participant_fields(person, fields, start):
    message = _error(_request({"id": "ana", "department": "Sales", **fields}))
    assert message.startswith(start)
    assert message.endswith("(participant 'ana')")


def test_missing_id_names_the_position():
    assert _error(_request({"department": "Sales"})).startswith(
        "participants[0].id: expected a non-empty"
    )


def test_not_json():
    with pytest.raises(RequestError) as caught:
        plan_json("{not json")
    assert str(caught.value).startswith("stdin: not valid JSON: ")
    assert "\n" not in str(caught.value)


def test_defaults_fill_in(person):
    request = parse_request(_request(person("a")))
    assert (
        request.group_size == 2 and request.duration_minutes == 15 and request.cooldown_rounds == 10
    )
    assert request.participants[0] == Participant("a", "Sales")


def test_response_shape_and_utc_times(person):
    text = plan_json(
        json.dumps(_request(person("a", site="Stockholm"), person("b", department="Research")))
    )
    data = json.loads(text)
    assert set(data) == {"groups", "unmatched", "stats"}
    group = data["groups"][0]
    assert set(group) == {"members", "mode", "site", "start", "end", "reasons"}
    assert group["start"].endswith("Z") and group["end"].endswith("Z")
    assert group["start"] == "2025-03-04T12:50:00Z" and group["end"] == "2025-03-04T13:05:00Z"
    assert set(data["stats"]) == {
        "participants",
        "groups",
        "by_size",
        "unmatched",
        "repeats",
        "cross_department",
        "hybrid",
        "in_person",
        "seconds",
    }
    assert data["stats"]["by_size"] == {"2": 1}


def test_module_entry_point_exits_2_with_one_line():
    bad = json.dumps(_request({"id": "ana", "department": "Sales", "timezone": "Mars/Olympus"}))
    done = subprocess.run(
        [sys.executable, "-m", "pairing"],
        input=bad,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert (
        done.stderr
        == "participants[0].timezone: unknown time zone 'Mars/Olympus' (participant 'ana')\n"
    )


@pytest.mark.parametrize("zone", ["localtime", "posixrules", "Europe/" + "x" * 100_000])
def test_only_iana_zones_are_zones_for_the_planner_too(zone):
    """The same rule as every way into the service (``core.zones``): no host file, no lookup."""
    request = {
        "date": "2027-01-04",
        "participants": [
            {"id": "a", "department": "Sales", "timezone": zone},
            {"id": "b", "department": "Legal"},
        ],
    }
    with pytest.raises(RequestError, match=r"participants\[0\]\.timezone: unknown time zone"):
        plan_json(json.dumps(request))
