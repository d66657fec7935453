"""IANA time zones: the one check of a zone name at every way in, and the names for selects.

A zone comes from the opt-in form, the preferences, the admin's programme form, the API, CSV
files and FIKA_TIMEZONE. Each asks :func:`is_zone`, which looks the name up in the set of IANA
zones read once per process. Nothing a person sends reaches the file system: ``ZoneInfo(name)``
opens a file named after ``name``, so a 1 MB name once ended in ``OSError: File name too long``
(a 500), and ``localtime``, a file many systems keep next to the zones, silently meant whatever
zone the server runs in.
"""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

#: Names ``available_timezones()`` may list that are not IANA zones but files of the host:
#: ``localtime`` is a link to /etc/localtime (the server's own zone), ``posixrules`` a copy
#: of one zone that zic leaves behind.
NOT_IANA = frozenset({"localtime", "posixrules"})


@lru_cache(maxsize=1)
def iana_zones() -> frozenset[str]:
    """Every IANA zone name this system (or the tzdata package) has, read once."""
    return frozenset(available_timezones()) - NOT_IANA


def is_zone(name: object) -> bool:
    """Whether ``name`` is an IANA zone, e.g. 'Europe/Oslo' or 'UTC' (exact spelling)."""
    return isinstance(name, str) and name in iana_zones()


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Sorted canonical-looking zone names (Area/City), plus UTC; no legacy aliases like 'EST'."""
    names = {z for z in iana_zones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))}
    return ("UTC", *sorted(names))
