"""IANA time zones for selects and validation, computed once."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Sorted canonical-looking zone names (Area/City), plus UTC; no legacy aliases like 'EST'."""
    names = {
        z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
    }
    return ("UTC", *sorted(names))


def is_zone(name: str) -> bool:
    """Whether ``name`` is a time zone zoneinfo can load."""
    if not name or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
