"""Days without a break: the public holidays of the office's country, from the ``holidays`` package.

A programme names its country (``Programme.holiday_country``, ISO 3166 alpha-2, optionally with a
subdivision: ``"DE-BY"``, ``"US-NY"``); when it names none, the country is the one its time zone
belongs to in the IANA ``zone.tab`` (Europe/Stockholm → SE), so a fresh install skips the right
days without configuration. An empty string turns public holidays off.
"""

from __future__ import annotations

import functools
import importlib.resources
import logging
from datetime import date

import holidays

log = logging.getLogger("fika.clock")


@functools.cache
def _zone_countries() -> dict[str, str]:
    """Time zone name → ISO country code, from the tzdata package's zone.tab."""
    mapping: dict[str, str] = {}
    try:
        text = importlib.resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text()
    except (FileNotFoundError, ModuleNotFoundError):  # pragma: no cover - tzdata is a dependency
        return mapping
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            mapping[fields[2]] = fields[0]
    return mapping


def country_for_timezone(zone: str) -> str | None:
    """The ISO country a zone belongs to (None for UTC, Etc/* and other countryless zones)."""
    return _zone_countries().get(zone)


def holiday_country(configured: str | None, zone: str) -> str | None:
    """The country whose holidays a programme skips: its own setting, else its zone's country."""
    if configured is None:
        return country_for_timezone(zone)
    return configured.strip().upper() or None


@functools.lru_cache(maxsize=256)
def _calendar(country: str, year: int) -> frozenset[date]:
    code, _, subdivision = country.partition("-")
    try:
        calendar = holidays.country_holidays(code, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        log.warning("holidays: no public holidays known for country=%s; none skipped", country)
        return frozenset()
    return frozenset(calendar)


def is_public_holiday(country: str | None, day: date) -> bool:
    """Whether ``day`` is a public holiday in ``country`` (never, for None or an unknown one)."""
    return bool(country) and day in _calendar(country, day.year)  # type: ignore[arg-type]


def holiday_name(country: str | None, day: date) -> str | None:
    """The holiday's name for logs and ``fika status``, None on an ordinary day."""
    if not is_public_holiday(country, day):
        return None
    code, _, subdivision = (country or "").partition("-")
    return holidays.country_holidays(code, subdiv=subdivision or None, years=day.year).get(day)


def is_known_country(country: str) -> bool:
    """Whether the holidays package knows ``country`` (with its subdivision), for validation."""
    code, _, subdivision = country.strip().upper().partition("-")
    supported = holidays.list_supported_countries()
    if code not in supported:
        return False
    return not subdivision or subdivision in supported[code]
