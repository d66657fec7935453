"""The JSON edge of the engine: validate a decoded request, encode a plan.

``parse_request`` turns a decoded JSON object into a :class:`PlanRequest` or raises a
:class:`RequestError` whose message is one line naming the field path and the
participant. ``plan_json`` is the whole ``fika plan`` pipeline on strings.
Unknown keys are ignored so callers may send extra data (names, e-mails).
"""

from __future__ import annotations

import datetime
import json
import re
from functools import lru_cache
from itertools import chain
from zoneinfo import ZoneInfo

import orjson

from pairing.gcpause import gc_paused
from pairing.model import (
    GROUP_SIZES,
    MODES,
    HistoryRound,
    Mode,
    Participant,
    Plan,
    PlanRequest,
    RequestError,
)
from pairing.planner import plan_round
from pairing.zones import is_zone

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_UTC = datetime.UTC


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    """The zone called ``name``, or None when there is no such IANA zone (``localtime`` and
    other files of the host are not zones: see ``pairing.zones``)."""
    return ZoneInfo(name) if is_zone(name) else None


def _fail(path: str, message: str, who: str | None = None) -> RequestError:
    note = f" (participant {who!r})" if who else ""
    return RequestError(f"{path}: {message}{note}")


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _int(obj: dict, key: str, default: int, low: int, high: int) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(key, f"expected a whole number, got {_short(value)}")
    if not low <= value <= high:
        raise _fail(key, f"must be between {low} and {high}, got {value}")
    return value


def _date(value: object, path: str) -> datetime.date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _fail(path, f"expected a date YYYY-MM-DD, got {_short(value)}")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise _fail(path, f"not a real date: {value!r}") from None


@lru_cache(maxsize=8192)
def _instant_text(value: str) -> datetime.datetime | str:
    """The instant ``value`` names, or what is wrong with it. Cached: busy times repeat
    (meetings start on the hour and the half hour), and a datetime is immutable."""
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return f"expected an ISO 8601 instant, got {value!r}"
    if moment.tzinfo is None or moment.utcoffset() is None:
        return f"instant {value!r} needs a UTC offset or 'Z'"
    return moment


def _instant(value: object, path: str, who: str | None = None) -> datetime.datetime:
    if not isinstance(value, str):
        raise _fail(path, f"expected an ISO 8601 instant, got {_short(value)}", who)
    moment = _instant_text(value)
    if isinstance(moment, str):
        raise _fail(path, moment, who)
    return moment


@lru_cache(maxsize=4096)
def _clock_text(value: str) -> datetime.time | None:
    match = _CLOCK.fullmatch(value)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        return None
    return datetime.time(int(match[1]), int(match[2]))


def _clock(value: object, path: str, who: str) -> datetime.time:
    moment = _clock_text(value) if isinstance(value, str) else None
    if moment is None:
        raise _fail(
            path, f"expected a time HH:MM between 00:00 and 23:59, got {_short(value)}", who
        )
    return moment


def _strings(value: object, path: str, who: str | None = None) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _fail(path, f"expected a list of strings, got {_short(value)}", who)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _fail(f"{path}[{index}]", f"expected a string, got {_short(item)}", who)
    return tuple(value)


def _work_hours(value: object, path: str, who: str) -> tuple[datetime.time, datetime.time]:
    if not isinstance(value, list) or len(value) != 2:
        raise _fail(path, f'expected ["HH:MM", "HH:MM"], got {_short(value)}', who)
    start, end = _clock(value[0], f"{path}[0]", who), _clock(value[1], f"{path}[1]", who)
    if end <= start:
        raise _fail(path, f"end {value[1]} is not after start {value[0]}", who)
    return start, end


@lru_cache(maxsize=8192)
def _span_text(start: str, end: str) -> tuple[datetime.datetime, datetime.datetime] | None:
    """A valid busy span from its two texts, or None (then :func:`_checked_busy` says why).
    Cached like :func:`_instant_text`: the same meetings recur across a whole company."""
    first, last = _instant_text(start), _instant_text(end)
    if isinstance(first, str) or isinstance(last, str) or last <= first:
        return None
    return first, last


def _plain_busy(value: list) -> tuple[tuple[datetime.datetime, datetime.datetime], ...] | None:
    """The spans of a list of valid ``[start, end]`` texts, or None when one is not
    (then :func:`_checked_busy` says which and why)."""
    spans = []
    for span in value:
        if type(span) is list and len(span) == 2:
            start, end = span
            if type(start) is str and type(end) is str:
                pair = _span_text(start, end)
                if pair is not None:
                    spans.append(pair)
                    continue
        return None
    return tuple(spans)


def _busy(
    value: object, path: str, who: str
) -> tuple[tuple[datetime.datetime, datetime.datetime], ...]:
    spans = _plain_busy(value) if type(value) is list else None
    return _checked_busy(value, path, who) if spans is None else spans


def _checked_busy(
    value: object, path: str, who: str
) -> tuple[tuple[datetime.datetime, datetime.datetime], ...]:
    if not isinstance(value, list):
        raise _fail(path, f"expected a list of [start, end] instants, got {_short(value)}", who)
    spans = []
    for index, span in enumerate(value):
        if not isinstance(span, list) or len(span) != 2:
            raise _fail(f"{path}[{index}]", f"expected [start, end], got {_short(span)}", who)
        start = _instant(span[0], f"{path}[{index}][0]", who)
        end = _instant(span[1], f"{path}[{index}][1]", who)
        if end <= start:
            raise _fail(f"{path}[{index}]", f"end {span[1]} is not after start {span[0]}", who)
        spans.append((start, end))
    return tuple(spans)


_DEFAULT_HOURS = (datetime.time(9), datetime.time(17))
_NO_ONE: frozenset[str] = frozenset()


def _participant(obj: object, path: str) -> Participant:
    if not isinstance(obj, dict):
        raise _fail(path, f"expected an object, got {_short(obj)}")
    pid = obj.get("id")
    if not isinstance(pid, str) or not pid:
        raise _fail(f"{path}.id", f"expected a non-empty string, got {_short(pid)}")
    department = obj.get("department")
    if not isinstance(department, str) or not department:
        raise _fail(
            f"{path}.department", f"expected a non-empty string, got {_short(department)}", pid
        )
    site = obj.get("site")
    if site is not None and (not isinstance(site, str) or not site):
        raise _fail(f"{path}.site", f"expected an office name or null, got {_short(site)}", pid)
    timezone = obj.get("timezone", "UTC")
    if not isinstance(timezone, str) or _zone(timezone) is None:
        raise _fail(f"{path}.timezone", f"unknown time zone {_short(timezone)}", pid)
    hours = obj.get("work_hours")
    hours = _DEFAULT_HOURS if hours is None else _work_hours(hours, f"{path}.work_hours", pid)
    busy = obj.get("busy")
    busy = (
        ()
        if not busy and isinstance(busy, list) or busy is None
        else _busy(busy, f"{path}.busy", pid)
    )
    mode = obj.get("mode", Mode.EITHER)
    if mode not in MODES:
        raise _fail(
            f"{path}.mode", f"expected one of in_person, virtual, either, got {_short(mode)}", pid
        )
    manager = obj.get("manager")
    if manager is not None and not isinstance(manager, str):
        raise _fail(f"{path}.manager", f"expected an id or null, got {_short(manager)}", pid)
    avoid = obj.get("avoid")
    avoid = _NO_ONE if avoid is None else frozenset(_strings(avoid, f"{path}.avoid", pid))
    topics = obj.get("topics")
    topics = () if topics is None else _strings(topics, f"{path}.topics", pid)
    shares = obj.get("share_topics")
    shares = () if shares is None else _strings(shares, f"{path}.share_topics", pid)
    return Participant(
        pid, department, site, timezone, hours, busy, mode, manager, avoid, topics, shares
    )


@lru_cache(maxsize=4096)
def _hours_text(start: str, end: str) -> tuple[datetime.time, datetime.time] | None:
    """Valid working hours from their two texts, or None (then :func:`_work_hours` says
    why). Cached: a company has a handful of distinct working days."""
    first, last = _clock_text(start), _clock_text(end)
    if first is None or last is None or last <= first:
        return None
    return first, last


def _listed_strings(value: object, empty: tuple | frozenset) -> tuple | frozenset | None:
    """``empty`` for a missing list, the strings of a list of strings (as ``type(empty)``),
    or None for anything :func:`_strings` would have to look at."""
    if value is None:
        return empty
    if type(value) is list and all(type(item) is str for item in value):
        return type(empty)(value)
    return None


def _plain_participant(obj: object) -> Participant | None:
    """The participant in ``obj`` when every field has its plain, valid JSON shape, else
    None: then :func:`_participant` checks it field by field and names what is wrong.

    Gives exactly what :func:`_participant` gives wherever it gives anything; it only
    skips the field paths and messages an error would need, which at 50,000 people
    cost as much as the checks. Values of other types (subclasses of ``str`` or
    ``list``, as a caller in Python may pass) take the full path.
    """
    if type(obj) is not dict:
        return None
    get = obj.get
    pid, department, site = get("id"), get("department"), get("site")
    if type(pid) is not str or not pid or type(department) is not str or not department:
        return None
    if site is not None and (type(site) is not str or not site):
        return None
    timezone = get("timezone", "UTC")
    if type(timezone) is not str or _zone(timezone) is None:
        return None
    hours = get("work_hours")
    if hours is None:
        hours = _DEFAULT_HOURS
    elif type(hours) is list and len(hours) == 2:
        start, end = hours
        hours = _hours_text(start, end) if type(start) is str and type(end) is str else None
        if hours is None:
            return None
    else:
        return None
    busy = get("busy")
    if busy is None:
        busy = ()
    elif type(busy) is list:
        busy = _plain_busy(busy)
        if busy is None:
            return None
    else:
        return None
    mode = get("mode", Mode.EITHER)
    manager = get("manager")
    if mode not in MODES or manager is not None and type(manager) is not str:
        return None
    avoid = _listed_strings(get("avoid"), _NO_ONE)
    topics = _listed_strings(get("topics"), ())
    shares = _listed_strings(get("share_topics"), ())
    if avoid is None or topics is None or shares is None:
        return None
    return Participant(
        pid, department, site, timezone, hours, busy, mode, manager, avoid, topics, shares
    )


def _history(value: object) -> tuple[HistoryRound, ...]:
    if not isinstance(value, list):
        raise _fail("history", f"expected a list of rounds, got {_short(value)}")
    rounds = []
    for index, item in enumerate(value):
        path = f"history[{index}]"
        if not isinstance(item, dict):
            raise _fail(path, f"expected an object, got {_short(item)}")
        if "date" not in item:
            raise _fail(f"{path}.date", "missing; expected a date YYYY-MM-DD")
        day = _date(item["date"], f"{path}.date")
        groups = item.get("groups")
        if not isinstance(groups, list):
            raise _fail(f"{path}.groups", f"expected a list of groups, got {_short(groups)}")
        if set(map(type, groups)) <= {list} and set(map(type, chain.from_iterable(groups))) <= {
            str
        }:  # every group a list of strings: converted at C speed
            rounds.append(HistoryRound(day, tuple(map(tuple, groups))))
            continue
        members = []
        for i, group in enumerate(groups):
            if type(group) is list and len(group) == 2:  # pairs, the common case, kept lean
                if type(group[0]) is str and type(group[1]) is str:
                    members.append((group[0], group[1]))
                    continue
            if type(group) is not list or not all(type(m) is str for m in group):
                _strings(group, f"{path}.groups[{i}]")  # raises with the exact place
            members.append(tuple(group))
        rounds.append(HistoryRound(day, tuple(members)))
    return tuple(rounds)


def parse_request(obj: object) -> PlanRequest:
    """Validate a decoded JSON request and build a :class:`PlanRequest`.

    Raises :class:`RequestError` with a one-line message naming the field path and the
    participant. A ``manager`` or ``avoid`` id that is not a participant is allowed.
    """
    if not isinstance(obj, dict):
        raise _fail("request", f"expected a JSON object, got {_short(obj)}")
    if "date" not in obj:
        raise _fail("date", "missing; expected a date YYYY-MM-DD")
    day = _date(obj["date"], "date")
    seed = obj.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise _fail("seed", f"expected a whole number, got {_short(seed)}")
    group_size = _int(obj, "group_size", 2, GROUP_SIZES[0], GROUP_SIZES[-1])
    duration = _int(obj, "duration_minutes", 15, 5, 240)
    cooldown = _int(obj, "cooldown_rounds", 10, 0, 1000)
    preferred = obj.get("preferred_start")
    preferred = None if preferred is None else _instant(preferred, "preferred_start")
    if "participants" not in obj:
        raise _fail("participants", "missing; expected a list of participants")
    people = obj["participants"]
    if not isinstance(people, list):
        raise _fail("participants", f"expected a list, got {_short(people)}")
    participants = []
    seen: dict[str, int] = {}
    for index, item in enumerate(people):
        person = _plain_participant(item) or _participant(item, f"participants[{index}]")
        if person.id in seen:
            raise _fail(
                f"participants[{index}].id",
                f"duplicate id, already used by participants[{seen[person.id]}]",
                person.id,
            )
        seen[person.id] = index
        participants.append(person)
    history = obj.get("history")
    history = () if history is None else _history(history)
    return PlanRequest(
        day, tuple(participants), history, group_size, duration, cooldown, seed, preferred
    )


@lru_cache(maxsize=8192)
def _stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_to_dict(plan: Plan) -> dict:
    """The JSON response shape: ``groups``, ``unmatched`` and ``stats``; times in UTC with 'Z'."""
    groups = [
        {
            "members": list(g.members),
            "mode": g.mode,
            "site": g.site,
            "start": _stamp(g.start),
            "end": _stamp(g.end),
            "reasons": list(g.reasons),
        }
        for g in plan.groups
    ]
    unmatched = [{"id": u.id, "reason": u.reason} for u in plan.unmatched]
    stats = dict(plan.stats)
    if "by_size" in stats:
        stats["by_size"] = {
            str(k): v for k, v in sorted(stats["by_size"].items(), key=lambda kv: int(kv[0]))
        }
    return {"groups": groups, "unmatched": unmatched, "stats": stats}


def _decode(text: str) -> object:
    """The standard library's reading of ``text``, or the :class:`RequestError` people see."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as err:
        raise RequestError(f"stdin: not valid JSON: {err}".replace("\n", " ")) from None


def read_request(text: str) -> PlanRequest:
    """The :class:`PlanRequest` in a JSON text; :class:`RequestError` when there is none.

    orjson reads the text (a 50,000-person request several times faster). It differs
    from the standard library only on what no valid request holds: it refuses NaN and
    lone surrogates, and reads integers past 64 bits as floats. So whatever it refuses,
    or whatever then fails validation, is read again by the standard library, whose
    result and error messages are the contract.
    """
    try:
        return parse_request(orjson.loads(text))
    except (orjson.JSONDecodeError, RequestError):
        return parse_request(_decode(text))


def plan_json(text: str) -> str:
    """Decode a JSON request, plan the round and encode the plan as JSON.

    Deterministic apart from ``stats.seconds``. Raises :class:`RequestError` for
    text that is not JSON (``stdin: not valid JSON: ...``) or not a valid request.
    The JSON is compact UTF-8 written by orjson (a tenth of the standard library's
    time for 25,000 groups); it reads back to what ``json.dumps`` of
    :func:`plan_to_dict` would give. ``OPT_NON_STR_KEYS`` writes the one enum key of
    ``stats`` (``Mode.IN_PERSON``) as its value, as the standard library does.
    """
    with gc_paused():
        plan = plan_to_dict(plan_round(read_request(text)))
        return orjson.dumps(plan, option=orjson.OPT_NON_STR_KEYS).decode()
